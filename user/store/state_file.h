/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The state file: the figures of past runs, kept across restarts and reboots.
 *
 * Layout, every integer little-endian, every double its IEEE-754 bits as a
 * little-endian u64 (a NaN keeps its payload), i32 as two's complement:
 *   header (32 bytes): "RCATRACE", u32 version, u32 header size (32),
 *                      u64 payload length, u32 crc32 of the payload, u32 0
 *   payload: i64 written_ms, u32 interval_ms, u32 n + u64 lost[n],
 *            u64 units_unnamed, u64 boots_dropped, u32 n_boots + boots,
 *            u64 ooms_dropped, u32 n_ooms + ooms (oldest first),
 *            u64 kills_dropped, u32 n_kills + kills (oldest first),
 *            then sections {u32 tag, u32 len, len bytes} up to the end;
 *            a reader skips the tags it does not know.
 *   boot: str boot_id, i64 first_ms, i64 last_ms, u64 units_dropped,
 *         u32 n_units + units
 *   unit: str name, u64 forks, threads, execs, exits, exits_failed,
 *         i64 first_ms, last_ms, u64 exes_dropped, memory,
 *         u64 oom_kills, kills_sent, kills_received, kill_counts_other,
 *         forks_failed, fork_errnos_other, u32 fork_storm,
 *         i64 fork_storm_since_ms, f64 fork_rate_per_s, i64 procs_alive,
 *         pids_current, pids_max, pids_events_max,
 *         u32 n_fork_errnos + {u32 err, u64 count},
 *         u32 n_kill_counts + {str sender_unit, u32 signal, u32 by_kernel, u64 count},
 *         u32 n_exes + exes
 *   memory (96 bytes): i64 sampled_ms, u64 rss_anon_kib, rss_file_kib,
 *         rss_shmem_kib, rss_peak_kib, f64 growth_kib_per_s, growth_fit_r2,
 *         growth_window_s, i64 exhaustion_eta_s, u32 leak_suspect, u32 gone,
 *         i64 memcg_usage_bytes, memcg_limit_bytes
 *   exe:  str path, u64 starts, exits, exits_failed, i64 first_start_ms,
 *         last_start_ms, last_exit_ms, u64 gaps, gap_sum_ns, gap_sumsq_ms2,
 *         lifetime_sum_us, u32 n + u64 lifetime_hist[n], u32 n_status +
 *         {u32 kind, u32 value, u64 count}, u64 status_other,
 *         u32 respawn_class, i64 storm_since_ms, u64 storms
 *   oom:  i64 time_ms, str boot_id, proc victim, str constraint, str memcg,
 *         i64 memcg_limit_bytes, memcg_usage_bytes, u64 rss_anon_kib,
 *         rss_file_kib, rss_shmem_kib, i32 oom_score_adj, proc trigger,
 *         u32 n_top_rss + top units, u32 n_top_growth + top units
 *   top unit: str unit, u64 rss_kib, f64 growth_kib_per_s
 *   kill: i64 time_ms, str boot_id, u32 signal, u32 by_kernel, i32 result,
 *         proc sender, proc target, u32 n_lineage + procs
 *   proc: u32 pid, str comm, str unit
 *   str:  u16 length + bytes, no NUL; longer than its fig_* field allows is refused
 *
 * Every count is refused past its FIG_* bound, or when the bytes left could
 * not hold that many of the smallest such record, before anything is
 * allocated for it (executables: FIG_MAX_EXES_PER_UNIT + 1, for "(other)").
 *
 * The format is not released yet, so fields are still added in place under
 * version 1: a file from a build before the memory, kill and fork figures is
 * refused as truncated or malformed, like any damaged file.
 */
#ifndef RCATRACE_STATE_FILE_H
#define RCATRACE_STATE_FILE_H

#include <stddef.h>

#include "figures.h"

/* 2: starts as entries into a unit, execs, start_* and crash figures, crash storms. */
#define STATE_FILE_VERSION 2
#define STATE_FILE_MIN_VERSION 1
/* state_file_load() refuses larger files, so state_file_save() refuses to write them. */
#define STATE_FILE_MAX_BYTES (64u << 20)

/*
 * Encodes s into a malloc'd buffer. 0 or -ENOMEM (-EINVAL when s breaks a
 * FIG_* bound, which the fig_* functions never do).
 */
int state_file_encode(const struct fig_state *s, void **ret_buf, size_t *ret_len);
/*
 * Decodes; on failure returns -errno and writes a one-line reason into err:
 *  -EINVAL truncated or malformed, or not an rcatrace state file (bad magic),
 *  -EBADMSG CRC mismatch, -EPROTONOSUPPORT other version.
 * ret is initialised and filled only on success (left empty on failure,
 * nothing leaks); whatever it held before is overwritten, not freed.
 */
int state_file_decode(const void *buf, size_t len, struct fig_state *ret, char *err, size_t errlen);
/*
 * Reads path (refuses files over 64 MiB with -EFBIG) then decodes. -ENOENT when missing,
 * -EISDIR for a directory, -EINVAL for another file that is not a regular one.
 */
int state_file_load(const char *path, struct fig_state *ret, char *err, size_t errlen);
/*
 * Crash-safe save: creates the parent directory 0700 if missing, writes
 * path.tmp (0600, O_CLOEXEC), fsync, rename over path, fsync the directory.
 * 0 or -errno (-EFBIG when the encoding is over STATE_FILE_MAX_BYTES).
 */
int state_file_save(const char *path, const struct fig_state *s);
/* Renames path to path.corrupt (replacing an older .corrupt); stores the new path. 0 or -errno. */
int state_file_set_aside(const char *path, char *ret_newpath, size_t size);

#endif
