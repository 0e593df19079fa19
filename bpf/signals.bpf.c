// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Who killed whom (signal_generate) and the fork-bomb guard (failed clones).
 * Non-fatal signals (SIGCHLD, SIGWINCH, ...) are dropped here, in the kernel,
 * so they never reach the ring buffer.
 */
#include "maps.bpf.h"

/* Signals recorded: bit n set records signal n. Set by the loader (--kill-signals). */
const volatile __u64 targ_kill_signals = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RCA_DEFAULT_MAX_KILL_COUNTS);
	__type(key, struct rca_kill_key);
	__type(value, __u64);
} kill_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RCA_DEFAULT_MAX_FORK_FAILURES);
	__type(key, struct rca_forkfail_key);
	__type(value, __u64);
} fork_failures SEC(".maps");

/* Per-CPU scratch: a kill record is larger than the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rca_kill_record);
} kill_scratch SEC(".maps");

/* info pointer values that are not pointers (include/linux/sched/signal.h). */
#define SEND_SIG_NOINFO 0
#define SEND_SIG_PRIV 1
#define SI_USER 0
#define SI_KERNEL 0x80

static __always_inline void proc_ref(struct rca_proc_ref *ref, struct task_struct *task)
{
	ref->pid = BPF_CORE_READ(task, tgid);
	ref->_pad = 0;
	ref->cgroup_id = task_cgroup_id(task);
	BPF_CORE_READ_STR_INTO(&ref->comm, task, comm);
}

SEC("tp_btf/signal_generate")
int BPF_PROG(signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	struct task_struct *cur = bpf_get_current_task_btf(), *p;
	struct rca_kill_key key = {};
	struct rca_kill_record *rec, *out;
	__u32 zero = 0, by_kernel;
	__s32 si_code = SI_USER;

	if (sig <= 0 || sig >= 64 || !(targ_kill_signals & (1ULL << sig)))
		return 0;
	if ((unsigned long)info == SEND_SIG_PRIV)
		si_code = SI_KERNEL;
	else if ((unsigned long)info != SEND_SIG_NOINFO)
		si_code = BPF_CORE_READ(info, si_code);
	/* SI_USER, SI_TKILL, SI_QUEUE, ... are <= 0: a process sent it. */
	by_kernel = si_code > 0;

	key.target_cgroup_id = task_cgroup_id(task);
	key.sender_cgroup_id = task_cgroup_id(cur);
	key.signal = sig;
	key.by_kernel = by_kernel;
	count_in(&kill_counts, &key, RCA_LOST_KILLS_FULL);

	rec = bpf_map_lookup_elem(&kill_scratch, &zero);
	if (!rec)
		return 0;
	rec->type = RCA_REC_KILL;
	rec->signal = sig;
	rec->result = result;
	rec->by_kernel = by_kernel;
	rec->si_code = si_code;
	rec->time_ns = bpf_ktime_get_boot_ns();
	proc_ref(&rec->sender, cur);
	proc_ref(&rec->target, task);
	/* The sender's ancestry now, while it is alive: it may exit at once. */
	rec->n_lineage = 0;
	p = cur;
	for (int i = 0; i < RCA_LINEAGE_DEPTH; i++) {
		struct task_struct *parent = BPF_CORE_READ(p, real_parent);

		if (!parent || parent == p || BPF_CORE_READ(p, tgid) <= 1)
			break;
		proc_ref(&rec->lineage[i], parent);
		rec->n_lineage = i + 1;
		p = parent;
	}
	out = bpf_ringbuf_reserve(&events, sizeof(*out), 0);
	if (!out) {
		count_lost(RCA_LOST_RINGBUF_KILL);
		return 0;
	}
	__builtin_memcpy(out, rec, sizeof(*out));
	events_submit(out);
	return 0;
}

/*
 * Failed forks, from the exits of the clone family's syscalls: they fire only
 * on those syscalls, unlike raw_syscalls/sys_exit. These are classic
 * tracepoints and need tracefs; the loader mounts it or goes on without them.
 */
static __always_inline int fork_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct rca_forkfail_key key = {};
	long ret = ctx->ret;

	if (ret >= 0)
		return 0;
	key.cgroup_id = bpf_get_current_cgroup_id();
	key.err = (__u32)-ret;
	count_in(&fork_failures, &key, RCA_LOST_FORKFAIL_FULL);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_clone")
int sys_exit_clone(struct trace_event_raw_sys_exit *ctx)
{
	return fork_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_clone3")
int sys_exit_clone3(struct trace_event_raw_sys_exit *ctx)
{
	return fork_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_fork")
int sys_exit_fork(struct trace_event_raw_sys_exit *ctx)
{
	return fork_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_vfork")
int sys_exit_vfork(struct trace_event_raw_sys_exit *ctx)
{
	return fork_exit(ctx);
}
