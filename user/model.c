// SPDX-License-Identifier: MIT
#include <string.h>
#include "model.h"

/* A lock acquired through the slow path whose holder has not written a map yet. */
struct pending_lock {
	uint64_t mutex, wait_ns, t_acquired;
};

/* A write this long after the slow-path lock returned is no longer taken as under it. */
#define LOCK_ATTRIBUTION_NS (100ULL * 1000 * 1000)

static uint64_t rdn(const uint8_t *raw, int off, int size)
{
	uint64_t v = 0;

	if (off >= 0 && off + size <= MW_HDR_BYTES)
		memcpy(&v, raw + off, (size_t)size);	/* little-endian target */
	return v;
}

void map_hdr_decode(const uint8_t *raw, const struct go_layout *l, struct map_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->count = rdn(raw, l->count, 8);
	h->writing = rdn(raw, l->writing, 1) & (uint64_t)l->writing_mask;
	h->seed = rdn(raw, l->seed, l->impl == IMPL_HMAP ? 4 : 8);
	h->B = l->B >= 0 ? (int)rdn(raw, l->B, 1) : -1;
	h->noverflow = (int)rdn(raw, l->noverflow, 2);
	h->buckets = rdn(raw, l->buckets, 8);
	h->oldbuckets = rdn(raw, l->oldbuckets, 8);
	h->nevacuate = rdn(raw, l->nevacuate, 8);
	h->dirptr = rdn(raw, l->dirptr, 8);
	h->dirlen = l->dirlen >= 0 ? (int64_t)rdn(raw, l->dirlen, 8) : -1;
	h->globaldepth = (int)rdn(raw, l->globaldepth, 1);
}

bool map_hdr_plausible(const struct map_hdr *h, const struct go_layout *l)
{
	if (l->impl == IMPL_HMAP)
		return h->B >= 0 && h->B <= 56 && h->count <= (16ULL << h->B) &&
		       (h->count == 0 || h->buckets != 0);
	if (h->dirlen == 0)
		return h->count <= 8;
	return h->dirlen > 0 && h->dirlen <= (1 << 20) && !(h->dirlen & (h->dirlen - 1)) &&
	       (1LL << h->globaldepth) == h->dirlen && h->dirptr != 0;
}

static void map_free(gpointer p)
{
	struct mw_map *mp = p;

	g_hash_table_unref(mp->writers);
	g_array_unref(mp->sites);
	g_free(mp);
}

static void mutex_free(gpointer p)
{
	struct mw_mutex *mx = p;

	g_array_unref(mx->waits);
	g_hash_table_unref(mx->waiters);
	g_array_unref(mx->sites);
	g_hash_table_unref(mx->maps);
	g_free(mx);
}

static void syncmap_free(gpointer p)
{
	struct mw_syncmap *sm = p;

	g_array_unref(sm->sites);
	g_free(sm);
}

void model_init(struct mw_model *m, const struct gobin *gb, const struct go_layout *l,
		uint64_t bias)
{
	memset(m, 0, sizeof(*m));
	m->gb = gb;
	m->layout = l;
	m->bias = bias;
	m->maps = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, map_free);
	m->mutexes = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, mutex_free);
	m->pending = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	m->folded = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
					  (GDestroyNotify)g_bytes_unref, NULL);
	m->syncmaps = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, syncmap_free);
	m->copy_hint = g_hash_table_new(g_direct_hash, g_direct_equal);
}

void model_free(struct mw_model *m)
{
	if (!m->maps)
		return;
	g_hash_table_unref(m->maps);
	g_hash_table_unref(m->mutexes);
	g_hash_table_unref(m->pending);
	g_hash_table_unref(m->folded);
	g_hash_table_unref(m->syncmaps);
	g_hash_table_unref(m->copy_hint);
	m->maps = NULL;
}

static struct mw_map *map_new(struct mw_model *m, uint64_t addr)
{
	struct mw_map *mp = g_new0(struct mw_map, 1);

	mp->addr = addr;
	mp->writers = g_hash_table_new(g_direct_hash, g_direct_equal);
	mp->sites = g_array_new(FALSE, TRUE, sizeof(struct mw_site));
	g_hash_table_replace(m->maps, GSIZE_TO_POINTER(addr), mp);
	return mp;
}

static struct mw_map *map_get(struct mw_model *m, uint64_t addr)
{
	struct mw_map *mp = g_hash_table_lookup(m->maps, GSIZE_TO_POINTER(addr));

	return mp ? mp : map_new(m, addr);
}

static void set_type(struct mw_model *m, struct mw_map *mp, uint64_t maptype)
{
	if (mp->maptype || !maptype)
		return;
	mp->maptype = maptype - m->bias;
	if (gotype_name(m->gb, m->layout, mp->maptype, mp->type, sizeof(mp->type)))
		mp->type[0] = 0;
}

/*
 * The frames of a call, innermost first: the caller at [RSP], then the frame-pointer chain
 * past it (stack[0] is the probed function itself, stack[1] the caller's caller). Link-time
 * PCs of the calls (return address - 1). Returns the number of frames.
 */
static int call_frames(const struct mw_model *m, uint64_t caller, const __u64 *stack, int nstack,
		       uint64_t *out)
{
	int n = 0;

	if (caller)
		out[n++] = caller - 1 - m->bias;
	if (nstack > MW_STACK_DEPTH)
		nstack = MW_STACK_DEPTH;
	for (int i = 1; i < nstack && stack[i]; i++) {
		/* Where the probed prologue already framed itself, the chain repeats [RSP]. */
		if (i == 1 && stack[i] == caller)
			continue;
		out[n++] = stack[i] - 1 - m->bias;
	}
	return n;
}

#define MAX_INLINE 8

/*
 * The first logical frame (inlined calls expanded) outside runtime/sync/internal names the
 * site; else the immediate caller.
 */
static uint64_t user_site(const struct mw_model *m, const uint64_t *f, int n,
			  struct frame_sym *sym)
{
	struct frame_sym lf[MAX_INLINE];

	for (int i = 0; i < n; i++) {
		int k = sym_pc_frames(m->gb, m->layout, f[i], lf, MAX_INLINE);

		for (int j = 0; j < k; j++)
			if (sym_is_user_function(lf[j].function)) {
				*sym = lf[j];
				return f[i];
			}
	}
	sym_pc(m->gb, n ? f[0] : 0, sym);
	return n ? f[0] : 0;
}

static uint64_t record_site(const struct mw_model *m, const struct mw_call_rec *r,
			    struct frame_sym *sym)
{
	uint64_t f[MW_STACK_DEPTH + 1];
	int n = call_frames(m, r->caller, r->stack, (r->flags & MW_F_STACK) ? r->nstack : 0, f);

	return user_site(m, f, n, sym);
}

static void add_site(GArray *sites, uint64_t pc, enum mw_op op, const struct frame_sym *sym)
{
	struct mw_site *s;

	for (guint i = 0; i < sites->len; i++) {
		s = &g_array_index(sites, struct mw_site, i);
		if (s->pc == pc && s->op == op) {
			s->count++;
			return;
		}
	}
	g_array_append_val(sites, ((struct mw_site){ .pc = pc, .op = op, .count = 1, .sym = *sym }));
}

/* Count one raw stack for the flame graph: {probe id, frames}; symbolised at output. */
static void add_folded(struct mw_model *m, const struct mw_call_rec *r)
{
	uint64_t key[MW_STACK_DEPTH + 2];
	int n = call_frames(m, r->caller, r->stack, (r->flags & MW_F_STACK) ? r->nstack : 0,
			    key + 1);
	GBytes *b;
	gpointer old;

	key[0] = r->fn;
	b = g_bytes_new(key, (gsize)(n + 1) * sizeof(uint64_t));
	old = g_hash_table_lookup(m->folded, b);
	g_hash_table_replace(m->folded, b, GSIZE_TO_POINTER(GPOINTER_TO_SIZE(old) + 1));
}

GHashTable *model_folded_stacks(const struct mw_model *m)
{
	GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, m->folded);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		gsize len;
		const uint64_t *key = g_bytes_get_data(k, &len);
		int n = (int)(len / sizeof(uint64_t)) - 1;
		GString *s = g_string_new(NULL);
		gpointer old;

		for (int i = n; i >= 1; i--) {	/* outermost first */
			struct frame_sym lf[MAX_INLINE];
			int f = sym_pc_frames(m->gb, m->layout, key[i], lf, MAX_INLINE);

			for (int j = f - 1; j >= 0; j--) {
				g_string_append(s, lf[j].function);
				g_string_append_c(s, ';');
			}
		}
		g_string_append(s, key[0] < PROBE__COUNT ? probe_defs[key[0]].symbol : "?");
		old = g_hash_table_lookup(out, s->str);
		g_hash_table_replace(out, g_string_free(s, FALSE),
				     GSIZE_TO_POINTER(GPOINTER_TO_SIZE(old) + GPOINTER_TO_SIZE(v)));
	}
	return out;
}

static void attribute_lock(struct mw_model *m, const struct mw_call_rec *r, struct mw_map *mp)
{
	struct pending_lock *p = g_hash_table_lookup(m->pending, GSIZE_TO_POINTER(r->goid));
	struct mw_mutex *mx;
	gpointer old;

	if (!p)
		return;
	if (r->t_entry >= p->t_acquired && r->t_entry - p->t_acquired <= LOCK_ATTRIBUTION_NS &&
	    (mx = g_hash_table_lookup(m->mutexes, GSIZE_TO_POINTER(p->mutex)))) {
		old = g_hash_table_lookup(mx->maps, GSIZE_TO_POINTER(mp->addr));
		g_hash_table_replace(mx->maps, GSIZE_TO_POINTER(mp->addr),
				     GSIZE_TO_POINTER(GPOINTER_TO_SIZE(old) + p->wait_ns));
	}
	g_hash_table_remove(m->pending, GSIZE_TO_POINTER(r->goid));
}

static void on_write(struct mw_model *m, const struct mw_call_rec *r, enum mw_op op)
{
	struct map_hdr before, after;
	struct frame_sym sym;
	struct mw_map *mp = map_get(m, r->obj);

	set_type(m, mp, r->ax);
	map_hdr_decode(r->hdr_before, m->layout, &before);
	map_hdr_decode(r->hdr_after, m->layout, &after);
	/*
	 * The length when first seen: 0 for a map whose creation was seen; otherwise what the
	 * first write found (a growth record, whose RET comes first, may have added the map).
	 */
	if (!mp->first_ns)
		mp->first_len = before.count;
	switch (op) {
	case MW_OP_ASSIGN: mp->assigns++; break;
	case MW_OP_DELETE: mp->deletes++; break;
	default: mp->clears++; break;
	}
	if (r->flags & MW_F_WRITING_AT_ENTRY)
		mp->writing_at_entry++;
	if (r->flags & MW_F_ON_STACK)
		mp->on_stack = true;
	mp->gone = false;	/* written: a map, whatever a re-read said before */
	if (after.count > before.count)
		mp->inserts++;
	else if (after.count < before.count)
		mp->removals++;
	mp->hdr = after;
	mp->dirty = true;
	if (before.count > mp->peak_len)
		mp->peak_len = before.count;
	if (after.count > mp->peak_len)
		mp->peak_len = after.count;
	if (mp->peak_len - after.count > mp->max_drop)
		mp->max_drop = mp->peak_len - after.count;
	if (!mp->first_ns)
		mp->first_ns = r->t_entry;
	mp->last_ns = r->t_ret;
	g_hash_table_add(mp->writers, GSIZE_TO_POINTER(r->goid));
	add_site(mp->sites, record_site(m, r, &sym), op, &sym);
	attribute_lock(m, r, mp);
	m->writes++;
}

static void on_create(struct mw_model *m, const struct mw_call_rec *r)
{
	struct mw_map *mp;

	if (!r->obj)
		return;
	/* The address is handed out again: whatever was there before is gone. */
	mp = map_new(m, r->obj);
	mp->created_seen = true;
	record_site(m, r, &mp->created_at);
	if (r->fn != PROBE_MAKEMAP_SMALL) {
		set_type(m, mp, r->ax);
		mp->hint = r->bx;
	}
	map_hdr_decode(r->hdr_after, m->layout, &mp->hdr);
	mp->first_ns = r->t_ret;
	mp->dirty = true;
	/* sync.(*Map).dirtyLocked makes the new dirty map as large as what it will copy. */
	if (r->caller) {
		struct frame_sym caller;

		sym_pc(m->gb, r->caller - 1 - m->bias, &caller);
		if (!strcmp(caller.function, "sync.(*Map).dirtyLocked")) {
			mp->syncmap_dirty = true;
			g_hash_table_replace(m->copy_hint, GSIZE_TO_POINTER(r->goid),
					     GSIZE_TO_POINTER(r->bx));
		}
	}
}

static struct mw_syncmap *syncmap_get(struct mw_model *m, const struct mw_call_rec *r)
{
	struct mw_syncmap *sm = g_hash_table_lookup(m->syncmaps, GSIZE_TO_POINTER(r->obj));

	if (!sm) {
		sm = g_new0(struct mw_syncmap, 1);
		sm->addr = r->obj;
		sm->sites = g_array_new(FALSE, TRUE, sizeof(struct mw_site));
		sm->first_ns = r->t_entry;
		g_hash_table_insert(m->syncmaps, GSIZE_TO_POINTER(r->obj), sm);
	}
	return sm;
}

/* A write through a sync.Map method: counted by method, with the user's site. */
static void on_syncmap_op(struct mw_model *m, const struct mw_call_rec *r)
{
	struct mw_syncmap *sm;
	struct frame_sym sym;

	if (!r->obj)
		return;
	sm = syncmap_get(m, r);
	sm->ops[r->fn]++;
	sm->last_ns = r->t_ret;
	add_site(sm->sites, record_site(m, r, &sym), MW_OP_SYNCMAP_OP, &sym);
}

/* dirtyLocked returns at once while a dirty map exists; finding none, it rebuilds one. */
static void on_syncmap(struct mw_model *m, const struct mw_call_rec *r)
{
	int off = m->layout->syncmap_dirty;
	struct mw_syncmap *sm;
	struct frame_sym sym;
	uint64_t dirty;

	if (!r->obj || off < 0 || off + 8 > MW_HDR_BYTES)
		return;
	memcpy(&dirty, r->hdr_before + off, 8);
	if (dirty)
		return;
	sm = syncmap_get(m, r);
	sm->rebuilds++;
	sm->copied += GPOINTER_TO_SIZE(g_hash_table_lookup(m->copy_hint, GSIZE_TO_POINTER(r->goid)));
	g_hash_table_remove(m->copy_hint, GSIZE_TO_POINTER(r->goid));
	sm->last_ns = r->t_ret;
	add_site(sm->sites, record_site(m, r, &sym), MW_OP_SYNCMAP, &sym);
}

static void on_grow(struct mw_model *m, const struct mw_call_rec *r)
{
	struct mw_map *mp;

	if (!r->obj)
		return;
	mp = map_get(m, r->obj);
	mp->growths++;
	mp->dirty = true;
}

static void on_lock(struct mw_model *m, const struct mw_call_rec *r)
{
	uint64_t addr = r->obj + (uint64_t)(int64_t)probe_defs[r->fn].delta;
	uint64_t wait = r->t_ret - r->t_entry;
	struct mw_mutex *mx = g_hash_table_lookup(m->mutexes, GSIZE_TO_POINTER(addr));
	struct pending_lock *p;
	struct frame_sym sym;
	if (!r->obj)
		return;
	if (!mx) {
		mx = g_new0(struct mw_mutex, 1);
		mx->addr = addr;
		mx->waits = g_array_new(FALSE, FALSE, sizeof(uint64_t));
		mx->waiters = g_hash_table_new(g_direct_hash, g_direct_equal);
		mx->sites = g_array_new(FALSE, TRUE, sizeof(struct mw_site));
		mx->maps = g_hash_table_new(g_direct_hash, g_direct_equal);
		g_hash_table_insert(m->mutexes, GSIZE_TO_POINTER(addr), mx);
	}
	mx->total_ns += wait;
	g_array_append_val(mx->waits, wait);
	g_hash_table_add(mx->waiters, GSIZE_TO_POINTER(r->goid));
	add_site(mx->sites, record_site(m, r, &sym), MW_OP_LOCK, &sym);
	p = g_new(struct pending_lock, 1);
	*p = (struct pending_lock){ .mutex = addr, .wait_ns = wait, .t_acquired = r->t_ret };
	g_hash_table_replace(m->pending, GSIZE_TO_POINTER(r->goid), p);
}

static int on_call(struct mw_model *m, const struct mw_call_rec *r)
{
	enum mw_op op;

	if (r->fn >= PROBE__COUNT || r->t_ret < r->t_entry)
		return -1;
	op = probe_defs[r->fn].op;
	if (op_is_write(op) && !r->obj)
		return -1;
	if (op_is_write(op) || op == MW_OP_LOCK)
		add_folded(m, r);
	switch (op) {
	case MW_OP_CREATE: on_create(m, r); break;
	case MW_OP_GROW: on_grow(m, r); break;
	case MW_OP_LOCK: on_lock(m, r); break;
	case MW_OP_SYNCMAP: on_syncmap(m, r); break;
	case MW_OP_SYNCMAP_OP: on_syncmap_op(m, r); break;
	case MW_OP_FATAL:
	case MW_OP_UNWIND: break;
	default: on_write(m, r, op); break;
	}
	return 0;
}

static void on_overlap(struct mw_model *m, const struct mw_overlap_rec *o)
{
	struct mw_map *mp = map_get(m, o->map);
	uint64_t f[MW_STACK_DEPTH + 1];
	int n;

	set_type(m, mp, o->maptype);	/* the target may die before any write completes */
	if (!mp->overlaps++) {
		mp->overlap.goid_first = o->goid_first;
		mp->overlap.goid_second = o->goid_second;
		mp->overlap.flag_set = o->flag_set;
		n = call_frames(m, o->caller_first, NULL, 0, f);
		user_site(m, f, n, &mp->overlap.first);
		n = call_frames(m, o->caller_second, o->stack, o->nstack, f);
		user_site(m, f, n, &mp->overlap.second);
	}
}

static void on_fatal(struct mw_model *m, const struct mw_fatal_rec *f)
{
	uint64_t fr[MW_STACK_DEPTH + 1];
	int n = call_frames(m, f->caller, f->stack, f->nstack, fr);
	size_t len = f->msg_len < MW_MSG_BYTES ? f->msg_len : MW_MSG_BYTES;

	m->fatal = true;
	memcpy(m->fatal_msg, f->msg, len);
	m->fatal_msg[len] = 0;
	m->fatal_goid = f->goid;
	user_site(m, fr, n, &m->fatal_site);
}

int model_ingest(struct mw_model *m, const void *data, size_t size)
{
	__u32 type;
	int rc = -1;

	if (size >= sizeof(type)) {
		memcpy(&type, data, sizeof(type));
		if (type == MW_REC_CALL && size >= sizeof(struct mw_call_rec))
			rc = on_call(m, data);
		else if (type == MW_REC_OVERLAP && size >= sizeof(struct mw_overlap_rec))
			rc = (on_overlap(m, data), 0);
		else if (type == MW_REC_FATAL && size >= sizeof(struct mw_fatal_rec))
			rc = (on_fatal(m, data), 0);
	}
	if (rc)
		m->rejected++;
	else
		m->records++;
	return rc;
}

static gint by_writes(gconstpointer a, gconstpointer b)
{
	const struct mw_map *x = *(struct mw_map *const *)a, *y = *(struct mw_map *const *)b;
	uint64_t wx = x->assigns + x->deletes + x->clears, wy = y->assigns + y->deletes + y->clears;

	if (wx != wy)
		return wx > wy ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

GPtrArray *model_maps_sorted(const struct mw_model *m)
{
	GPtrArray *a = g_ptr_array_new();
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, m->maps);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_ptr_array_add(a, v);
	g_ptr_array_sort(a, by_writes);
	return a;
}

/* hmap: 2^B buckets of 8 slots, plus the old array while growing. */
static void hmap_size(const struct mw_model *m, struct mw_map *mp)
{
	const struct go_layout *l = m->layout;
	const uint8_t *t;
	uint16_t bsz;
	uint64_t nb;

	if (mp->hdr.B < 0 || mp->hdr.B > 56)
		return;
	nb = 1ULL << mp->hdr.B;
	mp->capacity = 8 * nb;
	if (!mp->maptype || l->bucketsize_u16 < 0)
		return;
	t = elfimg_at(&m->gb->img, mp->maptype + (uint64_t)l->bucketsize_u16, 2);
	if (!t)
		return;
	memcpy(&bsz, t, 2);
	mp->old_bytes = mp->hdr.oldbuckets ? (mp->hdr.B > 0 ? nb / 2 : 1) * bsz : 0;
	mp->bytes = nb * bsz + mp->old_bytes;
}

#define SWISS_GROUP_SLOTS 8
#define SWISS_MAX_DIR 65536

/* Swiss: a small map is one group; otherwise a directory of tables (entries may repeat). */
static void swiss_size(const struct mw_model *m, struct mw_map *mp, mem_read_fn rd, void *ctx)
{
	const struct go_layout *l = m->layout;
	uint64_t gsz = 0, cap = 0, prev = 0, *dir;
	const uint8_t *t;
	int64_t n = mp->hdr.dirlen;

	if (mp->maptype && l->groupsize_u64 >= 0 &&
	    (t = elfimg_at(&m->gb->img, mp->maptype + (uint64_t)l->groupsize_u64, 8)))
		memcpy(&gsz, t, 8);
	if (n == 0) {
		mp->capacity = mp->hdr.dirptr ? SWISS_GROUP_SLOTS : 0;
		mp->bytes = mp->hdr.dirptr ? gsz : 0;
		return;
	}
	if (n < 0 || n > SWISS_MAX_DIR || l->table_capacity < 0 || !rd)
		return;
	dir = g_new(uint64_t, (gsize)n);
	if (rd(ctx, mp->hdr.dirptr, dir, (size_t)n * 8) == 0) {
		for (int64_t i = 0; i < n; i++) {
			uint16_t c;

			if (dir[i] == prev)	/* a table spans adjacent entries */
				continue;
			prev = dir[i];
			if (rd(ctx, dir[i] + (uint64_t)l->table_capacity, &c, 2)) {
				cap = 0;
				break;
			}
			cap += c;
		}
		if (cap) {
			mp->capacity = cap;
			mp->bytes = gsz ? cap / SWISS_GROUP_SLOTS * gsz + (uint64_t)n * 8 : 0;
		}
	}
	g_free(dir);
}

/* hmap: how long the old bucket array has been held without evacuation progress. */
static void track_evacuation(struct mw_map *mp, uint64_t now_ns)
{
	if (!mp->hdr.oldbuckets) {
		mp->evac_since_ns = 0;
		return;
	}
	if (!mp->evac_since_ns || mp->hdr.oldbuckets != mp->evac_old ||
	    mp->hdr.nevacuate != mp->evac_nevacuate) {
		mp->evac_since_ns = now_ns;
		mp->evac_old = mp->hdr.oldbuckets;
		mp->evac_nevacuate = mp->hdr.nevacuate;
	}
}

void model_refresh(struct mw_model *m, mem_read_fn rd, void *ctx, uint64_t now_ns, bool all)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, m->maps);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct mw_map *mp = v;
		uint8_t raw[MW_HDR_BYTES];

		/*
		 * A map on a goroutine stack is re-read too: if its frame is gone or the stack
		 * moved, the header there no longer reads as a map and it is marked gone.
		 */
		if ((!all && !mp->dirty && !mp->hdr.oldbuckets) || mp->gone)
			continue;
		mp->dirty = false;
		if (rd && rd(ctx, mp->addr, raw, sizeof(raw)) == 0) {
			struct map_hdr h;

			map_hdr_decode(raw, m->layout, &h);
			if (!map_hdr_plausible(&h, m->layout)) {
				mp->gone = true;	/* keep what was last known */
				continue;
			}
			mp->hdr = h;
			if (mp->hdr.count > mp->peak_len)
				mp->peak_len = mp->hdr.count;
			if (mp->peak_len - mp->hdr.count > mp->max_drop)
				mp->max_drop = mp->peak_len - mp->hdr.count;
		}
		if (m->layout->impl == IMPL_HMAP) {
			hmap_size(m, mp);
			track_evacuation(mp, now_ns);
		} else {
			swiss_size(m, mp, rd, ctx);
		}
	}
}
