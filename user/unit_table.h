/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Per-unit figures of this boot, rebuilt each interval from the kernel maps:
 *   current boot = what earlier runs of this boot left in the state file
 *                + cgroups already gone (retired: folded in, then deleted
 *                  from the kernel maps so they stay bounded)
 *                + the live map contents.
 * Runs the respawn detector over the result and reports its transitions.
 */
#ifndef RCATRACE_UNIT_TABLE_H
#define RCATRACE_UNIT_TABLE_H

#include <stdint.h>

#include "figures.h"
#include "rcatrace.h"
#include "respawn_detector.h"

struct unit_table;

/* Names a cgroup id (leaf may be NULL); returns non-zero when it could not be named. */
typedef int (*unit_table_name_fn)(void *ctx, uint64_t cgroup_id, const char *leaf, char *dst,
				  size_t size);

struct unit_table_opts {
	const struct fig_state *base; /* state file contents, or NULL; copied */
	const char *boot_id;
	unit_table_name_fn name;
	void *name_ctx;
	struct respawn_detector_config detector;
};

struct unit_table_finding {
	enum respawn_transition what;
	const struct fig_unit *unit;
	const struct fig_exe *exe;
	struct respawn_figures fig;
};

typedef void (*unit_table_finding_fn)(void *ctx, const struct unit_table_finding *f);

struct unit_table *unit_table__new(const struct unit_table_opts *opts);
void unit_table__free(struct unit_table *t);

/* Starts a sample: forgets the previous live contents. */
void unit_table__begin(struct unit_table *t);
/* Adds one map entry; retired: its cgroup is gone and the entry is about to be deleted. */
void unit_table__add_unit(struct unit_table *t, uint64_t cgroup_id, const struct rca_unit_stats *st,
			  int retired);
void unit_table__add_ledger(struct unit_table *t, const struct rca_ledger_key *key,
			    const struct rca_ledger *l, int retired);
void unit_table__add_status(struct unit_table *t, const struct rca_status_key *key, uint64_t count,
			    int retired);
/* An executable path learned from an exec record (the ledger keeps only the first one). */
void unit_table__learn_exe(struct unit_table *t, uint64_t exe_id, const char *path);
/* Ends the sample: merges, runs the detector, calls fn for each storm start/end. */
int unit_table__end(struct unit_table *t, int64_t now_ms, unit_table_finding_fn fn, void *ctx);

/* Kernel-side losses of this run; added to the earlier runs' in the state. */
void unit_table__set_lost(struct unit_table *t, const uint64_t lost[RCA_LOST_KIND_MAX],
			  uint64_t units_unnamed);

/* The whole state (earlier boots + this one), as of the last unit_table__end(). */
const struct fig_state *unit_table__state(const struct unit_table *t);
const struct fig_boot *unit_table__current(const struct unit_table *t);
/* Window figures of one executable, if the detector tracks it. */
int unit_table__exe_figures(const struct unit_table *t, const char *unit, const char *path,
			    struct respawn_figures *ret);

#endif
