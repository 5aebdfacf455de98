# SPDX-License-Identifier: MIT
# Deployment files: tools/mapwatch.service passes systemd-analyze verify and is hardened,
# its capabilities suffice for a real capture by an unprivileged user, `make install`
# installs it next to the binary; tools/deploy/ agrees with it (capabilities, port) and
# Prometheus accepts the scrape configuration.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
UNIT=$top/tools/mapwatch.service
PORT=27362

# verify resolves ExecStart: the unit names /usr/local/sbin/mapwatch, which need not be
# installed here, so a copy names the binary just built (same unit otherwise).
sed "s|/usr/local/sbin/mapwatch|$MW|" "$UNIT" >"$WORK/mapwatch.service"
check "the unit names only /usr/local/sbin/mapwatch as its binary (what the copy replaces)" \
	test "$(grep -c '/usr/local/sbin/mapwatch' "$UNIT")" = 1
systemd-analyze verify "$WORK/mapwatch.service" >"$WORK/verify.out" 2>&1
st=$?
# verify warns about a bad value and still exits 0: any output at all is a failure
check "systemd-analyze verify: status 0, not a word" test "$st" = 0 -a ! -s "$WORK/verify.out"
[ -s "$WORK/verify.out" ] && sed 's/^/    /' "$WORK/verify.out"
printf '[Service]\nType=notify\nExecStart=%s\nProtectSystem=bogus\n' "$MW" >"$WORK/bad.service"
systemd-analyze verify "$WORK/bad.service" >"$WORK/bad.out" 2>&1
check "  ...and it does say something on a bad value (control)" grep -q bogus "$WORK/bad.out"

exposure=$(systemd-analyze security --offline=yes "$WORK/mapwatch.service" 2>/dev/null |
	awk '/Overall exposure level/ { print $(NF-2) }')
check "systemd-analyze security: exposure $exposure, below 4.0 (\"OK\")" \
	awk -v e="$exposure" 'BEGIN { exit !(e != "" && e < 4.0) }'
check "Type=notify, the daemon command, loopback port $PORT" \
	grep -q "^ExecStart=/usr/local/sbin/mapwatch daemon .*--listen 127.0.0.1:$PORT\$" "$UNIT"
caps=$(awk -F= '/^AmbientCapabilities=/ { print $2 }' "$UNIT")
check "capabilities: exactly CAP_BPF CAP_PERFMON CAP_SYS_PTRACE CAP_DAC_READ_SEARCH" \
	test "$caps" = "CAP_BPF CAP_PERFMON CAP_SYS_PTRACE CAP_DAC_READ_SEARCH" -a \
	"$(awk -F= '/^CapabilityBoundingSet=/ { print $2 }' "$UNIT")" = "$caps"

# Those capabilities, and only those, for a user that is not root: a whole capture of a
# process of root's, uprobes, heap validation and all.
setcaps=$(echo "$caps" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
last=$(toolchains | grep -v noswiss | tail -1)
d=$WORK/caps
mkdir -p "$d"
chmod 1777 "$d"
if start_fixture "$d" "$MW_FIXTURES/$last/writes.pie-stripped" 300 100; then
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,$setcaps \
		--ambient-caps=-all,$setcaps --bounding-set=-all,$setcaps \
		"$MW" capture -p "$FPID" -d 60 --lock-baseline 0 --budget off --ready-file "$d/attached" \
		--json "$d/r.json" >"$d/cap.out" 2>"$d/cap.err" {FFD}>&- &
	MWPID=$!
	PIDS+=("$MWPID")
	if wait_until 20 test -e "$d/attached"; then
		# ended while the target lives: its maps are re-read (process_vm_readv) at the end
		go_fixture
		wait_until 20 grep -q '^done' "$d/fix.out"
		kill -INT "$MWPID"
		wait_exit "$MWPID" 30
		close_fixture
		wait_exit "$FPID" 30
		check "uid 65534 with the unit's capabilities: a capture of root's Go process" \
			jq_true "$d/r.json" '([.maps[].sites[] | select(.function == "main.assign64")][0].count == 300)
				and ([.maps[].sites[] | select(.function == "main.delete64")][0].count == 100)
				and .target.map_validation == "heap" and .ended_by == "signal"'
	else
		notok "uid 65534 with the unit's capabilities could not attach: $(cat "$d/cap.err")"
	fi
else
	notok "the writes fixture could not start"
fi

# make install: the binary and the unit, which names the binary where it was installed.
if make -C "$top" -s install DESTDIR="$WORK/root" PREFIX=/opt/mw >"$WORK/install.out" 2>&1; then
	check "make install: the binary" test -x "$WORK/root/opt/mw/sbin/mapwatch"
	check "make install: the unit, naming the installed binary" grep -q \
		"^ExecStart=/opt/mw/sbin/mapwatch daemon " "$WORK/root/opt/mw/lib/systemd/system/mapwatch.service"
	check "  ...otherwise the unit as it is in tools/" bash -c "diff <(sed 's|/opt/mw/|/usr/local/|' \
		'$WORK/root/opt/mw/lib/systemd/system/mapwatch.service') '$UNIT' >/dev/null"
else
	notok "make install: $(tail -3 "$WORK/install.out")"
fi

# The Kubernetes example: the unit's capabilities, the port, the kernel's BTF, the node's
# processes; the scrape example keeps exactly its pods' metrics port.
python3 - "$top/tools/deploy/daemonset.yaml" "$top/tools/deploy/prometheus-scrape.yml" \
	"$caps" "$PORT" "$WORK/scrape-static.yml" >"$WORK/yaml.out" 2>&1 <<'PY'
import re, sys, yaml
ds_path, scrape_path, caps, port, static_out = sys.argv[1:]
ds = yaml.safe_load(open(ds_path))
pod = ds["spec"]["template"]["spec"]
c = pod["containers"][0]
sc = c["securityContext"]
def need(cond, what):
    print(("ok - " if cond else "not ok - ") + what)
need(ds["kind"] == "DaemonSet" and pod.get("hostPID") is True, "daemonset: a DaemonSet with hostPID")
need(sorted(sc["capabilities"]["add"]) == sorted(x[4:] for x in caps.split())
     and sc["capabilities"]["drop"] == ["ALL"] and not sc.get("privileged"),
     "daemonset: the unit's capabilities, all others dropped, not privileged")
need([p["containerPort"] for p in c["ports"]] == [int(port)] and "0.0.0.0:" + port in c["command"],
     "daemonset: listens on port %s of the pod's network" % port)
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
hostpaths = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]}
need("/sys/kernel/btf" in mounts and hostpaths.get(mounts["/sys/kernel/btf"]["name"]) == "/sys/kernel/btf",
     "daemonset: the node's /sys/kernel/btf mounted")
sc_all = yaml.safe_load(open(scrape_path))
jobs = {j["job_name"]: j for j in sc_all["scrape_configs"]}
need(jobs["mapwatch"]["static_configs"][0]["targets"] == ["127.0.0.1:" + port],
     "scrape: the host job scrapes 127.0.0.1:%s" % port)
keep = {tuple(r["source_labels"]): r["regex"] for r in jobs["mapwatch-kubernetes"]["relabel_configs"]
        if r.get("action") == "keep"}
label = ds["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]
need(re.fullmatch(keep[("__meta_kubernetes_pod_label_app_kubernetes_io_name",)], label) is not None
     and re.fullmatch(keep[("__meta_kubernetes_pod_container_port_name",)], c["ports"][0]["name"]) is not None,
     "scrape: the kubernetes job keeps the DaemonSet's pods and their metrics port")
# Debian's promtool is built without Kubernetes discovery: it checks the rest.
sc_all["scrape_configs"] = [j for j in sc_all["scrape_configs"] if "kubernetes_sd_configs" not in j]
yaml.safe_dump(sc_all, open(static_out, "w"))
PY
cat "$WORK/yaml.out"
grep -q '^ok - scrape: the kubernetes job' "$WORK/yaml.out" || notok "the deployment YAML could not be read"
if command -v promtool >/dev/null; then
	check "promtool check config: the scrape example (its static job; Debian's promtool has no Kubernetes discovery)" \
		bash -c 'promtool check config "$1" >/dev/null 2>&1' _ "$WORK/scrape-static.yml"
else
	notok "promtool is not installed (tools/setup-deps.sh installs prometheus for it)"
fi
