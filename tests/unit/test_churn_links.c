// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * churn_links: the histories, pairs and attribution around churn_growth, on
 * synthetic samples of a machine: a minute of calm, then storms.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "churn_links.h"

struct seen {
	int started[8], ended[8], ongoing[8];
	double per_start[8];
	char storm[8][64];
	const char *const *names;
	int n_names;
	int other; /* links of names not in the list */
};

static void on_link(void *ctx, const struct churn_link_event *e)
{
	struct seen *s = ctx;

	for (int i = 0; i < s->n_names; i++) {
		if (strcmp(e->growing, s->names[i]) != 0)
			continue;
		if (e->ongoing) {
			s->ongoing[i]++;
		} else if (e->started) {
			s->started[i]++;
			s->per_start[i] = e->res.kib_per_start;
			snprintf(s->storm[i], sizeof(s->storm[i]), "%s", e->storm_unit);
		} else {
			s->ended[i]++;
		}
		return;
	}
	s->other++;
}

/* Deterministic noise in [-1, 1]. */
static double noise(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return ((*x >> 8) & 0xffff) / 32767.5 - 1.0;
}

enum { SUP, STEADY, LEAKER, SLAB, LOGGER, DYING };
static const char *const names[] = { "supervisor.service", "steady.service", "leaker.service",
				     "kernel:slab",	   "logger.service", "kernel:dying_cgroups" };

/*
 * 60 s of calm, then crashloop.service restarts every 250 ms (and, with
 * two_storms, chatty.service every 400 ms from 70 s) until 200 s; samples
 * every second until 260 s. supervisor pays 64 KiB per crashloop start, the
 * logger 2 KiB per chatty start, one cgroup dies per crashloop start; steady
 * is flat, the leaker grows 256 KiB/s from the start.
 */
static void run_machine(struct seen *s, int two_storms, int storm_unit_new, int stairs)
{
	struct churn_links *c = churn_links__new();
	uint32_t x = 7;
	uint64_t crash_starts = 1, chatty_starts = 1, last_starts = 1;
	double pending = 0, shown = 0, batch = 128;

	assert_non_null(c);
	s->names = names;
	s->n_names = 6;
	for (int64_t t = 1000; t <= 260000; t += 1000) {
		struct churn_storm storms[2];
		uint32_t n = 0;

		if (t > 60000 && t <= 200000)
			crash_starts += 4;
		if (two_storms && t > 70000 && t <= 200000 && t % 2000 == 0)
			chatty_starts += 5;
		/* A unit systemd starts for the first time with the storm is seen only from then. */
		if (!storm_unit_new || t > (storm_unit_new == 2 ? 62000 : 60000))
			churn_links__record(c, "crashloop.service", t, 0, crash_starts, 0, 0);
		churn_links__record(c, "chatty.service", t, 0, chatty_starts, 0, 0);
		/*
		 * stairs: the kernel's batched counter: what a CPU adds reaches the
		 * shared count only past 32 pages, each CPU at its own moment.
		 */
		if (stairs) {
			pending += 64.0 * (double)(crash_starts - last_starts);
			last_starts = crash_starts;
			if (pending >= batch) {
				shown += pending;
				pending = 0;
				batch = 64 + 128 * (noise(&x) + 1); /* 64 .. 320 KiB */
			}
		}
		churn_links__record(c, names[SUP], t,
				    stairs ? 10000 + shown : 10000 + 64.0 * (crash_starts - 1) + 8 * noise(&x),
				    1, 0, 1);
		churn_links__record(c, names[STEADY], t, 50000 + 32 * noise(&x), 1, 0, 1);
		churn_links__record(c, names[LEAKER], t, 20000 + 0.256 * t + 16 * noise(&x), 1, 0, 1);
		churn_links__record(c, names[SLAB], t, 100000 + 64 * noise(&x), 0, 0, 1);
		churn_links__record(c, names[LOGGER], t, 30000 + 2.0 * (chatty_starts - 1) + 4 * noise(&x),
				    1, 0, 1);
		churn_links__record(c, names[DYING], t, (double)(crash_starts - 1) + 3, 0, 0, 1);
		/* Flagged 3 s after each storm began, as the detector would. */
		if (t >= 63000 && t <= 230000 && crash_starts > 1)
			storms[n++] = (struct churn_storm){ "crashloop.service", crash_starts, 63000 };
		if (two_storms && t >= 73000 && t <= 230000)
			storms[n++] = (struct churn_storm){ "chatty.service", chatty_starts, 73000 };
		churn_links__observe(c, t, storms, n, on_link, s);
	}
	churn_links__free(c);
}

/* One storm: the supervisor and the dying cgroups are linked, with their cost; the rest never. */
static void test_one_storm(void **state)
{
	struct seen s = { 0 };

	(void)state;
	run_machine(&s, 0, 0, 0);
	assert_int_equal(s.started[SUP], 1);
	assert_string_equal(s.storm[SUP], "crashloop.service");
	assert_true(fabs(s.per_start[SUP] - 64.0) < 64.0 * 0.05);
	assert_int_equal(s.started[DYING], 1);
	assert_true(fabs(s.per_start[DYING] - 1.0) < 0.05);
	assert_true(s.ongoing[SUP] > 10);
	/* Ended once: the storm ended (at 230 s), or the growth stopped (at 200 s). */
	assert_int_equal(s.ended[SUP], 1);
	assert_int_equal(s.started[STEADY] + s.started[LEAKER] + s.started[SLAB] + s.started[LOGGER], 0);
	assert_int_equal(s.other, 0);
}

/* Two storms with different rhythms: each grower is linked to its own storm only. */
static void test_two_storms(void **state)
{
	struct seen s = { 0 };

	(void)state;
	run_machine(&s, 1, 0, 0);
	assert_int_equal(s.started[SUP], 1);
	assert_string_equal(s.storm[SUP], "crashloop.service");
	assert_true(fabs(s.per_start[SUP] - 64.0) < 64.0 * 0.05);
	assert_int_equal(s.started[LOGGER], 1);
	assert_string_equal(s.storm[LOGGER], "chatty.service");
	assert_true(fabs(s.per_start[LOGGER] - 2.0) < 2.0 * 0.2);
	assert_int_equal(s.started[STEADY] + s.started[LEAKER] + s.started[SLAB], 0);
}

/* The storm unit appears with its storm (no history before it): its pre-window is flat, still linked. */
static void test_storm_unit_new(void **state)
{
	struct seen s = { 0 };

	(void)state;
	run_machine(&s, 0, 1, 0);
	assert_int_equal(s.started[SUP], 1);
	assert_true(fabs(s.per_start[SUP] - 64.0) < 64.0 * 0.05);
	assert_int_equal(s.started[STEADY] + s.started[LEAKER] + s.started[SLAB] + s.started[LOGGER], 0);
}

/* The storm unit first seen in the very sample its storm is flagged (no point of it yet): the same. */
static void test_storm_unit_seen_at_flag(void **state)
{
	struct seen s = { 0 };

	(void)state;
	run_machine(&s, 0, 2, 0);
	assert_int_equal(s.started[SUP], 1);
	/* Its first interval's starts look as if they came before it: a little low at the link. */
	assert_true(fabs(s.per_start[SUP] - 64.0) < 64.0 * 0.1);
	assert_int_equal(s.started[STEADY] + s.started[LEAKER] + s.started[SLAB] + s.started[LOGGER], 0);
}

/* A figure seen in steps (a batched counter): linked once, not said and unsaid at every step. */
static void test_stairs(void **state)
{
	struct seen s = { 0 };

	(void)state;
	run_machine(&s, 0, 0, 1);
	assert_int_equal(s.started[SUP], 1);
	assert_int_equal(s.ended[SUP], 1);
	assert_true(fabs(s.per_start[SUP] - 64.0) < 64.0 * 0.1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_storm),
		cmocka_unit_test(test_two_storms),
		cmocka_unit_test(test_storm_unit_new),
		cmocka_unit_test(test_stairs),
		cmocka_unit_test(test_storm_unit_seen_at_flag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
