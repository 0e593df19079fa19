// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "fork_storm.h"

#define DEFAULT_WINDOW_MS 10000
/* Below this the ring's points would be closer than 1 ms apart. */
#define MIN_WINDOW_MS 100
/* Longer windows are clamped so that now - window cannot overflow for any sane clock. */
#define MAX_WINDOW_MS (366LL * 24 * 3600 * 1000)

void fork_storm_config_default(struct fork_storm_config *c)
{
	memset(c, 0, sizeof(*c));
	c->window_ms = DEFAULT_WINDOW_MS;
	c->min_forks = 200;
	c->min_fork_rate_per_s = 50;
	c->sustain_ms = 1500;
	c->min_intervals = 3;
	c->max_exec_share = 0.1;
	c->min_pids_growth = 50;
	c->near_limit_ratio = 0.9;
	c->min_failed = 10;
	c->quiet_ms = 30000;
}

/* a - b, saturated: sample times come from the caller and may be anything. */
static int64_t time_sub(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static int64_t time_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b < 0 ? INT64_MIN : INT64_MAX;
	return r;
}

static uint64_t add_sat64(uint64_t a, uint64_t b)
{
	return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

static int64_t config_window(const struct fork_storm_config *c)
{
	if (c->window_ms <= 0)
		return DEFAULT_WINDOW_MS;
	if (c->window_ms < MIN_WINDOW_MS)
		return MIN_WINDOW_MS;
	return c->window_ms < MAX_WINDOW_MS ? c->window_ms : MAX_WINDOW_MS;
}

/* k = 0 is the newest point, k = 1 the one before it, ... (k < n_points). */
static uint32_t point_index(const struct fork_storm_track *t, uint32_t k)
{
	return (t->head + FORK_STORM_RING - k) % FORK_STORM_RING;
}

static const struct fork_storm_point *point(const struct fork_storm_track *t, uint32_t k)
{
	return &t->ring[point_index(t, k)];
}

void fork_storm_track_init(struct fork_storm_track *t, const struct fork_sample *baseline)
{
	memset(t, 0, sizeof(*t));
	t->last = *baseline;
	t->ring[0].now_ms = baseline->now_ms;
	t->ring[0].pids_current = baseline->pids_current;
	t->n_points = 1;
	t->window_ms = DEFAULT_WINDOW_MS;
}

/* What the last window shows. */
struct window {
	uint64_t forks, execs, failed;
	int64_t span_ms;
	int64_t pids_min, pids_max_seen; /* of the points inside; -1: none known */
	/* The sustained run: the newest intervals that each forked at the minimum rate. */
	uint64_t run_forks, run_execs;
	int64_t run_ms;
	uint32_t run_intervals; /* of some duration */
};

static int interval_fast(uint64_t forks, int64_t dur_ms, const struct fork_storm_config *c)
{
	/* Two samples at the same time: no rate to judge; it neither makes nor breaks a run. */
	if (dur_ms <= 0)
		return 1;
	return (double)forks * 1000.0 >= c->min_fork_rate_per_s * (double)dur_ms;
}

static void window_sum(const struct fork_storm_track *t, const struct fork_storm_config *c,
		       struct window *w)
{
	const struct fork_storm_point *newest = point(t, 0), *start = newest;
	int64_t from = time_sub(newest->now_ms, t->window_ms);
	int in_run = c != NULL; /* figures need no run */

	memset(w, 0, sizeof(*w));
	w->pids_min = w->pids_max_seen = -1;
	for (uint32_t k = 0; k < t->n_points; k++) {
		const struct fork_storm_point *p = point(t, k), *q;

		if (p->now_ms < from) {
			if (!in_run)
				break;
		} else {
			start = p;
		}
		if (p->now_ms >= from && p->pids_current >= 0) {
			if (w->pids_min < 0 || p->pids_current < w->pids_min)
				w->pids_min = p->pids_current;
			if (p->pids_current > w->pids_max_seen)
				w->pids_max_seen = p->pids_current;
		}
		if (!in_run || k + 1 >= t->n_points)
			continue;
		q = point(t, k + 1);
		/* Not bounded by the window: at 5 s sampling three intervals span 15 s. */
		if (!interval_fast(p->forks - q->forks, time_sub(p->now_ms, q->now_ms), c)) {
			in_run = 0;
			continue;
		}
		w->run_forks += p->forks - q->forks;
		w->run_execs += p->execs - q->execs;
		if (p->now_ms > q->now_ms) {
			w->run_ms = time_add(w->run_ms, time_sub(p->now_ms, q->now_ms));
			w->run_intervals++;
		}
	}
	w->forks = newest->forks - start->forks;
	w->execs = newest->execs - start->execs;
	w->failed = newest->failed - start->failed;
	w->span_ms = time_sub(newest->now_ms, start->now_ms);
}

static int execs_few(uint64_t forks, uint64_t execs, const struct fork_storm_config *c)
{
	return (double)execs <= c->max_exec_share * (double)forks;
}

static int near_limit(int64_t pids, int64_t pids_max, const struct fork_storm_config *c)
{
	return pids >= 0 && pids_max > 0 && (double)pids >= c->near_limit_ratio * (double)pids_max;
}

static uint32_t storm_reasons(const struct fork_storm_track *t, const struct window *w,
			      const struct fork_storm_config *c)
{
	int64_t pids = point(t, 0)->pids_current, pids_max = t->last.pids_max;
	uint64_t min_forks = c->min_forks ? c->min_forks : 1;
	uint64_t min_failed = c->min_failed ? c->min_failed : 1;
	uint32_t reasons = 0;

	if (w->run_ms >= c->sustain_ms && w->run_intervals >= c->min_intervals &&
	    w->run_forks >= min_forks && execs_few(w->run_forks, w->run_execs, c)) {
		/* Population known: it must show a fork bomb's harm, not mere churn. */
		if (pids < 0 || w->failed > 0 || near_limit(pids, pids_max, c) ||
		    (w->pids_min >= 0 && pids - w->pids_min >= c->min_pids_growth))
			reasons |= FORK_STORM_RUNAWAY;
	}
	if (w->failed >= min_failed) {
		/* Known to be well below its own limit: another unit exhausted something. */
		int below = pids_max > 0 && w->pids_max_seen >= 0 &&
			    !near_limit(w->pids_max_seen, pids_max, c);

		if (!below)
			reasons |= FORK_STORM_AT_LIMIT;
	}
	return reasons;
}

/* What keeps a storm going: looser than what starts one. */
static int storm_signs(const struct fork_storm_track *t, const struct window *w,
		       const struct fork_storm_config *c)
{
	uint64_t min_forks = c->min_forks ? c->min_forks : 1;

	return (w->forks >= min_forks && execs_few(w->forks, w->execs, c)) || w->failed > 0 ||
	       near_limit(point(t, 0)->pids_current, t->last.pids_max, c);
}

/* Adds the sample as the newest point, or moves the newest point to it. */
static void add_point(struct fork_storm_track *t, const struct fork_storm_point *p)
{
	int64_t step = t->window_ms / (FORK_STORM_RING - 4);

	if (t->n_points >= 2 && time_sub(point(t, 0)->now_ms, point(t, 1)->now_ms) < step) {
		t->ring[t->head] = *p;
		return;
	}
	t->head = (uint8_t)((t->head + 1) % FORK_STORM_RING);
	t->ring[t->head] = *p;
	if (t->n_points < FORK_STORM_RING)
		t->n_points++;
}

enum fork_storm_transition fork_storm_track_observe(struct fork_storm_track *t,
						    const struct fork_storm_config *c,
						    const struct fork_sample *s)
{
	struct fork_storm_point p = *point(t, 0);
	int64_t back = time_sub(s->now_ms, p.now_ms), now = s->now_ms;
	uint32_t reasons;
	struct window w;
	int signs;

	t->window_ms = config_window(c);
	/*
	 * The kernel never lowers a counter; a lower one means its entry was
	 * deleted and made again. What happened between the two samples is
	 * lost: take this sample as the new baseline and keep the history. The
	 * points hold counters of their own that only ever grow.
	 */
	if (s->forks >= t->last.forks && s->execs >= t->last.execs &&
	    s->forks_failed >= t->last.forks_failed) {
		p.forks = add_sat64(p.forks, s->forks - t->last.forks);
		p.execs = add_sat64(p.execs, s->execs - t->last.execs);
		p.failed = add_sat64(p.failed, s->forks_failed - t->last.forks_failed);
	}
	if (back < 0) {
		/*
		 * The clock went back: shift the history so that it ends one
		 * interval (as long as the one before) before now. The sampler's
		 * pace is a better guess of the time that passed than none.
		 */
		if (t->n_points >= 2)
			back = time_sub(back, time_sub(point(t, 0)->now_ms, point(t, 1)->now_ms));
		for (uint32_t k = 0; k < t->n_points; k++) {
			struct fork_storm_point *q = &t->ring[point_index(t, k)];

			q->now_ms = time_add(q->now_ms, back);
		}
		if (t->signs_ms)
			t->signs_ms = time_add(t->signs_ms, back);
	}
	p.now_ms = now;
	p.pids_current = s->pids_current >= 0 ? s->pids_current : -1;
	t->last = *s;
	add_point(t, &p);

	window_sum(t, c, &w);
	reasons = storm_reasons(t, &w, c);
	signs = reasons || (t->storm && storm_signs(t, &w, c));
	if (signs)
		t->signs_ms = now;
	if (t->storm) {
		t->reasons |= reasons;
		if (signs || time_sub(now, t->signs_ms) < c->quiet_ms)
			return FORK_STORM_NO_CHANGE;
		t->storm = 0;
		return FORK_STORM_ENDED;
	}
	if (!reasons)
		return FORK_STORM_NO_CHANGE;
	t->storm = 1;
	t->storm_since_ms = now;
	t->reasons = reasons;
	return FORK_STORM_STARTED;
}

void fork_storm_track_figures(const struct fork_storm_track *t, struct fork_storm_figures *ret)
{
	struct window w;

	window_sum(t, NULL, &w);
	memset(ret, 0, sizeof(*ret));
	ret->storm = t->storm;
	ret->window_forks = w.forks;
	ret->window_execs = w.execs;
	ret->window_failed = w.failed;
	ret->window_span_ms = w.span_ms;
	if (w.span_ms > 0) {
		ret->fork_rate_per_s = (double)w.forks * 1000.0 / (double)w.span_ms;
		ret->exec_rate_per_s = (double)w.execs * 1000.0 / (double)w.span_ms;
	}
	if (t->n_points >= 2) {
		const struct fork_storm_point *a = point(t, 1), *b = point(t, 0);

		if (b->now_ms > a->now_ms && b->forks >= a->forks)
			ret->recent_fork_rate_per_s =
				(double)(b->forks - a->forks) * 1000.0 / (double)(b->now_ms - a->now_ms);
	}
	ret->storm_since_ms = t->storm_since_ms;
	ret->pids_current = point(t, 0)->pids_current;
	ret->pids_max = t->last.pids_max >= 0 ? t->last.pids_max : -1;
	ret->reasons = t->reasons;
}
