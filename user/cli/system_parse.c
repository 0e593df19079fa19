// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The parts of system.h that read no system state, so they link into the unit tests. */
#include <errno.h>
#include <limits.h>

#include "system.h"

/* Decimal digits at *s into *ret, advancing *s. -EINVAL for none, or past INT_MAX. */
static int parse_number(const char **s, int *ret)
{
	const char *p = *s;
	long v = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return -EINVAL;
	}
	*s = p;
	*ret = (int)v;
	return 0;
}

int system_parse_kernel_release(const char *release, int *ret_major, int *ret_minor)
{
	const char *p = release;
	int major, minor;

	if (!p || parse_number(&p, &major) || *p++ != '.' || parse_number(&p, &minor))
		return -EINVAL;
	/* What follows the minor is the patch level or a vendor suffix: ".44", "-rc1", "+". */
	*ret_major = major;
	*ret_minor = minor;
	return 0;
}

int system_release_at_least(const char *release, int major, int minor)
{
	int have_major, have_minor,
	    e = system_parse_kernel_release(release, &have_major, &have_minor);

	if (e)
		return e;
	return have_major > major || (have_major == major && have_minor >= minor);
}
