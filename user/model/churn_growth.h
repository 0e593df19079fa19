/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Churn growth: does a candidate (another unit's memory, or a kernel figure
 * such as slab, percpu or the dying cgroups) grow per start of a unit in a
 * storm? One tracker per (storm, candidate) pair, fed at each sample with
 * the time, the storm unit's cumulative starts and the candidate's figure.
 * Pure: no I/O, no heap, no clock of its own, so tests run it on synthetic
 * timelines exactly as it runs live.
 *
 * The fit. Over the pre-window (samples before the storm) and the storm,
 * least squares of
 *
 *     value = a + b * starts + c * t
 *
 * b is the cost of one start (KiB per start), c what the candidate grows on
 * its own (KiB per second). During a steady storm starts are themselves a
 * line in time, so the storm alone cannot tell b from c: the pre-window,
 * where starts are flat and time goes on, measures c. So do a storm's pauses
 * and changes of pace. How well the two are told apart is the independence:
 * 1 - r^2 of starts against time (1: unrelated, 0: one is a line of the
 * other), taken over 16 runs of averaged samples so that only the shape of
 * the window counts, not the rounding of starts to whole numbers at each
 * sample (which a neighbour on a timer of the storm's period would share).
 *
 * Noise. Memory does not jitter around a line, it wanders: a cache fills
 * and empties, an allocator grows and trims. Every t-test below corrects
 * for the lag-1 autocorrelation of its residuals (fewer independent samples,
 * larger errors), and the per-start cost must show in the increments from
 * one averaged run to the next as well as in the levels: a neighbour whose
 * memory drifts up for the length of a storm fits a line in levels, but its
 * increments do not follow the starts.
 *
 * The rule, checked in this order (the first failure is the reason):
 *  1. evidence: at least min_samples fitted samples, 4 of them in the storm,
 *     and min_starts starts since the storm began ("not yet");
 *  2. growing: a line in time through the storm's samples rises beyond the
 *     noise (one-sided t-test, 99.5%); a flat or noisy candidate stops here.
 *     Then rule 8, so that a step is called a step;
 *  3. separable: independence >= min_independence, else "ambiguous": it
 *     grows, but nothing in the window says whether per start or per second
 *     (rcatrace started mid-storm: no pre-window, a steady storm);
 *  4. not on its own: b's part of the storm's rise, b * starts against
 *     |b * starts| + |c * seconds|, is at least min_start_share; and the
 *     pre-window's own slope (its lower 99.5% bound) would not have made
 *     more than the rest of that rise anyway. A neighbour leaking since
 *     before the storm stops here;
 *  5. large enough: b >= min_per_start;
 *  6. beyond the noise: b's t statistic beats the 99.5% quantile in levels,
 *     and the 99.9% one in increments (this is the test a wandering
 *     neighbour passes by luck, and it is taken at every sample);
 *  7. a line: R^2 of the fit >= min_r2;
 *  8. not a step: over the storm cut into 8 parts, no one or two adjacent
 *     parts carry more than max_step_share of the rise beyond their share
 *     of the starts (a one-off allocation puts it all in one place);
 *  9. still growing: over the newest samples spanning end_starts starts or
 *     more, the rate per start is not below end_ratio of b (99.5% upper
 *     bound). Once a link stands, this is checked right after rule 1, and
 *     a rate that falls so ends it: "stopped". It may come back once the
 *     rate's lower bound is above end_ratio of b again;
 * 10. confirmed: rules 1-9 held at every sample over the last
 *     confirm_starts starts. A wandering neighbour meets them for a moment;
 *     a cost per start keeps meeting them.
 * A link keeps itself with looser thresholds (3/4 of min_per_start, R^2
 * 0.05 below, start share 0.1 below) and without rule 3 and the increments
 * test: once the storm's start has been seen against the pre-window, a
 * storm of days that leaves the pre-window far behind (the independence
 * falls as (pre / storm)^2) keeps its link while the rate holds.
 *
 * Measured on synthetic series (the unit tests, and 1000-2000 seeds of the
 * same generators off-line): costs of 64 KiB and 2 KiB per start under
 * white noise are linked at 30 starts, within 1%; a neighbour whose memory
 * is a random walk of +-64 KiB a second (it wanders by a MiB in ten
 * minutes) is linked in 2 to 3 storms out of 1000, for one to three
 * minutes, and never at the end of one.
 *
 * The defaults and why: churn_growth_config_default() in churn_growth.c.
 *
 * Window and memory. Each tracker keeps 256 samples of 16 bytes, 4 KiB
 * per pair: up to CHURN_GROWTH_PRE_SAMPLES of the pre-window (no older than
 * pre_window_max_ms before the storm), CHURN_GROWTH_STORM_SAMPLES of the
 * storm, evenly thinned when full (every other one dropped, then every
 * second one kept, and so on: a storm of months still covers its whole
 * length), and CHURN_GROWTH_RECENT_SAMPLES newest ones, one per start
 * count, for rule 9. An evaluation reads them all once or twice: a few
 * microseconds per pair and sample.
 *
 * Feeding. churn_growth_init() with the storm's start, then samples in time
 * order. Samples before the storm's start are the pre-window: the caller
 * replays what it still has from before the storm was flagged (a unit's
 * memory history and the storm unit's starts back then), oldest first,
 * before the live ones. Without them the tracker still works, and says
 * "ambiguous" where only a pre-window could decide.
 *
 * Limits. Growth that begins at the moment the storm begins, for another
 * reason, is linked: nothing in the data tells a coincidence. A neighbour
 * that began leaking just before the storm, within the pre-window, bends the
 * pre-window's line; rule 4's pre-window slope catches it when the leak
 * fills half the pre-window or more. A candidate that starts paying per
 * start only when the storm is many times longer than its pre-window is
 * "ambiguous" (rule 3), not linked.
 */
#ifndef RCATRACE_CHURN_GROWTH_H
#define RCATRACE_CHURN_GROWTH_H

#include <stdint.h>

#define CHURN_GROWTH_PRE_SAMPLES 48
#define CHURN_GROWTH_STORM_SAMPLES 176
#define CHURN_GROWTH_RECENT_SAMPLES 32

struct churn_growth_config {
	/* Least growth per start worth a link, in the candidate's unit (default 1 KiB). */
	double min_per_start;
	/* How well value ~ starts + time must fit, 0..1 (default 0.9). */
	double min_r2;
	/* Share of the storm's growth that the starts must carry (default 0.75). */
	double min_start_share;
	/* 1 - r^2 of starts against time needed to tell them apart (default 0.02). */
	double min_independence;
	/* The same, of one storm's starts against the other's and time (default 0.002). */
	double min_joint_independence;
	/* Most of the rise one or two eighths of the storm may carry beyond their starts (0.5). */
	double max_step_share;
	/* The link ends when the recent rate falls below this share of b (default 0.5). */
	double end_ratio;
	/* Pre-window samples older than this before the storm are dropped (default 600000). */
	int64_t pre_window_max_ms;
	/* Starts since the storm began before anything is linked (default 20). */
	uint32_t min_starts;
	/* Samples in the fit before anything is linked (default 8; at least 5). */
	uint32_t min_samples;
	/* The recent rate is measured over at least this many starts (default 20). */
	uint32_t end_starts;
	/* A new link holds every rule over this many starts first (default 10). */
	uint32_t confirm_starts;
};

void churn_growth_config_default(struct churn_growth_config *c);

enum churn_growth_verdict {
	CHURN_GROWTH_NOT_LINKED = 0,
	CHURN_GROWTH_AMBIGUOUS, /* grows with the storm, but per start or per second is not known */
	CHURN_GROWTH_LINKED,
};

/* Why; see the rule above. */
enum churn_growth_reason {
	CHURN_GROWTH_FEW_SAMPLES = 0,
	CHURN_GROWTH_FEW_STARTS,  /* not yet */
	CHURN_GROWTH_NOT_GROWING, /* flat, shrinking, or noise */
	CHURN_GROWTH_COLLINEAR,   /* starts and time move together: ambiguous */
	CHURN_GROWTH_TIME_DRIVEN, /* grows on its own, per second, not per start */
	CHURN_GROWTH_SMALL,       /* b below min_per_start */
	CHURN_GROWTH_NOISY,       /* b not beyond the noise */
	CHURN_GROWTH_POOR_FIT,    /* R^2 below min_r2 */
	CHURN_GROWTH_STEP,        /* grew once */
	CHURN_GROWTH_STOPPED,     /* grew per start, then stopped: the link ends */
	CHURN_GROWTH_STORM_OVER,  /* the storm ended: the figures are those of the storm */
	CHURN_GROWTH_CONFIRMING,  /* every rule holds, not yet for confirm_starts starts */
	CHURN_GROWTH_GROWS_PER_START,
};

struct churn_growth_result {
	enum churn_growth_verdict verdict;
	enum churn_growth_reason reason;
	double kib_per_start;   /* b; NaN without a fit */
	double kib_per_s;       /* c, what it grows on its own; NaN without a fit */
	double r2;              /* of the fit, 0..1; NaN without a fit */
	double growth_kib;      /* the fitted rise since the storm began; NaN without a fit */
	double start_share;     /* b's part of that rise, 0..1; NaN without a fit */
	double independence;    /* 1 - r^2 of starts against time; NaN without a fit */
	double t_stat;          /* b / stderr(b); NaN without a fit */
	double recent_kib_per_start; /* over the newest samples (rule 9); NaN unknown */
	uint64_t starts;        /* the storm unit's starts since the storm began */
	uint32_t samples;       /* in the fit */
	uint32_t pre_samples;   /* of them, before the storm */
	int growing;            /* it rose during the storm beyond the noise (rule 2) */
	int was_linked;         /* linked at some time during this storm */
	int storm_over;
};

/* 16 bytes: starts and value relative to the tracker's first sample. */
struct churn_growth_sample {
	int64_t t_ms;
	uint32_t starts;
	float value;
};

/* Per (storm, candidate) state, fixed size, no heap: about 4.3 KiB. */
struct churn_growth {
	struct churn_growth_sample pre[CHURN_GROWTH_PRE_SAMPLES];
	struct churn_growth_sample storm[CHURN_GROWTH_STORM_SAMPLES];
	struct churn_growth_sample recent[CHURN_GROWTH_RECENT_SAMPLES]; /* ring */
	struct churn_growth_sample newest; /* the newest storm sample, kept or not */
	int64_t started_ms;
	int64_t ended_ms;   /* 0: the storm goes on */
	int64_t last_t_ms;  /* newest sample, shifted */
	int64_t t_shift_ms; /* added to the caller's times: how far its clock went back */
	uint64_t base_starts;
	uint64_t last_raw_starts;
	uint64_t starts_offset; /* added when the caller's count went back (re-made counters) */
	double base_value;
	uint32_t n_pre, pre_stride, pre_skip;
	uint32_t n_storm, storm_stride, storm_skip;
	uint32_t n_recent, recent_head;
	uint8_t has_base;
	uint8_t has_newest;
	uint8_t linked;      /* verdict of the last evaluation, for the hysteresis */
	uint8_t stopped;     /* the recent rate fell below end_ratio of b */
	uint8_t was_linked;  /* linked at some time during this storm */
	uint8_t eligible;    /* every rule held at the last evaluation, since eligible_since */
	uint8_t _pad[2];
	uint32_t eligible_since; /* relative starts when the rules began to hold */
	struct churn_growth_result last; /* of the last evaluation */
};

enum churn_growth_transition {
	CHURN_GROWTH_NO_CHANGE = 0,
	CHURN_GROWTH_LINK_STARTED,
	CHURN_GROWTH_LINK_ENDED,
};

/* started_ms: when the storm began (its first start, or when it was flagged). */
void churn_growth_init(struct churn_growth *g, int64_t started_ms);

/*
 * One sample: t_ms on the caller's clock (the one started_ms is on),
 * storm_starts the storm unit's cumulative starts, value the candidate's
 * figure (KiB, or a count). A NaN, infinite or negative value is dropped; so
 * is a pre-window sample older than pre_window_max_ms before the storm, and
 * any sample after the storm ended. A clock that goes back shifts the later
 * samples rather than reordering them. A count lower than before (a counter
 * made again) continues from the previous one. Returns the link's start or
 * end, each exactly once. c may be NULL for the defaults.
 */
enum churn_growth_transition churn_growth_observe(struct churn_growth *g,
						  const struct churn_growth_config *c, int64_t t_ms,
						  uint64_t storm_starts, double value);

/*
 * The storm ended at ended_ms: later samples are ignored, and the figures
 * stay those of the storm. Returns LINK_ENDED when the pair was linked.
 */
enum churn_growth_transition churn_growth_storm_ended(struct churn_growth *g, int64_t ended_ms);

/* The figures and verdict of the last sample (or of the storm, once it ended). */
void churn_growth_result(const struct churn_growth *g, struct churn_growth_result *ret);

/*
 * Two storms at once: which one does the candidate grow with? a and b track
 * the same candidate against two storm units, on the same clock. One joint
 * fit, value = a0 + ba * starts_a + bb * starts_b + c * t, over the samples
 * of the longer-running tracker within the other's span (the other's starts
 * interpolated in time):
 * - NONE: neither tracker links or calls it ambiguous;
 * - AMBIGUOUS: the two storms' starts cannot be told apart (either one's
 *   independence from the other and time below min_independence), or
 *   neither term stands out of the noise given the other;
 * - A, B: that storm's term is at least min_per_start, beyond the noise and
 *   carries at least 1 - min_start_share of the growth; the other's not;
 * - BOTH: both do (PID 1 pays for every unit it restarts).
 * With too few shared samples, the trackers' own verdicts decide: one linked
 * alone is picked, two are ambiguous.
 */
enum churn_growth_pick {
	CHURN_GROWTH_PICK_NONE = 0,
	CHURN_GROWTH_PICK_A,
	CHURN_GROWTH_PICK_B,
	CHURN_GROWTH_PICK_BOTH,
	CHURN_GROWTH_PICK_AMBIGUOUS,
};

struct churn_growth_pick_result {
	enum churn_growth_pick pick;
	double kib_per_start_a; /* from the joint fit; NaN without one */
	double kib_per_start_b;
	double independence;    /* the lower of the two; NaN without a joint fit */
	uint32_t samples;       /* in the joint fit; 0 without one */
};

void churn_growth_pick(const struct churn_growth *a, const struct churn_growth *b,
		       const struct churn_growth_config *c, struct churn_growth_pick_result *ret);

/* "few-samples", "few-starts", "not-growing", "collinear", "time-driven", "small", ... */
const char *churn_growth_reason_name(enum churn_growth_reason r);
/* "not-linked", "ambiguous", "linked". */
const char *churn_growth_verdict_name(enum churn_growth_verdict v);
/* "none", "a", "b", "both", "ambiguous". */
const char *churn_growth_pick_name(enum churn_growth_pick p);

#endif
