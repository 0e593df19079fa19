// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * options: `rcatrace run` and `rcatrace dump` command lines. Accepted
 * command lines are checked field by field; rejected ones by their outcome
 * and the exact one-line message the user sees.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"
#include "rcatrace.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ARGS 24

/* 2023-11-14T22:13:20.000Z: "now" for --since. */
#define NOW_MS 1700000000000LL

/* getopt permutes argv, so each test parses a fresh, writable copy of the table's. */
static int make_argv(const char *const *args, char **argv)
{
	int argc = 0;

	while (args[argc]) {
		assert_true(argc < MAX_ARGS - 1);
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	return argc;
}

/* ---- run: accepted command lines ---------------------------------------- */

/* Fields left 0 / NULL in `want` mean "the default", spelt out in check_run(). */
struct run_want {
	int json;
	int verbose;
	int64_t duration_ms;
	int64_t interval_ms;
	int64_t state_interval_ms;
	const char *state_path;
	int no_state;
	const char *globs[OPTIONS_MAX_UNIT_GLOBS];
	int n_globs;
	uint32_t ringbuf_bytes;
	uint32_t max_units;
	uint64_t max_db_bytes;
	int64_t retain_ms;
};

struct run_ok_case {
	const char *name;
	const char *args[MAX_ARGS];
	struct run_want want;
};

static struct run_ok_case run_ok_cases[] = {
	{ .name = "run: defaults", .args = { "run" } },
	{ .name = "run: -j", .args = { "run", "-j" }, .want = { .json = 1 } },
	{ .name = "run: --json", .args = { "run", "--json" }, .want = { .json = 1 } },
	{ .name = "run: -v", .args = { "run", "-v" }, .want = { .verbose = 1 } },
	{ .name = "run: --verbose", .args = { "run", "--verbose" }, .want = { .verbose = 1 } },
	{ .name = "run: -jv cluster", .args = { "run", "-jv" },
	  .want = { .json = 1, .verbose = 1 } },
	{ .name = "run: -d seconds", .args = { "run", "-d", "90" },
	  .want = { .duration_ms = 90000 } },
	{ .name = "run: --duration minutes", .args = { "run", "--duration", "10m" },
	  .want = { .duration_ms = 600000 } },
	{ .name = "run: --duration=hours", .args = { "run", "--duration=2h" },
	  .want = { .duration_ms = 7200000 } },
	{ .name = "run: -d attached value", .args = { "run", "-d1.5m" },
	  .want = { .duration_ms = 90000 } },
	{ .name = "run: -d milliseconds", .args = { "run", "-d", "250ms" },
	  .want = { .duration_ms = 250 } },
	{ .name = "run: -i lowest", .args = { "run", "-i", "0.1" },
	  .want = { .interval_ms = 100 } },
	{ .name = "run: --interval highest", .args = { "run", "--interval", "3600" },
	  .want = { .interval_ms = 3600000 } },
	{ .name = "run: --interval 1h", .args = { "run", "--interval=1h" },
	  .want = { .interval_ms = 3600000 } },
	{ .name = "run: --state-interval", .args = { "run", "--state-interval", "30" },
	  .want = { .state_interval_ms = 30000 } },
	{ .name = "run: --state-interval lowest", .args = { "run", "--state-interval=100ms" },
	  .want = { .state_interval_ms = 100 } },
	{ .name = "run: -s", .args = { "run", "-s", "/tmp/x.state" },
	  .want = { .state_path = "/tmp/x.state" } },
	{ .name = "run: --state=", .args = { "run", "--state=/srv/rca" },
	  .want = { .state_path = "/srv/rca" } },
	{ .name = "run: --no-state", .args = { "run", "--no-state" }, .want = { .no_state = 1 } },
	{ .name = "run: --no-state wins over -s", .args = { "run", "-s", "/tmp/x", "--no-state" },
	  .want = { .no_state = 1 } },
	{ .name = "run: one -u", .args = { "run", "-u", "serial-getty@*" },
	  .want = { .globs = { "serial-getty@*" }, .n_globs = 1 } },
	{ .name = "run: -u and --unit keep order",
	  .args = { "run", "-u", "serial-getty@*", "--unit", "docker:*", "--unit=*.scope" },
	  .want = { .globs = { "serial-getty@*", "docker:*", "*.scope" }, .n_globs = 3 } },
	{ .name = "run: --ringbuf-size smallest", .args = { "run", "--ringbuf-size", "4096" },
	  .want = { .ringbuf_bytes = 4096 } },
	{ .name = "run: --ringbuf-size largest", .args = { "run", "--ringbuf-size=1073741824" },
	  .want = { .ringbuf_bytes = 1073741824u } },
	{ .name = "run: --max-units smallest", .args = { "run", "--max-units", "16" },
	  .want = { .max_units = 16 } },
	{ .name = "run: --max-units largest", .args = { "run", "--max-units", "1048576" },
	  .want = { .max_units = 1048576 } },
	{ .name = "run: every flag",
	  .args = { "run", "--json", "-v", "-d", "1h", "-i", "2", "--state-interval", "10",
		    "-s", "/tmp/s", "-u", "a*", "--ringbuf-size", "8192", "--max-units", "100" },
	  .want = { .json = 1, .verbose = 1, .duration_ms = 3600000, .interval_ms = 2000,
		    .state_interval_ms = 10000, .state_path = "/tmp/s", .globs = { "a*" },
		    .n_globs = 1, .ringbuf_bytes = 8192, .max_units = 100 } },
	{ .name = "run: --max-db-size 64M", .args = { "run", "--max-db-size", "64M" },
	  .want = { .max_db_bytes = 64ull << 20 } },
	{ .name = "run: --max-db-size bytes", .args = { "run", "--max-db-size=1048576" },
	  .want = { .max_db_bytes = 1048576 } },
	{ .name = "run: --max-db-size 1GiB", .args = { "run", "--max-db-size", "1GiB" },
	  .want = { .max_db_bytes = 1ull << 30 } },
	{ .name = "run: --retain 7d", .args = { "run", "--retain", "7d" },
	  .want = { .retain_ms = 7LL * 86400000 } },
	{ .name = "run: -- ends the options", .args = { "run", "-j", "--" },
	  .want = { .json = 1 } },
};

static void check_run(const struct run_want *want, const struct run_options *got)
{
	assert_int_equal(got->json, want->json);
	assert_int_equal(got->verbose, want->verbose);
	assert_int_equal(got->duration_ms, want->duration_ms);
	assert_int_equal(got->interval_ms, want->interval_ms ? want->interval_ms : 1000);
	assert_int_equal(got->state_interval_ms,
			 want->state_interval_ms ? want->state_interval_ms : 10000);
	assert_int_equal(got->no_state, want->no_state);
	if (want->no_state)
		assert_null(got->state_path);
	else
		assert_string_equal(got->state_path, want->state_path ? want->state_path
								      : "/var/lib/rcatrace/rcatrace.db");
	assert_int_equal(got->n_unit_globs, want->n_globs);
	for (int i = 0; i < want->n_globs; i++)
		assert_string_equal(got->unit_globs[i], want->globs[i]);
	assert_int_equal(got->ringbuf_bytes, want->ringbuf_bytes ? want->ringbuf_bytes : 524288);
	assert_int_equal(got->max_units, want->max_units ? want->max_units : 4096);
	assert_int_equal(got->max_db_bytes, want->max_db_bytes ? want->max_db_bytes : 256ull << 20);
	assert_int_equal(got->retain_ms, want->retain_ms ? want->retain_ms : 90LL * 86400000);
}

static void test_run_ok(void **state)
{
	const struct run_ok_case *c = *state;
	char *argv[MAX_ARGS];
	int argc = make_argv(c->args, argv);
	struct run_options opts;
	char err[256] = "";

	assert_int_equal(options_parse_run(argc, argv, &opts, err, sizeof(err)), OPTIONS_OK);
	assert_string_equal(err, "");
	check_run(&c->want, &opts);
}

/* The defaults as the usage text and include/rcatrace.h promise them. */
static void test_run_default_values(void **state)
{
	char *argv[] = { "run", NULL };
	struct run_options opts;
	char err[64] = "";

	(void)state;
	memset(&opts, 0x5a, sizeof(opts));
	assert_int_equal(options_parse_run(1, argv, &opts, err, sizeof(err)), OPTIONS_OK);
	assert_int_equal(opts.json, 0);
	assert_int_equal(opts.verbose, 0);
	assert_int_equal(opts.duration_ms, 0);
	assert_int_equal(opts.interval_ms, 1000);
	assert_int_equal(opts.state_interval_ms, 10000);
	assert_string_equal(opts.state_path, RCATRACE_DEFAULT_STATE);
	assert_string_equal(opts.state_path, "/var/lib/rcatrace/rcatrace.db");
	assert_int_equal(opts.max_db_bytes, 256ull << 20);
	assert_int_equal(opts.retain_ms, 90LL * 86400000);
	assert_int_equal(opts.no_state, 0);
	assert_int_equal(opts.n_unit_globs, 0);
	assert_int_equal(opts.ringbuf_bytes, RCA_DEFAULT_RINGBUF_BYTES);
	assert_int_equal(opts.max_units, RCA_DEFAULT_MAX_UNITS);
}

/* ---- run and dump: rejected command lines ------------------------------- */

enum which { RUN, DUMP };

struct bad_case {
	const char *name;
	enum which cmd;
	const char *args[MAX_ARGS];
	enum options_result want;
	const char *want_err; /* the whole message; "" for --help */
};

#define DURATION_ERR(v) "--duration: '" v "' is not a positive duration (e.g. 30, 10m, 2h)"
#define INTERVAL_ERR(v) "--interval: '" v "' must be between 0.1 and 3600 seconds"
#define STATE_INTERVAL_ERR(v) "--state-interval: '" v "' must be between 0.1 and 3600 seconds"
#define RINGBUF_ERR(v) "--ringbuf-size: '" v "' must be a power of two from 4096 to 1073741824"
#define MAX_UNITS_ERR(v) "--max-units: '" v "' must be a number from 16 to 1048576"
#define TOP_ERR(v) "--top: '" v "' is not a positive number"
#define SINCE_ERR(v) "--since: '" v "' is neither a duration (2h) nor a date (2026-11-23T10:00)"

static struct bad_case bad_cases[] = {
	/* run: help */
	{ .name = "run: --help", .cmd = RUN, .args = { "run", "--help" }, .want = OPTIONS_HELP,
	  .want_err = "" },
	{ .name = "run: -h", .cmd = RUN, .args = { "run", "-h" }, .want = OPTIONS_HELP,
	  .want_err = "" },
	{ .name = "run: --help after other flags", .cmd = RUN, .args = { "run", "-j", "--help" },
	  .want = OPTIONS_HELP, .want_err = "" },
	{ .name = "run: --help before a bad flag", .cmd = RUN,
	  .args = { "run", "--help", "--bogus" }, .want = OPTIONS_HELP, .want_err = "" },
	/* run: bad values */
	{ .name = "run: duration 0", .cmd = RUN, .args = { "run", "-d", "0" },
	  .want = OPTIONS_ERROR, .want_err = DURATION_ERR("0") },
	{ .name = "run: negative duration", .cmd = RUN, .args = { "run", "--duration=-5" },
	  .want = OPTIONS_ERROR, .want_err = DURATION_ERR("-5") },
	{ .name = "run: duration words", .cmd = RUN, .args = { "run", "-d", "abc" },
	  .want = OPTIONS_ERROR, .want_err = DURATION_ERR("abc") },
	{ .name = "run: duration unknown unit", .cmd = RUN, .args = { "run", "-d", "10x" },
	  .want = OPTIONS_ERROR, .want_err = DURATION_ERR("10x") },
	{ .name = "run: duration empty", .cmd = RUN, .args = { "run", "--duration=" },
	  .want = OPTIONS_ERROR, .want_err = DURATION_ERR("") },
	{ .name = "run: duration rounds to 0", .cmd = RUN, .args = { "run", "-d", "0.0001" },
	  .want = OPTIONS_ERROR, .want_err = DURATION_ERR("0.0001") },
	{ .name = "run: interval too short", .cmd = RUN, .args = { "run", "-i", "0.05" },
	  .want = OPTIONS_ERROR, .want_err = INTERVAL_ERR("0.05") },
	{ .name = "run: interval too long", .cmd = RUN, .args = { "run", "-i", "3601" },
	  .want = OPTIONS_ERROR, .want_err = INTERVAL_ERR("3601") },
	{ .name = "run: interval 2h", .cmd = RUN, .args = { "run", "--interval", "2h" },
	  .want = OPTIONS_ERROR, .want_err = INTERVAL_ERR("2h") },
	{ .name = "run: interval garbage", .cmd = RUN, .args = { "run", "-i", "fast" },
	  .want = OPTIONS_ERROR, .want_err = INTERVAL_ERR("fast") },
	{ .name = "run: state interval 0", .cmd = RUN, .args = { "run", "--state-interval", "0" },
	  .want = OPTIONS_ERROR, .want_err = STATE_INTERVAL_ERR("0") },
	{ .name = "run: state interval too long", .cmd = RUN,
	  .args = { "run", "--state-interval=2h" }, .want = OPTIONS_ERROR,
	  .want_err = STATE_INTERVAL_ERR("2h") },
	{ .name = "run: empty unit glob", .cmd = RUN, .args = { "run", "-u", "" },
	  .want = OPTIONS_ERROR, .want_err = "--unit: the pattern is empty" },
	{ .name = "run: empty state path", .cmd = RUN, .args = { "run", "--state=" },
	  .want = OPTIONS_ERROR, .want_err = "--state: the path is empty" },
	{ .name = "run: ringbuf below a page", .cmd = RUN,
	  .args = { "run", "--ringbuf-size", "2048" },
	  .want = OPTIONS_ERROR, .want_err = RINGBUF_ERR("2048") },
	{ .name = "run: ringbuf 4095", .cmd = RUN, .args = { "run", "--ringbuf-size", "4095" },
	  .want = OPTIONS_ERROR, .want_err = RINGBUF_ERR("4095") },
	{ .name = "run: ringbuf not a power of two", .cmd = RUN,
	  .args = { "run", "--ringbuf-size", "5000" }, .want = OPTIONS_ERROR,
	  .want_err = RINGBUF_ERR("5000") },
	{ .name = "run: ringbuf too large", .cmd = RUN,
	  .args = { "run", "--ringbuf-size", "2147483648" }, .want = OPTIONS_ERROR,
	  .want_err = RINGBUF_ERR("2147483648") },
	{ .name = "run: ringbuf hex", .cmd = RUN, .args = { "run", "--ringbuf-size", "0x1000" },
	  .want = OPTIONS_ERROR, .want_err = RINGBUF_ERR("0x1000") },
	{ .name = "run: ringbuf negative", .cmd = RUN, .args = { "run", "--ringbuf-size=-4096" },
	  .want = OPTIONS_ERROR, .want_err = RINGBUF_ERR("-4096") },
	{ .name = "run: ringbuf with unit", .cmd = RUN, .args = { "run", "--ringbuf-size", "4k" },
	  .want = OPTIONS_ERROR, .want_err = RINGBUF_ERR("4k") },
	{ .name = "run: ringbuf empty", .cmd = RUN, .args = { "run", "--ringbuf-size=" },
	  .want = OPTIONS_ERROR, .want_err = RINGBUF_ERR("") },
	{ .name = "run: ringbuf overflowing u64", .cmd = RUN,
	  .args = { "run", "--ringbuf-size", "99999999999999999999999" }, .want = OPTIONS_ERROR,
	  .want_err = RINGBUF_ERR("99999999999999999999999") },
	{ .name = "run: db size under 1M", .cmd = RUN, .args = { "run", "--max-db-size", "1000K" },
	  .want = OPTIONS_ERROR,
	  .want_err = "--max-db-size: '1000K' must be a size from 1M to 1T (e.g. 64M, 1G)" },
	{ .name = "run: db size garbage", .cmd = RUN, .args = { "run", "--max-db-size", "big" },
	  .want = OPTIONS_ERROR,
	  .want_err = "--max-db-size: 'big' must be a size from 1M to 1T (e.g. 64M, 1G)" },
	{ .name = "run: retain 10s", .cmd = RUN, .args = { "run", "--retain", "10s" },
	  .want = OPTIONS_ERROR,
	  .want_err = "--retain: '10s' must be between 1 minute and 3650 days (e.g. 7d, 90d)" },
	{ .name = "run: max units 15", .cmd = RUN, .args = { "run", "--max-units", "15" },
	  .want = OPTIONS_ERROR, .want_err = MAX_UNITS_ERR("15") },
	{ .name = "run: max units too many", .cmd = RUN,
	  .args = { "run", "--max-units", "1048577" },
	  .want = OPTIONS_ERROR, .want_err = MAX_UNITS_ERR("1048577") },
	{ .name = "run: max units words", .cmd = RUN, .args = { "run", "--max-units=lots" },
	  .want = OPTIONS_ERROR, .want_err = MAX_UNITS_ERR("lots") },
	/* run: missing values, unknown flags, extra arguments */
	{ .name = "run: -d without value", .cmd = RUN, .args = { "run", "-d" },
	  .want = OPTIONS_ERROR, .want_err = "option '-d' needs a value" },
	{ .name = "run: --duration without value", .cmd = RUN, .args = { "run", "--duration" },
	  .want = OPTIONS_ERROR, .want_err = "option '--duration' needs a value" },
	{ .name = "run: --state without value", .cmd = RUN, .args = { "run", "-j", "--state" },
	  .want = OPTIONS_ERROR, .want_err = "option '--state' needs a value" },
	{ .name = "run: unknown long flag", .cmd = RUN, .args = { "run", "--bogus" },
	  .want = OPTIONS_ERROR, .want_err = "unknown option '--bogus'" },
	{ .name = "run: unknown short flag", .cmd = RUN, .args = { "run", "-x" },
	  .want = OPTIONS_ERROR, .want_err = "unknown option '-x'" },
	/* In a cluster the message names the unknown option itself, wherever it sits. */
	{ .name = "run: unknown short flag at the end of a cluster", .cmd = RUN,
	  .args = { "run", "-jx" }, .want = OPTIONS_ERROR, .want_err = "unknown option '-x'" },
	{ .name = "run: unknown short flag leading a cluster", .cmd = RUN,
	  .args = { "run", "-xj" }, .want = OPTIONS_ERROR, .want_err = "unknown option '-x'" },
	{ .name = "run: value given to a flag that takes none", .cmd = RUN,
	  .args = { "run", "--no-state=1" }, .want = OPTIONS_ERROR,
	  .want_err = "unknown option '--no-state=1'" },
	{ .name = "run: dump-only flag", .cmd = RUN, .args = { "run", "--top", "3" },
	  .want = OPTIONS_ERROR, .want_err = "unknown option '--top'" },
	{ .name = "run: bad flag after --help is not reached", .cmd = RUN,
	  .args = { "run", "--bogus", "--help" }, .want = OPTIONS_ERROR,
	  .want_err = "unknown option '--bogus'" },
	{ .name = "run: extra positional", .cmd = RUN, .args = { "run", "foo" },
	  .want = OPTIONS_ERROR, .want_err = "unexpected argument 'foo'" },
	{ .name = "run: extra positional among flags", .cmd = RUN,
	  .args = { "run", "-j", "foo", "-v" }, .want = OPTIONS_ERROR,
	  .want_err = "unexpected argument 'foo'" },
	{ .name = "run: positional after --", .cmd = RUN, .args = { "run", "--", "-j" },
	  .want = OPTIONS_ERROR, .want_err = "unexpected argument '-j'" },
	/* dump */
	{ .name = "dump: --help", .cmd = DUMP, .args = { "dump", "--help" }, .want = OPTIONS_HELP,
	  .want_err = "" },
	{ .name = "dump: -h", .cmd = DUMP, .args = { "dump", "-j", "-h" }, .want = OPTIONS_HELP,
	  .want_err = "" },
	{ .name = "dump: top 0", .cmd = DUMP, .args = { "dump", "-n", "0" },
	  .want = OPTIONS_ERROR, .want_err = TOP_ERR("0") },
	{ .name = "dump: top negative", .cmd = DUMP, .args = { "dump", "--top=-1" },
	  .want = OPTIONS_ERROR, .want_err = TOP_ERR("-1") },
	{ .name = "dump: top words", .cmd = DUMP, .args = { "dump", "--top", "all" },
	  .want = OPTIONS_ERROR, .want_err = TOP_ERR("all") },
	{ .name = "dump: top above INT32_MAX", .cmd = DUMP, .args = { "dump", "-n", "2147483648" },
	  .want = OPTIONS_ERROR, .want_err = TOP_ERR("2147483648") },
	{ .name = "dump: top empty", .cmd = DUMP, .args = { "dump", "--top=" },
	  .want = OPTIONS_ERROR, .want_err = TOP_ERR("") },
	{ .name = "dump: since words", .cmd = DUMP, .args = { "dump", "--since", "yesterday" },
	  .want = OPTIONS_ERROR, .want_err = SINCE_ERR("yesterday") },
	{ .name = "dump: since month 13", .cmd = DUMP, .args = { "dump", "--since=2026-13-01" },
	  .want = OPTIONS_ERROR, .want_err = SINCE_ERR("2026-13-01") },
	{ .name = "dump: since hour 25", .cmd = DUMP,
	  .args = { "dump", "--since", "2026-11-23T25:00" },
	  .want = OPTIONS_ERROR, .want_err = SINCE_ERR("2026-11-23T25:00") },
	{ .name = "dump: since negative duration", .cmd = DUMP,
	  .args = { "dump", "--since", "-2h" },
	  .want = OPTIONS_ERROR, .want_err = SINCE_ERR("-2h") },
	{ .name = "dump: since empty", .cmd = DUMP, .args = { "dump", "--since=" },
	  .want = OPTIONS_ERROR, .want_err = SINCE_ERR("") },
	{ .name = "dump: since without value", .cmd = DUMP, .args = { "dump", "--since" },
	  .want = OPTIONS_ERROR, .want_err = "option '--since' needs a value" },
	{ .name = "dump: -n without value", .cmd = DUMP, .args = { "dump", "-n" },
	  .want = OPTIONS_ERROR, .want_err = "option '-n' needs a value" },
	{ .name = "dump: empty unit glob", .cmd = DUMP, .args = { "dump", "--unit=" },
	  .want = OPTIONS_ERROR, .want_err = "--unit: the pattern is empty" },
	{ .name = "dump: empty state path", .cmd = DUMP, .args = { "dump", "-s", "" },
	  .want = OPTIONS_ERROR, .want_err = "--state: the path is empty" },
	{ .name = "dump: run-only flag", .cmd = DUMP, .args = { "dump", "--no-state" },
	  .want = OPTIONS_ERROR, .want_err = "unknown option '--no-state'" },
	{ .name = "dump: run-only short flag", .cmd = DUMP, .args = { "dump", "-d", "5" },
	  .want = OPTIONS_ERROR, .want_err = "unknown option '-d'" },
	{ .name = "dump: extra positional", .cmd = DUMP, .args = { "dump", "state.bin" },
	  .want = OPTIONS_ERROR, .want_err = "unexpected argument 'state.bin'" },
};

static void test_bad(void **state)
{
	const struct bad_case *c = *state;
	char *argv[MAX_ARGS];
	int argc = make_argv(c->args, argv);
	char err[256] = "";
	enum options_result ret;

	if (c->cmd == RUN) {
		struct run_options opts;

		ret = options_parse_run(argc, argv, &opts, err, sizeof(err));
	} else {
		struct dump_options opts;

		ret = options_parse_dump(argc, argv, NOW_MS, &opts, err, sizeof(err));
	}
	assert_int_equal(ret, c->want);
	assert_string_equal(err, c->want_err);
}

static void test_run_too_many_globs(void **state)
{
	char *argv[2 * OPTIONS_MAX_UNIT_GLOBS + 4];
	struct run_options opts;
	char err[128] = "";
	int argc = 0;

	(void)state;
	argv[argc++] = "run";
	for (int i = 0; i < OPTIONS_MAX_UNIT_GLOBS; i++) {
		argv[argc++] = "-u";
		argv[argc++] = "x*";
	}
	argv[argc] = NULL;
	assert_int_equal(options_parse_run(argc, argv, &opts, err, sizeof(err)), OPTIONS_OK);
	assert_int_equal(opts.n_unit_globs, OPTIONS_MAX_UNIT_GLOBS);

	argv[argc++] = "--unit=one-too-many";
	argv[argc] = NULL;
	assert_int_equal(options_parse_run(argc, argv, &opts, err, sizeof(err)), OPTIONS_ERROR);
	assert_string_equal(err, "--unit: at most 16 patterns");
}

static void test_dump_too_many_globs(void **state)
{
	char *argv[2 * OPTIONS_MAX_UNIT_GLOBS + 4];
	struct dump_options opts;
	char err[128] = "";
	int argc = 0;

	(void)state;
	argv[argc++] = "dump";
	for (int i = 0; i <= OPTIONS_MAX_UNIT_GLOBS; i++) {
		argv[argc++] = "-u";
		argv[argc++] = "x*";
	}
	argv[argc] = NULL;
	assert_int_equal(options_parse_dump(argc, argv, NOW_MS, &opts, err, sizeof(err)),
			 OPTIONS_ERROR);
	assert_string_equal(err, "--unit: at most 16 patterns");
}

/* The message is cut to the caller's buffer and stays NUL-terminated. */
static void test_error_message_truncated(void **state)
{
	char *argv[] = { "run", "--bogus", NULL };
	struct run_options opts;
	char err[12];

	(void)state;
	memset(err, 'Z', sizeof(err));
	assert_int_equal(options_parse_run(2, argv, &opts, err, sizeof(err)), OPTIONS_ERROR);
	assert_string_equal(err, "unknown opt");
}

/* Parsing twice in one process gives the same answer (getopt state is reset). */
static void test_parse_twice(void **state)
{
	char *a1[] = { "run", "-j", "-d", "5", NULL };
	char *a2[] = { "run", "-v", NULL };
	struct run_options opts;
	char err[64] = "";

	(void)state;
	assert_int_equal(options_parse_run(4, a1, &opts, err, sizeof(err)), OPTIONS_OK);
	assert_int_equal(opts.json, 1);
	assert_int_equal(opts.duration_ms, 5000);
	assert_int_equal(options_parse_run(2, a2, &opts, err, sizeof(err)), OPTIONS_OK);
	assert_int_equal(opts.json, 0);
	assert_int_equal(opts.verbose, 1);
	assert_int_equal(opts.duration_ms, 0);
}

/* ---- dump: accepted command lines ---------------------------------------- */

struct dump_want {
	int json;
	const char *state_path; /* NULL: the default */
	const char *globs[OPTIONS_MAX_UNIT_GLOBS];
	int n_globs;
	int top;
	int64_t since_ms;
	const char *since_arg;
};

struct dump_ok_case {
	const char *name;
	const char *args[MAX_ARGS];
	struct dump_want want;
};

static struct dump_ok_case dump_ok_cases[] = {
	{ .name = "dump: defaults", .args = { "dump" } },
	{ .name = "dump: -j", .args = { "dump", "-j" }, .want = { .json = 1 } },
	{ .name = "dump: --json", .args = { "dump", "--json" }, .want = { .json = 1 } },
	{ .name = "dump: -u twice", .args = { "dump", "-u", "a*", "--unit", "b?" },
	  .want = { .globs = { "a*", "b?" }, .n_globs = 2 } },
	{ .name = "dump: -n", .args = { "dump", "-n", "10" }, .want = { .top = 10 } },
	{ .name = "dump: --top=", .args = { "dump", "--top=1" }, .want = { .top = 1 } },
	{ .name = "dump: top INT32_MAX", .args = { "dump", "--top", "2147483647" },
	  .want = { .top = 2147483647 } },
	{ .name = "dump: -s", .args = { "dump", "-s", "/tmp/st" },
	  .want = { .state_path = "/tmp/st" } },
	{ .name = "dump: since hours", .args = { "dump", "--since", "2h" },
	  .want = { .since_ms = NOW_MS - 7200000, .since_arg = "2h" } },
	{ .name = "dump: since minutes", .args = { "dump", "--since=30m" },
	  .want = { .since_ms = NOW_MS - 1800000, .since_arg = "30m" } },
	{ .name = "dump: since days", .args = { "dump", "--since", "7d" },
	  .want = { .since_ms = NOW_MS - 604800000LL, .since_arg = "7d" } },
	{ .name = "dump: since bare seconds", .args = { "dump", "--since", "90" },
	  .want = { .since_ms = NOW_MS - 90000, .since_arg = "90" } },
	{ .name = "dump: since date", .args = { "dump", "--since", "2026-11-23" },
	  .want = { .since_ms = 1795392000000LL, .since_arg = "2026-11-23" } },
	{ .name = "dump: since date and time", .args = { "dump", "--since", "2026-11-23T10:00" },
	  .want = { .since_ms = 1795428000000LL, .since_arg = "2026-11-23T10:00" } },
	{ .name = "dump: since date time seconds Z",
	  .args = { "dump", "--since=2026-11-23T10:00:05Z" },
	  .want = { .since_ms = 1795428005000LL, .since_arg = "2026-11-23T10:00:05Z" } },
	{ .name = "dump: every flag",
	  .args = { "dump", "--json", "-u", "serial-getty@*", "-n", "3", "--since", "1d", "-s",
		    "/tmp/s" },
	  .want = { .json = 1, .globs = { "serial-getty@*" }, .n_globs = 1, .top = 3,
		    .since_ms = NOW_MS - 86400000LL, .since_arg = "1d",
		    .state_path = "/tmp/s" } },
};

static void test_dump_ok(void **state)
{
	const struct dump_ok_case *c = *state;
	const struct dump_want *want = &c->want;
	char *argv[MAX_ARGS];
	int argc = make_argv(c->args, argv);
	struct dump_options got;
	char err[256] = "";

	assert_int_equal(options_parse_dump(argc, argv, NOW_MS, &got, err, sizeof(err)),
			 OPTIONS_OK);
	assert_string_equal(err, "");
	assert_int_equal(got.json, want->json);
	assert_string_equal(got.state_path,
			    want->state_path ? want->state_path : "/var/lib/rcatrace/rcatrace.db");
	assert_int_equal(got.n_unit_globs, want->n_globs);
	for (int i = 0; i < want->n_globs; i++)
		assert_string_equal(got.unit_globs[i], want->globs[i]);
	assert_int_equal(got.top, want->top);
	assert_int_equal(got.since_ms, want->since_ms);
	if (want->since_arg)
		assert_string_equal(got.since_arg, want->since_arg);
	else
		assert_null(got.since_arg);
}

/* ---- timeline, history, report: options_parse_read ------------------------ */

/* 2026-11-23T10:00:00Z and 11:00:00Z, as --since/--until dates. */
#define NOV23_10H 1795428000000LL
#define NOV23_11H 1795431600000LL
#define RANGE_ERR(opt, v) opt ": '" v "' is neither a duration (2h) nor a date (2026-11-23T10:00)"
#define READ_TOP_ERR(v) "--top: '" v "' is not a number from 1 to 1000"

struct read_want {
	int json;
	const char *state_path; /* NULL: the default */
	const char *globs[OPTIONS_MAX_UNIT_GLOBS];
	int n_globs;
	int64_t since_ms, until_ms;
	const char *html_path;
	int top; /* 0: the default, 8 */
};

struct read_case {
	const char *name;
	enum read_command cmd;
	const char *args[MAX_ARGS];
	enum options_result result;
	const char *want_err;  /* the whole message on OPTIONS_ERROR */
	struct read_want want; /* the fields on OPTIONS_OK */
};

static struct read_case read_cases[] = {
	/* Defaults: the default store, no range, top 8, text. */
	{ .name = "timeline: defaults", .cmd = READ_TIMELINE, .args = { "timeline" } },
	{ .name = "history: defaults", .cmd = READ_HISTORY, .args = { "history" } },
	{ .name = "report: defaults with --html", .cmd = READ_REPORT,
	  .args = { "report", "--html", "/tmp/r.html" }, .want = { .html_path = "/tmp/r.html" } },
	{ .name = "report: --html=- (stdout)", .cmd = READ_REPORT, .args = { "report", "--html=-" },
	  .want = { .html_path = "-" } },
	/* --json for the two that have it. */
	{ .name = "timeline: --json", .cmd = READ_TIMELINE, .args = { "timeline", "--json" },
	  .want = { .json = 1 } },
	{ .name = "history: -j", .cmd = READ_HISTORY, .args = { "history", "-j" },
	  .want = { .json = 1 } },
	/* Durations back from now, and UTC dates. */
	{ .name = "history: --since 2h --until 30m", .cmd = READ_HISTORY,
	  .args = { "history", "--since", "2h", "--until", "30m" },
	  .want = { .since_ms = NOW_MS - 7200000, .until_ms = NOW_MS - 1800000 } },
	{ .name = "timeline: --since/--until dates", .cmd = READ_TIMELINE,
	  .args = { "timeline", "--since=2026-11-23T10:00", "--until", "2026-11-23T11:00:00Z" },
	  .want = { .since_ms = NOV23_10H, .until_ms = NOV23_11H } },
	{ .name = "timeline: --until alone", .cmd = READ_TIMELINE,
	  .args = { "timeline", "--until", "1d" }, .want = { .until_ms = NOW_MS - 86400000LL } },
	/* The same moment at both ends is a range, not an error. */
	{ .name = "report: --since equal to --until", .cmd = READ_REPORT,
	  .args = { "report", "--html", "x", "--since", "2026-11-23T10:00", "--until",
		    "2026-11-23T10:00" },
	  .want = { .html_path = "x", .since_ms = NOV23_10H, .until_ms = NOV23_10H } },
	/* --top, report only, 1..1000. */
	{ .name = "report: -n 1", .cmd = READ_REPORT, .args = { "report", "--html", "x", "-n", "1" },
	  .want = { .html_path = "x", .top = 1 } },
	{ .name = "report: --top=1000", .cmd = READ_REPORT,
	  .args = { "report", "--top=1000", "--html", "x" }, .want = { .html_path = "x", .top = 1000 } },
	{ .name = "history: units and state", .cmd = READ_HISTORY,
	  .args = { "history", "-u", "nginx*", "--unit=web1:*", "-s", "/tmp/r.db" },
	  .want = { .globs = { "nginx*", "web1:*" }, .n_globs = 2, .state_path = "/tmp/r.db" } },
	/* Help wins, even for a report without --html. */
	{ .name = "timeline: --help", .cmd = READ_TIMELINE, .args = { "timeline", "--help" },
	  .result = OPTIONS_HELP },
	{ .name = "report: -h without --html", .cmd = READ_REPORT, .args = { "report", "-h" },
	  .result = OPTIONS_HELP },

	/* --html: required for a report, refused elsewhere, never empty. */
	{ .name = "report: no --html", .cmd = READ_REPORT, .args = { "report", "--since", "1h" },
	  .result = OPTIONS_ERROR, .want_err = "--html FILE is required: where to write the page" },
	{ .name = "timeline: --html refused", .cmd = READ_TIMELINE,
	  .args = { "timeline", "--html", "x.html" }, .result = OPTIONS_ERROR,
	  .want_err = "--html: only for 'rcatrace report'" },
	{ .name = "history: --html refused", .cmd = READ_HISTORY, .args = { "history", "--html=x" },
	  .result = OPTIONS_ERROR, .want_err = "--html: only for 'rcatrace report'" },
	{ .name = "report: empty --html", .cmd = READ_REPORT, .args = { "report", "--html=" },
	  .result = OPTIONS_ERROR, .want_err = "--html: the path is empty" },
	{ .name = "report: --html without value", .cmd = READ_REPORT, .args = { "report", "--html" },
	  .result = OPTIONS_ERROR, .want_err = "option '--html' needs a value" },
	/* --json: not for a report. */
	{ .name = "report: --json refused", .cmd = READ_REPORT,
	  .args = { "report", "--html", "x", "--json" }, .result = OPTIONS_ERROR,
	  .want_err = "--json: a report is HTML; use timeline or history --json" },
	{ .name = "report: -j refused", .cmd = READ_REPORT, .args = { "report", "-j", "--html", "x" },
	  .result = OPTIONS_ERROR,
	  .want_err = "--json: a report is HTML; use timeline or history --json" },
	/* --top: out of range, not a number; and only for a report, named as typed. */
	{ .name = "report: --top 0", .cmd = READ_REPORT,
	  .args = { "report", "--html", "x", "--top", "0" }, .result = OPTIONS_ERROR,
	  .want_err = READ_TOP_ERR("0") },
	{ .name = "report: --top 1001", .cmd = READ_REPORT,
	  .args = { "report", "--html", "x", "-n", "1001" }, .result = OPTIONS_ERROR,
	  .want_err = READ_TOP_ERR("1001") },
	{ .name = "report: --top=-1", .cmd = READ_REPORT, .args = { "report", "--html", "x", "--top=-1" },
	  .result = OPTIONS_ERROR, .want_err = READ_TOP_ERR("-1") },
	{ .name = "report: --top words", .cmd = READ_REPORT,
	  .args = { "report", "--html", "x", "-n", "ten" }, .result = OPTIONS_ERROR,
	  .want_err = READ_TOP_ERR("ten") },
	{ .name = "timeline: -n refused, named", .cmd = READ_TIMELINE, .args = { "timeline", "-n", "3" },
	  .result = OPTIONS_ERROR, .want_err = "unknown option '-n'" },
	{ .name = "history: --top refused, named", .cmd = READ_HISTORY,
	  .args = { "history", "--top", "3" }, .result = OPTIONS_ERROR,
	  .want_err = "unknown option '--top'" },
	{ .name = "history: --top= refused", .cmd = READ_HISTORY, .args = { "history", "--top=3" },
	  .result = OPTIONS_ERROR, .want_err = "unknown option '--top'" },
	/* --since/--until: bad values, and a range that ends before it starts. */
	{ .name = "timeline: --until before --since", .cmd = READ_TIMELINE,
	  .args = { "timeline", "--since", "1h", "--until", "2h" }, .result = OPTIONS_ERROR,
	  .want_err = "--until is before --since" },
	{ .name = "report: --until before --since, dates", .cmd = READ_REPORT,
	  .args = { "report", "--html", "x", "--until", "2026-11-23T10:00", "--since",
		    "2026-11-23T10:00:01" },
	  .result = OPTIONS_ERROR, .want_err = "--until is before --since" },
	{ .name = "history: bad --since", .cmd = READ_HISTORY,
	  .args = { "history", "--since", "yesterday" }, .result = OPTIONS_ERROR,
	  .want_err = RANGE_ERR("--since", "yesterday") },
	{ .name = "timeline: bad --until", .cmd = READ_TIMELINE,
	  .args = { "timeline", "--until=2026-02-30T25:00" }, .result = OPTIONS_ERROR,
	  .want_err = RANGE_ERR("--until", "2026-02-30T25:00") },
	/* A day the month does not have is refused, not moved into the next month. */
	{ .name = "history: --since Feb 31 refused", .cmd = READ_HISTORY,
	  .args = { "history", "--since", "2026-02-31" }, .result = OPTIONS_ERROR,
	  .want_err = RANGE_ERR("--since", "2026-02-31") },
	{ .name = "timeline: --since without value", .cmd = READ_TIMELINE,
	  .args = { "timeline", "--since" }, .result = OPTIONS_ERROR,
	  .want_err = "option '--since' needs a value" },
	/* Unknown options, empty values, extra arguments. */
	{ .name = "timeline: unknown long option", .cmd = READ_TIMELINE,
	  .args = { "timeline", "--bogus" }, .result = OPTIONS_ERROR,
	  .want_err = "unknown option '--bogus'" },
	{ .name = "history: unknown short option", .cmd = READ_HISTORY, .args = { "history", "-x" },
	  .result = OPTIONS_ERROR, .want_err = "unknown option '-x'" },
	{ .name = "report: a run option", .cmd = READ_REPORT,
	  .args = { "report", "--html", "x", "--no-state" }, .result = OPTIONS_ERROR,
	  .want_err = "unknown option '--no-state'" },
	{ .name = "timeline: empty --unit", .cmd = READ_TIMELINE, .args = { "timeline", "--unit=" },
	  .result = OPTIONS_ERROR, .want_err = "--unit: the pattern is empty" },
	{ .name = "history: empty -u", .cmd = READ_HISTORY, .args = { "history", "-u", "" },
	  .result = OPTIONS_ERROR, .want_err = "--unit: the pattern is empty" },
	{ .name = "report: empty --state", .cmd = READ_REPORT,
	  .args = { "report", "--html", "x", "--state=" }, .result = OPTIONS_ERROR,
	  .want_err = "--state: the path is empty" },
	{ .name = "history: extra positional", .cmd = READ_HISTORY,
	  .args = { "history", "nginx.service" }, .result = OPTIONS_ERROR,
	  .want_err = "unexpected argument 'nginx.service'" },
};

static void test_read(void **state)
{
	const struct read_case *c = *state;
	const struct read_want *want = &c->want;
	char *argv[MAX_ARGS];
	int argc = make_argv(c->args, argv);
	struct read_options got;
	char err[256] = "";

	memset(&got, 0x5a, sizeof(got));
	assert_int_equal(options_parse_read(c->cmd, argc, argv, NOW_MS, &got, err, sizeof(err)),
			 c->result);
	if (c->result == OPTIONS_ERROR) {
		assert_string_equal(err, c->want_err);
		return;
	}
	assert_string_equal(err, "");
	if (c->result == OPTIONS_HELP)
		return;
	assert_int_equal(got.json, want->json);
	assert_string_equal(got.state_path, want->state_path ? want->state_path : RCATRACE_DEFAULT_STATE);
	assert_int_equal(got.n_unit_globs, want->n_globs);
	for (int i = 0; i < want->n_globs; i++)
		assert_string_equal(got.unit_globs[i], want->globs[i]);
	assert_int_equal(got.since_ms, want->since_ms);
	assert_int_equal(got.until_ms, want->until_ms);
	if (want->html_path)
		assert_string_equal(got.html_path, want->html_path);
	else
		assert_null(got.html_path);
	assert_int_equal(got.top, want->top ? want->top : 8);
}

/* Each reader has its own usage text, naming the command (and --html for a report). */
static void test_read_usage(void **state)
{
	static const struct {
		enum read_command cmd;
		const char *first_line;
	} usage[] = {
		{ READ_TIMELINE, "Usage: rcatrace timeline [OPTIONS]\n" },
		{ READ_HISTORY, "Usage: rcatrace history [OPTIONS]\n" },
		{ READ_REPORT, "Usage: rcatrace report --html FILE [OPTIONS]\n" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(usage); i++) {
		const char *text = options_read_usage(usage[i].cmd);

		if (strncmp(text, usage[i].first_line, strlen(usage[i].first_line)) != 0)
			fail_msg("usage %zu starts '%.50s', wanted '%s'", i, text, usage[i].first_line);
	}
}

/* A run's parse then a reader's: getopt's state is reset, nothing carries over. */
static void test_read_after_run(void **state)
{
	char *a1[] = { "run", "-j", "-u", "x*", NULL };
	char *a2[] = { "history", "--since", "1h", NULL };
	struct run_options ro;
	struct read_options got;
	char err[64] = "";

	(void)state;
	assert_int_equal(options_parse_run(4, a1, &ro, err, sizeof(err)), OPTIONS_OK);
	assert_int_equal(options_parse_read(READ_HISTORY, 3, a2, NOW_MS, &got, err, sizeof(err)),
			 OPTIONS_OK);
	assert_int_equal(got.json, 0);
	assert_int_equal(got.n_unit_globs, 0);
	assert_int_equal(got.since_ms, NOW_MS - 3600000);
}

/* ---- options_unit_matches ------------------------------------------------ */

struct match_case {
	const char *name;
	const char *globs[4];
	int n;
	const char *unit;
	int want;
};

static struct match_case match_cases[] = {
	{ .name = "match: no globs matches everything", .n = 0, .unit = "anything.service",
	  .want = 1 },
	{ .name = "match: template prefix", .globs = { "serial-getty@*" }, .n = 1,
	  .unit = "serial-getty@ttyS0.service", .want = 1 },
	{ .name = "match: template prefix, other unit", .globs = { "serial-getty@*" }, .n = 1,
	  .unit = "getty@tty1.service", .want = 0 },
	{ .name = "match: suffix", .globs = { "*.scope" }, .n = 1, .unit = "session-3.scope",
	  .want = 1 },
	{ .name = "match: suffix, other type", .globs = { "*.scope" }, .n = 1,
	  .unit = "cron.service", .want = 0 },
	{ .name = "match: exact name", .globs = { "cron.service" }, .n = 1, .unit = "cron.service",
	  .want = 1 },
	{ .name = "match: exact name is not a prefix", .globs = { "cron.servic" }, .n = 1,
	  .unit = "cron.service", .want = 0 },
	{ .name = "match: container names", .globs = { "docker:*" }, .n = 1,
	  .unit = "docker:0123456789ab", .want = 1 },
	{ .name = "match: second glob", .globs = { "a*", "*.timer", "z*" }, .n = 3,
	  .unit = "logrotate.timer", .want = 1 },
	{ .name = "match: none of three", .globs = { "a*", "*.timer", "z*" }, .n = 3,
	  .unit = "cron.service", .want = 0 },
	{ .name = "match: only the first n globs count", .globs = { "a*", "cron.service" }, .n = 1,
	  .unit = "cron.service", .want = 0 },
	{ .name = "match: question mark", .globs = { "getty@tty?.service" }, .n = 1,
	  .unit = "getty@tty1.service", .want = 1 },
	{ .name = "match: bracket class", .globs = { "getty@tty[12].service" }, .n = 1,
	  .unit = "getty@tty3.service", .want = 0 },
	{ .name = "match: star crosses slashes of a path name", .globs = { "/my*" }, .n = 1,
	  .unit = "/mygroup/sub", .want = 1 },
	{ .name = "match: case sensitive", .globs = { "Cron*" }, .n = 1, .unit = "cron.service",
	  .want = 0 },
};

static void test_unit_matches(void **state)
{
	const struct match_case *c = *state;

	assert_int_equal(options_unit_matches(c->globs, c->n, c->unit), c->want);
}

#define N_TESTS                                                                               \
	(ARRAY_SIZE(run_ok_cases) + ARRAY_SIZE(bad_cases) + ARRAY_SIZE(dump_ok_cases) +       \
	 ARRAY_SIZE(match_cases) + ARRAY_SIZE(read_cases) + 7)

int main(void)
{
	static struct CMUnitTest tests[N_TESTS];
	size_t n = 0;

#define ADD_ROWS(table, fn)                                                                   \
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)                                        \
	tests[n++] = (struct CMUnitTest){ .name = table[i].name, .test_func = fn,             \
					  .initial_state = &table[i] }
#define ADD(label, fn) tests[n++] = (struct CMUnitTest){ .name = label, .test_func = fn }

	ADD_ROWS(run_ok_cases, test_run_ok);
	ADD_ROWS(bad_cases, test_bad);
	ADD_ROWS(dump_ok_cases, test_dump_ok);
	ADD_ROWS(match_cases, test_unit_matches);
	ADD("run: default values", test_run_default_values);
	ADD("run: 17th --unit is refused", test_run_too_many_globs);
	ADD("dump: 17th --unit is refused", test_dump_too_many_globs);
	ADD("error message cut to the buffer", test_error_message_truncated);
	ADD("parse twice in one process", test_parse_twice);
	ADD_ROWS(read_cases, test_read);
	ADD("read: usage texts", test_read_usage);
	ADD("read: after a run parse", test_read_after_run);
	if (n != N_TESTS) {
		fprintf(stderr, "test table miscounted: %zu of %zu\n", n, (size_t)N_TESTS);
		return 1;
	}
	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
