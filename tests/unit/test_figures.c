// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The in-memory figures: bounds, merge and the derived numbers. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "figures.h"

static void test_free_is_null_safe(void **state)
{
	struct fig_state s;

	(void)state;
	fig_state_free(NULL);
	fig_state_init(&s);
	fig_state_free(&s);
	fig_state_free(&s);
	assert_int_equal(s.n_boots, 0);
	assert_null(s.boots);
}

static void test_boots_drop_oldest_first(void **state)
{
	struct fig_state s;
	char id[FIG_BOOT_ID_MAX];

	(void)state;
	fig_state_init(&s);
	for (int i = 0; i < FIG_MAX_BOOTS + 4; i++) {
		struct fig_boot *b;

		snprintf(id, sizeof(id), "boot-%02d", i);
		b = fig_state_boot(&s, id);
		assert_non_null(b);
		assert_string_equal(b->boot_id, id);
		/* Something to free when the boot is dropped (ASan tells a leak). */
		assert_non_null(fig_boot_unit(b, "a.service"));
		fig_unit_add_kills(fig_boot_unit(b, "a.service"), "killer.service", 9, 0, 1);
	}
	assert_int_equal(s.n_boots, FIG_MAX_BOOTS);
	assert_int_equal(s.boots_dropped, 4);
	assert_string_equal(s.boots[0].boot_id, "boot-04");
	assert_string_equal(s.boots[FIG_MAX_BOOTS - 1].boot_id, "boot-19");
	assert_null(fig_state_find_boot(&s, "boot-03"));
	assert_non_null(fig_state_find_boot(&s, "boot-04"));

	/* Finding a kept boot drops nothing. */
	assert_ptr_equal(fig_state_boot(&s, "boot-10"), fig_state_find_boot(&s, "boot-10"));
	assert_int_equal(s.n_boots, FIG_MAX_BOOTS);
	assert_int_equal(s.boots_dropped, 4);
	fig_state_free(&s);
}

static void test_units_past_bound_are_counted(void **state)
{
	struct fig_state s;
	struct fig_boot *b;
	char name[32];

	(void)state;
	fig_state_init(&s);
	b = fig_state_boot(&s, "boot");
	assert_non_null(b);
	for (int i = 0; i < FIG_MAX_UNITS; i++) {
		snprintf(name, sizeof(name), "u%d.service", i);
		assert_non_null(fig_boot_unit(b, name));
	}
	assert_int_equal(b->n_units, FIG_MAX_UNITS);
	assert_int_equal(b->units_dropped, 0);

	errno = 0;
	assert_null(fig_boot_unit(b, "one-more.service"));
	assert_int_equal(errno, ENOSPC);
	assert_null(fig_boot_unit(b, "another.service"));
	assert_int_equal(b->units_dropped, 2);
	assert_int_equal(b->n_units, FIG_MAX_UNITS);

	/* Units already kept are still found, and finding them is not a drop. */
	assert_string_equal(fig_boot_unit(b, "u4095.service")->name, "u4095.service");
	assert_ptr_equal(fig_boot_find_unit(b, "u0.service"), &b->units[0]);
	assert_int_equal(b->units_dropped, 2);
	fig_state_free(&s);
}

static void test_exes_past_bound_fold_into_other(void **state)
{
	struct fig_unit u = { 0 };
	struct fig_exe *other;
	char path[32];

	(void)state;
	for (int i = 0; i < FIG_MAX_EXES_PER_UNIT; i++) {
		snprintf(path, sizeof(path), "/bin/p%d", i);
		assert_string_equal(fig_unit_exe(&u, path)->path, path);
	}
	assert_int_equal(u.n_exes, FIG_MAX_EXES_PER_UNIT);
	assert_int_equal(u.exes_dropped, 0);

	other = fig_unit_exe(&u, "/bin/new1");
	assert_non_null(other);
	assert_string_equal(other->path, "(other)");
	other->starts++;
	assert_int_equal(u.n_exes, FIG_MAX_EXES_PER_UNIT + 1);
	assert_int_equal(u.exes_dropped, 1);

	assert_ptr_equal(fig_unit_exe(&u, "/bin/new2"), other);
	other->starts++;
	assert_int_equal(u.n_exes, FIG_MAX_EXES_PER_UNIT + 1);
	assert_int_equal(u.exes_dropped, 2);
	assert_int_equal(u.exes[FIG_MAX_EXES_PER_UNIT].starts, 2);

	/* A kept executable is still its own entry. */
	assert_string_equal(fig_unit_exe(&u, "/bin/p7")->path, "/bin/p7");
	assert_int_equal(u.exes_dropped, 2);
	assert_null(fig_unit_find_exe(&u, "/bin/new1"));
	free(u.exes);
}

/* A unit read from a file may hold 65 named executables and no "(other)". */
static void test_full_unit_without_other(void **state)
{
	struct fig_unit u = { 0 };
	char path[32];

	(void)state;
	u.exes = calloc(FIG_MAX_EXES_PER_UNIT + 1, sizeof(*u.exes));
	assert_non_null(u.exes);
	u.n_exes = u.cap_exes = FIG_MAX_EXES_PER_UNIT + 1;
	for (uint32_t i = 0; i < u.n_exes; i++)
		snprintf(u.exes[i].path, sizeof(u.exes[i].path), "/bin/p%u", i);
	errno = 0;
	snprintf(path, sizeof(path), "/bin/new");
	assert_null(fig_unit_exe(&u, path));
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(u.exes_dropped, 1);
	assert_int_equal(u.n_exes, FIG_MAX_EXES_PER_UNIT + 1);
	assert_ptr_equal(fig_unit_exe(&u, "/bin/p64"), &u.exes[64]);
	free(u.exes);
}

static void test_null_arguments(void **state)
{
	struct fig_state s;

	(void)state;
	fig_state_init(&s);
	errno = 0;
	assert_null(fig_state_boot(NULL, "b"));
	assert_int_equal(errno, EINVAL);
	assert_null(fig_state_boot(&s, NULL));
	assert_null(fig_boot_unit(NULL, "u"));
	assert_null(fig_unit_exe(NULL, "/x"));
	assert_null(fig_state_find_boot(&s, "b"));
	assert_null(fig_boot_find_unit(NULL, "u"));
	assert_null(fig_unit_find_exe(NULL, "/x"));
	assert_true(isnan(fig_exe_period_ms(NULL)));
	assert_true(isnan(fig_exe_lifetime_pct_ms(NULL, 50)));
}

static void test_long_names_are_cut_consistently(void **state)
{
	struct fig_state s;
	struct fig_boot *b;
	struct fig_unit *u;
	char longname[FIG_UNIT_NAME_MAX + 50];
	char longpath[RCA_EXE_PATH_LEN + 10];

	(void)state;
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	fig_state_init(&s);
	b = fig_state_boot(&s, "0123456789abcdef0123456789abcdef0123456789abcdef");
	assert_non_null(b);
	assert_int_equal(strlen(b->boot_id), FIG_BOOT_ID_MAX - 1);
	u = fig_boot_unit(b, longname);
	assert_non_null(u);
	assert_int_equal(strlen(u->name), FIG_UNIT_NAME_MAX - 1);
	assert_ptr_equal(fig_boot_unit(b, longname), u);
	assert_int_equal(b->n_units, 1);
	/* A name equal to the stored prefix only is a different unit. */
	longname[FIG_UNIT_NAME_MAX - 2] = '\0';
	assert_null(fig_boot_find_unit(b, longname));

	assert_int_equal(strlen(fig_unit_exe(u, longpath)->path), RCA_EXE_PATH_LEN - 1);
	assert_ptr_equal(fig_unit_exe(u, longpath), &u->exes[0]);
	assert_int_equal(u->n_exes, 1);
	fig_state_free(&s);
}

static void test_status_overflow_goes_to_other(void **state)
{
	struct fig_exe e = { 0 };

	(void)state;
	for (uint32_t i = 0; i < FIG_MAX_STATUS; i++)
		fig_exe_add_status(&e, RCA_STATUS_CODE, i, i + 1);
	assert_int_equal(e.n_status, FIG_MAX_STATUS);
	assert_int_equal(e.status_other, 0);

	fig_exe_add_status(&e, RCA_STATUS_SIGNAL, 9, 5);
	fig_exe_add_status(&e, RCA_STATUS_CODE, 200, 2);
	assert_int_equal(e.n_status, FIG_MAX_STATUS);
	assert_int_equal(e.status_other, 7);

	/* A kept status still adds to its own count when full. */
	fig_exe_add_status(&e, RCA_STATUS_CODE, 3, 10);
	assert_int_equal(e.status[3].kind, RCA_STATUS_CODE);
	assert_int_equal(e.status[3].value, 3);
	assert_int_equal(e.status[3].count, 14);
	assert_int_equal(e.status_other, 7);
}

static void test_status_same_value_different_kind(void **state)
{
	struct fig_exe e = { 0 };

	(void)state;
	fig_exe_add_status(&e, RCA_STATUS_CODE, 9, 1);
	fig_exe_add_status(&e, RCA_STATUS_SIGNAL, 9, 2);
	fig_exe_add_status(&e, RCA_STATUS_CODE, 9, 3);
	assert_int_equal(e.n_status, 2);
	assert_int_equal(e.status[0].count, 4);
	assert_int_equal(e.status[1].kind, RCA_STATUS_SIGNAL);
	assert_int_equal(e.status[1].count, 2);
}

static void test_unit_status_count_sums_exes(void **state)
{
	struct fig_unit u = { 0 };
	struct fig_exe *a, *b;

	(void)state;
	a = fig_unit_exe(&u, "/bin/a");
	fig_exe_add_status(a, RCA_STATUS_CODE, 1, 3);
	fig_exe_add_status(a, RCA_STATUS_SIGNAL, 9, 1);
	b = fig_unit_exe(&u, "/bin/b");
	fig_exe_add_status(b, RCA_STATUS_CODE, 1, 4);
	fig_exe_add_status(b, RCA_STATUS_CODE, 2, 8);
	assert_int_equal(fig_unit_status_count(&u, RCA_STATUS_CODE, 1), 7);
	assert_int_equal(fig_unit_status_count(&u, RCA_STATUS_CODE, 2), 8);
	assert_int_equal(fig_unit_status_count(&u, RCA_STATUS_SIGNAL, 9), 1);
	assert_int_equal(fig_unit_status_count(&u, RCA_STATUS_SIGNAL, 1), 0);
	assert_int_equal(fig_unit_status_count(NULL, RCA_STATUS_CODE, 1), 0);
	free(u.exes);
}

static void test_exe_merge(void **state)
{
	struct fig_exe dst = { 0 }, src = { 0 };

	(void)state;
	dst.starts = 10;
	dst.exits = 9;
	dst.exits_failed = 2;
	dst.first_start_ms = 0; /* unknown: src's wins */
	dst.last_start_ms = 5000;
	dst.last_exit_ms = 5100;
	dst.gaps = 9;
	dst.gap_sum_ns = 9000000000ull;
	dst.gap_sumsq_ms2 = 9000000;
	dst.lifetime_sum_us = 100;
	dst.lifetime_hist[3] = 9;
	fig_exe_add_status(&dst, RCA_STATUS_CODE, 1, 2);
	dst.status_other = 1;
	dst.respawn_class = RESPAWN_STORM;
	dst.storm_since_ms = 4000;
	dst.storms = 1;

	src.starts = 5;
	src.exits = 5;
	src.exits_failed = 5;
	src.first_start_ms = 7000;
	src.last_start_ms = 9000;
	src.last_exit_ms = 4000;
	src.gaps = 4;
	src.gap_sum_ns = 2000000000ull;
	src.gap_sumsq_ms2 = 1000000;
	src.lifetime_sum_us = 50;
	src.lifetime_hist[3] = 1;
	src.lifetime_hist[39] = 4;
	fig_exe_add_status(&src, RCA_STATUS_CODE, 1, 3);
	fig_exe_add_status(&src, RCA_STATUS_SIGNAL, 15, 2);
	src.status_other = 4;
	src.respawn_class = RESPAWN_PERIODIC;
	src.storm_since_ms = 0;
	src.storms = 2;

	fig_exe_merge(&dst, &src);
	assert_int_equal(dst.starts, 15);
	assert_int_equal(dst.exits, 14);
	assert_int_equal(dst.exits_failed, 7);
	assert_int_equal(dst.first_start_ms, 7000);
	assert_int_equal(dst.last_start_ms, 9000);
	assert_int_equal(dst.last_exit_ms, 5100);
	assert_int_equal(dst.gaps, 13);
	assert_int_equal(dst.gap_sum_ns, 11000000000ull);
	assert_int_equal(dst.gap_sumsq_ms2, 10000000);
	assert_int_equal(dst.lifetime_sum_us, 150);
	assert_int_equal(dst.lifetime_hist[3], 10);
	assert_int_equal(dst.lifetime_hist[39], 4);
	assert_int_equal(dst.n_status, 2);
	assert_int_equal(dst.status[0].count, 5);
	assert_int_equal(dst.status[1].kind, RCA_STATUS_SIGNAL);
	assert_int_equal(dst.status[1].value, 15);
	assert_int_equal(dst.status[1].count, 2);
	assert_int_equal(dst.status_other, 5);
	/* src's latest event (9000) is newer than dst's (5100): its verdict wins. */
	assert_int_equal(dst.respawn_class, RESPAWN_PERIODIC);
	assert_int_equal(dst.storm_since_ms, 4000);
	assert_int_equal(dst.storms, 3);

	/* An older src adds its counts but does not overturn the verdict. */
	src.last_start_ms = 1000;
	src.last_exit_ms = 1000;
	src.first_start_ms = 500;
	src.respawn_class = RESPAWN_STORM;
	fig_exe_merge(&dst, &src);
	assert_int_equal(dst.respawn_class, RESPAWN_PERIODIC);
	assert_int_equal(dst.first_start_ms, 500);
	assert_int_equal(dst.last_start_ms, 9000);
	assert_int_equal(dst.starts, 20);
}

static void test_exe_merge_status_overflow(void **state)
{
	struct fig_exe dst = { 0 }, src = { 0 };

	(void)state;
	for (uint32_t i = 0; i < FIG_MAX_STATUS; i++)
		fig_exe_add_status(&dst, RCA_STATUS_CODE, i, 1);
	fig_exe_add_status(&src, RCA_STATUS_CODE, 0, 5);
	fig_exe_add_status(&src, RCA_STATUS_SIGNAL, 11, 6);
	fig_exe_merge(&dst, &src);
	assert_int_equal(dst.n_status, FIG_MAX_STATUS);
	assert_int_equal(dst.status[0].count, 6);
	assert_int_equal(dst.status_other, 6);
}

static void test_unit_and_boot_merge(void **state)
{
	struct fig_state a, b;
	struct fig_boot *ba, *bb;
	struct fig_unit *u;
	const struct fig_unit *m;

	(void)state;
	fig_state_init(&a);
	fig_state_init(&b);
	ba = fig_state_boot(&a, "boot");
	bb = fig_state_boot(&b, "boot");
	ba->first_ms = 100;
	ba->last_ms = 200;
	ba->units_dropped = 1;
	bb->first_ms = 50;
	bb->last_ms = 150;
	bb->units_dropped = 2;

	u = fig_boot_unit(ba, "x.service");
	u->forks = 1;
	u->execs = 1;
	u->first_ms = 0;
	u->last_ms = 300;
	u->exes_dropped = 1;
	fig_unit_exe(u, "/bin/x")->starts = 1;

	u = fig_boot_unit(bb, "x.service");
	u->forks = 2;
	u->threads = 7;
	u->execs = 2;
	u->exits = 3;
	u->exits_failed = 1;
	u->first_ms = 120;
	u->last_ms = 250;
	u->exes_dropped = 2;
	fig_unit_exe(u, "/bin/x")->starts = 2;
	fig_unit_exe(u, "/bin/y")->starts = 3;
	u = fig_boot_unit(bb, "y.service");
	u->forks = 9;

	assert_int_equal(fig_boot_merge(ba, bb), 0);
	assert_int_equal(ba->first_ms, 50);
	assert_int_equal(ba->last_ms, 200);
	assert_int_equal(ba->units_dropped, 3);
	assert_int_equal(ba->n_units, 2);

	m = fig_boot_find_unit(ba, "x.service");
	assert_non_null(m);
	assert_int_equal(m->forks, 3);
	assert_int_equal(m->threads, 7);
	assert_int_equal(m->execs, 3);
	assert_int_equal(m->exits, 3);
	assert_int_equal(m->exits_failed, 1);
	assert_int_equal(m->first_ms, 120);
	assert_int_equal(m->last_ms, 300);
	assert_int_equal(m->exes_dropped, 3);
	assert_int_equal(m->n_exes, 2);
	assert_int_equal(fig_unit_find_exe(m, "/bin/x")->starts, 3);
	assert_int_equal(fig_unit_find_exe(m, "/bin/y")->starts, 3);
	assert_int_equal(fig_boot_find_unit(ba, "y.service")->forks, 9);

	fig_state_free(&a);
	fig_state_free(&b);
}

static void test_unit_merge_folds_into_other(void **state)
{
	struct fig_unit dst = { 0 }, src = { 0 };
	char path[32];

	(void)state;
	for (int i = 0; i < FIG_MAX_EXES_PER_UNIT; i++) {
		snprintf(path, sizeof(path), "/bin/d%d", i);
		fig_unit_exe(&dst, path)->starts = 1;
	}
	fig_unit_exe(&src, "/bin/s1")->starts = 10;
	fig_unit_exe(&src, "/bin/s2")->starts = 20;
	fig_unit_exe(&src, "/bin/d0")->starts = 5;
	assert_int_equal(fig_unit_merge(&dst, &src), 0);
	assert_int_equal(dst.n_exes, FIG_MAX_EXES_PER_UNIT + 1);
	assert_int_equal(dst.exes_dropped, 2);
	assert_int_equal(fig_unit_find_exe(&dst, "(other)")->starts, 30);
	assert_int_equal(fig_unit_find_exe(&dst, "/bin/d0")->starts, 6);
	free(dst.exes);
	free(src.exes);
	free(dst.kill_counts);
	free(src.kill_counts);
}

static void test_boot_merge_into_full_boot(void **state)
{
	struct fig_state a, b;
	struct fig_boot *ba, *bb;
	char name[32];

	(void)state;
	fig_state_init(&a);
	fig_state_init(&b);
	ba = fig_state_boot(&a, "boot");
	bb = fig_state_boot(&b, "boot");
	for (int i = 0; i < FIG_MAX_UNITS; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		fig_boot_unit(ba, name);
	}
	fig_boot_unit(bb, "new1")->forks = 1;
	fig_boot_unit(bb, "u5")->forks = 4;
	fig_boot_unit(bb, "new2")->forks = 1;
	assert_int_equal(fig_boot_merge(ba, bb), 0);
	assert_int_equal(ba->n_units, FIG_MAX_UNITS);
	assert_int_equal(ba->units_dropped, 2);
	assert_int_equal(fig_boot_find_unit(ba, "u5")->forks, 4);
	fig_state_free(&a);
	fig_state_free(&b);
}

static void test_state_copy_is_deep(void **state)
{
	struct fig_state s, c;
	struct fig_unit *u;
	struct fig_oom oom = { 0 };
	struct fig_kill kill = { 0 };

	(void)state;
	fig_state_init(&s);
	s.written_ms = 42;
	s.lost[RCA_LOST_LEDGER_FULL] = 3;
	fig_state_boot(&s, "b1");
	u = fig_boot_unit(fig_state_boot(&s, "b2"), "x.service");
	u->forks = 5;
	fig_unit_exe(u, "/bin/x")->starts = 6;
	fig_unit_add_kills(u, "k.service", 9, 0, 7);
	fig_unit_add_fork_errno(u, EAGAIN, 8);
	u->mem.rss_anon_kib = 9;
	oom.time_ms = 10;
	assert_int_equal(fig_state_add_oom(&s, &oom), 0);
	kill.time_ms = 11;
	assert_int_equal(fig_state_add_kill(&s, &kill), 0);
	s.ooms_dropped = 12;
	s.kills_dropped = 13;

	assert_int_equal(fig_state_copy(&c, &s), 0);
	assert_int_equal(c.boots[1].units[0].n_kill_counts, 1);
	assert_ptr_not_equal(c.boots[1].units[0].kill_counts, u->kill_counts);
	assert_string_equal(c.boots[1].units[0].kill_counts[0].sender_unit, "k.service");
	assert_int_equal(c.boots[1].units[0].kill_counts[0].count, 7);
	assert_int_equal(c.boots[1].units[0].fork_errnos[0].count, 8);
	assert_int_equal(c.boots[1].units[0].mem.rss_anon_kib, 9);
	assert_int_equal(c.n_ooms, 1);
	assert_ptr_not_equal(c.ooms, s.ooms);
	assert_int_equal(c.ooms[0].time_ms, 10);
	assert_int_equal(c.n_kills, 1);
	assert_ptr_not_equal(c.kills, s.kills);
	assert_int_equal(c.kills[0].time_ms, 11);
	assert_int_equal(c.ooms_dropped, 12);
	assert_int_equal(c.kills_dropped, 13);
	/* Each grows on its own. */
	fig_unit_add_kills(&c.boots[1].units[0], "k2.service", 9, 0, 1);
	assert_int_equal(u->n_kill_counts, 1);
	c.ooms[0].time_ms = 99;
	assert_int_equal(s.ooms[0].time_ms, 10);
	assert_int_equal(fig_state_add_kill(&c, &kill), 0);
	assert_int_equal(s.n_kills, 1);
	assert_int_equal(c.written_ms, 42);
	assert_int_equal(c.lost[RCA_LOST_LEDGER_FULL], 3);
	assert_int_equal(c.n_boots, 2);
	assert_ptr_not_equal(c.boots, s.boots);
	assert_string_equal(c.boots[1].boot_id, "b2");
	assert_int_equal(c.boots[1].units[0].forks, 5);
	assert_ptr_not_equal(c.boots[1].units[0].exes, s.boots[1].units[0].exes);
	c.boots[1].units[0].exes[0].starts = 99;
	assert_int_equal(s.boots[1].units[0].exes[0].starts, 6);
	/* The copy grows on its own. */
	assert_non_null(fig_unit_exe(&c.boots[1].units[0], "/bin/y"));
	assert_int_equal(s.boots[1].units[0].n_exes, 1);
	fig_state_free(&c);
	fig_state_free(&s);
}

static void test_new_unit_knows_nothing_yet(void **state)
{
	struct fig_state s;
	struct fig_unit *u;

	(void)state;
	fig_state_init(&s);
	u = fig_boot_unit(fig_state_boot(&s, "b"), "u.service");
	assert_non_null(u);
	assert_int_equal(u->mem.sampled_ms, 0);
	assert_int_equal(u->mem.rss_anon_kib, 0);
	assert_int_equal(u->mem.rss_peak_kib, 0);
	assert_true(isnan(u->mem.growth_kib_per_s));
	assert_true(isnan(u->mem.growth_fit_r2));
	assert_true(isnan(u->mem.growth_window_s));
	assert_int_equal(u->mem.exhaustion_eta_s, -1);
	assert_int_equal(u->mem.leak_suspect, 0);
	assert_int_equal(u->mem.gone, 0);
	assert_int_equal(u->mem.memcg_usage_bytes, -1);
	assert_int_equal(u->mem.memcg_limit_bytes, -1);
	assert_int_equal(u->procs_alive, -1);
	assert_int_equal(u->pids_current, -1);
	assert_int_equal(u->pids_max, -1);
	assert_int_equal(u->pids_events_max, -1);
	assert_int_equal(u->fork_storm, 0);
	assert_int_equal(u->fork_storm_since_ms, 0);
	assert_int_equal(u->n_kill_counts, 0);
	assert_null(u->kill_counts);
	assert_int_equal(u->n_fork_errnos, 0);
	fig_memory_init(NULL);
	fig_state_free(&s);
}

static void test_kill_counts_bound(void **state)
{
	struct fig_unit u = { 0 };
	char sender[FIG_UNIT_NAME_MAX + 20];

	(void)state;
	for (int i = 0; i < FIG_MAX_KILL_COUNTS; i++) {
		snprintf(sender, sizeof(sender), "s%d.service", i);
		fig_unit_add_kills(&u, sender, 9, 0, (uint64_t)i + 1);
	}
	assert_int_equal(u.n_kill_counts, FIG_MAX_KILL_COUNTS);
	assert_int_equal(u.kill_counts_other, 0);
	/* The same sender with another signal, or sent by the kernel, is another entry. */
	fig_unit_add_kills(&u, "s0.service", 15, 0, 5);
	fig_unit_add_kills(&u, "s0.service", 9, 1, 6);
	assert_int_equal(u.n_kill_counts, FIG_MAX_KILL_COUNTS);
	assert_int_equal(u.kill_counts_other, 11);
	/* A kept entry still adds when full. */
	fig_unit_add_kills(&u, "s3.service", 9, 0, 100);
	assert_string_equal(u.kill_counts[3].sender_unit, "s3.service");
	assert_int_equal(u.kill_counts[3].signal, 9);
	assert_int_equal(u.kill_counts[3].by_kernel, 0);
	assert_int_equal(u.kill_counts[3].count, 104);
	assert_int_equal(u.kill_counts_other, 11);
	/* kills_received is the caller's to count. */
	assert_int_equal(u.kills_received, 0);
	free(u.kill_counts);

	/* Distinct (signal, by_kernel) pairs; long names cut consistently; NULL is "". */
	memset(&u, 0, sizeof(u));
	memset(sender, 'n', sizeof(sender) - 1);
	sender[sizeof(sender) - 1] = '\0';
	fig_unit_add_kills(&u, sender, 9, 0, 1);
	fig_unit_add_kills(&u, sender, 9, 0, 2);
	fig_unit_add_kills(&u, "k", 9, 0, 1);
	fig_unit_add_kills(&u, "k", 9, 1, 1);
	fig_unit_add_kills(&u, "k", 15, 1, 1);
	fig_unit_add_kills(&u, NULL, 6, 1, 4);
	fig_unit_add_kills(&u, "", 6, 1, 1);
	fig_unit_add_kills(NULL, "k", 9, 0, 1);
	assert_int_equal(u.n_kill_counts, 5);
	assert_int_equal(strlen(u.kill_counts[0].sender_unit), FIG_UNIT_NAME_MAX - 1);
	assert_int_equal(u.kill_counts[0].count, 3);
	assert_int_equal(u.kill_counts[4].count, 5);
	assert_string_equal(u.kill_counts[4].sender_unit, "");
	free(u.kill_counts);
}

static void test_fork_errno_bound(void **state)
{
	struct fig_unit u = { 0 };

	(void)state;
	for (uint32_t i = 0; i < FIG_MAX_ERRNO; i++)
		fig_unit_add_fork_errno(&u, i + 1, i + 1);
	assert_int_equal(u.n_fork_errnos, FIG_MAX_ERRNO);
	assert_int_equal(u.fork_errnos_other, 0);
	fig_unit_add_fork_errno(&u, 100, 3);
	fig_unit_add_fork_errno(&u, 101, 4);
	assert_int_equal(u.n_fork_errnos, FIG_MAX_ERRNO);
	assert_int_equal(u.fork_errnos_other, 7);
	fig_unit_add_fork_errno(&u, EAGAIN, 10); /* errno 11 is not kept: other */
	fig_unit_add_fork_errno(&u, 2, 10);
	assert_int_equal(u.fork_errnos[1].err, 2);
	assert_int_equal(u.fork_errnos[1].count, 12);
	assert_int_equal(u.fork_errnos_other, 17);
	assert_int_equal(u.forks_failed, 0);
	fig_unit_add_fork_errno(NULL, 1, 1);
}

static void test_oom_list_keeps_newest(void **state)
{
	struct fig_state s;
	struct fig_oom o;

	(void)state;
	fig_state_init(&s);
	for (int i = 0; i < FIG_MAX_OOMS + 6; i++) {
		memset(&o, 'x', sizeof(o)); /* strings without a NUL, counts past their bounds */
		o.time_ms = 1000 + i;
		o.n_top_rss = FIG_OOM_TOP_UNITS + 1;
		o.n_top_growth = UINT32_MAX;
		assert_int_equal(fig_state_add_oom(&s, &o), 0);
	}
	assert_int_equal(s.n_ooms, FIG_MAX_OOMS);
	assert_int_equal(s.ooms_dropped, 6);
	assert_int_equal(s.ooms[0].time_ms, 1006);
	assert_int_equal(s.ooms[FIG_MAX_OOMS - 1].time_ms, 1000 + FIG_MAX_OOMS + 5);
	/* What the state file would refuse is cut on the way in. */
	assert_int_equal(s.ooms[0].n_top_rss, FIG_OOM_TOP_UNITS);
	assert_int_equal(s.ooms[0].n_top_growth, FIG_OOM_TOP_UNITS);
	assert_int_equal(strlen(s.ooms[0].boot_id), FIG_BOOT_ID_MAX - 1);
	assert_int_equal(strlen(s.ooms[0].constraint), sizeof(o.constraint) - 1);
	assert_int_equal(strlen(s.ooms[0].memcg), FIG_UNIT_NAME_MAX - 1);
	assert_int_equal(strlen(s.ooms[0].victim.comm), RCA_COMM_LEN);
	assert_int_equal(strlen(s.ooms[0].trigger.unit), FIG_UNIT_NAME_MAX - 1);
	assert_int_equal(strlen(s.ooms[0].top_growth[4].unit), FIG_UNIT_NAME_MAX - 1);
	/* A record of the list itself may be added again, even as the list moves. */
	assert_int_equal(fig_state_add_oom(&s, &s.ooms[0]), 0);
	assert_int_equal(s.ooms[FIG_MAX_OOMS - 1].time_ms, 1006);
	assert_int_equal(s.ooms[0].time_ms, 1007);
	assert_int_equal(s.ooms_dropped, 7);
	assert_int_equal(fig_state_add_oom(NULL, &o), -EINVAL);
	assert_int_equal(fig_state_add_oom(&s, NULL), -EINVAL);
	fig_state_free(&s);
	assert_null(s.ooms);
	assert_int_equal(s.n_ooms, 0);
}

static void test_kill_list_keeps_newest(void **state)
{
	struct fig_state s;
	struct fig_kill k;

	(void)state;
	fig_state_init(&s);
	for (int i = 0; i < FIG_MAX_KILLS + 44; i++) {
		memset(&k, 'y', sizeof(k));
		k.time_ms = i;
		k.n_lineage = FIG_LINEAGE_MAX + 1;
		assert_int_equal(fig_state_add_kill(&s, &k), 0);
	}
	assert_int_equal(s.n_kills, FIG_MAX_KILLS);
	assert_int_equal(s.kills_dropped, 44);
	assert_int_equal(s.kills[0].time_ms, 44);
	assert_int_equal(s.kills[FIG_MAX_KILLS - 1].time_ms, FIG_MAX_KILLS + 43);
	assert_int_equal(s.kills[0].n_lineage, FIG_LINEAGE_MAX);
	assert_int_equal(strlen(s.kills[0].boot_id), FIG_BOOT_ID_MAX - 1);
	assert_int_equal(strlen(s.kills[0].sender.comm), RCA_COMM_LEN);
	assert_int_equal(strlen(s.kills[0].target.unit), FIG_UNIT_NAME_MAX - 1);
	assert_int_equal(strlen(s.kills[0].lineage[FIG_LINEAGE_MAX - 1].comm), RCA_COMM_LEN);
	assert_int_equal(fig_state_add_kill(&s, NULL), -EINVAL);
	fig_state_free(&s);
	assert_null(s.kills);
}

static void test_unit_merge_adds_kill_and_fork_counters(void **state)
{
	struct fig_unit dst = { 0 }, src = { 0 };
	char sender[32];

	(void)state;
	dst.oom_kills = 1;
	dst.kills_sent = 2;
	dst.kills_received = 3;
	dst.kill_counts_other = 4;
	dst.forks_failed = 5;
	dst.fork_errnos_other = 6;
	src.oom_kills = 10;
	src.kills_sent = 20;
	src.kills_received = 30;
	src.kill_counts_other = 40;
	src.forks_failed = 50;
	src.fork_errnos_other = 60;
	/* dst: 31 senders; src: one of them again, and three new ones (two overflow). */
	for (int i = 0; i < FIG_MAX_KILL_COUNTS - 1; i++) {
		snprintf(sender, sizeof(sender), "d%d", i);
		fig_unit_add_kills(&dst, sender, 9, 0, 1);
	}
	fig_unit_add_kills(&src, "d7", 9, 0, 100);
	fig_unit_add_kills(&src, "d7", 9, 1, 200);
	fig_unit_add_kills(&src, "new1", 15, 0, 300);
	fig_unit_add_kills(&src, "new2", 15, 0, 400);
	/* errnos: dst has 7, src brings one of them and three new (two overflow). */
	for (uint32_t i = 0; i < FIG_MAX_ERRNO - 1; i++)
		fig_unit_add_fork_errno(&dst, i + 1, 1);
	fig_unit_add_fork_errno(&src, 3, 7);
	fig_unit_add_fork_errno(&src, EAGAIN, 8);
	fig_unit_add_fork_errno(&src, ENOMEM, 9);
	fig_unit_add_fork_errno(&src, 99, 10);

	assert_int_equal(fig_unit_merge(&dst, &src), 0);
	assert_int_equal(dst.oom_kills, 11);
	assert_int_equal(dst.kills_sent, 22);
	assert_int_equal(dst.kills_received, 33);
	assert_int_equal(dst.n_kill_counts, FIG_MAX_KILL_COUNTS);
	assert_int_equal(dst.kill_counts[7].count, 101);
	assert_string_equal(dst.kill_counts[FIG_MAX_KILL_COUNTS - 1].sender_unit, "d7");
	assert_int_equal(dst.kill_counts[FIG_MAX_KILL_COUNTS - 1].by_kernel, 1);
	assert_int_equal(dst.kill_counts[FIG_MAX_KILL_COUNTS - 1].count, 200);
	assert_int_equal(dst.kill_counts_other, 4 + 40 + 300 + 400);
	assert_int_equal(dst.forks_failed, 55);
	assert_int_equal(dst.n_fork_errnos, FIG_MAX_ERRNO);
	assert_int_equal(dst.fork_errnos[2].count, 8);
	assert_int_equal(dst.fork_errnos[FIG_MAX_ERRNO - 1].err, EAGAIN);
	assert_int_equal(dst.fork_errnos[FIG_MAX_ERRNO - 1].count, 8);
	assert_int_equal(dst.fork_errnos_other, 6 + 60 + 9 + 10);
	/* src is untouched. */
	assert_int_equal(src.n_kill_counts, 4);
	assert_int_equal(src.kill_counts_other, 40);
	free(dst.kill_counts);
	free(src.kill_counts);
}

/* The gauges of a unit, set apart from one value so a merge shows which side won. */
static void set_gauges(struct fig_unit *u, int64_t sampled_ms, int64_t v)
{
	fig_memory_init(&u->mem);
	u->mem.sampled_ms = sampled_ms;
	u->mem.rss_anon_kib = (uint64_t)v;
	u->mem.rss_peak_kib = (uint64_t)v * 10;
	u->mem.growth_kib_per_s = (double)v;
	u->mem.memcg_limit_bytes = v;
	u->fork_storm = (uint32_t)(v & 1);
	u->fork_storm_since_ms = v;
	u->fork_rate_per_s = (double)v / 2;
	u->procs_alive = v;
	u->pids_current = v;
	u->pids_max = v;
	u->pids_events_max = v;
}

struct gauge_case {
	const char *name;
	int64_t dst_ms, dst_v, src_ms, src_v;
	int64_t want_v;		/* the side whose snapshot must win */
	int64_t want_pids;	/* what procs_alive and pids_* must hold */
	int64_t want_ms;
};

static const struct gauge_case gauge_cases[] = {
	{ "src newer", 1000, 3, 2000, 5, 5, 5, 2000 },
	{ "src older", 2000, 3, 1000, 5, 3, 3, 2000 },
	{ "same time: dst stays", 1000, 3, 1000, 5, 3, 3, 1000 },
	{ "dst never sampled", 0, 3, 1000, 5, 5, 5, 1000 },
	{ "src never sampled", 1000, 3, 0, 5, 3, 3, 1000 },
	{ "neither sampled: src's known values", 0, 3, 0, 5, 5, 5, 0 },
	/* A dated snapshot that says -1 (no pids controller any more) is believed. */
	{ "src newer, unknowns", 1000, 3, 2000, -1, -1, -1, 2000 },
	{ "src older, unknowns", 2000, -1, 1000, 4, -1, -1, 2000 },
	{ "dst never sampled, src unknowns", 0, 3, 1000, -1, -1, -1, 1000 },
	/* Undated and unknown says nothing: dst's known pids figures stay. */
	{ "neither sampled, src unknowns", 0, 3, 0, -1, -1, 3, 0 },
	{ "neither sampled, dst unknowns", 0, -1, 0, 6, 6, 6, 0 },
};

static void test_unit_merge_gauges(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(gauge_cases) / sizeof(gauge_cases[0]); i++) {
		const struct gauge_case *c = &gauge_cases[i];
		struct fig_unit dst = { 0 }, src = { 0 };
		uint64_t peak;

		print_message("case %s\n", c->name);
		set_gauges(&dst, c->dst_ms, c->dst_v);
		set_gauges(&src, c->src_ms, c->src_v);
		peak = dst.mem.rss_peak_kib > src.mem.rss_peak_kib ? dst.mem.rss_peak_kib
								   : src.mem.rss_peak_kib;
		assert_int_equal(fig_unit_merge(&dst, &src), 0);
		assert_int_equal(dst.mem.sampled_ms, c->want_ms);
		assert_int_equal(dst.mem.rss_anon_kib, (uint64_t)c->want_v);
		assert_float_equal(dst.mem.growth_kib_per_s, (double)c->want_v, 0);
		assert_int_equal(dst.mem.memcg_limit_bytes, c->want_v);
		/* Still NaN: the whole struct moved, not a field-wise mix. */
		assert_true(isnan(dst.mem.growth_fit_r2));
		assert_int_equal(dst.mem.rss_peak_kib, peak);
		assert_int_equal(dst.fork_storm, (uint32_t)(c->want_v & 1));
		assert_int_equal(dst.fork_storm_since_ms, c->want_v);
		assert_float_equal(dst.fork_rate_per_s, (double)c->want_v / 2, 0);
		assert_int_equal(dst.procs_alive, c->want_pids);
		assert_int_equal(dst.pids_current, c->want_pids);
		assert_int_equal(dst.pids_max, c->want_pids);
		assert_int_equal(dst.pids_events_max, c->want_pids);
	}
}

static void test_unit_merge_peak_is_highest(void **state)
{
	struct fig_unit dst = { 0 }, src = { 0 };

	(void)state;
	/* The newer snapshot wins, but the older one saw the higher peak. */
	set_gauges(&dst, 1000, 3);
	dst.mem.rss_peak_kib = 900;
	set_gauges(&src, 2000, 5);
	src.mem.rss_peak_kib = 100;
	fig_unit_merge(&dst, &src);
	assert_int_equal(dst.mem.rss_anon_kib, 5);
	assert_int_equal(dst.mem.rss_peak_kib, 900);
	/* And the other way round. */
	src.mem.rss_peak_kib = 1000;
	src.mem.sampled_ms = 1500;
	fig_unit_merge(&dst, &src);
	assert_int_equal(dst.mem.sampled_ms, 2000);
	assert_int_equal(dst.mem.rss_peak_kib, 1000);
}

/* A unit new to the boot merged into takes every figure src has. */
static void test_boot_merge_carries_new_figures(void **state)
{
	struct fig_state a, b;
	struct fig_unit *u;
	const struct fig_unit *m;

	(void)state;
	fig_state_init(&a);
	fig_state_init(&b);
	fig_state_boot(&a, "boot");
	u = fig_boot_unit(fig_state_boot(&b, "boot"), "m.service");
	u->mem.sampled_ms = 500;
	u->mem.rss_anon_kib = 42;
	u->mem.leak_suspect = 1;
	u->mem.growth_kib_per_s = 3.5;
	u->oom_kills = 2;
	u->kills_received = 3;
	fig_unit_add_kills(u, "k.service", 9, 1, 3);
	u->forks_failed = 4;
	fig_unit_add_fork_errno(u, EAGAIN, 4);
	u->fork_storm = 1;
	u->fork_storm_since_ms = 450;
	u->fork_rate_per_s = 1234.5;
	u->procs_alive = 7;
	u->pids_current = 8;
	u->pids_max = 9;
	u->pids_events_max = 10;

	assert_int_equal(fig_boot_merge(&a.boots[0], &b.boots[0]), 0);
	m = fig_boot_find_unit(&a.boots[0], "m.service");
	assert_non_null(m);
	assert_int_equal(m->mem.sampled_ms, 500);
	assert_int_equal(m->mem.rss_anon_kib, 42);
	assert_int_equal(m->mem.leak_suspect, 1);
	assert_float_equal(m->mem.growth_kib_per_s, 3.5, 0);
	assert_int_equal(m->mem.memcg_limit_bytes, -1);
	assert_int_equal(m->oom_kills, 2);
	assert_int_equal(m->kills_received, 3);
	assert_int_equal(m->n_kill_counts, 1);
	assert_ptr_not_equal(m->kill_counts, u->kill_counts);
	assert_int_equal(m->kill_counts[0].count, 3);
	assert_int_equal(m->forks_failed, 4);
	assert_int_equal(m->fork_errnos[0].err, EAGAIN);
	assert_int_equal(m->fork_storm, 1);
	assert_int_equal(m->fork_storm_since_ms, 450);
	assert_float_equal(m->fork_rate_per_s, 1234.5, 0);
	assert_int_equal(m->procs_alive, 7);
	assert_int_equal(m->pids_current, 8);
	assert_int_equal(m->pids_max, 9);
	assert_int_equal(m->pids_events_max, 10);
	fig_state_free(&a);
	fig_state_free(&b);
}

struct period_case {
	const char *name;
	uint64_t gaps, gap_sum_ns, gap_sumsq_ms2;
	double period_ms, stdev_ms; /* NAN: expect NaN */
};

/*
 * Gaps as the kernel records them: gap_sum_ns exact, gap_sumsq_ms2 of whole
 * (truncated) ms. Real gaps carry a fraction of a ms, on average 0.5 ms, which
 * fig_exe_period_stdev_ms() corrects for.
 */
/*
 * The kernel sums whole (truncated) milliseconds squared, so the stdev is
 * sqrt(sumsq/n - (mean - 0.5)^2 - 1/12); gap_sumsq_ms2 below is what the
 * kernel would have summed for the gaps named.
 */
static const struct period_case period_cases[] = {
	{ "no gaps", 0, 0, 0, NAN, NAN },
	/* 1000.5, 2000.5, 1000.5, 2000.5 ms: sqrt(1e7/4 - 1500^2 - 1/12) */
	{ "alternating", 4, 6002000000ull, 10000000, 1500.5, 499.9999166666597 },
	/* 60000.5 ms three times: the variance, -1/12, is clamped to 0 */
	{ "steady 60s", 3, 180001500000ull, 10800000000ull, 60000.5, 0 },
	/* 0.5 ms twice: every square truncates to 0 */
	{ "sub-ms", 2, 1000000, 0, 0.5, 0 },
	/* 1000 and 3000 ms: sqrt(1e7/2 - 1999.5^2 - 1/12) */
	{ "two gaps", 2, 4000000000ull, 10000000, 2000, 1000.9993339991124 },
};

static void test_period_and_stdev(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(period_cases) / sizeof(period_cases[0]); i++) {
		const struct period_case *c = &period_cases[i];
		struct fig_exe e = { 0 };
		double p, sd;

		e.gaps = c->gaps;
		e.gap_sum_ns = c->gap_sum_ns;
		e.gap_sumsq_ms2 = c->gap_sumsq_ms2;
		p = fig_exe_period_ms(&e);
		sd = fig_exe_period_stdev_ms(&e);
		print_message("case %s: period %g stdev %g\n", c->name, p, sd);
		if (isnan(c->period_ms)) {
			assert_true(isnan(p));
			assert_true(isnan(sd));
			continue;
		}
		assert_float_equal(p, c->period_ms, 1e-9);
		assert_float_equal(sd, c->stdev_ms, 1e-4);
	}
}

struct pct_case {
	const char *name;
	double pct;
	double ms; /* NAN: expect NaN */
};

/* 2^10.5 us and 2^20.5 us, in ms. */
#define B11_MS 1.4481546878700495
#define B21_MS 1482.9104003789307

static const struct pct_case pct_cases[] = {
	{ "p0", 0, 0 },	       { "p25", 25, 0 },   { "p26", 26, B11_MS },
	{ "p50", 50, B11_MS }, { "p75", 75, B11_MS }, { "p76", 76, B21_MS },
	{ "p100", 100, B21_MS }, { "p150 clamps", 150, B21_MS }, { "p-5 clamps", -5, 0 },
	{ "NaN pct", NAN, NAN },
};

static void test_lifetime_percentile(void **state)
{
	struct fig_exe e = { 0 };

	(void)state;
	/* Lifetimes: one 0 us, two in [1024, 2048) us, one in [2^20, 2^21) us. */
	e.lifetime_hist[0] = 1;
	e.lifetime_hist[11] = 2;
	e.lifetime_hist[21] = 1;
	for (size_t i = 0; i < sizeof(pct_cases) / sizeof(pct_cases[0]); i++) {
		const struct pct_case *c = &pct_cases[i];
		double v = fig_exe_lifetime_pct_ms(&e, c->pct);

		print_message("case %s: %g ms\n", c->name, v);
		if (isnan(c->ms))
			assert_true(isnan(v));
		else
			assert_float_equal(v, c->ms, 1e-9);
	}
}

static void test_lifetime_percentile_edges(void **state)
{
	struct fig_exe e = { 0 };

	(void)state;
	assert_true(isnan(fig_exe_lifetime_pct_ms(&e, 50)));
	e.lifetime_hist[RCA_LIFETIME_BUCKETS - 1] = 1;
	/* [2^38, 2^39) us: about 3.9e8 ms, 4.5 days. */
	assert_float_equal(fig_exe_lifetime_pct_ms(&e, 50), ldexp(M_SQRT2, 38) / 1000, 1e-3);
	/* Counts so big their total does not fit: still the right bucket. */
	e.lifetime_hist[5] = UINT64_MAX;
	assert_float_equal(fig_exe_lifetime_pct_ms(&e, 100), ldexp(M_SQRT2, 4) / 1000, 1e-12);
	assert_float_equal(fig_exe_lifetime_pct_ms(&e, 1), ldexp(M_SQRT2, 4) / 1000, 1e-12);
	assert_float_equal(fig_exe_lifetime_bucket_ms(0), 0, 0);
	assert_float_equal(fig_exe_lifetime_bucket_ms(1), M_SQRT2 / 1000, 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_is_null_safe),
		cmocka_unit_test(test_boots_drop_oldest_first),
		cmocka_unit_test(test_units_past_bound_are_counted),
		cmocka_unit_test(test_exes_past_bound_fold_into_other),
		cmocka_unit_test(test_full_unit_without_other),
		cmocka_unit_test(test_null_arguments),
		cmocka_unit_test(test_long_names_are_cut_consistently),
		cmocka_unit_test(test_status_overflow_goes_to_other),
		cmocka_unit_test(test_status_same_value_different_kind),
		cmocka_unit_test(test_unit_status_count_sums_exes),
		cmocka_unit_test(test_exe_merge),
		cmocka_unit_test(test_exe_merge_status_overflow),
		cmocka_unit_test(test_unit_and_boot_merge),
		cmocka_unit_test(test_unit_merge_folds_into_other),
		cmocka_unit_test(test_boot_merge_into_full_boot),
		cmocka_unit_test(test_state_copy_is_deep),
		cmocka_unit_test(test_new_unit_knows_nothing_yet),
		cmocka_unit_test(test_kill_counts_bound),
		cmocka_unit_test(test_fork_errno_bound),
		cmocka_unit_test(test_oom_list_keeps_newest),
		cmocka_unit_test(test_kill_list_keeps_newest),
		cmocka_unit_test(test_unit_merge_adds_kill_and_fork_counters),
		cmocka_unit_test(test_unit_merge_gauges),
		cmocka_unit_test(test_unit_merge_peak_is_highest),
		cmocka_unit_test(test_boot_merge_carries_new_figures),
		cmocka_unit_test(test_period_and_stdev),
		cmocka_unit_test(test_lifetime_percentile),
		cmocka_unit_test(test_lifetime_percentile_edges),
	};

	return cmocka_run_group_tests_name("figures", tests, NULL, NULL);
}
