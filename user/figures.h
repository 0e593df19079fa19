/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The figures rcatrace keeps, per boot, per unit, per executable: what the
 * state file stores, what `dump` prints and what `run` accumulates. Units are
 * keyed by name (a service gets a new cgroup id at every restart), executables
 * by path within their unit.
 */
#ifndef RCATRACE_FIGURES_H
#define RCATRACE_FIGURES_H

#include <stddef.h>
#include <stdint.h>

#include "rcatrace.h"

#define FIG_UNIT_NAME_MAX 256
#define FIG_BOOT_ID_MAX 40
/* Distinct exit codes/signals kept per executable; the rest add to status_other. */
#define FIG_MAX_STATUS 16
/* Bounds that keep a months-long run from growing; overflow is counted. */
#define FIG_MAX_BOOTS 16
#define FIG_MAX_UNITS 4096
#define FIG_MAX_EXES_PER_UNIT 64
/* Where a full unit's further executables are counted; may be the 65th entry. */
#define FIG_OTHER_EXE "(other)"

enum respawn_class {
	RESPAWN_NORMAL = 0,
	RESPAWN_PERIODIC = 1,
	RESPAWN_STORM = 2,
};

struct fig_status {
	uint32_t kind; /* enum rca_status_kind */
	uint32_t value;
	uint64_t count;
};

struct fig_exe {
	char path[RCA_EXE_PATH_LEN];
	uint64_t starts;
	uint64_t exits;
	uint64_t exits_failed;
	int64_t first_start_ms; /* unix ms; 0 = unknown */
	int64_t last_start_ms;
	int64_t last_exit_ms;
	uint64_t gaps;
	uint64_t gap_sum_ns;
	uint64_t gap_sumsq_ms2;
	uint64_t lifetime_sum_us;
	uint64_t lifetime_hist[RCA_LIFETIME_BUCKETS];
	uint32_t n_status;
	struct fig_status status[FIG_MAX_STATUS];
	uint64_t status_other; /* exits whose code/signal did not fit in status[] */
	/* Detector verdict, as of written time. */
	uint32_t respawn_class;    /* enum respawn_class */
	int64_t storm_since_ms;    /* unix ms the current/last storm was flagged; 0 never */
	uint64_t storms;           /* storms flagged so far */
};

struct fig_unit {
	char name[FIG_UNIT_NAME_MAX];
	uint64_t forks;
	uint64_t threads;
	uint64_t execs;
	uint64_t exits;
	uint64_t exits_failed;
	int64_t first_ms; /* unix ms */
	int64_t last_ms;
	uint32_t n_exes;
	uint32_t cap_exes;
	struct fig_exe *exes;
	uint64_t exes_dropped; /* executables past FIG_MAX_EXES_PER_UNIT, counts folded in "(other)" */
};

struct fig_boot {
	char boot_id[FIG_BOOT_ID_MAX];
	int64_t first_ms;
	int64_t last_ms;
	uint32_t n_units;
	uint32_t cap_units;
	struct fig_unit *units;
	uint64_t units_dropped; /* units past FIG_MAX_UNITS */
};

/* Everything the state file holds. */
struct fig_state {
	int64_t written_ms;
	uint32_t interval_ms;      /* state rewrite interval of the run that wrote it */
	uint64_t lost[RCA_LOST_KIND_MAX]; /* kernel-side losses, all runs summed */
	uint64_t units_unnamed;    /* units that could not be named (shown as cgroup:<id>) */
	uint64_t boots_dropped;    /* oldest boots dropped past FIG_MAX_BOOTS */
	uint32_t n_boots;          /* boots[n_boots-1] is the newest */
	uint32_t cap_boots;
	struct fig_boot *boots;
};

void fig_state_init(struct fig_state *s);
void fig_state_free(struct fig_state *s);
/* Deep copy; returns 0 or -ENOMEM (dst is left empty then). */
int fig_state_copy(struct fig_state *dst, const struct fig_state *src);

/*
 * Finds or adds; NULL with errno set when a bound is hit (ENOSPC, counted) or
 * on ENOMEM. Names longer than their field are cut to fit, on lookup as on
 * insert. A new boot past FIG_MAX_BOOTS drops boots[0] (the oldest); a unit
 * past FIG_MAX_UNITS is refused and each refusal adds one to units_dropped;
 * an executable past FIG_MAX_EXES_PER_UNIT gets the FIG_OTHER_EXE entry and
 * adds one to exes_dropped. Adding may move the array: pointers returned
 * earlier for the same parent are then stale.
 */
struct fig_boot *fig_state_boot(struct fig_state *s, const char *boot_id);
struct fig_unit *fig_boot_unit(struct fig_boot *b, const char *name);
struct fig_exe *fig_unit_exe(struct fig_unit *u, const char *path);
const struct fig_boot *fig_state_find_boot(const struct fig_state *s, const char *boot_id);
const struct fig_unit *fig_boot_find_unit(const struct fig_boot *b, const char *name);
const struct fig_exe *fig_unit_find_exe(const struct fig_unit *u, const char *path);

/* Adds count to the (kind, value) exit status of e; overflow goes to status_other. */
void fig_exe_add_status(struct fig_exe *e, uint32_t kind, uint32_t value, uint64_t count);

/*
 * Adds src's counters into dst (same unit/exe seen by two runs or two cgroup
 * ids). Times: earliest nonzero first, latest last. Detector fields:
 * respawn_class is src's when src's latest start/exit is not older than
 * dst's, storm_since_ms the later of the two, storms the sum.
 */
void fig_exe_merge(struct fig_exe *dst, const struct fig_exe *src);
/*
 * Adds src and each of its executables into dst. 0, or -ENOMEM when some
 * executable could not be added (the others still are).
 */
int fig_unit_merge(struct fig_unit *dst, const struct fig_unit *src);
/* Adds every unit of src into dst. 0 or -ENOMEM, as above. */
int fig_boot_merge(struct fig_boot *dst, const struct fig_boot *src);

/* Derived figures. NaN when unknown. */
double fig_exe_period_ms(const struct fig_exe *e);
double fig_exe_period_stdev_ms(const struct fig_exe *e);
/*
 * Lifetime percentile (0..100, nearest rank) from the log2 histogram, in ms:
 * the value of fig_exe_lifetime_bucket_ms() for the bucket holding that rank.
 */
double fig_exe_lifetime_pct_ms(const struct fig_exe *e, double pct);
/* Representative lifetime of a histogram bucket in ms: 0 for bucket 0, else 2^(i-0.5) us. */
double fig_exe_lifetime_bucket_ms(int bucket);
/* Unit-level status: sum over its executables (kind, value) -> count. */
uint64_t fig_unit_status_count(const struct fig_unit *u, uint32_t kind, uint32_t value);

#endif
