/* SPDX-License-Identifier: MIT */
/*
 * Read the runtime struct offsets mapwatch needs from a Go binary's own DWARF (libdw).
 * Used by tools/gen-offsets to write probes/layouts.def, and at run time for a Go release
 * that is not in the catalogue but whose binary still carries DWARF.
 */
#ifndef MW_DWARF_LAYOUT_H
#define MW_DWARF_LAYOUT_H

#include "gobin/gobin.h"
#include "probes.h"

/* Map implementation of a binary, from the runtime functions it contains. */
int gobin_map_impl(const struct gobin *gb);

/*
 * Fill l (minor, experiment and impl from the binary) from the DWARF of the file at path.
 * 0, or -1 with the missing piece named in err. Strings in l are static or owned by the caller.
 */
int dwarf_layout_read(const struct gobin *gb, const char *path, struct go_layout *l, char *err,
		      size_t errlen);

/* Fill h (but its minor) from the DWARF of the file at path. 0, or -1 with a message. */
int dwarf_heap_read(const char *path, struct go_heap_layout *h, char *err, size_t errlen);

#endif
