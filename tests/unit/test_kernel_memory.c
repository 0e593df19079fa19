// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kernel_memory on fixtures copied from a real host (Linux 6.18, hybrid:
 * cgroup2 at /sys/fs/cgroup/unified without controllers, memory as a v1
 * hierarchy), on damaged copies of them, and on fake trees in a temporary
 * directory. This host has no v2 memory controller: the v2 memory.stat
 * fixture carries the keys and order Linux 6.x writes, with made-up values.
 * Two tests read the real machine, whatever its layout.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kernel_memory.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* /proc/meminfo of the test host, whole. */
static const char MEMINFO_6_18[] = "MemTotal:       24684084 kB\n"
				   "MemFree:        24185232 kB\n"
				   "MemAvailable:   24299800 kB\n"
				   "Buffers:            2348 kB\n"
				   "Cached:           281040 kB\n"
				   "SwapCached:            0 kB\n"
				   "Active:           124680 kB\n"
				   "Inactive:         154876 kB\n"
				   "Active(anon):       1520 kB\n"
				   "Inactive(anon):     3520 kB\n"
				   "Active(file):     123160 kB\n"
				   "Inactive(file):   151356 kB\n"
				   "Unevictable:       12576 kB\n"
				   "Mlocked:           11564 kB\n"
				   "SwapTotal:             0 kB\n"
				   "SwapFree:              0 kB\n"
				   "Zswap:                 0 kB\n"
				   "Zswapped:              0 kB\n"
				   "Dirty:               160 kB\n"
				   "Writeback:             0 kB\n"
				   "AnonPages:          8752 kB\n"
				   "Mapped:            10656 kB\n"
				   "Shmem:              8872 kB\n"
				   "KReclaimable:     110936 kB\n"
				   "Slab:             139632 kB\n"
				   "SReclaimable:     110936 kB\n"
				   "SUnreclaim:        28696 kB\n"
				   "KernelStack:        1384 kB\n"
				   "PageTables:         1564 kB\n"
				   "SecPageTables:         0 kB\n"
				   "NFS_Unstable:          0 kB\n"
				   "Bounce:                0 kB\n"
				   "WritebackTmp:          0 kB\n"
				   "CommitLimit:    12342040 kB\n"
				   "Committed_AS:      54860 kB\n"
				   "VmallocTotal:   34359738367 kB\n"
				   "VmallocUsed:       18436 kB\n"
				   "VmallocChunk:          0 kB\n"
				   "Percpu:             1344 kB\n"
				   "AnonHugePages:         0 kB\n"
				   "ShmemHugePages:        0 kB\n"
				   "ShmemPmdMapped:        0 kB\n"
				   "FileHugePages:     38912 kB\n"
				   "FilePmdMapped:         0 kB\n"
				   "Balloon:               0 kB\n"
				   "HugePages_Total:       0\n"
				   "HugePages_Free:        0\n"
				   "HugePages_Rsvd:        0\n"
				   "HugePages_Surp:        0\n"
				   "Hugepagesize:       2048 kB\n"
				   "Hugetlb:               0 kB\n"
				   "DirectMap4k:       28672 kB\n"
				   "DirectMap2M:     2068480 kB\n"
				   "DirectMap1G:    25165824 kB\n";

/* cgroup.stat of the test host's cgroup2 root (6.18: nr_subsys_* since 6.11). */
static const char CGROUP_STAT_6_18[] = "nr_descendants 0\n"
				       "nr_subsys_perf_event 1\n"
				       "nr_subsys_hugetlb 1\n"
				       "nr_dying_descendants 0\n"
				       "nr_dying_subsys_perf_event 0\n"
				       "nr_dying_subsys_hugetlb 0\n";

/* /proc/cgroups of the test host: 59 memory cgroups for 5 directories. */
static const char PROC_CGROUPS_6_18[] = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
					"cpuset\t3\t1\t1\n"
					"cpu\t1\t1\t1\n"
					"cpuacct\t2\t1\t1\n"
					"blkio\t7\t1\t1\n"
					"memory\t4\t59\t1\n"
					"devices\t5\t1\t1\n"
					"freezer\t6\t1\t1\n"
					"net_cls\t0\t1\t1\n"
					"perf_event\t0\t1\t1\n"
					"net_prio\t0\t1\t1\n"
					"hugetlb\t0\t1\t1\n"
					"pids\t8\t1\t1\n";

/* memory.stat of a v1 leaf cgroup on the test host. */
static const char V1_MEMORY_STAT[] = "cache 78729216\n"
				     "rss 96350208\n"
				     "rss_huge 0\n"
				     "shmem 0\n"
				     "mapped_file 86016\n"
				     "dirty 61440\n"
				     "writeback 0\n"
				     "workingset_refault_anon 0\n"
				     "workingset_refault_file 47105\n"
				     "swap 0\n"
				     "swapcached 0\n"
				     "pgpgin 882078\n"
				     "pgpgout 845768\n"
				     "pgfault 1242113\n"
				     "pgmajfault 337\n"
				     "inactive_anon 96313344\n"
				     "active_anon 36864\n"
				     "inactive_file 33476608\n"
				     "active_file 45252608\n"
				     "unevictable 0\n"
				     "hierarchical_memory_limit 9223372036854771712\n"
				     "hierarchical_memsw_limit 9223372036854771712\n"
				     "total_cache 78729216\n"
				     "total_rss 96350208\n"
				     "total_rss_huge 0\n"
				     "total_shmem 0\n"
				     "total_mapped_file 86016\n"
				     "total_dirty 61440\n"
				     "total_writeback 0\n"
				     "total_workingset_refault_anon 0\n"
				     "total_workingset_refault_file 47105\n"
				     "total_swap 0\n"
				     "total_swapcached 0\n"
				     "total_pgpgin 882078\n"
				     "total_pgpgout 845768\n"
				     "total_pgfault 1242113\n"
				     "total_pgmajfault 337\n"
				     "total_inactive_anon 96313344\n"
				     "total_active_anon 36864\n"
				     "total_inactive_file 33476608\n"
				     "total_active_file 45252608\n"
				     "total_unevictable 0\n";

/* v2 memory.stat: Linux 6.x keys in order, values made up; anon_thp, file_* must not match. */
static const char V2_MEMORY_STAT[] = "anon 1052672\n"
				     "file 4325376\n"
				     "kernel 1200128\n"
				     "kernel_stack 49152\n"
				     "pagetables 126976\n"
				     "sec_pagetables 0\n"
				     "percpu 2880\n"
				     "sock 8192\n"
				     "vmalloc 0\n"
				     "shmem 0\n"
				     "zswap 0\n"
				     "zswapped 0\n"
				     "file_mapped 2285568\n"
				     "file_dirty 0\n"
				     "file_writeback 0\n"
				     "swapcached 0\n"
				     "anon_thp 0\n"
				     "file_thp 0\n"
				     "shmem_thp 0\n"
				     "inactive_anon 1036288\n"
				     "active_anon 16384\n"
				     "inactive_file 2035712\n"
				     "active_file 2289664\n"
				     "unevictable 0\n"
				     "slab_reclaimable 789512\n"
				     "slab_unreclaimable 224160\n"
				     "slab 1013672\n"
				     "workingset_refault_anon 0\n"
				     "pgfault 5123\n";

/* ---- /proc/meminfo ---- */

static void test_meminfo_real(void **state)
{
	struct kernel_meminfo m;

	(void)state;
	assert_int_equal(kernel_memory_parse_meminfo(MEMINFO_6_18, &m), 0);
	assert_int_equal(m.mem_total_kib, 24684084);
	assert_int_equal(m.mem_available_kib, 24299800);
	assert_int_equal(m.slab_kib, 139632);
	assert_int_equal(m.sunreclaim_kib, 28696);
	assert_int_equal(m.kernel_stack_kib, 1384);
	assert_int_equal(m.page_tables_kib, 1564);
	assert_int_equal(m.percpu_kib, 1344);
}

struct meminfo_case {
	const char *name;
	const char *text;
	int rc;
	struct kernel_meminfo want;
};

#define ALL_UNKNOWN { -1, -1, -1, -1, -1, -1, -1 }

static const struct meminfo_case meminfo_cases[] = {
	{ "old kernel: no Percpu, no MemAvailable",
	  "MemTotal:        2048000 kB\nMemFree:  1000 kB\nSlab:  5000 kB\nSUnreclaim: 1200 kB\n"
	  "KernelStack: 900 kB\nPageTables: 3000 kB\n",
	  0, { 2048000, -1, 5000, 1200, 900, 3000, -1 } },
	{ "last line whole without newline", "Percpu:   1344 kB", 0,
	  { -1, -1, -1, -1, -1, -1, 1344 } },
	{ "last line cut in the number", "MemTotal: 100 kB\nPercpu:   13", 0,
	  { 100, -1, -1, -1, -1, -1, -1 } },
	{ "last line cut in the unit", "MemTotal: 100 kB\nSlab: 139632 k", 0,
	  { 100, -1, -1, -1, -1, -1, -1 } },
	{ "number past int64", "Slab: 99999999999999999999999 kB\nMemTotal: 7 kB\n", 0,
	  { 7, -1, -1, -1, -1, -1, -1 } },
	{ "int64 max is kept", "Slab: 9223372036854775807 kB\n", 0,
	  { -1, -1, INT64_MAX, -1, -1, -1, -1 } },
	{ "negative, hex, empty, spaces after", "Slab: -5 kB\nPercpu: 0x10 kB\nMemTotal: kB\n"
	  "PageTables: 12 kB  \n", -EBADMSG, ALL_UNKNOWN },
	{ "a prefix is not the key", "SlabX: 5 kB\nSlab_: 6 kB\nSUnreclaimable: 7 kB\n", -EBADMSG,
	  ALL_UNKNOWN },
	{ "first line of a key wins, even broken", "Slab: x kB\nSlab: 10 kB\nMemTotal: 1 kB\n", 0,
	  { 1, -1, -1, -1, -1, -1, -1 } },
	{ "no unit", "MemTotal: 100\n", -EBADMSG, ALL_UNKNOWN },
	{ "empty", "", -EBADMSG, ALL_UNKNOWN },
	{ "garbage", "\x01\x02:\xff kB\n::::\n\n\n", -EBADMSG, ALL_UNKNOWN },
};

static void test_meminfo_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(meminfo_cases); i++) {
		const struct meminfo_case *c = &meminfo_cases[i];
		struct kernel_meminfo m;

		print_message("  %s\n", c->name);
		memset(&m, 0x5a, sizeof(m));
		assert_int_equal(kernel_memory_parse_meminfo(c->text, &m), c->rc);
		assert_int_equal(m.mem_total_kib, c->want.mem_total_kib);
		assert_int_equal(m.mem_available_kib, c->want.mem_available_kib);
		assert_int_equal(m.slab_kib, c->want.slab_kib);
		assert_int_equal(m.sunreclaim_kib, c->want.sunreclaim_kib);
		assert_int_equal(m.kernel_stack_kib, c->want.kernel_stack_kib);
		assert_int_equal(m.page_tables_kib, c->want.page_tables_kib);
		assert_int_equal(m.percpu_kib, c->want.percpu_kib);
	}
}

static void test_meminfo_null(void **state)
{
	struct kernel_meminfo m;

	(void)state;
	assert_int_equal(kernel_memory_parse_meminfo(NULL, &m), -EINVAL);
	assert_int_equal(kernel_memory_parse_meminfo("MemTotal: 1 kB\n", NULL), -EINVAL);
}

/* ---- cgroup.stat, /proc/cgroups ---- */

static void test_cgroup_stat(void **state)
{
	struct kernel_cgroup_stat s;

	(void)state;
	assert_int_equal(kernel_memory_parse_cgroup_stat(CGROUP_STAT_6_18, &s), 0);
	assert_int_equal(s.nr_descendants, 0);
	assert_int_equal(s.nr_dying_descendants, 0);
	assert_int_equal(s.nr_dying_memory, -1); /* memory is not on cgroup2 here */

	/* A pure v2 host with memory on cgroup2. */
	assert_int_equal(kernel_memory_parse_cgroup_stat("nr_descendants 212\n"
							 "nr_subsys_memory 180\n"
							 "nr_dying_descendants 4031\n"
							 "nr_dying_subsys_memory 4029\n",
							 &s),
			 0);
	assert_int_equal(s.nr_descendants, 212);
	assert_int_equal(s.nr_dying_descendants, 4031);
	assert_int_equal(s.nr_dying_memory, 4029);

	/* Before 6.11; and the last line cut (no newline: the number may be cut). */
	assert_int_equal(kernel_memory_parse_cgroup_stat("nr_descendants 3\nnr_dying_descendants 12",
							 &s),
			 0);
	assert_int_equal(s.nr_descendants, 3);
	assert_int_equal(s.nr_dying_descendants, -1);

	/* Huge, negative, a key as a prefix of another. */
	assert_int_equal(kernel_memory_parse_cgroup_stat("nr_descendants 99999999999999999999\n"
							 "nr_dying_descendants -1\n"
							 "nr_dying_descendants_x 5\n",
							 &s),
			 -EBADMSG);
	assert_int_equal(s.nr_descendants, -1);
	assert_int_equal(s.nr_dying_descendants, -1);
	assert_int_equal(kernel_memory_parse_cgroup_stat("", &s), -EBADMSG);
	assert_int_equal(kernel_memory_parse_cgroup_stat(NULL, &s), -EBADMSG);
	assert_int_equal(kernel_memory_parse_cgroup_stat("nr_descendants 1\n", NULL), -EINVAL);
}

static void test_proc_cgroups(void **state)
{
	struct kernel_proc_cgroups_entry e, keep = { 7, 7, 7 };

	(void)state;
	assert_int_equal(kernel_memory_parse_proc_cgroups(PROC_CGROUPS_6_18, "memory", &e), 0);
	assert_int_equal(e.hierarchy, 4);
	assert_int_equal(e.num_cgroups, 59);
	assert_int_equal(e.enabled, 1);
	assert_int_equal(kernel_memory_parse_proc_cgroups(PROC_CGROUPS_6_18, "hugetlb", &e), 0);
	assert_int_equal(e.hierarchy, 0);

	/* Not listed; a prefix is not the name; a cut or damaged line; ret untouched. */
	e = keep;
	assert_int_equal(kernel_memory_parse_proc_cgroups(PROC_CGROUPS_6_18, "rdma", &e), -ENOENT);
	assert_int_equal(kernel_memory_parse_proc_cgroups(PROC_CGROUPS_6_18, "mem", &e), -ENOENT);
	assert_int_equal(kernel_memory_parse_proc_cgroups("memory\t4\t59", "memory", &e), -EBADMSG);
	assert_int_equal(kernel_memory_parse_proc_cgroups("memory\t4\t59\n", "memory", &e),
			 -EBADMSG);
	assert_int_equal(kernel_memory_parse_proc_cgroups("memory\t4\t59\t1\tx\n", "memory", &e),
			 -EBADMSG);
	assert_int_equal(
		kernel_memory_parse_proc_cgroups("memory\t4\t99999999999999999999\t1\n", "memory",
						 &e),
		-EBADMSG);
	assert_int_equal(kernel_memory_parse_proc_cgroups("memory 4 59 1\n", "memory", &e),
			 -ENOENT);
	assert_int_equal(e.num_cgroups, 7);
	assert_int_equal(kernel_memory_parse_proc_cgroups(NULL, "memory", &e), -EINVAL);
}

/* ---- a unit's memory cgroup ---- */

static void test_memcg_v2(void **state)
{
	struct kernel_memcg m;

	(void)state;
	assert_int_equal(kernel_memory_parse_memcg_v2(V2_MEMORY_STAT, "6815744\n", &m), 0);
	assert_int_equal(m.v2, 1);
	assert_int_equal(m.charged_bytes, 6815744);
	assert_int_equal(m.anon_bytes, 1052672);
	assert_int_equal(m.file_bytes, 4325376);
	assert_int_equal(m.slab_bytes, 1013672);
	assert_int_equal(m.kernel_stack_bytes, 49152);
	assert_int_equal(m.sock_bytes, 8192);
	assert_int_equal(m.percpu_bytes, 2880);
	assert_int_equal(m.kernel_bytes, 1013672 + 49152 + 8192 + 2880);
	assert_int_equal(m.kernel_partial, 0);

	/* Before 5.9: no percpu. The sum says it is partial. memory.current cut. */
	assert_int_equal(kernel_memory_parse_memcg_v2("anon 10\nfile 20\nkernel_stack 30\nslab 40\n"
						      "sock 50\n",
						      "68157", &m),
			 0);
	assert_int_equal(m.charged_bytes, -1);
	assert_int_equal(m.percpu_bytes, -1);
	assert_int_equal(m.kernel_bytes, 120);
	assert_int_equal(m.kernel_partial, 1);

	/* No kernel part at all; a huge one is unknown, not added. */
	assert_int_equal(kernel_memory_parse_memcg_v2("anon 10\nslab 99999999999999999999\n",
						      "4096\n", &m),
			 0);
	assert_int_equal(m.kernel_bytes, -1);
	assert_int_equal(m.kernel_partial, 0);
	assert_int_equal(m.slab_bytes, -1);
	/* Two parts that overflow together: the second is left out, and it says so. */
	assert_int_equal(kernel_memory_parse_memcg_v2("slab 9223372036854775807\nsock 1\n", NULL,
						      &m),
			 0);
	assert_int_equal(m.kernel_bytes, INT64_MAX);
	assert_int_equal(m.kernel_partial, 1);

	assert_int_equal(kernel_memory_parse_memcg_v2(NULL, NULL, &m), -EBADMSG);
	assert_int_equal(m.v2, 1);
	assert_int_equal(m.charged_bytes, -1);
	assert_int_equal(kernel_memory_parse_memcg_v2("", "\n", &m), -EBADMSG);
	assert_int_equal(kernel_memory_parse_memcg_v2("", "12\n13\n", &m), -EBADMSG);
}

static void test_memcg_v1(void **state)
{
	struct kernel_memcg m;

	(void)state;
	assert_int_equal(kernel_memory_parse_memcg_v1(V1_MEMORY_STAT, "176836608\n", "1748992\n", &m),
			 0);
	assert_int_equal(m.v2, 0);
	assert_int_equal(m.charged_bytes, 176836608);
	assert_int_equal(m.anon_bytes, 96350208);
	assert_int_equal(m.file_bytes, 78729216);
	assert_int_equal(m.kernel_bytes, 1748992);
	assert_int_equal(m.slab_bytes, -1);
	assert_int_equal(m.kernel_partial, 0);

	/* total_* win over the local keys; without them the local ones are used. */
	assert_int_equal(kernel_memory_parse_memcg_v1("cache 1\nrss 2\ntotal_cache 10\ntotal_rss 20\n",
						      NULL, NULL, &m),
			 0);
	assert_int_equal(m.anon_bytes, 20);
	assert_int_equal(m.file_bytes, 10);
	assert_int_equal(m.charged_bytes, -1);
	assert_int_equal(m.kernel_bytes, -1);
	assert_int_equal(kernel_memory_parse_memcg_v1("cache 1\nrss_huge 5\nrss 2\n", NULL, NULL, &m),
			 0);
	assert_int_equal(m.anon_bytes, 2);
	assert_int_equal(m.file_bytes, 1);

	/* Cut stat (the cut line is lost, not misread), kmem disabled (no file). */
	assert_int_equal(kernel_memory_parse_memcg_v1("cache 78729216\nrss 963", "4096\n", NULL, &m),
			 0);
	assert_int_equal(m.file_bytes, 78729216);
	assert_int_equal(m.anon_bytes, -1);
	assert_int_equal(m.kernel_bytes, -1);
	assert_int_equal(kernel_memory_parse_memcg_v1("x", "18446744073709551615\n", "-1\n", &m),
			 -EBADMSG);
}

/* ---- fake trees ---- */

struct tree {
	char base[PATH_MAX / 2];
};

static void put(const struct tree *t, const char *rel, const char *content)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->base, rel);
	for (char *p = path + strlen(t->base) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	if (!content) {
		mkdir(path, 0755);
		return;
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->base, sizeof(t->base), "%s/rcatrace-km-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(t->base)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;

	nftw(t->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	return 0;
}

static void path_in(const struct tree *t, const char *rel, char *dst, size_t size)
{
	snprintf(dst, size, "%s/%s", t->base, rel);
}

static void test_count_dirs(void **state)
{
	struct tree *t = *state;
	char dir[PATH_MAX], link[PATH_MAX];

	put(t, "h/cgroup.procs", "");
	put(t, "h/memory.stat", "cache 0\n");
	put(t, "h/system.slice/foo.service/cgroup.procs", "");
	put(t, "h/system.slice/bar.service", NULL);
	put(t, "h/user.slice", NULL);
	put(t, "outside/a/b", NULL);
	path_in(t, "h", dir, sizeof(dir));
	/* A symlink to a tree is not walked: cgroupfs has none, a forged tree might. */
	path_in(t, "h/user.slice/link", link, sizeof(link));
	assert_int_equal(symlink("../../outside", link), 0);

	/* h, system.slice, foo.service, bar.service, user.slice. */
	assert_int_equal(kernel_memory_count_dirs(dir, 100), 5);
	assert_int_equal(kernel_memory_count_dirs(dir, 5), 5);
	assert_int_equal(kernel_memory_count_dirs(dir, 4), -E2BIG);
	assert_int_equal(kernel_memory_count_dirs(dir, 0), -E2BIG);
	path_in(t, "nowhere", dir, sizeof(dir));
	assert_int_equal(kernel_memory_count_dirs(dir, 100), -ENOENT);
	path_in(t, "h/memory.stat", dir, sizeof(dir));
	assert_int_equal(kernel_memory_count_dirs(dir, 100), -ENOTDIR);
	assert_int_equal(kernel_memory_count_dirs(NULL, 100), -EINVAL);
}

static void test_count_dirs_deep(void **state)
{
	struct tree *t = *state;
	char rel[PATH_MAX], dir[PATH_MAX];
	size_t len = 0;

	/* 130 levels below the root: past the 128 allowed, a figure is refused. */
	len += (size_t)snprintf(rel + len, sizeof(rel) - len, "d");
	for (int i = 0; i < 130; i++)
		len += (size_t)snprintf(rel + len, sizeof(rel) - len, "/x");
	put(t, rel, NULL);
	path_in(t, "d", dir, sizeof(dir));
	assert_int_equal(kernel_memory_count_dirs(dir, 1000), -ELOOP);
}

static void fake_opts(const struct tree *t, struct kernel_memory_opts *o, char *proc, char *cg)
{
	path_in(t, "proc", proc, PATH_MAX);
	path_in(t, "cg", cg, PATH_MAX);
	memset(o, 0, sizeof(*o));
	o->proc_root = proc;
	o->cgroup_root = cg;
}

static void test_dying_hybrid(void **state)
{
	struct tree *t = *state;
	struct kernel_memory_opts o;
	struct kernel_dying_cgroups d;
	char proc[PATH_MAX], cg[PATH_MAX], shared[PATH_MAX];

	fake_opts(t, &o, proc, cg);
	put(t, "proc/cgroups", PROC_CGROUPS_6_18);
	put(t, "cg/unified/cgroup.stat", "nr_descendants 40\nnr_dying_descendants 2\n");
	put(t, "cg/memory/cgroup.procs", "");
	put(t, "cg/memory/process_api/a", NULL);
	put(t, "cg/memory/process_api/b", NULL);
	put(t, "cg/memory/process_api/c", NULL);
	assert_int_equal(kernel_memory_read_dying(&o, &d), 0);
	assert_int_equal(d.v2_descendants, 40);
	assert_int_equal(d.v2_dying, 2);
	assert_int_equal(d.v2_dying_memory, -1);
	assert_int_equal(d.v1_memory_cgroups, 59);
	assert_int_equal(d.v1_memory_live, 5);
	assert_int_equal(d.v1_memory_dying, 54);
	assert_int_equal(d.dying, 56);

	/* More directories than cgroups (a race, or a forged tree): 0, not negative. */
	put(t, "proc/cgroups", "memory\t4\t3\t1\n");
	assert_int_equal(kernel_memory_read_dying(&o, &d), 0);
	assert_int_equal(d.v1_memory_dying, 0);
	assert_int_equal(d.dying, 2);

	/* The memory hierarchy elsewhere (a "memory,cpu" mount). */
	put(t, "proc/cgroups", "memory\t4\t10\t1\n");
	put(t, "other/memory,cpu/x", NULL);
	path_in(t, "other/memory,cpu", shared, sizeof(shared));
	o.memory_v1_mount = shared;
	assert_int_equal(kernel_memory_read_dying(&o, &d), 0);
	assert_int_equal(d.v1_memory_live, 2);
	assert_int_equal(d.v1_memory_dying, 8);

	/* Disabled (cgroup_disable=memory): no v1 figure, v2 still read. */
	put(t, "proc/cgroups", "memory\t4\t10\t0\n");
	assert_int_equal(kernel_memory_read_dying(&o, &d), 0);
	assert_int_equal(d.v1_memory_dying, -1);
	assert_int_equal(d.v1_memory_cgroups, -1);
	assert_int_equal(d.dying, 2);
}

static void test_dying_pure_v2(void **state)
{
	struct tree *t = *state;
	struct kernel_memory_opts o;
	struct kernel_dying_cgroups d;
	char proc[PATH_MAX], cg[PATH_MAX];

	fake_opts(t, &o, proc, cg);
	/* memory on cgroup2: hierarchy 0; its num_cgroups is not used. */
	put(t, "proc/cgroups", "memory\t0\t300\t1\n");
	put(t, "cg/cgroup.controllers", "cpu memory pids\n");
	put(t, "cg/cgroup.stat", "nr_descendants 80\nnr_subsys_memory 80\n"
				 "nr_dying_descendants 220\nnr_dying_subsys_memory 219\n");
	put(t, "cg/system.slice", NULL);
	assert_int_equal(kernel_memory_read_dying(&o, &d), 0);
	assert_int_equal(d.v2_descendants, 80);
	assert_int_equal(d.v2_dying, 220);
	assert_int_equal(d.v2_dying_memory, 219);
	assert_int_equal(d.v1_memory_dying, -1);
	assert_int_equal(d.dying, 220);
}

static void test_dying_nothing(void **state)
{
	struct tree *t = *state;
	struct kernel_memory_opts o;
	struct kernel_dying_cgroups d;
	char proc[PATH_MAX], cg[PATH_MAX];

	fake_opts(t, &o, proc, cg);
	/* No /proc/cgroups, no cgroup2: nothing known, nothing made up. */
	assert_int_equal(kernel_memory_read_dying(&o, &d), -ENOENT);
	assert_int_equal(d.dying, -1);
	assert_int_equal(d.v2_dying, -1);
	assert_int_equal(d.v1_memory_dying, -1);
	/* v1 memory listed but its hierarchy not mounted where told. */
	put(t, "proc/cgroups", PROC_CGROUPS_6_18);
	assert_int_equal(kernel_memory_read_dying(&o, &d), -ENOENT);
	assert_int_equal(d.v1_memory_cgroups, -1);
	assert_int_equal(kernel_memory_read_dying(&o, NULL), -EINVAL);
}

static void test_read_meminfo_tree(void **state)
{
	struct tree *t = *state;
	struct kernel_meminfo m = { 0 };
	char proc[PATH_MAX];

	path_in(t, "proc", proc, sizeof(proc));
	assert_int_equal(kernel_memory_read_meminfo(proc, &m), -ENOENT);
	assert_int_equal(m.slab_kib, 0); /* untouched */
	put(t, "proc/meminfo", MEMINFO_6_18);
	assert_int_equal(kernel_memory_read_meminfo(proc, &m), 0);
	assert_int_equal(m.slab_kib, 139632);
	put(t, "proc/meminfo", "nothing here\n");
	assert_int_equal(kernel_memory_read_meminfo(proc, &m), -EBADMSG);
	assert_int_equal(m.slab_kib, 139632);
}

static void test_read_memcg_tree(void **state)
{
	struct tree *t = *state;
	struct kernel_memcg m;
	char dir[PATH_MAX];

	put(t, "v1/foo.service/memory.stat", V1_MEMORY_STAT);
	put(t, "v1/foo.service/memory.usage_in_bytes", "176836608\n");
	put(t, "v1/foo.service/memory.kmem.usage_in_bytes", "1748992\n");
	path_in(t, "v1/foo.service", dir, sizeof(dir));
	assert_int_equal(kernel_memory_read_memcg(dir, &m), 0);
	assert_int_equal(m.v2, 0);
	assert_int_equal(m.charged_bytes, 176836608);
	assert_int_equal(m.kernel_bytes, 1748992);

	put(t, "v2/foo.service/memory.stat", V2_MEMORY_STAT);
	put(t, "v2/foo.service/memory.current", "6815744\n");
	path_in(t, "v2/foo.service", dir, sizeof(dir));
	assert_int_equal(kernel_memory_read_memcg(dir, &m), 0);
	assert_int_equal(m.v2, 1);
	assert_int_equal(m.charged_bytes, 6815744);
	assert_int_equal(m.kernel_bytes, 1073896);

	/* A v2 directory without the memory controller; a FIFO planted as a file. */
	put(t, "v2/bar.service/cgroup.procs", "");
	path_in(t, "v2/bar.service", dir, sizeof(dir));
	memset(&m, 0x5a, sizeof(m));
	assert_int_equal(kernel_memory_read_memcg(dir, &m), -ENOENT);
	assert_int_equal(m.v2, 0x5a5a5a5a);
	put(t, "v2/fifo.service/memory.stat", V2_MEMORY_STAT);
	path_in(t, "v2/fifo.service/memory.current", dir, sizeof(dir));
	assert_int_equal(mkfifo(dir, 0600), 0);
	path_in(t, "v2/fifo.service", dir, sizeof(dir));
	/* Not a regular file: not taken for a v2 memory cgroup at all. */
	assert_int_equal(kernel_memory_read_memcg(dir, &m), -ENOENT);
}

/* ---- the real machine ---- */

static void test_real_machine(void **state)
{
	struct kernel_meminfo m;
	struct kernel_dying_cgroups d;

	(void)state;
	assert_int_equal(kernel_memory_read_meminfo(NULL, &m), 0);
	assert_true(m.mem_total_kib > 0);
	assert_true(m.slab_kib >= m.sunreclaim_kib);
	/* Whatever the layout, something is known and nothing is negative but -1. */
	if (kernel_memory_read_dying(NULL, &d) == 0) {
		assert_true(d.dying >= -1);
		assert_true(d.v1_memory_dying >= -1);
		if (d.v1_memory_dying >= 0)
			assert_int_equal(d.v1_memory_dying,
					 d.v1_memory_cgroups > d.v1_memory_live ?
						 d.v1_memory_cgroups - d.v1_memory_live :
						 0);
	}
}

int main(void)
{
	static const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_meminfo_real),
		cmocka_unit_test(test_meminfo_cases),
		cmocka_unit_test(test_meminfo_null),
		cmocka_unit_test(test_cgroup_stat),
		cmocka_unit_test(test_proc_cgroups),
		cmocka_unit_test(test_memcg_v2),
		cmocka_unit_test(test_memcg_v1),
		cmocka_unit_test(test_real_machine),
	};
	static const struct CMUnitTest trees[] = {
		cmocka_unit_test_setup_teardown(test_count_dirs, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_count_dirs_deep, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_dying_hybrid, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_dying_pure_v2, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_dying_nothing, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_read_meminfo_tree, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_read_memcg_tree, tree_setup, tree_teardown),
	};
	int failed = cmocka_run_group_tests(pure, NULL, NULL);

	failed += cmocka_run_group_tests(trees, NULL, NULL);
	return failed ? 1 : 0;
}
