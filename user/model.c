// SPDX-License-Identifier: MIT
/*
 * The model of one target.
 *
 * A map is judged only while it is known to be the same live map. Its identity is the header
 * address plus the header's hash seed (random per map; a clear reseeds it, and the write
 * record of the clear carries the new one), or, once the seed has changed where mapwatch did
 * not see it, its tables: the runtime also reseeds a map that a delete empties, and keeps its
 * bucket array or Swiss directory (same_tables). It ends, keeping its last good state, when:
 *   - a creation returns its address (the memory was handed out again);
 *   - a write finds another seed there over other tables (made where mapwatch did not see it,
 *     e.g. on a stack);
 *   - a re-read header does not validate: the structure must hold (count within capacity,
 *     power-of-two directory, ...), the seed must be the same, and, with the Go heap's
 *     metadata (user/goheap.c), the header must be an allocated object of the header's size
 *     class in an in-use span, not freed by the GC nor freed and reused since first seen, and
 *     its bucket array or Swiss directory an allocated object at least as large as the header
 *     implies (and not absurdly larger). Swiss tables must have power-of-two capacities.
 * Nothing about a map is taken from a header that did not validate, so no reported number is
 * one the map never had.
 *
 * Maps made during the capture are counted by creation site. A site that makes many maps,
 * most of which end during the capture, makes short-lived maps (a request's header map): they
 * are reported per site (how many, how long they lived, how large they got), not judged one
 * by one. A map judged for a lingering problem (growth, shrink, stall) must show that it is
 * alive at the end (model_finish): written by the program near the end, or marked by a GC
 * that began after mapwatch first saw it, or at least validated at the end.
 */
#include <string.h>
#include "model.h"

/* A lock acquired through the slow path whose holder has not written a map yet. */
struct pending_lock {
	uint64_t mutex, wait_ns, t_acquired;
	const char *function;		/* the user function that took the lock */
};

/* A write this long after the slow-path lock returned is no longer taken as under it. */
#define LOCK_ATTRIBUTION_NS (10ULL * 1000 * 1000)

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
	h->seed = rdn(raw, l->seed, layout_seed_bytes(l));
	h->B = l->B >= 0 ? (int)rdn(raw, l->B, 1) : -1;
	h->noverflow = (int)rdn(raw, l->noverflow, 2);
	h->buckets = rdn(raw, l->buckets, 8);
	h->oldbuckets = rdn(raw, l->oldbuckets, 8);
	h->nevacuate = rdn(raw, l->nevacuate, 8);
	h->dirptr = rdn(raw, l->dirptr, 8);
	h->dirlen = l->dirlen >= 0 ? (int64_t)rdn(raw, l->dirlen, 8) : -1;
	h->globaldepth = (int)rdn(raw, l->globaldepth, 1);
}

/* A heap can hold at most 2^47 bytes: no real map has more than 2^40 buckets or slots. */
#define MAX_LOG2_SLOTS 40

bool map_hdr_plausible(const struct map_hdr *h, const struct go_layout *l)
{
	if (l->impl == IMPL_HMAP)
		return h->B >= 0 && h->B <= MAX_LOG2_SLOTS && h->count <= (8ULL << h->B) &&
		       (h->count == 0 || h->buckets != 0) && (h->B > 0 || !h->oldbuckets);
	if (h->dirlen == 0)
		return h->count <= 8 && (h->count == 0 || h->dirptr != 0);
	return h->dirlen > 0 && h->dirlen <= (1 << 20) && !(h->dirlen & (h->dirlen - 1)) &&
	       h->globaldepth >= 0 && h->globaldepth <= 20 &&
	       (1LL << h->globaldepth) == h->dirlen && h->dirptr != 0 &&
	       h->count <= (uint64_t)h->dirlen * 1024;
}

const char *mw_alive_name(enum mw_alive a)
{
	switch (a) {
	case MW_ALIVE_VALID: return "validated at the end (no GC completed since it was first seen)";
	case MW_ALIVE_MARKED: return "marked live by a GC that began after it was first seen";
	case MW_ALIVE_WRITTEN: return "written by the program near the end of the capture";
	default: return "none";
	}
}

uint64_t mw_made_median_life(const struct mw_made *md)
{
	uint64_t n = md->nlife < MW_LIFE_SAMPLES ? md->nlife : MW_LIFE_SAMPLES, v[MW_LIFE_SAMPLES];

	if (!n)
		return 0;
	memcpy(v, md->life_ns, n * sizeof(v[0]));
	/* insertion sort: at most MW_LIFE_SAMPLES values, once per report */
	for (uint64_t i = 1; i < n; i++)
		for (uint64_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
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
	m->hot = g_array_new(FALSE, TRUE, sizeof(struct mw_span));
	m->rec = g_array_new(FALSE, TRUE, sizeof(struct mw_span));
	m->pc_sites = model_pc_cache_new();
	m->pair_stacks = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
					       (GDestroyNotify)g_bytes_unref, g_free);
	m->deep_seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	m->deep_new = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	m->lock = g_array_new(FALSE, TRUE, sizeof(struct mw_span));
	m->copy_hint = g_hash_table_new(g_direct_hash, g_direct_equal);
	m->made = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
					(GDestroyNotify)g_bytes_unref, g_free);
	m->ended = g_ptr_array_new_with_free_func(map_free);
	m->carried = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
}

GHashTable *model_pc_cache_new(void)
{
	return g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
}

void model_share_pc_cache(struct mw_model *m, GHashTable *cache)
{
	g_hash_table_unref(m->pc_sites);
	m->pc_sites = g_hash_table_ref(cache);
}

void model_take_carried(struct mw_model *m, GHashTable *carried)
{
	g_hash_table_unref(m->carried);
	m->carried = carried;
}

/* The tables a header points to: its bucket array or Swiss directory (0: none yet). */
static uint64_t tables_of(const struct mw_model *m, const struct map_hdr *h)
{
	return m->layout->impl == IMPL_HMAP ? h->buckets : h->dirptr;
}

GHashTable *model_carry(const struct mw_model *prev, uint64_t now_ns)
{
	GHashTable *next = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, prev->carried);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (!g_hash_table_contains(prev->maps, k))	/* not written: still as it was */
			g_hash_table_insert(next, k, g_memdup2(v, sizeof(struct mw_carry)));
	g_hash_table_iter_init(&it, prev->maps);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const struct mw_map *mp = v;
		const struct mw_carry *old = g_hash_table_lookup(prev->carried, k);
		struct mw_carry *c;

		if (mp->gone || mp->on_stack || !mp->seed_known)
			continue;
		if (!mp->created_seen && !mp->created_carried && !mp->overlaps &&
		    !(old && old->seed == mp->seed))
			continue;
		if (g_hash_table_size(next) >= MW_CARRY_MAX)
			break;
		c = g_new0(struct mw_carry, 1);
		if (old && old->seed == mp->seed)
			*c = *old;
		c->seed = mp->seed;
		c->tables = tables_of(prev, &mp->hdr);
		if (mp->created_seen || mp->created_carried) {
			c->created = true;
			c->created_at = mp->created_at;
		}
		c->maptype = mp->maptype;
		memcpy(c->type, mp->type, sizeof(c->type));
		if (mp->overlaps && mp->overlap.goid_first) {
			c->overlap_known = true;
			c->overlap = mp->overlap;
			c->overlap_ns = now_ns;
		}
		g_hash_table_insert(next, k, c);
	}
	return next;
}

/*
 * A map first written in this epoch: what an earlier one knew, if it is the same map (the same
 * seed, or a new one over the same tables: emptied since).
 */
static void map_carry_in(struct mw_model *m, struct mw_map *mp, const struct map_hdr *h)
{
	const struct mw_carry *c = g_hash_table_lookup(m->carried, GSIZE_TO_POINTER(mp->addr));

	if (!c || mp->created_seen || mp->on_stack ||
	    (c->seed != h->seed && !(c->tables && tables_of(m, h) == c->tables)))
		return;
	if (c->created) {
		mp->created_carried = true;
		mp->created_at = c->created_at;
	}
	if (!mp->maptype && c->maptype) {
		mp->maptype = c->maptype;
		memcpy(mp->type, c->type, sizeof(mp->type));
	}
}
void model_use_heap(struct mw_model *m, const struct go_heap_layout *hl)
{
	goheap_init(&m->heap, m->gb, hl, m->bias);
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
	g_hash_table_unref(m->made);
	g_ptr_array_unref(m->ended);
	g_hash_table_unref(m->carried);
	g_array_unref(m->hot);
	g_array_unref(m->rec);
	g_array_unref(m->lock);
	g_hash_table_unref(m->pc_sites);
	g_hash_table_unref(m->pair_stacks);
	g_hash_table_unref(m->deep_seen);
	g_array_unref(m->deep_new);
	m->maps = NULL;
}

/*
 * A creation site is a source line (and the type made there, when known): a function inlined
 * into several callers makes its maps at as many PCs (grpc's metadata.Join in etcd).
 */
static struct mw_made *made_of(struct mw_model *m, const struct mw_map *mp)
{
	char *k = g_strdup_printf("%s\x01%s\x01%d\x01%d\x01%llx",
				  mp->made_at.function ? mp->made_at.function : "?",
				  mp->made_at.file ? mp->made_at.file : "?", mp->made_at.line,
				  !!(mp->made_at_pc & MW_MADE_ON_STACK),
				  (unsigned long long)mp->made_maptype);
	GBytes *b = g_bytes_new_take(k, strlen(k));
	struct mw_made *md = g_hash_table_lookup(m->made, b);

	if (md) {
		g_bytes_unref(b);
		return md;
	}
	md = g_new0(struct mw_made, 1);
	md->pc = mp->made_at_pc & ~MW_MADE_ON_STACK;
	md->on_stack = mp->made_at_pc & MW_MADE_ON_STACK;
	md->maptype = mp->made_maptype;
	md->site = mp->made_at;
	g_hash_table_insert(m->made, b, md);
	return md;
}

/* A life seen from creation to the last sign of it, into the site's uniform sample. */
static void made_life(struct mw_model *m, struct mw_made *md, const struct mw_map *mp)
{
	uint64_t life = mp->last_ok_ns > mp->made_ns ? mp->last_ok_ns - mp->made_ns : 0;
	uint64_t i;

	if (mp->peak_len > md->peak_len)
		md->peak_len = mp->peak_len;
	if (!life)	/* nothing of it seen after its creation: no life to speak of */
		return;
	i = md->nlife++;
	if (i < MW_LIFE_SAMPLES) {
		md->life_ns[i] = life;
	} else {
		/* reservoir sampling; a cheap LCG is uniform enough for a median */
		i = (i * 6364136223846793005ULL + m->records) % md->nlife;
		if (i < MW_LIFE_SAMPLES)
			md->life_ns[i] = life;
	}
}

/* One of a site's maps, ended or alive at the end, into the site's counts. */
static void made_count(struct mw_model *m, struct mw_made *md, const struct mw_map *mp,
		       bool ended)
{
	if (ended)
		md->ended++;
	else
		md->alive_at_end++;
	if (!md->type[0])
		memcpy(md->type, mp->type, sizeof(md->type));
	md->writes += mp->assigns + mp->deletes + mp->clears;
	md->assigns += mp->assigns;
	md->deletes += mp->deletes;
	md->clears += mp->clears;
	md->growths += mw_map_growths(mp);
	made_life(m, md, mp);
}

/*
 * The map is no longer what was at its address. One made during the capture is counted at its
 * creation site and dropped (memory stays bounded on servers); another keeps its last known
 * state in the report, marked ended.
 */
static void map_end(struct mw_model *m, struct mw_map *mp, const char *why, uint64_t now_ns)
{
	g_hash_table_steal(m->maps, GSIZE_TO_POINTER(mp->addr));
	mp->gone = true;
	mp->end_reason = why;
	mp->end_ns = now_ns;
	m->ended_maps++;
	if (!mp->created_seen && mp->on_stack && mp->sites->len) {
		/*
		 * A stack map has no creation call: its instances are counted at their first
		 * writer, and folded there at the end if that site has many (model_finish).
		 */
		const struct mw_site *w = &g_array_index(mp->sites, struct mw_site, 0);

		mp->made_at_pc = w->pc | MW_MADE_ON_STACK;
		mp->made_at = w->sym;
		mp->made_maptype = mp->maptype;
		mp->made_ns = mp->first_ns;
		made_of(m, mp)->made++;
	}
	if (mp->created_seen) {
		struct mw_made *md = made_of(m, mp);

		made_count(m, md, mp, true);
		/* Proof of concurrent writers outlives the map: it stays listed, ended. */
		if (!mp->overlaps && !mp->writing_at_entry) {
			md->folded++;
			map_free(mp);
			return;
		}
	}
	g_ptr_array_add(m->ended, mp);
}

static struct mw_map *map_new(struct mw_model *m, uint64_t addr, uint64_t now_ns)
{
	struct mw_map *mp = g_hash_table_lookup(m->maps, GSIZE_TO_POINTER(addr));

	if (mp)
		map_end(m, mp, "its address was handed out to a new map", now_ns);
	mp = g_new0(struct mw_map, 1);
	mp->addr = addr;
	mp->hdr.B = mp->hdr.dirlen = -1;	/* unknown until a header is read */
	mp->B_min = -1;
	mp->writers = g_hash_table_new(g_direct_hash, g_direct_equal);
	mp->sites = g_array_new(FALSE, TRUE, sizeof(struct mw_site));
	g_hash_table_replace(m->maps, GSIZE_TO_POINTER(addr), mp);
	return mp;
}

/* A header of this map was taken: the smallest B seen (mw_map_growths). */
static void saw_B(struct mw_map *mp, const struct map_hdr *h)
{
	if (h->B >= 0 && (mp->B_min < 0 || h->B < mp->B_min))
		mp->B_min = h->B;
}

static struct mw_map *map_get(struct mw_model *m, uint64_t addr, uint64_t now_ns)
{
	struct mw_map *mp = g_hash_table_lookup(m->maps, GSIZE_TO_POINTER(addr));

	return mp ? mp : map_new(m, addr, now_ns);
}

/* The map type a call was given (the catalogue says in which register), or 0. */
static uint64_t record_maptype(const struct mw_call_rec *r)
{
	if (r->fn >= PROBE__COUNT)
		return 0;
	switch (probe_defs[r->fn].treg) {
	case MW_REG_RAX: return r->ax;
	case MW_REG_RBX: return r->bx;
	default: return 0;
	}
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

/* What a PC says about a site, decoded once per PC (the ingest path's main cost). */
struct pc_site {
	bool user;		/* a logical frame at this PC is the user's */
	struct frame_sym sym;	/* that frame (names point into the binary's tables) */
};

static const struct pc_site *pc_site(const struct mw_model *m, uint64_t pc)
{
	struct pc_site *ps = g_hash_table_lookup(m->pc_sites, &pc);
	struct frame_sym lf[MAX_INLINE];
	uint64_t *key;
	int k;

	if (ps)
		return ps;
	ps = g_new0(struct pc_site, 1);
	k = sym_pc_frames(m->gb, m->layout, pc, lf, MAX_INLINE);
	for (int j = 0; j < k && !ps->user; j++)
		if (sym_is_user_function(lf[j].function)) {
			ps->user = true;
			ps->sym = lf[j];
		}
	key = g_new(uint64_t, 1);
	*key = pc;
	g_hash_table_insert(m->pc_sites, key, ps);
	return ps;
}

/*
 * The first logical frame (inlined calls expanded) outside runtime/sync/reflect/internal names the
 * site; else the immediate caller.
 */
static uint64_t user_site(const struct mw_model *m, const uint64_t *f, int n,
			  struct frame_sym *sym)
{
	for (int i = 0; i < n; i++) {
		const struct pc_site *ps = pc_site(m, f[i]);

		if (ps->user) {
			*sym = ps->sym;
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

/* A site is a source line: two calls on one line (e.g. inlined twice) are one site. */
static void add_sites(GArray *sites, uint64_t pc, enum mw_op op, const struct frame_sym *sym,
		      uint64_t n)
{
	struct mw_site *s;

	for (guint i = 0; i < sites->len; i++) {
		s = &g_array_index(sites, struct mw_site, i);
		if (s->op == op && (s->pc == pc || (s->sym.line == sym->line && sym->line > 0 &&
						    !strcmp(s->sym.function, sym->function) &&
						    !strcmp(s->sym.file, sym->file)))) {
			s->count += n;
			return;
		}
	}
	g_array_append_val(sites, ((struct mw_site){ .pc = pc, .op = op, .count = n, .sym = *sym }));
}

static void add_site(GArray *sites, uint64_t pc, enum mw_op op, const struct frame_sym *sym)
{
	add_sites(sites, pc, op, sym, 1);
}

/* Count n calls of one raw stack for the flame graph: {probe id, frames}; symbolised at output. */
static void add_folded(struct mw_model *m, const struct mw_call_rec *r, uint64_t n_calls)
{
	uint64_t key[MW_STACK_DEPTH + 2];
	int n = call_frames(m, r->caller, r->stack, (r->flags & MW_F_STACK) ? r->nstack : 0,
			    key + 1);
	GBytes *b;
	gpointer old;

	key[0] = r->fn;
	b = g_bytes_new(key, (gsize)(n + 1) * sizeof(uint64_t));
	old = g_hash_table_lookup(m->folded, b);
	g_hash_table_replace(m->folded, b, GSIZE_TO_POINTER(GPOINTER_TO_SIZE(old) + n_calls));
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

/* Is function one of the (logical) frames the write was made from? */
static bool on_stack_of(const struct mw_model *m, const struct mw_call_rec *r,
			const char *function)
{
	uint64_t f[MW_STACK_DEPTH + 1];
	int n = call_frames(m, r->caller, r->stack, (r->flags & MW_F_STACK) ? r->nstack : 0, f);

	for (int i = 0; i < n; i++) {
		struct frame_sym lf[MAX_INLINE];
		int k = sym_pc_frames(m->gb, m->layout, f[i], lf, MAX_INLINE);

		for (int j = 0; j < k; j++)
			if (!strcmp(lf[j].function, function))
				return true;
	}
	return false;
}

/*
 * The first map write after a slow-path lock is taken as made under that lock when it comes
 * soon after, from the function that took the lock or a function it called (the lock is then
 * most likely still held: mu.Lock(); defer mu.Unlock(); m[k] = v). A write from elsewhere
 * (the lock released, another function's local map) is not blamed on the lock.
 */
static void attribute_lock(struct mw_model *m, const struct mw_call_rec *r, struct mw_map *mp)
{
	struct pending_lock *p = g_hash_table_lookup(m->pending, GSIZE_TO_POINTER(r->goid));
	struct mw_mutex *mx;
	gpointer old;

	if (!p)
		return;
	if (r->t_entry >= p->t_acquired && r->t_entry - p->t_acquired <= LOCK_ATTRIBUTION_NS &&
	    p->function && on_stack_of(m, r, p->function) &&
	    (mx = g_hash_table_lookup(m->mutexes, GSIZE_TO_POINTER(p->mutex)))) {
		old = g_hash_table_lookup(mx->maps, GSIZE_TO_POINTER(mp->addr));
		g_hash_table_replace(mx->maps, GSIZE_TO_POINTER(mp->addr),
				     GSIZE_TO_POINTER(GPOINTER_TO_SIZE(old) + p->wait_ns));
	}
	g_hash_table_remove(m->pending, GSIZE_TO_POINTER(r->goid));
}

static uint64_t maptype_field(const struct mw_model *m, const struct mw_map *mp, int off,
			      int size);

/*
 * Capacity and memory as the latest header implies them, so that they never describe an
 * older state than its count: hmap from B (the arrays' slot sizes come with the next
 * re-read); Swiss tables need a re-read, so until then what is known stays only while it
 * still holds the count.
 */
static void sizes_from_header(const struct mw_model *m, struct mw_map *mp)
{
	if (m->layout->impl == IMPL_HMAP) {
		uint64_t nb, bsz = maptype_field(m, mp, m->layout->bucketsize_u16, 2);

		if (mp->hdr.B < 0 || mp->hdr.B > MAX_LOG2_SLOTS)
			return;
		nb = 1ULL << mp->hdr.B;
		if (mp->capacity != 8 * nb || (mp->hdr.oldbuckets != 0) != (mp->old_bytes != 0)) {
			mp->capacity = 8 * nb;
			mp->old_bytes = mp->hdr.oldbuckets ? (nb > 1 ? nb / 2 : 1) * bsz : 0;
			mp->bytes = bsz ? nb * bsz + mp->old_bytes : 0;
		}
	} else if (mp->hdr.count > mp->capacity || mp->hdr.dirptr != mp->sized_dirptr) {
		mp->capacity = mp->bytes = 0;	/* unknown until re-read */
	}
}

static void note_deep_caller(struct mw_model *m, const struct mw_call_rec *r, uint64_t site_pc);

/*
 * A new seed over the tables mp had: the same map, emptied by a delete while its writes were
 * not watched (the runtime reseeds a map whose count a delete brings to 0, go.dev/issue/25237,
 * and keeps its bucket array or Swiss directory). Another map at the address has tables of
 * its own. Never for a map on a stack, whose address is no identity.
 */
static bool same_tables(const struct mw_model *m, const struct mw_map *mp,
			const struct map_hdr *h)
{
	uint64_t t = tables_of(m, h), known = tables_of(m, &mp->hdr);

	if (mp->on_stack || !t || !known)
		return false;
	/* a bucket map's tables may have become its old ones by a grow begun since */
	return t == known || (m->layout->impl == IMPL_HMAP && h->oldbuckets == known);
}

/* Another seed over other tables than mp's: another map, or mp emptied and regrown unwatched. */
static bool other_seed_and_tables(const struct mw_model *m, const struct mw_map *mp,
				  const struct map_hdr *h)
{
	return mp->seed_known && h->seed != mp->seed && !same_tables(m, mp, h);
}

/*
 * A write or a growth found another seed over other tables at mp's address. If the heap saw
 * the header held, it may still tell whether it is mp's: the caller re-reads it at once
 * (map_check), and until then mp takes the new seed (and later new seeds wait for the same
 * re-read: a batch of tallies of a map emptied hundreds of times a second brings dozens).
 * false: nothing can tell, and mp ends.
 */
static bool doubt_identity(struct mw_model *m, struct mw_map *mp, const struct map_hdr *h,
			   uint64_t t)
{
	if (!mp->sg_held_known || !map_hdr_plausible(h, m->layout))
		return false;
	if (!mp->doubt_ns)
		mp->doubt_ns = t;
	mp->seed = h->seed;
	mp->dirty = true;
	m->doubts = true;
	return true;
}

/*
 * The program wrote mp at t: it held a pointer to it, so the header was reachable then, and no
 * sweep can free it before the next GC cycle's (sg_held + 2, as for a header found marked).
 * The sweepgen read last, before t, stands for the one at t (it can only be older: the bound
 * is then the safer). Before the heap is resolved, a first map written asks for a re-read at
 * once, so that the heap's metadata is found early (tallies bring new seeds in batches).
 */
static void saw_live(struct mw_model *m, struct mw_map *mp, uint64_t t)
{
	if (mp->on_stack || mp->doubt_ns)
		return;	/* no identity, or this write may be another map's */
	if (!m->sg_last_known) {
		if (m->heap.hl && !goheap_ready(&m->heap) && m->heap.tries < 16)
			m->doubts = true;
		return;
	}
	if (t >= m->sg_last_ns &&
	    (!mp->sg_held_known || (int32_t)(m->sg_last - mp->sg_held) > 0)) {
		mp->sg_held = m->sg_last;
		mp->sg_held_known = true;
	}
}

/*
 * n writes: one recorded (entry and RET), or n counted in BPF (a tally: the header before the
 * last of them, no goroutine, no header after).
 */
static void on_write(struct mw_model *m, const struct mw_call_rec *r, enum mw_op op, uint64_t n)
{
	bool hb = !(r->flags & MW_F_HDR_BEFORE_BAD), ha = !(r->flags & MW_F_HDR_AFTER_BAD);
	bool tally = r->type == MW_REC_TALLY, newest;
	struct mw_map *mp = g_hash_table_lookup(m->maps, GSIZE_TO_POINTER(r->obj));
	struct map_hdr before, after;
	struct frame_sym sym;
	uint64_t site;

	map_hdr_decode(r->hdr_before, m->layout, &before);
	map_hdr_decode(r->hdr_after, m->layout, &after);
	/*
	 * Another seed at the address: another map lives there now (made where we did not see),
	 * unless it is this one, emptied meanwhile.
	 */
	if (mp && mp->seed_known && hb && before.seed != mp->seed) {
		if (same_tables(m, mp, &before)) {
			mp->seed = before.seed;
			mp->reseeds++;
		} else if (doubt_identity(m, mp, &before, r->t_entry)) {
			;	/* the re-read that follows at once decides */
		} else {
			map_end(m, mp, "a write found another hash seed over other tables: another "
				"map at its address, or this one emptied and regrown while unwatched",
				r->t_entry);
			mp = NULL;
		}
	}
	if (!mp)
		mp = map_new(m, r->obj, r->t_entry);
	/*
	 * A header is the map's latest state only if nothing newer was seen: tallies are read in
	 * batches, every 100 ms, while records of growths and writes come as they happen.
	 */
	newest = r->t_ret >= mp->hdr_ns;
	set_type(m, mp, record_maptype(r));
	/*
	 * The length when first seen: 0 for a map whose creation was seen; otherwise what the
	 * first write found (a growth record, whose RET comes first, may have added the map).
	 */
	if (!mp->first_ns) {
		mp->first_len = hb ? before.count : ha ? after.count : 0;
		if (hb)
			map_carry_in(m, mp, &before);
	}
	switch (op) {
	case MW_OP_ASSIGN: mp->assigns += n; break;
	case MW_OP_DELETE: mp->deletes += n; break;
	default: mp->clears += n; break;
	}
	if (r->flags & MW_F_WRITING_AT_ENTRY)
		mp->writing_at_entry++;
	if (r->flags & MW_F_ON_STACK)
		mp->on_stack = true;
	if (hb && ha) {
		if (after.count > before.count)
			mp->inserts++;
		else if (after.count < before.count)
			mp->removals++;
	} else if (tally && hb && newest && mp->seed_known && before.seed == mp->seed) {
		/* at least as many writes raised (lowered) the count as it rose (fell) since */
		uint64_t was = mp->hdr.count, now = before.count;

		if (now > was)
			mp->inserts += now - was < n ? now - was : n;
		else if (now < was)
			mp->removals += was - now < n ? was - now : n;
	}
	if (hb && before.count > mp->peak_len) {
		mp->peak_len = before.count;
		mp->peak_ns = tally ? r->t_ret : r->t_entry;	/* a tally's header: its last write */
	}
	if (hb && !mp->on_stack)
		saw_B(mp, &before);
	/*
	 * A record read after a re-read that is newer than its write (it waited in the ring
	 * buffer) carries an older state than the model has: counted, but its header is not the
	 * map's state now (nor a drop from its peak).
	 */
	if (tally && hb && newest) {
		/* the state just before the last write counted */
		mp->hdr = before;
		mp->hdr_ns = r->t_ret;
		mp->hdr_pre_write = true;
		mp->seed = before.seed;
		mp->seed_known = true;
		sizes_from_header(m, mp);
		if (mp->peak_len - before.count > mp->max_drop)
			mp->max_drop = mp->peak_len - before.count;
	} else if (ha && newest) {
		mp->hdr = after;
		mp->hdr_ns = r->t_ret;
		mp->hdr_pre_write = false;
		mp->seed = after.seed;	/* a clear reseeds: the write carries the new seed */
		mp->seed_known = true;
		sizes_from_header(m, mp);
		if (after.count > mp->peak_len) {
			mp->peak_len = after.count;
			mp->peak_ns = r->t_ret;
		}
		if (mp->peak_len - after.count > mp->max_drop)
			mp->max_drop = mp->peak_len - after.count;
	}
	mp->dirty = true;
	if (!mp->first_ns)
		mp->first_ns = r->t_entry;
	if (r->t_ret > mp->last_ns)	/* tallies come in no order */
		mp->last_ns = r->t_ret;
	if (r->t_ret > mp->last_ok_ns)
		mp->last_ok_ns = r->t_ret;
	if (r->goid)
		g_hash_table_add(mp->writers, GSIZE_TO_POINTER(r->goid));
	site = record_site(m, r, &sym);
	add_sites(mp->sites, site, op, &sym, n);
	saw_live(m, mp, r->t_entry);
	note_deep_caller(m, r, site);
	attribute_lock(m, r, mp);
	m->writes += n;
	if (tally)
		m->tallied += n;
}

static void on_create(struct mw_model *m, const struct mw_call_rec *r)
{
	struct mw_map *mp;

	if (!r->obj)
		return;
	/* The address is handed out again: whatever was there before is gone. */
	mp = map_new(m, r->obj, r->t_ret);
	mp->created_seen = true;
	mp->made_at_pc = record_site(m, r, &mp->created_at);
	mp->made_at = mp->created_at;
	set_type(m, mp, record_maptype(r));	/* makemap_small is given none */
	if (r->fn != PROBE_MAKEMAP_SMALL)
		mp->hint = r->bx;
	mp->made_maptype = mp->maptype;
	if (!(r->flags & MW_F_HDR_AFTER_BAD)) {
		map_hdr_decode(r->hdr_after, m->layout, &mp->hdr);
		mp->seed = mp->hdr.seed;
		mp->seed_known = true;
	}
	mp->first_ns = r->t_ret;
	mp->made_ns = r->t_ret;
	mp->last_ok_ns = r->t_ret;
	mp->dirty = true;
	made_of(m, mp)->made++;
	/* sync.(*Map).dirtyLocked makes the new dirty map as large as what it will copy. */
	if (r->caller) {
		struct frame_sym caller;

		sym_pc(m->gb, r->caller - 1 - m->bias, &caller);
		/* the catalogue's name for it (probes/functions.def) */
		if (!strcmp(caller.function, probe_defs[PROBE_SYNCMAP_DIRTYLOCKED].symbol)) {
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
	struct map_hdr before;
	bool hb;

	if (!r->obj)
		return;
	/*
	 * Another seed over other tables is another map, as for a write: a stack map's address
	 * is taken by the next call's map, and its growths are not the first one's.
	 */
	mp = g_hash_table_lookup(m->maps, GSIZE_TO_POINTER(r->obj));
	map_hdr_decode(r->hdr_before, m->layout, &before);
	hb = !(r->flags & MW_F_HDR_BEFORE_BAD) && map_hdr_plausible(&before, m->layout);
	if (mp && hb && other_seed_and_tables(m, mp, &before) &&
	    !doubt_identity(m, mp, &before, r->t_entry)) {
		map_end(m, mp, "a growth found another hash seed over other tables: another map at "
			"its address, or this one emptied and regrown while unwatched", r->t_entry);
		mp = NULL;
	}
	if (!mp) {
		mp = map_new(m, r->obj, r->t_entry);
		if (hb) {
			mp->seed = before.seed;	/* known only from this growth: its identity */
			mp->seed_known = true;
			mp->hdr = before;
			mp->hdr_ns = r->t_entry;
			sizes_from_header(m, mp);
		}
	}
	set_type(m, mp, record_maptype(r));
	/*
	 * A Swiss map's first group (growToSmall) is its lazy first allocation, as a bucket
	 * map's first bucket is (allocated in mapassign, no growth): "growths 1" on a map of
	 * two entries read as a growth it never needed.
	 */
	if (r->fn != PROBE_SWISS_GROW_TO_SMALL)
		mp->growths++;
	mp->dirty = true;
	/*
	 * Its new tables (a same-size grow of a map whose deletes left overflow buckets too): what
	 * same_tables knows it by if a delete empties and reseeds it later, unwatched.
	 */
	if (!(r->flags & MW_F_HDR_AFTER_BAD) && r->t_ret >= mp->hdr_ns) {
		struct map_hdr after;

		map_hdr_decode(r->hdr_after, m->layout, &after);
		if (mp->seed_known && map_hdr_plausible(&after, m->layout) &&
		    (after.seed == mp->seed || same_tables(m, mp, &after))) {
			mp->reseeds += after.seed != mp->seed;
			mp->seed = after.seed;
			mp->hdr = after;
			mp->hdr_ns = r->t_ret;
			mp->hdr_pre_write = false;
			sizes_from_header(m, mp);
		}
	}
	if (mp->hdr.count > mp->peak_len) {	/* never a length above its peak */
		mp->peak_len = mp->hdr.count;
		mp->peak_ns = r->t_ret;
	}
	saw_B(mp, &mp->hdr);
}

static void span_mark(GArray *spans, uint64_t t, bool on)
{
	struct mw_span *last = spans->len ? &g_array_index(spans, struct mw_span, spans->len - 1) :
					    NULL;

	if (on && (!last || last->off)) {
		struct mw_span s = { .on = t };

		g_array_append_val(spans, s);
	} else if (!on && last && !last->off) {
		last->off = t > last->on ? t : last->on + 1;
	}
}

void model_hot_probes(struct mw_model *m, uint64_t t, bool on)
{
	span_mark(m->hot, t, on);
	if (on && !m->maps_ns)
		m->maps_ns = t;
}

void model_lock_probes(struct mw_model *m, uint64_t t, bool on)
{
	span_mark(m->lock, t, on);
}

void model_rec_probes(struct mw_model *m, uint64_t t, bool on)
{
	span_mark(m->rec, t, on);
}

/* Was a span of spans on at any time in [a, b]? */
static bool spans_during(const GArray *spans, uint64_t a, uint64_t b)
{
	for (guint i = spans ? spans->len : 0; i-- > 0;) {
		const struct mw_span *s = &g_array_index(spans, struct mw_span, i);

		if (s->off && s->off < a)
			return false;
		if (s->on <= b)
			return true;
	}
	return false;
}

/* Were the hot map probes attached at any time in [a, b]? */
static bool hot_during(const struct mw_model *m, uint64_t a, uint64_t b)
{
	if (!m->hot || !m->hot->len)	/* no spans recorded: on from maps_ns */
		return m->maps_ns && b >= m->maps_ns;
	return spans_during(m->hot, a, b);	/* latest first: a wait is read back soon */
}

/* How much of [a, b) the spans cover. */
static uint64_t covered(const GArray *spans, uint64_t a, uint64_t b, uint64_t end)
{
	uint64_t n = 0;

	for (guint i = 0; spans && i < spans->len; i++) {
		const struct mw_span *s = &g_array_index(spans, struct mw_span, i);
		uint64_t x = s->on > a ? s->on : a, off = s->off ? s->off : end;
		uint64_t y = off < b ? off : b;

		if (s->on >= b)
			break;	/* spans are in time order */
		if (y > x)
			n += y - x;
	}
	return n;
}

uint64_t model_hot_off_ns(const struct mw_model *m, uint64_t start, uint64_t end)
{
	uint64_t clean = 0;

	if (end <= start)
		return 0;
	if (!m->lock || !m->lock->len)
		return end - start - covered(m->hot, start, end, end);
	for (guint i = 0; i < m->lock->len; i++) {
		const struct mw_span *l = &g_array_index(m->lock, struct mw_span, i);
		uint64_t a = l->on > start ? l->on : start, off = l->off ? l->off : end;
		uint64_t b = off < end ? off : end;

		if (b > a)
			clean += b - a - covered(m->hot, a, b, end);
	}
	return clean;
}

uint64_t model_unnamed_ns(const struct mw_model *m, uint64_t start, uint64_t end)
{
	uint64_t hot, rec;

	if (end <= start)
		return 0;
	/* the recording probes are hot ones: their spans lie within the hot spans */
	hot = covered(m->hot, start, end, end);
	rec = covered(m->rec, start, end, end);
	return hot > rec ? hot - rec : 0;
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
		mx->waiters = g_hash_table_new(g_direct_hash, g_direct_equal);
		mx->sites = g_array_new(FALSE, TRUE, sizeof(struct mw_site));
		mx->maps = g_hash_table_new(g_direct_hash, g_direct_equal);
		g_hash_table_insert(m->mutexes, GSIZE_TO_POINTER(addr), mx);
	}
	mx->total_ns += wait;
	mx->nwaits++;
	mx->hist[wait ? (63 - __builtin_clzll(wait)) % MW_WAIT_BUCKETS : 0]++;
	/*
	 * Waits while the map probes were detached: the program's own contention. Those that
	 * overlapped hot probes but no recording ones (writes tallied, sync.Map writes) are
	 * neither its own nor tied to the map written next.
	 */
	if (!hot_during(m, r->t_entry, r->t_ret)) {
		mx->base_ns += wait;
		mx->base_waits++;
	} else if (m->rec->len && !spans_during(m->rec, r->t_entry, r->t_ret)) {
		mx->unnamed_ns += wait;
		mx->unnamed_waits++;
	}
	g_hash_table_add(mx->waiters, GSIZE_TO_POINTER(r->goid));
	add_site(mx->sites, record_site(m, r, &sym), MW_OP_LOCK, &sym);
	p = g_new(struct pending_lock, 1);
	*p = (struct pending_lock){ .mutex = addr, .wait_ns = wait, .t_acquired = r->t_ret,
				    .function = sym_is_user_function(sym.function) ? sym.function :
										     NULL };
	g_hash_table_replace(m->pending, GSIZE_TO_POINTER(r->goid), p);
}

/* Pairs remembered at most (BPF's LRU holds as many); past it, the table starts again. */
#define PAIR_STACKS_MAX 65536

struct pair_stack {
	int nstack;
	uint64_t stack[MW_STACK_DEPTH];
};

/*
 * BPF takes a user stack only for the first write of a (map, caller) pair: the later ones
 * (MW_F_STACK_KNOWN) get that stack back here. One whose caller is not the user's code (a
 * wrapper reached from many sites) is queued for BPF to take its stack every time.
 */
static const struct mw_call_rec *with_stack(struct mw_model *m, const struct mw_call_rec *r,
					    struct mw_call_rec *copy)
{
	bool tally = r->type == MW_REC_TALLY;
	uint64_t key[2] = { r->obj, r->caller };
	struct pair_stack *ps;

	if (r->flags & MW_F_STACK) {
		if (!op_is_write(probe_defs[r->fn].op) || !r->obj || r->nstack <= 0)
			return r;
		if (g_hash_table_size(m->pair_stacks) >= PAIR_STACKS_MAX)
			g_hash_table_remove_all(m->pair_stacks);
		ps = g_new(struct pair_stack, 1);
		ps->nstack = r->nstack > MW_STACK_DEPTH ? MW_STACK_DEPTH : r->nstack;
		memcpy(ps->stack, r->stack, sizeof(ps->stack));
		g_hash_table_replace(m->pair_stacks, g_bytes_new(key, sizeof(key)), ps);
		return r;
	}
	if (!(r->flags & MW_F_STACK_KNOWN))
		return r;
	{
		GBytes *k = g_bytes_new_static(key, sizeof(key));

		ps = g_hash_table_lookup(m->pair_stacks, k);
		g_bytes_unref(k);
	}
	if (!ps) {
		/* its first record was lost or is still to come (a tally's pair may never have one) */
		if (!tally)
			m->stacks_missed++;
		return r;
	}
	*copy = *r;
	copy->flags |= MW_F_STACK;
	copy->nstack = ps->nstack;
	memcpy(copy->stack, ps->stack, sizeof(copy->stack));
	return copy;
}

/* A write's immediate caller that is not user code: BPF should take its stack every time. */
static void note_deep_caller(struct mw_model *m, const struct mw_call_rec *r, uint64_t site_pc)
{
	uint64_t f0 = r->caller ? r->caller - 1 - m->bias : 0;

	if (!r->caller || site_pc == f0 || !op_is_write(probe_defs[r->fn].op) ||
	    g_hash_table_contains(m->deep_seen, &r->caller))
		return;
	g_hash_table_add(m->deep_seen, g_memdup2(&r->caller, sizeof(r->caller)));
	g_array_append_val(m->deep_new, r->caller);
}

static int on_call(struct mw_model *m, const struct mw_call_rec *r)
{
	struct mw_call_rec copy;
	enum mw_op op;

	if (r->fn >= PROBE__COUNT || r->t_ret < r->t_entry)
		return -1;
	r = with_stack(m, r, &copy);
	op = probe_defs[r->fn].op;
	if (op_is_write(op) && !r->obj)
		return -1;
	if (op_is_write(op) || op == MW_OP_LOCK)
		add_folded(m, r, 1);
	switch (op) {
	case MW_OP_CREATE: on_create(m, r); break;
	case MW_OP_GROW: on_grow(m, r); break;
	case MW_OP_LOCK: on_lock(m, r); break;
	case MW_OP_SYNCMAP: on_syncmap(m, r); break;
	case MW_OP_SYNCMAP_OP: on_syncmap_op(m, r); break;
	case MW_OP_FATAL:
	case MW_OP_UNWIND: break;
	default: on_write(m, r, op, 1); break;
	}
	return 0;
}

/*
 * Writes counted in BPF: as one write record of n calls, from the tally's header (before the
 * last of them) and caller; the stack is the one a recorded write of the pair brought, if any.
 */
static int on_tally(struct mw_model *m, const struct mw_tally_rec *t)
{
	struct mw_call_rec r = { 0 }, copy;
	const struct mw_call_rec *rr;

	if (t->k.fn >= PROBE__COUNT || !op_is_write(probe_defs[t->k.fn].op) || !t->k.map ||
	    !t->v.n || t->v.t_last < t->v.t_first || t->k.tgid != t->tgid)
		return -1;
	r.type = MW_REC_TALLY;	/* on_write's sign that it is one */
	r.tgid = t->tgid;
	r.fn = t->k.fn;
	r.flags = MW_F_STACK_KNOWN | MW_F_HDR_AFTER_BAD | (t->k.flags & MW_F_ON_STACK);
	r.obj = t->k.map;
	r.ax = t->v.maptype;
	r.caller = t->k.caller;
	r.t_entry = t->v.t_first;
	r.t_ret = t->v.t_last;
	memcpy(r.hdr_before, t->v.hdr, sizeof(r.hdr_before));
	rr = with_stack(m, &r, &copy);
	add_folded(m, rr, t->v.n);
	on_write(m, rr, probe_defs[r.fn].op, t->v.n);
	return 0;
}

static void on_overlap(struct mw_model *m, const struct mw_overlap_rec *o)
{
	struct mw_map *mp = map_get(m, o->map, o->t);
	uint64_t f[MW_STACK_DEPTH + 1];
	int n;

	set_type(m, mp, o->maptype);	/* the target may die before any write completes */
	/*
	 * The first overlap seen, unless it is one where only the write flag was seen (the first
	 * writer unknown): then the first one after it that names both writers.
	 */
	if (!mp->overlaps++ || (!mp->overlap.goid_first && o->goid_first)) {
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
		else if (type == MW_REC_TALLY && size >= sizeof(struct mw_tally_rec))
			rc = on_tally(m, data);
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
	for (guint i = 0; i < m->ended->len; i++)
		g_ptr_array_add(a, g_ptr_array_index(m->ended, i));
	g_ptr_array_sort(a, by_writes);
	return a;
}

static gint by_made(gconstpointer a, gconstpointer b)
{
	const struct mw_made *x = *(struct mw_made *const *)a, *y = *(struct mw_made *const *)b;

	if (x->made != y->made)
		return x->made > y->made ? -1 : 1;
	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

GPtrArray *model_made_sorted(const struct mw_model *m)
{
	GPtrArray *a = g_ptr_array_new();
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, m->made);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (((struct mw_made *)v)->folded)
			g_ptr_array_add(a, v);
	g_ptr_array_sort(a, by_made);
	return a;
}

/* A field of the map type descriptor, from the binary (0 if unknown). */
uint64_t maptype_field(const struct mw_model *m, const struct mw_map *mp, int off, int size)
{
	const uint8_t *t;
	uint64_t v = 0;

	if (!mp->maptype || off < 0 ||
	    !(t = elfimg_at(&m->gb->img, mp->maptype + (uint64_t)off, (uint64_t)size)))
		return 0;
	memcpy(&v, t, (size_t)size);
	return v;
}

/*
 * Is the array at addr an allocation of at least need bytes (and not many times more)? With
 * the heap's metadata only; true when it cannot be told. *size gets the slot's size.
 */
static bool array_ok(struct mw_model *m, mem_read_fn rd, void *ctx, uint64_t addr, uint64_t need,
		     uint32_t sg, uint64_t *size)
{
	struct go_obj o;

	*size = 0;
	if (!rd || !goheap_ready(&m->heap) || !addr)
		return true;
	if (goheap_object(&m->heap, rd, ctx, addr, sg, sg, &o))
		return true;	/* unreadable now: judged at the next re-read */
	if (o.state == GO_OBJ_STACK || o.state == GO_OBJ_UNKNOWN)
		return true;
	if (o.state != GO_OBJ_MARKED && o.state != GO_OBJ_ALLOCATED)
		return false;
	*size = o.size;
	return !need || (o.size >= need && o.size <= need + need / 4 + GO_PAGE_SIZE);
}

/* hmap: 2^B buckets of 8 slots, plus the old array while growing. NULL, or why not a map. */
static const char *hmap_size(struct mw_model *m, struct mw_map *mp, mem_read_fn rd, void *ctx,
			     uint32_t sg)
{
	const struct go_layout *l = m->layout;
	uint64_t nb, bsz, got, oldgot;

	if (mp->hdr.B < 0 || mp->hdr.B > MAX_LOG2_SLOTS)
		return "its bucket count is impossible";
	nb = 1ULL << mp->hdr.B;
	bsz = maptype_field(m, mp, l->bucketsize_u16, 2);
	if (!array_ok(m, rd, ctx, mp->hdr.buckets, nb * bsz, sg, &got))
		return "its bucket array is not an allocation of the size its header implies";
	if (mp->hdr.oldbuckets &&
	    !array_ok(m, rd, ctx, mp->hdr.oldbuckets, nb / 2 * bsz, sg, &oldgot))
		return "its old bucket array is not an allocation of the size its header implies";
	mp->capacity = 8 * nb;
	/* Observed slot sizes when the heap tells them; else what the header implies. */
	if (got) {
		mp->old_bytes = mp->hdr.oldbuckets ? oldgot : 0;
		mp->bytes = got + mp->old_bytes;
	} else if (bsz) {
		mp->old_bytes = mp->hdr.oldbuckets ? (nb > 1 ? nb / 2 : 1) * bsz : 0;
		mp->bytes = nb * bsz + mp->old_bytes;
	}
	return NULL;
}

#define SWISS_GROUP_SLOTS 8
#define SWISS_MAX_TABLE 1024	/* maxTableCapacity: a larger table splits */

/* Swiss: a small map is one group; otherwise a directory of tables (entries may repeat). */
static const char *swiss_size(struct mw_model *m, struct mw_map *mp, mem_read_fn rd, void *ctx,
			      uint32_t sg)
{
	const struct go_layout *l = m->layout;
	uint64_t gsz = maptype_field(m, mp, l->groupsize_u64, 8), cap = 0, prev = 0, *dir, got;
	int64_t n = mp->hdr.dirlen;
	const char *why = NULL;

	if (n == 0) {
		if (!array_ok(m, rd, ctx, mp->hdr.dirptr, gsz, sg, &got))
			return "its group is not an allocation of a group's size";
		mp->sized_dirptr = mp->hdr.dirptr;
		mp->capacity = mp->hdr.dirptr ? SWISS_GROUP_SLOTS : 0;
		mp->bytes = mp->hdr.dirptr ? gsz : 0;
		return NULL;
	}
	if (n < 0 || n > (1 << 20) || l->table_capacity < 0 || !rd)
		return NULL;
	if (!array_ok(m, rd, ctx, mp->hdr.dirptr, (uint64_t)n * 8, sg, &got))
		return "its table directory is not an allocation of the size its header implies";
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
			if (c < SWISS_GROUP_SLOTS || c > SWISS_MAX_TABLE || (c & (c - 1))) {
				why = "its tables do not have a table's capacity";
				break;
			}
			cap += c;
		}
		if (!why && cap && cap < mp->hdr.count)
			why = "its tables hold fewer slots than its count";
		if (!why && cap) {
			mp->sized_dirptr = mp->hdr.dirptr;
			mp->capacity = cap;
			mp->bytes = gsz ? cap / SWISS_GROUP_SLOTS * gsz + (uint64_t)n * 8 : 0;
		}
	}
	g_free(dir);
	return why;
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

/*
 * A map made during the capture grows only when nearly full (13/16 or 7/8) and doubles: its
 * room never exceeds a few times the most it held or was sized for. More means the tables
 * read are not its own.
 */
static bool room_never_needed(const struct mw_map *mp, uint64_t count)
{
	uint64_t most = mp->peak_len > count ? mp->peak_len : count;

	if (mp->hint > most)
		most = mp->hint;
	return mp->created_seen && mp->capacity > 4 * most + 16;
}

/* What a re-read may replace: kept, to be put back when the read is not taken. */
struct map_state {
	struct map_hdr hdr;
	uint64_t capacity, bytes, old_bytes;
};

static struct map_state state_of(const struct mw_map *mp)
{
	return (struct map_state){ mp->hdr, mp->capacity, mp->bytes, mp->old_bytes };
}

static void state_restore(struct mw_map *mp, const struct map_state *k)
{
	mp->hdr = k->hdr;
	mp->capacity = k->capacity;
	mp->bytes = k->bytes;
	mp->old_bytes = k->old_bytes;
}

/* The same state of one map: count, seed and tables. */
static bool same_state(const struct map_hdr *a, const struct map_hdr *b)
{
	return a->count == b->count && a->seed == b->seed && a->B == b->B &&
	       a->buckets == b->buckets && a->oldbuckets == b->oldbuckets &&
	       a->dirptr == b->dirptr && a->dirlen == b->dirlen;
}

/* Why the header read at mp's address is not mp any more, or NULL. */
static const char *map_check(struct mw_model *m, struct mw_map *mp, const struct map_hdr *h,
			     mem_read_fn rd, void *ctx, uint32_t sg, bool have_sg)
{
	bool heap = false, held = false;
	struct go_obj o;

	if (!map_hdr_plausible(h, m->layout))
		return "its header no longer reads as a map";
	if (have_sg && !mp->on_stack &&
	    !goheap_object(&m->heap, rd, ctx, mp->addr, sg, mp->sg_known ? mp->sg_first : sg, &o)) {
		switch (o.state) {
		case GO_OBJ_STACK:
			mp->on_stack = true;
			break;
		case GO_OBJ_NOT_OBJECT: return "its header is not an allocated object";
		case GO_OBJ_FREE: return "the GC collected it";
		case GO_OBJ_REUSED: return "the GC collected it and its memory was allocated again";
		default:
			heap = true;
			break;
		}
	}
	/*
	 * The header seen held (marked by the last GC, or allocated since its span's sweep) at
	 * sg_held cannot be freed before the sweep of the next cycle (sg_held + 2); an object
	 * allocated in its place then would read as reused until the cycle after marks it. So
	 * up to sg_held + 2, not freed or reused now, it is the same allocation: this map.
	 */
	held = heap && mp->sg_held_known && (int32_t)(sg - mp->sg_held) <= 2;
	/*
	 * A new seed over other tables: another map here, or this one emptied (reseeded) and
	 * grown (new tables) while unwatched. Only the heap can tell them apart.
	 */
	if (other_seed_and_tables(m, mp, h) && !held)
		return "its hash seed and tables changed while unwatched: another map at its "
		       "address, or this one emptied and regrown";
	if (mp->doubt_ns && !held)	/* the writes since may be another map's */
		return "a write found another hash seed over other tables, and the heap could not "
		       "tell whether another map had its address";
	if (mp->doubt_ns) {
		mp->doubt_ns = 0;
		mp->reseeds++;
	}
	if (!heap)
		return NULL;
	/* hmap and internal/runtime/maps.Map are 48 bytes: a slot of that size class. */
	if (o.size < 48 || o.size > 64)
		return "its header is not an allocation of a map header's size";
	/* Marked by a GC whose marking began after we first saw the map: it was reachable. */
	if (o.state == GO_OBJ_MARKED && mp->sg_known && (int32_t)(sg - mp->sg_first) >= 4)
		mp->alive_marked = true;
	if (o.state == GO_OBJ_MARKED || o.state == GO_OBJ_ALLOCATED) {
		mp->sg_held = sg;
		mp->sg_held_known = true;
	}
	return NULL;
}

void model_refresh(struct mw_model *m, mem_read_fn rd, void *ctx, uint64_t now_ns, bool all)
{
	uint32_t sg = 0;
	bool have_sg = false;
	GHashTableIter it;
	gpointer v;
	GPtrArray *done = g_ptr_array_new();

	/* Resolve the heap's metadata against an address the program wrote as a map. */
	if (rd && m->heap.hl && !goheap_ready(&m->heap)) {
		g_hash_table_iter_init(&it, m->maps);
		while (g_hash_table_iter_next(&it, NULL, &v) && m->heap.tries < 16)
			if (((struct mw_map *)v)->assigns &&
			    goheap_resolve(&m->heap, rd, ctx, ((struct mw_map *)v)->addr))
				break;
	}
	if (rd && goheap_ready(&m->heap) && goheap_sweepgen(&m->heap, rd, ctx, &sg) == 0) {
		have_sg = true;
		m->sg_last = sg;
		m->sg_last_ns = now_ns;
		m->sg_last_known = true;
	}

	g_hash_table_iter_init(&it, m->maps);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct mw_map *mp = v;
		uint8_t raw[MW_HDR_BYTES];
		struct map_state keep;
		struct map_hdr h;
		const char *why;

		if (!all && !mp->dirty && !mp->hdr.oldbuckets)
			continue;
		mp->dirty = false;
		if (!rd) {	/* sizes from the headers the records carried */
			if (m->layout->impl == IMPL_HMAP)
				hmap_size(m, mp, NULL, NULL, 0);
			continue;
		}
		if (rd(ctx, mp->addr, raw, sizeof(raw)))
			continue;	/* unreadable (the target exited): keep what was known */
		map_hdr_decode(raw, m->layout, &h);
		keep = state_of(mp);
		why = map_check(m, mp, &h, rd, ctx, sg, have_sg);
		if (!why) {
			mp->hdr = h;
			why = m->layout->impl == IMPL_HMAP ? hmap_size(m, mp, rd, ctx, sg) :
							     swiss_size(m, mp, rd, ctx, sg);
			if (!why && room_never_needed(mp, h.count))
				why = "its tables hold far more room than it ever needed";
			if (why)
				state_restore(mp, &keep);
		}
		if (why) {
			/* Ended: keep the last good state; nothing is taken from this read. */
			mp->end_reason = why;
			g_ptr_array_add(done, mp);
			continue;
		}
		mp->validated = true;
		mp->hdr_pre_write = false;
		mp->reread_ns = mp->hdr_ns = now_ns;
		if (!mp->on_stack)
			saw_B(mp, &h);
		if (mp->on_stack && !same_state(&h, &keep.hdr)) {
			/*
			 * A stack copy may leave a stale header behind: a re-read can end a stack
			 * map, and size the state its last write left, never change its numbers
			 * (those come from its writes).
			 */
			state_restore(mp, &keep);
			continue;
		}
		if (mp->on_stack)
			continue;
		if (!mp->sg_known && have_sg) {
			mp->sg_first = sg;
			mp->sg_known = true;
		}
		if (!mp->seed_known || mp->seed != h.seed) {
			mp->reseeds += mp->seed_known;	/* emptied meanwhile (map_check) */
			mp->seed = h.seed;
			mp->seed_known = true;
		}
		if (mp->hdr.count > mp->peak_len) {
			mp->peak_len = mp->hdr.count;
			mp->peak_ns = now_ns;
		}
		if (mp->peak_len - mp->hdr.count > mp->max_drop)
			mp->max_drop = mp->peak_len - mp->hdr.count;
		if (m->layout->impl == IMPL_HMAP)
			track_evacuation(mp, now_ns);
	}
	for (guint i = 0; i < done->len; i++) {
		struct mw_map *mp = g_ptr_array_index(done, i);

		map_end(m, mp, mp->end_reason, now_ns);
	}
	g_ptr_array_unref(done);
}

/* Is the map still alive at the end, and how do we know? (after the final refresh) */
static enum mw_alive alive_at_end(const struct mw_model *m, const struct mw_map *mp,
				  uint64_t end_ns, uint64_t recent_ns)
{
	if (mp->last_ns && mp->last_ns + recent_ns >= end_ns)
		return MW_ALIVE_WRITTEN;
	if (mp->on_stack || !mp->validated)
		return MW_ALIVE_UNKNOWN;	/* a stack copy may be stale; never re-read */
	if (mp->sg_known && mp->alive_marked)
		return MW_ALIVE_MARKED;
	return goheap_ready(&m->heap) ? MW_ALIVE_VALID : MW_ALIVE_UNKNOWN;
}

static gint by_count(gconstpointer a, gconstpointer b)
{
	const struct mw_site *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

void model_finish(struct mw_model *m, uint64_t end_ns, uint64_t recent_ns)
{
	GHashTableIter it;
	gpointer v;
	GPtrArray *fold = g_ptr_array_new();

	/* Maps made here that were used briefly, long before the end: done with, freed or not. */
	g_hash_table_iter_init(&it, m->maps);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct mw_map *mp = v;

		if (mp->created_seen && mp->last_ok_ns >= mp->made_ns &&
		    mp->last_ok_ns - mp->made_ns < recent_ns && mp->last_ok_ns + recent_ns <= end_ns)
			made_of(m, mp)->idle++;
	}
	g_hash_table_iter_init(&it, m->maps);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct mw_map *mp = v;
		struct mw_made *md;

		mp->alive = alive_at_end(m, mp, end_ns, recent_ns);
		if (!mp->created_seen)
			continue;
		md = made_of(m, mp);
		/* One of many made at its site, most of them done with: short-lived, counted there. */
		if (md->made >= MW_SHORT_LIVED_MIN && (md->ended + md->idle) * 2 >= md->made)
			g_ptr_array_add(fold, mp);
	}
	for (guint i = 0; i < fold->len; i++) {
		struct mw_map *mp = g_ptr_array_index(fold, i);
		struct mw_made *md = made_of(m, mp);

		made_count(m, md, mp, false);
		md->folded++;
		g_hash_table_remove(m->maps, GSIZE_TO_POINTER(mp->addr));
	}
	g_ptr_array_unref(fold);

	/*
	 * Ended instances of a stack map written from one site more than once: counted there (a
	 * map on a stack lives no longer than its function's call, so two are a pattern; etcd
	 * listed one quorum check's vote map 8 times).
	 */
	for (guint i = 0; i < m->ended->len;) {
		struct mw_map *mp = g_ptr_array_index(m->ended, i);
		struct mw_made *md;

		if (!(mp->made_at_pc & MW_MADE_ON_STACK) ||
		    (md = made_of(m, mp))->made < MW_STACK_FOLD_MIN) {
			i++;
			continue;
		}
		made_count(m, md, mp, true);
		md->folded++;
		g_ptr_array_remove_index_fast(m->ended, i);	/* frees mp */
	}

	g_hash_table_iter_init(&it, m->maps);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_array_sort(((struct mw_map *)v)->sites, by_count);
	for (guint i = 0; i < m->ended->len; i++)
		g_array_sort(((struct mw_map *)g_ptr_array_index(m->ended, i))->sites, by_count);
	g_hash_table_iter_init(&it, m->mutexes);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_array_sort(((struct mw_mutex *)v)->sites, by_count);
	g_hash_table_iter_init(&it, m->syncmaps);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_array_sort(((struct mw_syncmap *)v)->sites, by_count);
}
