// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churn_links.h"
#include "clock.h"
#include "kernel_sample.h"
#include "unit_table.h"

#define MAX_TRACKS 4096
#define TRACK_SLOTS (2 * MAX_TRACKS) /* a power of two: the index stays at most half full */
#define UNKNOWN_EXE "(unknown)"
/* name_unit[] for a unit the boot refused (full): not asked again while its id lives. */
#define NAME_REFUSED (-2)

/* Boot-clock time to unix ms, with the clocks' offset read once per sample (not per row). */
static int64_t boot_to_unix_offset_ns;
/*
 * Units followed at once; slots are twice that, so probes stay short. Tracks
 * are calloc'd: slots never used are never made resident.
 */
#define MAX_UNIT_TRACKS 8192
#define UNIT_TRACK_SLOTS (2 * MAX_UNIT_TRACKS)

/* What rcatrace follows per unit across samples: memory growth, fork storms, controllers. */
struct unit_track {
	char name[FIG_UNIT_NAME_MAX];
	uint32_t hash; /* of name: most probes end without a strcmp */
	int used;
	struct memory_growth growth;
	struct fig_memory mem;
	int fork_init;
	struct fork_storm_track fork;
	struct fork_storm_figures fork_fig;
	uint32_t fork_storm;
	int64_t fork_storm_since_ms;
	int has_cg;
	struct cgroup_figures cg;
	int64_t procs_alive;
	uint32_t leak_prev;
	uint64_t prev_forks; /* for the fork rate between two samples */
	int64_t prev_ms;
	uint64_t live_gen;     /* the sample that last had a row of this unit */
	uint64_t live_mem_gen; /* the sample that last saw memory for this unit */
	int64_t sample_pages[RCA_MEM_KINDS]; /* this sample's resident pages, all its cgroups */
	int crash_init;
	struct crash_storm_track crash;
	uint64_t crashes; /* exits by a crash signal this run, added as rows count them */
	int kernel;	  /* a kernel pseudo-unit: its figure set by unit_table__set_kernel() */
};

struct track {
	char unit[FIG_UNIT_NAME_MAX];
	char path[RCA_EXE_PATH_LEN];
	struct respawn_track rt;
};

/*
 * The last sample's rows of one kind, found by key through an open-addressing
 * index (no sort: ledger rows are large and a sort moves them around).
 */
struct prev_rows {
	int32_t *slots; /* row index, -1 empty */
	uint32_t cap;   /* a power of two, at least twice the rows */
	uint8_t *used;  /* a row of this sample took it already: one row per key */
	uint32_t cap_used;
	uint32_t n;      /* previous rows */
	uint32_t cursor; /* where the next row most likely is: maps iterate in a stable order */
	int built;       /* the index is made at the first row not found at the cursor */
};

struct unit_table {
	/*
	 * Earlier boots and this one. This boot's figures are one copy, kept
	 * current by adding what each kernel row counted since the last sample.
	 */
	struct fig_state state;
	struct fig_boot base_cur; /* what the state file held for this boot at start */
	/* The last sample's live rows, sorted by key: what each row had counted then. */
	struct kernel_sample prev;
	struct fig_boot *cur; /* this boot in state, found once per sample */
	char boot_id[FIG_BOOT_ID_MAX];
	uint64_t base_lost[RCA_LOST_KIND_MAX];
	uint64_t base_unnamed;
	int64_t started_ms;
	uint32_t state_interval_ms;
	struct respawn_detector_config det;
	/* Where this sample filed each ledger row: statuses joined to it go there too. */
	struct exe_place *places;
	uint32_t cap_places;
	/* Where the previous sample filed each of its ledger rows (aligned with prev.exes). */
	struct exe_place *prev_places;
	uint32_t cap_prev_places;
	struct prev_rows prev_units, prev_exes, prev_statuses, prev_kills, prev_forkfails;
	struct track *tracks;
	int32_t *track_index; /* open addressing over tracks; -1 empty */
	uint32_t n_tracks;
	uint64_t tracks_dropped;
	struct memory_growth_config growth_cfg;
	struct fork_storm_config fork_cfg;
	struct crash_storm_config crash_cfg;
	struct unit_track *units; /* dense, n_units used: calloc'd, only what is used is resident */
	int32_t *unit_index;      /* open addressing by name hash over units; -1 empty */
	/* This sample's name ids -> unit index in this boot, and -> track (-1: not looked up) */
	int32_t *name_unit, *name_track;
	uint32_t cap_names;
	uint32_t n_names_known; /* ids looked up so far (the rest are -1) */
	uint32_t names_gen;
	uint32_t n_units;
	uint64_t unit_tracks_dropped;
	uint64_t mem_available_kib;
	uint64_t gen; /* sample number: marks what this sample saw without sweeping tables */
	uint32_t page_kib;
	struct unit_table_kernel kernel; /* the next sample's kernel figures */
	int has_kernel;
	struct churn_links *churn;
	int64_t last_ms; /* the last sample's time */
};

static void boot_clear(struct fig_boot *b)
{
	for (uint32_t i = 0; i < b->n_units; i++) {
		free(b->units[i].exes);
		/* Every sample rebuilds the boot: a unit's kill counts leaked here once per sample. */
		free(b->units[i].kill_counts);
	}
	free(b->units);
	fig_boot_free_index(b);
	memset(b, 0, sizeof(*b));
}

struct unit_table *unit_table__new(const struct unit_table_opts *opts)
{
	struct unit_table *t = calloc(1, sizeof(*t));
	const struct fig_boot *b;

	if (!t)
		return NULL;
	fig_state_init(&t->state);
	t->tracks = calloc(MAX_TRACKS, sizeof(*t->tracks));
	t->track_index = malloc(TRACK_SLOTS * sizeof(*t->track_index));
	if (t->track_index)
		memset(t->track_index, 0xff, TRACK_SLOTS * sizeof(*t->track_index));
	t->units = calloc(MAX_UNIT_TRACKS, sizeof(*t->units));
	t->unit_index = malloc(UNIT_TRACK_SLOTS * sizeof(*t->unit_index));
	if (t->unit_index)
		memset(t->unit_index, 0xff, UNIT_TRACK_SLOTS * sizeof(*t->unit_index));
	t->churn = churn_links__new();
	if (!t->tracks || !t->track_index || !t->units || !t->unit_index || !t->churn)
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
	t->state_interval_ms = opts->state_interval_ms;
	t->det = opts->detector;
	t->growth_cfg = opts->growth;
	t->fork_cfg = opts->fork_storm;
	t->crash_cfg = opts->crash_storm;
	t->page_kib = opts->page_size >= 1024 ? opts->page_size / 1024 : 4;
	if (!t->crash_cfg.window_ms)
		crash_storm_config_default(&t->crash_cfg);
	t->started_ms = clock_now_unix_ms();
	boot_to_unix_offset_ns = clock_boot_ns_to_unix_ms(0) * 1000000LL;
	kernel_sample_init(&t->prev);
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
	kernel_sample_free(&t->prev);
	free(t->prev_units.slots);
	free(t->prev_units.used);
	free(t->prev_exes.slots);
	free(t->prev_exes.used);
	free(t->prev_statuses.slots);
	free(t->prev_statuses.used);
	free(t->prev_kills.slots);
	free(t->prev_kills.used);
	free(t->prev_forkfails.slots);
	free(t->prev_forkfails.used);
	free(t->places);
	free(t->prev_places);
	churn_links__free(t->churn);
	free(t->tracks);
	free(t->track_index);
	free(t->units);
	free(t->unit_index);
	free(t->name_unit);
	free(t->name_track);
	free(t);
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* The unit's track; created when create is set and there is room (else counted). */
static struct unit_track *unit_track(struct unit_table *t, const char *name, int create)
{
	uint32_t h = name_hash(name), i = h & (UNIT_TRACK_SLOTS - 1);

	for (uint32_t probe = 0; probe < UNIT_TRACK_SLOTS; probe++, i = (i + 1) & (UNIT_TRACK_SLOTS - 1)) {
		struct unit_track *u;

		if (t->unit_index[i] >= 0) {
			u = &t->units[t->unit_index[i]];
			if (u->hash == h && strcmp(u->name, name) == 0)
				return u;
			continue;
		}
		if (!create)
			return NULL;
		/* At most half the slots used, so probes stay short. */
		if (t->n_units >= MAX_UNIT_TRACKS) {
			t->unit_tracks_dropped++;
			return NULL;
		}
		t->unit_index[i] = (int32_t)t->n_units;
		u = &t->units[t->n_units++];
		u->used = 1;
		u->hash = h;
		snprintf(u->name, sizeof(u->name), "%s", name);
		memory_growth_init(&u->growth);
		fig_memory_init(&u->mem);
		u->procs_alive = -1;
		return u;
	}
	return NULL;
}

static struct fig_boot *current_boot(struct unit_table *t)
{
	/* Cached for a sample: the boots array moves only when a boot is added. */
	if (!t->cur)
		t->cur = fig_state_boot(&t->state, t->boot_id);
	return t->cur;
}

/* A unit of this boot by the sample's name id, looked up once per sample. */
static struct fig_unit *unit_of(struct unit_table *t, const struct kernel_sample *s, uint32_t id)
{
	struct fig_boot *b = current_boot(t);
	struct fig_unit *u;

	if (!b || id >= s->n_names)
		return NULL;
	if (t->name_unit[id] >= 0)
		return &b->units[t->name_unit[id]];
	if (t->name_unit[id] == NAME_REFUSED)
		return NULL;
	u = fig_boot_unit(b, ks_name(s, id));
	if (u)
		t->name_unit[id] = (int32_t)(u - b->units);
	else if (errno == ENOSPC)
		/* Past the bound: refused (and counted in units_dropped) once, not every sample. */
		t->name_unit[id] = NAME_REFUSED;
	return u;
}

/* Its track, made when missing (a unit with a row this sample is followed). */
static struct unit_track *track_of(struct unit_table *t, const struct kernel_sample *s,
				   uint32_t id)
{
	struct unit_track *tr;

	if (id >= s->n_names)
		return NULL;
	if (t->name_track[id] >= 0)
		return &t->units[t->name_track[id]];
	tr = unit_track(t, ks_name(s, id), 1);
	if (tr)
		t->name_track[id] = (int32_t)(tr - t->units);
	return tr;
}


/* A ledger row's fig_exe, by indexes: the arrays may grow while a sample is applied. */
struct exe_place {
	int32_t unit_idx; /* -1: not filed */
	uint32_t exe_idx;
};


static int64_t to_ms(uint64_t boot_ns)
{
	return boot_ns ? ((int64_t)boot_ns + boot_to_unix_offset_ns) / 1000000 : 0;
}

/* A unit with a row in this sample: followed by its track. */
static void mark_live(struct unit_table *t, struct unit_track *tr)
{
	if (tr && tr->live_gen != t->gen) {
		tr->live_gen = t->gen;
		memset(tr->sample_pages, 0, sizeof(tr->sample_pages));
	}
}

/* What a cumulative counter added since the last sample (a row made anew counts from zero). */
static uint64_t since(uint64_t now, uint64_t then)
{
	return now >= then ? now - then : now;
}

static int64_t min_known(int64_t a, int64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

static void add_unit(struct fig_unit *u, const struct rca_unit_stats *st,
		     const struct rca_unit_stats *prev)
{
	static const struct rca_unit_stats zero;
	int64_t last = to_ms(st->last_ns);

	if (!u)
		return;
	if (!prev)
		prev = &zero;
	u->starts += since(st->starts, prev->starts);
	u->forks += since(st->forks, prev->forks);
	u->threads += since(st->threads, prev->threads);
	u->execs += since(st->execs, prev->execs);
	u->exits += since(st->exits, prev->exits);
	u->exits_failed += since(st->exits_failed, prev->exits_failed);
	u->oom_kills += since(st->oom_kills, prev->oom_kills);
	u->first_ms = min_known(u->first_ms, to_ms(st->first_ns));
	if (last > u->last_ms)
		u->last_ms = last;
}

static void add_ledger(struct unit_table *t, struct fig_unit *u, const struct rca_ledger *l,
		       const struct rca_ledger *prev, const struct exe_place *prev_place,
		       struct exe_place *place)
{
	struct fig_boot *b = current_boot(t);
	char path[RCA_EXE_PATH_LEN];
	struct fig_exe *e;
	int64_t ms;

	if (!u || !b)
		return;
	/* The row's key names its unit and executable: where it went last time, it goes again. */
	if (prev_place && prev_place->unit_idx >= 0 && &b->units[prev_place->unit_idx] == u &&
	    prev_place->exe_idx < u->n_exes) {
		e = &u->exes[prev_place->exe_idx];
	} else {
		memcpy(path, l->path, sizeof(path));
		path[sizeof(path) - 1] = '\0';
		e = fig_unit_exe(u, path[0] ? path : UNKNOWN_EXE);
		if (!e)
			return;
	}
	place->unit_idx = (int32_t)(u - b->units);
	place->exe_idx = (uint32_t)(e - u->exes);
	if (!prev) {
		static const struct rca_ledger zero;

		prev = &zero;
	}
	e->starts += since(l->starts, prev->starts);
	e->execs += since(l->execs, prev->execs);
	e->exits += since(l->exits, prev->exits);
	e->exits_failed += since(l->exits_failed, prev->exits_failed);
	e->start_exits += since(l->start_exits, prev->start_exits);
	e->start_exits_failed += since(l->start_exits_failed, prev->start_exits_failed);
	e->start_lifetime_sum_us += since(l->start_lifetime_sum_us, prev->start_lifetime_sum_us);
	e->gaps += since(l->gaps, prev->gaps);
	e->gap_sum_ns += since(l->gap_sum_ns, prev->gap_sum_ns);
	e->gap_sumsq_ms2 += since(l->gap_sumsq_ms2, prev->gap_sumsq_ms2);
	e->lifetime_sum_us += since(l->lifetime_sum_us, prev->lifetime_sum_us);
	for (int i = 0; i < RCA_LIFETIME_BUCKETS; i++)
		e->lifetime_hist[i] += since(l->lifetime_hist[i], prev->lifetime_hist[i]);
	e->first_start_ms = min_known(e->first_start_ms, to_ms(l->first_start_ns));
	ms = to_ms(l->last_start_ns);
	if (ms > e->last_start_ms)
		e->last_start_ms = ms;
	ms = to_ms(l->last_exit_ns);
	if (ms > e->last_exit_ms)
		e->last_exit_ms = ms;
}

static void add_status(struct unit_table *t, struct fig_unit *u, const struct rca_status_key *key,
		       const struct rca_status *st, uint64_t count, const struct exe_place *place)
{
	struct fig_boot *b = current_boot(t);
	struct fig_exe *e = NULL;
	int64_t ms;

	if (!b)
		return;
	if (place && place->unit_idx >= 0 && (uint32_t)place->unit_idx < b->n_units &&
	    place->exe_idx < b->units[place->unit_idx].n_exes) {
		e = &b->units[place->unit_idx].exes[place->exe_idx];
	} else {
		/* No ledger row (its map was full): the unit is known, the executable is not. */
		e = u ? fig_unit_exe(u, UNKNOWN_EXE) : NULL;
	}
	if (!e)
		return;
	if (count)
		fig_exe_add_status(e, key->kind, key->value, count);
	ms = to_ms(st->last_ns);
	if (key->kind == RCA_STATUS_SIGNAL && fig_signal_is_crash(key->value) &&
	    ms > e->crash_last_ms) {
		e->crash_last_ms = ms;
		e->crash_signal = key->value;
		e->crash_ppid = st->last_ppid;
		memcpy(e->crash_comm, st->comm, RCA_COMM_LEN);
		e->crash_comm[RCA_COMM_LEN] = '\0';
		memcpy(e->crash_parent_comm, st->parent_comm, RCA_COMM_LEN);
		e->crash_parent_comm[RCA_COMM_LEN] = '\0';
	}
}

/* Resident pages are a gauge: summed over the unit's cgroups for this sample only. */
static void add_mem(struct unit_table *t, struct unit_track *tr, const struct rca_unit_mem *m)
{
	if (!tr)
		return;
	mark_live(t, tr);
	for (int i = 0; i < RCA_MEM_KINDS; i++)
		tr->sample_pages[i] += m->pages[i] > 0 ? m->pages[i] : 0;
	if (tr->sample_pages[0] + tr->sample_pages[1] + tr->sample_pages[2] > 0)
		tr->live_mem_gen = t->gen;
}

static void add_kills(struct fig_unit *target, struct fig_unit *from, const char *sender,
		      const struct rca_kill_key *key, uint64_t count)
{
	if (!count)
		return;
	if (target) {
		target->kills_received += count;
		fig_unit_add_kills(target, sender, key->signal, key->by_kernel, count);
	}
	if (from && !key->by_kernel)
		from->kills_sent += count;
}

static void add_forkfail(struct fig_unit *u, const struct rca_forkfail_key *key, uint64_t count)
{
	if (!u || !count)
		return;
	/*
	 * The histogram keeps every errno; the failure count leaves out what is
	 * no failure to fork: ENOSYS (a seccomp profile refusing clone3, after
	 * which libc falls back to clone) and ERESTARTNOINTR (restarted after a
	 * signal).
	 */
	if (key->err != 38 /* ENOSYS */ && key->err != 513 /* ERESTARTNOINTR */)
		u->forks_failed += count;
	fig_unit_add_fork_errno(u, key->err, count);
}

/* ---- each row's previous values ------------------------------------------ */


static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ULL;
}

#define FNV_BASIS 0xcbf29ce484222325ULL

static uint64_t hash_unit(const void *row)
{
	return mix(FNV_BASIS, ((const struct ks_unit *)row)->cgroup_id);
}

static uint64_t hash_exe(const void *row)
{
	const struct ks_exe *e = row;

	return mix(mix(FNV_BASIS, e->key.unit_key), e->key.exe_id);
}

static uint64_t hash_status(const void *row)
{
	const struct ks_status *st = row;

	return mix(mix(mix(mix(FNV_BASIS, st->key.unit_key), st->key.exe_id), st->key.kind),
		   st->key.value);
}

static uint64_t hash_kill(const void *row)
{
	const struct ks_kill *k = row;

	return mix(mix(mix(mix(FNV_BASIS, k->key.target_cgroup_id), k->key.sender_cgroup_id),
		       k->key.signal),
		   k->key.by_kernel);
}

static uint64_t hash_forkfail(const void *row)
{
	const struct ks_forkfail *f = row;

	return mix(mix(FNV_BASIS, f->key.cgroup_id), f->key.err);
}

/* Every row kind starts with its key, so keys compare as bytes. */
#define KEY_EQ(type, keytype)                                                                     \
	static int eq_##type(const void *a, const void *b)                                       \
	{                                                                                         \
		return !memcmp(a, b, sizeof(keytype));                                            \
	}
KEY_EQ(unit, uint64_t)
KEY_EQ(exe, struct rca_ledger_key)
KEY_EQ(status, struct rca_status_key)
KEY_EQ(kill, struct rca_kill_key)
KEY_EQ(forkfail, struct rca_forkfail_key)
#undef KEY_EQ

struct row_kind {
	size_t size;
	size_t flags_off;
	uint64_t (*hash)(const void *row);
	int (*eq)(const void *a, const void *b);
};

#define ROW_KIND(name, type) \
	static const struct row_kind kind_##name = { sizeof(type), offsetof(type, flags), hash_##name, eq_##name }
ROW_KIND(unit, struct ks_unit);
ROW_KIND(exe, struct ks_exe);
ROW_KIND(status, struct ks_status);
ROW_KIND(kill, struct ks_kill);
ROW_KIND(forkfail, struct ks_forkfail);
#undef ROW_KIND

static uint32_t row_flags(const struct row_kind *k, const void *row)
{
	uint32_t f;

	memcpy(&f, (const char *)row + k->flags_off, sizeof(f));
	return f;
}

/* Prepares the lookups of one sample over n previous rows. */
static int prev_index(struct prev_rows *p, uint32_t n)
{
	uint32_t cap = 16;

	while (cap < 2 * n + 2)
		cap *= 2;
	if (cap != p->cap) {
		int32_t *sl = realloc(p->slots, cap * sizeof(*sl));

		if (!sl)
			return -ENOMEM;
		p->slots = sl;
		p->cap = cap;
	}
	if (n > p->cap_used) {
		uint8_t *u = realloc(p->used, n);

		if (!u)
			return -ENOMEM;
		p->used = u;
		p->cap_used = n;
	}
	if (n)
		memset(p->used, 0, n);
	p->n = n;
	p->cursor = 0;
	p->built = 0;
	return 0;
}

/* Indexes the previous rows that are still live (a retired row is final). */
static void prev_build(struct prev_rows *p, const struct row_kind *k, const void *rows)
{
	uint32_t cap = p->cap, n = p->n;

	memset(p->slots, 0xff, cap * sizeof(*p->slots));
	p->built = 1;
	for (uint32_t i = 0; i < n; i++) {
		const void *row = (const char *)rows + (size_t)i * k->size;
		uint32_t h;

		if (row_flags(k, row) & KS_RETIRED)
			continue;
		for (h = (uint32_t)k->hash(row) & (cap - 1); p->slots[h] >= 0; h = (h + 1) & (cap - 1))
			;
		p->slots[h] = (int32_t)i;
	}
}

/*
 * The previous row with row's key that no row of this sample took yet, or
 * NULL: a retired row takes its key's previous values first, so a row made
 * anew under that key in the same sample counts from zero.
 */
static const void *prev_of(struct prev_rows *p, const struct row_kind *k, const void *rows,
			   const void *row)
{
	/* Rows come back in the map's bucket order: most are where the last one left off. */
	if (p->cursor < p->n) {
		const void *cand = (const char *)rows + (size_t)p->cursor * k->size;

		if (!p->used[p->cursor] && !(row_flags(k, cand) & KS_RETIRED) && k->eq(cand, row)) {
			p->used[p->cursor++] = 1;
			return cand;
		}
	}
	if (!p->n)
		return NULL;
	if (!p->built)
		prev_build(p, k, rows);
	for (uint32_t h = (uint32_t)k->hash(row) & (p->cap - 1); p->slots[h] >= 0;
	     h = (h + 1) & (p->cap - 1)) {
		const void *cand = (const char *)rows + (size_t)p->slots[h] * k->size;

		if (!p->used[p->slots[h]] && k->eq(cand, row)) {
			p->used[p->slots[h]] = 1;
			p->cursor = (uint32_t)p->slots[h] + 1;
			return cand;
		}
	}
	return NULL;
}

/* Exchanges two row arrays: this sample's rows become the next one's previous rows. */
#define SWAP_ROWS(a, b, arr)                                                                      \
	do {                                                                                      \
		void *tp_ = (a)->arr;                                                             \
		uint32_t tn_ = (a)->n_##arr, tc_ = (a)->cap_##arr;                                \
		(a)->arr = (b)->arr;                                                              \
		(a)->n_##arr = (b)->n_##arr;                                                      \
		(a)->cap_##arr = (b)->cap_##arr;                                                  \
		(b)->arr = tp_;                                                                   \
		(b)->n_##arr = tn_;                                                               \
		(b)->cap_##arr = tc_;                                                             \
	} while (0)

/*
 * Keeps this sample's rows as the next sample's previous values. The big
 * ones (ledger, statuses, kills, fork failures) change hands instead of being
 * copied: the caller's sample gets the old buffers back, emptied.
 */
static int keep_as_prev(struct unit_table *t, struct kernel_sample *s)
{
	struct kernel_sample *p = &t->prev;

	if (s->n_units > p->cap_units) {
		struct ks_unit *u = realloc(p->units, s->n_units * sizeof(*u));

		if (!u)
			return -ENOMEM;
		p->units = u;
		p->cap_units = s->n_units;
	}
	if (s->n_units)
		memcpy(p->units, s->units, s->n_units * sizeof(*s->units));
	p->n_units = s->n_units;
	SWAP_ROWS(p, s, exes);
	/* The places of this sample's rows go with them. */
	{
		struct exe_place *tp = t->prev_places;
		uint32_t tc = t->cap_prev_places;

		t->prev_places = t->places;
		t->cap_prev_places = t->cap_places;
		t->places = tp;
		t->cap_places = tc;
	}
	SWAP_ROWS(p, s, statuses);
	SWAP_ROWS(p, s, kills);
	SWAP_ROWS(p, s, forkfails);
	s->n_exes = s->n_statuses = s->n_kills = s->n_forkfails = 0;
	return 0;
}

int unit_table__apply(struct unit_table *t, struct kernel_sample *s, unit_table_finding_fn fn,
		      void *ctx)
{
	struct kernel_sample *pv = &t->prev;
	int err;

	if (s->n_exes > t->cap_places) {
		struct exe_place *p = realloc(t->places, s->n_exes * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->places = p;
		t->cap_places = s->n_exes;
	}
	/* Name ids outlive a sample: so do their lookups, until the names are cleared. */
	if (s->names_gen != t->names_gen) {
		t->names_gen = s->names_gen;
		t->n_names_known = 0;
	}
	if (s->n_names > t->cap_names) {
		uint32_t cap = s->n_names * 2;
		int32_t *a = realloc(t->name_unit, cap * sizeof(*a)), *b;

		if (!a)
			return -ENOMEM;
		t->name_unit = a;
		b = realloc(t->name_track, cap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		t->name_track = b;
		t->cap_names = cap;
	}
	if (s->n_names > t->n_names_known) {
		memset(t->name_unit + t->n_names_known, 0xff,
		       (s->n_names - t->n_names_known) * sizeof(*t->name_unit));
		memset(t->name_track + t->n_names_known, 0xff,
		       (s->n_names - t->n_names_known) * sizeof(*t->name_track));
		t->n_names_known = s->n_names;
	}
	err = kernel_sample_join(s);
	if (!err)
		err = prev_index(&t->prev_units, pv->n_units);
	if (!err)
		err = prev_index(&t->prev_exes, pv->n_exes);
	if (!err)
		err = prev_index(&t->prev_statuses, pv->n_statuses);
	if (!err)
		err = prev_index(&t->prev_kills, pv->n_kills);
	if (!err)
		err = prev_index(&t->prev_forkfails, pv->n_forkfails);
	if (err)
		return err;
	/*
	 * A new generation instead of clearing every track: the track table is
	 * large and mostly untouched; sweeping it would make all of it resident.
	 */
	t->gen++;
	t->cur = NULL;
	boot_to_unix_offset_ns = clock_boot_ns_to_unix_ms(0) * 1000000LL;
	for (uint32_t i = 0; i < s->n_units; i++) {
		const struct ks_unit *p = prev_of(&t->prev_units, &kind_unit, pv->units, &s->units[i]);
		struct fig_unit *u = unit_of(t, s, s->units[i].name);

		if (u)
			add_unit(u, &s->units[i].st, p ? &p->st : NULL);
		if (!(s->units[i].flags & KS_RETIRED))
			mark_live(t, track_of(t, s, s->units[i].name));
	}
	/* Retired rows first: they take their key's previous values. */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < s->n_exes; i++) {
			const struct ks_exe *p;

			if ((s->exes[i].flags & KS_RETIRED) == (pass ? KS_RETIRED : 0))
				continue;
			p = prev_of(&t->prev_exes, &kind_exe, pv->exes, &s->exes[i]);
			t->places[i].unit_idx = -1;
			add_ledger(t, unit_of(t, s, s->exes[i].unit), &s->exes[i].l, p ? &p->l : NULL,
				   p && t->prev_places ? &t->prev_places[p - pv->exes] : NULL,
				   &t->places[i]);
			if (pass)
				mark_live(t, track_of(t, s, s->exes[i].unit));
		}
		for (uint32_t i = 0; i < s->n_statuses; i++) {
			const struct ks_status *st = &s->statuses[i], *p;
			uint64_t count;

			if ((st->flags & KS_RETIRED) == (pass ? KS_RETIRED : 0))
				continue;
			p = prev_of(&t->prev_statuses, &kind_status, pv->statuses, st);
			count = since(st->st.count, p ? p->st.count : 0);
			add_status(t, unit_of(t, s, st->unit), &st->key, &st->st, count,
				   st->exe >= 0 && (uint32_t)st->exe < s->n_exes ? &t->places[st->exe]
										  : NULL);
			if (count && st->key.kind == RCA_STATUS_SIGNAL &&
			    fig_signal_is_crash(st->key.value)) {
				/* The unit it was filed under: its ledger row's, when it has one. */
				uint32_t unit = st->exe >= 0 && (uint32_t)st->exe < s->n_exes
							? s->exes[st->exe].unit
							: st->unit;
				struct unit_track *tr = track_of(t, s, unit);

				if (tr)
					tr->crashes += count;
			}
		}
	}
	for (uint32_t i = 0; i < s->n_mems; i++)
		if (!(s->mems[i].flags & KS_RETIRED)) /* a gone cgroup holds no memory */
			add_mem(t, track_of(t, s, s->mems[i].unit), &s->mems[i].m);
	for (uint32_t i = 0; i < s->n_kills; i++) {
		const struct ks_kill *p = prev_of(&t->prev_kills, &kind_kill, pv->kills, &s->kills[i]);

		add_kills(unit_of(t, s, s->kills[i].target), unit_of(t, s, s->kills[i].sender),
			  ks_name(s, s->kills[i].sender), &s->kills[i].key,
			  since(s->kills[i].count, p ? p->count : 0));
	}
	for (uint32_t i = 0; i < s->n_forkfails; i++) {
		const struct ks_forkfail *p =
			prev_of(&t->prev_forkfails, &kind_forkfail, pv->forkfails, &s->forkfails[i]);

		add_forkfail(unit_of(t, s, s->forkfails[i].unit), &s->forkfails[i].key,
			     since(s->forkfails[i].count, p ? p->count : 0));
	}
	unit_table__set_lost(t, s->lost, s->units_unnamed);
	err = unit_table__end(t, s->now_ms, fn, ctx);
	if (!err)
		err = keep_as_prev(t, s);
	return err;
}

void unit_table__set_controllers(struct unit_table *t, const char *unit,
				 const struct cgroup_figures *cg, int64_t procs_alive)
{
	struct unit_track *tr = unit_track(t, unit, 1);

	if (!tr)
		return;
	/* No figures (no process left to read them through): keep the last ones. */
	if (cg) {
		tr->has_cg = 1;
		tr->cg = *cg;
	}
	tr->procs_alive = procs_alive;
}

void unit_table__set_mem_available(struct unit_table *t, uint64_t kib)
{
	t->mem_available_kib = kib;
}

int unit_table__add_oom(struct unit_table *t, const struct fig_oom *o)
{
	return fig_state_add_oom(&t->state, o);
}

int unit_table__add_kill_record(struct unit_table *t, const struct fig_kill *k)
{
	return fig_state_add_kill(&t->state, k);
}

static uint64_t rss_of(const struct fig_unit *u)
{
	return u->mem.rss_anon_kib + u->mem.rss_file_kib + u->mem.rss_shmem_kib;
}

uint32_t unit_table__top_units(const struct unit_table *t, int by_growth, struct fig_top_unit *out,
			       uint32_t n)
{
	const struct fig_boot *cur = unit_table__current(t);
	uint32_t k = 0;

	for (uint32_t i = 0; cur && i < cur->n_units; i++) {
		const struct fig_unit *u = &cur->units[i];
		double key = by_growth ? u->mem.growth_kib_per_s : (double)rss_of(u);
		uint32_t j;

		if (u->mem.sampled_ms == 0 || key != key || (by_growth && key <= 0))
			continue;
		/* insertion into the top n, descending */
		for (j = k; j > 0; j--) {
			double other = by_growth ? out[j - 1].growth_kib_per_s : (double)out[j - 1].rss_kib;

			if (other >= key)
				break;
			if (j < n)
				out[j] = out[j - 1];
		}
		if (j < n) {
			snprintf(out[j].unit, sizeof(out[j].unit), "%s", u->name);
			out[j].rss_kib = rss_of(u);
			out[j].growth_kib_per_s = u->mem.growth_kib_per_s;
			if (k < n)
				k++;
		}
	}
	return k;
}

void unit_table__set_lost(struct unit_table *t, const uint64_t lost[RCA_LOST_KIND_MAX],
			  uint64_t units_unnamed)
{
	for (int i = 0; i < RCA_LOST_KIND_MAX; i++)
		t->state.lost[i] = t->base_lost[i] + lost[i];
	t->state.units_unnamed = t->base_unnamed + units_unnamed;
}

static uint32_t track_hash(const char *unit, const char *path)
{
	uint32_t h = 2166136261u;

	for (; *unit; unit++)
		h = (h ^ (unsigned char)*unit) * 16777619u;
	h = (h ^ 0xff) * 16777619u; /* "a" + "b/c" and "a/b" + "c" hash apart */
	for (; *path; path++)
		h = (h ^ (unsigned char)*path) * 16777619u;
	return h;
}

/* The detector's track of (unit, executable), through an index of 2 * MAX_TRACKS slots. */
static struct track *track_find(struct unit_table *t, const char *unit, const char *path,
				int32_t **ret_slot)
{
	uint32_t mask = TRACK_SLOTS - 1, i = track_hash(unit, path) & mask;

	for (; t->track_index[i] >= 0; i = (i + 1) & mask) {
		struct track *tr = &t->tracks[t->track_index[i]];

		if (strcmp(tr->unit, unit) == 0 && strcmp(tr->path, path) == 0)
			return tr;
	}
	*ret_slot = &t->track_index[i];
	return NULL;
}

static void sample_of(const struct fig_exe *e, int64_t now_ms, struct respawn_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->now_ms = now_ms;
	/* Only starts and how they ended: a unit's own work is never a respawn. */
	s->starts = e->starts;
	s->exits = e->start_exits;
	s->exits_failed = e->start_exits_failed;
	s->gaps = e->gaps;
	s->gap_sum_ns = e->gap_sum_ns;
	s->gap_sumsq_ms2 = e->gap_sumsq_ms2;
	s->lifetime_sum_us = e->start_lifetime_sum_us;
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
			int32_t *slot = NULL;
			struct track *tr;
			struct unit_table_finding f = { .unit = u, .exe = e };
			struct respawn_sample s;

			/* Never started (the unit's work): never tracked, nothing to look up. */
			if (!e->last_start_ms)
				continue;
			/*
			 * Its track, remembered in the exe itself: no lookup by name each
			 * sample. Only this table sets it, and it is never stored.
			 */
			if (e->track_plus1 && e->track_plus1 <= t->n_tracks)
				tr = &t->tracks[e->track_plus1 - 1];
			else if ((tr = track_find(t, u->name, e->path, &slot)))
				e->track_plus1 = (uint32_t)(tr - t->tracks) + 1;
			if (!tr) {
				/* Only executables that start are tracked; the rest stay as stored. */
				if (!e->last_start_ms || e->last_start_ms < now_ms - t->det.window_ms)
					continue;
				if (t->n_tracks >= MAX_TRACKS) {
					t->tracks_dropped++;
					continue;
				}
				*slot = (int32_t)t->n_tracks;
				tr = &t->tracks[t->n_tracks++];
				e->track_plus1 = t->n_tracks;
				memset(tr, 0, sizeof(*tr));
				snprintf(tr->unit, sizeof(tr->unit), "%s", u->name);
				snprintf(tr->path, sizeof(tr->path), "%s", e->path);
				baseline_of(t, u->name, e, now_ms, &s);
				respawn_track_init(&tr->rt, &s);
			}
			sample_of(e, now_ms, &s);
			f.kind = FINDING_RESPAWN_STORM;
			f.what = respawn_track_observe(&tr->rt, &t->det, &s);
			f.started = f.what == RESPAWN_STORM_STARTED;
			if (f.started)
				e->storms++;
			respawn_track_figures(&tr->rt, &f.fig);
			e->respawn_class = f.fig.cls;
			if (f.fig.storm_since_ms)
				e->storm_since_ms = f.fig.storm_since_ms;
			if (f.what == RESPAWN_NO_CHANGE && f.fig.cls == RESPAWN_STORM) {
				f.started = f.ongoing = 1;
				if (fn)
					fn(ctx, &f);
			} else if (f.what != RESPAWN_NO_CHANGE && fn) {
				fn(ctx, &f);
			}
		}
	}
}

/* Memory figures of a unit with resident memory this sample (summed over its cgroups). */
static void update_memory(struct unit_table *t, struct unit_track *tr, int64_t now_ms)
{
	struct memory_growth_result res;
	struct fig_memory *m = &tr->mem;
	uint64_t rss;
	double limit_kib;

	m->rss_anon_kib = (uint64_t)tr->sample_pages[RCA_MEM_ANON] * t->page_kib;
	m->rss_file_kib = (uint64_t)tr->sample_pages[RCA_MEM_FILE] * t->page_kib;
	m->rss_shmem_kib = (uint64_t)tr->sample_pages[RCA_MEM_SHMEM] * t->page_kib;
	rss = m->rss_anon_kib + m->rss_file_kib + m->rss_shmem_kib;

	memory_growth_observe(&tr->growth, &t->growth_cfg, now_ms / 1000.0, (double)rss);
	memory_growth_result(&tr->growth, &t->growth_cfg, &res);
	m->sampled_ms = now_ms;
	if (rss > m->rss_peak_kib)
		m->rss_peak_kib = rss;
	m->growth_kib_per_s = res.slope_kib_s;
	m->growth_fit_r2 = res.r2;
	m->growth_window_s = res.span_s;
	m->leak_suspect = res.leak_suspect ? 1 : 0;
	m->gone = 0;
	m->memcg_usage_bytes = tr->has_cg ? tr->cg.mem_usage_bytes : -1;
	m->memcg_limit_bytes = tr->has_cg ? tr->cg.mem_limit_bytes : -1;
	m->kernel_bytes = tr->has_cg ? tr->cg.mem_kernel_bytes : -1;
	if (m->memcg_limit_bytes > 0)
		limit_kib = m->memcg_limit_bytes / 1024.0;
	else
		limit_kib = (double)rss + (double)t->mem_available_kib;
	m->exhaustion_eta_s = t->mem_available_kib || m->memcg_limit_bytes > 0
				      ? (int64_t)memory_growth_eta_s(&res, limit_kib)
				      : -1;
}

/* The executable of a unit that crashed last: its signal, comm and parent tell the story. */
static const struct fig_exe *last_crashed(const struct fig_unit *u)
{
	const struct fig_exe *best = NULL;

	for (uint32_t i = 0; i < u->n_exes; i++)
		if (u->exes[i].crash_last_ms && (!best || u->exes[i].crash_last_ms > best->crash_last_ms))
			best = &u->exes[i];
	return best;
}

/* Crash storms: processes of the unit dying of crash signals again and again. */
static void run_crash_storm(struct unit_table *t, struct unit_track *tr, struct fig_unit *u,
			    int64_t now_ms, unit_table_finding_fn fn, void *ctx)
{
	enum crash_storm_transition ct;

	/* This run's crashes only: what an earlier run saw is history, not this window's. */
	if (!tr->crash_init) {
		crash_storm_track_init(&tr->crash, 0);
		tr->crash_init = 1;
	}
	ct = crash_storm_track_observe(&tr->crash, &t->crash_cfg, now_ms, tr->crashes);
	if (ct == CRASH_STORM_STARTED)
		u->crash_storms++;
	u->crash_storm = tr->crash.storm;
	if (tr->crash.since_ms)
		u->crash_storm_since_ms = tr->crash.since_ms;
	u->window_crashes = crash_storm_window_crashes(&tr->crash, &t->crash_cfg, now_ms);
	if ((ct != CRASH_STORM_NO_CHANGE || tr->crash.storm) && fn) {
		struct unit_table_finding f = { .unit = u, .kind = FINDING_CRASH_STORM };
		const struct fig_exe *e = last_crashed(u);

		f.started = ct == CRASH_STORM_STARTED || ct == CRASH_STORM_NO_CHANGE;
		f.ongoing = ct == CRASH_STORM_NO_CHANGE;
		f.crash.window_crashes = u->window_crashes;
		f.crash.crashes = fig_unit_crashes(u);
		f.crash.exe = e;
		f.crash.signal = e ? e->crash_signal : 0;
		fn(ctx, &f);
	}
}

/* Per unit: memory growth and leak suspects, fork storms, crash storms, controller figures. */
static void run_unit_tracks(struct unit_table *t, struct fig_boot *cur, int64_t now_ms,
			    unit_table_finding_fn fn, void *ctx)
{
	for (uint32_t ui = 0; ui < cur->n_units; ui++) {
		struct fig_unit *u = &cur->units[ui];
		/* Followed since it had a row in a sample of this run; else known from the store only. */
		struct unit_track *tr = NULL;

		if (u->track_plus1 && u->track_plus1 <= t->n_units)
			tr = &t->units[u->track_plus1 - 1];
		else if ((tr = unit_track(t, u->name, 0)))
			u->track_plus1 = (uint32_t)(tr - t->units) + 1;
		struct unit_table_finding f = { .unit = u };
		struct fork_sample fs;
		enum fork_storm_transition ft;

		if (!tr) {
			/* Known from an earlier run only: no process of it is left. */
			if (u->mem.sampled_ms)
				u->mem.gone = 1;
			continue;
		}
		if (tr->kernel)
			continue; /* set_kernel_units() keeps it */
		if (tr->live_mem_gen == t->gen) {
			update_memory(t, tr, now_ms);
		} else if (tr->mem.sampled_ms) {
			/* Its processes are gone: keep the figures of its life, marked gone. */
			tr->mem.gone = 1;
			tr->mem.leak_suspect = 0;
			tr->mem.exhaustion_eta_s = -1;
		}
		if (tr->mem.sampled_ms) {
			u->mem = tr->mem;
			if ((u->mem.leak_suspect != tr->leak_prev || u->mem.leak_suspect) && fn) {
				f.kind = FINDING_LEAK_SUSPECT;
				f.started = u->mem.leak_suspect;
				f.ongoing = u->mem.leak_suspect == tr->leak_prev;
				fn(ctx, &f);
				f.ongoing = 0;
			}
			tr->leak_prev = u->mem.leak_suspect;
		}

		memset(&fs, 0, sizeof(fs));
		fs.now_ms = now_ms;
		fs.forks = u->forks;
		fs.execs = u->execs;
		fs.forks_failed = u->forks_failed;
		fs.pids_current = tr->has_cg ? tr->cg.pids_current : -1;
		fs.pids_max = tr->has_cg ? tr->cg.pids_max : -1;
		if (!tr->fork_init) {
			struct fork_sample base = fs;
			const struct fig_unit *bu = fig_boot_find_unit(&t->base_cur, u->name);

			/* Counts from earlier runs are history, not this window's forks. */
			if (!bu) {
				base.forks = base.execs = base.forks_failed = 0;
				base.now_ms = t->started_ms;
			}
			fork_storm_track_init(&tr->fork, &base);
			tr->fork_init = 1;
		}
		ft = fork_storm_track_observe(&tr->fork, &t->fork_cfg, &fs);
		fork_storm_track_figures(&tr->fork, &tr->fork_fig);
		if (ft == FORK_STORM_STARTED) {
			tr->fork_storm = 1;
			tr->fork_storm_since_ms = now_ms;
		} else if (ft == FORK_STORM_ENDED) {
			tr->fork_storm = 0;
		}
		u->fork_storm = tr->fork_storm;
		if (tr->fork_storm_since_ms)
			u->fork_storm_since_ms = tr->fork_storm_since_ms;
		/* The rate now: between this sample and the previous one. */
		if (tr->prev_ms && now_ms > tr->prev_ms && u->forks >= tr->prev_forks)
			u->fork_rate_per_s = (double)(u->forks - tr->prev_forks) * 1000.0 /
					     (double)(now_ms - tr->prev_ms);
		else if (!tr->prev_ms && u->first_ms && now_ms > u->first_ms && !fig_boot_find_unit(&t->base_cur, u->name))
			/* First sight: all its forks are since it was first seen. */
			u->fork_rate_per_s = (double)u->forks * 1000.0 / (double)(now_ms - u->first_ms);
		tr->prev_forks = u->forks;
		tr->prev_ms = now_ms;
		if (tr->has_cg) {
			u->pids_current = tr->cg.pids_current;
			u->pids_max = tr->cg.pids_max;
			u->pids_events_max = tr->cg.pids_events_max;
		}
		if (tr->procs_alive >= 0)
			u->procs_alive = tr->procs_alive;
		if ((ft != FORK_STORM_NO_CHANGE || tr->fork_storm) && fn) {
			f.kind = FINDING_FORK_STORM;
			f.started = ft == FORK_STORM_STARTED || ft == FORK_STORM_NO_CHANGE;
			f.ongoing = ft == FORK_STORM_NO_CHANGE;
			f.fork = tr->fork_fig;
			fn(ctx, &f);
		}
		run_crash_storm(t, tr, u, now_ms, fn, ctx);
	}
}

/* The kernel pseudo-units: name, where the figure is, and whether it is a count. */
static const struct {
	const char *name;
	size_t off;
	int count;
} kernel_units[] = {
	{ "kernel:slab", offsetof(struct unit_table_kernel, slab_kib), 0 },
	{ "kernel:sunreclaim", offsetof(struct unit_table_kernel, sunreclaim_kib), 0 },
	{ "kernel:kernel_stack", offsetof(struct unit_table_kernel, kernel_stack_kib), 0 },
	{ "kernel:page_tables", offsetof(struct unit_table_kernel, page_tables_kib), 0 },
	{ "kernel:percpu", offsetof(struct unit_table_kernel, percpu_kib), 0 },
	{ "kernel:dying_cgroups", offsetof(struct unit_table_kernel, dying_cgroups), 1 },
};

void unit_table__set_kernel(struct unit_table *t, const struct unit_table_kernel *k)
{
	t->kernel = *k;
	t->has_kernel = 1;
}

/*
 * The kernel's figures as units of this boot, each with a track (its growth
 * fit). A figure that is a count has no leak suspect: KiB thresholds do not
 * apply to it; its churn link says it.
 */
static void set_kernel_units(struct unit_table *t, struct fig_boot *cur, int64_t now_ms,
			     unit_table_finding_fn fn, void *ctx)
{
	for (size_t i = 0; t->has_kernel && i < sizeof(kernel_units) / sizeof(kernel_units[0]); i++) {
		int64_t v = *(const int64_t *)((const char *)&t->kernel + kernel_units[i].off);
		struct unit_track *tr;
		struct fig_unit *u;
		struct memory_growth_result res;
		struct fig_memory *m;

		if (v < 0 || !(tr = unit_track(t, kernel_units[i].name, 1)) ||
		    !(u = fig_boot_unit(cur, kernel_units[i].name)))
			continue;
		tr->kernel = 1;
		m = &tr->mem;
		memory_growth_observe(&tr->growth, &t->growth_cfg, now_ms / 1000.0, (double)v);
		memory_growth_result(&tr->growth, &t->growth_cfg, &res);
		m->sampled_ms = now_ms;
		m->gone = 0;
		m->growth_kib_per_s = res.slope_kib_s;
		m->growth_fit_r2 = res.r2;
		m->growth_window_s = res.span_s;
		if (kernel_units[i].count) {
			m->count = v;
		} else {
			m->memcg_usage_bytes = v * 1024;
			m->kernel_bytes = v * 1024;
			m->leak_suspect = res.leak_suspect ? 1 : 0;
		}
		if (!u->first_ms)
			u->first_ms = now_ms;
		u->last_ms = now_ms;
		u->mem = *m;
		if ((m->leak_suspect != tr->leak_prev || m->leak_suspect) && fn) {
			struct unit_table_finding f = { .unit = u, .kind = FINDING_LEAK_SUSPECT };

			f.started = m->leak_suspect;
			f.ongoing = m->leak_suspect == tr->leak_prev;
			fn(ctx, &f);
		}
		tr->leak_prev = m->leak_suspect;
	}
}

struct churn_ctx {
	struct fig_boot *cur;
	unit_table_finding_fn fn;
	void *ctx;
};

static void on_churn_link(void *ctx, const struct churn_link_event *e)
{
	struct churn_ctx *c = ctx;
	struct unit_table_finding f = { .kind = FINDING_CHURN_GROWTH, .started = e->started,
					.ongoing = e->ongoing, .storm_unit = e->storm_unit,
					.ambiguous_with = e->ambiguous_with, .churn = e->res };

	f.unit = fig_boot_find_unit(c->cur, e->growing);
	if (f.unit && c->fn)
		c->fn(c->ctx, &f);
}

/* The figure a unit is fitted by: a pseudo-unit's own, else its processes' resident memory. */
static double churn_value(const struct fig_unit *u)
{
	if (u->mem.count >= 0)
		return (double)u->mem.count;
	if (strncmp(u->name, "kernel:", 7) == 0)
		return u->mem.memcg_usage_bytes >= 0 ? u->mem.memcg_usage_bytes / 1024.0 : -1;
	return (double)(u->mem.rss_anon_kib + u->mem.rss_file_kib + u->mem.rss_shmem_kib);
}

/* Churn growth: every unit's figure and starts into the histories, the storms into the links. */
static void run_churn(struct unit_table *t, struct fig_boot *cur, int64_t now_ms,
		      unit_table_finding_fn fn, void *ctx)
{
	struct churn_storm storms[32];
	struct churn_ctx cc = { cur, fn, ctx };
	uint32_t n = 0;

	for (uint32_t i = 0; i < cur->n_units; i++) {
		const struct fig_unit *u = &cur->units[i];
		int live = u->mem.sampled_ms == now_ms && !u->mem.gone;
		const struct fig_unit *base;
		int64_t since = 0;

		if (!live && u->last_ms < t->last_ms)
			continue; /* nothing of it this sample */
		base = fig_boot_find_unit(&t->base_cur, u->name);
		churn_links__record(t->churn, u->name, now_ms, live ? churn_value(u) : 0, u->starts,
				    base ? base->starts : 0, live);
		for (uint32_t e = 0; e < u->n_exes; e++)
			if (u->exes[e].respawn_class == RESPAWN_STORM && u->exes[e].storm_since_ms &&
			    (!since || u->exes[e].storm_since_ms < since))
				since = u->exes[e].storm_since_ms;
		if (u->crash_storm && (!since || u->crash_storm_since_ms < since))
			since = u->crash_storm_since_ms;
		if (since && n < sizeof(storms) / sizeof(storms[0]))
			storms[n++] = (struct churn_storm){ u->name, u->starts, since };
	}
	churn_links__observe(t->churn, now_ms, storms, n, on_churn_link, &cc);
}

void unit_table__each_churn_link(const struct unit_table *t, unit_table_finding_fn fn, void *ctx)
{
	struct churn_ctx cc = { .cur = (struct fig_boot *)fig_state_find_boot(&t->state, t->boot_id),
				.fn = fn, .ctx = ctx };

	if (cc.cur)
		churn_links__each_link(t->churn, on_churn_link, &cc);
}

int unit_table__end(struct unit_table *t, int64_t now_ms, unit_table_finding_fn fn, void *ctx)
{
	struct fig_boot *cur;

	t->cur = NULL;
	cur = current_boot(t);
	if (!cur)
		return -ENOMEM;
	if (!cur->first_ms)
		cur->first_ms = t->started_ms;
	cur->last_ms = now_ms;
	set_kernel_units(t, cur, now_ms, fn, ctx);
	run_detector(t, cur, now_ms, fn, ctx);
	run_unit_tracks(t, cur, now_ms, fn, ctx);
	run_churn(t, cur, now_ms, fn, ctx);
	t->last_ms = now_ms;
	t->state.written_ms = now_ms;
	t->state.interval_ms = t->state_interval_ms;
	return 0;
}

void unit_table__stats(const struct unit_table *t, struct unit_table_stats *ret)
{
	ret->exe_tracks = t->n_tracks;
	ret->exe_tracks_dropped = t->tracks_dropped;
	ret->unit_tracks = t->n_units;
	ret->unit_tracks_dropped = t->unit_tracks_dropped;
}

const struct fig_state *unit_table__state(const struct unit_table *t)
{
	return &t->state;
}

const struct fig_boot *unit_table__current(const struct unit_table *t)
{
	return fig_state_find_boot(&t->state, t->boot_id);
}
