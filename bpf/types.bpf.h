/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Map types and sizes that only the BPF programs use: user space never reads
 * these maps, so they stay out of include/rcatrace.h, the ABI both sides share.
 */
#ifndef RCATRACE_TYPES_BPF_H
#define RCATRACE_TYPES_BPF_H

#include "vmlinux.h"
#include "rcatrace.h"

/* Sizes of the maps the loader leaves as they are. */
#define RCA_DEFAULT_MAX_PROCS	      65536
#define RCA_DEFAULT_MAX_MMS	      65536
#define RCA_DEFAULT_MAX_KILL_COUNTS   4096
#define RCA_DEFAULT_MAX_FORK_FAILURES 4096

/* cgroup levels walked to find a cgroup's unit (the deepest *.service or *.scope). */
#define RCA_CGROUP_WALK_DEPTH 16

/* procs flags */
#define RCA_PROC_START_PENDING 1 /* entered its unit; not counted as a start yet (no exec) */
#define RCA_PROC_STARTED       2 /* counted as a start, of start_exe_id */

/* procs: what the exec and exit handlers need to know about a live process, key = tgid. */
struct rca_proc {
	__u64 exe_id;
	__u64 mm;	/* its address space (a kernel pointer, used only as a key) */
	__u64 unit_key; /* the unit it runs in: a move to another one is a start */
	__u64 start_ns; /* CLOCK_BOOTTIME it entered its unit (flags) */
	__u64 start_exe_id;
	__u32 flags; /* RCA_PROC_* */
	__u32 _pad;
};

/* mm_rss: what each address space last contributed, in pages, key = mm pointer. */
struct rca_mm {
	__u64 cgroup_id;
	__s64 pages[RCA_MEM_KINDS];
};

#endif /* RCATRACE_TYPES_BPF_H */
