/* SPDX-License-Identifier: MIT */
/* Addresses of a Go binary in Go terms: function, file, line, type names. Pure. */
#ifndef MW_SYMBOLIZE_H
#define MW_SYMBOLIZE_H

#include <stdbool.h>
#include "gobin/gobin.h"
#include "probes.h"

struct frame_sym {
	const char *function;	/* "?" when unknown; points into the binary's table */
	const char *file;
	int line;
};

/* Symbolise a link-time PC (for a return address, pass retaddr - 1). 0 or -1. */
int sym_pc(const struct gobin *gb, uint64_t pc, struct frame_sym *out);
/*
 * The logical frames at a link-time PC, innermost first: functions inlined there (walking the
 * inline tree), then the physical function. Each with its own file:line. Returns the count.
 */
int sym_pc_frames(const struct gobin *gb, const struct go_layout *l, uint64_t pc,
		  struct frame_sym *out, int max);
/* True for code the user wrote: not the runtime, sync, reflect or internal packages. */
bool sym_is_user_function(const char *function);
/*
 * Name of the Go type whose descriptor is at link-time address type (e.g. "map[string]int"),
 * read from the binary's type metadata (works stripped). 0, or -1 if it cannot be read.
 */
int gotype_name(const struct gobin *gb, const struct go_layout *l, uint64_t type, char *buf,
		size_t len);

#endif
