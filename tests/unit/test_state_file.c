// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The state file: exact bytes, round trip, every kind of damage, and the files on disk. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "state_file.h"

/*
 * Under AddressSanitizer (the Makefile always builds tests with it), its
 * allocator hooks let a test see how much a decode allocated and that a
 * failed decode gave it all back.
 */
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

#ifdef HAVE_ASAN
size_t __sanitizer_get_current_allocated_bytes(void);
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
					      void (*free_hook)(const volatile void *));

static int counting;
static size_t allocated;

static void on_malloc(const volatile void *p, size_t size)
{
	(void)p;
	if (counting)
		allocated += size;
}

static void on_free(const volatile void *p)
{
	(void)p;
}
#endif

/*
 * Decodes, checking that a failure leaves ret empty and frees all it took.
 * *ret_allocated: bytes allocated during the call (0 without ASan).
 */
static int decode_checked(const void *buf, size_t len, struct fig_state *ret, char *err,
			  size_t errlen, size_t *ret_allocated)
{
	int r;
#ifdef HAVE_ASAN
	size_t live = __sanitizer_get_current_allocated_bytes();

	allocated = 0;
	counting = 1;
#endif
	r = state_file_decode(buf, len, ret, err, errlen);
#ifdef HAVE_ASAN
	counting = 0;
	if (r)
		assert_int_equal(__sanitizer_get_current_allocated_bytes(), live);
	if (ret_allocated)
		*ret_allocated = allocated;
#else
	if (ret_allocated)
		*ret_allocated = 0;
#endif
	if (r) {
		assert_int_equal(ret->n_boots, 0);
		assert_null(ret->boots);
		assert_int_equal(ret->n_ooms, 0);
		assert_null(ret->ooms);
		assert_int_equal(ret->n_kills, 0);
		assert_null(ret->kills);
		assert_true(err[0] != '\0');
		assert_null(strchr(err, '\n'));
	}
	return r;
}

/* ---- a state that uses every field ------------------------------------- */

static void fill_exe(struct fig_exe *e, uint64_t seed)
{
	e->starts = seed + 1;
	e->exits = seed + 2;
	e->exits_failed = seed + 3;
	e->first_start_ms = 1700000000000 + (int64_t)seed;
	e->last_start_ms = 1700000000100 + (int64_t)seed;
	e->last_exit_ms = 1700000000200 + (int64_t)seed;
	e->gaps = seed + 4;
	e->gap_sum_ns = seed * 1000000007ull;
	e->gap_sumsq_ms2 = seed * 31;
	e->lifetime_sum_us = seed * 77;
	e->lifetime_hist[0] = seed;
	e->lifetime_hist[5] = seed + 9;
	fig_exe_add_status(e, RCA_STATUS_CODE, 1, seed + 10);
	fig_exe_add_status(e, RCA_STATUS_SIGNAL, 9, seed + 11);
	e->status_other = seed + 12;
	e->respawn_class = (uint32_t)(seed % 3);
	e->storm_since_ms = -(int64_t)seed; /* sign must survive */
	e->storms = seed + 13;
}

/* A double from its bits: NaNs with a payload, which must come back bit for bit. */
static double from_bits(uint64_t bits)
{
	double d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

#define NAN_PAYLOAD 0x7ff8000000c0ffeeull
#define NEG_NAN_PAYLOAD 0xfff8000000000badull

/* Every gauge and counter of a unit's memory, kills and forks, none at its default. */
static void fill_unit_figures(struct fig_unit *u, uint64_t seed)
{
	char sender[32];

	u->mem.sampled_ms = 1700000120000 + (int64_t)seed;
	u->mem.rss_anon_kib = seed + 1001;
	u->mem.rss_file_kib = seed + 1002;
	u->mem.rss_shmem_kib = seed + 1003;
	u->mem.rss_peak_kib = seed + 5000;
	u->mem.growth_kib_per_s = 12.5 + (double)seed;
	u->mem.growth_fit_r2 = 0.875;
	u->mem.growth_window_s = 600.25;
	u->mem.exhaustion_eta_s = 3600 + (int64_t)seed;
	u->mem.leak_suspect = 1;
	u->mem.gone = 1;
	u->mem.memcg_usage_bytes = 123456789 + (int64_t)seed;
	u->mem.memcg_limit_bytes = INT64_MAX; /* every bit must survive */
	u->oom_kills = seed + 2;
	u->kills_sent = seed + 3;
	u->kills_received = seed + 44;
	/* Senders at the bound, then two more that overflow. */
	for (uint64_t i = 0; i < FIG_MAX_KILL_COUNTS + 2; i++) {
		snprintf(sender, sizeof(sender), "sender%" PRIu64 ".service", i);
		fig_unit_add_kills(u, sender, i % 2 ? 9 : 15, (uint32_t)(i % 3 == 0),
				   seed + i + 1);
	}
	u->forks_failed = seed + 17;
	/* errnos at the bound, then two more that overflow. */
	for (uint32_t i = 0; i < FIG_MAX_ERRNO + 2; i++)
		fig_unit_add_fork_errno(u, i + 1, seed + 100 + i);
	u->fork_storm = 1;
	u->fork_storm_since_ms = 1700000110000 + (int64_t)seed;
	u->fork_rate_per_s = 250.75;
	u->procs_alive = 12 + (int64_t)seed;
	u->pids_current = 40 + (int64_t)seed;
	u->pids_max = 4096;
	u->pids_events_max = 3;
}

static void fill_proc_ref(struct fig_proc_ref *p, uint32_t pid, const char *comm,
			  const char *unit)
{
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	snprintf(p->unit, sizeof(p->unit), "%s", unit);
}

static void fill_oom(struct fig_oom *o, uint64_t seed)
{
	memset(o, 0, sizeof(*o));
	o->time_ms = 1700000200000 + (int64_t)seed;
	snprintf(o->boot_id, sizeof(o->boot_id), "6a1f0c2e-0000-4000-8000-%012" PRIu64, seed);
	/* A comm of the longest length the field holds. */
	fill_proc_ref(&o->victim, (uint32_t)(1000 + seed), "0123456789abcdef", "leaky.service");
	snprintf(o->constraint, sizeof(o->constraint), "%s", seed % 2 ? "global" : "memcg");
	snprintf(o->memcg, sizeof(o->memcg), "%s", seed % 2 ? "" : "/system.slice/leaky.service");
	o->memcg_limit_bytes = seed % 2 ? -1 : (int64_t)(512ull << 20);
	o->memcg_usage_bytes = seed % 2 ? -1 : (int64_t)(511ull << 20) + (int64_t)seed;
	o->rss_anon_kib = 400000 + seed;
	o->rss_file_kib = 3000 + seed;
	o->rss_shmem_kib = 20 + seed;
	o->oom_score_adj = -1000 + (int32_t)seed; /* sign must survive */
	fill_proc_ref(&o->trigger, (uint32_t)(2000 + seed), "alloc", "other.service");
	o->n_top_rss = FIG_OOM_TOP_UNITS;
	for (uint32_t i = 0; i < FIG_OOM_TOP_UNITS; i++) {
		snprintf(o->top_rss[i].unit, sizeof(o->top_rss[i].unit), "rss%u.service", i);
		o->top_rss[i].rss_kib = 10000 * (FIG_OOM_TOP_UNITS - i) + seed;
		o->top_rss[i].growth_kib_per_s = i == 2 ? from_bits(NAN_PAYLOAD) : -1.5 * i;
	}
	o->n_top_growth = (uint32_t)(seed % (FIG_OOM_TOP_UNITS + 1));
	for (uint32_t i = 0; i < o->n_top_growth; i++) {
		snprintf(o->top_growth[i].unit, sizeof(o->top_growth[i].unit), "grow%u.service", i);
		o->top_growth[i].rss_kib = 500 + i;
		o->top_growth[i].growth_kib_per_s = 1e6 / (i + 1);
	}
}

static void fill_kill(struct fig_kill *k, uint64_t seed)
{
	char longunit[FIG_UNIT_NAME_MAX];

	memset(longunit, 'k', sizeof(longunit) - 1);
	longunit[sizeof(longunit) - 1] = '\0';
	memset(k, 0, sizeof(*k));
	k->time_ms = 1700000300000 + (int64_t)seed;
	snprintf(k->boot_id, sizeof(k->boot_id), "6a1f0c2e-0000-4000-8000-%012" PRIu64, seed);
	k->signal = seed % 2 ? 9 : 15;
	k->by_kernel = (uint32_t)(seed % 3 == 1);
	k->result = -(int32_t)(seed % 4); /* sign must survive */
	fill_proc_ref(&k->sender, (uint32_t)(3000 + seed), "killer", "admin.service");
	/* A unit name of the longest length the field holds. */
	fill_proc_ref(&k->target, (uint32_t)(4000 + seed), "victim",
		      seed % 5 ? "v.service" : longunit);
	k->n_lineage = (uint32_t)(seed % (FIG_LINEAGE_MAX + 1));
	for (uint32_t i = 0; i < k->n_lineage; i++)
		fill_proc_ref(&k->lineage[i], (uint32_t)(3000 - i - 1), i ? "bash" : "sshd",
			      i % 2 ? "session-1.scope" : "");
}

/*
 * full_lists: the OOM and kill lists at their bounds with the oldest dropped,
 * which makes a file of some 100 KiB; without, a few records of each kind,
 * small enough to damage at every byte.
 */
static void build_sample(struct fig_state *s, int full_lists)
{
	struct fig_boot *b;
	struct fig_unit *u;
	struct fig_exe *e;
	struct fig_oom o;
	struct fig_kill k;
	char longname[FIG_UNIT_NAME_MAX], longpath[RCA_EXE_PATH_LEN];

	memset(longname, 'L', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memset(longpath, 'P', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';

	fig_state_init(s);
	s->written_ms = 1700000123456;
	s->interval_ms = 30000;
	for (int i = 0; i < RCA_LOST_KIND_MAX; i++)
		s->lost[i] = 100 + i;
	s->units_unnamed = 7;
	s->boots_dropped = 2;

	b = fig_state_boot(s, "6a1f0c2e-0000-4000-8000-000000000001");
	b->first_ms = 1690000000000;
	b->last_ms = 1690000999000;
	b->units_dropped = 1;
	u = fig_boot_unit(b, "old.service");
	u->forks = 1;
	u->execs = 1;
	fill_exe(fig_unit_exe(u, "/usr/bin/old"), 1);
	fill_unit_figures(u, 7);

	b = fig_state_boot(s, "6a1f0c2e-0000-4000-8000-000000000002");
	b->first_ms = 1700000000000;
	b->last_ms = 1700000123000;
	u = fig_boot_unit(b, "nginx.service");
	u->forks = UINT64_MAX; /* every bit must survive */
	u->threads = 12;
	u->execs = 13;
	u->exits = 14;
	u->exits_failed = 15;
	u->first_ms = 1700000000001;
	u->last_ms = 1700000000002;
	u->exes_dropped = 3;
	fill_unit_figures(u, 20);
	fill_exe(fig_unit_exe(u, "/usr/sbin/nginx"), 20);
	e = fig_unit_exe(u, longpath);
	fill_exe(e, 30);
	/* A full status table and a histogram reaching the last bucket. */
	for (uint32_t i = 0; i < FIG_MAX_STATUS + 3; i++)
		fig_exe_add_status(e, RCA_STATUS_CODE, 100 + i, i + 1);
	e->lifetime_hist[RCA_LIFETIME_BUCKETS - 1] = 5;
	/* No executables, and every figure as a new unit has it: NaN growth, -1 gauges. */
	fig_boot_unit(b, "cron.service")->forks = 4;
	u = fig_boot_unit(b, longname);
	u->exits = 1;
	fig_unit_exe(u, ""); /* empty path, all zero */
	fig_unit_add_kills(u, longname, 9, 1, 1); /* a sender of the longest name */
	u = fig_boot_unit(b, "we\x01ird\xff name");
	fill_exe(fig_unit_exe(u, "/bin/\x1b[31mred"), 40);
	/* Doubles that only survive as bits, and gauges of a unit that went away. */
	u->mem.sampled_ms = -5;
	u->mem.growth_kib_per_s = from_bits(NAN_PAYLOAD);
	u->mem.growth_fit_r2 = -0.0;
	u->mem.growth_window_s = INFINITY;
	u->fork_rate_per_s = from_bits(NEG_NAN_PAYLOAD);
	u->mem.rss_peak_kib = UINT64_MAX;
	u->pids_max = INT64_MIN;

	for (uint64_t i = 0; i < (full_lists ? FIG_MAX_OOMS + 1 : 3); i++) {
		fill_oom(&o, i);
		assert_int_equal(fig_state_add_oom(s, &o), 0);
	}
	for (uint64_t i = 0; i < (full_lists ? FIG_MAX_KILLS + 3 : 7); i++) {
		fill_kill(&k, i);
		assert_int_equal(fig_state_add_kill(s, &k), 0);
	}
	if (full_lists) {
		assert_int_equal(s->n_ooms, FIG_MAX_OOMS);
		assert_int_equal(s->ooms_dropped, 1);
		assert_int_equal(s->n_kills, FIG_MAX_KILLS);
		assert_int_equal(s->kills_dropped, 3);
	} else {
		s->ooms_dropped = 11;
		s->kills_dropped = 12;
	}
}

static void assert_exe_equal(const struct fig_exe *a, const struct fig_exe *b)
{
	assert_string_equal(a->path, b->path);
	assert_int_equal(a->starts, b->starts);
	assert_int_equal(a->exits, b->exits);
	assert_int_equal(a->exits_failed, b->exits_failed);
	assert_int_equal(a->first_start_ms, b->first_start_ms);
	assert_int_equal(a->last_start_ms, b->last_start_ms);
	assert_int_equal(a->last_exit_ms, b->last_exit_ms);
	assert_int_equal(a->gaps, b->gaps);
	assert_int_equal(a->gap_sum_ns, b->gap_sum_ns);
	assert_int_equal(a->gap_sumsq_ms2, b->gap_sumsq_ms2);
	assert_int_equal(a->lifetime_sum_us, b->lifetime_sum_us);
	assert_memory_equal(a->lifetime_hist, b->lifetime_hist, sizeof(a->lifetime_hist));
	assert_int_equal(a->n_status, b->n_status);
	for (uint32_t i = 0; i < a->n_status; i++) {
		assert_int_equal(a->status[i].kind, b->status[i].kind);
		assert_int_equal(a->status[i].value, b->status[i].value);
		assert_int_equal(a->status[i].count, b->status[i].count);
	}
	assert_int_equal(a->status_other, b->status_other);
	assert_int_equal(a->respawn_class, b->respawn_class);
	assert_int_equal(a->storm_since_ms, b->storm_since_ms);
	assert_int_equal(a->storms, b->storms);
}

/* Doubles compare by their bits: NaN == NaN, and -0.0 != 0.0. */
static void assert_double_bits_equal(double a, double b)
{
	uint64_t x, y;

	memcpy(&x, &a, sizeof(x));
	memcpy(&y, &b, sizeof(y));
	assert_int_equal(x, y);
}

static void assert_memory_gauges_equal(const struct fig_memory *a, const struct fig_memory *b)
{
	assert_int_equal(a->sampled_ms, b->sampled_ms);
	assert_int_equal(a->rss_anon_kib, b->rss_anon_kib);
	assert_int_equal(a->rss_file_kib, b->rss_file_kib);
	assert_int_equal(a->rss_shmem_kib, b->rss_shmem_kib);
	assert_int_equal(a->rss_peak_kib, b->rss_peak_kib);
	assert_double_bits_equal(a->growth_kib_per_s, b->growth_kib_per_s);
	assert_double_bits_equal(a->growth_fit_r2, b->growth_fit_r2);
	assert_double_bits_equal(a->growth_window_s, b->growth_window_s);
	assert_int_equal(a->exhaustion_eta_s, b->exhaustion_eta_s);
	assert_int_equal(a->leak_suspect, b->leak_suspect);
	assert_int_equal(a->gone, b->gone);
	assert_int_equal(a->memcg_usage_bytes, b->memcg_usage_bytes);
	assert_int_equal(a->memcg_limit_bytes, b->memcg_limit_bytes);
}

static void assert_unit_figures_equal(const struct fig_unit *a, const struct fig_unit *b)
{
	assert_memory_gauges_equal(&a->mem, &b->mem);
	assert_int_equal(a->oom_kills, b->oom_kills);
	assert_int_equal(a->kills_sent, b->kills_sent);
	assert_int_equal(a->kills_received, b->kills_received);
	assert_int_equal(a->n_kill_counts, b->n_kill_counts);
	for (uint32_t i = 0; i < a->n_kill_counts; i++) {
		assert_string_equal(a->kill_counts[i].sender_unit, b->kill_counts[i].sender_unit);
		assert_int_equal(a->kill_counts[i].signal, b->kill_counts[i].signal);
		assert_int_equal(a->kill_counts[i].by_kernel, b->kill_counts[i].by_kernel);
		assert_int_equal(a->kill_counts[i].count, b->kill_counts[i].count);
	}
	assert_int_equal(a->kill_counts_other, b->kill_counts_other);
	assert_int_equal(a->forks_failed, b->forks_failed);
	assert_int_equal(a->n_fork_errnos, b->n_fork_errnos);
	for (uint32_t i = 0; i < a->n_fork_errnos; i++) {
		assert_int_equal(a->fork_errnos[i].err, b->fork_errnos[i].err);
		assert_int_equal(a->fork_errnos[i].count, b->fork_errnos[i].count);
	}
	assert_int_equal(a->fork_errnos_other, b->fork_errnos_other);
	assert_int_equal(a->fork_storm, b->fork_storm);
	assert_int_equal(a->fork_storm_since_ms, b->fork_storm_since_ms);
	assert_double_bits_equal(a->fork_rate_per_s, b->fork_rate_per_s);
	assert_int_equal(a->procs_alive, b->procs_alive);
	assert_int_equal(a->pids_current, b->pids_current);
	assert_int_equal(a->pids_max, b->pids_max);
	assert_int_equal(a->pids_events_max, b->pids_events_max);
}

static void assert_proc_ref_equal(const struct fig_proc_ref *a, const struct fig_proc_ref *b)
{
	assert_int_equal(a->pid, b->pid);
	assert_string_equal(a->comm, b->comm);
	assert_string_equal(a->unit, b->unit);
}

static void assert_top_units_equal(uint32_t n, const struct fig_top_unit *a,
				   const struct fig_top_unit *b)
{
	for (uint32_t i = 0; i < n; i++) {
		assert_string_equal(a[i].unit, b[i].unit);
		assert_int_equal(a[i].rss_kib, b[i].rss_kib);
		assert_double_bits_equal(a[i].growth_kib_per_s, b[i].growth_kib_per_s);
	}
}

static void assert_oom_equal(const struct fig_oom *a, const struct fig_oom *b)
{
	assert_int_equal(a->time_ms, b->time_ms);
	assert_string_equal(a->boot_id, b->boot_id);
	assert_proc_ref_equal(&a->victim, &b->victim);
	assert_string_equal(a->constraint, b->constraint);
	assert_string_equal(a->memcg, b->memcg);
	assert_int_equal(a->memcg_limit_bytes, b->memcg_limit_bytes);
	assert_int_equal(a->memcg_usage_bytes, b->memcg_usage_bytes);
	assert_int_equal(a->rss_anon_kib, b->rss_anon_kib);
	assert_int_equal(a->rss_file_kib, b->rss_file_kib);
	assert_int_equal(a->rss_shmem_kib, b->rss_shmem_kib);
	assert_int_equal(a->oom_score_adj, b->oom_score_adj);
	assert_proc_ref_equal(&a->trigger, &b->trigger);
	assert_int_equal(a->n_top_rss, b->n_top_rss);
	assert_top_units_equal(a->n_top_rss, a->top_rss, b->top_rss);
	assert_int_equal(a->n_top_growth, b->n_top_growth);
	assert_top_units_equal(a->n_top_growth, a->top_growth, b->top_growth);
}

static void assert_kill_equal(const struct fig_kill *a, const struct fig_kill *b)
{
	assert_int_equal(a->time_ms, b->time_ms);
	assert_string_equal(a->boot_id, b->boot_id);
	assert_int_equal(a->signal, b->signal);
	assert_int_equal(a->by_kernel, b->by_kernel);
	assert_int_equal(a->result, b->result);
	assert_proc_ref_equal(&a->sender, &b->sender);
	assert_proc_ref_equal(&a->target, &b->target);
	assert_int_equal(a->n_lineage, b->n_lineage);
	for (uint32_t i = 0; i < a->n_lineage; i++)
		assert_proc_ref_equal(&a->lineage[i], &b->lineage[i]);
}

static void assert_state_equal(const struct fig_state *a, const struct fig_state *b)
{
	assert_int_equal(a->ooms_dropped, b->ooms_dropped);
	assert_int_equal(a->n_ooms, b->n_ooms);
	for (uint32_t i = 0; i < a->n_ooms; i++)
		assert_oom_equal(&a->ooms[i], &b->ooms[i]);
	assert_int_equal(a->kills_dropped, b->kills_dropped);
	assert_int_equal(a->n_kills, b->n_kills);
	for (uint32_t i = 0; i < a->n_kills; i++)
		assert_kill_equal(&a->kills[i], &b->kills[i]);
	assert_int_equal(a->written_ms, b->written_ms);
	assert_int_equal(a->interval_ms, b->interval_ms);
	assert_memory_equal(a->lost, b->lost, sizeof(a->lost));
	assert_int_equal(a->units_unnamed, b->units_unnamed);
	assert_int_equal(a->boots_dropped, b->boots_dropped);
	assert_int_equal(a->n_boots, b->n_boots);
	for (uint32_t i = 0; i < a->n_boots; i++) {
		const struct fig_boot *ba = &a->boots[i], *bb = &b->boots[i];

		assert_string_equal(ba->boot_id, bb->boot_id);
		assert_int_equal(ba->first_ms, bb->first_ms);
		assert_int_equal(ba->last_ms, bb->last_ms);
		assert_int_equal(ba->units_dropped, bb->units_dropped);
		assert_int_equal(ba->n_units, bb->n_units);
		for (uint32_t j = 0; j < ba->n_units; j++) {
			const struct fig_unit *ua = &ba->units[j], *ub = &bb->units[j];

			assert_string_equal(ua->name, ub->name);
			assert_int_equal(ua->forks, ub->forks);
			assert_int_equal(ua->threads, ub->threads);
			assert_int_equal(ua->execs, ub->execs);
			assert_int_equal(ua->exits, ub->exits);
			assert_int_equal(ua->exits_failed, ub->exits_failed);
			assert_int_equal(ua->first_ms, ub->first_ms);
			assert_int_equal(ua->last_ms, ub->last_ms);
			assert_int_equal(ua->exes_dropped, ub->exes_dropped);
			assert_unit_figures_equal(ua, ub);
			assert_int_equal(ua->n_exes, ub->n_exes);
			for (uint32_t k = 0; k < ua->n_exes; k++)
				assert_exe_equal(&ua->exes[k], &ub->exes[k]);
		}
	}
}

/* ---- hand-built payloads ------------------------------------------------ */

struct pb {
	unsigned char *p;
	size_t n, cap;
};

static void pb_le(struct pb *b, uint64_t v, int bytes)
{
	if (b->n + bytes > b->cap) {
		b->cap = (b->cap + bytes) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	for (int i = 0; i < bytes; i++)
		b->p[b->n++] = (unsigned char)(v >> (8 * i));
}

static void pb_u16(struct pb *b, uint16_t v)
{
	pb_le(b, v, 2);
}

static void pb_u32(struct pb *b, uint32_t v)
{
	pb_le(b, v, 4);
}

static void pb_u64(struct pb *b, uint64_t v)
{
	pb_le(b, v, 8);
}

static void pb_zeros(struct pb *b, size_t n)
{
	while (n--)
		pb_le(b, 0, 1);
}

static void pb_raw_str(struct pb *b, uint16_t len, const char *bytes)
{
	pb_u16(b, len);
	for (uint16_t i = 0; i < len; i++)
		pb_le(b, (unsigned char)bytes[i], 1);
}

static void pb_str(struct pb *b, const char *s)
{
	pb_raw_str(b, (uint16_t)strlen(s), s);
}

/* written_ms .. boots_dropped, then the boot count. */
static void pb_state_head(struct pb *b, uint32_t n_lost, uint32_t n_boots)
{
	pb_u64(b, 1);
	pb_u32(b, 2);
	pb_u32(b, n_lost);
	for (uint32_t i = 0; i < n_lost; i++)
		pb_u64(b, 1000 + i);
	pb_u64(b, 3);
	pb_u64(b, 4);
	pb_u32(b, n_boots);
}

static void pb_boot_head(struct pb *b, const char *id, uint32_t n_units)
{
	pb_str(b, id);
	pb_u64(b, 5);
	pb_u64(b, 6);
	pb_u64(b, 7);
	pb_u32(b, n_units);
}

/* Bytes of a unit with every string and list empty. */
#define UNIT_MIN_TEST (2 + 8 * 8 + 96 + 6 * 8 + 4 + 8 + 8 + 4 * 8 + 4 + 4 + 4)

/* A unit up to its lists: name .. exes_dropped, memory, kill and fork figures. */
static void pb_unit_fixed(struct pb *b, const char *name)
{
	pb_str(b, name);
	for (int i = 0; i < 8; i++)
		pb_u64(b, 10 + i);
	pb_zeros(b, 96);	    /* memory */
	pb_zeros(b, 6 * 8); /* oom_kills .. fork_errnos_other */
	pb_u32(b, 0);	    /* fork_storm */
	pb_zeros(b, 8 + 8); /* fork_storm_since_ms, fork_rate_per_s */
	pb_zeros(b, 4 * 8); /* procs_alive, pids_* */
}

/* No fork errnos, no kill counts, then the executable count. */
static void pb_unit_head(struct pb *b, const char *name, uint32_t n_exes)
{
	pb_unit_fixed(b, name);
	pb_u32(b, 0);
	pb_u32(b, 0);
	pb_u32(b, n_exes);
}

static void pb_proc(struct pb *b, uint32_t pid, const char *comm, const char *unit)
{
	pb_u32(b, pid);
	pb_str(b, comm);
	pb_str(b, unit);
}

/* An OOM record, zero but for what the arguments set; top units of empty names. */
static void pb_oom(struct pb *b, const char *constraint, const char *victim_comm,
		   uint32_t n_top_rss, uint32_t n_top_growth)
{
	pb_u64(b, 1);
	pb_str(b, "b");
	pb_proc(b, 1, victim_comm, "");
	pb_str(b, constraint);
	pb_str(b, "");
	pb_zeros(b, 2 * 8 + 3 * 8 + 4);
	pb_proc(b, 2, "", "");
	pb_u32(b, n_top_rss);
	pb_zeros(b, (size_t)(n_top_rss < 100 ? n_top_rss : 0) * (2 + 8 + 8));
	pb_u32(b, n_top_growth);
	pb_zeros(b, (size_t)(n_top_growth < 100 ? n_top_growth : 0) * (2 + 8 + 8));
}

/* A kill record with n_lineage ancestors, all empty. */
static void pb_kill(struct pb *b, uint32_t n_lineage)
{
	pb_u64(b, 1);
	pb_str(b, "b");
	pb_zeros(b, 4 + 4 + 4);
	pb_proc(b, 3, "", "");
	pb_proc(b, 4, "", "");
	pb_u32(b, n_lineage);
	for (uint32_t i = 0; i < n_lineage && i < 100; i++)
		pb_proc(b, 5 + i, "", "");
}

/* The state's OOM and kill lists, both empty: what ends a payload after its boots. */
static void pb_no_records(struct pb *b)
{
	pb_u64(b, 0);
	pb_u32(b, 0);
	pb_u64(b, 0);
	pb_u32(b, 0);
}

/* An all-zero executable with n_hist buckets and n_status statuses. */
static void pb_exe(struct pb *b, const char *path, uint32_t n_hist, uint32_t n_status)
{
	pb_str(b, path);
	pb_zeros(b, 10 * 8);
	pb_u32(b, n_hist);
	pb_zeros(b, (size_t)n_hist * 8);
	pb_u32(b, n_status);
	pb_zeros(b, (size_t)n_status * 16);
	pb_zeros(b, 8 + 4 + 8 + 8);
}

/* Header with the right CRC around payload; returns a malloc'd file of *ret_len bytes. */
static unsigned char *seal(const unsigned char *payload, size_t n, uint32_t version,
			   size_t *ret_len)
{
	struct pb f = { 0 };
	uint32_t crc = (uint32_t)crc32(crc32(0, Z_NULL, 0), payload, (uInt)n);

	for (const char *m = "RCATRACE"; *m; m++)
		pb_le(&f, (unsigned char)*m, 1);
	pb_u32(&f, version);
	pb_u32(&f, 32);
	pb_u64(&f, n);
	pb_u32(&f, crc);
	pb_u32(&f, 0);
	for (size_t i = 0; i < n; i++)
		pb_le(&f, payload[i], 1);
	*ret_len = f.n;
	return f.p;
}

static void encode_sample(void **ret_buf, size_t *ret_len)
{
	struct fig_state s;

	build_sample(&s, 0);
	assert_int_equal(state_file_encode(&s, ret_buf, ret_len), 0);
	fig_state_free(&s);
}

/* ---- tests ------------------------------------------------------------- */

/* Appends the bytes given, as written: PB_RAW(b, 1, 0, 'x'). */
#define PB_RAW(b, ...)                                                     \
	pb_raw(b, (const unsigned char[]){ __VA_ARGS__ },                  \
	       sizeof((const unsigned char[]){ __VA_ARGS__ }))

static void pb_raw(struct pb *b, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pb_le(b, p[i], 1);
}

static void test_exact_bytes(void **state)
{
	struct pb payload = { 0 };
	struct fig_state s;
	struct fig_boot *b;
	struct fig_unit *u;
	struct fig_exe *e;
	struct fig_oom o = { 0 };
	struct fig_kill k = { 0 };
	unsigned char *expect;
	size_t expect_len, len;
	void *buf;

	(void)state;
	/*
	 * One boot "b", one unit "u", one executable "/x", one OOM, one kill:
	 * the layout, byte by byte. The loss counters are as many as this
	 * build knows, so they alone are written with a loop.
	 */
	PB_RAW(&payload, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01); /* written_ms */
	PB_RAW(&payload, 0xe8, 0x03, 0, 0); /* interval_ms 1000 */
	pb_u32(&payload, RCA_LOST_KIND_MAX);
	for (int i = 0; i < RCA_LOST_KIND_MAX; i++)
		pb_u64(&payload, i == 0 ? 1 : i == 5 ? 255 : 0);
	PB_RAW(&payload, 2, 0, 0, 0, 0, 0, 0, 0); /* units_unnamed */
	PB_RAW(&payload, 3, 0, 0, 0, 0, 0, 0, 0); /* boots_dropped */
	PB_RAW(&payload, 1, 0, 0, 0); /* 1 boot */
	PB_RAW(&payload, 1, 0, 'b'); /* boot id */
	PB_RAW(&payload, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff); /* first_ms -2 */
	PB_RAW(&payload, 20, 0, 0, 0, 0, 0, 0, 0); /* last_ms */
	PB_RAW(&payload, 0, 0, 0, 0, 0, 0, 0, 0); /* units_dropped */
	PB_RAW(&payload, 1, 0, 0, 0); /* 1 unit */
	PB_RAW(&payload, 1, 0, 'u'); /* name */
	PB_RAW(&payload, 4, 0, 0, 0, 0, 0, 0, 0); /* forks */
	pb_zeros(&payload, 6 * 8); /* threads .. last_ms */
	PB_RAW(&payload, 9, 0, 0, 0, 0, 0, 0, 0); /* exes_dropped */
	/* memory */
	PB_RAW(&payload, 0xe8, 0x03, 0, 0, 0, 0, 0, 0); /* sampled_ms 1000 */
	PB_RAW(&payload, 1, 0, 0, 0, 0, 0, 0, 0); /* rss_anon_kib */
	PB_RAW(&payload, 2, 0, 0, 0, 0, 0, 0, 0); /* rss_file_kib */
	PB_RAW(&payload, 3, 0, 0, 0, 0, 0, 0, 0); /* rss_shmem_kib */
	PB_RAW(&payload, 6, 0, 0, 0, 0, 0, 0, 0); /* rss_peak_kib */
	PB_RAW(&payload, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f); /* growth_kib_per_s 1.5 */
	PB_RAW(&payload, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f); /* growth_fit_r2 NaN, as initialised */
	PB_RAW(&payload, 0, 0, 0, 0, 0, 0, 0, 0x40); /* growth_window_s 2.0 */
	PB_RAW(&payload, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff); /* eta -1 */
	PB_RAW(&payload, 1, 0, 0, 0); /* leak_suspect */
	PB_RAW(&payload, 0, 0, 0, 0); /* gone */
	PB_RAW(&payload, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff); /* memcg usage -1 */
	PB_RAW(&payload, 0, 0x10, 0, 0, 0, 0, 0, 0); /* memcg limit 4096 */
	/* kill and fork figures */
	PB_RAW(&payload, 5, 0, 0, 0, 0, 0, 0, 0); /* oom_kills */
	PB_RAW(&payload, 6, 0, 0, 0, 0, 0, 0, 0); /* kills_sent */
	PB_RAW(&payload, 7, 0, 0, 0, 0, 0, 0, 0); /* kills_received */
	PB_RAW(&payload, 0x0b, 0, 0, 0, 0, 0, 0, 0); /* kill_counts_other */
	PB_RAW(&payload, 8, 0, 0, 0, 0, 0, 0, 0); /* forks_failed */
	PB_RAW(&payload, 0x0c, 0, 0, 0, 0, 0, 0, 0); /* fork_errnos_other */
	PB_RAW(&payload, 1, 0, 0, 0); /* fork_storm */
	PB_RAW(&payload, 0x84, 0x03, 0, 0, 0, 0, 0, 0); /* fork_storm_since_ms 900 */
	PB_RAW(&payload, 0, 0, 0, 0, 0, 0, 0, 0xc0); /* fork_rate_per_s -2.0 */
	PB_RAW(&payload, 3, 0, 0, 0, 0, 0, 0, 0); /* procs_alive */
	PB_RAW(&payload, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff); /* pids_current -1 */
	PB_RAW(&payload, 100, 0, 0, 0, 0, 0, 0, 0); /* pids_max */
	PB_RAW(&payload, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff); /* pids_events_max -1 */
	/* version 2 */
	PB_RAW(&payload, 13, 0, 0, 0, 0, 0, 0, 0); /* starts */
	PB_RAW(&payload, 1, 0, 0, 0); /* crash_storm */
	PB_RAW(&payload, 0x85, 0x03, 0, 0, 0, 0, 0, 0); /* crash_storm_since_ms 901 */
	PB_RAW(&payload, 2, 0, 0, 0, 0, 0, 0, 0); /* crash_storms */
	PB_RAW(&payload, 14, 0, 0, 0, 0, 0, 0, 0); /* window_crashes */
	PB_RAW(&payload, 1, 0, 0, 0); /* 1 fork errno */
	PB_RAW(&payload, 11, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0); /* EAGAIN x2 */
	PB_RAW(&payload, 1, 0, 0, 0); /* 1 kill count */
	PB_RAW(&payload, 1, 0, 's'); /* sender unit */
	PB_RAW(&payload, 9, 0, 0, 0, 1, 0, 0, 0); /* SIGKILL, by the kernel */
	PB_RAW(&payload, 7, 0, 0, 0, 0, 0, 0, 0); /* count */
	PB_RAW(&payload, 1, 0, 0, 0); /* 1 executable */
	PB_RAW(&payload, 2, 0, '/', 'x'); /* path */
	PB_RAW(&payload, 5, 0, 0, 0, 0, 0, 0, 0); /* starts */
	pb_zeros(&payload, 2 * 8); /* exits, exits_failed */
	/* version 2 */
	PB_RAW(&payload, 15, 0, 0, 0, 0, 0, 0, 0); /* execs */
	pb_zeros(&payload, 3 * 8); /* start_exits .. start_lifetime_sum_us */
	PB_RAW(&payload, 0x10, 0, 0, 0, 0, 0, 0, 0); /* crash_last_ms 16 */
	PB_RAW(&payload, 11, 0, 0, 0, 0x2a, 0, 0, 0); /* crash_signal SIGSEGV, crash_ppid 42 */
	PB_RAW(&payload, 1, 0, 'w', 1, 0, 'm'); /* crash comm, parent comm */
	pb_zeros(&payload, 7 * 8); /* first_start_ms .. lifetime_sum_us */
	PB_RAW(&payload, 3, 0, 0, 0); /* 3 buckets: trailing empty ones are left out */
	pb_zeros(&payload, 2 * 8);
	PB_RAW(&payload, 6, 0, 0, 0, 0, 0, 0, 0);
	PB_RAW(&payload, 1, 0, 0, 0); /* 1 status */
	PB_RAW(&payload, 2, 0, 0, 0, 9, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0); /* signal 9 x7 */
	PB_RAW(&payload, 0, 0, 0, 0, 0, 0, 0, 0); /* status_other */
	PB_RAW(&payload, 2, 0, 0, 0); /* storm */
	PB_RAW(&payload, 0, 0, 0, 0, 0, 0, 0, 0); /* storm_since_ms */
	PB_RAW(&payload, 1, 0, 0, 0, 0, 0, 0, 0); /* storms */
	/* OOM records */
	PB_RAW(&payload, 1, 0, 0, 0, 0, 0, 0, 0); /* ooms_dropped */
	PB_RAW(&payload, 1, 0, 0, 0); /* 1 OOM */
	PB_RAW(&payload, 50, 0, 0, 0, 0, 0, 0, 0); /* time_ms */
	PB_RAW(&payload, 1, 0, 'b'); /* boot id */
	PB_RAW(&payload, 10, 0, 0, 0, 1, 0, 'v', 1, 0, 'u'); /* victim: pid, comm, unit */
	PB_RAW(&payload, 5, 0, 'm', 'e', 'm', 'c', 'g'); /* constraint */
	PB_RAW(&payload, 1, 0, 'm'); /* memcg */
	PB_RAW(&payload, 0, 0x10, 0, 0, 0, 0, 0, 0); /* memcg_limit_bytes 4096 */
	PB_RAW(&payload, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff); /* usage -1 */
	PB_RAW(&payload, 1, 0, 0, 0, 0, 0, 0, 0); /* rss_anon_kib */
	PB_RAW(&payload, 2, 0, 0, 0, 0, 0, 0, 0); /* rss_file_kib */
	PB_RAW(&payload, 3, 0, 0, 0, 0, 0, 0, 0); /* rss_shmem_kib */
	PB_RAW(&payload, 0xfb, 0xff, 0xff, 0xff); /* oom_score_adj -5 */
	PB_RAW(&payload, 11, 0, 0, 0, 1, 0, 't', 1, 0, 'x'); /* trigger */
	PB_RAW(&payload, 1, 0, 0, 0); /* 1 unit by rss */
	PB_RAW(&payload, 1, 0, 'u', 6, 0, 0, 0, 0, 0, 0, 0); /* unit, rss_kib */
	PB_RAW(&payload, 0, 0, 0, 0, 0, 0, 0xd0, 0x3f); /* growth 0.25 */
	PB_RAW(&payload, 0, 0, 0, 0); /* no unit by growth */
	/* kill records */
	PB_RAW(&payload, 2, 0, 0, 0, 0, 0, 0, 0); /* kills_dropped */
	PB_RAW(&payload, 1, 0, 0, 0); /* 1 kill */
	PB_RAW(&payload, 60, 0, 0, 0, 0, 0, 0, 0); /* time_ms */
	PB_RAW(&payload, 1, 0, 'b'); /* boot id */
	PB_RAW(&payload, 15, 0, 0, 0, 0, 0, 0, 0); /* SIGTERM, not by the kernel */
	PB_RAW(&payload, 0xff, 0xff, 0xff, 0xff); /* result -1 */
	PB_RAW(&payload, 12, 0, 0, 0, 1, 0, 'k', 1, 0, 'x'); /* sender */
	PB_RAW(&payload, 10, 0, 0, 0, 1, 0, 'v', 1, 0, 'u'); /* target */
	PB_RAW(&payload, 1, 0, 0, 0); /* 1 ancestor */
	PB_RAW(&payload, 1, 0, 0, 0, 4, 0, 'i', 'n', 'i', 't', 0, 0); /* pid 1, "init", "" */

	fig_state_init(&s);
	s.written_ms = 0x0102030405060708;
	s.interval_ms = 1000;
	s.lost[0] = 1;
	s.lost[5] = 255;
	s.units_unnamed = 2;
	s.boots_dropped = 3;
	b = fig_state_boot(&s, "b");
	b->first_ms = -2;
	b->last_ms = 20;
	u = fig_boot_unit(b, "u");
	u->forks = 4;
	u->exes_dropped = 9;
	u->mem.sampled_ms = 1000;
	u->mem.rss_anon_kib = 1;
	u->mem.rss_file_kib = 2;
	u->mem.rss_shmem_kib = 3;
	u->mem.rss_peak_kib = 6;
	u->mem.growth_kib_per_s = 1.5;
	u->mem.growth_window_s = 2.0;
	u->mem.leak_suspect = 1;
	u->mem.memcg_limit_bytes = 4096;
	u->oom_kills = 5;
	u->kills_sent = 6;
	u->kills_received = 7;
	fig_unit_add_kills(u, "s", 9, 1, 7);
	u->kill_counts_other = 11;
	u->forks_failed = 8;
	fig_unit_add_fork_errno(u, 11, 2);
	u->fork_errnos_other = 12;
	u->fork_storm = 1;
	u->fork_storm_since_ms = 900;
	u->fork_rate_per_s = -2.0;
	u->procs_alive = 3;
	u->pids_max = 100;
	u->starts = 13;
	u->crash_storm = 1;
	u->crash_storm_since_ms = 901;
	u->crash_storms = 2;
	u->window_crashes = 14;
	e = fig_unit_exe(u, "/x");
	e->starts = 5;
	e->execs = 15;
	e->crash_last_ms = 16;
	e->crash_signal = 11;
	e->crash_ppid = 42;
	strcpy(e->crash_comm, "w");
	strcpy(e->crash_parent_comm, "m");
	e->lifetime_hist[2] = 6;
	fig_exe_add_status(e, RCA_STATUS_SIGNAL, 9, 7);
	e->respawn_class = RESPAWN_STORM;
	e->storms = 1;

	s.ooms_dropped = 1;
	o.time_ms = 50;
	strcpy(o.boot_id, "b");
	fill_proc_ref(&o.victim, 10, "v", "u");
	strcpy(o.constraint, "memcg");
	strcpy(o.memcg, "m");
	o.memcg_limit_bytes = 4096;
	o.memcg_usage_bytes = -1;
	o.rss_anon_kib = 1;
	o.rss_file_kib = 2;
	o.rss_shmem_kib = 3;
	o.oom_score_adj = -5;
	fill_proc_ref(&o.trigger, 11, "t", "x");
	o.n_top_rss = 1;
	strcpy(o.top_rss[0].unit, "u");
	o.top_rss[0].rss_kib = 6;
	o.top_rss[0].growth_kib_per_s = 0.25;
	assert_int_equal(fig_state_add_oom(&s, &o), 0);

	s.kills_dropped = 2;
	k.time_ms = 60;
	strcpy(k.boot_id, "b");
	k.signal = 15;
	k.result = -1;
	fill_proc_ref(&k.sender, 12, "k", "x");
	fill_proc_ref(&k.target, 10, "v", "u");
	k.n_lineage = 1;
	fill_proc_ref(&k.lineage[0], 1, "init", "");
	assert_int_equal(fig_state_add_kill(&s, &k), 0);

	assert_int_equal(state_file_encode(&s, &buf, &len), 0);
	expect = seal(payload.p, payload.n, STATE_FILE_VERSION, &expect_len);
	assert_int_equal(len, expect_len);
	assert_memory_equal(buf, expect, len);
	free(expect);
	free(buf);
	free(payload.p);
	fig_state_free(&s);
}

static void test_round_trip(void **state)
{
	(void)state;
	for (int full = 0; full <= 1; full++) {
		struct fig_state s, d;
		struct fig_unit *u;
		struct fig_oom o;
		void *buf, *buf2;
		size_t len, len2;
		char err[256];
		uint64_t other;

		build_sample(&s, full);
		print_message("full lists %d\n", full);
		assert_int_equal(s.n_boots, 2);
		assert_int_equal(s.boots[1].n_units, 4);
		/* The sample holds what the test claims: bounds reached, overflow counted. */
		u = &s.boots[1].units[0];
		assert_int_equal(u->n_kill_counts, FIG_MAX_KILL_COUNTS);
		assert_int_equal(u->kill_counts_other, 20 + 33 + 20 + 34);
		assert_int_equal(u->n_fork_errnos, FIG_MAX_ERRNO);
		assert_int_equal(u->fork_errnos_other, 20 + 108 + 20 + 109);
		assert_true(isnan(s.boots[1].units[1].mem.growth_kib_per_s));
		assert_int_equal(s.boots[1].units[1].pids_current, -1);
		assert_int_equal(s.ooms[s.n_ooms - 1].n_top_growth,
				 (full ? FIG_MAX_OOMS : 2) % (FIG_OOM_TOP_UNITS + 1));

		assert_int_equal(state_file_encode(&s, &buf, &len), 0);
		print_message("%zu bytes\n", len);
		assert_int_equal(decode_checked(buf, len, &d, err, sizeof(err), NULL), 0);
		assert_string_equal(err, "");
		assert_state_equal(&s, &d);
		/* Decoded figures behave like built ones: they can still grow, within bounds. */
		assert_non_null(fig_unit_exe(&d.boots[0].units[0], "/bin/more"));
		u = &d.boots[1].units[0];
		other = u->kill_counts_other;
		fig_unit_add_kills(u, "new.service", 9, 0, 5);
		assert_int_equal(u->n_kill_counts, FIG_MAX_KILL_COUNTS);
		assert_int_equal(u->kill_counts_other, other + 5);
		fig_unit_add_kills(&d.boots[1].units[1], "new.service", 9, 0, 5);
		assert_int_equal(d.boots[1].units[1].n_kill_counts, 1);
		fill_oom(&o, 1000);
		assert_int_equal(fig_state_add_oom(&d, &o), 0);
		assert_int_equal(d.n_ooms, full ? FIG_MAX_OOMS : 4);
		assert_int_equal(d.ooms[d.n_ooms - 1].time_ms, o.time_ms);
		assert_int_equal(d.ooms_dropped, full ? 2 : 11);

		/* And encoding what was decoded gives the same bytes. */
		fig_state_free(&d);
		assert_int_equal(state_file_decode(buf, len, &d, err, sizeof(err)), 0);
		assert_int_equal(state_file_encode(&d, &buf2, &len2), 0);
		assert_int_equal(len2, len);
		assert_memory_equal(buf2, buf, len);
		free(buf2);
		free(buf);
		fig_state_free(&d);
		fig_state_free(&s);
	}
}

static void test_empty_state_round_trip(void **state)
{
	struct fig_state s, d;
	void *buf;
	size_t len;
	char err[128];

	(void)state;
	fig_state_init(&s);
	assert_int_equal(state_file_encode(&s, &buf, &len), 0);
	/* 32 header + 8 + 4 + 4 + lost + 8 + 8 + 4, then the empty OOM and kill lists */
	assert_int_equal(len, 32 + 8 + 4 + 4 + RCA_LOST_KIND_MAX * 8 + 8 + 8 + 4 + 8 + 4 + 8 + 4);
	assert_int_equal(state_file_decode(buf, len, &d, err, sizeof(err)), 0);
	assert_state_equal(&s, &d);
	assert_null(d.boots);
	assert_null(d.ooms);
	assert_null(d.kills);
	free(buf);
}

static void test_encode_refuses_broken_bounds(void **state)
{
	struct fig_state s;
	struct fig_unit *u;
	struct fig_exe *e;
	void *buf = NULL;
	size_t len = 0;

	(void)state;
	build_sample(&s, 1);
	u = &s.boots[1].units[0];
	e = &u->exes[0];
	/* Each count one past its bound, one at a time: the reader would refuse the file. */
	struct {
		const char *name;
		uint32_t *count, bound;
	} cases[] = {
		{ "statuses", &e->n_status, FIG_MAX_STATUS },
		{ "fork errnos", &u->n_fork_errnos, FIG_MAX_ERRNO },
		{ "kill counts", &u->n_kill_counts, FIG_MAX_KILL_COUNTS },
		{ "top units by rss", &s.ooms[3].n_top_rss, FIG_OOM_TOP_UNITS },
		{ "top units by growth", &s.ooms[5].n_top_growth, FIG_OOM_TOP_UNITS },
		{ "lineage", &s.kills[7].n_lineage, FIG_LINEAGE_MAX },
		{ "OOM records", &s.n_ooms, FIG_MAX_OOMS },
		{ "kill records", &s.n_kills, FIG_MAX_KILLS },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t saved = *cases[i].count;

		print_message("case %s\n", cases[i].name);
		/* Only the count moves: the memory past it is never read. */
		*cases[i].count = cases[i].bound + 1;
		buf = NULL;
		assert_int_equal(state_file_encode(&s, &buf, &len), -EINVAL);
		assert_null(buf);
		*cases[i].count = saved;
	}
	assert_int_equal(state_file_encode(&s, &buf, &len), 0);
	free(buf);
	fig_state_free(&s);
}

static void test_every_truncation_refused(void **state)
{
	struct fig_state d;
	unsigned char *buf;
	size_t len;
	char err[256];

	(void)state;
	encode_sample((void **)&buf, &len);
	for (size_t cut = 0; cut < len; cut++) {
		int r = decode_checked(buf, cut, &d, err, sizeof(err), NULL);

		if (r != -EINVAL)
			fail_msg("cut at %zu of %zu: %d (%s)", cut, len, r, err);
	}
	free(buf);
}

/* A cut payload under a fresh header and CRC: the parser itself must see the cut. */
static void test_every_resealed_truncation_refused(void **state)
{
	struct fig_state d;
	unsigned char *buf, *file;
	size_t len, flen;
	char err[256];

	(void)state;
	encode_sample((void **)&buf, &len);
	for (size_t cut = 0; cut < len - 32; cut++) {
		int r;

		file = seal(buf + 32, cut, STATE_FILE_VERSION, &flen);
		r = decode_checked(file, flen, &d, err, sizeof(err), NULL);
		if (r != -EINVAL)
			fail_msg("payload cut at %zu of %zu: %d (%s)", cut, len - 32, r, err);
		assert_non_null(strstr(err, "truncated"));
		free(file);
	}
	free(buf);
}

static void test_every_payload_bit_flip_refused(void **state)
{
	struct fig_state d;
	unsigned char *buf;
	size_t len;
	char err[256];

	(void)state;
	encode_sample((void **)&buf, &len);
	for (size_t i = 32; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			int r;

			buf[i] ^= 1u << bit;
			r = decode_checked(buf, len, &d, err, sizeof(err), NULL);
			buf[i] ^= 1u << bit;
			if (r != -EBADMSG)
				fail_msg("bit %d of byte %zu: %d (%s)", bit, i, r, err);
		}
	}
	assert_string_equal(err, "checksum mismatch: the file is corrupt");
	free(buf);
}

struct header_case {
	const char *name;
	size_t from, to; /* bytes [from, to) of the header */
	int expect;
};

static const struct header_case header_cases[] = {
	{ "magic", 0, 8, -EINVAL },	     { "version", 8, 12, -EPROTONOSUPPORT },
	{ "header size", 12, 16, -EINVAL }, { "payload length", 16, 24, -EINVAL },
	{ "crc", 24, 28, -EBADMSG },	     { "reserved", 28, 32, -EINVAL },
};

static void test_every_header_bit_flip_refused(void **state)
{
	struct fig_state d;
	unsigned char *buf;
	size_t len;
	char err[256];

	(void)state;
	encode_sample((void **)&buf, &len);
	for (size_t c = 0; c < sizeof(header_cases) / sizeof(header_cases[0]); c++) {
		const struct header_case *hc = &header_cases[c];

		for (size_t i = hc->from; i < hc->to; i++) {
			for (int bit = 0; bit < 8; bit++) {
				int r;

				buf[i] ^= 1u << bit;
				r = decode_checked(buf, len, &d, err, sizeof(err), NULL);
				buf[i] ^= 1u << bit;
				if (r != hc->expect)
					fail_msg("%s: bit %d of byte %zu: %d (%s)", hc->name, bit,
						 i, r, err);
			}
		}
	}
	free(buf);
}

static void test_wrong_magic(void **state)
{
	struct fig_state d;
	unsigned char *buf;
	size_t len;
	char err[256];

	(void)state;
	encode_sample((void **)&buf, &len);
	memcpy(buf, "RCATRACF", 8);
	assert_int_equal(decode_checked(buf, len, &d, err, sizeof(err), NULL), -EINVAL);
	assert_string_equal(err, "not an rcatrace state file");
	/* Something else entirely, shorter than a header. */
	assert_int_equal(decode_checked("{\"x\":1}", 7, &d, err, sizeof(err), NULL), -EINVAL);
	assert_string_equal(err, "not an rcatrace state file");
	/* A prefix of the magic is a truncated state file. */
	assert_int_equal(decode_checked("RCAT", 4, &d, err, sizeof(err), NULL), -EINVAL);
	assert_non_null(strstr(err, "truncated"));
	free(buf);
}

static void test_wrong_version(void **state)
{
	struct fig_state d;
	unsigned char *buf;
	size_t len;
	char err[256];

	(void)state;
	encode_sample((void **)&buf, &len);
	buf[8] = STATE_FILE_VERSION + 1;
	assert_int_equal(decode_checked(buf, len, &d, err, sizeof(err), NULL),
			 -EPROTONOSUPPORT);
	assert_string_equal(err, "state file version 3, this rcatrace reads versions 1 to 2");
	buf[8] = 0;
	assert_int_equal(decode_checked(buf, len, &d, err, sizeof(err), NULL),
			 -EPROTONOSUPPORT);
	free(buf);
}

static void test_trailing_garbage_refused(void **state)
{
	struct fig_state d;
	unsigned char *buf;
	size_t len;
	char err[256];

	(void)state;
	encode_sample((void **)&buf, &len);
	buf = realloc(buf, len + 1);
	buf[len] = 0;
	assert_int_equal(decode_checked(buf, len + 1, &d, err, sizeof(err), NULL), -EINVAL);
	assert_string_equal(err, "1 bytes of garbage after the payload");
	free(buf);
}

static void test_no_err_buffer(void **state)
{
	struct fig_state d;

	(void)state;
	assert_int_equal(state_file_decode("nope", 4, &d, NULL, 0), -EINVAL);
	assert_int_equal(state_file_decode(NULL, 0, &d, NULL, 0), -EINVAL);
}

/* ---- hostile and forward-compatible payloads ---------------------------- */

/* What a decode may allocate, as a bound the test checks. */
enum alloc_bound {
	ALLOC_FILE_16X = 0, /* at most 16 times the file's size */
	ALLOC_NONE,	    /* nothing: refused before the first allocation */
	ALLOC_RECORDS,	    /* 16 times the file, plus full OOM and kill lists */
};

struct crafted_case {
	const char *name;
	void (*build)(struct pb *b);
	int expect;
	const char *err_has;
	enum alloc_bound alloc;
};

static void c_boots_max(struct pb *b)
{
	pb_state_head(b, 6, UINT32_MAX);
}

static void c_boots_no_bytes(struct pb *b)
{
	pb_state_head(b, 6, FIG_MAX_BOOTS);
	pb_zeros(b, 100);
}

static void c_lost_max(struct pb *b)
{
	pb_u64(b, 1);
	pb_u32(b, 2);
	pb_u32(b, UINT32_MAX);
	pb_zeros(b, 64);
}

static void c_units_no_bytes(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", FIG_MAX_UNITS);
	pb_zeros(b, 200);
}

static void c_units_over_bound(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", FIG_MAX_UNITS + 1);
	for (int i = 0; i <= FIG_MAX_UNITS; i++)
		pb_unit_head(b, "", 0);
}

static void c_exes_no_bytes(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", 1);
	pb_unit_head(b, "u", FIG_MAX_EXES_PER_UNIT + 1);
	pb_zeros(b, 300);
}

static void c_exes_over_bound(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", 1);
	pb_unit_head(b, "u", FIG_MAX_EXES_PER_UNIT + 2);
	for (int i = 0; i < FIG_MAX_EXES_PER_UNIT + 2; i++)
		pb_exe(b, "", 0, 0);
}

static void c_exes_at_bound(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", 1);
	pb_unit_head(b, "u", FIG_MAX_EXES_PER_UNIT + 1);
	for (int i = 0; i < FIG_MAX_EXES_PER_UNIT + 1; i++)
		pb_exe(b, "", 0, 0);
	pb_no_records(b);
}

static void c_hist_over_bound(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", 1);
	pb_unit_head(b, "u", 1);
	pb_exe(b, "/x", RCA_LIFETIME_BUCKETS + 1, 0);
}

static void c_status_over_bound(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", 1);
	pb_unit_head(b, "u", 1);
	pb_exe(b, "/x", 0, FIG_MAX_STATUS + 1);
}

static void c_str_max(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_u16(b, UINT16_MAX);
	pb_zeros(b, UINT16_MAX);
}

static void c_boot_id_too_long(struct pb *b)
{
	char id[FIG_BOOT_ID_MAX + 1];

	memset(id, 'i', FIG_BOOT_ID_MAX);
	id[FIG_BOOT_ID_MAX] = '\0';
	pb_state_head(b, 6, 1);
	pb_boot_head(b, id, 0);
}

static void c_boot_id_longest(struct pb *b)
{
	char id[FIG_BOOT_ID_MAX];

	memset(id, 'i', FIG_BOOT_ID_MAX - 1);
	id[FIG_BOOT_ID_MAX - 1] = '\0';
	pb_state_head(b, 6, 1);
	pb_boot_head(b, id, 0);
	pb_no_records(b);
}

static void c_path_too_long(struct pb *b)
{
	char path[RCA_EXE_PATH_LEN + 1];

	memset(path, 'p', RCA_EXE_PATH_LEN);
	path[RCA_EXE_PATH_LEN] = '\0';
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", 1);
	pb_unit_head(b, "u", 1);
	pb_exe(b, path, 0, 0);
}

static void c_name_with_nul(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", 1);
	pb_raw_str(b, 3, "a\0z");
	pb_zeros(b, UNIT_MIN_TEST - 2);
	pb_no_records(b);
}

static void c_section_past_end(struct pb *b)
{
	pb_state_head(b, 6, 0);
	pb_no_records(b);
	pb_u32(b, 0x4d454d31);
	pb_u32(b, UINT32_MAX);
	pb_zeros(b, 16);
}

static void c_section_header_cut(struct pb *b)
{
	pb_state_head(b, 6, 0);
	pb_no_records(b);
	pb_u32(b, 0x4d454d31);
	pb_le(b, 0, 1);
}

static void c_sections_skipped(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", 0);
	pb_no_records(b);
	pb_u32(b, 0x4d454d31);
	pb_u32(b, 3);
	pb_zeros(b, 3);
	pb_u32(b, 0x4b494c4c);
	pb_u32(b, 0);
}

static void c_fewer_loss_kinds(struct pb *b)
{
	pb_state_head(b, 2, 0);
	pb_no_records(b);
}

static void c_more_loss_kinds(struct pb *b)
{
	pb_state_head(b, RCA_LOST_KIND_MAX + 4, 0);
	pb_no_records(b);
}

/* ---- the memory, kill and fork figures of a unit */

/* One boot, one unit "u" up to its fork errno count. */
static void pb_one_unit_fixed(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", 1);
	pb_unit_fixed(b, "u");
}

static void pb_kill_count(struct pb *b, const char *sender)
{
	pb_str(b, sender);
	pb_u32(b, 9);
	pb_u32(b, 1);
	pb_u64(b, 1);
}

static void c_errnos_max(struct pb *b)
{
	pb_one_unit_fixed(b);
	pb_u32(b, UINT32_MAX);
	pb_zeros(b, 64);
}

static void c_errnos_over_bound(struct pb *b)
{
	pb_one_unit_fixed(b);
	pb_u32(b, FIG_MAX_ERRNO + 1);
	pb_zeros(b, (FIG_MAX_ERRNO + 1) * 12 + 8);
	pb_no_records(b);
}

static void c_errnos_at_bound(struct pb *b)
{
	pb_one_unit_fixed(b);
	pb_u32(b, FIG_MAX_ERRNO);
	pb_zeros(b, FIG_MAX_ERRNO * 12);
	pb_u32(b, 0);
	pb_u32(b, 0);
	pb_no_records(b);
}

static void c_kill_counts_max(struct pb *b)
{
	pb_one_unit_fixed(b);
	pb_u32(b, 0);
	pb_u32(b, UINT32_MAX);
	pb_zeros(b, 64);
}

static void c_kill_counts_no_bytes(struct pb *b)
{
	pb_one_unit_fixed(b);
	pb_u32(b, 0);
	pb_u32(b, FIG_MAX_KILL_COUNTS);
	pb_zeros(b, 100);
}

static void c_kill_counts_over_bound(struct pb *b)
{
	pb_one_unit_fixed(b);
	pb_u32(b, 0);
	pb_u32(b, FIG_MAX_KILL_COUNTS + 1);
	for (int i = 0; i <= FIG_MAX_KILL_COUNTS; i++)
		pb_kill_count(b, "s");
	pb_u32(b, 0);
	pb_no_records(b);
}

static void c_kill_counts_at_bound(struct pb *b)
{
	char sender[16];

	pb_one_unit_fixed(b);
	pb_u32(b, 0);
	pb_u32(b, FIG_MAX_KILL_COUNTS);
	for (int i = 0; i < FIG_MAX_KILL_COUNTS; i++) {
		snprintf(sender, sizeof(sender), "s%d", i);
		pb_kill_count(b, sender);
	}
	pb_u32(b, 0);
	pb_no_records(b);
}

static void c_sender_too_long(struct pb *b)
{
	char name[FIG_UNIT_NAME_MAX + 1];

	memset(name, 's', FIG_UNIT_NAME_MAX);
	name[FIG_UNIT_NAME_MAX] = '\0';
	pb_one_unit_fixed(b);
	pb_u32(b, 0);
	pb_u32(b, 1);
	pb_kill_count(b, name);
	pb_u32(b, 0);
	pb_no_records(b);
}

/* ---- the OOM and kill lists */

/* No boots; then the OOM list. */
static void pb_ooms_head(struct pb *b, uint32_t n_ooms)
{
	pb_state_head(b, 6, 0);
	pb_u64(b, 0);
	pb_u32(b, n_ooms);
}

/* No boots, no OOMs; then the kill list. */
static void pb_kills_head(struct pb *b, uint32_t n_kills)
{
	pb_state_head(b, 6, 0);
	pb_u64(b, 0);
	pb_u32(b, 0);
	pb_u64(b, 0);
	pb_u32(b, n_kills);
}

static void pb_no_kills(struct pb *b)
{
	pb_u64(b, 0);
	pb_u32(b, 0);
}

static void c_ooms_max(struct pb *b)
{
	pb_ooms_head(b, UINT32_MAX);
	pb_zeros(b, 200);
}

static void c_ooms_no_bytes(struct pb *b)
{
	pb_ooms_head(b, FIG_MAX_OOMS);
	pb_zeros(b, 1000);
}

static void c_ooms_over_bound(struct pb *b)
{
	pb_ooms_head(b, FIG_MAX_OOMS + 1);
	for (int i = 0; i <= FIG_MAX_OOMS; i++)
		pb_oom(b, "memcg", "x", 0, 0);
	pb_no_kills(b);
}

static void c_ooms_at_bound(struct pb *b)
{
	pb_ooms_head(b, FIG_MAX_OOMS);
	for (int i = 0; i < FIG_MAX_OOMS; i++)
		pb_oom(b, "memcg", "x", FIG_OOM_TOP_UNITS, FIG_OOM_TOP_UNITS);
	pb_no_kills(b);
}

static void c_top_rss_over_bound(struct pb *b)
{
	pb_ooms_head(b, 1);
	pb_oom(b, "memcg", "x", FIG_OOM_TOP_UNITS + 1, 0);
	pb_no_kills(b);
}

static void c_top_growth_max(struct pb *b)
{
	pb_ooms_head(b, 1);
	pb_oom(b, "memcg", "x", 0, UINT32_MAX);
	pb_zeros(b, 200);
}

static void c_constraint_too_long(struct pb *b)
{
	pb_ooms_head(b, 1);
	pb_oom(b, "memcg-xx", "x", 0, 0);
	pb_no_kills(b);
}

static void c_comm_too_long(struct pb *b)
{
	pb_ooms_head(b, 1);
	pb_oom(b, "global", "0123456789abcdefg", 0, 0);
	pb_no_kills(b);
}

static void c_comm_longest(struct pb *b)
{
	pb_ooms_head(b, 1);
	pb_oom(b, "global", "0123456789abcdef", 0, 0);
	pb_no_kills(b);
}

static void c_comm_with_nul(struct pb *b)
{
	pb_ooms_head(b, 1);
	pb_u64(b, 1);
	pb_str(b, "b");
	pb_u32(b, 1);
	pb_raw_str(b, 3, "a\0b");
	pb_zeros(b, 200);
}

static void c_kills_max(struct pb *b)
{
	pb_kills_head(b, UINT32_MAX);
	pb_zeros(b, 200);
}

static void c_kills_no_bytes(struct pb *b)
{
	pb_kills_head(b, FIG_MAX_KILLS);
	pb_zeros(b, 2000);
}

static void c_kills_over_bound(struct pb *b)
{
	pb_kills_head(b, FIG_MAX_KILLS + 1);
	for (int i = 0; i <= FIG_MAX_KILLS; i++)
		pb_kill(b, 0);
}

static void c_kills_at_bound(struct pb *b)
{
	pb_kills_head(b, FIG_MAX_KILLS);
	for (int i = 0; i < FIG_MAX_KILLS; i++)
		pb_kill(b, FIG_LINEAGE_MAX);
}

static void c_lineage_over_bound(struct pb *b)
{
	pb_kills_head(b, 1);
	pb_kill(b, FIG_LINEAGE_MAX + 1);
}

static void c_lineage_max(struct pb *b)
{
	pb_kills_head(b, 1);
	pb_kill(b, UINT32_MAX);
	pb_zeros(b, 64);
}

static const struct crafted_case crafted_cases[] = {
	{ "2^32-1 boots", c_boots_max, -EINVAL, "limit 16", ALLOC_FILE_16X },
	{ "16 boots in 100 bytes", c_boots_no_bytes, -EINVAL, "cannot fit", ALLOC_FILE_16X },
	{ "2^32-1 loss kinds", c_lost_max, -EINVAL, "limit 64", ALLOC_FILE_16X },
	{ "4096 units in 200 bytes", c_units_no_bytes, -EINVAL, "cannot fit", ALLOC_FILE_16X },
	{ "4097 units", c_units_over_bound, -EINVAL, "limit 4096", ALLOC_FILE_16X },
	{ "65 executables in 300 bytes", c_exes_no_bytes, -EINVAL, "cannot fit", ALLOC_FILE_16X },
	{ "66 executables", c_exes_over_bound, -EINVAL, "limit 65", ALLOC_FILE_16X },
	{ "65 executables", c_exes_at_bound, 0, NULL, ALLOC_FILE_16X },
	{ "41 lifetime buckets", c_hist_over_bound, -EINVAL, "limit 40", ALLOC_FILE_16X },
	{ "17 statuses", c_status_over_bound, -EINVAL, "limit 16", ALLOC_FILE_16X },
	{ "65535-byte boot id", c_str_max, -EINVAL, "limit 39", ALLOC_FILE_16X },
	{ "40-byte boot id", c_boot_id_too_long, -EINVAL, "boot id at payload offset",
	  ALLOC_FILE_16X },
	{ "39-byte boot id", c_boot_id_longest, 0, NULL, ALLOC_FILE_16X },
	{ "128-byte path", c_path_too_long, -EINVAL, "limit 127", ALLOC_FILE_16X },
	{ "NUL in a unit name", c_name_with_nul, -EINVAL, "holds a NUL byte", ALLOC_FILE_16X },
	{ "section past the end", c_section_past_end, -EINVAL, "runs", ALLOC_FILE_16X },
	{ "cut section header", c_section_header_cut, -EINVAL, "section header", ALLOC_FILE_16X },
	{ "unknown sections", c_sections_skipped, 0, NULL, ALLOC_FILE_16X },
	{ "older writer, 2 loss kinds", c_fewer_loss_kinds, 0, NULL, ALLOC_FILE_16X },
	{ "newer writer, 4 more loss kinds", c_more_loss_kinds, 0, NULL, ALLOC_FILE_16X },
	{ "2^32-1 fork errnos", c_errnos_max, -EINVAL, "limit 8", ALLOC_FILE_16X },
	{ "9 fork errnos", c_errnos_over_bound, -EINVAL, "limit 8", ALLOC_FILE_16X },
	{ "8 fork errnos", c_errnos_at_bound, 0, NULL, ALLOC_FILE_16X },
	{ "2^32-1 kill counts", c_kill_counts_max, -EINVAL, "limit 32", ALLOC_FILE_16X },
	{ "32 kill counts in 100 bytes", c_kill_counts_no_bytes, -EINVAL, "cannot fit",
	  ALLOC_FILE_16X },
	{ "33 kill counts", c_kill_counts_over_bound, -EINVAL, "limit 32", ALLOC_FILE_16X },
	{ "32 kill counts", c_kill_counts_at_bound, 0, NULL, ALLOC_FILE_16X },
	{ "256-byte sender unit", c_sender_too_long, -EINVAL, "limit 255", ALLOC_FILE_16X },
	{ "2^32-1 OOMs", c_ooms_max, -EINVAL, "limit 64", ALLOC_NONE },
	{ "64 OOMs in 1000 bytes", c_ooms_no_bytes, -EINVAL, "cannot fit", ALLOC_NONE },
	{ "65 OOMs", c_ooms_over_bound, -EINVAL, "limit 64", ALLOC_NONE },
	{ "64 OOMs", c_ooms_at_bound, 0, NULL, ALLOC_RECORDS },
	{ "6 top units by rss", c_top_rss_over_bound, -EINVAL, "limit 5", ALLOC_RECORDS },
	{ "2^32-1 top units by growth", c_top_growth_max, -EINVAL, "limit 5", ALLOC_RECORDS },
	{ "8-byte constraint", c_constraint_too_long, -EINVAL, "limit 7", ALLOC_RECORDS },
	{ "17-byte comm", c_comm_too_long, -EINVAL, "limit 16", ALLOC_RECORDS },
	{ "16-byte comm", c_comm_longest, 0, NULL, ALLOC_RECORDS },
	{ "NUL in a comm", c_comm_with_nul, -EINVAL, "holds a NUL byte", ALLOC_RECORDS },
	{ "2^32-1 kills", c_kills_max, -EINVAL, "limit 256", ALLOC_NONE },
	{ "256 kills in 2000 bytes", c_kills_no_bytes, -EINVAL, "cannot fit", ALLOC_NONE },
	{ "257 kills", c_kills_over_bound, -EINVAL, "limit 256", ALLOC_NONE },
	{ "256 kills", c_kills_at_bound, 0, NULL, ALLOC_RECORDS },
	{ "7 ancestors", c_lineage_over_bound, -EINVAL, "7 ancestors of a kill sender",
	  ALLOC_RECORDS },
	{ "2^32-1 ancestors", c_lineage_max, -EINVAL, "limit 6", ALLOC_RECORDS },
};

static void test_crafted_payloads(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(crafted_cases) / sizeof(crafted_cases[0]); i++) {
		const struct crafted_case *c = &crafted_cases[i];
		struct pb payload = { 0 };
		struct fig_state d;
		unsigned char *file;
		size_t flen, alloc;
		char err[256];
		int r;

		c->build(&payload);
		/* The crafted payloads are laid out as version 1, which is still read. */
		file = seal(payload.p, payload.n, 1, &flen);
		r = decode_checked(file, flen, &d, err, sizeof(err), &alloc);
		print_message("case %s: %d, %zu bytes allocated for %zu, \"%s\"\n", c->name, r,
			      alloc, flen, err);
		assert_int_equal(r, c->expect);
		if (c->err_has)
			assert_non_null(strstr(err, c->err_has));
		/*
		 * A hostile count never buys more than a few times the file's
		 * size; OOM and kill records may cost more, but are few.
		 */
		switch (c->alloc) {
		case ALLOC_NONE:
			assert_int_equal(alloc, 0);
			break;
		case ALLOC_RECORDS:
			assert_true(alloc <= 16 * flen + FIG_MAX_OOMS * sizeof(struct fig_oom) +
						     FIG_MAX_KILLS * sizeof(struct fig_kill));
			break;
		default:
			assert_true(alloc <= 16 * flen);
		}
		fig_state_free(&d);
		free(file);
		free(payload.p);
	}
}

static void test_forward_compatible_payloads(void **state)
{
	struct pb payload = { 0 };
	struct fig_state d;
	unsigned char *file;
	size_t flen;
	char err[256];

	(void)state;
	c_sections_skipped(&payload);
	file = seal(payload.p, payload.n, STATE_FILE_VERSION, &flen);
	assert_int_equal(state_file_decode(file, flen, &d, err, sizeof(err)), 0);
	assert_int_equal(d.n_boots, 1);
	assert_string_equal(d.boots[0].boot_id, "b");
	assert_int_equal(d.boots_dropped, 4);
	fig_state_free(&d);
	free(file);

	payload.n = 0;
	c_fewer_loss_kinds(&payload);
	file = seal(payload.p, payload.n, STATE_FILE_VERSION, &flen);
	assert_int_equal(state_file_decode(file, flen, &d, err, sizeof(err)), 0);
	assert_int_equal(d.lost[0], 1000);
	assert_int_equal(d.lost[1], 1001);
	assert_int_equal(d.lost[2], 0);
	assert_int_equal(d.units_unnamed, 3);
	fig_state_free(&d);
	free(file);

	payload.n = 0;
	c_more_loss_kinds(&payload);
	file = seal(payload.p, payload.n, STATE_FILE_VERSION, &flen);
	assert_int_equal(state_file_decode(file, flen, &d, err, sizeof(err)), 0);
	assert_int_equal(d.lost[RCA_LOST_KIND_MAX - 1], 1000 + RCA_LOST_KIND_MAX - 1);
	assert_int_equal(d.units_unnamed, 3);
	fig_state_free(&d);
	free(file);
	free(payload.p);
}

/* ---- files ------------------------------------------------------------- */

static int make_tmpdir(void **state)
{
	char *dir = strdup("/tmp/test_state_file.XXXXXX");

	if (!dir || !mkdtemp(dir))
		return -1;
	*state = dir;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int remove_tmpdir(void **state)
{
	int r = nftw(*state, remove_entry, 16, FTW_DEPTH | FTW_PHYS);

	free(*state);
	return r;
}

static void test_save_and_load(void **state)
{
	const char *dir = *state;
	char sub[PATH_MAX], path[PATH_MAX + 16], tmp[PATH_MAX + 32], err[256];
	struct fig_state s, d;
	struct stat st;

	umask(022);
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	snprintf(path, sizeof(path), "%s/state", sub);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	build_sample(&s, 1);

	assert_int_equal(state_file_load(path, &d, err, sizeof(err)), -ENOENT);
	assert_int_equal(d.n_boots, 0);
	assert_int_equal(state_file_save(path, &s), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(sub, sizeof(sub), "%s/a", dir);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(errno, ENOENT);

	assert_int_equal(state_file_load(path, &d, err, sizeof(err)), 0);
	assert_state_equal(&s, &d);
	fig_state_free(&d);

	/* Saving again replaces it, even over a stale .tmp left by a crash. */
	s.written_ms++;
	s.boots[1].units[0].exes[0].starts = 424242;
	assert_int_equal(symlink("/nonexistent", tmp), 0);
	assert_int_equal(state_file_save(path, &s), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(state_file_load(path, &d, err, sizeof(err)), 0);
	assert_int_equal(d.boots[1].units[0].exes[0].starts, 424242);
	assert_state_equal(&s, &d);
	fig_state_free(&d);

	/* A path relative to the working directory. */
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(state_file_save("rel", &s), 0);
	assert_int_equal(state_file_load("rel", &d, err, sizeof(err)), 0);
	fig_state_free(&d);
	assert_int_equal(chdir("/"), 0);

	assert_int_equal(state_file_save("", &s), -EINVAL);
	fig_state_free(&s);
}

static void test_load_refuses(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX], err[256];
	struct fig_state s, d;
	unsigned char byte;
	int fd;

	snprintf(path, sizeof(path), "%s/state", dir);
	build_sample(&s, 0);
	assert_int_equal(state_file_save(path, &s), 0);
	fig_state_free(&s);

	/* A flipped bit on disk. */
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &byte, 1, 100), 1);
	byte ^= 0x10;
	assert_int_equal(pwrite(fd, &byte, 1, 100), 1);
	close(fd);
	assert_int_equal(state_file_load(path, &d, err, sizeof(err)), -EBADMSG);
	assert_int_equal(d.n_boots, 0);

	/* Over 64 MiB: refused before reading (sparse, so the test stays cheap). */
	fd = open(path, O_RDWR | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, STATE_FILE_MAX_BYTES + 1), 0);
	close(fd);
	assert_int_equal(state_file_load(path, &d, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "64 MiB"));

	/* Empty. */
	fd = open(path, O_RDWR | O_TRUNC);
	close(fd);
	assert_int_equal(state_file_load(path, &d, err, sizeof(err)), -EINVAL);

	/* A directory, and a FIFO (which must not block the open). */
	assert_int_equal(state_file_load(dir, &d, err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "is a directory");
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(state_file_load(path, &d, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "not a regular file");
}

static void test_set_aside(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX], corrupt[PATH_MAX + 16], got[PATH_MAX], small[8], err[256];
	struct fig_state s, d;

	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(corrupt, sizeof(corrupt), "%s.corrupt", path);
	fig_state_init(&s);

	assert_int_equal(state_file_set_aside(path, got, sizeof(got)), -ENOENT);

	/* An older .corrupt is replaced by the newer one. */
	s.written_ms = 1;
	assert_int_equal(state_file_save(path, &s), 0);
	assert_int_equal(state_file_set_aside(path, got, sizeof(got)), 0);
	assert_string_equal(got, corrupt);
	assert_int_equal(access(path, F_OK), -1);
	s.written_ms = 2;
	assert_int_equal(state_file_save(path, &s), 0);
	assert_int_equal(state_file_set_aside(path, got, sizeof(got)), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(state_file_load(corrupt, &d, err, sizeof(err)), 0);
	assert_int_equal(d.written_ms, 2);

	/* No room for the new name: nothing is moved, the buffer is untouched. */
	assert_int_equal(state_file_save(path, &s), 0);
	memcpy(small, "keepme!", 8);
	assert_int_equal(state_file_set_aside(path, small, sizeof(small)), -ENAMETOOLONG);
	assert_string_equal(small, "keepme!");
	assert_int_equal(access(path, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_bytes),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty_state_round_trip),
		cmocka_unit_test(test_encode_refuses_broken_bounds),
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_every_resealed_truncation_refused),
		cmocka_unit_test(test_every_payload_bit_flip_refused),
		cmocka_unit_test(test_every_header_bit_flip_refused),
		cmocka_unit_test(test_wrong_magic),
		cmocka_unit_test(test_wrong_version),
		cmocka_unit_test(test_trailing_garbage_refused),
		cmocka_unit_test(test_no_err_buffer),
		cmocka_unit_test(test_crafted_payloads),
		cmocka_unit_test(test_forward_compatible_payloads),
		cmocka_unit_test_setup_teardown(test_save_and_load, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_load_refuses, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_set_aside, make_tmpdir, remove_tmpdir),
	};

#ifdef HAVE_ASAN
	__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
#endif
	return cmocka_run_group_tests_name("state_file", tests, NULL, NULL);
}
