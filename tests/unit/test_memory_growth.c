// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * memory_growth on synthetic timelines. A unit's RSS is a base, plus a
 * leak from some time on, plus an optional one-off step, plus an optional
 * sawtooth, plus uniform noise from a fixed-seed generator, sampled every
 * second like the real sampler, at another fixed pace, or at an irregular
 * 0.1 s to 10 s pace. Every sample is checked, not only the last one: a unit
 * that is not a leak must never be flagged on the way.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memory_growth.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIB 1024.0 /* in KiB */
#define T0_S 1000.0 /* monotonic seconds at which every timeline starts, unless told */
#define SEED 0x6d656d67726f7774ULL

/* splitmix64: small, fixed-seed, the same on every machine. */
static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
	rng_state = seed;
}

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_unit(void)
{
	return (double)(rng_next() >> 11) / 9007199254740992.0;
}

/* Uniform in [lo, hi). */
static double rng_range(double lo, double hi)
{
	return lo + (hi - lo) * rng_unit();
}

struct series {
	double base_kib;
	double slope_kib_s; /* leak, from ramp_at_s on */
	double ramp_at_s;
	double step_at_s;   /* a one-off allocation of step_kib at step_at_s; 0 KiB: none */
	double step_kib;
	double tooth_s;     /* rises tooth_kib over tooth_s, then drops back; 0: none */
	double tooth_kib;
	double noise_kib;   /* uniform +-noise_kib on every sample */
};

/* RSS at t seconds into the timeline. */
static double series_kib(const struct series *s, double t)
{
	double v = s->base_kib;

	if (t > s->ramp_at_s)
		v += s->slope_kib_s * (t - s->ramp_at_s);
	if (s->step_kib && t >= s->step_at_s)
		v += s->step_kib;
	if (s->tooth_s > 0)
		v += s->tooth_kib * fmod(t, s->tooth_s) / s->tooth_s;
	if (s->noise_kib)
		v += rng_range(-s->noise_kib, s->noise_kib);
	return v > 1 ? v : 1;
}

struct growth_case {
	const char *name;
	struct series s;
	double duration_s;
	double interval_s;  /* between samples; 0: 1 s */
	int irregular;      /* samples 0.1 s to 10 s apart instead */
	double window_s;    /* 0: the default */
	double t0_s;        /* clock at the start; 0: T0_S */
	double min_r2;      /* 0: the default */
	/* At the end: */
	int suspect;
	enum memory_growth_verdict verdict;
	double slope_kib_s, slope_tol; /* slope within slope_tol (relative); tol 0: no check */
	/* Along the way: */
	int never_suspect;
	double never_after_s;          /* not flagged from then on; 0: no check */
	double flag_from_s, flag_by_s; /* first flagged in [from, by] s into the timeline */
	int stays_flagged;             /* once flagged, at every later sample */
	double no_eta_from_s;          /* eta -1 at every sample from then on; 0: no check */
	const char *seen;              /* a verdict that must come up at least once; NULL: none */
};

static const struct growth_case cases[] = {
	{
		/* The leak every tool should catch: 2 MiB/s, caught once 30 s are covered. */
		.name = "leak_2MiB_s_35s",
		.s = { .base_kib = 48 * MIB, .slope_kib_s = 2048 },
		.duration_s = 35,
		.suspect = 1,
		.verdict = MEMORY_GROWTH_LEAK,
		.slope_kib_s = 2048,
		.slope_tol = 0.02,
		.flag_from_s = 30,
		.flag_by_s = 30,
		.stays_flagged = 1,
	},
	{
		/* Noise of +-20% of what it grows between two samples. */
		.name = "leak_2MiB_s_noise_20pct",
		.s = { .base_kib = 48 * MIB, .slope_kib_s = 2048, .noise_kib = 0.2 * 2048 },
		.duration_s = 35,
		.suspect = 1,
		.verdict = MEMORY_GROWTH_LEAK,
		.slope_kib_s = 2048,
		.slope_tol = 0.02,
		.flag_from_s = 30,
		.flag_by_s = 31,
		.stays_flagged = 1,
	},
	{
		.name = "leak_2MiB_s_irregular_sampling",
		.s = { .base_kib = 48 * MIB, .slope_kib_s = 2048, .noise_kib = 0.2 * 2048 },
		.duration_s = 300,
		.irregular = 1,
		.suspect = 1,
		.verdict = MEMORY_GROWTH_LEAK,
		.slope_kib_s = 2048,
		.slope_tol = 0.02,
		.flag_from_s = 30,
		.flag_by_s = 60,
		.stays_flagged = 1,
	},
	{
		/* 6000 samples: the ring wraps many times; the fit keeps to the window. */
		.name = "leak_512KiB_s_100ms_sampling_10min",
		.s = { .base_kib = 200 * MIB, .slope_kib_s = 512, .noise_kib = 256 },
		.duration_s = 600,
		.interval_s = 0.1,
		.suspect = 1,
		.verdict = MEMORY_GROWTH_LEAK,
		.slope_kib_s = 512,
		.slope_tol = 0.02,
		.flag_from_s = 30,
		.flag_by_s = 31,
		.stays_flagged = 1,
	},
	{
		/* Seconds since the epoch, as unit_table passes them: no loss of precision. */
		.name = "leak_clock_at_unix_epoch_seconds",
		.s = { .base_kib = 48 * MIB, .slope_kib_s = 2048, .noise_kib = 0.2 * 2048 },
		.duration_s = 120,
		.t0_s = 1.7e9,
		.suspect = 1,
		.verdict = MEMORY_GROWTH_LEAK,
		.slope_kib_s = 2048,
		.slope_tol = 0.02,
		.flag_from_s = 30,
		.flag_by_s = 31,
		.stays_flagged = 1,
	},
	{
		/* A garbage collector: fills 5 MiB over 20 s, frees it all, again and again. */
		.name = "sawtooth_5MiB_20s",
		.s = { .base_kib = 48 * MIB, .tooth_s = 20, .tooth_kib = 5 * MIB, .noise_kib = 64 },
		.duration_s = 900,
		.never_suspect = 1,
		.verdict = MEMORY_GROWTH_NOT_GROWING,
		.no_eta_from_s = 20,
	},
	{
		.name = "sawtooth_5MiB_20s_irregular_sampling",
		.s = { .base_kib = 48 * MIB, .tooth_s = 20, .tooth_kib = 5 * MIB, .noise_kib = 64 },
		.duration_s = 900,
		.irregular = 1,
		.never_suspect = 1,
		.verdict = MEMORY_GROWTH_NOT_GROWING,
		.no_eta_from_s = 20,
	},
	{
		/*
		 * Teeth longer than min_span: the first tooth is a leak as far as
		 * anyone can tell, so only the time after the first drop is checked.
		 */
		.name = "sawtooth_20MiB_120s",
		.s = { .base_kib = 48 * MIB, .tooth_s = 120, .tooth_kib = 20 * MIB,
		       .noise_kib = 64 },
		.duration_s = 900,
		.verdict = MEMORY_GROWTH_NOT_GROWING,
		.never_after_s = 120,
	},
	{
		/* A one-off 50 MiB allocation in a flat 48 MiB unit, in mid window. */
		.name = "step_50MiB_on_48MiB",
		.s = { .base_kib = 48 * MIB, .step_at_s = 150, .step_kib = 50 * MIB,
		       .noise_kib = 16 },
		.duration_s = 600,
		.never_suspect = 1,
		.verdict = MEMORY_GROWTH_NOT_GROWING,
		.no_eta_from_s = 0.001,
	},
	{
		/* The same, right after start: few points, where a step looks most like a line. */
		.name = "step_50MiB_after_20s",
		.s = { .base_kib = 48 * MIB, .step_at_s = 20, .step_kib = 50 * MIB,
		       .noise_kib = 16 },
		.duration_s = 120,
		.never_suspect = 1,
		.verdict = MEMORY_GROWTH_NOT_LINEAR,
		.no_eta_from_s = 0.001,
	},
	{
		.name = "step_50MiB_irregular_sampling",
		.s = { .base_kib = 48 * MIB, .step_at_s = 40, .step_kib = 50 * MIB,
		       .noise_kib = 16 },
		.duration_s = 600,
		.irregular = 1,
		.never_suspect = 1,
		.verdict = MEMORY_GROWTH_NOT_GROWING,
		.no_eta_from_s = 0.001,
	},
	{
		/* Maps and unmaps 256 KiB all the time on a 48 MiB base. */
		.name = "busy_flat_48MiB_noise_256KiB",
		.s = { .base_kib = 48 * MIB, .noise_kib = 256 },
		.duration_s = 900,
		.never_suspect = 1,
		.verdict = MEMORY_GROWTH_NOT_GROWING,
		.no_eta_from_s = 0.001,
	},
	{
		.name = "busy_flat_irregular_sampling",
		.s = { .base_kib = 48 * MIB, .noise_kib = 256 },
		.duration_s = 900,
		.irregular = 1,
		.never_suspect = 1,
		.verdict = MEMORY_GROWTH_NOT_GROWING,
		.no_eta_from_s = 0.001,
	},
	{
		.name = "shrinking_512KiB_s",
		.s = { .base_kib = 1024 * MIB, .slope_kib_s = -512, .noise_kib = 64 },
		.duration_s = 600,
		.never_suspect = 1,
		.verdict = MEMORY_GROWTH_NOT_GROWING,
		.no_eta_from_s = 0.001,
	},
	{
		/* 2 KiB/s, 7 MiB in the hour: an hour's window has the evidence. */
		.name = "slow_leak_2KiB_s_window_1h",
		.s = { .base_kib = 48 * MIB, .slope_kib_s = 2, .noise_kib = 256 },
		.duration_s = 3600,
		.window_s = 3600,
		.suspect = 1,
		.verdict = MEMORY_GROWTH_LEAK,
		.slope_kib_s = 2,
		.slope_tol = 0.05,
		/* min_growth_kib: 1 MiB at 2 KiB/s takes 512 s */
		.flag_from_s = 500,
		.flag_by_s = 700,
		.stays_flagged = 1,
	},
	{
		/* Half an hour: 3.6 MiB, still enough. */
		.name = "slow_leak_2KiB_s_window_30min",
		.s = { .base_kib = 48 * MIB, .slope_kib_s = 2, .noise_kib = 256 },
		.duration_s = 3600,
		.window_s = 1800,
		.suspect = 1,
		.verdict = MEMORY_GROWTH_LEAK,
		.slope_kib_s = 2,
		.slope_tol = 0.1,
		.flag_from_s = 450,
		.flag_by_s = 700,
		.stays_flagged = 1,
	},
	{
		/*
		 * The default 5 minutes see 600 KiB of rise, within what a unit's
		 * caches and arenas do in passing: not suspected, by design.
		 */
		.name = "slow_leak_2KiB_s_default_window",
		.s = { .base_kib = 48 * MIB, .slope_kib_s = 2, .noise_kib = 256 },
		.duration_s = 3600,
		.never_suspect = 1,
		.verdict = MEMORY_GROWTH_SMALL,
		.no_eta_from_s = 0.001,
	},
	{
		.name = "too_short_10s",
		.s = { .base_kib = 48 * MIB, .slope_kib_s = 2048 },
		.duration_s = 10,
		.never_suspect = 1,
		.verdict = MEMORY_GROWTH_TOO_SHORT,
	},
	{
		/* 1 MiB/s, sampled every 10 s: 30 s give only four points. */
		.name = "leak_sampled_every_10s",
		.s = { .base_kib = 48 * MIB, .slope_kib_s = 1024, .noise_kib = 256 },
		.duration_s = 300,
		.interval_s = 10,
		.suspect = 1,
		.verdict = MEMORY_GROWTH_LEAK,
		.slope_kib_s = 1024,
		.slope_tol = 0.02,
		.flag_from_s = 50,
		.flag_by_s = 50,
		.stays_flagged = 1,
	},
	{
		/*
		 * Flat for 10 minutes, then 512 KiB/s: the window's line bends
		 * until the rise fills about two thirds of it (documented limit).
		 */
		.name = "leak_starting_in_flat_unit",
		.s = { .base_kib = 48 * MIB, .slope_kib_s = 512, .ramp_at_s = 600,
		       .noise_kib = 256 },
		.duration_s = 1200,
		.suspect = 1,
		.verdict = MEMORY_GROWTH_LEAK,
		.slope_kib_s = 512,
		.slope_tol = 0.02,
		.flag_from_s = 600 + 150,
		.flag_by_s = 600 + 250,
		.stays_flagged = 1,
	},
	{
		/* A leak in 10 MiB chunks every 30 s: sustained growth, not a step. */
		.name = "staircase_10MiB_every_30s",
		.s = { .base_kib = 48 * MIB, .tooth_s = 30, .tooth_kib = -10 * MIB,
		       .slope_kib_s = 10 * MIB / 30.0, .noise_kib = 64 },
		.duration_s = 600,
		.suspect = 1,
		.verdict = MEMORY_GROWTH_LEAK,
		.slope_kib_s = 10 * MIB / 30.0,
		.slope_tol = 0.05,
	},
	{
		/*
		 * A leak under a garbage collector, 10 KiB/s beneath 5 MiB teeth:
		 * an hour's buckets average the teeth away and show the climb.
		 */
		.name = "gc_sawtooth_over_leak_window_1h",
		.s = { .base_kib = 48 * MIB, .slope_kib_s = 10, .tooth_s = 20,
		       .tooth_kib = 5 * MIB, .noise_kib = 64 },
		.duration_s = 3600,
		.window_s = 3600,
		.suspect = 1,
		.verdict = MEMORY_GROWTH_LEAK,
		.slope_kib_s = 10,
		.slope_tol = 0.05,
	},
	{
		/* The same in the default 5 minutes: the teeth dominate (documented limit). */
		.name = "gc_sawtooth_over_leak_default_window",
		.s = { .base_kib = 48 * MIB, .slope_kib_s = 10, .tooth_s = 20,
		       .tooth_kib = 5 * MIB, .noise_kib = 64 },
		.duration_s = 3600,
		.never_suspect = 1,
		.verdict = MEMORY_GROWTH_NOT_LINEAR,
	},
	{
		/*
		 * With min_r2 lowered to 0.5 a step passes the line test at times
		 * (3p(1-p) <= 0.75); the step test still turns it down.
		 */
		.name = "step_50MiB_min_r2_0.5",
		.s = { .base_kib = 48 * MIB, .step_at_s = 150, .step_kib = 50 * MIB,
		       .noise_kib = 16 },
		.duration_s = 600,
		.min_r2 = 0.5,
		.never_suspect = 1,
		.verdict = MEMORY_GROWTH_NOT_GROWING,
		.seen = "step",
	},
	{
		/* The same for drops: a sawtooth over a slow climb, min_r2 lowered to 0.2. */
		.name = "sawtooth_over_leak_min_r2_0.2",
		.s = { .base_kib = 48 * MIB, .slope_kib_s = 10, .tooth_s = 20,
		       .tooth_kib = 5 * MIB, .noise_kib = 64 },
		.duration_s = 900,
		.min_r2 = 0.2,
		.never_suspect = 1,
		.verdict = MEMORY_GROWTH_SAWTOOTH,
		.seen = "sawtooth",
	},
};

static void test_timeline(void **state)
{
	const struct growth_case *k = *state;
	struct memory_growth_config c;
	struct memory_growth g;
	struct memory_growth_result r = { 0 };
	double t0 = k->t0_s ? k->t0_s : T0_S;
	double interval = k->interval_s > 0 ? k->interval_s : 1;
	double first_flag = -1, t = 0;
	int seen = 0;
	long n = 0;

	memory_growth_config_default(&c);
	if (k->window_s)
		c.window_s = k->window_s;
	if (k->min_r2)
		c.min_r2 = k->min_r2;
	memory_growth_init(&g);
	rng_seed(SEED);
	while (t <= k->duration_s + 1e-9) {
		memory_growth_observe(&g, &c, t0 + t, series_kib(&k->s, t));
		memory_growth_result(&g, &c, &r);

		/* Invariants at every sample. */
		assert_in_range(r.points, 1, MEMORY_GROWTH_BUCKETS + 1);
		assert_true(r.span_s >= 0 && r.span_s <= c.window_s + 1e-6);
		assert_true(r.min_kib <= r.last_kib && r.last_kib <= r.max_kib);
		if (r.leak_suspect) {
			assert_int_equal(r.verdict, MEMORY_GROWTH_LEAK);
			assert_true(r.growing);
			/* min_r2 less the hysteresis once flagged */
			assert_true(r.r2 >= c.min_r2 - 0.05 && r.span_s >= c.min_span_s);
			assert_true(r.growth_kib >= 0.75 * c.min_growth_kib);
			assert_true(memory_growth_eta_s(&r, r.max_kib + 1024 * MIB) > 0);
			if (first_flag < 0)
				first_flag = t;
		} else if (k->stays_flagged && first_flag >= 0) {
			print_error("%s: flag lost at %.1f s: %s, r2 %.3f, step %.2f, drops %d\n",
				    k->name, t, memory_growth_verdict_name(r.verdict), r.r2,
				    r.step_share, r.drops);
			fail();
		}
		if (r.leak_suspect &&
		    (k->never_suspect || (k->never_after_s && t >= k->never_after_s))) {
			print_error("%s: flagged at %.1f s: slope %.1f, r2 %.3f, step %.2f\n",
				    k->name, t, r.slope_kib_s, r.r2, r.step_share);
			fail();
		}
		if (k->no_eta_from_s && t >= k->no_eta_from_s &&
		    memory_growth_eta_s(&r, r.max_kib + 1024 * MIB) != -1) {
			print_error("%s: eta at %.1f s: slope %.2f, r2 %.3f\n", k->name, t,
				    r.slope_kib_s, r.r2);
			fail();
		}
		if (k->seen && strcmp(memory_growth_verdict_name(r.verdict), k->seen) == 0)
			seen = 1;
		/* Whole multiples of the interval, so that no sample is lost to rounding. */
		t = k->irregular ? t + rng_range(0.1, 10) : ++n * interval;
	}

	if (r.verdict != k->verdict || r.leak_suspect != k->suspect)
		print_error("%s: %s (slope %.2f, r2 %.4f, span %.0f, points %d, growth %.0f, "
			    "step %.2f, drops %d)\n",
			    k->name, memory_growth_verdict_name(r.verdict), r.slope_kib_s, r.r2,
			    r.span_s, r.points, r.growth_kib, r.step_share, r.drops);
	assert_string_equal(memory_growth_verdict_name(r.verdict),
			    memory_growth_verdict_name(k->verdict));
	assert_int_equal(r.leak_suspect, k->suspect);
	if (k->seen)
		assert_true(seen);
	if (k->slope_tol > 0) {
		if (fabs(r.slope_kib_s - k->slope_kib_s) > k->slope_tol * fabs(k->slope_kib_s))
			print_error("%s: slope %.3f, want %.3f\n", k->name, r.slope_kib_s,
				    k->slope_kib_s);
		assert_true(fabs(r.slope_kib_s - k->slope_kib_s) <=
			    k->slope_tol * fabs(k->slope_kib_s));
	}
	if (k->flag_by_s) {
		if (first_flag < k->flag_from_s || first_flag > k->flag_by_s)
			print_error("%s: first flagged at %.1f s, want %.0f..%.0f\n", k->name,
				    first_flag, k->flag_from_s, k->flag_by_s);
		assert_true(first_flag >= k->flag_from_s && first_flag <= k->flag_by_s);
	}
}

/* Feeds rss(t) = start + slope * t every interval from t0 + from to t0 + to, inclusive. */
static void feed_line(struct memory_growth *g, const struct memory_growth_config *c, double from,
		      double to, double interval, double start_kib, double slope_kib_s,
		      double noise_kib)
{
	for (long i = 0; from + i * interval <= to + 1e-9; i++) {
		double t = from + i * interval;
		double noise = rng_range(-noise_kib, noise_kib);

		memory_growth_observe(g, c, T0_S + t, start_kib + slope_kib_s * t + noise);
	}
}

/* 2 MiB/s, now at 20 MiB, limit 64 MiB: the line gets there in 22 s. */
static void test_eta_projection(void **state)
{
	struct memory_growth_config c;
	struct memory_growth g;
	struct memory_growth_result r;

	(void)state;
	memory_growth_config_default(&c);
	memory_growth_init(&g);
	rng_seed(SEED);
	/* From a fresh process's 64 KiB: three buckets, 10 s, before any verdict. */
	feed_line(&g, &c, 0, 10, 1, 64, 2048, 0);
	memory_growth_result(&g, &c, &r);
	assert_int_equal(r.points, 3);
	assert_true(r.growing);
	assert_int_equal(r.verdict, MEMORY_GROWTH_TOO_SHORT);
	assert_true(fabs(r.last_kib - (64 + 20 * MIB)) < 1e-9);
	assert_true(fabs(r.fit_kib - r.last_kib) < 1);
	assert_true(fabs(memory_growth_eta_s(&r, 64 * MIB) - 22) <= 0.05 * 22);
	/* At the limit or past it: 0, not negative. */
	assert_true(memory_growth_eta_s(&r, r.fit_kib) == 0);
	assert_true(memory_growth_eta_s(&r, 10 * MIB) == 0);
	assert_true(memory_growth_eta_s(&r, NAN) == -1);

	/* With 20% noise and a verdict: 35 s in, at 20 MiB. */
	memory_growth_init(&g);
	feed_line(&g, &c, 0, 35, 1, 20 * MIB - 35 * 2048 + 80 * MIB, 2048, 0.2 * 2048);
	memory_growth_result(&g, &c, &r);
	assert_true(r.leak_suspect);
	assert_true(fabs(memory_growth_eta_s(&r, r.fit_kib + 44 * MIB) - 22) <= 0.05 * 22);
}

static double eta_after(double slope_kib_s, double noise_kib)
{
	struct memory_growth_config c;
	struct memory_growth g;
	struct memory_growth_result r;

	memory_growth_config_default(&c);
	memory_growth_init(&g);
	feed_line(&g, &c, 0, 300, 1, 48 * MIB, slope_kib_s, noise_kib);
	memory_growth_result(&g, &c, &r);
	assert_int_equal(r.growing, 0);
	return memory_growth_eta_s(&r, 64 * 1024 * MIB);
}

static void test_eta_not_growing(void **state)
{
	struct memory_growth_config c;
	struct memory_growth g;
	struct memory_growth_result r;

	(void)state;
	rng_seed(SEED);
	assert_true(eta_after(0, 0) == -1);       /* flat */
	assert_true(eta_after(0, 256) == -1);     /* busy, flat */
	assert_true(eta_after(-512, 64) == -1);   /* shrinking */
	assert_true(eta_after(0.05, 0) == -1);    /* below min_slope_kib_s */
	assert_true(eta_after(2, 256) == -1);     /* 600 KiB in the window: below min_growth_kib */

	/* Unknown: no sample, then two points. */
	memory_growth_config_default(&c);
	memory_growth_init(&g);
	memory_growth_result(&g, &c, &r);
	assert_true(isnan(r.slope_kib_s) && isnan(r.r2) && isnan(r.last_kib));
	assert_int_equal(r.points, 0);
	assert_true(memory_growth_eta_s(&r, 1e9) == -1);
	feed_line(&g, &c, 0, 5, 1, MIB, 2048, 0);
	memory_growth_result(&g, &c, &r);
	assert_int_equal(r.points, 2);
	assert_true(isnan(r.slope_kib_s) && isnan(r.r2));
	assert_true(memory_growth_eta_s(&r, 1e9) == -1);

	/* Beyond MEMORY_GROWTH_ETA_MAX_S: -1, so the caller's int64_t cast is safe. */
	memory_growth_init(&g);
	feed_line(&g, &c, 0, 60, 1, MIB, 2048, 0);
	memory_growth_result(&g, &c, &r);
	assert_true(r.growing);
	assert_true(memory_growth_eta_s(&r, 1e300) == -1);
}

/* The figures of the life a gone unit had, field by field. */
static void assert_same_life(const struct memory_growth_result *a,
			     const struct memory_growth_result *b)
{
	assert_true(a->slope_kib_s == b->slope_kib_s);
	assert_true(a->r2 == b->r2);
	assert_true(a->span_s == b->span_s);
	assert_true(a->last_kib == b->last_kib);
	assert_true(a->fit_kib == b->fit_kib);
	assert_true(a->min_kib == b->min_kib && a->max_kib == b->max_kib);
	assert_int_equal(a->points, b->points);
	assert_int_equal(a->leak_suspect, b->leak_suspect);
	assert_int_equal(a->verdict, b->verdict);
}

static void test_freeze_keeps_life(void **state)
{
	struct memory_growth_config c;
	struct memory_growth g;
	struct memory_growth_result alive, gone;

	(void)state;
	memory_growth_config_default(&c);
	memory_growth_init(&g);
	rng_seed(SEED);
	feed_line(&g, &c, 0, 90, 1, 48 * MIB, 2048, 200);
	memory_growth_result(&g, &c, &alive);
	assert_true(alive.leak_suspect);
	assert_int_equal(alive.frozen, 0);
	assert_true(memory_growth_eta_s(&alive, 1024 * 1024 * MIB) > 0);

	/* The caller saw its last process go. */
	memory_growth_freeze(&g);
	memory_growth_result(&g, &c, &gone);
	assert_same_life(&alive, &gone);
	assert_int_equal(gone.frozen, 1);
	/* It leaked while it lived; it will exhaust nothing now. */
	assert_true(memory_growth_eta_s(&gone, 1024 * 1024 * MIB) == -1);

	/* A late sample of 0 KiB, or garbage, changes nothing. */
	memory_growth_observe(&g, &c, T0_S + 91, 0);
	memory_growth_observe(&g, &c, T0_S + 92, -5);
	memory_growth_observe(&g, &c, T0_S + 93, NAN);
	memory_growth_result(&g, &c, &gone);
	assert_same_life(&alive, &gone);
	assert_int_equal(gone.frozen, 1);

	/* Back with memory (a restart under the same name): a new life, not a drop. */
	memory_growth_observe(&g, &c, T0_S + 100, 30 * MIB);
	memory_growth_result(&g, &c, &gone);
	assert_int_equal(gone.frozen, 0);
	assert_int_equal(gone.points, 1);
	assert_true(gone.span_s == 0);
	assert_true(gone.last_kib == 30 * MIB && gone.min_kib == 30 * MIB);
	assert_true(isnan(gone.slope_kib_s));
	feed_line(&g, &c, 101, 200, 1, 30 * MIB - 101 * 1024.0, 1024, 100);
	memory_growth_result(&g, &c, &gone);
	assert_true(gone.leak_suspect);
	assert_true(fabs(gone.slope_kib_s - 1024) < 0.02 * 1024);
	assert_true(gone.span_s <= 100);
}

/* RSS 0 means no process left: it freezes, rather than counting as a fall. */
static void test_zero_rss_freezes(void **state)
{
	struct memory_growth_config c;
	struct memory_growth g;
	struct memory_growth_result alive, gone;

	(void)state;
	memory_growth_config_default(&c);
	memory_growth_init(&g);
	/* Before any sample, 0 KiB is a unit not started yet: nothing to freeze. */
	memory_growth_observe(&g, &c, T0_S, 0);
	memory_growth_result(&g, &c, &gone);
	assert_int_equal(gone.frozen, 0);
	assert_int_equal(gone.points, 0);

	rng_seed(SEED);
	feed_line(&g, &c, 0, 90, 1, 48 * MIB, 2048, 200);
	memory_growth_result(&g, &c, &alive);
	memory_growth_observe(&g, &c, T0_S + 91, 0);
	memory_growth_result(&g, &c, &gone);
	assert_int_equal(gone.frozen, 1);
	assert_same_life(&alive, &gone);
	assert_true(gone.leak_suspect);

	/*
	 * What freezing spares it: the same fall to a few KiB (a process left
	 * behind) counts, and the leaker looks like anything but a leak.
	 */
	memory_growth_init(&g);
	rng_seed(SEED);
	feed_line(&g, &c, 0, 90, 1, 48 * MIB, 2048, 200);
	memory_growth_observe(&g, &c, T0_S + 91, 4);
	memory_growth_result(&g, &c, &gone);
	assert_int_equal(gone.frozen, 0);
	assert_int_equal(gone.leak_suspect, 0);
}

static void test_hostile_values(void **state)
{
	struct memory_growth_config c, bad;
	struct memory_growth g;
	struct memory_growth_result r, before;

	(void)state;
	memory_growth_config_default(&c);
	memory_growth_init(&g);
	feed_line(&g, &c, 0, 60, 1, 48 * MIB, 2048, 0);
	memory_growth_result(&g, &c, &before);
	assert_true(before.leak_suspect);

	/* Not numbers, or negative: dropped. */
	memory_growth_observe(&g, &c, NAN, 100 * MIB);
	memory_growth_observe(&g, &c, INFINITY, 100 * MIB);
	memory_growth_observe(&g, &c, T0_S + 61, NAN);
	memory_growth_observe(&g, &c, T0_S + 61, INFINITY);
	memory_growth_observe(&g, &c, T0_S + 61, -1);
	memory_growth_result(&g, &c, &r);
	assert_same_life(&before, &r);

	/* The same time twice is fine (a sampler that runs twice in a tick). */
	memory_growth_observe(&g, &c, T0_S + 60, 48 * MIB + 60 * 2048);
	memory_growth_result(&g, &c, &r);
	assert_true(r.leak_suspect);
	assert_true(fabs(r.slope_kib_s - 2048) < 0.02 * 2048);

	/* A config full of garbage falls back to the defaults, or the nearest bound. */
	memset(&bad, 0, sizeof(bad));
	bad.window_s = NAN;
	bad.min_span_s = -1;
	bad.min_r2 = 7;
	bad.min_slope_kib_s = NAN;
	bad.min_growth_kib = -INFINITY;
	bad.min_growth_ratio = NAN;
	bad.max_step_share = -1;
	bad.drop_ratio = NAN;
	bad.min_points = 0;
	memory_growth_result(&g, &bad, &r);
	assert_true(r.leak_suspect);
	memory_growth_result(&g, NULL, &r);
	assert_true(r.leak_suspect);
	memory_growth_observe(&g, NULL, T0_S + 61, 48 * MIB + 61 * 2048);
	bad.window_s = 1e300; /* clamped to 366 days */
	bad.min_points = 1000;  /* clamped to the points there can be */
	memory_growth_observe(&g, &bad, T0_S + 62, 48 * MIB + 62 * 2048);
	memory_growth_result(&g, &bad, &r);
	assert_true(r.span_s == 62);
	assert_int_equal(r.verdict, MEMORY_GROWTH_FEW_POINTS);
	/* Clamped to 1 s: only the open bucket is left, opened at 60 s and always in. */
	bad.window_s = 1e-9;
	memory_growth_result(&g, &bad, &r);
	assert_int_equal(r.points, 1);
	assert_true(r.span_s == 2);
	assert_true(isnan(r.slope_kib_s));

	/* Huge values: no overflow, no NaN. */
	memory_growth_init(&g);
	feed_line(&g, &c, 0, 60, 1, 1e15, 1e12, 0);
	memory_growth_result(&g, &c, &r);
	assert_true(isfinite(r.slope_kib_s) && isfinite(r.r2));
	assert_true(r.growing);

	/*
	 * The wall clock steps back an hour: the history shifts, the sample
	 * counts as taken with the newest, and the leak goes on being seen.
	 */
	memory_growth_init(&g);
	feed_line(&g, &c, 0, 60, 1, 48 * MIB, 2048, 0);
	memory_growth_observe(&g, &c, T0_S + 61 - 3600, 48 * MIB + 60 * 2048);
	memory_growth_result(&g, &c, &r);
	assert_true(r.leak_suspect);
	assert_true(r.span_s == 60);
	feed_line(&g, &c, 62 - 3600, 120 - 3600, 1, 48 * MIB + (3600 - 1) * 2048.0, 2048, 0);
	memory_growth_result(&g, &c, &r);
	assert_true(r.leak_suspect);
	assert_true(r.span_s == 119);
	assert_true(fabs(r.slope_kib_s - 2048) < 0.02 * 2048);
	assert_true(r.last_kib == 48 * MIB + 119 * 2048);
}

/* A month of a busy, flat unit at 10 s, then a leak: never flagged, then flagged. */
static void test_month_then_leak(void **state)
{
	struct memory_growth_config c;
	struct memory_growth g;
	struct memory_growth_result r;
	const double month = 30 * 24 * 3600.0;
	double flagged = -1;
	long i;

	(void)state;
	memory_growth_config_default(&c);
	memory_growth_init(&g);
	rng_seed(SEED);
	for (i = 0; i * 10.0 <= month; i++) {
		memory_growth_observe(&g, &c, T0_S + i * 10.0, 48 * MIB + rng_range(-256, 256));
		memory_growth_result(&g, &c, &r);
		if (r.leak_suspect || memory_growth_eta_s(&r, 1024 * MIB) != -1)
			fail_msg("flagged at %ld s", i * 10);
	}
	for (double t = 10; t <= 600; t += 10) {
		memory_growth_observe(&g, &c, T0_S + month + t, 48 * MIB + 1024 * t);
		memory_growth_result(&g, &c, &r);
		if (r.leak_suspect && flagged < 0)
			flagged = t;
	}
	assert_true(r.leak_suspect);
	assert_true(fabs(r.slope_kib_s - 1024) < 0.02 * 1024);
	/* Two thirds of the window, within one bucket of samples. */
	assert_true(flagged >= 150 && flagged <= 250);
}

static void test_defaults_and_names(void **state)
{
	struct memory_growth_config c;

	(void)state;
	memory_growth_config_default(&c);
	assert_true(c.window_s == 300);
	assert_true(c.min_span_s == 30);
	assert_true(c.min_r2 == 0.9);
	assert_true(c.min_slope_kib_s == 0.1);
	assert_true(c.min_growth_kib == 1024);
	assert_true(c.min_growth_ratio == 0.01);
	assert_true(c.max_step_share == 0.5);
	assert_true(c.drop_ratio == 0.5);
	assert_int_equal(c.min_points, 6);
	assert_string_equal(memory_growth_verdict_name(MEMORY_GROWTH_TOO_SHORT), "too-short");
	assert_string_equal(memory_growth_verdict_name(MEMORY_GROWTH_FEW_POINTS), "few-points");
	assert_string_equal(memory_growth_verdict_name(MEMORY_GROWTH_NOT_GROWING), "not-growing");
	assert_string_equal(memory_growth_verdict_name(MEMORY_GROWTH_SMALL), "small");
	assert_string_equal(memory_growth_verdict_name(MEMORY_GROWTH_NOT_LINEAR), "not-linear");
	assert_string_equal(memory_growth_verdict_name(MEMORY_GROWTH_STEP), "step");
	assert_string_equal(memory_growth_verdict_name(MEMORY_GROWTH_SAWTOOTH), "sawtooth");
	assert_string_equal(memory_growth_verdict_name(MEMORY_GROWTH_LEAK), "leak");
	assert_string_equal(memory_growth_verdict_name((enum memory_growth_verdict)99), "unknown");
	/* Kept for thousands of units: at most 2 KiB. */
	assert_in_range(sizeof(struct memory_growth), 1, 2048);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_eta_projection),
		cmocka_unit_test(test_eta_not_growing),
		cmocka_unit_test(test_freeze_keeps_life),
		cmocka_unit_test(test_zero_rss_freezes),
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_month_then_leak),
		cmocka_unit_test(test_defaults_and_names),
	};
	struct CMUnitTest timelines[ARRAY_SIZE(cases)];
	int failed;

	/* One test per case, named after it; cmocka_run_group_tests() needs a fixed array. */
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		timelines[i] = (struct CMUnitTest){ .name = cases[i].name,
						    .test_func = test_timeline,
						    .initial_state = (void *)&cases[i] };
	failed = _cmocka_run_group_tests("memory_growth_timelines", timelines,
					 ARRAY_SIZE(timelines), NULL, NULL);
	failed += cmocka_run_group_tests(fixed, NULL, NULL);
	return failed ? 1 : 0;
}
