/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The store: one SQLite database (WAL journal) that keeps the figures of past
 * runs across restarts and reboots, a time series per unit, every finding as
 * an interval, OOM kills and kill records. Operators may query it with
 * sqlite3; its schema is the one in db.c (schema_steps[]), versioned by
 * PRAGMA user_version and marked by PRAGMA application_id 0x52434154 ("RCAT").
 *
 * Tables (every time is unix ms, every counter an INTEGER; a u64 past 2^63
 * would read back negative in sqlite3, never in rcatrace):
 *   meta(key, value)            written_ms, interval_ms, units_unnamed,
 *                               boots_dropped, ooms_recorded, kills_recorded
 *   lost(kind, count)           kernel-side losses, kind = enum rca_lost_kind
 *   store_losses(what, count)   rows_dropped (retention and the size cap),
 *                               write_failures (a full disk, an I/O error)
 *   boots(boot_id, seq, first_ms, last_ms, units_dropped)   seq: oldest first
 *   units(id, boot_id, name, <every fig_unit figure>)       one row per unit
 *   exes(id, unit_id, path, <every fig_exe figure>, lifetime_hist)
 *                               lifetime_hist: a JSON array of RCA_LIFETIME_BUCKETS counts
 *   exe_status(exe_id, kind, value, count)     kind: enum rca_status_kind (exit code, signal)
 *   unit_kill_counts(unit_id, sender_unit, signal, by_kernel, count)
 *   unit_fork_errnos(unit_id, err, count)
 *   series(res, t_ms, unit_id, rss_anon_kib, rss_file_kib, rss_shmem_kib,
 *          starts, execs, exits, exits_failed, forks, forks_failed, kills_received,
 *          memcg_kib, kernel_kib, count)     the last three NULL where unknown
 *          WITHOUT ROWID, keyed (res, t_ms, unit_id): one b-tree in time order
 *          res 0: one row per sample in which one of these changed, kept 24 h;
 *          res 1: 1-minute buckets, kept 7 days; res 2: 10-minute buckets, kept
 *          until --retain. Counters are cumulative within the boot (a rate is
 *          the difference of two rows); memory is resident KiB. A bucket row
 *          has t_ms = the bucket's start, the counters at its end and the
 *          highest memory of each kind within it.
 *   findings(id, boot_id, kind, unit, machine, subject, started_ms, ended_ms,
 *            peak_measure)     ended_ms NULL while open; subject: the
 *                              executable of a respawn storm, else ''
 *   finding_figures(finding_id, phase, name, value, text)
 *                               phase 0: at the start, 1: at the peak (the
 *                               figures whose peak_measure was the highest seen),
 *                               2: at the end
 *   machine_series(res, t_ms, mem_total_kib, mem_available_kib, slab_kib,
 *          sunreclaim_kib, kernel_stack_kib, page_tables_kib, percpu_kib,
 *          dying_cgroups)      the machine's memory, NULL where unknown; a row
 *                              with each sample that writes units' rows, else
 *                              when used memory moved by 1/64 or once a minute;
 *                              folded like series (bucket: lowest available)
 *   ooms(id, ...), oom_top(oom_id, by_growth, rank, unit, rss_kib, growth_kib_per_s)
 *   kills(id, ...), kill_lineage(kill_id, depth, pid, comm, unit)
 *
 * A newer build upgrades an older database at open, in one transaction, step
 * by step (schema_steps[user_version..]); a database of a newer schema than
 * this build knows is refused, never rewritten. Version 1 had no findings
 * tables; version 2 added findings and finding_figures; version 3 added
 * machine_series (and phase 2 figures, at a finding's end).
 *
 * Reading: series rows of one unit, e.g. its starts per 10 minutes of a week:
 *   SELECT s.t_ms, s.starts FROM series s JOIN units u ON u.id = s.unit_id
 *   WHERE u.boot_id = ? AND u.name = ? AND s.res = 2 ORDER BY s.t_ms;
 */
#ifndef RCATRACE_DB_H
#define RCATRACE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "figures.h"

#define DB_SCHEMA_VERSION 3
#define DB_APPLICATION_ID 0x52434154
#define DB_DEFAULT_MAX_BYTES (256ull << 20)
#define DB_DEFAULT_RETAIN_MS (90ll * 86400 * 1000)
/* Raw samples are kept this long, then 1-minute buckets, then 10-minute ones. */
#define DB_RAW_KEEP_MS (24ll * 3600 * 1000)
#define DB_MINUTE_KEEP_MS (7ll * 86400 * 1000)

enum db_mode {
	DB_WRITE = 0, /* creates path (and its directory, 0700; the file 0600) */
	DB_READ = 1,  /* never creates; refuses what is not a whole rcatrace database */
};

struct db;

struct db_opts {
	uint64_t max_bytes; /* 0: DB_DEFAULT_MAX_BYTES */
	int64_t retain_ms;  /* 0: DB_DEFAULT_RETAIN_MS */
};

/*
 * Opens path. NULL with errno set and a one-line reason in err:
 *  ENOENT missing (DB_READ), EACCES/EPERM, ENOTDIR/EISDIR,
 *  EBADMSG not an rcatrace database or corrupt (PRAGMA quick_check),
 *  EPROTONOSUPPORT a newer schema than this build knows,
 *  ENOSPC/EIO the database could not be created or upgraded.
 */
struct db *db__open(const char *path, enum db_mode mode, const struct db_opts *opts, char *err,
		    size_t errlen);
void db__free(struct db *db);
/*
 * Renames path to path.corrupt (and path-wal to path.corrupt-wal; path-shm,
 * derived, is removed), replacing older ones; stores the new name. 0 or -errno.
 */
int db__set_aside(const char *path, char *ret_newpath, size_t size);

/*
 * Writes what changed in s since the last save through this handle (units
 * whose figures did not change are not rewritten), in one transaction. sync:
 * committed with the WAL fsynced. 0 or -errno (-ENOSPC disk full, -EIO); on
 * failure nothing of it is kept and the next save writes everything again.
 */
int db__save_state(struct db *db, const struct fig_state *s, int sync);
/* Reads the whole state; out is initialised and filled only on success. 0 or -errno. */
int db__load_state(struct db *db, struct fig_state *out);

/*
 * One sample of boot b at t_ms: a series row for each unit whose series
 * figures changed since the last call, in one transaction. 0 or -errno.
 */
int db__add_sample_series(struct db *db, const struct fig_boot *b, int64_t t_ms);

/* The machine's memory at a sample (KiB; dying_cgroups a count); -1 where unknown. */
struct db_machine_point {
	int64_t t_ms;
	int64_t mem_total_kib, mem_available_kib;
	int64_t slab_kib, sunreclaim_kib, kernel_stack_kib, page_tables_kib, percpu_kib;
	int64_t dying_cgroups;
};

/* ---- reading the history (timeline, history, report) ------------------ */

/* One row of a unit's series: counters cumulative within the boot, memory resident KiB. */
struct db_point {
	int64_t t_ms;
	uint64_t rss_anon_kib, rss_file_kib, rss_shmem_kib;
	uint64_t starts, execs, exits, exits_failed, forks, forks_failed, kills_received;
	int64_t memcg_kib, kernel_kib; /* the cgroup's charge and its kernel part; -1 unknown */
	int64_t count;		       /* a pseudo-unit's count (kernel:dying_cgroups); -1 */
};

/* The series of one unit in one boot, oldest first; valid until the callback returns. */
struct db_series {
	const char *boot_id;
	const char *unit; /* as stored: "MACHINE:unit" for a machine's units */
	const struct db_point *p;
	uint32_t n;
};

/* A time range, unix ms; 0: open at that end. */
struct db_range {
	int64_t since_ms, until_ms;
};

/*
 * Calls fn for the series of every unit (of every boot) with rows in range r
 * (NULL: all) whose name want accepts (NULL: every unit), in the order units
 * were first stored; each series oldest first, mixing resolutions (they never
 * overlap in time). 0 or -errno (-ENOMEM, or fn's own negative return).
 */
int db__each_series(struct db *db, const struct db_range *r,
		    int (*want)(void *ctx, const char *unit),
		    int (*fn)(void *ctx, const struct db_series *s), void *ctx);
/* Calls fn for each of the machine's rows in r, oldest first. 0 or -errno. */
int db__each_machine_point(struct db *db, const struct db_range *r,
			   int (*fn)(void *ctx, const struct db_machine_point *m), void *ctx);
/* Calls fn for each OOM kill / kill record in r (NULL: all), oldest first. 0 or -errno. */
int db__each_oom(struct db *db, const struct db_range *r,
		 int (*fn)(void *ctx, const struct fig_oom *o), void *ctx);
int db__each_kill(struct db *db, const struct db_range *r,
		  int (*fn)(void *ctx, const struct fig_kill *k), void *ctx);
/* Calls fn for each boot the store knows, oldest first. 0 or -errno. */
int db__each_boot(struct db *db, int (*fn)(void *ctx, const char *boot_id, int64_t first_ms,
					     int64_t last_ms), void *ctx);

/*
 * db__add_sample_series() and, in the same transaction, the machine's row m
 * (NULL: none): written with a sample that writes anyway, else only when used
 * memory moved by more than 1/64 or a minute passed (a quiet machine's disk
 * is not woken every sample). 0 or -errno.
 */
int db__add_sample(struct db *db, const struct fig_boot *b, const struct db_machine_point *m,
		   int64_t t_ms);

/* A figure of a finding: a number (text NULL) or a text (value ignored). */
struct db_figure {
	const char *name;
	double value;
	const char *text;
};

#define DB_FINDING_MAX_FIGURES 16

struct db_finding_key {
	const char *boot_id;
	const char *kind;    /* "respawn_storm", "fork_storm", "leak_suspect", "crash_storm" */
	const char *unit;
	const char *machine; /* "" for the host's own units */
	const char *subject; /* the executable of a respawn storm; "" otherwise */
};

/*
 * A finding starts: a row opened at t_ms with its figures at the start (and,
 * so far, at the peak), committed and fsynced before this returns. One still
 * open with the same key (a restarted run seeing the same storm) is kept.
 * peak_measure orders the figures for the peak: e.g. window starts of a
 * respawn storm, resident KiB of a leak. 0 or -errno.
 */
int db__finding_started(struct db *db, const struct db_finding_key *k, int64_t t_ms,
			const struct db_figure *figs, uint32_t n, double peak_measure);
/*
 * A finding ends: its open row is closed at t_ms; figs replace its peak
 * figures when peak_measure is higher than the one kept. Committed and
 * fsynced. 0, -ENOENT when no such finding is open, or -errno.
 */
int db__finding_ended(struct db *db, const struct db_finding_key *k, int64_t t_ms,
		      const struct db_figure *figs, uint32_t n, double peak_measure);
/*
 * A finding still open: figs replace its peak figures when peak_measure is
 * higher than the one kept. Committed without an fsync (the next one brings
 * it). 0, -ENOENT when no such finding is open, or -errno.
 */
int db__finding_peak(struct db *db, const struct db_finding_key *k, const struct db_figure *figs,
		     uint32_t n, double peak_measure);
/* Closes the findings of boots other than boot_id left open (at their boot's last_ms). */
int db__close_stale_findings(struct db *db, const char *boot_id);

/* A finding as read back; the figures' strings live until the callback returns. */
struct db_finding {
	int64_t id;
	const char *kind, *unit, *machine, *subject;
	int64_t started_ms;
	int64_t ended_ms; /* 0: open */
	double peak_measure;
	uint32_t n_start, n_peak, n_end; /* n_end 0: open, or ended before schema 3 kept it */
	struct db_figure start[DB_FINDING_MAX_FIGURES];
	struct db_figure peak[DB_FINDING_MAX_FIGURES];
	struct db_figure end[DB_FINDING_MAX_FIGURES];
};

/*
 * Calls fn for every finding of boot_id (NULL: of every boot) open at some
 * time in range r (NULL: any), oldest first. 0 or -errno.
 */
int db__each_finding(struct db *db, const char *boot_id, const struct db_range *r,
		     void (*fn)(void *ctx, const struct db_finding *f), void *ctx);

/*
 * An OOM kill, committed and fsynced before this returns; it also counts as
 * saved for db__save_state() (which otherwise adds the state's new OOM and
 * kill records itself). 0 or -errno.
 */
int db__add_oom(struct db *db, const struct fig_oom *o);

/*
 * A kill record, committed (without an fsync: the next one brings it); it
 * also counts as saved for db__save_state(). 0 or -errno.
 */
int db__add_kill(struct db *db, const struct fig_kill *k);

/*
 * Housekeeping, in one transaction: raw rows older than DB_RAW_KEEP_MS are
 * folded into 1-minute buckets, those older than DB_MINUTE_KEEP_MS into
 * 10-minute ones; rows older than retain go; then, while the database holds
 * more than 9/10 of max_bytes, the oldest series rows go (then the oldest
 * ended findings, OOM kills and kill records) until it holds under 8/10. What
 * goes is counted in store_losses. The per-unit totals of the kept boots
 * (at most FIG_MAX_BOOTS x FIG_MAX_UNITS) are never dropped. 0 or -errno.
 */
int db__maintain(struct db *db, int64_t now_ms);
/* If anything was committed without an fsync since the last one: an fsynced commit. 0 or -errno. */
int db__sync(struct db *db);

struct db_losses {
	uint64_t rows_dropped;   /* by retention and the size cap, all runs */
	uint64_t write_failures; /* all runs, those of this handle included */
};

void db__losses(struct db *db, struct db_losses *ret);
/* Bytes in use (pages not free), as the size cap counts them. */
uint64_t db__used_bytes(struct db *db);

#endif
