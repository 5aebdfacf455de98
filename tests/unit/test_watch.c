// SPDX-License-Identifier: MIT
/*
 * Watch rules and decisions on hand-made facts; the Go test on every fixture binary and on
 * programs that are not Go; the watch set's pidfds on real child processes (PID reuse, an
 * exit event of another process, a lost exit event).
 */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "discover.h"
#include "target.h"
#include "watch.h"

static struct proc_facts facts(pid_t pid, const char *comm, const char *exe, enum go_kind go)
{
	struct proc_facts pf = { .pid = pid, .start = 1000, .go = go };

	snprintf(pf.comm, sizeof(pf.comm), "%s", comm);
	snprintf(pf.exe, sizeof(pf.exe), "%s", exe);
	return pf;
}

static void rule_parsing(void)
{
	struct watch_rules r;
	char err[256];

	watch_rules_init(&r);
	EXPECT(watch_rules_empty(&r));
	EXPECT(watch_rules_add(&r, "exe", "relative/path", err, sizeof(err)) == -1);
	EXPECT(strstr(err, "absolute path"));
	EXPECT(watch_rules_add(&r, "pid", "12x", err, sizeof(err)) == -1);
	EXPECT(watch_rules_add(&r, "pid", "0", err, sizeof(err)) == -1);
	EXPECT(watch_rules_add(&r, "pid", "99999999", err, sizeof(err)) == -1);
	EXPECT(watch_rules_add(&r, "comm", "", err, sizeof(err)) == -1);
	EXPECT(watch_rules_add(&r, "user", "x", err, sizeof(err)) == -1);
	EXPECT(strstr(err, "unknown watch rule --user"));
	EXPECT(watch_rules_empty(&r));
	EXPECT(!watch_rules_add(&r, "exe", "/not/installed/yet", err, sizeof(err)));
	EXPECT(!watch_rules_add(&r, "all-go", NULL, err, sizeof(err)) && r.all_go);
	watch_rules_free(&r);
}

static void decisions(void)
{
	struct watch_rules r;
	struct proc_facts pf;
	char err[256], self[64];

	watch_rules_init(&r);
	EXPECT(!watch_rules_add(&r, "exe", "/srv/api", err, sizeof(err)));
	/* the kernel keeps 15 bytes of a name: a longer rule matches what it keeps */
	EXPECT(!watch_rules_add(&r, "comm", "prometheus-node-exporter", err, sizeof(err)));
	snprintf(self, sizeof(self), "%d", getpid());
	EXPECT_MSG(!watch_rules_add(&r, "pid", self, err, sizeof(err)), "%s", err);

	pf = facts(10, "api", "/srv/api", GOKIND_GO);
	EXPECT(watch_decide(&r, &pf) == WATCH_YES);
	/* the file was replaced after the process started: still the program named */
	pf = facts(10, "api", "/srv/api (deleted)", GOKIND_GO);
	EXPECT(watch_decide(&r, &pf) == WATCH_YES);
	pf = facts(10, "api", "/srv/api2", GOKIND_GO);
	EXPECT(watch_decide(&r, &pf) == WATCH_NO_RULE);
	EXPECT(!watch_rules_match(&r, &pf));
	pf = facts(11, "prometheus-node", "/usr/bin/prometheus-node-exporter", GOKIND_GO);
	EXPECT(watch_decide(&r, &pf) == WATCH_YES);
	/* named, but not Go, or too old, or unreadable: said so (the daemon counts these) */
	pf = facts(10, "api", "/srv/api", GOKIND_NOT_GO);
	EXPECT(watch_decide(&r, &pf) == WATCH_NOT_GO);
	pf = facts(10, "api", "/srv/api", GOKIND_GO_OLD);
	EXPECT(watch_decide(&r, &pf) == WATCH_GO_OLD);
	pf = facts(10, "api", "/srv/api", GOKIND_UNREADABLE);
	EXPECT(watch_decide(&r, &pf) == WATCH_UNREADABLE);

	/* --pid is the process running when the rule was made, not a later one with its PID */
	EXPECT(proc_facts_read(getpid(), &pf) == 0);
	pf.go = GOKIND_GO;
	EXPECT(watch_decide(&r, &pf) == WATCH_YES);
	pf.start++;
	EXPECT(watch_decide(&r, &pf) == WATCH_NO_RULE);

	/* --all-go: every Go program; the others are not its business */
	EXPECT(!watch_rules_add(&r, "all-go", NULL, err, sizeof(err)));
	pf = facts(12, "x", "/usr/bin/x", GOKIND_GO);
	EXPECT(watch_decide(&r, &pf) == WATCH_YES);
	pf = facts(12, "x", "/usr/bin/x", GOKIND_NOT_GO);
	EXPECT(watch_decide(&r, &pf) == WATCH_NO_RULE);
	pf = facts(12, "x", "/usr/bin/x", GOKIND_GO_OLD);
	EXPECT(watch_decide(&r, &pf) == WATCH_GO_OLD);
	watch_rules_free(&r);
}

/* The fixture binaries are Go, of the release they were built with, in every flavour. */
static void go_binaries(void)
{
	static const char *const flavours[] = { "plain", "stripped", "pie", "pie-stripped", "cgo",
						"cgo-pie-stripped" };
	char path[512], go[32], version[128], why[256];
	FILE *tc;
	int n = 0;

	snprintf(path, sizeof(path), "%s/toolchains", fixtures_dir());
	tc = fopen(path, "re");
	EXPECT_MSG(tc, "no %s (tests/build-fixtures.sh)", path);
	while (tc && fscanf(tc, "%31s", go) == 1) {
		char want[40];

		snprintf(want, sizeof(want), "go%.*s", (int)strcspn(go, "-"), go);
		for (size_t i = 0; i < sizeof(flavours) / sizeof(flavours[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s/writes.%s", fixtures_dir(), go,
				 flavours[i]);
			EXPECT_MSG(go_exe_kind(path, version, sizeof(version), why, sizeof(why)) ==
					   GOKIND_GO && !strncmp(version, want, strlen(want)),
				   "%s: %s %s", path, version, why);
			n++;
		}
	}
	if (tc)
		fclose(tc);
	EXPECT(n >= 6);
}

static void not_go(void)
{
	char version[128] = "", why[256], script[] = "/tmp/mw-watch-script.XXXXXX";
	int fd = mkstemp(script);

	EXPECT(go_exe_kind("/bin/sh", version, sizeof(version), why, sizeof(why)) ==
	       GOKIND_NOT_GO);
	EXPECT(go_exe_kind("/proc/self/exe", version, sizeof(version), why, sizeof(why)) ==
	       GOKIND_NOT_GO);
	EXPECT(write(fd, "#!/bin/sh\nexit 0\n", 17) == 17);
	close(fd);
	EXPECT(go_exe_kind(script, version, sizeof(version), why, sizeof(why)) == GOKIND_NOT_GO);
	unlink(script);
	EXPECT(go_exe_kind("/nonexistent/x", version, sizeof(version), why, sizeof(why)) ==
	       GOKIND_UNREADABLE);
	EXPECT(!version[0]);
}

/* A Go binary whose build info is in the format before Go 1.18 (its flag bit cleared). */
static void go_too_old(void)
{
	char path[512], out[] = "/tmp/mw-watch-old.XXXXXX", version[128], why[256];
	gchar *data;
	gsize len;
	int fd;

	snprintf(path, sizeof(path), "%s/1.19/writes.stripped", fixtures_dir());
	if (!g_file_get_contents(path, &data, &len, NULL)) {
		EXPECT_MSG(0, "cannot read %s", path);
		return;
	}
	for (gsize i = 0; i + 16 <= len; i++)
		if (!memcmp(data + i, "\xff Go buildinf:", 14)) {
			data[i + 15] &= ~2;
			break;
		}
	fd = mkstemp(out);
	EXPECT(write(fd, data, len) == (ssize_t)len);
	close(fd);
	EXPECT_MSG(go_exe_kind(out, version, sizeof(version), why, sizeof(why)) == GOKIND_GO_OLD,
		   "%s", why);
	unlink(out);
	g_free(data);
}

/* What the watch set told its owner, as text. */
static GString *said;

static void on_watch(const struct watched *w, void *ctx)
{
	(void)ctx;
	g_string_append_printf(said, "watch %d;", w->pid);
}

static void on_reexec(const struct watched *w, void *ctx)
{
	(void)ctx;
	g_string_append_printf(said, "reexec %d;", w->pid);
}

static void on_unwatch(const struct watched *w, const char *why, void *ctx)
{
	(void)ctx;
	g_string_append_printf(said, "unwatch %d %s;", w->pid, why);
}

static const struct watch_ops ops = { on_watch, on_reexec, on_unwatch };

static pid_t child(void)
{
	pid_t p = fork();

	if (p == 0) {
		pause();
		_exit(0);
	}
	return p;
}

/* target_staying: answered from /proc at once (the daemon's loop never sleeps on it). */
static void staying(void)
{
	pid_t c = child();
	siginfo_t si;

	EXPECT(target_staying(getpid()));
	EXPECT(target_staying(c));
	kill(c, SIGKILL);
	/* a zombie, not reaped yet */
	EXPECT(waitid(P_PID, c, &si, WEXITED | WNOWAIT) == 0);
	EXPECT(target_alive(c) == false && target_staying(c) == false);
	waitpid(c, NULL, 0);
	EXPECT(!target_staying(c));
}

static void pidfd_lifecycle(void)
{
	struct watch_rules r;
	struct watchset ws;
	struct proc_facts pf;
	pid_t a = child(), b = child();
	const struct watched *w;
	char want[128];

	said = g_string_new(NULL);
	watch_rules_init(&r);
	watchset_init(&ws, &r, &ops, NULL);
	EXPECT(!proc_facts_read(a, &pf) && watchset_add(&ws, &pf));
	w = watchset_find(&ws, a);
	EXPECT(w && w->pidfd >= 0 && w->start == pf.start && pf.start > 0);
	EXPECT(!proc_facts_read(b, &pf) && watchset_add(&ws, &pf));

	/* an exit event of an earlier process with a's PID (another start) is not a's */
	EXPECT(!watchset_exit(&ws, a, w->start - 1, 0));
	EXPECT(watchset_find(&ws, a));
	/* a's own exit event */
	EXPECT(watchset_exit(&ws, a, w->start, 9));
	EXPECT(!watchset_find(&ws, a));
	snprintf(want, sizeof(want), "unwatch %d killed by signal 9;", a);
	EXPECT_MSG(strstr(said->str, want), "%s", said->str);

	/* b dies and its exit event is lost: its pidfd says so */
	EXPECT(watchset_reap(&ws) == 0);
	kill(b, SIGKILL);
	waitpid(b, NULL, 0);
	EXPECT(watchset_reap(&ws) == 1 && !watchset_find(&ws, b));
	snprintf(want, sizeof(want), "unwatch %d exited (seen by its pidfd", b);
	EXPECT_MSG(strstr(said->str, want), "%s", said->str);

	/* a process that is gone cannot be added, nor decided */
	EXPECT(!watchset_add(&ws, &pf));
	EXPECT(watchset_exec(&ws, b, 0, NULL, NULL) == WATCH_GONE);
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	watchset_free(&ws);
	watch_rules_free(&r);
	g_string_free(said, TRUE);
}

/* The PID of a watched process now names another process: the old one is unwatched. */
static void pid_reused(void)
{
	struct watch_rules r;
	struct watchset ws;
	struct proc_facts pf;
	pid_t c = child();
	struct watched *w;
	char want[128], err[64];

	said = g_string_new(NULL);
	watch_rules_init(&r);
	watchset_init(&ws, &r, &ops, NULL);
	EXPECT(!proc_facts_read(c, &pf) && watchset_add(&ws, &pf));
	/* as if the process watched under c had started at another time */
	w = (struct watched *)watchset_find(&ws, c);
	w->start--;
	/* an exec event for the process that has the PID now: it is not the one watched */
	EXPECT(watchset_exec(&ws, c, pf.start, NULL, NULL) == WATCH_NO_RULE);
	snprintf(want, sizeof(want), "watch %d;unwatch %d exited;", c, c);
	EXPECT_MSG(!strcmp(said->str, want), "%s", said->str);
	EXPECT(!watchset_find(&ws, c));
	/* an exec event that names another start than the process's is about another process */
	g_string_truncate(said, 0);
	EXPECT(watchset_exec(&ws, c, pf.start + 1, NULL, NULL) == WATCH_GONE && !said->len);

	/*
	 * Watched from the late event of an earlier image (its comm "env"): the event of the
	 * image watched, when it comes, is no re-exec; an exec after that is one.
	 */
	g_string_truncate(said, 0);
	EXPECT(!proc_facts_read(c, &pf) && watchset_add(&ws, &pf));
	w = (struct watched *)watchset_find(&ws, c);
	snprintf(w->event_comm, sizeof(w->event_comm), "env");
	EXPECT(watchset_exec(&ws, c, pf.start, pf.comm, NULL) == WATCH_YES);
	snprintf(want, sizeof(want), "watch %d;", c);
	EXPECT_MSG(!strcmp(said->str, want) && !strcmp(w->event_comm, pf.comm), "%s",
		   said->str);
	EXPECT(watchset_exec(&ws, c, pf.start, pf.comm, NULL) == WATCH_NO_RULE);
	snprintf(want, sizeof(want), "watch %d;unwatch %d re-exec", c, c);
	EXPECT_MSG(!strncmp(said->str, want, strlen(want)), "%s", said->str);
	EXPECT(!watchset_find(&ws, c));
	g_string_truncate(said, 0);

	/* a rule that names it: decided, and not watched (a fork of this test is not Go) */
	snprintf(err, sizeof(err), "%d", c);
	EXPECT(!watch_rules_add(&r, "pid", err, err, sizeof(err)));
	EXPECT(watchset_exec(&ws, c, pf.start, NULL, NULL) == WATCH_NOT_GO);	/* a fork of this test */
	EXPECT(!said->len);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	watchset_free(&ws);
	watch_rules_free(&r);
	g_string_free(said, TRUE);
}

int main(void)
{
	static const struct check_case cases[] = {
		CASE(rule_parsing), CASE(decisions), CASE(go_binaries), CASE(not_go),
		CASE(go_too_old), CASE(pidfd_lifecycle), CASE(pid_reused), CASE(staying),
	};

	return check_run("watch", cases, sizeof(cases) / sizeof(cases[0]));
}
