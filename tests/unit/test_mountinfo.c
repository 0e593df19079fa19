// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * mountinfo: finding the cgroup2 mount in /proc/self/mountinfo text. The
 * tables are real mountinfo(5) lines, copied in shape from a pure cgroup v2
 * host (systemd >= 243 default) and a hybrid host (v1 controllers plus
 * cgroup2 at /sys/fs/cgroup/unified).
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

#include "mountinfo.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define PROC_SYS_LINES                                                                        \
	"22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"       \
	"23 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"       \
	"24 1 0:5 / /dev rw,nosuid,relatime shared:8 - devtmpfs udev "                       \
	"rw,size=4001812k,nr_inodes=1000453,mode=755,inode64\n"                              \
	"26 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n"

#define PURE_V2_LINE                                                                          \
	"35 23 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 "   \
	"cgroup2 rw,nsdelegate,memory_recursiveprot\n"

#define HYBRID_LINES                                                                          \
	"25 23 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs "        \
	"ro,mode=755,inode64\n"                                                              \
	"27 25 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - "   \
	"cgroup cgroup rw,xattr,name=systemd\n"                                              \
	"30 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 " \
	"- cgroup cgroup rw,cpu,cpuacct\n"                                                   \
	"31 25 0:29 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - "    \
	"cgroup cgroup rw,memory\n"                                                          \
	"26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - "   \
	"cgroup2 cgroup2 rw,nsdelegate\n"

struct find_case {
	const char *name;
	const char *text;
	size_t size;       /* 0: 4096 */
	int want_ret;
	const char *want;  /* NULL: ret_path untouched */
};

static struct find_case find_cases[] = {
	{ .name = "pure v2 host", .text = PROC_SYS_LINES PURE_V2_LINE, .want_ret = 0,
	  .want = "/sys/fs/cgroup" },
	{ .name = "hybrid host: unified, not the v1 controllers",
	  .text = PROC_SYS_LINES HYBRID_LINES,
	  .want_ret = 0, .want = "/sys/fs/cgroup/unified" },
	{ .name = "no optional fields",
	  .text = "35 23 0:30 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n",
	  .want_ret = 0, .want = "/sys/fs/cgroup" },
	{ .name = "several optional fields",
	  .text = "35 23 0:30 / /sys/fs/cgroup rw,relatime shared:9 master:2 "
		  "propagate_from:3 - cgroup2 cgroup2 rw\n",
	  .want_ret = 0, .want = "/sys/fs/cgroup" },
	{ .name = "last line without newline",
	  .text = PROC_SYS_LINES "35 23 0:30 / /sys/fs/cgroup rw shared:9 - cgroup2 none rw",
	  .want_ret = 0, .want = "/sys/fs/cgroup" },
	{ .name = "mount point with \\040 escapes",
	  .text = "40 26 0:40 / /mnt/my\\040cgroup\\040root rw,relatime shared:20 - cgroup2 "
		  "cgroup2 rw\n",
	  .want_ret = 0, .want = "/mnt/my cgroup root" },
	{ .name = "mount point with tab and backslash escapes",
	  .text = "40 26 0:40 / /mnt/a\\011b\\134c rw - cgroup2 cgroup2 rw\n", .want_ret = 0,
	  .want = "/mnt/a\tb\\c" },
	{ .name = "first of two cgroup2 mounts",
	  .text = PURE_V2_LINE "41 26 0:30 / /run/cg2 rw - cgroup2 cgroup2 rw\n",
	  .want_ret = 0, .want = "/sys/fs/cgroup" },
	{ .name = "bind mount of a sub-cgroup is skipped",
	  .text = "50 26 0:30 /system.slice/docker.service /mnt/cg rw,relatime shared:30 - "
		  "cgroup2 cgroup2 rw\n" PROC_SYS_LINES PURE_V2_LINE,
	  .want_ret = 0, .want = "/sys/fs/cgroup" },
	{ .name = "only a bind mount of a sub-cgroup",
	  .text = PROC_SYS_LINES "50 26 0:30 /system.slice /mnt/cg rw - cgroup2 cgroup2 rw\n",
	  .want_ret = -ENOENT, .want = NULL },
	{ .name = "no cgroup2: v1 only", .text = PROC_SYS_LINES
		  "25 23 0:23 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n"
		  "30 25 0:28 / /sys/fs/cgroup/cpu rw shared:14 - cgroup cgroup rw,cpu\n",
	  .want_ret = -ENOENT, .want = NULL },
	{ .name = "no cgroup2: empty table", .text = "", .want_ret = -ENOENT, .want = NULL },
	{ .name = "cgroup2 as a source or option is not the type",
	  .text = "60 26 0:50 / /mnt/x rw shared:1 - tmpfs cgroup2 rw,cgroup2\n",
	  .want_ret = -ENOENT, .want = NULL },
	{ .name = "other file system types before it are skipped",
	  .text = "60 26 0:50 / /mnt/x rw shared:1 - ext4 /dev/sda1 rw\n" PURE_V2_LINE,
	  .want_ret = 0, .want = "/sys/fs/cgroup" },
	{ .name = "garbage lines skipped",
	  .text = "garbage\n"
		  "\n"
		  "1 2 3\n"
		  "1 2 3 4 5 6 no separator cgroup2\n"
		  "1 2 3 4 5 6 -\n"
		  "   \n" PURE_V2_LINE,
	  .want_ret = 0, .want = "/sys/fs/cgroup" },
	{ .name = "only garbage", .text = "garbage\n1 2 3 4 5 6 -\n- cgroup2\n",
	  .want_ret = -ENOENT, .want = NULL },
	{ .name = "path too long", .text = PURE_V2_LINE, .size = 14, .want_ret = -ENAMETOOLONG,
	  .want = NULL },
	{ .name = "path fits exactly", .text = PURE_V2_LINE, .size = 15, .want_ret = 0,
	  .want = "/sys/fs/cgroup" },
	{ .name = "decoded length decides the fit",
	  .text = "40 26 0:40 / /a\\040b rw - cgroup2 cgroup2 rw\n", .size = 5, .want_ret = 0,
	  .want = "/a b" },
	{ .name = "size 1 is too small", .text = PURE_V2_LINE, .size = 1,
	  .want_ret = -ENAMETOOLONG, .want = NULL },
};

static void test_find_cgroup2(void **state)
{
	const struct find_case *c = *state;
	char path[4096];
	size_t size = c->size ? c->size : sizeof(path);
	/* fmemopen() will not open a zero-length buffer: give the empty table a NUL to hold. */
	FILE *f = fmemopen((void *)c->text, strlen(c->text) + 1, "r");
	int ret;

	assert_non_null(f);
	strcpy(path, "untouched");
	ret = mountinfo_find_cgroup2(f, path, size);
	fclose(f);
	assert_int_equal(ret, c->want_ret);
	assert_string_equal(path, c->want ? c->want : "untouched");
}

struct unescape_case {
	const char *name;
	const char *in;
	const char *want;
};

static struct unescape_case unescape_cases[] = {
	{ .name = "unescape: nothing to do", .in = "/sys/fs/cgroup", .want = "/sys/fs/cgroup" },
	{ .name = "unescape: space", .in = "/mnt/a\\040b", .want = "/mnt/a b" },
	{ .name = "unescape: tab newline backslash", .in = "\\011\\012\\134",
	  .want = "\t\n\\" },
	{ .name = "unescape: adjacent escapes", .in = "\\040\\040", .want = "  " },
	{ .name = "unescape: first digit above 3 is literal", .in = "a\\400", .want = "a\\400" },
	{ .name = "unescape: non-octal digit is literal", .in = "a\\08x", .want = "a\\08x" },
	{ .name = "unescape: cut escape at end is literal", .in = "a\\04", .want = "a\\04" },
	{ .name = "unescape: trailing backslash", .in = "a\\", .want = "a\\" },
	{ .name = "unescape: empty", .in = "", .want = "" },
};

static void test_unescape(void **state)
{
	const struct unescape_case *c = *state;
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", c->in);
	mountinfo_unescape(buf);
	assert_string_equal(buf, c->want);
}

#define N_TESTS (ARRAY_SIZE(find_cases) + ARRAY_SIZE(unescape_cases))

int main(void)
{
	static struct CMUnitTest tests[N_TESTS];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(find_cases); i++)
		tests[n++] = (struct CMUnitTest){ .name = find_cases[i].name,
						  .test_func = test_find_cgroup2,
						  .initial_state = &find_cases[i] };
	for (size_t i = 0; i < ARRAY_SIZE(unescape_cases); i++)
		tests[n++] = (struct CMUnitTest){ .name = unescape_cases[i].name,
						  .test_func = test_unescape,
						  .initial_state = &unescape_cases[i] };
	if (n != N_TESTS) {
		fprintf(stderr, "test table miscounted: %zu of %zu\n", n, (size_t)N_TESTS);
		return 1;
	}
	return cmocka_run_group_tests_name("mountinfo", tests, NULL, NULL);
}
