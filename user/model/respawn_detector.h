/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Respawn storm detector: classifies one (unit, executable) as normal,
 * periodic or in a respawn storm from the cumulative counters the kernel
 * keeps for it, sampled every interval.
 *
 * Pure: no I/O, no heap, no clock of its own (time comes with each sample),
 * so it runs on synthetic timelines in tests exactly as it runs live.
 *
 * - storm: over the last window it started at least min_starts times and at
 *   least fail_ratio of its exits failed; or it loops faster than
 *   fast_period_ms, fast_min_starts times or more, its processes dying as
 *   fast as they come (exits >= starts / 2) and one after the other (mean
 *   lifetime <= mean period: not a pool of workers, not a parallel build).
 *   It must also have started recently (see quiet).
 *   A job that fails on every scheduled run is a storm too: it fails again
 *   and again, which is what an operator needs to hear about.
 * - periodic: not a storm, exits mostly 0, and its gaps are regular
 *   (stdev/mean <= periodic_max_cv) and still going (a start within two
 *   periods). A job too rare to show periodic_min_gaps gaps in the window (a
 *   5-minute job in a 5-minute window) is judged on its whole history.
 * - normal: everything else.
 *
 * A storm ends once the executable has not started for its quiet time:
 * max(3 * period, period + 3 * stdev), at least quiet_min_ms, at most
 * quiet_max_ms. The stdev term keeps a bursty loop (5 quick failures, then a
 * long pause: systemd's start limit) from ending at every pause; only a
 * first pause longer than anything seen before can end it once. After an
 * end, a new storm needs a new start.
 */
#ifndef RCATRACE_RESPAWN_DETECTOR_H
#define RCATRACE_RESPAWN_DETECTOR_H

#include <stdint.h>

#include "figures.h" /* enum respawn_class */

struct respawn_detector_config {
	/* Figures are computed over the last window_ms (default 300000). */
	int64_t window_ms;
	/* Starts in the window before a failing loop is a storm (default 5). */
	uint64_t min_starts;
	/* Share of failed exits that makes a loop failing (default 0.5). */
	double fail_ratio;
	/* A loop this fast (default 2000) is a storm even exiting 0 ... */
	int64_t fast_period_ms;
	/* ... once it has started this often in the window (default 10). */
	uint64_t fast_min_starts;
	/* Gap stdev/mean at most this to call it periodic (default 0.25). */
	double periodic_max_cv;
	/* A storm ends after this long without a start: 3 periods, clamped (30000, 600000). */
	int64_t quiet_min_ms, quiet_max_ms;
	/* Gaps needed to judge regularity (default 3; 2 at least). */
	uint64_t periodic_min_gaps;
};

void respawn_detector_config_default(struct respawn_detector_config *c);

/* Cumulative counters of one (unit, executable) at now_ms (unix ms). */
struct respawn_sample {
	int64_t now_ms;
	uint64_t starts;
	uint64_t exits;
	uint64_t exits_failed;
	uint64_t gaps;
	uint64_t gap_sum_ns;
	uint64_t gap_sumsq_ms2;
	uint64_t lifetime_sum_us;
	int64_t last_start_ms; /* 0: never started */
};

/*
 * Closed slots kept per executable. A slot closes at the first sample at
 * least window/RESPAWN_TRACK_SLOTS after it opened, so the closed slots
 * always reach back a whole window.
 */
#define RESPAWN_TRACK_SLOTS 15

/*
 * What happened between two samples: 32 bytes. Counts saturate at
 * UINT32_MAX; sums are float, ample for ratios and means (the exact
 * cumulative values stay in respawn_track.last).
 */
struct respawn_slot {
	uint32_t dur_ms;
	uint32_t starts;
	uint32_t exits;
	uint32_t exits_failed;
	uint32_t gaps;
	float gap_sum_ms;
	float gap_sumsq_ms2;
	float lifetime_sum_ms;
};

/*
 * Per (unit, executable) detector state: fixed size, no heap, about 630
 * bytes, since one is kept for each of thousands of executables. Read it
 * through respawn_track_figures(); cls and storm_since_ms may be read
 * directly.
 */
struct respawn_track {
	struct respawn_sample last;   /* newest sample (cumulative, exact) */
	struct respawn_slot open;     /* since open_begin_ms, not closed yet */
	struct respawn_slot ring[RESPAWN_TRACK_SLOTS]; /* ring[head] is the newest closed */
	int64_t open_begin_ms;
	int64_t window_ms;            /* of the last observe, so figures need no config */
	int64_t last_start_ms;        /* 0: none seen */
	int64_t storm_since_ms;       /* when the current/last storm was flagged; 0: never */
	int64_t quiet_ms;             /* quiet time that ends the current storm */
	uint32_t cls;                 /* enum respawn_class */
	uint8_t head;
	uint8_t n_slots;
	uint8_t wait_start;           /* a storm ended: the next needs a new start */
	uint8_t _pad;
};

enum respawn_transition {
	RESPAWN_NO_CHANGE = 0,
	RESPAWN_STORM_STARTED,
	RESPAWN_STORM_ENDED,
};

/* baseline: the counters when tracking began (all zero for an executable first seen now). */
void respawn_track_init(struct respawn_track *t, const struct respawn_sample *baseline);

/*
 * Feeds the next sample; returns each storm start and end exactly once.
 * Samples may come at any pace. A counter lower than before (the kernel
 * entry was deleted and made again) re-baselines: the events between the two
 * samples are lost, the window's history is kept. A clock that goes back
 * shifts the history rather than reordering it.
 */
enum respawn_transition respawn_track_observe(struct respawn_track *t,
					      const struct respawn_detector_config *c,
					      const struct respawn_sample *s);

/*
 * Figures over the current window, for display. NaN when unknown (no gap, no
 * exit). median_period_ms is approximate: the median of the mean gaps of the
 * slots in the window, each covering window/RESPAWN_TRACK_SLOTS or more.
 * When samples are sparser than the window, the newest slot is scaled down to
 * the window and the counts are estimates.
 */
struct respawn_figures {
	uint32_t cls;
	uint64_t window_starts;
	uint64_t window_failed;
	uint64_t window_exits;
	double period_ms;
	double period_stdev_ms;
	double median_period_ms;
	double lifetime_ms;
	double fail_ratio;
	int64_t storm_since_ms;
	int64_t window_span_ms; /* time the window figures cover: window - one slot .. window */
};

void respawn_track_figures(const struct respawn_track *t, struct respawn_figures *ret);

/* "normal", "periodic", "storm"; "unknown" for anything else. */
const char *respawn_class_name(uint32_t cls);

#endif
