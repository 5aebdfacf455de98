/* SPDX-License-Identifier: MIT */
/* The Go build information blob (.go.buildinfo): toolchain version and build settings. */
#ifndef MW_BUILDINFO_H
#define MW_BUILDINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elfimg;

struct go_version {
	int major, minor, patch;	/* go1.24.4 -> 1, 24, 4 (patch 0 for rc/beta) */
	bool prerelease;		/* rcN / betaN */
};

struct go_buildinfo {
	char version[128];	/* as stored: "go1.24.4 X:noswissmap,nosynchashtriemap" */
	struct go_version v;
	char experiments[128];	/* comma list from " X:" or build GOEXPERIMENT=, may be "" */
	char path[256];		/* main package path */
	bool cgo;		/* build CGO_ENABLED=1 */
};

/* The magic at the start of the blob. */
#define GO_BUILDINFO_MAGIC "\xff Go buildinf:"
#define GO_BUILDINFO_MAGIC_LEN 14

/* Pure: parse the blob at p (n bytes available). 0 or -1 with a message in err. */
int go_buildinfo_parse(const uint8_t *p, size_t n, struct go_buildinfo *bi, char *err,
		       size_t errlen);
/* Pure: "go1.21.13", "go1.22rc1", "go1.24.4 X:..." */
int go_version_parse(const char *s, struct go_version *v);
bool go_buildinfo_has_experiment(const struct go_buildinfo *bi, const char *name);

/* Find the blob in an ELF image (section, else a scan of writable segments) and parse it. */
int go_buildinfo_read(const struct elfimg *img, struct go_buildinfo *bi, char *err,
		      size_t errlen);

#endif
