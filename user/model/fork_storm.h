/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Fork storm detector: tells a unit that forks itself to death (a fork bomb,
 * `:(){ :|:& };:`, or a unit failing its forks against its pids limit) from a
 * unit that is merely busy, from the cumulative counters the kernel keeps for
 * the unit, sampled every interval.
 *
 * Pure: no I/O, no heap, no clock of its own (time comes with each sample),
 * so it runs on synthetic timelines in tests exactly as it runs live.
 *
 * A fork storm starts when either holds:
 *
 * - runaway: the unit forks without exec'ing, fast and on and on. Going back
 *   from the newest sample, every interval forked at min_fork_rate_per_s or
 *   more (default 50/s), min_intervals intervals or more (default 3) lasting
 *   sustain_ms or longer (default 1.5 s), with min_forks or more forks in
 *   all (default 200) and execs at most max_exec_share of them (default 10%:
 *   a build or a supervisor starts processes that exec, about one exec per
 *   fork). Three intervals, because one burst shorter than an interval (a
 *   pre-forking server starting its 300 workers at once) can straddle two
 *   samples and show two fast intervals, never three.
 *   When the unit's population is known (pids_current >= 0) it must also
 *   show the harm a fork bomb does: it grew by min_pids_growth or more
 *   within the window (default 50), or it is at near_limit_ratio of its
 *   pids.max or above (default 90%), or a fork failed in the window. This
 *   keeps out servers that fork a process per connection without exec
 *   (postgres, pre-forking web servers, shell loops of subshells): they
 *   churn, their population stays put. When the population is unknown such
 *   churn at 50/s and more is flagged: the rate is all there is to go on.
 * - at its limit: min_failed forks or more failed within the window (default
 *   10), and the unit is not known to be below near_limit_ratio of its
 *   pids.max (its highest pids_current in the window is compared). A unit
 *   well below its own limit fails forks because something else is
 *   exhausted (a fork bomb next door using up pid_max or threads-max): it is
 *   a victim, not the storm. forks_failed must count EAGAIN failures only
 *   (pids.max, RLIMIT_NPROC, threads-max): a sandbox that answers clone3
 *   with ENOSYS makes every thread start "fail" once, harmlessly.
 *
 * At 1 s sampling, a bomb forking 1000/s is flagged at the third sample
 * after its first fork (within 3 s; 3.05 s if that fork came in the last 50
 * ms before a sample, too few forks for that interval to count), one failing
 * against pids.max at the first sample that sees 10 failures. Sampled every
 * 5 s, runaway takes 15 s.
 *
 * A storm goes on while the window still shows signs of one: min_forks
 * forks or more with execs at most max_exec_share of them, any failed fork,
 * the population at near_limit_ratio of pids.max or above (a contained bomb
 * left sitting at its limit is not over), or the start condition. It ends
 * at the first sample quiet_ms (default 30 s) after the last sample that
 * showed one. After an end, a new storm must meet the start condition again.
 */
#ifndef RCATRACE_FORK_STORM_H
#define RCATRACE_FORK_STORM_H

#include <stdint.h>

struct fork_storm_config {
	/* Window figures and the signs of a storm are taken over window_ms (default 10000). */
	int64_t window_ms;
	/* Runaway: forks in the sustained run (default 200) ... */
	uint64_t min_forks;
	/* ... each of its intervals at this fork rate or more (default 50/s) ... */
	double min_fork_rate_per_s;
	/* ... for this long at least (default 1500) and this many intervals (default 3) ... */
	int64_t sustain_ms;
	uint32_t min_intervals;
	/* ... with execs at most this share of the forks (default 0.1) ... */
	double max_exec_share;
	/* ... and, population known, this growth in the window (default 50) or near the limit. */
	int64_t min_pids_growth;
	/* "Near the limit": pids_current >= ratio * pids_max (default 0.9). */
	double near_limit_ratio;
	/* At its limit: failed forks in the window (default 10). */
	uint64_t min_failed;
	/* A storm ends after this long without its signs (default 30000). */
	int64_t quiet_ms;
};

void fork_storm_config_default(struct fork_storm_config *c);

/* Cumulative counters of one unit at now_ms (unix ms). */
struct fork_sample {
	int64_t now_ms;
	uint64_t forks;        /* new processes (not threads) */
	uint64_t execs;        /* successful execs */
	uint64_t forks_failed; /* fork/clone calls that failed with EAGAIN */
	int64_t pids_current;  /* tasks in the unit's pids cgroup; -1: unknown */
	int64_t pids_max;      /* its pids.max; -1: unknown or "max" */
};

/*
 * Points kept per unit. A point is replaced by the next sample until it lies
 * window / (FORK_STORM_RING - 4) after the point before it, so the ring
 * always reaches back a whole window whatever the sampling pace.
 */
#define FORK_STORM_RING 16

/* One sample, its counters made monotonic (see fork_storm_track_observe). */
struct fork_storm_point {
	int64_t now_ms;
	uint64_t forks;
	uint64_t execs;
	uint64_t failed;
	int64_t pids_current;
};

/*
 * Per-unit detector state: fixed size, no heap, about 740 bytes. Read it
 * through fork_storm_track_figures(); storm and storm_since_ms may be read
 * directly.
 */
struct fork_storm_track {
	struct fork_storm_point ring[FORK_STORM_RING]; /* ring[head] is the newest */
	struct fork_sample last;  /* newest sample as given (raw counters) */
	int64_t window_ms;        /* of the last observe, so figures need no config */
	int64_t storm_since_ms;   /* when the current/last storm was flagged; 0: never */
	int64_t signs_ms;         /* last sample that showed the signs of a storm */
	uint32_t reasons;         /* FORK_STORM_RUNAWAY | FORK_STORM_AT_LIMIT, of the storm */
	uint8_t head;
	uint8_t n_points;
	uint8_t storm;
	uint8_t _pad;
};

/* Why a storm was flagged (fork_storm_figures.reasons). */
#define FORK_STORM_RUNAWAY 1u  /* forking without exec, fast and on and on */
#define FORK_STORM_AT_LIMIT 2u /* forks failing at the unit's limit */

enum fork_storm_transition {
	FORK_STORM_NO_CHANGE = 0,
	FORK_STORM_STARTED,
	FORK_STORM_ENDED,
};

/* baseline: the counters when tracking began. */
void fork_storm_track_init(struct fork_storm_track *t, const struct fork_sample *baseline);

/*
 * Feeds the next sample; returns each storm start and end exactly once.
 * Samples may come at any pace. A counter lower than before (the kernel
 * entry was deleted and made again) re-baselines: the events between the two
 * samples are lost, the window's history is kept, no figure goes negative.
 * A clock that goes back shifts the history rather than reordering it.
 */
enum fork_storm_transition fork_storm_track_observe(struct fork_storm_track *t,
						    const struct fork_storm_config *c,
						    const struct fork_sample *s);

/*
 * Figures over the last window (at most window_ms: from the oldest point
 * inside it to the newest), for display. Rates are 0 when the window spans
 * no time yet. pids_current and pids_max are the newest sample's.
 */
struct fork_storm_figures {
	int storm;
	double fork_rate_per_s, exec_rate_per_s; /* over the window */
	double recent_fork_rate_per_s;           /* between the two newest points: the burst now */
	uint64_t window_forks, window_execs, window_failed;
	int64_t storm_since_ms;
	int64_t window_span_ms;
	int64_t pids_current, pids_max;
	uint32_t reasons; /* of the current/last storm; 0: never */
};

void fork_storm_track_figures(const struct fork_storm_track *t, struct fork_storm_figures *ret);

#endif
