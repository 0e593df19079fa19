// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * unit_name: the name an operator knows a cgroup by. Paths are the ones
 * systemd, docker, containerd, CRI-O and podman really create.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit_name.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID12 "0123456789ab"

enum name_fn { FROM_PATH, FROM_LEAF };

struct name_case {
	const char *name;
	enum name_fn fn;
	const char *in;
	size_t size; /* 0: 256 */
	const char *want;
};

static struct name_case name_cases[] = {
	/* systemd units */
	{ .name = "path: serial getty under its template slice", .fn = FROM_PATH,
	  .in = "/system.slice/system-serial\\x2dgetty.slice/serial-getty@ttyS0.service",
	  .want = "serial-getty@ttyS0.service" },
	{ .name = "path: login session scope", .fn = FROM_PATH,
	  .in = "/user.slice/user-1000.slice/session-3.scope", .want = "session-3.scope" },
	{ .name = "path: service in the user manager", .fn = FROM_PATH,
	  .in = "/user.slice/user-1000.slice/user@1000.service/app.slice/"
		"app-gnome-firefox-4242.scope",
	  .want = "app-gnome-firefox-4242.scope" },
	{ .name = "path: plain service", .fn = FROM_PATH, .in = "/system.slice/cron.service",
	  .want = "cron.service" },
	{ .name = "path: a slice is a unit too", .fn = FROM_PATH, .in = "/system.slice",
	  .want = "system.slice" },
	{ .name = "path: trailing slash", .fn = FROM_PATH, .in = "/system.slice/cron.service/",
	  .want = "cron.service" },
	{ .name = "path: several trailing slashes", .fn = FROM_PATH,
	  .in = "/system.slice/cron.service///", .want = "cron.service" },
	{ .name = "path: mount and timer units", .fn = FROM_PATH,
	  .in = "/system.slice/logrotate.timer", .want = "logrotate.timer" },
	{ .name = "path: bare suffix is not a unit", .fn = FROM_PATH, .in = "/x/.service",
	  .want = "/x/.service" },
	{ .name = "path: a unit's own sub-cgroup is the unit", .fn = FROM_PATH,
	  .in = "/system.slice/foo.service/worker", .want = "foo.service" },
	{ .name = "path: a removed cgroup read back with \" (deleted)\"", .fn = FROM_PATH,
	  .in = "/system.slice/system-serial\\x2dgetty.slice/serial-getty@ttyS0.service (deleted)",
	  .want = "serial-getty@ttyS0.service" },
	/* machines: guests and containers with a service manager of their own */
	{ .name = "path: nspawn guest's service", .fn = FROM_PATH,
	  .in = "/machine.slice/machine-debian\\x2dguest.scope/payload/system.slice/"
		"system-serial\\x2dgetty.slice/serial-getty@ttyS0.service",
	  .want = "debian-guest:serial-getty@ttyS0.service" },
	{ .name = "path: nspawn guest's PID 1", .fn = FROM_PATH,
	  .in = "/machine.slice/machine-web1.scope/payload/init.scope", .want = "web1:init.scope" },
	{ .name = "path: nspawn guest's root", .fn = FROM_PATH,
	  .in = "/machine.slice/machine-web1.scope/payload", .want = "web1:/" },
	{ .name = "path: nspawn guest's plain cgroup", .fn = FROM_PATH,
	  .in = "/machine.slice/machine-web1.scope/payload/mine/sub", .want = "web1:/mine/sub" },
	{ .name = "path: nspawn's own supervisor is a host unit", .fn = FROM_PATH,
	  .in = "/machine.slice/machine-web1.scope/supervisor", .want = "machine-web1.scope" },
	{ .name = "path: LXC container's service", .fn = FROM_PATH,
	  .in = "/lxc.payload.c1/system.slice/cron.service", .want = "c1:cron.service" },
	{ .name = "path: docker container running systemd", .fn = FROM_PATH,
	  .in = "/system.slice/docker-" ID64 ".scope/system.slice/nginx.service",
	  .want = "docker:" ID12 ":nginx.service" },
	{ .name = "path: a delegated service's sub-cgroup is no machine", .fn = FROM_PATH,
	  .in = "/system.slice/foo.service/payload/x.service", .want = "x.service" },
	/* containers: systemd cgroup driver */
	{ .name = "path: docker scope", .fn = FROM_PATH,
	  .in = "/system.slice/docker-" ID64 ".scope", .want = "docker:" ID12 },
	{ .name = "path: containerd scope under kubepods", .fn = FROM_PATH,
	  .in = "/kubepods.slice/kubepods-burstable.slice/"
		"kubepods-burstable-pod1b2c.slice/cri-containerd-" ID64 ".scope",
	  .want = "containerd:" ID12 },
	{ .name = "path: crio scope", .fn = FROM_PATH,
	  .in = "/kubepods.slice/kubepods-besteffort.slice/crio-" ID64 ".scope",
	  .want = "crio:" ID12 },
	{ .name = "path: podman scope", .fn = FROM_PATH,
	  .in = "/machine.slice/libpod-" ID64 ".scope", .want = "podman:" ID12 },
	{ .name = "path: docker scope with trailing slash", .fn = FROM_PATH,
	  .in = "/system.slice/docker-" ID64 ".scope/", .want = "docker:" ID12 },
	{ .name = "path: docker scope with upper-case id is just a scope", .fn = FROM_PATH,
	  .in = "/system.slice/docker-0123456789ABCDEF.scope",
	  .want = "docker-0123456789ABCDEF.scope" },
	{ .name = "path: docker scope with short id is just a scope", .fn = FROM_PATH,
	  .in = "/system.slice/docker-abc.scope", .want = "docker-abc.scope" },
	{ .name = "path: docker service is not a container", .fn = FROM_PATH,
	  .in = "/system.slice/docker.service", .want = "docker.service" },
	/* containers: cgroupfs driver */
	{ .name = "path: cgroupfs docker", .fn = FROM_PATH, .in = "/docker/" ID64,
	  .want = "docker:" ID12 },
	{ .name = "path: cgroupfs docker with trailing slash", .fn = FROM_PATH,
	  .in = "/docker/" ID64 "/", .want = "docker:" ID12 },
	{ .name = "path: cgroupfs docker with short id", .fn = FROM_PATH, .in = "/docker/abc",
	  .want = "/docker/abc" },
	{ .name = "path: hex leaf under another parent", .fn = FROM_PATH, .in = "/lxc/" ID64,
	  .want = "/lxc/" ID64 },
	/* root and plain paths */
	{ .name = "path: root", .fn = FROM_PATH, .in = "/", .want = "/" },
	{ .name = "path: root with double slash", .fn = FROM_PATH, .in = "//", .want = "/" },
	{ .name = "path: empty", .fn = FROM_PATH, .in = "", .want = "/" },
	{ .name = "path: plain path", .fn = FROM_PATH, .in = "/mygroup/sub",
	  .want = "/mygroup/sub" },
	{ .name = "path: plain path with trailing slashes", .fn = FROM_PATH,
	  .in = "/mygroup/sub//", .want = "/mygroup/sub" },
	/* truncation */
	{ .name = "path: unit name truncated", .fn = FROM_PATH,
	  .in = "/system.slice/serial-getty@ttyS0.service", .size = 8, .want = "serial-" },
	{ .name = "path: container name truncated", .fn = FROM_PATH,
	  .in = "/system.slice/docker-" ID64 ".scope", .size = 10, .want = "docker:01" },
	{ .name = "path: container name fits exactly", .fn = FROM_PATH,
	  .in = "/system.slice/docker-" ID64 ".scope", .size = 20, .want = "docker:" ID12 },
	{ .name = "path: plain path truncated", .fn = FROM_PATH, .in = "/mygroup/sub", .size = 5,
	  .want = "/myg" },
	{ .name = "path: size 1", .fn = FROM_PATH, .in = "/system.slice/cron.service", .size = 1,
	  .want = "" },
	/* leaf names of removed cgroups */
	{ .name = "leaf: service", .fn = FROM_LEAF, .in = "serial-getty@ttyS0.service",
	  .want = "serial-getty@ttyS0.service" },
	{ .name = "leaf: scope", .fn = FROM_LEAF, .in = "session-3.scope",
	  .want = "session-3.scope" },
	{ .name = "leaf: docker scope", .fn = FROM_LEAF, .in = "docker-" ID64 ".scope",
	  .want = "docker:" ID12 },
	{ .name = "leaf: containerd scope", .fn = FROM_LEAF, .in = "cri-containerd-" ID64 ".scope",
	  .want = "containerd:" ID12 },
	{ .name = "leaf: crio scope", .fn = FROM_LEAF, .in = "crio-" ID64 ".scope",
	  .want = "crio:" ID12 },
	{ .name = "leaf: podman scope", .fn = FROM_LEAF, .in = "libpod-" ID64 ".scope",
	  .want = "podman:" ID12 },
	{ .name = "leaf: plain name is marked partial", .fn = FROM_LEAF, .in = "worker",
	  .want = ".../worker" },
	{ .name = "leaf: bare hex id is marked partial", .fn = FROM_LEAF, .in = ID64,
	  .want = ".../" ID64 },
	{ .name = "leaf: empty is the root", .fn = FROM_LEAF, .in = "", .want = "/" },
	{ .name = "leaf: partial name truncated", .fn = FROM_LEAF, .in = "worker", .size = 6,
	  .want = ".../w" },
	{ .name = "leaf: unit name truncated", .fn = FROM_LEAF, .in = "cron.service", .size = 5,
	  .want = "cron" },
	{ .name = "leaf: container name truncated", .fn = FROM_LEAF,
	  .in = "docker-" ID64 ".scope", .size = 8, .want = "docker:" },
};

static void test_name(void **state)
{
	const struct name_case *c = *state;
	char dst[300];
	size_t size = c->size ? c->size : 256;
	size_t n;

	memset(dst, 'Z', sizeof(dst));
	if (c->fn == FROM_PATH)
		n = unit_name_from_path(dst, size, c->in);
	else
		n = unit_name_from_leaf(dst, size, c->in);
	assert_string_equal(dst, c->want);
	assert_int_equal(n, strlen(c->want));
	for (size_t i = size; i < sizeof(dst); i++)
		assert_int_equal(dst[i], 'Z');
}

/* With no room at all nothing is written and the length is 0, whatever the kind of name. */
static struct name_case size_zero_cases[] = {
	{ .name = "size 0: path to a unit", .fn = FROM_PATH, .in = "/system.slice/cron.service" },
	{ .name = "size 0: path to a container", .fn = FROM_PATH,
	  .in = "/system.slice/docker-" ID64 ".scope" },
	{ .name = "size 0: cgroupfs docker path", .fn = FROM_PATH, .in = "/docker/" ID64 },
	{ .name = "size 0: plain path", .fn = FROM_PATH, .in = "/mygroup/sub" },
	{ .name = "size 0: leaf unit", .fn = FROM_LEAF, .in = "cron.service" },
	{ .name = "size 0: leaf container", .fn = FROM_LEAF, .in = "docker-" ID64 ".scope" },
	{ .name = "size 0: plain leaf", .fn = FROM_LEAF, .in = "worker" },
};

static void test_size_zero(void **state)
{
	const struct name_case *c = *state;
	char dst[4] = "XYZ";
	size_t n;

	if (c->fn == FROM_PATH)
		n = unit_name_from_path(dst, 0, c->in);
	else
		n = unit_name_from_leaf(dst, 0, c->in);
	assert_int_equal(n, 0);
	assert_memory_equal(dst, "XYZ", 4);
}

struct unit_case {
	const char *name;
	const char *in;
	int want;
};

static struct unit_case unit_cases[] = {
	{ .name = "is_unit: service", .in = "a.service", .want = 1 },
	{ .name = "is_unit: scope", .in = "a.scope", .want = 1 },
	{ .name = "is_unit: slice", .in = "a.slice", .want = 1 },
	{ .name = "is_unit: socket", .in = "a.socket", .want = 1 },
	{ .name = "is_unit: mount", .in = "a.mount", .want = 1 },
	{ .name = "is_unit: swap", .in = "a.swap", .want = 1 },
	{ .name = "is_unit: timer", .in = "a.timer", .want = 1 },
	{ .name = "is_unit: target", .in = "a.target", .want = 1 },
	{ .name = "is_unit: path", .in = "a.path", .want = 1 },
	{ .name = "is_unit: automount", .in = "a.automount", .want = 1 },
	{ .name = "is_unit: device", .in = "a.device", .want = 1 },
	{ .name = "is_unit: template instance", .in = "getty@tty1.service", .want = 1 },
	{ .name = "is_unit: bare suffix", .in = ".service", .want = 0 },
	{ .name = "is_unit: longer suffix", .in = "a.services", .want = 0 },
	{ .name = "is_unit: no dot", .in = "service", .want = 0 },
	{ .name = "is_unit: wrong case", .in = "a.Service", .want = 0 },
	{ .name = "is_unit: empty", .in = "", .want = 0 },
	{ .name = "is_unit: plain name", .in = "worker", .want = 0 },
};

struct split_case {
	const char *name;
	const char *in;
	const char *unit;
	const char *machine;
};

static struct split_case split_cases[] = {
	{ .name = "split: host unit", .in = "cron.service", .unit = "cron.service", .machine = "" },
	{ .name = "split: machine's unit", .in = "web1:cron.service", .unit = "cron.service",
	  .machine = "web1" },
	{ .name = "split: machine's root", .in = "web1:/", .unit = "/", .machine = "web1" },
	{ .name = "split: machine's plain path", .in = "web1:/a/b", .unit = "/a/b",
	  .machine = "web1" },
	{ .name = "split: container is no machine", .in = "docker:" ID12, .unit = "docker:" ID12,
	  .machine = "" },
	{ .name = "split: container running systemd", .in = "docker:" ID12 ":x.service",
	  .unit = "x.service", .machine = "docker:" ID12 },
	{ .name = "split: unnamed cgroup", .in = "cgroup:42", .unit = "cgroup:42", .machine = "" },
	{ .name = "split: host path with a colon", .in = "/a:b.service", .unit = "/a:b.service",
	  .machine = "" },
	{ .name = "split: partial leaf", .in = ".../worker", .unit = ".../worker", .machine = "" },
};

static void test_split(void **state)
{
	const struct split_case *c = *state;
	char machine[UNIT_NAME_MACHINE_MAX] = "garbage";

	assert_string_equal(unit_name_machine(c->in, machine, sizeof(machine)), c->unit);
	assert_string_equal(machine, c->machine);
}

static void test_is_systemd_unit(void **state)
{
	const struct unit_case *c = *state;

	assert_int_equal(unit_name_is_systemd_unit(c->in), c->want);
}

#define N_TESTS                                                                \
	(ARRAY_SIZE(name_cases) + ARRAY_SIZE(size_zero_cases) + ARRAY_SIZE(unit_cases) + \
	 ARRAY_SIZE(split_cases))

int main(void)
{
	static struct CMUnitTest tests[N_TESTS];
	size_t n = 0;

#define ADD_ROWS(table, fn)                                                                   \
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)                                        \
	tests[n++] = (struct CMUnitTest){ .name = table[i].name, .test_func = fn,             \
					  .initial_state = &table[i] }

	ADD_ROWS(name_cases, test_name);
	ADD_ROWS(size_zero_cases, test_size_zero);
	ADD_ROWS(unit_cases, test_is_systemd_unit);
	ADD_ROWS(split_cases, test_split);
	if (n != N_TESTS) {
		fprintf(stderr, "test table miscounted: %zu of %zu\n", n, (size_t)N_TESTS);
		return 1;
	}
	return cmocka_run_group_tests_name("unit_name", tests, NULL, NULL);
}
