// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "memory_growth.h"

#define DEFAULT_WINDOW_S 300.0
#define MIN_WINDOW_S 1.0
/* A year and a day: more than any run keeps one window, and far from double's limits. */
#define MAX_WINDOW_S (366.0 * 24 * 3600)
/* The open bucket adds one point to the closed ones. */
#define MAX_POINTS (MEMORY_GROWTH_BUCKETS + 1)

/*
 * The defaults, and why.
 *
 * window_s 300: five minutes at the default 1 s interval fill every bucket
 * with about five samples, enough to damp the noise of a busy unit while a
 * fast leak still shows within minutes. Slow leaks need long windows: see
 * min_growth_kib.
 *
 * min_span_s 30 and min_points 6: fewer than six points let a single step
 * (flat, a bucket half-way up, flat) pass as a line with R^2 near 0.9, and
 * the step test needs a few intervals to tell one large rise from many small
 * ones. With the default window six buckets take 30 s: both bite together.
 *
 * min_r2 0.9: a clean step can never reach it (a step at fraction p of the
 * window explains at most 3p(1-p) <= 0.75 of the variance), nor a sawtooth of
 * two teeth or more (1/k^2 for k teeth), while a leak with sample noise of
 * 20% of its per-sample growth stays above 0.99 once bucketed.
 *
 * min_growth_kib 1024 and min_growth_ratio 0.01: the line must rise by a
 * MiB and by 1% of the unit over the window. Less is what allocator arenas,
 * caches and page faults on file mappings do all the time; a unit mapping and
 * unmapping 256 KiB at random rises and falls by far less over 30 s (about
 * 50 KiB of line). It also decides the slow leak: 2 KiB/s rises 600 KiB in
 * the default 5 minutes, which is not evidence enough on its own, but 7 MiB
 * in an hour, which is; a window of hours catches it.
 *
 * min_slope_kib_s 0.1: about 250 MiB a month. Only bites on windows of a
 * day or more, where min_growth_kib alone would flag 1 MiB a day.
 *
 * max_step_share 0.5: a straight line puts nothing beyond its time share
 * into any interval; noise that still leaves R^2 at 0.9 over a full window
 * moves that by about 0.13 of the range, 4 sigma short of 0.5. A step puts
 * 1 - 2 / (points - 1) >= 0.6 there with the minimum six points. With the
 * default min_r2 a lone step already fails the line test (3p(1-p) above);
 * this one matters when min_r2 is lowered, and in the hysteresis margin. A
 * staircase of four steps or more (a leak in chunks) passes, which is right:
 * it is sustained growth.
 *
 * drop_ratio 0.5: a sawtooth's bucket means fall by most of the range at
 * every tooth; a leak's falls are noise, far below half the range once R^2 is
 * 0.9. One such fall is enough: growth that gives half of itself back is not
 * sustained, whatever the line says.
 */
void memory_growth_config_default(struct memory_growth_config *c)
{
	memset(c, 0, sizeof(*c));
	c->window_s = DEFAULT_WINDOW_S;
	c->min_span_s = 30.0;
	c->min_r2 = 0.9;
	c->min_slope_kib_s = 0.1;
	c->min_growth_kib = 1024.0;
	c->min_growth_ratio = 0.01;
	c->max_step_share = 0.5;
	c->drop_ratio = 0.5;
	c->min_points = 6;
}

const char *memory_growth_verdict_name(enum memory_growth_verdict v)
{
	switch (v) {
	case MEMORY_GROWTH_TOO_SHORT:
		return "too-short";
	case MEMORY_GROWTH_FEW_POINTS:
		return "few-points";
	case MEMORY_GROWTH_NOT_GROWING:
		return "not-growing";
	case MEMORY_GROWTH_SMALL:
		return "small";
	case MEMORY_GROWTH_NOT_LINEAR:
		return "not-linear";
	case MEMORY_GROWTH_STEP:
		return "step";
	case MEMORY_GROWTH_SAWTOOTH:
		return "sawtooth";
	case MEMORY_GROWTH_LEAK:
		return "leak";
	}
	return "unknown";
}

/* v if it is a number within [lo, hi], else def: the config comes from the command line. */
static double pick(double v, double lo, double hi, double def)
{
	return v >= lo && v <= hi ? v : def;
}

/* The config with every field in range; c may be NULL for the defaults. */
static struct memory_growth_config config_sane(const struct memory_growth_config *c)
{
	struct memory_growth_config d, s;

	memory_growth_config_default(&d);
	if (!c)
		return d;
	/* 0 or garbage: the default; out of range: the nearest bound. */
	s.window_s = pick(c->window_s, 0, HUGE_VAL, 0) > 0 ? c->window_s : d.window_s;
	s.window_s = fmin(fmax(s.window_s, MIN_WINDOW_S), MAX_WINDOW_S);
	s.min_span_s = pick(c->min_span_s, 0, MAX_WINDOW_S, d.min_span_s);
	s.min_r2 = pick(c->min_r2, 0, 1, d.min_r2);
	s.min_slope_kib_s = pick(c->min_slope_kib_s, 0, HUGE_VAL, d.min_slope_kib_s);
	s.min_growth_kib = pick(c->min_growth_kib, 0, HUGE_VAL, d.min_growth_kib);
	s.min_growth_ratio = pick(c->min_growth_ratio, 0, HUGE_VAL, d.min_growth_ratio);
	s.max_step_share = pick(c->max_step_share, 0, HUGE_VAL, d.max_step_share);
	s.drop_ratio = pick(c->drop_ratio, 0, HUGE_VAL, d.drop_ratio);
	s.min_points = c->min_points < 3 ? 3 : c->min_points;
	if (s.min_points > MAX_POINTS)
		s.min_points = MAX_POINTS;
	return s;
}

void memory_growth_init(struct memory_growth *g)
{
	memset(g, 0, sizeof(*g));
	g->last_t_s = NAN;
	g->last_kib = NAN;
}

void memory_growth_freeze(struct memory_growth *g)
{
	if (g->open_samples)
		g->frozen = 1;
}

/* x as a float no higher (float_down) or no lower (float_up): min and max stay bounds. */
static float float_down(double x)
{
	float f = (float)x;

	return (double)f > x ? nextafterf(f, -HUGE_VALF) : f;
}

static float float_up(double x)
{
	float f = (float)x;

	return (double)f < x ? nextafterf(f, HUGE_VALF) : f;
}

static void open_bucket(struct memory_growth *g, double t_s, double rel_kib)
{
	g->open_t_first_s = t_s;
	g->open_t_sum = 0;
	g->open_kib_sum = rel_kib;
	g->open_min_kib = float_down(rel_kib);
	g->open_max_kib = float_up(rel_kib);
	g->open_samples = 1;
}

static void close_bucket(struct memory_growth *g)
{
	struct memory_growth_bucket *b;

	if (g->n_closed)
		g->head = (uint8_t)((g->head + 1) % MEMORY_GROWTH_BUCKETS);
	if (g->n_closed < MEMORY_GROWTH_BUCKETS)
		g->n_closed++;
	b = &g->ring[g->head];
	b->t_first_s = g->open_t_first_s;
	b->t_mean_off = (float)(g->open_t_sum / g->open_samples);
	b->mean_kib = (float)(g->open_kib_sum / g->open_samples);
	b->min_kib = g->open_min_kib;
	b->max_kib = g->open_max_kib;
}

/*
 * One-sided 99.5% quantiles of Student's t by degrees of freedom (n - 2):
 * a slope this many standard errors above 0 is growth, not noise. Between
 * rows the lower row's value is used, which errs towards "not growing".
 */
static double t_quantile_995(int df)
{
	static const struct {
		int df;
		double t;
	} table[] = {
		{ 1, 63.657 }, { 2, 9.925 },  { 3, 5.841 },  { 4, 4.604 },  { 5, 4.032 },
		{ 6, 3.707 },  { 7, 3.499 },  { 8, 3.355 },  { 9, 3.250 },  { 10, 3.169 },
		{ 12, 3.055 }, { 15, 2.947 }, { 20, 2.845 }, { 30, 2.750 }, { 40, 2.704 },
		{ 60, 2.660 },
	};
	double t = table[0].t;

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]) && table[i].df <= df; i++)
		t = table[i].t;
	return t;
}

struct points {
	int n;
	double t[MAX_POINTS];   /* mean time, s relative to the newest sample */
	double v[MAX_POINTS];   /* mean KiB relative to base_kib */
	double lo, hi;          /* lowest and highest sample, relative to base_kib */
	double t_first;         /* first sample of the oldest point, relative */
};

static void add_point(struct points *p, double t_first, double t_mean, double v, double lo,
		      double hi)
{
	if (p->n == 0 || lo < p->lo)
		p->lo = lo;
	if (p->n == 0 || hi > p->hi)
		p->hi = hi;
	if (p->n == 0)
		p->t_first = t_first;
	p->t[p->n] = t_mean;
	p->v[p->n] = v;
	p->n++;
}

/* The buckets that began within the window ending at the newest sample, oldest first. */
static void gather(const struct memory_growth *g, double window_s, struct points *p)
{
	double now = g->last_t_s;

	p->n = 0;
	for (int i = 0; i < g->n_closed; i++) {
		int idx = (g->head - g->n_closed + 1 + i + 2 * MEMORY_GROWTH_BUCKETS) %
			  MEMORY_GROWTH_BUCKETS;
		const struct memory_growth_bucket *b = &g->ring[idx];

		if (b->t_first_s < now - window_s)
			continue;
		add_point(p, b->t_first_s - now, b->t_first_s - now + b->t_mean_off, b->mean_kib,
			  b->min_kib, b->max_kib);
	}
	/* The open bucket holds the newest sample: always in. */
	add_point(p, g->open_t_first_s - now,
		  g->open_t_first_s - now + g->open_t_sum / g->open_samples,
		  g->open_kib_sum / g->open_samples, g->open_min_kib, g->open_max_kib);
}

/*
 * Shape of the rise. step: the largest share of the range that one interval,
 * or two in a row (a step inside a bucket splits over the two intervals
 * around it), carries beyond its share of the time. drops: falls, summed
 * over consecutive falling intervals, of at least drop_ratio of the range.
 */
static void shape(const struct points *p, double drop_ratio, double *ret_step, int *ret_drops)
{
	double lo = p->v[0], hi = p->v[0], range, dur, prev = 0, fall = 0, step = 0;
	int drops = 0;

	for (int i = 1; i < p->n; i++) {
		lo = fmin(lo, p->v[i]);
		hi = fmax(hi, p->v[i]);
	}
	range = hi - lo;
	dur = p->t[p->n - 1] - p->t[0];
	if (range <= 0 || dur <= 0)
		goto out;
	for (int i = 1; i < p->n; i++) {
		double dv = p->v[i] - p->v[i - 1];
		double excess = dv / range - (p->t[i] - p->t[i - 1]) / dur;

		step = fmax(step, excess);
		if (i > 1)
			step = fmax(step, prev + excess);
		prev = excess;
		if (dv < 0)
			fall -= dv;
		if (dv >= 0 || i == p->n - 1) {
			if (fall > 0 && fall >= drop_ratio * range)
				drops++;
			fall = 0;
		}
	}
out:
	*ret_step = step;
	*ret_drops = drops;
}

/*
 * Figures and verdict. A unit flagged at the previous evaluation keeps the
 * flag while its rise stays above KEEP_GROWTH of the thresholds and its R^2
 * within KEEP_R2 of min_r2: a unit right at a threshold (a slow leak whose
 * rise has just reached min_growth_kib, give or take the noise) would
 * otherwise flap, and every flap is a finding for the operator. The relaxed
 * thresholds are implied by the strict ones, so evaluating again with the
 * flag it set gives the same verdict: memory_growth_result() agrees with
 * the last observe.
 */
#define KEEP_GROWTH 0.75
#define KEEP_R2 0.05

static void evaluate(const struct memory_growth *g, const struct memory_growth_config *s,
		     int was_suspect, struct memory_growth_result *ret)
{
	double keep = was_suspect ? KEEP_GROWTH : 1;
	double min_r2 = was_suspect ? s->min_r2 - KEEP_R2 : s->min_r2;
	struct memory_growth_result r = {
		.slope_kib_s = NAN,
		.r2 = NAN,
		.last_kib = NAN,
		.fit_kib = NAN,
		.growth_kib = NAN,
		.min_kib = NAN,
		.max_kib = NAN,
		.verdict = MEMORY_GROWTH_TOO_SHORT,
	};
	struct points p;
	double tbar = 0, vbar = 0, stt = 0, stv = 0, svv = 0, sse = 0;
	int rises = 0, big = 0, linear = 0;

	if (g->open_samples == 0) {
		*ret = r;
		return;
	}
	gather(g, s->window_s, &p);
	r.points = p.n;
	r.span_s = -p.t_first;
	r.last_kib = g->last_kib;
	r.min_kib = g->base_kib + p.lo;
	r.max_kib = g->base_kib + p.hi;
	r.frozen = g->frozen;
	if (p.n < 3)
		goto verdict;

	/* Times are relative to the newest sample and centred: no cancellation at t ~ 1e9 s. */
	for (int i = 0; i < p.n; i++) {
		tbar += p.t[i];
		vbar += p.v[i];
	}
	tbar /= p.n;
	vbar /= p.n;
	for (int i = 0; i < p.n; i++) {
		stt += (p.t[i] - tbar) * (p.t[i] - tbar);
		stv += (p.t[i] - tbar) * (p.v[i] - vbar);
		svv += (p.v[i] - vbar) * (p.v[i] - vbar);
	}
	if (!(stt > 0))
		goto verdict;
	r.slope_kib_s = stv / stt;
	for (int i = 0; i < p.n; i++) {
		double e = p.v[i] - vbar - r.slope_kib_s * (p.t[i] - tbar);

		sse += e * e;
	}
	r.r2 = svv > 0 ? fmax(0, fmin(1, 1 - sse / svv)) : 0;
	r.fit_kib = g->base_kib + vbar - r.slope_kib_s * tbar;
	r.growth_kib = r.slope_kib_s * r.span_s;
	/* Rising beyond what the noise could do: a one-sided t-test on the slope. */
	rises = r.slope_kib_s > 0 && r.slope_kib_s >= keep * s->min_slope_kib_s &&
		r.slope_kib_s >= t_quantile_995(p.n - 2) * sqrt(sse / (p.n - 2) / stt);
	big = r.growth_kib >= keep * s->min_growth_kib &&
	      r.growth_kib >= keep * s->min_growth_ratio * r.min_kib;
	linear = r.r2 >= min_r2;
	r.growing = rises && big && linear;
	shape(&p, s->drop_ratio, &r.step_share, &r.drops);

verdict:
	if (r.span_s < s->min_span_s)
		r.verdict = MEMORY_GROWTH_TOO_SHORT;
	else if (p.n < (int)s->min_points || isnan(r.slope_kib_s))
		r.verdict = MEMORY_GROWTH_FEW_POINTS;
	else if (!rises)
		r.verdict = MEMORY_GROWTH_NOT_GROWING;
	else if (!big)
		r.verdict = MEMORY_GROWTH_SMALL;
	else if (!linear)
		r.verdict = MEMORY_GROWTH_NOT_LINEAR;
	else if (r.step_share > s->max_step_share)
		r.verdict = MEMORY_GROWTH_STEP;
	else if (r.drops > 0)
		r.verdict = MEMORY_GROWTH_SAWTOOTH;
	else
		r.verdict = MEMORY_GROWTH_LEAK;
	r.leak_suspect = r.verdict == MEMORY_GROWTH_LEAK;
	*ret = r;
}

void memory_growth_observe(struct memory_growth *g, const struct memory_growth_config *c,
			   double t_s, double rss_kib)
{
	struct memory_growth_config s = config_sane(c);
	struct memory_growth_result r;
	double rel;

	if (!isfinite(t_s) || !isfinite(rss_kib) || rss_kib < 0)
		return;
	if (rss_kib == 0) {
		/* No resident memory: no process left. The fall is death, not a free. */
		memory_growth_freeze(g);
		return;
	}
	if (g->frozen)
		memory_growth_init(g); /* back from the dead: a new life */
	if (g->open_samples == 0) {
		g->base_kib = rss_kib;
		open_bucket(g, t_s, 0);
		goto out;
	}
	/*
	 * A clock that went back (a wall clock stepped by NTP) would reorder the
	 * buckets: shift every later time instead, so that this sample counts as
	 * taken with the newest one, as the respawn detector does.
	 */
	t_s += g->t_shift_s;
	if (t_s < g->last_t_s) {
		g->t_shift_s += g->last_t_s - t_s;
		t_s = g->last_t_s;
	}

	rel = rss_kib - g->base_kib;
	if (t_s - g->open_t_first_s >= s.window_s / MEMORY_GROWTH_BUCKETS) {
		close_bucket(g);
		open_bucket(g, t_s, rel);
		goto out;
	}
	g->open_t_sum += t_s - g->open_t_first_s;
	g->open_kib_sum += rel;
	g->open_samples++;
	if (rel < g->open_min_kib)
		g->open_min_kib = float_down(rel);
	if (rel > g->open_max_kib)
		g->open_max_kib = float_up(rel);
out:
	g->last_t_s = t_s;
	g->last_kib = rss_kib;
	evaluate(g, &s, g->suspect, &r);
	g->suspect = (uint8_t)r.leak_suspect;
}

void memory_growth_result(const struct memory_growth *g, const struct memory_growth_config *c,
			  struct memory_growth_result *ret)
{
	struct memory_growth_config s = config_sane(c);

	evaluate(g, &s, g->suspect, ret);
}

double memory_growth_eta_s(const struct memory_growth_result *r, double limit_kib)
{
	double eta;

	if (!r->growing || r->frozen || !isfinite(r->fit_kib) || !isfinite(limit_kib) ||
	    !(r->slope_kib_s > 0))
		return -1;
	if (r->fit_kib >= limit_kib)
		return 0;
	eta = (limit_kib - r->fit_kib) / r->slope_kib_s;
	return eta <= MEMORY_GROWTH_ETA_MAX_S ? eta : -1;
}
