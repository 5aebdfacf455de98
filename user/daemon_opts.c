// SPDX-License-Identifier: MIT
/* mapwatch daemon's options: the command line and the config file speak the same names. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "budget.h"
#include "daemon.h"
#include "httpd.h"

void daemon_opts_init(struct daemon_opts *o)
{
	memset(o, 0, sizeof(*o));
	watch_rules_init(&o->rules);
	o->listen = g_strdup(HTTPD_DEFAULT_LISTEN);
	o->budget = DAEMON_DEFAULT_BUDGET_PCT / 100;
	o->host_budget = DAEMON_DEFAULT_HOST_BUDGET_PCT / 100;
	o->state_dir = g_strdup(DAEMON_DEFAULT_STATE_DIR);
	o->max_maps = 50;
	o->max_reports = 50;
	o->interval_s = 30;
	o->ringbuf_mb = 4;	/* every process under a budget: a few MB/s at most */
	detect_defaults(&o->thresholds);
}

void daemon_opts_free(struct daemon_opts *o)
{
	watch_rules_free(&o->rules);
	g_free(o->listen);
	g_free(o->state_dir);
	g_free(o->config);
	memset(o, 0, sizeof(*o));
}

static int number(const char *val, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(val ? val : "", &end);
	if (!val || errno || end == val || *end || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int daemon_opt_set(struct daemon_opts *o, const char *key, const char *val, char *err,
		   size_t errlen)
{
	double v;

	if (!strcmp(key, "exe") || !strcmp(key, "comm") || !strcmp(key, "pid") ||
	    !strcmp(key, "all-go"))
		return watch_rules_add(&o->rules, key, val, err, errlen);
	if (!strcmp(key, "check")) {
		o->check = true;
		return 0;
	}
	if (!val) {
		snprintf(err, errlen, "%s needs a value", key);
		return -1;
	}
	if (!strcmp(key, "listen")) {
		struct sockaddr_storage ss;
		socklen_t len;

		if (httpd_parse_listen(val, &ss, &len, err, errlen))
			return -1;
		g_free(o->listen);
		o->listen = g_strdup(val);
	} else if (!strcmp(key, "budget") || !strcmp(key, "host-budget")) {
		if (budget_parse(val, &v) || v <= 0) {
			snprintf(err, errlen, "invalid %s: %s (a percentage of one CPU, e.g. 1%%)", key,
				 val);
			return -1;
		}
		*(!strcmp(key, "budget") ? &o->budget : &o->host_budget) = v;
	} else if (!strcmp(key, "state-dir")) {
		if (val[0] != '/') {
			snprintf(err, errlen, "invalid state-dir: %s (an absolute path)", val);
			return -1;
		}
		g_free(o->state_dir);
		o->state_dir = g_strdup(val);
	} else if (!strcmp(key, "max-maps") || !strcmp(key, "max-reports")) {
		if (number(val, 0, 1e6, &v) || v != floor(v)) {
			snprintf(err, errlen, "invalid %s: %s (a whole number, 0..1000000)", key, val);
			return -1;
		}
		if (!strcmp(key, "max-maps"))
			o->max_maps = (size_t)v;
		else
			o->max_reports = (unsigned)v;
	} else if (!strcmp(key, "interval")) {
		if (number(val, 1, 86400, &v)) {
			snprintf(err, errlen, "invalid interval: %s (seconds, 1..86400)", val);
			return -1;
		}
		o->interval_s = v;
	} else if (!strcmp(key, "ringbuf-mb")) {
		if (number(val, 1, 1024, &v) || v != floor(v) || ((int)v & ((int)v - 1))) {
			snprintf(err, errlen, "invalid ringbuf-mb: %s (a power of two, 1..1024)", val);
			return -1;
		}
		o->ringbuf_mb = (int)v;
	} else if (!strcmp(key, "threshold")) {
		const char *eq = strchr(val, '=');

		if (eq && !isfinite(strtod(eq + 1, NULL))) {
			snprintf(err, errlen, "threshold %s: not a finite number", val);
			return -1;
		}
		return detect_set(&o->thresholds, val, err, errlen);
	} else if (!strcmp(key, "config")) {
		g_free(o->config);
		o->config = g_strdup(val);
	} else {
		snprintf(err, errlen, "unknown option: %s", key);
		return -1;
	}
	return 0;
}

int daemon_config_line(const char *line, char **key, char **val)
{
	const char *p = line, *k, *e;
	size_t n;

	*key = *val = NULL;
	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#')
		return 0;
	k = p;
	while (*p && !isspace((unsigned char)*p) && *p != '=')
		p++;
	*key = g_strndup(k, (size_t)(p - k));
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '=')
		p++;
	while (isspace((unsigned char)*p))
		p++;
	e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - p);
	if (n)
		*val = g_strndup(p, n);
	return 0;
}

static int read_config(struct daemon_opts *o, const char *path, char *err, size_t errlen)
{
	char *text = NULL, **lines;
	GError *ge = NULL;
	int rc = 0;

	if (!g_file_get_contents(path, &text, NULL, &ge)) {
		snprintf(err, errlen, "cannot read the config file: %s", ge->message);
		g_error_free(ge);
		return -1;
	}
	lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i] && !rc; i++) {
		char *key, *val, e[400];

		daemon_config_line(lines[i], &key, &val);
		if (key && !strcmp(key, "config")) {
			snprintf(err, errlen, "%s:%d: a config file cannot name another", path, i + 1);
			rc = -1;
		} else if (key && daemon_opt_set(o, key, val, e, sizeof(e))) {
			snprintf(err, errlen, "%s:%d: %s", path, i + 1, e);
			rc = -1;
		}
		g_free(key);
		g_free(val);
	}
	g_strfreev(lines);
	g_free(text);
	return rc;
}

int daemon_opts_build(struct daemon_opts *o, const GPtrArray *cli, char *err, size_t errlen)
{
	const char *config = NULL;

	daemon_opts_init(o);
	for (guint i = 0; i + 1 < cli->len; i += 2)
		if (!strcmp(g_ptr_array_index(cli, i), "config"))
			config = g_ptr_array_index(cli, i + 1);
	if (config && read_config(o, config, err, errlen))
		return -1;
	for (guint i = 0; i + 1 < cli->len; i += 2)
		if (daemon_opt_set(o, g_ptr_array_index(cli, i), g_ptr_array_index(cli, i + 1), err,
				   errlen))
			return -1;
	return 0;
}
