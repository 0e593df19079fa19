// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "escape.h"
#include "history.h"
#include "report.h"

/* U+2581 .. U+2588: eight heights. */
static const char *const bars[8] = { "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
				     "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
				     "\xe2\x96\x87", "\xe2\x96\x88" };

char *history_sparkline(char *dst, size_t size, const double *v, uint32_t n, uint32_t width)
{
	double top = 0;
	size_t used = 0;

	if (!size)
		return dst;
	dst[0] = '\0';
	for (uint32_t i = 0; i < n; i++)
		if (v[i] > top)
			top = v[i];
	/* Fewer points than cells: a cell each, no gaps. */
	if (n < width)
		width = n;
	for (uint32_t c = 0; c < width && n; c++) {
		/* Cell c covers points [lo, hi): every point falls in exactly one cell. */
		uint32_t lo = (uint32_t)((uint64_t)c * n / width), hi = (uint32_t)((uint64_t)(c + 1) * n / width);
		const char *cell = " ";
		double m = -1;

		for (uint32_t i = lo; i < hi; i++)
			if (v[i] > m)
				m = v[i];
		if (hi > lo) {
			int level = top > 0 ? (int)(m / top * 7.0 + 0.5) : 0;

			cell = bars[level < 0 ? 0 : level > 7 ? 7 : level];
		}
		if (used + strlen(cell) + 1 > size)
			break;
		memcpy(dst + used, cell, strlen(cell));
		used += strlen(cell);
	}
	dst[used] = '\0';
	return dst;
}

uint64_t history_rss_kib(const struct db_point *p)
{
	return p->rss_anon_kib + p->rss_file_kib + p->rss_shmem_kib;
}

/* A figure that may be unknown (-1): null then. */
static void json_kv_gauge_i64(struct json_writer *w, const char *key, int64_t v)
{
	if (v < 0)
		json_kv_null(w, key);
	else
		json_kv_i64(w, key, v);
}

void history_json_unit(struct json_writer *w, const struct db_series *s)
{
	char when[40];

	json_object_begin(w);
	report_json_unit_name(w, s->unit);
	json_kv_string(w, "boot_id", s->boot_id);
	json_key(w, "series");
	json_array_begin(w);
	for (uint32_t i = 0; i < s->n; i++) {
		const struct db_point *p = &s->p[i];

		json_object_begin(w);
		json_kv_string(w, "time", clock_format_iso8601(p->t_ms, when, sizeof(when)));
		json_kv_u64(w, "rss_kib", history_rss_kib(p));
		json_kv_u64(w, "rss_anon_kib", p->rss_anon_kib);
		json_kv_u64(w, "rss_file_kib", p->rss_file_kib);
		json_kv_u64(w, "rss_shmem_kib", p->rss_shmem_kib);
		json_kv_u64(w, "starts", p->starts);
		json_kv_u64(w, "execs", p->execs);
		json_kv_u64(w, "exits", p->exits);
		json_kv_u64(w, "exits_failed", p->exits_failed);
		json_kv_u64(w, "forks", p->forks);
		json_kv_u64(w, "forks_failed", p->forks_failed);
		json_kv_u64(w, "kills_received", p->kills_received);
		json_kv_gauge_i64(w, "memcg_kib", p->memcg_kib);
		json_kv_gauge_i64(w, "kernel_kib", p->kernel_kib);
		json_kv_gauge_i64(w, "count", p->count);
		json_object_end(w);
	}
	json_array_end(w);
	json_object_end(w);
}

static const char *mib(uint64_t kib, char *buf, size_t size)
{
	if (kib >= 1024)
		snprintf(buf, size, "%.1f MiB", (double)kib / 1024.0);
	else
		snprintf(buf, size, "%llu KiB", (unsigned long long)kib);
	return buf;
}

int history_text_unit(FILE *f, const struct db_series *s)
{
	char name[512], rss_line[3 * HISTORY_SPARK_WIDTH + 1], starts_line[3 * HISTORY_SPARK_WIDTH + 1];
	char a[32], b[32], c[32], t0[40], t1[40];
	double *v;
	const struct db_point *first, *last;
	char boot[FIG_BOOT_ID_MAX * 4];
	uint64_t peak = 0;

	if (!s->n)
		return 0;
	first = &s->p[0];
	last = &s->p[s->n - 1];
	v = calloc(s->n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	escape_terminal(boot, sizeof(boot), s->boot_id, 8);
	for (uint32_t i = 0; i < s->n; i++) {
		v[i] = (double)history_rss_kib(&s->p[i]);
		if (history_rss_kib(&s->p[i]) > peak)
			peak = history_rss_kib(&s->p[i]);
	}
	history_sparkline(rss_line, sizeof(rss_line), v, s->n, HISTORY_SPARK_WIDTH);
	/* Starts per row: the difference of the cumulative counter (a lower one is a new boot's). */
	for (uint32_t i = 0; i < s->n; i++)
		v[i] = i == 0 ? 0
		       : s->p[i].starts >= s->p[i - 1].starts ? (double)(s->p[i].starts - s->p[i - 1].starts)
							      : (double)s->p[i].starts;
	history_sparkline(starts_line, sizeof(starts_line), v, s->n, HISTORY_SPARK_WIDTH);
	free(v);
	escape_terminal(name, sizeof(name), s->unit, strlen(s->unit));
	fprintf(f, "%s\n  rss    %s  %s -> %s (peak %s)\n  starts %s  %llu (%llu execs, %llu exits, %llu failed)\n"
		   "  %s .. %s, %u rows, boot %s\n",
		name, rss_line, mib(history_rss_kib(first), a, sizeof(a)),
		mib(history_rss_kib(last), b, sizeof(b)), mib(peak, c, sizeof(c)), starts_line,
		(unsigned long long)last->starts, (unsigned long long)last->execs,
		(unsigned long long)last->exits, (unsigned long long)last->exits_failed,
		clock_format_iso8601(first->t_ms, t0, sizeof(t0)),
		clock_format_iso8601(last->t_ms, t1, sizeof(t1)), s->n, boot);
	return 0;
}
