// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "figures.h"

/*
 * Grows a fig_* array so one more element fits. The new slot is zeroed by the
 * caller; the count is not touched so a failed grow leaves the array as it was.
 */
static int grow(void **arr, uint32_t *cap, uint32_t n, size_t elem)
{
	uint32_t new_cap;
	void *p;

	if (n < *cap)
		return 0;
	new_cap = *cap ? *cap * 2 : 4;
	p = realloc(*arr, (size_t)new_cap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = new_cap;
	return 0;
}

/*
 * Names longer than their field are cut, on lookup as on insert, so that the
 * same long name always lands on the same entry.
 */
static void copy_name(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	memset(dst + n, 0, size - n);
}

/* field (NUL-terminated within size) equals name as copy_name() would store it. */
static int name_eq(const char *field, size_t size, const char *name)
{
	size_t n = strnlen(name, size - 1);

	return strncmp(field, name, n) == 0 && field[n] == '\0';
}

static void unit_free(struct fig_unit *u)
{
	free(u->exes);
	u->exes = NULL;
	u->n_exes = 0;
	u->cap_exes = 0;
}

static void boot_free(struct fig_boot *b)
{
	for (uint32_t i = 0; i < b->n_units; i++)
		unit_free(&b->units[i]);
	free(b->units);
	b->units = NULL;
	b->n_units = 0;
	b->cap_units = 0;
}

void fig_state_init(struct fig_state *s)
{
	if (s)
		memset(s, 0, sizeof(*s));
}

void fig_state_free(struct fig_state *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->n_boots; i++)
		boot_free(&s->boots[i]);
	free(s->boots);
	fig_state_init(s);
}

static int unit_copy(struct fig_unit *dst, const struct fig_unit *src)
{
	*dst = *src;
	dst->exes = NULL;
	dst->cap_exes = 0;
	if (!src->n_exes) {
		dst->n_exes = 0;
		return 0;
	}
	dst->exes = malloc((size_t)src->n_exes * sizeof(*src->exes));
	if (!dst->exes) {
		dst->n_exes = 0;
		return -ENOMEM;
	}
	memcpy(dst->exes, src->exes, (size_t)src->n_exes * sizeof(*src->exes));
	dst->cap_exes = src->n_exes;
	return 0;
}

static int boot_copy(struct fig_boot *dst, const struct fig_boot *src)
{
	*dst = *src;
	dst->units = NULL;
	dst->n_units = 0;
	dst->cap_units = 0;
	if (!src->n_units)
		return 0;
	dst->units = calloc(src->n_units, sizeof(*src->units));
	if (!dst->units)
		return -ENOMEM;
	dst->cap_units = src->n_units;
	for (uint32_t i = 0; i < src->n_units; i++) {
		/* Counted before the copy so boot_free() sees a partly copied unit. */
		dst->n_units++;
		if (unit_copy(&dst->units[i], &src->units[i]))
			return -ENOMEM;
	}
	return 0;
}

int fig_state_copy(struct fig_state *dst, const struct fig_state *src)
{
	*dst = *src;
	dst->boots = NULL;
	dst->n_boots = 0;
	dst->cap_boots = 0;
	if (!src->n_boots)
		return 0;
	dst->boots = calloc(src->n_boots, sizeof(*src->boots));
	if (!dst->boots)
		goto nomem;
	dst->cap_boots = src->n_boots;
	for (uint32_t i = 0; i < src->n_boots; i++) {
		dst->n_boots++;
		if (boot_copy(&dst->boots[i], &src->boots[i]))
			goto nomem;
	}
	return 0;
nomem:
	fig_state_free(dst);
	return -ENOMEM;
}

const struct fig_boot *fig_state_find_boot(const struct fig_state *s, const char *boot_id)
{
	if (!s || !boot_id)
		return NULL;
	for (uint32_t i = 0; i < s->n_boots; i++)
		if (name_eq(s->boots[i].boot_id, FIG_BOOT_ID_MAX, boot_id))
			return &s->boots[i];
	return NULL;
}

struct fig_boot *fig_state_boot(struct fig_state *s, const char *boot_id)
{
	struct fig_boot *b;

	if (!s || !boot_id) {
		errno = EINVAL;
		return NULL;
	}
	b = (struct fig_boot *)fig_state_find_boot(s, boot_id);
	if (b)
		return b;
	if (s->n_boots >= FIG_MAX_BOOTS) {
		/* Boots are appended in time order, so boots[0] is the oldest. */
		boot_free(&s->boots[0]);
		memmove(&s->boots[0], &s->boots[1], (s->n_boots - 1) * sizeof(*s->boots));
		s->n_boots--;
		s->boots_dropped++;
	}
	if (grow((void **)&s->boots, &s->cap_boots, s->n_boots, sizeof(*s->boots))) {
		errno = ENOMEM;
		return NULL;
	}
	b = &s->boots[s->n_boots++];
	memset(b, 0, sizeof(*b));
	copy_name(b->boot_id, sizeof(b->boot_id), boot_id);
	return b;
}

const struct fig_unit *fig_boot_find_unit(const struct fig_boot *b, const char *name)
{
	if (!b || !name)
		return NULL;
	/* Linear: a few hundred units per boot is the norm and the bound is 4096. */
	for (uint32_t i = 0; i < b->n_units; i++)
		if (name_eq(b->units[i].name, FIG_UNIT_NAME_MAX, name))
			return &b->units[i];
	return NULL;
}

struct fig_unit *fig_boot_unit(struct fig_boot *b, const char *name)
{
	struct fig_unit *u;

	if (!b || !name) {
		errno = EINVAL;
		return NULL;
	}
	u = (struct fig_unit *)fig_boot_find_unit(b, name);
	if (u)
		return u;
	if (b->n_units >= FIG_MAX_UNITS) {
		b->units_dropped++;
		errno = ENOSPC;
		return NULL;
	}
	if (grow((void **)&b->units, &b->cap_units, b->n_units, sizeof(*b->units))) {
		errno = ENOMEM;
		return NULL;
	}
	u = &b->units[b->n_units++];
	memset(u, 0, sizeof(*u));
	copy_name(u->name, sizeof(u->name), name);
	return u;
}

const struct fig_exe *fig_unit_find_exe(const struct fig_unit *u, const char *path)
{
	if (!u || !path)
		return NULL;
	for (uint32_t i = 0; i < u->n_exes; i++)
		if (name_eq(u->exes[i].path, RCA_EXE_PATH_LEN, path))
			return &u->exes[i];
	return NULL;
}

static struct fig_exe *unit_add_exe(struct fig_unit *u, const char *path)
{
	struct fig_exe *e;

	if (grow((void **)&u->exes, &u->cap_exes, u->n_exes, sizeof(*u->exes))) {
		errno = ENOMEM;
		return NULL;
	}
	e = &u->exes[u->n_exes++];
	memset(e, 0, sizeof(*e));
	copy_name(e->path, sizeof(e->path), path);
	return e;
}

struct fig_exe *fig_unit_exe(struct fig_unit *u, const char *path)
{
	struct fig_exe *e;

	if (!u || !path) {
		errno = EINVAL;
		return NULL;
	}
	e = (struct fig_exe *)fig_unit_find_exe(u, path);
	if (e)
		return e;
	if (u->n_exes < FIG_MAX_EXES_PER_UNIT)
		return unit_add_exe(u, path);
	/*
	 * Full: a unit that runs a new binary every time (a shell loop, a
	 * build) must not grow without end, but its starts and exits still
	 * count, in one extra "(other)" entry.
	 */
	e = (struct fig_exe *)fig_unit_find_exe(u, FIG_OTHER_EXE);
	if (!e) {
		if (u->n_exes > FIG_MAX_EXES_PER_UNIT) {
			/* Only with a unit read from a file: no room even for "(other)". */
			u->exes_dropped++;
			errno = ENOSPC;
			return NULL;
		}
		e = unit_add_exe(u, FIG_OTHER_EXE);
		if (!e)
			return NULL;
	}
	u->exes_dropped++;
	return e;
}

void fig_exe_add_status(struct fig_exe *e, uint32_t kind, uint32_t value, uint64_t count)
{
	uint32_t n = e->n_status < FIG_MAX_STATUS ? e->n_status : FIG_MAX_STATUS;

	for (uint32_t i = 0; i < n; i++) {
		if (e->status[i].kind == kind && e->status[i].value == value) {
			e->status[i].count += count;
			return;
		}
	}
	if (n >= FIG_MAX_STATUS) {
		e->status_other += count;
		return;
	}
	e->status[n].kind = kind;
	e->status[n].value = value;
	e->status[n].count = count;
	e->n_status = n + 1;
}

/* Earliest known time: 0 means unknown, not 1970. */
static int64_t min_known(int64_t a, int64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t exe_latest_ms(const struct fig_exe *e)
{
	return max64(e->last_start_ms, e->last_exit_ms);
}

void fig_exe_merge(struct fig_exe *dst, const struct fig_exe *src)
{
	/* Decided before the times below move dst forward. */
	int src_newer = exe_latest_ms(src) >= exe_latest_ms(dst);
	uint32_t n = src->n_status < FIG_MAX_STATUS ? src->n_status : FIG_MAX_STATUS;

	dst->starts += src->starts;
	dst->exits += src->exits;
	dst->exits_failed += src->exits_failed;
	dst->first_start_ms = min_known(dst->first_start_ms, src->first_start_ms);
	dst->last_start_ms = max64(dst->last_start_ms, src->last_start_ms);
	dst->last_exit_ms = max64(dst->last_exit_ms, src->last_exit_ms);
	dst->gaps += src->gaps;
	dst->gap_sum_ns += src->gap_sum_ns;
	dst->gap_sumsq_ms2 += src->gap_sumsq_ms2;
	dst->lifetime_sum_us += src->lifetime_sum_us;
	for (int i = 0; i < RCA_LIFETIME_BUCKETS; i++)
		dst->lifetime_hist[i] += src->lifetime_hist[i];
	for (uint32_t i = 0; i < n; i++)
		fig_exe_add_status(dst, src->status[i].kind, src->status[i].value,
				   src->status[i].count);
	dst->status_other += src->status_other;
	/* storms is a counter; the class is a verdict, so the newer one wins. */
	dst->storms += src->storms;
	if (src_newer)
		dst->respawn_class = src->respawn_class;
	dst->storm_since_ms = max64(dst->storm_since_ms, src->storm_since_ms);
}

int fig_unit_merge(struct fig_unit *dst, const struct fig_unit *src)
{
	int ret = 0;

	dst->forks += src->forks;
	dst->threads += src->threads;
	dst->execs += src->execs;
	dst->exits += src->exits;
	dst->exits_failed += src->exits_failed;
	dst->first_ms = min_known(dst->first_ms, src->first_ms);
	dst->last_ms = max64(dst->last_ms, src->last_ms);
	dst->exes_dropped += src->exes_dropped;
	for (uint32_t i = 0; i < src->n_exes; i++) {
		struct fig_exe *e = fig_unit_exe(dst, src->exes[i].path);

		if (!e) {
			/* ENOSPC is already counted in exes_dropped; carry on with the rest. */
			if (errno == ENOMEM)
				ret = -ENOMEM;
			continue;
		}
		fig_exe_merge(e, &src->exes[i]);
	}
	return ret;
}

int fig_boot_merge(struct fig_boot *dst, const struct fig_boot *src)
{
	int ret = 0;

	dst->first_ms = min_known(dst->first_ms, src->first_ms);
	dst->last_ms = max64(dst->last_ms, src->last_ms);
	dst->units_dropped += src->units_dropped;
	for (uint32_t i = 0; i < src->n_units; i++) {
		struct fig_unit *u = fig_boot_unit(dst, src->units[i].name);

		if (!u) {
			/* ENOSPC is already counted in units_dropped. */
			if (errno == ENOMEM)
				ret = -ENOMEM;
			continue;
		}
		if (fig_unit_merge(u, &src->units[i]))
			ret = -ENOMEM;
	}
	return ret;
}

double fig_exe_period_ms(const struct fig_exe *e)
{
	if (!e || !e->gaps)
		return NAN;
	return (double)e->gap_sum_ns / (double)e->gaps / 1e6;
}

double fig_exe_period_stdev_ms(const struct fig_exe *e)
{
	double mean, var;

	if (!e || !e->gaps)
		return NAN;
	mean = fig_exe_period_ms(e);
	/*
	 * The kernel squares whole (truncated) milliseconds: E[trunc(g)^2] is about
	 * (mean - 0.5)^2 + var + 1/12, so correct for that before subtracting.
	 */
	mean -= 0.5;
	var = (double)e->gap_sumsq_ms2 / (double)e->gaps - mean * mean - 1.0 / 12;
	return sqrt(var > 0 ? var : 0);
}

double fig_exe_lifetime_bucket_ms(int bucket)
{
	if (bucket <= 0)
		return 0;
	/* Geometric midpoint of [2^(i-1), 2^i) us: the buckets are log-spaced. */
	return ldexp(M_SQRT2, bucket - 1) / 1000.0;
}

/* Counts read from a state file can be anything: saturate rather than wrap. */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

double fig_exe_lifetime_pct_ms(const struct fig_exe *e, double pct)
{
	uint64_t total = 0, rank, seen = 0;
	double want;

	if (!e || isnan(pct))
		return NAN;
	for (int i = 0; i < RCA_LIFETIME_BUCKETS; i++)
		total = add_sat(total, e->lifetime_hist[i]);
	if (!total)
		return NAN;
	if (pct < 0)
		pct = 0;
	if (pct > 100)
		pct = 100;
	/* Nearest-rank: the smallest lifetime with at least pct% of exits at or below it. */
	want = ceil(pct / 100.0 * (double)total);
	/* (double)total may round up past UINT64_MAX, where the cast would be undefined. */
	rank = want >= (double)total ? total : (uint64_t)want;
	if (rank < 1)
		rank = 1;
	for (int i = 0; i < RCA_LIFETIME_BUCKETS; i++) {
		seen = add_sat(seen, e->lifetime_hist[i]);
		if (seen >= rank)
			return fig_exe_lifetime_bucket_ms(i);
	}
	return fig_exe_lifetime_bucket_ms(RCA_LIFETIME_BUCKETS - 1);
}

uint64_t fig_unit_status_count(const struct fig_unit *u, uint32_t kind, uint32_t value)
{
	uint64_t sum = 0;

	if (!u)
		return 0;
	for (uint32_t i = 0; i < u->n_exes; i++) {
		const struct fig_exe *e = &u->exes[i];
		uint32_t n = e->n_status < FIG_MAX_STATUS ? e->n_status : FIG_MAX_STATUS;

		for (uint32_t j = 0; j < n; j++)
			if (e->status[j].kind == kind && e->status[j].value == value)
				sum += e->status[j].count;
	}
	return sum;
}
