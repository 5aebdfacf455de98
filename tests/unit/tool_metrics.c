// SPDX-License-Identifier: MIT
/*
 * Test helper: print an exposition of made-up targets that uses every family, label escaping,
 * maps without a site and the "_other" fold, for promtool (tests/integration/test_metrics_format.sh).
 */
#include <stdio.h>
#include "metrics.h"

int main(void)
{
	struct mx_map maps[6] = {
		{ .function = "main.(*sessionStore).remember", .file = "/src/main.go", .line = 28,
		  .type = "map[string][]uint8", .entries = 6090, .capacity = 8192, .bytes = 335974,
		  .growths = 8, .writes = { 4097, 0, 0 } },
		{ .function = "main.newCache", .file = "/src/a \"quoted\\\" dir/c.go", .line = 94,
		  .type = "map[int64]float64", .entries = 600, .capacity = 126976,
		  .bytes = 2202009, .writes = { 1200, 600, 1 }, .concurrent_writes = 2 },
		{ .type = "map[string]int", .entries = 12, .capacity = 16, .bytes = 512 },
		{ .function = "net/http.Header.Clone", .file = "/usr/lib/go/src/net/http/header.go",
		  .line = 99, .type = "http.Header", .entries = 4, .capacity = 8, .bytes = 400 },
		{ .function = "net/http.Header.Clone", .file = "/usr/lib/go/src/net/http/header.go",
		  .line = 99, .type = "http.Header", .entries = 3, .capacity = 8, .bytes = 400 },
		{ .function = "main.small", .file = "/src/main.go", .line = 7,
		  .type = "map[main.point]bool", .entries = 1, .capacity = 8, .bytes = 200 },
	};
	struct mx_count findings[] = { { "no_shrink", 1 }, { "concurrent_write", 1 } };
	struct mx_count errors[] = { { "unsupported_go_version", 2 }, { "not_go", 0 } };
	struct mx_target t[2] = {
		{ .pid = 14563, .exe = "/srv/workload", .go_version = "go1.26.11", .maps = maps,
		  .nmaps = 6, .findings = findings, .nfindings = 2, .probe_hits = 24578,
		  .probe_cpu_seconds = 0.47, .attached_seconds = 5.0, .lost_events = 0 },
		{ .pid = 2, .exe = "/opt/odd\nname", .go_version = "go1.24.4 X:noswissmap" },
	};
	struct mx_daemon d = { .targets = t, .ntargets = 2, .attach_errors = errors,
			       .nattach_errors = 2, .scrape_duration_seconds = 0.0042,
			       .max_maps = 3 };
	GString *s = g_string_new(NULL);

	mx_hist_observe(&t[0].lock_wait, 3e-6);
	mx_hist_observe(&t[0].lock_wait, 0.25);
	mx_render(s, &d);
	fputs(s->str, stdout);
	g_string_free(s, TRUE);
	return 0;
}
