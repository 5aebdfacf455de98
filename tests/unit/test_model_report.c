// SPDX-License-Identifier: MIT
/* The model and the report on hand-made records, symbolised against a real fixture binary. */
#include <unistd.h>
#include "check.h"
#include "model.h"
#include "report.h"
#include "detect/detect.h"

static struct gobin gb;
static const struct go_layout *layout;

/* A return address inside function fn whose line is line. */
static uint64_t retaddr_at(const char *fn, int line)
{
	const struct go_func *f = pclntab_func_named(&gb.pcln, fn, NULL);

	for (uint64_t pc = f ? f->entry : 0; f && pc < f->end; pc++) {
		const char *file;
		int l;

		if (!pclntab_line(&gb.pcln, f, pc, &file, &l) && l == line)
			return pc + 1;
	}
	return 0;
}

static struct mw_call_rec rec(enum probe_id fn, uint64_t goid, uint64_t caller, uint64_t before,
			      uint64_t after)
{
	struct mw_call_rec r = { .type = MW_REC_CALL, .fn = fn, .goid = goid,
				 .obj = 0xc000010000, .caller = caller, .t_entry = 100,
				 .t_ret = 200, .entries = 1 };

	memcpy(r.hdr_before + layout->count, &before, 8);
	memcpy(r.hdr_after + layout->count, &after, 8);
	r.hdr_after[layout->B] = 3;
	return r;
}

static json_object *jget(json_object *o, const char *path)
{
	char buf[256], *save, *k;

	snprintf(buf, sizeof(buf), "%s", path);
	for (k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
		if (*k >= '0' && *k <= '9')
			o = json_object_array_get_idx(o, (size_t)atoi(k));
		else if (!json_object_object_get_ex(o, k, &o))
			return NULL;
	}
	return o;
}

static void build_model(struct mw_model *m)
{
	uint64_t a = retaddr_at("main.assign64", 19), d = retaddr_at("main.delete64", 29);
	struct mw_call_rec r;

	EXPECT(a && d);
	model_init(m, &gb, layout, 0);
	for (uint64_t i = 0; i < 10; i++) {
		r = rec(PROBE_MAPASSIGN_FAST64, 1, a, i, i + 1);
		EXPECT(!model_ingest(m, &r, sizeof(r)));
	}
	/* Called from inside the runtime: the site is the first user frame of the stack. */
	r = rec(PROBE_MAPDELETE_FAST64, 7, retaddr_at("runtime.mapassign_fast64", 0) ?: 0x401001,
		10, 9);
	r.flags = MW_F_STACK;
	r.nstack = 3;
	r.stack[1] = d;
	EXPECT(!model_ingest(m, &r, sizeof(r)));
	r = rec(PROBE__COUNT + 5, 1, a, 0, 0);	/* not a probe of ours */
	EXPECT(model_ingest(m, &r, sizeof(r)));
	EXPECT(model_ingest(m, &r, 8));	/* short */
}

static void model_counts_sites_and_writers(void)
{
	struct mw_model m;
	struct mw_map *mp;

	build_model(&m);
	EXPECT(g_hash_table_size(m.maps) == 1);
	mp = g_hash_table_lookup(m.maps, GSIZE_TO_POINTER(0xc000010000));
	EXPECT(mp && mp->assigns == 10 && mp->deletes == 1 && mp->clears == 0);
	EXPECT(mp && g_hash_table_size(mp->writers) == 2);
	EXPECT(mp && mp->peak_len == 10 && mp->hdr.count == 9 && mp->hdr.B == 3);
	EXPECT(mp && mp->sites->len == 2);
	EXPECT(m.rejected == 2 && m.writes == 11);
	model_free(&m);
}

/*
 * BPF takes a stack for the first write of a (map, caller) pair; the later ones get it back in
 * the model. A caller that is not user code is queued so that BPF takes its stack every time.
 */
static void pair_stacks_are_reused(void)
{
	uint64_t d = retaddr_at("main.delete64", 29);
	uint64_t inner = retaddr_at("runtime.mapassign_fast64", 0) ?: 0x401001;
	struct mw_call_rec r;
	struct mw_model m;
	struct mw_map *mp;

	model_init(&m, &gb, layout, 0);
	for (int i = 0; i < 3; i++) {
		r = rec(PROBE_MAPDELETE_FAST64, 7, inner, 10, 9);
		if (i == 0) {	/* the first: with its stack */
			r.flags = MW_F_STACK;
			r.nstack = 3;
			r.stack[1] = d;
		} else {
			r.flags = MW_F_STACK_KNOWN;
		}
		EXPECT(!model_ingest(&m, &r, sizeof(r)));
	}
	mp = g_hash_table_lookup(m.maps, GSIZE_TO_POINTER(0xc000010000ULL));
	EXPECT(mp && mp->sites->len == 1 &&
	       g_array_index(mp->sites, struct mw_site, 0).count == 3 &&
	       !strcmp(g_array_index(mp->sites, struct mw_site, 0).sym.function, "main.delete64"));
	EXPECT(m.stacks_missed == 0);
	/* the runtime caller is queued once for BPF */
	EXPECT(m.deep_new->len == 1 && g_array_index(m.deep_new, uint64_t, 0) == inner);
	/* a pair whose stack never came: counted, its caller stands for the site */
	r = rec(PROBE_MAPDELETE_FAST64, 7, d, 10, 9);
	r.obj = 0xc000020000;
	r.flags = MW_F_STACK_KNOWN;
	EXPECT(!model_ingest(&m, &r, sizeof(r)));
	EXPECT(m.stacks_missed == 1);
	model_free(&m);
}

/* A record's header with this seed (and count). */
static void set_seed(uint8_t *hdr, uint64_t seed)
{
	memcpy(hdr + layout->seed, &seed, layout->impl == IMPL_HMAP ? 4 : 8);
}

/* A record's headers pointing at these tables (bucket array, or Swiss directory). */
static void set_tables(struct mw_call_rec *r, uint64_t tables)
{
	int off = layout->impl == IMPL_HMAP ? layout->buckets : layout->dirptr;

	memcpy(r->hdr_before + off, &tables, 8);
	memcpy(r->hdr_after + off, &tables, 8);
}

/*
 * Writes counted in BPF (tallies) are writes of their map and site: the site from the stack
 * a recorded write of the (map, caller) pair brought, the count's fall since as removals, no
 * goroutine as a writer; lock waits while the hot probes but not the recording ones were on
 * (a tally window) are neither the program's own nor the map's.
 */
static void tallies_count_as_writes(void)
{
	uint64_t d = retaddr_at("main.delete64", 29);
	uint64_t inner = retaddr_at("runtime.mapassign_fast64", 0) ?: 0x401001;
	struct mw_tally_rec t = { .type = MW_REC_TALLY, .tgid = 42 };
	struct mw_call_rec r = rec(PROBE_MAPDELETE_FAST64, 7, inner, 10, 9), lk;
	struct mw_model m;
	struct mw_mutex *mx;
	struct mw_map *mp;

	model_init(&m, &gb, layout, 0);
	r.tgid = 42;
	r.flags = MW_F_STACK;
	r.nstack = 3;
	r.stack[1] = d;
	set_seed(r.hdr_before, 77);
	set_seed(r.hdr_after, 77);
	EXPECT(!model_ingest(&m, &r, sizeof(r)));
	t.k = (struct mw_tally_key){ .tgid = 42, .fn = PROBE_MAPDELETE_FAST64, .map = r.obj,
				     .seed = 77, .caller = inner };
	t.v.n = 500;
	t.v.t_first = 300;
	t.v.t_last = 900;
	memcpy(t.v.hdr + layout->count, &(uint64_t){ 5 }, 8);
	set_seed(t.v.hdr, 77);
	EXPECT(!model_ingest(&m, &t, sizeof(t)));
	mp = g_hash_table_lookup(m.maps, GSIZE_TO_POINTER(r.obj));
	EXPECT(mp && mp->deletes == 501 && mp->sites->len == 1);
	EXPECT(mp && g_array_index(mp->sites, struct mw_site, 0).count == 501 &&
	       !strcmp(g_array_index(mp->sites, struct mw_site, 0).sym.function, "main.delete64"));
	EXPECT(mp && g_hash_table_size(mp->writers) == 1);
	EXPECT_MSG(mp && mp->removals == 5 && mp->inserts == 0 && mp->hdr.count == 5,
		   "removals %llu, count %llu", mp ? (unsigned long long)mp->removals : 0,
		   mp ? (unsigned long long)mp->hdr.count : 0);
	EXPECT(mp && mp->last_ns == 900 && mp->hdr_pre_write);
	EXPECT(m.writes == 501 && m.tallied == 500 && m.stacks_missed == 0);
	/* two tallies of the map read in no order: the older header changes nothing */
	t.k.caller = d;
	t.v.n = 10;
	t.v.t_first = 950;
	t.v.t_last = 1000;
	memcpy(t.v.hdr + layout->count, &(uint64_t){ 20 }, 8);
	EXPECT(!model_ingest(&m, &t, sizeof(t)));
	t.k.caller = inner;
	t.v.t_first = 920;
	t.v.t_last = 940;
	memcpy(t.v.hdr + layout->count, &(uint64_t){ 12 }, 8);
	EXPECT(!model_ingest(&m, &t, sizeof(t)));
	EXPECT_MSG(mp && mp->inserts == 10 && mp->removals == 5 && mp->hdr.count == 20 &&
		   mp->last_ns == 1000 && mp->peak_len == 20 && mp->peak_ns == 1000,
		   "inserts %llu, removals %llu, count %llu",
		   mp ? (unsigned long long)mp->inserts : 0,
		   mp ? (unsigned long long)mp->removals : 0,
		   mp ? (unsigned long long)mp->hdr.count : 0);
	EXPECT(mp && mp->deletes == 521);
	/*
	 * a growth's record, newer, comes before a tally of older writes (tallies are read every
	 * 100 ms): the tally's older header lowers nothing
	 */
	r = rec(PROBE_HASHGROW, 7, inner, 30, 30);
	r.obj = t.k.map;
	r.t_entry = 1090;
	r.t_ret = 1100;
	set_seed(r.hdr_before, 77);
	set_seed(r.hdr_after, 77);
	set_tables(&r, 0xc000100000);
	EXPECT(!model_ingest(&m, &r, sizeof(r)));
	t.v.t_first = 1040;
	t.v.t_last = 1050;
	memcpy(t.v.hdr + layout->count, &(uint64_t){ 25 }, 8);
	EXPECT(!model_ingest(&m, &t, sizeof(t)));
	EXPECT_MSG(mp && mp->hdr.count == 30 && mp->removals == 5 && mp->max_drop == 5,
		   "count %llu, removals %llu, max_drop %llu",
		   mp ? (unsigned long long)mp->hdr.count : 0,
		   mp ? (unsigned long long)mp->removals : 0,
		   mp ? (unsigned long long)mp->max_drop : 0);
	/* not a write, or nothing counted: rejected */
	t.v.n = 1;
	t.k.fn = PROBE_MAKEMAP;
	EXPECT(model_ingest(&m, &t, sizeof(t)));
	t.k.fn = PROBE_MAPDELETE_FAST64;
	t.v.n = 0;
	EXPECT(model_ingest(&m, &t, sizeof(t)));
	EXPECT(model_ingest(&m, &t, sizeof(t) - 1));
	/*
	 * A wait while the hot probes were on but not the recording ones (a tally window), one
	 * while nothing was, one in a recording window.
	 */
	model_hot_probes(&m, 1000, true);
	model_hot_probes(&m, 2000, false);
	model_hot_probes(&m, 2500, true);
	model_rec_probes(&m, 2500, true);
	model_rec_probes(&m, 2800, false);
	model_hot_probes(&m, 2800, false);
	lk = (struct mw_call_rec){ .type = MW_REC_CALL, .fn = PROBE_MUTEX_LOCKSLOW, .goid = 9,
				   .obj = 0xc000050000, .t_entry = 1100, .t_ret = 1200 };
	EXPECT(!model_ingest(&m, &lk, sizeof(lk)));
	lk.t_entry = 2100;
	lk.t_ret = 2300;
	EXPECT(!model_ingest(&m, &lk, sizeof(lk)));
	lk.t_entry = 2600;
	lk.t_ret = 2700;
	EXPECT(!model_ingest(&m, &lk, sizeof(lk)));
	mx = g_hash_table_lookup(m.mutexes, GSIZE_TO_POINTER(0xc000050000));
	EXPECT(mx && mx->unnamed_waits == 1 && mx->unnamed_ns == 100 && mx->base_waits == 1 &&
	       mx->base_ns == 200 && mx->nwaits == 3);
	EXPECT(model_unnamed_ns(&m, 0, 3000) == 1000 && model_hot_off_ns(&m, 0, 3000) == 1700);
	model_free(&m);
}

/*
 * A map emptied between two epochs was reseeded by the runtime over the same tables: it keeps
 * its creation site; a new seed over other tables is another map.
 */
static void epochs_carry_an_emptied_map(void)
{
	uint64_t a = retaddr_at("main.assign64", 19);
	struct mw_model m1, m2, m3;
	struct mw_call_rec r;
	struct mw_map *mp;

	EXPECT(a);
	model_init(&m1, &gb, layout, 0);
	r = rec(PROBE_MAKEMAP_SMALL, 1, a, 0, 0);
	set_seed(r.hdr_after, 0x1234567);
	set_tables(&r, 0xc000080000);
	EXPECT(!model_ingest(&m1, &r, sizeof(r)));
	r = rec(PROBE_MAPASSIGN_FAST64, 1, a, 0, 1);
	set_seed(r.hdr_before, 0x1234567);
	set_seed(r.hdr_after, 0x1234567);
	set_tables(&r, 0xc000080000);
	EXPECT(!model_ingest(&m1, &r, sizeof(r)));

	model_init(&m2, &gb, layout, 0);
	model_take_carried(&m2, model_carry(&m1, 1000));
	r = rec(PROBE_MAPASSIGN_FAST64, 1, a, 0, 1);
	set_seed(r.hdr_before, 0x2345678);	/* emptied and reseeded meanwhile */
	set_seed(r.hdr_after, 0x2345678);
	set_tables(&r, 0xc000080000);
	EXPECT(!model_ingest(&m2, &r, sizeof(r)));
	mp = g_hash_table_lookup(m2.maps, GSIZE_TO_POINTER(0xc000010000ULL));
	EXPECT(mp && mp->created_carried && !strcmp(mp->created_at.function, "main.assign64"));

	model_init(&m3, &gb, layout, 0);
	model_take_carried(&m3, model_carry(&m1, 1000));
	r = rec(PROBE_MAPASSIGN_FAST64, 1, a, 0, 1);
	set_seed(r.hdr_before, 0x2345678);
	set_tables(&r, 0xc000090000);	/* tables of its own: another map */
	EXPECT(!model_ingest(&m3, &r, sizeof(r)));
	mp = g_hash_table_lookup(m3.maps, GSIZE_TO_POINTER(0xc000010000ULL));
	EXPECT(mp && !mp->created_carried);
	model_free(&m1);
	model_free(&m2);
	model_free(&m3);
}

/*
 * The daemon's epochs: a map made in one epoch keeps its creation site in the next if it is
 * the same map (same hash seed), not if another map took its address; the last pair of
 * writers seen at once is kept too, and names the map when the runtime kills the process in
 * a later epoch that saw no overlap itself.
 */
static void epochs_carry_creation_and_pairs(void)
{
	uint64_t a = retaddr_at("main.assign64", 19), d = retaddr_at("main.delete64", 29);
	struct mw_model m1, m2, m3;
	struct mw_call_rec r;
	struct mw_overlap_rec o = { .type = MW_REC_OVERLAP, .map = 0xc000010000, .goid_first = 3,
				    .goid_second = 4, .t = 150, .t_first = 120 };
	struct mw_fatal_rec f = { .type = MW_REC_FATAL, .goid = 4, .t = 300,
				  .msg_len = sizeof("concurrent map writes") - 1 };
	struct mw_map *mp;
	json_object *fs, *fd;
	struct detect_opts opts;
	struct detect_ctx dc;

	EXPECT(a && d);
	model_init(&m1, &gb, layout, 0);
	r = rec(PROBE_MAKEMAP_SMALL, 1, a, 0, 0);
	set_seed(r.hdr_after, 0x1234567);
	EXPECT(!model_ingest(&m1, &r, sizeof(r)));
	r = rec(PROBE_MAPASSIGN_FAST64, 1, a, 0, 1);
	set_seed(r.hdr_before, 0x1234567);
	set_seed(r.hdr_after, 0x1234567);
	EXPECT(!model_ingest(&m1, &r, sizeof(r)));
	o.caller_first = a;
	o.caller_second = d;
	EXPECT(!model_ingest(&m1, &o, sizeof(o)));
	mp = g_hash_table_lookup(m1.maps, GSIZE_TO_POINTER(0xc000010000ULL));
	EXPECT(mp && mp->created_seen && mp->overlaps == 1);

	/* the next epoch: the same map written again */
	model_init(&m2, &gb, layout, 0);
	model_take_carried(&m2, model_carry(&m1, 1000));
	r = rec(PROBE_MAPASSIGN_FAST64, 1, d, 1, 2);
	set_seed(r.hdr_before, 0x1234567);
	EXPECT(!model_ingest(&m2, &r, sizeof(r)));
	mp = g_hash_table_lookup(m2.maps, GSIZE_TO_POINTER(0xc000010000ULL));
	EXPECT(mp && !mp->created_seen && mp->created_carried &&
	       !strcmp(mp->created_at.function, "main.assign64"));
	EXPECT(mp && mp->overlaps == 0);	/* counts are the epoch's own */

	/* another map at the address (another seed): not the one made there */
	model_init(&m3, &gb, layout, 0);
	model_take_carried(&m3, model_carry(&m2, 2000));
	r = rec(PROBE_MAPASSIGN_FAST64, 1, d, 1, 2);
	set_seed(r.hdr_before, 0x7654321);
	EXPECT(!model_ingest(&m3, &r, sizeof(r)));
	mp = g_hash_table_lookup(m3.maps, GSIZE_TO_POINTER(0xc000010000ULL));
	EXPECT(mp && !mp->created_carried);

	/* the runtime kills the process in an epoch that saw no overlap: the pair is named */
	memcpy(f.msg, "concurrent map writes", f.msg_len);
	f.caller = d;
	EXPECT(!model_ingest(&m2, &f, sizeof(f)));
	model_finish(&m2, 3000, 1000);
	detect_defaults(&opts);
	dc = (struct detect_ctx){ .m = &m2, .o = &opts, .duration_s = 1, .start_ns = 0,
				  .end_ns = 3000 };
	fs = detect_all(&dc);
	fd = NULL;
	for (size_t i = 0; i < json_object_array_length(fs); i++)
		if (!strcmp(json_object_get_string(jget(json_object_array_get_idx(fs, i), "kind")),
			    "concurrent_write"))
			fd = json_object_array_get_idx(fs, i);
	EXPECT(fd && json_object_get_boolean(jget(fd, "evidence.pair_seen_earlier")));
	EXPECT(fd && jget(fd, "map") && strstr(json_object_get_string(jget(fd, "summary")),
						"main.assign64") &&
	       strstr(json_object_get_string(jget(fd, "summary")), "main.delete64"));
	json_object_put(fs);
	model_free(&m1);
	model_free(&m2);
	model_free(&m3);
}

/*
 * Write counts seen in windows are scaled by the program's work while they recorded (its CPU
 * clock less the probes' price), and not at all where the probes left too little of it.
 */
static void report_scales_by_work(void)
{
	struct capture_meta meta = { .pid = 42, .exe = "/srv/x", .go_version = gb.bi.version,
				     .map_impl = "hmap", .end_reason = "duration",
				     .events_total = 12, .probe_hits = 24, .duration_s = 10,
				     .trap_measured = true, .trap_emulated_s = 1e-6,
				     .trap_stepped_s = 10e-6 };
	/* 0.5 s recording at 0.8 CPU of work, 9 s outside at 1 CPU: 4.3% of its work */
	struct budget_work slowed = { .known = true, .in_s = 0.5, .in_cpu = 0.5, .in_cost = 0.1,
				      .out_s = 9, .out_cpu = 9 };
	struct budget b;
	struct mw_model m;
	json_object *doc;
	char *text = NULL;
	size_t tlen = 0;
	FILE *f;

	budget_init(&b, 0.02, 0, (1 << MW_CLASS__COUNT) - 1, 1 << MW_CLASS_CORE,
		    1 << MW_CLASS_LOCK, 1 << MW_CLASS_WRITE);
	budget_account(&b, MW_CLASS_WRITE, 0.5, 24, 0.00048);
	b.windows = b.cls[MW_CLASS_WRITE].windows = 3;
	b.cls[MW_CLASS_WRITE].window_s = 0.5;
	/* the lock class: kept attached but for one window of 0.6 s */
	budget_account(&b, MW_CLASS_LOCK, 10, 5, 0.0001);
	b.cls[MW_CLASS_LOCK].windows = 1;
	b.cls[MW_CLASS_LOCK].window_s = 0.6;
	meta.budget = &b;
	for (int dominated = 0; dominated < 2; dominated++) {
		meta.work = slowed;
		if (dominated)
			meta.work.in_cost = 0.45;	/* 0.05 s left of 0.5: within its error */
		build_model(&m);
		model_refresh(&m, NULL, NULL, 0, true);
		doc = report_build(&m, &meta, NULL);
		f = open_memstream(&text, &tlen);
		report_print_text(doc, f);
		fclose(f);
		if (!dominated) {
			/* 10 writes seen: over 0.4 / 9.4 of the work, not 0.5 / 9.5 of the time */
			EXPECT_MSG(json_object_get_int(jget(doc, "maps.0.sites.0.estimated_count")) ==
					   235,
				   "%d", json_object_get_int(jget(doc, "maps.0.sites.0.estimated_count")));
			EXPECT_MSG(strstr(text, "lock   probes: in 1 window, attached 10.00 s "
						"(100.0% of the capture), 0.000 s of CPU (9.40 s of "
						"it kept attached, outside windows)") &&
					   !strstr(text, "0.000 s of CPU (0.") &&
					   strstr(text, "write  probes: in 3 windows"),
				   "%s", text);
			EXPECT_MSG(strstr(text, "did 4.3% of its work then") &&
					   strstr(text, "(sampled: ~"),
				   "%s", text);
		} else {
			EXPECT(!jget(doc, "maps.0.sites.0.estimated_count") &&
			       !jget(doc, "maps.0.estimated_writes") &&
			       json_object_get_double(jget(doc, "overhead.write_estimate_fraction")) == 0);
			EXPECT_MSG(strstr(text, "the probes took 90% of the program's CPU while "
					   "recording") &&
					   strstr(text, "to scale its counts into totals") &&
					   strstr(text, "(sampled)") && !strstr(text, "~"),
				   "%s", text);
		}
		free(text);
		text = NULL;
		json_object_put(doc);
		model_free(&m);
	}
}

/*
 * Maps seen only in a growth (no write, no creation) are counted under MAPS WRITTEN, not
 * listed, unless a finding names one.
 */
static void growth_only_maps_are_counted(void)
{
	static const char doc_text[] =
		"{\"schema\": \"mapwatch.capture/v1\", \"maps\": ["
		"{\"id\": \"0xc000001000\", \"type\": null, \"created_at\": null, \"len\": 416,"
		" \"assigns\": 0, \"deletes\": 0, \"clears\": 0, \"growths\": 7},"
		"{\"id\": \"0xc000002000\", \"type\": null, \"created_at\": null, \"len\": 26,"
		" \"assigns\": 0, \"deletes\": 0, \"clears\": 0, \"growths\": 2},"
		"{\"id\": \"0xc000003000\", \"type\": \"map[int]int\", \"created_at\": null,"
		" \"len\": 3, \"assigns\": 3, \"deletes\": 0, \"clears\": 0, \"growths\": 0}],"
		" \"findings\": [{\"kind\": \"no_shrink\", \"severity\": \"warning\","
		" \"map\": \"0xc000002000\", \"summary\": \"s\"}]}";
	char err[256], *text = NULL;
	size_t tlen = 0;
	json_object *doc = report_parse(doc_text, sizeof(doc_text) - 1, "t", err, sizeof(err));
	FILE *f;

	EXPECT_MSG(doc, "%s", err);
	if (!doc)
		return;
	f = open_memstream(&text, &tlen);
	report_print_text(doc, f);
	fclose(f);
	EXPECT_MSG(strstr(text, "MAPS WRITTEN (2)") && !strstr(text, "map 0xc000001000") &&
			   strstr(text, "map 0xc000002000") && strstr(text, "map 0xc000003000") &&
			   strstr(text, "and 1 map seen only in a growth"),
		   "%s", text);
	free(text);
	json_object_put(doc);
}

/* The user's code is what is not the runtime's machinery (reflect's map calls included). */
static void user_functions(void)
{
	EXPECT(sym_is_user_function("main.main"));
	EXPECT(sym_is_user_function("encoding/json.(*decodeState).object"));
	EXPECT(!sym_is_user_function("runtime.mapassign"));
	EXPECT(!sym_is_user_function("reflect.makemap"));	/* runtime/map.go, linked in */
	EXPECT(!sym_is_user_function("reflect.Value.SetMapIndex"));
	EXPECT(!sym_is_user_function("internal/runtime/maps.(*Map).putSlotSmall"));
	EXPECT(!sym_is_user_function("sync.(*Map).Store"));
	EXPECT(!sym_is_user_function("?"));
}

static void report_names_functions_and_lines(void)
{
	struct capture_meta meta = { .pid = 42, .exe = "/srv/x", .go_version = gb.bi.version,
				     .map_impl = "hmap", .end_reason = "duration",
				     .events_total = 12, .probe_hits = 24, .duration_s = 10,
				     .trap_measured = true, .trap_emulated_s = 1e-6,
				     .trap_stepped_s = 10e-6, .handler_entry_s = 2e-6,
				     .handler_ret_s = 1e-6 };
	struct budget b;
	struct mw_model m;
	json_object *doc, *back;
	char tmp[] = "/tmp/mw-report-XXXXXX", err[256], *text = NULL;
	size_t tlen = 0;
	FILE *f;
	int fd = mkstemp(tmp);

	close(fd);
	/* map writes watched in 3 windows, half a second of the 10 s: counts are samples */
	budget_init(&b, 0.02, 0, (1 << MW_CLASS__COUNT) - 1, 1 << MW_CLASS_CORE,
		    1 << MW_CLASS_LOCK, 1 << MW_CLASS_WRITE);
	budget_account(&b, MW_CLASS_WRITE, 0.5, 24, 0.00048);
	b.windows = b.cls[MW_CLASS_WRITE].windows = 3;
	meta.budget = &b;
	build_model(&m);
	model_refresh(&m, NULL, NULL, 0, true);	/* sizes from the headers seen */
	doc = report_build(&m, &meta, NULL);
	EXPECT(!strcmp(json_object_get_string(jget(doc, "schema")), "mapwatch.capture/v1"));
	EXPECT(!strcmp(json_object_get_string(jget(doc, "maps.0.id")), "0xc000010000"));
	EXPECT(!strcmp(json_object_get_string(jget(doc, "maps.0.sites.0.function")),
		       "main.assign64"));
	EXPECT(json_object_get_int(jget(doc, "maps.0.sites.0.line")) == 19);
	EXPECT(json_object_get_int(jget(doc, "maps.0.sites.0.count")) == 10);
	EXPECT(!strcmp(json_object_get_string(jget(doc, "maps.0.sites.0.op")), "assign"));
	EXPECT(!strcmp(json_object_get_string(jget(doc, "maps.0.sites.1.function")),
		       "main.delete64"));
	EXPECT(json_object_get_int(jget(doc, "maps.0.sites.1.line")) == 29);
	EXPECT(json_object_get_int(jget(doc, "maps.0.capacity")) == 64);
	EXPECT(json_object_get_int(jget(doc, "maps.0.writers")) == 2);
	EXPECT(json_object_array_length(jget(doc, "findings")) == 0);
	EXPECT(json_object_get_double(jget(doc, "overhead.estimated_target_cpu_s")) > 0.00047);
	EXPECT(json_object_get_double(jget(doc, "overhead.write_observed_fraction")) == 0.05);
	EXPECT(json_object_get_int(jget(doc, "maps.0.sites.0.estimated_count")) == 200);
	EXPECT(json_object_get_int(jget(doc, "overhead.budget.windows")) == 3);

	EXPECT(!report_write_json(doc, tmp, err, sizeof(err)));
	EXPECT(!report_read(tmp, &back, err, sizeof(err)));
	EXPECT(back && json_object_equal(doc, back));
	f = open_memstream(&text, &tlen);
	report_print_text(back, f);
	fclose(f);
	EXPECT_MSG(strstr(text, "main.assign64 (") && strstr(text, "main.go:19)"), "%s", text);
	EXPECT_MSG(strstr(text, "write  probes: in 3 windows") && strstr(text, "(sampled: ~"),
		   "%s", text);
	EXPECT(strstr(text, "24 probe hits"));
	free(text);
	json_object_put(back);
	json_object_put(doc);
	model_free(&m);

	f = fopen(tmp, "w");
	fputs("{\"schema\": \"something else\"}", f);
	fclose(f);
	EXPECT(report_read(tmp, &back, err, sizeof(err)) == REPORT_ERR_MALFORMED && !back &&
	       strstr(err, "not a mapwatch capture"));
	doc = json_object_new_object();
	EXPECT(report_write_json(doc, "/nonexistent/dir/r.json", err, sizeof(err)) &&
	       strstr(err, "/nonexistent/dir"));
	json_object_put(doc);
	unlink(tmp);
}

static void swiss_header_decodes(void)
{
	struct go_buildinfo bi = { .version = "go1.26.1", .v = { 1, 26, 1, false } };
	const struct go_layout *l;
	uint8_t raw[MW_HDR_BYTES] = { 0 };
	struct map_hdr h;
	uint64_t used = 1234, dirlen = 8;
	char err[128];

	l = go_layout_for(&bi, err, sizeof(err));
	EXPECT(l && l->impl == IMPL_SWISS);
	if (!l)
		return;
	memcpy(raw, &used, 8);
	memcpy(raw + 24, &dirlen, 8);
	raw[34] = 1;
	map_hdr_decode(raw, l, &h);
	EXPECT(h.count == 1234 && h.dirlen == 8 && h.writing && h.B == -1);
}

static void plausible_headers(void)
{
	struct map_hdr h = { .count = 100, .B = 4, .buckets = 0xc000, .dirlen = -1 };
	struct go_buildinfo bi = { .v = { 1, 26, 1, false } };
	const struct go_layout *sw;
	char err[128];

	EXPECT(map_hdr_plausible(&h, layout));
	h.B = 90;				/* not a bucket count */
	EXPECT(!map_hdr_plausible(&h, layout));
	h = (struct map_hdr){ .count = 5000, .B = 2, .buckets = 0xc000, .dirlen = -1 };
	EXPECT(!map_hdr_plausible(&h, layout));	/* far more than 4 buckets hold */
	sw = go_layout_for(&bi, err, sizeof(err));
	h = (struct map_hdr){ .count = 5000, .dirlen = 8, .globaldepth = 3, .dirptr = 0xc000 };
	EXPECT(sw && map_hdr_plausible(&h, sw));
	h.dirlen = 6;				/* directories are powers of two */
	EXPECT(sw && !map_hdr_plausible(&h, sw));
	h = (struct map_hdr){ .count = 9, .dirlen = 0 };	/* a small map holds 8 */
	EXPECT(sw && !map_hdr_plausible(&h, sw));
}

static void layouts_by_version(void)
{
	struct go_buildinfo bi = { .v = { 1, 24, 4, false } };
	const struct go_layout *l;
	char err[256], rel[256];
	int newest;

	l = go_layout_for(&bi, err, sizeof(err));
	EXPECT(l && l->impl == IMPL_SWISS && l->goid == 160);
	snprintf(bi.experiments, sizeof(bi.experiments), "noswissmap,nosynchashtriemap");
	l = go_layout_for(&bi, err, sizeof(err));
	EXPECT(l && l->impl == IMPL_HMAP && l->goid == 160);
	bi = (struct go_buildinfo){ .version = "go1.20.5", .v = { 1, 20, 5, false } };
	EXPECT(!go_layout_for(&bi, err, sizeof(err)) && strstr(err, "go1.20.5"));
	/* the refusal lists the catalogue's releases, from the table itself */
	go_catalogue_releases(rel, sizeof(rel));
	EXPECT_MSG(sscanf(rel, "go1.19, go1.21 ... go1.%d", &newest) == 1 && newest >= 27, "%s", rel);
	EXPECT_MSG(strstr(err, rel), "%s", err);
	bi = (struct go_buildinfo){ .version = "go1.27.4", .v = { 1, 27, 4, false } };
	l = go_layout_for(&bi, err, sizeof(err));
	EXPECT(l && l->impl == IMPL_SWISS && l->goid == 152 && l->md_gofunc == 344);
	bi = (struct go_buildinfo){ .version = "go1.99.1", .v = { 1, 99, 1, false } };
	EXPECT(!go_layout_for(&bi, err, sizeof(err)) && strstr(err, "go1.99.1"));
	bi = (struct go_buildinfo){ .v = { 1, 19, 8, false } };
	l = go_layout_for(&bi, err, sizeof(err));
	EXPECT(l && l->impl == IMPL_HMAP && l->goid == 152 && l->md_types == 280);
}

int main(void)
{
	static const struct check_case cases[] = {
		CASE(model_counts_sites_and_writers), CASE(pair_stacks_are_reused),
		CASE(epochs_carry_creation_and_pairs), CASE(epochs_carry_an_emptied_map),
		CASE(report_names_functions_and_lines), CASE(user_functions),
		CASE(report_scales_by_work), CASE(growth_only_maps_are_counted),
		CASE(swiss_header_decodes), CASE(plausible_headers), CASE(layouts_by_version),
		CASE(tallies_count_as_writes),
	};
	char path[512], err[256];

	snprintf(path, sizeof(path), "%s/1.22/writes.plain", fixtures_dir());
	if (gobin_open(&gb, path, err, sizeof(err))) {
		printf("not ok - model: cannot open %s: %s\n", path, err);
		return 1;
	}
	layout = go_layout_for(&gb.bi, err, sizeof(err));
	if (!layout || gobin_locate_text(&gb, layout->md_text, err, sizeof(err))) {
		printf("not ok - cannot place the functions of %s: %s\n", path, err);
		return 1;
	}
	return check_run("model", cases, sizeof(cases) / sizeof(cases[0]));
}
