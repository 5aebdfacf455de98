// SPDX-License-Identifier: MIT
#include <string.h>
#include "model.h"

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

static void map_free(gpointer p)
{
	struct mw_map *mp = p;

	g_hash_table_unref(mp->writers);
	g_array_unref(mp->sites);
	g_free(mp);
}

void model_init(struct mw_model *m, const struct gobin *gb, const struct go_layout *l,
		uint64_t bias)
{
	memset(m, 0, sizeof(*m));
	m->gb = gb;
	m->layout = l;
	m->bias = bias;
	m->maps = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, map_free);
}

void model_free(struct mw_model *m)
{
	if (m->maps)
		g_hash_table_unref(m->maps);
	m->maps = NULL;
}

static struct mw_map *map_get(struct mw_model *m, uint64_t addr)
{
	struct mw_map *mp = g_hash_table_lookup(m->maps, GSIZE_TO_POINTER(addr));

	if (mp)
		return mp;
	mp = g_new0(struct mw_map, 1);
	mp->addr = addr;
	mp->writers = g_hash_table_new(g_direct_hash, g_direct_equal);
	mp->sites = g_array_new(FALSE, TRUE, sizeof(struct mw_site));
	g_hash_table_insert(m->maps, GSIZE_TO_POINTER(addr), mp);
	return mp;
}

/*
 * The frame that names the write: the caller at [RSP] first, then the frame-pointer chain
 * past it (stack[0] is the probed runtime function itself, stack[1] the caller's caller).
 * The first frame outside runtime/sync/internal wins; else the immediate caller.
 */
static uint64_t site_pc(const struct mw_model *m, const struct mw_write_rec *r,
			struct frame_sym *sym)
{
	uint64_t first = r->caller ? r->caller - 1 - m->bias : 0;
	int n = (r->flags & MW_F_STACK) && r->nstack > 0 ? r->nstack : 0;

	if (n > MW_STACK_DEPTH)
		n = MW_STACK_DEPTH;
	for (int i = 0; i < n; i++) {
		uint64_t pc = i == 0 ? first : r->stack[i] - 1 - m->bias;

		if (i > 0 && !r->stack[i])
			break;
		if (!sym_pc(m->gb, pc, sym) && sym_is_user_function(sym->function))
			return pc;
	}
	sym_pc(m->gb, first, sym);
	return first;
}

static void add_site(struct mw_model *m, struct mw_map *mp, const struct mw_write_rec *r,
		     enum mw_op op)
{
	struct frame_sym sym;
	uint64_t pc = site_pc(m, r, &sym);

	for (guint i = 0; i < mp->sites->len; i++) {
		struct mw_site *s = &g_array_index(mp->sites, struct mw_site, i);

		if (s->pc == pc && s->op == op) {
			s->count++;
			return;
		}
	}
	g_array_append_val(mp->sites, ((struct mw_site){ .pc = pc, .op = op, .count = 1,
							 .sym = sym }));
}

int model_add_write(struct mw_model *m, const struct mw_write_rec *r)
{
	struct map_hdr before, after;
	struct mw_map *mp;
	enum mw_op op;

	if (r->type != MW_REC_WRITE || r->fn >= PROBE__COUNT || !r->map ||
	    r->t_ret < r->t_entry) {
		m->rejected++;
		return -1;
	}
	op = probe_defs[r->fn].op;
	mp = map_get(m, r->map);
	if (!mp->maptype && r->maptype) {
		mp->maptype = r->maptype - m->bias;
		if (gotype_name(m->gb, m->layout, mp->maptype, mp->type, sizeof(mp->type)))
			mp->type[0] = 0;
	}
	map_hdr_decode(r->hdr_before, m->layout, &before);
	map_hdr_decode(r->hdr_after, m->layout, &after);
	switch (op) {
	case MW_OP_ASSIGN: mp->assigns++; break;
	case MW_OP_DELETE: mp->deletes++; break;
	case MW_OP_CLEAR: mp->clears++; break;
	}
	if ((after.B > before.B) || (after.dirlen > before.dirlen && before.dirlen >= 0))
		mp->growths++;
	if (r->flags & MW_F_WRITING_AT_ENTRY)
		mp->writing_at_entry++;
	if (r->entries > 1)
		m->reentries += r->entries - 1;
	mp->hdr = after;
	mp->dirty = true;
	if (before.count > mp->peak_len)
		mp->peak_len = before.count;
	if (after.count > mp->peak_len)
		mp->peak_len = after.count;
	if (!mp->first_ns)
		mp->first_ns = r->t_entry;
	mp->last_ns = r->t_ret;
	g_hash_table_add(mp->writers, GSIZE_TO_POINTER(r->goid));
	add_site(m, mp, r, op);
	m->writes++;
	return 0;
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
	if (mp->hdr.oldbuckets)
		nb += mp->hdr.B > 0 ? nb / 2 : 1;
	mp->bytes = nb * bsz;
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

void model_refresh(struct mw_model *m, mem_read_fn rd, void *ctx, bool all)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, m->maps);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct mw_map *mp = v;
		uint8_t raw[MW_HDR_BYTES];

		if (!all && !mp->dirty)
			continue;
		mp->dirty = false;
		if (rd && rd(ctx, mp->addr, raw, sizeof(raw)) == 0) {
			map_hdr_decode(raw, m->layout, &mp->hdr);
			if (mp->hdr.count > mp->peak_len)
				mp->peak_len = mp->hdr.count;
		}
		if (m->layout->impl == IMPL_HMAP)
			hmap_size(m, mp);
		else
			swiss_size(m, mp, rd, ctx);
	}
}
