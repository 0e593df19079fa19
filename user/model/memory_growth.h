/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Memory growth of one unit: a least-squares line through its resident
 * memory over a sliding window, and whether that growth looks like a leak.
 *
 * Pure: no I/O, no heap, no clock of its own (time comes with each sample),
 * so it runs on synthetic timelines in tests exactly as it runs live.
 *
 * Samples may come at any pace (0.1 s to 10 s, irregular). They are gathered
 * into buckets of window / MEMORY_GROWTH_BUCKETS seconds, each keeping its
 * mean time, mean, min and max, so a fixed struct covers a window of minutes
 * or of days alike. The fit weighs every bucket the same, so a burst of quick
 * samples does not outweigh a quiet stretch. Each point is (mean time, mean
 * RSS) of its bucket: for a straight line that point lies on the line, so
 * bucketing costs no accuracy on the slope.
 *
 * A unit is a leak suspect when all of these hold over the window:
 * - evidence: the samples span min_span_s and fill min_points buckets;
 * - growth: slope >= min_slope_kib_s, and the line rises by at least
 *   min_growth_kib and min_growth_ratio of the lowest RSS in the window;
 * - linear: R^2 >= min_r2;
 * - no step: no one or two consecutive bucket-to-bucket rises carry more
 *   than max_step_share of the range beyond their share of the time (a
 *   one-off allocation puts nearly all of the rise in one place);
 * - no sawtooth: no fall between buckets gives back drop_ratio of the range
 *   (a garbage collector or a cache filling and freeing).
 * The defaults and why: memory_growth_config_default() in memory_growth.c.
 * Once flagged, a unit keeps the flag while it rises by 3/4 of the growth
 * thresholds and its R^2 stays within 0.05 of min_r2, so that a unit right
 * at a threshold does not flap.
 *
 * Limits. A leak that starts in a unit that was flat for a whole window
 * bends the window's line: it is flagged once the rise fills about two
 * thirds of the window (some 200 s with the default 300 s). A leak under a
 * garbage collector (troughs that climb) is turned down, its teeth making
 * the line a poor fit, until the buckets are wider than the teeth: use a
 * window of an hour or more for it, as for any slow leak.
 *
 * A unit that is gone (its processes left, its RSS fell to 0) keeps the
 * figures of its life: memory_growth_freeze(), or a sample of 0 KiB, freezes
 * the tracker without counting the fall. The next sample with resident
 * memory starts a new life, as memory_growth_init() would, so a unit that
 * comes back is measured from its restart, never across it.
 */
#ifndef RCATRACE_MEMORY_GROWTH_H
#define RCATRACE_MEMORY_GROWTH_H

#include <stdint.h>

/* Buckets kept per unit; the fit has this many points, plus the open bucket. */
#define MEMORY_GROWTH_BUCKETS 64

struct memory_growth_config {
	/* The fit covers the last window_s seconds (default 300; 1 s .. 366 days). */
	double window_s;
	/* Samples must span this long before anything is suspected (default 30). */
	double min_span_s;
	/* How well the line must explain the window, 0..1 (default 0.9). */
	double min_r2;
	/* Growth slower than this is not growth (default 0.1 KiB/s, ~250 MiB a month). */
	double min_slope_kib_s;
	/* The line must rise this much over the span ... (default 1024 KiB) */
	double min_growth_kib;
	/* ... and this share of the lowest RSS in the window (default 0.01). */
	double min_growth_ratio;
	/* Most of the range one or two bucket rises may carry beyond their time (default 0.5). */
	double max_step_share;
	/* A fall between buckets giving back this share of the range is a drop (default 0.5). */
	double drop_ratio;
	/* Buckets needed before anything is suspected (default 6; 3 .. 65). */
	uint32_t min_points;
};

void memory_growth_config_default(struct memory_growth_config *c);

/* One closed bucket: 24 bytes. Values are KiB relative to memory_growth.base_kib. */
struct memory_growth_bucket {
	double t_first_s; /* first sample in the bucket */
	float t_mean_off; /* mean sample time - t_first_s */
	float mean_kib;
	float min_kib;
	float max_kib;
};

/*
 * Per-unit state: fixed size, no heap, about 1.6 KiB, since one is kept for
 * each of thousands of units for months. Read it through
 * memory_growth_result().
 */
struct memory_growth {
	/* Closed buckets, oldest overwritten first; ring[head] is the newest. */
	struct memory_growth_bucket ring[MEMORY_GROWTH_BUCKETS];
	/* The open bucket, not closed yet: sums relative to its first sample. */
	double open_t_first_s;
	double open_t_sum;
	double open_kib_sum;
	float open_min_kib, open_max_kib;
	/* Values are stored relative to the first sample: floats keep KiB exact near it. */
	double base_kib;
	double last_t_s;  /* newest sample, shifted */
	double t_shift_s; /* added to the caller's times: how far its clock went back */
	double last_kib;
	uint32_t open_samples; /* 0: no sample since init */
	uint8_t head;
	uint8_t n_closed;
	uint8_t frozen;  /* gone: observe() starts a new life at the next sample with memory */
	uint8_t suspect; /* verdict of the last observe, for the hysteresis */
};

/* Why a unit is, or is not, a leak suspect; checked in this order. */
enum memory_growth_verdict {
	MEMORY_GROWTH_TOO_SHORT = 0, /* samples span less than min_span_s */
	MEMORY_GROWTH_FEW_POINTS,    /* fewer than min_points buckets */
	MEMORY_GROWTH_NOT_GROWING,   /* shrinking, slower than min_slope_kib_s, or noise */
	MEMORY_GROWTH_SMALL,         /* rise below min_growth_kib or min_growth_ratio */
	MEMORY_GROWTH_NOT_LINEAR,    /* R^2 below min_r2 */
	MEMORY_GROWTH_STEP,          /* most of the rise in one place */
	MEMORY_GROWTH_SAWTOOTH,      /* grows, then gives a large part back */
	MEMORY_GROWTH_LEAK,          /* leak suspect */
};

void memory_growth_init(struct memory_growth *g);

/*
 * t_s: seconds on any monotonic clock; rss_kib: resident KiB now.
 * A NaN, infinite or negative sample is dropped. A clock that goes back (a
 * wall clock stepped back) shifts the history rather than reordering it: the
 * sample counts as taken with the newest one. 0 KiB freezes the tracker (see
 * above); so does memory_growth_freeze(). c may change between calls: a new
 * window applies to buckets opened from then on.
 */
void memory_growth_observe(struct memory_growth *g, const struct memory_growth_config *c,
			   double t_s, double rss_kib);

/* The unit is gone: keep the figures of its life; the next sample with memory starts afresh. */
void memory_growth_freeze(struct memory_growth *g);

struct memory_growth_result {
	double slope_kib_s; /* NaN when fewer than 3 points */
	double r2;          /* 0..1; NaN when fewer than 3 points; 0 for a perfectly flat series */
	double span_s;      /* from the oldest sample in the window to the newest */
	int leak_suspect;   /* verdict == MEMORY_GROWTH_LEAK */
	int points;         /* buckets in the fit, the open one included */
	double last_kib;    /* newest sample; NaN when none */
	/* Added to the required figures: */
	double fit_kib;     /* the line at the newest sample, where eta starts; NaN unknown */
	double growth_kib;  /* slope * span; NaN unknown */
	double min_kib;     /* lowest and highest sample in the window; NaN when none */
	double max_kib;
	double step_share;  /* largest rise beyond its time share, / range; 0 flat or unknown */
	int drops;          /* falls giving back drop_ratio of the range */
	/*
	 * A line explains a real rise: slope >= min_slope_kib_s and above the
	 * noise (one-sided t-test, 99.5%), rise past the growth thresholds,
	 * R^2 >= min_r2. Span and points are not needed: a projection may come
	 * before a verdict. A step or a sawtooth is not growing (R^2).
	 */
	int growing;
	int frozen;         /* the unit is gone; figures are of its life */
	enum memory_growth_verdict verdict;
};

/* Figures over the window ending at the newest sample. */
void memory_growth_result(const struct memory_growth *g, const struct memory_growth_config *c,
			  struct memory_growth_result *ret);

/* Projections further than this return -1: no horizon that matters, and it fits an int64_t. */
#define MEMORY_GROWTH_ETA_MAX_S (10.0 * 366 * 24 * 3600)

/*
 * Seconds from the newest sample until the fitted line reaches limit_kib (the
 * memcg limit or, without one, current RSS + the machine's available memory);
 * 0 when the line is there already. -1 when not growing (r->growing is 0),
 * unknown, gone (r->frozen) or beyond MEMORY_GROWTH_ETA_MAX_S.
 */
double memory_growth_eta_s(const struct memory_growth_result *r, double limit_kib);

/* "too-short", "few-points", "not-growing", "small", "not-linear", "step", "sawtooth", "leak". */
const char *memory_growth_verdict_name(enum memory_growth_verdict v);

#endif
