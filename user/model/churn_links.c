// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churn_links.h"
#include "figures.h"

#define INDEX_SLOTS (2 * CHURN_MAX_NAMES)
#define MAX_STORMS 32

struct point {
	int64_t t_ms;
	float value;
	uint32_t starts;
};

/* What a name was lately: its figure now and a point each tick. */
struct history {
	char name[FIG_UNIT_NAME_MAX];
	uint32_t hash;
	int candidate;
	int count; /* its figure is a count, not KiB (kernel:dying_cgroups) */
	int64_t seen_ms;
	double value;
	uint64_t starts;
	uint64_t starts_before; /* its starts before this run first saw it */
	struct point p[CHURN_HISTORY]; /* ring, oldest at (head - n) */
	uint32_t head, n;
};

struct pair {
	int used;
	uint32_t storm; /* index into storms */
	uint32_t cand;	/* index into hist */
	int said;	/* its start was said (not suppressed for another storm) */
	int ambiguous;	/* with the storm in other */
	uint32_t other;
	struct churn_growth g;
};

struct storm {
	int used;
	int seen; /* in this sample's list */
	char unit[FIG_UNIT_NAME_MAX];
	int64_t since_ms;
	uint64_t starts;
	int64_t refill_ms;
};

struct churn_links {
	struct history *hist;
	int32_t *index; /* open addressing by name hash; -1 empty */
	uint32_t n_hist;
	struct pair *pairs;
	struct storm storms[MAX_STORMS];
	int64_t tick_ms;
	uint64_t dropped;
	struct churn_growth_config cfg, cfg_count;
};

static uint32_t hash_of(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

struct churn_links *churn_links__new(void)
{
	struct churn_links *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->hist = calloc(CHURN_MAX_NAMES, sizeof(*c->hist));
	c->index = malloc(INDEX_SLOTS * sizeof(*c->index));
	c->pairs = calloc(CHURN_MAX_PAIRS, sizeof(*c->pairs));
	if (!c->hist || !c->index || !c->pairs) {
		churn_links__free(c);
		return NULL;
	}
	memset(c->index, -1, INDEX_SLOTS * sizeof(*c->index));
	churn_growth_config_default(&c->cfg);
	c->cfg_count = c->cfg;
	/* A dying cgroup a start is worth saying: half of one per start or more. */
	c->cfg_count.min_per_start = 0.5;
	return c;
}

void churn_links__free(struct churn_links *c)
{
	if (!c)
		return;
	free(c->hist);
	free(c->index);
	free(c->pairs);
	free(c);
}

static int32_t *slot_of(struct churn_links *c, const char *name, uint32_t h)
{
	uint32_t i = h & (INDEX_SLOTS - 1);

	for (uint32_t probe = 0; probe < INDEX_SLOTS; probe++, i = (i + 1) & (INDEX_SLOTS - 1)) {
		int32_t k = c->index[i];

		if (k < 0 || (c->hist[k].hash == h && strcmp(c->hist[k].name, name) == 0))
			return &c->index[i];
	}
	return NULL;
}

/*
 * Full: the names unseen for CHURN_FORGET_MS go (none a pair follows), the
 * rest are moved down and indexed again; pairs follow their names.
 */
static void forget_stale(struct churn_links *c, int64_t now_ms)
{
	int32_t *moved = malloc(CHURN_MAX_NAMES * sizeof(*moved));
	uint8_t *paired = calloc(CHURN_MAX_NAMES, 1);
	uint32_t n = 0;

	if (!moved || !paired)
		goto out;
	for (uint32_t i = 0; i < CHURN_MAX_PAIRS; i++)
		if (c->pairs[i].used)
			paired[c->pairs[i].cand] = 1;
	for (uint32_t i = 0; i < c->n_hist; i++) {
		moved[i] = -1;
		if (!paired[i] && now_ms - c->hist[i].seen_ms > CHURN_FORGET_MS)
			continue;
		if (n != i)
			c->hist[n] = c->hist[i];
		moved[i] = (int32_t)n++;
	}
	c->n_hist = n;
	memset(c->index, -1, INDEX_SLOTS * sizeof(*c->index));
	for (uint32_t i = 0; i < n; i++)
		*slot_of(c, c->hist[i].name, c->hist[i].hash) = (int32_t)i;
	for (uint32_t i = 0; i < CHURN_MAX_PAIRS; i++)
		if (c->pairs[i].used)
			c->pairs[i].cand = (uint32_t)moved[c->pairs[i].cand];
out:
	free(moved);
	free(paired);
}

static struct history *history_of(struct churn_links *c, const char *name, int64_t now_ms, int create)
{
	uint32_t h = hash_of(name);
	int32_t *slot = slot_of(c, name, h);
	struct history *e;

	if (slot && *slot >= 0)
		return &c->hist[*slot];
	if (!create)
		return NULL;
	if (c->n_hist >= CHURN_MAX_NAMES) {
		forget_stale(c, now_ms);
		if (c->n_hist >= CHURN_MAX_NAMES)
			return NULL;
		slot = slot_of(c, name, h);
	}
	if (!slot)
		return NULL;
	*slot = (int32_t)c->n_hist;
	e = &c->hist[c->n_hist++];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->hash = h;
	e->count = strcmp(name, "kernel:dying_cgroups") == 0;
	return e;
}

void churn_links__record(struct churn_links *c, const char *name, int64_t now_ms, double value,
			 uint64_t starts, uint64_t starts_before, int candidate)
{
	struct history *e;

	if (!c || !name || !isfinite(value) || value < 0)
		return;
	e = history_of(c, name, now_ms, 1);
	if (!e)
		return;
	if (!e->seen_ms)
		e->starts_before = starts_before;
	e->seen_ms = now_ms;
	e->value = value;
	e->starts = starts;
	e->candidate = candidate;
}

/* A point for every name seen this sample, at most every CHURN_TICK_MS, on one clock. */
static void tick(struct churn_links *c, int64_t now_ms)
{
	if (c->tick_ms && now_ms - c->tick_ms < CHURN_TICK_MS)
		return;
	c->tick_ms = now_ms;
	for (uint32_t i = 0; i < c->n_hist; i++) {
		struct history *e = &c->hist[i];

		if (e->seen_ms != now_ms)
			continue;
		e->p[e->head] = (struct point){ now_ms, (float)e->value, (uint32_t)e->starts };
		e->head = (e->head + 1) % CHURN_HISTORY;
		if (e->n < CHURN_HISTORY)
			e->n++;
	}
}

static const struct point *point_at(const struct history *e, uint32_t k)
{
	return &e->p[(e->head + CHURN_HISTORY - e->n + k) % CHURN_HISTORY];
}

/*
 * The storm unit's starts at time t: its point then, or the nearest before;
 * before it was first seen, what it had then (a unit that appears with the
 * storm, like a getty systemd starts for the first time, had not started
 * before: its pre-window is flat, which is what tells per start from per
 * second); a storm unit first seen this very sample has no point yet, only
 * that. -1: never seen.
 */
static int64_t starts_at(const struct history *s, int64_t t_ms)
{
	int64_t best = -1;

	if (!s)
		return -1;
	for (uint32_t k = 0; k < s->n; k++) {
		const struct point *p = point_at(s, k);

		if (p->t_ms > t_ms)
			break;
		best = p->starts;
	}
	/* Before its first point: only if that point is its first sight (the ring did not drop older ones). */
	if (best < 0 && s->n < CHURN_HISTORY)
		best = (int64_t)s->starts_before;
	return best;
}

static const struct churn_growth_config *cfg_of(const struct churn_links *c, const struct history *e)
{
	return e->count ? &c->cfg_count : &c->cfg;
}

static int pair_exists(const struct churn_links *c, uint32_t storm, uint32_t cand)
{
	for (uint32_t i = 0; i < CHURN_MAX_PAIRS; i++)
		if (c->pairs[i].used && c->pairs[i].storm == storm && c->pairs[i].cand == cand)
			return 1;
	return 0;
}

/* A pair, its tracker fed first with what the histories hold (the pre-window). */
static void add_pair(struct churn_links *c, uint32_t storm, uint32_t cand)
{
	struct storm *st = &c->storms[storm];
	const struct history *e = &c->hist[cand];
	const struct history *s = history_of(c, st->unit, 0, 0);
	struct pair *p = NULL;

	for (uint32_t i = 0; i < CHURN_MAX_PAIRS && !p; i++)
		if (!c->pairs[i].used)
			p = &c->pairs[i];
	if (!p) {
		c->dropped++;
		return;
	}
	memset(p, 0, sizeof(*p));
	p->used = 1;
	p->storm = storm;
	p->cand = cand;
	churn_growth_init(&p->g, st->since_ms);
	for (uint32_t k = 0; k < e->n; k++) {
		const struct point *q = point_at(e, k);
		int64_t n = starts_at(s, q->t_ms);

		if (n >= 0)
			churn_growth_observe(&p->g, cfg_of(c, e), q->t_ms, (uint64_t)n, q->value);
	}
}

/* How much a name grew over its history: candidates are taken fastest first. */
static double grown(const struct history *e)
{
	return e->n ? e->value - point_at(e, 0)->value : 0;
}

static int grown_cmp(const void *a, const void *b, void *ctx)
{
	const struct churn_links *c = ctx;
	double x = grown(&c->hist[*(const uint32_t *)a]), y = grown(&c->hist[*(const uint32_t *)b]);

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The kernel figures, then the names that grew most, up to CHURN_PAIRS_PER_STORM per storm. */
static void fill_pairs(struct churn_links *c, uint32_t storm, int64_t now_ms)
{
	uint32_t *order = malloc(c->n_hist * sizeof(*order) + 1), n = 0, have = 0;

	if (!order)
		return;
	for (uint32_t i = 0; i < CHURN_MAX_PAIRS; i++)
		have += c->pairs[i].used && c->pairs[i].storm == storm;
	for (uint32_t i = 0; i < c->n_hist; i++) {
		const struct history *e = &c->hist[i];

		if (!e->candidate || e->seen_ms != now_ms || strcmp(e->name, c->storms[storm].unit) == 0 ||
		    pair_exists(c, storm, i))
			continue;
		if (strncmp(e->name, "kernel:", 7) == 0)
			add_pair(c, storm, i);
		else
			order[n++] = i;
	}
	qsort_r(order, n, sizeof(*order), grown_cmp, c);
	for (uint32_t i = 0; i < n && have < CHURN_PAIRS_PER_STORM; i++) {
		if (grown(&c->hist[order[i]]) <= 0)
			break;
		add_pair(c, storm, order[i]);
		have++;
	}
	free(order);
}

static void say(const struct churn_links *c, const struct pair *p, int started, int ongoing,
		churn_link_fn fn, void *ctx)
{
	struct churn_link_event e = { .started = started, .ongoing = ongoing,
				      .storm_unit = c->storms[p->storm].unit,
				      .growing = c->hist[p->cand].name };

	if (p->ambiguous)
		e.ambiguous_with = c->storms[p->other].unit;
	churn_growth_result(&p->g, &e.res);
	if (fn)
		fn(ctx, &e);
}

/*
 * A link starting while the same candidate grows with another storm: whose is
 * it? Suppressed when the other's alone; ambiguous when it cannot be told.
 */
static void attribute(struct churn_links *c, struct pair *p)
{
	p->said = 1;
	for (uint32_t i = 0; i < CHURN_MAX_PAIRS; i++) {
		struct pair *o = &c->pairs[i];
		struct churn_growth_result r;
		struct churn_growth_pick_result pick;

		if (!o->used || o == p || o->cand != p->cand)
			continue;
		churn_growth_result(&o->g, &r);
		if (!r.growing)
			continue;
		churn_growth_pick(&p->g, &o->g, cfg_of(c, &c->hist[p->cand]), &pick);
		if (pick.pick == CHURN_GROWTH_PICK_B) {
			p->said = 0;
		} else if (pick.pick == CHURN_GROWTH_PICK_AMBIGUOUS) {
			p->ambiguous = 1;
			p->other = o->storm;
		}
	}
}

static void release_pair(struct churn_links *c, struct pair *p, int64_t now_ms, churn_link_fn fn,
			 void *ctx)
{
	if (churn_growth_storm_ended(&p->g, now_ms) == CHURN_GROWTH_LINK_ENDED && p->said)
		say(c, p, 0, 0, fn, ctx);
	p->used = 0;
}

uint64_t churn_links__observe(struct churn_links *c, int64_t now_ms, const struct churn_storm *storms,
			      uint32_t n_storms, churn_link_fn fn, void *ctx)
{
	if (!c)
		return 0;
	tick(c, now_ms);
	for (uint32_t k = 0; k < MAX_STORMS; k++)
		c->storms[k].seen = 0;
	/* New storms get their pairs; known ones their starts now. */
	for (uint32_t i = 0; i < n_storms; i++) {
		int32_t at = -1, free_at = -1;

		for (uint32_t k = 0; k < MAX_STORMS; k++) {
			if (c->storms[k].used && strcmp(c->storms[k].unit, storms[i].unit) == 0)
				at = (int32_t)k;
			else if (!c->storms[k].used && free_at < 0)
				free_at = (int32_t)k;
		}
		if (at < 0 && free_at < 0) {
			c->dropped++;
			continue;
		}
		if (at < 0) {
			struct storm *st = &c->storms[free_at];

			memset(st, 0, sizeof(*st));
			st->used = 1;
			snprintf(st->unit, sizeof(st->unit), "%s", storms[i].unit);
			st->since_ms = storms[i].since_ms;
			st->refill_ms = now_ms;
			at = free_at;
			fill_pairs(c, (uint32_t)at, now_ms);
		}
		c->storms[at].seen = 1;
		c->storms[at].starts = storms[i].starts;
		if (now_ms - c->storms[at].refill_ms >= CHURN_REFILL_MS) {
			c->storms[at].refill_ms = now_ms;
			fill_pairs(c, (uint32_t)at, now_ms);
		}
	}
	/* Each pair: its storm over, or this sample's figures. */
	for (uint32_t i = 0; i < CHURN_MAX_PAIRS; i++) {
		struct pair *p = &c->pairs[i];
		const struct history *e;
		enum churn_growth_transition tr;

		if (!p->used)
			continue;
		if (!c->storms[p->storm].seen) {
			release_pair(c, p, now_ms, fn, ctx);
			continue;
		}
		e = &c->hist[p->cand];
		if (e->seen_ms != now_ms)
			continue; /* its processes are gone: nothing new to fit */
		tr = churn_growth_observe(&p->g, cfg_of(c, e), now_ms, c->storms[p->storm].starts, e->value);
		if (tr == CHURN_GROWTH_LINK_STARTED) {
			attribute(c, p);
			if (p->said)
				say(c, p, 1, 0, fn, ctx);
		} else if (tr == CHURN_GROWTH_LINK_ENDED) {
			if (p->said)
				say(c, p, 0, 0, fn, ctx);
			p->said = 0;
		} else if (p->said) {
			say(c, p, 1, 1, fn, ctx);
		}
	}
	for (uint32_t k = 0; k < MAX_STORMS; k++)
		if (c->storms[k].used && !c->storms[k].seen)
			c->storms[k].used = 0;
	return c->dropped;
}

uint32_t churn_links__each_link(const struct churn_links *c, churn_link_fn fn, void *ctx)
{
	uint32_t n = 0;

	for (uint32_t i = 0; c && i < CHURN_MAX_PAIRS; i++) {
		if (!c->pairs[i].used || !c->pairs[i].said)
			continue;
		say(c, &c->pairs[i], 1, 1, fn, ctx);
		n++;
	}
	return n;
}
