// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * json_writer: commas, nesting and escaping. Each case writes through the
 * real writer into a memstream and compares the exact bytes produced.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_writer.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct writer_case {
	const char *name;
	void (*write)(struct json_writer *w);
	const char *want;
};

static void w_empty_object(struct json_writer *w)
{
	json_object_begin(w);
	json_object_end(w);
}

static void w_empty_array(struct json_writer *w)
{
	json_array_begin(w);
	json_array_end(w);
}

static void w_every_kv_type(struct json_writer *w)
{
	json_object_begin(w);
	json_kv_string(w, "s", "x");
	json_kv_u64(w, "u", UINT64_MAX);
	json_kv_i64(w, "i", INT64_MIN);
	json_kv_double(w, "d", 1.5, 2);
	json_kv_bool(w, "t", 1);
	json_kv_bool(w, "f", 0);
	json_kv_null(w, "n");
	json_object_end(w);
}

static void w_nested(struct json_writer *w)
{
	json_object_begin(w);
	json_key(w, "a");
	json_array_begin(w);
	json_u64(w, 1);
	json_u64(w, 2);
	json_object_begin(w);
	json_key(w, "b");
	json_array_begin(w);
	json_array_end(w);
	json_object_end(w);
	json_array_end(w);
	json_key(w, "c");
	json_object_begin(w);
	json_object_end(w);
	json_kv_i64(w, "d", -1);
	json_object_end(w);
}

static void w_array_of_objects(struct json_writer *w)
{
	json_array_begin(w);
	for (int i = 1; i <= 3; i++) {
		json_object_begin(w);
		json_kv_u64(w, "x", (uint64_t)i);
		json_kv_string(w, "y", "z");
		json_object_end(w);
	}
	json_array_end(w);
}

static void w_array_of_arrays(struct json_writer *w)
{
	json_array_begin(w);
	json_array_begin(w);
	json_array_end(w);
	json_array_begin(w);
	json_null(w);
	json_array_end(w);
	json_bool(w, 1);
	json_array_end(w);
}

static void w_doubles(struct json_writer *w)
{
	json_array_begin(w);
	json_double(w, 1.0 / 3.0, 3);
	json_double(w, 3.7, 0);
	json_double(w, -2.26, 1);
	json_double(w, 0.0, 2);
	json_double(w, 1e6, 1);
	json_array_end(w);
}

static void w_non_finite_doubles(struct json_writer *w)
{
	json_array_begin(w);
	json_double(w, NAN, 2);
	json_double(w, INFINITY, 2);
	json_double(w, -INFINITY, 2);
	json_double(w, 1.0, 2);
	json_array_end(w);
}

static void w_kv_nan(struct json_writer *w)
{
	json_object_begin(w);
	json_kv_double(w, "rate", NAN, 3);
	json_kv_double(w, "mean", 2.0, 1);
	json_object_end(w);
}

static void w_integers(struct json_writer *w)
{
	json_array_begin(w);
	json_u64(w, 0);
	json_u64(w, 42);
	json_i64(w, 0);
	json_i64(w, -42);
	json_i64(w, INT64_MAX);
	json_array_end(w);
}

static void w_hostile_value(struct json_writer *w)
{
	json_object_begin(w);
	json_kv_string(w, "comm", "\x1b[31m\"x\\\n");
	json_object_end(w);
}

static void w_hostile_key(struct json_writer *w)
{
	json_object_begin(w);
	json_kv_u64(w, "a\"b\x01", 1);
	json_object_end(w);
}

static void w_invalid_utf8(struct json_writer *w)
{
	json_string(w, "a\xff\xc0\xaf" "b");
}

static void w_valid_utf8(struct json_writer *w)
{
	json_string(w, "caf\xc3\xa9 \xe2\x82\xac");
}

static void w_null_strings(struct json_writer *w)
{
	json_object_begin(w);
	json_key(w, "a");
	json_string(w, NULL);
	json_key(w, "b");
	json_string_n(w, NULL, 16);
	json_kv_string(w, "c", NULL);
	json_object_end(w);
}

/* A fixed kernel buffer that fills its array: no NUL, other data right after. */
static void w_string_n_unterminated(struct json_writer *w)
{
	struct {
		char comm[4];
		char after[4];
	} rec = { .comm = { 'a', 'b', 'c', 'd' }, .after = { 'X', 'Y', 'Z', '\0' } };

	json_string_n(w, rec.comm, sizeof(rec.comm));
}

static void w_string_n_stops_at_nul(struct json_writer *w)
{
	json_string_n(w, "ab\0cd", 5);
}

static void w_string_n_zero(struct json_writer *w)
{
	json_string_n(w, "abc", 0);
}

static void w_long_string(struct json_writer *w)
{
	char s[501];

	memset(s, 'q', 500);
	s[500] = '\0';
	s[0] = '"';
	s[250] = '\x1b';
	json_string(w, s);
}

/* JSON lines: one writer, one document per line, no comma between documents. */
static void w_json_lines(struct json_writer *w)
{
	json_object_begin(w);
	json_kv_string(w, "type", "exec");
	json_object_end(w);
	fputc('\n', w->f);
	json_object_begin(w);
	json_kv_string(w, "type", "exit");
	json_object_end(w);
	fputc('\n', w->f);
}

/* `levels` nested arrays, innermost [1], then a sibling after each one that closes. */
static void nest(struct json_writer *w, int levels)
{
	for (int i = 0; i < levels; i++)
		json_array_begin(w);
	json_u64(w, 1);
	for (int i = 0; i < levels; i++) {
		json_array_end(w);
		if (i < levels - 1)
			json_u64(w, (uint64_t)(i + 2));
	}
}

static void w_nest_15(struct json_writer *w)
{
	nest(w, 15);
}

/* JSON_MAX_DEPTH levels: the limit the header names must still give valid JSON. */
static void w_nest_max_depth(struct json_writer *w)
{
	nest(w, JSON_MAX_DEPTH);
}

static const char long_string_want[] = "\"\\\"" /* s[0]: a quote */
				       "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
				       "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
				       "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
				       "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
				       "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
				       "\\u001b" /* s[250] */
				       "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
				       "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
				       "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
				       "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
				       "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
				       "\"";

static struct writer_case writer_cases[] = {
	{ .name = "empty object", .write = w_empty_object, .want = "{}" },
	{ .name = "empty array", .write = w_empty_array, .want = "[]" },
	{ .name = "every key-value type",
	  .write = w_every_kv_type,
	  .want = "{\"s\":\"x\",\"u\":18446744073709551615,\"i\":-9223372036854775808,"
		  "\"d\":1.50,\"t\":true,\"f\":false,\"n\":null}" },
	{ .name = "nested containers",
	  .write = w_nested,
	  .want = "{\"a\":[1,2,{\"b\":[]}],\"c\":{},\"d\":-1}" },
	{ .name = "array of objects",
	  .write = w_array_of_objects,
	  .want = "[{\"x\":1,\"y\":\"z\"},{\"x\":2,\"y\":\"z\"},{\"x\":3,\"y\":\"z\"}]" },
	{ .name = "array of arrays", .write = w_array_of_arrays, .want = "[[],[null],true]" },
	{ .name = "doubles with fixed decimals",
	  .write = w_doubles,
	  .want = "[0.333,4,-2.3,0.00,1000000.0]" },
	{ .name = "NaN and infinities are null",
	  .write = w_non_finite_doubles,
	  .want = "[null,null,null,1.00]" },
	{ .name = "NaN value of a key is null",
	  .write = w_kv_nan,
	  .want = "{\"rate\":null,\"mean\":2.0}" },
	{ .name = "integers", .write = w_integers,
	  .want = "[0,42,0,-42,9223372036854775807]" },
	{ .name = "hostile string value escaped",
	  .write = w_hostile_value,
	  .want = "{\"comm\":\"\\u001b[31m\\\"x\\\\\\n\"}" },
	{ .name = "hostile key escaped", .write = w_hostile_key,
	  .want = "{\"a\\\"b\\u0001\":1}" },
	{ .name = "invalid UTF-8 becomes U+FFFD",
	  .write = w_invalid_utf8,
	  .want = "\"a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b\"" },
	{ .name = "valid UTF-8 passes", .write = w_valid_utf8,
	  .want = "\"caf\xc3\xa9 \xe2\x82\xac\"" },
	{ .name = "NULL strings are empty strings; a keyed NULL string is null",
	  .write = w_null_strings,
	  .want = "{\"a\":\"\",\"b\":\"\",\"c\":null}" },
	{ .name = "string_n bounded by n without NUL",
	  .write = w_string_n_unterminated,
	  .want = "\"abcd\"" },
	{ .name = "string_n stops at NUL", .write = w_string_n_stops_at_nul, .want = "\"ab\"" },
	{ .name = "string_n with n 0", .write = w_string_n_zero, .want = "\"\"" },
	{ .name = "500-byte string", .write = w_long_string, .want = long_string_want },
	{ .name = "JSON lines: no comma between top-level documents",
	  .write = w_json_lines,
	  .want = "{\"type\":\"exec\"}\n{\"type\":\"exit\"}\n" },
	{ .name = "15 levels deep with siblings",
	  .write = w_nest_15,
	  .want = "[[[[[[[[[[[[[[[1],2],3],4],5],6],7],8],9],10],11],12],13],14],15]" },
	{ .name = "JSON_MAX_DEPTH (16) levels deep with siblings",
	  .write = w_nest_max_depth,
	  .want = "[[[[[[[[[[[[[[[[1],2],3],4],5],6],7],8],9],10],11],12],13],14],15],16]" },
};

static void test_writer(void **state)
{
	const struct writer_case *c = *state;
	static char got[4096];
	struct json_writer w;
	char *out = NULL;
	size_t out_len = 0;
	FILE *f = open_memstream(&out, &out_len);

	assert_non_null(f);
	json_init(&w, f);
	c->write(&w);
	fclose(f);
	/* Copy out and free before asserting: a failed assertion must not leak. */
	snprintf(got, sizeof(got), "%s", out);
	free(out);
	assert_string_equal(got, c->want);
	assert_int_equal(out_len, strlen(c->want));
}

/* json_init() on a fresh stream forgets the commas owed by the previous document. */
static void test_init_resets_state(void **state)
{
	struct json_writer w;
	char *out = NULL;
	size_t out_len = 0;
	char got[64];
	FILE *f = open_memstream(&out, &out_len);

	(void)state;
	assert_non_null(f);
	json_init(&w, f);
	json_object_begin(&w);
	json_kv_u64(&w, "a", 1);
	json_object_end(&w);
	fputc('\n', f);
	json_init(&w, f);
	json_object_begin(&w);
	json_kv_u64(&w, "b", 2);
	json_object_end(&w);
	fclose(f);
	snprintf(got, sizeof(got), "%s", out);
	free(out);
	assert_string_equal(got, "{\"a\":1}\n{\"b\":2}");
}

#define N_TESTS (ARRAY_SIZE(writer_cases) + 1)

int main(void)
{
	static struct CMUnitTest tests[N_TESTS];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(writer_cases); i++)
		tests[n++] = (struct CMUnitTest){ .name = writer_cases[i].name,
						  .test_func = test_writer,
						  .initial_state = &writer_cases[i] };
	tests[n++] = (struct CMUnitTest){ .name = "json_init resets state",
					  .test_func = test_init_resets_state };
	if (n != N_TESTS) {
		fprintf(stderr, "test table miscounted: %zu of %zu\n", n, (size_t)N_TESTS);
		return 1;
	}
	return cmocka_run_group_tests_name("json_writer", tests, NULL, NULL);
}
