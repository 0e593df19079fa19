/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The figures rcatrace keeps, per boot, per unit, per executable: what the
 * state file stores, what `dump` prints and what `run` accumulates. Units are
 * keyed by name (a service gets a new cgroup id at every restart), executables
 * by path within their unit.
 */
#ifndef RCATRACE_FIGURES_H
#define RCATRACE_FIGURES_H

#include <stddef.h>
#include <stdint.h>

#include "rcatrace.h"

#define FIG_UNIT_NAME_MAX 256
#define FIG_BOOT_ID_MAX 40
/* Distinct exit codes/signals kept per executable; the rest add to status_other. */
#define FIG_MAX_STATUS 16
/* Bounds that keep a months-long run from growing; overflow is counted. */
#define FIG_MAX_BOOTS 16
#define FIG_MAX_UNITS 4096
#define FIG_MAX_EXES_PER_UNIT 64
/* Where a full unit's further executables are counted; may be the 65th entry. */
#define FIG_OTHER_EXE "(other)"

enum respawn_class {
	RESPAWN_NORMAL = 0,
	RESPAWN_PERIODIC = 1,
	RESPAWN_STORM = 2,
};

struct fig_status {
	uint32_t kind; /* enum rca_status_kind */
	uint32_t value;
	uint64_t count;
};

/*
 * One executable of a unit. starts: processes that entered the unit and ran
 * it first (or, when they died before exec, named by their comm: "(agetty)");
 * execs: every exec of it in the unit, the unit's own work included. exits and
 * the statuses count every process that ended running it; start_* only the
 * started ones, which is what the respawn detector judges.
 */
struct fig_exe {
	char path[RCA_EXE_PATH_LEN];
	uint64_t starts;
	uint64_t execs;
	uint64_t exits;
	uint64_t exits_failed;
	uint64_t start_exits;
	uint64_t start_exits_failed;
	uint64_t start_lifetime_sum_us;
	/* The latest exit by a crash signal: who it was and who keeps replacing it. */
	int64_t crash_last_ms; /* unix ms; 0: none */
	uint32_t crash_signal;
	uint32_t crash_ppid;
	char crash_comm[RCA_COMM_LEN + 1];
	char crash_parent_comm[RCA_COMM_LEN + 1];
	int64_t first_start_ms; /* unix ms; 0 = unknown */
	int64_t last_start_ms;
	int64_t last_exit_ms;
	uint64_t gaps;
	uint64_t gap_sum_ns;
	uint64_t gap_sumsq_ms2;
	uint64_t lifetime_sum_us;
	uint64_t lifetime_hist[RCA_LIFETIME_BUCKETS];
	uint32_t n_status;
	struct fig_status status[FIG_MAX_STATUS];
	uint64_t status_other; /* exits whose code/signal did not fit in status[] */
	/* Detector verdict, as of written time. */
	uint32_t respawn_class;    /* enum respawn_class */
	uint32_t track_plus1;      /* the model's detector track + 1 (0: none); never stored */
	int64_t storm_since_ms;    /* unix ms the current/last storm was flagged; 0 never */
	uint64_t storms;           /* storms flagged so far */
};

/*
 * A unit's resident memory and its growth. Gauges, not counters: a merge keeps
 * the newer sample (sampled_ms), never a sum.
 */
struct fig_memory {
	int64_t sampled_ms;        /* unix ms of these figures; 0 = never sampled */
	uint64_t rss_anon_kib;     /* resident now, or at last sight when gone */
	uint64_t rss_file_kib;
	uint64_t rss_shmem_kib;
	uint64_t rss_peak_kib;     /* highest anon+file+shmem seen */
	double growth_kib_per_s;   /* slope of the fit; NaN: not enough data */
	double growth_fit_r2;      /* how well a line explains the window, 0..1; NaN unknown */
	double growth_window_s;    /* the span the fit covers */
	int64_t exhaustion_eta_s;  /* seconds until the memcg limit or available memory; -1: none */
	uint32_t leak_suspect;     /* 1: sustained growth a line explains well */
	uint32_t gone;             /* 1: no process left; figures frozen at last sight */
	int64_t memcg_usage_bytes; /* -1: the unit has no memory controller */
	int64_t memcg_limit_bytes; /* -1: none, or unlimited */
	/*
	 * The kernel's part of memcg_usage_bytes (slab, stacks, sockets, percpu
	 * on cgroup2; kmem on v1); -1 unknown. A kernel pseudo-unit
	 * (kernel:slab, ...) has its figure in memcg_usage_bytes, and
	 * kernel:dying_cgroups, a count, in count.
	 */
	int64_t kernel_bytes;
	int64_t count; /* -1: not a count */
};

/* Kills a unit received, by sender unit, signal and whether the kernel sent them. */
struct fig_kill_count {
	char sender_unit[FIG_UNIT_NAME_MAX];
	uint32_t signal;
	uint32_t by_kernel;
	uint64_t count;
};

struct fig_errno_count {
	uint32_t err; /* positive errno, e.g. EAGAIN */
	uint64_t count;
};

#define FIG_MAX_KILL_COUNTS 32 /* per unit; the rest add to kill_counts_other */
#define FIG_MAX_ERRNO 8	       /* per unit; the rest add to fork_errnos_other */

struct fig_unit {
	/* "unit", or "MACHINE:unit" for a machine's own units (unit_name_machine() splits it) */
	char name[FIG_UNIT_NAME_MAX];
	uint64_t starts; /* processes that entered the unit from outside it */
	uint64_t forks;
	uint64_t threads;
	uint64_t execs;
	uint64_t exits;
	uint64_t exits_failed;
	int64_t first_ms; /* unix ms */
	int64_t last_ms;
	uint32_t n_exes;
	uint32_t cap_exes;
	struct fig_exe *exes;
	uint64_t exes_dropped; /* executables past FIG_MAX_EXES_PER_UNIT, counts folded in "(other)" */

	struct fig_memory mem;
	uint64_t oom_kills; /* processes of this unit the OOM killer took */

	/* Who killed whom: counters add on merge. */
	uint64_t kills_sent;     /* fatal signals this unit's processes sent to other processes */
	uint64_t kills_received; /* fatal signals this unit's processes received */
	uint32_t n_kill_counts;
	uint32_t cap_kill_counts;
	struct fig_kill_count *kill_counts; /* received, by sender */
	uint64_t kill_counts_other;         /* received kills past FIG_MAX_KILL_COUNTS senders */

	/* Fork-bomb guard. forks_failed and fork_errnos add on merge; the rest are gauges. */
	uint64_t forks_failed;
	uint32_t n_fork_errnos;
	struct fig_errno_count fork_errnos[FIG_MAX_ERRNO];
	uint64_t fork_errnos_other;
	uint32_t fork_storm;         /* 1: forking far faster than it execs, or failing against its limit */
	int64_t fork_storm_since_ms; /* 0: never */
	double fork_rate_per_s;      /* forks per second over the last sample window */
	int64_t procs_alive;         /* -1 unknown */
	int64_t pids_current;        /* -1: no pids controller */
	int64_t pids_max;            /* -1: none, or "max" */
	int64_t pids_events_max;     /* times pids.max refused a fork; -1 unknown */

	/* Crash storm: processes dying of crash signals again and again. Gauges but crash_storms. */
	uint32_t crash_storm;
	int64_t crash_storm_since_ms; /* 0: never */
	uint64_t crash_storms;        /* crash storms flagged so far */
	uint64_t window_crashes;      /* crash exits in the detector's window, at the last sample */
	uint32_t track_plus1;         /* the model's unit track + 1 (0: none); never stored */
};

/* Crash signals: SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGSYS. */
int fig_signal_is_crash(uint32_t sig);
/* Exits of a unit by a crash signal, all executables. */
uint64_t fig_unit_crashes(const struct fig_unit *u);

struct fig_boot {
	char boot_id[FIG_BOOT_ID_MAX];
	int64_t first_ms;
	int64_t last_ms;
	uint32_t n_units;
	uint32_t cap_units;
	struct fig_unit *units;
	uint64_t units_dropped; /* units past FIG_MAX_UNITS */
	/*
	 * Name -> index of units, open addressing; a cache rebuilt on the next
	 * lookup whenever index_n != n_units. Owned: freed and never shared.
	 */
	int32_t *index;
	uint32_t index_cap;
	uint32_t index_n;
};

/* A process as a record names it. */
struct fig_proc_ref {
	uint32_t pid;
	char comm[RCA_COMM_LEN + 1];
	char unit[FIG_UNIT_NAME_MAX];
};

#define FIG_OOM_TOP_UNITS 5
#define FIG_MAX_OOMS 64	   /* newest kept; the rest counted in ooms_dropped */
#define FIG_MAX_KILLS 256  /* newest kept; the rest counted in kills_dropped */
#define FIG_LINEAGE_MAX 6

struct fig_top_unit {
	char unit[FIG_UNIT_NAME_MAX];
	uint64_t rss_kib;
	double growth_kib_per_s;
};

/* One OOM kill, written to disk the moment it is seen. */
#define FIG_OOM_CHURN 4

/* A storm and a unit (or kernel figure) that grew per start of it. */
struct fig_churn_link {
	char storm_unit[FIG_UNIT_NAME_MAX];
	char growing_unit[FIG_UNIT_NAME_MAX]; /* "": the storm, nothing linked to it */
	double kib_per_start;		      /* a count per start for kernel:dying_cgroups */
	double growth_kib;		      /* since the storm began */
	uint64_t starts;		      /* of the storm unit since the storm began */
};

struct fig_oom {
	int64_t time_ms;
	char boot_id[FIG_BOOT_ID_MAX];
	struct fig_proc_ref victim;
	char constraint[8];             /* "memcg" or "global" */
	char memcg[FIG_UNIT_NAME_MAX];  /* the memory cgroup whose limit was hit, "" when global */
	int64_t memcg_limit_bytes;      /* -1 unknown/unlimited */
	int64_t memcg_usage_bytes;      /* -1 unknown */
	uint64_t rss_anon_kib;
	uint64_t rss_file_kib;
	uint64_t rss_shmem_kib;
	int32_t oom_score_adj;
	struct fig_proc_ref trigger;    /* the task whose allocation triggered it */
	uint32_t n_top_rss;
	struct fig_top_unit top_rss[FIG_OOM_TOP_UNITS];     /* by resident memory, just before */
	uint32_t n_top_growth;
	struct fig_top_unit top_growth[FIG_OOM_TOP_UNITS];  /* by growth in the window before */
	/* The storms running then, each with what grew per start of it ("" when nothing did). */
	uint32_t n_churn;
	struct fig_churn_link churn[FIG_OOM_CHURN];
};

/* One fatal signal sent to a process. */
struct fig_kill {
	int64_t time_ms;
	char boot_id[FIG_BOOT_ID_MAX];
	uint32_t signal;
	uint32_t by_kernel; /* 1: the kernel sent it (OOM killer, a fault, the terminal) */
	int32_t result;     /* the kernel's TRACE_SIGNAL_* result: 0 delivered */
	struct fig_proc_ref sender;
	struct fig_proc_ref target;
	uint32_t n_lineage; /* the sender's ancestors, parent first */
	struct fig_proc_ref lineage[FIG_LINEAGE_MAX];
};

/* Everything the state file holds. */
struct fig_state {
	int64_t written_ms;
	uint32_t interval_ms;      /* state rewrite interval of the run that wrote it */
	uint64_t lost[RCA_LOST_KIND_MAX]; /* kernel-side losses, all runs summed */
	uint64_t units_unnamed;    /* units that could not be named (shown as cgroup:<id>) */
	uint64_t boots_dropped;    /* oldest boots dropped past FIG_MAX_BOOTS */
	uint32_t n_boots;          /* boots[n_boots-1] is the newest */
	uint32_t cap_boots;
	struct fig_boot *boots;
	uint32_t n_ooms;           /* oldest first */
	uint32_t cap_ooms;
	struct fig_oom *ooms;
	uint64_t ooms_dropped;
	uint32_t n_kills;          /* oldest first */
	uint32_t cap_kills;
	struct fig_kill *kills;
	uint64_t kills_dropped;
};

void fig_state_init(struct fig_state *s);
void fig_state_free(struct fig_state *s);
/* Deep copy; returns 0 or -ENOMEM (dst is left empty then). */
int fig_state_copy(struct fig_state *dst, const struct fig_state *src);

/*
 * Finds or adds; NULL with errno set when a bound is hit (ENOSPC, counted) or
 * on ENOMEM. Names longer than their field are cut to fit, on lookup as on
 * insert. A new boot past FIG_MAX_BOOTS drops boots[0] (the oldest); a unit
 * past FIG_MAX_UNITS is refused and each refusal adds one to units_dropped;
 * an executable past FIG_MAX_EXES_PER_UNIT gets the FIG_OTHER_EXE entry and
 * adds one to exes_dropped. Adding may move the array: pointers returned
 * earlier for the same parent are then stale.
 */
struct fig_boot *fig_state_boot(struct fig_state *s, const char *boot_id);
struct fig_unit *fig_boot_unit(struct fig_boot *b, const char *name);
struct fig_exe *fig_unit_exe(struct fig_unit *u, const char *path);
const struct fig_boot *fig_state_find_boot(const struct fig_state *s, const char *boot_id);
/* By name through the boot's index (made or remade here when stale): constant time. */
const struct fig_unit *fig_boot_find_unit(const struct fig_boot *b, const char *name);
/* Frees the name index (it is remade when needed); for code that frees a boot's units itself. */
void fig_boot_free_index(struct fig_boot *b);
const struct fig_exe *fig_unit_find_exe(const struct fig_unit *u, const char *path);

/* Adds count to the (kind, value) exit status of e; overflow goes to status_other. */
void fig_exe_add_status(struct fig_exe *e, uint32_t kind, uint32_t value, uint64_t count);

/*
 * Adds src's counters into dst (same unit/exe seen by two runs or two cgroup
 * ids). Times: earliest nonzero first, latest last. Detector fields:
 * respawn_class is src's when src's latest start/exit is not older than
 * dst's, storm_since_ms the later of the two, storms the sum.
 */
void fig_exe_merge(struct fig_exe *dst, const struct fig_exe *src);
/*
 * Adds src and each of its executables into dst. 0, or -ENOMEM when some
 * executable could not be added (the others still are).
 */
int fig_unit_merge(struct fig_unit *dst, const struct fig_unit *src);
/* Adds every unit of src into dst. 0 or -ENOMEM, as above. */
int fig_boot_merge(struct fig_boot *dst, const struct fig_boot *src);

/* Appends, dropping (and counting) the oldest past FIG_MAX_OOMS / FIG_MAX_KILLS. 0 or -ENOMEM. */
int fig_state_add_oom(struct fig_state *s, const struct fig_oom *o);
int fig_state_add_kill(struct fig_state *s, const struct fig_kill *k);
/* Adds count kills from (sender_unit, signal, by_kernel); past the bound to kill_counts_other. */
void fig_unit_add_kills(struct fig_unit *u, const char *sender_unit, uint32_t signal,
			uint32_t by_kernel, uint64_t count);
void fig_unit_add_fork_errno(struct fig_unit *u, uint32_t err, uint64_t count);
/* A fresh fig_memory: sampled_ms 0, NaN growth, -1 for the unknowns. */
void fig_memory_init(struct fig_memory *m);

/* Derived figures. NaN when unknown. */
double fig_exe_period_ms(const struct fig_exe *e);
double fig_exe_period_stdev_ms(const struct fig_exe *e);
/*
 * Lifetime percentile (0..100, nearest rank) from the log2 histogram, in ms:
 * the value of fig_exe_lifetime_bucket_ms() for the bucket holding that rank.
 */
double fig_exe_lifetime_pct_ms(const struct fig_exe *e, double pct);
/* Representative lifetime of a histogram bucket in ms: 0 for bucket 0, else 2^(i-0.5) us. */
double fig_exe_lifetime_bucket_ms(int bucket);
/* Unit-level status: sum over its executables (kind, value) -> count. */
uint64_t fig_unit_status_count(const struct fig_unit *u, uint32_t kind, uint32_t value);

#endif
