/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Kernel timestamps to wall-clock time, and the time formats rcatrace prints and reads. */
#ifndef RCATRACE_CLOCK_H
#define RCATRACE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Wall clock now, in ms since the epoch. */
int64_t clock_now_unix_ms(void);
/* CLOCK_BOOTTIME now, in ns (the clock bpf_ktime_get_boot_ns() reads). */
uint64_t clock_now_boot_ns(void);
/* Converts a CLOCK_BOOTTIME stamp to ms since the epoch, using the current offset. */
int64_t clock_boot_ns_to_unix_ms(uint64_t boot_ns);

/* "2026-11-23T10:04:05.123Z" (UTC). Returns dst. */
char *clock_format_iso8601(int64_t unix_ms, char *dst, size_t size);

/*
 * A duration: "90", "90s", "1.5m", "2h", "3d", "250ms". Returns 0 and sets
 * *ret_ms, or -EINVAL (also for negative values and overflow).
 */
int clock_parse_duration_ms(const char *s, int64_t *ret_ms);

/*
 * A point in time for --since: a duration back from now_ms ("2h") or an
 * ISO 8601 UTC date "2026-11-23", "2026-11-23T10:00", "2026-11-23T10:00:05Z".
 */
int clock_parse_since(const char *s, int64_t now_ms, int64_t *ret_unix_ms);

#endif
