// SPDX-License-Identifier: MIT
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buildinfo.h"
#include "elfimg.h"
#include "span.h"
#include "varint.h"

/* A decimal number of at most 6 digits (a version component); -1 if there is none. */
static int version_num(const char *p, const char **end)
{
	int v = 0, n = 0;

	while (*p >= '0' && *p <= '9' && n < 6) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	*end = p;
	return n && !(*p >= '0' && *p <= '9') ? v : -1;
}

int go_version_parse(const char *s, struct go_version *v)
{
	const char *end;

	memset(v, 0, sizeof(*v));
	if (strncmp(s, "go", 2))
		return -1;
	v->major = version_num(s + 2, &end);
	if (v->major < 0 || *end != '.')
		return -1;
	v->minor = version_num(end + 1, &end);
	if (v->minor < 0)
		return -1;
	if (*end == '.') {
		v->patch = version_num(end + 1, &end);
		if (v->patch < 0)
			return -1;
	} else if (!strncmp(end, "rc", 2) || !strncmp(end, "beta", 4)) {
		v->prerelease = true;
		while (*end && *end != ' ')
			end++;
	}
	if (*end && *end != ' ' && *end != '-')
		return -1;
	return 0;
}

/* Copy the value of "build\tKEY=" from modinfo, if present. */
static void modinfo_setting(const char *mi, size_t n, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);
	const char *p = mi, *end = mi + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (ll > 6 + klen + 1 && !memcmp(p, "build\t", 6) && !memcmp(p + 6, key, klen) &&
		    p[6 + klen] == '=') {
			size_t vl = ll - 7 - klen;

			if (vl >= outlen)
				vl = outlen - 1;
			memcpy(out, p + 7 + klen, vl);
			out[vl] = 0;
			return;
		}
		p += ll + 1;
	}
}

static void modinfo_path(const char *mi, size_t n, char *out, size_t outlen)
{
	const char *p = mi, *end = mi + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (ll > 5 && !memcmp(p, "path\t", 5)) {
			size_t vl = ll - 5 < outlen - 1 ? ll - 5 : outlen - 1;

			memcpy(out, p + 5, vl);
			out[vl] = 0;
			return;
		}
		p += ll + 1;
	}
}

int go_buildinfo_parse(const uint8_t *p, size_t n, struct go_buildinfo *bi, char *err,
		       size_t errlen)
{
	uint64_t vlen, mlen;
	size_t off = 32, cp;
	const char *x;
	char tmp[64] = "";

	memset(bi, 0, sizeof(*bi));
	if (n < 32 || memcmp(p, GO_BUILDINFO_MAGIC, GO_BUILDINFO_MAGIC_LEN)) {
		snprintf(err, errlen, "no Go build information");
		return -1;
	}
	if (p[14] != 8 || (p[15] & 1)) {
		snprintf(err, errlen, "Go build information is not for a 64-bit little-endian target");
		return -1;
	}
	if (!(p[15] & 2)) {
		snprintf(err, errlen, "Go build information predates Go 1.18 (not supported)");
		return -1;
	}
	if (uvarint_read(p, n, &off, &vlen) || vlen == 0 || !span_ok(off, vlen, n)) {
		snprintf(err, errlen, "truncated Go build information (version)");
		return -1;
	}
	cp = vlen < sizeof(bi->version) ? vlen : sizeof(bi->version) - 1;
	memcpy(bi->version, p + off, cp);
	bi->version[cp] = 0;
	off += vlen;
	if (go_version_parse(bi->version, &bi->v)) {
		snprintf(err, errlen, "unrecognised Go version string \"%s\"", bi->version);
		return -1;
	}
	/* "go1.25.12 X:a,b"; from Go 1.26 "go1.27.4-X:a,b" (" X:" after a version with a '-') */
	x = strstr(bi->version, "X:");
	if (x && x > bi->version && (x[-1] == ' ' || x[-1] == '-'))
		snprintf(bi->experiments, sizeof(bi->experiments), "%s", x + 2);

	/* modinfo is optional (binaries built outside a module have a short one). */
	if (!uvarint_read(p, n, &off, &mlen) && span_ok(off, mlen, n) && mlen > 32) {
		const char *mi = (const char *)p + off + 16;	/* 16-byte sentinels around it */
		size_t ml = mlen - 32;

		modinfo_path(mi, ml, bi->path, sizeof(bi->path));
		if (!bi->experiments[0])
			modinfo_setting(mi, ml, "GOEXPERIMENT", bi->experiments,
					sizeof(bi->experiments));
		modinfo_setting(mi, ml, "CGO_ENABLED", tmp, sizeof(tmp));
		bi->cgo = !strcmp(tmp, "1");
	}
	return 0;
}

bool go_buildinfo_has_experiment(const struct go_buildinfo *bi, const char *name)
{
	size_t nl = strlen(name);
	const char *p = bi->experiments;

	while (*p) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);

		if (l == nl && !memcmp(p, name, nl))
			return true;
		if (!c)
			break;
		p = c + 1;
	}
	return false;
}

struct bi_scan {
	struct go_buildinfo *bi;
	char *err;
	size_t errlen;
};

static int bi_at(const uint8_t *p, size_t avail, uint64_t vaddr, void *ctx)
{
	struct bi_scan *c = ctx;

	(void)vaddr;
	if (memcmp(p, GO_BUILDINFO_MAGIC, GO_BUILDINFO_MAGIC_LEN))
		return 0;
	return go_buildinfo_parse(p, avail, c->bi, c->err, c->errlen) ? -1 : 1;
}

int go_buildinfo_read(const struct elfimg *img, struct go_buildinfo *bi, char *err,
		      size_t errlen)
{
	const struct elfimg_sec *s = elfimg_section(img, ".go.buildinfo");
	struct bi_scan c = { bi, err, errlen };
	int r;

	if (s && s->offset < img->size && s->type != SHT_NOBITS) {
		size_t n = img->size - s->offset;

		return go_buildinfo_parse(img->data + s->offset, n, bi, err, errlen);
	}
	/* No section headers: the blob is 16-byte aligned in a writable segment. */
	r = elfimg_scan(img, PF_W, 0, 16, 32, bi_at, &c);
	if (r)
		return r > 0 ? 0 : -1;
	snprintf(err, errlen, "no Go build information (not a Go binary?)");
	return -1;
}
