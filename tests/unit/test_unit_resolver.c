// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * unit_resolver: cgroup id -> unit name, without root and without a real
 * cgroup2 mount. Each test builds a fake cgroup tree in a fresh temporary
 * directory; on cgroup2 a cgroup's id is its directory's inode number, so
 * stat(2).st_ino stands in for the id the BPF side would report.
 *
 * Must pass as root and not: as root, open_by_handle_at() on a file system
 * that is not kernfs fails, and the resolver has to fall back to walking
 * the tree just as it does without CAP_DAC_READ_SEARCH.
 */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit_resolver.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID12 "0123456789ab"

/* Ids no fake tree uses: ext4/tmpfs/xfs inode numbers here stay far below 2^40. */
#define UNKNOWN_ID(k) ((UINT64_C(1) << 40) + (uint64_t)(k))

/* The tree every test gets, under <base>/cg. */
static const char *const tree[] = {
	"system.slice/foo.service",
	"system.slice/system-serial\\x2dgetty.slice/serial-getty@ttyS0.service",
	"system.slice/docker-" ID64 ".scope",
	"user.slice/user-1000.slice/session-3.scope",
	"plain/child",
};

struct fixture {
	char base[PATH_MAX]; /* mkdtemp directory, removed in teardown */
	char cg[PATH_MAX];   /* <base>/cg: the fake cgroup2 root */
	const void *row;     /* the table row of this test, if any */
	struct unit_resolver *r; /* freed in teardown, so a failed assertion leaks nothing */
};

static void join(char *dst, size_t size, const char *a, const char *b)
{
	int n = snprintf(dst, size, "%s/%s", a, b);

	assert_true(n > 0 && (size_t)n < size);
}

static void mkdir_p(const char *root, const char *rel)
{
	char path[PATH_MAX];
	size_t rootlen = strlen(root);

	join(path, sizeof(path), root, rel);
	for (char *p = path + rootlen + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		fail_msg("mkdir %s: %s", path, strerror(errno));
}

static uint64_t ino_of(const char *root, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	if (rel[0])
		join(path, sizeof(path), root, rel);
	else
		snprintf(path, sizeof(path), "%s", root);
	if (stat(path, &st))
		fail_msg("stat %s: %s", path, strerror(errno));
	return (uint64_t)st.st_ino;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
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
	if (snprintf(fx->cg, sizeof(fx->cg), "%s/cg", fx->base) >= (int)sizeof(fx->cg) ||
	    mkdir(fx->cg, 0755)) {
		rmdir(fx->base);
		free(fx);
		return -1;
	}
	*state = fx;
	for (size_t i = 0; i < ARRAY_SIZE(tree); i++)
		mkdir_p(fx->cg, tree[i]);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx) {
		unit_resolver__free(fx->r);
		nftw(fx->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(fx);
	}
	return 0;
}

static struct unit_resolver *new_on_tree(struct fixture *fx, size_t max_cache)
{
	struct unit_resolver_opts opts = { .cgroup2_root = fx->cg, .max_cache = max_cache };

	fx->r = unit_resolver__new(&opts);
	if (!fx->r)
		fail_msg("unit_resolver__new(%s): %s", fx->cg, strerror(errno));
	return fx->r;
}

static void assert_stats(const struct unit_resolver *r, uint64_t resolved, uint64_t from_leaf,
			 uint64_t unnamed, uint64_t evictions, uint64_t cached)
{
	struct unit_resolver_stats st;

	unit_resolver__stats(r, &st);
	assert_int_equal(st.resolved, resolved);
	assert_int_equal(st.from_leaf, from_leaf);
	assert_int_equal(st.unnamed, unnamed);
	assert_int_equal(st.evictions, evictions);
	assert_int_equal(st.cached, cached);
}

/* ---- names found in the tree --------------------------------------------- */

struct fs_case {
	const char *name;
	const char *rel; /* directory under the cgroup root; "" is the root */
	const char *want_name;
	const char *want_path;
};

static struct fs_case fs_cases[] = {
	{ .name = "fs: service", .rel = "system.slice/foo.service", .want_name = "foo.service",
	  .want_path = "/system.slice/foo.service" },
	{ .name = "fs: serial getty instance",
	  .rel = "system.slice/system-serial\\x2dgetty.slice/serial-getty@ttyS0.service",
	  .want_name = "serial-getty@ttyS0.service",
	  .want_path = "/system.slice/system-serial\\x2dgetty.slice/serial-getty@ttyS0.service" },
	{ .name = "fs: session scope", .rel = "user.slice/user-1000.slice/session-3.scope",
	  .want_name = "session-3.scope",
	  .want_path = "/user.slice/user-1000.slice/session-3.scope" },
	{ .name = "fs: docker scope", .rel = "system.slice/docker-" ID64 ".scope",
	  .want_name = "docker:" ID12, .want_path = "/system.slice/docker-" ID64 ".scope" },
	{ .name = "fs: slice", .rel = "system.slice", .want_name = "system.slice",
	  .want_path = "/system.slice" },
	{ .name = "fs: plain directory", .rel = "plain/child", .want_name = "/plain/child",
	  .want_path = "/plain/child" },
	{ .name = "fs: the root itself", .rel = "", .want_name = "/", .want_path = "/" },
};

static void test_fs_name(void **state)
{
	struct fixture *fx = *state;
	const struct fs_case *c = fx->row;
	struct unit_resolver *r = new_on_tree(fx, 0);
	uint64_t id = ino_of(fx->cg, c->rel);
	char name[UNIT_NAME_MAX], path[PATH_MAX];
	enum unit_name_source src;

	src = unit_resolver__name(r, id, "ignored-leaf", name, sizeof(name));
	assert_string_equal(name, c->want_name);
	assert_int_equal(src, UNIT_NAME_FS);
	assert_stats(r, 1, 0, 0, 0, 1);
	assert_int_equal(unit_resolver__path(r, id, path, sizeof(path)), 0);
	assert_string_equal(path, c->want_path);
}

/* ---- the root found through mountinfo ------------------------------------ */

enum layout { PURE_V2, HYBRID, BIND_FIRST, SPACE_IN_PATH };

struct mount_case {
	const char *name;
	enum layout layout;
	const char *root_rel; /* where the cgroup2 root is, under <base> */
};

static struct mount_case mount_cases[] = {
	{ .name = "mountinfo: pure v2 host", .layout = PURE_V2, .root_rel = "cg" },
	{ .name = "mountinfo: hybrid host uses unified", .layout = HYBRID,
	  .root_rel = "hy/unified" },
	{ .name = "mountinfo: sub-cgroup bind mount skipped", .layout = BIND_FIRST,
	  .root_rel = "cg" },
	{ .name = "mountinfo: \\040 in the mount point", .layout = SPACE_IN_PATH,
	  .root_rel = "my cgroup root" },
};

/* The mountinfo(5) form of a path: space, tab, newline and backslash as \ooo. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
			fprintf(f, "\\%03o", (unsigned char)*s);
		else
			fputc(*s, f);
	}
}

static void put_line(FILE *f, const char *head, const char *base, const char *rel,
		     const char *tail)
{
	char path[PATH_MAX];

	join(path, sizeof(path), base, rel);
	fputs(head, f);
	put_escaped(f, path);
	fputs(tail, f);
}

static void write_mountinfo(const struct fixture *fx, enum layout layout, char *ret_file,
			    size_t size)
{
	FILE *f;

	join(ret_file, size, fx->base, "mountinfo");
	f = fopen(ret_file, "w");
	assert_non_null(f);
	fputs("22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
	      "23 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n",
	      f);
	switch (layout) {
	case PURE_V2:
		put_line(f, "35 23 0:30 / ", fx->base, "cg",
			 " rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
			 "rw,nsdelegate,memory_recursiveprot\n");
		break;
	case HYBRID:
		put_line(f, "25 23 0:23 / ", fx->base, "hy",
			 " ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n");
		put_line(f, "27 25 0:25 / ", fx->base, "hy/systemd",
			 " rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup "
			 "rw,xattr,name=systemd\n");
		put_line(f, "30 25 0:28 / ", fx->base, "hy/cpu,cpuacct",
			 " rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup "
			 "rw,cpu,cpuacct\n");
		put_line(f, "26 25 0:24 / ", fx->base, "hy/unified",
			 " rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 "
			 "rw,nsdelegate\n");
		break;
	case BIND_FIRST:
		put_line(f, "50 26 0:30 /system.slice ", fx->base, "cg/system.slice",
			 " rw,relatime shared:30 - cgroup2 cgroup2 rw\n");
		put_line(f, "35 23 0:30 / ", fx->base, "cg",
			 " rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw\n");
		break;
	case SPACE_IN_PATH:
		put_line(f, "40 26 0:40 / ", fx->base, "my cgroup root",
			 " rw,relatime shared:20 - cgroup2 cgroup2 rw\n");
		break;
	}
	assert_int_equal(fclose(f), 0);
}

static void test_root_from_mountinfo(void **state)
{
	struct fixture *fx = *state;
	const struct mount_case *c = fx->row;
	char file[PATH_MAX], want_root[PATH_MAX], name[UNIT_NAME_MAX];
	struct unit_resolver_opts opts = { .mountinfo_path = file };
	uint64_t id;

	join(want_root, sizeof(want_root), fx->base, c->root_rel);
	if (c->layout == HYBRID) {
		mkdir_p(fx->base, "hy/systemd");
		mkdir_p(fx->base, "hy/cpu,cpuacct");
	}
	mkdir_p(fx->base, c->root_rel);
	mkdir_p(want_root, "system.slice/bar.service");
	write_mountinfo(fx, c->layout, file, sizeof(file));
	id = ino_of(want_root, "system.slice/bar.service");

	fx->r = unit_resolver__new(&opts);
	if (!fx->r)
		fail_msg("unit_resolver__new(mountinfo %s): %s", file, strerror(errno));
	assert_string_equal(unit_resolver__root(fx->r), want_root);
	assert_int_equal(unit_resolver__name(fx->r, id, NULL, name, sizeof(name)), UNIT_NAME_FS);
	assert_string_equal(name, "bar.service");
}

/* ---- unit_resolver__new() failures --------------------------------------- */

enum new_fail { NO_CGROUP2, ONLY_BIND, NO_MOUNTINFO, MOUNT_POINT_MISSING, MOUNT_POINT_TOO_LONG,
		ROOT_MISSING, ROOT_IS_FILE, ROOT_TOO_LONG };

struct new_fail_case {
	const char *name;
	enum new_fail kind;
	int want_errno;
};

static struct new_fail_case new_fail_cases[] = {
	{ .name = "new: mountinfo without cgroup2", .kind = NO_CGROUP2, .want_errno = ENOENT },
	{ .name = "new: mountinfo with only a sub-cgroup bind mount", .kind = ONLY_BIND,
	  .want_errno = ENOENT },
	{ .name = "new: mountinfo file missing", .kind = NO_MOUNTINFO, .want_errno = ENOENT },
	{ .name = "new: cgroup2 mount point missing", .kind = MOUNT_POINT_MISSING,
	  .want_errno = ENOENT },
	{ .name = "new: cgroup2 mount point longer than PATH_MAX", .kind = MOUNT_POINT_TOO_LONG,
	  .want_errno = ENAMETOOLONG },
	{ .name = "new: cgroup2_root missing", .kind = ROOT_MISSING, .want_errno = ENOENT },
	{ .name = "new: cgroup2_root is a file", .kind = ROOT_IS_FILE, .want_errno = ENOTDIR },
	{ .name = "new: cgroup2_root longer than PATH_MAX", .kind = ROOT_TOO_LONG,
	  .want_errno = ENAMETOOLONG },
};

static void test_new_fails(void **state)
{
	struct fixture *fx = *state;
	const struct new_fail_case *c = fx->row;
	static char long_path[PATH_MAX + 16];
	char file[PATH_MAX], path[PATH_MAX];
	struct unit_resolver_opts opts = { 0 };
	FILE *f = NULL;
	int err;

	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	join(file, sizeof(file), fx->base, "mountinfo");
	if (c->kind == NO_CGROUP2 || c->kind == ONLY_BIND || c->kind == MOUNT_POINT_MISSING ||
	    c->kind == MOUNT_POINT_TOO_LONG) {
		f = fopen(file, "w");
		assert_non_null(f);
		fputs("22 1 0:21 / /proc rw shared:12 - proc proc rw\n", f);
	}
	switch (c->kind) {
	case NO_CGROUP2:
		put_line(f, "30 25 0:28 / ", fx->base, "cg",
			 " rw shared:14 - cgroup cgroup rw,cpu\n");
		break;
	case ONLY_BIND:
		put_line(f, "50 26 0:30 /system.slice ", fx->base, "cg",
			 " rw shared:30 - cgroup2 cgroup2 rw\n");
		break;
	case MOUNT_POINT_MISSING:
		put_line(f, "35 23 0:30 / ", fx->base, "no-such-dir", " rw - cgroup2 cgroup2 rw\n");
		break;
	case MOUNT_POINT_TOO_LONG:
		fprintf(f, "35 23 0:30 / %s rw - cgroup2 cgroup2 rw\n", long_path);
		break;
	case NO_MOUNTINFO:
		break;
	case ROOT_MISSING:
		join(path, sizeof(path), fx->base, "no-such-dir");
		opts.cgroup2_root = path;
		break;
	case ROOT_IS_FILE:
		join(path, sizeof(path), fx->base, "a-file");
		f = fopen(path, "w");
		assert_non_null(f);
		assert_int_equal(fclose(f), 0);
		f = NULL;
		opts.cgroup2_root = path;
		break;
	case ROOT_TOO_LONG:
		opts.cgroup2_root = long_path;
		break;
	}
	if (f)
		assert_int_equal(fclose(f), 0);
	if (!opts.cgroup2_root)
		opts.mountinfo_path = file;

	errno = 0;
	fx->r = unit_resolver__new(&opts);
	err = errno;
	assert_null(fx->r);
	assert_int_equal(err, c->want_errno);
}

/* ---- names of cgroups not in the tree ------------------------------------ */

struct gone_case {
	const char *name;
	const char *leaf;
	const char *want_name; /* NULL: "cgroup:<id>" */
	enum unit_name_source want_src;
};

static struct gone_case gone_cases[] = {
	{ .name = "gone: leaf service", .leaf = "gone.service", .want_name = "gone.service",
	  .want_src = UNIT_NAME_LEAF },
	{ .name = "gone: leaf docker scope", .leaf = "docker-" ID64 ".scope",
	  .want_name = "docker:" ID12, .want_src = UNIT_NAME_LEAF },
	{ .name = "gone: plain leaf", .leaf = "worker", .want_name = ".../worker",
	  .want_src = UNIT_NAME_LEAF },
	{ .name = "gone: no leaf", .leaf = NULL, .want_name = NULL, .want_src = UNIT_NAME_NONE },
	{ .name = "gone: empty leaf", .leaf = "", .want_name = NULL, .want_src = UNIT_NAME_NONE },
};

static void test_gone(void **state)
{
	struct fixture *fx = *state;
	const struct gone_case *c = fx->row;
	struct unit_resolver *r = new_on_tree(fx, 0);
	char name[UNIT_NAME_MAX], again[UNIT_NAME_MAX], want[64];
	enum unit_name_source src, src_again;
	struct unit_resolver_stats st;
	uint64_t id = UNKNOWN_ID(7);

	snprintf(want, sizeof(want), "cgroup:%" PRIu64, id);
	src = unit_resolver__name(r, id, c->leaf, name, sizeof(name));
	/* Later sightings come from the cache, whatever leaf they carry. */
	src_again = unit_resolver__name(r, id, "other.service", again, sizeof(again));
	unit_resolver__stats(r, &st);
	assert_string_equal(name, c->want_name ? c->want_name : want);
	assert_int_equal(src, c->want_src);
	assert_string_equal(again, name);
	assert_int_equal(src_again, c->want_src);
	assert_int_equal(st.resolved, 0);
	assert_int_equal(st.from_leaf, c->want_src == UNIT_NAME_LEAF ? 1 : 0);
	assert_int_equal(st.unnamed, c->want_src == UNIT_NAME_NONE ? 1 : 0);
	assert_int_equal(st.evictions, 0);
	assert_int_equal(st.cached, 1);
}

/* A unit named once keeps its name after its cgroup is removed. */
static void test_removed_keeps_name(void **state)
{
	struct fixture *fx = *state;
	struct unit_resolver *r = new_on_tree(fx, 0);
	char dir[PATH_MAX], name[UNIT_NAME_MAX], again[UNIT_NAME_MAX];
	uint64_t id;

	mkdir_p(fx->cg, "system.slice/crashy.service");
	join(dir, sizeof(dir), fx->cg, "system.slice/crashy.service");
	id = ino_of(dir, "");
	assert_int_equal(unit_resolver__cached(r, id), 0);
	assert_int_equal(unit_resolver__name(r, id, "crashy.service", name, sizeof(name)),
			 UNIT_NAME_FS);
	assert_string_equal(name, "crashy.service");
	assert_int_equal(unit_resolver__cached(r, id), 1);
	assert_int_equal(unit_resolver__exists(r, id), 1);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(unit_resolver__exists(r, id), 0);
	assert_int_equal(unit_resolver__name(r, id, "something-else", again, sizeof(again)),
			 UNIT_NAME_FS);
	assert_string_equal(again, "crashy.service");
	assert_stats(r, 1, 0, 0, 0, 1);
}

/* ---- the bounded cache --------------------------------------------------- */

static void test_eviction_counts(void **state)
{
	struct fixture *fx = *state;
	struct unit_resolver *r = new_on_tree(fx, 4);
	char name[UNIT_NAME_MAX];

	for (int i = 0; i < 10; i++)
		unit_resolver__name(r, UNKNOWN_ID(i), NULL, name, sizeof(name));
	assert_stats(r, 0, 0, 10, 6, 4);
}

/* The least recently used entry goes first: a recent lookup protects an old entry. */
static void test_eviction_is_lru(void **state)
{
	struct fixture *fx = *state;
	struct unit_resolver *r = new_on_tree(fx, 4);
	char name[UNIT_NAME_MAX];

	for (int i = 0; i < 4; i++) /* ids 0 1 2 3 */
		unit_resolver__name(r, UNKNOWN_ID(i), NULL, name, sizeof(name));
	unit_resolver__name(r, UNKNOWN_ID(0), NULL, name, sizeof(name)); /* 0 is now newest */
	assert_stats(r, 0, 0, 4, 0, 4);
	unit_resolver__name(r, UNKNOWN_ID(4), NULL, name, sizeof(name)); /* evicts 1 */
	assert_stats(r, 0, 0, 5, 1, 4);
	assert_int_equal(unit_resolver__cached(r, UNKNOWN_ID(0)), 1);
	assert_int_equal(unit_resolver__cached(r, UNKNOWN_ID(1)), 0);
	assert_int_equal(unit_resolver__cached(r, UNKNOWN_ID(2)), 1);
	assert_int_equal(unit_resolver__cached(r, UNKNOWN_ID(3)), 1);
	assert_int_equal(unit_resolver__cached(r, UNKNOWN_ID(4)), 1);
	/* Asking whether an id is cached does no lookup: nothing is added or counted. */
	assert_stats(r, 0, 0, 5, 1, 4);
	unit_resolver__name(r, UNKNOWN_ID(0), NULL, name, sizeof(name)); /* still cached */
	assert_stats(r, 0, 0, 5, 1, 4);
	unit_resolver__name(r, UNKNOWN_ID(1), NULL, name, sizeof(name)); /* gone: evicts 2 */
	assert_stats(r, 0, 0, 6, 2, 4);
	unit_resolver__name(r, UNKNOWN_ID(3), NULL, name, sizeof(name)); /* still cached */
	assert_stats(r, 0, 0, 6, 2, 4);
	unit_resolver__name(r, UNKNOWN_ID(2), NULL, name, sizeof(name)); /* gone again */
	assert_stats(r, 0, 0, 7, 3, 4);
}

/* An evicted name is looked up afresh: in the tree while the cgroup lives. */
static void test_evicted_entry_resolved_again(void **state)
{
	struct fixture *fx = *state;
	struct unit_resolver *r = new_on_tree(fx, 2);
	uint64_t id = ino_of(fx->cg, "system.slice/foo.service");
	char name[UNIT_NAME_MAX];

	unit_resolver__name(r, id, NULL, name, sizeof(name));
	unit_resolver__name(r, UNKNOWN_ID(1), NULL, name, sizeof(name));
	unit_resolver__name(r, UNKNOWN_ID(2), NULL, name, sizeof(name)); /* evicts foo */
	name[0] = '\0';
	assert_int_equal(unit_resolver__name(r, id, NULL, name, sizeof(name)), UNIT_NAME_FS);
	assert_string_equal(name, "foo.service");
	assert_stats(r, 2, 0, 2, 2, 2);
}

/* max_cache 0 means the default of 16384 entries: 1000 ids evict nothing. */
static void test_default_cache_size(void **state)
{
	struct fixture *fx = *state;
	struct unit_resolver *r = new_on_tree(fx, 0);
	char name[UNIT_NAME_MAX];

	for (int i = 0; i < 1000; i++)
		unit_resolver__name(r, UNKNOWN_ID(i), "x", name, sizeof(name));
	assert_stats(r, 0, 1000, 0, 0, 1000);
}

/* ---- unit_resolver__exists() and small buffers --------------------------- */

struct exists_case {
	const char *name;
	const char *rel; /* NULL: an id no directory has */
	int want;
};

static struct exists_case exists_cases[] = {
	{ .name = "exists: a service", .rel = "system.slice/foo.service", .want = 1 },
	{ .name = "exists: a nested scope", .rel = "user.slice/user-1000.slice/session-3.scope",
	  .want = 1 },
	{ .name = "exists: the root", .rel = "", .want = 1 },
	{ .name = "exists: an unknown id", .rel = NULL, .want = 0 },
};

static void test_exists(void **state)
{
	struct fixture *fx = *state;
	const struct exists_case *c = fx->row;
	struct unit_resolver *r = new_on_tree(fx, 0);
	uint64_t id = c->rel ? ino_of(fx->cg, c->rel) : UNKNOWN_ID(99);

	assert_int_equal(unit_resolver__exists(r, id), c->want);
}

static void test_name_truncated(void **state)
{
	struct fixture *fx = *state;
	struct unit_resolver *r = new_on_tree(fx, 0);
	uint64_t id = ino_of(fx->cg, "system.slice/foo.service");
	char small[4], full[UNIT_NAME_MAX];

	unit_resolver__name(r, id, NULL, small, sizeof(small));
	unit_resolver__name(r, id, NULL, full, sizeof(full));
	assert_string_equal(small, "foo");
	assert_string_equal(full, "foo.service");
}

#define N_TESTS                                                                               \
	(ARRAY_SIZE(fs_cases) + ARRAY_SIZE(mount_cases) + ARRAY_SIZE(new_fail_cases) +        \
	 ARRAY_SIZE(gone_cases) + ARRAY_SIZE(exists_cases) + 6)

int main(void)
{
	static struct CMUnitTest tests[N_TESTS];
	size_t n = 0;

#define ADD_ROWS(table, fn)                                                                   \
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)                                        \
	tests[n++] = (struct CMUnitTest){ .name = table[i].name, .test_func = fn,             \
					  .setup_func = setup, .teardown_func = teardown,     \
					  .initial_state = &table[i] }
#define ADD(label, fn)                                                                        \
	tests[n++] = (struct CMUnitTest){ .name = label, .test_func = fn, .setup_func = setup, \
					  .teardown_func = teardown }

	ADD_ROWS(fs_cases, test_fs_name);
	ADD_ROWS(mount_cases, test_root_from_mountinfo);
	ADD_ROWS(new_fail_cases, test_new_fails);
	ADD_ROWS(gone_cases, test_gone);
	ADD_ROWS(exists_cases, test_exists);
	ADD("removed cgroup keeps its cached name", test_removed_keeps_name);
	ADD("max_cache 4 with 10 ids: 6 evictions", test_eviction_counts);
	ADD("eviction is least recently used", test_eviction_is_lru);
	ADD("evicted entry is resolved again", test_evicted_entry_resolved_again);
	ADD("max_cache 0 is the default size", test_default_cache_size);
	ADD("name truncated to the buffer", test_name_truncated);
	if (n != N_TESTS) {
		fprintf(stderr, "test table miscounted: %zu of %zu\n", n, (size_t)N_TESTS);
		return 1;
	}
	return cmocka_run_group_tests_name("unit_resolver", tests, NULL, NULL);
}
