// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The store in SQLite. Writes go through statements prepared once and reused,
 * in explicit transactions; the page cache is bounded, so a long run's memory
 * stays flat. WAL with synchronous=NORMAL: a commit survives the death of the
 * process (it is in the OS's page cache) but reaches the disk only at the
 * next fsync, which a commit made with sync (synchronous=FULL for that one
 * transaction) or a checkpoint brings.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"

/* The cap prunes above 9/10 of it, down to 8/10, so it does not prune at every check. */
#define CAP_HIGH(max) ((max) / 10 * 9)
#define CAP_LOW(max) ((max) / 10 * 8)
#define PRUNE_BATCH 5000
/* Page cache per connection, KiB (negative cache_size): bounds our memory whatever the file size. */
#define CACHE_KIB 2000
/* A reader waits this long for a writer's lock (a checkpoint) before it gives up. */
#define BUSY_TIMEOUT_MS 5000

/*
 * The schema, one step per version: a database at user_version v gets steps
 * v.. in one transaction. A released step is never edited: a change is a new
 * step (ALTER TABLE, a new table), so every older database can be upgraded.
 */
static const char *const schema_steps[DB_SCHEMA_VERSION] = {
	/* 1: totals per boot and unit, the time series, OOM kills and kill records. */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE lost(kind INTEGER PRIMARY KEY, count INTEGER NOT NULL);"
	"CREATE TABLE store_losses(what TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO store_losses VALUES('rows_dropped', 0), ('write_failures', 0);"
	"CREATE TABLE boots(boot_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, first_ms INTEGER,"
	" last_ms INTEGER, units_dropped INTEGER);"
	"CREATE TABLE units(id INTEGER PRIMARY KEY, boot_id TEXT NOT NULL, name TEXT NOT NULL,"
	" starts INTEGER DEFAULT 0, forks INTEGER DEFAULT 0, threads INTEGER DEFAULT 0,"
	" execs INTEGER DEFAULT 0, exits INTEGER DEFAULT 0, exits_failed INTEGER DEFAULT 0,"
	" first_ms INTEGER DEFAULT 0, last_ms INTEGER DEFAULT 0, exes_dropped INTEGER DEFAULT 0,"
	" mem_sampled_ms INTEGER DEFAULT 0, rss_anon_kib INTEGER DEFAULT 0,"
	" rss_file_kib INTEGER DEFAULT 0, rss_shmem_kib INTEGER DEFAULT 0,"
	" rss_peak_kib INTEGER DEFAULT 0, growth_kib_per_s REAL, growth_fit_r2 REAL,"
	" growth_window_s REAL, exhaustion_eta_s INTEGER DEFAULT -1,"
	" leak_suspect INTEGER DEFAULT 0, mem_gone INTEGER DEFAULT 0,"
	" memcg_usage_bytes INTEGER DEFAULT -1, memcg_limit_bytes INTEGER DEFAULT -1,"
	" oom_kills INTEGER DEFAULT 0, kills_sent INTEGER DEFAULT 0,"
	" kills_received INTEGER DEFAULT 0, kill_counts_other INTEGER DEFAULT 0,"
	" forks_failed INTEGER DEFAULT 0, fork_errnos_other INTEGER DEFAULT 0,"
	" fork_storm INTEGER DEFAULT 0, fork_storm_since_ms INTEGER DEFAULT 0,"
	" fork_rate_per_s REAL, procs_alive INTEGER DEFAULT -1, pids_current INTEGER DEFAULT -1,"
	" pids_max INTEGER DEFAULT -1, pids_events_max INTEGER DEFAULT -1,"
	" crash_storm INTEGER DEFAULT 0, crash_storm_since_ms INTEGER DEFAULT 0,"
	" crash_storms INTEGER DEFAULT 0, window_crashes INTEGER DEFAULT 0,"
	" UNIQUE(boot_id, name));"
	"CREATE TABLE exes(id INTEGER PRIMARY KEY, unit_id INTEGER NOT NULL, path TEXT NOT NULL,"
	" starts INTEGER, execs INTEGER, exits INTEGER, exits_failed INTEGER,"
	" start_exits INTEGER, start_exits_failed INTEGER, start_lifetime_sum_us INTEGER,"
	" crash_last_ms INTEGER, crash_signal INTEGER, crash_ppid INTEGER, crash_comm TEXT,"
	" crash_parent_comm TEXT, first_start_ms INTEGER, last_start_ms INTEGER,"
	" last_exit_ms INTEGER, gaps INTEGER, gap_sum_ns INTEGER, gap_sumsq_ms2 INTEGER,"
	" lifetime_sum_us INTEGER, status_other INTEGER, respawn_class INTEGER,"
	" storm_since_ms INTEGER, storms INTEGER, lifetime_hist TEXT);"
	/* Rewritten in place at every save: an executable keeps its row, a status its own. */
	"CREATE UNIQUE INDEX exes_unit ON exes(unit_id, path);"
	"CREATE TABLE exe_status(exe_id INTEGER NOT NULL, kind INTEGER, value INTEGER,"
	" count INTEGER);"
	"CREATE UNIQUE INDEX exe_status_exe ON exe_status(exe_id, kind, value);"
	"CREATE TABLE unit_kill_counts(unit_id INTEGER NOT NULL, sender_unit TEXT,"
	" signal INTEGER, by_kernel INTEGER, count INTEGER);"
	"CREATE INDEX unit_kill_counts_unit ON unit_kill_counts(unit_id);"
	"CREATE TABLE unit_fork_errnos(unit_id INTEGER NOT NULL, err INTEGER, count INTEGER);"
	"CREATE INDEX unit_fork_errnos_unit ON unit_fork_errnos(unit_id);"
	/*
	 * One b-tree in time order, no index: a sample appends to its end, so a
	 * commit writes a few pages, not one per unit, nor a second tree's.
	 */
	"CREATE TABLE series(res INTEGER NOT NULL, t_ms INTEGER NOT NULL,"
	" unit_id INTEGER NOT NULL, rss_anon_kib INTEGER, rss_file_kib INTEGER,"
	" rss_shmem_kib INTEGER, starts INTEGER, execs INTEGER, exits INTEGER,"
	" exits_failed INTEGER, forks INTEGER, forks_failed INTEGER, kills_received INTEGER,"
	" PRIMARY KEY(res, t_ms, unit_id)) WITHOUT ROWID;"
	"CREATE TABLE ooms(id INTEGER PRIMARY KEY, time_ms INTEGER, boot_id TEXT,"
	" victim_pid INTEGER, victim_comm TEXT, victim_unit TEXT, oom_constraint TEXT,"
	" memcg TEXT, memcg_limit_bytes INTEGER, memcg_usage_bytes INTEGER,"
	" rss_anon_kib INTEGER, rss_file_kib INTEGER, rss_shmem_kib INTEGER,"
	" oom_score_adj INTEGER, trigger_pid INTEGER, trigger_comm TEXT, trigger_unit TEXT);"
	"CREATE TABLE oom_top(oom_id INTEGER NOT NULL, by_growth INTEGER, rank INTEGER,"
	" unit TEXT, rss_kib INTEGER, growth_kib_per_s REAL);"
	"CREATE INDEX oom_top_oom ON oom_top(oom_id);"
	"CREATE TABLE kills(id INTEGER PRIMARY KEY, time_ms INTEGER, boot_id TEXT,"
	" signal INTEGER, by_kernel INTEGER, result INTEGER, sender_pid INTEGER,"
	" sender_comm TEXT, sender_unit TEXT, target_pid INTEGER, target_comm TEXT,"
	" target_unit TEXT);"
	"CREATE TABLE kill_lineage(kill_id INTEGER NOT NULL, depth INTEGER, pid INTEGER,"
	" comm TEXT, unit TEXT);"
	"CREATE INDEX kill_lineage_kill ON kill_lineage(kill_id);",
	/* 2: findings as intervals, with their figures at the start and at the peak. */
	"CREATE TABLE findings(id INTEGER PRIMARY KEY, boot_id TEXT NOT NULL, kind TEXT NOT NULL,"
	" unit TEXT NOT NULL, machine TEXT NOT NULL DEFAULT '', subject TEXT NOT NULL DEFAULT '',"
	" started_ms INTEGER NOT NULL, ended_ms INTEGER, peak_measure REAL);"
	"CREATE INDEX findings_boot ON findings(boot_id);"
	"CREATE INDEX findings_open ON findings(boot_id, kind, unit, subject) WHERE ended_ms IS NULL;"
	"CREATE TABLE finding_figures(finding_id INTEGER NOT NULL, phase INTEGER NOT NULL,"
	" name TEXT NOT NULL, value REAL, text TEXT);"
	"CREATE INDEX finding_figures_finding ON finding_figures(finding_id);",
	/* 3: the machine's memory beside the units', downsampled like the units' series. */
	"CREATE TABLE machine_series(res INTEGER NOT NULL, t_ms INTEGER NOT NULL,"
	" mem_total_kib INTEGER, mem_available_kib INTEGER, slab_kib INTEGER,"
	" sunreclaim_kib INTEGER, kernel_stack_kib INTEGER, page_tables_kib INTEGER,"
	" percpu_kib INTEGER, dying_cgroups INTEGER, PRIMARY KEY(res, t_ms)) WITHOUT ROWID;"
	/* Memory beyond process RSS: the cgroup's charge and its kernel part; a pseudo-unit's count. */
	"ALTER TABLE units ADD COLUMN kernel_bytes INTEGER DEFAULT -1;"
	"ALTER TABLE units ADD COLUMN count INTEGER DEFAULT -1;"
	"ALTER TABLE series ADD COLUMN memcg_kib INTEGER;"
	"ALTER TABLE series ADD COLUMN kernel_kib INTEGER;"
	"ALTER TABLE series ADD COLUMN count INTEGER;"
	/* What grew with the storms running when memory ran out. */
	"CREATE TABLE oom_churn(oom_id INTEGER NOT NULL, storm_unit TEXT, growing_unit TEXT,"
	" kib_per_start REAL, growth_kib REAL, starts INTEGER);"
	"CREATE INDEX oom_churn_oom ON oom_churn(oom_id);",
};

/*
 * The unit's columns after boot_id and name, in the order bound and read.
 * U: u64 (stored as its i64 bits), I: i64, W: u32, D: double (NaN as NULL).
 */
#define UNIT_COLUMNS(X)                                                              \
	X(starts, u->starts, U) X(forks, u->forks, U) X(threads, u->threads, U)         \
	X(execs, u->execs, U) X(exits, u->exits, U) X(exits_failed, u->exits_failed, U) \
	X(first_ms, u->first_ms, I) X(last_ms, u->last_ms, I)                           \
	X(exes_dropped, u->exes_dropped, U) X(mem_sampled_ms, u->mem.sampled_ms, I)    \
	X(rss_anon_kib, u->mem.rss_anon_kib, U) X(rss_file_kib, u->mem.rss_file_kib, U) \
	X(rss_shmem_kib, u->mem.rss_shmem_kib, U) X(rss_peak_kib, u->mem.rss_peak_kib, U) \
	X(growth_kib_per_s, u->mem.growth_kib_per_s, D)                                 \
	X(growth_fit_r2, u->mem.growth_fit_r2, D)                                       \
	X(growth_window_s, u->mem.growth_window_s, D)                                   \
	X(exhaustion_eta_s, u->mem.exhaustion_eta_s, I)                                 \
	X(leak_suspect, u->mem.leak_suspect, W) X(mem_gone, u->mem.gone, W)             \
	X(memcg_usage_bytes, u->mem.memcg_usage_bytes, I)                               \
	X(memcg_limit_bytes, u->mem.memcg_limit_bytes, I) X(oom_kills, u->oom_kills, U) \
	X(kills_sent, u->kills_sent, U) X(kills_received, u->kills_received, U)         \
	X(kill_counts_other, u->kill_counts_other, U) X(forks_failed, u->forks_failed, U) \
	X(fork_errnos_other, u->fork_errnos_other, U) X(fork_storm, u->fork_storm, W)  \
	X(fork_storm_since_ms, u->fork_storm_since_ms, I)                               \
	X(fork_rate_per_s, u->fork_rate_per_s, D) X(procs_alive, u->procs_alive, I)     \
	X(pids_current, u->pids_current, I) X(pids_max, u->pids_max, I)                 \
	X(pids_events_max, u->pids_events_max, I) X(crash_storm, u->crash_storm, W)     \
	X(crash_storm_since_ms, u->crash_storm_since_ms, I)                             \
	X(crash_storms, u->crash_storms, U) X(window_crashes, u->window_crashes, U)    \
	X(kernel_bytes, u->mem.kernel_bytes, I) X(count, u->mem.count, I)

/* The executable's columns after unit_id and path; lifetime_hist and status apart. */
#define EXE_COLUMNS(X)                                                                \
	X(starts, e->starts, U) X(execs, e->execs, U) X(exits, e->exits, U)              \
	X(exits_failed, e->exits_failed, U) X(start_exits, e->start_exits, U)            \
	X(start_exits_failed, e->start_exits_failed, U)                                  \
	X(start_lifetime_sum_us, e->start_lifetime_sum_us, U)                            \
	X(crash_last_ms, e->crash_last_ms, I) X(crash_signal, e->crash_signal, W)        \
	X(crash_ppid, e->crash_ppid, W) X(crash_comm, e->crash_comm, S)                  \
	X(crash_parent_comm, e->crash_parent_comm, S)                                    \
	X(first_start_ms, e->first_start_ms, I) X(last_start_ms, e->last_start_ms, I)    \
	X(last_exit_ms, e->last_exit_ms, I) X(gaps, e->gaps, U)                          \
	X(gap_sum_ns, e->gap_sum_ns, U) X(gap_sumsq_ms2, e->gap_sumsq_ms2, U)            \
	X(lifetime_sum_us, e->lifetime_sum_us, U) X(status_other, e->status_other, U)    \
	X(respawn_class, e->respawn_class, W) X(storm_since_ms, e->storm_since_ms, I)    \
	X(storms, e->storms, U)

#define SERIES_VALUES 13
/* The machine's figures, in struct db_machine_point's order; NULL where unknown (-1). */
#define MACHINE_COLUMNS                                                                     \
	"mem_total_kib, mem_available_kib, slab_kib, sunreclaim_kib, kernel_stack_kib, "     \
	"page_tables_kib, percpu_kib, dying_cgroups"
#define MACHINE_VALUES 8
/* A machine row is written with every sample that writes anyway, else at least this often. */
#define MACHINE_QUIET_MS 60000
#define PLUS_ONE(col, lv, T) +1
enum { EXE_NCOLS = 0 EXE_COLUMNS(PLUS_ONE) };

enum stmt_id {
	ST_META_SET,
	ST_META_GET,
	ST_META_ADD,
	ST_LOST_SET,
	ST_LOSS_ADD,
	ST_BOOT_MARK,
	ST_BOOT_UPSERT,
	ST_BOOT_STALE,
	ST_UNIT_UPSERT,
	ST_UNIT_ID,
	ST_KC_DEL,
	ST_FE_DEL,
	ST_EXE_INS,
	ST_EXE_STATUS_INS,
	ST_KC_INS,
	ST_FE_INS,
	ST_SERIES_INS,
	ST_FINDING_OPEN,
	ST_FINDING_INS,
	ST_FIGURE_INS,
	ST_FINDING_END,
	ST_FIGURES_DEL,
	ST_OOM_INS,
	ST_OOM_TOP_INS,
	ST_KILL_INS,
	ST_LINEAGE_INS,
	ST_MACHINE_INS,
	ST_OOM_CHURN_INS,
	ST_MAX,
};

/* A unit the database holds, by a hash of (boot, name): its row and what was last written. */
struct unit_slot {
	uint64_t key; /* 0: empty */
	int64_t unit_id;
	uint64_t content; /* hash of the figures in its row: unchanged, not rewritten */
	uint64_t series;  /* hash of its last series values; 0: none written by this handle */
	uint64_t extras;  /* hash of its kill and fork-error counts as written */
	uint64_t counters; /* hash of the series' counters as last written */
	uint64_t mem_kib;  /* its memory as last written (RSS, or a pseudo-unit's figure) */
	int64_t series_ms; /* when its last series row was written */
};

struct db {
	sqlite3 *h;
	enum db_mode mode;
	int version;
	uint64_t max_bytes;
	int64_t retain_ms;
	sqlite3_stmt *st[ST_MAX];
	char *sql[ST_MAX];
	int in_tx;
	int unsynced;		 /* committed without an fsync since the last one */
	uint64_t pending_failures; /* write failures not yet added to store_losses */
	uint64_t write_failures;   /* of this handle */
	struct unit_slot *slots;
	uint32_t n_slots, cap_slots;
	int64_t machine_ms;		 /* the last machine row written */
	int64_t machine_used_kib;	 /* its used memory */
};

/* ---- errors ------------------------------------------------------------ */

static int errno_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_TOOBIG:
		return -E2BIG;
	default:
		return -EIO;
	}
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int exec(struct db *db, const char *sql)
{
	return errno_of(sqlite3_exec(db->h, sql, NULL, NULL, NULL));
}

/* ---- statements -------------------------------------------------------- */

#define COL_NAME(col, lv, T) #col ","
#define COL_QMARK(col, lv, T) "?,"
#define COL_SET(col, lv, T) #col "=excluded." #col ","
#define COL_SET_LAST "lifetime_hist=excluded.lifetime_hist"

static char *strip_comma(const char *s)
{
	char *d = strdup(s);

	if (d && *d)
		d[strlen(d) - 1] = '\0';
	return d;
}

static char *build(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static int build_sql(struct db *db)
{
	char *ucols = strip_comma(UNIT_COLUMNS(COL_NAME)), *uq = strip_comma(UNIT_COLUMNS(COL_QMARK));
	char *uset = strip_comma(UNIT_COLUMNS(COL_SET)), *ecols = strip_comma(EXE_COLUMNS(COL_NAME));
	char *eq = strip_comma(EXE_COLUMNS(COL_QMARK)), *eset = strdup(EXE_COLUMNS(COL_SET) COL_SET_LAST);
	int ret = -ENOMEM;

	if (!ucols || !uq || !uset || !ecols || !eq || !eset)
		goto out;
	db->sql[ST_META_SET] = strdup("INSERT INTO meta(key, value) VALUES(?, ?) "
				      "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
	db->sql[ST_META_GET] = strdup("SELECT value FROM meta WHERE key = ?");
	db->sql[ST_META_ADD] = strdup("INSERT INTO meta(key, value) VALUES(?, ?) "
				      "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value");
	db->sql[ST_LOST_SET] = strdup("INSERT OR REPLACE INTO lost(kind, count) VALUES(?, ?)");
	db->sql[ST_LOSS_ADD] = strdup("UPDATE store_losses SET count = count + ? WHERE what = ?");
	db->sql[ST_BOOT_MARK] = strdup("UPDATE boots SET seq = -1 - seq");
	db->sql[ST_BOOT_UPSERT] = strdup(
		"INSERT INTO boots(boot_id, seq, first_ms, last_ms, units_dropped) VALUES(?,?,?,?,?) "
		"ON CONFLICT(boot_id) DO UPDATE SET seq = excluded.seq, first_ms = excluded.first_ms, "
		"last_ms = excluded.last_ms, units_dropped = excluded.units_dropped");
	db->sql[ST_BOOT_STALE] = strdup("SELECT boot_id FROM boots WHERE seq < 0");
	db->sql[ST_UNIT_UPSERT] = build("INSERT INTO units(boot_id, name, %s) VALUES(?, ?, %s) "
					"ON CONFLICT(boot_id, name) DO UPDATE SET %s",
					ucols, uq, uset);
	db->sql[ST_UNIT_ID] = strdup("SELECT id FROM units WHERE boot_id = ? AND name = ?");
	db->sql[ST_KC_DEL] = strdup("DELETE FROM unit_kill_counts WHERE unit_id = ?");
	db->sql[ST_FE_DEL] = strdup("DELETE FROM unit_fork_errnos WHERE unit_id = ?");
	db->sql[ST_EXE_INS] = build("INSERT INTO exes(unit_id, path, %s, lifetime_hist) "
				    "VALUES(?, ?, %s, ?) ON CONFLICT(unit_id, path) DO UPDATE SET %s "
				    "RETURNING id", ecols, eq, eset);
	db->sql[ST_EXE_STATUS_INS] = strdup(
		"INSERT INTO exe_status(exe_id, kind, value, count) VALUES(?, ?, ?, ?) "
		"ON CONFLICT(exe_id, kind, value) DO UPDATE SET count = excluded.count");
	db->sql[ST_KC_INS] = strdup("INSERT INTO unit_kill_counts(unit_id, sender_unit, signal, "
				    "by_kernel, count) VALUES(?, ?, ?, ?, ?)");
	db->sql[ST_FE_INS] = strdup("INSERT INTO unit_fork_errnos(unit_id, err, count) VALUES(?, ?, ?)");
	db->sql[ST_SERIES_INS] = strdup(
		"INSERT OR REPLACE INTO series(unit_id, res, t_ms, rss_anon_kib, rss_file_kib, "
		"rss_shmem_kib, starts, execs, exits, exits_failed, forks, forks_failed, "
		"kills_received, memcg_kib, kernel_kib, count) "
		"VALUES(?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	db->sql[ST_FINDING_OPEN] = strdup(
		"SELECT id, peak_measure FROM findings WHERE boot_id = ? AND kind = ? AND unit = ? "
		"AND subject = ? AND ended_ms IS NULL ORDER BY id DESC LIMIT 1");
	db->sql[ST_FINDING_INS] = strdup(
		"INSERT INTO findings(boot_id, kind, unit, machine, subject, started_ms, peak_measure) "
		"VALUES(?, ?, ?, ?, ?, ?, ?)");
	db->sql[ST_FIGURE_INS] = strdup(
		"INSERT INTO finding_figures(finding_id, phase, name, value, text) VALUES(?, ?, ?, ?, ?)");
	db->sql[ST_FINDING_END] = strdup(
		"UPDATE findings SET ended_ms = ?, peak_measure = max(coalesce(peak_measure, ?), ?) "
		"WHERE id = ?");
	db->sql[ST_FIGURES_DEL] = strdup("DELETE FROM finding_figures WHERE finding_id = ? AND phase = ?");
	db->sql[ST_OOM_INS] = strdup(
		"INSERT INTO ooms(time_ms, boot_id, victim_pid, victim_comm, victim_unit, "
		"oom_constraint, memcg, memcg_limit_bytes, memcg_usage_bytes, rss_anon_kib, "
		"rss_file_kib, rss_shmem_kib, oom_score_adj, trigger_pid, trigger_comm, trigger_unit) "
		"VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	db->sql[ST_OOM_TOP_INS] = strdup("INSERT INTO oom_top(oom_id, by_growth, rank, unit, "
					 "rss_kib, growth_kib_per_s) VALUES(?, ?, ?, ?, ?, ?)");
	db->sql[ST_KILL_INS] = strdup(
		"INSERT INTO kills(time_ms, boot_id, signal, by_kernel, result, sender_pid, "
		"sender_comm, sender_unit, target_pid, target_comm, target_unit) "
		"VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	db->sql[ST_LINEAGE_INS] = strdup(
		"INSERT INTO kill_lineage(kill_id, depth, pid, comm, unit) VALUES(?, ?, ?, ?, ?)");
	db->sql[ST_MACHINE_INS] = strdup(
		"INSERT OR REPLACE INTO machine_series(res, t_ms, " MACHINE_COLUMNS ") "
		"VALUES(0, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	db->sql[ST_OOM_CHURN_INS] = strdup("INSERT INTO oom_churn(oom_id, storm_unit, growing_unit, "
					   "kib_per_start, growth_kib, starts) VALUES(?, ?, ?, ?, ?, ?)");
	ret = 0;
	for (int i = 0; i < ST_MAX; i++)
		if (!db->sql[i])
			ret = -ENOMEM;
out:
	free(ucols);
	free(uq);
	free(uset);
	free(ecols);
	free(eq);
	free(eset);
	return ret;
}

/* The prepared statement, reset and unbound; NULL when it cannot be prepared. */
static sqlite3_stmt *stmt(struct db *db, enum stmt_id id)
{
	if (!db->st[id]) {
		if (sqlite3_prepare_v3(db->h, db->sql[id], -1, SQLITE_PREPARE_PERSISTENT, &db->st[id],
				       NULL) != SQLITE_OK)
			return NULL;
	} else {
		sqlite3_reset(db->st[id]);
		sqlite3_clear_bindings(db->st[id]);
	}
	return db->st[id];
}

static void bind_U(sqlite3_stmt *s, int i, uint64_t v)
{
	sqlite3_bind_int64(s, i, (sqlite3_int64)v);
}

static void bind_I(sqlite3_stmt *s, int i, int64_t v)
{
	sqlite3_bind_int64(s, i, v);
}

static void bind_W(sqlite3_stmt *s, int i, uint32_t v)
{
	sqlite3_bind_int64(s, i, v);
}

/* SQLite stores a NaN as NULL: NULL reads back as NaN. */
static void bind_D(sqlite3_stmt *s, int i, double v)
{
	if (isnan(v))
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_double(s, i, v);
}

static void bind_S(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static uint64_t col_U(sqlite3_stmt *s, int i)
{
	return (uint64_t)sqlite3_column_int64(s, i);
}

static int64_t col_I(sqlite3_stmt *s, int i)
{
	return sqlite3_column_int64(s, i);
}

static uint32_t col_W(sqlite3_stmt *s, int i)
{
	return (uint32_t)sqlite3_column_int64(s, i);
}

static double col_D(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN : sqlite3_column_double(s, i);
}

/* A text column into a fixed field, cut to fit; bytes as stored (names are not UTF-8-checked). */
static void col_text(sqlite3_stmt *s, int i, char *dst, size_t size)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	size_t n = t ? (size_t)sqlite3_column_bytes(s, i) : 0;

	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

/* Steps a write statement to its end. 0 or -errno. */
static int run(sqlite3_stmt *s)
{
	int rc;

	if (!s)
		return -EIO;
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : errno_of(rc);
}

/* ---- transactions ------------------------------------------------------ */

static void slots_clear(struct db *db)
{
	if (db->slots)
		memset(db->slots, 0, sizeof(*db->slots) * db->cap_slots);
	db->n_slots = 0;
}

/* A write the disk refused (full, failing, read-only now): counted, and said once by the caller. */
static int count_failure(struct db *db, int err)
{
	if (err == -ENOSPC || err == -EIO || err == -EBUSY || err == -EROFS) {
		db->write_failures++;
		db->pending_failures++;
	}
	return err;
}

static int tx_begin(struct db *db, int sync)
{
	int err;

	if (db->mode != DB_WRITE || db->in_tx)
		return -EINVAL;
	/* FULL for this transaction only: its commit fsyncs the WAL. */
	if (sync && (err = exec(db, "PRAGMA synchronous=FULL")))
		return err;
	err = exec(db, "BEGIN IMMEDIATE");
	if (err) {
		if (sync)
			exec(db, "PRAGMA synchronous=NORMAL");
		return count_failure(db, err);
	}
	db->in_tx = 1 + !!sync;
	/* The failures of an outage are counted in the first transaction that gets through. */
	if (db->pending_failures) {
		sqlite3_stmt *s = stmt(db, ST_LOSS_ADD);

		if (s) {
			bind_U(s, 1, db->pending_failures);
			bind_S(s, 2, "write_failures");
		}
		err = run(s);
	}
	return err;
}

/*
 * Commits (err 0) or rolls back. A failed write (a full disk, an I/O error)
 * is counted and the unit cache dropped: what this handle believed written
 * may not be, so the next save writes everything again.
 */
static int tx_end(struct db *db, int err)
{
	int sync = db->in_tx == 2;

	if (!db->in_tx)
		return err;
	if (!err)
		err = exec(db, "COMMIT");
	if (err) {
		/* SQLite may have rolled back already (SQLITE_FULL does): then this fails, harmlessly. */
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
		slots_clear(db);
		count_failure(db, err);
	} else {
		db->pending_failures = 0;
		db->unsynced = !sync;
	}
	db->in_tx = 0;
	if (sync)
		exec(db, "PRAGMA synchronous=NORMAL");
	return err;
}

/* ---- the unit cache ---------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#define FNV_SEED 0xcbf29ce484222325ull

static uint64_t unit_key(const char *boot_id, const char *name)
{
	uint64_t h = fnv(FNV_SEED, boot_id, strlen(boot_id) + 1);

	h = fnv(h, name, strlen(name));
	return h ? h : 1;
}

/* The slot of key, made if missing; NULL on ENOMEM (then nothing is cached: rows are rewritten). */
static struct unit_slot *slot_of(struct db *db, uint64_t key)
{
	uint32_t i;

	if (db->n_slots * 4 >= db->cap_slots * 3) {
		uint32_t cap = db->cap_slots ? db->cap_slots * 2 : 1024;
		struct unit_slot *n = calloc(cap, sizeof(*n)), *old = db->slots;

		if (!n)
			return NULL;
		for (uint32_t j = 0; j < db->cap_slots; j++) {
			if (!old[j].key)
				continue;
			for (i = (uint32_t)old[j].key & (cap - 1); n[i].key; i = (i + 1) & (cap - 1))
				;
			n[i] = old[j];
		}
		free(old);
		db->slots = n;
		db->cap_slots = cap;
	}
	for (i = (uint32_t)key & (db->cap_slots - 1); db->slots[i].key;
	     i = (i + 1) & (db->cap_slots - 1))
		if (db->slots[i].key == key)
			return &db->slots[i];
	db->slots[i].key = key;
	db->slots[i].unit_id = 0;
	db->slots[i].content = 0;
	db->slots[i].series = 0;
	db->slots[i].extras = 0;
	db->n_slots++;
	return &db->slots[i];
}

/*
 * A hash of everything the unit's rows hold. The structs are hashed whole (the
 * model's own fields zeroed): padding bytes could only make an unchanged unit
 * look changed, which costs a rewrite, never a lost one.
 */
static uint64_t unit_content(const struct fig_unit *u)
{
	struct fig_unit c = *u;
	uint64_t h;

	c.exes = NULL;
	c.kill_counts = NULL;
	c.cap_exes = c.cap_kill_counts = 0;
	c.track_plus1 = 0;
	h = fnv(FNV_SEED, &c, sizeof(c));
	for (uint32_t i = 0; i < u->n_exes; i++) {
		struct fig_exe e = u->exes[i];

		e.track_plus1 = 0;
		h = fnv(h, &e, sizeof(e));
	}
	h = fnv(h, u->kill_counts, sizeof(*u->kill_counts) * u->n_kill_counts);
	return h ? h : 1;
}

/* The kill and fork-error counts: rewritten (deleted, inserted) only when they change. */
static uint64_t extras_hash(const struct fig_unit *u)
{
	uint64_t h = fnv(FNV_SEED, u->kill_counts, sizeof(*u->kill_counts) * u->n_kill_counts);

	h = fnv(h, u->fork_errnos, sizeof(*u->fork_errnos) * u->n_fork_errnos);
	return h ? h : 1;
}

static void series_values(const struct fig_unit *u, uint64_t v[SERIES_VALUES])
{
	v[0] = u->mem.rss_anon_kib;
	v[1] = u->mem.rss_file_kib;
	v[2] = u->mem.rss_shmem_kib;
	v[3] = u->starts;
	v[4] = u->execs;
	v[5] = u->exits;
	v[6] = u->exits_failed;
	v[7] = u->forks;
	v[8] = u->forks_failed;
	v[9] = u->kills_received;
	/* Unknown (-1) is stored as NULL. */
	v[10] = u->mem.memcg_usage_bytes >= 0 ? (uint64_t)u->mem.memcg_usage_bytes / 1024 : UINT64_MAX;
	v[11] = u->mem.kernel_bytes >= 0 ? (uint64_t)u->mem.kernel_bytes / 1024 : UINT64_MAX;
	v[12] = u->mem.count >= 0 ? (uint64_t)u->mem.count : UINT64_MAX;
}

/* ---- opening ----------------------------------------------------------- */

static int mkdir_parents(const char *path)
{
	char dir[PATH_MAX], *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int query_int(struct db *db, const char *sql, int64_t *ret)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(db->h, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return errno_of(rc);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		*ret = 0;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : errno_of(rc);
}

/* PRAGMA quick_check: "ok", or the first problem in why. */
static int quick_check(struct db *db, char *why, size_t size)
{
	sqlite3_stmt *s;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(db->h, "PRAGMA quick_check(1)", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		snprintf(why, size, "%s", sqlite3_errmsg(db->h));
		return errno_of(rc) ? errno_of(rc) : -EIO;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);

		if (!t || strcmp(t, "ok") != 0) {
			/* One line: "*** in database main ***\nPage 2: ..." -> "Page 2: ...". */
			if (t && strncmp(t, "*** in database main ***\n", 25) == 0)
				t += 25;
			snprintf(why, size, "%s", t ? t : "quick_check failed");
			for (char *p = why; *p; p++)
				if (*p == '\n' || *p == '\r')
					*p = ' ';
			ret = -EBADMSG;
		}
	} else {
		snprintf(why, size, "%s", sqlite3_errmsg(db->h));
		ret = errno_of(rc) ? errno_of(rc) : -EIO;
	}
	sqlite3_finalize(s);
	return ret;
}

static int upgrade(struct db *db, int from)
{
	char sql[64];
	int err;

	err = exec(db, "BEGIN IMMEDIATE");
	for (int v = from; !err && v < DB_SCHEMA_VERSION; v++)
		err = exec(db, schema_steps[v]);
	snprintf(sql, sizeof(sql), "PRAGMA application_id=%d", DB_APPLICATION_ID);
	if (!err)
		err = exec(db, sql);
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", DB_SCHEMA_VERSION);
	if (!err)
		err = exec(db, sql);
	if (!err)
		err = exec(db, "COMMIT");
	if (err)
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	else
		db->version = DB_SCHEMA_VERSION;
	return err;
}

struct db *db__open(const char *path, enum db_mode mode, const struct db_opts *opts, char *err,
		    size_t errlen)
{
	struct db *db = calloc(1, sizeof(*db));
	int64_t app_id = 0, version = 0, tables = 0;
	char why[256] = "";
	struct stat st;
	int flags, rc, e;

	if (!db) {
		set_err(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	db->mode = mode;
	db->max_bytes = opts && opts->max_bytes ? opts->max_bytes : DB_DEFAULT_MAX_BYTES;
	db->retain_ms = opts && opts->retain_ms ? opts->retain_ms : DB_DEFAULT_RETAIN_MS;
	if ((e = build_sql(db)))
		goto fail_msg;
	if (mode == DB_WRITE && (e = mkdir_parents(path))) {
		set_err(err, errlen, "cannot make its directory: %s", strerror(-e));
		goto fail;
	}
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			e = -EISDIR;
			goto fail_msg;
		}
		if (!S_ISREG(st.st_mode)) {
			e = -EBADMSG;
			set_err(err, errlen, "not an rcatrace database (not a regular file)");
			goto fail;
		}
	} else if (errno != ENOENT || mode == DB_READ) {
		e = -errno;
		goto fail_msg;
	} else {
		/* Made here so it is 0600 from the start; SQLite gives -wal and -shm its mode. */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		if (fd < 0 && errno != EEXIST) {
			e = -errno;
			goto fail_msg;
		}
		if (fd >= 0)
			close(fd);
	}
	/* A reader opens read-write too (never writing): it may have to rebuild a dead writer's -shm. */
	flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	rc = sqlite3_open_v2(path, &db->h, flags, NULL);
	if (rc != SQLITE_OK && mode == DB_READ) {
		sqlite3_close(db->h);
		db->h = NULL;
		rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	}
	if (rc != SQLITE_OK) {
		e = sqlite3_system_errno(db->h) ? -sqlite3_system_errno(db->h) : errno_of(rc);
		goto fail_msg;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, BUSY_TIMEOUT_MS);
	e = quick_check(db, why, sizeof(why));
	if (e) {
		if (e == -EBADMSG)
			set_err(err, errlen, "not an rcatrace database or corrupt: %s", why);
		else
			set_err(err, errlen, "cannot read it: %s", why);
		goto fail;
	}
	if ((e = query_int(db, "PRAGMA application_id", &app_id)) ||
	    (e = query_int(db, "PRAGMA user_version", &version)) ||
	    (e = query_int(db, "SELECT count(*) FROM sqlite_master", &tables)))
		goto fail_msg;
	if (app_id != DB_APPLICATION_ID && (tables || app_id || version)) {
		e = -EBADMSG;
		set_err(err, errlen, "not an rcatrace database (another SQLite database)");
		goto fail;
	}
	if (app_id != DB_APPLICATION_ID && mode == DB_READ) {
		e = -EBADMSG;
		set_err(err, errlen, "not an rcatrace database (empty)");
		goto fail;
	}
	if (version > DB_SCHEMA_VERSION) {
		e = -EPROTONOSUPPORT;
		set_err(err, errlen, "made by a newer rcatrace (schema %lld, this one knows %d)",
			(long long)version, DB_SCHEMA_VERSION);
		goto fail;
	}
	db->version = (int)version;
	if (mode == DB_READ) {
		if (version < 1) {
			e = -EBADMSG;
			set_err(err, errlen, "not an rcatrace database (no schema)");
			goto fail;
		}
		exec(db, "PRAGMA query_only=1");
		exec(db, "PRAGMA cache_size=-" "2000");
		return db;
	}
	{
		char sql[64];
		unsigned long long wal_pages;
		sqlite3_stmt *s;
		int wal = 0;

		if (sqlite3_prepare_v2(db->h, "PRAGMA journal_mode=WAL", -1, &s, NULL) == SQLITE_OK) {
			if (sqlite3_step(s) == SQLITE_ROW)
				wal = strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0;
			sqlite3_finalize(s);
		}
		if (!wal) {
			e = errno_of(sqlite3_errcode(db->h)) ? errno_of(sqlite3_errcode(db->h)) : -EIO;
			set_err(err, errlen, "cannot switch it to WAL: %s", sqlite3_errmsg(db->h));
			goto fail;
		}
		/*
		 * The WAL is checkpointed (and truncated back) at a tenth of the cap,
		 * so file and WAL together stay about within it.
		 */
		wal_pages = db->max_bytes / 10 / 4096;
		wal_pages = wal_pages < 16 ? 16 : wal_pages > 1000 ? 1000 : wal_pages;
		exec(db, "PRAGMA synchronous=NORMAL");
		exec(db, "PRAGMA cache_size=-" "2000");
		snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit=%llu", wal_pages * 4096);
		exec(db, sql);
		sqlite3_wal_autocheckpoint(db->h, (int)wal_pages);
	}
	if (version < DB_SCHEMA_VERSION && (e = upgrade(db, (int)version))) {
		set_err(err, errlen, "cannot %s its schema: %s", version ? "upgrade" : "create",
			sqlite3_errmsg(db->h));
		goto fail;
	}
	return db;

fail_msg:
	set_err(err, errlen, "%s", strerror(-e));
fail:
	db__free(db);
	errno = -e;
	return NULL;
}

void db__free(struct db *db)
{
	if (!db)
		return;
	for (int i = 0; i < ST_MAX; i++) {
		sqlite3_finalize(db->st[i]);
		free(db->sql[i]);
	}
	if (db->h) {
		if (db->in_tx)
			sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(db->h);
	}
	free(db->slots);
	free(db);
}

int db__set_aside(const char *path, char *ret_newpath, size_t size)
{
	char aside[PATH_MAX], from[PATH_MAX + 8], to[PATH_MAX + 8];

	if (snprintf(aside, sizeof(aside), "%s.corrupt", path) >= (int)sizeof(aside))
		return -ENAMETOOLONG;
	if (rename(path, aside))
		return -errno;
	snprintf(from, sizeof(from), "%s-wal", path);
	snprintf(to, sizeof(to), "%s-wal", aside);
	if (rename(from, to) && errno == ENOENT)
		unlink(to); /* an older .corrupt-wal must not be read with the new .corrupt */
	snprintf(from, sizeof(from), "%s-shm", path);
	unlink(from);
	snprintf(to, sizeof(to), "%s-shm", aside);
	unlink(to);
	if (ret_newpath && size)
		snprintf(ret_newpath, size, "%s", aside);
	return 0;
}

/* ---- writing the state ------------------------------------------------- */

static int meta_set(struct db *db, const char *key, int64_t v)
{
	sqlite3_stmt *s = stmt(db, ST_META_SET);

	if (s) {
		bind_S(s, 1, key);
		bind_I(s, 2, v);
	}
	return run(s);
}

static int meta_add(struct db *db, const char *key, int64_t v)
{
	sqlite3_stmt *s = stmt(db, ST_META_ADD);

	if (s) {
		bind_S(s, 1, key);
		bind_I(s, 2, v);
	}
	return run(s);
}

static int64_t meta_get(struct db *db, const char *key)
{
	sqlite3_stmt *s = stmt(db, ST_META_GET);
	int64_t v = 0;

	if (!s)
		return 0;
	bind_S(s, 1, key);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

static int loss_add(struct db *db, const char *what, uint64_t n)
{
	sqlite3_stmt *s;

	if (!n)
		return 0;
	s = stmt(db, ST_LOSS_ADD);
	if (s) {
		bind_U(s, 1, n);
		bind_S(s, 2, what);
	}
	return run(s);
}

#define BIND_COL(col, lv, T) bind_##T(s, i++, lv);

static int write_exe(struct db *db, int64_t unit_id, const struct fig_exe *e)
{
	sqlite3_stmt *s = stmt(db, ST_EXE_INS);
	char hist[RCA_LIFETIME_BUCKETS * 21 + 3];
	size_t off = 0;
	int64_t exe_id;
	int i = 1, err;

	if (!s)
		return -EIO;
	bind_I(s, i++, unit_id);
	bind_S(s, i++, e->path);
	EXE_COLUMNS(BIND_COL)
	hist[off++] = '[';
	for (int b = 0; b < RCA_LIFETIME_BUCKETS; b++)
		off += snprintf(hist + off, sizeof(hist) - off, "%s%llu", b ? "," : "",
				(unsigned long long)e->lifetime_hist[b]);
	snprintf(hist + off, sizeof(hist) - off, "]");
	bind_S(s, i++, hist);
	err = sqlite3_step(s);
	exe_id = err == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	if (err == SQLITE_ROW)
		err = sqlite3_step(s);
	sqlite3_reset(s);
	if (err != SQLITE_DONE)
		return errno_of(err) ? errno_of(err) : -EIO;
	for (uint32_t k = 0; k < e->n_status && k < FIG_MAX_STATUS; k++) {
		s = stmt(db, ST_EXE_STATUS_INS);
		if (s) {
			bind_I(s, 1, exe_id);
			bind_W(s, 2, e->status[k].kind);
			bind_W(s, 3, e->status[k].value);
			bind_U(s, 4, e->status[k].count);
		}
		if ((err = run(s)))
			return err;
	}
	return 0;
}

static int unit_id_of(struct db *db, const char *boot_id, const char *name, int64_t *ret)
{
	sqlite3_stmt *s = stmt(db, ST_UNIT_ID);
	int rc;

	if (!s)
		return -EIO;
	bind_S(s, 1, boot_id);
	bind_S(s, 2, name);
	rc = sqlite3_step(s);
	*ret = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : errno_of(rc);
}

/* The unit's row (inserted or updated) and its executables, kill and fork-error counts. */
static int write_unit(struct db *db, const char *boot_id, const struct fig_unit *u,
		      struct unit_slot *slot)
{
	sqlite3_stmt *s = stmt(db, ST_UNIT_UPSERT);
	static const enum stmt_id dels[] = { ST_KC_DEL, ST_FE_DEL };
	int64_t id = slot ? slot->unit_id : 0;
	uint64_t extras = extras_hash(u);
	int i = 1, err;

	if (!s)
		return -EIO;
	bind_S(s, i++, boot_id);
	bind_S(s, i++, u->name);
	UNIT_COLUMNS(BIND_COL)
	if ((err = run(s)))
		return err;
	if (!id && (err = unit_id_of(db, boot_id, u->name, &id)))
		return err;
	/* In place: executables and their statuses are only ever added to, never removed. */
	for (uint32_t k = 0; k < u->n_exes; k++)
		if ((err = write_exe(db, id, &u->exes[k])))
			return err;
	if (slot && slot->unit_id && slot->extras == extras)
		goto done;
	for (size_t k = 0; k < sizeof(dels) / sizeof(dels[0]); k++) {
		s = stmt(db, dels[k]);
		if (s)
			bind_I(s, 1, id);
		if ((err = run(s)))
			return err;
	}
	for (uint32_t k = 0; k < u->n_kill_counts; k++) {
		s = stmt(db, ST_KC_INS);
		if (s) {
			bind_I(s, 1, id);
			bind_S(s, 2, u->kill_counts[k].sender_unit);
			bind_W(s, 3, u->kill_counts[k].signal);
			bind_W(s, 4, u->kill_counts[k].by_kernel);
			bind_U(s, 5, u->kill_counts[k].count);
		}
		if ((err = run(s)))
			return err;
	}
	for (uint32_t k = 0; k < u->n_fork_errnos && k < FIG_MAX_ERRNO; k++) {
		s = stmt(db, ST_FE_INS);
		if (s) {
			bind_I(s, 1, id);
			bind_W(s, 2, u->fork_errnos[k].err);
			bind_U(s, 3, u->fork_errnos[k].count);
		}
		if ((err = run(s)))
			return err;
	}
done:
	if (slot) {
		slot->unit_id = id;
		slot->content = unit_content(u);
		slot->extras = extras;
	}
	return 0;
}

/* Everything of a boot, gone past FIG_MAX_BOOTS: its units, their rows, their series. */
static int delete_boot(struct db *db, const char *boot_id)
{
	static const char *const sql[] = {
		"DELETE FROM exe_status WHERE exe_id IN (SELECT e.id FROM exes e JOIN units u "
		"ON e.unit_id = u.id WHERE u.boot_id = ?1)",
		"DELETE FROM exes WHERE unit_id IN (SELECT id FROM units WHERE boot_id = ?1)",
		"DELETE FROM unit_kill_counts WHERE unit_id IN (SELECT id FROM units WHERE boot_id = ?1)",
		"DELETE FROM unit_fork_errnos WHERE unit_id IN (SELECT id FROM units WHERE boot_id = ?1)",
		"DELETE FROM series WHERE unit_id IN (SELECT id FROM units WHERE boot_id = ?1)",
		"DELETE FROM units WHERE boot_id = ?1",
		"DELETE FROM boots WHERE boot_id = ?1",
	};
	int err = 0;

	for (size_t i = 0; !err && i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *s;
		int rc = sqlite3_prepare_v2(db->h, sql[i], -1, &s, NULL);

		if (rc != SQLITE_OK)
			return errno_of(rc);
		bind_S(s, 1, boot_id);
		err = run(s);
		sqlite3_finalize(s);
	}
	return err;
}

static int write_proc(sqlite3_stmt *s, int i, const struct fig_proc_ref *p)
{
	bind_W(s, i, p->pid);
	bind_S(s, i + 1, p->comm);
	bind_S(s, i + 2, p->unit);
	return i + 3;
}

static int write_oom(struct db *db, const struct fig_oom *o)
{
	sqlite3_stmt *s = stmt(db, ST_OOM_INS);
	int64_t id;
	int i = 1, err;

	if (!s)
		return -EIO;
	bind_I(s, i++, o->time_ms);
	bind_S(s, i++, o->boot_id);
	i = write_proc(s, i, &o->victim);
	bind_S(s, i++, o->constraint);
	bind_S(s, i++, o->memcg);
	bind_I(s, i++, o->memcg_limit_bytes);
	bind_I(s, i++, o->memcg_usage_bytes);
	bind_U(s, i++, o->rss_anon_kib);
	bind_U(s, i++, o->rss_file_kib);
	bind_U(s, i++, o->rss_shmem_kib);
	bind_I(s, i++, o->oom_score_adj);
	write_proc(s, i, &o->trigger);
	if ((err = run(s)))
		return err;
	id = sqlite3_last_insert_rowid(db->h);
	for (int g = 0; g < 2; g++) {
		const struct fig_top_unit *t = g ? o->top_growth : o->top_rss;
		uint32_t n = g ? o->n_top_growth : o->n_top_rss;

		for (uint32_t k = 0; k < n && k < FIG_OOM_TOP_UNITS; k++) {
			s = stmt(db, ST_OOM_TOP_INS);
			if (s) {
				bind_I(s, 1, id);
				bind_W(s, 2, (uint32_t)g);
				bind_W(s, 3, k);
				bind_S(s, 4, t[k].unit);
				bind_U(s, 5, t[k].rss_kib);
				bind_D(s, 6, t[k].growth_kib_per_s);
			}
			if ((err = run(s)))
				return err;
		}
	}
	for (uint32_t k = 0; db->version >= 3 && k < o->n_churn && k < FIG_OOM_CHURN; k++) {
		const struct fig_churn_link *c = &o->churn[k];

		s = stmt(db, ST_OOM_CHURN_INS);
		if (s) {
			bind_I(s, 1, id);
			bind_S(s, 2, c->storm_unit);
			bind_S(s, 3, c->growing_unit);
			bind_D(s, 4, c->kib_per_start);
			bind_D(s, 5, c->growth_kib);
			bind_U(s, 6, c->starts);
		}
		if ((err = run(s)))
			return err;
	}
	return 0;
}

static int write_kill(struct db *db, const struct fig_kill *k)
{
	sqlite3_stmt *s = stmt(db, ST_KILL_INS);
	int64_t id;
	int i = 1, err;

	if (!s)
		return -EIO;
	bind_I(s, i++, k->time_ms);
	bind_S(s, i++, k->boot_id);
	bind_W(s, i++, k->signal);
	bind_W(s, i++, k->by_kernel);
	bind_I(s, i++, k->result);
	i = write_proc(s, i, &k->sender);
	write_proc(s, i, &k->target);
	if ((err = run(s)))
		return err;
	id = sqlite3_last_insert_rowid(db->h);
	for (uint32_t d = 0; d < k->n_lineage && d < FIG_LINEAGE_MAX; d++) {
		s = stmt(db, ST_LINEAGE_INS);
		if (s) {
			bind_I(s, 1, id);
			bind_W(s, 2, d);
			write_proc(s, 3, &k->lineage[d]);
		}
		if ((err = run(s)))
			return err;
	}
	return 0;
}

/*
 * The state's OOM and kill lists are its newest records; "recorded" counts
 * every record ever appended (dropped + kept). Those past what the database
 * counted are new: appended, at most as many as the state still holds.
 */
static int write_new_records(struct db *db, const struct fig_state *s)
{
	int64_t have = meta_get(db, "ooms_recorded");
	uint64_t want = s->ooms_dropped + s->n_ooms;
	int err = 0;

	if (want > (uint64_t)have) {
		uint64_t n = want - (uint64_t)have;

		for (uint32_t i = n > s->n_ooms ? 0 : s->n_ooms - (uint32_t)n; !err && i < s->n_ooms; i++)
			err = write_oom(db, &s->ooms[i]);
		if (!err)
			err = meta_set(db, "ooms_recorded", (int64_t)want);
	}
	have = meta_get(db, "kills_recorded");
	want = s->kills_dropped + s->n_kills;
	if (!err && want > (uint64_t)have) {
		uint64_t n = want - (uint64_t)have;

		for (uint32_t i = n > s->n_kills ? 0 : s->n_kills - (uint32_t)n;
		     !err && i < s->n_kills; i++)
			err = write_kill(db, &s->kills[i]);
		if (!err)
			err = meta_set(db, "kills_recorded", (int64_t)want);
	}
	return err;
}

static int save_boots(struct db *db, const struct fig_state *st)
{
	sqlite3_stmt *s;
	int err = run(stmt(db, ST_BOOT_MARK));
	char stale[FIG_MAX_BOOTS * 4][FIG_BOOT_ID_MAX];
	uint32_t n_stale = 0;

	for (uint32_t b = 0; !err && b < st->n_boots; b++) {
		const struct fig_boot *boot = &st->boots[b];

		s = stmt(db, ST_BOOT_UPSERT);
		if (s) {
			bind_S(s, 1, boot->boot_id);
			bind_W(s, 2, b);
			bind_I(s, 3, boot->first_ms);
			bind_I(s, 4, boot->last_ms);
			bind_U(s, 5, boot->units_dropped);
		}
		err = run(s);
	}
	if (err)
		return err;
	/* Boots the state no longer has (dropped past FIG_MAX_BOOTS) go, with their units. */
	s = stmt(db, ST_BOOT_STALE);
	if (!s)
		return -EIO;
	while (sqlite3_step(s) == SQLITE_ROW && n_stale < sizeof(stale) / sizeof(stale[0]))
		col_text(s, 0, stale[n_stale++], FIG_BOOT_ID_MAX);
	sqlite3_reset(s);
	for (uint32_t i = 0; !err && i < n_stale; i++)
		err = delete_boot(db, stale[i]);
	if (n_stale)
		slots_clear(db);
	return err;
}

int db__save_state(struct db *db, const struct fig_state *st, int sync)
{
	int err;

	if (!db || !st)
		return -EINVAL;
	err = tx_begin(db, sync);
	if (err)
		return tx_end(db, err);
	err = meta_set(db, "written_ms", st->written_ms);
	if (!err)
		err = meta_set(db, "interval_ms", st->interval_ms);
	if (!err)
		err = meta_set(db, "units_unnamed", (int64_t)st->units_unnamed);
	if (!err)
		err = meta_set(db, "boots_dropped", (int64_t)st->boots_dropped);
	for (int k = 0; !err && k < RCA_LOST_KIND_MAX; k++) {
		sqlite3_stmt *s = stmt(db, ST_LOST_SET);

		if (s) {
			bind_I(s, 1, k);
			bind_U(s, 2, st->lost[k]);
		}
		err = run(s);
	}
	if (!err)
		err = save_boots(db, st);
	for (uint32_t b = 0; !err && b < st->n_boots; b++) {
		const struct fig_boot *boot = &st->boots[b];

		for (uint32_t i = 0; !err && i < boot->n_units; i++) {
			const struct fig_unit *u = &boot->units[i];
			struct unit_slot *slot = slot_of(db, unit_key(boot->boot_id, u->name));

			/* Only the newest boot still changes: an earlier one's units, once written, stay. */
			if (slot && slot->unit_id &&
			    (b + 1 < st->n_boots || slot->content == unit_content(u)))
				continue;
			err = write_unit(db, boot->boot_id, u, slot);
		}
	}
	if (!err)
		err = write_new_records(db, st);
	return tx_end(db, err);
}

/* ---- the time series --------------------------------------------------- */

/* What a series row counts (starts ... kills received, a pseudo-unit's count): any change is written. */
static uint64_t counters_hash(const uint64_t v[SERIES_VALUES])
{
	uint64_t h = fnv(FNV_SEED, v + 3, 7 * sizeof(*v));

	h = fnv(h, v + 12, sizeof(*v));
	return h ? h : 1;
}

/* Its memory: RSS, or the charge where there is no RSS (a kernel pseudo-unit). */
static uint64_t series_mem_kib(const uint64_t v[SERIES_VALUES])
{
	uint64_t rss = v[0] + v[1] + v[2];

	return rss || v[10] == UINT64_MAX ? rss : v[10];
}

/*
 * A unit's series row is due when a counter changed, or its memory moved by
 * more than 1/64 (a leak of 1 MiB/s on 60 MiB: every sample), or it changed
 * at all and a minute passed: a figure that wanders by a few KiB every
 * second (slab, a daemon's heap) does not commit a page every sample.
 */
static int series_due(const struct unit_slot *slot, const uint64_t v[SERIES_VALUES], int64_t t_ms)
{
	uint64_t mem = series_mem_kib(v), last = slot->mem_kib;
	uint64_t moved = mem > last ? mem - last : last - mem;

	if (!slot->series || slot->counters != counters_hash(v))
		return 1;
	return moved > last / 64 || t_ms - slot->series_ms >= MACHINE_QUIET_MS;
}

/* A machine row is due when it moved by 1/64 of its used memory, or has not been written for a while. */
static int machine_due(const struct db *db, const struct db_machine_point *m, int64_t t_ms)
{
	int64_t used = m->mem_total_kib >= 0 && m->mem_available_kib >= 0
			       ? m->mem_total_kib - m->mem_available_kib
			       : -1;
	int64_t moved = used - db->machine_used_kib;

	return t_ms - db->machine_ms >= MACHINE_QUIET_MS || moved > used / 64 || -moved > used / 64;
}

static int write_machine(struct db *db, const struct db_machine_point *m, int64_t t_ms)
{
	const int64_t v[MACHINE_VALUES] = { m->mem_total_kib,	 m->mem_available_kib,
					    m->slab_kib,	 m->sunreclaim_kib,
					    m->kernel_stack_kib, m->page_tables_kib,
					    m->percpu_kib,	 m->dying_cgroups };
	sqlite3_stmt *s = stmt(db, ST_MACHINE_INS);
	int err;

	if (!s)
		return -EIO;
	bind_I(s, 1, t_ms);
	for (int k = 0; k < MACHINE_VALUES; k++) {
		if (v[k] < 0)
			sqlite3_bind_null(s, 2 + k);
		else
			bind_I(s, 2 + k, v[k]);
	}
	err = run(s);
	if (!err) {
		db->machine_ms = t_ms;
		db->machine_used_kib = m->mem_total_kib >= 0 && m->mem_available_kib >= 0
					       ? m->mem_total_kib - m->mem_available_kib
					       : -1;
	}
	return err;
}

int db__add_sample(struct db *db, const struct fig_boot *b, const struct db_machine_point *m,
		   int64_t t_ms)
{
	int err = 0, began = 0;

	if (!db || !b)
		return -EINVAL;
	for (uint32_t i = 0; !err && i < b->n_units; i++) {
		const struct fig_unit *u = &b->units[i];
		uint64_t v[SERIES_VALUES], h;
		struct unit_slot *slot;
		sqlite3_stmt *s;

		series_values(u, v);
		h = fnv(FNV_SEED, v, sizeof(v));
		h = h ? h : 1;
		slot = slot_of(db, unit_key(b->boot_id, u->name));
		if (slot && (slot->series == h || !series_due(slot, v, t_ms)))
			continue;
		/* One transaction per sample, begun at its first change: a quiet sample writes nothing. */
		if (!began) {
			if ((err = tx_begin(db, 0)))
				return tx_end(db, err);
			began = 1;
		}
		/* A unit new to the database gets its whole row now, so the series never points nowhere. */
		if (!slot || !slot->unit_id) {
			err = write_unit(db, b->boot_id, u, slot);
			if (err)
				break;
		}
		s = stmt(db, ST_SERIES_INS);
		if (!s) {
			err = -EIO;
			break;
		}
		if (slot) {
			bind_I(s, 1, slot->unit_id);
		} else {
			int64_t id;

			if ((err = unit_id_of(db, b->boot_id, u->name, &id)))
				break;
			bind_I(s, 1, id);
		}
		bind_I(s, 2, t_ms);
		for (int k = 0; k < SERIES_VALUES; k++) {
			if (v[k] == UINT64_MAX)
				sqlite3_bind_null(s, 3 + k);
			else
				bind_U(s, 3 + k, v[k]);
		}
		err = run(s);
		if (!err && slot) {
			slot->series = h;
			slot->counters = counters_hash(v);
			slot->mem_kib = series_mem_kib(v);
			slot->series_ms = t_ms;
		}
	}
	/*
	 * The machine's row rides along with a sample that writes anyway; on a
	 * quiet machine it alone would wake the disk every sample, so then only
	 * when it moved or once a minute.
	 */
	if (!err && m && db->version >= 3 && (began || machine_due(db, m, t_ms))) {
		if (!began) {
			if ((err = tx_begin(db, 0)))
				return tx_end(db, err);
			began = 1;
		}
		err = write_machine(db, m, t_ms);
	}
	return began ? tx_end(db, err) : err;
}

int db__add_sample_series(struct db *db, const struct fig_boot *b, int64_t t_ms)
{
	return db__add_sample(db, b, NULL, t_ms);
}

/* ---- findings ---------------------------------------------------------- */

static int open_finding(struct db *db, const struct db_finding_key *k, int64_t *ret_id,
			double *ret_peak)
{
	sqlite3_stmt *s = stmt(db, ST_FINDING_OPEN);
	int rc;

	if (!s)
		return -EIO;
	bind_S(s, 1, k->boot_id);
	bind_S(s, 2, k->kind);
	bind_S(s, 3, k->unit);
	bind_S(s, 4, k->subject ? k->subject : "");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*ret_id = sqlite3_column_int64(s, 0);
		*ret_peak = col_D(s, 1);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : errno_of(rc);
}

static int write_figures(struct db *db, int64_t id, int phase, const struct db_figure *f,
			 uint32_t n)
{
	int err = 0;

	for (uint32_t i = 0; !err && i < n && i < DB_FINDING_MAX_FIGURES; i++) {
		sqlite3_stmt *s = stmt(db, ST_FIGURE_INS);

		if (s) {
			bind_I(s, 1, id);
			bind_I(s, 2, phase);
			bind_S(s, 3, f[i].name);
			if (f[i].text) {
				sqlite3_bind_null(s, 4);
				bind_S(s, 5, f[i].text);
			} else {
				bind_D(s, 4, f[i].value);
			}
		}
		err = run(s);
	}
	return err;
}

int db__finding_started(struct db *db, const struct db_finding_key *k, int64_t t_ms,
			const struct db_figure *figs, uint32_t n, double peak_measure)
{
	sqlite3_stmt *s;
	int64_t id;
	double peak;
	int err;

	if (!db || !k || !k->boot_id || !k->kind || !k->unit)
		return -EINVAL;
	err = tx_begin(db, 1);
	if (!err)
		err = open_finding(db, k, &id, &peak);
	if (err != -ENOENT)
		return tx_end(db, err); /* already open (or a failure) */
	s = stmt(db, ST_FINDING_INS);
	if (s) {
		bind_S(s, 1, k->boot_id);
		bind_S(s, 2, k->kind);
		bind_S(s, 3, k->unit);
		bind_S(s, 4, k->machine ? k->machine : "");
		bind_S(s, 5, k->subject ? k->subject : "");
		bind_I(s, 6, t_ms);
		bind_D(s, 7, peak_measure);
	}
	err = run(s);
	id = sqlite3_last_insert_rowid(db->h);
	if (!err)
		err = write_figures(db, id, 0, figs, n);
	if (!err)
		err = write_figures(db, id, 1, figs, n);
	return tx_end(db, err);
}

/* The open finding k's peak figures become figs if peak_measure beats the kept one; ended_ms 0: still open. */
static int finding_update(struct db *db, const struct db_finding_key *k, int64_t ended_ms,
			  const struct db_figure *figs, uint32_t n, double peak_measure)
{
	sqlite3_stmt *s;
	int64_t id = 0;
	double peak = NAN;
	int higher, err;

	if (!db || !k || !k->boot_id || !k->kind || !k->unit)
		return -EINVAL;
	err = open_finding(db, k, &id, &peak);
	if (err)
		return err;
	higher = isnan(peak) || peak_measure > peak;
	if (higher) {
		s = stmt(db, ST_FIGURES_DEL);
		if (s) {
			bind_I(s, 1, id);
			bind_I(s, 2, 1);
		}
		err = run(s);
		if (!err)
			err = write_figures(db, id, 1, figs, n);
	}
	/* At its end, also how things stood then (a leak's processes gone, or its growth stopped). */
	if (!err && ended_ms)
		err = write_figures(db, id, 2, figs, n);
	if (!err && (higher || ended_ms)) {
		s = stmt(db, ST_FINDING_END);
		if (s) {
			if (ended_ms)
				bind_I(s, 1, ended_ms);
			else
				sqlite3_bind_null(s, 1);
			bind_D(s, 2, peak_measure);
			bind_D(s, 3, peak_measure);
			bind_I(s, 4, id);
		}
		err = run(s);
	}
	return err;
}

int db__finding_ended(struct db *db, const struct db_finding_key *k, int64_t t_ms,
		      const struct db_figure *figs, uint32_t n, double peak_measure)
{
	int err;

	if (!db)
		return -EINVAL;
	err = tx_begin(db, 1);
	if (!err)
		err = finding_update(db, k, t_ms, figs, n, peak_measure);
	if (err == -ENOENT) {
		tx_end(db, -EINVAL); /* nothing written: not a write failure */
		return -ENOENT;
	}
	return tx_end(db, err);
}

int db__finding_peak(struct db *db, const struct db_finding_key *k, const struct db_figure *figs,
		     uint32_t n, double peak_measure)
{
	int err;

	if (!db)
		return -EINVAL;
	err = tx_begin(db, 0);
	if (!err)
		err = finding_update(db, k, 0, figs, n, peak_measure);
	if (err == -ENOENT) {
		tx_end(db, -EINVAL);
		return -ENOENT;
	}
	return tx_end(db, err);
}

int db__close_stale_findings(struct db *db, const char *boot_id)
{
	sqlite3_stmt *s;
	int err, rc;

	if (!db || !boot_id)
		return -EINVAL;
	err = tx_begin(db, 0);
	if (err)
		return tx_end(db, err);
	rc = sqlite3_prepare_v2(db->h,
				"UPDATE findings SET ended_ms = coalesce((SELECT max(last_ms, "
				"findings.started_ms) FROM boots WHERE boots.boot_id = "
				"findings.boot_id), started_ms) WHERE ended_ms IS NULL AND boot_id != ?",
				-1, &s, NULL);
	if (rc != SQLITE_OK)
		return tx_end(db, errno_of(rc));
	bind_S(s, 1, boot_id);
	err = run(s);
	sqlite3_finalize(s);
	return tx_end(db, err);
}

/* A copy of t in arena, cut to what is left ("" when nothing is). */
static const char *arena_copy(char *arena, size_t size, size_t *used, const unsigned char *t)
{
	size_t n = t ? strlen((const char *)t) : 0;
	char *d = arena + *used;

	if (*used >= size)
		return "";
	if (n >= size - *used)
		n = size - *used - 1;
	memcpy(d, t ? (const char *)t : "", n);
	d[n] = '\0';
	*used += n + 1;
	return d;
}

/* r's ends as bounds: 0 means open at that end. */
static int64_t range_since(const struct db_range *r)
{
	return r && r->since_ms ? r->since_ms : INT64_MIN;
}

static int64_t range_until(const struct db_range *r)
{
	return r && r->until_ms ? r->until_ms : INT64_MAX;
}

int db__each_finding(struct db *db, const char *boot_id, const struct db_range *r,
		     void (*fn)(void *ctx, const struct db_finding *f), void *ctx)
{
	char arena[3 * DB_FINDING_MAX_FIGURES * 320];
	sqlite3_stmt *s, *fs;
	size_t used;
	int rc, ret = 0;

	if (!db || !fn)
		return -EINVAL;
	if (db->version < 2)
		return 0; /* a schema before findings were kept */
	rc = sqlite3_prepare_v2(db->h,
				"SELECT id, kind, unit, machine, subject, started_ms, ended_ms, "
				"peak_measure FROM findings WHERE (?1 IS NULL OR boot_id = ?1) "
				"AND started_ms <= ?3 AND coalesce(ended_ms, ?3) >= ?2 ORDER BY id",
				-1, &s, NULL);
	if (rc != SQLITE_OK)
		return errno_of(rc);
	rc = sqlite3_prepare_v2(db->h,
				"SELECT phase, name, value, text FROM finding_figures "
				"WHERE finding_id = ? ORDER BY rowid",
				-1, &fs, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(s);
		return errno_of(rc);
	}
	if (boot_id)
		bind_S(s, 1, boot_id);
	bind_I(s, 2, range_since(r));
	bind_I(s, 3, range_until(r));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_finding f = { 0 };

		f.id = sqlite3_column_int64(s, 0);
		f.kind = (const char *)sqlite3_column_text(s, 1);
		f.unit = (const char *)sqlite3_column_text(s, 2);
		f.machine = (const char *)sqlite3_column_text(s, 3);
		f.subject = (const char *)sqlite3_column_text(s, 4);
		f.started_ms = sqlite3_column_int64(s, 5);
		f.ended_ms = sqlite3_column_int64(s, 6);
		f.peak_measure = col_D(s, 7);
		sqlite3_reset(fs);
		sqlite3_bind_int64(fs, 1, f.id);
		used = 0;
		/* A row's strings die at the next step: the figures' are copied into arena. */
		while (sqlite3_step(fs) == SQLITE_ROW) {
			int phase = sqlite3_column_int(fs, 0);
			struct db_figure *fig;

			if (phase == 0 && f.n_start < DB_FINDING_MAX_FIGURES)
				fig = &f.start[f.n_start++];
			else if (phase == 1 && f.n_peak < DB_FINDING_MAX_FIGURES)
				fig = &f.peak[f.n_peak++];
			else if (phase == 2 && f.n_end < DB_FINDING_MAX_FIGURES)
				fig = &f.end[f.n_end++];
			else
				continue;
			fig->name = arena_copy(arena, sizeof(arena), &used, sqlite3_column_text(fs, 1));
			fig->value = col_D(fs, 2);
			fig->text = sqlite3_column_type(fs, 3) == SQLITE_NULL
					    ? NULL
					    : arena_copy(arena, sizeof(arena), &used,
							 sqlite3_column_text(fs, 3));
		}
		if (!f.kind || !f.unit)
			continue;
		f.machine = f.machine ? f.machine : "";
		f.subject = f.subject ? f.subject : "";
		fn(ctx, &f);
	}
	if (rc != SQLITE_DONE)
		ret = errno_of(rc);
	sqlite3_finalize(fs);
	sqlite3_finalize(s);
	return ret;
}

int db__add_oom(struct db *db, const struct fig_oom *o)
{
	int err;

	if (!db || !o)
		return -EINVAL;
	err = tx_begin(db, 1);
	if (!err)
		err = write_oom(db, o);
	if (!err)
		err = meta_add(db, "ooms_recorded", 1);
	return tx_end(db, err);
}

int db__add_kill(struct db *db, const struct fig_kill *k)
{
	int err;

	if (!db || !k)
		return -EINVAL;
	err = tx_begin(db, 0);
	if (!err)
		err = write_kill(db, k);
	if (!err)
		err = meta_add(db, "kills_recorded", 1);
	return tx_end(db, err);
}

/* ---- reading the state ------------------------------------------------- */

/* EXE_COLUMNS with its two text columns read with col_text. */
static void read_exe_columns(sqlite3_stmt *s, int i, struct fig_exe *e)
{
#define READ_EXE(col, lv, T) READ_##T(col, lv)
#define READ_U(col, lv) lv = col_U(s, i++);
#define READ_I(col, lv) lv = col_I(s, i++);
#define READ_W(col, lv) lv = col_W(s, i++);
#define READ_D(col, lv) lv = col_D(s, i++);
#define READ_S(col, lv) col_text(s, i++, lv, sizeof(lv));
	EXE_COLUMNS(READ_EXE)
}

static void read_unit_columns(sqlite3_stmt *s, int i, struct fig_unit *u)
{
	UNIT_COLUMNS(READ_EXE)
}

static void parse_hist(const char *t, uint64_t *hist)
{
	char *end;

	for (int b = 0; t && *t && b < RCA_LIFETIME_BUCKETS; b++) {
		while (*t == '[' || *t == ',' || *t == ' ')
			t++;
		hist[b] = strtoull(t, &end, 10);
		if (end == t)
			break;
		t = end;
	}
}

static int prepare(struct db *db, const char *sql, sqlite3_stmt **ret)
{
	return errno_of(sqlite3_prepare_v2(db->h, sql, -1, ret, NULL));
}

static void read_proc(sqlite3_stmt *s, int i, struct fig_proc_ref *p)
{
	p->pid = col_W(s, i);
	col_text(s, i + 1, p->comm, sizeof(p->comm));
	col_text(s, i + 2, p->unit, sizeof(p->unit));
}

static int load_units(struct db *db, struct fig_boot *b)
{
	sqlite3_stmt *us = NULL, *es = NULL, *ss = NULL, *ks = NULL, *fs = NULL;
	char *ucols = strip_comma(UNIT_COLUMNS(COL_NAME)), *ecols = strip_comma(EXE_COLUMNS(COL_NAME));
	char *usql;

	/* A database before schema 3 (read, never upgraded, by a reader) has not the newest columns. */
	if (ucols && db->version < 3) {
		char *old = strstr(ucols, ",kernel_bytes,count");

		if (old)
			memcpy(old, ",-1          ,-1   ", strlen(",kernel_bytes,count"));
	}
	usql = ucols ? build("SELECT id, name, %s FROM units WHERE boot_id = ? ORDER BY id", ucols) : NULL;
	char *esql = ecols ? build("SELECT id, path, %s, lifetime_hist FROM exes WHERE unit_id = ? "
				   "ORDER BY id", ecols) : NULL;
	int err = -ENOMEM, rc;

	if (!usql || !esql)
		goto out;
	if ((err = prepare(db, usql, &us)) || (err = prepare(db, esql, &es)) ||
	    (err = prepare(db, "SELECT kind, value, count FROM exe_status WHERE exe_id = ? "
			       "ORDER BY rowid", &ss)) ||
	    (err = prepare(db, "SELECT sender_unit, signal, by_kernel, count FROM unit_kill_counts "
			       "WHERE unit_id = ? ORDER BY rowid", &ks)) ||
	    (err = prepare(db, "SELECT err, count FROM unit_fork_errnos WHERE unit_id = ? "
			       "ORDER BY rowid", &fs)))
		goto out;
	bind_S(us, 1, b->boot_id);
	while ((rc = sqlite3_step(us)) == SQLITE_ROW) {
		char name[FIG_UNIT_NAME_MAX];
		int64_t id = sqlite3_column_int64(us, 0);
		struct fig_unit *u;
		uint64_t exes_dropped, kco, feo;

		col_text(us, 1, name, sizeof(name));
		u = fig_boot_unit(b, name);
		if (!u) {
			if (errno == ENOSPC)
				continue;
			err = -ENOMEM;
			goto out;
		}
		read_unit_columns(us, 2, u);
		exes_dropped = u->exes_dropped;
		kco = u->kill_counts_other;
		feo = u->fork_errnos_other;
		sqlite3_reset(es);
		sqlite3_bind_int64(es, 1, id);
		while ((rc = sqlite3_step(es)) == SQLITE_ROW) {
			char path[RCA_EXE_PATH_LEN];
			struct fig_exe *e;
			uint64_t status_other;

			col_text(es, 1, path, sizeof(path));
			e = fig_unit_exe(u, path);
			if (!e)
				continue;
			read_exe_columns(es, 2, e);
			status_other = e->status_other;
			parse_hist((const char *)sqlite3_column_text(es, 2 + EXE_NCOLS),
				   e->lifetime_hist);
			sqlite3_reset(ss);
			sqlite3_bind_int64(ss, 1, sqlite3_column_int64(es, 0));
			while (sqlite3_step(ss) == SQLITE_ROW)
				fig_exe_add_status(e, col_W(ss, 0), col_W(ss, 1), col_U(ss, 2));
			e->status_other = status_other;
		}
		if (rc != SQLITE_DONE) {
			err = errno_of(rc);
			goto out;
		}
		sqlite3_reset(ks);
		sqlite3_bind_int64(ks, 1, id);
		while (sqlite3_step(ks) == SQLITE_ROW) {
			char sender[FIG_UNIT_NAME_MAX];

			col_text(ks, 0, sender, sizeof(sender));
			fig_unit_add_kills(u, sender, col_W(ks, 1), col_W(ks, 2), col_U(ks, 3));
		}
		sqlite3_reset(fs);
		sqlite3_bind_int64(fs, 1, id);
		while (sqlite3_step(fs) == SQLITE_ROW)
			fig_unit_add_fork_errno(u, col_W(fs, 0), col_U(fs, 1));
		u->exes_dropped = exes_dropped;
		u->kill_counts_other = kco;
		u->fork_errnos_other = feo;
		/* A writer knows now what the database holds: unchanged units are not rewritten. */
		if (db->mode == DB_WRITE) {
			struct unit_slot *slot = slot_of(db, unit_key(b->boot_id, u->name));

			if (slot) {
				slot->unit_id = id;
				slot->content = unit_content(u);
				slot->extras = extras_hash(u);
			}
		}
	}
	err = rc == SQLITE_DONE ? 0 : errno_of(rc);
out:
	sqlite3_finalize(us);
	sqlite3_finalize(es);
	sqlite3_finalize(ss);
	sqlite3_finalize(ks);
	sqlite3_finalize(fs);
	free(ucols);
	free(ecols);
	free(usql);
	free(esql);
	return err;
}

/* The OOM kills in r, oldest first; only the newest limit of them (-1: all). */
static int read_ooms(struct db *db, const struct db_range *r, int64_t limit,
		     int (*fn)(void *ctx, const struct fig_oom *o), void *ctx)
{
	sqlite3_stmt *s = NULL, *t = NULL, *ch = NULL;
	int err, rc = SQLITE_DONE;

	err = prepare(db, "SELECT * FROM (SELECT id, time_ms, boot_id, victim_pid, victim_comm, "
			  "victim_unit, oom_constraint, memcg, memcg_limit_bytes, memcg_usage_bytes, "
			  "rss_anon_kib, rss_file_kib, rss_shmem_kib, oom_score_adj, trigger_pid, "
			  "trigger_comm, trigger_unit FROM ooms WHERE time_ms BETWEEN ?1 AND ?2 "
			  "ORDER BY id DESC LIMIT ?3) ORDER BY id", &s);
	if (!err)
		err = prepare(db, "SELECT by_growth, unit, rss_kib, growth_kib_per_s FROM oom_top "
				  "WHERE oom_id = ? ORDER BY by_growth, rank", &t);
	if (!err && db->version >= 3)
		err = prepare(db, "SELECT storm_unit, growing_unit, kib_per_start, growth_kib, starts "
				  "FROM oom_churn WHERE oom_id = ? ORDER BY rowid", &ch);
	if (err)
		goto out;
	bind_I(s, 1, range_since(r));
	bind_I(s, 2, range_until(r));
	bind_I(s, 3, limit);
	while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct fig_oom o;

		memset(&o, 0, sizeof(o));
		o.time_ms = col_I(s, 1);
		col_text(s, 2, o.boot_id, sizeof(o.boot_id));
		read_proc(s, 3, &o.victim);
		col_text(s, 6, o.constraint, sizeof(o.constraint));
		col_text(s, 7, o.memcg, sizeof(o.memcg));
		o.memcg_limit_bytes = col_I(s, 8);
		o.memcg_usage_bytes = col_I(s, 9);
		o.rss_anon_kib = col_U(s, 10);
		o.rss_file_kib = col_U(s, 11);
		o.rss_shmem_kib = col_U(s, 12);
		o.oom_score_adj = (int32_t)col_I(s, 13);
		read_proc(s, 14, &o.trigger);
		sqlite3_reset(t);
		sqlite3_bind_int64(t, 1, col_I(s, 0));
		while (sqlite3_step(t) == SQLITE_ROW) {
			int g = sqlite3_column_int(t, 0);
			uint32_t *n = g ? &o.n_top_growth : &o.n_top_rss;
			struct fig_top_unit *tu = g ? o.top_growth : o.top_rss;

			if (*n >= FIG_OOM_TOP_UNITS)
				continue;
			col_text(t, 1, tu[*n].unit, sizeof(tu[*n].unit));
			tu[*n].rss_kib = col_U(t, 2);
			tu[*n].growth_kib_per_s = col_D(t, 3);
			(*n)++;
		}
		if (ch) {
			sqlite3_reset(ch);
			sqlite3_bind_int64(ch, 1, col_I(s, 0));
			while (sqlite3_step(ch) == SQLITE_ROW && o.n_churn < FIG_OOM_CHURN) {
				struct fig_churn_link *c = &o.churn[o.n_churn++];

				col_text(ch, 0, c->storm_unit, sizeof(c->storm_unit));
				col_text(ch, 1, c->growing_unit, sizeof(c->growing_unit));
				c->kib_per_start = col_D(ch, 2);
				c->growth_kib = col_D(ch, 3);
				c->starts = col_U(ch, 4);
			}
		}
		err = fn(ctx, &o);
	}
	if (!err && rc != SQLITE_DONE)
		err = errno_of(rc);
out:
	sqlite3_finalize(s);
	sqlite3_finalize(t);
	sqlite3_finalize(ch);
	return err;
}

/* The kill records in r, oldest first; only the newest limit of them (-1: all). */
static int read_kills(struct db *db, const struct db_range *r, int64_t limit,
		      int (*fn)(void *ctx, const struct fig_kill *k), void *ctx)
{
	sqlite3_stmt *s = NULL, *t = NULL;
	int err, rc = SQLITE_DONE;

	err = prepare(db, "SELECT * FROM (SELECT id, time_ms, boot_id, signal, by_kernel, result, "
			  "sender_pid, sender_comm, sender_unit, target_pid, target_comm, target_unit "
			  "FROM kills WHERE time_ms BETWEEN ?1 AND ?2 ORDER BY id DESC LIMIT ?3) "
			  "ORDER BY id", &s);
	if (!err)
		err = prepare(db, "SELECT pid, comm, unit FROM kill_lineage WHERE kill_id = ? "
				  "ORDER BY depth", &t);
	if (err)
		goto out;
	bind_I(s, 1, range_since(r));
	bind_I(s, 2, range_until(r));
	bind_I(s, 3, limit);
	while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct fig_kill k;

		memset(&k, 0, sizeof(k));
		k.time_ms = col_I(s, 1);
		col_text(s, 2, k.boot_id, sizeof(k.boot_id));
		k.signal = col_W(s, 3);
		k.by_kernel = col_W(s, 4);
		k.result = (int32_t)col_I(s, 5);
		read_proc(s, 6, &k.sender);
		read_proc(s, 9, &k.target);
		sqlite3_reset(t);
		sqlite3_bind_int64(t, 1, col_I(s, 0));
		while (sqlite3_step(t) == SQLITE_ROW && k.n_lineage < FIG_LINEAGE_MAX)
			read_proc(t, 0, &k.lineage[k.n_lineage++]);
		err = fn(ctx, &k);
	}
	if (!err && rc != SQLITE_DONE)
		err = errno_of(rc);
out:
	sqlite3_finalize(s);
	sqlite3_finalize(t);
	return err;
}

static int state_add_oom(void *ctx, const struct fig_oom *o)
{
	return fig_state_add_oom(ctx, o);
}

static int state_add_kill(void *ctx, const struct fig_kill *k)
{
	return fig_state_add_kill(ctx, k);
}

/* The newest OOM kills and kill records, as many as a state keeps. */
static int load_records(struct db *db, struct fig_state *st)
{
	int err = read_ooms(db, NULL, FIG_MAX_OOMS, state_add_oom, st);

	return err ? err : read_kills(db, NULL, FIG_MAX_KILLS, state_add_kill, st);
}

int db__each_oom(struct db *db, const struct db_range *r,
		 int (*fn)(void *ctx, const struct fig_oom *o), void *ctx)
{
	return db && fn ? read_ooms(db, r, -1, fn, ctx) : -EINVAL;
}

int db__each_kill(struct db *db, const struct db_range *r,
		  int (*fn)(void *ctx, const struct fig_kill *k), void *ctx)
{
	return db && fn ? read_kills(db, r, -1, fn, ctx) : -EINVAL;
}

int db__each_boot(struct db *db, int (*fn)(void *ctx, const char *boot_id, int64_t first_ms,
					     int64_t last_ms), void *ctx)
{
	sqlite3_stmt *s;
	int err, rc = SQLITE_DONE;

	if (!db || !fn)
		return -EINVAL;
	/* seq orders boots oldest first (it is what save_boots writes). */
	err = prepare(db, "SELECT boot_id, first_ms, last_ms FROM boots ORDER BY seq", &s);
	while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		char id[FIG_BOOT_ID_MAX];

		col_text(s, 0, id, sizeof(id));
		err = fn(ctx, id, col_I(s, 1), col_I(s, 2));
	}
	if (!err && rc != SQLITE_DONE)
		err = errno_of(rc);
	sqlite3_finalize(s);
	return err;
}

/* A machine column as read: NULL is unknown (-1). */
static int64_t col_known(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, i);
}

/*
 * Rows come ordered by unit, then time: the WITHOUT ROWID table is keyed by
 * time first, so SQLite sorts what the range selects (a read command's cost,
 * never the writer's).
 */
int db__each_series(struct db *db, const struct db_range *r,
		    int (*want)(void *ctx, const char *unit),
		    int (*fn)(void *ctx, const struct db_series *ser), void *ctx)
{
	struct db_point *p = NULL;
	uint32_t n = 0, cap = 0;
	int64_t cur = -1;
	char boot[FIG_BOOT_ID_MAX] = "", unit[FIG_UNIT_NAME_MAX] = "";
	int skip = 0, err, rc = SQLITE_DONE;
	sqlite3_stmt *s;
	char sql[640];

	if (!db || !fn)
		return -EINVAL;
	/* Before schema 3 there was no memory beyond RSS: NULL, unknown. */
	snprintf(sql, sizeof(sql),
		 "SELECT s.unit_id, u.boot_id, u.name, s.t_ms, s.rss_anon_kib, "
		 "s.rss_file_kib, s.rss_shmem_kib, s.starts, s.execs, s.exits, "
		 "s.exits_failed, s.forks, s.forks_failed, s.kills_received, %s FROM series s "
		 "JOIN units u ON u.id = s.unit_id WHERE s.t_ms BETWEEN ?1 AND ?2 "
		 "ORDER BY s.unit_id, s.t_ms",
		 db->version >= 3 ? "s.memcg_kib, s.kernel_kib, s.count" : "NULL, NULL, NULL");
	err = prepare(db, sql, &s);
	if (err)
		return err;
	bind_I(s, 1, range_since(r));
	bind_I(s, 2, range_until(r));
	for (;;) {
		int64_t id;
		struct db_point *q;

		rc = sqlite3_step(s);
		id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -2;
		if (id != cur && cur != -1 && !skip && n) {
			struct db_series ser = { .boot_id = boot, .unit = unit, .p = p, .n = n };

			if ((err = fn(ctx, &ser)))
				break;
		}
		if (rc != SQLITE_ROW)
			break;
		if (id != cur) {
			cur = id;
			n = 0;
			col_text(s, 1, boot, sizeof(boot));
			col_text(s, 2, unit, sizeof(unit));
			skip = want && !want(ctx, unit);
		}
		if (skip)
			continue;
		if (n == cap) {
			uint32_t ncap = cap ? cap * 2 : 256;

			q = realloc(p, ncap * sizeof(*p));
			if (!q) {
				err = -ENOMEM;
				break;
			}
			p = q;
			cap = ncap;
		}
		q = &p[n++];
		q->t_ms = col_I(s, 3);
		q->rss_anon_kib = col_U(s, 4);
		q->rss_file_kib = col_U(s, 5);
		q->rss_shmem_kib = col_U(s, 6);
		q->starts = col_U(s, 7);
		q->execs = col_U(s, 8);
		q->exits = col_U(s, 9);
		q->exits_failed = col_U(s, 10);
		q->forks = col_U(s, 11);
		q->forks_failed = col_U(s, 12);
		q->kills_received = col_U(s, 13);
		q->memcg_kib = col_known(s, 14);
		q->kernel_kib = col_known(s, 15);
		q->count = col_known(s, 16);
	}
	if (!err && rc != SQLITE_DONE)
		err = errno_of(rc);
	sqlite3_finalize(s);
	free(p);
	return err;
}

int db__each_machine_point(struct db *db, const struct db_range *r,
			   int (*fn)(void *ctx, const struct db_machine_point *m), void *ctx)
{
	sqlite3_stmt *s;
	int err, rc = SQLITE_DONE;

	if (!db || !fn)
		return -EINVAL;
	if (db->version < 3)
		return 0; /* a schema before the machine's rows were kept */
	err = prepare(db, "SELECT t_ms, " MACHINE_COLUMNS " FROM machine_series "
			  "WHERE t_ms BETWEEN ?1 AND ?2 ORDER BY t_ms, res", &s);
	if (err)
		return err;
	bind_I(s, 1, range_since(r));
	bind_I(s, 2, range_until(r));
	while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_machine_point m = {
			.t_ms = col_I(s, 0),
			.mem_total_kib = col_known(s, 1),
			.mem_available_kib = col_known(s, 2),
			.slab_kib = col_known(s, 3),
			.sunreclaim_kib = col_known(s, 4),
			.kernel_stack_kib = col_known(s, 5),
			.page_tables_kib = col_known(s, 6),
			.percpu_kib = col_known(s, 7),
			.dying_cgroups = col_known(s, 8),
		};

		err = fn(ctx, &m);
	}
	if (!err && rc != SQLITE_DONE)
		err = errno_of(rc);
	sqlite3_finalize(s);
	return err;
}

int db__load_state(struct db *db, struct fig_state *out)
{
	struct fig_state st;
	sqlite3_stmt *s = NULL;
	int err, rc, began;

	if (!db || !out)
		return -EINVAL;
	fig_state_init(&st);
	/* One read transaction: a snapshot, whatever the writer commits meanwhile. */
	began = !db->in_tx && exec(db, "BEGIN") == 0;
	st.written_ms = meta_get(db, "written_ms");
	st.interval_ms = (uint32_t)meta_get(db, "interval_ms");
	st.units_unnamed = (uint64_t)meta_get(db, "units_unnamed");
	st.boots_dropped = (uint64_t)meta_get(db, "boots_dropped");
	err = prepare(db, "SELECT kind, count FROM lost", &s);
	while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		int k = sqlite3_column_int(s, 0);

		if (k >= 0 && k < RCA_LOST_KIND_MAX)
			st.lost[k] = col_U(s, 1);
	}
	sqlite3_finalize(s);
	s = NULL;
	if (!err)
		err = prepare(db, "SELECT boot_id, first_ms, last_ms, units_dropped FROM boots "
				  "ORDER BY seq", &s);
	while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		char id[FIG_BOOT_ID_MAX];
		struct fig_boot *b;

		col_text(s, 0, id, sizeof(id));
		b = fig_state_boot(&st, id);
		if (!b) {
			err = -ENOMEM;
			break;
		}
		b->first_ms = col_I(s, 1);
		b->last_ms = col_I(s, 2);
		b->units_dropped = col_U(s, 3);
		err = load_units(db, b);
	}
	sqlite3_finalize(s);
	if (!err)
		err = load_records(db, &st);
	if (!err) {
		uint64_t ooms = (uint64_t)meta_get(db, "ooms_recorded");
		uint64_t kills = (uint64_t)meta_get(db, "kills_recorded");

		st.ooms_dropped = ooms > st.n_ooms ? ooms - st.n_ooms : 0;
		st.kills_dropped = kills > st.n_kills ? kills - st.n_kills : 0;
	}
	if (began)
		exec(db, "COMMIT");
	if (err) {
		fig_state_free(&st);
		return err;
	}
	*out = st;
	return 0;
}

/* ---- housekeeping ------------------------------------------------------ */

static int exec_bound(struct db *db, const char *sql, int64_t a, int64_t *changes)
{
	sqlite3_stmt *s;
	int err = prepare(db, sql, &s);

	if (err)
		return err;
	sqlite3_bind_int64(s, 1, a);
	err = run(s);
	sqlite3_finalize(s);
	if (!err && changes)
		*changes += sqlite3_changes(db->h);
	return err;
}

/*
 * The machine's rows folded like the units': the bucket's lowest available
 * memory (its worst moment) and the highest of the rest.
 */
static int fold_machine(struct db *db, int res, int64_t bucket_ms, int64_t cut)
{
	char sql[1024];
	int err;

	if (db->version < 3)
		return 0;
	snprintf(sql, sizeof(sql),
		 "INSERT OR REPLACE INTO machine_series(res, t_ms, " MACHINE_COLUMNS ") "
		 "SELECT %d, t_ms / %lld * %lld, max(mem_total_kib), min(mem_available_kib), "
		 "max(slab_kib), max(sunreclaim_kib), max(kernel_stack_kib), max(page_tables_kib), "
		 "max(percpu_kib), max(dying_cgroups) FROM machine_series "
		 "WHERE res = %d AND t_ms < ?1 GROUP BY t_ms / %lld",
		 res + 1, (long long)bucket_ms, (long long)bucket_ms, res, (long long)bucket_ms);
	err = exec_bound(db, sql, cut, NULL);
	snprintf(sql, sizeof(sql), "DELETE FROM machine_series WHERE res = %d AND t_ms < ?1", res);
	if (!err)
		err = exec_bound(db, sql, cut, NULL);
	return err;
}

/* Folds the rows of resolution res older than cut into buckets of bucket_ms at res + 1. */
static int fold(struct db *db, int res, int64_t bucket_ms, int64_t cut)
{
	char sql[1024];
	int err;

	cut = cut / bucket_ms * bucket_ms; /* whole buckets only: none is made twice */
	snprintf(sql, sizeof(sql),
		 "INSERT OR REPLACE INTO series(unit_id, res, t_ms, rss_anon_kib, rss_file_kib, "
		 "rss_shmem_kib, "
		 "starts, execs, exits, exits_failed, forks, forks_failed, kills_received%s) "
		 "SELECT unit_id, %d, t_ms / %lld * %lld, max(rss_anon_kib), max(rss_file_kib), "
		 "max(rss_shmem_kib), max(starts), max(execs), max(exits), max(exits_failed), "
		 "max(forks), max(forks_failed), max(kills_received)%s FROM series "
		 "WHERE res = %d AND t_ms < ?1 GROUP BY unit_id, t_ms / %lld",
		 db->version >= 3 ? ", memcg_kib, kernel_kib, count" : "",
		 res + 1, (long long)bucket_ms, (long long)bucket_ms,
		 db->version >= 3 ? ", max(memcg_kib), max(kernel_kib), max(count)" : "", res,
		 (long long)bucket_ms);
	err = exec_bound(db, sql, cut, NULL);
	snprintf(sql, sizeof(sql), "DELETE FROM series WHERE res = %d AND t_ms < ?1", res);
	if (!err)
		err = exec_bound(db, sql, cut, NULL);
	return err ? err : fold_machine(db, res, bucket_ms, cut);
}

uint64_t db__used_bytes(struct db *db)
{
	int64_t pages = 0, free_pages = 0, page_size = 0;

	if (!db || query_int(db, "PRAGMA page_count", &pages) ||
	    query_int(db, "PRAGMA freelist_count", &free_pages) ||
	    query_int(db, "PRAGMA page_size", &page_size))
		return 0;
	return (uint64_t)(pages - free_pages) * (uint64_t)page_size;
}

static uint64_t file_bytes(struct db *db)
{
	int64_t pages = 0, page_size = 0;

	if (query_int(db, "PRAGMA page_count", &pages) || query_int(db, "PRAGMA page_size", &page_size))
		return 0;
	return (uint64_t)pages * (uint64_t)page_size;
}

/* The oldest PRUNE_BATCH rows of what history is left, oldest kind first. 0 rows: nothing left. */
static int prune_oldest(struct db *db, int64_t *dropped)
{
	/* Whole samples: up to the PRUNE_BATCH-th oldest row's time (all of res if fewer). */
	static const char *const series_sql =
		"DELETE FROM series WHERE res = ?1 AND t_ms <= coalesce((SELECT t_ms FROM series "
		"WHERE res = ?1 ORDER BY t_ms LIMIT 1 OFFSET " "5000" "), 9223372036854775807)";
	static const char *const rest[] = {
		"DELETE FROM finding_figures WHERE finding_id IN (SELECT id FROM findings WHERE "
		"ended_ms IS NOT NULL ORDER BY id LIMIT ?1)",
		"DELETE FROM findings WHERE id IN (SELECT id FROM findings WHERE ended_ms IS NOT NULL "
		"ORDER BY id LIMIT ?1)",
		"DELETE FROM oom_top WHERE oom_id IN (SELECT id FROM ooms ORDER BY id LIMIT ?1)",
		"DELETE FROM ooms WHERE id IN (SELECT id FROM ooms ORDER BY id LIMIT ?1)",
		"DELETE FROM kill_lineage WHERE kill_id IN (SELECT id FROM kills ORDER BY id LIMIT ?1)",
		"DELETE FROM kills WHERE id IN (SELECT id FROM kills ORDER BY id LIMIT ?1)",
	};
	int64_t oldest = INT64_MAX, t, before = *dropped;
	int res = -1, err;

	for (int r = 0; r < 3; r++) {
		char sql[96];

		snprintf(sql, sizeof(sql), "SELECT coalesce(min(t_ms), %lld) FROM series WHERE res = %d",
			 (long long)INT64_MAX, r);
		if ((err = query_int(db, sql, &t)))
			return err;
		if (t < oldest) {
			oldest = t;
			res = r;
		}
	}
	if (res >= 0) {
		err = exec_bound(db, series_sql, res, dropped);
		/* The machine's rows go with the units' of their time. */
		if (!err && db->version >= 3)
			err = exec_bound(db, "DELETE FROM machine_series WHERE t_ms < coalesce((SELECT "
					     "min(t_ms) FROM series), ?1)", INT64_MAX, dropped);
		return err;
	}
	/* No series left: the oldest ended findings, then OOM kills, then kill records. */
	for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]) && *dropped == before; i += 2) {
		int64_t none = 0;

		if ((err = exec_bound(db, rest[i], PRUNE_BATCH / 10, &none)) ||
		    (err = exec_bound(db, rest[i + 1], PRUNE_BATCH / 10, dropped)))
			return err;
	}
	return *dropped == before ? -ENOENT : 0;
}

int db__maintain(struct db *db, int64_t now_ms)
{
	int64_t dropped = 0, none = 0, old = now_ms - db->retain_ms;
	int err;

	if (!db)
		return -EINVAL;
	err = tx_begin(db, 0);
	if (!err)
		err = fold(db, 0, 60000, now_ms - DB_RAW_KEEP_MS);
	if (!err)
		err = fold(db, 1, 600000, now_ms - DB_MINUTE_KEEP_MS);
	if (!err)
		err = exec_bound(db, "DELETE FROM series WHERE t_ms < ?1", old, &dropped);
	if (!err && db->version >= 3)
		err = exec_bound(db, "DELETE FROM machine_series WHERE t_ms < ?1", old, &dropped);
	if (!err)
		err = exec_bound(db, "DELETE FROM finding_figures WHERE finding_id IN (SELECT id FROM "
				     "findings WHERE ended_ms < ?1)", old, &none);
	if (!err)
		err = exec_bound(db, "DELETE FROM findings WHERE ended_ms < ?1", old, &dropped);
	if (!err)
		err = exec_bound(db, "DELETE FROM oom_top WHERE oom_id IN (SELECT id FROM ooms "
				     "WHERE time_ms < ?1)", old, &none);
	if (!err && db->version >= 3)
		err = exec_bound(db, "DELETE FROM oom_churn WHERE oom_id IN (SELECT id FROM ooms "
				     "WHERE time_ms < ?1)", old, &none);
	if (!err)
		err = exec_bound(db, "DELETE FROM ooms WHERE time_ms < ?1", old, &dropped);
	if (!err)
		err = exec_bound(db, "DELETE FROM kill_lineage WHERE kill_id IN (SELECT id FROM kills "
				     "WHERE time_ms < ?1)", old, &none);
	if (!err)
		err = exec_bound(db, "DELETE FROM kills WHERE time_ms < ?1", old, &dropped);
	/* The file's size, not only what is in use: free pages are reused, but never given back. */
	if (!err && file_bytes(db) > CAP_HIGH(db->max_bytes)) {
		while (!err && db__used_bytes(db) > CAP_LOW(db->max_bytes))
			err = prune_oldest(db, &dropped);
		if (err == -ENOENT)
			err = 0; /* only the totals are left: they stay */
	}
	/* The cap drops OOM kills without their storms: those go with them. */
	if (!err && db->version >= 3)
		err = exec_bound(db, "DELETE FROM oom_churn WHERE oom_id NOT IN (SELECT id FROM ooms) "
				     "AND ?1 = ?1", 0, &none);
	if (!err)
		err = loss_add(db, "rows_dropped", (uint64_t)dropped);
	return tx_end(db, err);
}

int db__sync(struct db *db)
{
	int err;

	if (!db || !db->unsynced)
		return 0;
	err = tx_begin(db, 1);
	if (!err)
		err = meta_set(db, "synced_ms", 0);
	return tx_end(db, err);
}

void db__losses(struct db *db, struct db_losses *ret)
{
	sqlite3_stmt *s;

	memset(ret, 0, sizeof(*ret));
	if (!db)
		return;
	if (prepare(db, "SELECT what, count FROM store_losses", &s) == 0) {
		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *w = (const char *)sqlite3_column_text(s, 0);

			if (w && strcmp(w, "rows_dropped") == 0)
				ret->rows_dropped = col_U(s, 1);
			else if (w && strcmp(w, "write_failures") == 0)
				ret->write_failures = col_U(s, 1);
		}
		sqlite3_finalize(s);
	}
	ret->write_failures += db->pending_failures;
}
