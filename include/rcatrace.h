/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one ABI shared by the BPF programs (bpf/) and the loader (user/).
 * Fixed-width types and fixed arrays only: the same bytes must mean the
 * same thing to clang -target bpf and to the host compiler.
 */
#ifndef RCATRACE_H
#define RCATRACE_H

#ifndef __VMLINUX_H__ /* BPF side: vmlinux.h has the types already */
#include <linux/types.h>
#endif

#define RCA_COMM_LEN 16
#define RCA_FILENAME_LEN 256
/* Leaf name of a cgroup (kernfs node name), kept so a removed cgroup is still named. */
#define RCA_CGROUP_NAME_LEN 96
/* Executable path kept with each respawn ledger entry. */
#define RCA_EXE_PATH_LEN 128
/* Lifetime histogram: bucket i counts lifetimes in [2^(i-1), 2^i) microseconds. */
#define RCA_LIFETIME_BUCKETS 40

/* Default sizes of the maps user space reads or resizes; the loader may change them before load. */
#define RCA_DEFAULT_MAX_UNITS 4096
#define RCA_DEFAULT_MAX_LEDGER 16384
#define RCA_DEFAULT_MAX_EXIT_STATUS 16384
#define RCA_DEFAULT_RINGBUF_BYTES (512 * 1024)
/* Ancestors of a signal's sender walked at kill time. */
#define RCA_LINEAGE_DEPTH 6

/* Resident memory kinds, as rss_stat reports them. */
enum rca_mem_kind {
	RCA_MEM_ANON = 0,
	RCA_MEM_FILE = 1,
	RCA_MEM_SHMEM = 2,
	RCA_MEM_KINDS = 3,
};

/* How an OOM kill was constrained. */
enum rca_oom_constraint {
	RCA_OOM_GLOBAL = 1, /* the machine ran out */
	RCA_OOM_MEMCG = 2,  /* a memory cgroup hit its limit */
};

/* Ring-buffer records. Every record starts with __u32 type. */
enum rca_record_type {
	RCA_REC_EXEC = 1,
	RCA_REC_EXIT = 2,
	RCA_REC_OOM = 3,
	RCA_REC_KILL = 4,
};

/* Why something was not recorded; indexes of the per-CPU `lost` array. */
enum rca_lost_kind {
	RCA_LOST_RINGBUF_EXEC = 0, /* exec record could not be reserved (counts stay exact) */
	RCA_LOST_RINGBUF_EXIT,     /* exit record could not be reserved (counts stay exact) */
	RCA_LOST_UNITS_FULL,       /* unit_stats full: a unit's counts were not kept */
	RCA_LOST_LEDGER_FULL,      /* respawn_ledger full: an executable's counts were not kept */
	RCA_LOST_STATUS_FULL,      /* exit_status full: an exit's code/signal was not kept */
	RCA_LOST_PROCS_FULL,       /* procs full: a process's exec identity was not kept */
	RCA_LOST_RINGBUF_OOM,      /* OOM record could not be reserved (oom_kills still counted) */
	RCA_LOST_RINGBUF_KILL,     /* kill record could not be reserved (kill_counts stay exact) */
	RCA_LOST_MM_FULL,          /* mm_rss full: a process's memory was not attributed */
	RCA_LOST_KILLS_FULL,       /* kill_counts full: a kill was not counted */
	RCA_LOST_FORKFAIL_FULL,    /* fork_failures full: a failed fork was not counted */
	RCA_LOST_KIND_MAX,
};

/* Kind of an exit_status key: how the process ended. */
enum rca_status_kind {
	RCA_STATUS_CODE = 1,   /* exited with a code (value: 0..255) */
	RCA_STATUS_SIGNAL = 2, /* killed by a signal (value: signal number) */
};

/*
 * unit_stats: exact per-cgroup counters, key = cgroup v2 id. A unit may span
 * several cgroups (its sub-cgroups, and a new cgroup at every restart under
 * systemd); unit_key is the same for all of them.
 */
struct rca_unit_stats {
	__u64 starts;      /* processes that entered the unit from outside it */
	__u64 forks;       /* new processes (thread groups) created in the unit */
	__u64 threads;     /* new threads (not processes) created in the unit */
	__u64 execs;       /* successful execs */
	__u64 exits;       /* processes (thread groups) that ended */
	__u64 exits_failed; /* ... with a non-zero code or a fatal signal */
	__u64 oom_kills;   /* processes the OOM killer chose in this unit */
	__u64 first_ns;    /* CLOCK_BOOTTIME of the first event seen */
	__u64 last_ns;     /* CLOCK_BOOTTIME of the latest event */
	/*
	 * Hash of the unit's cgroup path (its deepest .service or .scope level,
	 * else the cgroup itself): stable across the cgroups a unit is given.
	 */
	__u64 unit_key;
	__u64 parent_id;   /* the parent cgroup's id, to name this one once it is gone */
	char name[RCA_CGROUP_NAME_LEN]; /* kernfs leaf name at first sight */
};

/*
 * respawn_ledger: exact per (unit, executable) figures. Keyed by unit_key, not
 * by cgroup id, so the gap between the last start in a unit's old cgroup and
 * the first in its new one is measured like any other.
 */
struct rca_ledger_key {
	__u64 unit_key;
	__u64 exe_id; /* hash of the executable's device and inode; 0 = unknown */
};

/*
 * exe_id of a start that ended before it could exec (systemd's "(agetty)"
 * failing with 208/STDIN): a hash of its comm with this bit set.
 */
#define RCA_EXE_ID_COMM (1ULL << 63)

struct rca_ledger {
	__u64 starts;          /* starts (entries into the unit) that ran this executable first */
	__u64 execs;           /* every successful exec of it in the unit, work included */
	__u64 exits;           /* processes that ended running this executable */
	__u64 exits_failed;    /* ... with a non-zero code or a fatal signal */
	__u64 start_exits;     /* started processes (see starts) that ended */
	__u64 start_exits_failed;
	__u64 start_lifetime_sum_us;
	__u64 first_start_ns;  /* CLOCK_BOOTTIME */
	__u64 last_start_ns;   /* CLOCK_BOOTTIME */
	__u64 last_exit_ns;    /* CLOCK_BOOTTIME */
	__u64 gaps;            /* number of inter-start gaps summed below */
	__u64 gap_sum_ns;      /* sum of gaps between consecutive starts */
	__u64 gap_sumsq_ms2;   /* sum of squared gaps, in ms^2 (ns^2 would overflow) */
	__u64 lifetime_sum_us;
	__u64 lifetime_hist[RCA_LIFETIME_BUCKETS];
	__u64 cgroup_id;       /* the unit's cgroup at the latest event: names the unit */
	/* The file name of the first exec seen, else the executable's own name, else the comm. */
	char path[RCA_EXE_PATH_LEN];
};

/* exit_status: exact count per (unit, executable, how it ended). */
struct rca_status_key {
	__u64 unit_key;
	__u64 exe_id;
	__u32 kind;  /* enum rca_status_kind */
	__u32 value; /* exit code or signal number */
};

struct rca_status {
	__u64 count;
	__u64 last_ns;   /* CLOCK_BOOTTIME of the latest such exit */
	__u64 cgroup_id; /* its cgroup: names the unit should the ledger entry be missing */
	__u32 last_ppid; /* its parent: for a crash, the process that keeps replacing them */
	__u32 _pad;
	char comm[RCA_COMM_LEN];        /* the latest such process's comm */
	char parent_comm[RCA_COMM_LEN];
};

/* unit_mem: resident pages per unit, key = cgroup v2 id of the mm's owner. */
struct rca_unit_mem {
	__s64 pages[RCA_MEM_KINDS];
};

/* kill_counts: exact count per (target unit, sender unit, signal, by kernel). */
struct rca_kill_key {
	__u64 target_cgroup_id;
	__u64 sender_cgroup_id;
	__u32 signal;
	__u32 by_kernel;
};

/* fork_failures: failed clone/fork/vfork/clone3 per (unit, errno). */
struct rca_forkfail_key {
	__u64 cgroup_id;
	__u32 err; /* positive errno */
	__u32 _pad;
};

struct rca_proc_ref {
	__u32 pid;
	__u32 _pad;
	__u64 cgroup_id;
	char comm[RCA_COMM_LEN];
};

struct rca_oom_record {
	__u32 type; /* RCA_REC_OOM */
	__u32 constraint; /* enum rca_oom_constraint */
	__u64 time_ns;    /* CLOCK_BOOTTIME */
	struct rca_proc_ref victim;
	struct rca_proc_ref trigger; /* the task whose allocation ran out */
	__s64 oom_score_adj;
	__s64 rss_pages[RCA_MEM_KINDS];
	__u64 memcg_limit_bytes; /* of the memcg whose limit was hit; 0 when global */
	__u64 memcg_usage_bytes;
	__u64 memcg_id;          /* its kernfs id (v1 or v2 hierarchy) */
	char memcg_name[RCA_CGROUP_NAME_LEN];
};

struct rca_kill_record {
	__u32 type; /* RCA_REC_KILL */
	__u32 signal;
	__s32 result;    /* TRACE_SIGNAL_*: 0 delivered, 1 ignored, 2 already pending, ... */
	__u32 by_kernel; /* 1: sent by the kernel (OOM killer, a fault, the terminal) */
	__s32 si_code;
	__u32 n_lineage;
	__u64 time_ns;
	struct rca_proc_ref sender;
	struct rca_proc_ref target;
	struct rca_proc_ref lineage[RCA_LINEAGE_DEPTH]; /* the sender's ancestors, parent first */
};

struct rca_exec_record {
	__u32 type; /* RCA_REC_EXEC */
	__u32 pid;
	__u32 ppid;
	__u32 _pad;
	__u64 cgroup_id;
	__u64 time_ns; /* CLOCK_BOOTTIME */
	__u64 exe_id;
	char comm[RCA_COMM_LEN];
	char filename[RCA_FILENAME_LEN];
};

struct rca_exit_record {
	__u32 type; /* RCA_REC_EXIT */
	__u32 pid;
	__u32 ppid;
	__u32 exit_code; /* raw task->exit_code: signal in bits 0-6, core 7, status 8-15 */
	__u64 cgroup_id;
	__u64 time_ns; /* CLOCK_BOOTTIME */
	__u64 lifetime_ns;
	__u64 exe_id;
	char comm[RCA_COMM_LEN];
};

#endif /* RCATRACE_H */
