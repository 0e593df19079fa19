/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `rcatrace history`: a unit's series as JSON, or as one line with sparklines. */
#ifndef RCATRACE_HISTORY_H
#define RCATRACE_HISTORY_H

#include <stdint.h>
#include <stdio.h>

#include "db.h"
#include "json_writer.h"

#define HISTORY_SPARK_WIDTH 32

/*
 * n values as a sparkline of width cells (U+2581..U+2588, 3 bytes each;
 * n cells when n < width), each cell the highest value of its share of the
 * points, scaled from 0 to the highest value of all. dst needs
 * 3 * width + 1 bytes. Returns dst.
 */
char *history_sparkline(char *dst, size_t size, const double *v, uint32_t n, uint32_t width);

/* The resident memory of a point, KiB. */
uint64_t history_rss_kib(const struct db_point *p);

/*
 * {"unit", "machine", "boot_id", "series": [{"time", "rss_kib", "rss_anon_kib",
 * "rss_file_kib", "rss_shmem_kib", "starts", "execs", "exits", "exits_failed",
 * "forks", "forks_failed", "kills_received", "memcg_kib", "kernel_kib", "count"}]}:
 * counters cumulative within the boot; the cgroup's charge, its kernel part
 * and a pseudo-unit's count null where unknown.
 */
void history_json_unit(struct json_writer *w, const struct db_series *s);

/*
 * "leaky.service  rss ▁▂▄▆█  2.0 MiB -> 83.0 MiB (peak 83.0 MiB)  starts ▁▁▁ 1 ..."
 * then the time span; the name escaped. -ENOMEM or 0.
 */
int history_text_unit(FILE *f, const struct db_series *s);

#endif
