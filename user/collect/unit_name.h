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

/* A machine name, as the `machine` of its units. */
#define UNIT_NAME_MACHINE_MAX 64

/*
 * The same, aware of machines (containers and guests with a service manager
 * of their own): a unit inside one is named "MACHINE:unit" so it never merges
 * with the host's unit of that name, and machine is set (else "").
 *   /machine.slice/machine-web1.scope/payload/system.slice/nginx.service
 *                                              -> web1:nginx.service, machine web1
 *   /lxc.payload.c1/system.slice/cron.service  -> c1:cron.service, machine c1
 *   /system.slice/docker-<id>.scope/system.slice/x.service
 *                                              -> docker:<12 hex>:x.service
 * A unit's own sub-cgroups are named after it (the deepest .service or
 * .scope), and a trailing " (deleted)" (a cgroup read while it is removed)
 * is never part of a name.
 */
size_t unit_name_split_path(char *dst, size_t size, char *machine, size_t msize,
			    const char *cgroup_path);

/*
 * The unit part of a name made above; *machine gets its machine ("" for the
 * host's units). "web1:nginx.service" -> "nginx.service", machine "web1";
 * "docker:0123456789ab" -> itself, no machine.
 */
const char *unit_name_machine(const char *name, char *machine, size_t msize);

/*
 * From the leaf name alone (the kernel's, for a cgroup already removed):
 * a unit or container name as above, else ".../<leaf>" to show it is partial.
 */
size_t unit_name_from_leaf(char *dst, size_t size, const char *leaf);

/* 1 if the name ends in a systemd unit type suffix (.service, .scope, ...). */
int unit_name_is_systemd_unit(const char *name);

#endif
