/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Maps and helpers shared by the BPF modules (lifecycle, memory, signals).
 * They are linked into one object by `bpftool gen object`; shared maps are
 * __weak so each module can define them identically.
 */
#ifndef RCATRACE_MAPS_BPF_H
#define RCATRACE_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "rcatrace.h"
#include "types.bpf.h"
#include "task.bpf.h"

/* Our own pid, so the loader's own activity is not counted (0: count everything). */
const volatile __u32 targ_self_tgid __weak = 0;
/* Wake the reader once this much is waiting in the ring buffer (set by the loader). */
const volatile __u64 targ_wakeup_bytes __weak = RCA_DEFAULT_RINGBUF_BYTES / 4;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RCA_DEFAULT_RINGBUF_BYTES);
} events __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RCA_DEFAULT_MAX_UNITS);
	__type(key, __u64);
	__type(value, struct rca_unit_stats);
} unit_stats __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RCA_DEFAULT_MAX_LEDGER);
	__type(key, struct rca_ledger_key);
	__type(value, struct rca_ledger);
} respawn_ledger __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RCA_DEFAULT_MAX_EXIT_STATUS);
	__type(key, struct rca_status_key);
	__type(value, struct rca_status);
} exit_status __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RCA_DEFAULT_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct rca_proc);
} procs __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RCA_LOST_KIND_MAX);
	__type(key, __u32);
	__type(value, __u64);
} lost __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RCA_DEFAULT_MAX_UNITS);
	__type(key, __u64);
	__type(value, struct rca_unit_mem);
} unit_mem __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RCA_DEFAULT_MAX_MMS);
	__type(key, __u64);
	__type(value, struct rca_mm);
} mm_rss __weak SEC(".maps");

/* Per-CPU scratch for map values too big for the 512-byte stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rca_ledger);
} ledger_scratch __weak SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kn_name_buf);
} name_scratch __weak SEC(".maps");

static __always_inline void count_lost(__u32 kind)
{
	__u64 *n = bpf_map_lookup_elem(&lost, &kind);

	if (n)
		*n += 1; /* per-CPU: no atomics needed */
}

/*
 * Submits a ring-buffer record without waking the reader: a wakeup is an
 * irq_work, a self-IPI on x86, which on a virtual machine is a VM exit (it
 * made exec and exit cost 20-35 us each here, against 1.5 us for fork, which
 * sends nothing). The reader polls every 100 ms instead; it is woken only
 * when the buffer fills past targ_wakeup_bytes, so nothing is lost to the wait.
 */
static __always_inline void events_submit(void *rec)
{
	__u64 waiting = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	bpf_ringbuf_submit(rec, waiting >= targ_wakeup_bytes ? BPF_RB_FORCE_WAKEUP
							     : BPF_RB_NO_WAKEUP);
}

/*
 * The entry for key, created from init when missing. Another CPU may create
 * it first (BPF_NOEXIST fails): its entry is used. NULL only when the map is
 * full, counted as lost_kind. *ret_created is 1 when this call created the
 * entry, for a caller that must account for init exactly once: it is 1 even
 * if the entry is gone again by the time it is looked up (NULL then).
 */
static __always_inline void *map_get_or_create(void *map, const void *key, const void *init,
					       __u32 lost_kind, int *ret_created)
{
	void *v = bpf_map_lookup_elem(map, key);

	*ret_created = 0;
	if (v)
		return v;
	*ret_created = bpf_map_update_elem(map, key, init, BPF_NOEXIST) == 0;
	v = bpf_map_lookup_elem(map, key);
	if (!v && !*ret_created)
		count_lost(lost_kind);
	return v;
}

/* map_get_or_create() for a caller that does not care who created the entry. */
static __always_inline void *map_get_or_init(void *map, const void *key, const void *init,
					     __u32 lost_kind)
{
	int created;

	return map_get_or_create(map, key, init, lost_kind, &created);
}

/* Adds one to a u64 counter map entry, creating it; a full map is counted as lost_kind. */
static __always_inline void count_in(void *map, const void *key, __u32 lost_kind)
{
	__u64 zero = 0, *n = map_get_or_init(map, key, &zero, lost_kind);

	if (n)
		__sync_fetch_and_add(n, 1);
}

/* The counters of a task's cgroup, created (named and keyed from the kernel) at first sight. */
static __always_inline struct rca_unit_stats *unit_stats_get(struct task_struct *task, __u64 cgroup_id, __u64 now)
{
	struct rca_unit_stats *st = bpf_map_lookup_elem(&unit_stats, &cgroup_id);
	struct kernfs_node *kn;
	struct kn_name_buf *buf;
	__u32 zero = 0;

	if (st)
		return st;
	buf = bpf_map_lookup_elem(&name_scratch, &zero);
	if (!buf)
		return NULL;
	{
		struct rca_unit_stats fresh = { .first_ns = now };

		kn = task_cgroup_kn(task);
		fresh.unit_key = kn_unit_key(kn, buf);
		fresh.parent_id = BPF_CORE_READ(kn_parent(kn), id);
		task_cgroup_name(task, fresh.name, sizeof(fresh.name));
		return map_get_or_init(&unit_stats, &cgroup_id, &fresh, RCA_LOST_UNITS_FULL);
	}
}

/*
 * The ledger entry of (unit, executable). A new one takes its name from
 * filename (the exec's), else from name_src (a kernel string: a comm), else
 * from the task's executable file.
 */
static __always_inline struct rca_ledger *ledger_get_named(const struct rca_ledger_key *key,
							   const char *filename, const char *name_src,
							   struct task_struct *task)
{
	struct rca_ledger *l = bpf_map_lookup_elem(&respawn_ledger, key);
	__u32 zero = 0;

	if (l)
		return l;
	l = bpf_map_lookup_elem(&ledger_scratch, &zero);
	if (!l)
		return NULL;
	__builtin_memset(l, 0, sizeof(*l));
	/* The task's executable file name: read here, once per new entry, not per event. */
	if (!filename && !name_src && task)
		name_src = (const char *)BPF_CORE_READ(task, mm, exe_file, f_path.dentry, d_name.name);
	if (filename)
		bpf_probe_read_kernel_str(l->path, sizeof(l->path), filename);
	else if (name_src)
		bpf_probe_read_kernel_str(l->path, sizeof(l->path), name_src);
	return map_get_or_init(&respawn_ledger, key, l, RCA_LOST_LEDGER_FULL);
}

static __always_inline struct rca_ledger *ledger_get(const struct rca_ledger_key *key,
						     const char *filename, const char *name_src)
{
	return ledger_get_named(key, filename, name_src, NULL);
}

/* Adds pages to a unit's resident memory, creating its entry at first sight. */
static __always_inline void unit_mem_add(__u64 cgroup_id, const __s64 delta[RCA_MEM_KINDS])
{
	struct rca_unit_mem fresh = {};
	struct rca_unit_mem *um = map_get_or_init(&unit_mem, &cgroup_id, &fresh, RCA_LOST_UNITS_FULL);

	if (!um)
		return;
	for (int i = 0; i < RCA_MEM_KINDS; i++)
		if (delta[i])
			__sync_fetch_and_add(&um->pages[i], delta[i]);
}

/*
 * A process has ended, or exec replaced its address space: if nothing else
 * uses the old one, take what it still contributes off its unit. The per-CPU
 * slack of the mm's counters is never reported by rss_stat, so without this a
 * unit would keep a residue of every process that ever ran in it.
 */
static __always_inline void mm_release_unused(struct task_struct *task, __u64 mm_key)
{
	struct mm_struct *mm = (struct mm_struct *)mm_key;
	__s64 delta[RCA_MEM_KINDS];
	struct rca_mm *e;
	int users;

	if (!mm_key)
		return;
	e = bpf_map_lookup_elem(&mm_rss, &mm_key);
	if (!e)
		return;
	users = BPF_CORE_READ(mm, mm_users.counter);
	/* Kernels that fire sched_process_exit before exit_mm() still count us. */
	if ((__u64)BPF_CORE_READ(task, mm) == mm_key)
		users--;
	if (users > 0)
		return;
	for (int i = 0; i < RCA_MEM_KINDS; i++)
		delta[i] = -e->pages[i];
	unit_mem_add(e->cgroup_id, delta);
	bpf_map_delete_elem(&mm_rss, &mm_key);
}

#endif /* RCATRACE_MAPS_BPF_H */
