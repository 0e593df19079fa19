// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * record: ring-buffer records from the BPF side, checked and decoded. The
 * bytes here are what the kernel could hand over, including records cut
 * short, unknown types and strings that fill their arrays without a NUL.
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

#include "record.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct rca_exec_record make_exec(void)
{
	struct rca_exec_record r;

	memset(&r, 0, sizeof(r));
	r.type = RCA_REC_EXEC;
	r.pid = 4242;
	r.ppid = 1;
	r.cgroup_id = 0x1234567890ULL;
	r.time_ns = 987654321012ULL;
	r.exe_id = 0xfeedfacecafebeefULL;
	strcpy(r.comm, "agetty");
	strcpy(r.filename, "/sbin/agetty");
	return r;
}

static struct rca_exit_record make_exit(uint32_t exit_code)
{
	struct rca_exit_record r;

	memset(&r, 0, sizeof(r));
	r.type = RCA_REC_EXIT;
	r.pid = 4243;
	r.ppid = 4242;
	r.exit_code = exit_code;
	r.cgroup_id = 77;
	r.time_ns = 5000000000ULL;
	r.lifetime_ns = 1500000ULL;
	r.exe_id = 99;
	strcpy(r.comm, "worker");
	return r;
}

/* What record_decode() leaves alone on failure: every byte 0xa5. */
static void poison(struct rca_event *ev)
{
	memset(ev, 0xa5, sizeof(*ev));
}

static void assert_untouched(const struct rca_event *ev)
{
	struct rca_event p;

	poison(&p);
	assert_memory_equal(ev, &p, sizeof(p));
}

struct short_case {
	const char *name;
	uint32_t type;
	size_t full_size;
};

static struct short_case short_cases[] = {
	{ .name = "every size below an exec record is -EINVAL", .type = RCA_REC_EXEC,
	  .full_size = sizeof(struct rca_exec_record) },
	{ .name = "every size below an exit record is -EINVAL", .type = RCA_REC_EXIT,
	  .full_size = sizeof(struct rca_exit_record) },
	{ .name = "every size below the type field is -EINVAL", .type = 77,
	  .full_size = sizeof(uint32_t) },
};

static void test_short_records(void **state)
{
	const struct short_case *c = *state;
	unsigned char buf[sizeof(struct rca_exec_record) + sizeof(struct rca_exit_record)];
	struct rca_event ev;

	memset(buf, 0x41, sizeof(buf));
	memcpy(buf, &c->type, sizeof(c->type));
	for (size_t size = 0; size < c->full_size; size++) {
		/* An exact-size heap copy, so ASan catches a read past the record. */
		unsigned char *rec = malloc(size ? size : 1);
		int ret;

		assert_non_null(rec);
		memcpy(rec, buf, size);
		poison(&ev);
		ret = record_decode(rec, size, &ev);
		free(rec);
		if (ret != -EINVAL)
			fail_msg("size %zu of %zu: got %d, want -EINVAL", size, c->full_size, ret);
		assert_untouched(&ev);
	}
}

static void test_null_data(void **state)
{
	struct rca_event ev;

	(void)state;
	poison(&ev);
	assert_int_equal(record_decode(NULL, 64, &ev), -EINVAL);
	assert_untouched(&ev);
}

struct type_case {
	const char *name;
	uint32_t type;
};

static struct type_case unknown_types[] = {
	{ .name = "type 0 is -EPROTO", .type = 0 },
	{ .name = "type 3 (an OOM record) is no exec/exit: -EPROTO", .type = 3 },
	{ .name = "type 0xffffffff is -EPROTO", .type = 0xffffffffu },
	{ .name = "type 0x00000100 is -EPROTO", .type = 0x100 },
};

static void test_unknown_type(void **state)
{
	const struct type_case *c = *state;
	unsigned char buf[512];
	struct rca_event ev;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, &c->type, sizeof(c->type));
	poison(&ev);
	assert_int_equal(record_decode(buf, sizeof(buf), &ev), -EPROTO);
	assert_untouched(&ev);
	/* Just the type field: still a type it does not know, not a short record. */
	assert_int_equal(record_decode(buf, sizeof(uint32_t), &ev), -EPROTO);
	assert_untouched(&ev);
}

static void test_exec_decode(void **state)
{
	struct rca_exec_record r = make_exec();
	struct rca_event ev;

	(void)state;
	poison(&ev);
	assert_int_equal(record_decode(&r, sizeof(r), &ev), 0);
	assert_int_equal(ev.type, RCA_REC_EXEC);
	assert_int_equal(ev.pid, 4242);
	assert_int_equal(ev.ppid, 1);
	assert_int_equal(ev.cgroup_id, 0x1234567890ULL);
	assert_int_equal(ev.time_ns, 987654321012ULL);
	assert_int_equal(ev.exe_id, 0xfeedfacecafebeefULL);
	assert_string_equal(ev.comm, "agetty");
	assert_string_equal(ev.filename, "/sbin/agetty");
	/* Exit-only fields are zero, not left over. */
	assert_int_equal(ev.killed, 0);
	assert_int_equal(ev.exit_code, 0);
	assert_int_equal(ev.signal, 0);
	assert_int_equal(ev.core_dumped, 0);
	assert_int_equal(ev.lifetime_ns, 0);
}

/* The ring buffer rounds records up to 8 bytes: a longer record is fine. */
static void test_exec_longer_than_struct(void **state)
{
	unsigned char buf[sizeof(struct rca_exec_record) + 8];
	struct rca_exec_record r = make_exec();
	struct rca_event ev;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	memcpy(buf, &r, sizeof(r));
	assert_int_equal(record_decode(buf, sizeof(buf), &ev), 0);
	assert_int_equal(ev.pid, 4242);
	assert_string_equal(ev.filename, "/sbin/agetty");
}

/* Records need not be aligned in the caller's buffer (UBSan checks the reads). */
static void test_unaligned_record(void **state)
{
	unsigned char buf[1 + sizeof(struct rca_exit_record)];
	struct rca_exit_record r = make_exit(0x0100);
	struct rca_event ev;

	(void)state;
	memcpy(buf + 1, &r, sizeof(r));
	assert_int_equal(record_decode(buf + 1, sizeof(r), &ev), 0);
	assert_int_equal(ev.type, RCA_REC_EXIT);
	assert_int_equal(ev.cgroup_id, 77);
	assert_int_equal(ev.exit_code, 1);
}

struct exit_case {
	const char *name;
	uint32_t raw;
	int killed;
	int exit_code;
	int signal;
	int core_dumped;
};

static struct exit_case exit_cases[] = {
	{ .name = "exit: raw 0x0000 is exit 0", .raw = 0x0000 },
	{ .name = "exit: raw 0x0100 is exit 1", .raw = 0x0100, .exit_code = 1 },
	{ .name = "exit: raw 0x7f00 is exit 127", .raw = 0x7f00, .exit_code = 127 },
	{ .name = "exit: raw 0xff00 is exit 255", .raw = 0xff00, .exit_code = 255 },
	{ .name = "exit: raw 0x0009 is killed by SIGKILL", .raw = 0x0009, .killed = 1,
	  .signal = 9 },
	{ .name = "exit: raw 0x000f is killed by SIGTERM", .raw = 0x000f, .killed = 1,
	  .signal = 15 },
	{ .name = "exit: raw 0x008b is SIGSEGV with core", .raw = 0x008b, .killed = 1,
	  .signal = 11, .core_dumped = 1 },
	{ .name = "exit: raw 0x0086 is SIGABRT with core", .raw = 0x0086, .killed = 1,
	  .signal = 6, .core_dumped = 1 },
	{ .name = "exit: raw 0x0006 is SIGABRT without core", .raw = 0x0006, .killed = 1,
	  .signal = 6 },
};

static void test_exit_decode(void **state)
{
	const struct exit_case *c = *state;
	struct rca_exit_record r = make_exit(c->raw);
	struct rca_event ev;

	poison(&ev);
	assert_int_equal(record_decode(&r, sizeof(r), &ev), 0);
	assert_int_equal(ev.type, RCA_REC_EXIT);
	assert_int_equal(ev.pid, 4243);
	assert_int_equal(ev.ppid, 4242);
	assert_int_equal(ev.cgroup_id, 77);
	assert_int_equal(ev.time_ns, 5000000000ULL);
	assert_int_equal(ev.lifetime_ns, 1500000ULL);
	assert_int_equal(ev.exe_id, 99);
	assert_string_equal(ev.comm, "worker");
	assert_string_equal(ev.filename, "");
	assert_int_equal(ev.killed, c->killed);
	assert_int_equal(ev.exit_code, c->exit_code);
	assert_int_equal(ev.signal, c->signal);
	assert_int_equal(ev.core_dumped, c->core_dumped);
}

/* comm and filename filling their arrays with no NUL stay bounded and NUL-terminated. */
static void test_exec_strings_without_nul(void **state)
{
	struct rca_exec_record r = make_exec();
	char want_comm[RCA_COMM_LEN + 1], want_file[RCA_FILENAME_LEN + 1];
	struct rca_event ev;

	(void)state;
	memset(r.comm, 'C', sizeof(r.comm));
	memset(r.filename, 'F', sizeof(r.filename));
	memset(want_comm, 'C', RCA_COMM_LEN);
	want_comm[RCA_COMM_LEN] = '\0';
	memset(want_file, 'F', RCA_FILENAME_LEN);
	want_file[RCA_FILENAME_LEN] = '\0';
	poison(&ev);
	assert_int_equal(record_decode(&r, sizeof(r), &ev), 0);
	assert_int_equal(strlen(ev.comm), RCA_COMM_LEN);
	assert_string_equal(ev.comm, want_comm);
	assert_int_equal(strlen(ev.filename), RCA_FILENAME_LEN);
	assert_string_equal(ev.filename, want_file);
}

static void test_exit_comm_without_nul(void **state)
{
	struct rca_exit_record r = make_exit(0);
	struct rca_event ev;

	(void)state;
	memcpy(r.comm, "0123456789abcdef", RCA_COMM_LEN);
	poison(&ev);
	assert_int_equal(record_decode(&r, sizeof(r), &ev), 0);
	assert_string_equal(ev.comm, "0123456789abcdef");
	assert_string_equal(ev.filename, "");
}

/* Decoding keeps hostile bytes as they are: escaping is the printer's job, done once. */
static void test_escape_codes_kept_verbatim(void **state)
{
	struct rca_exec_record r = make_exec();
	struct rca_event ev;

	(void)state;
	memcpy(r.comm, "\x1b[31mevil\x1b[0m\n", 15);
	r.comm[15] = '\0';
	strcpy(r.filename, "/tmp/\x1b]0;pwned\x07\xff\xc0\xaf");
	assert_int_equal(record_decode(&r, sizeof(r), &ev), 0);
	assert_string_equal(ev.comm, "\x1b[31mevil\x1b[0m\n");
	assert_string_equal(ev.filename, "/tmp/\x1b]0;pwned\x07\xff\xc0\xaf");
}

/* Bytes after the first NUL (stale kernel buffer contents) are not part of the string. */
static void test_bytes_after_nul_ignored(void **state)
{
	struct rca_exec_record r = make_exec();
	struct rca_event ev;

	(void)state;
	memset(r.filename, 'X', sizeof(r.filename));
	memcpy(r.filename, "/bin/sh", 8);
	assert_int_equal(record_decode(&r, sizeof(r), &ev), 0);
	assert_string_equal(ev.filename, "/bin/sh");
}

/* Kill records: the sender's lineage as the kernel walked it, clamped and terminated. */
static struct rca_kill_record make_kill(void)
{
	struct rca_kill_record r;

	memset(&r, 0, sizeof(r));
	r.type = RCA_REC_KILL;
	r.signal = 15;
	r.result = 0;
	r.by_kernel = 0;
	r.time_ns = 123456789;
	r.sender.pid = 4410;
	r.sender.cgroup_id = 77;
	memcpy(r.sender.comm, "unattended-upgr", 16);
	r.target.pid = 812;
	r.target.cgroup_id = 88;
	memcpy(r.target.comm, "dockerd", 8);
	r.n_lineage = 2;
	r.lineage[0].pid = 4400;
	memcpy(r.lineage[0].comm, "apt.systemd.dai", 16);
	r.lineage[1].pid = 1;
	memcpy(r.lineage[1].comm, "systemd", 8);
	return r;
}

static void test_kill_decode(void **state)
{
	struct rca_kill_record r = make_kill(), out;

	(void)state;
	assert_int_equal(record_type(&r, sizeof(r)), RCA_REC_KILL);
	assert_int_equal(record_decode_kill(&r, sizeof(r), &out), 0);
	assert_int_equal(out.signal, 15);
	assert_int_equal(out.sender.pid, 4410);
	assert_string_equal(out.sender.comm, "unattended-upgr");
	assert_int_equal(out.target.pid, 812);
	assert_string_equal(out.target.comm, "dockerd");
	assert_int_equal(out.n_lineage, 2);
	assert_int_equal(out.lineage[0].pid, 4400);
	assert_string_equal(out.lineage[0].comm, "apt.systemd.dai");
	assert_int_equal(out.lineage[1].pid, 1);
	assert_string_equal(out.lineage[1].comm, "systemd");
}

static void test_kill_lineage_clamped(void **state)
{
	struct rca_kill_record r = make_kill(), out;

	(void)state;
	r.n_lineage = 1000; /* a corrupt count must not index past the array */
	for (int i = 0; i < RCA_LINEAGE_DEPTH; i++)
		memset(r.lineage[i].comm, 'A', sizeof(r.lineage[i].comm));
	assert_int_equal(record_decode_kill(&r, sizeof(r), &out), 0);
	assert_int_equal(out.n_lineage, RCA_LINEAGE_DEPTH);
	for (int i = 0; i < RCA_LINEAGE_DEPTH; i++)
		assert_int_equal(strlen(out.lineage[i].comm), RCA_COMM_LEN - 1);
}

static void test_kill_short_or_wrong(void **state)
{
	struct rca_kill_record r = make_kill(), out;

	(void)state;
	for (size_t size = 0; size < sizeof(r); size += 7)
		assert_int_equal(record_decode_kill(&r, size, &out), -EINVAL);
	assert_int_equal(record_decode_kill(&r, sizeof(r) - 1, &out), -EINVAL);
	r.type = RCA_REC_OOM;
	assert_int_equal(record_decode_kill(&r, sizeof(r), &out), -EINVAL);
	assert_int_equal(record_type(&r, 3), 0);
}

static void test_oom_decode(void **state)
{
	struct rca_oom_record r, out;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.type = RCA_REC_OOM;
	r.constraint = RCA_OOM_MEMCG;
	r.victim.pid = 1276;
	memcpy(r.victim.comm, "memhog", 7);
	r.trigger.pid = 1276;
	r.memcg_limit_bytes = 64 << 20;
	r.rss_pages[RCA_MEM_ANON] = 16320;
	memset(r.memcg_name, 'm', sizeof(r.memcg_name)); /* no NUL */
	assert_int_equal(record_decode_oom(&r, sizeof(r), &out), 0);
	assert_int_equal(out.constraint, RCA_OOM_MEMCG);
	assert_int_equal(out.victim.pid, 1276);
	assert_string_equal(out.victim.comm, "memhog");
	assert_int_equal(out.memcg_limit_bytes, 64 << 20);
	assert_int_equal(out.rss_pages[RCA_MEM_ANON], 16320);
	assert_int_equal(strlen(out.memcg_name), sizeof(out.memcg_name) - 1);
	assert_int_equal(record_decode_oom(&r, sizeof(r) - 1, &out), -EINVAL);
	r.type = RCA_REC_KILL;
	assert_int_equal(record_decode_oom(&r, sizeof(r), &out), -EINVAL);
}

#define N_TESTS                                                                               \
	(ARRAY_SIZE(short_cases) + ARRAY_SIZE(unknown_types) + ARRAY_SIZE(exit_cases) + 12)

int main(void)
{
	static struct CMUnitTest tests[N_TESTS];
	size_t n = 0;

#define ADD_ROWS(table, fn)                                                                   \
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)                                        \
	tests[n++] = (struct CMUnitTest){ .name = table[i].name, .test_func = fn,             \
					  .initial_state = &table[i] }
#define ADD(label, fn) tests[n++] = (struct CMUnitTest){ .name = label, .test_func = fn }

	ADD_ROWS(short_cases, test_short_records);
	ADD_ROWS(unknown_types, test_unknown_type);
	ADD_ROWS(exit_cases, test_exit_decode);
	ADD("NULL data is -EINVAL", test_null_data);
	ADD("exec record decodes every field", test_exec_decode);
	ADD("exec record longer than the struct", test_exec_longer_than_struct);
	ADD("unaligned record", test_unaligned_record);
	ADD("exec comm and filename without NUL", test_exec_strings_without_nul);
	ADD("exit comm without NUL", test_exit_comm_without_nul);
	ADD("escape codes kept verbatim", test_escape_codes_kept_verbatim);
	ADD("bytes after NUL ignored", test_bytes_after_nul_ignored);
	ADD("kill record: sender, target and lineage", test_kill_decode);
	ADD("kill record: corrupt lineage count clamped", test_kill_lineage_clamped);
	ADD("kill record: short or of another type", test_kill_short_or_wrong);
	ADD("oom record: every field, strings terminated", test_oom_decode);
	if (n != N_TESTS) {
		fprintf(stderr, "test table miscounted: %zu of %zu\n", n, (size_t)N_TESTS);
		return 1;
	}
	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
