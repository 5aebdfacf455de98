// SPDX-License-Identifier: MIT
/*
 * The Go binary readers on real binaries from every installed toolchain (tests/build-fixtures.sh):
 * stripped twins resolve every function at the address their unstripped twin's symbol table
 * gives; truncated and corrupted files fail cleanly (this file is built with ASan and UBSan).
 */
#include <dirent.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "gobin/gobin.h"
#include "probes.h"

static char goversions[64][32];
static int ngo;

static void load_toolchains(void)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/toolchains", fixtures_dir());
	f = fopen(path, "r");
	if (!f)
		return;
	while (ngo < 64 && fscanf(f, "%31s", goversions[ngo]) == 1)
		ngo++;
	fclose(f);
}

/* gobin_open, then the functions placed at moduledata.text as the catalogue says. */
static int open_go(struct gobin *gb, const char *path, char *err, size_t errlen)
{
	const struct go_layout *l;
	int r = gobin_open(gb, path, err, errlen);

	if (r)
		return r;
	l = go_layout_for(&gb->bi, err, errlen);
	if (!l || gobin_locate_text(gb, l->md_text, err, errlen)) {
		gobin_close(gb);
		return -1;
	}
	return 0;
}

static void fixture(char *buf, size_t len, const char *go, const char *flavour)
{
	snprintf(buf, len, "%.400s/%.31s/writes.%.31s", fixtures_dir(), go, flavour);
}

/* name -> address from the ELF symbol table (independent of our pclntab reader). */
struct sym {
	char *name;
	uint64_t addr;
};

static int read_symtab(const char *path, struct sym **out)
{
	int fd = open(path, O_RDONLY), n = 0;
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	Elf_Scn *scn = NULL;
	struct sym *s = NULL;

	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sy;

			gelf_getsym(d, (int)i, &sy);
			if (GELF_ST_TYPE(sy.st_info) != STT_FUNC || !sy.st_value)
				continue;
			s = realloc(s, (size_t)(n + 1) * sizeof(*s));
			s[n].name = strdup(elf_strptr(e, sh.sh_link, sy.st_name));
			s[n].addr = sy.st_value;
			n++;
		}
	}
	elf_end(e);
	close(fd);
	*out = s;
	return n;
}

static void free_syms(struct sym *s, int n)
{
	for (int i = 0; i < n; i++)
		free(s[i].name);
	free(s);
}

static void every_binary_opens(void)
{
	static const char *fl[] = { "plain", "stripped", "pie", "pie-stripped", "cgo",
				    "cgo-pie-stripped" };
	char path[512], err[256];

	EXPECT_MSG(ngo > 0, "no fixtures in %s (run tests/build-fixtures.sh)", fixtures_dir());
	for (int g = 0; g < ngo; g++) {
		for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
			struct gobin gb;
			const struct go_func *f;
			char want[32];

			fixture(path, sizeof(path), goversions[g], fl[i]);
			if (open_go(&gb, path, err, sizeof(err))) {
				EXPECT_MSG(0, "%s: %s", path, err);
				continue;
			}
			snprintf(want, sizeof(want), "go%.*s.", (int)strcspn(goversions[g], "-"),
				 goversions[g]);
			EXPECT_MSG(!strncmp(gb.bi.version, want, strlen(want)), "%s: version %s",
				   path, gb.bi.version);
			EXPECT_MSG(!strstr(goversions[g], "noswiss") ==
					   !go_buildinfo_has_experiment(&gb.bi, "noswissmap"),
				   "%s: experiments '%s'", path, gb.bi.experiments);
			EXPECT_MSG(gb.pcln.nfuncs > 1000, "%s: %zu functions", path,
				   gb.pcln.nfuncs);
			f = pclntab_func_named(&gb.pcln, "main.assign64", NULL);
			EXPECT_MSG(f && pclntab_func_at(&gb.pcln, f->entry + 3) == f, "%s", path);
			EXPECT_MSG(pclntab_func_named(&gb.pcln, "runtime.mapassign_fast64", NULL),
				   "%s", path);
			EXPECT_MSG(gb.img.pie == (strstr(fl[i], "pie") != NULL), "%s", path);
			EXPECT_MSG(gb.img.has_symtab == (strstr(fl[i], "stripped") == NULL), "%s",
				   path);
			gobin_close(&gb);
		}
	}
}

/* Every function of the stripped twin sits where the unstripped symbol table says. */
static void compare_twin(const char *plain, const char *stripped)
{
	struct gobin gb;
	struct sym *syms;
	char err[256];
	int nsyms = read_symtab(plain, &syms), matched = 0, wrong = 0;

	if (open_go(&gb, stripped, err, sizeof(err))) {
		EXPECT_MSG(0, "%s: %s", stripped, err);
		free_syms(syms, nsyms);
		return;
	}
	if (strcmp(plain, stripped))
		EXPECT_MSG(!gb.img.has_symtab, "%s has a symbol table", stripped);
	for (int i = 0; i < nsyms; i++) {
		int dup;
		const struct go_func *f = pclntab_func_named(&gb.pcln, syms[i].name, &dup);

		if (!f || dup > 1)
			continue;
		if (f->entry == syms[i].addr)
			matched++;
		else if (wrong++ < 3)
			fprintf(stderr, "  %s: %s at %#lx, symtab %#lx\n", stripped, syms[i].name,
				(unsigned long)f->entry, (unsigned long)syms[i].addr);
	}
	EXPECT_MSG(matched > 1000 && wrong == 0, "%s: %d matched, %d wrong", stripped, matched,
		   wrong);
	gobin_close(&gb);
	free_syms(syms, nsyms);
}

static void stripped_twins_agree(void)
{
	char a[512], b[512];

	for (int g = 0; g < ngo; g++) {
		fixture(a, sizeof(a), goversions[g], "plain");
		fixture(b, sizeof(b), goversions[g], "stripped");
		compare_twin(a, b);
		fixture(a, sizeof(a), goversions[g], "pie");
		fixture(b, sizeof(b), goversions[g], "pie-stripped");
		compare_twin(a, b);
		/* externally linked: the table against the binary's own symbols */
		fixture(a, sizeof(a), goversions[g], "cgo");
		compare_twin(a, a);
	}
}

static int slurp(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		return -1;
	*len = (size_t)st.st_size;
	*buf = malloc(*len);
	if (read(fd, *buf, *len) != (ssize_t)*len) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void write_file(const char *path, const uint8_t *b, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (write(fd, b, n) != (ssize_t)n)
		perror(path);
	close(fd);
}

/* Open, and if that works, use everything: must not crash or read out of bounds. */
static int exercise(const char *path)
{
	struct gobin gb;
	char err[256];

	if (open_go(&gb, path, err, sizeof(err)))
		return -1;
	for (size_t i = 0; i < gb.pcln.nfuncs; i += 7) {
		const struct go_func *f = &gb.pcln.funcs[i];
		const char *file;
		int line;

		pclntab_func_at(&gb.pcln, f->entry);
		pclntab_line(&gb.pcln, f, f->entry, &file, &line);
	}
	gobin_close(&gb);
	return 0;
}

static void truncated_files_fail_cleanly(void)
{
	char src[512], tmp[] = "/tmp/mw-trunc-XXXXXX";
	size_t len;
	uint8_t *b;
	int fd = mkstemp(tmp);

	close(fd);
	fixture(src, sizeof(src), ngo ? goversions[ngo - 1] : "none", "stripped");
	if (slurp(src, &b, &len)) {
		EXPECT_MSG(0, "cannot read %s", src);
		return;
	}
	for (int k = 0; k < 16; k++) {
		size_t cut = len * (size_t)k / 16;

		write_file(tmp, b, cut);
		EXPECT_MSG(exercise(tmp) != 0, "cut at %zu of %zu opened", cut, len);
	}
	/* Only the section header table is cut: may open, must not read out of bounds. */
	write_file(tmp, b, len - 1);
	exercise(tmp);
	free(b);
	unlink(tmp);
}

static void corrupted_tables_fail_cleanly(void)
{
	char src[512], tmp[] = "/tmp/mw-corrupt-XXXXXX";
	struct gobin gb;
	char err[256];
	size_t len, at, span;
	uint8_t *b;
	int fd = mkstemp(tmp), opened = 0, refused = 0;
	unsigned seed = 1;

	close(fd);
	fixture(src, sizeof(src), ngo ? goversions[0] : "none", "stripped");
	if (slurp(src, &b, &len) || open_go(&gb, src, err, sizeof(err))) {
		EXPECT_MSG(0, "cannot read %s", src);
		return;
	}
	at = (size_t)(gb.pcln.p - gb.img.data);	/* file offset of the pclntab */
	span = gb.pcln.pcln_off + gb.pcln.nfunc * 8 + 64;
	gobin_close(&gb);
	for (int round = 0; round < 200; round++) {
		uint8_t *c = malloc(len);

		memcpy(c, b, len);
		for (int k = 0; k < 8; k++) {
			seed = seed * 1103515245u + 12345u;
			/* the header (first rounds) and the function table */
			c[at + (round < 40 ? seed % 72 : seed % span)] ^= (uint8_t)(seed >> 16 | 1);
		}
		write_file(tmp, c, len);
		if (exercise(tmp))
			refused++;
		else
			opened++;
		free(c);
	}
	EXPECT_MSG(refused > 0, "no corruption was noticed (%d opened)", opened);
	free(b);
	unlink(tmp);
}

/* With no section headers, build info, pclntab and moduledata are all found by scanning. */
static void no_section_headers(void)
{
	char src[512], tmp[] = "/tmp/mw-noshdr-XXXXXX", err[256];
	struct gobin a, b;
	size_t len;
	uint8_t *buf;
	int fd = mkstemp(tmp);

	close(fd);
	for (int g = 0; g < ngo; g++) {
		fixture(src, sizeof(src), goversions[g], "pie-stripped");
		if (slurp(src, &buf, &len) || open_go(&a, src, err, sizeof(err))) {
			EXPECT_MSG(0, "cannot read %s", src);
			continue;
		}
		memset(buf + 0x28, 0, 8);	/* e_shoff */
		memset(buf + 0x3c, 0, 4);	/* e_shnum, e_shstrndx */
		write_file(tmp, buf, len);
		free(buf);
		if (open_go(&b, tmp, err, sizeof(err))) {
			EXPECT_MSG(0, "%s without section headers: %s", src, err);
			gobin_close(&a);
			continue;
		}
		EXPECT_MSG(b.img.nsecs == 0 && !strcmp(b.pcln_where, "scan"), "%s", src);
		EXPECT_MSG(!strcmp(a.bi.version, b.bi.version), "%s", src);
		EXPECT_MSG(a.moduledata == b.moduledata && a.pcln.text_start == b.pcln.text_start &&
				   a.pcln.nfuncs == b.pcln.nfuncs,
			   "%s", src);
		for (size_t i = 0; i < a.pcln.nfuncs && i < b.pcln.nfuncs; i++)
			if (a.pcln.funcs[i].entry != b.pcln.funcs[i].entry ||
			    strcmp(a.pcln.funcs[i].name, b.pcln.funcs[i].name)) {
				EXPECT_MSG(0, "%s: function %zu differs", src, i);
				break;
			}
		gobin_close(&a);
		gobin_close(&b);
	}
	unlink(tmp);
}

static void not_go(void)
{
	struct gobin gb;
	char err[256];

	EXPECT(gobin_open(&gb, "/bin/sh", err, sizeof(err)) == GOBIN_ERR_NOT_GO);
	EXPECT(strstr(err, "not a Go binary"));
	EXPECT(gobin_open(&gb, "/etc/passwd", err, sizeof(err)) == GOBIN_ERR_OPEN);
	EXPECT(gobin_open(&gb, "/nonexistent", err, sizeof(err)) == GOBIN_ERR_OPEN);
}

int main(void)
{
	static const struct check_case cases[] = {
		CASE(every_binary_opens), CASE(stripped_twins_agree),
		CASE(truncated_files_fail_cleanly), CASE(corrupted_tables_fail_cleanly),
		CASE(no_section_headers), CASE(not_go),
	};

	elf_version(EV_CURRENT);
	load_toolchains();
	return check_run("pclntab", cases, sizeof(cases) / sizeof(cases[0]));
}
