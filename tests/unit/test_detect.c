// SPDX-License-Identifier: MIT
/* Each detector on hand-built models: it fires on its pattern and stays quiet on near misses. */
#include "check.h"
#include "detect/detect.h"

static struct gobin gb;
static const struct go_layout *layout;
static struct detect_opts opts;

#define MAP1 0xc000100000ULL
#define MUTEX 0xc000200000ULL
#define MS 1000000ULL

static uint64_t retaddr_in(const char *fn)
{
	const struct go_func *f = pclntab_func_named(&gb.pcln, fn, NULL);

	return f ? f->entry + 8 : 0;
}

static void write_rec(struct mw_model *m, uint64_t map, uint64_t goid, uint64_t t,
		      uint64_t before, uint64_t after)
{
	struct mw_call_rec r = { .type = MW_REC_CALL, .fn = PROBE_MAPASSIGN_FAST64, .goid = goid,
				 .obj = map, .caller = retaddr_in("main.assign64"),
				 .t_entry = t, .t_ret = t + 1000, .entries = 1 };

	memcpy(r.hdr_before + layout->count, &before, 8);
	memcpy(r.hdr_after + layout->count, &after, 8);
	EXPECT(!model_ingest(m, &r, sizeof(r)));
}

static void lock_rec(struct mw_model *m, uint64_t goid, uint64_t t, uint64_t wait)
{
	struct mw_call_rec r = { .type = MW_REC_CALL, .fn = PROBE_MUTEX_LOCKSLOW, .goid = goid,
				 .obj = MUTEX, .caller = retaddr_in("main.assign64"),
				 .t_entry = t, .t_ret = t + wait, .entries = 1 };

	EXPECT(!model_ingest(m, &r, sizeof(r)));
}

static json_object *run(struct mw_model *m, double duration, uint64_t end_ns)
{
	struct detect_ctx c = { .m = m, .o = &opts, .duration_s = duration, .end_ns = end_ns };

	model_finish(m, end_ns, (uint64_t)(detect_recent_s(duration) * 1e9));
	return detect_all(&c);
}

/* What a re-read at the end would have shown: this map was marked by a later GC. */
static struct mw_map *marked_alive(struct mw_model *m, uint64_t addr)
{
	struct mw_map *mp = g_hash_table_lookup(m->maps, GSIZE_TO_POINTER(addr));

	mp->validated = mp->sg_known = mp->alive_marked = true;
	return mp;
}

static int count_kind(json_object *fs, const char *kind)
{
	int n = 0;

	for (size_t i = 0; i < json_object_array_length(fs); i++) {
		json_object *k;

		json_object_object_get_ex(json_object_array_get_idx(fs, i), "kind", &k);
		n += !strcmp(json_object_get_string(k), kind);
	}
	return n;
}

static void expect_kinds(struct mw_model *m, double duration, uint64_t end, const char *kind,
			 int want)
{
	json_object *fs = run(m, duration, end);

	EXPECT_MSG(count_kind(fs, kind) == want && (int)json_object_array_length(fs) == want,
		   "%s: want %d, findings: %s", kind, want, json_object_to_json_string(fs));
	json_object_put(fs);
}

static void concurrent_write(void)
{
	struct mw_model m;
	struct mw_overlap_rec o = { .type = MW_REC_OVERLAP, .map = MAP1, .goid_first = 5,
				    .goid_second = 6, .caller_first = retaddr_in("main.assign64"),
				    .caller_second = retaddr_in("main.delete64") };

	model_init(&m, &gb, layout, 0);
	write_rec(&m, MAP1, 5, 1 * MS, 0, 1);
	write_rec(&m, MAP1, 6, 2 * MS, 1, 2);	/* two goroutines, one after the other: fine */
	expect_kinds(&m, 1, 0, "concurrent_write", 0);
	EXPECT(!model_ingest(&m, &o, sizeof(o)));
	expect_kinds(&m, 1, 0, "concurrent_write", 1);
	/* the map then ends (its memory handed to a new map): the proof stays */
	{
		struct mw_call_rec c = { .type = MW_REC_CALL, .fn = PROBE_MAKEMAP_SMALL, .goid = 9,
					 .obj = MAP1, .caller = retaddr_in("main.assign64"),
					 .t_entry = 5 * MS, .t_ret = 5 * MS + 1000, .entries = 1 };

		EXPECT(!model_ingest(&m, &c, sizeof(c)));
		EXPECT(m.ended->len == 1);
	}
	expect_kinds(&m, 1, 0, "concurrent_write", 1);
	model_free(&m);

	/*
	 * The write flag seen first (its writer unknown), then an overlap that names both: the
	 * finding names both writers (a target killed by the runtime may leave no other).
	 */
	{
		struct mw_overlap_rec flag = o;
		json_object *fs, *sites = NULL, *ev = NULL, *gs = NULL;

		flag.goid_first = 0;
		flag.caller_first = 0;
		flag.flag_set = 1;
		model_init(&m, &gb, layout, 0);
		EXPECT(!model_ingest(&m, &flag, sizeof(flag)));
		EXPECT(!model_ingest(&m, &o, sizeof(o)));
		fs = run(&m, 1, 0);
		if (json_object_array_length(fs) == 1) {
			json_object *f = json_object_array_get_idx(fs, 0);

			json_object_object_get_ex(f, "sites", &sites);
			json_object_object_get_ex(f, "evidence", &ev);
			json_object_object_get_ex(ev, "goroutines", &gs);
		}
		EXPECT_MSG(sites && json_object_array_length(sites) == 2 && gs &&
				   json_object_array_length(gs) == 2,
			   "want both writers: %s", json_object_to_json_string(fs));
		json_object_put(fs);
		model_free(&m);
	}
}

/* Baseline: lock waits measured with only the lock probes on, for the first second. */
static void lock_model(struct mw_model *m)
{
	model_init(m, &gb, layout, 0);
	m->start_ns = 0;
	m->maps_ns = m->baseline_ns = 1000 * MS;
}

static void lock_contention(void)
{
	struct mw_model m;

	/* 4 waits of 50 ms in the 1 s baseline; under probes, each followed by a write of MAP1 */
	lock_model(&m);
	for (uint64_t g = 1; g <= 4; g++)
		lock_rec(&m, g, g * 100 * MS, 50 * MS);
	for (uint64_t g = 1; g <= 4; g++) {
		lock_rec(&m, g, 1000 * MS + g * 100 * MS, 50 * MS);
		write_rec(&m, MAP1, g, 1000 * MS + g * 100 * MS + 51 * MS, g - 1, g);
	}
	expect_kinds(&m, 2, 2000 * MS, "lock_contention", 1);
	model_free(&m);

	/* near miss: the same waits, but only while the map probes were on (observer effect) */
	lock_model(&m);
	for (uint64_t g = 1; g <= 4; g++) {
		lock_rec(&m, g, 1000 * MS + g * 100 * MS, 50 * MS);
		write_rec(&m, MAP1, g, 1000 * MS + g * 100 * MS + 51 * MS, g - 1, g);
	}
	expect_kinds(&m, 2, 2000 * MS, "lock_contention", 0);
	model_free(&m);

	/* near miss: no baseline was measured (--lock-baseline 0): not judged */
	lock_model(&m);
	m.baseline_ns = 0;
	m.maps_ns = 1;
	for (uint64_t g = 1; g <= 4; g++) {
		lock_rec(&m, g, g * 100 * MS, 50 * MS);
		write_rec(&m, MAP1, g, g * 100 * MS + 51 * MS, g - 1, g);
	}
	expect_kinds(&m, 1, 1000 * MS, "lock_contention", 0);
	model_free(&m);

	/* near miss: 150 ms of waits in a 2 s baseline (750 ms scaled to the capture, over
	 * contention_ms) is 7.5% of the time: under contention_pct (a host short of CPU) */
	lock_model(&m);
	m.maps_ns = m.baseline_ns = 2000 * MS;
	for (uint64_t g = 1; g <= 3; g++)
		lock_rec(&m, g, g * 100 * MS, 50 * MS);
	for (uint64_t g = 1; g <= 4; g++) {
		lock_rec(&m, g, 2000 * MS + g * 100 * MS, 1 * MS);
		write_rec(&m, MAP1, g, 2000 * MS + g * 100 * MS + 2 * MS, g - 1, g);
	}
	expect_kinds(&m, 10, 10000 * MS, "lock_contention", 0);
	model_free(&m);

	/* near miss: 4 ms of baseline waits in a 10 s capture */
	lock_model(&m);
	for (uint64_t g = 1; g <= 4; g++)
		lock_rec(&m, g, g * 100 * MS, 1 * MS);
	for (uint64_t g = 1; g <= 4; g++) {
		lock_rec(&m, g, 1000 * MS + g * 100 * MS, 1 * MS);
		write_rec(&m, MAP1, g, 1000 * MS + g * 100 * MS + 2 * MS, g - 1, g);
	}
	expect_kinds(&m, 10, 10000 * MS, "lock_contention", 0);
	model_free(&m);

	/*
	 * near miss: the lock is contended, but of its waits under probes only one in four came
	 * before a write of MAP1 (a subscriber's mutex taken on the way to writing another map:
	 * nats-server's deliverMsg): it does not guard the map
	 */
	lock_model(&m);
	for (uint64_t g = 1; g <= 4; g++)
		lock_rec(&m, g, g * 100 * MS, 50 * MS);
	for (uint64_t g = 1; g <= 4; g++)
		lock_rec(&m, g, 1000 * MS + g * 100 * MS, 50 * MS);
	write_rec(&m, MAP1, 1, 1000 * MS + 100 * MS + 51 * MS, 0, 1);
	expect_kinds(&m, 2, 2000 * MS, "lock_contention", 0);
	model_free(&m);

	/* near miss: long waits, but no map written while holding the lock */
	lock_model(&m);
	for (uint64_t g = 1; g <= 4; g++)
		lock_rec(&m, g, g * 100 * MS, 50 * MS);
	write_rec(&m, MAP1, 9, 1900 * MS, 0, 1);
	expect_kinds(&m, 2, 2000 * MS, "lock_contention", 0);
	model_free(&m);
}

static void unbounded_growth(void)
{
	struct mw_model m;

	/* still growing at the end of the capture */
	model_init(&m, &gb, layout, 0);
	write_rec(&m, MAP1, 1, 1 * MS, 0, 1);
	write_rec(&m, MAP1, 1, 900 * MS, 14999, 15000);
	expect_kinds(&m, 1, 1000 * MS, "unbounded_growth", 1);
	model_free(&m);

	/* near miss: filled to 15000 early, then only overwritten for 9 s: bounded */
	model_init(&m, &gb, layout, 0);
	write_rec(&m, MAP1, 1, 1 * MS, 0, 1);
	write_rec(&m, MAP1, 1, 900 * MS, 14999, 15000);
	write_rec(&m, MAP1, 1, 9900 * MS, 15000, 15000);
	expect_kinds(&m, 10, 10000 * MS, "unbounded_growth", 0);
	model_free(&m);

	/* near miss: rose by 5000 only */
	model_init(&m, &gb, layout, 0);
	write_rec(&m, MAP1, 1, 1 * MS, 0, 1);
	write_rec(&m, MAP1, 1, 900 * MS, 4999, 5000);
	expect_kinds(&m, 1, 1000 * MS, "unbounded_growth", 0);
	model_free(&m);

	/* near miss: rose to 20000, then fell back to 15000 (a cache that evicts) */
	model_init(&m, &gb, layout, 0);
	write_rec(&m, MAP1, 1, 1 * MS, 0, 1);
	write_rec(&m, MAP1, 1, 500 * MS, 19999, 20000);
	write_rec(&m, MAP1, 1, 900 * MS, 15001, 15000);
	expect_kinds(&m, 1, 1000 * MS, "unbounded_growth", 0);
	model_free(&m);

	/* near miss: it grew, but nothing shows it alive at the end (not written since 1 s,
	 * never re-read): not judged */
	model_init(&m, &gb, layout, 0);
	write_rec(&m, MAP1, 1, 1 * MS, 0, 1);
	write_rec(&m, MAP1, 1, 900 * MS, 14999, 15000);
	expect_kinds(&m, 4, 4000 * MS, "unbounded_growth", 0);
	model_free(&m);
}

static void no_shrink(void)
{
	struct mw_model m;
	struct mw_map *mp;

	model_init(&m, &gb, layout, 0);
	write_rec(&m, MAP1, 1, 1 * MS, 101, 100);
	mp = marked_alive(&m, MAP1);
	mp->capacity = 262144;
	mp->bytes = 4 << 20;
	mp->peak_len = 150000;
	expect_kinds(&m, 10, 10000 * MS, "no_shrink", 1);
	mp->bytes = 512 << 10;	/* near miss: under 1 MiB */
	expect_kinds(&m, 10, 10000 * MS, "no_shrink", 0);
	mp->bytes = 4 << 20;
	mp->hdr.count = 20000;	/* near miss: capacity only 13x the live count */
	expect_kinds(&m, 10, 10000 * MS, "no_shrink", 0);
	mp->hdr.count = 100;
	mp->alive_marked = false;	/* near miss: no sign that it is still alive */
	expect_kinds(&m, 10, 10000 * MS, "no_shrink", 0);
	model_free(&m);
}

static void stalled_evacuation(void)
{
	struct mw_model m;
	struct mw_map *mp;
	json_object *fs, *held;

	model_init(&m, &gb, layout, 0);
	m.start_ns = 0;
	write_rec(&m, MAP1, 1, 1 * MS, 0, 1);
	mp = marked_alive(&m, MAP1);
	mp->hdr.oldbuckets = 0xc000300000;
	mp->evac_since_ns = 1000 * MS;
	expect_kinds(&m, 10, 8000 * MS, "stalled_evacuation", 1);	/* held 7 s */
	expect_kinds(&m, 10, 4000 * MS, "stalled_evacuation", 0);	/* 3 s: near miss */
	/* never longer than the capture, however long ago the last progress was */
	mp->evac_since_ns = 1;
	m.start_ns = 5000 * MS;
	fs = run(&m, 8, 13000 * MS);
	EXPECT(json_object_array_length(fs) == 1 &&
	       json_object_object_get_ex(json_object_object_get(json_object_array_get_idx(fs, 0),
								 "evidence"), "stalled_s", &held) &&
	       json_object_get_double(held) <= 8.0);
	json_object_put(fs);
	mp->on_stack = true;	/* near miss: a stack copy may be stale */
	expect_kinds(&m, 8, 13000 * MS, "stalled_evacuation", 0);
	mp->on_stack = false;
	mp->hdr.oldbuckets = 0;	/* growth done */
	expect_kinds(&m, 10, 8000 * MS, "stalled_evacuation", 0);
	model_free(&m);
}

static void syncmap_churn(void)
{
	struct mw_model m;
	struct mw_syncmap *sm = g_new0(struct mw_syncmap, 1);
	struct frame_sym sym = { "main.register", "/src/main.go", 12 };

	model_init(&m, &gb, layout, 0);
	sm->addr = 0x55dbe0;
	sm->sites = g_array_new(FALSE, TRUE, sizeof(struct mw_site));
	g_array_append_val(sm->sites, ((struct mw_site){ .pc = 1, .op = MW_OP_SYNCMAP,
							 .count = 30, .sym = sym }));
	sm->rebuilds = 30;
	sm->copied = 5000;
	g_hash_table_insert(m.syncmaps, GSIZE_TO_POINTER(sm->addr), sm);
	expect_kinds(&m, 2, 0, "syncmap_churn", 1);	/* 15 rebuilds/s */
	sm->rebuilds = 5;				/* near miss: 0.5/s, 500 copied/s */
	expect_kinds(&m, 10, 0, "syncmap_churn", 0);
	model_free(&m);
}

static void thresholds_are_options(void)
{
	struct detect_opts o;
	char err[512];

	detect_defaults(&o);
	EXPECT(!detect_set(&o, "growth_min=500", err, sizeof(err)) && o.growth_min == 500);
	EXPECT(detect_set(&o, "growth_min", err, sizeof(err)));
	EXPECT(detect_set(&o, "nosuch=1", err, sizeof(err)) && strstr(err, "unknown"));
	EXPECT(detect_set(&o, "stall_s=-1", err, sizeof(err)));
	EXPECT(detect_set(&o, "stall_s=nan", err, sizeof(err)));
	EXPECT(detect_set(&o, "growth_min=inf", err, sizeof(err)));
}

/* Clean lock time: lock probes on, hot map probes off; windows of both subtracted. */
static void clean_lock_time(void)
{
	struct mw_model m;

	model_init(&m, &gb, layout, 0);
	model_lock_probes(&m, 0, true);
	model_hot_probes(&m, 2000 * MS, true);
	model_hot_probes(&m, 3000 * MS, false);
	model_lock_probes(&m, 4000 * MS, false);
	model_lock_probes(&m, 7000 * MS, true);
	model_hot_probes(&m, 8000 * MS, true);	/* on to the end */
	EXPECT(model_hot_off_ns(&m, 0, 10000 * MS) == 3000 * MS + 1000 * MS);
	EXPECT(model_hot_off_ns(&m, 7500 * MS, 10000 * MS) == 500 * MS);
	model_free(&m);

	model_init(&m, &gb, layout, 0);	/* no spans: every moment is clean */
	EXPECT(model_hot_off_ns(&m, 0, 5000 * MS) == 5000 * MS);
	model_free(&m);
}

/*
 * Waits measured between windows of map-write probes count as the program's own; a wait that
 * overlaps a window does not.
 */
static void windowed_waits(void)
{
	struct mw_model m;

	model_init(&m, &gb, layout, 0);
	m.start_ns = 0;
	model_lock_probes(&m, 0, true);
	for (uint64_t w = 1; w <= 9; w++) {	/* a 50 ms window each second */
		model_hot_probes(&m, w * 1000 * MS, true);
		model_hot_probes(&m, w * 1000 * MS + 50 * MS, false);
	}
	for (uint64_t g = 1; g <= 4; g++) {
		/* waits between windows: 4 x 9 x 60 ms = 2.16 s of waits in ~9.5 s clean */
		for (uint64_t w = 0; w < 9; w++)
			lock_rec(&m, g, w * 1000 * MS + 100 * MS + g * 100 * MS, 60 * MS);
		/* and in windows, where the write shows the map */
		lock_rec(&m, g, 1000 * MS + 5 * MS, 40 * MS);
		write_rec(&m, MAP1, g, 1000 * MS + 46 * MS, g - 1, g);
	}
	m.baseline_ns = model_hot_off_ns(&m, 0, 10000 * MS);
	EXPECT(m.baseline_ns == 10000 * MS - 9 * 50 * MS);
	expect_kinds(&m, 10, 10000 * MS, "lock_contention", 1);
	model_free(&m);
}

int main(void)
{
	static const struct check_case cases[] = {
		CASE(concurrent_write), CASE(lock_contention), CASE(clean_lock_time),
		CASE(windowed_waits), CASE(unbounded_growth),
		CASE(no_shrink), CASE(stalled_evacuation), CASE(syncmap_churn),
		CASE(thresholds_are_options),
	};
	char path[512], err[256];

	snprintf(path, sizeof(path), "%s/1.22/writes.plain", fixtures_dir());
	if (gobin_open(&gb, path, err, sizeof(err))) {
		printf("not ok - detect: cannot open %s: %s\n", path, err);
		return 1;
	}
	layout = go_layout_for(&gb.bi, err, sizeof(err));
	if (!layout || gobin_locate_text(&gb, layout->md_text, err, sizeof(err))) {
		printf("not ok - cannot place the functions of %s: %s\n", path, err);
		return 1;
	}
	detect_defaults(&opts);
	return check_run("detect", cases, sizeof(cases) / sizeof(cases[0]));
}
