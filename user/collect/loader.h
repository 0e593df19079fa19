/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The only module that calls libbpf: open, configure, load, attach, read the maps. */
#ifndef RCATRACE_LOADER_H
#define RCATRACE_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "rcatrace.h"

struct loader;

typedef int (*loader_record_fn)(void *ctx, const void *data, size_t size);

struct loader_opts {
	uint32_t ringbuf_bytes;  /* 0: default */
	uint32_t max_units;      /* 0: default */
	uint32_t self_tgid;      /* not traced: our own process */
	int verbose;             /* libbpf diagnostics on stderr */
	uint64_t kill_signals;   /* bit n: record signal n (0: the default fatal set) */
	loader_record_fn on_record;
	void *ctx;
};

/* The default --kill-signals set: HUP INT QUIT ILL ABRT BUS FPE KILL SEGV TERM XCPU XFSZ SYS. */
#define LOADER_DEFAULT_KILL_SIGNALS                                                              \
	((1ULL << 1) | (1ULL << 2) | (1ULL << 3) | (1ULL << 4) | (1ULL << 6) | (1ULL << 7) |     \
	 (1ULL << 8) | (1ULL << 9) | (1ULL << 11) | (1ULL << 15) | (1ULL << 24) | (1ULL << 25) | \
	 (1ULL << 31))

/* What an optional hook missing on this kernel means for the operator. */
struct loader_missing {
	const char *hook;
	const char *consequence;
	int err; /* 0: the kernel lacks it; else -errno of the attach that failed */
};

/*
 * Opens, configures, loads and attaches every program. NULL with errno set
 * on failure; loader_failed_step() then names the step ("load", "attach
 * sched_process_exec", ...) for the caller's message.
 */
struct loader *loader__new(const struct loader_opts *opts);
const char *loader_failed_step(void);
void loader__free(struct loader *l);

/* Number of attached programs. */
int loader__attached(const struct loader *l);
/* Optional hooks this kernel lacks; *n set to their number. */
const struct loader_missing *loader__missing(const struct loader *l, int *n);
/* 1 if tracefs was mounted by us to reach the syscall tracepoints. */
int loader__mounted_tracefs(const struct loader *l);

/* Runs the task iterator: seeds running processes' memory, reconciles drift. 0 or -errno. */
int loader__sync_memory(struct loader *l);

/* Waits up to timeout_ms for records and hands each to on_record. >= 0 or -errno. */
int loader__poll(struct loader *l, int timeout_ms);

/* Map readers: call fn for each entry; stop and return its value if non-zero. */
typedef int (*loader_unit_fn)(void *ctx, uint64_t cgroup_id, const struct rca_unit_stats *st);
typedef int (*loader_ledger_fn)(void *ctx, const struct rca_ledger_key *key,
				const struct rca_ledger *l);
typedef int (*loader_status_fn)(void *ctx, const struct rca_status_key *key,
				const struct rca_status *st);
int loader__for_each_unit(struct loader *l, loader_unit_fn fn, void *ctx);
int loader__for_each_ledger(struct loader *l, loader_ledger_fn fn, void *ctx);
int loader__for_each_status(struct loader *l, loader_status_fn fn, void *ctx);
typedef int (*loader_mem_fn)(void *ctx, uint64_t cgroup_id, const struct rca_unit_mem *m);
typedef int (*loader_kill_fn)(void *ctx, const struct rca_kill_key *key, uint64_t count);
typedef int (*loader_forkfail_fn)(void *ctx, const struct rca_forkfail_key *key, uint64_t count);
int loader__for_each_mem(struct loader *l, loader_mem_fn fn, void *ctx);
int loader__for_each_kill(struct loader *l, loader_kill_fn fn, void *ctx);
int loader__for_each_forkfail(struct loader *l, loader_forkfail_fn fn, void *ctx);

/* The kernel's leaf name of a cgroup it has seen, and its parent's id. 0 or -ENOENT. */
int loader__unit_leaf(struct loader *l, uint64_t cgroup_id, char *dst, size_t size,
		      uint64_t *ret_parent_id);

/* Kernel-side losses summed over CPUs. */
int loader__read_lost(struct loader *l, uint64_t ret[RCA_LOST_KIND_MAX]);

/*
 * Removes every entry of the cgroups that are gone (ids sorted ascending),
 * after their counts were read: one walk per map for all of them. 0 or -ENOMEM
 * (some keys then stay, to be retired at the next pass).
 */
int loader__forget_cgroups(struct loader *l, const uint64_t *sorted_ids, uint32_t n);

/*
 * Takes out ledger rows idle since before idle_before_ns (CLOCK_BOOTTIME), at
 * most max, with their exit-status rows, handing each to the callbacks so
 * their counts are kept. Rows are keyed by unit, not cgroup: they outlive
 * the cgroups a unit is given, and only idleness retires them. Returns the
 * number of ledger rows taken, or -errno.
 */
int loader__retire_ledger(struct loader *l, uint64_t idle_before_ns, uint32_t max,
			  loader_ledger_fn on_ledger, loader_status_fn on_status, void *ctx);
uint32_t loader__ledger_capacity(const struct loader *l);

/* Entries in unit_stats now, and its capacity. */
int loader__unit_capacity(const struct loader *l, uint32_t *ret_max);

#endif
