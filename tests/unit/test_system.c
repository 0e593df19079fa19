// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * system: the kernel release as uname(2) gives it, read into major.minor and
 * compared with the oldest kernel rcatrace runs on.
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

#include "system.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct release_case {
	const char *name;
	const char *release;
	int ret, major, minor;
	int at_least_min; /* system_release_at_least(release, RCATRACE_MIN_KERNEL_*) */
};

static struct release_case release_cases[] = {
    {"release: Debian", "6.1.0-13-amd64", 0, 6, 1, 1},
    {"release: this machine's kind", "6.18.44-fc-v669", 0, 6, 18, 1},
    {"release: RHEL 9", "5.14.0-362.8.1.el9_3.x86_64", 0, 5, 14, 1},
    {"release: Ubuntu 20.04", "5.4.0-169-generic", 0, 5, 4, 0},
    {"release: 5.13, one short", "5.13.19", 0, 5, 13, 0},
    {"release: 5.10 LTS", "5.10.0-26-cloud-amd64", 0, 5, 10, 0},
    {"release: RHEL 8 (backports or not, older by number)", "4.18.0-513.el8.x86_64", 0, 4, 18, 0},
    {"release: no patch level", "6.8", 0, 6, 8, 1},
    {"release: rc", "6.9-rc3", 0, 6, 9, 1},
    {"release: minor past 9 compares as a number", "5.100", 0, 5, 100, 1},
    {"release: 3.x", "3.10.0-1160.el7.x86_64", 0, 3, 10, 0},
    {"release: empty", "", -EINVAL},
    {"release: major only", "6", -EINVAL},
    {"release: no minor", "6.", -EINVAL},
    {"release: letters", "linux-6.1", -EINVAL},
    {"release: leading space", " 6.1", -EINVAL},
    {"release: sign", "+6.1", -EINVAL},
    {"release: overflow", "99999999999.1", -EINVAL},
    {"release: comma", "6,1", -EINVAL},
};

static void test_release(void **state)
{
	const struct release_case *c = *state;
	int major = -7, minor = -7;

	assert_int_equal(system_parse_kernel_release(c->release, &major, &minor), c->ret);
	if (c->ret) {
		/* Untouched on failure. */
		assert_int_equal(major, -7);
		assert_int_equal(minor, -7);
		assert_int_equal(system_release_at_least(c->release, 5, 14), c->ret);
		return;
	}
	assert_int_equal(major, c->major);
	assert_int_equal(minor, c->minor);
	assert_int_equal(system_release_at_least(c->release, RCATRACE_MIN_KERNEL_MAJOR,
						 RCATRACE_MIN_KERNEL_MINOR),
			 c->at_least_min);
}

static void test_at_least(void **state)
{
	(void)state;
	assert_int_equal(system_release_at_least("5.14.0", 5, 14), 1);
	assert_int_equal(system_release_at_least("5.14.0", 5, 15), 0);
	assert_int_equal(system_release_at_least("5.14.0", 5, 13), 1);
	assert_int_equal(system_release_at_least("5.14.0", 6, 0), 0);
	assert_int_equal(system_release_at_least("6.0.0", 5, 99), 1);
	assert_int_equal(system_release_at_least("4.99", 5, 0), 0);
	assert_int_equal(system_release_at_least(NULL, 5, 0), -EINVAL);
	/* The minimum is the newest feature's kernel: the lookup-and-delete on a hash map. */
	assert_int_equal(RCATRACE_MIN_KERNEL_MAJOR, 5);
	assert_int_equal(RCATRACE_MIN_KERNEL_MINOR, 14);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(release_cases) + 1];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(release_cases); i++)
		tests[n++] = (struct CMUnitTest){.name = release_cases[i].name,
						 .test_func = test_release,
						 .initial_state = &release_cases[i]};
	tests[n++] = (struct CMUnitTest){.name = "at least", .test_func = test_at_least};
	return _cmocka_run_group_tests("system", tests, n, NULL, NULL);
}
