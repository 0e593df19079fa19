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

/*
 * A process entered unit_key from outside it: remember when, so the exec that
 * follows (or its exit, if it never execs) counts one start.
 */
static __always_inline void mark_start(struct rca_proc *p, struct rca_unit_stats *st, __u64 now)
{
	p->unit_key = st->unit_key;
	p->start_ns = now;
	p->flags = RCA_PROC_START_PENDING;
	__sync_fetch_and_add(&st->starts, 1);
	st->last_ns = now;
}

/* Counts a start of (unit, executable) and the gap since the previous one. */
static __always_inline void ledger_count_start(struct rca_ledger *l, __u64 start_ns)
{
	__u64 prev;

	__sync_fetch_and_add(&l->starts, 1);
	/* xchg keeps the gap exact when two CPUs start the same executable at once. */
	prev = __sync_lock_test_and_set(&l->last_start_ns, start_ns);
	if (!prev) {
		l->first_start_ns = start_ns;
	} else if (start_ns > prev) {
		__u64 gap = start_ns - prev, gap_ms = gap / 1000000;

		__sync_fetch_and_add(&l->gaps, 1);
		__sync_fetch_and_add(&l->gap_sum_ns, gap);
		__sync_fetch_and_add(&l->gap_sumsq_ms2, gap_ms * gap_ms);
	}
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
	struct rca_proc p = {};

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
	/* A forked child runs its parent's executable, in its parent's unit, until it execs. */
	p.mm = (__u64)BPF_CORE_READ(child, mm);
	pp = bpf_map_lookup_elem(&procs, &parent_tgid);
	p.exe_id = pp ? pp->exe_id : file_exe_id(BPF_CORE_READ(parent, mm, exe_file));
	if (st) {
		p.unit_key = st->unit_key;
		/* Forked straight into another unit (clone3 with CLONE_INTO_CGROUP): a start. */
		if (cgroup_id != task_cgroup_id(parent)) {
			struct rca_unit_stats *pst =
				unit_stats_get(parent, task_cgroup_id(parent), now);

			if (pst && pst->unit_key != st->unit_key)
				mark_start(&p, st, now);
		}
	}
	if (bpf_map_update_elem(&procs, &child_tgid, &p, BPF_ANY))
		count_lost(RCA_LOST_PROCS_FULL);
	return 0;
}

/*
 * A process moved to another cgroup: systemd's and runc's children move
 * themselves into their unit before exec; that is how a unit starts. Fires
 * for every hierarchy (v1 ones too on a hybrid host): only the default one
 * counts. It also fires when the task was in dst_cgrp already.
 */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(cgroup_attach_task, struct cgroup *dst_cgrp, const char *path,
	     struct task_struct *task, bool threadgroup)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__u64 now = bpf_ktime_get_boot_ns();
	struct rca_unit_stats *st;
	struct rca_proc fresh = {}, *p;

	if (targ_self_tgid && tgid == targ_self_tgid)
		return 0;
	if (BPF_CORE_READ(task, cgroups, dfl_cgrp) != dst_cgrp)
		return 0; /* a v1 hierarchy */
	if (!threadgroup && BPF_CORE_READ(task, pid) != tgid)
		return 0; /* one thread of a threaded cgroup */
	st = unit_stats_get(task, BPF_CORE_READ(dst_cgrp, kn, id), now);
	if (!st)
		return 0;
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (!p) {
		/* Older than rcatrace and never seen: it enters from somewhere unknown. */
		fresh.exe_id = file_exe_id(BPF_CORE_READ(task, mm, exe_file));
		fresh.mm = (__u64)BPF_CORE_READ(task, mm);
		p = map_get_or_init(&procs, &tgid, &fresh, RCA_LOST_PROCS_FULL);
		if (!p)
			return 0;
	} else if (p->unit_key == st->unit_key) {
		return 0; /* within its unit (a sub-cgroup), or no move at all */
	}
	mark_start(p, st, now);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__u64 now = bpf_ktime_get_boot_ns();
	__u64 cgroup_id = task_cgroup_id(task);
	const char *filename = BPF_CORE_READ(bprm, filename);
	struct rca_ledger_key lk = {};
	struct rca_proc fresh = {}, *p;
	struct rca_exec_record *rec;
	struct rca_unit_stats *st;
	struct rca_ledger *l = NULL;
	__u64 mm = (__u64)BPF_CORE_READ(task, mm);

	if (targ_self_tgid && tgid == targ_self_tgid)
		return 0;
	lk.exe_id = file_exe_id(BPF_CORE_READ(bprm, file));

	st = unit_stats_get(task, cgroup_id, now);
	if (st) {
		__sync_fetch_and_add(&st->execs, 1);
		st->last_ns = now;
		lk.unit_key = st->unit_key;
		l = ledger_get(&lk, filename, NULL);
	}

	p = bpf_map_lookup_elem(&procs, &tgid);
	if (p) {
		/* exec dropped the old address space (exec_mmap's mmput): release it. */
		if (p->mm && p->mm != mm)
			mm_release_unused(task, p->mm);
	} else {
		fresh.unit_key = lk.unit_key;
		p = map_get_or_init(&procs, &tgid, &fresh, RCA_LOST_PROCS_FULL);
	}
	if (p) {
		p->exe_id = lk.exe_id;
		p->mm = mm;
	}
	if (l) {
		__sync_fetch_and_add(&l->execs, 1);
		l->cgroup_id = cgroup_id;
		/* The first exec after entering the unit: this executable is what started. */
		if (p && (p->flags & RCA_PROC_START_PENDING)) {
			ledger_count_start(l, p->start_ns);
			p->flags = RCA_PROC_STARTED;
			p->start_exe_id = lk.exe_id;
		}
	}

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

/* Counts how a process of (unit, executable) ended, and who its parent was. */
static __always_inline void count_exit_status(struct task_struct *task, __u64 cgroup_id,
					      const char comm[RCA_COMM_LEN], __u64 unit_key,
					      __u64 exe_id, __u32 kind, __u32 value, __u64 now)
{
	struct rca_status_key key = {
		.unit_key = unit_key, .exe_id = exe_id, .kind = kind, .value = value
	};
	struct rca_status zero = {}, *s;
	struct task_struct *parent;

	s = map_get_or_init(&exit_status, &key, &zero, RCA_LOST_STATUS_FULL);
	if (!s)
		return;
	__sync_fetch_and_add(&s->count, 1);
	s->last_ns = now;
	s->cgroup_id = cgroup_id;
	/* Who died and who replaces them: only a signal's death is a crash worth naming. */
	if (kind != RCA_STATUS_SIGNAL)
		return;
	parent = BPF_CORE_READ(task, real_parent);
	s->last_ppid = BPF_CORE_READ(parent, tgid);
	__builtin_memcpy(s->comm, comm, RCA_COMM_LEN);
	BPF_CORE_READ_STR_INTO(&s->parent_comm, parent, comm);
}

/* exe_id for a start that never exec'd: its comm, hashed. */
static __always_inline __u64 comm_exe_id(const char comm[RCA_COMM_LEN])
{
	__u64 h = FNV64_BASIS;

	for (int i = 0; i < RCA_COMM_LEN && comm[i]; i++)
		h = (h ^ (unsigned char)comm[i]) * FNV64_PRIME;
	return h | RCA_EXE_ID_COMM;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__u64 now = bpf_ktime_get_boot_ns();
	__u64 cgroup_id, exe_id = 0, lifetime_ns, unit_key = 0;
	__u32 code, signal, failed;
	struct rca_exit_record *rec;
	struct rca_unit_stats *st;
	struct rca_ledger_key lk;
	struct rca_ledger *l, *start_l = NULL;
	struct rca_proc *proc;
	__u64 start_exe = 0;
	char comm[RCA_COMM_LEN] = {};
	const char *name_src;

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
	BPF_CORE_READ_STR_INTO(&comm, task, comm);
	/*
	 * A ledger entry made here, for a process never seen to exec, is named after
	 * its file; read only when the entry is missing (not on every exit).
	 */
	name_src = NULL;

	st = unit_stats_get(task, cgroup_id, now);
	if (st) {
		__sync_fetch_and_add(&st->exits, 1);
		if (failed)
			__sync_fetch_and_add(&st->exits_failed, 1);
		st->last_ns = now;
		unit_key = st->unit_key;
	}

	proc = bpf_map_lookup_elem(&procs, &tgid);
	if (proc) {
		exe_id = proc->exe_id;
		mm_release_unused(task, proc->mm);
		lk.unit_key = unit_key;
		if (proc->flags & RCA_PROC_START_PENDING) {
			/* It entered its unit and died before exec (systemd's 208/STDIN). */
			exe_id = comm_exe_id(comm);
			lk.exe_id = exe_id;
			start_l = ledger_get(&lk, NULL, comm);
			if (start_l)
				ledger_count_start(start_l, proc->start_ns);
			proc->flags = RCA_PROC_STARTED;
			proc->start_exe_id = exe_id;
			name_src = comm;
		}
		if (proc->flags & RCA_PROC_STARTED) {
			start_exe = proc->start_exe_id;
			if (!start_l) {
				lk.exe_id = start_exe;
				start_l = ledger_get_named(&lk, NULL, name_src, task);
			}
			if (start_l) {
				__sync_fetch_and_add(&start_l->start_exits, 1);
				if (failed)
					__sync_fetch_and_add(&start_l->start_exits_failed, 1);
				__sync_fetch_and_add(&start_l->start_lifetime_sum_us, lifetime_ns / 1000);
			}
		}
		bpf_map_delete_elem(&procs, &tgid);
	}

	/* Most started processes end running what they started as: one lookup, not two. */
	if (start_l && exe_id == start_exe) {
		l = start_l;
	} else {
		lk.unit_key = unit_key;
		lk.exe_id = exe_id;
		l = ledger_get_named(&lk, NULL, name_src, task);
	}
	if (l) {
		__u32 b = log2_bucket(lifetime_ns / 1000);

		__sync_fetch_and_add(&l->exits, 1);
		if (failed)
			__sync_fetch_and_add(&l->exits_failed, 1);
		__sync_fetch_and_add(&l->lifetime_sum_us, lifetime_ns / 1000);
		if (b < RCA_LIFETIME_BUCKETS)
			__sync_fetch_and_add(&l->lifetime_hist[b], 1);
		l->last_exit_ns = now;
		l->cgroup_id = cgroup_id;
	}

	if (signal)
		count_exit_status(task, cgroup_id, comm, unit_key, exe_id, RCA_STATUS_SIGNAL, signal,
				  now);
	else
		count_exit_status(task, cgroup_id, comm, unit_key, exe_id, RCA_STATUS_CODE,
				  (code >> 8) & 0xff, now);

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
	__builtin_memcpy(rec->comm, comm, sizeof(rec->comm));
	events_submit(rec);
	return 0;
}
