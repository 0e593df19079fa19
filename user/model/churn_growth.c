// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "churn_growth.h"

#define MAX_POINTS (CHURN_GROWTH_PRE_SAMPLES + CHURN_GROWTH_STORM_SAMPLES + 1)
/* Regressors at most: two storms' starts and time. */
#define MAX_REG 3
/* Runs of consecutive samples averaged to judge shape at the scale of the window. */
#define BINS 16
/* The storm is cut into this many parts for the step test (rule 8). */
#define STEP_PARTS 8
/* A linked pair keeps its link with thresholds this much looser. */
#define KEEP_PER_START 0.75
#define KEEP_R2 0.05
#define KEEP_SHARE 0.1
#define MAX_PRE_WINDOW_MS (366LL * 24 * 3600 * 1000)

/*
 * The defaults, and why.
 *
 * min_per_start 1 KiB: the cost that matters over a storm. The incident
 * this tool exists for ran 421,491 restarts in 50 days: 1 KiB each is
 * 410 MiB, enough to take a small VM down. journald keeps three or four
 * entries per failed start (a few hundred bytes to 2 KiB together), and
 * that is growth to catch; PID 1's ~150 KiB per unit started and the
 * hundreds of KiB a dying memory cgroup holds are far above it. Below a
 * KiB the figure moves by a page every few starts, under the noise of any
 * busy unit. Counts (dying cgroups per start) need their own: 0.5 says
 * "one in two starts leaves one behind".
 *
 * min_r2 0.9: value against starts and time must explain nine tenths of
 * the variance. A clean step fitted by a line explains at most
 * 3p(1-p) <= 0.75 of it (p: where the step falls), a sawtooth of k teeth
 * about 1/k^2. A cost per start reaches it once its rise is ten times the
 * noise's standard deviation: 2 KiB per start under 5 KiB of noise after
 * 25 starts, a few more with a pre-window.
 *
 * min_start_share 0.75: the starts must carry three quarters of what the
 * candidate gained during the storm. A neighbour that leaks on its own gets
 * a b that is noise around 0; one that both leaks and pays per start is
 * linked when paying dominates, which is what "this storm costs you" means.
 *
 * min_independence 0.02: over BINS averaged runs of samples (so that the
 * quantisation of starts to whole numbers at each sample counts for
 * nothing), starts must depart from a line in time by sqrt(0.02), 14% of
 * their spread. A pre-window a third as long as the storm gives ~0.035,
 * half as long ~0.065; a steady storm without one gives ~0. Below it, b and
 * c are told apart only by details that a neighbour on a timer of the same
 * period would share.
 *
 * min_joint_independence 0.002: the same for one storm's starts against
 * the other's and time together, three regressors instead of two. Two
 * storms that began together at steady paces give ~1e-5 (one is a multiple
 * of the other); one beginning a fifth of the window after the other gives
 * ~0.008. The t-tests then decide on the noise.
 *
 * max_step_share 0.5: a line puts nothing beyond its share of the starts in
 * any eighth of the storm; a step puts nearly all of the rise into one or
 * two adjacent eighths (at least 1 - 2/8 = 0.75).
 *
 * end_ratio 0.5 over end_starts 20: the link ends when, over the last 20
 * starts or more, even the optimistic rate is below half the linked one; it
 * comes back when even the pessimistic rate is above half.
 *
 * min_starts 20: the slope of a fit with R^2 0.9 over 20 points is known to
 * +-16% (95%), inside the 20% the findings promise; fewer starts are "not
 * yet". min_samples 8: three parameters and enough left for the noise.
 *
 * pre_window_max_ms 600000: ten minutes before the storm measure what the
 * candidate does on its own; older history says more about other times
 * than about now.
 */
void churn_growth_config_default(struct churn_growth_config *c)
{
	memset(c, 0, sizeof(*c));
	c->min_per_start = 1.0;
	c->min_r2 = 0.9;
	c->min_start_share = 0.75;
	c->min_independence = 0.02;
	c->min_joint_independence = 0.002;
	c->max_step_share = 0.5;
	c->end_ratio = 0.5;
	c->pre_window_max_ms = 600000;
	c->min_starts = 20;
	c->min_samples = 8;
	c->end_starts = 20;
	c->confirm_starts = 10;
}

const char *churn_growth_reason_name(enum churn_growth_reason r)
{
	switch (r) {
	case CHURN_GROWTH_FEW_SAMPLES:
		return "few-samples";
	case CHURN_GROWTH_FEW_STARTS:
		return "few-starts";
	case CHURN_GROWTH_NOT_GROWING:
		return "not-growing";
	case CHURN_GROWTH_COLLINEAR:
		return "collinear";
	case CHURN_GROWTH_TIME_DRIVEN:
		return "time-driven";
	case CHURN_GROWTH_SMALL:
		return "small";
	case CHURN_GROWTH_NOISY:
		return "noisy";
	case CHURN_GROWTH_POOR_FIT:
		return "poor-fit";
	case CHURN_GROWTH_STEP:
		return "step";
	case CHURN_GROWTH_STOPPED:
		return "stopped";
	case CHURN_GROWTH_STORM_OVER:
		return "storm-over";
	case CHURN_GROWTH_CONFIRMING:
		return "confirming";
	case CHURN_GROWTH_GROWS_PER_START:
		return "grows-per-start";
	}
	return "unknown";
}

const char *churn_growth_verdict_name(enum churn_growth_verdict v)
{
	switch (v) {
	case CHURN_GROWTH_NOT_LINKED:
		return "not-linked";
	case CHURN_GROWTH_AMBIGUOUS:
		return "ambiguous";
	case CHURN_GROWTH_LINKED:
		return "linked";
	}
	return "unknown";
}

const char *churn_growth_pick_name(enum churn_growth_pick p)
{
	switch (p) {
	case CHURN_GROWTH_PICK_NONE:
		return "none";
	case CHURN_GROWTH_PICK_A:
		return "a";
	case CHURN_GROWTH_PICK_B:
		return "b";
	case CHURN_GROWTH_PICK_BOTH:
		return "both";
	case CHURN_GROWTH_PICK_AMBIGUOUS:
		return "ambiguous";
	}
	return "unknown";
}

/* v if it is a number within [lo, hi], else def: the config may come from the command line. */
static double pick_in(double v, double lo, double hi, double def)
{
	return v >= lo && v <= hi ? v : def;
}

static struct churn_growth_config config_sane(const struct churn_growth_config *c)
{
	struct churn_growth_config d, s;

	churn_growth_config_default(&d);
	if (!c)
		return d;
	s.min_per_start = pick_in(c->min_per_start, 0, HUGE_VAL, d.min_per_start);
	s.min_r2 = pick_in(c->min_r2, 0, 1, d.min_r2);
	s.min_start_share = pick_in(c->min_start_share, 0, 1, d.min_start_share);
	s.min_independence = pick_in(c->min_independence, 0, 1, d.min_independence);
	s.min_joint_independence =
		pick_in(c->min_joint_independence, 0, 1, d.min_joint_independence);
	s.max_step_share = pick_in(c->max_step_share, 0, HUGE_VAL, d.max_step_share);
	s.end_ratio = pick_in(c->end_ratio, 0, 1, d.end_ratio);
	/* Up to a year and a day: far from int64_t's limits when subtracted from a time. */
	s.pre_window_max_ms = d.pre_window_max_ms;
	if (c->pre_window_max_ms >= 0 && c->pre_window_max_ms <= MAX_PRE_WINDOW_MS)
		s.pre_window_max_ms = c->pre_window_max_ms;
	s.min_starts = c->min_starts;
	s.min_samples = c->min_samples < 5 ? 5 : c->min_samples;
	if (s.min_samples > MAX_POINTS)
		s.min_samples = MAX_POINTS;
	s.end_starts = c->end_starts < 2 ? 2 : c->end_starts;
	s.confirm_starts = c->confirm_starts;
	return s;
}

static void result_unknown(struct churn_growth_result *r)
{
	memset(r, 0, sizeof(*r));
	r->verdict = CHURN_GROWTH_NOT_LINKED;
	r->reason = CHURN_GROWTH_FEW_SAMPLES;
	r->kib_per_start = r->kib_per_s = r->r2 = r->growth_kib = NAN;
	r->start_share = r->independence = r->t_stat = r->recent_kib_per_start = NAN;
}

void churn_growth_init(struct churn_growth *g, int64_t started_ms)
{
	memset(g, 0, sizeof(*g));
	g->started_ms = started_ms;
	g->pre_stride = 1;
	g->storm_stride = 1;
	result_unknown(&g->last);
}

/*
 * Appends s to a ring that keeps evenly spaced samples of everything it was
 * offered: when full, every other sample goes and only every second offer
 * is taken from then on (then every fourth, ...).
 */
static void thin_append(struct churn_growth_sample *ring, uint32_t cap, uint32_t *n,
			uint32_t *stride, uint32_t *skip, const struct churn_growth_sample *s)
{
	if (*skip > 0) {
		(*skip)--;
		return;
	}
	ring[(*n)++] = *s;
	*skip = *stride - 1;
	if (*n < cap)
		return;
	for (uint32_t i = 0; i < cap / 2; i++)
		ring[i] = ring[2 * i];
	*n = cap / 2;
	/* The newest one just went: the next to keep is one old stride after it. */
	*skip = *stride - 1;
	if (*stride < UINT32_MAX / 2)
		*stride *= 2;
}

/* The newest sample per start count; a new count pushes a new one. */
static void recent_add(struct churn_growth *g, const struct churn_growth_sample *s)
{
	if (g->n_recent && g->recent[g->recent_head].starts == s->starts) {
		g->recent[g->recent_head] = *s;
		return;
	}
	if (g->n_recent)
		g->recent_head = (g->recent_head + 1) % CHURN_GROWTH_RECENT_SAMPLES;
	g->recent[g->recent_head] = *s;
	if (g->n_recent < CHURN_GROWTH_RECENT_SAMPLES)
		g->n_recent++;
}

/* ---- least squares, up to MAX_REG regressors ---- */

/*
 * One-sided quantiles of Student's t by degrees of freedom, 99.5% and
 * 99.9%: a coefficient this many standard errors from 0 is not noise.
 * Between rows the lower row's value is used, which errs towards "not
 * enough evidence"; below one degree of freedom there is none.
 */
enum level { Q995, Q999 };

static double t_quantile(int df, enum level level)
{
	static const struct {
		int df;
		double t[2];
	} table[] = {
		{ 1, { 63.657, 318.31 } }, { 2, { 9.925, 22.327 } },  { 3, { 5.841, 10.215 } },
		{ 4, { 4.604, 7.173 } },   { 5, { 4.032, 5.893 } },   { 6, { 3.707, 5.208 } },
		{ 8, { 3.355, 4.501 } },   { 10, { 3.169, 4.144 } },  { 15, { 2.947, 3.733 } },
		{ 20, { 2.845, 3.552 } },  { 30, { 2.750, 3.385 } },  { 40, { 2.704, 3.307 } },
		{ 60, { 2.660, 3.232 } },  { 120, { 2.617, 3.160 } }, { 1000, { 2.581, 3.098 } },
	};
	double t = HUGE_VAL;

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]) && table[i].df <= df; i++)
		t = table[i].t[level];
	return t;
}

/* Inverse of the k x k symmetric m (Gauss-Jordan); 0 when it is (nearly) singular. */
static int invert(int k, const double m[MAX_REG][MAX_REG], double inv[MAX_REG][MAX_REG])
{
	double a[MAX_REG][2 * MAX_REG];

	for (int i = 0; i < k; i++) {
		if (!(m[i][i] > 0))
			return 0;
		for (int j = 0; j < k; j++) {
			a[i][j] = m[i][j];
			a[i][k + j] = i == j;
		}
	}
	for (int c = 0; c < k; c++) {
		int piv = c;

		for (int i = c + 1; i < k; i++)
			if (fabs(a[i][c]) > fabs(a[piv][c]))
				piv = i;
		/* Relative to the column's own scale: what is left of it after the others. */
		if (!(fabs(a[piv][c]) > 1e-9 * m[c][c]))
			return 0;
		for (int j = 0; j < 2 * k; j++) {
			double t = a[c][j];

			a[c][j] = a[piv][j];
			a[piv][j] = t;
		}
		for (int j = 2 * k - 1; j >= c; j--)
			a[c][j] /= a[c][c];
		for (int i = 0; i < k; i++) {
			if (i == c)
				continue;
			for (int j = 2 * k - 1; j >= c; j--)
				a[i][j] -= a[i][c] * a[c][j];
		}
	}
	for (int i = 0; i < k; i++)
		for (int j = 0; j < k; j++)
			inv[i][j] = a[i][k + j];
	return 1;
}

/*
 * Memory series are not white noise: a cache that fills and empties, an
 * allocator that wanders, make the residuals of one sample like those of the
 * next, and a t-test that took them as independent finds trends in a random
 * walk. The lag-1 autocorrelation r of the residuals (in time order) shrinks
 * the sample to n (1 - r) / (1 + r) independent ones: standard errors grow by
 * sqrt((1 + r) / (1 - r)) and the degrees of freedom shrink alike. White or
 * alternating noise (r <= 0) changes nothing.
 */
static double ar1_of(const double *e, int n)
{
	double num = 0, den = 0;

	for (int i = 0; i < n; i++) {
		den += e[i] * e[i];
		if (i > 0)
			num += e[i] * e[i - 1];
	}
	return den > 0 ? fmin(fmax(num / den, 0), 0.99) : 0;
}

struct lsq {
	int ok;               /* 0: too few rows, or the regressors do not vary apart */
	double beta[MAX_REG];
	double se[MAX_REG];   /* standard error, corrected for autocorrelation */
	double t[MAX_REG];    /* beta / se */
	double t_white[MAX_REG]; /* as if the residuals were independent */
	double tq, tq_white;  /* the one-sided 99.5% quantiles the t's must beat */
	double tq_strict;     /* 99.9%, corrected: for a test repeated at every sample */
	double r2;            /* with an intercept; NaN without */
};

static double t_of(double beta, double se)
{
	return se > 0 ? beta / se : (beta > 0 ? HUGE_VAL : beta < 0 ? -HUGE_VAL : 0);
}

/* y ~ x[.][0..k), with an intercept or through the origin (increments). */
static void lsq_fit(const double (*x)[MAX_REG], const double *y, int n, int k, int intercept,
		    struct lsq *f)
{
	double xm[MAX_REG] = { 0 }, ym = 0, m[MAX_REG][MAX_REG] = { { 0 } }, v[MAX_REG] = { 0 };
	double inv[MAX_REG][MAX_REG], e[MAX_POINTS], sse = 0, syy = 0, r, n_eff;
	int df;

	memset(f, 0, sizeof(*f));
	f->r2 = NAN;
	df = n - k - intercept;
	if (n > MAX_POINTS || df < 1)
		return;
	if (intercept) {
		for (int i = 0; i < n; i++) {
			for (int a = 0; a < k; a++)
				xm[a] += x[i][a] / n;
			ym += y[i] / n;
		}
	}
	for (int i = 0; i < n; i++) {
		for (int a = 0; a < k; a++) {
			for (int b = 0; b < k; b++)
				m[a][b] += (x[i][a] - xm[a]) * (x[i][b] - xm[b]);
			v[a] += (x[i][a] - xm[a]) * (y[i] - ym);
		}
		syy += (y[i] - ym) * (y[i] - ym);
	}
	if (!invert(k, m, inv))
		return;
	for (int a = 0; a < k; a++) {
		f->beta[a] = 0;
		for (int b = 0; b < k; b++)
			f->beta[a] += inv[a][b] * v[b];
	}
	for (int i = 0; i < n; i++) {
		e[i] = y[i] - ym;
		for (int a = 0; a < k; a++)
			e[i] -= f->beta[a] * (x[i][a] - xm[a]);
		sse += e[i] * e[i];
	}
	/* Residuals at rounding level (an exact series) have no autocorrelation worth a name. */
	r = sse > 1e-12 * syy ? ar1_of(e, n) : 0;
	n_eff = n * (1 - r) / (1 + r);
	for (int a = 0; a < k; a++) {
		double se = sqrt(sse / df * inv[a][a]);

		f->se[a] = se * sqrt((1 + r) / (1 - r));
		f->t_white[a] = t_of(f->beta[a], se);
		f->t[a] = t_of(f->beta[a], f->se[a]);
	}
	f->tq_white = t_quantile(df, Q995);
	f->tq = t_quantile((int)floor(n_eff) - k - intercept, Q995);
	f->tq_strict = t_quantile((int)floor(n_eff) - k - intercept, Q999);
	if (intercept)
		f->r2 = syy > 0 ? fmax(0, fmin(1, 1 - sse / syy)) : 0;
	f->ok = 1;
}

/* Means of BINS runs of consecutive rows (fewer for short series); the number of bins. */
static int bin_means(const double (*x)[MAX_REG], const double *y, int n, int k,
		     double (*bx)[MAX_REG], double *by)
{
	int bins = n / 2 < BINS ? n / 2 : BINS;

	for (int b = 0; b < bins; b++) {
		int from = b * n / bins, to = (b + 1) * n / bins;

		by[b] = 0;
		for (int a = 0; a < k; a++)
			bx[b][a] = 0;
		for (int i = from; i < to; i++) {
			by[b] += y[i] / (to - from);
			for (int a = 0; a < k; a++)
				bx[b][a] += x[i][a] / (to - from);
		}
	}
	return bins;
}

/*
 * 1 - R^2 of each column against the others, over the bin means: the
 * evidence that tells starts from time (or one storm from another) must be
 * at the scale of the window. Sample by sample, a steady storm's starts
 * depart from a line in time by their rounding to whole starts, which says
 * nothing about what the candidate grows with. 0 when they are one line.
 */
static void independence_of(const double (*bx)[MAX_REG], int bins, int k, double *ret)
{
	double mean[MAX_REG] = { 0 }, m[MAX_REG][MAX_REG] = { { 0 } }, inv[MAX_REG][MAX_REG];

	for (int a = 0; a < k; a++)
		ret[a] = NAN;
	if (bins < 4)
		return;
	for (int b = 0; b < bins; b++)
		for (int a = 0; a < k; a++)
			mean[a] += bx[b][a] / bins;
	for (int b = 0; b < bins; b++)
		for (int a = 0; a < k; a++)
			for (int c = 0; c < k; c++)
				m[a][c] += (bx[b][a] - mean[a]) * (bx[b][c] - mean[c]);
	for (int a = 0; a < k; a++)
		ret[a] = 0;
	if (!invert(k, m, inv))
		return;
	for (int a = 0; a < k; a++)
		ret[a] = fmin(1, fmax(0, 1 / (m[a][a] * inv[a][a])));
}

/*
 * From one bin to the next, does the candidate rise by b per start? The
 * increments of the bin means against those of the regressors, through the
 * origin. A neighbour whose memory wanders can drift up for the whole of a
 * storm and fit a line in levels well; its increments do not follow the
 * starts, and they are (nearly) independent, which levels are not.
 */
static void increments_fit(const double (*bx)[MAX_REG], const double *by, int bins, int k,
			   struct lsq *f)
{
	double dx[BINS][MAX_REG], dy[BINS];

	for (int b = 1; b < bins; b++) {
		for (int a = 0; a < k; a++)
			dx[b - 1][a] = bx[b][a] - bx[b - 1][a];
		dy[b - 1] = by[b] - by[b - 1];
	}
	lsq_fit((const double(*)[MAX_REG])dx, dy, bins - 1, k, 0, f);
}

/* ---- the fitted samples ---- */

/* Columns: starts, time (s since the storm began); the candidate's values apart. */
struct points {
	int n, n_pre;
	double x[MAX_POINTS][MAX_REG];
	double v[MAX_POINTS];
};

static void add_point(struct points *p, const struct churn_growth *g,
		      const struct churn_growth_sample *s)
{
	p->x[p->n][0] = s->starts;
	p->x[p->n][1] = (double)(s->t_ms - g->started_ms) / 1000.0;
	p->x[p->n][2] = 0;
	p->v[p->n] = s->value;
	p->n++;
}

/* The fitted samples in time order: the pre-window, the storm, the newest. */
static void gather(const struct churn_growth *g, struct points *p)
{
	p->n = 0;
	for (uint32_t i = 0; i < g->n_pre; i++)
		add_point(p, g, &g->pre[i]);
	p->n_pre = p->n;
	for (uint32_t i = 0; i < g->n_storm; i++)
		add_point(p, g, &g->storm[i]);
	if (g->has_newest && (g->n_storm == 0 || g->newest.t_ms > g->storm[g->n_storm - 1].t_ms))
		add_point(p, g, &g->newest);
}

/* value ~ column col over rows [from, to): a line. */
static void line_fit(const struct points *p, int col, int from, int to, struct lsq *f)
{
	double x[MAX_POINTS][MAX_REG];

	for (int i = from; i < to; i++)
		x[i - from][0] = p->x[i][col];
	lsq_fit((const double(*)[MAX_REG])x, p->v + from, to - from, 1, 1, f);
}

/*
 * Rule 8: the storm's points cut into STEP_PARTS runs; the largest share of
 * the rise one run-to-run interval, or two adjacent ones, carries beyond
 * its share of the starts.
 */
static double step_share(const struct points *p)
{
	int n = p->n - p->n_pre, parts = n / 2 < STEP_PARTS ? n / 2 : STEP_PARTS;
	double ms[STEP_PARTS], mv[STEP_PARTS], rise, starts, prev = 0, step = 0;

	if (parts < 3)
		return 0;
	for (int k = 0; k < parts; k++) {
		int from = p->n_pre + k * n / parts, to = p->n_pre + (k + 1) * n / parts;

		ms[k] = mv[k] = 0;
		for (int i = from; i < to; i++) {
			ms[k] += p->x[i][0] / (to - from);
			mv[k] += p->v[i] / (to - from);
		}
	}
	rise = mv[parts - 1] - mv[0];
	starts = ms[parts - 1] - ms[0];
	if (!(rise > 0) || !(starts > 0))
		return 0;
	for (int k = 1; k < parts; k++) {
		double excess = (mv[k] - mv[k - 1]) / rise - (ms[k] - ms[k - 1]) / starts;

		step = fmax(step, excess);
		if (k > 1)
			step = fmax(step, prev + excess);
		prev = excess;
	}
	return step;
}

/* Rule 9: value against starts over the recent ring; !ok when it spans too few starts. */
static void recent_rate(const struct churn_growth *g, uint32_t end_starts, struct lsq *f)
{
	double x[CHURN_GROWTH_RECENT_SAMPLES][MAX_REG], v[CHURN_GROWTH_RECENT_SAMPLES];
	uint32_t n = g->n_recent;

	memset(f, 0, sizeof(*f));
	if (n < 4)
		return;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t idx = (g->recent_head + CHURN_GROWTH_RECENT_SAMPLES - (n - 1) + i) %
			       CHURN_GROWTH_RECENT_SAMPLES;

		x[i][0] = g->recent[idx].starts;
		v[i] = g->recent[idx].value;
	}
	if (x[n - 1][0] - x[0][0] < end_starts)
		return;
	lsq_fit((const double(*)[MAX_REG])x, v, (int)n, 1, 1, f);
}

static double x_starts_now(const struct points *p)
{
	return p->x[p->n - 1][0];
}

/*
 * The verdict of the current window, given the state left by the last
 * evaluation (linked, stopped, eligible); the new stopped state in
 * *ret_stopped, and since when every rule has held in *ret_eligible_since
 * (relative starts; -1: not now).
 */
static void evaluate(const struct churn_growth *g, const struct churn_growth_config *s,
		     struct churn_growth_result *ret, int *ret_stopped, double *ret_eligible_since)
{
	int linked = g->linked, stopped = g->stopped, n_storm, bins;
	double keep_per_start = linked ? KEEP_PER_START : 1;
	double min_r2 = linked ? s->min_r2 - KEEP_R2 : s->min_r2;
	double min_share = linked ? s->min_start_share - KEEP_SHARE : s->min_start_share;
	double s0, t0, d_starts, d_t, start_part, time_part, rise;
	double bx[BINS][MAX_REG], bv[BINS], indep[MAX_REG];
	struct lsq fit, inc, storm, pre, recent;
	struct churn_growth_result r;
	struct points p;

	result_unknown(&r);
	r.was_linked = g->was_linked;
	*ret_stopped = stopped;
	*ret_eligible_since = -1;
	gather(g, &p);
	n_storm = p.n - p.n_pre;
	r.samples = (uint32_t)p.n;
	r.pre_samples = (uint32_t)p.n_pre;
	if (n_storm < 1)
		goto out;
	/* The storm begins at the last sample before it, or at its first one. */
	s0 = p.x[p.n_pre ? p.n_pre - 1 : 0][0];
	t0 = p.x[p.n_pre ? p.n_pre - 1 : 0][1];
	d_starts = p.x[p.n - 1][0] - s0;
	d_t = p.x[p.n - 1][1] - t0;
	r.starts = (uint64_t)d_starts;

	lsq_fit((const double(*)[MAX_REG])p.x, p.v, p.n, 2, 1, &fit);
	bins = bin_means((const double(*)[MAX_REG])p.x, p.v, p.n, 2, bx, bv);
	independence_of((const double(*)[MAX_REG])bx, bins, 2, indep);
	r.independence = indep[0];
	if (fit.ok) {
		r.kib_per_start = fit.beta[0];
		r.kib_per_s = fit.beta[1];
		r.r2 = fit.r2;
		r.t_stat = fit.t[0];
		start_part = fit.beta[0] * d_starts;
		time_part = fit.beta[1] * d_t;
		r.growth_kib = start_part + time_part;
		r.start_share = fabs(start_part) + fabs(time_part) > 0 ?
					start_part / (fabs(start_part) + fabs(time_part)) :
					0;
	}
	recent_rate(g, s->end_starts, &recent);
	r.recent_kib_per_start = recent.ok ? recent.beta[0] : NAN;
	if (fit.ok && fit.beta[0] > 0 && recent.ok) {
		double bar = s->end_ratio * fit.beta[0], margin = recent.tq * recent.se[0];

		if (!stopped && recent.beta[0] + margin < bar)
			stopped = 1;
		else if (stopped && recent.beta[0] - margin >= bar)
			stopped = 0;
	}
	*ret_stopped = stopped;

	/* 1: evidence. */
	if (p.n < (int)s->min_samples || n_storm < 4)
		goto out;
	r.reason = CHURN_GROWTH_FEW_STARTS;
	if (d_starts < s->min_starts)
		goto out;
	/* 9, first once linked: growth that stopped ends it, whatever else has changed. */
	r.reason = CHURN_GROWTH_STOPPED;
	if ((linked || g->was_linked) && stopped)
		goto out;
	/*
	 * 2: growing during the storm, beyond white noise. Only "did it go up at
	 * all": a cost per start fitted by a line in time leaves runs of
	 * residuals wherever the storm changes pace, which the correction for
	 * autocorrelation would take for noise. Rule 6 asks the real question.
	 */
	r.reason = CHURN_GROWTH_NOT_GROWING;
	line_fit(&p, 1, p.n_pre, p.n, &storm);
	if (!storm.ok || !(storm.beta[0] > 0) || storm.t_white[0] < storm.tq_white)
		goto out;
	r.growing = 1;
	rise = storm.beta[0] * d_t;
	/* 8, before the others: a step fails them too, and "step" is what it is. */
	r.reason = CHURN_GROWTH_STEP;
	if (step_share(&p) > s->max_step_share)
		goto out;
	/* 3: starts and time told apart. */
	if (!fit.ok || (!linked && !(indep[0] >= s->min_independence))) {
		r.verdict = CHURN_GROWTH_AMBIGUOUS;
		r.reason = CHURN_GROWTH_COLLINEAR;
		goto out;
	}
	/* 4: not growing on its own, by the fit and by the pre-window's own slope. */
	r.reason = CHURN_GROWTH_TIME_DRIVEN;
	if (!(fit.beta[0] > 0) || r.start_share < min_share)
		goto out;
	line_fit(&p, 1, 0, p.n_pre, &pre);
	if (pre.ok && p.n_pre >= 4 && pre.t_white[0] > pre.tq_white &&
	    pre.beta[0] * (1 - pre.tq_white / pre.t_white[0]) * d_t > (1 - min_share) * rise)
		goto out;
	/* 5: large enough. */
	r.reason = CHURN_GROWTH_SMALL;
	if (fit.beta[0] < keep_per_start * s->min_per_start)
		goto out;
	/* 6: beyond the noise, in levels and in increments. */
	r.reason = CHURN_GROWTH_NOISY;
	if (fit.t[0] < fit.tq)
		goto out;
	/*
	 * In increments (see increments_fit()), at 99.9%: this is the test a
	 * wandering neighbour passes by luck, and it is taken again at every
	 * sample until it passes once.
	 */
	increments_fit((const double(*)[MAX_REG])bx, bv, bins, 2, &inc);
	if (!linked && (!inc.ok || inc.t[0] < inc.tq_strict))
		goto out;
	/* 7: a line. */
	r.reason = CHURN_GROWTH_POOR_FIT;
	if (fit.r2 < min_r2)
		goto out;
	/* 9: still growing. */
	r.reason = CHURN_GROWTH_STOPPED;
	if (stopped)
		goto out;
	/* 10: and so for confirm_starts starts in a row. */
	r.reason = CHURN_GROWTH_CONFIRMING;
	*ret_eligible_since = g->eligible ? g->eligible_since : x_starts_now(&p);
	if (!linked && x_starts_now(&p) - *ret_eligible_since < s->confirm_starts)
		goto out;
	r.verdict = CHURN_GROWTH_LINKED;
	r.reason = CHURN_GROWTH_GROWS_PER_START;
out:
	/*
	 * A standing link ends for what says the cost is gone: growth that
	 * stopped, turned, or went back to growing on its own or too little per
	 * start. A sample in which a test of the noise, the line or the steps
	 * falls short (a batched counter moves in 128 KiB steps) leaves it as it
	 * was: a link said and unsaid every few seconds is noise for the reader.
	 */
	if (linked && r.verdict != CHURN_GROWTH_LINKED &&
	    (r.reason == CHURN_GROWTH_NOISY || r.reason == CHURN_GROWTH_POOR_FIT ||
	     r.reason == CHURN_GROWTH_STEP || r.reason == CHURN_GROWTH_COLLINEAR ||
	     r.reason == CHURN_GROWTH_CONFIRMING)) {
		r.verdict = CHURN_GROWTH_LINKED;
		r.reason = CHURN_GROWTH_GROWS_PER_START;
	}
	*ret = r;
}

enum churn_growth_transition churn_growth_observe(struct churn_growth *g,
						  const struct churn_growth_config *c,
						  int64_t t_ms, uint64_t storm_starts, double value)
{
	struct churn_growth_config s = config_sane(c);
	struct churn_growth_sample x;
	enum churn_growth_transition tr = CHURN_GROWTH_NO_CHANGE;
	struct churn_growth_result r;
	double eligible_since;
	uint64_t starts;
	int stopped;

	if (!isfinite(value) || value < 0 || g->last.storm_over)
		return tr;
	/* A clock that went back: the sample counts as taken with the newest one. */
	t_ms += g->t_shift_ms;
	if (g->has_base && t_ms < g->last_t_ms) {
		g->t_shift_ms += g->last_t_ms - t_ms;
		t_ms = g->last_t_ms;
	}
	if (t_ms < g->started_ms - s.pre_window_max_ms)
		return tr;
	if (g->ended_ms && t_ms > g->ended_ms)
		return tr;
	if (!g->has_base) {
		g->base_starts = storm_starts;
		g->last_raw_starts = storm_starts;
		g->base_value = value;
		g->has_base = 1;
	}
	/* A count that went back was made again: continue from where it was. */
	if (storm_starts < g->last_raw_starts)
		g->starts_offset += g->last_raw_starts - storm_starts;
	g->last_raw_starts = storm_starts;
	g->last_t_ms = t_ms;
	starts = storm_starts + g->starts_offset - g->base_starts;
	x.t_ms = t_ms;
	x.starts = starts > UINT32_MAX ? UINT32_MAX : (uint32_t)starts;
	x.value = (float)(value - g->base_value);

	if (t_ms < g->started_ms) {
		thin_append(g->pre, CHURN_GROWTH_PRE_SAMPLES, &g->n_pre, &g->pre_stride,
			    &g->pre_skip, &x);
	} else {
		thin_append(g->storm, CHURN_GROWTH_STORM_SAMPLES, &g->n_storm, &g->storm_stride,
			    &g->storm_skip, &x);
		recent_add(g, &x);
		g->newest = x;
		g->has_newest = 1;
	}
	evaluate(g, &s, &r, &stopped, &eligible_since);
	g->stopped = (uint8_t)stopped;
	g->eligible = eligible_since >= 0;
	g->eligible_since = g->eligible ? (uint32_t)eligible_since : 0;
	if (r.verdict == CHURN_GROWTH_LINKED && !g->linked) {
		tr = CHURN_GROWTH_LINK_STARTED;
		g->was_linked = 1;
		r.was_linked = 1;
	} else if (r.verdict != CHURN_GROWTH_LINKED && g->linked) {
		tr = CHURN_GROWTH_LINK_ENDED;
	}
	g->linked = r.verdict == CHURN_GROWTH_LINKED;
	g->last = r;
	return tr;
}

enum churn_growth_transition churn_growth_storm_ended(struct churn_growth *g, int64_t ended_ms)
{
	int was = g->linked;

	if (g->last.storm_over)
		return CHURN_GROWTH_NO_CHANGE;
	g->ended_ms = ended_ms + g->t_shift_ms;
	g->linked = 0;
	g->last.storm_over = 1;
	g->last.verdict = CHURN_GROWTH_NOT_LINKED;
	g->last.reason = CHURN_GROWTH_STORM_OVER;
	return was ? CHURN_GROWTH_LINK_ENDED : CHURN_GROWTH_NO_CHANGE;
}

void churn_growth_result(const struct churn_growth *g, struct churn_growth_result *ret)
{
	*ret = g->last;
}

/* ---- two storms ---- */

/* Starts of q at time t (seconds since q's storm began), by interpolation; 0 outside q's span. */
static int starts_at(const struct points *q, double t, double *ret)
{
	int lo = 0, hi = q->n - 1;

	if (q->n < 2 || t < q->x[0][1] || t > q->x[hi][1])
		return 0;
	while (hi - lo > 1) {
		int mid = (lo + hi) / 2;

		if (q->x[mid][1] <= t)
			lo = mid;
		else
			hi = mid;
	}
	if (q->x[hi][1] == q->x[lo][1]) {
		*ret = q->x[hi][0];
		return 1;
	}
	*ret = q->x[lo][0] +
	       (q->x[hi][0] - q->x[lo][0]) * (t - q->x[lo][1]) / (q->x[hi][1] - q->x[lo][1]);
	return 1;
}

/* Grew during the storm, and not in one step: it may belong to this storm or the other. */
static int claims(const struct churn_growth_result *r)
{
	return r->growing && r->reason != CHURN_GROWTH_STEP && r->reason != CHURN_GROWTH_STOPPED;
}

void churn_growth_pick(const struct churn_growth *a, const struct churn_growth *b,
		       const struct churn_growth_config *c, struct churn_growth_pick_result *ret)
{
	struct churn_growth_config s = config_sane(c);
	struct churn_growth_pick_result r = {
		.pick = CHURN_GROWTH_PICK_NONE,
		.kib_per_start_a = NAN,
		.kib_per_start_b = NAN,
		.independence = NAN,
	};
	const struct churn_growth *gp = a, *gq = b;
	double bx[BINS][MAX_REG], bv[BINS], indep[MAX_REG], part[MAX_REG], total = 0;
	double shift, sq;
	struct points p, q;
	struct lsq fit, inc;
	int swapped = 0, sig[2], n = 0, bins;

	if (!claims(&a->last) && !claims(&b->last))
		goto out;
	/* The one that has seen more: its samples, the other's starts. */
	if (b->last.samples > a->last.samples) {
		gp = b;
		gq = a;
		swapped = 1;
	}
	gather(gp, &p);
	gather(gq, &q);
	shift = (double)(gp->started_ms - gq->started_ms) / 1000.0;
	for (int i = 0; i < p.n; i++) {
		if (!starts_at(&q, p.x[i][1] + shift, &sq))
			continue;
		p.x[n][0] = p.x[i][0];
		p.x[n][2] = p.x[i][1];
		p.x[n][1] = sq;
		p.v[n] = p.v[i];
		n++;
	}
	r.samples = (uint32_t)n;
	r.pick = CHURN_GROWTH_PICK_AMBIGUOUS;
	if (n < (int)s.min_samples) {
		/* Too little shared: the trackers' own verdicts. */
		int la = a->last.verdict == CHURN_GROWTH_LINKED;
		int lb = b->last.verdict == CHURN_GROWTH_LINKED;

		r.samples = 0;
		if (la != lb)
			r.pick = la ? CHURN_GROWTH_PICK_A : CHURN_GROWTH_PICK_B;
		goto out;
	}
	lsq_fit((const double(*)[MAX_REG])p.x, p.v, n, 3, 1, &fit);
	bins = bin_means((const double(*)[MAX_REG])p.x, p.v, n, 3, bx, bv);
	independence_of((const double(*)[MAX_REG])bx, bins, 3, indep);
	increments_fit((const double(*)[MAX_REG])bx, bv, bins, 3, &inc);
	if (!fit.ok)
		goto out;
	r.kib_per_start_a = fit.beta[swapped ? 1 : 0];
	r.kib_per_start_b = fit.beta[swapped ? 0 : 1];
	r.independence = fmin(indep[0], indep[1]);
	if (!(r.independence >= s.min_joint_independence))
		goto out;
	for (int k = 0; k < 3; k++) {
		part[k] = fit.beta[k] * (p.x[n - 1][k] - p.x[0][k]);
		total += fabs(part[k]);
	}
	for (int k = 0; k < 2; k++)
		sig[k] = fit.beta[k] >= s.min_per_start && fit.t[k] >= fit.tq && inc.ok &&
			 inc.t[k] >= inc.tq_strict && total > 0 &&
			 part[k] / total >= 1 - s.min_start_share;
	if (sig[0] && sig[1])
		r.pick = CHURN_GROWTH_PICK_BOTH;
	else if (sig[0] || sig[1])
		r.pick = sig[0] != swapped ? CHURN_GROWTH_PICK_A : CHURN_GROWTH_PICK_B;
out:
	*ret = r;
}
