// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * respawn_detector on synthetic timelines. A small simulator makes the
 * starts and exits of one or two loops (period, jitter, bursts, lifetime,
 * exit code), keeps the cumulative counters the way the kernel does (gaps in
 * ns, squared gaps in whole ms, lifetimes in us) and samples them every
 * second like the real sampler, or at an irregular 0.1 s to 10 s pace.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "respawn_detector.h"

#define T0_MS 1700000000000LL /* unix ms at which every timeline starts */
#define NS_PER_MS 1000000LL
#define WINDOW_MS 300000
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct sim_loop {
	uint32_t burst;       /* starts per cycle; 0: loop not used */
	int64_t first_ms;     /* first cycle */
	int64_t period_ms;    /* from one cycle to the next; 0: one cycle only */
	int64_t jitter_ms;    /* each cycle moves by up to +-jitter */
	int64_t burst_gap_ms; /* between the starts of one cycle */
	int64_t life_ms;      /* how long each process lives; -1: it never exits */
	int exit_code;
	uint32_t fail_every;  /* every nth process exits 1 instead; 0: none */
	int64_t until_ms;     /* no cycle after this; 0: to the end */
};

struct sim_case {
	const char *name;
	struct sim_loop loop[2];
	int64_t duration_ms;
	int irregular;                    /* samples 0.1 s to 10 s apart, not every second */
	uint32_t final_cls;
	int started;                      /* RESPAWN_STORM_STARTED seen, exactly */
	int ended;                        /* RESPAWN_STORM_ENDED seen, exactly */
	int64_t flag_from_ms, flag_by_ms; /* first storm flagged in [from, by]; by 0: no check */
	int64_t quiet_ms;                 /* last ENDED this long after the last start, +1 s */
	int64_t periodic_from_ms;         /* periodic at every sample from then on; 0: no check */
	double period_ms;                 /* true period the window figures show, 5%; 0: no check */
};

static struct sim_case sim_cases[] = {
	{
		/* agetty without a serial port: exit 1, restarted every 10 s. */
		.name = "storm_10s_exit1",
		.loop = { { .burst = 1, .first_ms = 500, .period_ms = 10000, .jitter_ms = 50,
			    .life_ms = 30, .exit_code = 1 } },
		.duration_ms = 600000,
		.final_cls = RESPAWN_STORM,
		.started = 1,
		/* the 5th start comes at 40.5 s: min_starts, and no sooner */
		.flag_from_ms = 40000,
		.flag_by_ms = 50000,
		.period_ms = 10000,
	},
	{
		.name = "storm_10s_exit1_irregular_sampling",
		.loop = { { .burst = 1, .first_ms = 500, .period_ms = 10000, .jitter_ms = 50,
			    .life_ms = 30, .exit_code = 1 } },
		.duration_ms = 600000,
		.irregular = 1,
		.final_cls = RESPAWN_STORM,
		.started = 1,
		.flag_from_ms = 40000,
		.flag_by_ms = 60000,
		.period_ms = 10000,
	},
	{
		.name = "storm_100ms_exit1",
		.loop = { { .burst = 1, .first_ms = 200, .period_ms = 100, .jitter_ms = 5,
			    .life_ms = 5, .exit_code = 1 } },
		.duration_ms = 60000,
		.final_cls = RESPAWN_STORM,
		.started = 1,
		.flag_by_ms = 3000,
		.period_ms = 100,
	},
	{
		.name = "storm_100ms_exit0_living_5ms",
		.loop = { { .burst = 1, .first_ms = 200, .period_ms = 100, .jitter_ms = 5,
			    .life_ms = 5, .exit_code = 0 } },
		.duration_ms = 60000,
		.final_cls = RESPAWN_STORM,
		.started = 1,
		.flag_by_ms = 3000,
		.period_ms = 100,
	},
	{
		/* Restart=always under a start limit: 5 quick failures, a 10 s pause, again. */
		.name = "storm_start_limit_bursts",
		.loop = { { .burst = 5, .first_ms = 500, .period_ms = 10400, .burst_gap_ms = 100,
			    .life_ms = 30, .exit_code = 1 } },
		.duration_ms = 300000,
		.final_cls = RESPAWN_STORM,
		.started = 1,
		.flag_by_ms = 12000,
	},
	{
		/*
		 * 5 quick failures, then a 40 s pause: longer than 3 x the mean gap
		 * (8 s). The first pause is longer than anything seen before it, so
		 * it ends the storm once; from then on the gaps' stdev covers it.
		 */
		.name = "storm_start_limit_long_pause",
		.loop = { { .burst = 5, .first_ms = 500, .period_ms = 40400, .burst_gap_ms = 100,
			    .life_ms = 30, .exit_code = 1 } },
		.duration_ms = 600000,
		.final_cls = RESPAWN_STORM,
		.started = 2,
		.ended = 1,
		.flag_by_ms = 2000,
	},
	{
		/* Flagged as a 100 ms loop; ends after 3 x the 25 s it slowed down to. */
		.name = "storm_fast_then_slow",
		.loop = { { .burst = 1, .first_ms = 200, .period_ms = 100, .life_ms = 5,
			    .exit_code = 1, .until_ms = 10000 },
			  { .burst = 1, .first_ms = 20000, .period_ms = 25000, .life_ms = 30,
			    .exit_code = 1, .until_ms = 400000 } },
		.duration_ms = 600000,
		.final_cls = RESPAWN_NORMAL,
		.started = 1,
		.ended = 1,
		.flag_by_ms = 3000,
		.quiet_ms = 75000,
	},
	{
		/* Exits 0 mostly: one run in 4 failing does not make a loop failing. */
		.name = "periodic_10s_some_failures",
		.loop = { { .burst = 1, .first_ms = 500, .period_ms = 10000, .jitter_ms = 50,
			    .life_ms = 30, .fail_every = 4 } },
		.duration_ms = 600000,
		.final_cls = RESPAWN_PERIODIC,
		.periodic_from_ms = 60000,
		.period_ms = 10000,
	},
	{
		.name = "periodic_cron_1min",
		.loop = { { .burst = 1, .first_ms = 1500, .period_ms = 60000, .jitter_ms = 1000,
			    .life_ms = 2000, .exit_code = 0 } },
		.duration_ms = 1800000,
		.final_cls = RESPAWN_PERIODIC,
		.periodic_from_ms = 300000,
		.period_ms = 60000,
	},
	{
		/* One gap per window: judged on its whole history once it has 3 gaps. */
		.name = "periodic_cron_5min",
		.loop = { { .burst = 1, .first_ms = 2500, .period_ms = 300000, .jitter_ms = 2000,
			    .life_ms = 2000, .exit_code = 0 } },
		.duration_ms = 3500000,
		.final_cls = RESPAWN_PERIODIC,
		.periodic_from_ms = 960000,
		.period_ms = 300000,
	},
	{
		/* A schedule that stopped 15 min ago is no longer one. */
		.name = "normal_cron_stopped",
		.loop = { { .burst = 1, .first_ms = 1500, .period_ms = 60000, .jitter_ms = 1000,
			    .life_ms = 2000, .exit_code = 0, .until_ms = 600000 } },
		.duration_ms = 1500000,
		.final_cls = RESPAWN_NORMAL,
	},
	{
		/* On a schedule but failing every run: failing again and again is a storm. */
		.name = "storm_cron_1min_failing",
		.loop = { { .burst = 1, .first_ms = 1500, .period_ms = 60000, .jitter_ms = 1000,
			    .life_ms = 2000, .exit_code = 1 } },
		.duration_ms = 600000,
		.final_cls = RESPAWN_STORM,
		.started = 1,
		.flag_from_ms = 240000,
		.flag_by_ms = 250000,
		.period_ms = 60000,
	},
	{
		.name = "normal_crash_then_stable",
		.loop = { { .burst = 1, .first_ms = 1000, .life_ms = 3000, .exit_code = 1 },
			  { .burst = 1, .first_ms = 4100, .life_ms = -1 } },
		.duration_ms = 200000,
		.final_cls = RESPAWN_NORMAL,
	},
	{
		.name = "normal_few_restarts",
		.loop = { { .burst = 1, .first_ms = 500, .period_ms = 60000, .life_ms = 100,
			    .exit_code = 1, .until_ms = 120500 },
			  { .burst = 1, .first_ms = 190000, .life_ms = -1 } },
		.duration_ms = 250000,
		.final_cls = RESPAWN_NORMAL,
	},
	{
		/* 20 workers started 50 ms apart that stay: fast, but not a loop. */
		.name = "normal_worker_pool",
		.loop = { { .burst = 20, .first_ms = 1000, .burst_gap_ms = 50, .life_ms = -1 } },
		.duration_ms = 120000,
		.final_cls = RESPAWN_NORMAL,
	},
	{
		/* ... even when a few of them die young. */
		.name = "normal_worker_pool_two_die",
		.loop = { { .burst = 18, .first_ms = 1000, .burst_gap_ms = 50, .life_ms = -1 },
			  { .burst = 2, .first_ms = 1025, .burst_gap_ms = 50, .life_ms = 5 } },
		.duration_ms = 120000,
		.final_cls = RESPAWN_NORMAL,
	},
	{
		/* make -j4: jobs outlive the gap between two starts, so not a loop. */
		.name = "normal_parallel_jobs",
		.loop = { { .burst = 4, .first_ms = 500, .period_ms = 1000, .burst_gap_ms = 10,
			    .life_ms = 3000, .exit_code = 0 } },
		.duration_ms = 120000,
		.final_cls = RESPAWN_NORMAL,
	},
	{
		/* Flagged at the 5th start, over 30 s (3 x 10 s) after the last one. */
		.name = "storm_10s_then_stops",
		.loop = { { .burst = 1, .first_ms = 500, .period_ms = 10000, .jitter_ms = 20,
			    .life_ms = 30, .exit_code = 1, .until_ms = 110500 } },
		.duration_ms = 400000,
		.final_cls = RESPAWN_NORMAL,
		.started = 1,
		.ended = 1,
		.flag_from_ms = 40000,
		.flag_by_ms = 50000,
		.quiet_ms = 30000,
	},
	{
		/* Ends 60 s (3 x 20 s) after the last start, not after quiet_min_ms. */
		.name = "storm_20s_then_stops",
		.loop = { { .burst = 1, .first_ms = 500, .period_ms = 20000, .jitter_ms = 20,
			    .life_ms = 30, .exit_code = 1, .until_ms = 200500 } },
		.duration_ms = 400000,
		.final_cls = RESPAWN_NORMAL,
		.started = 1,
		.ended = 1,
		.flag_from_ms = 80000,
		.flag_by_ms = 90000,
		.quiet_ms = 60000,
	},
	{
		.name = "normal_idle",
		.duration_ms = 120000,
		.final_cls = RESPAWN_NORMAL,
	},
};

struct sim_proc {
	int64_t start_ns;
	int64_t exit_ns; /* -1: never */
	int failed;
};

#define SIM_MAX_PROCS 4096

struct sim {
	struct sim_proc procs[SIM_MAX_PROCS]; /* by start */
	struct sim_proc exits[SIM_MAX_PROCS]; /* those that exit, by exit */
	size_t n, n_exits, next_start, next_exit;
	int64_t prev_start_ns;
	uint64_t rng;
	struct respawn_sample cum; /* the counters as the kernel keeps them */
};

static uint64_t rng_next(uint64_t *x)
{
	/* xorshift64*: deterministic per case, so a failure replays. */
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ULL;
}

/* Uniform in [lo, hi]. */
static int64_t rng_range(uint64_t *x, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng_next(x) % (uint64_t)(hi - lo + 1));
}

static uint64_t seed_of(const char *name)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ULL;
	return h ? h : 1;
}

static int by_start(const void *a, const void *b)
{
	const struct sim_proc *x = a, *y = b;

	return (x->start_ns > y->start_ns) - (x->start_ns < y->start_ns);
}

static int by_exit(const void *a, const void *b)
{
	const struct sim_proc *x = a, *y = b;

	return (x->exit_ns > y->exit_ns) - (x->exit_ns < y->exit_ns);
}

static void sim_build(struct sim *sim, const struct sim_case *c)
{
	memset(sim, 0, sizeof(*sim));
	sim->rng = seed_of(c->name);
	for (size_t i = 0; i < ARRAY_SIZE(c->loop); i++) {
		const struct sim_loop *l = &c->loop[i];

		for (int64_t k = 0; l->burst; k++) {
			int64_t cycle_ms = l->first_ms + k * l->period_ms, cycle_ns;

			if ((k && !l->period_ms) || cycle_ms > c->duration_ms ||
			    (l->until_ms && cycle_ms > l->until_ms))
				break;
			cycle_ns = cycle_ms * NS_PER_MS;
			if (l->jitter_ms)
				cycle_ns += rng_range(&sim->rng, -l->jitter_ms * NS_PER_MS,
						      l->jitter_ms * NS_PER_MS);
			for (uint32_t b = 0; b < l->burst; b++) {
				struct sim_proc *p;

				assert_in_range(sim->n, 0, SIM_MAX_PROCS - 1);
				p = &sim->procs[sim->n++];
				/* Sub-ms parts, so whole-ms squaring in the kernel is exercised. */
				p->start_ns = cycle_ns + b * l->burst_gap_ms * NS_PER_MS +
					      rng_range(&sim->rng, 0, NS_PER_MS - 1);
				p->exit_ns = -1;
				if (l->life_ms >= 0)
					p->exit_ns = p->start_ns + l->life_ms * NS_PER_MS +
						     rng_range(&sim->rng, 0, NS_PER_MS / 10);
				p->failed = l->exit_code != 0 ||
					    (l->fail_every && sim->n % l->fail_every == 0);
			}
		}
	}
	qsort(sim->procs, sim->n, sizeof(*sim->procs), by_start);
	for (size_t i = 0; i < sim->n; i++)
		if (sim->procs[i].exit_ns >= 0)
			sim->exits[sim->n_exits++] = sim->procs[i];
	qsort(sim->exits, sim->n_exits, sizeof(*sim->exits), by_exit);
}

/* Moves the counters to now_ms (ms since T0), as the exec and exit tracepoints would. */
static void sim_advance(struct sim *sim, int64_t now_ms)
{
	int64_t now_ns = now_ms * NS_PER_MS;
	struct respawn_sample *s = &sim->cum;

	for (; sim->next_start < sim->n && sim->procs[sim->next_start].start_ns <= now_ns;
	     sim->next_start++) {
		int64_t start = sim->procs[sim->next_start].start_ns;

		if (s->starts) {
			uint64_t gap = (uint64_t)(start - sim->prev_start_ns);
			uint64_t gap_ms = gap / NS_PER_MS;

			s->gaps++;
			s->gap_sum_ns += gap;
			s->gap_sumsq_ms2 += gap_ms * gap_ms;
		}
		s->starts++;
		s->last_start_ms = T0_MS + start / NS_PER_MS;
		sim->prev_start_ns = start;
	}
	for (; sim->next_exit < sim->n_exits && sim->exits[sim->next_exit].exit_ns <= now_ns;
	     sim->next_exit++) {
		const struct sim_proc *p = &sim->exits[sim->next_exit];

		s->exits++;
		s->exits_failed += p->failed;
		s->lifetime_sum_us += (uint64_t)(p->exit_ns - p->start_ns) / 1000;
	}
	s->now_ms = T0_MS + now_ms;
}

/* What happened in (from_ms, to_ms], exactly, from the event lists. */
struct sim_window {
	uint64_t starts, exits, failed, gaps;
	double gap_sum_ms, gap_sumsq_ms2, lifetime_sum_ms;
};

static void sim_window(const struct sim *sim, int64_t from_ms, int64_t to_ms, struct sim_window *w)
{
	int64_t from_ns = from_ms * NS_PER_MS, to_ns = to_ms * NS_PER_MS;

	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < sim->n; i++) {
		int64_t t = sim->procs[i].start_ns;

		if (t <= from_ns || t > to_ns)
			continue;
		w->starts++;
		if (i) {
			double gap_ms = (double)(t - sim->procs[i - 1].start_ns) / NS_PER_MS;

			w->gaps++;
			w->gap_sum_ms += gap_ms;
			w->gap_sumsq_ms2 += gap_ms * gap_ms;
		}
	}
	for (size_t i = 0; i < sim->n_exits; i++) {
		const struct sim_proc *p = &sim->exits[i];

		if (p->exit_ns <= from_ns || p->exit_ns > to_ns)
			continue;
		w->exits++;
		w->failed += p->failed;
		w->lifetime_sum_ms += (double)((p->exit_ns - p->start_ns) / 1000) / 1000;
	}
}

/*
 * The median of the slot mean gaps, for samples every second: slots then
 * close at every multiple of window / RESPAWN_TRACK_SLOTS (20 s) from T0.
 */
static double sim_median_period(const struct sim *sim, int64_t from_ms, int64_t to_ms)
{
	double v[RESPAWN_TRACK_SLOTS + 1];
	size_t n = 0;

	for (int64_t b = from_ms; b < to_ms; b += WINDOW_MS / RESPAWN_TRACK_SLOTS) {
		int64_t e = b + WINDOW_MS / RESPAWN_TRACK_SLOTS;
		struct sim_window w;

		sim_window(sim, b, e < to_ms ? e : to_ms, &w);
		if (w.gaps && n < ARRAY_SIZE(v))
			v[n++] = w.gap_sum_ms / w.gaps;
	}
	if (!n)
		return NAN;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double x = v[j];

			v[j] = v[j - 1];
			v[j - 1] = x;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void assert_close(double got, double want, double rel)
{
	if (fabs(got - want) > rel * fabs(want) + 1e-9)
		fail_msg("got %.6f, want %.6f (within %.3f%%)", got, want, rel * 100);
}

static void test_timeline(void **state)
{
	const struct sim_case *c = *state;
	struct respawn_sample base = { .now_ms = T0_MS };
	struct respawn_detector_config cfg;
	int64_t now = 0, last_now = 0, first_started_at = -1, started_at = -1, ended_at = -1;
	int started = 0, ended = 0;
	struct respawn_figures f;
	struct respawn_track t;
	struct sim_window sw;
	static struct sim sim; /* 200 KB: not on the stack */

	respawn_detector_config_default(&cfg);
	sim_build(&sim, c);
	respawn_track_init(&t, &base);
	for (;;) {
		enum respawn_transition what;

		now += c->irregular ? rng_range(&sim.rng, 100, 10000) : 1000;
		if (now > c->duration_ms)
			break;
		sim_advance(&sim, now);
		what = respawn_track_observe(&t, &cfg, &sim.cum);
		if (what == RESPAWN_STORM_STARTED) {
			if (!started++)
				first_started_at = now;
			started_at = now;
			assert_int_equal(t.cls, RESPAWN_STORM);
			assert_true(t.storm_since_ms == T0_MS + now);
		} else if (what == RESPAWN_STORM_ENDED) {
			ended++;
			ended_at = now;
			assert_int_not_equal(t.cls, RESPAWN_STORM);
		} else {
			assert_int_equal(what, RESPAWN_NO_CHANGE);
		}
		if (!c->started && t.cls == RESPAWN_STORM)
			fail_msg("storm at %lld ms", (long long)now);
		if (c->periodic_from_ms && now >= c->periodic_from_ms &&
		    t.cls != RESPAWN_PERIODIC)
			fail_msg("%s at %lld ms, want periodic", respawn_class_name(t.cls),
				 (long long)now);
		last_now = now;
	}

	assert_int_equal(started, c->started);
	assert_int_equal(ended, c->ended);
	if (c->flag_by_ms)
		assert_in_range(first_started_at, c->flag_from_ms, c->flag_by_ms);
	if (c->quiet_ms) {
		int64_t last_start = sim.cum.last_start_ms - T0_MS;

		assert_in_range(ended_at - last_start, c->quiet_ms, c->quiet_ms + 999);
	}
	assert_string_equal(respawn_class_name(t.cls), respawn_class_name(c->final_cls));

	/* The window figures are the events in the span they say they cover, exactly. */
	respawn_track_figures(&t, &f);
	assert_int_equal(f.cls, t.cls);
	/* The last storm's flag time, kept after it ended. */
	assert_true(f.storm_since_ms == (c->started ? T0_MS + started_at : 0));
	if (c->duration_ms > WINDOW_MS + 40000)
		assert_in_range(f.window_span_ms, WINDOW_MS - 2 * WINDOW_MS / RESPAWN_TRACK_SLOTS,
				WINDOW_MS);
	sim_window(&sim, last_now - f.window_span_ms, last_now, &sw);
	assert_int_equal(f.window_starts, sw.starts);
	assert_int_equal(f.window_exits, sw.exits);
	assert_int_equal(f.window_failed, sw.failed);
	if (sw.gaps) {
		double mean = sw.gap_sum_ms / sw.gaps, mean_sq = sw.gap_sumsq_ms2 / sw.gaps;
		double var = mean_sq - mean * mean, got = f.period_stdev_ms * f.period_stdev_ms;

		assert_close(f.period_ms, mean, 1e-4);
		/*
		 * The kernel squares whole ms: the sub-ms parts leave an error of
		 * about mean / sqrt(gaps) ms^2 in the variance; the float sums of
		 * the slots add about 1e-6 of the mean square. Not more.
		 */
		if (fabs(got - var) > 1.5 * mean / sqrt((double)sw.gaps) + 1e-5 * mean_sq + 1)
			fail_msg("stdev %.3f ms, want %.3f", f.period_stdev_ms, sqrt(var));
		if (!c->irregular)
			assert_close(f.median_period_ms,
				     sim_median_period(&sim, last_now - f.window_span_ms, last_now),
				     1e-4);
	} else {
		assert_true(isnan(f.period_ms));
	}
	if (sw.exits) {
		assert_close(f.lifetime_ms, sw.lifetime_sum_ms / sw.exits, 1e-4);
		assert_close(f.fail_ratio, (double)sw.failed / sw.exits, 1e-9);
	} else {
		assert_true(isnan(f.lifetime_ms));
		assert_true(isnan(f.fail_ratio));
	}
	if (c->period_ms) {
		assert_close(f.period_ms, c->period_ms, 0.05);
		assert_close(f.median_period_ms, c->period_ms, 0.05);
		/* Regular loops: at most the jitter (uniform +-j gives a gap stdev of 0.82 j). */
		assert_true(f.period_stdev_ms <= 0.1 * c->period_ms);
	}
}

/* One sample of a made-up loop: n starts and n exits (failed ones of them) in the last second. */
static enum respawn_transition feed(struct respawn_track *t,
				    const struct respawn_detector_config *c,
				    struct respawn_sample *s, int64_t dt_ms, uint64_t n,
				    uint64_t failed)
{
	s->now_ms += dt_ms;
	s->starts += n;
	s->exits += n;
	s->exits_failed += failed;
	s->gaps += n;
	s->gap_sum_ns += n * 500 * NS_PER_MS;
	s->gap_sumsq_ms2 += n * 500 * 500;
	s->lifetime_sum_us += n * 1000;
	if (n)
		s->last_start_ms = s->now_ms;
	return respawn_track_observe(t, c, s);
}

static void assert_figures_sane(const struct respawn_track *t)
{
	struct respawn_figures f;

	respawn_track_figures(t, &f);
	assert_in_range(f.cls, RESPAWN_NORMAL, RESPAWN_STORM);
	assert_true(f.window_span_ms >= 0);
	assert_true(isnan(f.period_ms) || f.period_ms >= 0);
	assert_true(isnan(f.period_stdev_ms) || f.period_stdev_ms >= 0);
	assert_true(isnan(f.median_period_ms) || f.median_period_ms >= 0);
	assert_true(isnan(f.lifetime_ms) || f.lifetime_ms >= 0);
	assert_true(isnan(f.fail_ratio) || (f.fail_ratio >= 0 && f.fail_ratio <= 1));
}

static void test_counters_backwards(void **state)
{
	struct respawn_sample s = { .now_ms = T0_MS };
	struct respawn_detector_config c;
	struct respawn_figures f;
	struct respawn_track t;
	int started = 0;

	(void)state;
	respawn_detector_config_default(&c);
	respawn_track_init(&t, &s);
	for (int i = 0; i < 10; i++)
		started += feed(&t, &c, &s, 1000, 2, 2) == RESPAWN_STORM_STARTED;
	assert_int_equal(started, 1);
	respawn_track_figures(&t, &f);
	assert_int_equal(f.window_starts, 20);

	/* The kernel entry was deleted and made again: every counter restarts low. */
	memset(&s, 0, sizeof(s));
	s.now_ms = T0_MS + 11000;
	s.starts = s.exits = s.exits_failed = 1;
	s.last_start_ms = s.now_ms;
	assert_int_equal(respawn_track_observe(&t, &c, &s), RESPAWN_NO_CHANGE);
	assert_figures_sane(&t);
	respawn_track_figures(&t, &f);
	assert_int_equal(f.window_starts, 20); /* history kept, the lost second not guessed */
	assert_int_equal(f.cls, RESPAWN_STORM);

	/* Counting goes on from the new baseline. */
	assert_int_equal(feed(&t, &c, &s, 1000, 3, 3), RESPAWN_NO_CHANGE);
	respawn_track_figures(&t, &f);
	assert_int_equal(f.window_starts, 23);
	assert_int_equal(f.window_failed, 23);

	/* One counter alone going back re-baselines too. */
	s.gap_sum_ns -= 1;
	s.now_ms += 1000;
	assert_int_equal(respawn_track_observe(&t, &c, &s), RESPAWN_NO_CHANGE);
	assert_figures_sane(&t);
	s.lifetime_sum_us = 0;
	s.now_ms += 1000;
	respawn_track_observe(&t, &c, &s);
	assert_figures_sane(&t);

	/* The clock steps back an hour: no negative figure; the end still comes 30 s after. */
	assert_int_equal(feed(&t, &c, &s, -3600000, 1, 1), RESPAWN_NO_CHANGE);
	assert_figures_sane(&t);
	respawn_track_figures(&t, &f);
	assert_int_equal(f.window_starts, 24);
	for (int i = 1; i <= 40; i++) {
		enum respawn_transition what = feed(&t, &c, &s, 1000, 0, 0);

		assert_figures_sane(&t);
		if (what == RESPAWN_STORM_ENDED) {
			assert_int_equal(i, 30);
			assert_int_equal(t.cls, RESPAWN_NORMAL);
			return;
		}
		assert_int_equal(what, RESPAWN_NO_CHANGE);
	}
	fail_msg("the storm did not end");
}

/*
 * After an end, the storm's starts are still in the window: only a new start
 * may flag another storm, even if the quiet time grows meanwhile.
 */
static void test_storm_needs_new_start(void **state)
{
	struct respawn_sample s = { .now_ms = T0_MS };
	struct respawn_detector_config c, patient;
	struct respawn_track t;
	int i;

	(void)state;
	respawn_detector_config_default(&c);
	patient = c;
	patient.quiet_min_ms = patient.quiet_max_ms = 600000;
	respawn_track_init(&t, &s);
	for (i = 0; i < 5; i++)
		feed(&t, &c, &s, 1000, 2, 2);
	assert_int_equal(t.cls, RESPAWN_STORM);
	for (i = 1; feed(&t, &c, &s, 1000, 0, 0) != RESPAWN_STORM_ENDED; i++)
		assert_in_range(i, 1, 30);
	assert_int_equal(i, 30);
	for (i = 0; i < 10; i++)
		assert_int_equal(feed(&t, &patient, &s, 1000, 0, 0), RESPAWN_NO_CHANGE);
	assert_int_equal(t.cls, RESPAWN_NORMAL);
	/* The loop resumes: a storm again, at once. */
	assert_int_equal(feed(&t, &c, &s, 1000, 1, 1), RESPAWN_STORM_STARTED);
	assert_true(t.storm_since_ms == s.now_ms);
}

/* A loop that stopped before it was first seen is history, not a storm. */
static void test_over_before_seen(void **state)
{
	struct respawn_sample s = { .now_ms = T0_MS };
	struct respawn_detector_config c;
	struct respawn_track t;

	(void)state;
	respawn_detector_config_default(&c);
	respawn_track_init(&t, &s);
	s.now_ms = T0_MS + 60000;
	s.starts = s.exits = s.exits_failed = 6;
	s.gaps = 5;
	s.gap_sum_ns = 5 * 1000 * NS_PER_MS;
	s.gap_sumsq_ms2 = 5 * 1000 * 1000;
	s.last_start_ms = T0_MS + 25000; /* 35 s ago: longer than its 30 s quiet time */
	assert_int_equal(respawn_track_observe(&t, &c, &s), RESPAWN_NO_CHANGE);
	assert_int_equal(t.cls, RESPAWN_NORMAL);
	for (int i = 0; i < 60; i++)
		assert_int_equal(feed(&t, &c, &s, 1000, 0, 0), RESPAWN_NO_CHANGE);
	/* It resumes: a storm at the first new failure. */
	assert_int_equal(feed(&t, &c, &s, 1000, 1, 1), RESPAWN_STORM_STARTED);
}

static void test_hostile_values(void **state)
{
	static const struct respawn_sample samples[] = {
		{ .now_ms = INT64_MAX, .starts = UINT64_MAX, .exits = UINT64_MAX,
		  .exits_failed = UINT64_MAX, .gaps = UINT64_MAX, .gap_sum_ns = UINT64_MAX,
		  .gap_sumsq_ms2 = UINT64_MAX, .lifetime_sum_us = UINT64_MAX,
		  .last_start_ms = INT64_MIN },
		{ .now_ms = INT64_MIN, .starts = 1, .last_start_ms = INT64_MAX },
		{ .now_ms = INT64_MIN + 1, .starts = UINT64_MAX, .exits = 1, .exits_failed = 7,
		  .gaps = 1, .gap_sum_ns = 0, .gap_sumsq_ms2 = UINT64_MAX },
		{ .now_ms = 0 },
		{ .now_ms = INT64_MAX, .starts = UINT64_MAX, .exits = UINT64_MAX,
		  .exits_failed = UINT64_MAX, .gaps = UINT64_MAX, .gap_sum_ns = UINT64_MAX,
		  .gap_sumsq_ms2 = UINT64_MAX, .lifetime_sum_us = UINT64_MAX,
		  .last_start_ms = INT64_MAX },
		{ .now_ms = T0_MS, .starts = 5, .exits = 5, .exits_failed = 5, .gaps = 4,
		  .gap_sum_ns = 4, .last_start_ms = T0_MS },
	};
	struct respawn_detector_config odd = {
		.window_ms = -5,
		.fail_ratio = NAN,
		.periodic_max_cv = -1,
		.quiet_min_ms = INT64_MAX,
		.quiet_max_ms = -1,
	};
	struct respawn_detector_config zero = { 0 }, huge = { 0 }, def;
	const struct respawn_detector_config *configs[] = { &odd, &zero, &huge, &def };

	(void)state;
	respawn_detector_config_default(&def);
	huge = def;
	huge.window_ms = INT64_MAX;
	huge.fast_period_ms = INT64_MAX;
	huge.quiet_max_ms = INT64_MAX;
	for (size_t ci = 0; ci < ARRAY_SIZE(configs); ci++) {
		for (size_t bi = 0; bi < ARRAY_SIZE(samples); bi++) {
			struct respawn_track t;

			respawn_track_init(&t, &samples[bi]);
			assert_figures_sane(&t);
			for (int round = 0; round < 3; round++) {
				for (size_t si = 0; si < ARRAY_SIZE(samples); si++) {
					const struct respawn_sample *s = &samples[si];
					enum respawn_transition what;

					what = respawn_track_observe(&t, configs[ci], s);
					assert_in_range(what, RESPAWN_NO_CHANGE,
							RESPAWN_STORM_ENDED);
					assert_figures_sane(&t);
				}
			}
		}
	}
}

/* Counts from before tracking began are history, not the window's. */
static void test_baseline_not_in_window(void **state)
{
	struct respawn_sample s = {
		.now_ms = T0_MS, .starts = 1000, .exits = 1000, .exits_failed = 1000,
		.gaps = 999, .gap_sum_ns = 999 * 10000 * NS_PER_MS,
		.gap_sumsq_ms2 = 999ULL * 10000 * 10000, .lifetime_sum_us = 1000 * 30000,
		.last_start_ms = T0_MS - 3600000,
	};
	struct respawn_detector_config c;
	struct respawn_figures f;
	struct respawn_track t;

	(void)state;
	respawn_detector_config_default(&c);
	respawn_track_init(&t, &s);
	for (int i = 0; i < 60; i++) {
		s.now_ms += 1000;
		assert_int_equal(respawn_track_observe(&t, &c, &s), RESPAWN_NO_CHANGE);
	}
	respawn_track_figures(&t, &f);
	assert_int_equal(f.window_starts, 0);
	assert_int_equal(f.cls, RESPAWN_NORMAL);

	/* One more failure is one failure, not the 1001st. */
	s.now_ms += 1000;
	s.starts++;
	s.exits++;
	s.exits_failed++;
	s.last_start_ms = s.now_ms - 500;
	assert_int_equal(respawn_track_observe(&t, &c, &s), RESPAWN_NO_CHANGE);
	respawn_track_figures(&t, &f);
	assert_int_equal(f.window_starts, 1);
	assert_int_equal(f.window_failed, 1);
	assert_int_equal(f.cls, RESPAWN_NORMAL);
}

/*
 * Samples far sparser than the window: 5 failures over two hours are not 5
 * failures in 5 minutes.
 */
static void test_sparse_samples_scaled(void **state)
{
	struct respawn_sample s = { .now_ms = T0_MS };
	struct respawn_detector_config c;
	struct respawn_figures f;
	struct respawn_track t;

	(void)state;
	respawn_detector_config_default(&c);
	respawn_track_init(&t, &s);
	s.now_ms += 2 * 3600 * 1000;
	s.starts = s.exits = s.exits_failed = 5;
	s.gaps = 4;
	s.gap_sum_ns = 4ULL * 1800 * 1000 * NS_PER_MS;
	s.last_start_ms = s.now_ms - 1000;
	assert_int_equal(respawn_track_observe(&t, &c, &s), RESPAWN_NO_CHANGE);
	respawn_track_figures(&t, &f);
	assert_int_equal(f.cls, RESPAWN_NORMAL);
	assert_int_equal(f.window_span_ms, WINDOW_MS);
	assert_int_equal(f.window_starts, 0); /* 5 * 300 s / 2 h = 0.2 */
	assert_close(f.period_ms, 1800000, 1e-6);
}

static void test_defaults_and_names(void **state)
{
	struct respawn_detector_config c;

	(void)state;
	memset(&c, 0xff, sizeof(c));
	respawn_detector_config_default(&c);
	assert_int_equal(c.window_ms, 300000);
	assert_int_equal(c.min_starts, 5);
	assert_true(c.fail_ratio == 0.5);
	assert_int_equal(c.fast_period_ms, 2000);
	assert_int_equal(c.fast_min_starts, 10);
	assert_true(c.periodic_max_cv == 0.25);
	assert_int_equal(c.quiet_min_ms, 30000);
	assert_int_equal(c.quiet_max_ms, 600000);
	assert_int_equal(c.periodic_min_gaps, 3);
	assert_string_equal(respawn_class_name(RESPAWN_NORMAL), "normal");
	assert_string_equal(respawn_class_name(RESPAWN_PERIODIC), "periodic");
	assert_string_equal(respawn_class_name(RESPAWN_STORM), "storm");
	assert_string_equal(respawn_class_name(3), "unknown");
	/* Kept for thousands of executables: a few hundred bytes. */
	assert_in_range(sizeof(struct respawn_track), 1, 640);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_counters_backwards),
		cmocka_unit_test(test_storm_needs_new_start),
		cmocka_unit_test(test_over_before_seen),
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_baseline_not_in_window),
		cmocka_unit_test(test_sparse_samples_scaled),
		cmocka_unit_test(test_defaults_and_names),
	};
	struct CMUnitTest timelines[ARRAY_SIZE(sim_cases)];
	int failed;

	/* One test per case, named after it; cmocka_run_group_tests() needs a fixed array. */
	for (size_t i = 0; i < ARRAY_SIZE(sim_cases); i++)
		timelines[i] = (struct CMUnitTest){ .name = sim_cases[i].name,
						    .test_func = test_timeline,
						    .initial_state = &sim_cases[i] };
	failed = _cmocka_run_group_tests("respawn_detector_timelines", timelines,
					 ARRAY_SIZE(timelines), NULL, NULL);
	failed += cmocka_run_group_tests(fixed, NULL, NULL);
	return failed ? 1 : 0;
}
