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

#include "cgroup_controllers.h"
#include "churn_growth.h"
#include "crash_storm.h"
#include "figures.h"
#include "fork_storm.h"
#include "memory_growth.h"
#include "rcatrace.h"
#include "respawn_detector.h"

struct unit_table;


struct unit_table_opts {
	const struct fig_state *base; /* state file contents, or NULL; copied */
	const char *boot_id;
	uint32_t state_interval_ms; /* recorded in the state: how stale it may be */
	struct respawn_detector_config detector;
	struct memory_growth_config growth;
	struct fork_storm_config fork_storm;
	struct crash_storm_config crash_storm;
	uint32_t page_size; /* bytes; the kernel counts resident memory in pages */
};

enum finding_kind {
	FINDING_RESPAWN_STORM = 1,
	FINDING_FORK_STORM = 2,
	FINDING_LEAK_SUSPECT = 3,
	FINDING_CRASH_STORM = 4,
	FINDING_CHURN_GROWTH = 5,
};

/* What a crash storm finding says: how many, which signal, who, and who replaces them. */
struct crash_storm_figures {
	uint64_t window_crashes; /* crash exits in the detector's window */
	uint64_t crashes;        /* crash exits of the unit in all */
	uint32_t signal;         /* of the latest crash */
	const struct fig_exe *exe; /* the executable that crashed last (comm and parent inside) */
};

struct unit_table_finding {
	enum finding_kind kind;
	int started; /* 1: started (or still open, with ongoing), 0: ended */
	/*
	 * 1: still open, reported again at each sample with its figures now, so
	 * the store can keep the peak; nothing new to say to the operator.
	 */
	int ongoing;
	const struct fig_unit *unit;
	/* FINDING_RESPAWN_STORM: */
	enum respawn_transition what;
	const struct fig_exe *exe;
	struct respawn_figures fig;
	/* FINDING_FORK_STORM: */
	struct fork_storm_figures fork;
	/* FINDING_CRASH_STORM: */
	struct crash_storm_figures crash;
	/* FINDING_CHURN_GROWTH: unit grows per start of storm_unit. */
	const char *storm_unit;
	const char *ambiguous_with; /* another storm it grows with too; NULL: none */
	struct churn_growth_result churn;
};

typedef void (*unit_table_finding_fn)(void *ctx, const struct unit_table_finding *f);

struct unit_table *unit_table__new(const struct unit_table_opts *opts);
void unit_table__free(struct unit_table *t);

struct kernel_sample;
/*
 * Applies one kernel sample: what each row counted since the last sample is
 * added to this boot's figures (rows marked retired for the last time); then
 * the detectors run, and fn hears of every finding that starts or ends. The
 * sample's rows are sorted by key in place. 0 or -ENOMEM.
 */
int unit_table__apply(struct unit_table *t, struct kernel_sample *s,
		      unit_table_finding_fn fn, void *ctx);
/*
 * Controller figures (pids, memory) and live process count of a unit, read by
 * the caller; cg NULL (no process to read them through) keeps the last ones.
 */
void unit_table__set_controllers(struct unit_table *t, const char *unit,
				 const struct cgroup_figures *cg, int64_t procs_alive);
/* The machine's available memory, for the exhaustion projection of units without a limit. */
void unit_table__set_mem_available(struct unit_table *t, uint64_t kib);

/*
 * The kernel's own memory, machine-wide (KiB; dying_cgroups a count; -1
 * unknown): the pseudo-units kernel:slab, kernel:sunreclaim,
 * kernel:kernel_stack, kernel:page_tables, kernel:percpu and
 * kernel:dying_cgroups of the next sample, with their own growth fit, and
 * candidates for a churn-growth link.
 */
struct unit_table_kernel {
	int64_t slab_kib, sunreclaim_kib, kernel_stack_kib, page_tables_kib, percpu_kib;
	int64_t dying_cgroups;
};
void unit_table__set_kernel(struct unit_table *t, const struct unit_table_kernel *k);
/* The churn-growth links standing now (an OOM record): fn for each, with ongoing set. */
void unit_table__each_churn_link(const struct unit_table *t, unit_table_finding_fn fn, void *ctx);
/* OOM and kill records, kept in the state (bounded, newest kept). 0 or -ENOMEM. */
int unit_table__add_oom(struct unit_table *t, const struct fig_oom *o);
int unit_table__add_kill_record(struct unit_table *t, const struct fig_kill *k);
/* The n units of the current boot with the most resident memory / fastest growth. */
uint32_t unit_table__top_units(const struct unit_table *t, int by_growth, struct fig_top_unit *out,
			       uint32_t n);

/* Merges and runs the detectors again without a new sample (at start, before the first one). */
int unit_table__end(struct unit_table *t, int64_t now_ms, unit_table_finding_fn fn, void *ctx);

/* Kernel-side losses of this run; added to the earlier runs' in the state. */
void unit_table__set_lost(struct unit_table *t, const uint64_t lost[RCA_LOST_KIND_MAX],
			  uint64_t units_unnamed);

/* The model's own bounds: what it follows, and what it refused past them (shown, never silent). */
struct unit_table_stats {
	uint32_t exe_tracks;          /* (unit, executable) pairs the respawn detector follows */
	uint64_t exe_tracks_dropped;  /* ... refused: the table was full */
	uint32_t unit_tracks;         /* units followed for memory, fork and crash storms */
	uint64_t unit_tracks_dropped; /* ... refused */
};
void unit_table__stats(const struct unit_table *t, struct unit_table_stats *ret);

/* The whole state (earlier boots + this one), as of the last unit_table__end(). */
const struct fig_state *unit_table__state(const struct unit_table *t);
const struct fig_boot *unit_table__current(const struct unit_table *t);
#endif
