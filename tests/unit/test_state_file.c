// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The state file: exact bytes, round trip, every kind of damage, and the files on disk. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "state_file.h"

/*
 * Under AddressSanitizer (the Makefile always builds tests with it), its
 * allocator hooks let a test see how much a decode allocated and that a
 * failed decode gave it all back.
 */
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

#ifdef HAVE_ASAN
size_t __sanitizer_get_current_allocated_bytes(void);
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
					      void (*free_hook)(const volatile void *));

static int counting;
static size_t allocated;

static void on_malloc(const volatile void *p, size_t size)
{
	(void)p;
	if (counting)
		allocated += size;
}

static void on_free(const volatile void *p)
{
	(void)p;
}
#endif

/*
 * Decodes, checking that a failure leaves ret empty and frees all it took.
 * *ret_allocated: bytes allocated during the call (0 without ASan).
 */
static int decode_checked(const void *buf, size_t len, struct fig_state *ret, char *err,
			  size_t errlen, size_t *ret_allocated)
{
	int r;
#ifdef HAVE_ASAN
	size_t live = __sanitizer_get_current_allocated_bytes();

	allocated = 0;
	counting = 1;
#endif
	r = state_file_decode(buf, len, ret, err, errlen);
#ifdef HAVE_ASAN
	counting = 0;
	if (r)
		assert_int_equal(__sanitizer_get_current_allocated_bytes(), live);
	if (ret_allocated)
		*ret_allocated = allocated;
#else
	if (ret_allocated)
		*ret_allocated = 0;
#endif
	if (r) {
		assert_int_equal(ret->n_boots, 0);
		assert_null(ret->boots);
		assert_true(err[0] != '\0');
		assert_null(strchr(err, '\n'));
	}
	return r;
}

/* ---- a state that uses every field ------------------------------------- */

static void fill_exe(struct fig_exe *e, uint64_t seed)
{
	e->starts = seed + 1;
	e->exits = seed + 2;
	e->exits_failed = seed + 3;
	e->first_start_ms = 1700000000000 + (int64_t)seed;
	e->last_start_ms = 1700000000100 + (int64_t)seed;
	e->last_exit_ms = 1700000000200 + (int64_t)seed;
	e->gaps = seed + 4;
	e->gap_sum_ns = seed * 1000000007ull;
	e->gap_sumsq_ms2 = seed * 31;
	e->lifetime_sum_us = seed * 77;
	e->lifetime_hist[0] = seed;
	e->lifetime_hist[5] = seed + 9;
	fig_exe_add_status(e, RCA_STATUS_CODE, 1, seed + 10);
	fig_exe_add_status(e, RCA_STATUS_SIGNAL, 9, seed + 11);
	e->status_other = seed + 12;
	e->respawn_class = (uint32_t)(seed % 3);
	e->storm_since_ms = -(int64_t)seed; /* sign must survive */
	e->storms = seed + 13;
}

static void build_sample(struct fig_state *s)
{
	struct fig_boot *b;
	struct fig_unit *u;
	struct fig_exe *e;
	char longname[FIG_UNIT_NAME_MAX], longpath[RCA_EXE_PATH_LEN];

	memset(longname, 'L', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memset(longpath, 'P', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';

	fig_state_init(s);
	s->written_ms = 1700000123456;
	s->interval_ms = 30000;
	for (int i = 0; i < RCA_LOST_KIND_MAX; i++)
		s->lost[i] = 100 + i;
	s->units_unnamed = 7;
	s->boots_dropped = 2;

	b = fig_state_boot(s, "6a1f0c2e-0000-4000-8000-000000000001");
	b->first_ms = 1690000000000;
	b->last_ms = 1690000999000;
	b->units_dropped = 1;
	u = fig_boot_unit(b, "old.service");
	u->forks = 1;
	u->execs = 1;
	fill_exe(fig_unit_exe(u, "/usr/bin/old"), 1);

	b = fig_state_boot(s, "6a1f0c2e-0000-4000-8000-000000000002");
	b->first_ms = 1700000000000;
	b->last_ms = 1700000123000;
	u = fig_boot_unit(b, "nginx.service");
	u->forks = UINT64_MAX; /* every bit must survive */
	u->threads = 12;
	u->execs = 13;
	u->exits = 14;
	u->exits_failed = 15;
	u->first_ms = 1700000000001;
	u->last_ms = 1700000000002;
	u->exes_dropped = 3;
	fill_exe(fig_unit_exe(u, "/usr/sbin/nginx"), 20);
	e = fig_unit_exe(u, longpath);
	fill_exe(e, 30);
	/* A full status table and a histogram reaching the last bucket. */
	for (uint32_t i = 0; i < FIG_MAX_STATUS + 3; i++)
		fig_exe_add_status(e, RCA_STATUS_CODE, 100 + i, i + 1);
	e->lifetime_hist[RCA_LIFETIME_BUCKETS - 1] = 5;
	fig_boot_unit(b, "cron.service")->forks = 4; /* no executables */
	u = fig_boot_unit(b, longname);
	u->exits = 1;
	fig_unit_exe(u, ""); /* empty path, all zero */
	u = fig_boot_unit(b, "we\x01ird\xff name");
	fill_exe(fig_unit_exe(u, "/bin/\x1b[31mred"), 40);
}

static void assert_exe_equal(const struct fig_exe *a, const struct fig_exe *b)
{
	assert_string_equal(a->path, b->path);
	assert_int_equal(a->starts, b->starts);
	assert_int_equal(a->exits, b->exits);
	assert_int_equal(a->exits_failed, b->exits_failed);
	assert_int_equal(a->first_start_ms, b->first_start_ms);
	assert_int_equal(a->last_start_ms, b->last_start_ms);
	assert_int_equal(a->last_exit_ms, b->last_exit_ms);
	assert_int_equal(a->gaps, b->gaps);
	assert_int_equal(a->gap_sum_ns, b->gap_sum_ns);
	assert_int_equal(a->gap_sumsq_ms2, b->gap_sumsq_ms2);
	assert_int_equal(a->lifetime_sum_us, b->lifetime_sum_us);
	assert_memory_equal(a->lifetime_hist, b->lifetime_hist, sizeof(a->lifetime_hist));
	assert_int_equal(a->n_status, b->n_status);
	for (uint32_t i = 0; i < a->n_status; i++) {
		assert_int_equal(a->status[i].kind, b->status[i].kind);
		assert_int_equal(a->status[i].value, b->status[i].value);
		assert_int_equal(a->status[i].count, b->status[i].count);
	}
	assert_int_equal(a->status_other, b->status_other);
	assert_int_equal(a->respawn_class, b->respawn_class);
	assert_int_equal(a->storm_since_ms, b->storm_since_ms);
	assert_int_equal(a->storms, b->storms);
}

static void assert_state_equal(const struct fig_state *a, const struct fig_state *b)
{
	assert_int_equal(a->written_ms, b->written_ms);
	assert_int_equal(a->interval_ms, b->interval_ms);
	assert_memory_equal(a->lost, b->lost, sizeof(a->lost));
	assert_int_equal(a->units_unnamed, b->units_unnamed);
	assert_int_equal(a->boots_dropped, b->boots_dropped);
	assert_int_equal(a->n_boots, b->n_boots);
	for (uint32_t i = 0; i < a->n_boots; i++) {
		const struct fig_boot *ba = &a->boots[i], *bb = &b->boots[i];

		assert_string_equal(ba->boot_id, bb->boot_id);
		assert_int_equal(ba->first_ms, bb->first_ms);
		assert_int_equal(ba->last_ms, bb->last_ms);
		assert_int_equal(ba->units_dropped, bb->units_dropped);
		assert_int_equal(ba->n_units, bb->n_units);
		for (uint32_t j = 0; j < ba->n_units; j++) {
			const struct fig_unit *ua = &ba->units[j], *ub = &bb->units[j];

			assert_string_equal(ua->name, ub->name);
			assert_int_equal(ua->forks, ub->forks);
			assert_int_equal(ua->threads, ub->threads);
			assert_int_equal(ua->execs, ub->execs);
			assert_int_equal(ua->exits, ub->exits);
			assert_int_equal(ua->exits_failed, ub->exits_failed);
			assert_int_equal(ua->first_ms, ub->first_ms);
			assert_int_equal(ua->last_ms, ub->last_ms);
			assert_int_equal(ua->exes_dropped, ub->exes_dropped);
			assert_int_equal(ua->n_exes, ub->n_exes);
			for (uint32_t k = 0; k < ua->n_exes; k++)
				assert_exe_equal(&ua->exes[k], &ub->exes[k]);
		}
	}
}

/* ---- hand-built payloads ------------------------------------------------ */

struct pb {
	unsigned char *p;
	size_t n, cap;
};

static void pb_le(struct pb *b, uint64_t v, int bytes)
{
	if (b->n + bytes > b->cap) {
		b->cap = (b->cap + bytes) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	for (int i = 0; i < bytes; i++)
		b->p[b->n++] = (unsigned char)(v >> (8 * i));
}

static void pb_u16(struct pb *b, uint16_t v)
{
	pb_le(b, v, 2);
}

static void pb_u32(struct pb *b, uint32_t v)
{
	pb_le(b, v, 4);
}

static void pb_u64(struct pb *b, uint64_t v)
{
	pb_le(b, v, 8);
}

static void pb_zeros(struct pb *b, size_t n)
{
	while (n--)
		pb_le(b, 0, 1);
}

static void pb_raw_str(struct pb *b, uint16_t len, const char *bytes)
{
	pb_u16(b, len);
	for (uint16_t i = 0; i < len; i++)
		pb_le(b, (unsigned char)bytes[i], 1);
}

static void pb_str(struct pb *b, const char *s)
{
	pb_raw_str(b, (uint16_t)strlen(s), s);
}

/* written_ms .. boots_dropped, then the boot count. */
static void pb_state_head(struct pb *b, uint32_t n_lost, uint32_t n_boots)
{
	pb_u64(b, 1);
	pb_u32(b, 2);
	pb_u32(b, n_lost);
	for (uint32_t i = 0; i < n_lost; i++)
		pb_u64(b, 1000 + i);
	pb_u64(b, 3);
	pb_u64(b, 4);
	pb_u32(b, n_boots);
}

static void pb_boot_head(struct pb *b, const char *id, uint32_t n_units)
{
	pb_str(b, id);
	pb_u64(b, 5);
	pb_u64(b, 6);
	pb_u64(b, 7);
	pb_u32(b, n_units);
}

static void pb_unit_head(struct pb *b, const char *name, uint32_t n_exes)
{
	pb_str(b, name);
	for (int i = 0; i < 8; i++)
		pb_u64(b, 10 + i);
	pb_u32(b, n_exes);
}

/* An all-zero executable with n_hist buckets and n_status statuses. */
static void pb_exe(struct pb *b, const char *path, uint32_t n_hist, uint32_t n_status)
{
	pb_str(b, path);
	pb_zeros(b, 10 * 8);
	pb_u32(b, n_hist);
	pb_zeros(b, (size_t)n_hist * 8);
	pb_u32(b, n_status);
	pb_zeros(b, (size_t)n_status * 16);
	pb_zeros(b, 8 + 4 + 8 + 8);
}

/* Header with the right CRC around payload; returns a malloc'd file of *ret_len bytes. */
static unsigned char *seal(const unsigned char *payload, size_t n, uint32_t version,
			   size_t *ret_len)
{
	struct pb f = { 0 };
	uint32_t crc = (uint32_t)crc32(crc32(0, Z_NULL, 0), payload, (uInt)n);

	for (const char *m = "RCATRACE"; *m; m++)
		pb_le(&f, (unsigned char)*m, 1);
	pb_u32(&f, version);
	pb_u32(&f, 32);
	pb_u64(&f, n);
	pb_u32(&f, crc);
	pb_u32(&f, 0);
	for (size_t i = 0; i < n; i++)
		pb_le(&f, payload[i], 1);
	*ret_len = f.n;
	return f.p;
}

static void encode_sample(void **ret_buf, size_t *ret_len)
{
	struct fig_state s;

	build_sample(&s);
	assert_int_equal(state_file_encode(&s, ret_buf, ret_len), 0);
	fig_state_free(&s);
}

/* ---- tests ------------------------------------------------------------- */

static void test_exact_bytes(void **state)
{
	/* One boot "b", one unit "u", one executable "/x": the layout, byte by byte. */
	static const unsigned char payload[] = {
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* written_ms */
		0xe8, 0x03, 0x00, 0x00, /* interval_ms 1000 */
		0x06, 0x00, 0x00, 0x00, /* 6 loss kinds */
		1, 0, 0, 0, 0, 0, 0, 0, /* lost[0] = 1 */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, /* lost[5] = 255 */
		2, 0, 0, 0, 0, 0, 0, 0, /* units_unnamed */
		3, 0, 0, 0, 0, 0, 0, 0, /* boots_dropped */
		1, 0, 0, 0, /* 1 boot */
		1, 0, 'b', /* boot id */
		0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* first_ms -2 */
		20, 0, 0, 0, 0, 0, 0, 0, /* last_ms */
		0, 0, 0, 0, 0, 0, 0, 0, /* units_dropped */
		1, 0, 0, 0, /* 1 unit */
		1, 0, 'u', /* name */
		4, 0, 0, 0, 0, 0, 0, 0, /* forks */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		/* threads .. last_ms */
		9, 0, 0, 0, 0, 0, 0, 0, /* exes_dropped */
		1, 0, 0, 0, /* 1 executable */
		2, 0, '/', 'x', /* path */
		5, 0, 0, 0, 0, 0, 0, 0, /* starts */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		/* exits .. lifetime_sum_us */
		3, 0, 0, 0, /* 3 buckets: trailing empty ones are left out */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0,
		1, 0, 0, 0, /* 1 status */
		2, 0, 0, 0, 9, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, /* signal 9 x7 */
		0, 0, 0, 0, 0, 0, 0, 0, /* status_other */
		2, 0, 0, 0, /* storm */
		0, 0, 0, 0, 0, 0, 0, 0, /* storm_since_ms */
		1, 0, 0, 0, 0, 0, 0, 0, /* storms */
	};
	struct fig_state s;
	struct fig_boot *b;
	struct fig_unit *u;
	struct fig_exe *e;
	unsigned char *expect;
	size_t expect_len, len;
	void *buf;

	(void)state;
	fig_state_init(&s);
	s.written_ms = 0x0102030405060708;
	s.interval_ms = 1000;
	s.lost[0] = 1;
	s.lost[5] = 255;
	s.units_unnamed = 2;
	s.boots_dropped = 3;
	b = fig_state_boot(&s, "b");
	b->first_ms = -2;
	b->last_ms = 20;
	u = fig_boot_unit(b, "u");
	u->forks = 4;
	u->exes_dropped = 9;
	e = fig_unit_exe(u, "/x");
	e->starts = 5;
	e->lifetime_hist[2] = 6;
	fig_exe_add_status(e, RCA_STATUS_SIGNAL, 9, 7);
	e->respawn_class = RESPAWN_STORM;
	e->storms = 1;

	assert_int_equal(state_file_encode(&s, &buf, &len), 0);
	expect = seal(payload, sizeof(payload), STATE_FILE_VERSION, &expect_len);
	assert_int_equal(len, expect_len);
	assert_memory_equal(buf, expect, len);
	free(expect);
	free(buf);
	fig_state_free(&s);
}

static void test_round_trip(void **state)
{
	struct fig_state s, d;
	void *buf, *buf2;
	size_t len, len2;
	char err[256];

	(void)state;
	build_sample(&s);
	assert_int_equal(s.n_boots, 2);
	assert_int_equal(s.boots[1].n_units, 4);
	assert_int_equal(state_file_encode(&s, &buf, &len), 0);
	assert_int_equal(decode_checked(buf, len, &d, err, sizeof(err), NULL), 0);
	assert_string_equal(err, "");
	assert_state_equal(&s, &d);
	/* Decoded figures behave like built ones: they can still grow. */
	assert_non_null(fig_unit_exe(&d.boots[0].units[0], "/bin/more"));

	/* And encoding what was decoded gives the same bytes. */
	fig_state_free(&d);
	assert_int_equal(state_file_decode(buf, len, &d, err, sizeof(err)), 0);
	assert_int_equal(state_file_encode(&d, &buf2, &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(buf2, buf, len);
	free(buf2);
	free(buf);
	fig_state_free(&d);
	fig_state_free(&s);
}

static void test_empty_state_round_trip(void **state)
{
	struct fig_state s, d;
	void *buf;
	size_t len;
	char err[128];

	(void)state;
	fig_state_init(&s);
	assert_int_equal(state_file_encode(&s, &buf, &len), 0);
	/* 32 header + 8 + 4 + 4 + 6*8 + 8 + 8 + 4 */
	assert_int_equal(len, 32 + 84);
	assert_int_equal(state_file_decode(buf, len, &d, err, sizeof(err)), 0);
	assert_state_equal(&s, &d);
	assert_null(d.boots);
	free(buf);
}

static void test_encode_refuses_broken_bounds(void **state)
{
	struct fig_state s;
	struct fig_exe *e;
	void *buf = NULL;
	size_t len = 0;

	(void)state;
	fig_state_init(&s);
	e = fig_unit_exe(fig_boot_unit(fig_state_boot(&s, "b"), "u"), "/x");
	e->n_status = FIG_MAX_STATUS + 1;
	assert_int_equal(state_file_encode(&s, &buf, &len), -EINVAL);
	assert_null(buf);
	e->n_status = 0;
	fig_state_free(&s);
}

static void test_every_truncation_refused(void **state)
{
	struct fig_state d;
	unsigned char *buf;
	size_t len;
	char err[256];

	(void)state;
	encode_sample((void **)&buf, &len);
	for (size_t cut = 0; cut < len; cut++) {
		int r = decode_checked(buf, cut, &d, err, sizeof(err), NULL);

		if (r != -EINVAL)
			fail_msg("cut at %zu of %zu: %d (%s)", cut, len, r, err);
	}
	free(buf);
}

/* A cut payload under a fresh header and CRC: the parser itself must see the cut. */
static void test_every_resealed_truncation_refused(void **state)
{
	struct fig_state d;
	unsigned char *buf, *file;
	size_t len, flen;
	char err[256];

	(void)state;
	encode_sample((void **)&buf, &len);
	for (size_t cut = 0; cut < len - 32; cut++) {
		int r;

		file = seal(buf + 32, cut, STATE_FILE_VERSION, &flen);
		r = decode_checked(file, flen, &d, err, sizeof(err), NULL);
		if (r != -EINVAL)
			fail_msg("payload cut at %zu of %zu: %d (%s)", cut, len - 32, r, err);
		assert_non_null(strstr(err, "truncated"));
		free(file);
	}
	free(buf);
}

static void test_every_payload_bit_flip_refused(void **state)
{
	struct fig_state d;
	unsigned char *buf;
	size_t len;
	char err[256];

	(void)state;
	encode_sample((void **)&buf, &len);
	for (size_t i = 32; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			int r;

			buf[i] ^= 1u << bit;
			r = decode_checked(buf, len, &d, err, sizeof(err), NULL);
			buf[i] ^= 1u << bit;
			if (r != -EBADMSG)
				fail_msg("bit %d of byte %zu: %d (%s)", bit, i, r, err);
		}
	}
	assert_string_equal(err, "checksum mismatch: the file is corrupt");
	free(buf);
}

struct header_case {
	const char *name;
	size_t from, to; /* bytes [from, to) of the header */
	int expect;
};

static const struct header_case header_cases[] = {
	{ "magic", 0, 8, -EINVAL },	     { "version", 8, 12, -EPROTONOSUPPORT },
	{ "header size", 12, 16, -EINVAL }, { "payload length", 16, 24, -EINVAL },
	{ "crc", 24, 28, -EBADMSG },	     { "reserved", 28, 32, -EINVAL },
};

static void test_every_header_bit_flip_refused(void **state)
{
	struct fig_state d;
	unsigned char *buf;
	size_t len;
	char err[256];

	(void)state;
	encode_sample((void **)&buf, &len);
	for (size_t c = 0; c < sizeof(header_cases) / sizeof(header_cases[0]); c++) {
		const struct header_case *hc = &header_cases[c];

		for (size_t i = hc->from; i < hc->to; i++) {
			for (int bit = 0; bit < 8; bit++) {
				int r;

				buf[i] ^= 1u << bit;
				r = decode_checked(buf, len, &d, err, sizeof(err), NULL);
				buf[i] ^= 1u << bit;
				if (r != hc->expect)
					fail_msg("%s: bit %d of byte %zu: %d (%s)", hc->name, bit,
						 i, r, err);
			}
		}
	}
	free(buf);
}

static void test_wrong_magic(void **state)
{
	struct fig_state d;
	unsigned char *buf;
	size_t len;
	char err[256];

	(void)state;
	encode_sample((void **)&buf, &len);
	memcpy(buf, "RCATRACF", 8);
	assert_int_equal(decode_checked(buf, len, &d, err, sizeof(err), NULL), -EINVAL);
	assert_string_equal(err, "not an rcatrace state file");
	/* Something else entirely, shorter than a header. */
	assert_int_equal(decode_checked("{\"x\":1}", 7, &d, err, sizeof(err), NULL), -EINVAL);
	assert_string_equal(err, "not an rcatrace state file");
	/* A prefix of the magic is a truncated state file. */
	assert_int_equal(decode_checked("RCAT", 4, &d, err, sizeof(err), NULL), -EINVAL);
	assert_non_null(strstr(err, "truncated"));
	free(buf);
}

static void test_wrong_version(void **state)
{
	struct fig_state d;
	unsigned char *buf;
	size_t len;
	char err[256];

	(void)state;
	encode_sample((void **)&buf, &len);
	buf[8] = 2;
	assert_int_equal(decode_checked(buf, len, &d, err, sizeof(err), NULL),
			 -EPROTONOSUPPORT);
	assert_string_equal(err, "state file version 2, this rcatrace reads version 1");
	buf[8] = 0;
	assert_int_equal(decode_checked(buf, len, &d, err, sizeof(err), NULL),
			 -EPROTONOSUPPORT);
	free(buf);
}

static void test_trailing_garbage_refused(void **state)
{
	struct fig_state d;
	unsigned char *buf;
	size_t len;
	char err[256];

	(void)state;
	encode_sample((void **)&buf, &len);
	buf = realloc(buf, len + 1);
	buf[len] = 0;
	assert_int_equal(decode_checked(buf, len + 1, &d, err, sizeof(err), NULL), -EINVAL);
	assert_string_equal(err, "1 bytes of garbage after the payload");
	free(buf);
}

static void test_no_err_buffer(void **state)
{
	struct fig_state d;

	(void)state;
	assert_int_equal(state_file_decode("nope", 4, &d, NULL, 0), -EINVAL);
	assert_int_equal(state_file_decode(NULL, 0, &d, NULL, 0), -EINVAL);
}

/* ---- hostile and forward-compatible payloads ---------------------------- */

struct crafted_case {
	const char *name;
	void (*build)(struct pb *b);
	int expect;
	const char *err_has;
};

static void c_boots_max(struct pb *b)
{
	pb_state_head(b, 6, UINT32_MAX);
}

static void c_boots_no_bytes(struct pb *b)
{
	pb_state_head(b, 6, FIG_MAX_BOOTS);
	pb_zeros(b, 100);
}

static void c_lost_max(struct pb *b)
{
	pb_u64(b, 1);
	pb_u32(b, 2);
	pb_u32(b, UINT32_MAX);
	pb_zeros(b, 64);
}

static void c_units_no_bytes(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", FIG_MAX_UNITS);
	pb_zeros(b, 200);
}

static void c_units_over_bound(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", FIG_MAX_UNITS + 1);
	for (int i = 0; i <= FIG_MAX_UNITS; i++)
		pb_unit_head(b, "", 0);
}

static void c_exes_no_bytes(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", 1);
	pb_unit_head(b, "u", FIG_MAX_EXES_PER_UNIT + 1);
	pb_zeros(b, 300);
}

static void c_exes_over_bound(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", 1);
	pb_unit_head(b, "u", FIG_MAX_EXES_PER_UNIT + 2);
	for (int i = 0; i < FIG_MAX_EXES_PER_UNIT + 2; i++)
		pb_exe(b, "", 0, 0);
}

static void c_exes_at_bound(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", 1);
	pb_unit_head(b, "u", FIG_MAX_EXES_PER_UNIT + 1);
	for (int i = 0; i < FIG_MAX_EXES_PER_UNIT + 1; i++)
		pb_exe(b, "", 0, 0);
}

static void c_hist_over_bound(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", 1);
	pb_unit_head(b, "u", 1);
	pb_exe(b, "/x", RCA_LIFETIME_BUCKETS + 1, 0);
}

static void c_status_over_bound(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", 1);
	pb_unit_head(b, "u", 1);
	pb_exe(b, "/x", 0, FIG_MAX_STATUS + 1);
}

static void c_str_max(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_u16(b, UINT16_MAX);
	pb_zeros(b, UINT16_MAX);
}

static void c_boot_id_too_long(struct pb *b)
{
	char id[FIG_BOOT_ID_MAX + 1];

	memset(id, 'i', FIG_BOOT_ID_MAX);
	id[FIG_BOOT_ID_MAX] = '\0';
	pb_state_head(b, 6, 1);
	pb_boot_head(b, id, 0);
}

static void c_boot_id_longest(struct pb *b)
{
	char id[FIG_BOOT_ID_MAX];

	memset(id, 'i', FIG_BOOT_ID_MAX - 1);
	id[FIG_BOOT_ID_MAX - 1] = '\0';
	pb_state_head(b, 6, 1);
	pb_boot_head(b, id, 0);
}

static void c_path_too_long(struct pb *b)
{
	char path[RCA_EXE_PATH_LEN + 1];

	memset(path, 'p', RCA_EXE_PATH_LEN);
	path[RCA_EXE_PATH_LEN] = '\0';
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", 1);
	pb_unit_head(b, "u", 1);
	pb_exe(b, path, 0, 0);
}

static void c_name_with_nul(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", 1);
	pb_raw_str(b, 3, "a\0z");
	for (int i = 0; i < 8; i++)
		pb_u64(b, 0);
	pb_u32(b, 0);
}

static void c_section_past_end(struct pb *b)
{
	pb_state_head(b, 6, 0);
	pb_u32(b, 0x4d454d31);
	pb_u32(b, UINT32_MAX);
	pb_zeros(b, 16);
}

static void c_section_header_cut(struct pb *b)
{
	pb_state_head(b, 6, 0);
	pb_u32(b, 0x4d454d31);
	pb_le(b, 0, 1);
}

static void c_sections_skipped(struct pb *b)
{
	pb_state_head(b, 6, 1);
	pb_boot_head(b, "b", 0);
	pb_u32(b, 0x4d454d31);
	pb_u32(b, 3);
	pb_zeros(b, 3);
	pb_u32(b, 0x4b494c4c);
	pb_u32(b, 0);
}

static void c_fewer_loss_kinds(struct pb *b)
{
	pb_state_head(b, 2, 0);
}

static void c_more_loss_kinds(struct pb *b)
{
	pb_state_head(b, RCA_LOST_KIND_MAX + 4, 0);
}

static const struct crafted_case crafted_cases[] = {
	{ "2^32-1 boots", c_boots_max, -EINVAL, "limit 16" },
	{ "16 boots in 100 bytes", c_boots_no_bytes, -EINVAL, "cannot fit" },
	{ "2^32-1 loss kinds", c_lost_max, -EINVAL, "limit 64" },
	{ "4096 units in 200 bytes", c_units_no_bytes, -EINVAL, "cannot fit" },
	{ "4097 units", c_units_over_bound, -EINVAL, "limit 4096" },
	{ "65 executables in 300 bytes", c_exes_no_bytes, -EINVAL, "cannot fit" },
	{ "66 executables", c_exes_over_bound, -EINVAL, "limit 65" },
	{ "65 executables", c_exes_at_bound, 0, NULL },
	{ "41 lifetime buckets", c_hist_over_bound, -EINVAL, "limit 40" },
	{ "17 statuses", c_status_over_bound, -EINVAL, "limit 16" },
	{ "65535-byte boot id", c_str_max, -EINVAL, "limit 39" },
	{ "40-byte boot id", c_boot_id_too_long, -EINVAL, "boot id at payload offset" },
	{ "39-byte boot id", c_boot_id_longest, 0, NULL },
	{ "128-byte path", c_path_too_long, -EINVAL, "limit 127" },
	{ "NUL in a unit name", c_name_with_nul, -EINVAL, "holds a NUL byte" },
	{ "section past the end", c_section_past_end, -EINVAL, "runs" },
	{ "cut section header", c_section_header_cut, -EINVAL, "section header" },
	{ "unknown sections", c_sections_skipped, 0, NULL },
	{ "older writer, 2 loss kinds", c_fewer_loss_kinds, 0, NULL },
	{ "newer writer, 10 loss kinds", c_more_loss_kinds, 0, NULL },
};

static void test_crafted_payloads(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(crafted_cases) / sizeof(crafted_cases[0]); i++) {
		const struct crafted_case *c = &crafted_cases[i];
		struct pb payload = { 0 };
		struct fig_state d;
		unsigned char *file;
		size_t flen, alloc;
		char err[256];
		int r;

		c->build(&payload);
		file = seal(payload.p, payload.n, STATE_FILE_VERSION, &flen);
		r = decode_checked(file, flen, &d, err, sizeof(err), &alloc);
		print_message("case %s: %d, %zu bytes allocated for %zu, \"%s\"\n", c->name, r,
			      alloc, flen, err);
		assert_int_equal(r, c->expect);
		if (c->err_has)
			assert_non_null(strstr(err, c->err_has));
		/* A hostile count never buys more than a few times the file's size. */
		assert_true(alloc <= 8 * flen);
		fig_state_free(&d);
		free(file);
		free(payload.p);
	}
}

static void test_forward_compatible_payloads(void **state)
{
	struct pb payload = { 0 };
	struct fig_state d;
	unsigned char *file;
	size_t flen;
	char err[256];

	(void)state;
	c_sections_skipped(&payload);
	file = seal(payload.p, payload.n, STATE_FILE_VERSION, &flen);
	assert_int_equal(state_file_decode(file, flen, &d, err, sizeof(err)), 0);
	assert_int_equal(d.n_boots, 1);
	assert_string_equal(d.boots[0].boot_id, "b");
	assert_int_equal(d.boots_dropped, 4);
	fig_state_free(&d);
	free(file);

	payload.n = 0;
	c_fewer_loss_kinds(&payload);
	file = seal(payload.p, payload.n, STATE_FILE_VERSION, &flen);
	assert_int_equal(state_file_decode(file, flen, &d, err, sizeof(err)), 0);
	assert_int_equal(d.lost[0], 1000);
	assert_int_equal(d.lost[1], 1001);
	assert_int_equal(d.lost[2], 0);
	assert_int_equal(d.units_unnamed, 3);
	fig_state_free(&d);
	free(file);

	payload.n = 0;
	c_more_loss_kinds(&payload);
	file = seal(payload.p, payload.n, STATE_FILE_VERSION, &flen);
	assert_int_equal(state_file_decode(file, flen, &d, err, sizeof(err)), 0);
	assert_int_equal(d.lost[RCA_LOST_KIND_MAX - 1], 1000 + RCA_LOST_KIND_MAX - 1);
	assert_int_equal(d.units_unnamed, 3);
	fig_state_free(&d);
	free(file);
	free(payload.p);
}

/* ---- files ------------------------------------------------------------- */

static int make_tmpdir(void **state)
{
	char *dir = strdup("/tmp/test_state_file.XXXXXX");

	if (!dir || !mkdtemp(dir))
		return -1;
	*state = dir;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int remove_tmpdir(void **state)
{
	int r = nftw(*state, remove_entry, 16, FTW_DEPTH | FTW_PHYS);

	free(*state);
	return r;
}

static void test_save_and_load(void **state)
{
	const char *dir = *state;
	char sub[PATH_MAX], path[PATH_MAX + 16], tmp[PATH_MAX + 32], err[256];
	struct fig_state s, d;
	struct stat st;

	umask(022);
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	snprintf(path, sizeof(path), "%s/state", sub);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	build_sample(&s);

	assert_int_equal(state_file_load(path, &d, err, sizeof(err)), -ENOENT);
	assert_int_equal(d.n_boots, 0);
	assert_int_equal(state_file_save(path, &s), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(sub, sizeof(sub), "%s/a", dir);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(errno, ENOENT);

	assert_int_equal(state_file_load(path, &d, err, sizeof(err)), 0);
	assert_state_equal(&s, &d);
	fig_state_free(&d);

	/* Saving again replaces it, even over a stale .tmp left by a crash. */
	s.written_ms++;
	s.boots[1].units[0].exes[0].starts = 424242;
	assert_int_equal(symlink("/nonexistent", tmp), 0);
	assert_int_equal(state_file_save(path, &s), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(state_file_load(path, &d, err, sizeof(err)), 0);
	assert_int_equal(d.boots[1].units[0].exes[0].starts, 424242);
	assert_state_equal(&s, &d);
	fig_state_free(&d);

	/* A path relative to the working directory. */
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(state_file_save("rel", &s), 0);
	assert_int_equal(state_file_load("rel", &d, err, sizeof(err)), 0);
	fig_state_free(&d);
	assert_int_equal(chdir("/"), 0);

	assert_int_equal(state_file_save("", &s), -EINVAL);
	fig_state_free(&s);
}

static void test_load_refuses(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX], err[256];
	struct fig_state s, d;
	unsigned char byte;
	int fd;

	snprintf(path, sizeof(path), "%s/state", dir);
	build_sample(&s);
	assert_int_equal(state_file_save(path, &s), 0);
	fig_state_free(&s);

	/* A flipped bit on disk. */
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &byte, 1, 100), 1);
	byte ^= 0x10;
	assert_int_equal(pwrite(fd, &byte, 1, 100), 1);
	close(fd);
	assert_int_equal(state_file_load(path, &d, err, sizeof(err)), -EBADMSG);
	assert_int_equal(d.n_boots, 0);

	/* Over 64 MiB: refused before reading (sparse, so the test stays cheap). */
	fd = open(path, O_RDWR | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, STATE_FILE_MAX_BYTES + 1), 0);
	close(fd);
	assert_int_equal(state_file_load(path, &d, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "64 MiB"));

	/* Empty. */
	fd = open(path, O_RDWR | O_TRUNC);
	close(fd);
	assert_int_equal(state_file_load(path, &d, err, sizeof(err)), -EINVAL);

	/* A directory, and a FIFO (which must not block the open). */
	assert_int_equal(state_file_load(dir, &d, err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "is a directory");
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(state_file_load(path, &d, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "not a regular file");
}

static void test_set_aside(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX], corrupt[PATH_MAX + 16], got[PATH_MAX], small[8], err[256];
	struct fig_state s, d;

	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(corrupt, sizeof(corrupt), "%s.corrupt", path);
	fig_state_init(&s);

	assert_int_equal(state_file_set_aside(path, got, sizeof(got)), -ENOENT);

	/* An older .corrupt is replaced by the newer one. */
	s.written_ms = 1;
	assert_int_equal(state_file_save(path, &s), 0);
	assert_int_equal(state_file_set_aside(path, got, sizeof(got)), 0);
	assert_string_equal(got, corrupt);
	assert_int_equal(access(path, F_OK), -1);
	s.written_ms = 2;
	assert_int_equal(state_file_save(path, &s), 0);
	assert_int_equal(state_file_set_aside(path, got, sizeof(got)), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(state_file_load(corrupt, &d, err, sizeof(err)), 0);
	assert_int_equal(d.written_ms, 2);

	/* No room for the new name: nothing is moved, the buffer is untouched. */
	assert_int_equal(state_file_save(path, &s), 0);
	memcpy(small, "keepme!", 8);
	assert_int_equal(state_file_set_aside(path, small, sizeof(small)), -ENAMETOOLONG);
	assert_string_equal(small, "keepme!");
	assert_int_equal(access(path, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_bytes),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty_state_round_trip),
		cmocka_unit_test(test_encode_refuses_broken_bounds),
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_every_resealed_truncation_refused),
		cmocka_unit_test(test_every_payload_bit_flip_refused),
		cmocka_unit_test(test_every_header_bit_flip_refused),
		cmocka_unit_test(test_wrong_magic),
		cmocka_unit_test(test_wrong_version),
		cmocka_unit_test(test_trailing_garbage_refused),
		cmocka_unit_test(test_no_err_buffer),
		cmocka_unit_test(test_crafted_payloads),
		cmocka_unit_test(test_forward_compatible_payloads),
		cmocka_unit_test_setup_teardown(test_save_and_load, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_load_refuses, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_set_aside, make_tmpdir, remove_tmpdir),
	};

#ifdef HAVE_ASAN
	__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
#endif
	return cmocka_run_group_tests_name("state_file", tests, NULL, NULL);
}
