// SPDX-License-Identifier: MIT
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "attach.h"
#include "disasm.h"
#include "log.h"
#include "mapwatch.skel.h"
#include "mono.h"
#include "mwerr.h"

/*
 * The BPF programs' run times (attach_handler_time) are the object's, the same for every
 * process that shares it, and the daemon asks at every step of every process: they are read
 * at most every 5 ms. Forgotten when the object is destroyed.
 */
static struct {
	const struct mapwatch_bpf *skel;
	double at;
	struct handler_time h;
} ht_cache;

/*
 * libbpf speaks only with -v (its debug output with -vv): every failure reaches the user as
 * mapwatch's own one line, which says what to do.
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (!mw_verbose || (level == LIBBPF_DEBUG && mw_verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* Open, size and load the BPF object, with or without the uprobe_multi programs. */
static int load_skel(struct attach *a, size_t ringbuf_bytes, bool multi, char *err,
		     size_t errlen)
{
	if (ht_cache.skel == a->skel)
		ht_cache.skel = NULL;
	mapwatch_bpf__destroy(a->skel);
	a->skel = mapwatch_bpf__open();
	if (!a->skel) {
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
		return -EINVAL;
	}
	if (ringbuf_bytes)
		bpf_map__set_max_entries(a->skel->maps.events, (__u32)ringbuf_bytes);
	bpf_program__set_autoload(a->skel->progs.mw_entry_multi, multi);
	bpf_program__set_autoload(a->skel->progs.mw_ret_multi, multi);
	bpf_program__set_autoload(a->skel->progs.mw_tally_multi, multi);
	a->multi = multi;
	return mapwatch_bpf__load(a->skel);
}

int attach_load(struct attach *a, size_t ringbuf_bytes, record_fn cb, void *ctx, char *err,
		size_t errlen)
{
	int e;

	memset(a, 0, sizeof(*a));
	a->stats_fd = -1;
	libbpf_set_print(libbpf_print);
	e = load_skel(a, ringbuf_bytes, true, err, errlen);
	if (e && e != -EPERM && e != -EACCES && a->skel) {
		/* A kernel without uprobe_multi refuses those programs: one link per uprobe. */
		pr_debug("uprobe_multi not available: one link per uprobe\n");
		e = load_skel(a, ringbuf_bytes, false, err, errlen);
	}
	if (!a->skel)
		return MW_EXIT_FAIL;
	if (e) {
		e = -e;
		/* "run as root" only says something to a user who is not */
		snprintf(err, errlen, "cannot load BPF programs: %s%s", strerror(e),
			 (e == EPERM || e == EACCES) && geteuid() ?
				 " (run as root, or with CAP_BPF and CAP_PERFMON)" :
			 e == EPERM || e == EACCES ?
				 " (BPF is restricted here: a container or lockdown? -v for details)" :
				 " (is this kernel built with BPF and BTF? run with -v for details)");
		attach_close(a);
		return MW_EXIT_PRIV;	/* either way: BPF is not available to us */
	}
	a->cb = cb;
	a->cb_ctx = ctx;
	/* the kernel times our programs while this fd is open (two clock reads a run) */
	a->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	a->rb = ring_buffer__new(bpf_map__fd(a->skel->maps.events),
				 (ring_buffer_sample_fn)cb, ctx, NULL);
	if (!a->rb) {
		e = errno;
		snprintf(err, errlen, "cannot create the ring buffer: %s", strerror(e));
		attach_close(a);
		return MW_EXIT_FAIL;
	}
	return MW_EXIT_OK;
}

static int keep_link(struct attach *a, struct bpf_link *l, bool entry, int set, char *err,
		     size_t errlen)
{
	struct attach_link *nl = realloc(a->links, (size_t)(a->nlinks + 1) * sizeof(*nl));

	if (!nl) {
		bpf_link__destroy(l);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	a->links = nl;
	a->links[a->nlinks++] = (struct attach_link){ .link = l, .entry = entry, .set = set };
	return 0;
}

static int add_link(struct attach *a, struct bpf_program *prog, pid_t pid, const char *path,
		    int64_t off, __u64 cookie, bool entry, int set, char *err, size_t errlen,
		    const char *what)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookie, .retprobe = false);
	struct bpf_link *l;

	if (off < 0) {
		snprintf(err, errlen, "%s: address is not in the file", what);
		return -1;
	}
	l = bpf_program__attach_uprobe_opts(prog, pid, path, (size_t)off, &opts);
	if (!l) {
		int e = errno;

		snprintf(err, errlen, "cannot attach a uprobe to %s (file offset %#llx): %s", what,
			 (unsigned long long)off, strerror(e));
		return -1;
	}
	return keep_link(a, l, entry, set, err, errlen);
}

int attach_set_of(int probe_id)
{
	int set = ATTACH_SET(op_class(probe_defs[probe_id].op));

	return set == ATTACH_WRITES ? set | ATTACH_TALLY : set;
}

static int write_cfg(struct attach *a, char *err, size_t errlen)
{
	__u32 key = (__u32)a->pid;

	if (bpf_map__update_elem(a->skel->maps.targets, &key, sizeof(key), &a->cfg,
				 sizeof(a->cfg), BPF_ANY)) {
		snprintf(err, errlen, "cannot configure the target: %s", strerror(errno));
		return MW_EXIT_FAIL;
	}
	return MW_EXIT_OK;
}

int attach_configure(struct attach *a, const struct target *t, char *err, size_t errlen)
{
	struct mw_target_cfg cfg = {
		.goid_off = (__u32)t->layout->goid,
		.writing_off = (__u32)t->layout->writing,
		.writing_mask = (__u8)t->layout->writing_mask,
		.stack_lo_off = (__u32)t->layout->stack_lo,
		.stack_hi_off = (__u32)t->layout->stack_hi,
		.seed_off = (__u32)t->layout->seed,
		.seed_bytes = (__u32)layout_seed_bytes(t->layout),
	};

	/*
	 * The same process configured again (the daemon's next epoch): its generations go on
	 * rising, so that an entry of the last epoch whose RET is still being closed is never
	 * trusted in this one.
	 */
	for (int c = 0; c < MW_CLASSES; c++)
		cfg.gen[c] = a->pid == t->pid ? a->cfg.gen[c] + 1 : 1;
	cfg.slot = (__u32)a->slot;
	/* ... and classes still being closed stay off until they are attached again */
	if (a->pid == t->pid)
		cfg.off_mask = a->cfg.off_mask;
	a->pid = t->pid;
	a->cfg = cfg;
	a->lost0 = 0;
	a->lost0 = attach_lost(a);
	return write_cfg(a, err, errlen);
}

static GThreadPool *closer_pool(struct attach *owner);

void attach_share(struct attach *a, struct attach *owner, int slot)
{
	GThreadPool *pool = closer_pool(owner);

	memset(a, 0, sizeof(*a));
	a->shared_pool = pool;
	a->skel = owner->skel;
	a->rb = owner->rb;
	a->stats_fd = owner->stats_fd;
	a->multi = owner->multi;
	a->cb = owner->cb;
	a->cb_ctx = owner->cb_ctx;
	a->shared = true;
	a->slot = slot;
}

/*
 * The keys of a hash map that begin with this tgid (u32), each key_size bytes. Taken all
 * before any is deleted: the kernel's get_next_key starts again from the first bucket when
 * the key it is given is gone, so deleting while walking is quadratic (2 s to end a capture
 * whose table of stacked (map, caller) pairs held tens of thousands).
 */
static GByteArray *tgid_keys(struct bpf_map *map, pid_t pid)
{
	size_t ksz = bpf_map__key_size(map);
	GByteArray *keys = g_byte_array_new();
	uint8_t *k = g_malloc0(2 * ksz), *next = k + ksz;
	bool first = true;

	while (!bpf_map__get_next_key(map, first ? NULL : k, next, ksz)) {
		__u32 tgid;

		first = false;
		memcpy(k, next, ksz);
		memcpy(&tgid, k, sizeof(tgid));
		if (tgid == (__u32)pid)
			g_byte_array_append(keys, k, (guint)ksz);
	}
	g_free(k);
	return keys;
}

/* Delete every entry of a hash map whose key begins with this tgid. */
static void purge_tgid(struct bpf_map *map, pid_t pid)
{
	size_t ksz = bpf_map__key_size(map);
	GByteArray *doomed = tgid_keys(map, pid);

	for (guint off = 0; off + ksz <= doomed->len; off += (guint)ksz)
		bpf_map__delete_elem(map, doomed->data + off, ksz, 0);
	g_byte_array_unref(doomed);
}

/* The process is no longer watched: nothing of it may stay in BPF for its PID's next owner. */
static void forget_target(struct attach *a)
{
	__u32 key = (__u32)a->pid;

	if (!a->skel || !a->pid)
		return;
	bpf_map__delete_elem(a->skel->maps.targets, &key, sizeof(key), 0);
	purge_tgid(a->skel->maps.inflight, a->pid);
	purge_tgid(a->skel->maps.writers, a->pid);
	purge_tgid(a->skel->maps.stacked, a->pid);
	purge_tgid(a->skel->maps.tally, a->pid);
}

static gint by_last_write(gconstpointer a, gconstpointer b)
{
	const struct mw_tally_rec *x = a, *y = b;

	return x->v.t_last < y->v.t_last ? -1 : x->v.t_last > y->v.t_last;
}

int attach_tally_drain(struct attach *a)
{
	struct bpf_map *map = a->skel ? a->skel->maps.tally : NULL;
	int ncpu = libbpf_num_possible_cpus(), n = 0;
	GByteArray *keys;
	GArray *recs;
	struct mw_tally_val *v;
	guint nkeys;

	if (!map || ncpu <= 0 || !a->pid || !a->cb)
		return 0;
	/* keys first, then each read and deleted at once (see tgid_keys) */
	keys = tgid_keys(map, a->pid);
	nkeys = keys->len / (guint)sizeof(struct mw_tally_key);
	v = g_new(struct mw_tally_val, ncpu);
	recs = g_array_sized_new(FALSE, FALSE, sizeof(struct mw_tally_rec), nkeys);
	for (guint i = 0; i < nkeys; i++) {
		struct mw_tally_rec r = { .type = MW_REC_TALLY, .tgid = (__u32)a->pid };

		memcpy(&r.k, keys->data + i * sizeof(r.k), sizeof(r.k));
		if (bpf_map_lookup_and_delete_elem(bpf_map__fd(map), &r.k, v))
			continue;
		for (int c = 0; c < ncpu; c++) {
			if (!v[c].n)
				continue;
			if (!r.v.n || v[c].t_first < r.v.t_first)
				r.v.t_first = v[c].t_first;
			if (v[c].t_last >= r.v.t_last) {
				r.v.t_last = v[c].t_last;
				r.v.maptype = v[c].maptype;
				memcpy(r.v.hdr, v[c].hdr, sizeof(r.v.hdr));
			}
			r.v.n += v[c].n;
		}
		if (r.v.n)
			g_array_append_val(recs, r);
	}
	/* in time order: one map's tallies (a seed or a caller each) tell its story in turn */
	g_array_sort(recs, by_last_write);
	for (guint i = 0; i < recs->len; i++)
		a->cb(a->cb_ctx, &g_array_index(recs, struct mw_tally_rec, i),
		      sizeof(struct mw_tally_rec));
	n = (int)recs->len;
	g_free(v);
	g_array_unref(recs);
	g_byte_array_unref(keys);
	return n;
}

/* One uprobe_multi link for the entries (or the RETs) of the plan's probes in the sets. */
static int add_multi(struct attach *a, const struct target *t, const struct probe_plan *plan,
		     int sets, bool entry, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_uprobe_multi_opts, opts);
	unsigned long offs[PROBE__COUNT * (DISASM_MAX_RETS + 1)];
	__u64 cookies[PROBE__COUNT * (DISASM_MAX_RETS + 1)];
	bool tally = sets == ATTACH_TALLY;
	struct bpf_link *l;
	size_t n = 0;

	for (int i = 0; i < plan->n; i++) {
		const struct planned_probe *pp = &plan->p[i];

		if (pp->error[0] || !(attach_set_of(pp->id) & sets))
			continue;
		if (tally && !entry)
			continue;	/* counted at entry alone */
		for (int r = entry ? -1 : 0; r < (entry ? 0 : pp->pts.nrets); r++) {
			int64_t off = tally ? pp->tally_off : entry ? pp->entry_off : pp->ret_off[r];

			if (off < 0) {
				snprintf(err, errlen, "%s: address is not in the file",
					 probe_defs[pp->id].symbol);
				return -1;
			}
			offs[n] = (unsigned long)off;
			cookies[n++] = tally ? probe_tally_cookie(pp->id) : probe_cookie(pp->id);
		}
	}
	if (!n)
		return 0;
	opts.offsets = offs;
	opts.cookies = cookies;
	opts.cnt = n;
	l = bpf_program__attach_uprobe_multi(tally ? a->skel->progs.mw_tally_multi :
					     entry ? a->skel->progs.mw_entry_multi :
						     a->skel->progs.mw_ret_multi,
					     t->pid, t->open_path, NULL, &opts);
	if (!l) {
		int e = errno;

		snprintf(err, errlen, "cannot attach %zu %s uprobes to %s: %s", n,
			 entry ? "entry" : "RET", t->exe, strerror(e));
		return -1;
	}
	return keep_link(a, l, entry, sets, err, errlen);
}

int attach_target(struct attach *a, const struct target *t, const struct probe_plan *plan,
		  int sets, char *err, size_t errlen)
{
	double t0 = mono_s();

	/* A new generation for each class attached: nothing left from its last window counts. */
	for (int c = 0; c < MW_CLASS__COUNT; c++)
		if (sets & ATTACH_SET(c))
			a->cfg.gen[c]++;
	a->cfg.off_mask &= ~(__u32)sets;
	if (write_cfg(a, err, errlen))
		return MW_EXIT_FAIL;
	if (a->multi) {
		/* RETs, then entries: no call is recorded whose RET is not watched. */
		for (int c = 0; c < MW_CLASS__COUNT; c++) {
			int s = ATTACH_SET(c);

			if ((sets & s) && (add_multi(a, t, plan, s, false, err, errlen) ||
					   add_multi(a, t, plan, s, true, err, errlen)))
				return MW_EXIT_ATTACH;
		}
		a->last_attach_s = mono_s() - t0;
		return MW_EXIT_OK;
	}
	/* Pass 0: every RET; pass 1: the entries. */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < plan->n; i++) {
			const struct planned_probe *pp = &plan->p[i];
			const char *name = probe_defs[pp->id].symbol;
			int set = attach_set_of(pp->id);
			char what[192];

			if (pp->error[0] || !(set & sets))
				continue;
			if (pass == 1 && (set & sets & ATTACH_TALLY)) {
				snprintf(what, sizeof(what), "%s entry (tally)", name);
				if (add_link(a, a->skel->progs.mw_tally, t->pid, t->open_path,
					     pp->tally_off, probe_tally_cookie(pp->id), true,
					     ATTACH_TALLY, err, errlen, what))
					return MW_EXIT_ATTACH;
			}
			if (!(set & sets & ~ATTACH_TALLY))
				continue;
			set &= ~ATTACH_TALLY;
			if (pass == 1) {
				snprintf(what, sizeof(what), "%s entry", name);
				if (add_link(a, a->skel->progs.mw_entry, t->pid, t->open_path,
					     pp->entry_off, probe_cookie(pp->id), true, set, err,
					     errlen, what))
					return MW_EXIT_ATTACH;
				pr_debug("attached %s: entry %#llx (+%llu), %d RET\n", name,
					 (unsigned long long)pp->pts.entry,
					 (unsigned long long)(pp->pts.entry - pp->fn->entry),
					 pp->pts.nrets);
				continue;
			}
			for (int r = 0; r < pp->pts.nrets; r++) {
				snprintf(what, sizeof(what), "%s RET #%d", name, r + 1);
				if (add_link(a, a->skel->progs.mw_ret, t->pid, t->open_path,
					     pp->ret_off[r], probe_cookie(pp->id), false, set, err,
					     errlen, what))
					return MW_EXIT_ATTACH;
			}
		}
	}
	a->last_attach_s = mono_s() - t0;
	return MW_EXIT_OK;
}

/*
 * Closes an attach's links off the caller's thread. The threads are a pool that every attach
 * sharing a BPF object shares (the daemon: one pool for all its processes); the count of
 * links still closing is each attach's own.
 */
struct attach_closer {
	GThreadPool *pool;	/* a few threads; each closes a batch */
	bool own_pool;
	GMutex mu;
	GCond done;
	int pending;		/* links queued or being closed */
	double last_close_s;	/* how long the last batch took to close */
};

struct close_batch {
	struct attach_closer *c;
	int n;
	struct bpf_link *links[];
};

static gpointer close_one(gpointer link)
{
	bpf_link__destroy(link);
	return NULL;
}

/*
 * Close a batch's links at once, each on a thread: the kernel's grace periods overlap, and
 * a batch of five takes about as long as one.
 */
static void close_links(gpointer data, gpointer unused)
{
	struct close_batch *b = data;
	GThread *th[b->n ? b->n : 1];
	double t0 = mono_s();

	(void)unused;
	for (int i = 0; i < b->n; i++)
		th[i] = g_thread_try_new("mw-close", close_one, b->links[i], NULL);
	for (int i = 0; i < b->n; i++) {
		if (th[i])
			g_thread_join(th[i]);
		else
			bpf_link__destroy(b->links[i]);
	}
	g_mutex_lock(&b->c->mu);
	b->c->pending -= b->n;
	b->c->last_close_s = mono_s() - t0;
	g_cond_broadcast(&b->c->done);
	g_mutex_unlock(&b->c->mu);
	free(b);
}

static struct attach_closer *closer_new(GThreadPool *shared)
{
	struct attach_closer *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	g_mutex_init(&c->mu);
	g_cond_init(&c->done);
	c->pool = shared;
	if (!c->pool) {
		c->pool = g_thread_pool_new(close_links, NULL, 8, FALSE, NULL);
		c->own_pool = true;
	}
	if (!c->pool) {
		free(c);
		return NULL;
	}
	return c;
}

/* The owner's closing threads, for the attaches that share its object. */
static GThreadPool *closer_pool(struct attach *owner)
{
	if (!owner->closer)
		owner->closer = closer_new(owner->shared_pool);
	return owner->closer ? owner->closer->pool : NULL;
}

/*
 * Hand the links of the sets, entries (or RETs, or both), to the closing threads; now: close
 * them here, before returning.
 */
static void detach_pass(struct attach *a, int sets, bool entry, bool both, bool now)
{
	struct close_batch *b = calloc(1, sizeof(*b) + (size_t)a->nlinks * sizeof(b->links[0]));
	int k = 0;

	for (int i = 0; i < a->nlinks; i++)
		if (a->links[i].link && (a->links[i].set & sets) &&
		    (both || a->links[i].entry == entry)) {
			if (b)
				b->links[b->n++] = a->links[i].link;
			else
				bpf_link__destroy(a->links[i].link);
			a->links[i].link = NULL;
		}
	for (int i = 0; i < a->nlinks; i++)
		if (a->links[i].link)
			a->links[k++] = a->links[i];
	a->nlinks = k;
	if (b && b->n && !now && (a->closer || (a->closer = closer_new(a->shared_pool)))) {
		b->c = a->closer;
		g_mutex_lock(&a->closer->mu);
		a->closer->pending += b->n;
		g_mutex_unlock(&a->closer->mu);
		g_thread_pool_push(a->closer->pool, b, NULL);
	} else if (b) {
		/* no thread: close them here */
		for (int i = 0; i < b->n; i++)
			bpf_link__destroy(b->links[i]);
		free(b);
	}
}

int attach_sets(const struct attach *a)
{
	int sets = 0;

	for (int i = 0; i < a->nlinks; i++)
		if (a->links[i].link)
			sets |= a->links[i].set;
	return sets;
}

void attach_detach(struct attach *a, int sets)
{
	double t0 = mono_s();
	char err[128];

	/*
	 * The classes' entries record nothing from now on (BPF checks off_mask): no call starts
	 * whose RET could be closed first, so entries and RETs are closed at once. Without that
	 * (the configuration could not be written), entries go first.
	 */
	a->cfg.off_mask |= (__u32)sets;
	if (a->skel && a->pid && !write_cfg(a, err, sizeof(err))) {
		detach_pass(a, sets, true, true, false);
	} else {
		detach_pass(a, sets, true, false, true);	/* in order: entries gone first */
		detach_pass(a, sets, false, false, false);
	}
	a->last_detach_s = mono_s() - t0;
}

int attach_closing(struct attach *a)
{
	int n;

	if (!a->closer)
		return 0;
	g_mutex_lock(&a->closer->mu);
	n = a->closer->pending;
	g_mutex_unlock(&a->closer->mu);
	return n;
}

void attach_detach_wait(struct attach *a)
{
	if (!a->closer)
		return;
	g_mutex_lock(&a->closer->mu);
	while (a->closer->pending)
		g_cond_wait(&a->closer->done, &a->closer->mu);
	g_mutex_unlock(&a->closer->mu);
}

bool attach_detach_wait_for(struct attach *a, double timeout_s)
{
	gint64 until = g_get_monotonic_time() + (gint64)(timeout_s * 1e6);
	bool done;

	if (!a->closer)
		return true;
	g_mutex_lock(&a->closer->mu);
	while (a->closer->pending && g_cond_wait_until(&a->closer->done, &a->closer->mu, until))
		;
	done = !a->closer->pending;
	g_mutex_unlock(&a->closer->mu);
	return done;
}

void attach_deep_callers(struct attach *a, const uint64_t *callers, unsigned n)
{
	__u8 one = 1;

	for (unsigned i = 0; a->skel && i < n; i++)	/* a full table: those keep the first stack */
		bpf_map__update_elem(a->skel->maps.deep_callers, &callers[i], sizeof(callers[i]),
				     &one, sizeof(one), BPF_ANY);
}

int attach_poll(struct attach *a, int timeout_ms)
{
	/*
	 * Records are submitted without a wakeup until enough are waiting, so epoll may stay
	 * quiet: consume whatever is there after every wait.
	 */
	int n = ring_buffer__poll(a->rb, timeout_ms), m;

	/* -EAGAIN: the callback asked to stop for now */
	if (n < 0)
		return n;
	m = ring_buffer__consume(a->rb);
	if (m < 0)
		return m;
	return (n > 0 ? n : 0) + m;
}

/* Sum over CPUs of n entries of a per-CPU array from index first. */
static void percpu_sum(const struct bpf_map *map, __u32 first, __u32 n, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;

	memset(out, 0, sizeof(uint64_t) * n);
	if (ncpu <= 0 || !map || !(vals = calloc((size_t)ncpu, sizeof(*vals))))
		return;
	for (__u32 i = 0; i < n; i++) {
		__u32 k = first + i;

		if (bpf_map__lookup_elem(map, &k, sizeof(k), vals, sizeof(*vals) * (size_t)ncpu, 0))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
}

/* Counters BPF adds to (global data): read from user space's mapping of them. */
static uint64_t counter(const volatile __u64 *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

void attach_fn_hits(const struct attach *a, uint64_t out[MW_MAX_FN * 2])
{
	memset(out, 0, sizeof(uint64_t) * MW_MAX_FN * 2);
	if (!a->skel || !a->skel->bss)
		return;
	for (int i = 0; i < MW_MAX_FN * 2; i++)
		out[i] = counter(&a->skel->bss->fn_hits[a->slot * MW_MAX_FN * 2 + i]);
}

uint64_t attach_lost(const struct attach *a)
{
	if (!a->skel || !a->skel->bss)
		return 0;
	return counter(&a->skel->bss->lost[a->slot]) - a->lost0;
}

void attach_stats(const struct attach *a, uint64_t out[MW_STAT__MAX])
{
	memset(out, 0, sizeof(uint64_t) * MW_STAT__MAX);
	if (a->skel)
		percpu_sum(a->skel->maps.stats, 0, MW_STAT__MAX, out);
}

int attach_epoll_fd(const struct attach *a)
{
	return a->rb ? ring_buffer__epoll_fd(a->rb) : -1;
}

void attach_close(struct attach *a)
{
	attach_detach(a, ATTACH_ALL);
	attach_detach_wait(a);
	if (a->closer) {
		if (a->closer->own_pool)
			g_thread_pool_free(a->closer->pool, FALSE, TRUE);
		g_mutex_clear(&a->closer->mu);
		g_cond_clear(&a->closer->done);
		free(a->closer);
	}
	free(a->links);
	forget_target(a);
	if (!a->shared) {
		if (a->stats_fd > 0)	/* 0: a zeroed struct never loaded */
			close(a->stats_fd);
		ring_buffer__free(a->rb);
		if (ht_cache.skel == a->skel)
			ht_cache.skel = NULL;
		mapwatch_bpf__destroy(a->skel);
	}
	memset(a, 0, sizeof(*a));
}

/*
 * The calibration target, shaped like a probed Go function: PUSH RBP first (the instruction a
 * Go entry probe lands on), a RET last. Written in assembly so that the compiler's choice of
 * prologue cannot change what is measured.
 */
void mw_calibration_target(volatile int *x);
__asm__(".text\n"
	".globl mw_calibration_target\n"
	".type mw_calibration_target, @function\n"
	"mw_calibration_target:\n"
	"	pushq %rbp\n"
	"	movq %rsp, %rbp\n"
	"	addl $1, (%rdi)\n"
	"	popq %rbp\n"
	"mw_calibration_ret:\n"
	"	ret\n"
	".size mw_calibration_target, . - mw_calibration_target\n");
extern const char mw_calibration_ret[];

/* File offset of one of our own functions, from /proc/self/maps. */
static int64_t self_offset(uintptr_t addr)
{
	char line[4096];
	int64_t off = -1;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e, o;

		if (sscanf(line, "%llx-%llx %*4s %llx", &s, &e, &o) == 3 && addr >= s && addr < e) {
			off = (int64_t)(addr - s + o);
			break;
		}
	}
	fclose(f);
	return off;
}

/*
 * CPU time of this thread for n calls: a trap costs the trapping thread CPU (user and
 * kernel); wall time would also count waiting for a CPU on a busy host.
 */
static double time_calls(int n)
{
	struct timespec t0, t1;
	volatile int x = 0;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	for (int i = 0; i < n; i++)
		mw_calibration_target(&x);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
}

/* ns the kernel counted running prog, and its runs. */
static void prog_time(const struct bpf_program *prog, uint64_t *ns, uint64_t *runs)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	*ns = *runs = 0;
	if (!prog || bpf_program__fd(prog) < 0 ||
	    bpf_prog_get_info_by_fd(bpf_program__fd(prog), &info, &len))
		return;
	*ns = info.run_time_ns;
	*runs = info.run_cnt;
}

/* Seconds per hit of a uprobe at file offset off (< 0 if unmeasured): the trap alone. */
static double calibrate_at(struct attach *a, int64_t off)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts);
	const int n = 2000;
	struct bpf_link *l;
	double base, probed, prog_s = 0;
	uint64_t ns0, r0, ns1, r1;

	base = time_calls(n);
	l = bpf_program__attach_uprobe_opts(a->skel->progs.mw_calib, getpid(), "/proc/self/exe",
					    (size_t)off, &opts);
	if (!l)
		return -1;
	time_calls(50);	/* warm up */
	prog_time(a->skel->progs.mw_calib, &ns0, &r0);
	probed = time_calls(n);
	prog_time(a->skel->progs.mw_calib, &ns1, &r1);
	bpf_link__destroy(l);
	if (r1 > r0)
		prog_s = (double)(ns1 - ns0) * 1e-9 / (double)(r1 - r0);
	return probed > base ? (probed - base) / n - prog_s : -1;
}

struct hit_cost attach_calibrate(struct attach *a)
{
	struct hit_cost c = { -1, -1 };
	int64_t off = self_offset((uintptr_t)mw_calibration_target);

	if (off < 0)
		return c;
	c.emulated_s = calibrate_at(a, off);
	c.stepped_s = calibrate_at(a, off + (mw_calibration_ret - (const char *)mw_calibration_target));
	return c;
}

bool attach_handler_time(const struct attach *a, struct handler_time *h)
{
	const struct mapwatch_bpf *k = a->skel;
	double now = mono_s();
	uint64_t ns, runs;

	memset(h, 0, sizeof(*h));
	if (!k || a->stats_fd <= 0)
		return false;
	if (ht_cache.skel == k && now - ht_cache.at < 0.005) {
		*h = ht_cache.h;
		return true;
	}
	prog_time(a->multi ? k->progs.mw_entry_multi : k->progs.mw_entry, &h->entry_ns,
		  &h->entry_runs);
	prog_time(a->multi ? k->progs.mw_ret_multi : k->progs.mw_ret, &h->ret_ns, &h->ret_runs);
	/* the single-uprobe programs also run where a multi link could not be made */
	if (a->multi) {
		prog_time(k->progs.mw_entry, &ns, &runs);
		h->entry_ns += ns;
		h->entry_runs += runs;
		prog_time(k->progs.mw_ret, &ns, &runs);
		h->ret_ns += ns;
		h->ret_runs += runs;
		prog_time(k->progs.mw_tally_multi, &h->tally_ns, &h->tally_runs);
	}
	prog_time(k->progs.mw_tally, &ns, &runs);
	h->tally_ns += ns;
	h->tally_runs += runs;
	ht_cache.skel = k;
	ht_cache.at = now;
	ht_cache.h = *h;
	return true;
}
