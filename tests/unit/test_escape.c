// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * escape: untrusted bytes (comm, file names, cgroup names) made safe for a
 * terminal and for JSON. Every case states the exact output, so a hostile
 * byte that slips through, or a byte escaped twice, fails the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "escape.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The three-byte UTF-8 form of U+FFFD, what escape_json() puts for each invalid byte. */
#define FFFD "\xef\xbf\xbd"

struct escape_case {
	const char *name;
	const char *src;
	size_t src_len; /* 0: strlen(src) */
	size_t size;    /* destination buffer size */
	const char *want;
};

static struct escape_case terminal_cases[] = {
	{ .name = "terminal: plain ascii", .src = "bash", .size = 64,
	  .want = "bash" },
	{ .name = "terminal: printable punctuation and quotes pass", .src = "a b~!\"'",
	  .size = 64, .want = "a b~!\"'" },
	{ .name = "terminal: empty", .src = "", .size = 64, .want = "" },
	{ .name = "terminal: ANSI colour sequence", .src = "\x1b[31mred\x1b[0m",
	  .size = 64, .want = "\\x1b[31mred\\x1b[0m" },
	{ .name = "terminal: OSC title sequence", .src = "\x1b]0;pwned\x07",
	  .size = 64, .want = "\\x1b]0;pwned\\x07" },
	{ .name = "terminal: newline tab carriage return", .src = "a\nb\tc\rd",
	  .size = 64, .want = "a\\nb\\tc\\rd" },
	{ .name = "terminal: backslash doubled", .src = "a\\b", .size = 64,
	  .want = "a\\\\b" },
	{ .name = "terminal: literal \\x1b text is not mistaken for an escape",
	  .src = "\\x1b", .size = 64, .want = "\\\\x1b" },
	{ .name = "terminal: bell backspace and 0x01", .src = "\x07\x08\x01",
	  .size = 64, .want = "\\x07\\x08\\x01" },
	{ .name = "terminal: DEL", .src = "\x7f", .size = 64, .want = "\\x7f" },
	{ .name = "terminal: valid 2 3 and 4 byte UTF-8 pass",
	  .src = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", .size = 64,
	  .want = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" },
	{ .name = "terminal: U+00A0 is not a C1 control", .src = "\xc2\xa0",
	  .size = 64, .want = "\xc2\xa0" },
	{ .name = "terminal: C1 CSI encoded as UTF-8", .src = "\xc2\x9b" "31m",
	  .size = 64, .want = "\\u009b31m" },
	{ .name = "terminal: C1 U+0080 encoded as UTF-8", .src = "\xc2\x80",
	  .size = 64, .want = "\\u0080" },
	{ .name = "terminal: raw 8-bit CSI byte", .src = "\x9b" "31m",
	  .size = 64, .want = "\\x9b31m" },
	{ .name = "terminal: invalid byte 0xff", .src = "a\xff" "b",
	  .size = 64, .want = "a\\xffb" },
	{ .name = "terminal: lone continuation byte", .src = "\x80",
	  .size = 64, .want = "\\x80" },
	{ .name = "terminal: overlong 2-byte slash", .src = "\xc0\xaf",
	  .size = 64, .want = "\\xc0\\xaf" },
	{ .name = "terminal: overlong 3-byte slash", .src = "\xe0\x80\xaf",
	  .size = 64, .want = "\\xe0\\x80\\xaf" },
	{ .name = "terminal: overlong 4-byte slash", .src = "\xf0\x80\x80\xaf",
	  .size = 64, .want = "\\xf0\\x80\\x80\\xaf" },
	{ .name = "terminal: UTF-16 surrogate", .src = "\xed\xa0\x80",
	  .size = 64, .want = "\\xed\\xa0\\x80" },
	{ .name = "terminal: code point above U+10FFFF", .src = "\xf4\x90\x80\x80",
	  .size = 64, .want = "\\xf4\\x90\\x80\\x80" },
	{ .name = "terminal: sequence cut by end of string", .src = "a\xe2\x82",
	  .size = 64, .want = "a\\xe2\\x82" },
	{ .name = "terminal: sequence cut by src_len", .src = "\xe2\x82\xac", .src_len = 2,
	  .size = 64, .want = "\\xe2\\x82" },
	{ .name = "terminal: stops at NUL", .src = "ab\0\x1b" "cd", .src_len = 6, .size = 64,
	  .want = "ab" },
	{ .name = "terminal: reads at most src_len", .src = "abcdef", .src_len = 3, .size = 64,
	  .want = "abc" },
	{ .name = "terminal: truncates plain text", .src = "abcdef",
	  .size = 4, .want = "abc" },
	{ .name = "terminal: size 1 gives empty string", .src = "abc",
	  .size = 1, .want = "" },
	{ .name = "terminal: escape that does not fit is dropped whole", .src = "ab\x1b",
	  .size = 6, .want = "ab" },
	{ .name = "terminal: escape that fits exactly", .src = "ab\x1b",
	  .size = 7, .want = "ab\\x1b" },
	{ .name = "terminal: multibyte character not split", .src = "a\xe2\x82\xac",
	  .size = 4, .want = "a" },
	{ .name = "terminal: multibyte character fits exactly", .src = "a\xe2\x82\xac",
	  .size = 5, .want = "a\xe2\x82\xac" },
};

static struct escape_case json_cases[] = {
	{ .name = "json: plain ascii", .src = "sshd", .size = 64,
	  .want = "sshd" },
	{ .name = "json: empty", .src = "", .size = 64, .want = "" },
	{ .name = "json: double quotes", .src = "say \"hi\"", .size = 64,
	  .want = "say \\\"hi\\\"" },
	{ .name = "json: backslash", .src = "C:\\tmp", .size = 64,
	  .want = "C:\\\\tmp" },
	{ .name = "json: ANSI colour sequence", .src = "\x1b[31mred\x1b[0m",
	  .size = 64, .want = "\\u001b[31mred\\u001b[0m" },
	{ .name = "json: newline tab carriage return", .src = "a\nb\tc\rd",
	  .size = 64, .want = "a\\nb\\tc\\rd" },
	{ .name = "json: other control bytes", .src = "\x01\x08\x0c\x1f",
	  .size = 64, .want = "\\u0001\\u0008\\u000c\\u001f" },
	{ .name = "json: DEL", .src = "\x7f", .size = 64, .want = "\\u007f" },
	{ .name = "json: slash is not escaped", .src = "/usr/bin/x",
	  .size = 64, .want = "/usr/bin/x" },
	{ .name = "json: valid 2 3 and 4 byte UTF-8 pass",
	  .src = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", .size = 64,
	  .want = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" },
	{ .name = "json: C1 control is valid JSON and passes", .src = "\xc2\x9b",
	  .size = 64, .want = "\xc2\x9b" },
	{ .name = "json: invalid byte becomes U+FFFD", .src = "ok\xffok",
	  .size = 64, .want = "ok" FFFD "ok" },
	{ .name = "json: raw 8-bit CSI byte becomes U+FFFD", .src = "\x9b" "31m",
	  .size = 64, .want = FFFD "31m" },
	{ .name = "json: lone continuation byte", .src = "\x80", .size = 64,
	  .want = FFFD },
	{ .name = "json: overlong 2-byte slash", .src = "\xc0\xaf",
	  .size = 64, .want = FFFD FFFD },
	{ .name = "json: overlong 3-byte slash", .src = "\xe0\x80\xaf",
	  .size = 64, .want = FFFD FFFD FFFD },
	{ .name = "json: UTF-16 surrogate", .src = "\xed\xa0\x80",
	  .size = 64, .want = FFFD FFFD FFFD },
	{ .name = "json: code point above U+10FFFF", .src = "\xf4\x90\x80\x80",
	  .size = 64, .want = FFFD FFFD FFFD FFFD },
	{ .name = "json: sequence cut by end of string", .src = "a\xe2\x82",
	  .size = 64, .want = "a" FFFD FFFD },
	{ .name = "json: sequence cut by src_len", .src = "\xe2\x82\xac", .src_len = 2,
	  .size = 64, .want = FFFD FFFD },
	{ .name = "json: stops at NUL", .src = "ab\0\"cd", .src_len = 6, .size = 64,
	  .want = "ab" },
	{ .name = "json: escaped quote that fits exactly", .src = "\"",
	  .size = 3, .want = "\\\"" },
	{ .name = "json: escaped quote that does not fit", .src = "\"",
	  .size = 2, .want = "" },
	{ .name = "json: \\u escape is not split", .src = "ab\x1b",
	  .size = 8, .want = "ab" },
	{ .name = "json: U+FFFD is not split", .src = "a\xff", .size = 4,
	  .want = "a" },
	{ .name = "json: U+FFFD fits exactly", .src = "a\xff", .size = 5,
	  .want = "a" FFFD },
};

static void check_escape(const struct escape_case *c, size_t (*fn)(char *, size_t, const char *,
								  size_t))
{
	char dst[128];
	size_t src_len = c->src_len ? c->src_len : strlen(c->src);
	size_t n;

	assert_true(c->size <= sizeof(dst));
	memset(dst, 'Z', sizeof(dst));
	n = fn(dst, c->size, c->src, src_len);
	assert_string_equal(dst, c->want);
	assert_int_equal(n, strlen(c->want));
	/* Nothing written past the buffer the caller declared. */
	for (size_t i = c->size; i < sizeof(dst); i++)
		assert_int_equal(dst[i], 'Z');
}

static void test_escape_terminal(void **state)
{
	check_escape(*state, escape_terminal);
}

static void test_escape_json(void **state)
{
	check_escape(*state, escape_json);
}

static void test_size_zero_writes_nothing(void **state)
{
	char dst[4] = "XYZ";

	(void)state;
	assert_int_equal(escape_terminal(dst, 0, "\x1b[31m", 5), 0);
	assert_memory_equal(dst, "XYZ", 4);
	assert_int_equal(escape_json(dst, 0, "\x1b[31m", 5), 0);
	assert_memory_equal(dst, "XYZ", 4);
}

struct utf8_case {
	const char *name;
	const char *bytes;
	size_t n;
	size_t want;
};

static struct utf8_case utf8_cases[] = {
	{ .name = "utf8: ascii", .bytes = "A", .n = 1, .want = 1 },
	{ .name = "utf8: NUL is one ascii byte", .bytes = "", .n = 1, .want = 1 },
	{ .name = "utf8: n == 0", .bytes = "A", .n = 0, .want = 0 },
	{ .name = "utf8: U+00E9", .bytes = "\xc3\xa9", .n = 2, .want = 2 },
	{ .name = "utf8: U+00E9 cut by n", .bytes = "\xc3\xa9", .n = 1, .want = 0 },
	{ .name = "utf8: U+20AC", .bytes = "\xe2\x82\xac", .n = 3, .want = 3 },
	{ .name = "utf8: U+1F600", .bytes = "\xf0\x9f\x98\x80", .n = 4, .want = 4 },
	{ .name = "utf8: U+0800 smallest 3-byte", .bytes = "\xe0\xa0\x80", .n = 3, .want = 3 },
	{ .name = "utf8: U+D7FF before surrogates", .bytes = "\xed\x9f\xbf", .n = 3, .want = 3 },
	{ .name = "utf8: U+E000 after surrogates", .bytes = "\xee\x80\x80", .n = 3, .want = 3 },
	{ .name = "utf8: U+10000 smallest 4-byte", .bytes = "\xf0\x90\x80\x80", .n = 4,
	  .want = 4 },
	{ .name = "utf8: U+10FFFF largest", .bytes = "\xf4\x8f\xbf\xbf", .n = 4, .want = 4 },
	{ .name = "utf8: U+110000 too large", .bytes = "\xf4\x90\x80\x80", .n = 4, .want = 0 },
	{ .name = "utf8: lead 0xf5", .bytes = "\xf5\x80\x80\x80", .n = 4, .want = 0 },
	{ .name = "utf8: overlong C0 80", .bytes = "\xc0\x80", .n = 2, .want = 0 },
	{ .name = "utf8: overlong C1 BF", .bytes = "\xc1\xbf", .n = 2, .want = 0 },
	{ .name = "utf8: overlong E0 9F BF", .bytes = "\xe0\x9f\xbf", .n = 3, .want = 0 },
	{ .name = "utf8: overlong F0 8F BF BF", .bytes = "\xf0\x8f\xbf\xbf", .n = 4, .want = 0 },
	{ .name = "utf8: surrogate D800", .bytes = "\xed\xa0\x80", .n = 3, .want = 0 },
	{ .name = "utf8: surrogate DFFF", .bytes = "\xed\xbf\xbf", .n = 3, .want = 0 },
	{ .name = "utf8: lone continuation", .bytes = "\x80", .n = 1, .want = 0 },
	{ .name = "utf8: byte 0xff", .bytes = "\xff", .n = 1, .want = 0 },
	{ .name = "utf8: lead followed by ascii", .bytes = "\xc3" "A", .n = 2, .want = 0 },
	{ .name = "utf8: 4-byte with bad third byte", .bytes = "\xf0\x9f" "A\x80", .n = 4,
	  .want = 0 },
};

static void test_utf8_sequence_len(void **state)
{
	const struct utf8_case *c = *state;

	assert_int_equal(utf8_sequence_len((const unsigned char *)c->bytes, c->n), c->want);
}

/*
 * fputs_json_string() escapes in chunks; these inputs are long enough to
 * cross several chunk boundaries, several with a multi-byte sequence
 * straddling one. Input: prefix + repeat * unit + suffix.
 */
struct fputs_case {
	const char *name;
	const char *prefix;
	size_t prefix_len; /* 0: strlen(prefix) */
	const char *unit;
	size_t unit_len; /* 0: strlen(unit) */
	int repeat;
	const char *suffix;
	size_t src_len; /* 0: the whole input */
	const char *want_prefix;
	const char *want_unit;
	const char *want_suffix;
};

static struct fputs_case fputs_cases[] = {
	{ .name = "fputs: short string with quote", .prefix = "a\"b", .unit = "",
	  .repeat = 0, .suffix = "",
	  .want_prefix = "a\\\"b", .want_unit = "", .want_suffix = "" },
	{ .name = "fputs: empty", .prefix = "", .unit = "", .repeat = 0,
	  .suffix = "", .want_prefix = "", .want_unit = "",
	  .want_suffix = "" },
	{ .name = "fputs: 1000 ascii bytes", .prefix = "", .unit = "x",
	  .repeat = 1000, .suffix = "", .want_prefix = "", .want_unit = "x",
	  .want_suffix = "" },
	{ .name = "fputs: 3-byte sequences straddling chunks", .prefix = "ab",
	  .unit = "\xe2\x82\xac", .repeat = 100, .suffix = "!",
	  .want_prefix = "ab", .want_unit = "\xe2\x82\xac",
	  .want_suffix = "!" },
	{ .name = "fputs: 4-byte sequences straddling chunks", .prefix = "a",
	  .unit = "\xf0\x9f\x98\x80", .repeat = 50, .suffix = "",
	  .want_prefix = "a", .want_unit = "\xf0\x9f\x98\x80",
	  .want_suffix = "" },
	{ .name = "fputs: 2-byte sequences at odd offset", .prefix = "a", .unit = "\xc3\xa9",
	  .repeat = 120, .suffix = "z",
	  .want_prefix = "a", .want_unit = "\xc3\xa9", .want_suffix = "z" },
	{ .name = "fputs: 300 control bytes expand sixfold", .prefix = "", .unit = "\x01",
	  .repeat = 300, .suffix = "",
	  .want_prefix = "", .want_unit = "\\u0001", .want_suffix = "" },
	{ .name = "fputs: 100 colour escape sequences", .prefix = "", .unit = "\x1b[31m",
	  .repeat = 100, .suffix = "",
	  .want_prefix = "", .want_unit = "\\u001b[31m", .want_suffix = "" },
	{ .name = "fputs: 300 invalid bytes", .prefix = "", .unit = "\xff",
	  .repeat = 300, .suffix = "", .want_prefix = "", .want_unit = FFFD,
	  .want_suffix = "" },
	{ .name = "fputs: 100 stray continuation bytes", .prefix = "", .unit = "\x80",
	  .repeat = 100, .suffix = "",
	  .want_prefix = "", .want_unit = FFFD, .want_suffix = "" },
	{ .name = "fputs: 200 quotes and backslashes", .prefix = "", .unit = "\"\\",
	  .repeat = 100, .suffix = "",
	  .want_prefix = "", .want_unit = "\\\"\\\\", .want_suffix = "" },
	{ .name = "fputs: reads at most src_len", .prefix = "abcdef", .unit = "",
	  .repeat = 0, .suffix = "", .src_len = 3, .want_prefix = "abc",
	  .want_unit = "", .want_suffix = "" },
	{ .name = "fputs: short string stops at NUL", .prefix = "abc", .unit = "\0xyz",
	  .unit_len = 4, .repeat = 1, .suffix = "", .want_prefix = "abc",
	  .want_unit = "", .want_suffix = "" },
	/* A fixed kernel buffer: text, NUL, then stale bytes past the first chunk. */
	{ .name = "fputs: long buffer stops at NUL", .prefix = "abc\0", .prefix_len = 4,
	  .unit = "x",
	  .repeat = 60, .suffix = "",
	  .want_prefix = "abc", .want_unit = "", .want_suffix = "" },
};

/* Fixed buffers, so a failed assertion (a longjmp) leaks nothing. */
struct buf {
	char data[8192];
	size_t len;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	assert_true(b->len + n < sizeof(b->data));
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void test_fputs_json_string(void **state)
{
	const struct fputs_case *c = *state;
	static struct buf in, want, got;
	size_t prefix_len = c->prefix_len ? c->prefix_len : strlen(c->prefix);
	size_t unit_len = c->unit_len ? c->unit_len : strlen(c->unit);
	char *out = NULL;
	size_t out_len = 0;
	FILE *f;

	in.len = want.len = got.len = 0;
	buf_add(&in, c->prefix, prefix_len);
	for (int i = 0; i < c->repeat; i++)
		buf_add(&in, c->unit, unit_len);
	buf_add(&in, c->suffix, strlen(c->suffix));

	buf_add(&want, "\"", 1);
	buf_add(&want, c->want_prefix, strlen(c->want_prefix));
	for (int i = 0; i < c->repeat; i++)
		buf_add(&want, c->want_unit, strlen(c->want_unit));
	buf_add(&want, c->want_suffix, strlen(c->want_suffix));
	buf_add(&want, "\"", 1);

	f = open_memstream(&out, &out_len);
	assert_non_null(f);
	fputs_json_string(f, in.data, c->src_len ? c->src_len : in.len);
	fclose(f);
	if (out_len < sizeof(got.data))
		buf_add(&got, out, out_len);
	free(out);
	assert_int_equal(out_len, got.len);
	assert_string_equal(got.data, want.data);
	assert_int_equal(got.len, want.len);
}

#define N_TESTS                                                                               \
	(ARRAY_SIZE(terminal_cases) + ARRAY_SIZE(json_cases) + ARRAY_SIZE(utf8_cases) +       \
	 ARRAY_SIZE(fputs_cases) + 1)

int main(void)
{
	static struct CMUnitTest tests[N_TESTS];
	size_t n = 0;

#define ADD_ROWS(table, fn)                                                                   \
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)                                        \
	tests[n++] = (struct CMUnitTest){ .name = table[i].name, .test_func = fn,             \
					  .initial_state = &table[i] }

	ADD_ROWS(terminal_cases, test_escape_terminal);
	ADD_ROWS(json_cases, test_escape_json);
	ADD_ROWS(utf8_cases, test_utf8_sequence_len);
	ADD_ROWS(fputs_cases, test_fputs_json_string);
	tests[n++] = (struct CMUnitTest){ .name = "size 0 writes nothing",
					  .test_func = test_size_zero_writes_nothing };
	if (n != N_TESTS) {
		fprintf(stderr, "test table miscounted: %zu of %zu\n", n, (size_t)N_TESTS);
		return 1;
	}
	return cmocka_run_group_tests_name("escape", tests, NULL, NULL);
}
