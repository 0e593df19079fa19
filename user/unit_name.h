/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Names a cgroup the way an operator knows it: systemd unit, container, else the path. */
#ifndef RCATRACE_UNIT_NAME_H
#define RCATRACE_UNIT_NAME_H

#include <stddef.h>

/*
 * From a cgroup path relative to the cgroup2 root ("/system.slice/foo.service"):
 *   .../serial-getty@ttyS0.service  -> serial-getty@ttyS0.service
 *   .../docker-<64 hex>.scope       -> docker:<12 hex>   (also containerd, crio, podman)
 *   /docker/<64 hex>                -> docker:<12 hex>
 *   /                               -> /
 *   anything else                   -> the path itself
 * Returns the length of the name (truncated to fit, always NUL-terminated).
 */
size_t unit_name_from_path(char *dst, size_t size, const char *cgroup_path);

/*
 * From the leaf name alone (the kernel's, for a cgroup already removed):
 * a unit or container name as above, else ".../<leaf>" to show it is partial.
 */
size_t unit_name_from_leaf(char *dst, size_t size, const char *leaf);

/* 1 if the name ends in a systemd unit type suffix (.service, .scope, ...). */
int unit_name_is_systemd_unit(const char *name);

#endif
