// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "unit_table.h"

#define EXE_CACHE_SLOTS 16384
#define MAX_TRACKS 4096
#define UNKNOWN_EXE "(unknown)"

struct exe_slot {
	uint64_t exe_id;
	char path[RCA_EXE_PATH_LEN];
};

struct track {
	char unit[FIG_UNIT_NAME_MAX];
	char path[RCA_EXE_PATH_LEN];
	uint64_t storms; /* storms flagged by this run */
	struct respawn_track rt;
};

struct unit_table {
	struct fig_state state;   /* earlier boots + current boot (rebuilt each end()) */
	struct fig_boot base_cur; /* what the state file held for this boot at start */
	struct fig_boot retired;  /* cgroups that are gone, folded in */
	struct fig_boot live;     /* this sample's map contents */
	char boot_id[FIG_BOOT_ID_MAX];
	uint64_t base_lost[RCA_LOST_KIND_MAX];
	uint64_t base_unnamed;
	int64_t started_ms;
	unit_table_name_fn name;
	void *name_ctx;
	struct respawn_detector_config det;
	struct exe_slot *exes;
	struct track *tracks;
	uint32_t n_tracks;
	uint64_t tracks_dropped;
};

static void boot_clear(struct fig_boot *b)
{
	for (uint32_t i = 0; i < b->n_units; i++)
		free(b->units[i].exes);
	free(b->units);
	memset(b, 0, sizeof(*b));
}

struct unit_table *unit_table__new(const struct unit_table_opts *opts)
{
	struct unit_table *t = calloc(1, sizeof(*t));
	const struct fig_boot *b;

	if (!t)
		return NULL;
	fig_state_init(&t->state);
	t->exes = calloc(EXE_CACHE_SLOTS, sizeof(*t->exes));
	t->tracks = calloc(MAX_TRACKS, sizeof(*t->tracks));
	if (!t->exes || !t->tracks)
		goto fail;
	if (opts->base && fig_state_copy(&t->state, opts->base))
		goto fail;
	snprintf(t->boot_id, sizeof(t->boot_id), "%s", opts->boot_id ? opts->boot_id : "");
	b = fig_state_find_boot(&t->state, t->boot_id);
	if (b) {
		snprintf(t->base_cur.boot_id, sizeof(t->base_cur.boot_id), "%s", b->boot_id);
		t->base_cur.first_ms = b->first_ms;
		t->base_cur.last_ms = b->last_ms;
		fig_boot_merge(&t->base_cur, b);
	} else if (!fig_state_boot(&t->state, t->boot_id)) {
		goto fail;
	}
	memcpy(t->base_lost, t->state.lost, sizeof(t->base_lost));
	t->base_unnamed = t->state.units_unnamed;
	t->name = opts->name;
	t->name_ctx = opts->name_ctx;
	t->det = opts->detector;
	t->started_ms = clock_now_unix_ms();
	snprintf(t->retired.boot_id, sizeof(t->retired.boot_id), "%s", t->boot_id);
	snprintf(t->live.boot_id, sizeof(t->live.boot_id), "%s", t->boot_id);
	return t;
fail:
	unit_table__free(t);
	errno = ENOMEM;
	return NULL;
}

void unit_table__free(struct unit_table *t)
{
	if (!t)
		return;
	fig_state_free(&t->state);
	boot_clear(&t->base_cur);
	boot_clear(&t->retired);
	boot_clear(&t->live);
	free(t->exes);
	free(t->tracks);
	free(t);
}

void unit_table__begin(struct unit_table *t)
{
	boot_clear(&t->live);
	snprintf(t->live.boot_id, sizeof(t->live.boot_id), "%s", t->boot_id);
}

static struct exe_slot *exe_slot(struct unit_table *t, uint64_t exe_id)
{
	return &t->exes[(exe_id * 0x9E3779B97F4A7C15ULL >> 40) % EXE_CACHE_SLOTS];
}

void unit_table__learn_exe(struct unit_table *t, uint64_t exe_id, const char *path)
{
	struct exe_slot *s;

	if (!exe_id || !path || !path[0])
		return;
	s = exe_slot(t, exe_id);
	s->exe_id = exe_id;
	snprintf(s->path, sizeof(s->path), "%s", path);
}

static const char *exe_path(struct unit_table *t, uint64_t exe_id)
{
	struct exe_slot *s = exe_slot(t, exe_id);

	return exe_id && s->exe_id == exe_id ? s->path : UNKNOWN_EXE;
}

static int64_t to_ms(uint64_t boot_ns)
{
	return boot_ns ? clock_boot_ns_to_unix_ms(boot_ns) : 0;
}

static struct fig_unit *unit_for(struct unit_table *t, uint64_t cgroup_id, const char *leaf,
				 int retired)
{
	char name[FIG_UNIT_NAME_MAX];

	t->name(t->name_ctx, cgroup_id, leaf, name, sizeof(name));
	return fig_boot_unit(retired ? &t->retired : &t->live, name);
}

void unit_table__add_unit(struct unit_table *t, uint64_t cgroup_id, const struct rca_unit_stats *st,
			  int retired)
{
	char leaf[RCA_CGROUP_NAME_LEN + 1];
	struct fig_unit *u;
	int64_t first = to_ms(st->first_ns), last = to_ms(st->last_ns);

	memcpy(leaf, st->name, RCA_CGROUP_NAME_LEN);
	leaf[RCA_CGROUP_NAME_LEN] = '\0';
	u = unit_for(t, cgroup_id, leaf, retired);
	if (!u)
		return;
	u->forks += st->forks;
	u->threads += st->threads;
	u->execs += st->execs;
	u->exits += st->exits;
	u->exits_failed += st->exits_failed;
	if (first && (!u->first_ms || first < u->first_ms))
		u->first_ms = first;
	if (last > u->last_ms)
		u->last_ms = last;
}

static struct fig_exe *exe_for(struct unit_table *t, uint64_t cgroup_id, uint64_t exe_id,
			       int retired)
{
	struct fig_unit *u = unit_for(t, cgroup_id, NULL, retired);

	return u ? fig_unit_exe(u, exe_path(t, exe_id)) : NULL;
}

void unit_table__add_ledger(struct unit_table *t, const struct rca_ledger_key *key,
			    const struct rca_ledger *l, int retired)
{
	char path[RCA_EXE_PATH_LEN];
	struct fig_exe *e;
	int64_t ms;

	memcpy(path, l->path, sizeof(path));
	path[sizeof(path) - 1] = '\0';
	if (path[0] && exe_slot(t, key->exe_id)->exe_id != key->exe_id)
		unit_table__learn_exe(t, key->exe_id, path);
	e = exe_for(t, key->cgroup_id, key->exe_id, retired);
	if (!e)
		return;
	e->starts += l->starts;
	e->exits += l->exits;
	e->exits_failed += l->exits_failed;
	e->gaps += l->gaps;
	e->gap_sum_ns += l->gap_sum_ns;
	e->gap_sumsq_ms2 += l->gap_sumsq_ms2;
	e->lifetime_sum_us += l->lifetime_sum_us;
	for (int i = 0; i < RCA_LIFETIME_BUCKETS; i++)
		e->lifetime_hist[i] += l->lifetime_hist[i];
	ms = to_ms(l->first_start_ns);
	if (ms && (!e->first_start_ms || ms < e->first_start_ms))
		e->first_start_ms = ms;
	ms = to_ms(l->last_start_ns);
	if (ms > e->last_start_ms)
		e->last_start_ms = ms;
	ms = to_ms(l->last_exit_ns);
	if (ms > e->last_exit_ms)
		e->last_exit_ms = ms;
}

void unit_table__add_status(struct unit_table *t, const struct rca_status_key *key, uint64_t count,
			    int retired)
{
	struct fig_exe *e = exe_for(t, key->cgroup_id, key->exe_id, retired);

	if (e)
		fig_exe_add_status(e, key->kind, key->value, count);
}

void unit_table__set_lost(struct unit_table *t, const uint64_t lost[RCA_LOST_KIND_MAX],
			  uint64_t units_unnamed)
{
	for (int i = 0; i < RCA_LOST_KIND_MAX; i++)
		t->state.lost[i] = t->base_lost[i] + lost[i];
	t->state.units_unnamed = t->base_unnamed + units_unnamed;
}

static struct track *track_find(struct unit_table *t, const char *unit, const char *path)
{
	for (uint32_t i = 0; i < t->n_tracks; i++)
		if (strcmp(t->tracks[i].unit, unit) == 0 && strcmp(t->tracks[i].path, path) == 0)
			return &t->tracks[i];
	return NULL;
}

static void sample_of(const struct fig_exe *e, int64_t now_ms, struct respawn_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->now_ms = now_ms;
	s->starts = e->starts;
	s->exits = e->exits;
	s->exits_failed = e->exits_failed;
	s->gaps = e->gaps;
	s->gap_sum_ns = e->gap_sum_ns;
	s->gap_sumsq_ms2 = e->gap_sumsq_ms2;
	s->lifetime_sum_us = e->lifetime_sum_us;
	s->last_start_ms = e->last_start_ms;
}

/* The baseline of a newly tracked executable: zero if all its starts are this run's. */
static void baseline_of(struct unit_table *t, const char *unit, const struct fig_exe *e,
			int64_t now_ms, struct respawn_sample *s)
{
	const struct fig_unit *bu = fig_boot_find_unit(&t->base_cur, unit);
	int known_before = 0;

	for (uint32_t i = 0; bu && i < bu->n_exes; i++)
		if (strcmp(bu->exes[i].path, e->path) == 0)
			known_before = 1;
	if (known_before) {
		sample_of(e, now_ms, s);
		return;
	}
	memset(s, 0, sizeof(*s));
	s->now_ms = e->first_start_ms && e->first_start_ms < now_ms ? e->first_start_ms - 1
								    : t->started_ms;
}

static void run_detector(struct unit_table *t, struct fig_boot *cur, int64_t now_ms,
			 unit_table_finding_fn fn, void *ctx)
{
	for (uint32_t ui = 0; ui < cur->n_units; ui++) {
		struct fig_unit *u = &cur->units[ui];

		for (uint32_t ei = 0; ei < u->n_exes; ei++) {
			struct fig_exe *e = &u->exes[ei];
			struct track *tr = track_find(t, u->name, e->path);
			struct unit_table_finding f = { .unit = u, .exe = e };
			struct respawn_sample s;

			if (!tr) {
				/* Only executables that start are tracked; the rest stay as stored. */
				if (!e->last_start_ms || e->last_start_ms < now_ms - t->det.window_ms)
					continue;
				if (t->n_tracks >= MAX_TRACKS) {
					t->tracks_dropped++;
					continue;
				}
				tr = &t->tracks[t->n_tracks++];
				memset(tr, 0, sizeof(*tr));
				snprintf(tr->unit, sizeof(tr->unit), "%s", u->name);
				snprintf(tr->path, sizeof(tr->path), "%s", e->path);
				baseline_of(t, u->name, e, now_ms, &s);
				respawn_track_init(&tr->rt, &s);
			}
			sample_of(e, now_ms, &s);
			f.what = respawn_track_observe(&tr->rt, &t->det, &s);
			if (f.what == RESPAWN_STORM_STARTED)
				tr->storms++;
			respawn_track_figures(&tr->rt, &f.fig);
			e->respawn_class = f.fig.cls;
			if (f.fig.storm_since_ms)
				e->storm_since_ms = f.fig.storm_since_ms;
			e->storms += tr->storms;
			if (f.what != RESPAWN_NO_CHANGE && fn)
				fn(ctx, &f);
		}
	}
}

int unit_table__end(struct unit_table *t, int64_t now_ms, unit_table_finding_fn fn, void *ctx)
{
	struct fig_boot *cur;

	/* Replace this boot in the state with base + retired + live. */
	cur = fig_state_boot(&t->state, t->boot_id);
	if (!cur)
		return -ENOMEM;
	boot_clear(cur);
	snprintf(cur->boot_id, sizeof(cur->boot_id), "%s", t->boot_id);
	cur->first_ms = t->base_cur.first_ms ? t->base_cur.first_ms : t->started_ms;
	cur->last_ms = now_ms;
	fig_boot_merge(cur, &t->base_cur);
	fig_boot_merge(cur, &t->retired);
	fig_boot_merge(cur, &t->live);
	run_detector(t, cur, now_ms, fn, ctx);
	t->state.written_ms = now_ms;
	return 0;
}

const struct fig_state *unit_table__state(const struct unit_table *t)
{
	return &t->state;
}

const struct fig_boot *unit_table__current(const struct unit_table *t)
{
	return fig_state_find_boot(&t->state, t->boot_id);
}

int unit_table__exe_figures(const struct unit_table *t, const char *unit, const char *path,
			    struct respawn_figures *ret)
{
	for (uint32_t i = 0; i < t->n_tracks; i++) {
		if (strcmp(t->tracks[i].unit, unit) == 0 && strcmp(t->tracks[i].path, path) == 0) {
			respawn_track_figures(&t->tracks[i].rt, ret);
			return 0;
		}
	}
	return -ENOENT;
}
