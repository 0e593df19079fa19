// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Process lifecycle: sched_process_{fork,exec,exit} (tp_btf only; no kprobes,
 * no fentry) aggregated per unit (cgroup v2 id) in hash maps, plus one
 * ring-buffer record per exec and per process exit.
 *
 * Counts live in maps and are exact whatever happens to the ring buffer: a
 * record that cannot be reserved is counted in `lost`, its counts are not.
 */
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline __u32 log2_bucket(__u64 v)
{
	__u32 b = 0;

	/* Bounded loop: at most 64 iterations, verifier-friendly. */
	for (int i = 0; i < 64 && v; i++) {
		v >>= 1;
		b++;
	}
	return b < RCA_LIFETIME_BUCKETS ? b : RCA_LIFETIME_BUCKETS - 1;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 child_pid = BPF_CORE_READ(child, pid);
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	__u64 now = bpf_ktime_get_boot_ns();
	/* The child's own cgroup: CLONE_INTO_CGROUP may place it apart from its parent. */
	__u64 cgroup_id = task_cgroup_id(child);
	struct rca_unit_stats *st;
	struct rca_proc *pp;

	if (targ_self_tgid && parent_tgid == targ_self_tgid)
		return 0;
	st = unit_stats_get(child, cgroup_id, now);
	if (child_pid != child_tgid) {
		if (st) {
			__sync_fetch_and_add(&st->threads, 1);
			st->last_ns = now;
		}
		return 0;
	}
	if (st) {
		__sync_fetch_and_add(&st->forks, 1);
		st->last_ns = now;
	}
	/* A forked child runs its parent's executable until it execs. */
	{
		struct rca_proc p = { .mm = (__u64)BPF_CORE_READ(child, mm) };

		pp = bpf_map_lookup_elem(&procs, &parent_tgid);
		p.exe_id = pp ? pp->exe_id : file_exe_id(BPF_CORE_READ(parent, mm, exe_file));
		if (bpf_map_update_elem(&procs, &child_tgid, &p, BPF_ANY))
			count_lost(RCA_LOST_PROCS_FULL);
	}
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__u64 now = bpf_ktime_get_boot_ns();
	__u64 cgroup_id = task_cgroup_id(task);
	const char *filename = BPF_CORE_READ(bprm, filename);
	struct rca_ledger_key lk = { .cgroup_id = cgroup_id };
	struct rca_proc proc = {};
	struct rca_exec_record *rec;
	struct rca_unit_stats *st;
	struct rca_ledger *l;
	__u64 prev;

	if (targ_self_tgid && tgid == targ_self_tgid)
		return 0;
	lk.exe_id = file_exe_id(BPF_CORE_READ(bprm, file));

	st = unit_stats_get(task, cgroup_id, now);
	if (st) {
		__sync_fetch_and_add(&st->execs, 1);
		st->last_ns = now;
	}

	l = ledger_get(&lk, filename);
	if (l) {
		__sync_fetch_and_add(&l->starts, 1);
		/* xchg keeps the gap exact when two CPUs start the same executable at once. */
		prev = __sync_lock_test_and_set(&l->last_start_ns, now);
		if (!prev) {
			l->first_start_ns = now;
		} else if (now > prev) {
			__u64 gap = now - prev, gap_ms = gap / 1000000;

			__sync_fetch_and_add(&l->gaps, 1);
			__sync_fetch_and_add(&l->gap_sum_ns, gap);
			__sync_fetch_and_add(&l->gap_sumsq_ms2, gap_ms * gap_ms);
		}
	}

	proc.exe_id = lk.exe_id;
	proc.exec_ns = now;
	proc.mm = (__u64)BPF_CORE_READ(task, mm);
	{
		/* exec dropped the old address space (exec_mmap's mmput): release it. */
		struct rca_proc *old = bpf_map_lookup_elem(&procs, &tgid);

		if (old && old->mm && old->mm != proc.mm)
			mm_release_unused(task, old->mm);
	}
	if (bpf_map_update_elem(&procs, &tgid, &proc, BPF_ANY))
		count_lost(RCA_LOST_PROCS_FULL);

	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_lost(RCA_LOST_RINGBUF_EXEC);
		return 0;
	}
	rec->type = RCA_REC_EXEC;
	rec->pid = tgid;
	rec->ppid = BPF_CORE_READ(task, real_parent, tgid);
	rec->_pad = 0;
	rec->cgroup_id = cgroup_id;
	rec->time_ns = now;
	rec->exe_id = lk.exe_id;
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	if (bpf_probe_read_kernel_str(rec->filename, sizeof(rec->filename), filename) < 0)
		rec->filename[0] = '\0';
	events_submit(rec);
	return 0;
}

static __always_inline void count_exit_status(__u64 cgroup_id, __u64 exe_id, __u32 kind,
					      __u32 value)
{
	struct rca_status_key key = {
		.cgroup_id = cgroup_id, .exe_id = exe_id, .kind = kind, .value = value
	};

	count_in(&exit_status, &key, RCA_LOST_STATUS_FULL);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__u64 now = bpf_ktime_get_boot_ns();
	__u64 cgroup_id, exe_id = 0, lifetime_ns;
	__u32 code, signal, failed;
	struct rca_exit_record *rec;
	struct rca_unit_stats *st;
	struct rca_ledger_key lk;
	struct rca_ledger *l;
	struct rca_proc *proc;

	/*
	 * A process ends when its last thread does. signal->live is decremented
	 * before this tracepoint fires, on every kernel; newer kernels also pass
	 * group_dead, older ones do not.
	 */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	if (targ_self_tgid && tgid == targ_self_tgid)
		return 0;

	cgroup_id = task_cgroup_id(task);
	code = BPF_CORE_READ(task, exit_code);
	signal = code & 0x7f;
	failed = signal || ((code >> 8) & 0xff);
	lifetime_ns = bpf_ktime_get_ns() - BPF_CORE_READ(task, group_leader, start_time);

	proc = bpf_map_lookup_elem(&procs, &tgid);
	if (proc) {
		exe_id = proc->exe_id;
		mm_release_unused(task, proc->mm);
		bpf_map_delete_elem(&procs, &tgid);
	}

	st = unit_stats_get(task, cgroup_id, now);
	if (st) {
		__sync_fetch_and_add(&st->exits, 1);
		if (failed)
			__sync_fetch_and_add(&st->exits_failed, 1);
		st->last_ns = now;
	}

	lk.cgroup_id = cgroup_id;
	lk.exe_id = exe_id;
	l = ledger_get(&lk, NULL);
	if (l) {
		__u32 b = log2_bucket(lifetime_ns / 1000);

		__sync_fetch_and_add(&l->exits, 1);
		if (failed)
			__sync_fetch_and_add(&l->exits_failed, 1);
		__sync_fetch_and_add(&l->lifetime_sum_us, lifetime_ns / 1000);
		if (b < RCA_LIFETIME_BUCKETS)
			__sync_fetch_and_add(&l->lifetime_hist[b], 1);
		l->last_exit_ns = now;
	}

	if (signal)
		count_exit_status(cgroup_id, exe_id, RCA_STATUS_SIGNAL, signal);
	else
		count_exit_status(cgroup_id, exe_id, RCA_STATUS_CODE, (code >> 8) & 0xff);

	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_lost(RCA_LOST_RINGBUF_EXIT);
		return 0;
	}
	rec->type = RCA_REC_EXIT;
	rec->pid = tgid;
	rec->ppid = BPF_CORE_READ(task, real_parent, tgid);
	rec->exit_code = code;
	rec->cgroup_id = cgroup_id;
	rec->time_ns = now;
	rec->lifetime_ns = lifetime_ns;
	rec->exe_id = exe_id;
	BPF_CORE_READ_STR_INTO(&rec->comm, task, comm);
	events_submit(rec);
	return 0;
}
