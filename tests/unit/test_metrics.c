// SPDX-License-Identifier: MIT
/* The Prometheus exposition of user/metrics.c on hand-made targets and maps. */
#include <math.h>
#include "check.h"
#include "metrics.h"

static char *render(const struct mx_daemon *d)
{
	GString *s = g_string_new(NULL);

	mx_render(s, d);
	return g_string_free(s, FALSE);
}

/* The text has this line, whole. */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

static int count_prefix(const char *text, const char *prefix)
{
	int n = 0;
	size_t l = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += !strncmp(p, prefix, l);
	return n;
}

static void label_escaping(void)
{
	GString *s = g_string_new(NULL);

	mx_label_value(s, "a\\b\"c\nd");
	EXPECT_MSG(!strcmp(s->str, "\"a\\\\b\\\"c\\nd\""), "%s", s->str);
	g_string_truncate(s, 0);
	mx_label_value(s, NULL);
	EXPECT(!strcmp(s->str, "\"\""));
	g_string_free(s, TRUE);
}

/* Escaping where it matters: a label value from the target (a path, a Go type). */
static void escaped_in_series(void)
{
	struct mx_map m = { .function = "main.(*cache).put", .file = "/src/we\"ird\\dir/a.go",
			    .line = 12, .type = "map[string]struct { a \"x\" }", .entries = 3 };
	struct mx_target t = { .pid = 7, .exe = "/srv/new\nline", .go_version = "go1.26.11",
			       .maps = &m, .nmaps = 1 };
	struct mx_daemon d = { .targets = &t, .ntargets = 1 };
	char *x = render(&d);

	EXPECT_MSG(has_line(x, "mapwatch_target_info{pid=\"7\",exe=\"/srv/new\\nline\","
			       "go_version=\"go1.26.11\"} 1"), "%s", x);
	EXPECT(has_line(x, "mapwatch_map_entries{pid=\"7\",function=\"main.(*cache).put\","
			   "file=\"/src/we\\\"ird\\\\dir/a.go\",line=\"12\","
			   "type=\"map[string]struct { a \\\"x\\\" }\"} 3"));
	g_free(x);
}

/* Every family once, HELP before TYPE, every sample under its own family. */
static void structure(void)
{
	struct mx_map m[2] = {
		{ .function = "main.f", .file = "/a.go", .line = 3, .type = "map[int]int",
		  .entries = 1, .writes = { 4, 1, 0 } },
		{ .type = "map[string]int", .entries = 2 },
	};
	struct mx_count f[] = { { "unbounded_growth", 1 } }, ae[] = { { "not_go", 2 } };
	struct mx_target t[2] = {
		{ .pid = 1, .exe = "/a", .go_version = "go1.19.8", .maps = m, .nmaps = 2,
		  .findings = f, .nfindings = 1 },
		{ .pid = 2, .exe = "/b", .go_version = "go1.27.4" },
	};
	struct mx_daemon d = { .targets = t, .ntargets = 2, .attach_errors = ae,
			       .nattach_errors = 1 };
	char *x = render(&d), *save, *line, fam[128] = "";
	int types = 0;

	EXPECT(x[strlen(x) - 1] == '\n');
	for (line = strtok_r(x, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], type[32];

		if (!strncmp(line, "# HELP ", 7)) {
			EXPECT_MSG(sscanf(line, "# HELP %127s", name) == 1 && strcmp(name, fam),
				   "%s", line);
			snprintf(fam, sizeof(fam), "%s", name);
			continue;
		}
		if (sscanf(line, "# TYPE %127s %31s", name, type) == 2) {
			EXPECT_MSG(!strcmp(name, fam), "TYPE %s after HELP %s", name, fam);
			EXPECT(!strncmp(name, "mapwatch_", 9));
			/* counters, and only counters, end in _total */
			EXPECT_MSG(!strcmp(type, "counter") ==
					   (strlen(name) > 6 && !strcmp(name + strlen(name) - 6, "_total")),
				   "%s %s", name, type);
			types++;
			continue;
		}
		EXPECT_MSG(!strncmp(line, fam, strlen(fam)) &&
				   strchr("{ _", line[strlen(fam)]), "%s outside %s", line, fam);
	}
	EXPECT_MSG(types == 17, "%d families", types);
	g_free(x);
}

static void map_series(void)
{
	struct mx_map m = { .function = "main.newCache", .file = "/src/main.go", .line = 94,
			    .type = "map[int64]float64", .entries = 600, .capacity = 126976,
			    .bytes = 2202009, .growths = 12, .writes = { 1000, 400, 1 },
			    .concurrent_writes = 2 };
	struct mx_target t = { .pid = 4242, .maps = &m, .nmaps = 1 };
	struct mx_daemon d = { .targets = &t, .ntargets = 1 };
	const char *l = "pid=\"4242\",function=\"main.newCache\",file=\"/src/main.go\",line=\"94\","
			"type=\"map[int64]float64\"";
	char *x = render(&d), want[512];

#define SERIES(name, tail) (snprintf(want, sizeof(want), "%s{%s%s", name, l, tail), has_line(x, want))
	EXPECT(SERIES("mapwatch_maps", "} 1"));
	EXPECT(SERIES("mapwatch_map_entries", "} 600"));
	EXPECT(SERIES("mapwatch_map_capacity", "} 126976"));
	EXPECT(SERIES("mapwatch_map_bytes", "} 2202009"));
	EXPECT(SERIES("mapwatch_map_growths_total", "} 12"));
	EXPECT(SERIES("mapwatch_map_writes_total", ",op=\"assign\"} 1000"));
	EXPECT(SERIES("mapwatch_map_writes_total", ",op=\"delete\"} 400"));
	EXPECT(SERIES("mapwatch_map_writes_total", ",op=\"clear\"} 1"));
	EXPECT(SERIES("mapwatch_map_concurrent_writes_total", "} 2"));
#undef SERIES
	g_free(x);
}

/* A map made before mapwatch attached has no site: empty labels, not "0" or "(null)". */
static void unknown_site(void)
{
	struct mx_map m = { .file = "/ignored.go", .line = 5, .type = "map[string]int",
			    .entries = 9 };
	struct mx_target t = { .pid = 3, .maps = &m, .nmaps = 1 };
	struct mx_daemon d = { .targets = &t, .ntargets = 1 };
	char *x = render(&d);

	EXPECT_MSG(has_line(x, "mapwatch_map_entries{pid=\"3\",function=\"\",file=\"\",line=\"\","
			       "type=\"map[string]int\"} 9"), "%s", x);
	g_free(x);
}

/* Maps with the same site and type are one series: summed, and counted. */
static void same_site_summed(void)
{
	struct mx_map m[3] = {
		{ .function = "main.req", .file = "/r.go", .line = 8, .type = "map[string]string",
		  .entries = 2, .bytes = 100, .writes = { 2 } },
		{ .function = "main.req", .file = "/r.go", .line = 8, .type = "map[string]string",
		  .entries = 3, .bytes = 150, .writes = { 3 } },
		{ .function = "main.req", .file = "/r.go", .line = 8, .type = "map[string]int",
		  .entries = 1 },
	};
	struct mx_target t = { .pid = 5, .maps = m, .nmaps = 3 };
	struct mx_daemon d = { .targets = &t, .ntargets = 1 };
	char *x = render(&d);
	const char *l = "{pid=\"5\",function=\"main.req\",file=\"/r.go\",line=\"8\","
			"type=\"map[string]string\"}";
	char want[256];

	snprintf(want, sizeof(want), "mapwatch_maps%s 2", l);
	EXPECT(has_line(x, want));
	snprintf(want, sizeof(want), "mapwatch_map_entries%s 5", l);
	EXPECT(has_line(x, want));
	snprintf(want, sizeof(want), "mapwatch_map_bytes%s 250", l);
	EXPECT(has_line(x, want));
	EXPECT(count_prefix(x, "mapwatch_maps{") == 2);
	g_free(x);
}

/* Past max_maps series, the smallest are summed into function="_other". */
static void other_folding(void)
{
	struct mx_map m[5];
	struct mx_target t = { .pid = 9, .maps = m, .nmaps = 5 };
	struct mx_daemon d = { .targets = &t, .ntargets = 1, .max_maps = 2 };
	const char *fn[5] = { "main.a", "main.b", "main.c", "main.d", "main.e" };
	uint64_t bytes[5] = { 10, 5000, 30, 4000, 20 };
	char *x;

	memset(m, 0, sizeof(m));
	for (int i = 0; i < 5; i++)
		m[i] = (struct mx_map){ .function = fn[i], .file = "/f.go", .line = i + 1,
					.type = "map[int]int", .entries = (uint64_t)i + 1,
					.bytes = bytes[i], .writes = { 10, 1, 0 } };
	x = render(&d);
	EXPECT(count_prefix(x, "mapwatch_maps{") == 3);
	/* the two largest keep their own series */
	EXPECT(has_line(x, "mapwatch_map_bytes{pid=\"9\",function=\"main.b\",file=\"/f.go\","
			   "line=\"2\",type=\"map[int]int\"} 5000"));
	EXPECT(has_line(x, "mapwatch_map_bytes{pid=\"9\",function=\"main.d\",file=\"/f.go\","
			   "line=\"4\",type=\"map[int]int\"} 4000"));
	EXPECT(!strstr(x, "function=\"main.a\""));
	/* the other three: 3 maps, 1+3+5 entries, 10+30+20 bytes, 30 assigns */
	EXPECT_MSG(has_line(x, "mapwatch_maps{pid=\"9\",function=\"_other\",file=\"\",line=\"\","
			       "type=\"\"} 3"), "%s", x);
	EXPECT(has_line(x, "mapwatch_map_entries{pid=\"9\",function=\"_other\",file=\"\","
			   "line=\"\",type=\"\"} 9"));
	EXPECT(has_line(x, "mapwatch_map_bytes{pid=\"9\",function=\"_other\",file=\"\",line=\"\","
			   "type=\"\"} 60"));
	EXPECT(has_line(x, "mapwatch_map_writes_total{pid=\"9\",function=\"_other\",file=\"\","
			   "line=\"\",type=\"\",op=\"assign\"} 30"));
	g_free(x);

	/* at the limit, nothing is folded */
	d.max_maps = 5;
	x = render(&d);
	EXPECT(count_prefix(x, "mapwatch_maps{") == 5 && !strstr(x, "function=\"" MX_OTHER));
	g_free(x);
}

static void lock_histogram(void)
{
	struct mx_target t = { .pid = 11 };
	struct mx_daemon d = { .targets = &t, .ntargets = 1 };
	char *x;

	mx_hist_observe(&t.lock_wait, 5e-7);	/* <= 1 us */
	mx_hist_observe(&t.lock_wait, 1e-6);	/* a bound is inclusive */
	mx_hist_observe(&t.lock_wait, 0.002);	/* <= 10 ms */
	mx_hist_observe(&t.lock_wait, 20);	/* past 10 s */
	x = render(&d);
	EXPECT_MSG(has_line(x, "mapwatch_lock_wait_seconds_bucket{pid=\"11\",le=\"1e-06\"} 2"),
		   "%s", x);
	EXPECT(has_line(x, "mapwatch_lock_wait_seconds_bucket{pid=\"11\",le=\"0.001\"} 2"));
	EXPECT(has_line(x, "mapwatch_lock_wait_seconds_bucket{pid=\"11\",le=\"0.01\"} 3"));
	EXPECT(has_line(x, "mapwatch_lock_wait_seconds_bucket{pid=\"11\",le=\"10\"} 3"));
	EXPECT(has_line(x, "mapwatch_lock_wait_seconds_bucket{pid=\"11\",le=\"+Inf\"} 4"));
	EXPECT(has_line(x, "mapwatch_lock_wait_seconds_count{pid=\"11\"} 4"));
	EXPECT(has_line(x, "mapwatch_lock_wait_seconds_sum{pid=\"11\"} 20.0020015"));
	g_free(x);
}

static void target_and_daemon(void)
{
	struct mx_count f[] = { { "lock_contention", 1 }, { "no_shrink", 2 } };
	struct mx_count ae[] = { { "unsupported", 3 }, { "a \"quoted\" reason", 1 } };
	struct mx_target t = { .pid = 12, .exe = "/srv/api", .go_version = "go1.24.4 X:noswissmap",
			       .findings = f, .nfindings = 2, .probe_hits = 24578,
			       .probe_cpu_seconds = 0.47, .attached_seconds = 5,
			       .lost_events = 3 };
	struct mx_daemon d = { .targets = &t, .ntargets = 1, .attach_errors = ae,
			       .nattach_errors = 2, .scrape_duration_seconds = 0.0015 };
	char *x = render(&d);

	EXPECT(has_line(x, "mapwatch_targets 1"));
	EXPECT(has_line(x, "mapwatch_attach_errors_total{reason=\"unsupported\"} 3"));
	EXPECT(has_line(x, "mapwatch_attach_errors_total{reason=\"a \\\"quoted\\\" reason\"} 1"));
	EXPECT(has_line(x, "mapwatch_scrape_duration_seconds 0.0015"));
	EXPECT(has_line(x, "mapwatch_target_info{pid=\"12\",exe=\"/srv/api\","
			   "go_version=\"go1.24.4 X:noswissmap\"} 1"));
	EXPECT(has_line(x, "mapwatch_probe_hits_total{pid=\"12\"} 24578"));
	EXPECT(has_line(x, "mapwatch_probe_cpu_seconds_total{pid=\"12\"} 0.47"));
	EXPECT(has_line(x, "mapwatch_attached_seconds_total{pid=\"12\"} 5"));
	EXPECT(has_line(x, "mapwatch_lost_events_total{pid=\"12\"} 3"));
	EXPECT(has_line(x, "mapwatch_findings{pid=\"12\",kind=\"lock_contention\"} 1"));
	EXPECT(has_line(x, "mapwatch_findings{pid=\"12\",kind=\"no_shrink\"} 2"));
	g_free(x);
}

/* Floats: the shortest exact decimal, and the format's spellings of NaN and infinities. */
static void floats(void)
{
	struct mx_daemon d = { 0 };
	char *x;

	d.scrape_duration_seconds = 0.1;
	x = render(&d);
	EXPECT(has_line(x, "mapwatch_scrape_duration_seconds 0.1"));
	g_free(x);
	d.scrape_duration_seconds = 1.0 / 3;
	x = render(&d);
	EXPECT(has_line(x, "mapwatch_scrape_duration_seconds 0.33333333333333331"));
	g_free(x);
	d.scrape_duration_seconds = NAN;
	x = render(&d);
	EXPECT(has_line(x, "mapwatch_scrape_duration_seconds NaN"));
	g_free(x);
	d.scrape_duration_seconds = INFINITY;
	x = render(&d);
	EXPECT(has_line(x, "mapwatch_scrape_duration_seconds +Inf"));
	g_free(x);
}

int main(void)
{
	static const struct check_case cases[] = {
		CASE(label_escaping), CASE(escaped_in_series), CASE(structure), CASE(map_series),
		CASE(unknown_site), CASE(same_site_summed), CASE(other_folding),
		CASE(lock_histogram), CASE(target_and_daemon), CASE(floats),
	};

	return check_run("metrics", cases, sizeof(cases) / sizeof(cases[0]));
}
