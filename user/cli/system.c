// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>

#include "system.h"

#define CAP_SYS_ADMIN 21
#define CAP_PERFMON   38
#define CAP_BPF	      39

int system_boot_id(char *dst, size_t size)
{
	const char *forced = getenv("RCATRACE_BOOT_ID");
	FILE *f;
	char buf[64];

	/* Tests simulate a reboot by naming another boot id. */
	if (forced && *forced) {
		snprintf(dst, size, "%s", forced);
		return 0;
	}
	f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(dst, size, "%s", buf);
	return 0;
}

static uint64_t effective_caps(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	uint64_t caps = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %" SCNx64, &caps) == 1)
			break;
	fclose(f);
	return caps;
}

int system_can_trace(void)
{
	uint64_t caps = effective_caps();

	if (caps & (1ULL << CAP_SYS_ADMIN))
		return 1;
	return (caps & (1ULL << CAP_BPF)) && (caps & (1ULL << CAP_PERFMON));
}

int system_has_btf(void)
{
	return access("/sys/kernel/btf/vmlinux", R_OK) == 0;
}

int system_kernel_version(int *ret_major, int *ret_minor)
{
	struct utsname u;

	if (uname(&u) < 0)
		return -errno;
	return system_parse_kernel_release(u.release, ret_major, ret_minor);
}

int system_kernel_at_least(int major, int minor)
{
	struct utsname u;

	if (uname(&u) < 0)
		return -errno;
	return system_release_at_least(u.release, major, minor);
}
