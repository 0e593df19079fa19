/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* CO-RE readers for a task's cgroup and executable; BPF side only. */
#ifndef RCATRACE_TASK_BPF_H
#define RCATRACE_TASK_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/*
 * Before v5.5 kernfs_node::id was a union kernfs_node_id; commit 67c0496e87d1
 * ("kernfs: convert kernfs_node->id from union kernfs_node_id to u64") made it
 * a plain u64. Both carry the 64-bit id that bpf_get_current_cgroup_id() returns.
 */
union kernfs_node_id___old {
	struct {
		u32 ino;
		u32 generation;
	};
	u64 id;
} __attribute__((preserve_access_index));

struct kernfs_node___old {
	union kernfs_node_id___old id;
} __attribute__((preserve_access_index));

/* The task's cgroup in the default (v2) hierarchy: works for any task, not only current. */
static __always_inline struct kernfs_node *task_cgroup_kn(struct task_struct *task)
{
	return BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
}

static __always_inline __u64 task_cgroup_id(struct task_struct *task)
{
	struct kernfs_node *kn = task_cgroup_kn(task);

	if (bpf_core_type_exists(union kernfs_node_id___old))
		return BPF_CORE_READ((struct kernfs_node___old *)kn, id.id);
	return BPF_CORE_READ(kn, id);
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
