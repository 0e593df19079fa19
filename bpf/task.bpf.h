/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* CO-RE readers for a task's cgroup and executable; BPF side only. */
#ifndef RCATRACE_TASK_BPF_H
#define RCATRACE_TASK_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/* The task's cgroup in the default (v2) hierarchy: works for any task, not only current. */
static __always_inline struct kernfs_node *task_cgroup_kn(struct task_struct *task)
{
	return BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
}

/*
 * kernfs_node::id became a plain u64 in v5.5 (commit 67c0496e87d1); rcatrace
 * needs v5.8 anyway (ring buffer), so no shim for the old union is kept: a
 * CO-RE check for a type vmlinux lacks makes libbpf 1.1 list module BTF,
 * which needs CAP_SYS_ADMIN.
 */
static __always_inline __u64 task_cgroup_id(struct task_struct *task)
{
	return BPF_CORE_READ(task_cgroup_kn(task), id);
}

/* The cgroup's own directory name ("spawn200.service"), valid after it is removed. */
static __always_inline void task_cgroup_name(struct task_struct *task, char *buf, __u32 size)
{
	const char *name = BPF_CORE_READ(task_cgroup_kn(task), name);

	if (bpf_probe_read_kernel_str(buf, size, name) < 0)
		buf[0] = '\0';
}

/* A stable key for an executable file: its device and inode, mixed. 0 means unknown. */
static __always_inline __u64 file_exe_id(struct file *file)
{
	__u64 ino, dev;

	if (!file)
		return 0;
	ino = BPF_CORE_READ(file, f_inode, i_ino);
	dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	return ((ino * 0x9E3779B97F4A7C15ULL) ^ (dev << 32) ^ dev) | 1;
}

#endif /* RCATRACE_TASK_BPF_H */
