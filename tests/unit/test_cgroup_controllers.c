// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgroup_controllers on fake trees: each test writes a /proc/PID/cgroup and
 * the controller files it names into a fresh temporary directory, laid out
 * as a hybrid host (v1 pids and memory under <cg>/pids and <cg>/memory, v2 at
 * <cg>/unified) or a pure v2 one (v2 at <cg>). Two tests read the real
 * machine: the test's own pid must read, whatever the layout.
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

#include "cgroup_controllers.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define PID 4242
#define SVC "/system.slice/foo.service"
#define V1_UNLIMITED "9223372036854771712\n"

enum layout {
	HYBRID,       /* cgroup_root <cg>, cgroup2_mount <cg>/unified */
	PURE_V2,      /* cgroup_root <cg>, cgroup2_mount NULL: found from <cg>/cgroup.controllers */
};

/* No /proc/PID at all; a /proc/PID without its cgroup file. */
#define NO_PROCESS NULL
#define NO_CGROUP_FILE ""

struct file_spec {
	const char *rel;     /* under <base>; NULL ends the list */
	const char *content; /* NULL: a directory */
};

struct read_case {
	const char *name;
	enum layout layout;
	const char *proc_cgroup; /* content of <base>/proc/PID/cgroup */
	struct file_spec files[20];
	int rc;
	struct cgroup_figures want; /* checked when rc is 0 */
};

/* Figures unknown; _NOWHERE: the controller not found either. */
#define PIDS_UNKNOWN .pids_current = -1, .pids_max = -1, .pids_events_max = -1
#define MEM_UNKNOWN                                                                           \
	.mem_usage_bytes = -1, .mem_limit_bytes = -1, .mem_failcnt = -1, .mem_oom_kills = -1
#define PIDS_NOWHERE PIDS_UNKNOWN, .pids_v2 = -1
#define MEM_NOWHERE MEM_UNKNOWN, .mem_v2 = -1

#define HYBRID_PROC                                                                           \
	"12:pids:" SVC "\n"                                                                  \
	"11:memory:" SVC "\n"                                                                \
	"4:cpu,cpuacct:" SVC "\n"                                                            \
	"2:name=pids:/named\n"                                                               \
	"1:name=systemd:" SVC "\n"                                                           \
	"0::" SVC "\n"

/* The v2 side of a hybrid host: a directory without controllers. */
#define UNIFIED_DIR                                                                           \
	{ "cg/unified" SVC "/cgroup.controllers", "" },                                       \
	{ "cg/unified" SVC "/cgroup.procs", "4242\n" }

static const struct read_case read_cases[] = {
	{
		.name = "hybrid: v1 pids and memory",
		.layout = HYBRID,
		.proc_cgroup = HYBRID_PROC,
		.files = { UNIFIED_DIR,
			   { "cg/pids" SVC "/pids.current", "7\n" },
			   { "cg/pids" SVC "/pids.max", "32\n" },
			   { "cg/pids" SVC "/pids.events", "max 3\n" },
			   { "cg/memory" SVC "/memory.usage_in_bytes", "1048576\n" },
			   { "cg/memory" SVC "/memory.limit_in_bytes", "67108864\n" },
			   { "cg/memory" SVC "/memory.failcnt", "12\n" },
			   { "cg/memory" SVC "/memory.oom_control",
			     "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n" },
			   /* what the named "pids" hierarchy line points at: never read */
			   { "cg/pids/named/pids.current", "999\n" } },
		.want = { .pids_current = 7, .pids_max = 32, .pids_events_max = 3,
			  .mem_usage_bytes = 1048576, .mem_limit_bytes = 67108864,
			  .mem_failcnt = 12, .mem_oom_kills = 2, .mem_path = SVC, .pids_path = SVC,
			  .mem_v2 = 0, .pids_v2 = 0 },
	},
	{
		.name = "hybrid: v1 unlimited memory, pids.max max",
		.layout = HYBRID,
		.proc_cgroup = HYBRID_PROC,
		.files = { UNIFIED_DIR,
			   { "cg/pids" SVC "/pids.current", "1\n" },
			   { "cg/pids" SVC "/pids.max", "max\n" },
			   { "cg/pids" SVC "/pids.events", "max 0\n" },
			   { "cg/memory" SVC "/memory.usage_in_bytes", "6897664\n" },
			   { "cg/memory" SVC "/memory.limit_in_bytes", V1_UNLIMITED },
			   { "cg/memory" SVC "/memory.failcnt", "0\n" },
			   { "cg/memory" SVC "/memory.oom_control",
			     "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n" } },
		.want = { .pids_current = 1, .pids_max = -1, .pids_events_max = 0,
			  .mem_usage_bytes = 6897664, .mem_limit_bytes = -1, .mem_failcnt = 0,
			  .mem_oom_kills = 0, .mem_path = SVC, .pids_path = SVC, .mem_v2 = 0,
			  .pids_v2 = 0 },
	},
	{
		/* 2^64 - 1 (kernels before 3.19) and 64 KiB pages' maximum: unlimited too. */
		.name = "hybrid: other v1 unlimited spellings",
		.layout = HYBRID,
		.proc_cgroup = "4:memory:/a\n3:pids:/a\n0::/a\n",
		.files = { { "cg/memory/a/memory.usage_in_bytes", "1\n" },
			   { "cg/memory/a/memory.limit_in_bytes", "18446744073709551615\n" },
			   { "cg/pids/a/pids.max", "9223372036854710272\n" } },
		.want = { PIDS_UNKNOWN, .pids_v2 = 0, .pids_path = "/a", .mem_usage_bytes = 1,
			  .mem_limit_bytes = -1, .mem_failcnt = -1, .mem_oom_kills = -1,
			  .mem_path = "/a", .mem_v2 = 0 },
	},
	{
		/* A 1 EiB limit is still a limit. */
		.name = "hybrid: a limit just below the unlimited mark",
		.layout = HYBRID,
		.proc_cgroup = "4:memory:/a\n0::/a\n",
		.files = { { "cg/memory/a/memory.limit_in_bytes", "4611686018427387903\n" } },
		.want = { PIDS_NOWHERE, .mem_usage_bytes = -1,
			  .mem_limit_bytes = 4611686018427387903LL, .mem_failcnt = -1,
			  .mem_oom_kills = -1, .mem_path = "/a", .mem_v2 = 0 },
	},
	{
		.name = "hybrid: memory on v1, pids moved to v2",
		.layout = HYBRID,
		.proc_cgroup = "11:memory:" SVC "\n0::" SVC "\n",
		.files = { { "cg/unified" SVC "/cgroup.controllers", "pids\n" },
			   { "cg/unified" SVC "/pids.current", "3\n" },
			   { "cg/unified" SVC "/pids.max", "100\n" },
			   { "cg/unified" SVC "/pids.events", "max 5\nmax.imposed 6\n" },
			   { "cg/memory" SVC "/memory.usage_in_bytes", "4096\n" } },
		.want = { .pids_current = 3, .pids_max = 100, .pids_events_max = 5,
			  .pids_path = SVC, .pids_v2 = 1, .mem_usage_bytes = 4096,
			  .mem_limit_bytes = -1, .mem_failcnt = -1, .mem_oom_kills = -1,
			  .mem_path = SVC, .mem_v2 = 0 },
	},
	{
		/* This machine's root pids cgroup: v1, but no pids.* files at the root. */
		.name = "hybrid: root cgroups",
		.layout = HYBRID,
		.proc_cgroup = "8:pids:/\n4:memory:/\n0::/\n",
		.files = { { "cg/unified/cgroup.controllers", "" },
			   { "cg/pids/cgroup.procs", "1\n" },
			   { "cg/memory/memory.usage_in_bytes", "123456789\n" },
			   { "cg/memory/memory.limit_in_bytes", V1_UNLIMITED } },
		.want = { PIDS_UNKNOWN, .pids_v2 = 0, .pids_path = "/",
			  .mem_usage_bytes = 123456789, .mem_limit_bytes = -1, .mem_failcnt = -1,
			  .mem_oom_kills = -1, .mem_path = "/", .mem_v2 = 0 },
	},
	{
		.name = "pure v2 with controllers",
		.layout = PURE_V2,
		.proc_cgroup = "0::" SVC "\n",
		.files = { { "cg/cgroup.controllers", "cpuset cpu io memory pids\n" },
			   { "cg" SVC "/cgroup.controllers", "memory pids\n" },
			   { "cg" SVC "/pids.current", "5\n" },
			   { "cg" SVC "/pids.max", "4915\n" },
			   { "cg" SVC "/pids.events", "max 1\n" },
			   { "cg" SVC "/memory.current", "2097152\n" },
			   { "cg" SVC "/memory.max", "134217728\n" },
			   { "cg" SVC "/memory.events",
			     "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n" } },
		.want = { .pids_current = 5, .pids_max = 4915, .pids_events_max = 1,
			  .mem_usage_bytes = 2097152, .mem_limit_bytes = 134217728,
			  .mem_failcnt = 4, .mem_oom_kills = 1, .mem_path = SVC, .pids_path = SVC,
			  .mem_v2 = 1, .pids_v2 = 1 },
	},
	{
		.name = "pure v2: max values",
		.layout = PURE_V2,
		.proc_cgroup = "0::" SVC "\n",
		.files = { { "cg/cgroup.controllers", "memory pids\n" },
			   { "cg" SVC "/pids.current", "2\n" },
			   { "cg" SVC "/pids.max", "max\n" },
			   { "cg" SVC "/memory.current", "8192\n" },
			   { "cg" SVC "/memory.max", "max\n" } },
		.want = { .pids_current = 2, .pids_max = -1, .pids_events_max = -1,
			  .mem_usage_bytes = 8192, .mem_limit_bytes = -1, .mem_failcnt = -1,
			  .mem_oom_kills = -1, .mem_path = SVC, .pids_path = SVC, .mem_v2 = 1,
			  .pids_v2 = 1 },
	},
	{
		/* This machine's v2 side alone: no controllers there, no v1 line. */
		.name = "v2 without controllers, no v1: all unknown",
		.layout = HYBRID,
		.proc_cgroup = "0::" SVC "\n",
		.files = { UNIFIED_DIR },
		.want = { PIDS_NOWHERE, MEM_NOWHERE },
	},
	{
		.name = "v1 lines but their directories gone: all unknown",
		.layout = HYBRID,
		.proc_cgroup = HYBRID_PROC,
		.files = { UNIFIED_DIR, { "cg/pids", NULL }, { "cg/memory", NULL } },
		.want = { PIDS_NOWHERE, MEM_NOWHERE },
	},
	{
		.name = "v1 directories without their files",
		.layout = HYBRID,
		.proc_cgroup = HYBRID_PROC,
		.files = { UNIFIED_DIR, { "cg/pids" SVC, NULL }, { "cg/memory" SVC, NULL } },
		.want = { PIDS_UNKNOWN, MEM_UNKNOWN, .mem_path = SVC, .pids_path = SVC, .mem_v2 = 0,
			  .pids_v2 = 0 },
	},
	{
		.name = "garbage in every file",
		.layout = HYBRID,
		.proc_cgroup = HYBRID_PROC,
		.files = { UNIFIED_DIR,
			   { "cg/pids" SVC "/pids.current", "12abc\n" },
			   { "cg/pids" SVC "/pids.max", "-5\n" },
			   { "cg/pids" SVC "/pids.events", "max x\n" },
			   { "cg/memory" SVC "/memory.usage_in_bytes", "" },
			   { "cg/memory" SVC "/memory.limit_in_bytes", "maximum\n" },
			   { "cg/memory" SVC "/memory.failcnt", "1 2\n" },
			   { "cg/memory" SVC "/memory.oom_control", "oom_kill\nunder_oom 0\n" } },
		.want = { PIDS_UNKNOWN, MEM_UNKNOWN, .mem_path = SVC, .pids_path = SVC, .mem_v2 = 0,
			  .pids_v2 = 0 },
	},
	{
		.name = "garbage: overflow, blanks, two newlines, a directory",
		.layout = HYBRID,
		.proc_cgroup = HYBRID_PROC,
		.files = { UNIFIED_DIR,
			   { "cg/pids" SVC "/pids.current", " 7\n" },
			   { "cg/pids" SVC "/pids.max", "32\n\n" },
			   { "cg/pids" SVC "/pids.events", "maxx 3\nmax\n" },
			   { "cg/memory" SVC "/memory.usage_in_bytes", "18446744073709551616\n" },
			   { "cg/memory" SVC "/memory.limit_in_bytes", "9223372036854775808x\n" },
			   { "cg/memory" SVC "/memory.failcnt", "9223372036854775808\n" },
			   { "cg/memory" SVC "/memory.oom_control", NULL } },
		.want = { PIDS_UNKNOWN, MEM_UNKNOWN, .mem_path = SVC, .pids_path = SVC, .mem_v2 = 0,
			  .pids_v2 = 0 },
	},
	{
		/* A forged line climbing out of the hierarchy is skipped; the others stand. */
		.name = "proc: a path with .. is skipped",
		.layout = HYBRID,
		.proc_cgroup = "11:memory:/../../etc\n12:pids:" SVC "\n0::/\n",
		.files = { { "cg/pids" SVC "/pids.current", "4\n" },
			   { "cg/memory/memory.usage_in_bytes", "1\n" } },
		.want = { MEM_NOWHERE, .pids_current = 4, .pids_max = -1, .pids_events_max = -1,
			  .pids_path = SVC, .pids_v2 = 0 },
	},
	{
		.name = "proc: garbage lines around good ones",
		.layout = HYBRID,
		.proc_cgroup = "hello\n:memory:/x\nx:pids:/x\n12:pids\n\n12:pids:" SVC "\n",
		.files = { { "cg/pids" SVC "/pids.current", "9\n" } },
		.want = { MEM_NOWHERE, .pids_current = 9, .pids_max = -1, .pids_events_max = -1,
			  .pids_path = SVC, .pids_v2 = 0 },
	},
	{
		.name = "proc: no line understood",
		.layout = HYBRID,
		.proc_cgroup = "hello\nworld:\n",
		.rc = -EBADMSG,
	},
	{
		.name = "proc: empty cgroup file",
		.layout = HYBRID,
		.proc_cgroup = "\n",
		.rc = -EBADMSG,
	},
	{
		.name = "proc: the pid does not exist",
		.layout = HYBRID,
		.proc_cgroup = NO_PROCESS,
		.rc = -ESRCH,
	},
	{
		.name = "proc: no cgroup file for a live pid",
		.layout = HYBRID,
		.proc_cgroup = NO_CGROUP_FILE,
		.rc = -ENOENT,
	},
};

struct fixture {
	char base[PATH_MAX / 2]; /* mkdtemp directory, removed in teardown */
	char proc[PATH_MAX];
	char cg[PATH_MAX];
	char unified[PATH_MAX];
	const void *row;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void join(char *dst, size_t size, const char *a, const char *b)
{
	int n = snprintf(dst, size, "%s/%s", a, b);

	assert_true(n > 0 && (size_t)n < size);
}

/* mkdir -p <base>/<rel>, or only its parents. */
static void mkdir_p(const char *base, const char *rel, int parents_only)
{
	char path[PATH_MAX];

	join(path, sizeof(path), base, rel);
	for (char *p = path + strlen(base) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
	if (!parents_only && mkdir(path, 0755) && errno != EEXIST)
		fail_msg("mkdir %s: %s", path, strerror(errno));
}

static void put(const char *base, const char *rel, const char *content)
{
	char path[PATH_MAX];
	FILE *f;

	if (!content) {
		mkdir_p(base, rel, 0);
		return;
	}
	mkdir_p(base, rel, 1);
	join(path, sizeof(path), base, rel);
	f = fopen(path, "we");
	if (!f)
		fail_msg("fopen %s: %s", path, strerror(errno));
	assert_int_equal(fwrite(content, 1, strlen(content), f), strlen(content));
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");

	if (!fx)
		return -1;
	fx->row = *state;
	snprintf(fx->base, sizeof(fx->base), "%s/rcatrace-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fx->base)) {
		free(fx);
		return -1;
	}
	snprintf(fx->proc, sizeof(fx->proc), "%s/proc", fx->base);
	snprintf(fx->cg, sizeof(fx->cg), "%s/cg", fx->base);
	snprintf(fx->unified, sizeof(fx->unified), "%s/cg/unified", fx->base);
	if (mkdir(fx->proc, 0755) || mkdir(fx->cg, 0755)) {
		nftw(fx->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx) {
		nftw(fx->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(fx);
	}
	return 0;
}

static void opts_of(const struct fixture *fx, enum layout layout,
		    struct cgroup_controllers_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->proc_root = fx->proc;
	o->cgroup_root = fx->cg;
	o->cgroup2_mount = layout == HYBRID ? fx->unified : NULL;
}

static void assert_figures(const struct cgroup_figures *got, const struct cgroup_figures *want)
{
	assert_int_equal(got->pids_current, want->pids_current);
	assert_int_equal(got->pids_max, want->pids_max);
	assert_int_equal(got->pids_events_max, want->pids_events_max);
	assert_int_equal(got->mem_usage_bytes, want->mem_usage_bytes);
	assert_int_equal(got->mem_limit_bytes, want->mem_limit_bytes);
	assert_int_equal(got->mem_failcnt, want->mem_failcnt);
	assert_int_equal(got->mem_oom_kills, want->mem_oom_kills);
	assert_string_equal(got->mem_path, want->mem_path);
	assert_string_equal(got->pids_path, want->pids_path);
	assert_int_equal(got->mem_v2, want->mem_v2);
	assert_int_equal(got->pids_v2, want->pids_v2);
}

static void test_read(void **state)
{
	struct fixture *fx = *state;
	const struct read_case *c = fx->row;
	struct cgroup_controllers_opts o;
	struct cgroup_figures got, untouched;
	char rel[64];
	int rc;

	if (c->proc_cgroup) {
		snprintf(rel, sizeof(rel), "%d", PID);
		put(fx->proc, rel, NULL);
		if (*c->proc_cgroup) {
			snprintf(rel, sizeof(rel), "%d/cgroup", PID);
			put(fx->proc, rel, c->proc_cgroup);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(c->files) && c->files[i].rel; i++)
		put(fx->base, c->files[i].rel, c->files[i].content);
	opts_of(fx, c->layout, &o);

	memset(&got, 0x5a, sizeof(got));
	untouched = got;
	rc = cgroup_controllers_read(&o, PID, &got);
	assert_int_equal(rc, c->rc);
	if (rc)
		assert_memory_equal(&got, &untouched, sizeof(got));
	else
		assert_figures(&got, &c->want);
}

/* Bad pids never reach the file system. */
static void test_read_bad_pid(void **state)
{
	struct fixture *fx = *state;
	struct cgroup_controllers_opts o;
	struct cgroup_figures got;

	opts_of(fx, HYBRID, &o);
	assert_int_equal(cgroup_controllers_read(&o, 0, &got), -EINVAL);
	assert_int_equal(cgroup_controllers_read(&o, -1, &got), -EINVAL);
}

/* A path longer than the 256 bytes kept: figures read, path left empty rather than cut. */
static void test_read_long_path(void **state)
{
	struct fixture *fx = *state;
	struct cgroup_controllers_opts o;
	struct cgroup_figures got;
	char seg[151], path[512], rel[600], proc[700];

	memset(seg, 'a', sizeof(seg) - 1);
	seg[sizeof(seg) - 1] = '\0';
	snprintf(path, sizeof(path), "/%s/%s", seg, seg);
	snprintf(rel, sizeof(rel), "cg/memory%s/memory.usage_in_bytes", path);
	put(fx->base, rel, "77\n");
	snprintf(proc, sizeof(proc), "4:memory:%s\n0::/\n", path);
	snprintf(rel, sizeof(rel), "%d/cgroup", PID);
	put(fx->proc, rel, proc);
	opts_of(fx, HYBRID, &o);

	assert_int_equal(cgroup_controllers_read(&o, PID, &got), 0);
	assert_int_equal(got.mem_usage_bytes, 77);
	assert_int_equal(got.mem_v2, 0);
	assert_string_equal(got.mem_path, "");
}

static const struct cgroup_controllers_opts real_hybrid = {
	.proc_root = "/proc",
	.cgroup_root = "/sys/fs/cgroup",
	.cgroup2_mount = "/sys/fs/cgroup/unified",
};

static void assert_sane(const struct cgroup_figures *f)
{
	assert_true(f->pids_current >= -1 && f->pids_max >= -1 && f->pids_events_max >= -1);
	assert_true(f->mem_usage_bytes >= -1 && f->mem_limit_bytes >= -1);
	assert_true(f->mem_failcnt >= -1 && f->mem_oom_kills >= -1);
	assert_true(f->mem_v2 >= -1 && f->mem_v2 <= 1);
	assert_true(f->pids_v2 >= -1 && f->pids_v2 <= 1);
	/* A controller found has a path; one not found has neither path nor figures. */
	if (f->mem_v2 < 0)
		assert_true(!f->mem_path[0] && f->mem_usage_bytes == -1);
	else
		assert_true(f->mem_path[0] == '/' || !f->mem_path[0]);
	if (f->pids_v2 < 0)
		assert_true(!f->pids_path[0] && f->pids_current == -1);
}

/* This very process, on the real machine, with the given roots and with the defaults. */
static void test_real_self(void **state)
{
	struct cgroup_figures f, d;

	(void)state;
	assert_int_equal(cgroup_controllers_read(&real_hybrid, (int)getpid(), &f), 0);
	assert_sane(&f);
	assert_int_equal(cgroup_controllers_read(NULL, (int)getpid(), &d), 0);
	assert_sane(&d);
	/* The defaults find the same cgroups. */
	assert_string_equal(f.mem_path, d.mem_path);
	assert_string_equal(f.pids_path, d.pids_path);
	assert_int_equal(f.mem_v2, d.mem_v2);
	assert_int_equal(f.mem_limit_bytes, d.mem_limit_bytes);
}

static void test_real_gone(void **state)
{
	struct cgroup_figures f;
	long pid_max = 0;
	FILE *pm = fopen("/proc/sys/kernel/pid_max", "re");

	(void)state;
	assert_non_null(pm);
	assert_int_equal(fscanf(pm, "%ld", &pid_max), 1);
	fclose(pm);
	assert_true(pid_max > 0 && pid_max < INT_MAX);
	/* No pid is ever above pid_max. */
	assert_int_equal(cgroup_controllers_read(&real_hybrid, (int)pid_max + 1, &f), -ESRCH);
}

/* A cgroup directory: its process count, and figures through its first process. */
static void test_read_dir(void **state)
{
	char dir[] = "/tmp/rcatrace-cgdir-XXXXXX", path[64];
	struct cgroup_figures f;
	int64_t procs = -1;
	FILE *p;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	/* Empty: no process to read the controllers through. */
	p = fopen(path, "w");
	assert_non_null(p);
	fclose(p);
	assert_int_equal(cgroup_controllers_read_dir(&real_hybrid, dir, &f, &procs), 0);
	assert_int_equal(procs, 0);
	/* Our own pid twice: two processes, figures read through the first. */
	p = fopen(path, "w");
	assert_non_null(p);
	fprintf(p, "%d\n%d\n", (int)getpid(), (int)getpid());
	fclose(p);
	assert_int_equal(cgroup_controllers_read_dir(&real_hybrid, dir, &f, &procs), 1);
	assert_int_equal(procs, 2);
	assert_sane(&f);
	unlink(path);
	rmdir(dir);
	/* Gone. */
	assert_int_equal(cgroup_controllers_read_dir(&real_hybrid, dir, &f, &procs), -ENOENT);
}

#define N_TESTS (ARRAY_SIZE(read_cases) + 5)

int main(void)
{
	static struct CMUnitTest tests[N_TESTS];
	size_t n = 0;

#define ADD_ROWS(table, fn)                                                                   \
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)                                        \
	tests[n++] = (struct CMUnitTest){ .name = table[i].name, .test_func = fn,             \
					  .setup_func = setup, .teardown_func = teardown,     \
					  .initial_state = (void *)&table[i] }
#define ADD(label, fn)                                                                        \
	tests[n++] = (struct CMUnitTest){ .name = label, .test_func = fn, .setup_func = setup, \
					  .teardown_func = teardown }

	ADD_ROWS(read_cases, test_read);
	ADD("pid 0 and -1: -EINVAL", test_read_bad_pid);
	ADD("path too long to keep: figures read, path empty", test_read_long_path);
	ADD("real machine: own pid reads", test_real_self);
	ADD("real machine: pid above pid_max is -ESRCH", test_real_gone);
	ADD("a cgroup directory: processes counted, figures through the first", test_read_dir);
	if (n != N_TESTS) {
		fprintf(stderr, "test table miscounted: %zu of %zu\n", n, (size_t)N_TESTS);
		return 1;
	}
	return cmocka_run_group_tests_name("cgroup_controllers", tests, NULL, NULL);
}
