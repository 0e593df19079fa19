/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Memory beyond process RSS: the machine's kernel figures (/proc/meminfo),
 * the cgroups that were removed but are not freed yet ("dying"), and a
 * unit's own memory cgroup charge with its kernel part.
 *
 * Each figure has a parser that takes the file's text, so tests run on
 * fixtures, and a reader that takes the roots from the caller, so tests run
 * on a fake tree. No heap, no state. Every figure is int64_t; -1 means
 * unknown: the line is missing (an older kernel), cut short, or not a
 * number that fits. Nothing is guessed: a line counts only when it is whole
 * (see each parser).
 */
#ifndef RCATRACE_KERNEL_MEMORY_H
#define RCATRACE_KERNEL_MEMORY_H

#include <stdint.h>

/* ---- /proc/meminfo ------------------------------------------------------ */

/*
 * KiB, as the kernel writes them. Percpu is missing before Linux 4.16,
 * MemAvailable before 3.14; the others are older than any kernel with BTF.
 */
struct kernel_meminfo {
	int64_t mem_total_kib;
	int64_t mem_available_kib;
	int64_t slab_kib;
	int64_t sunreclaim_kib;
	int64_t kernel_stack_kib;
	int64_t page_tables_kib;
	int64_t percpu_kib;
};

/*
 * Parses the text of /proc/meminfo. A line counts only as "Key: N kB"; the
 * first line of a key wins. Returns 0 when at least one figure was read,
 * -EBADMSG when none was (ret still set, all -1), -EINVAL on NULL.
 */
int kernel_memory_parse_meminfo(const char *text, struct kernel_meminfo *ret);

/* Reads <proc_root>/meminfo (proc_root NULL: "/proc"). -errno when unreadable; ret untouched. */
int kernel_memory_read_meminfo(const char *proc_root, struct kernel_meminfo *ret);

/* ---- dying cgroups ------------------------------------------------------ */

/*
 * A removed cgroup whose memory cgroup still holds charges (page cache,
 * slab objects, per-CPU statistics) stays in the kernel, offline, until the
 * last charge goes: hundreds of KiB each on a many-CPU machine. A unit
 * restarted in a loop leaves one behind per restart.
 *
 * cgroup2: the root's cgroup.stat counts them (nr_dying_descendants), and
 * Linux 6.11 and later also count dying memory csses on their own
 * (nr_dying_subsys_memory, from "cgroup: Show # of subsystem CSSes in
 * cgroup.stat", Waiman Long, July 2024; the key is there only when memory
 * is on cgroup2).
 *
 * cgroup v1 (and hybrid hosts, where memory is a v1 hierarchy) has no
 * cgroup.stat. The count comes from /proc/cgroups instead: its num_cgroups
 * for a v1 hierarchy is root->nr_cgrps, raised in cgroup_create() and
 * lowered only in css_free_rwork_fn(), when the cgroup's own css is freed.
 * Every css of a controller holds its cgroup (init_and_link_css() takes
 * cgroup_get_live()), so a dying memory css keeps its cgroup counted after
 * rmdir. The per-controller count proposed in 2024 to replace it (nr_css,
 * T.J. Mercier, "includes online and zombies") counts the same. So:
 *
 *     dying (v1 memory) = num_cgroups - directories in the memory hierarchy
 *
 * the root counting on both sides. Measured on this project's test machine
 * (6.18, hybrid): a removed memory cgroup with 4 MiB of page cache charged
 * raised num_cgroups by one and the walk found no new directory; an empty
 * one, removed, lowered it back at once. The same gap was reported as a bug
 * in 2022 ("cgroup: optimize the account of nr_cgrps", haifeng.xu: lscgroup
 * finds fewer cgroups than /proc/cgroups) and left as it is.
 *
 * Limits of the v1 count:
 * - The two reads are not atomic: a cgroup made or removed during the walk
 *   moves the figure by one each way. It is clamped at 0.
 * - The walk must see the whole hierarchy. In a cgroup namespace, or when
 *   the hierarchy is mounted from a subdirectory (a container's view),
 *   num_cgroups still counts the host's cgroups: the figure is then too
 *   high and means nothing. The caller passes the host's mount.
 * - It counts every dying cgroup of that hierarchy, pinned by memory or by
 *   anything else; on a hierarchy shared with other controllers (a
 *   "memory,cpu" mount) those count too.
 * - Only the memory hierarchy is walked: on v1 it is the memory css that
 *   keeps a removed cgroup alive for long; the others go within moments.
 */
struct kernel_cgroup_stat {
	int64_t nr_descendants;
	int64_t nr_dying_descendants;
	int64_t nr_dying_memory; /* nr_dying_subsys_memory: Linux 6.11+, memory on cgroup2 */
};

/* Parses cgroup.stat ("key N\n" lines). 0, or -EBADMSG when no key was read (all -1). */
int kernel_memory_parse_cgroup_stat(const char *text, struct kernel_cgroup_stat *ret);

struct kernel_proc_cgroups_entry {
	int64_t hierarchy;   /* 0: the controller is on cgroup2 (or on no hierarchy) */
	int64_t num_cgroups;
	int64_t enabled;
};

/*
 * The line of one controller ("memory") in the text of /proc/cgroups
 * ("name\thierarchy\tnum_cgroups\tenabled\n"). 0; -ENOENT when it is not
 * listed; -EBADMSG when its line is not understood; ret untouched on failure.
 */
int kernel_memory_parse_proc_cgroups(const char *text, const char *controller,
				     struct kernel_proc_cgroups_entry *ret);

/*
 * Directories under dir, dir itself included, not following symlinks nor
 * crossing into another file system. A directory that vanishes during the
 * walk is not counted. -E2BIG past max_dirs, -ELOOP deeper than 128 levels
 * (no figure rather than a wrong one), or -errno when dir cannot be opened.
 */
int64_t kernel_memory_count_dirs(const char *dir, uint32_t max_dirs);

struct kernel_memory_opts {
	const char *proc_root;   /* NULL: "/proc" */
	const char *cgroup_root; /* NULL: "/sys/fs/cgroup" */
	/* NULL: <cgroup_root> if cgroup.controllers is there (pure v2), else <root>/unified */
	const char *cgroup2_mount;
	/* The v1 memory hierarchy as the host mounts it. NULL: <cgroup_root>/memory */
	const char *memory_v1_mount;
	uint32_t max_dirs;       /* walk limit; 0: 65536 */
};

struct kernel_dying_cgroups {
	int64_t v2_descendants; /* cgroup.stat of the cgroup2 root; -1 unknown */
	int64_t v2_dying;
	int64_t v2_dying_memory;
	/* The v1 memory hierarchy; all -1 when memory is not on v1 or cannot be counted. */
	int64_t v1_memory_cgroups; /* num_cgroups in /proc/cgroups */
	int64_t v1_memory_live;    /* directories found by the walk */
	int64_t v1_memory_dying;   /* the difference, at least 0 */
	/*
	 * The headline (kernel:dying_cgroups): v2_dying + v1_memory_dying, the
	 * known ones; -1 when neither is known. On a hybrid host a removed
	 * unit leaves a v2 cgroup (freed quickly: no controller on it) and a
	 * v1 memory cgroup: distinct kernel objects, so they add up.
	 */
	int64_t dying;
};

/*
 * Reads what is there: cgroup.stat at the cgroup2 root, and /proc/cgroups
 * plus a walk of the memory hierarchy when memory is on v1 (hierarchy != 0)
 * and enabled. Returns 0 when any figure was read, else -ENOENT; ret is
 * always set.
 */
int kernel_memory_read_dying(const struct kernel_memory_opts *o, struct kernel_dying_cgroups *ret);

/* ---- a unit's memory cgroup --------------------------------------------- */

/*
 * Bytes; -1 unknown. charged: memory.current (v2) or memory.usage_in_bytes
 * (v1, which is approximate: per-CPU charge caches make it up to 64 pages
 * per CPU off). Both count the cgroup and its descendants, so anon and file
 * come from the hierarchical keys too (v2 memory.stat is hierarchical; v1
 * total_rss and total_cache, or rss and cache on a kernel without them).
 *
 * kernel: the memory the kernel itself charged to the unit. v2: slab +
 * kernel_stack + sock + percpu, the parts this kernel reports
 * (kernel_partial = 1 when some are missing, as percpu before Linux 5.9:
 * the sum is then an undercount, never a guess); -1 when none is
 * there. v1: memory.kmem.usage_in_bytes (slab, stacks, page tables and
 * other accounted allocations; socket buffers are kmem.tcp, not read),
 * missing with cgroup.memory=nokmem or CONFIG_MEMCG_KMEM off.
 */
struct kernel_memcg {
	int v2; /* 1: cgroup2 files, 0: v1, -1: neither found */
	int kernel_partial;
	int64_t charged_bytes;
	int64_t anon_bytes;
	int64_t file_bytes;
	int64_t kernel_bytes;
	int64_t slab_bytes; /* v2 parts; -1 on v1 */
	int64_t kernel_stack_bytes;
	int64_t sock_bytes;
	int64_t percpu_bytes;
};

/*
 * v2: the texts of memory.stat and memory.current; v1: of memory.stat,
 * memory.usage_in_bytes and memory.kmem.usage_in_bytes. Any text may be
 * NULL (file missing). Returns 0 when any figure was read, -EBADMSG when
 * none was; ret is always set (v2 field as asked).
 */
int kernel_memory_parse_memcg_v2(const char *stat, const char *current, struct kernel_memcg *ret);
int kernel_memory_parse_memcg_v1(const char *stat, const char *usage, const char *kmem_usage,
				 struct kernel_memcg *ret);

/*
 * Reads the memory cgroup directory dir, v2 when it holds memory.current,
 * v1 when it holds memory.usage_in_bytes. 0; -ENOENT when it holds neither
 * (no memory controller there); -EBADMSG when nothing could be read; ret
 * untouched on failure.
 */
int kernel_memory_read_memcg(const char *dir, struct kernel_memcg *ret);

#endif
