// SPDX-License-Identifier: MIT
/* The daemon's options: config file lines, the file and the command line together. */
#include <unistd.h>
#include "check.h"
#include "daemon.h"

static void config_lines(void)
{
	char *k, *v;

	daemon_config_line("  budget = 2% ", &k, &v);
	EXPECT(k && v && !strcmp(k, "budget") && !strcmp(v, "2%"));
	g_free(k);
	g_free(v);
	daemon_config_line("comm myserver", &k, &v);
	EXPECT(k && v && !strcmp(k, "comm") && !strcmp(v, "myserver"));
	g_free(k);
	g_free(v);
	daemon_config_line("all-go", &k, &v);
	EXPECT(k && !v && !strcmp(k, "all-go"));
	g_free(k);
	daemon_config_line("   # a comment", &k, &v);
	EXPECT(!k && !v);
	daemon_config_line("", &k, &v);
	EXPECT(!k && !v);
	daemon_config_line("listen=[::1]:9000", &k, &v);
	EXPECT(k && v && !strcmp(k, "listen") && !strcmp(v, "[::1]:9000"));
	g_free(k);
	g_free(v);
}

static char conf[64];

static GPtrArray *cli(const char *const *kv)
{
	GPtrArray *a = g_ptr_array_new();

	for (; kv[0]; kv += 2) {
		g_ptr_array_add(a, (gpointer)kv[0]);
		g_ptr_array_add(a, (gpointer)kv[1]);
	}
	return a;
}

/* Defaults, then the file, then the command line; rules add up. */
static void file_then_command_line(void)
{
	const char *const kv[] = { "config", conf, "budget", "3%", "comm", "b", NULL };
	struct daemon_opts o;
	GPtrArray *a = cli(kv);
	char err[256];
	FILE *f = fopen(conf, "w");

	fputs("# mapwatch\ncomm = a\nbudget 0.5%\nmax-maps 7\ninterval = 12\n", f);
	fclose(f);
	EXPECT(!daemon_opts_build(&o, a, err, sizeof(err)));
	EXPECT_MSG(o.budget > 0.0299 && o.budget < 0.0301, "budget %g", o.budget);
	EXPECT(o.max_maps == 7 && o.interval_s == 12);
	EXPECT(o.rules.comms->len == 2);
	EXPECT(!strcmp(o.listen, "127.0.0.1:27362") && !strcmp(o.state_dir, "/var/lib/mapwatch"));
	EXPECT(o.host_budget > 0.099 && o.host_budget < 0.101);
	daemon_opts_free(&o);
	g_ptr_array_unref(a);
}

static void bad_values(void)
{
	struct daemon_opts o;
	char err[256];
	const char *const bad[][2] = {
		{ "budget", "lots" }, { "budget", "0" }, { "listen", "nohost" },
		{ "state-dir", "relative/dir" }, { "max-maps", "-1" }, { "max-maps", "2.5" },
		{ "interval", "0" }, { "ringbuf-mb", "3" }, { "threshold", "growth_min=nan" },
		{ "frobnicate", "1" }, { "budget", NULL },
	};

	daemon_opts_init(&o);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		err[0] = 0;
		EXPECT_MSG(daemon_opt_set(&o, bad[i][0], bad[i][1], err, sizeof(err)) == -1 &&
				   err[0] && !strchr(err, '\n'),
			   "%s %s", bad[i][0], bad[i][1] ? bad[i][1] : "(none)");
	}
	daemon_opts_free(&o);
}

/* A bad line names the file and the line. */
static void bad_file_line(void)
{
	const char *const kv[] = { "config", conf, NULL };
	struct daemon_opts o;
	GPtrArray *a = cli(kv);
	char err[256];
	FILE *f = fopen(conf, "w");

	fputs("comm a\n\nbudget = lots\n", f);
	fclose(f);
	EXPECT(daemon_opts_build(&o, a, err, sizeof(err)) == -1);
	EXPECT_MSG(strstr(err, ":3: ") && strstr(err, "lots"), "%s", err);
	daemon_opts_free(&o);
	g_ptr_array_unref(a);
}

int main(void)
{
	static const struct check_case cases[] = {
		CASE(config_lines), CASE(file_then_command_line), CASE(bad_values), CASE(bad_file_line),
	};
	int fd, rc;

	snprintf(conf, sizeof(conf), "/tmp/mw-daemon-opts.XXXXXX");
	fd = mkstemp(conf);
	close(fd);
	rc = check_run("daemon_opts", cases, sizeof(cases) / sizeof(cases[0]));
	unlink(conf);
	return rc;
}
