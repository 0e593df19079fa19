// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * clock: durations and dates as rcatrace reads them, and the ISO 8601 form
 * it prints. Expected instants were computed independently with
 * `date -u -d ... +%s`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* 2023-11-14T22:13:20.000Z: an arbitrary "now" for --since. */
#define NOW_MS 1700000000000LL
/* A value no parser result can be: shows the output was left alone. */
#define UNTOUCHED ((int64_t)0x5a5a5a5a5a5a5a5aLL)

struct duration_case {
	const char *name;
	const char *in;
	int want_ret;
	int64_t want_ms;
};

static struct duration_case duration_cases[] = {
	{ .name = "duration: bare number is seconds", .in = "90", .want_ms = 90000 },
	{ .name = "duration: seconds", .in = "90s", .want_ms = 90000 },
	{ .name = "duration: fractional minutes", .in = "1.5m", .want_ms = 90000 },
	{ .name = "duration: min suffix", .in = "10min", .want_ms = 600000 },
	{ .name = "duration: hours", .in = "2h", .want_ms = 7200000 },
	{ .name = "duration: days", .in = "3d", .want_ms = 259200000 },
	{ .name = "duration: milliseconds", .in = "250ms", .want_ms = 250 },
	{ .name = "duration: fractional seconds", .in = "0.1", .want_ms = 100 },
	{ .name = "duration: fractional bare", .in = "1.5", .want_ms = 1500 },
	{ .name = "duration: zero", .in = "0", .want_ms = 0 },
	{ .name = "duration: largest accepted", .in = "9e15ms", .want_ms = 9000000000000000LL },
	{ .name = "duration: rejects negative", .in = "-1", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
	{ .name = "duration: rejects negative with unit", .in = "-5m", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
	{ .name = "duration: rejects words", .in = "abc", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
	{ .name = "duration: rejects unknown unit", .in = "10x", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
	{ .name = "duration: rejects unit then junk", .in = "10sx", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
	{ .name = "duration: rejects space before unit", .in = "5 s", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
	{ .name = "duration: rejects unit alone", .in = "m", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
	{ .name = "duration: rejects empty", .in = "", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
	{ .name = "duration: rejects huge", .in = "1e300", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
	{ .name = "duration: rejects 20-digit seconds", .in = "99999999999999999999",
	  .want_ret = -EINVAL, .want_ms = UNTOUCHED },
	{ .name = "duration: rejects just past the limit", .in = "9.1e15ms", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
	{ .name = "duration: rejects huge days", .in = "200000000000d", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
	{ .name = "duration: rejects nan", .in = "nan", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
	{ .name = "duration: rejects inf", .in = "inf", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
};

static void test_parse_duration(void **state)
{
	const struct duration_case *c = *state;
	int64_t ms = UNTOUCHED;

	assert_int_equal(clock_parse_duration_ms(c->in, &ms), c->want_ret);
	assert_int_equal(ms, c->want_ms);
}

static void test_parse_duration_null(void **state)
{
	int64_t ms = UNTOUCHED;

	(void)state;
	assert_int_equal(clock_parse_duration_ms(NULL, &ms), -EINVAL);
	assert_int_equal(ms, UNTOUCHED);
}

struct iso_case {
	const char *name;
	int64_t unix_ms;
	size_t size; /* 0: 64 */
	const char *want;
};

static struct iso_case iso_cases[] = {
	{ .name = "iso: epoch", .unix_ms = 0, .want = "1970-01-01T00:00:00.000Z" },
	{ .name = "iso: one millisecond", .unix_ms = 1, .want = "1970-01-01T00:00:00.001Z" },
	{ .name = "iso: 1700000000.123", .unix_ms = 1700000000123LL,
	  .want = "2023-11-14T22:13:20.123Z" },
	{ .name = "iso: the header's example", .unix_ms = 1795428245123LL,
	  .want = "2026-11-23T10:04:05.123Z" },
	{ .name = "iso: leap day", .unix_ms = 951782400000LL, .want = "2000-02-29T00:00:00.000Z" },
	{ .name = "iso: last ms of 2099", .unix_ms = 4102444799999LL,
	  .want = "2099-12-31T23:59:59.999Z" },
	{ .name = "iso: -1 ms", .unix_ms = -1, .want = "1969-12-31T23:59:59.999Z" },
	{ .name = "iso: -1000 ms", .unix_ms = -1000, .want = "1969-12-31T23:59:59.000Z" },
	{ .name = "iso: -1001 ms", .unix_ms = -1001, .want = "1969-12-31T23:59:58.999Z" },
	{ .name = "iso: one day before the epoch", .unix_ms = -86400000LL,
	  .want = "1969-12-31T00:00:00.000Z" },
	{ .name = "iso: Apollo 11 landing", .unix_ms = -14182940000LL + 500,
	  .want = "1969-07-20T20:17:40.500Z" },
	{ .name = "iso: year 1", .unix_ms = -62135596800000LL, .want = "0001-01-01T00:00:00.000Z" },
	{ .name = "iso: truncated to the date", .unix_ms = 1700000000123LL, .size = 11,
	  .want = "2023-11-14" },
};

static void test_format_iso8601(void **state)
{
	const struct iso_case *c = *state;
	char buf[64];

	memset(buf, 'Z', sizeof(buf));
	assert_ptr_equal(clock_format_iso8601(c->unix_ms, buf, c->size ? c->size : sizeof(buf)),
			 buf);
	assert_string_equal(buf, c->want);
}

struct since_case {
	const char *name;
	const char *in;
	int want_ret;
	int64_t want_ms;
};

static struct since_case since_cases[] = {
	{ .name = "since: hours back", .in = "2h", .want_ms = NOW_MS - 7200000 },
	{ .name = "since: minutes back", .in = "30m", .want_ms = NOW_MS - 1800000 },
	{ .name = "since: days back", .in = "7d", .want_ms = NOW_MS - 604800000 },
	{ .name = "since: bare seconds back", .in = "90", .want_ms = NOW_MS - 90000 },
	{ .name = "since: date", .in = "2026-11-23", .want_ms = 1795392000000LL },
	{ .name = "since: date and minutes", .in = "2026-11-23T10:00",
	  .want_ms = 1795428000000LL },
	{ .name = "since: date and seconds with Z", .in = "2026-11-23T10:00:05Z",
	  .want_ms = 1795428005000LL },
	{ .name = "since: date and seconds", .in = "2026-11-23T10:04:05",
	  .want_ms = 1795428245000LL },
	{ .name = "since: space instead of T", .in = "2026-11-23 10:00",
	  .want_ms = 1795428000000LL },
	{ .name = "since: minutes with Z", .in = "2026-11-23T10:00Z", .want_ms = 1795428000000LL },
	{ .name = "since: leap day", .in = "2000-02-29T12:30", .want_ms = 951827400000LL },
	{ .name = "since: epoch", .in = "1970-01-01", .want_ms = 0 },
	{ .name = "since: rejects words", .in = "yesterday", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
	{ .name = "since: rejects empty", .in = "", .want_ret = -EINVAL, .want_ms = UNTOUCHED },
	{ .name = "since: rejects month 13", .in = "2026-13-01", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
	{ .name = "since: rejects hour 25", .in = "2026-11-23T25:00", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
	{ .name = "since: rejects T without time", .in = "2026-11-23T", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
	{ .name = "since: rejects hour alone", .in = "2026-11-23T10", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
	{ .name = "since: rejects trailing junk", .in = "2026-11-23T10:00junk",
	  .want_ret = -EINVAL, .want_ms = UNTOUCHED },
	{ .name = "since: rejects offsets (UTC only)", .in = "2026-11-23T10:00+02:00",
	  .want_ret = -EINVAL, .want_ms = UNTOUCHED },
	{ .name = "since: rejects fractional seconds", .in = "2026-11-23T10:00:05.5Z",
	  .want_ret = -EINVAL, .want_ms = UNTOUCHED },
	{ .name = "since: rejects negative duration", .in = "-2h", .want_ret = -EINVAL,
	  .want_ms = UNTOUCHED },
};

static void test_parse_since(void **state)
{
	const struct since_case *c = *state;
	int64_t ms = UNTOUCHED;

	assert_int_equal(clock_parse_since(c->in, NOW_MS, &ms), c->want_ret);
	assert_int_equal(ms, c->want_ms);
}

static void test_parse_since_null(void **state)
{
	int64_t ms = UNTOUCHED;

	(void)state;
	assert_int_equal(clock_parse_since(NULL, NOW_MS, &ms), -EINVAL);
	assert_int_equal(ms, UNTOUCHED);
}

/* Boot-time stamps map onto the wall clock: a stamp taken now is "now" to within 1 s. */
static void test_boot_ns_to_unix_ms(void **state)
{
	int64_t before, after, mapped, step;
	uint64_t boot;

	(void)state;
	before = clock_now_unix_ms();
	mapped = clock_boot_ns_to_unix_ms(clock_now_boot_ns());
	after = clock_now_unix_ms();
	assert_in_range(mapped, before - 1000, after + 1000);
	/* One second later on the boot clock is one second later on the wall clock. */
	boot = clock_now_boot_ns();
	step = clock_boot_ns_to_unix_ms(boot + 1000000000ULL) - clock_boot_ns_to_unix_ms(boot);
	assert_in_range(step, 999, 1001);
	/* 2020-09-13T12:26:40Z: anything earlier means the clock read failed. */
	assert_true(before > 1600000000000LL);
}

#define N_TESTS (ARRAY_SIZE(duration_cases) + ARRAY_SIZE(iso_cases) + ARRAY_SIZE(since_cases) + 3)

int main(void)
{
	static struct CMUnitTest tests[N_TESTS];
	size_t n = 0;

#define ADD_ROWS(table, fn)                                                                   \
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)                                        \
	tests[n++] = (struct CMUnitTest){ .name = table[i].name, .test_func = fn,             \
					  .initial_state = &table[i] }
#define ADD(label, fn) tests[n++] = (struct CMUnitTest){ .name = label, .test_func = fn }

	ADD_ROWS(duration_cases, test_parse_duration);
	ADD_ROWS(iso_cases, test_format_iso8601);
	ADD_ROWS(since_cases, test_parse_since);
	ADD("duration: NULL", test_parse_duration_null);
	ADD("since: NULL", test_parse_since_null);
	ADD("boot ns to unix ms", test_boot_ns_to_unix_ms);
	if (n != N_TESTS) {
		fprintf(stderr, "test table miscounted: %zu of %zu\n", n, (size_t)N_TESTS);
		return 1;
	}
	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
