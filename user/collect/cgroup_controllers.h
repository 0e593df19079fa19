/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A unit's pids and memory controller figures, read from cgroupfs, wherever
 * the controllers are: on the cgroup2 hierarchy (pure v2, or hybrid with the
 * controller moved to v2) or on their own v1 hierarchy (hybrid hosts, where
 * v2 has no controllers and memory and pids sit under /sys/fs/cgroup/memory
 * and /sys/fs/cgroup/pids).
 *
 * The roots are parameters so that tests run on a fake tree. No heap, no
 * state: each call reads a handful of small files.
 */
#ifndef RCATRACE_CGROUP_CONTROLLERS_H
#define RCATRACE_CGROUP_CONTROLLERS_H

#include <stdint.h>

struct cgroup_controllers_opts {
	const char *proc_root;     /* NULL: "/proc" */
	const char *cgroup_root;   /* NULL: "/sys/fs/cgroup"; v1 hierarchies are <root>/<name> */
	/*
	 * NULL: <cgroup_root> when it holds cgroup.controllers (pure v2), else
	 * <cgroup_root>/unified (hybrid).
	 */
	const char *cgroup2_mount;
};

/*
 * -1 in any figure: unknown (no such controller, file missing or not
 * understood) or, for a limit, none ("max", or a v1 limit of 2^62 bytes or
 * more, which is how v1 writes "unlimited": 9223372036854771712 on 4 KiB
 * pages).
 *
 * pids_events_max: times a fork failed against pids.max ("max N" of
 * pids.events). mem_failcnt: times usage hit the limit (v1 memory.failcnt;
 * v2 "max N" of memory.events). mem_oom_kills: "oom_kill N" of v1
 * memory.oom_control or v2 memory.events.
 *
 * mem_path, pids_path: the cgroup path of the controller as /proc/PID/cgroup
 * gives it ("/system.slice/foo.service"); "" when the controller was not
 * found or the path does not fit. mem_v2, pids_v2: 1 on cgroup2, 0 on v1,
 * -1 not found.
 */
struct cgroup_figures {
	int64_t pids_current, pids_max, pids_events_max;
	int64_t mem_usage_bytes, mem_limit_bytes, mem_failcnt, mem_oom_kills;
	int64_t mem_kernel_bytes; /* the kernel's part of mem_usage_bytes; -1 unknown */
	char mem_path[256];
	char pids_path[256];
	int mem_v2, pids_v2;
};

/*
 * Reads the pids and memory figures of the cgroups pid is in. Returns 0
 * (with whatever could be read; a controller that is nowhere leaves its
 * figures at -1), -ESRCH when the process is gone, -EINVAL for a pid <= 0,
 * -EBADMSG when /proc/PID/cgroup holds no line understood, or another
 * -errno when it cannot be read. ret is untouched on failure.
 */
int cgroup_controllers_read(const struct cgroup_controllers_opts *o, int pid,
			    struct cgroup_figures *ret);

/*
 * A cgroup v2 directory's processes (cgroup.procs: *ret_procs, 0 when empty)
 * and, through its first one, its controller figures. 1: figures read; 0: the
 * cgroup has no process to read them through (*ret_procs still set); -errno
 * when cgroup.procs cannot be read (the cgroup is gone).
 */
int cgroup_controllers_read_dir(const struct cgroup_controllers_opts *o, const char *cgroup_dir,
				struct cgroup_figures *ret, int64_t *ret_procs);

#endif
