// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <math.h>
#include <string.h>

#include "respawn_detector.h"

#define DEFAULT_WINDOW_MS 300000
/* Longer windows are clamped so that now - window cannot overflow for any sane clock. */
#define MAX_WINDOW_MS (366LL * 24 * 3600 * 1000)

void respawn_detector_config_default(struct respawn_detector_config *c)
{
	memset(c, 0, sizeof(*c));
	c->window_ms = DEFAULT_WINDOW_MS;
	c->min_starts = 5;
	c->fail_ratio = 0.5;
	c->fast_period_ms = 2000;
	c->fast_min_starts = 10;
	c->periodic_max_cv = 0.25;
	c->quiet_min_ms = 30000;
	c->quiet_max_ms = 600000;
	c->periodic_min_gaps = 3;
}

const char *respawn_class_name(uint32_t cls)
{
	switch (cls) {
	case RESPAWN_NORMAL:
		return "normal";
	case RESPAWN_PERIODIC:
		return "periodic";
	case RESPAWN_STORM:
		return "storm";
	}
	return "unknown";
}

/* a - b, saturated: sample times come from the caller and may be anything. */
static int64_t time_sub(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static uint32_t add_sat32(uint32_t a, uint64_t b)
{
	return b >= (uint64_t)(UINT32_MAX - a) ? UINT32_MAX : a + (uint32_t)b;
}

static int64_t config_window(const struct respawn_detector_config *c)
{
	if (c->window_ms <= 0)
		return DEFAULT_WINDOW_MS;
	return c->window_ms < MAX_WINDOW_MS ? c->window_ms : MAX_WINDOW_MS;
}

void respawn_track_init(struct respawn_track *t, const struct respawn_sample *baseline)
{
	memset(t, 0, sizeof(*t));
	t->last = *baseline;
	t->open_begin_ms = baseline->now_ms;
	t->window_ms = DEFAULT_WINDOW_MS;
	t->last_start_ms = baseline->last_start_ms > 0 ? baseline->last_start_ms : 0;
	t->cls = RESPAWN_NORMAL;
}

static int counters_went_back(const struct respawn_sample *a, const struct respawn_sample *b)
{
	return b->starts < a->starts || b->exits < a->exits || b->exits_failed < a->exits_failed ||
	       b->gaps < a->gaps || b->gap_sum_ns < a->gap_sum_ns ||
	       b->gap_sumsq_ms2 < a->gap_sumsq_ms2 || b->lifetime_sum_us < a->lifetime_sum_us;
}

/* Adds what happened from sample a to sample b (b >= a, counter by counter). */
static void slot_add(struct respawn_slot *o, const struct respawn_sample *a,
		     const struct respawn_sample *b)
{
	o->starts = add_sat32(o->starts, b->starts - a->starts);
	o->exits = add_sat32(o->exits, b->exits - a->exits);
	o->exits_failed = add_sat32(o->exits_failed, b->exits_failed - a->exits_failed);
	o->gaps = add_sat32(o->gaps, b->gaps - a->gaps);
	/* At most 1.8e19 each: within float range, so the conversions are defined. */
	o->gap_sum_ms += (float)((double)(b->gap_sum_ns - a->gap_sum_ns) / 1e6);
	o->gap_sumsq_ms2 += (float)(double)(b->gap_sumsq_ms2 - a->gap_sumsq_ms2);
	o->lifetime_sum_ms += (float)((double)(b->lifetime_sum_us - a->lifetime_sum_us) / 1e3);
}

static void close_open_slot(struct respawn_track *t, int64_t now_ms)
{
	int64_t dur = time_sub(now_ms, t->open_begin_ms);

	t->head = (uint8_t)((t->head + 1) % RESPAWN_TRACK_SLOTS);
	t->ring[t->head] = t->open;
	t->ring[t->head].dur_ms = dur > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)dur;
	if (t->n_slots < RESPAWN_TRACK_SLOTS)
		t->n_slots++;
	memset(&t->open, 0, sizeof(t->open));
	t->open_begin_ms = now_ms;
}

/* Sums of the slots inside the window, as doubles since the newest may be scaled. */
struct window {
	double starts, exits, failed, gaps;
	double gap_sum_ms, gap_sumsq_ms2, lifetime_sum_ms;
	int64_t span_ms;
	uint32_t n_means;
	double slot_mean_ms[RESPAWN_TRACK_SLOTS + 1];
};

static void window_add(struct window *w, const struct respawn_slot *s, double f)
{
	w->starts += f * s->starts;
	w->exits += f * s->exits;
	w->failed += f * s->exits_failed;
	w->gaps += f * s->gaps;
	w->gap_sum_ms += f * (double)s->gap_sum_ms;
	w->gap_sumsq_ms2 += f * (double)s->gap_sumsq_ms2;
	w->lifetime_sum_ms += f * (double)s->lifetime_sum_ms;
	if (s->gaps)
		w->slot_mean_ms[w->n_means++] = (double)s->gap_sum_ms / s->gaps;
}

/*
 * The slots that lie wholly in the last window: the window then spans
 * between window - one slot and window. A slot that straddles the start is
 * left out, except when it is the only slot with any duration (samples
 * sparser than the window, or the first sample after a long pause): then
 * the part inside the window is counted, as if its events were spread
 * evenly. Counting it whole would make, say, 5 failures over two hours look
 * like 5 failures in 5 minutes.
 */
static void window_sum(const struct respawn_track *t, struct window *w)
{
	int64_t now = t->last.now_ms, from = time_sub(now, t->window_ms), end = now;
	int covered = 0;

	memset(w, 0, sizeof(*w));
	for (uint32_t k = 0; k <= t->n_slots; k++) {
		const struct respawn_slot *s;
		int64_t dur, begin;

		if (k == 0) {
			s = &t->open;
			dur = time_sub(now, t->open_begin_ms);
			if (dur < 0)
				dur = 0;
		} else {
			/* k = 1 is ring[head], the newest closed slot. */
			s = &t->ring[(t->head + RESPAWN_TRACK_SLOTS + 1 - k) % RESPAWN_TRACK_SLOTS];
			dur = s->dur_ms;
		}
		begin = time_sub(end, dur);
		if (begin < from) {
			if (!covered && dur > 0) {
				window_add(w, s, (double)time_sub(end, from) / (double)dur);
				w->span_ms = time_sub(now, from);
			}
			break;
		}
		window_add(w, s, 1.0);
		w->span_ms = time_sub(now, begin);
		if (dur > 0)
			covered = 1;
		end = begin;
	}
}

static double gap_mean_ms(double gaps, double sum_ms)
{
	return gaps > 0 ? sum_ms / gaps : NAN;
}

/* Population stdev of the gaps; NaN without any gap. */
static double gap_stdev_ms(double gaps, double sum_ms, double sumsq_ms2)
{
	double whole, var;

	if (!(gaps > 0))
		return NAN;
	/*
	 * The kernel squares whole milliseconds (gap_ns / 1000000), on average
	 * 0.5 ms short of the exact gap the mean comes from. Taking the mean
	 * 0.5 ms short too cancels that bias (what remains is the 1/12 ms^2 of
	 * the rounding itself); otherwise every gap would lose about its own
	 * length in ms from the variance, and regular loops would read as 0.
	 */
	whole = sum_ms / gaps;
	whole = whole > 0.5 ? whole - 0.5 : 0;
	var = sumsq_ms2 / gaps - whole * whole;
	return var > 0 ? sqrt(var) : 0;
}

/* failed/exits in [0, 1]: two counters read apart may be momentarily out of step. */
static double fail_ratio_of(double failed, double exits)
{
	double r;

	if (!(exits > 0))
		return NAN;
	r = failed / exits;
	return r < 1 ? r : 1;
}

/* How long the loop must stay silent for its storm to be over. */
static int64_t quiet_time_ms(const struct respawn_detector_config *c, double period, double stdev)
{
	int64_t lo = c->quiet_min_ms > 0 ? c->quiet_min_ms : 0;
	int64_t hi = c->quiet_max_ms > 0 ? c->quiet_max_ms : 0;
	double q = NAN;
	int64_t r;

	if (period > 0) {
		q = 3 * period;
		if (stdev > 0 && period + 3 * stdev > q)
			q = period + 3 * stdev;
	}
	/* Clamped as double first: converting an out-of-range double to an integer is undefined. */
	if (!(q > (double)lo))
		r = lo;
	else if (q >= (double)hi)
		r = hi;
	else
		r = (int64_t)q;
	/* The cap wins over the floor when the two are set the wrong way round. */
	return r < hi ? r : hi;
}

static int loop_failing(const struct window *w, const struct respawn_detector_config *c)
{
	double min_starts = c->min_starts ? (double)c->min_starts : 1;

	return w->starts >= min_starts && w->failed > 0 &&
	       fail_ratio_of(w->failed, w->exits) >= c->fail_ratio;
}

static int loop_fast(const struct window *w, const struct respawn_detector_config *c,
		     double period, double lifetime)
{
	double min_starts = c->fast_min_starts ? (double)c->fast_min_starts : 1;

	/*
	 * They must die about as fast as they come (not a pool of workers started
	 * together) and one after the other (a loop, not a parallel build whose
	 * jobs outlive the gap between two of them).
	 */
	return period <= (double)c->fast_period_ms && w->starts >= min_starts &&
	       w->exits * 2 >= w->starts && lifetime <= period;
}

static int is_periodic(const struct respawn_track *t, const struct window *w,
		       const struct respawn_detector_config *c, int64_t quiet_for)
{
	double min_gaps = c->periodic_min_gaps > 2 ? (double)c->periodic_min_gaps : 2;
	double gaps = w->gaps, sum_ms = w->gap_sum_ms, sumsq = w->gap_sumsq_ms2;
	double exits = w->exits, failed = w->failed, mean, stdev;

	if (gaps < min_gaps) {
		/*
		 * A job every 5 min shows one gap in a 5-min window: judge it on
		 * everything the kernel counted for it instead.
		 */
		gaps = (double)t->last.gaps;
		sum_ms = (double)t->last.gap_sum_ns / 1e6;
		sumsq = (double)t->last.gap_sumsq_ms2;
		exits = (double)t->last.exits;
		failed = (double)t->last.exits_failed;
	}
	if (gaps < min_gaps || !(exits > 0))
		return 0;
	mean = sum_ms / gaps;
	stdev = gap_stdev_ms(gaps, sum_ms, sumsq);
	if (!(mean > 0) || !(stdev <= c->periodic_max_cv * mean))
		return 0;
	if (failed > 0 && fail_ratio_of(failed, exits) >= c->fail_ratio)
		return 0;
	/* A schedule that stopped is no schedule: allow one missed run, not two. */
	return (double)quiet_for <= 2 * mean;
}

static enum respawn_transition classify(struct respawn_track *t,
					const struct respawn_detector_config *c)
{
	int64_t now = t->last.now_ms, quiet_for = INT64_MAX, quiet_need;
	double period, stdev, lifetime;
	struct window w;

	window_sum(t, &w);
	period = gap_mean_ms(w.gaps, w.gap_sum_ms);
	stdev = gap_stdev_ms(w.gaps, w.gap_sum_ms, w.gap_sumsq_ms2);
	lifetime = w.exits > 0 ? w.lifetime_sum_ms / w.exits : NAN;
	if (t->last_start_ms > 0) {
		quiet_for = time_sub(now, t->last_start_ms);
		if (quiet_for < 0)
			quiet_for = 0;
	}
	quiet_need = quiet_time_ms(c, period, stdev);

	if (t->cls == RESPAWN_STORM) {
		/*
		 * The loop's own rhythm says how long a silence ends it. Its gaps
		 * stay in the window while it is quiet; past that, keep the last.
		 */
		if (period > 0)
			t->quiet_ms = quiet_need;
		if (quiet_for < t->quiet_ms)
			return RESPAWN_NO_CHANGE;
		/* The storm's starts are still in the window: only a new start may flag another. */
		t->wait_start = 1;
		t->cls = is_periodic(t, &w, c, quiet_for) ? RESPAWN_PERIODIC : RESPAWN_NORMAL;
		return RESPAWN_STORM_ENDED;
	}
	if (!t->wait_start && quiet_for < quiet_need &&
	    (loop_failing(&w, c) || loop_fast(&w, c, period, lifetime))) {
		t->cls = RESPAWN_STORM;
		t->storm_since_ms = now;
		t->quiet_ms = quiet_need;
		return RESPAWN_STORM_STARTED;
	}
	t->cls = is_periodic(t, &w, c, quiet_for) ? RESPAWN_PERIODIC : RESPAWN_NORMAL;
	return RESPAWN_NO_CHANGE;
}

enum respawn_transition respawn_track_observe(struct respawn_track *t,
					      const struct respawn_detector_config *c,
					      const struct respawn_sample *s)
{
	int64_t window = config_window(c), spacing = window / RESPAWN_TRACK_SLOTS;
	int64_t last_start = s->last_start_ms, open_for;
	uint64_t new_starts = 0;

	t->window_ms = window;
	if (spacing < 1)
		spacing = 1;
	/*
	 * The kernel never lowers a counter; a lower one means its entry was
	 * deleted and made again. What happened between the two samples is
	 * lost: take this sample as the new baseline and keep the history.
	 */
	if (!counters_went_back(&t->last, s)) {
		new_starts = s->starts - t->last.starts;
		slot_add(&t->open, &t->last, s);
	}
	/*
	 * Follow the caller's start time even when it goes back: it moves with
	 * the wall clock, like now_ms. A caller that keeps none still gets
	 * quiet times, to the sample.
	 */
	if (new_starts && last_start <= t->last.last_start_ms)
		t->last_start_ms = s->now_ms;
	else if (last_start > 0)
		t->last_start_ms = last_start;
	if (new_starts)
		t->wait_start = 0;
	t->last = *s;

	open_for = time_sub(s->now_ms, t->open_begin_ms);
	if (open_for < 0)
		t->open_begin_ms = s->now_ms; /* the clock went back: shift the history */
	else if (open_for >= spacing)
		close_open_slot(t, s->now_ms);
	return classify(t, c);
}

static uint64_t count_of(double x)
{
	if (!(x > 0))
		return 0;
	if (x >= 1.8e19)
		return UINT64_MAX;
	return (uint64_t)(x + 0.5);
}

static double median_of(double *v, uint32_t n)
{
	if (!n)
		return NAN;
	for (uint32_t i = 1; i < n; i++) {
		double x = v[i];
		uint32_t j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void respawn_track_figures(const struct respawn_track *t, struct respawn_figures *ret)
{
	struct window w;

	window_sum(t, &w);
	memset(ret, 0, sizeof(*ret));
	ret->cls = t->cls;
	ret->window_starts = count_of(w.starts);
	ret->window_failed = count_of(w.failed);
	ret->window_exits = count_of(w.exits);
	ret->period_ms = gap_mean_ms(w.gaps, w.gap_sum_ms);
	ret->period_stdev_ms = gap_stdev_ms(w.gaps, w.gap_sum_ms, w.gap_sumsq_ms2);
	ret->median_period_ms = median_of(w.slot_mean_ms, w.n_means);
	ret->lifetime_ms = w.exits > 0 ? w.lifetime_sum_ms / w.exits : NAN;
	ret->fail_ratio = fail_ratio_of(w.failed, w.exits);
	ret->storm_since_ms = t->storm_since_ms;
	ret->window_span_ms = w.span_ms;
}
