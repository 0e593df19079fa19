// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel_memory.h"
#include "small_file.h"

#define DEFAULT_PROC_ROOT "/proc"
#define DEFAULT_CGROUP_ROOT "/sys/fs/cgroup"
#define DEFAULT_MAX_DIRS 65536
/* cgroup trees are a few levels deep; a deeper one is a loop or a hostile mount. */
#define MAX_DEPTH 128
/* meminfo is ~1.5 KiB, a v2 memory.stat ~2 KiB with every key of 6.x. */
#define TEXT_MAX 16384

/*
 * A regular file into buf, NUL-terminated (small_file_read()); one that
 * fills the buffer loses its partial last line, so no line is ever read cut.
 * Returns the length or -errno.
 */
static ssize_t read_text(const char *path, char *buf, size_t size)
{
	ssize_t got = small_file_read(path, buf, size);
	size_t len;

	if (got < 0)
		return got;
	len = (size_t)got;
	if (len == size - 1) {
		char *nl = strrchr(buf, '\n');

		len = nl ? (size_t)(nl + 1 - buf) : 0;
		buf[len] = '\0';
	}
	/* A NUL inside would hide the lines after it: not a file the kernel writes. */
	return strlen(buf) == len ? (ssize_t)len : -EBADMSG;
}

static int join(char *dst, size_t size, const char *a, const char *b)
{
	int n = snprintf(dst, size, "%s/%s", a, b);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/*
 * Decimal digits at *p, up to INT64_MAX; *p moves past them. -1 when there
 * is no digit or the number does not fit (a huge value is unknown, not
 * clamped).
 */
static int64_t digits(const char **p)
{
	const char *s = *p;
	int64_t v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *s - '0', &v)) {
			while (*s >= '0' && *s <= '9')
				s++;
			*p = s;
			return -1;
		}
	}
	*p = s;
	return v;
}

/* The end of the line at p: its newline, or NULL when the line is not whole. */
static const char *line_end(const char *p)
{
	return strchr(p, '\n');
}

/*
 * "key value\n" files (cgroup.stat, memory.stat): the value of key, -1 when
 * the key is missing, its line is cut (no newline), or the value is not a
 * number that fits. The first line of a key wins.
 */
static int64_t keyed_value(const char *text, const char *key)
{
	size_t klen = strlen(key);

	if (!text)
		return -1;
	for (const char *line = text; *line;) {
		const char *nl = line_end(line);

		if (!nl)
			return -1;
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			const char *p = line + klen + 1;
			int64_t v = digits(&p);

			return p == nl ? v : -1;
		}
		line = nl + 1;
	}
	return -1;
}

/* A file holding one number and a newline (memory.current, usage_in_bytes). */
static int64_t single_value(const char *text)
{
	const char *p = text;
	int64_t v;

	if (!text)
		return -1;
	v = digits(&p);
	return *p == '\n' && p[1] == '\0' ? v : -1;
}

/* ---- /proc/meminfo ------------------------------------------------------ */

static const struct {
	const char *key;
	size_t offset;
} meminfo_keys[] = {
	{ "MemTotal", offsetof(struct kernel_meminfo, mem_total_kib) },
	{ "MemAvailable", offsetof(struct kernel_meminfo, mem_available_kib) },
	{ "Slab", offsetof(struct kernel_meminfo, slab_kib) },
	{ "SUnreclaim", offsetof(struct kernel_meminfo, sunreclaim_kib) },
	{ "KernelStack", offsetof(struct kernel_meminfo, kernel_stack_kib) },
	{ "PageTables", offsetof(struct kernel_meminfo, page_tables_kib) },
	{ "Percpu", offsetof(struct kernel_meminfo, percpu_kib) },
};

#define N_MEMINFO_KEYS (sizeof(meminfo_keys) / sizeof(meminfo_keys[0]))

/* "Key:   N kB": N, or -1. The unit is required: a number cut short has none. */
static int64_t meminfo_value(const char *p, const char *end)
{
	int64_t v;

	while (p < end && *p == ' ')
		p++;
	v = digits(&p);
	if (v < 0 || end - p != 3 || memcmp(p, " kB", 3))
		return -1;
	return v;
}

int kernel_memory_parse_meminfo(const char *text, struct kernel_meminfo *ret)
{
	struct kernel_meminfo m;
	int64_t *field[N_MEMINFO_KEYS];
	int seen[N_MEMINFO_KEYS] = { 0 };
	int found = 0;

	if (!text || !ret)
		return -EINVAL;
	for (size_t i = 0; i < N_MEMINFO_KEYS; i++) {
		field[i] = (int64_t *)((char *)&m + meminfo_keys[i].offset);
		*field[i] = -1;
	}
	for (const char *line = text; *line;) {
		const char *nl = line_end(line);
		const char *end = nl ? nl : line + strlen(line);
		const char *colon = memchr(line, ':', (size_t)(end - line));

		for (size_t i = 0; colon && i < N_MEMINFO_KEYS; i++) {
			size_t klen = strlen(meminfo_keys[i].key);

			if (seen[i] || (size_t)(colon - line) != klen ||
			    memcmp(line, meminfo_keys[i].key, klen))
				continue;
			seen[i] = 1;
			*field[i] = meminfo_value(colon + 1, end);
			found += *field[i] >= 0;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	*ret = m;
	return found ? 0 : -EBADMSG;
}

int kernel_memory_read_meminfo(const char *proc_root, struct kernel_meminfo *ret)
{
	char path[PATH_MAX], buf[TEXT_MAX];
	struct kernel_meminfo m;
	ssize_t len;
	int err;

	err = join(path, sizeof(path), proc_root ? proc_root : DEFAULT_PROC_ROOT, "meminfo");
	if (err)
		return err;
	len = read_text(path, buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	err = kernel_memory_parse_meminfo(buf, &m);
	if (err)
		return err;
	*ret = m;
	return 0;
}

/* ---- dying cgroups ------------------------------------------------------ */

int kernel_memory_parse_cgroup_stat(const char *text, struct kernel_cgroup_stat *ret)
{
	struct kernel_cgroup_stat s;

	if (!ret)
		return -EINVAL;
	s.nr_descendants = keyed_value(text, "nr_descendants");
	s.nr_dying_descendants = keyed_value(text, "nr_dying_descendants");
	s.nr_dying_memory = keyed_value(text, "nr_dying_subsys_memory");
	*ret = s;
	return s.nr_descendants >= 0 || s.nr_dying_descendants >= 0 || s.nr_dying_memory >= 0 ?
		       0 :
		       -EBADMSG;
}

/* One tab-separated number of a /proc/cgroups line, then a tab or the newline. */
static int64_t tab_field(const char **p, char sep)
{
	int64_t v = digits(p);

	if (v < 0 || **p != sep)
		return -1;
	(*p)++;
	return v;
}

int kernel_memory_parse_proc_cgroups(const char *text, const char *controller,
				     struct kernel_proc_cgroups_entry *ret)
{
	size_t clen;

	if (!text || !controller || !ret)
		return -EINVAL;
	clen = strlen(controller);
	for (const char *line = text; *line;) {
		const char *nl = line_end(line);

		if (!strncmp(line, controller, clen) && line[clen] == '\t') {
			struct kernel_proc_cgroups_entry e;
			const char *p = line + clen + 1;

			if (!nl)
				return -EBADMSG;
			e.hierarchy = tab_field(&p, '\t');
			e.num_cgroups = e.hierarchy < 0 ? -1 : tab_field(&p, '\t');
			e.enabled = e.num_cgroups < 0 ? -1 : tab_field(&p, '\n');
			if (e.enabled < 0 || p != nl + 1)
				return -EBADMSG;
			*ret = e;
			return 0;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return -ENOENT;
}

struct walk {
	int64_t dirs;
	uint32_t max_dirs;
	dev_t dev;
};

/* Counts the directories below the open directory fd (consumed). */
static int walk_dirs(struct walk *w, int fd, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int err = 0;

	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	while (!err && (errno = 0, de = readdir(d))) {
		struct stat st;
		int sub;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* cgroupfs fills d_type; anything not a directory is a control file. */
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		sub = openat(dirfd(d), de->d_name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (sub < 0) {
			/* Removed since readdir: gone or dying, either way not live. */
			if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
				continue;
			err = -errno;
			break;
		}
		if (fstat(sub, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_dev != w->dev) {
			close(sub);
			continue;
		}
		if (++w->dirs > w->max_dirs) {
			close(sub);
			err = -E2BIG;
			break;
		}
		if (depth + 1 > MAX_DEPTH) {
			close(sub);
			err = -ELOOP;
			break;
		}
		err = walk_dirs(w, sub, depth + 1);
	}
	if (!err && errno && errno != ENOENT)
		err = -errno;
	closedir(d);
	return err;
}

int64_t kernel_memory_count_dirs(const char *dir, uint32_t max_dirs)
{
	struct walk w = { .dirs = 1, .max_dirs = max_dirs };
	struct stat st;
	int fd, err;

	if (!dir)
		return -EINVAL;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (max_dirs < 1) {
		close(fd);
		return -E2BIG;
	}
	w.dev = st.st_dev;
	err = walk_dirs(&w, fd, 0);
	return err ? err : w.dirs;
}

static int file_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	return !join(path, sizeof(path), dir, name) && stat(path, &st) == 0 &&
	       S_ISREG(st.st_mode);
}

static int read_in(const char *dir, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];
	ssize_t len;
	int err = join(path, sizeof(path), dir, name);

	if (err)
		return err;
	len = read_text(path, buf, size);
	return len < 0 ? (int)len : 0;
}

static void read_v2_dying(const struct kernel_memory_opts *o, const char *cgroup_root,
			  struct kernel_dying_cgroups *d)
{
	char mount[PATH_MAX], buf[TEXT_MAX];
	struct kernel_cgroup_stat s;
	int n;

	if (o && o->cgroup2_mount)
		n = snprintf(mount, sizeof(mount), "%s", o->cgroup2_mount);
	else if (file_exists(cgroup_root, "cgroup.controllers"))
		n = snprintf(mount, sizeof(mount), "%s", cgroup_root);
	else
		n = snprintf(mount, sizeof(mount), "%s/unified", cgroup_root);
	if (n < 0 || (size_t)n >= sizeof(mount) || read_in(mount, "cgroup.stat", buf, sizeof(buf)))
		return;
	kernel_memory_parse_cgroup_stat(buf, &s);
	d->v2_descendants = s.nr_descendants;
	d->v2_dying = s.nr_dying_descendants;
	d->v2_dying_memory = s.nr_dying_memory;
}

static void read_v1_memory_dying(const struct kernel_memory_opts *o, const char *cgroup_root,
				 struct kernel_dying_cgroups *d)
{
	char path[PATH_MAX], buf[TEXT_MAX];
	struct kernel_proc_cgroups_entry e, again;
	const char *proc = o && o->proc_root ? o->proc_root : DEFAULT_PROC_ROOT;
	uint32_t max_dirs = o && o->max_dirs ? o->max_dirs : DEFAULT_MAX_DIRS;
	int64_t live;
	int n;

	if (join(path, sizeof(path), proc, "cgroups") ||
	    read_text(path, buf, sizeof(buf)) < 0 ||
	    kernel_memory_parse_proc_cgroups(buf, "memory", &e) ||
	    e.hierarchy == 0 || e.enabled != 1)
		return;
	if (o && o->memory_v1_mount)
		n = snprintf(path, sizeof(path), "%s", o->memory_v1_mount);
	else
		n = snprintf(path, sizeof(path), "%s/memory", cgroup_root);
	if (n < 0 || (size_t)n >= sizeof(path))
		return;
	live = kernel_memory_count_dirs(path, max_dirs);
	if (live < 0)
		return;
	/*
	 * The count is read again after the walk and the later one kept: a
	 * dying cgroup freed during the walk then counts nowhere, and one made
	 * or removed during the walk moves the figure by one at most.
	 */
	if (!join(path, sizeof(path), proc, "cgroups") && read_text(path, buf, sizeof(buf)) >= 0 &&
	    !kernel_memory_parse_proc_cgroups(buf, "memory", &again) &&
	    again.hierarchy == e.hierarchy)
		e = again;
	d->v1_memory_cgroups = e.num_cgroups;
	d->v1_memory_live = live;
	d->v1_memory_dying = e.num_cgroups > live ? e.num_cgroups - live : 0;
}

int kernel_memory_read_dying(const struct kernel_memory_opts *o, struct kernel_dying_cgroups *ret)
{
	const char *cgroup_root = o && o->cgroup_root ? o->cgroup_root : DEFAULT_CGROUP_ROOT;
	struct kernel_dying_cgroups d = {
		.v2_descendants = -1,
		.v2_dying = -1,
		.v2_dying_memory = -1,
		.v1_memory_cgroups = -1,
		.v1_memory_live = -1,
		.v1_memory_dying = -1,
		.dying = -1,
	};

	if (!ret)
		return -EINVAL;
	read_v2_dying(o, cgroup_root, &d);
	read_v1_memory_dying(o, cgroup_root, &d);
	if (d.v2_dying >= 0 || d.v1_memory_dying >= 0)
		d.dying = (d.v2_dying > 0 ? d.v2_dying : 0) +
			  (d.v1_memory_dying > 0 ? d.v1_memory_dying : 0);
	*ret = d;
	return d.dying >= 0 || d.v2_descendants >= 0 ? 0 : -ENOENT;
}

/* ---- a unit's memory cgroup --------------------------------------------- */

static void memcg_unknown(struct kernel_memcg *m, int v2)
{
	memset(m, 0, sizeof(*m));
	m->v2 = v2;
	m->charged_bytes = m->anon_bytes = m->file_bytes = m->kernel_bytes = -1;
	m->slab_bytes = m->kernel_stack_bytes = m->sock_bytes = m->percpu_bytes = -1;
}

static int memcg_any(const struct kernel_memcg *m)
{
	return m->charged_bytes >= 0 || m->anon_bytes >= 0 || m->file_bytes >= 0 ||
	       m->kernel_bytes >= 0;
}

int kernel_memory_parse_memcg_v2(const char *stat, const char *current, struct kernel_memcg *ret)
{
	struct kernel_memcg m;
	const int64_t *parts[4];
	int64_t sum = 0;
	int known = 0;

	if (!ret)
		return -EINVAL;
	memcg_unknown(&m, 1);
	m.charged_bytes = single_value(current);
	m.anon_bytes = keyed_value(stat, "anon");
	m.file_bytes = keyed_value(stat, "file");
	m.slab_bytes = keyed_value(stat, "slab");
	m.kernel_stack_bytes = keyed_value(stat, "kernel_stack");
	m.sock_bytes = keyed_value(stat, "sock");
	m.percpu_bytes = keyed_value(stat, "percpu");
	parts[0] = &m.slab_bytes;
	parts[1] = &m.kernel_stack_bytes;
	parts[2] = &m.sock_bytes;
	parts[3] = &m.percpu_bytes;
	for (int i = 0; i < 4; i++) {
		int64_t next;

		if (*parts[i] < 0 || __builtin_add_overflow(sum, *parts[i], &next))
			continue;
		sum = next;
		known++;
	}
	if (known)
		m.kernel_bytes = sum;
	m.kernel_partial = known > 0 && known < 4;
	*ret = m;
	return memcg_any(&m) ? 0 : -EBADMSG;
}

int kernel_memory_parse_memcg_v1(const char *stat, const char *usage, const char *kmem_usage,
				 struct kernel_memcg *ret)
{
	struct kernel_memcg m;

	if (!ret)
		return -EINVAL;
	memcg_unknown(&m, 0);
	m.charged_bytes = single_value(usage);
	/* usage_in_bytes counts the children (use_hierarchy is on since 5.x): so do these. */
	m.anon_bytes = keyed_value(stat, "total_rss");
	if (m.anon_bytes < 0)
		m.anon_bytes = keyed_value(stat, "rss");
	m.file_bytes = keyed_value(stat, "total_cache");
	if (m.file_bytes < 0)
		m.file_bytes = keyed_value(stat, "cache");
	m.kernel_bytes = single_value(kmem_usage);
	*ret = m;
	return memcg_any(&m) ? 0 : -EBADMSG;
}

int kernel_memory_read_memcg(const char *dir, struct kernel_memcg *ret)
{
	char stat[TEXT_MAX], a[64], b[64];
	const char *stat_text;
	struct kernel_memcg m;
	int v2, err;

	if (!dir || !ret)
		return -EINVAL;
	if (file_exists(dir, "memory.current"))
		v2 = 1;
	else if (file_exists(dir, "memory.usage_in_bytes"))
		v2 = 0;
	else
		return -ENOENT;
	stat_text = read_in(dir, "memory.stat", stat, sizeof(stat)) ? NULL : stat;
	if (v2) {
		err = kernel_memory_parse_memcg_v2(
			stat_text, read_in(dir, "memory.current", a, sizeof(a)) ? NULL : a, &m);
	} else {
		err = kernel_memory_parse_memcg_v1(
			stat_text, read_in(dir, "memory.usage_in_bytes", a, sizeof(a)) ? NULL : a,
			read_in(dir, "memory.kmem.usage_in_bytes", b, sizeof(b)) ? NULL : b, &m);
	}
	if (err)
		return err;
	*ret = m;
	return 0;
}
