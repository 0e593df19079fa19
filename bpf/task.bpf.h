/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* CO-RE readers for a task's cgroup and executable; BPF side only. */
#ifndef RCATRACE_TASK_BPF_H
#define RCATRACE_TASK_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include "types.bpf.h"

/* The task's cgroup in the default (v2) hierarchy: works for any task, not only current. */
static __always_inline struct kernfs_node *task_cgroup_kn(struct task_struct *task)
{
	return BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
}

/*
 * kernfs_node::id became a plain u64 in v5.5 (commit 67c0496e87d1); rcatrace
 * needs v5.14 anyway (RCATRACE_MIN_KERNEL_* in user/cli/system.h says why),
 * so no shim for the old union is kept: a CO-RE check for a type vmlinux
 * lacks makes libbpf 1.1 list module BTF, which needs CAP_SYS_ADMIN.
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

/*
 * kernfs_node::parent became __parent (RCU-managed) in v6.15, commit
 * 633488947ef6 ("kernfs: Use RCU to access kernfs_node::parent."). The
 * flavour's base name exists in vmlinux, so libbpf resolves it there.
 */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/* A cgroup directory name as it is hashed and checked for a unit suffix. */
#define RCA_KN_NAME_MAX 128
/* ".service" and ".scope" as little-endian words read from a name's last bytes. */
#define RCA_SUFFIX_SERVICE 0x656369767265732eULL
#define RCA_SUFFIX_SCOPE 0x65706f63732eULL
#define FNV64_BASIS 14695981039346656037ULL
#define FNV64_PRIME 1099511628211ULL

struct kn_name_buf {
	__u64 w[RCA_KN_NAME_MAX / 8];
};

/*
 * A hash of a cgroup directory name; *is_unit set when it names a service or
 * a scope. Word by word over a zeroed buffer, with no branch on the bytes:
 * a byte loop made the verifier walk millions of states.
 */
static __always_inline __u64 kn_name_hash(struct kernfs_node *kn, struct kn_name_buf *buf,
					  int *is_unit)
{
	const char *name = BPF_CORE_READ(kn, name);
	__u64 h = FNV64_BASIS, tail = 0;
	long n;

	*is_unit = 0;
	__builtin_memset(buf, 0, sizeof(*buf));
	n = bpf_probe_read_kernel_str(buf->w, sizeof(buf->w), name);
	if (n <= 0)
		return h;
	for (int i = 0; i < RCA_KN_NAME_MAX / 8; i++)
		h = (h ^ buf->w[i]) * FNV64_PRIME;
	/* n counts the NUL: the last 8 characters start at n - 9. */
	if (n >= 9 && n <= RCA_KN_NAME_MAX) {
		bpf_probe_read_kernel(&tail, sizeof(tail), name + n - 9);
		if (tail == RCA_SUFFIX_SERVICE)
			*is_unit = 1;
	}
	if (n >= 7 && n <= RCA_KN_NAME_MAX) {
		tail = 0;
		bpf_probe_read_kernel(&tail, 6, name + n - 7);
		if (tail == RCA_SUFFIX_SCOPE)
			*is_unit = 1;
	}
	return h;
}

/*
 * The unit key of a cgroup: a hash of the path of its unit, the deepest
 * level named *.service or *.scope (the cgroup itself when none is), so a
 * unit's sub-cgroups share it and a unit re-created under the same path
 * (systemd, at every restart) keeps it. Walked once per cgroup, at first sight.
 */
static __always_inline __u64 kn_unit_key(struct kernfs_node *kn, struct kn_name_buf *buf)
{
	__u64 level_hash[RCA_CGROUP_WALK_DEPTH] = {};
	int unit_level = -1, depth = 0;
	__u64 key = FNV64_BASIS;

	for (int i = 0; i < RCA_CGROUP_WALK_DEPTH; i++) {
		int is_unit;

		if (!kn)
			break;
		level_hash[i] = kn_name_hash(kn, buf, &is_unit);
		if (is_unit && unit_level < 0)
			unit_level = i;
		kn = kn_parent(kn);
		depth = i + 1;
	}
	if (unit_level < 0)
		unit_level = 0;
	for (int i = 0; i < RCA_CGROUP_WALK_DEPTH; i++)
		if (i >= unit_level && i < depth)
			key = (key ^ level_hash[i]) * FNV64_PRIME;
	return key | 1; /* 0 stays "unknown" */
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
