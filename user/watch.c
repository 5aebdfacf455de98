// SPDX-License-Identifier: MIT
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "discover.h"
#include "gobin/buildinfo.h"
#include "gobin/elfimg.h"
#include "watch.h"

struct exe_rule {
	char *path;		/* canonical when it existed at start */
	bool have_ino;
	dev_t dev;
	ino_t ino;
};

struct pid_rule {
	pid_t pid;
	unsigned long long start;
};

static void exe_rule_free(gpointer p)
{
	struct exe_rule *e = p;

	g_free(e->path);
	g_free(e);
}

void watch_rules_init(struct watch_rules *r)
{
	r->exes = g_ptr_array_new_with_free_func(exe_rule_free);
	r->comms = g_ptr_array_new_with_free_func(g_free);
	r->pids = g_array_new(FALSE, TRUE, sizeof(struct pid_rule));
	r->all_go = false;
}

void watch_rules_free(struct watch_rules *r)
{
	g_ptr_array_free(r->exes, TRUE);
	g_ptr_array_free(r->comms, TRUE);
	g_array_free(r->pids, TRUE);
}

bool watch_rules_empty(const struct watch_rules *r)
{
	return !r->all_go && !r->exes->len && !r->comms->len && !r->pids->len;
}

static int add_exe(struct watch_rules *r, const char *arg, char *err, size_t errlen)
{
	struct exe_rule *e;
	struct stat st;
	char *real;

	if (arg[0] != '/') {
		snprintf(err, errlen, "--exe %s: give the executable's absolute path", arg);
		return -1;
	}
	e = g_new0(struct exe_rule, 1);
	/* A program not installed yet is matched by its path alone, once it runs. */
	real = realpath(arg, NULL);
	e->path = g_strdup(real ? real : arg);
	free(real);
	if (!stat(arg, &st)) {
		e->have_ino = true;
		e->dev = st.st_dev;
		e->ino = st.st_ino;
	}
	g_ptr_array_add(r->exes, e);
	return 0;
}

static int add_pid(struct watch_rules *r, const char *arg, char *err, size_t errlen)
{
	struct pid_rule p = { 0 };
	unsigned pflags;
	char *end, comm[16], state;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || v <= 0 || v > INT_MAX) {
		snprintf(err, errlen, "--pid %s: not a process ID", arg);
		return -1;
	}
	p.pid = (pid_t)v;
	/* the process running now, not whichever takes its PID after it exits */
	if (proc_stat_read(p.pid, comm, &state, &pflags, &p.start)) {
		snprintf(err, errlen, "--pid %s: no such process", arg);
		return -1;
	}
	g_array_append_val(r->pids, p);
	return 0;
}

int watch_rules_add(struct watch_rules *r, const char *opt, const char *arg, char *err,
		    size_t errlen)
{
	if (!strcmp(opt, "all-go")) {
		r->all_go = true;
		return 0;
	}
	if (!arg || !*arg) {
		snprintf(err, errlen, "--%s needs a value", opt);
		return -1;
	}
	if (!strcmp(opt, "exe"))
		return add_exe(r, arg, err, errlen);
	if (!strcmp(opt, "pid"))
		return add_pid(r, arg, err, errlen);
	if (!strcmp(opt, "comm")) {
		/* the kernel keeps 15 bytes of a program's name: so does the rule */
		g_ptr_array_add(r->comms, g_strndup(arg, 15));
		return 0;
	}
	snprintf(err, errlen, "unknown watch rule --%s", opt);
	return -1;
}

int proc_facts_read(pid_t pid, struct proc_facts *pf)
{
	char link[64], state;
	unsigned pflags;
	struct stat st;
	ssize_t n;

	memset(pf, 0, sizeof(*pf));
	pf->pid = pid;
	if (proc_stat_read(pid, pf->comm, &state, &pflags, &pf->start))
		return -1;
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, pf->exe, sizeof(pf->exe) - 1);
	if (n < 0) {
		snprintf(pf->why, sizeof(pf->why), "%s: %s", link, strerror(errno));
		return errno == ENOENT ? -1 : 0;
	}
	pf->exe[n] = 0;
	if (!stat(link, &st)) {
		pf->dev = st.st_dev;
		pf->ino = st.st_ino;
	}
	return 0;
}

enum go_kind go_exe_kind(const char *path, char *version, size_t vlen, char *why,
			size_t whylen)
{
	struct go_buildinfo bi;
	struct elfimg img;
	enum go_kind k;

	if (elfimg_open(&img, path, why, whylen))
		/* not an ELF file (for a script, the interpreter is what runs), or unreadable */
		return access(path, R_OK) ? GOKIND_UNREADABLE : GOKIND_NOT_GO;
	if (!go_buildinfo_read(&img, &bi, why, whylen)) {
		k = GOKIND_GO;
		snprintf(version, vlen, "%s", bi.version);
		why[0] = 0;
	} else {
		/* the same test as gobin_open's: a blob in the format before Go 1.18 */
		k = strstr(why, "predates") ? GOKIND_GO_OLD : GOKIND_NOT_GO;
	}
	elfimg_close(&img);
	return k;
}

void proc_facts_read_go(struct proc_facts *pf)
{
	char path[64];

	/* through /proc: the file the process runs, even if its path was replaced since */
	snprintf(path, sizeof(path), "/proc/%d/exe", pf->pid);
	pf->go = go_exe_kind(path, pf->go_version, sizeof(pf->go_version), pf->why,
			     sizeof(pf->why));
}

/* The path a process runs, without the " (deleted)" of a file replaced since it started. */
static bool same_path(const char *exe, const char *rule)
{
	size_t n = strlen(rule);

	return !strncmp(exe, rule, n) && (!exe[n] || !strcmp(exe + n, " (deleted)"));
}

bool watch_rules_name(const struct watch_rules *r, const char *comm)
{
	for (guint i = 0; i < r->comms->len; i++)
		if (!strcmp(comm, g_ptr_array_index(r->comms, i)))
			return true;
	return false;
}

/* A rule other than --all-go names the process. */
static bool named(const struct watch_rules *r, const struct proc_facts *pf)
{
	for (guint i = 0; i < r->exes->len; i++) {
		const struct exe_rule *e = g_ptr_array_index(r->exes, i);

		if ((e->have_ino && pf->ino && e->dev == pf->dev && e->ino == pf->ino) ||
		    (pf->exe[0] && same_path(pf->exe, e->path)))
			return true;
	}
	if (watch_rules_name(r, pf->comm))
		return true;
	for (guint i = 0; i < r->pids->len; i++) {
		const struct pid_rule *p = &g_array_index(r->pids, struct pid_rule, i);

		if (p->pid == pf->pid && p->start == pf->start)
			return true;
	}
	return false;
}

bool watch_rules_match(const struct watch_rules *r, const struct proc_facts *pf)
{
	return r->all_go || named(r, pf);
}

enum watch_verdict watch_decide(const struct watch_rules *r, const struct proc_facts *pf)
{
	bool by_name = named(r, pf);

	if (!by_name && !r->all_go)
		return WATCH_NO_RULE;
	switch (pf->go) {
	case GOKIND_GO:
		return WATCH_YES;
	case GOKIND_GO_OLD:
		return WATCH_GO_OLD;
	case GOKIND_NOT_GO:
		/* --all-go does not ask for the programs that are not Go */
		return by_name ? WATCH_NOT_GO : WATCH_NO_RULE;
	default:
		return WATCH_UNREADABLE;
	}
}

const char *watch_verdict_name(enum watch_verdict v)
{
	static const char *const names[] = {
		[WATCH_YES] = "watch", [WATCH_NO_RULE] = "no_rule", [WATCH_NOT_GO] = "not_go",
		[WATCH_GO_OLD] = "go_too_old", [WATCH_UNREADABLE] = "unreadable",
		[WATCH_GONE] = "gone",
	};

	return (unsigned)v < G_N_ELEMENTS(names) ? names[v] : "?";
}

/* The process behind a pidfd has exited (it is a zombie, or reaped). */
static bool pidfd_exited(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

static void watched_free(gpointer p)
{
	struct watched *w = p;

	close(w->pidfd);
	g_free(w);
}

void watchset_init(struct watchset *ws, const struct watch_rules *r,
		   const struct watch_ops *ops, void *ctx)
{
	ws->by_pid = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, watched_free);
	ws->rules = r;
	ws->ops = ops;
	ws->ctx = ctx;
}

static void unwatch(struct watchset *ws, struct watched *w, const char *why)
{
	if (ws->ops && ws->ops->unwatch)
		ws->ops->unwatch(w, why, ws->ctx);
	g_hash_table_remove(ws->by_pid, GINT_TO_POINTER(w->pid));
}

static gboolean stop_one(gpointer k, gpointer v, gpointer ws)
{
	struct watchset *s = ws;

	(void)k;
	if (s->ops && s->ops->unwatch)
		s->ops->unwatch(v, "stopping", s->ctx);
	return TRUE;
}

void watchset_free(struct watchset *ws)
{
	g_hash_table_foreach_remove(ws->by_pid, stop_one, ws);
	g_hash_table_destroy(ws->by_pid);
}

const struct watched *watchset_find(const struct watchset *ws, pid_t pid)
{
	return g_hash_table_lookup(ws->by_pid, GINT_TO_POINTER(pid));
}

/*
 * Keep pidfd (opened before pf was read, still live after) for the process of pf; comm: the
 * exec event's that found it (NULL: the image's own).
 */
static struct watched *keep(struct watchset *ws, const struct proc_facts *pf, int pidfd,
			    const char *comm)
{
	struct watched *w = g_new0(struct watched, 1);

	snprintf(w->event_comm, sizeof(w->event_comm), "%s", comm ? comm : pf->comm);
	w->pid = pf->pid;
	w->pidfd = pidfd;
	w->start = pf->start;
	w->images = 1;
	w->facts = *pf;
	g_hash_table_replace(ws->by_pid, GINT_TO_POINTER(w->pid), w);
	if (ws->ops && ws->ops->watch)
		ws->ops->watch(w, ws->ctx);
	return w;
}

const struct watched *watchset_add(struct watchset *ws, const struct proc_facts *pf)
{
	int pidfd = pidfd_open(pf->pid, 0);
	struct proc_facts now;

	if (pidfd < 0)
		return NULL;
	/* the pidfd is of the process the facts were read from, and it is alive */
	if (proc_facts_read(pf->pid, &now) || now.start != pf->start || pidfd_exited(pidfd)) {
		close(pidfd);
		return NULL;
	}
	return keep(ws, pf, pidfd, NULL);
}

/* The facts of the process that has pid now, read under a pidfd; -1 if it is gone. */
static int read_under_pidfd(struct watchset *ws, pid_t pid, struct proc_facts *pf, int *pidfd)
{
	*pidfd = pidfd_open(pid, 0);
	if (*pidfd < 0)
		return -1;
	if (proc_facts_read(pid, pf)) {
		close(*pidfd);
		return -1;
	}
	if (watch_rules_match(ws->rules, pf))
		proc_facts_read_go(pf);
	/* Alive after the reads: nobody else can have had the PID while they ran. */
	if (pidfd_exited(*pidfd)) {
		close(*pidfd);
		return -1;
	}
	return 0;
}

enum watch_verdict watchset_exec(struct watchset *ws, pid_t pid, unsigned long long start,
				 const char *comm, struct proc_facts *out)
{
	struct proc_facts local, *pf = out ? out : &local;
	struct watched *w;
	enum watch_verdict v;
	int pidfd;

	if (read_under_pidfd(ws, pid, pf, &pidfd))
		return WATCH_GONE;
	if (start && pf->start != start) {
		/* the event was about an earlier process with this PID, gone since */
		close(pidfd);
		return WATCH_GONE;
	}
	w = g_hash_table_lookup(ws->by_pid, GINT_TO_POINTER(pid));
	if (w && w->start != pf->start) {
		/* The PID was reused: the process watched under it exited unseen. */
		unwatch(ws, w, "exited");
		w = NULL;
	}
	if (w && comm && strcmp(comm, w->event_comm) && !strcmp(comm, pf->comm) &&
	    pf->dev == w->facts.dev && pf->ino == w->facts.ino) {
		/* the event of the image an earlier image's late event found: watched already */
		snprintf(w->event_comm, sizeof(w->event_comm), "%s", comm);
		close(pidfd);
		return WATCH_YES;
	}
	v = watch_decide(ws->rules, pf);
	if (!w) {
		if (v == WATCH_YES)
			keep(ws, pf, pidfd, comm);
		else
			close(pidfd);
		return v;
	}
	close(pidfd);	/* the same process: the pidfd held since it was first seen stays */
	if (v != WATCH_YES) {
		char why[64];

		snprintf(why, sizeof(why), "re-exec: %s", watch_verdict_name(v));
		unwatch(ws, w, why);
		return v;
	}
	/* a new image in the same process: its probes went with the old one */
	w->facts = *pf;
	snprintf(w->event_comm, sizeof(w->event_comm), "%s", comm ? comm : pf->comm);
	w->images++;
	if (ws->ops && ws->ops->reexec)
		ws->ops->reexec(w, ws->ctx);
	return v;
}

enum watch_verdict watchset_found(struct watchset *ws, pid_t pid, unsigned long long start,
				  struct proc_facts *pf)
{
	const struct watched *w = g_hash_table_lookup(ws->by_pid, GINT_TO_POINTER(pid));
	struct proc_facts local, *f = pf ? pf : &local;

	if (w && w->start == start && !proc_facts_read(pid, f) && f->start == w->start &&
	    f->dev == w->facts.dev && f->ino == w->facts.ino) {
		*f = w->facts;
		return WATCH_YES;
	}
	return watchset_exec(ws, pid, start, NULL, pf);
}

bool watchset_exit(struct watchset *ws, pid_t pid, unsigned long long start, int status)
{
	struct watched *w = g_hash_table_lookup(ws->by_pid, GINT_TO_POINTER(pid));
	char why[64];

	if (!w || w->start != start)
		return false;	/* not watched, or an earlier process that had the PID */
	if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(why, sizeof(why), "exited with status %d", WEXITSTATUS(status));
	unwatch(ws, w, why);
	return true;
}

static gboolean reap_one(gpointer k, gpointer v, gpointer ws)
{
	struct watchset *s = ws;
	struct watched *w = v;

	(void)k;
	if (!pidfd_exited(w->pidfd))
		return FALSE;
	if (s->ops && s->ops->unwatch)
		s->ops->unwatch(w, "exited (seen by its pidfd: the exit event was lost)", s->ctx);
	return TRUE;
}

int watchset_reap(struct watchset *ws)
{
	return (int)g_hash_table_foreach_remove(ws->by_pid, reap_one, ws);
}
