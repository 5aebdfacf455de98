// SPDX-License-Identifier: MIT
/* .go.buildinfo and version strings, on hand-made blobs. */
#include "check.h"
#include "gobin/buildinfo.h"

/* A Go 1.18+ inline-format blob with version v and modinfo mi. */
static size_t make_blob(uint8_t *b, const char *v, const char *mi)
{
	size_t n = 32, vl = strlen(v), ml = mi ? strlen(mi) + 32 : 0;

	memset(b, 0, 32);
	memcpy(b, "\xff Go buildinf:", 14);
	b[14] = 8;
	b[15] = 2;
	b[n++] = (uint8_t)vl;
	memcpy(b + n, v, vl);
	n += vl;
	for (size_t x = ml; ; x >>= 7) {	/* uvarint */
		b[n++] = (uint8_t)((x & 0x7f) | (x > 0x7f ? 0x80 : 0));
		if (x <= 0x7f)
			break;
	}
	if (mi) {
		memset(b + n, 0x30, 16);
		memcpy(b + n + 16, mi, strlen(mi));
		memset(b + n + 16 + strlen(mi), 0x31, 16);
		n += ml;
	}
	return n;
}

static void versions(void)
{
	struct go_version v;

	EXPECT(!go_version_parse("go1.19.8", &v) && v.minor == 19 && v.patch == 8);
	EXPECT(!go_version_parse("go1.26.11", &v) && v.minor == 26 && v.patch == 11);
	EXPECT(!go_version_parse("go1.22rc1", &v) && v.minor == 22 && v.prerelease);
	EXPECT(!go_version_parse("go1.24.4 X:noswissmap", &v) && v.minor == 24);
	EXPECT(!go_version_parse("go1.27.4-X:mapsplitgroup", &v) && v.minor == 27 && v.patch == 4);
	EXPECT(go_version_parse("devel +abc", &v));
	EXPECT(go_version_parse("go", &v));
	EXPECT(go_version_parse("go1.x", &v));
}

static void blob_with_modinfo(void)
{
	uint8_t b[512];
	const char *mi = "path\texample.com/api\nmod\texample.com/api\t(devel)\t\n"
			 "build\tCGO_ENABLED=1\nbuild\tGOEXPERIMENT=noswissmap\n";
	size_t n = make_blob(b, "go1.24.4", mi);
	struct go_buildinfo bi;
	char err[128];

	EXPECT(!go_buildinfo_parse(b, n, &bi, err, sizeof(err)));
	EXPECT(!strcmp(bi.version, "go1.24.4"));
	EXPECT(!strcmp(bi.path, "example.com/api"));
	EXPECT(bi.cgo);
	EXPECT(go_buildinfo_has_experiment(&bi, "noswissmap"));
	EXPECT(!go_buildinfo_has_experiment(&bi, "swissmap"));
}

static void experiments_in_version(void)
{
	uint8_t b[256];
	size_t n = make_blob(b, "go1.25.12 X:noswissmap,nosynchashtriemap", NULL);
	struct go_buildinfo bi;
	char err[128];

	EXPECT(!go_buildinfo_parse(b, n, &bi, err, sizeof(err)));
	EXPECT(bi.v.minor == 25);
	EXPECT(go_buildinfo_has_experiment(&bi, "noswissmap"));
	EXPECT(go_buildinfo_has_experiment(&bi, "nosynchashtriemap"));
	EXPECT(!bi.cgo);

	/* Go 1.26 and later join them with '-' (" " only after a version that has a '-') */
	n = make_blob(b, "go1.27.4-X:mapsplitgroup", NULL);
	EXPECT(!go_buildinfo_parse(b, n, &bi, err, sizeof(err)));
	EXPECT(bi.v.minor == 27 && bi.v.patch == 4);
	EXPECT(go_buildinfo_has_experiment(&bi, "mapsplitgroup"));
	EXPECT(!go_buildinfo_has_experiment(&bi, "noswissmap"));
	n = make_blob(b, "go1.27rc1-pre X:foo", NULL);
	EXPECT(!go_buildinfo_parse(b, n, &bi, err, sizeof(err)));
	EXPECT(go_buildinfo_has_experiment(&bi, "foo"));
}

static void truncated_and_corrupt(void)
{
	uint8_t b[256], c[256];
	size_t n = make_blob(b, "go1.21.13", "path\tx\n");
	struct go_buildinfo bi;
	char err[128];

	for (size_t cut = 0; cut < 32 + 1 + 9; cut++)
		EXPECT_MSG(go_buildinfo_parse(b, cut, &bi, err, sizeof(err)), "cut at %zu", cut);
	memcpy(c, b, n);
	c[32] = 0xff;	/* version length runs past the end */
	EXPECT(go_buildinfo_parse(c, n, &bi, err, sizeof(err)));
	memcpy(c, b, n);
	c[15] = 0;	/* pre-1.18 pointer format */
	EXPECT(go_buildinfo_parse(c, n, &bi, err, sizeof(err)) && strstr(err, "1.18"));
	memcpy(c, b, n);
	c[14] = 4;	/* 32-bit */
	EXPECT(go_buildinfo_parse(c, n, &bi, err, sizeof(err)));
	memcpy(c, b, n);
	memcpy(c + 33, "xx", 2);	/* not a version */
	EXPECT(go_buildinfo_parse(c, n, &bi, err, sizeof(err)));
}

int main(void)
{
	static const struct check_case cases[] = {
		CASE(versions), CASE(blob_with_modinfo), CASE(experiments_in_version),
		CASE(truncated_and_corrupt),
	};

	return check_run("buildinfo", cases, sizeof(cases) / sizeof(cases[0]));
}
