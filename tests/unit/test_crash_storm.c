// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * crash_storm on synthetic timelines: a unit's cumulative crash exits,
 * sampled every second (or at another pace), one crash every period_ms
 * between from_ms and to_ms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crash_storm.h"

#define T0_MS 1700000000000LL
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct crash_case {
	const char *name;
	int64_t period_ms;        /* one crash every period_ms */
	int64_t from_ms, to_ms;   /* when crashes happen */
	int64_t duration_ms;
	int64_t sample_ms;        /* 0: 1000 */
	uint64_t baseline;        /* crashes counted before tracking began */
	int started, ended;       /* transitions, exactly */
	int64_t flag_by_ms;       /* STARTED at or before this; 0: no check */
	int64_t end_at_ms;        /* ENDED exactly then; 0: no check */
};

static const struct crash_case cases[] = {
	{ .name = "workers segfault twice a second: storm within 3 s", .period_ms = 500,
	  .from_ms = 0, .to_ms = 20000, .duration_ms = 30000, .started = 1, .ended = 0,
	  .flag_by_ms = 3000 },
	{ .name = "one crash a minute is no storm", .period_ms = 60000, .from_ms = 0,
	  .to_ms = 600000, .duration_ms = 600000, .started = 0, .ended = 0 },
	{ .name = "four crashes in a window: not yet", .period_ms = 10000, .from_ms = 0,
	  .to_ms = 35000, .duration_ms = 120000, .started = 0, .ended = 0 },
	{ .name = "the fifth crash within a minute starts it", .period_ms = 10000, .from_ms = 0,
	  .to_ms = 45000, .duration_ms = 60000, .started = 1, .ended = 0, .flag_by_ms = 41000 },
	{ .name = "a storm ends after a quiet minute, once", .period_ms = 200, .from_ms = 0,
	  .to_ms = 10000, .duration_ms = 200000, .started = 1, .ended = 1,
	  .end_at_ms = 70000 },
	{ .name = "sparse samples still see the storm", .period_ms = 500, .from_ms = 0,
	  .to_ms = 30000, .duration_ms = 40000, .sample_ms = 7000, .started = 1, .ended = 0,
	  .flag_by_ms = 7000 },
	{ .name = "history before tracking is not this window's", .period_ms = 600000,
	  .from_ms = 0, .to_ms = 1, .duration_ms = 120000, .baseline = 1000, .started = 0,
	  .ended = 0 },
};

static uint64_t crashes_at(const struct crash_case *c, int64_t t)
{
	int64_t end = t < c->to_ms ? t : c->to_ms - 1;

	if (t < c->from_ms)
		return c->baseline;
	return c->baseline + (uint64_t)((end - c->from_ms) / c->period_ms) + 1;
}

static void test_timeline(void **state)
{
	const struct crash_case *c = *state;
	struct crash_storm_config cfg;
	struct crash_storm_track t;
	int64_t step = c->sample_ms ? c->sample_ms : 1000;
	int started = 0, ended = 0;
	int64_t started_at = -1, ended_at = -1;

	crash_storm_config_default(&cfg);
	crash_storm_track_init(&t, c->baseline);
	for (int64_t ms = step; ms <= c->duration_ms; ms += step) {
		enum crash_storm_transition tr =
			crash_storm_track_observe(&t, &cfg, T0_MS + ms, crashes_at(c, ms));

		if (tr == CRASH_STORM_STARTED) {
			started++;
			if (started_at < 0)
				started_at = ms;
		} else if (tr == CRASH_STORM_ENDED) {
			ended++;
			ended_at = ms;
		}
	}
	assert_int_equal(started, c->started);
	assert_int_equal(ended, c->ended);
	if (c->flag_by_ms)
		assert_true(started_at >= 0 && started_at <= c->flag_by_ms);
	if (c->end_at_ms)
		assert_int_equal(ended_at, c->end_at_ms);
}

/* A count that goes back (kernel rows retired and made again) never starts a storm by itself. */
static void test_count_going_back(void **state)
{
	struct crash_storm_config cfg;
	struct crash_storm_track t;

	(void)state;
	crash_storm_config_default(&cfg);
	crash_storm_track_init(&t, 0);
	assert_int_equal(crash_storm_track_observe(&t, &cfg, T0_MS + 1000, 3), CRASH_STORM_NO_CHANGE);
	assert_int_equal(crash_storm_track_observe(&t, &cfg, T0_MS + 2000, 1), CRASH_STORM_NO_CHANGE);
	assert_int_equal(crash_storm_window_crashes(&t, &cfg, T0_MS + 2000), 3);
	/* 1 -> 3: two more, five in the window. */
	assert_int_equal(crash_storm_track_observe(&t, &cfg, T0_MS + 3000, 3), CRASH_STORM_STARTED);
	assert_int_equal(crash_storm_window_crashes(&t, &cfg, T0_MS + 3000), 5);
	assert_int_equal(t.since_ms, T0_MS + 3000);
}

int main(void)
{
	static struct CMUnitTest tests[ARRAY_SIZE(cases) + 1];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		tests[n++] = (struct CMUnitTest){ .name = cases[i].name, .test_func = test_timeline,
						  .initial_state = (void *)&cases[i] };
	tests[n++] = (struct CMUnitTest){ .name = "a count going back re-baselines",
					  .test_func = test_count_going_back };
	return cmocka_run_group_tests_name("crash_storm", tests, NULL, NULL);
}
