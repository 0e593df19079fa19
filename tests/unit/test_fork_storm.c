// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fork_storm on synthetic timelines. A small simulator runs one unit in
 * 10 ms steps through phases (forks, execs and failed forks per second, the
 * population moving at so many tasks per second between 1 and pids.max),
 * keeps the cumulative counters the way the kernel does and samples them
 * every second like the real sampler, or at another pace.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fork_storm.h"

#define T0_MS 1700000000000LL /* unix ms at which every timeline starts */
#define STEP_MS 10
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct phase {
	int64_t from_ms, to_ms; /* to_ms 0: unused */
	double forks_per_s, execs_per_s, failed_per_s;
	double pids_per_s;      /* net change of the population */
};

struct sim_case {
	const char *name;
	struct phase phase[3];
	double pids_base;        /* population at 0; 0: unknown throughout */
	int64_t pids_max;        /* -1: "max" or unknown */
	int64_t duration_ms;
	int64_t sample_ms;       /* 0: 1000; -1: irregular, 100 ms to 3 s */
	int started, ended;      /* transitions seen, exactly */
	int64_t flag_from_ms, flag_by_ms; /* STARTED in [from, by]; by 0: no check */
	int64_t end_at_ms;       /* ENDED exactly then; 0: no check */
	uint32_t reasons;        /* figures' reasons at the end, exactly */
};

/* The kernel side of one unit: counters and population. */
struct sim {
	const struct sim_case *c;
	int64_t t_ms;
	double forks, execs, failed, pids;
};

static void sim_advance(struct sim *sim, int64_t to_ms)
{
	const struct sim_case *c = sim->c;

	for (; sim->t_ms < to_ms; sim->t_ms += STEP_MS) {
		for (size_t i = 0; i < ARRAY_SIZE(c->phase); i++) {
			const struct phase *p = &c->phase[i];

			if (!p->to_ms || sim->t_ms < p->from_ms || sim->t_ms >= p->to_ms)
				continue;
			sim->forks += p->forks_per_s * STEP_MS / 1000.0;
			sim->execs += p->execs_per_s * STEP_MS / 1000.0;
			sim->failed += p->failed_per_s * STEP_MS / 1000.0;
			sim->pids += p->pids_per_s * STEP_MS / 1000.0;
			if (sim->pids < 1)
				sim->pids = 1;
			if (c->pids_max > 0 && sim->pids > (double)c->pids_max)
				sim->pids = (double)c->pids_max;
		}
	}
}

static void sim_sample(const struct sim *sim, struct fork_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->now_ms = T0_MS + sim->t_ms;
	/* + 1e-6: 0.1 added 10 times must make 1, not 0.9999. */
	s->forks = (uint64_t)(sim->forks + 1e-6);
	s->execs = (uint64_t)(sim->execs + 1e-6);
	s->forks_failed = (uint64_t)(sim->failed + 1e-6);
	s->pids_current = sim->c->pids_base > 0 ? (int64_t)(sim->pids + 1e-6) : -1;
	s->pids_max = sim->c->pids_max;
}

static int64_t next_gap_ms(const struct sim_case *c, uint32_t *seed)
{
	if (c->sample_ms > 0)
		return c->sample_ms;
	if (c->sample_ms == 0)
		return 1000;
	*seed = *seed * 1103515245u + 12345u;
	return 100 + (int64_t)((*seed >> 8) % 2901);
}

static const struct sim_case sim_cases[] = {
	{
		.name = "fork_bomb_1000_per_s_population_unknown",
		.phase = { { .from_ms = 500, .to_ms = 60000, .forks_per_s = 1000 } },
		.pids_max = -1,
		.duration_ms = 60000,
		.started = 1,
		/* at the third fast interval: 2.5 s after its first fork */
		.flag_from_ms = 3000,
		.flag_by_ms = 3000,
		.reasons = FORK_STORM_RUNAWAY,
	},
	{
		/* `:(){ :|:& };:` without a limit: each process makes two and exits. */
		.name = "fork_bomb_1000_per_s_population_growing",
		.phase = { { .from_ms = 500, .to_ms = 60000, .forks_per_s = 1000,
			     .pids_per_s = 500 } },
		.pids_base = 3,
		.pids_max = -1,
		.duration_ms = 60000,
		.started = 1,
		.flag_from_ms = 3000,
		.flag_by_ms = 3000,
		.reasons = FORK_STORM_RUNAWAY,
	},
	{
		.name = "fork_bomb_1000_per_s_sampled_every_250ms",
		.phase = { { .from_ms = 500, .to_ms = 60000, .forks_per_s = 1000,
			     .pids_per_s = 500 } },
		.pids_base = 3,
		.pids_max = 4915,
		.duration_ms = 60000,
		.sample_ms = 250,
		.started = 1,
		.flag_from_ms = 2000,
		.flag_by_ms = 2500,
		.reasons = FORK_STORM_RUNAWAY,
	},
	{
		/* One sample every 5 s: three intervals take 15 s. */
		.name = "fork_bomb_1000_per_s_sampled_every_5s",
		.phase = { { .from_ms = 500, .to_ms = 60000, .forks_per_s = 1000 } },
		.pids_max = -1,
		.duration_ms = 60000,
		.sample_ms = 5000,
		.started = 1,
		.flag_from_ms = 15000,
		.flag_by_ms = 15000,
		.reasons = FORK_STORM_RUNAWAY,
	},
	{
		.name = "fork_bomb_1000_per_s_sampled_irregularly",
		.phase = { { .from_ms = 500, .to_ms = 60000, .forks_per_s = 1000,
			     .pids_per_s = 500 } },
		.pids_base = 3,
		.pids_max = -1,
		.duration_ms = 60000,
		.sample_ms = -1,
		.started = 1,
		/* three intervals of up to 3 s each */
		.flag_from_ms = 1500,
		.flag_by_ms = 9500,
		.reasons = FORK_STORM_RUNAWAY,
	},
	{
		/*
		 * A slow bomb at 60/s: its first half second is too slow to count, the
		 * next 200 forks take 3.3 s.
		 */
		.name = "slow_fork_bomb_60_per_s",
		.phase = { { .from_ms = 500, .to_ms = 60000, .forks_per_s = 60,
			     .pids_per_s = 30 } },
		.pids_base = 3,
		.pids_max = -1,
		.duration_ms = 60000,
		.started = 1,
		.flag_from_ms = 5000,
		.flag_by_ms = 5000,
		.reasons = FORK_STORM_RUNAWAY,
	},
	{
		/* A bomb caught by pids.max 32: forks as fast as its processes die, most fail. */
		.name = "bounded_fork_storm_pids_max_32",
		.phase = { { .from_ms = 500, .to_ms = 60000, .forks_per_s = 300,
			     .failed_per_s = 200, .pids_per_s = 1000 } },
		.pids_base = 1,
		.pids_max = 32,
		.duration_ms = 60000,
		.started = 1,
		/* 10 failures come at 0.55 s */
		.flag_from_ms = 1000,
		.flag_by_ms = 1000,
		.reasons = FORK_STORM_RUNAWAY | FORK_STORM_AT_LIMIT,
	},
	{
		/* Pinned at pids.max, every fork failing, none succeeding. */
		.name = "failing_forks_at_limit_only",
		.phase = { { .from_ms = 500, .to_ms = 60000, .failed_per_s = 20 } },
		.pids_base = 100,
		.pids_max = 100,
		.duration_ms = 60000,
		.started = 1,
		.flag_from_ms = 1000,
		.flag_by_ms = 1000,
		.reasons = FORK_STORM_AT_LIMIT,
	},
	{
		.name = "failing_forks_population_unknown",
		.phase = { { .from_ms = 500, .to_ms = 60000, .failed_per_s = 5 } },
		.pids_max = -1,
		.duration_ms = 60000,
		.started = 1,
		/* the 10th failure comes at 2.5 s */
		.flag_from_ms = 3000,
		.flag_by_ms = 3000,
		.reasons = FORK_STORM_AT_LIMIT,
	},
	{
		/* Forks fail because a bomb next door used up pid_max: a victim, not a storm. */
		.name = "failing_forks_far_below_own_limit",
		.phase = { { .from_ms = 500, .to_ms = 60000, .forks_per_s = 2,
			     .failed_per_s = 5 } },
		.pids_base = 30,
		.pids_max = 4915,
		.duration_ms = 60000,
	},
	{
		/* At its limit but failing once in a while only: 5 in a window. */
		.name = "rare_failures_at_limit",
		.phase = { { .from_ms = 500, .to_ms = 120000, .failed_per_s = 0.5 } },
		.pids_base = 64,
		.pids_max = 64,
		.duration_ms = 120000,
	},
	{
		.name = "build_100_fork_exec_per_s",
		.phase = { { .from_ms = 500, .to_ms = 120000, .forks_per_s = 100,
			     .execs_per_s = 110 } },
		.pids_base = 20,
		.pids_max = -1,
		.duration_ms = 120000,
	},
	{
		.name = "build_100_fork_exec_per_s_population_unknown",
		.phase = { { .from_ms = 500, .to_ms = 120000, .forks_per_s = 100,
			     .execs_per_s = 100 } },
		.pids_max = -1,
		.duration_ms = 120000,
	},
	{
		/* A supervisor starting 50 processes a second, each exec'ing: it grows. */
		.name = "supervisor_50_per_s_each_exec",
		.phase = { { .from_ms = 500, .to_ms = 20500, .forks_per_s = 50, .execs_per_s = 50,
			     .pids_per_s = 50 } },
		.pids_base = 1,
		.pids_max = -1,
		.duration_ms = 60000,
	},
	{
		/* Half of its forks are subshells that do not exec: still 50% execs. */
		.name = "shell_build_half_subshells",
		.phase = { { .from_ms = 500, .to_ms = 120000, .forks_per_s = 200,
			     .execs_per_s = 100 } },
		.pids_max = -1,
		.duration_ms = 120000,
	},
	{
		.name = "daemon_forking_1_per_s_without_exec",
		.phase = { { .from_ms = 500, .to_ms = 300000, .forks_per_s = 1 } },
		.pids_base = 5,
		.pids_max = -1,
		.duration_ms = 300000,
	},
	{
		.name = "daemon_forking_1_per_s_population_unknown",
		.phase = { { .from_ms = 500, .to_ms = 300000, .forks_per_s = 1 } },
		.pids_max = -1,
		.duration_ms = 300000,
	},
	{
		/* A pre-forking server starting 300 workers in 0.2 s: one burst, not a storm. */
		.name = "prefork_server_starts_300_workers",
		.phase = { { .from_ms = 900, .to_ms = 1100, .forks_per_s = 1500,
			     .pids_per_s = 1500 } },
		.pids_base = 1,
		.pids_max = -1,
		.duration_ms = 60000,
	},
	{
		.name = "prefork_server_starts_300_workers_population_unknown",
		.phase = { { .from_ms = 900, .to_ms = 1100, .forks_per_s = 1500 } },
		.pids_max = -1,
		.duration_ms = 60000,
	},
	{
		/* A process per connection, no exec (postgres): churn, population steady. */
		.name = "connection_churn_200_per_s_steady_population",
		.phase = { { .from_ms = 500, .to_ms = 120000, .forks_per_s = 200 } },
		.pids_base = 40,
		.pids_max = 4915,
		.duration_ms = 120000,
	},
	{
		/* The same churn with no population to tell: the rate is all there is. */
		.name = "connection_churn_200_per_s_population_unknown_is_flagged",
		.phase = { { .from_ms = 500, .to_ms = 120000, .forks_per_s = 200 } },
		.pids_max = -1,
		.duration_ms = 120000,
		.started = 1,
		.flag_from_ms = 3000,
		.flag_by_ms = 3000,
		.reasons = FORK_STORM_RUNAWAY,
	},
	{
		/*
		 * The window still holds 200 forks at 30 s (20 s to 30 s: 500), not
		 * at 31 s: the last sign is at 30 s, the end 30 s later.
		 */
		.name = "fork_bomb_then_quiet_ends_once",
		.phase = { { .from_ms = 500, .to_ms = 20500, .forks_per_s = 1000 } },
		.pids_max = -1,
		.duration_ms = 180000,
		.started = 1,
		.ended = 1,
		.flag_from_ms = 3000,
		.flag_by_ms = 3000,
		.end_at_ms = 60000,
		.reasons = FORK_STORM_RUNAWAY,
	},
	{
		/*
		 * Caught by pids.max 32 and killed at 20.5 s. The population stays at
		 * the limit until then, failures stay in the window until 30 s.
		 */
		.name = "bounded_fork_storm_killed_ends_once",
		.phase = { { .from_ms = 500, .to_ms = 20500, .forks_per_s = 300,
			     .failed_per_s = 200, .pids_per_s = 1000 },
			   { .from_ms = 20500, .to_ms = 21000, .pids_per_s = -1000 } },
		.pids_base = 1,
		.pids_max = 32,
		.duration_ms = 180000,
		.started = 1,
		.ended = 1,
		.flag_from_ms = 1000,
		.flag_by_ms = 1000,
		.end_at_ms = 60000,
		.reasons = FORK_STORM_RUNAWAY | FORK_STORM_AT_LIMIT,
	},
	{
		/* Contained, then left sitting at the limit: the storm is not over. */
		.name = "bounded_fork_storm_left_at_limit_goes_on",
		.phase = { { .from_ms = 500, .to_ms = 20500, .forks_per_s = 300,
			     .failed_per_s = 200, .pids_per_s = 1000 } },
		.pids_base = 1,
		.pids_max = 32,
		.duration_ms = 180000,
		.started = 1,
		.flag_from_ms = 1000,
		.flag_by_ms = 1000,
		.reasons = FORK_STORM_RUNAWAY | FORK_STORM_AT_LIMIT,
	},
	{
		/* Two bombs 100 s apart: two storms, each ended once. */
		.name = "two_fork_bombs_two_storms",
		.phase = { { .from_ms = 500, .to_ms = 10500, .forks_per_s = 1000 },
			   { .from_ms = 100500, .to_ms = 110500, .forks_per_s = 1000 } },
		.pids_max = -1,
		.duration_ms = 200000,
		.started = 2,
		.ended = 2,
		.flag_from_ms = 3000,
		.flag_by_ms = 3000,
		.end_at_ms = 150000,
		.reasons = FORK_STORM_RUNAWAY,
	},
};

static void test_timeline(void **state)
{
	const struct sim_case *c = *state;
	struct sim sim = { .c = c, .pids = c->pids_base > 0 ? c->pids_base : 1 };
	struct fork_storm_config cfg;
	struct fork_storm_track t;
	struct fork_storm_figures f;
	struct fork_sample s;
	int64_t first_flag = -1, last_end = -1;
	int started = 0, ended = 0;
	uint32_t seed = 42;

	fork_storm_config_default(&cfg);
	sim_sample(&sim, &s);
	fork_storm_track_init(&t, &s);
	for (int64_t now = next_gap_ms(c, &seed); now <= c->duration_ms;
	     now += next_gap_ms(c, &seed)) {
		enum fork_storm_transition tr;

		sim_advance(&sim, now);
		sim_sample(&sim, &s);
		tr = fork_storm_track_observe(&t, &cfg, &s);
		if (tr == FORK_STORM_STARTED) {
			started++;
			if (first_flag < 0)
				first_flag = now;
			assert_int_equal(ended, started - 1);
		} else if (tr == FORK_STORM_ENDED) {
			ended++;
			last_end = now;
			assert_int_equal(ended, started);
		}
		fork_storm_track_figures(&t, &f);
		assert_int_equal(f.storm, started > ended);
		/* No figure ever wraps: at most what the sim made in a window and a step. */
		assert_true(f.window_forks <= sim.forks + 1);
		assert_true(f.window_span_ms <= 10000);
	}
	assert_int_equal(started, c->started);
	assert_int_equal(ended, c->ended);
	if (c->flag_by_ms) {
		assert_in_range(first_flag, c->flag_from_ms, c->flag_by_ms);
	}
	if (c->end_at_ms)
		assert_int_equal(last_end, c->end_at_ms);
	fork_storm_track_figures(&t, &f);
	assert_int_equal(f.reasons, c->reasons);
	if (c->started)
		assert_true(f.storm_since_ms >= T0_MS + c->flag_from_ms);
	else
		assert_int_equal(f.storm_since_ms, 0);
}

/* What the figures say 15 s into a storm, sampled every second. */
struct figures_case {
	const char *name;
	struct phase phase;
	double pids_base;
	int64_t pids_max;
	uint64_t window_forks, window_execs, window_failed;
	double fork_rate, exec_rate;
	int64_t pids_current;
	int64_t storm_since_ms;
};

static const struct figures_case figures_cases[] = {
	{
		.name = "figures_fork_bomb",
		.phase = { .from_ms = 0, .to_ms = 100000, .forks_per_s = 1000 },
		.pids_max = -1,
		.window_forks = 10000,
		.fork_rate = 1000,
		.pids_current = -1,
		.storm_since_ms = 3000,
	},
	{
		.name = "figures_bounded_storm_pids_max_32",
		.phase = { .from_ms = 0, .to_ms = 100000, .forks_per_s = 300, .execs_per_s = 10,
			   .failed_per_s = 200, .pids_per_s = 1000 },
		.pids_base = 1,
		.pids_max = 32,
		.window_forks = 3000,
		.window_execs = 100,
		.window_failed = 2000,
		.fork_rate = 300,
		.exec_rate = 10,
		.pids_current = 32,
		.storm_since_ms = 1000,
	},
};

static void test_figures(void **state)
{
	const struct figures_case *fc = *state;
	struct sim_case c = { .phase = { fc->phase }, .pids_base = fc->pids_base,
			      .pids_max = fc->pids_max };
	struct sim sim = { .c = &c, .pids = fc->pids_base > 0 ? fc->pids_base : 1 };
	struct fork_storm_config cfg;
	struct fork_storm_track t;
	struct fork_storm_figures f;
	struct fork_sample s;

	fork_storm_config_default(&cfg);
	sim_sample(&sim, &s);
	fork_storm_track_init(&t, &s);
	for (int64_t now = 1000; now <= 15000; now += 1000) {
		sim_advance(&sim, now);
		sim_sample(&sim, &s);
		fork_storm_track_observe(&t, &cfg, &s);
	}
	fork_storm_track_figures(&t, &f);
	assert_int_equal(f.storm, 1);
	assert_int_equal(f.window_span_ms, 10000);
	assert_int_equal(f.window_forks, fc->window_forks);
	assert_int_equal(f.window_execs, fc->window_execs);
	assert_int_equal(f.window_failed, fc->window_failed);
	assert_true(fabs(f.fork_rate_per_s - fc->fork_rate) < 1e-9);
	assert_true(fabs(f.exec_rate_per_s - fc->exec_rate) < 1e-9);
	assert_int_equal(f.pids_current, fc->pids_current);
	assert_int_equal(f.pids_max, fc->pids_max);
	assert_int_equal(f.storm_since_ms, T0_MS + fc->storm_since_ms);
}

/* Feeds s with now_ms = T0 + at_ms, returns the transition. */
static enum fork_storm_transition feed(struct fork_storm_track *t,
				       const struct fork_storm_config *cfg, int64_t at_ms,
				       uint64_t forks, uint64_t execs, uint64_t failed)
{
	struct fork_sample s = { .now_ms = T0_MS + at_ms, .forks = forks, .execs = execs,
				 .forks_failed = failed, .pids_current = -1, .pids_max = -1 };

	return fork_storm_track_observe(t, cfg, &s);
}

/* The kernel entry is made again: its counters restart from 0 (or from anything lower). */
static void test_counters_back_daemon(void **state)
{
	struct fork_storm_config cfg;
	struct fork_storm_track t;
	struct fork_storm_figures f;
	struct fork_sample base = { .now_ms = T0_MS, .forks = 5000000, .execs = 4000000,
				    .forks_failed = 300, .pids_current = -1, .pids_max = -1 };
	uint64_t forks = base.forks;

	(void)state;
	fork_storm_config_default(&cfg);
	fork_storm_track_init(&t, &base);
	for (int64_t at = 1000; at <= 60000; at += 1000) {
		/* 1 fork a second; at 20 s the counters drop to 0 and start again. */
		forks = at == 20000 ? 0 : forks + 1;
		assert_int_equal(feed(&t, &cfg, at, forks, at >= 20000 ? 0 : 4000000,
				      at >= 20000 ? 0 : 300),
				 FORK_STORM_NO_CHANGE);
		fork_storm_track_figures(&t, &f);
		/*
		 * The second before the drop is lost, the rest of the window stays,
		 * until that second leaves the window at 30 s.
		 */
		if (at < 10000)
			assert_int_equal(f.window_forks, at / 1000);
		else
			assert_int_equal(f.window_forks, at >= 20000 && at < 30000 ? 9 : 10);
		assert_int_equal(f.window_execs, 0);
		assert_int_equal(f.window_failed, 0);
		assert_true(f.fork_rate_per_s >= 0 && f.fork_rate_per_s <= 1.0);
	}
}

/* A drop in the middle of a storm neither ends it nor starts another. */
static void test_counters_back_mid_storm(void **state)
{
	struct fork_storm_config cfg;
	struct fork_storm_track t;
	struct fork_storm_figures f;
	struct fork_sample base = { .now_ms = T0_MS, .pids_current = -1, .pids_max = -1 };
	uint64_t forks = 0;
	int started = 0, ended = 0;

	(void)state;
	fork_storm_config_default(&cfg);
	fork_storm_track_init(&t, &base);
	for (int64_t at = 1000; at <= 30000; at += 1000) {
		enum fork_storm_transition tr;

		forks = at == 10000 ? 500 : forks + 1000;
		tr = feed(&t, &cfg, at, forks, 0, 0);
		started += tr == FORK_STORM_STARTED;
		ended += tr == FORK_STORM_ENDED;
		fork_storm_track_figures(&t, &f);
		assert_true(f.window_forks <= 10000);
		/* 0 s to 10 s, the second before the drop lost */
		if (at == 10000)
			assert_int_equal(f.window_forks, 9000);
	}
	assert_int_equal(started, 1);
	assert_int_equal(ended, 0);
	assert_int_equal(f.window_forks, 10000);
	assert_int_equal(t.storm_since_ms, T0_MS + 3000);
}

/* Only one counter goes back: all re-baseline, none wraps to 2^64. */
static void test_counters_back_one_counter(void **state)
{
	struct fork_storm_config cfg;
	struct fork_storm_track t;
	struct fork_storm_figures f;
	struct fork_sample base = { .now_ms = T0_MS, .forks = 100, .execs = 100,
				    .forks_failed = 50, .pids_current = -1, .pids_max = -1 };

	(void)state;
	fork_storm_config_default(&cfg);
	fork_storm_track_init(&t, &base);
	assert_int_equal(feed(&t, &cfg, 1000, 101, 101, 50), FORK_STORM_NO_CHANGE);
	assert_int_equal(feed(&t, &cfg, 2000, 102, 102, 3), FORK_STORM_NO_CHANGE);
	assert_int_equal(feed(&t, &cfg, 3000, 103, 103, 4), FORK_STORM_NO_CHANGE);
	fork_storm_track_figures(&t, &f);
	assert_int_equal(f.window_forks, 2);
	assert_int_equal(f.window_execs, 2);
	assert_int_equal(f.window_failed, 1);
}

/*
 * The wall clock steps back 1 h in a storm: the history shifts, the storm
 * neither ends nor starts again, and the figures stay exact.
 */
static void test_clock_back(void **state)
{
	struct fork_storm_config cfg;
	struct fork_storm_track t;
	struct fork_storm_figures f;
	struct fork_sample base = { .now_ms = T0_MS, .pids_current = -1, .pids_max = -1 };
	int64_t shift = 0;
	int started = 0, ended = 0;

	(void)state;
	fork_storm_config_default(&cfg);
	fork_storm_track_init(&t, &base);
	for (int64_t at = 1000; at <= 60000; at += 1000) {
		enum fork_storm_transition tr;

		if (at == 10000)
			shift = -3600000;
		tr = feed(&t, &cfg, at + shift, (uint64_t)at, 0, 0);
		started += tr == FORK_STORM_STARTED;
		ended += tr == FORK_STORM_ENDED;
		fork_storm_track_figures(&t, &f);
		assert_in_range(f.window_span_ms, 0, 10000);
		/* 1000/s all along: the step back was taken as one more second */
		assert_true(f.fork_rate_per_s >= 0 && f.fork_rate_per_s <= 1000.0 + 1e-9);
		assert_in_range(f.window_forks, 0, 10000);
	}
	assert_int_equal(started, 1);
	assert_int_equal(ended, 0);
	assert_int_equal(f.window_forks, 10000);
	assert_int_equal(f.window_span_ms, 10000);
	assert_true(f.fork_rate_per_s == 1000.0);
}

/* Sampled every 10 ms for a minute: the ring still reaches back a whole window. */
static void test_fast_sampling_keeps_window(void **state)
{
	struct fork_storm_config cfg;
	struct fork_storm_track t;
	struct fork_storm_figures f;
	struct fork_sample base = { .now_ms = T0_MS, .pids_current = -1, .pids_max = -1 };

	(void)state;
	fork_storm_config_default(&cfg);
	fork_storm_track_init(&t, &base);
	for (int64_t at = 10; at <= 60000; at += 10)
		assert_int_equal(feed(&t, &cfg, at, (uint64_t)(at / 1000), 0, 0),
				 FORK_STORM_NO_CHANGE);
	fork_storm_track_figures(&t, &f);
	assert_in_range(f.window_span_ms, 9000, 10000);
	assert_in_range(f.window_forks, 9, 10);
	assert_true(sizeof(t) <= 800);
}

/* Before any sample but the baseline: nothing, and no division by zero. */
static void test_figures_before_samples(void **state)
{
	struct fork_storm_track t;
	struct fork_storm_figures f;
	struct fork_sample base = { .now_ms = T0_MS, .forks = 7, .pids_current = 12,
				    .pids_max = 100 };

	(void)state;
	fork_storm_track_init(&t, &base);
	fork_storm_track_figures(&t, &f);
	assert_int_equal(f.storm, 0);
	assert_int_equal(f.window_forks, 0);
	assert_int_equal(f.window_span_ms, 0);
	assert_true(f.fork_rate_per_s == 0.0 && f.exec_rate_per_s == 0.0);
	assert_int_equal(f.pids_current, 12);
	assert_int_equal(f.pids_max, 100);
	assert_int_equal(f.reasons, 0);
}

static void test_config_defaults(void **state)
{
	struct fork_storm_config c;

	(void)state;
	memset(&c, 0xff, sizeof(c));
	fork_storm_config_default(&c);
	assert_int_equal(c.window_ms, 10000);
	assert_int_equal(c.min_forks, 200);
	assert_true(c.min_fork_rate_per_s == 50.0);
	assert_int_equal(c.sustain_ms, 1500);
	assert_true(c.max_exec_share == 0.1);
	assert_int_equal(c.min_pids_growth, 50);
	assert_true(c.near_limit_ratio == 0.9);
	assert_int_equal(c.min_failed, 10);
	assert_int_equal(c.quiet_ms, 30000);
}

#define N_TESTS (ARRAY_SIZE(sim_cases) + ARRAY_SIZE(figures_cases) + 7)

int main(void)
{
	static struct CMUnitTest tests[N_TESTS];
	size_t n = 0;

#define ADD_ROWS(table, fn)                                                                   \
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)                                        \
	tests[n++] = (struct CMUnitTest){ .name = table[i].name, .test_func = fn,             \
					  .initial_state = (void *)&table[i] }
#define ADD(label, fn) tests[n++] = (struct CMUnitTest){ .name = label, .test_func = fn }

	ADD_ROWS(sim_cases, test_timeline);
	ADD_ROWS(figures_cases, test_figures);
	ADD("counters back: daemon, drop to 0 re-baselines", test_counters_back_daemon);
	ADD("counters back: mid-storm drop keeps the storm", test_counters_back_mid_storm);
	ADD("counters back: one counter lower re-baselines all", test_counters_back_one_counter);
	ADD("clock back 1 h in a storm", test_clock_back);
	ADD("10 ms sampling keeps a whole window", test_fast_sampling_keeps_window);
	ADD("figures before any sample", test_figures_before_samples);
	ADD("config defaults as documented", test_config_defaults);
	if (n != N_TESTS) {
		fprintf(stderr, "test table miscounted: %zu of %zu\n", n, (size_t)N_TESTS);
		return 1;
	}
	return cmocka_run_group_tests_name("fork_storm", tests, NULL, NULL);
}
