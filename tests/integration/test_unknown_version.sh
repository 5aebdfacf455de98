# SPDX-License-Identifier: MIT
# A Go release that is not in the catalogue: watched through its own DWARF when it has it,
# refused with the version named when it does not. (The binaries are real ones, from a bucket-map
# release and from the newest one, whose version string is rewritten to go1.99.N, which no
# catalogue row matches.)
. "$(dirname "$0")/lib.sh"

for go in 1.22 $(toolchains | grep -v noswiss | tail -1); do
	[ -e "$MW_FIXTURES/$go/writes.plain" ] || continue
	full=$("$MW" info "$MW_FIXTURES/$go/writes.plain" | awk '/^go version/ { print $3 }')
	fake=go1.99.${full##*.}
	fake=${fake:0:${#full}}
	while [ ${#fake} -lt ${#full} ]; do fake=${fake}0; done
	for fl in plain stripped; do
		perl -0777 -pe "s/\Q$full\E/$fake/g" "$MW_FIXTURES/$go/writes.$fl" >"$WORK/unknown.$go.$fl"
		chmod +x "$WORK/unknown.$go.$fl"
	done

	bin=$WORK/unknown.$go.plain
	"$MW" info "$bin" >"$WORK/info" 2>&1
	check "go$go as $fake with DWARF: info reads offsets from DWARF" \
		grep -q "^offsets: *read from the binary's DWARF" "$WORK/info"
	d=$WORK/cap.$go
	if start_fixture "$d" "$bin" 500 100 && start_capture "$d" -d 60 --json "$d/r.json"; then
		release_fixture
		wait_exit "$FPID" 30
		wait_exit "$MWPID" 30
		check "go$go as $fake with DWARF: capture names the sites with exact counts" jq_true "$d/r.json" \
			".target.go_version == \"$fake\" and .target.offsets == \"dwarf\"
			 and ([.maps[].sites[] | select(.function == \"main.assign64\")][0].count == 500)
			 and ([.maps[].sites[] | select(.function == \"main.delete64\")][0].count == 100)"
	else
		notok "go$go as $fake with DWARF: capture could not start ($(cat "$d/cap.err" 2>/dev/null))"
	fi

	bin=$WORK/unknown.$go.stripped
	d=$WORK/nodwarf.$go
	if start_fixture "$d" "$bin" 1 0; then
		"$MW" capture -p "$FPID" -d 1 >"$d/out" 2>"$d/err"
		st=$?
		check "go$go as $fake without DWARF: refused with status 6" test "$st" = 6
		check "go$go as $fake without DWARF: the message names the version and the missing DWARF" \
			grep -q "$fake is not in the probe catalogue.*no DWARF" "$d/err"
		release_fixture
		wait_exit "$FPID" 10
	fi
done
