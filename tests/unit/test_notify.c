// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* notify: READY=1 reaches a socket named by $NOTIFY_SOCKET, path or abstract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify.h"

static int listener(const char *name, int abstract)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path + (abstract ? 1 : 0), name, len);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (abstract ? 1 : 0))),
			 0);
	return fd;
}

static void test_path_socket(void **state)
{
	char path[64], got[32] = "";
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/rcatrace-notify-%d", getpid());
	unlink(path);
	fd = listener(path, 0);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(notify_service_manager("READY=1"), 1);
	assert_int_equal(recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT), 7);
	assert_string_equal(got, "READY=1");
	close(fd);
	unlink(path);
}

static void test_abstract_socket(void **state)
{
	char name[64], env[66], got[32] = "";
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "rcatrace-notify-%d", getpid());
	fd = listener(name, 1);
	snprintf(env, sizeof(env), "@%s", name);
	setenv("NOTIFY_SOCKET", env, 1);
	assert_int_equal(notify_service_manager("READY=1"), 1);
	assert_int_equal(recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT), 7);
	assert_string_equal(got, "READY=1");
	close(fd);
}

static void test_no_socket(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(notify_service_manager("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(notify_service_manager("READY=1"), -22);
	setenv("NOTIFY_SOCKET", "/nonexistent/dir/socket", 1);
	assert_true(notify_service_manager("READY=1") < 0);
	unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_socket),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_no_socket),
	};

	return cmocka_run_group_tests_name("notify", tests, NULL, NULL);
}
