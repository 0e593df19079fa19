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
	free(u->kill_counts);
	u->kill_counts = NULL;
	u->n_kill_counts = 0;
	u->cap_kill_counts = 0;
}

static void boot_free(struct fig_boot *b)
{
	for (uint32_t i = 0; i < b->n_units; i++)
		unit_free(&b->units[i]);
	free(b->units);
	b->units = NULL;
	b->n_units = 0;
	b->cap_units = 0;
	fig_boot_free_index(b);
}

void fig_boot_free_index(struct fig_boot *b)
{
	free(b->index);
	b->index = NULL;
	b->index_cap = 0;
	b->index_n = 0;
}

/* FNV-1a of a name as copy_name() stores it, so long names cut alike hash alike. */
static uint32_t unit_name_hash(const char *name)
{
	uint32_t h = 2166136261u;
	size_t n = strnlen(name, FIG_UNIT_NAME_MAX - 1);

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)name[i]) * 16777619u;
	return h;
}

static void index_put(struct fig_boot *b, uint32_t unit)
{
	uint32_t mask = b->index_cap - 1, i = unit_name_hash(b->units[unit].name) & mask;

	while (b->index[i] >= 0)
		i = (i + 1) & mask;
	b->index[i] = (int32_t)unit;
}

/* Builds the index for every unit, at most half full. -ENOMEM leaves none (lookups go linear). */
static int index_rebuild(struct fig_boot *b)
{
	uint32_t cap = 16;

	while (cap < 2 * b->n_units + 2)
		cap *= 2;
	if (cap != b->index_cap) {
		int32_t *p = realloc(b->index, cap * sizeof(*p));

		if (!p) {
			fig_boot_free_index(b);
			return -ENOMEM;
		}
		b->index = p;
		b->index_cap = cap;
	}
	memset(b->index, 0xff, cap * sizeof(*b->index)); /* -1: empty */
	for (uint32_t i = 0; i < b->n_units; i++)
		index_put(b, i);
	b->index_n = b->n_units;
	return 0;
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
	free(s->ooms);
	free(s->kills);
	fig_state_init(s);
}

/*
 * A copy of n elements of src in a new array, or NULL: for n == 0 (nothing to
 * hold) or with *ret_nomem set when out of memory.
 */
static void *dup_array(const void *src, uint32_t n, size_t elem, int *ret_nomem)
{
	void *p;

	if (!n)
		return NULL;
	p = malloc((size_t)n * elem);
	if (!p) {
		*ret_nomem = 1;
		return NULL;
	}
	memcpy(p, src, (size_t)n * elem);
	return p;
}

/* On failure dst holds only what was copied, so unit_free() may be called on it. */
static int unit_copy(struct fig_unit *dst, const struct fig_unit *src)
{
	int nomem = 0;

	*dst = *src;
	/* No pointer of src's may stay in dst, even when a copy below fails. */
	dst->exes = dup_array(src->exes, src->n_exes, sizeof(*src->exes), &nomem);
	dst->n_exes = dst->cap_exes = dst->exes ? src->n_exes : 0;
	dst->kill_counts = dup_array(src->kill_counts, src->n_kill_counts,
				     sizeof(*src->kill_counts), &nomem);
	dst->n_kill_counts = dst->cap_kill_counts = dst->kill_counts ? src->n_kill_counts : 0;
	return nomem ? -ENOMEM : 0;
}

static int boot_copy(struct fig_boot *dst, const struct fig_boot *src)
{
	*dst = *src;
	dst->index = NULL;
	dst->index_cap = dst->index_n = 0;
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
	int nomem = 0;

	*dst = *src;
	dst->boots = NULL;
	dst->n_boots = 0;
	dst->cap_boots = 0;
	dst->ooms = dup_array(src->ooms, src->n_ooms, sizeof(*src->ooms), &nomem);
	dst->n_ooms = dst->cap_ooms = dst->ooms ? src->n_ooms : 0;
	dst->kills = dup_array(src->kills, src->n_kills, sizeof(*src->kills), &nomem);
	dst->n_kills = dst->cap_kills = dst->kills ? src->n_kills : 0;
	if (nomem)
		goto nomem;
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

const struct fig_unit *fig_boot_find_unit(const struct fig_boot *cb, const char *name)
{
	/* The index is a cache: building it does not change what the boot holds. */
	struct fig_boot *b = (struct fig_boot *)cb;

	if (!b || !name)
		return NULL;
	if ((b->index_n != b->n_units || !b->index) && index_rebuild(b)) {
		for (uint32_t i = 0; i < b->n_units; i++)
			if (name_eq(b->units[i].name, FIG_UNIT_NAME_MAX, name))
				return &b->units[i];
		return NULL;
	}
	for (uint32_t mask = b->index_cap - 1, i = unit_name_hash(name) & mask; b->index[i] >= 0;
	     i = (i + 1) & mask)
		if (name_eq(b->units[b->index[i]].name, FIG_UNIT_NAME_MAX, name))
			return &b->units[b->index[i]];
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
	/* Kept current while it stays at most half full; else rebuilt at the next lookup. */
	if (b->index && b->index_n == b->n_units - 1 && 2 * b->n_units + 2 <= b->index_cap) {
		index_put(b, b->n_units - 1);
		b->index_n = b->n_units;
	}
	/* Not yet sampled: unknown, which 0 would not say. */
	fig_memory_init(&u->mem);
	u->procs_alive = -1;
	u->pids_current = -1;
	u->pids_max = -1;
	u->pids_events_max = -1;
	return u;
}

void fig_memory_init(struct fig_memory *m)
{
	if (!m)
		return;
	memset(m, 0, sizeof(*m));
	m->growth_kib_per_s = NAN;
	m->growth_fit_r2 = NAN;
	m->growth_window_s = NAN;
	m->exhaustion_eta_s = -1;
	m->memcg_usage_bytes = -1;
	m->memcg_limit_bytes = -1;
	m->kernel_bytes = -1;
	m->count = -1;
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

/*
 * Adds to the (sender_unit, signal, by_kernel) entry, creating it when there
 * is room. Past FIG_MAX_KILL_COUNTS senders, or when the array cannot grow,
 * the kills go to kill_counts_other: still counted, no longer attributed.
 * -ENOMEM in the second case (so a merge can say it lost detail), else 0.
 */
static int unit_add_kills(struct fig_unit *u, const char *sender_unit, uint32_t signal,
			  uint32_t by_kernel, uint64_t count)
{
	struct fig_kill_count *k;

	if (!sender_unit)
		sender_unit = "";
	for (uint32_t i = 0; i < u->n_kill_counts; i++) {
		k = &u->kill_counts[i];
		if (k->signal == signal && k->by_kernel == by_kernel &&
		    name_eq(k->sender_unit, sizeof(k->sender_unit), sender_unit)) {
			k->count += count;
			return 0;
		}
	}
	if (u->n_kill_counts >= FIG_MAX_KILL_COUNTS) {
		u->kill_counts_other += count;
		return 0;
	}
	if (grow((void **)&u->kill_counts, &u->cap_kill_counts, u->n_kill_counts,
		 sizeof(*u->kill_counts))) {
		u->kill_counts_other += count;
		return -ENOMEM;
	}
	k = &u->kill_counts[u->n_kill_counts++];
	memset(k, 0, sizeof(*k));
	copy_name(k->sender_unit, sizeof(k->sender_unit), sender_unit);
	k->signal = signal;
	k->by_kernel = by_kernel;
	k->count = count;
	return 0;
}

/* kills_received is the caller's to count: a merge adds it separately. */
void fig_unit_add_kills(struct fig_unit *u, const char *sender_unit, uint32_t signal,
			uint32_t by_kernel, uint64_t count)
{
	if (u)
		unit_add_kills(u, sender_unit, signal, by_kernel, count);
}

/* forks_failed is the caller's to count, as above. */
void fig_unit_add_fork_errno(struct fig_unit *u, uint32_t err, uint64_t count)
{
	uint32_t n;

	if (!u)
		return;
	n = u->n_fork_errnos < FIG_MAX_ERRNO ? u->n_fork_errnos : FIG_MAX_ERRNO;
	for (uint32_t i = 0; i < n; i++) {
		if (u->fork_errnos[i].err == err) {
			u->fork_errnos[i].count += count;
			return;
		}
	}
	if (n >= FIG_MAX_ERRNO) {
		u->fork_errnos_other += count;
		return;
	}
	u->fork_errnos[n].err = err;
	u->fork_errnos[n].count = count;
	u->n_fork_errnos = n + 1;
}

/* Every name of a record NUL-terminated, whatever the caller left in it. */
static void terminate(char *field, size_t size)
{
	field[size - 1] = '\0';
}

static void proc_ref_terminate(struct fig_proc_ref *p)
{
	terminate(p->comm, sizeof(p->comm));
	terminate(p->unit, sizeof(p->unit));
}

/*
 * Appends elem to a list bounded by max, oldest first. A full list drops
 * its oldest record; a record that cannot be stored for want of memory is
 * dropped itself. Either way *dropped counts it, so that n + dropped is
 * always the number of records ever added. Returns the slot, or NULL.
 */
static void *list_append(void **arr, uint32_t *n, uint32_t *cap, uint64_t *dropped,
			 uint32_t max, size_t elem)
{
	unsigned char *base;

	if (*n >= max) {
		/* Only a list filled by hand can be over max: trim it back to max - 1. */
		uint32_t drop = *n - max + 1;

		memmove(*arr, (unsigned char *)*arr + (size_t)drop * elem,
			(size_t)(*n - drop) * elem);
		*n -= drop;
		*dropped += drop;
	}
	if (grow(arr, cap, *n, elem)) {
		(*dropped)++;
		return NULL;
	}
	base = *arr;
	return base + (size_t)(*n)++ * elem;
}

int fig_state_add_oom(struct fig_state *s, const struct fig_oom *o)
{
	struct fig_oom rec, *slot;

	if (!s || !o)
		return -EINVAL;
	/* Copied first: o may point into s->ooms, which the append moves. */
	rec = *o;
	slot = list_append((void **)&s->ooms, &s->n_ooms, &s->cap_ooms, &s->ooms_dropped,
			   FIG_MAX_OOMS, sizeof(*s->ooms));
	if (!slot)
		return -ENOMEM;
	*slot = rec;
	/* The state file refuses lists past their bounds: cut them here instead. */
	if (slot->n_top_rss > FIG_OOM_TOP_UNITS)
		slot->n_top_rss = FIG_OOM_TOP_UNITS;
	if (slot->n_top_growth > FIG_OOM_TOP_UNITS)
		slot->n_top_growth = FIG_OOM_TOP_UNITS;
	terminate(slot->boot_id, sizeof(slot->boot_id));
	terminate(slot->constraint, sizeof(slot->constraint));
	terminate(slot->memcg, sizeof(slot->memcg));
	proc_ref_terminate(&slot->victim);
	proc_ref_terminate(&slot->trigger);
	for (int i = 0; i < FIG_OOM_TOP_UNITS; i++) {
		terminate(slot->top_rss[i].unit, sizeof(slot->top_rss[i].unit));
		terminate(slot->top_growth[i].unit, sizeof(slot->top_growth[i].unit));
	}
	return 0;
}

int fig_state_add_kill(struct fig_state *s, const struct fig_kill *k)
{
	struct fig_kill rec, *slot;

	if (!s || !k)
		return -EINVAL;
	rec = *k;
	slot = list_append((void **)&s->kills, &s->n_kills, &s->cap_kills, &s->kills_dropped,
			   FIG_MAX_KILLS, sizeof(*s->kills));
	if (!slot)
		return -ENOMEM;
	*slot = rec;
	if (slot->n_lineage > FIG_LINEAGE_MAX)
		slot->n_lineage = FIG_LINEAGE_MAX;
	terminate(slot->boot_id, sizeof(slot->boot_id));
	proc_ref_terminate(&slot->sender);
	proc_ref_terminate(&slot->target);
	for (int i = 0; i < FIG_LINEAGE_MAX; i++)
		proc_ref_terminate(&slot->lineage[i]);
	return 0;
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
	dst->execs += src->execs;
	dst->exits += src->exits;
	dst->exits_failed += src->exits_failed;
	dst->start_exits += src->start_exits;
	dst->start_exits_failed += src->start_exits_failed;
	dst->start_lifetime_sum_us += src->start_lifetime_sum_us;
	if (src->crash_last_ms > dst->crash_last_ms) {
		dst->crash_last_ms = src->crash_last_ms;
		dst->crash_signal = src->crash_signal;
		dst->crash_ppid = src->crash_ppid;
		memcpy(dst->crash_comm, src->crash_comm, sizeof(dst->crash_comm));
		memcpy(dst->crash_parent_comm, src->crash_parent_comm, sizeof(dst->crash_parent_comm));
	}
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

/*
 * A gauge of src replaces dst's when src's snapshot wins (see
 * fig_unit_merge), unless src's is unknown (-1) and comes from an undated
 * snapshot: then it says nothing, and a value dst knows stays.
 */
static void merge_gauge(int64_t *dst, int64_t src, int src_wins, int src_undated)
{
	if (src_wins && !(src_undated && src == -1))
		*dst = src;
}

/*
 * Counters add. Gauges are one snapshot, dated by mem.sampled_ms, and are
 * never summed: src's memory, fork_storm, fork_storm_since_ms,
 * fork_rate_per_s, procs_alive and pids_* replace dst's when src's snapshot
 * is newer, or when dst's was never taken (sampled_ms 0: a unit just created
 * to merge into takes everything src has). The fork and pids gauges follow
 * the memory clock rather than a rule of their own because they are sampled
 * together, and a storm verdict should stay with the rate and counts it was
 * made from. Only when neither snapshot is dated does an unknown (-1)
 * procs_alive or pids_* of src leave a known one of dst in place.
 * rss_peak_kib is the highest of both, whichever snapshot wins.
 */
int fig_unit_merge(struct fig_unit *dst, const struct fig_unit *src)
{
	int src_wins = dst->mem.sampled_ms == 0 || src->mem.sampled_ms > dst->mem.sampled_ms;
	int src_undated = src->mem.sampled_ms == 0;
	uint64_t peak = dst->mem.rss_peak_kib > src->mem.rss_peak_kib ? dst->mem.rss_peak_kib
								     : src->mem.rss_peak_kib;
	uint32_t n;
	int ret = 0;

	if (src_wins) {
		dst->mem = src->mem;
		dst->fork_storm = src->fork_storm;
		dst->fork_storm_since_ms = src->fork_storm_since_ms;
		dst->fork_rate_per_s = src->fork_rate_per_s;
		dst->crash_storm = src->crash_storm;
		dst->window_crashes = src->window_crashes;
	}
	dst->crash_storm_since_ms = max64(dst->crash_storm_since_ms, src->crash_storm_since_ms);
	dst->crash_storms += src->crash_storms;
	dst->starts += src->starts;
	dst->mem.rss_peak_kib = peak;
	merge_gauge(&dst->procs_alive, src->procs_alive, src_wins, src_undated);
	merge_gauge(&dst->pids_current, src->pids_current, src_wins, src_undated);
	merge_gauge(&dst->pids_max, src->pids_max, src_wins, src_undated);
	merge_gauge(&dst->pids_events_max, src->pids_events_max, src_wins, src_undated);

	dst->oom_kills += src->oom_kills;
	dst->kills_sent += src->kills_sent;
	dst->kills_received += src->kills_received;
	for (uint32_t i = 0; i < src->n_kill_counts; i++) {
		const struct fig_kill_count *k = &src->kill_counts[i];

		/* Folded into kill_counts_other on ENOMEM: the total stays right. */
		if (unit_add_kills(dst, k->sender_unit, k->signal, k->by_kernel, k->count))
			ret = -ENOMEM;
	}
	dst->kill_counts_other += src->kill_counts_other;
	dst->forks_failed += src->forks_failed;
	n = src->n_fork_errnos < FIG_MAX_ERRNO ? src->n_fork_errnos : FIG_MAX_ERRNO;
	for (uint32_t i = 0; i < n; i++)
		fig_unit_add_fork_errno(dst, src->fork_errnos[i].err, src->fork_errnos[i].count);
	dst->fork_errnos_other += src->fork_errnos_other;

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

int fig_signal_is_crash(uint32_t sig)
{
	switch (sig) {
	case 4:  /* SIGILL */
	case 5:  /* SIGTRAP */
	case 6:  /* SIGABRT */
	case 7:  /* SIGBUS */
	case 8:  /* SIGFPE */
	case 11: /* SIGSEGV */
	case 31: /* SIGSYS */
		return 1;
	}
	return 0;
}

uint64_t fig_unit_crashes(const struct fig_unit *u)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < u->n_exes; i++)
		for (uint32_t k = 0; k < u->exes[i].n_status && k < FIG_MAX_STATUS; k++)
			if (u->exes[i].status[k].kind == RCA_STATUS_SIGNAL &&
			    fig_signal_is_crash(u->exes[i].status[k].value))
				n += u->exes[i].status[k].count;
	return n;
}
