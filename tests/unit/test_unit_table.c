// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * unit_table: the model fed kernel rows the way the sampler reads them.
 * Starts against work, a unit's rows across the cgroups systemd gives it,
 * exit statuses joined to their ledger rows by key, crash storms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "kernel_sample.h"
#include "unit_table.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NS_PER_MS 1000000ULL

/* cgroup id -> unit name, as the sampler names them. */
static const char *name_of(uint64_t cgroup_id)
{
	switch (cgroup_id) {
	case 100:
		return "busy.service";
	case 200:
	case 201:
		return "getty.service";
	case 300:
		return "php.service";
	case 400:
		return "web1:getty.service";
	}
	return "cgroup:0";
}

/* The sample each test fills and applies. */
static struct kernel_sample ks;

/* Rows of one sample, named as the sampler names them. */
static void unit_row(struct kernel_sample *s, uint64_t cgroup_id, const char *name,
		     const struct rca_unit_stats *st, int retired)
{
	struct ks_unit *u = kernel_sample_add_unit(s);

	assert_non_null(u);
	u->cgroup_id = cgroup_id;
	u->name = (uint32_t)kernel_sample_add_name(s, name);
	u->st = *st;
	u->flags = retired ? KS_RETIRED : 0;
}

static void exe_row(struct kernel_sample *s, const char *unit, const struct rca_ledger_key *k,
		    const struct rca_ledger *l, int retired)
{
	struct ks_exe *e = kernel_sample_add_exe(s);

	assert_non_null(e);
	e->unit = (uint32_t)kernel_sample_add_name(s, unit);
	e->key = *k;
	e->l = *l;
	e->flags = retired ? KS_RETIRED : 0;
}

static void status_row(struct kernel_sample *s, const char *unit, const struct rca_status_key *k,
		       const struct rca_status *st, int retired)
{
	struct ks_status *r = kernel_sample_add_status(s);

	assert_non_null(r);
	r->unit = (uint32_t)kernel_sample_add_name(s, unit);
	r->key = *k;
	r->st = *st;
	r->flags = retired ? KS_RETIRED : 0;
}

/* Joins and applies a sample taken at now_ms, then empties it for the next. */
static void apply(struct unit_table *t, struct kernel_sample *s, int64_t now_ms,
		  unit_table_finding_fn fn, void *ctx)
{
	s->now_ms = now_ms;
	assert_int_equal(kernel_sample_join(s), 0);
	assert_int_equal(unit_table__apply(t, s, fn, ctx), 0);
	kernel_sample_reset(s);
}

struct seen {
	int respawn_started, crash_started, crash_ended;
	struct crash_storm_figures crash;
	char crash_unit[FIG_UNIT_NAME_MAX];
	char crash_comm[RCA_COMM_LEN + 1];
	char crash_parent[RCA_COMM_LEN + 1];
	uint32_t crash_ppid;
};

static void on_finding(void *ctx, const struct unit_table_finding *f)
{
	struct seen *s = ctx;

	if (f->ongoing)
		return;
	if (f->kind == FINDING_RESPAWN_STORM && f->started)
		s->respawn_started++;
	if (f->kind == FINDING_CRASH_STORM) {
		if (!f->started) {
			s->crash_ended++;
			return;
		}
		s->crash_started++;
		s->crash = f->crash;
		snprintf(s->crash_unit, sizeof(s->crash_unit), "%s", f->unit->name);
		if (f->crash.exe) {
			snprintf(s->crash_comm, sizeof(s->crash_comm), "%s", f->crash.exe->crash_comm);
			snprintf(s->crash_parent, sizeof(s->crash_parent), "%s",
				 f->crash.exe->crash_parent_comm);
			s->crash_ppid = f->crash.exe->crash_ppid;
		}
	}
}

static struct unit_table *new_table(void)
{
	struct unit_table_opts o = { .boot_id = "boot", .page_size = 4096 };

	respawn_detector_config_default(&o.detector);
	memory_growth_config_default(&o.growth);
	fork_storm_config_default(&o.fork_storm);
	crash_storm_config_default(&o.crash_storm);
	return unit_table__new(&o);
}

static const struct fig_unit *unit_named(struct unit_table *t, const char *name)
{
	return fig_boot_find_unit(unit_table__current(t), name);
}

/* A ledger row as the kernel keeps it, its times relative to base_ns. */
static struct rca_ledger ledger_row(uint64_t cgroup_id, const char *path, uint64_t starts,
				    uint64_t execs, uint64_t start_failed, uint64_t base_ns,
				    uint64_t first_ms, uint64_t period_ms)
{
	struct rca_ledger l;

	memset(&l, 0, sizeof(l));
	l.cgroup_id = cgroup_id;
	snprintf(l.path, sizeof(l.path), "%s", path);
	l.starts = starts;
	l.execs = execs;
	l.exits = execs > starts ? execs : starts;
	l.start_exits = starts;
	l.start_exits_failed = start_failed;
	l.start_lifetime_sum_us = starts * 1000;
	if (starts) {
		l.first_start_ns = base_ns + first_ms * NS_PER_MS;
		l.last_start_ns = l.first_start_ns + (starts - 1) * period_ms * NS_PER_MS;
		l.gaps = starts - 1;
		l.gap_sum_ns = l.gaps * period_ms * NS_PER_MS;
		l.gap_sumsq_ms2 = l.gaps * period_ms * period_ms;
	}
	l.last_exit_ns = base_ns + first_ms * NS_PER_MS + (starts ? starts - 1 : 0) * period_ms * NS_PER_MS;
	return l;
}

/*
 * A busy service running 20 commands a second for a minute: 1,200 execs,
 * failing half the time (grep with no match), one start. Never a storm.
 */
static void test_work_is_never_a_storm(void **state)
{
	struct unit_table *t = new_table();
	uint64_t base = clock_now_boot_ns();
	int64_t now0 = clock_boot_ns_to_unix_ms(base);
	struct rca_ledger_key k_sh = { .unit_key = 11, .exe_id = 1 }, k_grep = { 11, 2 };
	struct seen seen = { 0 };
	const struct fig_unit *u;

	(void)state;
	assert_non_null(t);
	for (int s = 1; s <= 60; s++) {
		struct rca_unit_stats st = { .starts = 1, .execs = 1 + 20ULL * s, .unit_key = 11 };
		struct rca_ledger sh = ledger_row(100, "/bin/sh", 1, 1, 0, base, 0, 0);
		struct rca_ledger grep = ledger_row(100, "/bin/grep", 0, 20ULL * s, 0, base, 0, 0);

		grep.exits = 20ULL * s;
		grep.exits_failed = 10ULL * s;
		grep.last_exit_ns = base + (uint64_t)s * 1000 * NS_PER_MS;
		unit_row(&ks, 100, name_of(100), &st, 0);
		exe_row(&ks, name_of(sh.cgroup_id), &k_sh, &sh, 0);
		exe_row(&ks, name_of(grep.cgroup_id), &k_grep, &grep, 0);
		apply(t, &ks, now0 + s * 1000, on_finding, &seen);
	}
	assert_int_equal(seen.respawn_started, 0);
	u = unit_named(t, "busy.service");
	assert_non_null(u);
	assert_int_equal(u->starts, 1);
	assert_int_equal(u->execs, 1201);
	assert_int_equal(fig_unit_find_exe(u, "/bin/grep")->execs, 1200);
	assert_int_equal(fig_unit_find_exe(u, "/bin/grep")->starts, 0);
	assert_int_not_equal(fig_unit_find_exe(u, "/bin/grep")->respawn_class, RESPAWN_STORM);
	unit_table__free(t);
	kernel_sample_free(&ks);
}

/*
 * systemd's shape: each restart in a new cgroup (200, then 201). The kernel's
 * ledger row is keyed by the unit, so it carries on; the unit rows of both
 * cgroups merge by name into one record, and a 100 ms loop is a storm.
 */
static void test_one_unit_across_cgroups(void **state)
{
	struct unit_table *t = new_table();
	uint64_t base = clock_now_boot_ns();
	int64_t now0 = clock_boot_ns_to_unix_ms(base);
	struct rca_ledger_key k = { .unit_key = 22, .exe_id = 5 };
	struct seen seen = { 0 };
	const struct fig_unit *u;
	const struct fig_exe *e;

	(void)state;
	for (int s = 1; s <= 3; s++) {
		/* 10 starts a second: the first 15 in cgroup 200 (gone, retired), the rest in 201. */
		uint64_t starts = 10ULL * s;
		struct rca_unit_stats old = { .starts = starts < 15 ? starts : 15, .unit_key = 22 };
		struct rca_unit_stats cur = { .starts = starts > 15 ? starts - 15 : 0, .unit_key = 22 };
		struct rca_ledger l = ledger_row(starts > 15 ? 201 : 200, "/sbin/agetty", starts, starts,
						 starts, base, 0, 100);

		unit_row(&ks, 200, name_of(200), &old, s == 3);
		if (cur.starts)
			unit_row(&ks, 201, name_of(201), &cur, 0);
		exe_row(&ks, name_of(l.cgroup_id), &k, &l, 0);
		apply(t, &ks, now0 + s * 1000, on_finding, &seen);
	}
	assert_int_equal(unit_table__current(t)->n_units, 1);
	u = unit_named(t, "getty.service");
	assert_non_null(u);
	assert_int_equal(u->starts, 30);
	e = fig_unit_find_exe(u, "/sbin/agetty");
	assert_non_null(e);
	assert_int_equal(e->starts, 30);
	assert_int_equal(e->gaps, 29);
	assert_float_equal(fig_exe_period_ms(e), 100.0, 0.01);
	assert_int_equal(seen.respawn_started, 1);
	assert_int_equal(e->respawn_class, RESPAWN_STORM);
	unit_table__free(t);
	kernel_sample_free(&ks);
}

/*
 * Exit statuses go to the executable of their own ledger row, joined on
 * (unit key, exe id), whatever the executables' ids; a status row without a
 * ledger row lands in "(unknown)" of its cgroup's unit, never elsewhere.
 */
static void test_status_joined_on_keys(void **state)
{
	struct unit_table *t = new_table();
	uint64_t base = clock_now_boot_ns();
	int64_t now0 = clock_boot_ns_to_unix_ms(base);
	/* Ids that a direct-mapped cache of 16,384 slots would put in one slot. */
	struct rca_ledger_key ka = { 33, 0x4000 }, kb = { 33, 0x4000 + (1ULL << 40) * 16384 };
	struct rca_ledger la = ledger_row(100, "/usr/bin/a", 0, 4, 0, base, 0, 0);
	struct rca_ledger lb = ledger_row(100, "/usr/bin/b", 0, 6, 0, base, 0, 0);
	struct rca_status_key sa = { 33, ka.exe_id, RCA_STATUS_CODE, 1 },
			      sb = { 33, kb.exe_id, RCA_STATUS_CODE, 2 },
			      sc = { 33, 999, RCA_STATUS_CODE, 3 };
	struct rca_status va = { .count = 4 }, vb = { .count = 6 }, vc = { .count = 1, .cgroup_id = 100 };
	const struct fig_unit *u;

	(void)state;
	exe_row(&ks, name_of(la.cgroup_id), &ka, &la, 0);
	exe_row(&ks, name_of(lb.cgroup_id), &kb, &lb, 0);
	status_row(&ks, name_of(va.cgroup_id), &sa, &va, 0);
	status_row(&ks, name_of(vb.cgroup_id), &sb, &vb, 0);
	status_row(&ks, name_of(vc.cgroup_id), &sc, &vc, 0);
	apply(t, &ks, now0 + 1000, NULL, NULL);
	u = unit_named(t, "busy.service");
	assert_non_null(u);
	assert_int_equal(fig_unit_status_count(u, RCA_STATUS_CODE, 1), 4);
	assert_int_equal(fig_unit_find_exe(u, "/usr/bin/a")->status[0].value, 1);
	assert_int_equal(fig_unit_find_exe(u, "/usr/bin/b")->status[0].value, 2);
	assert_int_equal(fig_unit_find_exe(u, "/usr/bin/b")->status[0].count, 6);
	assert_int_equal(fig_unit_find_exe(u, "(unknown)")->status[0].value, 3);
	unit_table__free(t);
	kernel_sample_free(&ks);
}

/* Ledger rows retired (folded, then taken out of the kernel) and made anew add up. */
static void test_retired_rows_add_up(void **state)
{
	struct unit_table *t = new_table();
	uint64_t base = clock_now_boot_ns();
	int64_t now0 = clock_boot_ns_to_unix_ms(base);
	struct rca_ledger_key k = { 44, 7 };
	struct rca_ledger old = ledger_row(200, "/x", 5, 5, 0, base, 0, 1000);
	struct rca_ledger fresh = ledger_row(201, "/x", 2, 2, 0, base, 7000, 1000);
	struct rca_status_key sk = { 44, 7, RCA_STATUS_CODE, 0 };
	struct rca_status s_old = { .count = 5 }, s_new = { .count = 2 };

	(void)state;
	exe_row(&ks, name_of(old.cgroup_id), &k, &old, 1);
	status_row(&ks, name_of(s_old.cgroup_id), &sk, &s_old, 1);
	exe_row(&ks, name_of(fresh.cgroup_id), &k, &fresh, 0);
	status_row(&ks, name_of(s_new.cgroup_id), &sk, &s_new, 0);
	apply(t, &ks, now0 + 9000, NULL, NULL);
	/* the retired rows stay; the live one is read again */
	exe_row(&ks, name_of(fresh.cgroup_id), &k, &fresh, 0);
	status_row(&ks, name_of(s_new.cgroup_id), &sk, &s_new, 0);
	apply(t, &ks, now0 + 10000, NULL, NULL);
	assert_int_equal(fig_unit_find_exe(unit_named(t, "getty.service"), "/x")->starts, 7);
	assert_int_equal(fig_unit_status_count(unit_named(t, "getty.service"), RCA_STATUS_CODE, 0),
			 7);
	unit_table__free(t);
	kernel_sample_free(&ks);
}

/*
 * php-fpm's shape: one start, workers forked without exec dying of SIGSEGV
 * twice a second. A crash storm names the signal, the worker's comm and the
 * master that replaces them; a respawn storm it is not.
 */
static void test_crash_storm_of_forked_workers(void **state)
{
	struct unit_table *t = new_table();
	uint64_t base = clock_now_boot_ns();
	int64_t now0 = clock_boot_ns_to_unix_ms(base);
	struct rca_ledger_key k = { 55, 9 };
	struct rca_status_key segv = { 55, 9, RCA_STATUS_SIGNAL, 11 }, ok = { 55, 9, RCA_STATUS_CODE, 0 };
	struct seen seen = { 0 };
	const struct fig_unit *u;

	(void)state;
	for (int s = 1; s <= 10; s++) {
		struct rca_ledger l = ledger_row(300, "/usr/sbin/php-fpm", 1, 1, 0, base, 0, 0);
		struct rca_status vs = { .count = 2ULL * s, .last_ns = base + (uint64_t)s * 1000 * NS_PER_MS,
					 .last_ppid = 4242 };
		struct rca_status vo = { .count = 3 };

		strcpy(vs.comm, "php-fpm: pool");
		strcpy(vs.parent_comm, "php-fpm: master");
		l.exits = 2ULL * s + 3;
		exe_row(&ks, name_of(l.cgroup_id), &k, &l, 0);
		status_row(&ks, name_of(vs.cgroup_id), &segv, &vs, 0);
		status_row(&ks, name_of(vo.cgroup_id), &ok, &vo, 0);
		apply(t, &ks, now0 + s * 1000, on_finding, &seen);
	}
	assert_int_equal(seen.crash_started, 1);
	assert_int_equal(seen.respawn_started, 0);
	assert_string_equal(seen.crash_unit, "php.service");
	assert_int_equal(seen.crash.signal, 11);
	assert_int_equal(seen.crash.window_crashes, 6); /* 2, 4, 6: the third sample */
	assert_string_equal(seen.crash_comm, "php-fpm: pool");
	assert_string_equal(seen.crash_parent, "php-fpm: master");
	assert_int_equal(seen.crash_ppid, 4242);
	u = unit_named(t, "php.service");
	assert_int_equal(u->crash_storm, 1);
	assert_int_equal(u->crash_storms, 1);
	assert_int_equal(fig_unit_crashes(u), 20);
	/* Exits with a code, however many, are no crashes. */
	assert_int_equal(fig_unit_status_count(u, RCA_STATUS_CODE, 0), 3);
	unit_table__free(t);
	kernel_sample_free(&ks);
}

/* A machine's unit and the host's unit of the same name are two records. */
static void test_machine_units_apart(void **state)
{
	struct unit_table *t = new_table();
	int64_t now0 = clock_now_unix_ms();
	struct rca_unit_stats host = { .starts = 3, .unit_key = 66 }, guest = { .starts = 4, .unit_key = 77 };

	(void)state;
	unit_row(&ks, 200, name_of(200), &host, 0);
	unit_row(&ks, 400, name_of(400), &guest, 0);
	apply(t, &ks, now0, NULL, NULL);
	assert_int_equal(unit_named(t, "getty.service")->starts, 3);
	assert_int_equal(unit_named(t, "web1:getty.service")->starts, 4);
	unit_table__free(t);
	kernel_sample_free(&ks);
}

/*
 * Kill counts, read every sample for a long time: the boot rebuilt at each
 * sample once leaked every unit's kill counts (LeakSanitizer fails this test then).
 */
static void test_kill_counts_over_many_samples(void **state)
{
	struct unit_table *t = new_table();
	int64_t now0 = clock_now_unix_ms();
	struct rca_kill_key kk = { .target_cgroup_id = 200, .sender_cgroup_id = 100, .signal = 15 };

	(void)state;
	for (int i = 1; i <= 50; i++) {
		struct ks_kill *k = kernel_sample_add_kill(&ks);

		assert_non_null(k);
		k->key = kk;
		k->count = (uint64_t)i;
		k->target = (uint32_t)kernel_sample_add_name(&ks, "getty.service");
		k->sender = (uint32_t)kernel_sample_add_name(&ks, "busy.service");
		apply(t, &ks, now0 + i * 1000, NULL, NULL);
	}
	assert_int_equal(unit_named(t, "getty.service")->kills_received, 50);
	assert_int_equal(unit_named(t, "getty.service")->kill_counts[0].count, 50);
	assert_int_equal(unit_named(t, "busy.service")->kills_sent, 50);
	unit_table__free(t);
	kernel_sample_free(&ks);
}

/* Units found by name through the boot's index, thousands of them, as many times as asked. */
static void test_many_units_by_name(void **state)
{
	struct unit_table *t = new_table();
	int64_t now0 = clock_now_unix_ms();
	char name[32];

	(void)state;
	for (int i = 0; i < 4000; i++) {
		struct rca_unit_stats st = { .starts = (uint64_t)i + 1 };

		snprintf(name, sizeof(name), "run-u%d.service", i);
		unit_row(&ks, 1000 + (uint64_t)i, name, &st, 0);
	}
	apply(t, &ks, now0, NULL, NULL);
	assert_int_equal(unit_table__current(t)->n_units, 4000);
	for (int i = 0; i < 4000; i += 397) {
		snprintf(name, sizeof(name), "run-u%d.service", i);
		assert_int_equal(unit_named(t, name)->starts, (uint64_t)i + 1);
	}
	assert_null(unit_named(t, "run-u4000.service"));
	unit_table__free(t);
	kernel_sample_free(&ks);
}

/* Past the bound of units per boot, each refused unit is counted once, not once per sample. */
static void test_units_past_the_bound(void **state)
{
	struct unit_table *t = new_table();
	int64_t now0 = clock_now_unix_ms();
	char name[32];

	(void)state;
	for (int sample = 0; sample < 3; sample++) {
		for (int i = 0; i < FIG_MAX_UNITS + 4; i++) {
			struct rca_unit_stats st = { .starts = 1 };
			struct ks_unit *u = kernel_sample_add_unit(&ks);

			assert_non_null(u);
			snprintf(name, sizeof(name), "run-u%d.service", i);
			/* The sampler keeps a cgroup's name id from one sample to the next. */
			u->name = sample == 0 ? (uint32_t)kernel_sample_add_name(&ks, name) : (uint32_t)i;
			u->cgroup_id = 5000 + (uint64_t)i;
			u->st = st;
		}
		apply(t, &ks, now0 + sample * 1000, NULL, NULL);
	}
	assert_int_equal(unit_table__current(t)->n_units, FIG_MAX_UNITS);
	assert_int_equal(unit_table__current(t)->units_dropped, 4);
	unit_table__free(t);
	kernel_sample_free(&ks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_work_is_never_a_storm),
		cmocka_unit_test(test_one_unit_across_cgroups),
		cmocka_unit_test(test_status_joined_on_keys),
		cmocka_unit_test(test_retired_rows_add_up),
		cmocka_unit_test(test_crash_storm_of_forked_workers),
		cmocka_unit_test(test_machine_units_apart),
		cmocka_unit_test(test_kill_counts_over_many_samples),
		cmocka_unit_test(test_many_units_by_name),
		cmocka_unit_test(test_units_past_the_bound),
	};

	return cmocka_run_group_tests_name("unit_table", tests, NULL, NULL);
}
