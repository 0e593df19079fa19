// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Resident memory per unit from rss_stat, OOM kills from mark_victim, and a
 * task iterator that seeds processes already running and reconciles drift.
 *
 * rss_stat fires on every batch of page faults: it updates two maps in place
 * and sends nothing to user space.
 */
#include "maps.bpf.h"

/*
 * log2 of the page size, set by the loader from sysconf(_SC_PAGESIZE): the
 * kernel counts memory in pages, 4 KiB on x86 but 16 or 64 KiB on some arm64
 * and ppc64 kernels. Only the memcg figures are turned into bytes here; RSS
 * goes out in pages, for user space to convert.
 */
const volatile __u32 targ_page_shift = 12;

/*
 * v6.2 commit f1a7941243c1 ("mm: convert mm's rss stats into percpu_counter")
 * turned mm->rss_stat into an array of percpu_counter; before, it was a
 * struct mm_rss_stat of atomic_long_t. Both expose the value /proc shows:
 * percpu_counter::count or the atomic's counter.
 */
struct mm_rss_stat___old {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
} __attribute__((preserve_access_index));

/*
 * Told apart by version, not by bpf_core_type_exists(struct mm_rss_stat___old):
 * looking for a type vmlinux lacks makes libbpf 1.1 list module BTF, which
 * needs CAP_SYS_ADMIN. The branch not taken is pruned by the verifier.
 */
extern int LINUX_KERNEL_VERSION __kconfig;

static __always_inline __s64 mm_counter(struct mm_struct *mm, int member)
{
	__s64 v;

	if (LINUX_KERNEL_VERSION < KERNEL_VERSION(6, 2, 0))
		v = BPF_CORE_READ((struct mm_struct___old *)mm, rss_stat.count[member].counter);
	else
		v = BPF_CORE_READ(mm, rss_stat[member].count);
	return v > 0 ? v : 0;
}

/*
 * The kernel's MM_* counters are an anonymous enum, stable since v4.5 (commit
 * eca56ff906bd added MM_SHMEMPAGES): FILEPAGES 0, ANONPAGES 1, SWAPENTS 2,
 * SHMEMPAGES 3. Swap entries are not resident and are not tracked.
 */
#define MM_FILEPAGES 0
#define MM_ANONPAGES 1
#define MM_SHMEMPAGES 3

static __always_inline int kernel_member(int kind)
{
	return kind == RCA_MEM_ANON ? MM_ANONPAGES : kind == RCA_MEM_FILE ? MM_FILEPAGES
									  : MM_SHMEMPAGES;
}

static __always_inline int kind_of_member(int member)
{
	switch (member) {
	case MM_ANONPAGES:
		return RCA_MEM_ANON;
	case MM_FILEPAGES:
		return RCA_MEM_FILE;
	case MM_SHMEMPAGES:
		return RCA_MEM_SHMEM;
	default:
		return -1;
	}
}

/*
 * The unit an address space is charged to: its owner's (mm->owner, kept by
 * CONFIG_MEMCG), not current's: reclaim and other tasks change other mms'
 * counters. Without mm->owner, fall back to current when it uses this mm.
 */
static __always_inline __u64 mm_owner_cgroup(struct mm_struct *mm, int *ret_ok)
{
	struct task_struct *owner = NULL, *cur = bpf_get_current_task_btf();

	if (bpf_core_field_exists(mm->owner))
		owner = BPF_CORE_READ(mm, owner);
	if (!owner && BPF_CORE_READ(cur, mm) == mm)
		owner = cur;
	*ret_ok = owner != NULL;
	return owner ? task_cgroup_id(owner) : 0;
}

/*
 * Brings an mm's entry in line with the kernel's counters and its owner's
 * unit, creating it (and charging the unit) at first sight. only_kind < 0
 * syncs every kind (the iterator); else just the one rss_stat reported.
 */
static __always_inline void mm_sync(struct mm_struct *mm, int only_kind)
{
	__s64 delta[RCA_MEM_KINDS] = {}, moved[RCA_MEM_KINDS];
	__u64 key = (__u64)mm, cg;
	struct rca_mm *e;
	int ok;

	cg = mm_owner_cgroup(mm, &ok);
	if (!ok)
		return;
	e = bpf_map_lookup_elem(&mm_rss, &key);
	if (!e) {
		struct rca_mm fresh = { .cgroup_id = cg };
		int created;

		/* An address space being torn down (no users left) is not new: skip it. */
		if (BPF_CORE_READ(mm, mm_users.counter) <= 0)
			return;
		for (int i = 0; i < RCA_MEM_KINDS; i++)
			fresh.pages[i] = mm_counter(mm, kernel_member(i));
		e = map_get_or_create(&mm_rss, &key, &fresh, RCA_LOST_MM_FULL, &created);
		if (created) {
			/* The entry holds what the unit is charged with, now: charge it once. */
			unit_mem_add(cg, fresh.pages);
			return;
		}
		if (!e)
			return;
		/* Another CPU created it first, and charged the unit: sync with its entry. */
	}
	for (int i = 0; i < RCA_MEM_KINDS; i++) {
		__s64 now;

		if (only_kind >= 0 && i != only_kind)
			continue;
		now = mm_counter(mm, kernel_member(i));
		/* xchg: two CPUs updating one mm each apply their own delta once. */
		delta[i] = now - __sync_lock_test_and_set(&e->pages[i], now);
	}
	if (e->cgroup_id != cg) {
		/* The owner moved to another unit: move everything the mm holds. */
		__u64 old_cg = e->cgroup_id;

		e->cgroup_id = cg;
		for (int i = 0; i < RCA_MEM_KINDS; i++) {
			moved[i] = -(e->pages[i] - delta[i]);
			delta[i] = e->pages[i];
		}
		unit_mem_add(old_cg, moved);
	}
	unit_mem_add(cg, delta);
}

SEC("tp_btf/rss_stat")
int BPF_PROG(rss_stat, struct mm_struct *mm, int member)
{
	int kind = kind_of_member(member);

	if (kind < 0 || !mm)
		return 0;
	mm_sync(mm, kind);
	return 0;
}

/* Seeds processes that ran before us and, run again later, reconciles drift. */
SEC("iter/task")
int iter_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct mm_struct *mm;

	if (!task || task->pid != task->tgid)
		return 0;
	mm = task->mm;
	if (!mm)
		return 0;
	/*
	 * Processes that ran before us were never seen at fork or exec: give them
	 * a procs entry, so their address space is released when they exit.
	 */
	{
		__u32 tgid = task->tgid;

		/* Looked up first: the entry is built only for a process not seen yet. */
		if (!bpf_map_lookup_elem(&procs, &tgid)) {
			struct rca_proc p = { .exe_id = file_exe_id(BPF_CORE_READ(mm, exe_file)),
					      .mm = (__u64)mm };
			/* Its unit, so that a later move to another unit counts as a start. */
			struct rca_unit_stats *st = unit_stats_get(task, task_cgroup_id(task),
								   bpf_ktime_get_boot_ns());

			if (st)
				p.unit_key = st->unit_key;
			map_get_or_init(&procs, &tgid, &p, RCA_LOST_PROCS_FULL);
		}
	}
	if (bpf_core_field_exists(mm->owner) && BPF_CORE_READ(mm, owner) != task)
		return 0;
	mm_sync(mm, -1);
	return 0;
}

/*
 * The constraint of an OOM kill. The tracepoint does not carry the kernel's
 * oom_control, so look at the victim's memory cgroup and its ancestors: a
 * limited level at (or within 1/32 of) its limit is the one that ran out
 * ("memcg"); none means the machine did ("global"). Works for v1 and v2,
 * which share struct mem_cgroup.
 */
static __always_inline void oom_memcg(struct task_struct *task, struct rca_oom_record *rec)
{
	int memory_id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	/* PAGE_COUNTER_MAX, LONG_MAX / PAGE_SIZE, means unlimited. */
	const __u64 unlimited = 0x7fffffffffffffffULL >> targ_page_shift;
	struct cgroup_subsys_state *css;
	struct page_counter *pc;

	if (memory_id < 0 || memory_id >= 16)
		return;
	css = BPF_CORE_READ(task, cgroups, subsys[memory_id]);
	if (!css)
		return;
	/* css is the first member of struct mem_cgroup. */
	pc = &((struct mem_cgroup *)css)->memory;
	for (int depth = 0; depth < 8 && pc; depth++) {
		__u64 max = BPF_CORE_READ(pc, max);
		__u64 usage = BPF_CORE_READ(pc, usage.counter);

		if (max < unlimited && usage + (max >> 5) >= max) {
			struct mem_cgroup *m = (void *)((char *)pc -
							bpf_core_field_offset(struct mem_cgroup, memory));
			struct kernfs_node *kn = BPF_CORE_READ(m, css.cgroup, kn);

			rec->constraint = RCA_OOM_MEMCG;
			rec->memcg_limit_bytes = max << targ_page_shift;
			rec->memcg_usage_bytes = usage << targ_page_shift;
			rec->memcg_id = BPF_CORE_READ(kn, id);
			bpf_probe_read_kernel_str(rec->memcg_name, sizeof(rec->memcg_name),
						  BPF_CORE_READ(kn, name));
			return;
		}
		pc = BPF_CORE_READ(pc, parent);
	}
}

SEC("tp_btf/mark_victim")
int BPF_PROG(mark_victim, struct task_struct *task)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	struct rca_oom_record *rec;
	struct rca_unit_stats *st;

	/* Counted in the map first: exact even when the ring buffer is full. */
	st = unit_stats_get(task, task_cgroup_id(task), bpf_ktime_get_boot_ns());
	if (st)
		__sync_fetch_and_add(&st->oom_kills, 1);
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_lost(RCA_LOST_RINGBUF_OOM);
		return 0;
	}
	__builtin_memset(rec, 0, sizeof(*rec));
	rec->type = RCA_REC_OOM;
	rec->constraint = RCA_OOM_GLOBAL;
	rec->time_ns = bpf_ktime_get_boot_ns();
	rec->victim.pid = BPF_CORE_READ(task, tgid);
	rec->victim.cgroup_id = task_cgroup_id(task);
	BPF_CORE_READ_STR_INTO(&rec->victim.comm, task, comm);
	rec->trigger.pid = BPF_CORE_READ(cur, tgid);
	rec->trigger.cgroup_id = task_cgroup_id(cur);
	BPF_CORE_READ_STR_INTO(&rec->trigger.comm, cur, comm);
	rec->oom_score_adj = BPF_CORE_READ(task, signal, oom_score_adj);
	if (mm)
		for (int i = 0; i < RCA_MEM_KINDS; i++)
			rec->rss_pages[i] = mm_counter(mm, kernel_member(i));
	oom_memcg(task, rec);
	/* The one record worth an immediate wakeup: it goes to disk at once. */
	bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
	return 0;
}
