// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The benchmark's yardstick: on each hook rcatrace uses, a program that only
 * increments one slot of a per-CPU array. Its ns/run (bpf_stats) is the floor
 * any program on that hook pays; rcatrace's programs are compared with it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline int hit(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&hits, &slot);

	if (n)
		*n += 1;
	return 0;
}

SEC("tp_btf/sched_process_fork")
int bare_fork(void *ctx) { return hit(0); }

SEC("tp_btf/sched_process_exec")
int bare_exec(void *ctx) { return hit(1); }

SEC("tp_btf/sched_process_exit")
int bare_exit(void *ctx) { return hit(2); }

SEC("tp_btf/rss_stat")
int bare_rss_stat(void *ctx) { return hit(3); }

SEC("tp_btf/signal_generate")
int bare_signal(void *ctx) { return hit(4); }

SEC("tp_btf/mark_victim")
int bare_oom(void *ctx) { return hit(5); }

/* rcatrace's failed-fork counters are classic tracepoints: compare like with like. */
SEC("tracepoint/syscalls/sys_exit_clone")
int bare_exit_clone(void *ctx) { return hit(6); }

SEC("tracepoint/syscalls/sys_exit_clone3")
int bare_exit_clone3(void *ctx) { return hit(7); }

SEC("tracepoint/syscalls/sys_exit_fork")
int bare_exit_fork(void *ctx) { return hit(8); }

SEC("tracepoint/syscalls/sys_exit_vfork")
int bare_exit_vfork(void *ctx) { return hit(9); }
