// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_controllers.h"
#include "kernel_memory.h"
#include "small_file.h"

#define DEFAULT_PROC_ROOT "/proc"
#define DEFAULT_CGROUP_ROOT "/sys/fs/cgroup"

/*
 * A v1 limit this high is no limit: v1 writes "unlimited" as the page
 * counter's maximum in bytes (9223372036854771712 with 4 KiB pages, a little
 * less with 64 KiB ones), and kernels before 3.19 as 2^64 - 1.
 */
#define UNLIMITED_FROM (UINT64_C(1) << 62)

/* /proc/PID/cgroup: one line per hierarchy, 13 or so; paths up to PATH_MAX each is absurd. */
#define PROC_CGROUP_MAX 16384
/* Any controller file read here: a number, or a few "key N" lines. */
#define SMALL_FILE_MAX 1024

struct roots {
	const char *proc;
	const char *cgroup;
	char cgroup2[PATH_MAX];
};

static int file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int dir_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int roots_of(const struct cgroup_controllers_opts *o, struct roots *r)
{
	char probe[PATH_MAX];
	int n;

	r->proc = o && o->proc_root ? o->proc_root : DEFAULT_PROC_ROOT;
	r->cgroup = o && o->cgroup_root ? o->cgroup_root : DEFAULT_CGROUP_ROOT;
	if (o && o->cgroup2_mount)
		n = snprintf(r->cgroup2, sizeof(r->cgroup2), "%s", o->cgroup2_mount);
	else if (snprintf(probe, sizeof(probe), "%s/cgroup.controllers", r->cgroup) <
			 (int)sizeof(probe) &&
		 file_exists(probe))
		n = snprintf(r->cgroup2, sizeof(r->cgroup2), "%s", r->cgroup);
	else
		n = snprintf(r->cgroup2, sizeof(r->cgroup2), "%s/unified", r->cgroup);
	return n < 0 || (size_t)n >= sizeof(r->cgroup2) ? -ENAMETOOLONG : 0;
}


/* Decimal digits, then only a newline or nothing. Returns 0 or -1. */
static int parse_u64(const char *s, const char *end, uint64_t *ret)
{
	uint64_t v = 0;
	const char *p = s;

	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			return -1;
	}
	if (p == s)
		return -1;
	if (p < end && *p == '\n')
		p++;
	if (p != end)
		return -1;
	*ret = v;
	return 0;
}

static int64_t count_of(const char *s, const char *end)
{
	uint64_t v;

	if (parse_u64(s, end, &v) < 0 || v > INT64_MAX)
		return -1;
	return (int64_t)v;
}

/* "max" or a huge v1 value: none, -1. */
static int64_t limit_of(const char *s, const char *end)
{
	uint64_t v;

	if ((end - s == 3 || (end - s == 4 && s[3] == '\n')) && !memcmp(s, "max", 3))
		return -1;
	if (parse_u64(s, end, &v) < 0 || v >= UNLIMITED_FROM)
		return -1;
	return (int64_t)v;
}

/* The N of a "key N" line; -1 without one. */
static int64_t keyed_of(const char *buf, const char *key)
{
	size_t klen = strlen(key);

	for (const char *line = buf; *line;) {
		const char *nl = strchr(line, '\n'), *end = nl ? nl : line + strlen(line);

		if ((size_t)(end - line) > klen && !memcmp(line, key, klen) && line[klen] == ' ')
			return count_of(line + klen + 1, end);
		line = nl ? nl + 1 : end;
	}
	return -1;
}

enum value_kind { VALUE_COUNT, VALUE_LIMIT, VALUE_KEYED };

static int64_t read_value(const char *dir, const char *file, enum value_kind kind, const char *key)
{
	char path[PATH_MAX], buf[SMALL_FILE_MAX];
	ssize_t len;
	int n;

	n = snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	len = small_file_read(path, buf, sizeof(buf));
	if (len < 0)
		return -1;
	switch (kind) {
	case VALUE_COUNT:
		return count_of(buf, buf + len);
	case VALUE_LIMIT:
		return limit_of(buf, buf + len);
	case VALUE_KEYED:
		/* A NUL inside would hide the lines after it: not a file the kernel writes. */
		if (strlen(buf) != (size_t)len)
			return -1;
		return keyed_of(buf, key);
	}
	return -1;
}

static int file_in(const char *dir, const char *file)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", dir, file);

	return n > 0 && (size_t)n < sizeof(path) && file_exists(path);
}

/*
 * A cgroup path as the kernel gives it: absolute, and nothing that climbs
 * out of the hierarchy (no cgroup can be named ".." or ".", so these come
 * only from a forged file).
 */
static int path_ok(const char *path)
{
	if (path[0] != '/')
		return 0;
	for (const char *p = path; *p; p++) {
		if (*p == '\n')
			return 0;
		if (p[0] == '/' && p[1] == '.' &&
		    (p[2] == '/' || !p[2] || (p[2] == '.' && (p[3] == '/' || !p[3]))))
			return 0;
	}
	return 1;
}

/* <base>[/<sub>]<path>, the root path "/" adding nothing. */
static int join_cgroup(char *dst, size_t size, const char *base, const char *sub, const char *path)
{
	int n = snprintf(dst, size, "%s%s%s%s", base, sub ? "/" : "", sub ? sub : "",
			 strcmp(path, "/") ? path : "");

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* A v1 cgroup directory: a v2 one always holds cgroup.controllers. */
static int v1_dir(const char *dir)
{
	return dir_exists(dir) && !file_in(dir, "cgroup.controllers");
}

static void set_path(char *dst, size_t size, const char *path)
{
	size_t len = strlen(path);

	if (len >= size)
		len = 0; /* a cut path would name another cgroup */
	memcpy(dst, path, len);
	dst[len] = '\0';
}

/* Is name one of the comma-separated controllers in list[0, len)? */
static int lists_controller(const char *list, size_t len, const char *name)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < len;) {
		const char *c = memchr(list + i, ',', len - i);
		size_t end = c ? (size_t)(c - list) : len;

		if (end - i == nlen && !memcmp(list + i, name, nlen))
			return 1;
		i = end + 1;
	}
	return 0;
}

/*
 * Splits buf (modified: paths are NUL-terminated in place) into the v2 path
 * and the v1 paths of pids and memory. Returns the number of lines
 * understood.
 */
static int parse_proc_cgroup(char *buf, const char **ret_v2, const char **ret_pids,
			     const char **ret_mem)
{
	int understood = 0;

	for (char *line = buf; *line;) {
		char *nl = strchr(line, '\n'), *c1, *c2, *p;

		if (nl)
			*nl = '\0';
		c1 = strchr(line, ':');
		c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c1 && c2 && c1 > line) {
			int digits = 1;

			for (p = line; p < c1; p++)
				digits &= *p >= '0' && *p <= '9';
			if (digits && path_ok(c2 + 1)) {
				size_t len = (size_t)(c2 - c1 - 1);
				int v2 = c1 - line == 1 && line[0] == '0' && len == 0;

				understood++;
				if (v2)
					*ret_v2 = c2 + 1;
				if (!v2 && lists_controller(c1 + 1, len, "pids"))
					*ret_pids = c2 + 1;
				if (!v2 && lists_controller(c1 + 1, len, "memory"))
					*ret_mem = c2 + 1;
			}
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return understood;
}

static void read_pids(const struct roots *r, const char *v1_path, const char *v2_path,
		      struct cgroup_figures *f)
{
	char dir[PATH_MAX];

	if (v1_path && !join_cgroup(dir, sizeof(dir), r->cgroup, "pids", v1_path) && v1_dir(dir)) {
		f->pids_v2 = 0;
		set_path(f->pids_path, sizeof(f->pids_path), v1_path);
	} else if (v2_path && !join_cgroup(dir, sizeof(dir), r->cgroup2, NULL, v2_path) &&
		   (file_in(dir, "pids.current") || file_in(dir, "pids.max"))) {
		f->pids_v2 = 1;
		set_path(f->pids_path, sizeof(f->pids_path), v2_path);
	} else {
		return;
	}
	/* The same three files on both. */
	f->pids_current = read_value(dir, "pids.current", VALUE_COUNT, NULL);
	f->pids_max = read_value(dir, "pids.max", VALUE_LIMIT, NULL);
	f->pids_events_max = read_value(dir, "pids.events", VALUE_KEYED, "max");
}

static void read_memory_v1(const char *dir, struct cgroup_figures *f)
{
	f->mem_usage_bytes = read_value(dir, "memory.usage_in_bytes", VALUE_COUNT, NULL);
	f->mem_limit_bytes = read_value(dir, "memory.limit_in_bytes", VALUE_LIMIT, NULL);
	f->mem_failcnt = read_value(dir, "memory.failcnt", VALUE_COUNT, NULL);
	f->mem_oom_kills = read_value(dir, "memory.oom_control", VALUE_KEYED, "oom_kill");
}

static void read_memory_v2(const char *dir, struct cgroup_figures *f)
{
	f->mem_usage_bytes = read_value(dir, "memory.current", VALUE_COUNT, NULL);
	f->mem_limit_bytes = read_value(dir, "memory.max", VALUE_LIMIT, NULL);
	f->mem_failcnt = read_value(dir, "memory.events", VALUE_KEYED, "max");
	f->mem_oom_kills = read_value(dir, "memory.events", VALUE_KEYED, "oom_kill");
}

static int v2_memory_dir(const char *dir)
{
	return file_in(dir, "memory.current") || file_in(dir, "memory.max");
}

static void read_memory(const struct roots *r, const char *v1_path, const char *v2_path,
			struct cgroup_figures *f)
{
	char dir[PATH_MAX];

	if (v1_path && !join_cgroup(dir, sizeof(dir), r->cgroup, "memory", v1_path) &&
	    v1_dir(dir)) {
		f->mem_v2 = 0;
		set_path(f->mem_path, sizeof(f->mem_path), v1_path);
		read_memory_v1(dir, f);
	} else if (v2_path && !join_cgroup(dir, sizeof(dir), r->cgroup2, NULL, v2_path) &&
		   v2_memory_dir(dir)) {
		f->mem_v2 = 1;
		set_path(f->mem_path, sizeof(f->mem_path), v2_path);
		read_memory_v2(dir, f);
	} else {
		return;
	}
	/* The kernel's part of the charge: what a unit costs beyond its processes' RSS. */
	struct kernel_memcg mc;

	if (kernel_memory_read_memcg(dir, &mc) == 0)
		f->mem_kernel_bytes = mc.kernel_bytes;
}

static void figures_unknown(struct cgroup_figures *f)
{
	memset(f, 0, sizeof(*f));
	f->pids_current = f->pids_max = f->pids_events_max = -1;
	f->mem_usage_bytes = f->mem_limit_bytes = f->mem_failcnt = f->mem_oom_kills = -1;
	f->mem_kernel_bytes = -1;
	f->mem_v2 = f->pids_v2 = -1;
}

int cgroup_controllers_read(const struct cgroup_controllers_opts *o, int pid,
			    struct cgroup_figures *ret)
{
	const char *v2 = NULL, *v1_pids = NULL, *v1_mem = NULL;
	char path[PATH_MAX], buf[PROC_CGROUP_MAX];
	struct cgroup_figures f;
	struct roots r;
	ssize_t len;
	int err, n;

	if (pid <= 0)
		return -EINVAL;
	err = roots_of(o, &r);
	if (err)
		return err;
	n = snprintf(path, sizeof(path), "%s/%d/cgroup", r.proc, pid);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	len = small_file_read(path, buf, sizeof(buf));
	if (len == -ENOENT) {
		/* No such process, or a /proc without cgroup files (no cgroups at all). */
		snprintf(path, sizeof(path), "%s/%d", r.proc, pid);
		return dir_exists(path) ? -ENOENT : -ESRCH;
	}
	if (len < 0)
		return (int)len;
	/* Cut at the buffer's end: drop the partial last line rather than misread it. */
	if ((size_t)len == sizeof(buf) - 1) {
		char *nl = strrchr(buf, '\n');

		if (nl)
			nl[1] = '\0';
	}
	if ((size_t)len != strlen(buf) || parse_proc_cgroup(buf, &v2, &v1_pids, &v1_mem) == 0)
		return -EBADMSG;

	figures_unknown(&f);
	read_pids(&r, v1_pids, v2, &f);
	read_memory(&r, v1_mem, v2, &f);
	*ret = f;
	return 0;
}

int cgroup_controllers_read_dir(const struct cgroup_controllers_opts *o, const char *cgroup_dir,
				struct cgroup_figures *ret, int64_t *ret_procs)
{
	char path[PATH_MAX], line[32];
	int64_t procs = 0;
	int pid = -1;
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup_dir) >= sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (pid < 0)
			pid = atoi(line);
		procs++;
	}
	fclose(f);
	*ret_procs = procs;
	return pid > 0 && cgroup_controllers_read(o, pid, ret) == 0;
}
