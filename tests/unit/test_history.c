// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * history: the sparkline (exact UTF-8 cells, shares, truncation), a unit's
 * series as JSON (the exact document) and as text (the exact lines, the
 * name escaped).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "history.h"
#include "json_writer.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The eight heights, U+2581 (lowest) .. U+2588 (full). */
#define B1 "\xe2\x96\x81"
#define B2 "\xe2\x96\x82"
#define B3 "\xe2\x96\x83"
#define B4 "\xe2\x96\x84"
#define B5 "\xe2\x96\x85"
#define B6 "\xe2\x96\x86"
#define B7 "\xe2\x96\x87"
#define B8 "\xe2\x96\x88"

/* 2023-11-14T22:13:20.000Z */
#define T0 1700000000000LL

static char out[1 << 14];

/* ---- history_sparkline ---------------------------------------------------- */

struct spark_case {
	const char *name;
	double v[16];
	uint32_t n, width;
	size_t size; /* 0: the whole buffer */
	const char *want;
};

static const struct spark_case spark_cases[] = {
	/* No points: an empty string, not a row of blanks. */
	{ .name = "sparkline: n=0 is empty", .n = 0, .width = 32, .want = "" },
	/* One point is the highest of all: a full cell. */
	{ .name = "sparkline: n=1", .v = { 5 }, .n = 1, .width = 32, .want = B8 },
	/* One point of zero: the lowest bar, never a gap. */
	{ .name = "sparkline: n=1 zero", .v = { 0 }, .n = 1, .width = 32, .want = B1 },
	/* Fewer points than cells: a cell each, no padding. */
	{ .name = "sparkline: n<width, one cell each", .v = { 1, 2 }, .n = 2, .width = 32,
	  .want = B5 B8 },
	/* All zeros: the lowest bar in every cell. */
	{ .name = "sparkline: all zeros", .v = { 0, 0, 0 }, .n = 3, .width = 32,
	  .want = B1 B1 B1 },
	/* 0..7 scaled to 0..7: every height once, in order. */
	{ .name = "sparkline: ramp", .v = { 0, 1, 2, 3, 4, 5, 6, 7 }, .n = 8, .width = 32,
	  .want = B1 B2 B3 B4 B5 B6 B7 B8 },
	/* 8 points in 4 cells: each cell the highest of its two, wherever it sits. */
	{ .name = "sparkline: n>width, max of each share",
	  .v = { 7, 0, 0, 0, 0, 3.5, 1, 0 }, .n = 8, .width = 4, .want = B8 B1 B5 B2 },
	/* 10 points in 4 cells ([0,2) [2,5) [5,7) [7,10)): the last point lands in the last cell. */
	{ .name = "sparkline: uneven shares keep every point",
	  .v = { 0, 0, 0, 0, 7, 0, 0, 0, 0, 7 }, .n = 10, .width = 4, .want = B1 B8 B1 B8 },
	/* Negative values count as the floor, not as an index below the first bar. */
	{ .name = "sparkline: negative is the lowest bar", .v = { -5, 7 }, .n = 2, .width = 32,
	  .want = B1 B8 },
	/* 10 bytes hold three cells and the NUL: cut on a cell boundary. */
	{ .name = "sparkline: small buffer cuts on a cell", .v = { 0, 1, 2, 3, 4, 5, 6, 7 },
	  .n = 8, .width = 32, .size = 10, .want = B1 B2 B3 },
	/* 9 bytes: the third cell would leave no room for the NUL. */
	{ .name = "sparkline: 9 bytes hold two cells", .v = { 0, 1, 2, 3, 4, 5, 6, 7 }, .n = 8,
	  .width = 32, .size = 9, .want = B1 B2 },
	/* Under one cell: an empty string. */
	{ .name = "sparkline: 3 bytes hold none", .v = { 7 }, .n = 1, .width = 32, .size = 3,
	  .want = "" },
};

static void test_sparkline(void **state)
{
	const struct spark_case *c = *state;
	char buf[3 * HISTORY_SPARK_WIDTH + 8];
	size_t size = c->size ? c->size : sizeof(buf);

	memset(buf, 'Z', sizeof(buf));
	assert_ptr_equal(history_sparkline(buf, size, c->v, c->n, c->width), buf);
	assert_string_equal(buf, c->want);
	/* Nothing written past the buffer the caller gave. */
	for (size_t i = size; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 'Z');
}

/* A zero-sized buffer is left untouched. */
static void test_sparkline_size_zero(void **state)
{
	double v[] = { 1, 2 };
	char buf[4] = "ZZZ";

	(void)state;
	assert_ptr_equal(history_sparkline(buf, 0, v, 2, 32), buf);
	assert_string_equal(buf, "ZZZ");
}

/* 64 points in the default 32 cells: 32 cells of 3 bytes, exactly the documented room. */
static void test_sparkline_full_width(void **state)
{
	double v[64];
	char buf[3 * HISTORY_SPARK_WIDTH + 1];

	(void)state;
	for (int i = 0; i < 64; i++)
		v[i] = i == 63 ? 7 : 0;
	history_sparkline(buf, sizeof(buf), v, 64, HISTORY_SPARK_WIDTH);
	assert_int_equal(strlen(buf), 3 * HISTORY_SPARK_WIDTH);
	/* Only the last cell holds the peak. */
	assert_string_equal(buf + 3 * (HISTORY_SPARK_WIDTH - 1), B8);
	assert_memory_equal(buf, B1 B1 B1, 9);
}

/* ---- history_rss_kib, history_json_unit ----------------------------------- */

/* anon + file + shmem. */
static void test_rss_kib(void **state)
{
	struct db_point p = { .rss_anon_kib = 1000, .rss_file_kib = 20, .rss_shmem_kib = 3 };

	(void)state;
	assert_int_equal(history_rss_kib(&p), 1023);
}

static const struct db_point two_points[] = {
	{ .t_ms = T0, .rss_anon_kib = 1000, .rss_file_kib = 20, .rss_shmem_kib = 4, .starts = 1,
	  .execs = 2, .exits = 0, .exits_failed = 0, .forks = 5, .forks_failed = 0,
	  .kills_received = 0, .memcg_kib = 4096, .kernel_kib = 512, .count = 0 },
	{ .t_ms = T0 + 60500, .rss_anon_kib = 2000, .rss_file_kib = 30, .rss_shmem_kib = 5,
	  .starts = 3, .execs = 6, .exits = 2, .exits_failed = 1, .forks = 9, .forks_failed = 4,
	  .kills_received = 7, .memcg_kib = -1, .kernel_kib = -1, .count = -1 },
};

/* The exact document for two points: unit and machine split, rss_kib the sum, every counter, unknowns null. */
static void test_json_unit(void **state)
{
	const struct db_series s = { .boot_id = "b00t", .unit = "web1:nginx.service",
				     .p = two_points, .n = 2 };
	struct json_writer w;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	json_init(&w, f);
	history_json_unit(&w, &s);
	fclose(f);
	snprintf(out, sizeof(out), "%s", text);
	free(text);
	assert_string_equal(
		out,
		"{\"unit\":\"nginx.service\",\"machine\":\"web1\",\"boot_id\":\"b00t\",\"series\":["
		"{\"time\":\"2023-11-14T22:13:20.000Z\",\"rss_kib\":1024,\"rss_anon_kib\":1000,"
		"\"rss_file_kib\":20,\"rss_shmem_kib\":4,\"starts\":1,\"execs\":2,\"exits\":0,"
		"\"exits_failed\":0,\"forks\":5,\"forks_failed\":0,\"kills_received\":0,"
		"\"memcg_kib\":4096,\"kernel_kib\":512,\"count\":0},"
		"{\"time\":\"2023-11-14T22:14:20.500Z\",\"rss_kib\":2035,\"rss_anon_kib\":2000,"
		"\"rss_file_kib\":30,\"rss_shmem_kib\":5,\"starts\":3,\"execs\":6,\"exits\":2,"
		"\"exits_failed\":1,\"forks\":9,\"forks_failed\":4,\"kills_received\":7,"
		"\"memcg_kib\":null,\"kernel_kib\":null,\"count\":null}]}");
}

/* A host unit has "machine": null; a hostile name is escaped as JSON (\u001b), never raw. */
static void test_json_unit_host_and_escape(void **state)
{
	const struct db_series s = { .boot_id = "b", .unit = "bad\x1b[31m\".service",
				     .p = two_points, .n = 1 };
	struct json_writer w;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	json_init(&w, f);
	history_json_unit(&w, &s);
	fclose(f);
	snprintf(out, sizeof(out), "%s", text);
	free(text);
	assert_null(strchr(out, '\x1b'));
	assert_non_null(strstr(out, "{\"unit\":\"bad\\u001b[31m\\\".service\",\"machine\":null,"
				    "\"boot_id\":\"b\",\"series\":[{\"time\":"));
}

/* ---- history_text_unit ---------------------------------------------------- */

static void text_of(const struct db_series *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(history_text_unit(f, s), 0);
	fclose(f);
	snprintf(out, sizeof(out), "%s", text);
	free(text);
}

/*
 * Three points: 2.0 MiB, 83.0 MiB, 3.0 MiB; starts 1, 5, 6 (per row 0, 4, 1).
 * The exact lines: the escaped name, both sparklines, first -> last, the peak, the span.
 */
static void test_text_unit(void **state)
{
	const struct db_point p[] = {
		{ .t_ms = T0, .rss_anon_kib = 2048, .starts = 1, .execs = 1 },
		{ .t_ms = T0 + 60000, .rss_anon_kib = 84000, .rss_file_kib = 1000, .starts = 5,
		  .execs = 9, .exits = 4, .exits_failed = 3 },
		{ .t_ms = T0 + 120000, .rss_anon_kib = 3072, .starts = 6, .execs = 10, .exits = 5,
		  .exits_failed = 4 },
	};
	const struct db_series s = { .boot_id = "0123456789abcdef", .unit = "leaky\x1b[2J.service",
				     .p = p, .n = 3 };

	(void)state;
	text_of(&s);
	assert_null(strchr(out, '\x1b'));
	assert_string_equal(out, "leaky\\x1b[2J.service\n"
				 "  rss    " B1 B8 B1 "  2.0 MiB -> 3.0 MiB (peak 83.0 MiB)\n"
				 "  starts " B1 B8 B3 "  6 (10 execs, 5 exits, 4 failed)\n"
				 "  2023-11-14T22:13:20.000Z .. 2023-11-14T22:15:20.000Z, 3 rows, "
				 "boot 01234567\n");
}

/* A counter that falls (a new boot's rows) counts as starts of its own, not a huge wrap. */
static void test_text_unit_counter_reset(void **state)
{
	const struct db_point p[] = {
		{ .t_ms = T0, .rss_anon_kib = 100, .starts = 10 },
		{ .t_ms = T0 + 1000, .rss_anon_kib = 100, .starts = 18 },
		{ .t_ms = T0 + 2000, .rss_anon_kib = 100, .starts = 2 },
	};
	const struct db_series s = { .boot_id = "b", .unit = "u.service", .p = p, .n = 3 };

	(void)state;
	text_of(&s);
	/* Per row: 0, 8, 2 -> heights 0, 7, round(2/8*7) = 2. */
	assert_non_null(strstr(out, "  starts " B1 B8 B3 "  2 ("));
	assert_non_null(strstr(out, "  rss    " B8 B8 B8 "  100 KiB -> 100 KiB (peak 100 KiB)\n"));
}

int main(void)
{
	static struct CMUnitTest tests[ARRAY_SIZE(spark_cases) + 8];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(spark_cases); i++)
		tests[n++] = (struct CMUnitTest){ .name = spark_cases[i].name,
						  .test_func = test_sparkline,
						  .initial_state = (void *)&spark_cases[i] };
#define ADD(label, fn) tests[n++] = (struct CMUnitTest){ .name = label, .test_func = fn }
	ADD("sparkline: size 0 leaves dst alone", test_sparkline_size_zero);
	ADD("sparkline: 64 points in 32 cells", test_sparkline_full_width);
	ADD("rss_kib: anon + file + shmem", test_rss_kib);
	ADD("json: two points, exact", test_json_unit);
	ADD("json: host unit, hostile name", test_json_unit_host_and_escape);
	ADD("text: exact lines", test_text_unit);
	ADD("text: counter reset", test_text_unit_counter_reset);
	return cmocka_run_group_tests_name("history", tests, NULL, NULL);
}
