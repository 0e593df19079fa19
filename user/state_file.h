/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The state file: the figures of past runs, kept across restarts and reboots.
 *
 * Layout, every integer little-endian:
 *   header (32 bytes): "RCATRACE", u32 version, u32 header size (32),
 *                      u64 payload length, u32 crc32 of the payload, u32 0
 *   payload: i64 written_ms, u32 interval_ms, u32 n + u64 lost[n],
 *            u64 units_unnamed, u64 boots_dropped, u32 n_boots + boots,
 *            then sections {u32 tag, u32 len, len bytes} up to the end;
 *            a reader skips the tags it does not know.
 *   boot: str boot_id, i64 first_ms, i64 last_ms, u64 units_dropped,
 *         u32 n_units + units
 *   unit: str name, u64 forks, threads, execs, exits, exits_failed,
 *         i64 first_ms, last_ms, u64 exes_dropped, u32 n_exes + exes
 *   exe:  str path, u64 starts, exits, exits_failed, i64 first_start_ms,
 *         last_start_ms, last_exit_ms, u64 gaps, gap_sum_ns, gap_sumsq_ms2,
 *         lifetime_sum_us, u32 n + u64 lifetime_hist[n], u32 n_status +
 *         {u32 kind, u32 value, u64 count}, u64 status_other,
 *         u32 respawn_class, i64 storm_since_ms, u64 storms
 *   str:  u16 length + bytes, no NUL
 */
#ifndef RCATRACE_STATE_FILE_H
#define RCATRACE_STATE_FILE_H

#include <stddef.h>

#include "figures.h"

#define STATE_FILE_VERSION 1
/* state_file_load() refuses larger files, so state_file_save() refuses to write them. */
#define STATE_FILE_MAX_BYTES (64u << 20)

/*
 * Encodes s into a malloc'd buffer. 0 or -ENOMEM (-EINVAL when s breaks the
 * FIG_MAX_* bounds, which the fig_* functions never do).
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
