// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The SQLite store: the state round trip, findings as intervals, the series
 * and its downsampling on a made-up clock, retention and the size cap, bad
 * files refused, and an older schema upgraded.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "db.h"
#include "figures.h"

/* A minute boundary, so buckets are whole: 2026-11-01T00:00:00Z. */
#define T0 1793491200000LL
#define MIN_MS 60000LL
#define DAY_MS 86400000LL

static char dir[64];
static char path[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/rcatrace-test-db.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/sub/rcatrace.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static struct db *open_ok(enum db_mode mode, const struct db_opts *o)
{
	char err[256] = "";
	struct db *db = db__open(path, mode, o, err, sizeof(err));

	if (!db)
		fail_msg("db__open(%s): %s (errno %d)", path, err, errno);
	return db;
}

/* One integer from the database, by SQL, with the sqlite3 API as an operator's query would. */
static int64_t sql_int(const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	int64_t v = -12345;

	assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(h, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(h));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

static void sql_exec(const char *sql)
{
	sqlite3 *h;
	char *msg = NULL;

	assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
			 SQLITE_OK);
	if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(h);
}

/* A state with every kind of figure, extremes included. */
static void make_state(struct fig_state *s)
{
	struct fig_boot *b;
	struct fig_unit *u;
	struct fig_exe *e;

	fig_state_init(s);
	s->written_ms = T0 + 1234;
	s->interval_ms = 10000;
	for (int k = 0; k < RCA_LOST_KIND_MAX; k++)
		s->lost[k] = (uint64_t)k * 7 + 1;
	s->lost[0] = UINT64_MAX;
	s->units_unnamed = 3;
	s->boots_dropped = 2;
	for (int bi = 0; bi < 2; bi++) {
		b = fig_state_boot(s, bi ? "boot-b" : "boot-a");
		assert_non_null(b);
		b->first_ms = T0 + bi * DAY_MS;
		b->last_ms = T0 + bi * DAY_MS + 5000;
		b->units_dropped = (uint64_t)bi * 11;
		for (int ui = 0; ui < 3; ui++) {
			char name[64];

			snprintf(name, sizeof(name), ui == 2 ? "web1:nginx-%d.service" : "u%d.service", ui);
			u = fig_boot_unit(b, name);
			assert_non_null(u);
			u->starts = 100 + ui;
			u->forks = 200 + ui;
			u->threads = 5;
			u->execs = 300;
			u->exits = 90;
			u->exits_failed = 9;
			u->first_ms = T0 - 1;
			u->last_ms = T0 + 99;
			u->mem.sampled_ms = T0 + 50;
			u->mem.rss_anon_kib = 1024 * (ui + 1);
			u->mem.rss_file_kib = 77;
			u->mem.rss_shmem_kib = 3;
			u->mem.rss_peak_kib = 9999;
			u->mem.growth_kib_per_s = ui ? 12.5 : NAN;
			u->mem.growth_fit_r2 = 0.987654321;
			u->mem.growth_window_s = 300;
			u->mem.exhaustion_eta_s = ui ? 3600 : -1;
			u->mem.leak_suspect = ui == 1;
			u->mem.gone = ui == 2;
			u->mem.memcg_usage_bytes = -1;
			u->mem.memcg_limit_bytes = INT64_MAX;
			u->oom_kills = 1;
			u->kills_sent = 2;
			u->kills_received = 4;
			fig_unit_add_kills(u, "sender.service", 9, 0, 3);
			fig_unit_add_kills(u, "", 15, 1, 1);
			u->kill_counts_other = 5;
			u->forks_failed = 6;
			fig_unit_add_fork_errno(u, EAGAIN, 6);
			u->fork_errnos_other = 1;
			u->fork_storm = 1;
			u->fork_storm_since_ms = T0 + 7;
			u->fork_rate_per_s = 1e6 / 3;
			u->procs_alive = 4;
			u->pids_current = 4;
			u->pids_max = 512;
			u->pids_events_max = 0;
			u->crash_storm = 1;
			u->crash_storm_since_ms = T0 + 8;
			u->crash_storms = 2;
			u->window_crashes = 17;
			for (int ei = 0; ei < 2; ei++) {
				char p[64];

				snprintf(p, sizeof(p), "/usr/bin/prog%d \"quoted\"\t", ei);
				e = fig_unit_exe(u, p);
				assert_non_null(e);
				e->starts = 10 + ei;
				e->execs = 20;
				e->exits = 9;
				e->exits_failed = 3;
				e->start_exits = 8;
				e->start_exits_failed = 2;
				e->start_lifetime_sum_us = UINT64_MAX - 1;
				e->crash_last_ms = T0 + 3;
				e->crash_signal = 11;
				e->crash_ppid = 4242;
				snprintf(e->crash_comm, sizeof(e->crash_comm), "crashy");
				snprintf(e->crash_parent_comm, sizeof(e->crash_parent_comm), "bash");
				e->first_start_ms = T0 - 5;
				e->last_start_ms = T0 + 5;
				e->last_exit_ms = T0 + 6;
				e->gaps = 7;
				e->gap_sum_ns = 1ull << 62;
				e->gap_sumsq_ms2 = 12345678901234ull;
				e->lifetime_sum_us = 99;
				for (int h = 0; h < RCA_LIFETIME_BUCKETS; h++)
					e->lifetime_hist[h] = h == RCA_LIFETIME_BUCKETS - 1 ? UINT64_MAX : (uint64_t)h * h;
				fig_exe_add_status(e, 0, 1, 3);
				fig_exe_add_status(e, 1, 11, 4);
				e->status_other = 2;
				e->respawn_class = RESPAWN_STORM;
				e->storm_since_ms = T0 + 9;
				e->storms = 3;
			}
		}
	}
	for (int i = 0; i < 3; i++) {
		struct fig_oom o;
		struct fig_kill k;

		memset(&o, 0, sizeof(o));
		o.time_ms = T0 + i;
		snprintf(o.boot_id, sizeof(o.boot_id), "boot-b");
		o.victim.pid = 100 + i;
		snprintf(o.victim.comm, sizeof(o.victim.comm), "hog");
		snprintf(o.victim.unit, sizeof(o.victim.unit), "u1.service");
		snprintf(o.constraint, sizeof(o.constraint), "memcg");
		snprintf(o.memcg, sizeof(o.memcg), "u1.service");
		o.memcg_limit_bytes = 1 << 30;
		o.memcg_usage_bytes = (1 << 30) - 1;
		o.rss_anon_kib = 1000;
		o.rss_file_kib = 10;
		o.rss_shmem_kib = 1;
		o.oom_score_adj = -1000;
		o.trigger = o.victim;
		o.n_top_rss = 2;
		snprintf(o.top_rss[0].unit, sizeof(o.top_rss[0].unit), "u1.service");
		o.top_rss[0].rss_kib = 1000;
		o.top_rss[0].growth_kib_per_s = NAN;
		snprintf(o.top_rss[1].unit, sizeof(o.top_rss[1].unit), "u0.service");
		o.top_rss[1].rss_kib = 10;
		o.top_rss[1].growth_kib_per_s = -2.5;
		o.n_top_growth = 1;
		o.top_growth[0] = o.top_rss[1];
		assert_int_equal(fig_state_add_oom(s, &o), 0);

		memset(&k, 0, sizeof(k));
		k.time_ms = T0 + 10 + i;
		snprintf(k.boot_id, sizeof(k.boot_id), "boot-b");
		k.signal = 9;
		k.by_kernel = i == 1;
		k.result = -3;
		k.sender.pid = 1;
		snprintf(k.sender.comm, sizeof(k.sender.comm), "killer");
		snprintf(k.sender.unit, sizeof(k.sender.unit), "u0.service");
		k.target = o.victim;
		k.n_lineage = (uint32_t)i + 1;
		for (uint32_t d = 0; d < k.n_lineage; d++) {
			k.lineage[d].pid = 10 + d;
			snprintf(k.lineage[d].comm, sizeof(k.lineage[d].comm), "p%u", d);
		}
		assert_int_equal(fig_state_add_kill(s, &k), 0);
	}
	s->ooms_dropped = 4;
	s->kills_dropped = 5;
}

/* Units compared as wholes: the pointers and the model's own fields aside. */
static void assert_unit_equal(const struct fig_unit *a, const struct fig_unit *b)
{
	struct fig_unit x = *a, y = *b;

	assert_string_equal(a->name, b->name);
	assert_int_equal(a->n_exes, b->n_exes);
	assert_int_equal(a->n_kill_counts, b->n_kill_counts);
	x.exes = y.exes = NULL;
	x.kill_counts = y.kill_counts = NULL;
	x.cap_exes = y.cap_exes = x.cap_kill_counts = y.cap_kill_counts = 0;
	x.track_plus1 = y.track_plus1 = 0;
	assert_memory_equal(&x, &y, sizeof(x));
	for (uint32_t i = 0; i < a->n_exes; i++) {
		struct fig_exe e = a->exes[i], f = b->exes[i];

		e.track_plus1 = f.track_plus1 = 0;
		assert_string_equal(e.path, f.path);
		assert_memory_equal(&e, &f, sizeof(e));
	}
	assert_memory_equal(a->kill_counts, b->kill_counts,
			    sizeof(*a->kill_counts) * a->n_kill_counts);
}

static void assert_state_equal(const struct fig_state *a, const struct fig_state *b)
{
	assert_int_equal(a->written_ms, b->written_ms);
	assert_int_equal(a->interval_ms, b->interval_ms);
	assert_memory_equal(a->lost, b->lost, sizeof(a->lost));
	assert_int_equal(a->units_unnamed, b->units_unnamed);
	assert_int_equal(a->boots_dropped, b->boots_dropped);
	assert_int_equal(a->n_boots, b->n_boots);
	for (uint32_t i = 0; i < a->n_boots; i++) {
		const struct fig_boot *x = &a->boots[i], *y = &b->boots[i];

		assert_string_equal(x->boot_id, y->boot_id);
		assert_int_equal(x->first_ms, y->first_ms);
		assert_int_equal(x->last_ms, y->last_ms);
		assert_int_equal(x->units_dropped, y->units_dropped);
		assert_int_equal(x->n_units, y->n_units);
		for (uint32_t j = 0; j < x->n_units; j++)
			assert_unit_equal(&x->units[j], &y->units[j]);
	}
	assert_int_equal(a->n_ooms, b->n_ooms);
	assert_int_equal(a->ooms_dropped, b->ooms_dropped);
	assert_memory_equal(a->ooms, b->ooms, sizeof(*a->ooms) * a->n_ooms);
	assert_int_equal(a->n_kills, b->n_kills);
	assert_int_equal(a->kills_dropped, b->kills_dropped);
	assert_memory_equal(a->kills, b->kills, sizeof(*a->kills) * a->n_kills);
}

static void test_round_trip(void **state)
{
	struct fig_state s, got, again;
	struct db *db;

	(void)state;
	make_state(&s);
	db = open_ok(DB_WRITE, NULL);
	assert_int_equal(db__save_state(db, &s, 1), 0);
	/* Saved twice: nothing doubles (the OOM and kill records are counted, not re-added). */
	assert_int_equal(db__save_state(db, &s, 0), 0);
	db__free(db);
	assert_int_equal(sql_int("SELECT count(*) FROM ooms"), 3);
	assert_int_equal(sql_int("SELECT count(*) FROM kills"), 3);
	assert_int_equal(sql_int("SELECT count(*) FROM units"), 6);
	assert_int_equal(sql_int("PRAGMA user_version"), DB_SCHEMA_VERSION);
	assert_int_equal(sql_int("PRAGMA application_id"), DB_APPLICATION_ID);
	{
		struct stat st;

		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		*strrchr(path, '/') = '\0';
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0700);
		path[strlen(path)] = '/';
	}
	db = open_ok(DB_READ, NULL);
	assert_int_equal(db__load_state(db, &got), 0);
	db__free(db);
	assert_state_equal(&s, &got);

	/* A changed unit is rewritten, and read back changed; the others stay as they were. */
	s.boots[1].units[0].starts = 5000;
	s.boots[1].units[0].exes[1].storms = 77;
	db = open_ok(DB_WRITE, NULL);
	assert_int_equal(db__save_state(db, &s, 1), 0);
	s.boots[1].units[0].execs = 6000;
	assert_int_equal(db__save_state(db, &s, 1), 0);
	assert_int_equal(db__load_state(db, &again), 0);
	db__free(db);
	assert_state_equal(&s, &again);
	fig_state_free(&s);
	fig_state_free(&got);
	fig_state_free(&again);
}

/* An OOM kill stored at once, then the state that holds it saved: one row. */
static void test_oom_once(void **state)
{
	struct fig_state s, got;
	struct fig_oom o;
	struct db *db;

	(void)state;
	fig_state_init(&s);
	memset(&o, 0, sizeof(o));
	o.time_ms = T0;
	snprintf(o.victim.comm, sizeof(o.victim.comm), "hog");
	db = open_ok(DB_WRITE, NULL);
	assert_int_equal(db__add_oom(db, &o), 0);
	assert_int_equal(fig_state_add_oom(&s, &o), 0);
	assert_int_equal(db__save_state(db, &s, 1), 0);
	o.time_ms = T0 + 1;
	assert_int_equal(fig_state_add_oom(&s, &o), 0);
	assert_int_equal(db__save_state(db, &s, 1), 0);
	assert_int_equal(db__load_state(db, &got), 0);
	db__free(db);
	assert_int_equal(sql_int("SELECT count(*) FROM ooms"), 2);
	assert_int_equal(got.n_ooms, 2);
	assert_int_equal(got.ooms[1].time_ms, T0 + 1);
	assert_int_equal(got.ooms_dropped, 0);
	fig_state_free(&s);
	fig_state_free(&got);
}

struct seen {
	int n;
	struct {
		char kind[32], unit[64], subject[64];
		int64_t started, ended;
		double start_ws, peak_ws;
		char exe_text[64];
	} f[8];
};

static void collect(void *ctx, const struct db_finding *f)
{
	struct seen *s = ctx;

	if (s->n >= 8)
		return;
	snprintf(s->f[s->n].kind, 32, "%s", f->kind);
	snprintf(s->f[s->n].unit, 64, "%s", f->unit);
	snprintf(s->f[s->n].subject, 64, "%s", f->subject);
	s->f[s->n].started = f->started_ms;
	s->f[s->n].ended = f->ended_ms;
	for (uint32_t i = 0; i < f->n_start; i++)
		if (strcmp(f->start[i].name, "window_starts") == 0)
			s->f[s->n].start_ws = f->start[i].value;
	for (uint32_t i = 0; i < f->n_peak; i++) {
		if (strcmp(f->peak[i].name, "window_starts") == 0)
			s->f[s->n].peak_ws = f->peak[i].value;
		if (strcmp(f->peak[i].name, "executable") == 0)
			snprintf(s->f[s->n].exe_text, 64, "%s", f->peak[i].text);
	}
	s->n++;
}

static void test_findings_open_close(void **state)
{
	struct db_finding_key k = { .boot_id = "boot-a", .kind = "respawn_storm",
				    .unit = "web1:agetty.service", .machine = "web1",
				    .subject = "/sbin/agetty" };
	struct db_figure start[] = { { .name = "executable", .text = "/sbin/agetty" },
				     { .name = "window_starts", .value = 12 } };
	struct db_figure end[] = { { .name = "executable", .text = "/sbin/agetty" },
				   { .name = "window_starts", .value = 40 } };
	struct db_figure low[] = { { .name = "window_starts", .value = 2 } };
	struct seen seen = { 0 };
	struct db *db;

	(void)state;
	db = open_ok(DB_WRITE, NULL);
	assert_int_equal(db__finding_started(db, &k, T0, start, 2, 12), 0);
	/* The same storm again (a restarted run): still one finding, from the first start. */
	assert_int_equal(db__finding_started(db, &k, T0 + 500, start, 2, 12), 0);
	assert_int_equal(db__each_finding(db, "boot-a", NULL, collect, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.f[0].started, T0);
	assert_int_equal(seen.f[0].ended, 0);
	assert_true(seen.f[0].start_ws == 12 && seen.f[0].peak_ws == 12);
	/* It ends at a higher peak: the peak figures are the end's. */
	assert_int_equal(db__finding_ended(db, &k, T0 + 9000, end, 2, 40), 0);
	assert_int_equal(db__finding_ended(db, &k, T0 + 9001, end, 2, 40), -ENOENT);
	/* A second storm that ends lower than it started keeps its start as the peak. */
	assert_int_equal(db__finding_started(db, &k, T0 + 20000, start, 2, 12), 0);
	assert_int_equal(db__finding_ended(db, &k, T0 + 30000, low, 1, 2), 0);
	/* One left open in an earlier boot is closed at that boot's end. */
	k.boot_id = "boot-old";
	assert_int_equal(db__finding_started(db, &k, T0 - 1000, start, 2, 12), 0);
	sql_exec("INSERT INTO boots(boot_id, seq, first_ms, last_ms, units_dropped) "
		 "VALUES('boot-old', 0, 0, 1793491199500, 0)");
	assert_int_equal(db__close_stale_findings(db, "boot-a"), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(db__each_finding(db, "boot-a", NULL, collect, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.f[0].kind, "respawn_storm");
	assert_string_equal(seen.f[0].unit, "web1:agetty.service");
	assert_string_equal(seen.f[0].subject, "/sbin/agetty");
	assert_int_equal(seen.f[0].ended, T0 + 9000);
	assert_true(seen.f[0].start_ws == 12 && seen.f[0].peak_ws == 40);
	assert_string_equal(seen.f[0].exe_text, "/sbin/agetty");
	assert_int_equal(seen.f[1].ended, T0 + 30000);
	assert_true(seen.f[1].peak_ws == 12);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(db__each_finding(db, "boot-old", NULL, collect, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.f[0].ended, T0 - 500);
	db__free(db);
	assert_int_equal(sql_int("SELECT machine = 'web1' FROM findings LIMIT 1"), 1);
}

/* One unit whose starts go up by one a second; rss by 1 KiB a second. */
static void add_seconds(struct db *db, struct fig_boot *b, int64_t from_s, int64_t to_s)
{
	struct fig_unit *u = fig_boot_unit(b, "tick.service");

	for (int64_t t = from_s; t < to_s; t++) {
		u->starts = (uint64_t)t;
		u->mem.rss_anon_kib = (uint64_t)(t % 600);
		assert_int_equal(db__add_sample_series(db, b, T0 + t * 1000), 0);
	}
}

static void test_series_downsampling(void **state)
{
	struct fig_state s;
	struct fig_boot *b;
	struct fig_unit *quiet;
	struct db_losses l;
	struct db *db;

	(void)state;
	fig_state_init(&s);
	b = fig_state_boot(&s, "boot-a");
	quiet = fig_boot_unit(b, "quiet.service");
	quiet->starts = 1;
	db = open_ok(DB_WRITE, NULL);
	add_seconds(db, b, 0, 180);
	/* Unchanged units write no row: the quiet one has one, from its first sample. */
	assert_int_equal(sql_int("SELECT count(*) FROM series s JOIN units u ON s.unit_id = u.id "
				 "WHERE u.name = 'quiet.service'"), 1);
	assert_int_equal(sql_int("SELECT count(*) FROM series WHERE res = 0"), 181);
	/* Within 24 h nothing is folded. */
	assert_int_equal(db__maintain(db, T0 + DAY_MS - MIN_MS), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM series WHERE res = 0"), 181);
	/* A day later: 3 one-minute buckets of tick (+1 of quiet), each with its last counters. */
	assert_int_equal(db__maintain(db, T0 + DAY_MS + 10 * MIN_MS), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM series WHERE res = 0"), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM series WHERE res = 1"), 4);
	assert_int_equal(sql_int("SELECT group_concat(starts) = '59,119,179' FROM (SELECT s.starts "
				 "FROM series s JOIN units u ON s.unit_id = u.id WHERE "
				 "u.name = 'tick.service' AND res = 1 ORDER BY t_ms)"), 1);
	assert_int_equal(sql_int("SELECT max(starts) FROM series WHERE res = 1 AND t_ms = "
				 "1793491200000 + 120000"), 179);
	assert_int_equal(sql_int("SELECT max(rss_anon_kib) FROM series WHERE res = 1 AND t_ms = "
				 "1793491200000 + 60000"), 119);
	/* A week later: one ten-minute bucket. */
	assert_int_equal(db__maintain(db, T0 + 7 * DAY_MS + 20 * MIN_MS), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM series WHERE res = 1"), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM series WHERE res = 2 AND starts = 179 AND "
				 "t_ms = 1793491200000"), 1);
	db__losses(db, &l);
	assert_int_equal(l.rows_dropped, 0);
	/* Past --retain (90 days): gone, and counted. */
	assert_int_equal(db__maintain(db, T0 + 91 * DAY_MS), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM series"), 0);
	db__losses(db, &l);
	assert_int_equal(l.rows_dropped, 2);
	assert_int_equal(l.write_failures, 0);
	/* The totals stay. */
	assert_int_equal(sql_int("SELECT count(*) FROM units"), 2);
	db__free(db);
	fig_state_free(&s);
}

static void test_retain_option(void **state)
{
	struct db_opts o = { .retain_ms = 2 * DAY_MS };
	struct fig_state s;
	struct db_losses l;
	struct db *db;

	(void)state;
	fig_state_init(&s);
	db = open_ok(DB_WRITE, &o);
	add_seconds(db, fig_state_boot(&s, "boot-a"), 0, 10);
	assert_int_equal(db__maintain(db, T0 + 2 * DAY_MS + MIN_MS), 0);
	db__losses(db, &l);
	assert_int_equal(l.rows_dropped, 1); /* the one 1-minute bucket the 10 s made */
	assert_int_equal(sql_int("SELECT count(*) FROM series"), 0);
	db__free(db);
	fig_state_free(&s);
}

/* Many units and samples under a 1 MiB cap: the oldest go, the newest and the totals stay. */
static void test_size_cap(void **state)
{
	struct db_opts o = { .max_bytes = 1 << 20 };
	struct fig_state s;
	struct fig_boot *b;
	struct db_losses l;
	struct db *db;
	int64_t t = 0;

	(void)state;
	fig_state_init(&s);
	b = fig_state_boot(&s, "boot-a");
	for (int i = 0; i < 300; i++) {
		char name[32];

		snprintf(name, sizeof(name), "churn-%d.service", i);
		assert_non_null(fig_boot_unit(b, name));
	}
	db = open_ok(DB_WRITE, &o);
	assert_int_equal(db__save_state(db, &s, 1), 0);
	/* Maintained every 5 samples (1,500 rows), as run does every --state-interval. */
	for (int round = 0; round < 80; round++) {
		for (int k = 0; k < 5; k++, t++) {
			for (uint32_t i = 0; i < b->n_units; i++)
				b->units[i].execs++;
			assert_int_equal(db__add_sample_series(db, b, T0 + t * 1000), 0);
		}
		assert_int_equal(db__maintain(db, T0 + t * 1000), 0);
		assert_true(db__used_bytes(db) <= (1 << 20));
	}
	db__losses(db, &l);
	assert_true(l.rows_dropped > 0);
	/* Nothing dropped is newer than anything kept. */
	assert_int_equal(sql_int("SELECT max(t_ms) FROM series"), T0 + (t - 1) * 1000);
	assert_int_equal(sql_int("SELECT count(*) FROM series WHERE t_ms = (SELECT max(t_ms) FROM "
				 "series)"), 300);
	assert_int_equal(sql_int("SELECT count(*) FROM series") + (int64_t)l.rows_dropped, 300 * t);
	assert_int_equal(sql_int("SELECT count(*) FROM units"), 300);
	db__free(db);
	{
		struct stat st;

		assert_int_equal(stat(path, &st), 0);
		assert_true(st.st_size <= (1 << 20));
	}
	fig_state_free(&s);
}

static void write_bytes(const char *p, const void *buf, size_t n)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
}

static void expect_refused(enum db_mode mode, int want_errno, const char *want_text)
{
	char err[256] = "";
	struct db *db = db__open(path, mode, NULL, err, sizeof(err));

	if (db)
		fail_msg("%s opened; wanted %s", path, want_text);
	assert_int_equal(errno, want_errno);
	if (!strstr(err, want_text))
		fail_msg("message '%s' lacks '%s'", err, want_text);
}

static void test_bad_files(void **state)
{
	char buf[8192], aside[PATH_MAX], name[PATH_MAX + 16];
	struct fig_state s;
	struct db *db;
	struct stat st;
	FILE *f;

	(void)state;
	expect_refused(DB_READ, ENOENT, "No such file");
	/* Garbage. */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7919 + 13);
	db = open_ok(DB_WRITE, NULL); /* makes the directory */
	db__free(db);
	write_bytes(path, buf, sizeof(buf));
	expect_refused(DB_READ, EBADMSG, "not an rcatrace database or corrupt");
	expect_refused(DB_WRITE, EBADMSG, "not an rcatrace database or corrupt");
	/* Set aside: renamed whole, the path free for a fresh one. */
	assert_int_equal(db__set_aside(path, aside, sizeof(aside)), 0);
	snprintf(name, sizeof(name), "%s.corrupt", path);
	assert_string_equal(aside, name);
	assert_int_equal(stat(name, &st), 0);
	assert_int_equal(st.st_size, sizeof(buf));
	assert_int_equal(stat(path, &st), -1);
	/* Empty: a reader refuses it, a writer makes a database of it. */
	write_bytes(path, "", 0);
	expect_refused(DB_READ, EBADMSG, "not an rcatrace database (empty)");
	db = open_ok(DB_WRITE, NULL);
	make_state(&s);
	assert_int_equal(db__save_state(db, &s, 1), 0);
	fig_state_free(&s);
	db__free(db);
	/* Truncated to half: quick_check finds the pages missing. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size / 2), 0);
	expect_refused(DB_READ, EBADMSG, "corrupt");
	unlink(path);
	/* Another program's SQLite database. */
	sql_exec("CREATE TABLE notes(t TEXT); INSERT INTO notes VALUES('mine');");
	expect_refused(DB_READ, EBADMSG, "not an rcatrace database (another SQLite database)");
	expect_refused(DB_WRITE, EBADMSG, "not an rcatrace database (another SQLite database)");
	unlink(path);
	/* A newer rcatrace's: refused, and left as it is. */
	db = open_ok(DB_WRITE, NULL);
	db__free(db);
	sql_exec("PRAGMA user_version=99");
	expect_refused(DB_READ, EPROTONOSUPPORT, "made by a newer rcatrace (schema 99");
	expect_refused(DB_WRITE, EPROTONOSUPPORT, "made by a newer rcatrace");
	assert_int_equal(sql_int("PRAGMA user_version"), 99);
	unlink(path);
	/* A directory. */
	assert_int_equal(mkdir(path, 0700), 0);
	expect_refused(DB_READ, EISDIR, "Is a directory");
	rmdir(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

/* A schema-1 database (no findings, no machine rows), made by hand: read as it is, upgraded by a writer. */
static void test_upgrade(void **state)
{
	struct fig_state s, got;
	struct seen seen = { 0 };
	struct db_finding_key k = { .boot_id = "boot-b", .kind = "leak_suspect", .unit = "u0.service" };
	struct db_figure fig = { .name = "rss_kib", .value = 1 };
	struct db *db;

	(void)state;
	unlink(path);
	make_state(&s);
	db = open_ok(DB_WRITE, NULL);
	assert_int_equal(db__save_state(db, &s, 1), 0);
	db__free(db);
	sql_exec("DROP TABLE finding_figures; DROP TABLE findings; DROP TABLE machine_series; "
		 "DROP TABLE oom_churn; ALTER TABLE units DROP COLUMN kernel_bytes; "
		 "ALTER TABLE units DROP COLUMN count; ALTER TABLE series DROP COLUMN memcg_kib; "
		 "ALTER TABLE series DROP COLUMN kernel_kib; ALTER TABLE series DROP COLUMN count; "
		 "PRAGMA user_version=1;");
	assert_int_equal(sql_int("SELECT count(*) FROM sqlite_master WHERE name = 'findings'"), 0);
	/* A reader reads it as it is, and writes nothing. */
	db = open_ok(DB_READ, NULL);
	assert_int_equal(db__load_state(db, &got), 0);
	assert_int_equal(db__each_finding(db, "boot-b", NULL, collect, &seen), 0);
	assert_int_equal(seen.n, 0);
	db__free(db);
	assert_state_equal(&s, &got);
	fig_state_free(&got);
	assert_int_equal(sql_int("PRAGMA user_version"), 1);
	/* A writer upgrades it, keeping what it held. */
	db = open_ok(DB_WRITE, NULL);
	assert_int_equal(sql_int("PRAGMA user_version"), DB_SCHEMA_VERSION);
	assert_int_equal(db__finding_started(db, &k, T0, &fig, 1, 1), 0);
	assert_int_equal(db__load_state(db, &got), 0);
	assert_int_equal(db__each_finding(db, "boot-b", NULL, collect, &seen), 0);
	assert_int_equal(seen.n, 1);
	db__free(db);
	assert_state_equal(&s, &got);
	fig_state_free(&got);
	fig_state_free(&s);
}

/* ---- the machine's rows ---------------------------------------------------- */

struct machine_rows {
	int n;
	struct db_machine_point m[16];
};

static int collect_machine(void *ctx, const struct db_machine_point *m)
{
	struct machine_rows *r = ctx;

	if (r->n < 16)
		r->m[r->n] = *m;
	r->n++;
	return 0;
}

/* 16 GiB, half of it used; one figure unknown. */
static struct db_machine_point machine_point(int64_t available_kib)
{
	return (struct db_machine_point){ .mem_total_kib = 16777216,
					  .mem_available_kib = available_kib,
					  .slab_kib = 1000,
					  .sunreclaim_kib = -1,
					  .kernel_stack_kib = 2000,
					  .page_tables_kib = 3000,
					  .percpu_kib = 400,
					  .dying_cgroups = 7 };
}

/*
 * A machine row rides along with a sample that writes a unit's row; alone,
 * only when used memory moved by more than 1/64 or 60 s passed. Read back
 * with its values, an unknown as -1, in time order, by range.
 */
static void test_machine_rows(void **state)
{
	struct db_machine_point m = machine_point(8388608);
	struct db_range r = { .since_ms = T0 + 60000, .until_ms = T0 + 61000 };
	struct machine_rows got = { 0 };
	struct fig_state s;
	struct fig_boot *b;
	struct fig_unit *u;
	struct db *db;

	(void)state;
	fig_state_init(&s);
	b = fig_state_boot(&s, "boot-a");
	u = fig_boot_unit(b, "quiet.service");
	u->starts = 1;
	db = open_ok(DB_WRITE, NULL);
	/* The first sample writes the unit's row and the machine's. */
	assert_int_equal(db__add_sample(db, b, &m, T0), 0);
	/* 100000 KiB more used: under 1/64 of ~8.1 GiB (131072 KiB), within a minute: no row. */
	m.mem_available_kib -= 100000;
	assert_int_equal(db__add_sample(db, b, &m, T0 + 10000), 0);
	assert_int_equal(db__add_sample(db, b, &m, T0 + 59999), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM machine_series"), 1);
	/* A minute after the last row: written, quiet or not. */
	assert_int_equal(db__add_sample(db, b, &m, T0 + 60000), 0);
	/* 200000 KiB more used than that row: past 1/64, written at once. */
	m.mem_available_kib -= 200000;
	assert_int_equal(db__add_sample(db, b, &m, T0 + 61000), 0);
	/* A unit's row is written anyway: the machine's rides along, unmoved. */
	u->starts = 2;
	assert_int_equal(db__add_sample(db, b, &m, T0 + 62000), 0);
	/* Nothing changed: nothing written. */
	assert_int_equal(db__add_sample(db, b, &m, T0 + 63000), 0);
	/* No machine point: the units' rows only. */
	u->starts = 3;
	assert_int_equal(db__add_sample(db, b, NULL, T0 + 64000), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM machine_series"), 4);
	assert_int_equal(sql_int("SELECT count(*) FROM series"), 3);
	/* Memory freed counts as moved too: 400000 KiB less used, past 1/64, written at once. */
	m.mem_available_kib += 400000;
	assert_int_equal(db__add_sample(db, b, &m, T0 + 65000), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM machine_series"), 5);
	assert_int_equal(sql_int("SELECT mem_available_kib FROM machine_series WHERE t_ms = "
				 "1793491265000"), 8488608);

	assert_int_equal(db__each_machine_point(db, NULL, collect_machine, &got), 0);
	assert_int_equal(got.n, 5);
	assert_int_equal(got.m[0].t_ms, T0);
	assert_int_equal(got.m[1].t_ms, T0 + 60000);
	assert_int_equal(got.m[2].t_ms, T0 + 61000);
	assert_int_equal(got.m[3].t_ms, T0 + 62000);
	assert_int_equal(got.m[0].mem_total_kib, 16777216);
	assert_int_equal(got.m[0].mem_available_kib, 8388608);
	assert_int_equal(got.m[1].mem_available_kib, 8288608);
	assert_int_equal(got.m[2].mem_available_kib, 8088608);
	assert_int_equal(got.m[0].slab_kib, 1000);
	assert_int_equal(got.m[0].sunreclaim_kib, -1);
	assert_int_equal(got.m[0].kernel_stack_kib, 2000);
	assert_int_equal(got.m[0].page_tables_kib, 3000);
	assert_int_equal(got.m[0].percpu_kib, 400);
	assert_int_equal(got.m[0].dying_cgroups, 7);
	/* Unknown is stored as NULL, as an operator's query sees it. */
	assert_int_equal(sql_int("SELECT count(*) FROM machine_series WHERE sunreclaim_kib IS NULL"), 5);

	/* A range, both ends inclusive. */
	memset(&got, 0, sizeof(got));
	assert_int_equal(db__each_machine_point(db, &r, collect_machine, &got), 0);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.m[0].t_ms, T0 + 60000);
	assert_int_equal(got.m[1].t_ms, T0 + 61000);
	db__free(db);
	fig_state_free(&s);
}

/* A machine whose total or available memory is unknown: rows by the minute only, read back as -1. */
static void test_machine_rows_unknown(void **state)
{
	struct db_machine_point m = { .mem_total_kib = -1, .mem_available_kib = -1, .slab_kib = -1,
				      .sunreclaim_kib = -1, .kernel_stack_kib = -1,
				      .page_tables_kib = -1, .percpu_kib = -1, .dying_cgroups = -1 };
	struct machine_rows got = { 0 };
	struct fig_state s;
	struct db *db;

	(void)state;
	fig_state_init(&s);
	db = open_ok(DB_WRITE, NULL);
	for (int64_t t = 0; t <= 120000; t += 10000)
		assert_int_equal(db__add_sample(db, fig_state_boot(&s, "boot-a"), &m, T0 + t), 0);
	assert_int_equal(db__each_machine_point(db, NULL, collect_machine, &got), 0);
	assert_int_equal(got.n, 3); /* at 0, 60 and 120 s */
	assert_int_equal(got.m[2].t_ms, T0 + 120000);
	assert_int_equal(got.m[2].mem_total_kib, -1);
	assert_int_equal(got.m[2].mem_available_kib, -1);
	assert_int_equal(got.m[2].dying_cgroups, -1);
	db__free(db);
	fig_state_free(&s);
}

/* ---- series, read back ------------------------------------------------------ */

struct series_seen {
	int calls;
	int stop_at; /* return -42 on this call (1-based); 0: never */
	const char *skip;
	struct {
		char boot[FIG_BOOT_ID_MAX], unit[FIG_UNIT_NAME_MAX];
		uint32_t n;
		int64_t t[8];
		uint64_t starts[8], rss_anon[8], execs[8];
	} s[8];
};

static int want_unit(void *ctx, const char *unit)
{
	struct series_seen *seen = ctx;

	return !seen->skip || strcmp(unit, seen->skip) != 0;
}

static int collect_series(void *ctx, const struct db_series *ser)
{
	struct series_seen *seen = ctx;
	int i = seen->calls++;

	if (i < 8) {
		snprintf(seen->s[i].boot, sizeof(seen->s[i].boot), "%s", ser->boot_id);
		snprintf(seen->s[i].unit, sizeof(seen->s[i].unit), "%s", ser->unit);
		seen->s[i].n = ser->n;
		for (uint32_t k = 0; k < ser->n && k < 8; k++) {
			seen->s[i].t[k] = ser->p[k].t_ms;
			seen->s[i].starts[k] = ser->p[k].starts;
			seen->s[i].rss_anon[k] = ser->p[k].rss_anon_kib;
			seen->s[i].execs[k] = ser->p[k].execs;
		}
	}
	return seen->calls == seen->stop_at ? -42 : 0;
}

/*
 * Boot a: a.service changes every second, web1:b.service at 0 and 2 s,
 * c.service once; boot b: a.service again, 10 s later.
 */
static struct db *series_store(struct fig_state *s)
{
	struct fig_boot *a, *b;
	struct db *db = open_ok(DB_WRITE, NULL);

	fig_state_init(s);
	a = fig_state_boot(s, "boot-a");
	for (int t = 0; t < 3; t++) {
		struct fig_unit *u = fig_boot_unit(a, "a.service");

		u->starts = 10 + (uint64_t)t;
		u->mem.rss_anon_kib = 100 * (uint64_t)(t + 1);
		u = fig_boot_unit(a, "web1:b.service");
		u->execs = t == 2 ? 7 : 5;
		fig_boot_unit(a, "c.service")->forks = 1;
		assert_int_equal(db__add_sample_series(db, a, T0 + t * 1000), 0);
	}
	b = fig_state_boot(s, "boot-b");
	fig_boot_unit(b, "a.service")->starts = 1;
	assert_int_equal(db__add_sample_series(db, b, T0 + 10000), 0);
	return db;
}

/* Every unit of every boot, in the order first stored; each series oldest first, with its values. */
static void test_each_series(void **state)
{
	struct series_seen seen = { 0 };
	struct fig_state s;
	struct db *db;

	(void)state;
	db = series_store(&s);
	assert_int_equal(db__each_series(db, NULL, NULL, collect_series, &seen), 0);
	assert_int_equal(seen.calls, 4);
	assert_string_equal(seen.s[0].boot, "boot-a");
	assert_string_equal(seen.s[0].unit, "a.service");
	assert_int_equal(seen.s[0].n, 3);
	assert_int_equal(seen.s[0].t[0], T0);
	assert_int_equal(seen.s[0].t[1], T0 + 1000);
	assert_int_equal(seen.s[0].t[2], T0 + 2000);
	assert_int_equal(seen.s[0].starts[0], 10);
	assert_int_equal(seen.s[0].starts[2], 12);
	assert_int_equal(seen.s[0].rss_anon[1], 200);
	/* Only the samples in which it changed. */
	assert_string_equal(seen.s[1].unit, "web1:b.service");
	assert_int_equal(seen.s[1].n, 2);
	assert_int_equal(seen.s[1].t[0], T0);
	assert_int_equal(seen.s[1].t[1], T0 + 2000);
	assert_int_equal(seen.s[1].execs[1], 7);
	assert_string_equal(seen.s[2].unit, "c.service");
	assert_int_equal(seen.s[2].n, 1);
	/* The same name in another boot is a series of its own. */
	assert_string_equal(seen.s[3].boot, "boot-b");
	assert_string_equal(seen.s[3].unit, "a.service");
	assert_int_equal(seen.s[3].n, 1);
	assert_int_equal(seen.s[3].starts[0], 1);
	db__free(db);
	fig_state_free(&s);
}

/*
 * Memory that wanders by a little is written once a minute, not every sample;
 * a counter's change, or a move of more than 1/64, at once.
 */
static void test_series_wander(void **state)
{
	struct series_seen seen = { 0 };
	struct fig_state s;
	struct fig_boot *b;
	struct fig_unit *u;
	struct db *db = open_ok(DB_WRITE, NULL);

	(void)state;
	fig_state_init(&s);
	b = fig_state_boot(&s, "boot-a");
	u = fig_boot_unit(b, "daemon.service");
	for (int t = 0; t < 110; t++) {
		/* 64 MiB, wandering by 4 KiB each second (1/64 would be 1 MiB). */
		u->mem.rss_anon_kib = 65536 + (t % 2) * 4;
		if (t == 30)
			u->starts++; /* a counter: written at once */
		if (t == 40 || t == 41)
			u->mem.rss_anon_kib += 2048; /* more than 1/64 up at 40, back down at 42 */
		assert_int_equal(db__add_sample_series(db, b, T0 + t * 1000), 0);
	}
	assert_int_equal(db__each_series(db, NULL, NULL, collect_series, &seen), 0);
	assert_int_equal(seen.calls, 1);
	/*
	 * The first; the start; up 2 MiB; down again; then the wander, once a
	 * minute after that (at 102 s it is where it was written at 42 s: the
	 * first changed value after the minute, at 103 s).
	 */
	assert_int_equal(seen.s[0].n, 5);
	assert_int_equal(seen.s[0].t[1], T0 + 30000);
	assert_int_equal(seen.s[0].t[2], T0 + 40000);
	assert_int_equal(seen.s[0].t[3], T0 + 42000);
	assert_int_equal(seen.s[0].t[4], T0 + 103000);
	db__free(db);
	fig_state_free(&s);
}

/* want skips a unit; a range keeps the rows within it (inclusive) and the units with rows there. */
static void test_each_series_filters(void **state)
{
	struct db_range r = { .since_ms = T0 + 1000, .until_ms = T0 + 2000 };
	struct db_range late = { .since_ms = T0 + 5000 };
	struct series_seen seen = { .skip = "web1:b.service" };
	struct fig_state s;
	struct db *db;

	(void)state;
	db = series_store(&s);
	assert_int_equal(db__each_series(db, NULL, want_unit, collect_series, &seen), 0);
	assert_int_equal(seen.calls, 3);
	assert_string_equal(seen.s[0].unit, "a.service");
	assert_string_equal(seen.s[1].unit, "c.service");
	assert_string_equal(seen.s[2].unit, "a.service");
	assert_string_equal(seen.s[2].boot, "boot-b");

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(db__each_series(db, &r, NULL, collect_series, &seen), 0);
	assert_int_equal(seen.calls, 2); /* c.service has no row in it, boot b's is later */
	assert_string_equal(seen.s[0].unit, "a.service");
	assert_int_equal(seen.s[0].n, 2);
	assert_int_equal(seen.s[0].t[0], T0 + 1000);
	assert_int_equal(seen.s[0].t[1], T0 + 2000);
	assert_string_equal(seen.s[1].unit, "web1:b.service");
	assert_int_equal(seen.s[1].n, 1);
	assert_int_equal(seen.s[1].t[0], T0 + 2000);

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(db__each_series(db, &late, NULL, collect_series, &seen), 0);
	assert_int_equal(seen.calls, 1);
	assert_string_equal(seen.s[0].boot, "boot-b");
	db__free(db);
	fig_state_free(&s);
}

/* A callback's negative return stops the walk and is returned. */
static void test_each_series_stops(void **state)
{
	struct series_seen seen = { .stop_at = 2 };
	struct fig_state s;
	struct db *db;

	(void)state;
	db = series_store(&s);
	assert_int_equal(db__each_series(db, NULL, NULL, collect_series, &seen), -42);
	assert_int_equal(seen.calls, 2);
	db__free(db);
	fig_state_free(&s);
}

/* ---- findings: the peak while open, reading across boots and ranges ---------- */

/* The peak figures rise only with a higher measure; the finding stays open; none open: -ENOENT. */
static void test_finding_peak(void **state)
{
	struct db_finding_key k = { .boot_id = "boot-a", .kind = "respawn_storm",
				    .unit = "agetty.service", .subject = "/sbin/agetty" };
	struct db_finding_key other = k;
	struct db_figure start[] = { { .name = "window_starts", .value = 12 } };
	struct db_figure lower[] = { { .name = "window_starts", .value = 10 } };
	struct db_figure higher[] = { { .name = "window_starts", .value = 30 },
				      { .name = "executable", .text = "/sbin/agetty" } };
	struct seen seen = { 0 };
	struct db_losses l;
	struct db *db;

	(void)state;
	db = open_ok(DB_WRITE, NULL);
	assert_int_equal(db__finding_started(db, &k, T0, start, 1, 12), 0);
	/* Lower: kept as it was. */
	assert_int_equal(db__finding_peak(db, &k, lower, 1, 10), 0);
	assert_int_equal(db__each_finding(db, "boot-a", NULL, collect, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_true(seen.f[0].peak_ws == 12);
	assert_true(seen.f[0].start_ws == 12);
	assert_int_equal(sql_int("SELECT peak_measure FROM findings"), 12);
	/* Higher: the peak figures are replaced, the start's kept, and it is still open. */
	assert_int_equal(db__finding_peak(db, &k, higher, 2, 30), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(db__each_finding(db, "boot-a", NULL, collect, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_true(seen.f[0].peak_ws == 30);
	assert_true(seen.f[0].start_ws == 12);
	assert_string_equal(seen.f[0].exe_text, "/sbin/agetty");
	assert_int_equal(seen.f[0].ended, 0);
	assert_int_equal(sql_int("SELECT peak_measure FROM findings"), 30);
	assert_int_equal(sql_int("SELECT count(*) FROM finding_figures WHERE phase = 1"), 2);
	assert_int_equal(sql_int("SELECT count(*) FROM findings WHERE ended_ms IS NULL"), 1);
	/* Equal is not higher. */
	assert_int_equal(db__finding_peak(db, &k, lower, 1, 30), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM finding_figures WHERE phase = 1"), 2);
	/* No such finding open: another unit, or this one once ended. */
	other.unit = "other.service";
	assert_int_equal(db__finding_peak(db, &other, higher, 2, 99), -ENOENT);
	assert_int_equal(db__finding_ended(db, &k, T0 + 5000, lower, 1, 10), 0);
	assert_int_equal(db__finding_peak(db, &k, higher, 2, 99), -ENOENT);
	assert_int_equal(sql_int("SELECT peak_measure FROM findings"), 30);
	/* -ENOENT is not a write failure. */
	db__losses(db, &l);
	assert_int_equal(l.write_failures, 0);
	db__free(db);
}

/*
 * Four findings over two boots: 1 (boot a) 0..10 s, 2 (boot a) 50..60 s,
 * 3 (boot b) from 100 s and still open, 4 (boot b) 200..210 s.
 */
static struct db *findings_store(void)
{
	struct db_figure fig = { .name = "window_starts", .value = 1 };
	struct db_finding_key k = { .boot_id = "boot-a", .kind = "respawn_storm", .subject = "" };
	struct db *db = open_ok(DB_WRITE, NULL);

	k.unit = "one.service";
	assert_int_equal(db__finding_started(db, &k, T0, &fig, 1, 1), 0);
	assert_int_equal(db__finding_ended(db, &k, T0 + 10000, &fig, 1, 1), 0);
	k.unit = "two.service";
	assert_int_equal(db__finding_started(db, &k, T0 + 50000, &fig, 1, 1), 0);
	assert_int_equal(db__finding_ended(db, &k, T0 + 60000, &fig, 1, 1), 0);
	k.boot_id = "boot-b";
	k.unit = "three.service";
	assert_int_equal(db__finding_started(db, &k, T0 + 100000, &fig, 1, 1), 0);
	k.unit = "four.service";
	assert_int_equal(db__finding_started(db, &k, T0 + 200000, &fig, 1, 1), 0);
	assert_int_equal(db__finding_ended(db, &k, T0 + 210000, &fig, 1, 1), 0);
	return db;
}

/* The units of what came back, joined by spaces. */
static const char *units_of(const struct seen *seen)
{
	static char buf[256];

	buf[0] = '\0';
	for (int i = 0; i < seen->n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? " " : "",
			 seen->f[i].unit);
	return buf;
}

struct finding_range_case {
	const char *boot;
	struct db_range r;
	const char *want;
};

/* boot NULL: every boot's; a range keeps those open at some time in it, its ends inclusive. */
static void test_each_finding_range(void **state)
{
	static const struct finding_range_case cases[] = {
		{ NULL, { 0, 0 }, "one.service two.service three.service four.service" },
		/* One ended before since, four started after until; three is open. */
		{ NULL, { T0 + 20000, T0 + 150000 }, "two.service three.service" },
		{ "boot-b", { T0 + 20000, T0 + 150000 }, "three.service" },
		{ "boot-a", { 0, 0 }, "one.service two.service" },
		/* Touching ends count: one ended at 10 s, four started at 200 s. */
		{ NULL, { T0 + 10000, T0 + 200000 },
		  "one.service two.service three.service four.service" },
		/* Long after all ended: only the open one. */
		{ NULL, { T0 + 300000, 0 }, "three.service" },
		/* Before anything started: none. */
		{ NULL, { 0, T0 - 1 }, "" },
	};
	struct db *db;

	(void)state;
	db = findings_store();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen seen = { 0 };

		assert_int_equal(db__each_finding(db, cases[i].boot, &cases[i].r, collect, &seen), 0);
		if (strcmp(units_of(&seen), cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, units_of(&seen), cases[i].want);
	}
	/* Open or ended, as stored. */
	{
		struct seen seen = { 0 };

		assert_int_equal(db__each_finding(db, NULL, NULL, collect, &seen), 0);
		assert_int_equal(seen.f[0].started, T0);
		assert_int_equal(seen.f[0].ended, T0 + 10000);
		assert_int_equal(seen.f[2].started, T0 + 100000);
		assert_int_equal(seen.f[2].ended, 0);
	}
	db__free(db);
}

/* ---- kill records and OOM kills ------------------------------------------- */

static struct fig_kill kill_at(int64_t t_ms, uint32_t n_lineage)
{
	struct fig_kill k;

	memset(&k, 0, sizeof(k));
	k.time_ms = t_ms;
	snprintf(k.boot_id, sizeof(k.boot_id), "boot-a");
	k.signal = 15;
	k.sender.pid = 1;
	snprintf(k.sender.comm, sizeof(k.sender.comm), "systemd");
	snprintf(k.sender.unit, sizeof(k.sender.unit), "init.scope");
	k.target.pid = 4242;
	snprintf(k.target.comm, sizeof(k.target.comm), "victim");
	snprintf(k.target.unit, sizeof(k.target.unit), "web1:victim.service");
	k.n_lineage = n_lineage;
	for (uint32_t d = 0; d < n_lineage; d++) {
		k.lineage[d].pid = 100 + d;
		snprintf(k.lineage[d].comm, sizeof(k.lineage[d].comm), "p%u", d);
	}
	return k;
}

struct records_seen {
	int n;
	int stop_at;
	int64_t t[8];
	uint32_t lineage[8], n_top[8];
	char unit[8][FIG_UNIT_NAME_MAX];
};

static int collect_kill(void *ctx, const struct fig_kill *k)
{
	struct records_seen *r = ctx;

	if (r->n < 8) {
		r->t[r->n] = k->time_ms;
		r->lineage[r->n] = k->n_lineage;
		snprintf(r->unit[r->n], sizeof(r->unit[0]), "%s", k->target.unit);
	}
	return ++r->n == r->stop_at ? -7 : 0;
}

static int collect_oom(void *ctx, const struct fig_oom *o)
{
	struct records_seen *r = ctx;

	if (r->n < 8) {
		r->t[r->n] = o->time_ms;
		r->n_top[r->n] = o->n_top_rss;
		snprintf(r->unit[r->n], sizeof(r->unit[0]), "%s", o->victim.unit);
	}
	return ++r->n == r->stop_at ? -7 : 0;
}

/* A kill stored at once, then the state holding it saved: one row, its lineage once; a newer one added. */
static void test_kill_once(void **state)
{
	struct fig_kill k1 = kill_at(T0 + 10000, 2), k2 = kill_at(T0 + 20000, 1);
	struct db_range r = { .since_ms = T0 + 15000 };
	struct records_seen seen = { 0 };
	struct fig_state s;
	struct db *db;

	(void)state;
	fig_state_init(&s);
	db = open_ok(DB_WRITE, NULL);
	assert_int_equal(db__add_kill(db, &k1), 0);
	assert_int_equal(fig_state_add_kill(&s, &k1), 0);
	assert_int_equal(db__save_state(db, &s, 1), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM kills"), 1);
	assert_int_equal(sql_int("SELECT count(*) FROM kill_lineage"), 2);
	/* A kill the state holds and the store does not: the next save adds it, once. */
	assert_int_equal(fig_state_add_kill(&s, &k2), 0);
	assert_int_equal(db__save_state(db, &s, 0), 0);
	assert_int_equal(db__save_state(db, &s, 0), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM kills"), 2);
	assert_int_equal(sql_int("SELECT count(*) FROM kill_lineage"), 3);
	assert_int_equal(sql_int("SELECT value FROM meta WHERE key = 'kills_recorded'"), 2);

	assert_int_equal(db__each_kill(db, NULL, collect_kill, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.t[0], T0 + 10000);
	assert_int_equal(seen.lineage[0], 2);
	assert_string_equal(seen.unit[0], "web1:victim.service");
	assert_int_equal(seen.t[1], T0 + 20000);
	assert_int_equal(seen.lineage[1], 1);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(db__each_kill(db, &r, collect_kill, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.t[0], T0 + 20000);
	/* The callback's error stops the walk and is returned. */
	memset(&seen, 0, sizeof(seen));
	seen.stop_at = 1;
	assert_int_equal(db__each_kill(db, NULL, collect_kill, &seen), -7);
	assert_int_equal(seen.n, 1);
	db__free(db);
	fig_state_free(&s);
}

/* OOM kills by range, oldest first, with their top units; both ends inclusive. */
static void test_each_oom_range(void **state)
{
	struct db_range r = { .since_ms = T0 + 2000, .until_ms = T0 + 3000 };
	struct records_seen seen = { 0 };
	struct db *db;

	(void)state;
	db = open_ok(DB_WRITE, NULL);
	for (int i = 1; i <= 4; i++) {
		struct fig_oom o;

		memset(&o, 0, sizeof(o));
		o.time_ms = T0 + i * 1000;
		snprintf(o.victim.unit, sizeof(o.victim.unit), "hog%d.service", i);
		o.n_top_rss = (uint32_t)i % 3;
		for (uint32_t t = 0; t < o.n_top_rss; t++)
			snprintf(o.top_rss[t].unit, sizeof(o.top_rss[t].unit), "top%u.service", t);
		assert_int_equal(db__add_oom(db, &o), 0);
	}
	assert_int_equal(db__each_oom(db, &r, collect_oom, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.t[0], T0 + 2000);
	assert_string_equal(seen.unit[0], "hog2.service");
	assert_int_equal(seen.n_top[0], 2);
	assert_int_equal(seen.t[1], T0 + 3000);
	assert_int_equal(seen.n_top[1], 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(db__each_oom(db, NULL, collect_oom, &seen), 0);
	assert_int_equal(seen.n, 4);
	assert_int_equal(seen.t[3], T0 + 4000);
	db__free(db);
}

/* ---- housekeeping of the machine's rows -------------------------------------- */

/*
 * Machine rows folded like the units': a day later into 1-minute buckets
 * (the lowest available memory, the highest of the rest, unknown only when
 * unknown throughout), a week later into 10-minute ones, gone past --retain
 * and counted.
 */
static void test_maintain_machine(void **state)
{
	static const struct {
		int64_t t_s, available, slab, sunreclaim, dying;
	} rows[] = {
		{ 0, 1000, 10, 3, 1 }, { 10, 500, 30, 7, 5 }, { 20, 800, 20, -1, 2 },
		{ 60, 900, 5, -1, 0 },
	};
	struct machine_rows got = { 0 };
	struct fig_state s;
	struct fig_boot *b;
	struct fig_unit *u;
	struct db_losses l;
	struct db *db;

	(void)state;
	fig_state_init(&s);
	b = fig_state_boot(&s, "boot-a");
	u = fig_boot_unit(b, "m.service");
	db = open_ok(DB_WRITE, NULL);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct db_machine_point m = { .mem_total_kib = 2000 + (int64_t)i,
					      .mem_available_kib = rows[i].available,
					      .slab_kib = rows[i].slab,
					      .sunreclaim_kib = rows[i].sunreclaim,
					      .kernel_stack_kib = 1,
					      .page_tables_kib = -1,
					      .percpu_kib = 3,
					      .dying_cgroups = rows[i].dying };

		u->starts = i + 1; /* a unit's row each time: the machine's rides along */
		assert_int_equal(db__add_sample(db, b, &m, T0 + rows[i].t_s * 1000), 0);
	}
	assert_int_equal(sql_int("SELECT count(*) FROM machine_series WHERE res = 0"), 4);
	assert_int_equal(db__maintain(db, T0 + DAY_MS + 10 * MIN_MS), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM machine_series WHERE res = 0"), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM machine_series WHERE res = 1"), 2);
	assert_int_equal(db__each_machine_point(db, NULL, collect_machine, &got), 0);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.m[0].t_ms, T0);
	assert_int_equal(got.m[0].mem_total_kib, 2002);
	assert_int_equal(got.m[0].mem_available_kib, 500);
	assert_int_equal(got.m[0].slab_kib, 30);
	assert_int_equal(got.m[0].sunreclaim_kib, 7);
	assert_int_equal(got.m[0].kernel_stack_kib, 1);
	assert_int_equal(got.m[0].page_tables_kib, -1);
	assert_int_equal(got.m[0].percpu_kib, 3);
	assert_int_equal(got.m[0].dying_cgroups, 5);
	assert_int_equal(got.m[1].t_ms, T0 + MIN_MS);
	assert_int_equal(got.m[1].mem_available_kib, 900);
	assert_int_equal(got.m[1].sunreclaim_kib, -1);
	/* A week later: one 10-minute bucket, the lowest available of both minutes. */
	assert_int_equal(db__maintain(db, T0 + 7 * DAY_MS + 20 * MIN_MS), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM machine_series WHERE res = 1"), 0);
	memset(&got, 0, sizeof(got));
	assert_int_equal(db__each_machine_point(db, NULL, collect_machine, &got), 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.m[0].t_ms, T0);
	assert_int_equal(got.m[0].mem_available_kib, 500);
	assert_int_equal(got.m[0].mem_total_kib, 2003);
	assert_int_equal(got.m[0].slab_kib, 30);
	assert_int_equal(sql_int("SELECT res FROM machine_series"), 2);
	db__losses(db, &l);
	assert_int_equal(l.rows_dropped, 0);
	/* Past --retain: the machine's row and the unit's go, both counted. */
	assert_int_equal(db__maintain(db, T0 + 91 * DAY_MS), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM machine_series"), 0);
	db__losses(db, &l);
	assert_int_equal(l.rows_dropped, 2);
	db__free(db);
	fig_state_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oom_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_findings_open_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_series_downsampling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retain_option, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_machine_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_machine_rows_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_series, setup, teardown),
		cmocka_unit_test_setup_teardown(test_series_wander, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_series_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_series_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finding_peak, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_finding_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_oom_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_maintain_machine, setup, teardown),
	};

	return cmocka_run_group_tests_name("db", tests, NULL, NULL);
}
