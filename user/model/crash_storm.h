/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Crash storm detector: a unit whose processes (forked-only workers
 * included: php-fpm, Apache prefork, PostgreSQL backends) die of crash
 * signals again and again. Fed the unit's cumulative count of crash exits at
 * each sample; pure (no I/O, no clock, no heap), so tests run it on
 * synthetic timelines.
 *
 * - storm: at least min_crashes crash exits within the last window_ms.
 * - end: no crash for quiet_ms; a new storm then needs min_crashes anew.
 * A command that exits non-zero is not a crash: only signals count
 * (fig_signal_is_crash()).
 */
#ifndef RCATRACE_CRASH_STORM_H
#define RCATRACE_CRASH_STORM_H

#include <stdint.h>

struct crash_storm_config {
	int64_t window_ms;    /* default 60000 */
	uint64_t min_crashes; /* default 5 */
	int64_t quiet_ms;     /* default 60000 */
};

void crash_storm_config_default(struct crash_storm_config *c);

/* Slots the window is cut into: counts older than the window fall off slot by slot. */
#define CRASH_STORM_SLOTS 16

struct crash_storm_track {
	uint64_t last_count;   /* the cumulative count at the previous sample */
	int64_t last_crash_ms; /* when the count last rose; 0: never */
	int64_t since_ms;      /* the current storm's start; 0: none */
	int64_t slot_ms[CRASH_STORM_SLOTS]; /* start of each slot; 0 unused */
	uint64_t slot_n[CRASH_STORM_SLOTS];
	uint32_t head;
	uint32_t storm;
};

enum crash_storm_transition {
	CRASH_STORM_NO_CHANGE = 0,
	CRASH_STORM_STARTED,
	CRASH_STORM_ENDED,
};

/* baseline: crash exits already counted when tracking began (history, not this window). */
void crash_storm_track_init(struct crash_storm_track *t, uint64_t baseline);

/*
 * The unit's cumulative crash exits at now_ms. A count lower than before
 * (the kernel's entries were retired and made again) re-baselines.
 */
enum crash_storm_transition crash_storm_track_observe(struct crash_storm_track *t,
						      const struct crash_storm_config *c,
						      int64_t now_ms, uint64_t crashes);

/* Crash exits within the window as of the last observe. */
uint64_t crash_storm_window_crashes(const struct crash_storm_track *t,
				    const struct crash_storm_config *c, int64_t now_ms);

#endif
