// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * churn_growth on synthetic timelines. One or two storm units start on a
 * rhythm (steady, jittered, or changing pace); a candidate's memory is a
 * base, plus a cost per start of either storm (which may stop at some
 * time), plus a leak of its own from some time on, plus a one-off step,
 * plus uniform noise from a fixed-seed generator. Samples come every
 * second, as from the real sampler; the tracker is fed the pre-window first
 * (what the caller replays from before the storm was flagged), unless
 * rcatrace "started" mid-storm. Every sample is checked: a candidate that
 * must not be linked is never linked on the way.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "churn_growth.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIB 1024.0 /* in KiB */
#define SEED 0x636875726e677277ULL
#define MAX_STARTS 20000

/* splitmix64: small, fixed-seed, the same on every machine. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi). */
static double rng_range(double lo, double hi)
{
	return lo + (hi - lo) * (double)(rng_next() >> 11) / 9007199254740992.0;
}

/* A storm unit's starts: from start_s every period_s (+- jitter), from change_s every period2_s. */
struct rhythm {
	double start_s;  /* 0: no such storm */
	double period_s;
	double jitter;   /* share of the period, uniform */
	double change_s; /* 0: no change */
	double period2_s;
	double stop_s;   /* the storm stops starting; 0: never */
};

struct starts {
	int n;
	double at[MAX_STARTS];
};

static void make_starts(const struct rhythm *r, double until_s, struct starts *s)
{
	double t = r->start_s;

	s->n = 0;
	if (r->start_s <= 0)
		return;
	while (t <= until_s && s->n < MAX_STARTS && (r->stop_s <= 0 || t < r->stop_s)) {
		double period = r->change_s > 0 && t >= r->change_s ? r->period2_s : r->period_s;

		s->at[s->n++] = t;
		t += period * (1 + rng_range(-r->jitter, r->jitter));
	}
}

/* Starts at or before t. */
static uint64_t count_at(const struct starts *s, double t)
{
	uint64_t n = 0;

	while (n < (uint64_t)s->n && s->at[n] <= t)
		n++;
	return n;
}

struct candidate {
	double base_kib;
	double per_start_a; /* KiB per start of storm a */
	double per_start_b;
	double stop_s;      /* the per-start cost stops from then on; 0: never */
	double rate_kib_s;  /* a leak of its own ... */
	double leak_from_s; /* ... from then on */
	double step_kib;    /* a one-off allocation at step_at_s */
	double step_at_s;
	double noise_kib;   /* uniform +- */
};

enum expect {
	LINKS,         /* linked within link_by_s, kib_per_start within 5% at the end */
	NEVER,         /* never linked; ends as not linked */
	NEVER_AMBIG,   /* never linked; ends as ambiguous */
	LINKS_THEN_ENDS, /* linked, then ended within 30 starts of cand.stop_s */
};

struct timeline_case {
	const char *name;
	struct rhythm a;
	struct candidate cand;
	double observe_from_s; /* rcatrace's first sample */
	double storm_known_s;  /* the storm start given to init */
	double end_s;
	enum expect expect;
	const char *reason;     /* at the end; NULL: not checked */
	double want_per_start;  /* LINKS: within tolerance (default 5%) */
	double tolerance;
	double link_by_s;       /* LINKS: linked by then (and never before 20 starts) */
	double min_per_start;   /* 0: the default */
};

static const struct timeline_case cases[] = {
	{
		/* PID 1 keeping 64 KiB per child it respawns; the child loops every 5 s. */
		.name = "supervisor leaking 64 KiB per start",
		.a = { .start_s = 300, .period_s = 5, .jitter = 0.1 },
		.cand = { .base_kib = 50 * MIB, .per_start_a = 64, .noise_kib = 32 },
		.storm_known_s = 300,
		.end_s = 900,
		.expect = LINKS,
		.reason = "grows-per-start",
		.want_per_start = 64,
		.link_by_s = 300 + 40 * 5,
	},
	{
		/* journald keeping ~2 KiB of entries per failed start, with its own churn. */
		.name = "logger keeping each message, 2 KiB per start",
		.a = { .start_s = 300, .period_s = 2, .jitter = 0.2 },
		.cand = { .base_kib = 30 * MIB, .per_start_a = 2, .noise_kib = 8 },
		.storm_known_s = 300,
		.end_s = 900,
		.expect = LINKS,
		.reason = "grows-per-start",
		.want_per_start = 2,
		.link_by_s = 300 + 40 * 2,
	},
	{
		/* The same logger under heavier noise of its own: linked later, not wrongly. */
		.name = "logger, 2 KiB per start, noise 64 KiB",
		.a = { .start_s = 300, .period_s = 2, .jitter = 0.2 },
		.cand = { .base_kib = 30 * MIB, .per_start_a = 2, .noise_kib = 64 },
		.storm_known_s = 300,
		.end_s = 1200,
		.expect = LINKS,
		.reason = "grows-per-start",
		.want_per_start = 2,
		.tolerance = 0.15,
		.link_by_s = 300 + 400 * 2,
	},
	{
		/* agetty's own rhythm: one start every 10 s, the storm flagged after 5 of them. */
		.name = "supervisor, agetty rhythm, flagged late",
		.a = { .start_s = 600, .period_s = 10, .jitter = 0.02 },
		.cand = { .base_kib = 12 * MIB, .per_start_a = 150, .noise_kib = 64 },
		.storm_known_s = 650,
		.end_s = 1500,
		.expect = LINKS,
		.reason = "grows-per-start",
		.want_per_start = 150,
		.link_by_s = 600 + 40 * 10,
	},
	{
		/* Pays per start and leaks a little on its own: the starts carry most of it. */
		.name = "per-start cost beside a small leak of its own",
		.a = { .start_s = 300, .period_s = 5, .jitter = 0.1 },
		.cand = { .base_kib = 50 * MIB, .per_start_a = 64, .rate_kib_s = 2, .noise_kib = 32 },
		.storm_known_s = 300,
		.end_s = 900,
		.expect = LINKS,
		.reason = "grows-per-start",
		.want_per_start = 64,
		.link_by_s = 300 + 40 * 5,
	},
	{
		/* A dying-cgroup count: exactly one per start, no noise (min_per_start 0.5). */
		.name = "dying cgroups, one per start",
		.a = { .start_s = 300, .period_s = 3, .jitter = 0.2 },
		.cand = { .base_kib = 57, .per_start_a = 1 },
		.storm_known_s = 300,
		.end_s = 700,
		.expect = LINKS,
		.reason = "grows-per-start",
		.want_per_start = 1,
		.link_by_s = 300 + 40 * 3,
		.min_per_start = 0.5,
	},
	{
		.name = "steady neighbour",
		.a = { .start_s = 300, .period_s = 5, .jitter = 0.1 },
		.cand = { .base_kib = 200 * MIB, .noise_kib = 256 },
		.storm_known_s = 300,
		.end_s = 900,
		.expect = NEVER,
		.reason = "not-growing",
	},
	{
		/* 8 KiB/s since long before the storm: as fast as 40 KiB per start would be. */
		.name = "constant-rate leaker since before the storm",
		.a = { .start_s = 300, .period_s = 5, .jitter = 0.1 },
		.cand = { .base_kib = 80 * MIB, .rate_kib_s = 8, .noise_kib = 32 },
		.storm_known_s = 300,
		.end_s = 900,
		.expect = NEVER,
		.reason = "time-driven",
	},
	{
		.name = "constant-rate leaker, slow, noisy",
		.a = { .start_s = 300, .period_s = 3, .jitter = 0.3 },
		.cand = { .base_kib = 80 * MIB, .rate_kib_s = 1, .noise_kib = 64 },
		.storm_known_s = 300,
		.end_s = 1200,
		.expect = NEVER,
		.reason = "time-driven",
	},
	{
		/* Began leaking 4 minutes before the storm, in the middle of the pre-window. */
		.name = "leaker that began shortly before the storm",
		.a = { .start_s = 600, .period_s = 5, .jitter = 0.1 },
		.cand = { .base_kib = 80 * MIB, .rate_kib_s = 8, .leak_from_s = 360,
			  .noise_kib = 32 },
		.storm_known_s = 600,
		.end_s = 1200,
		.expect = NEVER,
		.reason = "time-driven",
	},
	{
		.name = "step in the middle of the storm",
		.a = { .start_s = 300, .period_s = 5, .jitter = 0.1 },
		.cand = { .base_kib = 60 * MIB, .step_kib = 20 * MIB, .step_at_s = 600,
			  .noise_kib = 32 },
		.storm_known_s = 300,
		.end_s = 900,
		.expect = NEVER,
		.reason = "step",
	},
	{
		.name = "step as the storm begins",
		.a = { .start_s = 300, .period_s = 5, .jitter = 0.1 },
		.cand = { .base_kib = 60 * MIB, .step_kib = 20 * MIB, .step_at_s = 310,
			  .noise_kib = 32 },
		.storm_known_s = 300,
		.end_s = 900,
		.expect = NEVER,
		.reason = "step",
	},
	{
		.name = "growth that stops",
		.a = { .start_s = 300, .period_s = 5, .jitter = 0.1 },
		.cand = { .base_kib = 50 * MIB, .per_start_a = 64, .stop_s = 700, .noise_kib = 32 },
		.storm_known_s = 300,
		.end_s = 1100,
		.expect = LINKS_THEN_ENDS,
		.reason = "stopped",
	},
	{
		.name = "few starts: not yet",
		.a = { .start_s = 300, .period_s = 20, .jitter = 0.1 },
		.cand = { .base_kib = 50 * MIB, .per_start_a = 512, .noise_kib = 32 },
		.storm_known_s = 300,
		.end_s = 600,
		.expect = NEVER,
		.reason = "few-starts",
	},
	{
		/* Started mid-storm: no pre-window; a leak in time looks like a cost per start. */
		.name = "mid-storm start, time-linear leak",
		.a = { .start_s = 100, .period_s = 5, .jitter = 0.1 },
		.cand = { .base_kib = 80 * MIB, .rate_kib_s = 12.8, .noise_kib = 32 },
		.observe_from_s = 1000,
		.storm_known_s = 1060,
		.end_s = 1800,
		.expect = NEVER_AMBIG,
		.reason = "collinear",
	},
	{
		/* The same with a real cost per start: not decidable either, so not linked. */
		.name = "mid-storm start, per-start leak",
		.a = { .start_s = 100, .period_s = 5, .jitter = 0.1 },
		.cand = { .base_kib = 80 * MIB, .per_start_a = 64, .noise_kib = 32 },
		.observe_from_s = 1000,
		.storm_known_s = 1060,
		.end_s = 1800,
		.expect = NEVER_AMBIG,
		.reason = "collinear",
	},
	{
		/* Mid-storm, but the storm changes pace (a restart backoff): that separates. */
		.name = "mid-storm start, pace change tells per start",
		.a = { .start_s = 100, .period_s = 2, .jitter = 0.1, .change_s = 1400,
		       .period2_s = 10 },
		.cand = { .base_kib = 80 * MIB, .per_start_a = 64, .noise_kib = 32 },
		.observe_from_s = 1000,
		.storm_known_s = 1000,
		.end_s = 1800,
		.expect = LINKS,
		.reason = "grows-per-start",
		.want_per_start = 64,
		.link_by_s = 1400 + 40 * 10,
	},
	{
		.name = "mid-storm start, pace change tells it grows in time",
		.a = { .start_s = 100, .period_s = 2, .jitter = 0.1, .change_s = 1400,
		       .period2_s = 10 },
		.cand = { .base_kib = 80 * MIB, .rate_kib_s = 16, .noise_kib = 32 },
		.observe_from_s = 1000,
		.storm_known_s = 1000,
		.end_s = 1800,
		.expect = NEVER,
		.reason = "time-driven",
	},
};

static double value_at(const struct candidate *c, const struct starts *a, const struct starts *b,
		       double t)
{
	double v = c->base_kib + c->noise_kib * rng_range(-1, 1);
	double until = c->stop_s > 0 && t > c->stop_s ? c->stop_s : t;

	v += c->per_start_a * (double)count_at(a, until);
	if (b)
		v += c->per_start_b * (double)count_at(b, until);
	if (c->rate_kib_s > 0 && t > c->leak_from_s)
		v += c->rate_kib_s * (t - c->leak_from_s);
	if (c->step_kib > 0 && t >= c->step_at_s)
		v += c->step_kib;
	return v;
}

static struct starts storm_a, storm_b;
static struct churn_growth tracker_a, tracker_b; /* 4 KiB each: static, freed by nothing */

static void test_timeline(void **state)
{
	const struct timeline_case *tc = *state;
	struct churn_growth *g = &tracker_a;
	struct churn_growth_config cfg;
	struct churn_growth_result r;
	int linked_at = -1, ended_at = -1, confirming = 0;
	uint64_t starts_at_link = 0;
	double want_growth;

	rng_state = SEED;
	churn_growth_config_default(&cfg);
	if (tc->min_per_start > 0)
		cfg.min_per_start = tc->min_per_start;
	make_starts(&tc->a, tc->end_s, &storm_a);
	churn_growth_init(g, (int64_t)(tc->storm_known_s * 1000));
	for (double t = tc->observe_from_s; t <= tc->end_s; t += 1) {
		double v = value_at(&tc->cand, &storm_a, NULL, t);
		enum churn_growth_transition tr = churn_growth_observe(
			g, &cfg, (int64_t)(t * 1000), 1000 + count_at(&storm_a, t), v);

		if (!g->linked)
			confirming += g->last.reason == CHURN_GROWTH_CONFIRMING;
		churn_growth_result(g, &r);
		if (tr == CHURN_GROWTH_LINK_STARTED) {
			if (tc->expect == NEVER || tc->expect == NEVER_AMBIG)
				fail_msg("%s: linked at t=%.0f (b %.2f, r2 %.3f, share %.2f, indep %.4f)",
					 tc->name, t, r.kib_per_start, r.r2, r.start_share,
					 r.independence);
			if (linked_at < 0) {
				linked_at = (int)t;
				starts_at_link = r.starts;
			}
		}
		if (tr == CHURN_GROWTH_LINK_ENDED) {
			if (tc->expect != LINKS_THEN_ENDS)
				fail_msg("%s: link ended at t=%.0f: %s", tc->name, t,
					 churn_growth_reason_name(r.reason));
			if (ended_at < 0)
				ended_at = (int)t;
		}
		/* The verdict and the transitions agree at every sample. */
		assert_int_equal(r.verdict == CHURN_GROWTH_LINKED, g->linked);
	}
	churn_growth_result(g, &r);
	print_message("  %-52s %s/%s b=%.2f r2=%.3f starts=%llu growth=%.0f share=%.2f "
		      "indep=%.4f linked_at=%d (%llu starts) ended_at=%d\n",
		      tc->name, churn_growth_verdict_name(r.verdict),
		      churn_growth_reason_name(r.reason), r.kib_per_start, r.r2,
		      (unsigned long long)r.starts, r.growth_kib, r.start_share, r.independence,
		      linked_at, (unsigned long long)starts_at_link, ended_at);
	switch (tc->expect) {
	case LINKS:
		assert_int_equal(r.verdict, CHURN_GROWTH_LINKED);
		assert_true(fabs(r.kib_per_start - tc->want_per_start) <=
			    (tc->tolerance > 0 ? tc->tolerance : 0.05) * tc->want_per_start);
		assert_true(r.r2 >= 0.9);
		/* Never before min_starts (20) and confirm_starts (10) more. */
		assert_true(starts_at_link >= 30);
		assert_true(confirming > 0);
		assert_true(r.growing);
		assert_true(linked_at > 0 && linked_at <= tc->link_by_s);
		assert_true(r.was_linked);
		/* The rise since the storm began: its starts' cost and what grew on its own. */
		want_growth = tc->want_per_start * (double)r.starts +
			      tc->cand.rate_kib_s * (tc->end_s - tc->storm_known_s);
		assert_true(fabs(r.growth_kib - want_growth) <=
			    0.05 * want_growth + 2 * tc->cand.noise_kib);
		break;
	case NEVER:
		assert_int_equal(r.verdict, CHURN_GROWTH_NOT_LINKED);
		assert_false(r.was_linked);
		break;
	case NEVER_AMBIG:
		assert_int_equal(r.verdict, CHURN_GROWTH_AMBIGUOUS);
		assert_false(r.was_linked);
		break;
	case LINKS_THEN_ENDS:
		assert_true(linked_at > 0);
		assert_true(ended_at > tc->cand.stop_s);
		/* Within 30 starts of the stop at this pace (5 s). */
		assert_true(ended_at <= tc->cand.stop_s + 30 * 5);
		assert_int_equal(r.verdict, CHURN_GROWTH_NOT_LINKED);
		assert_true(r.was_linked);
		break;
	}
	if (tc->reason)
		assert_string_equal(churn_growth_reason_name(r.reason), tc->reason);
}

/* A neighbour whose memory wanders (a cache filling and emptying): never linked, any seed. */
static void test_wandering_neighbour(void **state)
{
	struct rhythm a = { .start_s = 300, .period_s = 5, .jitter = 0.1 };
	struct churn_growth_config cfg;
	struct churn_growth_result r;
	int ambiguous = 0;

	(void)state;
	churn_growth_config_default(&cfg);
	for (uint64_t seed = 1; seed <= 40; seed++) {
		double v = 100 * MIB;

		rng_state = SEED ^ seed;
		make_starts(&a, 1200, &storm_a);
		churn_growth_init(&tracker_a, 300000);
		for (double t = 0; t <= 1200; t += 1) {
			v = fmax(MIB, v + rng_range(-64, 64));
			if (churn_growth_observe(&tracker_a, &cfg, (int64_t)(t * 1000),
						 count_at(&storm_a, t), v) ==
			    CHURN_GROWTH_LINK_STARTED) {
				churn_growth_result(&tracker_a, &r);
				fail_msg("seed %llu: linked at t=%.0f (b %.2f, r2 %.3f, share %.2f)",
					 (unsigned long long)seed, t, r.kib_per_start, r.r2,
					 r.start_share);
			}
		}
		churn_growth_result(&tracker_a, &r);
		ambiguous += r.verdict == CHURN_GROWTH_AMBIGUOUS;
	}
	print_message("  40 random walks: none linked, %d ambiguous at the end\n", ambiguous);
}

/* A sawtooth (a garbage collector): grows between collections, never linked. */
static void test_sawtooth_neighbour(void **state)
{
	struct rhythm a = { .start_s = 300, .period_s = 5, .jitter = 0.1 };
	struct churn_growth_result r;

	(void)state;
	rng_state = SEED;
	make_starts(&a, 1200, &storm_a);
	churn_growth_init(&tracker_a, 300000);
	for (double t = 0; t <= 1200; t += 1) {
		double v = 100 * MIB + 40 * fmod(t, 120) + rng_range(-16, 16);

		assert_int_not_equal(churn_growth_observe(&tracker_a, NULL, (int64_t)(t * 1000),
							  count_at(&storm_a, t), v),
				     CHURN_GROWTH_LINK_STARTED);
	}
	churn_growth_result(&tracker_a, &r);
	assert_int_equal(r.verdict, CHURN_GROWTH_NOT_LINKED);
}

/* ---- two storms at once ---- */

struct pick_case {
	const char *name;
	struct rhythm a, b;
	struct candidate cand;
	double end_s;
	enum churn_growth_pick want;
};

static const struct pick_case pick_cases[] = {
	{
		/* Both loop from the same moment at steady paces: their starts are one line. */
		.name = "two storms, collinear starts: ambiguous",
		.a = { .start_s = 300, .period_s = 5, .jitter = 0.05 },
		.b = { .start_s = 300, .period_s = 3, .jitter = 0.05 },
		.cand = { .base_kib = 50 * MIB, .per_start_a = 64, .noise_kib = 32 },
		.end_s = 900,
		.want = CHURN_GROWTH_PICK_AMBIGUOUS,
	},
	{
		/* b begins later and at another pace: the candidate follows a. */
		.name = "two storms, different rhythms: a",
		.a = { .start_s = 300, .period_s = 5, .jitter = 0.1 },
		.b = { .start_s = 500, .period_s = 3, .jitter = 0.3 },
		.cand = { .base_kib = 50 * MIB, .per_start_a = 64, .noise_kib = 32 },
		.end_s = 1000,
		.want = CHURN_GROWTH_PICK_A,
	},
	{
		.name = "two storms, different rhythms: b",
		.a = { .start_s = 300, .period_s = 5, .jitter = 0.1 },
		.b = { .start_s = 500, .period_s = 3, .jitter = 0.3 },
		.cand = { .base_kib = 50 * MIB, .per_start_b = 32, .noise_kib = 32 },
		.end_s = 1000,
		.want = CHURN_GROWTH_PICK_B,
	},
	{
		/* PID 1 pays for every unit it restarts. */
		.name = "two storms, grows with both",
		.a = { .start_s = 300, .period_s = 5, .jitter = 0.1 },
		.b = { .start_s = 500, .period_s = 3, .jitter = 0.3 },
		.cand = { .base_kib = 50 * MIB, .per_start_a = 64, .per_start_b = 32,
			  .noise_kib = 32 },
		.end_s = 1000,
		.want = CHURN_GROWTH_PICK_BOTH,
	},
	{
		.name = "two storms, grows with neither",
		.a = { .start_s = 300, .period_s = 5, .jitter = 0.1 },
		.b = { .start_s = 500, .period_s = 3, .jitter = 0.3 },
		.cand = { .base_kib = 50 * MIB, .noise_kib = 32 },
		.end_s = 1000,
		.want = CHURN_GROWTH_PICK_NONE,
	},
};

static void test_pick(void **state)
{
	const struct pick_case *pc = *state;
	struct churn_growth_pick_result p;
	struct churn_growth_result ra, rb;

	rng_state = SEED;
	make_starts(&pc->a, pc->end_s, &storm_a);
	make_starts(&pc->b, pc->end_s, &storm_b);
	churn_growth_init(&tracker_a, (int64_t)(pc->a.start_s * 1000));
	churn_growth_init(&tracker_b, (int64_t)(pc->b.start_s * 1000));
	for (double t = 0; t <= pc->end_s; t += 1) {
		double v = value_at(&pc->cand, &storm_a, &storm_b, t);

		churn_growth_observe(&tracker_a, NULL, (int64_t)(t * 1000), count_at(&storm_a, t), v);
		churn_growth_observe(&tracker_b, NULL, (int64_t)(t * 1000), count_at(&storm_b, t), v);
	}
	churn_growth_result(&tracker_a, &ra);
	churn_growth_result(&tracker_b, &rb);
	churn_growth_pick(&tracker_a, &tracker_b, NULL, &p);
	print_message("  %-40s a: %s/%s b=%.2f  b: %s/%s b=%.2f  pick %s (%.2f, %.2f; indep %.4f, "
		      "%u samples)\n",
		      pc->name, churn_growth_verdict_name(ra.verdict),
		      churn_growth_reason_name(ra.reason), ra.kib_per_start,
		      churn_growth_verdict_name(rb.verdict), churn_growth_reason_name(rb.reason),
		      rb.kib_per_start, churn_growth_pick_name(p.pick), p.kib_per_start_a,
		      p.kib_per_start_b, p.independence, p.samples);
	assert_string_equal(churn_growth_pick_name(p.pick), churn_growth_pick_name(pc->want));
	if (p.pick == CHURN_GROWTH_PICK_A || p.pick == CHURN_GROWTH_PICK_BOTH)
		assert_true(fabs(p.kib_per_start_a - pc->cand.per_start_a) <=
			    0.05 * pc->cand.per_start_a);
	if (p.pick == CHURN_GROWTH_PICK_B || p.pick == CHURN_GROWTH_PICK_BOTH)
		assert_true(fabs(p.kib_per_start_b - pc->cand.per_start_b) <=
			    0.05 * pc->cand.per_start_b);
	/* The same question asked the other way round gets the mirrored answer. */
	{
		struct churn_growth_pick_result q;
		enum churn_growth_pick mirror = p.pick == CHURN_GROWTH_PICK_A ? CHURN_GROWTH_PICK_B :
						p.pick == CHURN_GROWTH_PICK_B ? CHURN_GROWTH_PICK_A :
										p.pick;

		churn_growth_pick(&tracker_b, &tracker_a, NULL, &q);
		assert_int_equal(q.pick, mirror);
	}
}

/* ---- edges ---- */

static void feed_linked(struct churn_growth *g, double until_s)
{
	struct rhythm a = { .start_s = 300, .period_s = 5, .jitter = 0.1 };
	struct candidate c = { .base_kib = 50 * MIB, .per_start_a = 64, .noise_kib = 32 };

	rng_state = SEED;
	make_starts(&a, until_s, &storm_a);
	churn_growth_init(g, 300000);
	for (double t = 0; t <= until_s; t += 1)
		churn_growth_observe(g, NULL, (int64_t)(t * 1000), count_at(&storm_a, t),
				     value_at(&c, &storm_a, NULL, t));
}

static void test_storm_ended(void **state)
{
	struct churn_growth_result before, after;

	(void)state;
	feed_linked(&tracker_a, 700);
	churn_growth_result(&tracker_a, &before);
	assert_int_equal(before.verdict, CHURN_GROWTH_LINKED);
	assert_int_equal(churn_growth_storm_ended(&tracker_a, 700000), CHURN_GROWTH_LINK_ENDED);
	assert_int_equal(churn_growth_storm_ended(&tracker_a, 700000), CHURN_GROWTH_NO_CHANGE);
	/* Later samples change nothing; the figures are those of the storm. */
	for (int t = 701; t < 800; t++)
		assert_int_equal(churn_growth_observe(&tracker_a, NULL, t * 1000LL, 99999, 1e9),
				 CHURN_GROWTH_NO_CHANGE);
	churn_growth_result(&tracker_a, &after);
	assert_int_equal(after.verdict, CHURN_GROWTH_NOT_LINKED);
	assert_string_equal(churn_growth_reason_name(after.reason), "storm-over");
	assert_true(after.storm_over);
	assert_true(after.was_linked);
	assert_true(after.kib_per_start == before.kib_per_start);
	assert_true(after.starts == before.starts);
	/* A storm that ends unlinked ends quietly. */
	churn_growth_init(&tracker_b, 1000);
	assert_int_equal(churn_growth_storm_ended(&tracker_b, 2000), CHURN_GROWTH_NO_CHANGE);
}

static void test_hostile_input(void **state)
{
	struct churn_growth_result r, before;

	(void)state;
	feed_linked(&tracker_a, 600);
	churn_growth_result(&tracker_a, &before);
	assert_int_equal(before.verdict, CHURN_GROWTH_LINKED);
	/* NaN, infinities and negatives are dropped; nothing changes. */
	assert_int_equal(churn_growth_observe(&tracker_a, NULL, 601000, 2000, NAN),
			 CHURN_GROWTH_NO_CHANGE);
	assert_int_equal(churn_growth_observe(&tracker_a, NULL, 601000, 2000, INFINITY),
			 CHURN_GROWTH_NO_CHANGE);
	assert_int_equal(churn_growth_observe(&tracker_a, NULL, 601000, 2000, -5),
			 CHURN_GROWTH_NO_CHANGE);
	churn_growth_result(&tracker_a, &r);
	assert_true(r.samples == before.samples);
	/*
	 * The clock steps back an hour and the starts counter is made again (back
	 * to 0): the series goes on as if neither happened, and the link holds.
	 */
	{
		struct rhythm a = { .start_s = 300, .period_s = 5, .jitter = 0.1 };
		struct candidate c = { .base_kib = 50 * MIB, .per_start_a = 64, .noise_kib = 32 };
		uint64_t before_reset = count_at(&storm_a, 600);

		make_starts(&a, 900, &storm_a);
		for (double t = 601; t <= 900; t += 1) {
			int64_t t_ms = (int64_t)((t - 3600) * 1000);
			uint64_t n = count_at(&storm_a, t) - before_reset;

			assert_int_not_equal(churn_growth_observe(&tracker_a, NULL, t_ms, n,
								  value_at(&c, &storm_a, NULL, t)),
					     CHURN_GROWTH_LINK_ENDED);
		}
	}
	churn_growth_result(&tracker_a, &r);
	assert_int_equal(r.verdict, CHURN_GROWTH_LINKED);
	assert_true(fabs(r.kib_per_start - 64) <= 0.05 * 64);
	/* A config out of range falls back to the defaults, field by field. */
	{
		struct churn_growth_config bad;

		memset(&bad, 0xff, sizeof(bad));
		bad.min_r2 = NAN;
		bad.min_per_start = -3;
		churn_growth_observe(&tracker_a, &bad, 999999999, 999999, 60 * MIB);
	}
}

/* Months of storm: the tracker stays the same size and the link holds the whole time. */
static void test_long_storm(void **state)
{
	struct churn_growth_result r;
	uint64_t starts = 0;
	double v = 50 * MIB;

	(void)state;
	rng_state = SEED;
	churn_growth_init(&tracker_a, 600000);
	/* 10 minutes of pre-window, then a start every 10 s for 4 days, sampled every 10 s. */
	for (int64_t t = 0; t <= 4 * 86400; t += 10) {
		if (t >= 600) {
			starts++;
			v += 16;
		}
		assert_int_not_equal(churn_growth_observe(&tracker_a, NULL, t * 1000, starts,
							  v + rng_range(-32, 32)),
				     CHURN_GROWTH_LINK_ENDED);
		assert_true(tracker_a.n_storm <= CHURN_GROWTH_STORM_SAMPLES);
		assert_true(tracker_a.n_pre <= CHURN_GROWTH_PRE_SAMPLES);
	}
	churn_growth_result(&tracker_a, &r);
	print_message("  4 days: %s b=%.3f starts=%llu growth=%.0f indep=%.6f samples=%u\n",
		      churn_growth_verdict_name(r.verdict), r.kib_per_start,
		      (unsigned long long)r.starts, r.growth_kib, r.independence, r.samples);
	assert_int_equal(r.verdict, CHURN_GROWTH_LINKED);
	assert_true(fabs(r.kib_per_start - 16) <= 0.05 * 16);
	assert_true(r.independence < 0.02); /* the pre-window is far behind: kept, not found */
	assert_true(r.starts >= 34500);
	assert_true(sizeof(struct churn_growth) <= 4400);
}

/* An hour of history replayed before the storm: the last ten minutes kept, evenly. */
static void test_pre_window_bounded(void **state)
{
	(void)state;
	churn_growth_init(&tracker_a, 3600000);
	for (int64_t t = 0; t < 3600; t++)
		churn_growth_observe(&tracker_a, NULL, t * 1000, 7, 100 * MIB);
	assert_true(tracker_a.n_pre <= CHURN_GROWTH_PRE_SAMPLES);
	assert_true(tracker_a.n_pre >= CHURN_GROWTH_PRE_SAMPLES / 2);
	assert_true(tracker_a.pre[0].t_ms >= 3000000);
	assert_true(tracker_a.pre[tracker_a.n_pre - 1].t_ms - tracker_a.pre[0].t_ms >= 500000);
	assert_int_equal(tracker_a.n_storm, 0);
	for (uint32_t i = 1; i < tracker_a.n_pre; i++)
		assert_true(tracker_a.pre[i].t_ms > tracker_a.pre[i - 1].t_ms);
}

static void test_names(void **state)
{
	struct churn_growth_config c;
	struct churn_growth_result r;

	(void)state;
	churn_growth_config_default(&c);
	assert_true(c.min_per_start == 1.0);
	assert_true(c.min_r2 == 0.9);
	assert_int_equal(c.min_starts, 20);
	assert_string_equal(churn_growth_reason_name(CHURN_GROWTH_COLLINEAR), "collinear");
	assert_string_equal(churn_growth_reason_name((enum churn_growth_reason)99), "unknown");
	assert_string_equal(churn_growth_verdict_name(CHURN_GROWTH_AMBIGUOUS), "ambiguous");
	assert_string_equal(churn_growth_pick_name(CHURN_GROWTH_PICK_BOTH), "both");
	/* A fresh tracker: nothing known, nothing invented. */
	churn_growth_init(&tracker_a, 0);
	churn_growth_result(&tracker_a, &r);
	assert_int_equal(r.verdict, CHURN_GROWTH_NOT_LINKED);
	assert_string_equal(churn_growth_reason_name(r.reason), "few-samples");
	assert_true(isnan(r.kib_per_start) && isnan(r.r2) && isnan(r.growth_kib));
	assert_int_equal(r.samples, 0);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_wandering_neighbour),
		cmocka_unit_test(test_sawtooth_neighbour),
		cmocka_unit_test(test_storm_ended),
		cmocka_unit_test(test_hostile_input),
		cmocka_unit_test(test_long_storm),
		cmocka_unit_test(test_pre_window_bounded),
		cmocka_unit_test(test_names),
	};
	struct CMUnitTest timelines[ARRAY_SIZE(cases)], picks[ARRAY_SIZE(pick_cases)];
	int failed;

	/* One test per case, named after it; cmocka_run_group_tests() needs a fixed array. */
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		timelines[i] = (struct CMUnitTest){ .name = cases[i].name,
						    .test_func = test_timeline,
						    .initial_state = (void *)&cases[i] };
	for (size_t i = 0; i < ARRAY_SIZE(pick_cases); i++)
		picks[i] = (struct CMUnitTest){ .name = pick_cases[i].name,
						.test_func = test_pick,
						.initial_state = (void *)&pick_cases[i] };
	failed = _cmocka_run_group_tests("churn_growth_timelines", timelines,
					 ARRAY_SIZE(timelines), NULL, NULL);
	failed += _cmocka_run_group_tests("churn_growth_two_storms", picks, ARRAY_SIZE(picks), NULL,
					  NULL);
	failed += cmocka_run_group_tests(fixed, NULL, NULL);
	return failed ? 1 : 0;
}
