// SPDX-License-Identifier: MIT
/* mapwatch: watch the maps of a running Go program with eBPF. */
#include <argp.h>
#include <stdarg.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "budget.h"
#include "httpd.h"
#include "commands.h"
#include "daemon.h"
#include "log.h"
#include "mwerr.h"
#include "probes.h"

int mw_verbose;
const char *argp_program_version = "mapwatch 0.1";
const char *argp_program_bug_address = "the mapwatch issue tracker";

#define EXIT_DOC                                                                   \
	"\nExit status: 0 ok; 1 other failure; 2 usage; 3 not privileged or BPF "  \
	"unavailable; 4 no such process; 5 not a Go binary; 6 Go version or layout " \
	"not supported; 7 attaching a probe failed; 8 (report) not a well-formed mapwatch " \
	"capture."

static struct {
	struct capture_opts cap;
	GPtrArray *daemon_cli;		/* (long name, value or NULL) pairs, in order */
	struct daemon_opts daemon_check;	/* each option checked as it comes */
	pid_t pid;
	const char *path;
} env = { .cap = { .duration_s = 10, .ringbuf_mb = 16, .lock_baseline_s = -1,
		    .budget = BUDGET_DEFAULT_PCT / 100 } };

/*
 * A bad command line: one line on stderr and status 2. (argp_error would add two lines of
 * "Try --help"; every error of mapwatch is one line.)
 */
static void usage_error(const struct argp_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
static void usage_error(const struct argp_state *st, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", st->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see --help)\n");
	exit(MW_EXIT_USAGE);
}

/* What getopt refused (an unknown option, a missing value), said in one line. */
static error_t option_error(const struct argp_state *st)
{
	usage_error(st, "unknown option or missing value: %s",
		    st->next > 0 && st->next <= st->argc ? st->argv[st->next - 1] : "?");
}

static long parse_long(const char *s, long lo, long hi, struct argp_state *st, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		usage_error(st, "invalid %s: %s (expected %ld..%ld)", what, s, lo, hi);
	return v;
}

enum { OPT_READY = 1000, OPT_RINGBUF, OPT_FOLDED, OPT_DOT, OPT_THRESHOLD, OPT_BASELINE,
       OPT_BUDGET, OPT_RECORD };

static const struct argp_option capture_opts[] = {
	{ "pid", 'p', "PID", 0, "Process to watch (required)", 0 },
	{ "duration", 'd', "SECONDS", 0,
	  "Stop after this long (default 10; may be fractional). The capture also ends on "
	  "Ctrl-C/SIGTERM or when the target exits, and the report is written in every case",
	  0 },
	{ "json", 'j', "FILE", 0, "Also write the report as JSON (atomically; - for stdout)", 0 },
	{ "folded", OPT_FOLDED, "FILE", 0,
	  "Write the stacks of map writes and lock waits in folded form (flamegraph.pl, "
	  "speedscope)", 0 },
	{ "dot", OPT_DOT, "FILE", 0, "Write a Graphviz graph of sites, maps and mutexes", 0 },
	{ "threshold", OPT_THRESHOLD, "NAME=VALUE", 0,
	  "Change a detector threshold (repeatable). Names and defaults: growth_min=10000 "
	  "growth_base=1000 growth_pct=50 growth_insert_ratio=10 contention_pct=10 "
	  "contention_ms=100 contention_map_pct=50 shrink_ratio=16 shrink_min_mib=1 stall_s=5 churn_rebuilds_per_s=1 "
	  "churn_copied_per_s=10000", 0 },
	{ "ready-file", OPT_READY, "FILE", 0,
	  "Create FILE once the map-write probes are first attached, i.e. after the lock "
	  "baseline (for scripts and tests)", 0 },
	{ "budget", OPT_BUDGET, "PCT", 0,
	  "The most CPU the probes may cost the target, in % of one CPU (default 2%: 20 ms "
	  "of probe CPU a second; mapwatch aims at 80% of it, as a hit's price is an "
	  "estimate). Each class of probes whose measured cost fits stays "
	  "attached; the rest (map writes on a busy program) run in windows spread over the "
	  "capture, and what they count is reported as sampled. 'off': every probe attached "
	  "for the whole capture, exact counts, whatever it costs", 0 },
	{ "lock-baseline", OPT_BASELINE, "SECONDS", 0,
	  "Measure lock waits this long with only the lock slow paths probed, before the map "
	  "probes go on (default: a fifth of the capture, at most 2 s). Map probes stretch the "
	  "critical sections they run in, so lock_contention is judged on these waits alone; 0 "
	  "skips the baseline, and no lock_contention is reported", 0 },
	{ "ringbuf-mb", OPT_RINGBUF, "MB", 0,
	  "Ring buffer size in MiB, a power of two (default 16); raise it if events are lost", 0 },
	{ "verbose", 'v', NULL, 0, "Say more (twice: libbpf debug output too)", 0 },
	/* tools/bench/bench_ingest.sh: every ring-buffer record as (u32 size, bytes) */
	{ "record", OPT_RECORD, "FILE", OPTION_HIDDEN, "Write the raw record stream to FILE", 0 },
	{ 0 },
};

static error_t capture_parse(int key, char *arg, struct argp_state *st)
{
	char *end;

	switch (key) {
	case 'p':
		env.cap.pid = (pid_t)parse_long(arg, 1, INT_MAX, st, "PID");
		break;
	case 'd':
		errno = 0;
		env.cap.duration_s = strtod(arg, &end);
		/* NaN compares false with everything: ask for a finite number first */
		if (errno || end == arg || *end || !isfinite(env.cap.duration_s) ||
		    env.cap.duration_s <= 0 || env.cap.duration_s > 86400 * 365)
			usage_error(st, "invalid duration: %s (seconds, > 0)", arg);
		break;
	case 'j':
		env.cap.json_path = arg;
		break;
	case OPT_READY:
		env.cap.ready_file = arg;
		break;
	case OPT_BASELINE:
		errno = 0;
		env.cap.lock_baseline_s = strtod(arg, &end);
		if (errno || end == arg || *end || !(env.cap.lock_baseline_s >= 0) ||
		    env.cap.lock_baseline_s > 3600)
			usage_error(st, "invalid lock baseline: %s (seconds, >= 0)", arg);
		break;
	case OPT_BUDGET:
		if (budget_parse(arg, &env.cap.budget))
			usage_error(st, "invalid budget: %s (a percentage of one CPU, e.g. 2%%, "
					"or off)", arg);
		break;
	case OPT_FOLDED:
		env.cap.folded_path = arg;
		break;
	case OPT_DOT:
		env.cap.dot_path = arg;
		break;
	case OPT_RECORD:
		env.cap.record_path = arg;
		break;
	case OPT_THRESHOLD: {
		const char *eq = strchr(arg, '=');
		char err[512];

		/* a threshold of nan or inf would make every comparison with it meaningless */
		if (eq && !isfinite(strtod(eq + 1, NULL)))
			usage_error(st, "--threshold %s: not a finite number", arg);
		if (detect_set(&env.cap.thresholds, arg, err, sizeof(err)))
			usage_error(st, "%s", err);
		break;
	}
	case OPT_RINGBUF:
		env.cap.ringbuf_mb = (int)parse_long(arg, 1, 1024, st, "ring buffer size");
		if (env.cap.ringbuf_mb & (env.cap.ringbuf_mb - 1))
			usage_error(st, "--ringbuf-mb must be a power of two");
		break;
	case 'v':
		mw_verbose++;
		break;
	case ARGP_KEY_ARG:
		usage_error(st, "unexpected argument: %s", arg);
		break;
	case ARGP_KEY_END:
		if (!env.cap.pid)
			usage_error(st, "which process? give -p PID");
		break;
	case ARGP_KEY_ERROR:
		return option_error(st);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

#define CAPTURE_DOC                                                                             \
	"Watch the maps of a running Go process and report what is wrong with them: concurrent " \
	"writers, writers queued on a lock, maps that only grow, maps that never shrink, stalled " \
	"growth.\v"                                                                             \
	"Probes go on the runtime's map-write functions (runtime.mapassign*, mapdelete*, "      \
	"mapclear), map creation and growth, the mutex slow paths and runtime.fatal, at entry " \
	"and at every RET instruction; no uretprobes. Each probe hit costs "                    \
	"the target some microseconds of CPU; the report says how many hits there were and what " \
	"they cost, measured on this host. Needs root (or CAP_BPF and CAP_PERFMON, plus "       \
	"CAP_SYS_PTRACE for other users' processes).\n\n"                                       \
	"Example: mapwatch capture -p 4242 -d 30 --json report.json"

/* The docs end with the releases in the catalogue and the exit statuses (set in main). */
static struct argp capture_argp = {
	capture_opts, capture_parse, NULL, NULL, NULL, NULL, NULL,
};

static const struct argp_option info_opts[] = {
	{ "pid", 'p', "PID", 0, "Inspect the executable of this process", 0 },
	{ "verbose", 'v', NULL, 0, "Say more", 0 },
	{ 0 },
};

static error_t info_parse(int key, char *arg, struct argp_state *st)
{
	switch (key) {
	case 'p':
		env.pid = (pid_t)parse_long(arg, 1, INT_MAX, st, "PID");
		break;
	case 'v':
		mw_verbose++;
		break;
	case ARGP_KEY_ARG:
		if (env.path)
			usage_error(st, "one binary at a time");
		env.path = arg;
		break;
	case ARGP_KEY_END:
		if (!env.pid == !env.path)
			usage_error(st, "give either -p PID or a BINARY");
		break;
	case ARGP_KEY_ERROR:
		return option_error(st);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

#define INFO_DOC                                                                                \
	"Tell whether mapwatch can watch a Go binary, and how: Go version, map implementation, " \
	"stripped or not, PIE or not, and each probe point with its address, file offset and "  \
	"number of RET instructions. Needs no privileges for a file."

static struct argp info_argp = {
	info_opts, info_parse, "[BINARY]", NULL, NULL, NULL, NULL,
};

enum { DOPT_EXE = 2000, DOPT_COMM, DOPT_PID, DOPT_ALLGO, DOPT_LISTEN, DOPT_BUDGET,
       DOPT_HOST_BUDGET, DOPT_STATE_DIR, DOPT_MAX_MAPS, DOPT_MAX_REPORTS, DOPT_INTERVAL,
       DOPT_CHECK, DOPT_CONFIG, DOPT_THRESHOLD, DOPT_RINGBUF };

static const struct argp_option daemon_opts[] = {
	{ NULL, 0, NULL, 0, "Which processes (repeatable; a process any rule names is watched):", 1 },
	{ "exe", DOPT_EXE, "PATH", 0, "Go programs run from this executable", 1 },
	{ "comm", DOPT_COMM, "NAME", 0, "Go programs whose process name (comm) is NAME", 1 },
	{ "pid", DOPT_PID, "PID", 0, "This running Go process (not a later one with its PID)", 1 },
	{ "all-go", DOPT_ALLGO, NULL, 0, "Every Go program mapwatch can watch", 1 },
	{ NULL, 0, NULL, 0, "How:", 2 },
	{ "listen", DOPT_LISTEN, "ADDR:PORT", 0,
	  "Serve Prometheus metrics on http://ADDR:PORT/metrics (default " HTTPD_DEFAULT_LISTEN
	  ": loopback only; [::1]:PORT for IPv6)", 2 },
	{ "budget", DOPT_BUDGET, "PCT", 0,
	  "The most CPU the probes may cost each process, in % of one CPU (default 1%; each "
	  "process's controller aims at 80% of it)", 2 },
	{ "host-budget", DOPT_HOST_BUDGET, "PCT", 0,
	  "The most for all processes together (default 10%): with many processes, each gets "
	  "its share", 2 },
	{ "interval", DOPT_INTERVAL, "SECONDS", 0,
	  "An epoch (default 30): each process is watched in epochs, and each epoch's report "
	  "updates its metrics (the first, at most 5 s, comes soon after it starts)", 2 },
	{ "state-dir", DOPT_STATE_DIR, "DIR", 0,
	  "Write evidence reports here (default " DAEMON_DEFAULT_STATE_DIR "): a capture report "
	  "when a process calls runtime.fatal or a new kind of finding appears; read them with "
	  "mapwatch report", 2 },
	{ "max-reports", DOPT_MAX_REPORTS, "N", 0, "Keep at most N reports, the newest (default 50)", 2 },
	{ "max-maps", DOPT_MAX_MAPS, "N", 0,
	  "At most N map series per process (default 50; the rest are summed in one series "
	  "labelled function=\"_other\"; 0: no limit)", 2 },
	{ "threshold", DOPT_THRESHOLD, "NAME=VALUE", 0, "A detector threshold, as for capture", 2 },
	{ "ringbuf-mb", DOPT_RINGBUF, "MB", 0,
	  "Ring buffer size in MiB, a power of two (default 4: under their budgets, all processes together send a few MB/s; raise it if lost events are counted)", 2 },
	{ "config", DOPT_CONFIG, "FILE", 0,
	  "Read options from FILE first: one per line, the long option's name, then its value "
	  "(\"comm = myserver\", \"budget 2%\", \"all-go\"); '#' starts a comment. The command "
	  "line wins; rules add up. SIGHUP reads it again", 2 },
	{ "check", DOPT_CHECK, NULL, 0,
	  "Print which running processes would be watched, and why others would not, then exit",
	  2 },
	{ "verbose", 'v', NULL, 0, "Say more", 2 },
	{ 0 },
};

static const char *const daemon_names[] = {
	[DOPT_EXE - DOPT_EXE] = "exe", [DOPT_COMM - DOPT_EXE] = "comm",
	[DOPT_PID - DOPT_EXE] = "pid", [DOPT_ALLGO - DOPT_EXE] = "all-go",
	[DOPT_LISTEN - DOPT_EXE] = "listen", [DOPT_BUDGET - DOPT_EXE] = "budget",
	[DOPT_HOST_BUDGET - DOPT_EXE] = "host-budget", [DOPT_STATE_DIR - DOPT_EXE] = "state-dir",
	[DOPT_MAX_MAPS - DOPT_EXE] = "max-maps", [DOPT_MAX_REPORTS - DOPT_EXE] = "max-reports",
	[DOPT_INTERVAL - DOPT_EXE] = "interval", [DOPT_CHECK - DOPT_EXE] = "check",
	[DOPT_CONFIG - DOPT_EXE] = "config", [DOPT_THRESHOLD - DOPT_EXE] = "threshold",
	[DOPT_RINGBUF - DOPT_EXE] = "ringbuf-mb",
};

static error_t daemon_parse(int key, char *arg, struct argp_state *st)
{
	char err[512];

	if (key >= DOPT_EXE && key <= DOPT_RINGBUF) {
		const char *name = daemon_names[key - DOPT_EXE];

		/* said now, in the command line's terms; the whole is built again later */
		if (daemon_opt_set(&env.daemon_check, name, arg, err, sizeof(err)))
			usage_error(st, "--%s: %s", name, err);
		g_ptr_array_add(env.daemon_cli, (gpointer)name);
		g_ptr_array_add(env.daemon_cli, arg);
		return 0;
	}
	switch (key) {
	case 'v':
		mw_verbose++;
		break;
	case ARGP_KEY_ARG:
		usage_error(st, "unexpected argument: %s", arg);
		break;
	case ARGP_KEY_ERROR:
		return option_error(st);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

#define DAEMON_DOC                                                                              \
	"Always on: follow Go processes as they start and exit, watch each within a CPU budget, " \
	"and serve what is seen as Prometheus metrics (per process and map: entries, capacity, " \
	"bytes, growths, writes by op, concurrent writes; lock wait seconds; findings by kind; " \
	"what the probes cost). Processes are found by exec and exit tracepoints, and those "    \
	"running at start once. Evidence reports go to the state dir. SIGTERM or SIGINT detach " \
	"everything and exit; SIGHUP reads the config file again. Under systemd it says READY "  \
	"once every process running at start is handled (tools/mapwatch.service).\v"            \
	"Examples:\n  mapwatch daemon --comm myserver\n"                                        \
	"  mapwatch daemon --all-go --check\n"                                                  \
	"  mapwatch daemon --config /etc/mapwatch.conf --listen 0.0.0.0:27362\n"

static struct argp daemon_argp = {
	daemon_opts, daemon_parse, NULL, NULL, NULL, NULL, NULL,
};

/* "Go releases in the probe catalogue: ..." and the exit statuses, after a command's doc. */
static const char *doc_with_releases(const char *doc, char *buf, size_t len)
{
	char rel[256];

	snprintf(buf, len,
		 "%s\n\nGo releases in the probe catalogue: %s (linux/amd64; stripped, PIE and "
		 "cgo binaries alike). A binary from a release not listed is read through its own "
		 "DWARF if it has any; without DWARF it is refused with exit status 6." EXIT_DOC,
		 doc, go_catalogue_releases(rel, sizeof(rel)));
	return buf;
}

static error_t report_parse(int key, char *arg, struct argp_state *st)
{
	switch (key) {
	case ARGP_KEY_ARG:
		if (env.path)
			usage_error(st, "one report at a time");
		env.path = arg;
		break;
	case ARGP_KEY_END:
		if (!env.path)
			usage_error(st, "which report? give FILE.json");
		break;
	case ARGP_KEY_ERROR:
		return option_error(st);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp report_argp = {
	NULL, report_parse, "FILE.json",
	"Print a saved capture (from capture --json) as text." EXIT_DOC, NULL, NULL, NULL,
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: mapwatch COMMAND [OPTION...]\n"
		"Watch the maps of a running Go program with eBPF.\n\n"
		"Commands:\n"
		"  capture -p PID [-d SECONDS] [--json FILE]   watch map writes, then report\n"
		"  info (-p PID | BINARY)                      can this binary be watched, and how\n"
		"  report FILE.json                            print a saved capture as text\n"
		"  daemon (--comm NAME | --exe PATH | --all-go ...)  always on: metrics, evidence\n\n"
		"'mapwatch COMMAND --help' explains a command's options.\n");
}

int main(int argc, char **argv)
{
	const struct argp *ap;
	const char *cmd = argc > 1 ? argv[1] : NULL;
	static char capture_doc[2048], info_doc[1024];
	unsigned flags = 0;

	capture_argp.doc = doc_with_releases(CAPTURE_DOC, capture_doc, sizeof(capture_doc));
	info_argp.doc = doc_with_releases(INFO_DOC, info_doc, sizeof(info_doc));
	argp_err_exit_status = MW_EXIT_USAGE;
	detect_defaults(&env.cap.thresholds);
	daemon_argp.doc = DAEMON_DOC EXIT_DOC;
	env.daemon_cli = g_ptr_array_new();
	daemon_opts_init(&env.daemon_check);
	if (!cmd) {
		usage(stderr);
		return MW_EXIT_USAGE;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return MW_EXIT_OK;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("%s\n", argp_program_version);
		return MW_EXIT_OK;
	}
	if (!strcmp(cmd, "capture"))
		ap = &capture_argp;
	else if (!strcmp(cmd, "info"))
		ap = &info_argp;
	else if (!strcmp(cmd, "report"))
		ap = &report_argp;
	else if (!strcmp(cmd, "daemon"))
		ap = &daemon_argp;
	else {
		fprintf(stderr, "mapwatch: unknown command '%s' (capture, info, report or daemon; see "
				"mapwatch --help)\n", cmd);
		return MW_EXIT_USAGE;
	}
	static char name[64];

	snprintf(name, sizeof(name), "mapwatch %s", cmd);
	argv[1] = name;
	/*
	 * argp's own messages (getopt's, plus "Try --help") are turned off, and usage_error
	 * says each problem in one line; but --help and --usage need them on.
	 */
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--") || !strncmp(argv[i], "--help", 6) ||
		    !strncmp(argv[i], "--usage", 7) || !strcmp(argv[i], "-?"))
			break;
		else if (i == argc - 1)
			flags = ARGP_NO_ERRS;
	if (argp_parse(ap, argc - 1, argv + 1, flags, NULL, NULL))
		return MW_EXIT_USAGE;
	if (ap == &capture_argp)
		return cmd_capture(&env.cap);
	if (ap == &info_argp)
		return cmd_info(env.pid, env.path);
	if (ap == &daemon_argp) {
		int rc = cmd_daemon(env.daemon_cli);

		daemon_opts_free(&env.daemon_check);
		g_ptr_array_unref(env.daemon_cli);
		return rc;
	}
	return cmd_report(env.path);
}
