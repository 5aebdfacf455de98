// SPDX-License-Identifier: MIT
/*
 * mapwatch daemon: follows Go processes as they start and exit, watches each within a
 * budget, serves what it sees as Prometheus metrics, and keeps evidence on disk.
 *
 * One event loop (epoll) over the ring buffer, the exec/exit tracepoints, a pidfd per
 * target, the HTTP listener and the signals; its timeout is the nearest session step. Each
 * target runs sessions (user/session.h) one epoch after another: an epoch ends in a report
 * whose numbers become the target's metrics, and whose findings, or a fatal runtime error,
 * are written to the state dir. A new epoch starts from a fresh model, so memory stays
 * bounded whatever the target does.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "attach.h"
#include "daemon.h"
#include "discover.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "mwerr.h"
#include "sdnotify.h"
#include "session.h"

/* A series of one target: maps with the same creation site and type, summed. */
struct dsite {
	const char *function, *file;	/* NULL: made before mapwatch saw it */
	int line;
	const char *type;
	double writes[MX_OP__MAX];	/* estimated (observed / share of time observed) */
	double growths;
	uint64_t concurrent;
	uint64_t entries, capacity, bytes;	/* gauges: as the last epoch ended */
};

/* One executable, parsed once for every process that runs it. */
struct dbin {
	char *key;			/* "dev:ino" */
	unsigned refs;
	struct target t;		/* opened from the first process's /proc/PID/exe */
	struct probe_plan plan;
	GHashTable *pc_sites;		/* symbols by link-time PC, for every model of it */
};

struct dtarget {
	struct daemon *d;
	struct dbin *bin;
	pid_t pid;
	int slot;
	char exe[PATH_MAX];
	char go_version[128];
	struct target t;		/* borrows bin->t's parsed binary */
	struct attach at;
	struct session s;
	bool live;			/* a session runs */
	GHashTable *carried;		/* what the last epoch knew of live maps (model_carry) */
	double epoch_end, next_start;
	unsigned epochs;
	/* published: cumulative, or as the last epoch ended */
	GHashTable *sites;		/* label key -> struct dsite */
	GHashTable *site_types;		/* "function\x1ffile\x1fline" -> the type seen made there */
	GHashTable *findings;		/* kind (interned) -> count in the last epoch */
	GHashTable *written;		/* kinds whose evidence is on disk */
	struct mx_hist lock_wait;
	uint64_t hits, lost;
	double cpu_s, attached_s;
};

struct daemon {
	GPtrArray *cli;
	struct daemon_opts o;
	struct attach hub;		/* the BPF object every target shares */
	struct hit_cost cost;
	struct discover *disc;
	struct watchset ws;
	struct watch_rules *rules;	/* the watchset's */
	struct httpd *http;
	GHashTable *targets;		/* pid -> struct dtarget * */
	GHashTable *bins;		/* "dev:ino" -> struct dbin * */
	uint64_t slots;			/* in use (bit per slot; 0 is never given out) */
	GHashTable *attach_errors;	/* reason (interned) -> count */
	int epfd, sigfd;
	double scrape_s;
	bool reports_ok;		/* the state dir can be written */
};

enum { EV_RB = 1, EV_DISC, EV_HTTP, EV_SIG, EV_PIDFD };

static void count_error(struct daemon *d, const char *reason)
{
	const char *k = g_intern_string(reason);

	g_hash_table_insert(d->attach_errors, (gpointer)k,
			    GSIZE_TO_POINTER(GPOINTER_TO_SIZE(g_hash_table_lookup(d->attach_errors,
										  k)) + 1));
}

/* Ring-buffer records: every type begins with (type, tgid). */
static int on_record(void *ctx, const void *data, size_t size)
{
	struct daemon *d = ctx;
	struct dtarget *dt;
	uint32_t tgid;

	if (size < 8)
		return 0;
	memcpy(&tgid, (const char *)data + 4, sizeof(tgid));
	dt = g_hash_table_lookup(d->targets, GINT_TO_POINTER((int)tgid));
	if (dt && dt->live)
		model_ingest(&dt->s.model, data, size);
	return 0;
}

static double share_for(const struct daemon *d)
{
	double n = g_hash_table_size(d->targets) ? (double)g_hash_table_size(d->targets) : 1;

	return d->o.budget < d->o.host_budget / n ? d->o.budget : d->o.host_budget / n;
}

static void epoch_end(struct dtarget *dt, const char *why, double now);

static void epoch_start(struct dtarget *dt, double now)
{
	struct daemon *d = dt->d;
	/*
	 * Lock waits alone first, as a capture does; but not in a process's first epoch: the
	 * maps a program makes as it starts are made then, and their creation sites name them.
	 */
	double base = !dt->epochs ? 0 : d->o.interval_s * 0.2 > 2 ? 2 : d->o.interval_s * 0.2;
	char err[512];
	int rc;

	/*
	 * In the first epoch the creation probes stay on while the budget affords them: the
	 * program's start-up makes every class look dear at first, and a long-lived map whose
	 * creation is missed is never named by it.
	 */
	rc = session_start(&dt->s, &dt->at, &dt->t, &dt->bin->plan, share_for(d), d->cost, base,
			   !dt->epochs ? ATTACH_MAKE : 0, err, sizeof(err));
	if (rc == MW_EXIT_NOPROC) {
		/*
		 * It died as the epoch began. The core probes stayed on from the last epoch: if it
		 * died of a fatal error, the record is waiting, and its report is written.
		 */
		model_share_pc_cache(&dt->s.model, dt->bin->pc_sites);
		if (dt->carried) {
			model_take_carried(&dt->s.model, dt->carried);
			dt->carried = NULL;
		}
		dt->live = true;	/* its records are this session's */
		attach_poll(&d->hub, 0);
		if (dt->s.model.fatal) {
			epoch_end(dt, "target exited", now);
			return;
		}
		dt->live = false;
	}
	if (rc) {
		attach_detach(&dt->at, ATTACH_ALL);
		session_free(&dt->s);
		/* the next try after an interval; an exit is noticed by its pidfd meanwhile */
		if (rc != MW_EXIT_NOPROC) {
			pr_err("PID %d: %s\n", dt->pid, err);
			count_error(d, "attach");
		} else {
			pr_info("mapwatch: PID %d exited while its probes were being attached\n",
				dt->pid);
		}
		dt->next_start = now + d->o.interval_s;
		return;
	}
	model_share_pc_cache(&dt->s.model, dt->bin->pc_sites);
	if (dt->carried) {
		model_take_carried(&dt->s.model, dt->carried);
		dt->carried = NULL;
	}
	dt->live = true;
	/* the first epoch is short: a target's series appear within seconds of its start */
	dt->epoch_end = now + (dt->epochs ? d->o.interval_s : (d->o.interval_s < 5 ? d->o.interval_s : 5));
	/* no baseline: the map probes' first look at once (the program is starting now) */
	if (base <= 0 && session_step(&dt->s, mono_s()))
		dt->epoch_end = now;
}

static struct dsite *site_get(struct dtarget *dt, const struct frame_sym *at, bool known,
			      const char *type)
{
	const char *fn = known ? at->function : NULL, *file = known ? at->file : NULL;
	int line = known ? at->line : 0;
	char *where = g_strdup_printf("%s\x1f%s\x1f%d", fn ? fn : "", file ? file : "", line);
	const char *ty;
	char *key;
	struct dsite *s;

	/*
	 * A map made by makemap_small has no type until it is written: one not written while
	 * watched takes the type seen made at the same site, not a series of its own.
	 */
	if (type[0]) {
		ty = g_intern_string(type);
		if (known)
			g_hash_table_insert(dt->site_types, g_strdup(where), (gpointer)ty);
	} else {
		ty = known ? g_hash_table_lookup(dt->site_types, where) : NULL;
		ty = ty ? ty : g_intern_string("?");
	}
	key = g_strdup_printf("%s\x1f%s", where, ty);
	g_free(where);
	s = g_hash_table_lookup(dt->sites, key);
	if (s) {
		g_free(key);
		return s;
	}
	s = g_new0(struct dsite, 1);
	/* the strings live in the target's binary, as long as dt does */
	s->function = fn;
	s->file = file;
	s->line = line;
	s->type = ty;
	g_hash_table_insert(dt->sites, key, s);
	return s;
}

/* An epoch's report into the target's series. */
static void publish(struct dtarget *dt, json_object *findings)
{
	struct session *s = &dt->s;
	/* scaled by the program's work while watched; by the time where that cannot be told */
	double ow = report_estimate_fraction(&s->meta, MW_CLASS_WRITE);
	double om = report_observed_fraction(&s->meta, MW_CLASS_MAKE);
	GHashTableIter it;
	GPtrArray *maps;
	gpointer k, v;

	if (ow <= 0)
		ow = report_observed_fraction(&s->meta, MW_CLASS_WRITE);
	ow = ow > 0 ? ow : 1;
	om = om > 0 ? om : 1;
	g_hash_table_iter_init(&it, dt->sites);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct dsite *ds = v;

		ds->entries = ds->capacity = ds->bytes = 0;
	}
	maps = model_maps_sorted(&s->model);
	for (guint i = 0; i < maps->len; i++) {
		const struct mw_map *mp = g_ptr_array_index(maps, i);
		struct dsite *ds = site_get(dt, &mp->created_at,
					    mp->created_seen || mp->created_carried, mp->type);

		ds->writes[MX_OP_ASSIGN] += (double)mp->assigns / ow;
		ds->writes[MX_OP_DELETE] += (double)mp->deletes / ow;
		ds->writes[MX_OP_CLEAR] += (double)mp->clears / ow;
		ds->growths += (double)mp->growths / om;
		ds->concurrent += mp->overlaps;
		if (!mp->gone) {
			ds->entries += mp->hdr.count;
			ds->capacity += mp->capacity;
			ds->bytes += mp->bytes;
		}
	}
	g_ptr_array_unref(maps);
	maps = model_made_sorted(&s->model);
	for (guint i = 0; i < maps->len; i++) {
		const struct mw_made *md = g_ptr_array_index(maps, i);
		struct dsite *ds = site_get(dt, &md->site, !md->on_stack, md->type);

		ds->writes[MX_OP_ASSIGN] += (double)md->assigns / ow;
		ds->writes[MX_OP_DELETE] += (double)md->deletes / ow;
		ds->writes[MX_OP_CLEAR] += (double)md->clears / ow;
		ds->growths += (double)md->growths / om;
	}
	g_ptr_array_unref(maps);

	g_hash_table_remove_all(dt->findings);
	for (size_t i = 0; findings && i < json_object_array_length(findings); i++) {
		json_object *kind;
		const char *kn;

		if (!json_object_object_get_ex(json_object_array_get_idx(findings, i), "kind", &kind))
			continue;
		kn = g_intern_string(json_object_get_string(kind));
		g_hash_table_insert(dt->findings, (gpointer)kn,
				    GSIZE_TO_POINTER(GPOINTER_TO_SIZE(g_hash_table_lookup(
							     dt->findings, kn)) + 1));
	}

	g_hash_table_iter_init(&it, s->model.mutexes);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const struct mw_mutex *mu = v;

		/*
		 * The model keeps waits in log2 buckets: each goes to the exposition's bucket
		 * of its middle (1.5 * 2^b ns; a log2 bucket straddles at most one decimal
		 * bound). The sum is exact.
		 */
		for (int b = 0; b < MW_WAIT_BUCKETS; b++) {
			double mid = ldexp(1.5, b) * 1e-9;
			size_t j = 0;

			while (j < MX_LOCK_BUCKETS && !(mid <= mx_lock_bounds[j]))
				j++;
			dt->lock_wait.bucket[j] += mu->hist[b];
		}
		dt->lock_wait.sum += (double)mu->total_ns * 1e-9;
	}
	dt->hits += s->meta.probe_hits;
	dt->lost += s->meta.events_lost;
	dt->cpu_s += s->b.spent_s;
	dt->attached_s += s->b.cls[MW_CLASS_WRITE].attached_s + s->b.cls[MW_CLASS_TALLY].attached_s;
}

/* Keep at most max_reports evidence files: the oldest go. */
static void prune_reports(struct daemon *d)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	DIR *dir = opendir(d->o.state_dir);
	struct dirent *de;

	if (!dir) {
		g_ptr_array_unref(names);
		return;
	}
	while ((de = readdir(dir)))
		if (g_str_has_prefix(de->d_name, "mapwatch-") && g_str_has_suffix(de->d_name, ".json"))
			g_ptr_array_add(names, g_strdup(de->d_name));
	closedir(dir);
	/* names begin with a UTC timestamp: sorted by name is sorted by age */
	g_ptr_array_sort(names, (GCompareFunc)(void *)g_strcmp0);
	for (guint i = 0; i + d->o.max_reports < names->len; i++) {
		char *p = g_build_filename(d->o.state_dir, (char *)g_ptr_array_index(names, i), NULL);

		unlink(p);
		g_free(p);
	}
	g_ptr_array_unref(names);
}

#define EVIDENCE_MAX_BYTES (16u << 20)

static void write_evidence(struct dtarget *dt, json_object *doc, const char *why)
{
	struct daemon *d = dt->d;
	const char *text;
	char stamp[32], name[128], err[512], *path;
	struct timespec ts;
	struct tm tm;
	size_t len;

	if (!d->reports_ok || !d->o.max_reports)
		return;
	text = json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN, &len);
	if (len > EVIDENCE_MAX_BYTES) {
		pr_err("PID %d: the %s report is %zu MiB, more than %u: not written\n", dt->pid, why,
		       len >> 20, EVIDENCE_MAX_BYTES >> 20);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	snprintf(name, sizeof(name), "mapwatch-%s.%03ldZ-%d-%s.json", stamp, ts.tv_nsec / 1000000,
		 dt->pid, why);
	path = g_build_filename(d->o.state_dir, name, NULL);
	if (write_atomic(path, text, len, err, sizeof(err)))
		pr_err("PID %d: %s\n", dt->pid, err);
	else
		pr_info("mapwatch: PID %d: %s: report written to %s\n", dt->pid, why, path);
	g_free(path);
	prune_reports(d);
}

static void epoch_end(struct dtarget *dt, const char *why, double now)
{
	json_object *doc, *findings;
	bool fatal = dt->s.model.fatal, fresh = false;

	/*
	 * An epoch that rolls over into the next keeps runtime.fatal and runtime.gopanic probed:
	 * a process that dies between two epochs (a detach of the map probes can be what tips a
	 * racing program over) still leaves its evidence.
	 */
	dt->s.keep = !fatal && !strcmp(why, "duration") ? ATTACH_CORE : 0;
	session_stop(&dt->s, why, -1);
	doc = session_report(&dt->s, &dt->d->o.thresholds, &findings);
	publish(dt, findings);
	for (size_t i = 0; i < json_object_array_length(findings); i++) {
		json_object *kind;

		if (json_object_object_get_ex(json_object_array_get_idx(findings, i), "kind", &kind) &&
		    !g_hash_table_contains(dt->written, json_object_get_string(kind))) {
			g_hash_table_add(dt->written,
					 (gpointer)g_intern_string(json_object_get_string(kind)));
			fresh = true;
		}
	}
	if (fatal)
		write_evidence(dt, doc, "fatal");
	else if (fresh)	/* a kind of finding not on disk yet for this process */
		write_evidence(dt, doc, "findings");
	json_object_put(findings);
	json_object_put(doc);
	if (dt->carried)
		g_hash_table_unref(dt->carried);
	dt->carried = model_carry(&dt->s.model, dt->s.end_ns);
	session_free(&dt->s);
	dt->live = false;
	dt->epochs++;
	dt->next_start = fatal ? now + 3600 : now;	/* a dying process is not watched again */
}

static int slot_take(struct daemon *d)
{
	for (int i = 1; i < MW_MAX_TARGETS; i++)
		if (!(d->slots & (1ULL << i))) {
			d->slots |= 1ULL << i;
			return i;
		}
	return -1;
}

static void bin_unref(struct daemon *d, struct dbin *b)
{
	if (!b || --b->refs)
		return;
	g_hash_table_remove(d->bins, b->key);
	g_hash_table_unref(b->pc_sites);
	target_close(&b->t);
	g_free(b->key);
	g_free(b);
}

/* The executable of a process, parsed once per file (by device and inode). MW_EXIT_*. */
static int bin_get(struct daemon *d, const struct watched *w, struct dbin **out, char *err,
		   size_t errlen)
{
	char *key = g_strdup_printf("%llu:%llu", (unsigned long long)w->facts.dev,
				    (unsigned long long)w->facts.ino);
	struct dbin *b = g_hash_table_lookup(d->bins, key);
	int rc;

	if (b) {
		g_free(key);
		b->refs++;
		*out = b;
		return MW_EXIT_OK;
	}
	b = g_new0(struct dbin, 1);
	rc = target_open_pid(&b->t, w->pid, err, errlen);
	if (rc) {
		g_free(b);
		g_free(key);
		return rc;
	}
	probeplan_build(&b->t.gb, b->t.layout->impl, &b->plan);
	if (!b->plan.usable) {
		snprintf(err, errlen, "%.400s: no map function of the runtime can be probed",
			 b->t.exe);
		target_close(&b->t);
		g_free(b);
		g_free(key);
		return MW_EXIT_UNSUPPORTED;
	}
	b->key = key;
	b->refs = 1;
	b->pc_sites = model_pc_cache_new();
	g_hash_table_insert(d->bins, key, b);
	*out = b;
	return MW_EXIT_OK;
}

static void target_free(struct dtarget *dt)
{
	if (dt->live) {
		session_stop(&dt->s, "unwatched", -1);
		session_free(&dt->s);
	}
	attach_close(&dt->at);
	bin_unref(dt->d, dt->bin);
	if (dt->carried)
		g_hash_table_unref(dt->carried);
	if (dt->slot > 0)
		dt->d->slots &= ~(1ULL << dt->slot);
	g_hash_table_unref(dt->sites);
	g_hash_table_unref(dt->site_types);
	g_hash_table_unref(dt->findings);
	g_hash_table_unref(dt->written);
	g_free(dt);
}

static void on_watch(const struct watched *w, void *ctx)
{
	struct daemon *d = ctx;
	struct dtarget *dt = g_new0(struct dtarget, 1);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = ((uint64_t)EV_PIDFD << 32) };
	char err[512];
	int rc;

	dt->d = d;
	dt->pid = w->pid;
	dt->slot = -1;
	snprintf(dt->exe, sizeof(dt->exe), "%s", w->facts.exe);
	snprintf(dt->go_version, sizeof(dt->go_version), "%s", w->facts.go_version);
	dt->sites = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	dt->site_types = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	dt->findings = g_hash_table_new(g_direct_hash, g_direct_equal);
	dt->written = g_hash_table_new(g_str_hash, g_str_equal);
	rc = bin_get(d, w, &dt->bin, err, sizeof(err));
	if (!rc)
		rc = target_share(&dt->t, &dt->bin->t, w->pid, err, sizeof(err));
	if (!rc && (dt->slot = slot_take(d)) < 0) {
		snprintf(err, sizeof(err), "already watching %d processes, the most one daemon can",
			 MW_MAX_TARGETS - 1);
		rc = MW_EXIT_FAIL;
	}
	if (rc) {
		if (rc == MW_EXIT_NOPROC) {
			pr_info("mapwatch: PID %d exited before it could be watched\n", w->pid);
			count_error(d, "exited");
		} else {
			pr_err("not watching PID %d: %s\n", w->pid, err);
			count_error(d, rc == MW_EXIT_UNSUPPORTED ? "unsupported" :
				       rc == MW_EXIT_PRIV ? "permission" : "other");
		}
		target_free(dt);	/* nothing attached yet: frees what was made */
		return;
	}
	attach_share(&dt->at, &d->hub, dt->slot);
	g_hash_table_insert(d->targets, GINT_TO_POINTER(w->pid), dt);
	ev.data.u64 |= (uint32_t)w->pid;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, w->pidfd, &ev))
		pr_debug("PID %d: pidfd not polled: %s\n", w->pid, strerror(errno));
	epoch_start(dt, mono_s());
	pr_info("mapwatch: watching PID %d (%s, %s, %s maps)\n", w->pid, dt->exe, dt->go_version,
		impl_name(dt->t.layout->impl));
}

static void on_unwatch(const struct watched *w, const char *why, void *ctx)
{
	struct daemon *d = ctx;
	struct dtarget *dt = g_hash_table_lookup(d->targets, GINT_TO_POINTER(w->pid));

	if (!dt)
		return;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, w->pidfd, NULL);
	attach_poll(&d->hub, 0);	/* its last records, runtime.fatal's among them */
	/* a process that died of a fatal error: its report is written before it goes */
	if (dt->live && dt->s.model.fatal)
		epoch_end(dt, "target exited", mono_s());
	pr_info("mapwatch: PID %d no longer watched: %s\n", w->pid, why);
	g_hash_table_remove(d->targets, GINT_TO_POINTER(w->pid));
	target_free(dt);
}

static void on_reexec(const struct watched *w, void *ctx)
{
	on_unwatch(w, "it ran exec", ctx);
	on_watch(w, ctx);
}

static const struct watch_ops watch_ops = { on_watch, on_reexec, on_unwatch };

/* A process a rule names but that cannot be watched: one line, and counted. */
static void not_watched(struct daemon *d, enum watch_verdict v, const struct proc_facts *pf)
{
	if (v == WATCH_YES || v == WATCH_NO_RULE || v == WATCH_GONE)
		return;
	/* --all-go names every process: only those that are Go but cannot be watched count */
	if (v == WATCH_NOT_GO && d->rules->all_go && !d->rules->exes->len && !d->rules->comms->len &&
	    !d->rules->pids->len)
		return;
	pr_info("mapwatch: not watching PID %d (%s, %s): %s%s%s\n", pf->pid, pf->comm, pf->exe,
		v == WATCH_NOT_GO ? "not a Go program" : v == WATCH_GO_OLD ? "Go older than 1.18" :
		"its executable cannot be read", pf->why[0] ? ": " : "", pf->why);
	count_error(d, watch_verdict_name(v));
}

static void on_disc(const struct disc_event *ev, void *ctx)
{
	struct daemon *d = ctx;
	struct proc_facts pf;
	enum watch_verdict v;

	if (ev->pid == getpid())
		return;
	if (ev->kind == DISC_EXIT) {
		watchset_exit(&d->ws, ev->pid, ev->start, ev->exit_code);
	} else if (ev->kind == DISC_FOUND) {
		v = watchset_found(&d->ws, ev->pid, ev->start, &pf);
		not_watched(d, v, &pf);
	} else {
		char comm[16];
		char state;
		unsigned flags;
		unsigned long long start;

		/*
		 * An exec read late: the process has exec'd again since (env, a shell's exec),
		 * and the event of its present image is still to come. (/proc tells the present
		 * image only; the event's comm tells which one it was about.)
		 */
		if (!proc_stat_read(ev->pid, comm, &state, &flags, &start) && strcmp(comm, ev->comm))
			return;
		v = watchset_exec(&d->ws, ev->pid, ev->start, ev->comm, &pf);
		if (v == WATCH_GONE) {
			/* gone before it could be read: said if its name is one a rule wants */
			if (watch_rules_name(d->rules, ev->comm)) {
				pr_info("mapwatch: PID %d (%s) exited before it could be watched\n",
					ev->pid, ev->comm);
				count_error(d, "exited");
			}
		}
		not_watched(d, v, &pf);
	}
}

static int site_cmp(const void *a, const void *b)
{
	const struct mx_map *x = a, *y = b;
	uint64_t wx = x->writes[0] + x->writes[1] + x->writes[2] + x->bytes;
	uint64_t wy = y->writes[0] + y->writes[1] + y->writes[2] + y->bytes;

	return wx < wy ? 1 : wx > wy ? -1 : 0;
}

static int on_scrape(GString *body, void *ctx)
{
	struct daemon *d = ctx;
	double t0 = mono_s();
	guint n = g_hash_table_size(d->targets), i = 0, ne = 0;
	struct mx_target *tg = g_new0(struct mx_target, n ? n : 1);
	struct mx_count *errs = g_new0(struct mx_count, g_hash_table_size(d->attach_errors) + 1);
	struct mx_daemon md = { 0 };
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, d->targets);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct dtarget *dt = v;
		struct mx_map *maps = g_new0(struct mx_map, g_hash_table_size(dt->sites) + 1);
		struct mx_count *f = g_new0(struct mx_count, g_hash_table_size(dt->findings) + 1);
		GHashTableIter si;
		gpointer sk, sv;
		size_t nm = 0, nf = 0;

		g_hash_table_iter_init(&si, dt->sites);
		while (g_hash_table_iter_next(&si, &sk, &sv)) {
			const struct dsite *ds = sv;
			struct mx_map *m = &maps[nm++];

			m->function = ds->function;
			m->file = ds->file;
			m->line = ds->line;
			m->type = ds->type;
			m->entries = ds->entries;
			m->capacity = ds->capacity;
			m->bytes = ds->bytes;
			m->growths = (uint64_t)llround(ds->growths);
			for (int o = 0; o < MX_OP__MAX; o++)
				m->writes[o] = (uint64_t)llround(ds->writes[o]);
			m->concurrent_writes = ds->concurrent;
		}
		qsort(maps, nm, sizeof(*maps), site_cmp);
		g_hash_table_iter_init(&si, dt->findings);
		while (g_hash_table_iter_next(&si, &sk, &sv))
			f[nf++] = (struct mx_count){ .name = sk, .n = GPOINTER_TO_SIZE(sv) };
		tg[i++] = (struct mx_target){
			.pid = dt->pid, .exe = dt->exe, .go_version = dt->go_version,
			.maps = maps, .nmaps = nm, .lock_wait = dt->lock_wait, .findings = f,
			.nfindings = nf, .probe_hits = dt->hits, .probe_cpu_seconds = dt->cpu_s,
			.attached_seconds = dt->attached_s, .lost_events = dt->lost,
		};
	}
	g_hash_table_iter_init(&it, d->attach_errors);
	while (g_hash_table_iter_next(&it, &k, &v))
		errs[ne++] = (struct mx_count){ .name = k, .n = GPOINTER_TO_SIZE(v) };
	md = (struct mx_daemon){ .targets = tg, .ntargets = i, .attach_errors = errs,
				 .nattach_errors = ne, .scrape_duration_seconds = d->scrape_s,
				 .max_maps = d->o.max_maps };
	mx_render(body, &md);
	for (guint j = 0; j < i; j++) {
		g_free((void *)tg[j].maps);
		g_free((void *)tg[j].findings);
	}
	g_free(tg);
	g_free(errs);
	/* what this scrape took is shown by the next one (this one's text is written) */
	d->scrape_s = mono_s() - t0;
	return 0;
}

/* --check: what would be watched, and why not, without BPF. */
static int check_only(struct daemon *d)
{
	GDir *dir = g_dir_open("/proc", 0, NULL);
	const char *name;
	unsigned yes = 0;

	if (!dir) {
		pr_err("cannot read /proc\n");
		return MW_EXIT_FAIL;
	}
	while ((name = g_dir_read_name(dir))) {
		struct proc_facts pf;
		enum watch_verdict v;
		char *end;
		long pid = strtol(name, &end, 10);

		if (*end || pid <= 0 || pid == getpid() || proc_facts_read((pid_t)pid, &pf))
			continue;
		if (watch_rules_match(d->rules, &pf))
			proc_facts_read_go(&pf);
		v = watch_decide(d->rules, &pf);
		if (v == WATCH_YES) {
			printf("watch  %ld %s (%s, %s)\n", pid, pf.comm, pf.exe, pf.go_version);
			yes++;
		} else if (v != WATCH_NO_RULE && v != WATCH_GONE &&
			   (v != WATCH_NOT_GO || !d->rules->all_go || mw_verbose)) {
			printf("skip   %ld %s (%s): %s%s%s\n", pid, pf.comm, pf.exe,
			       watch_verdict_name(v), pf.why[0] ? ": " : "", pf.why);
		}
	}
	g_dir_close(dir);
	printf("%u process%s would be watched\n", yes, yes == 1 ? "" : "es");
	return MW_EXIT_OK;
}

static int state_dir_check(struct daemon *d)
{
	char probe[PATH_MAX];
	int fd;

	if (g_mkdir_with_parents(d->o.state_dir, 0700) && errno != EEXIST)
		goto bad;
	snprintf(probe, sizeof(probe), "%s/.mapwatch-probe", d->o.state_dir);
	fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto bad;
	close(fd);
	unlink(probe);
	d->reports_ok = true;
	return 0;
bad:
	pr_err("cannot write to the state dir %s: %s; no evidence reports will be kept\n",
	       d->o.state_dir, strerror(errno));
	d->reports_ok = false;
	return -1;
}

/* Every running process, once: at start, and after SIGHUP with new rules. */
static void scan(struct daemon *d)
{
	discover_scan(d->disc);
	watchset_reap(&d->ws);
}

static int reload(struct daemon *d)
{
	struct daemon_opts o;
	char err[512];

	if (daemon_opts_build(&o, d->cli, err, sizeof(err))) {
		pr_err("SIGHUP: %s; keeping the configuration in use\n", err);
		daemon_opts_free(&o);
		return -1;
	}
	if (strcmp(o.listen, d->o.listen))
		pr_err("SIGHUP: the listen address changes only with a restart; still on %s\n",
		       d->o.listen);
	/* the rules move to the watchset's copy; the rest is taken as it is */
	watch_rules_free(d->rules);
	*d->rules = o.rules;
	watch_rules_init(&o.rules);
	g_free(d->o.state_dir);
	d->o.state_dir = g_strdup(o.state_dir);
	d->o.budget = o.budget;
	d->o.host_budget = o.host_budget;
	d->o.max_maps = o.max_maps;
	d->o.max_reports = o.max_reports;
	d->o.interval_s = o.interval_s;
	d->o.thresholds = o.thresholds;
	daemon_opts_free(&o);
	state_dir_check(d);
	pr_info("mapwatch: configuration reloaded\n");
	/* processes the new rules name, and those they no longer do */
	scan(d);
	{
		GHashTableIter it;
		gpointer k, v;
		GArray *gone = g_array_new(FALSE, FALSE, sizeof(pid_t));

		g_hash_table_iter_init(&it, d->targets);
		while (g_hash_table_iter_next(&it, &k, &v)) {
			struct proc_facts pf;
			pid_t pid = GPOINTER_TO_INT(k);

			if (proc_facts_read(pid, &pf) || !watch_rules_match(d->rules, &pf))
				g_array_append_val(gone, pid);
		}
		for (guint i = 0; i < gone->len; i++)
			watchset_exec(&d->ws, g_array_index(gone, pid_t, i), 0, NULL, NULL);
		g_array_free(gone, TRUE);
	}
	return 0;
}

static int add_fd(int epfd, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)tag << 32 };

	return fd < 0 ? -1 : epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Steps, epoch ends and starts that are due; returns the next time something is. */
static double run_targets(struct daemon *d, double now)
{
	double next = now + 1;
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, d->targets);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct dtarget *dt = v;
		double w;

		if (dt->live) {
			const char *why = NULL;

			if (dt->s.model.fatal)
				why = "fatal";
			else if (now >= session_wake(&dt->s))
				why = session_step(&dt->s, now);
			if (!why && now >= dt->epoch_end)
				why = "duration";
			if (why)
				epoch_end(dt, why, now);
		}
		if (!dt->live && now >= dt->next_start)
			epoch_start(dt, now);
		w = dt->live ? session_wake(&dt->s) : dt->next_start;
		if (dt->live && dt->epoch_end < w)
			w = dt->epoch_end;
		if (w < next)
			next = w;
	}
	return next;
}

static int loop(struct daemon *d)
{
	struct epoll_event evs[32];

	for (;;) {
		double now = mono_s(), next = run_targets(d, now);
		int tmo = (int)((next - now) * 1000) + 1, ht = httpd_timeout_ms(d->http), n;

		if (ht >= 0 && ht < tmo)
			tmo = ht;
		if (tmo < 0)
			tmo = 0;
		n = epoll_wait(d->epfd, evs, 32, tmo);
		if (n < 0 && errno != EINTR) {
			pr_err("epoll_wait: %s\n", strerror(errno));
			return MW_EXIT_FAIL;
		}
		for (int i = 0; i < n; i++) {
			uint32_t tag = (uint32_t)(evs[i].data.u64 >> 32);

			switch (tag) {
			case EV_RB:
				attach_poll(&d->hub, 0);
				break;
			case EV_DISC:
				discover_dispatch(d->disc);
				break;
			case EV_PIDFD:
				watchset_reap(&d->ws);
				break;
			case EV_SIG: {
				struct signalfd_siginfo si;

				if (read(d->sigfd, &si, sizeof(si)) != sizeof(si))
					break;
				if (si.ssi_signo == SIGHUP) {
					reload(d);
					break;
				}
				pr_info("mapwatch: %s: detaching and exiting\n",
					strsignal((int)si.ssi_signo));
				return MW_EXIT_OK;
			}
			}
		}
		httpd_run(d->http);
	}
}

int cmd_daemon(const GPtrArray *cli)
{
	struct daemon d = { .cli = (GPtrArray *)cli, .epfd = -1, .sigfd = -1 };
	sigset_t mask;
	char err[512];
	int rc = MW_EXIT_FAIL;

	if (daemon_opts_build(&d.o, cli, err, sizeof(err))) {
		pr_err("%s\n", err);
		daemon_opts_free(&d.o);
		return MW_EXIT_USAGE;
	}
	d.rules = g_new(struct watch_rules, 1);
	*d.rules = d.o.rules;
	watch_rules_init(&d.o.rules);
	if (watch_rules_empty(d.rules)) {
		pr_err("which processes? give --exe PATH, --comm NAME, --pid PID or --all-go (see "
		       "--help)\n");
		rc = MW_EXIT_USAGE;
		goto out_rules;
	}
	if (d.o.check) {
		rc = check_only(&d);
		goto out_rules;
	}
	d.targets = g_hash_table_new(g_direct_hash, g_direct_equal);
	d.bins = g_hash_table_new(g_str_hash, g_str_equal);
	d.attach_errors = g_hash_table_new(g_str_hash, g_str_equal);
	state_dir_check(&d);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	d.http = httpd_start(d.o.listen, on_scrape, &d, err, sizeof(err));
	if (!d.http) {
		pr_err("%s\n", err);
		goto out;
	}
	rc = attach_load(&d.hub, (size_t)d.o.ringbuf_mb << 20, on_record, &d, err, sizeof(err));
	if (rc) {
		pr_err("%s\n", err);
		goto out;
	}
	d.cost = attach_calibrate(&d.hub);
	d.disc = discover_open(on_disc, &d, 0, err, sizeof(err));
	if (!d.disc) {
		pr_err("%s\n", err);
		rc = MW_EXIT_PRIV;
		goto out;
	}
	watchset_init(&d.ws, d.rules, &watch_ops, &d);
	if (add_fd(d.epfd, attach_epoll_fd(&d.hub), EV_RB) ||
	    add_fd(d.epfd, discover_fd(d.disc), EV_DISC) ||
	    add_fd(d.epfd, httpd_fd(d.http), EV_HTTP) || add_fd(d.epfd, d.sigfd, EV_SIG)) {
		pr_err("cannot set up the event loop: %s\n", strerror(errno));
		rc = MW_EXIT_FAIL;
		goto out_ws;
	}
	scan(&d);
	pr_info("mapwatch: daemon ready: watching %u process%s, metrics on http://%s/metrics, "
		"budget %.3g%% of one CPU a process (%.3g%% in all), reports in %s\n",
		g_hash_table_size(d.targets), g_hash_table_size(d.targets) == 1 ? "" : "es",
		d.o.listen, d.o.budget * 100, d.o.host_budget * 100, d.o.state_dir);
	sdn_ready("watching %u Go processes", g_hash_table_size(d.targets));
	rc = loop(&d);
	sdn_stopping();
out_ws:
	/* every target is unwatched: its probes detached, its state removed from BPF */
	watchset_free(&d.ws);
out:
	if (d.disc)
		discover_close(d.disc);
	if (d.http)
		httpd_stop(d.http);
	if (d.targets) {
		GHashTableIter it;
		gpointer k, v;

		g_hash_table_iter_init(&it, d.targets);
		while (g_hash_table_iter_next(&it, &k, &v))
			target_free(v);
		g_hash_table_unref(d.targets);
		g_hash_table_unref(d.bins);
		g_hash_table_unref(d.attach_errors);
	}
	attach_close(&d.hub);
	if (d.epfd >= 0)
		close(d.epfd);
	if (d.sigfd >= 0)
		close(d.sigfd);
out_rules:
	watch_rules_free(d.rules);
	g_free(d.rules);
	daemon_opts_free(&d.o);
	return rc;
}
