/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The live per-unit view of `run`: a refreshed table on a terminal, plain lines elsewhere. */
#ifndef RCATRACE_VIEW_H
#define RCATRACE_VIEW_H

#include <stdint.h>
#include <stdio.h>

#include "figures.h"

struct view;

struct view_opts {
	FILE *out;
	int terminal; /* redraw a table in place; else print a line per changed unit */
	const char *const *unit_globs;
	int n_unit_globs;
};

struct view_status {
	uint64_t lost[RCA_LOST_KIND_MAX];
	uint64_t units_unnamed;
	uint64_t records_invalid;
	const char *state_path; /* NULL: no state file */
	int state_error;        /* last state save failed with this -errno */
};

struct view *view__new(const struct view_opts *opts);
void view__free(struct view *v);
void view__render(struct view *v, const struct fig_boot *boot, int64_t now_ms,
		  const struct view_status *st);

#endif
