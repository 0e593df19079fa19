/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Finds the cgroup2 mount from /proc/self/mountinfo (pure v2 or hybrid hosts). */
#ifndef RCATRACE_MOUNTINFO_H
#define RCATRACE_MOUNTINFO_H

#include <stddef.h>
#include <stdio.h>

/*
 * Reads mountinfo lines from f and stores the mount point of the first
 * cgroup2 file system mounted from its root in ret_path. Octal escapes
 * (\040 for a space) are decoded. Returns 0, -ENOENT when there is no cgroup2
 * mount, -ENAMETOOLONG when the path does not fit.
 */
int mountinfo_find_cgroup2(FILE *f, char *ret_path, size_t size);

/* Decodes the \ooo escapes of one mountinfo field in place. */
void mountinfo_unescape(char *s);

#endif
