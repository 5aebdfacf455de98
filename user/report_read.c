// SPDX-License-Identifier: MIT
/*
 * Reading a saved report back (mapwatch report): any bytes in, a document whose every member
 * the text view reads has the type it expects, or one line saying what is wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

/* Types a member may have (null is always allowed: it means "unknown", as when absent). */
enum { T_STR = 1, T_INT = 2, T_NUM = 4, T_BOOL = 8, T_OBJ = 16, T_ARR = 32 };

struct member {
	const char *name;
	unsigned types;
	const struct member *sub;	/* members of the object, or of each (object) element */
};

static const struct member site_m[] = {
	{ "function", T_STR }, { "file", T_STR }, { "line", T_INT }, { "op", T_STR },
	{ "count", T_INT }, { "estimated_count", T_INT }, { "pc", T_STR }, { 0 },
};
static const struct member map_m[] = {
	{ "id", T_STR }, { "type", T_STR }, { "created_at", T_OBJ, site_m },
	{ "size_hint", T_INT }, { "len", T_INT }, { "len_before_last_write", T_BOOL },
	{ "peak_len", T_INT },
	{ "len_first_seen", T_INT }, { "inserts", T_INT }, { "removals", T_INT },
	{ "capacity", T_INT }, { "bytes", T_INT }, { "B", T_INT }, { "growths", T_INT },
	{ "assigns", T_INT }, { "deletes", T_INT }, { "clears", T_INT },
	{ "estimated_writes", T_INT }, { "writers", T_INT },
	{ "writes_finding_flag_set", T_INT }, { "concurrent_writes", T_INT },
	{ "on_stack", T_BOOL }, { "gone", T_BOOL }, { "sites", T_ARR, site_m }, { 0 },
};
static const struct member syncmap_m[] = {
	{ "id", T_STR }, { "writes", T_OBJ }, { "dirty_rebuilds", T_INT },
	{ "entries_copied", T_INT }, { "sites", T_ARR, site_m }, { 0 },
};
static const struct member finding_m[] = {
	{ "kind", T_STR }, { "severity", T_STR }, { "map", T_STR }, { "summary", T_STR },
	{ "sites", T_ARR, site_m }, { "evidence", T_OBJ }, { 0 },
};
static const struct member target_m[] = {
	{ "pid", T_INT }, { "exe", T_STR }, { "go_version", T_STR }, { "map_impl", T_STR },
	{ "stripped", T_BOOL }, { "pie", T_BOOL }, { "offsets", T_STR }, { 0 },
};
static const struct member died_m[] = {
	{ "message", T_STR }, { "goroutine", T_INT }, { "site", T_OBJ, site_m }, { 0 },
};
static const struct member events_m[] = {
	{ "total", T_INT }, { "lost", T_INT }, { "rejected", T_INT }, { 0 },
};
static const struct member class_m[] = {
	{ "class", T_STR }, { "windowed", T_BOOL }, { "attached_s", T_NUM }, { "window_s", T_NUM },
	{ "observed_fraction", T_NUM }, { "hits", T_INT }, { "cpu_s", T_NUM }, { 0 },
};
static const struct member budget_m[] = {
	{ "pct", T_NUM }, { "allowed_cpu_s", T_NUM }, { "aim_pct", T_NUM },
	{ "spent_cpu_s", T_NUM },
	{ "spent_pct", T_NUM }, { "windows", T_INT }, { "classes", T_ARR, class_m }, { 0 },
};
static const struct member overhead_m[] = {
	{ "probe_hits", T_INT }, { "estimated_target_cpu_s", T_NUM }, { "trap_stepped_us", T_NUM },
	{ "trap_emulated_us", T_NUM }, { "trap_measured", T_BOOL }, { "handler_ret_us", T_NUM },
	{ "budget", T_OBJ, budget_m }, { "write_observed_fraction", T_NUM }, { "uprobes", T_INT },
	{ "write_estimate_fraction", T_NUM }, { "write_work", T_OBJ }, { "writes_seen", T_INT },
	{ "writes_tallied", T_INT },
	{ 0 },
};
static const struct member report_m[] = {
	{ "schema", T_STR }, { "target", T_OBJ, target_m }, { "started_at", T_STR },
	{ "duration_s", T_NUM }, { "ended_by", T_STR }, { "maps", T_ARR, map_m },
	{ "sync_maps", T_ARR, syncmap_m }, { "findings", T_ARR, finding_m },
	{ "target_died", T_OBJ, died_m }, { "events", T_OBJ, events_m },
	{ "overhead", T_OBJ, overhead_m }, { 0 },
};

static bool has_type(json_object *v, unsigned types)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return true;
	case json_type_string: return types & T_STR;
	case json_type_int: return types & (T_INT | T_NUM);
	case json_type_double: return types & T_NUM;
	case json_type_boolean: return types & T_BOOL;
	case json_type_object: return types & T_OBJ;
	case json_type_array: return types & T_ARR;
	}
	return false;
}

static const char *type_name(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_string: return "a string";
	case json_type_int: return "an integer";
	case json_type_double: return "a number";
	case json_type_boolean: return "a boolean";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	default: return "null";
	}
}

static const char *expected(unsigned types)
{
	if (types & T_OBJ)
		return "an object";
	if (types & T_ARR)
		return "an array";
	if (types & T_STR)
		return "a string";
	if (types & T_INT)
		return "an integer";
	if (types & T_NUM)
		return "a number";
	return "a boolean";
}

/* Check obj's members against ms; path names obj (".maps[2]"). 0, or -1 with a message. */
static int check_members(json_object *obj, const struct member *ms, char *path, size_t plen,
			 char *err, size_t errlen)
{
	size_t at = strlen(path);
	int rc = 0;

	for (const struct member *m = ms; m->name && !rc; m++) {
		json_object *v = NULL;

		if (!json_object_object_get_ex(obj, m->name, &v) || !v)
			continue;
		snprintf(path + at, plen - at, ".%s", m->name);
		if (!has_type(v, m->types)) {
			snprintf(err, errlen, "%s is %s, not %s", path, type_name(v),
				 expected(m->types));
			rc = -1;
		} else if (m->sub && json_object_is_type(v, json_type_object)) {
			rc = check_members(v, m->sub, path, plen, err, errlen);
		} else if (m->sub) {
			size_t n = json_object_array_length(v), at2 = strlen(path);

			for (size_t i = 0; i < n && !rc; i++) {
				json_object *e = json_object_array_get_idx(v, i);

				snprintf(path + at2, plen - at2, "[%zu]", i);
				if (!json_object_is_type(e, json_type_object)) {
					snprintf(err, errlen, "%s is %s, not an object", path,
						 type_name(e));
					rc = -1;
				} else {
					rc = check_members(e, m->sub, path, plen, err, errlen);
				}
			}
		}
		path[at] = 0;
	}
	return rc;
}

int report_check(json_object *doc, char *err, size_t errlen)
{
	json_object *schema = NULL;
	char path[256] = "";

	if (!json_object_is_type(doc, json_type_object)) {
		snprintf(err, errlen, "the document is %s, not an object", type_name(doc));
		return -1;
	}
	if (!json_object_object_get_ex(doc, "schema", &schema) ||
	    !json_object_is_type(schema, json_type_string) ||
	    strcmp(json_object_get_string(schema), REPORT_SCHEMA)) {
		snprintf(err, errlen, "schema %s expected", REPORT_SCHEMA);
		return -1;
	}
	return check_members(doc, report_m, path, sizeof(path), err, errlen);
}

json_object *report_parse(const char *buf, size_t len, const char *name, char *err,
			  size_t errlen)
{
	json_tokener *tok = json_tokener_new();
	enum json_tokener_error je;
	json_object *doc;
	char why[160];
	size_t end;

	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (len > INT32_MAX) {
		snprintf(err, errlen, "%s: not a mapwatch capture (too large)", name);
		json_tokener_free(tok);
		return NULL;
	}
	doc = json_tokener_parse_ex(tok, buf, (int)len);
	je = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (je == json_tokener_continue || (je == json_tokener_success && !doc && !len)) {
		snprintf(err, errlen, "%s: not a mapwatch capture (the JSON ends early)", name);
		return NULL;
	}
	if (je != json_tokener_success) {
		snprintf(err, errlen, "%s: not a mapwatch capture (invalid JSON at byte %zu: %s)",
			 name, end, json_tokener_error_desc(je));
		return NULL;
	}
	while (end < len && buf[end] && strchr(" \t\r\n", buf[end]))
		end++;
	if (end < len) {
		snprintf(err, errlen, "%s: not a mapwatch capture (data after the JSON at byte %zu)",
			 name, end);
		json_object_put(doc);
		return NULL;
	}
	if (report_check(doc, why, sizeof(why))) {
		snprintf(err, errlen, "%s: not a mapwatch capture (%s)", name, why);
		json_object_put(doc);
		return NULL;
	}
	return doc;
}

/* Reports are a few MiB; a file larger than this is not one. */
#define REPORT_MAX_BYTES (1ULL << 30)

int report_read(const char *path, json_object **doc, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	*doc = NULL;
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return REPORT_ERR_IO;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			char *nb;

			if (cap >= REPORT_MAX_BYTES) {
				snprintf(err, errlen, "%s: not a mapwatch capture (larger than 1 GiB)",
					 path);
				free(buf);
				fclose(f);
				return REPORT_ERR_MALFORMED;
			}
			cap = cap ? cap * 2 : 1 << 16;
			nb = realloc(buf, cap);
			if (!nb) {
				snprintf(err, errlen, "out of memory reading %s", path);
				free(buf);
				fclose(f);
				return REPORT_ERR_IO;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		free(buf);
		fclose(f);
		return REPORT_ERR_IO;
	}
	fclose(f);
	*doc = report_parse(buf, len, path, err, errlen);
	free(buf);
	return *doc ? 0 : REPORT_ERR_MALFORMED;
}
