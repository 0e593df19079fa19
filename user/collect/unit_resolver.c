// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "mountinfo.h"
#include "unit_name.h"
#include "unit_resolver.h"

/* kernfs file handles carry the 64-bit node id; see FILEID_KERNFS in exportfs.h. */
#define FILEID_KERNFS 0xfe
#define WALK_MAX_DEPTH 32
/* What readlink() adds to the path of a removed directory. */
#define DELETED " (deleted)"
#define CGROUP2_SUPER_MAGIC_VALUE 0x63677270

struct cache_entry {
	uint64_t id;
	uint64_t last_used;
	int32_t next; /* hash chain, -1 ends */
	uint8_t used;
	uint8_t source;
	char name[UNIT_NAME_MAX];
};

struct unit_resolver {
	char root[PATH_MAX];
	int root_fd;
	int handles_work; /* open_by_handle_at() usable (needs CAP_DAC_READ_SEARCH) */
	size_t cap, nbuckets;
	int32_t *buckets;
	struct cache_entry *entries;
	uint64_t tick;
	struct unit_resolver_stats stats;
};

static size_t bucket_of(const struct unit_resolver *r, uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ULL) >> 20) % r->nbuckets;
}

struct unit_resolver *unit_resolver__new(const struct unit_resolver_opts *opts)
{
	struct unit_resolver *r = calloc(1, sizeof(*r));
	size_t cap = opts && opts->max_cache ? opts->max_cache : 16384;
	int err;

	if (!r)
		return NULL;
	r->root_fd = -1;
	if (opts && opts->cgroup2_root) {
		if (strlen(opts->cgroup2_root) >= sizeof(r->root)) {
			err = ENAMETOOLONG;
			goto fail;
		}
		strcpy(r->root, opts->cgroup2_root);
	} else {
		FILE *f = fopen(opts && opts->mountinfo_path ? opts->mountinfo_path
							     : "/proc/self/mountinfo", "re");

		if (!f) {
			err = errno;
			goto fail;
		}
		err = -mountinfo_find_cgroup2(f, r->root, sizeof(r->root));
		fclose(f);
		if (err)
			goto fail;
	}
	r->root_fd = open(r->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->root_fd < 0) {
		err = errno;
		goto fail;
	}
	/*
	 * File handles name cgroups only on cgroup2 itself (kernfs); elsewhere,
	 * e.g. a test's fake tree, walk the directories instead.
	 */
	{
		struct statfs sfs;

		r->handles_work = fstatfs(r->root_fd, &sfs) == 0 &&
				  sfs.f_type == CGROUP2_SUPER_MAGIC_VALUE;
	}
	r->cap = cap;
	r->nbuckets = cap * 2 + 1;
	r->entries = calloc(cap, sizeof(*r->entries));
	r->buckets = malloc(r->nbuckets * sizeof(*r->buckets));
	if (!r->entries || !r->buckets) {
		err = ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < r->nbuckets; i++)
		r->buckets[i] = -1;
	return r;
fail:
	unit_resolver__free(r);
	errno = err;
	return NULL;
}

void unit_resolver__free(struct unit_resolver *r)
{
	if (!r)
		return;
	if (r->root_fd >= 0)
		close(r->root_fd);
	free(r->entries);
	free(r->buckets);
	free(r);
}

const char *unit_resolver__root(const struct unit_resolver *r)
{
	return r->root;
}

void unit_resolver__stats(const struct unit_resolver *r, struct unit_resolver_stats *ret)
{
	*ret = r->stats;
}

static struct cache_entry *cache_find(struct unit_resolver *r, uint64_t id)
{
	for (int32_t i = r->buckets[bucket_of(r, id)]; i >= 0; i = r->entries[i].next)
		if (r->entries[i].id == id)
			return &r->entries[i];
	return NULL;
}

static void cache_unlink(struct unit_resolver *r, int32_t idx)
{
	int32_t *link = &r->buckets[bucket_of(r, r->entries[idx].id)];

	while (*link >= 0 && *link != idx)
		link = &r->entries[*link].next;
	if (*link == idx)
		*link = r->entries[idx].next;
	r->entries[idx].used = 0;
	r->stats.cached--;
}

/* A free slot, evicting the least recently used entry when the cache is full. */
static int32_t cache_slot(struct unit_resolver *r)
{
	int32_t victim = 0;

	for (size_t i = 0; i < r->cap; i++) {
		if (!r->entries[i].used)
			return (int32_t)i;
		if (r->entries[i].last_used < r->entries[victim].last_used)
			victim = (int32_t)i;
	}
	cache_unlink(r, victim);
	r->stats.evictions++;
	return victim;
}

static int path_by_handle(struct unit_resolver *r, uint64_t id, char *dst, size_t size)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh = { .handle_bytes = sizeof(uint64_t), .handle_type = FILEID_KERNFS } };
	char link[64], full[PATH_MAX];
	size_t rootlen = strlen(r->root);
	ssize_t n;
	int fd;

	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(r->root_fd, &h.fh, O_RDONLY | O_CLOEXEC | O_PATH);
	if (fd < 0) {
		if (errno == EPERM || errno == EOPNOTSUPP || errno == ENOSYS)
			r->handles_work = 0;
		return -errno;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, full, sizeof(full) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	full[n] = '\0';
	if (strncmp(full, r->root, rootlen) != 0)
		return -EXDEV;
	snprintf(dst, size, "%s", full[rootlen] ? full + rootlen : "/");
	/* Opened while it is removed: the path is right, the cgroup is gone. */
	if ((size_t)n >= rootlen + sizeof(DELETED) - 1 &&
	    strcmp(full + n - (sizeof(DELETED) - 1), DELETED) == 0) {
		size_t dl = strlen(dst);

		if (dl >= sizeof(DELETED) - 1)
			dst[dl - (sizeof(DELETED) - 1)] = '\0';
		return -ESTALE;
	}
	return 0;
}

/* Fallback without CAP_DAC_READ_SEARCH: the cgroup id is the directory's inode number. */
static int walk_find(int dirfd, uint64_t id, char *rel, size_t size, size_t len, int depth)
{
	DIR *d;
	struct dirent *de;
	int ret = -ENOENT;

	if (depth > WALK_MAX_DEPTH)
		return -ENOENT;
	d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return -errno;
	}
	while (ret == -ENOENT && (de = readdir(d))) {
		size_t nl = strlen(de->d_name);
		int sub;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (len + 1 + nl >= size)
			continue;
		rel[len] = '/';
		memcpy(rel + len + 1, de->d_name, nl + 1);
		if ((uint64_t)de->d_ino == id) {
			ret = 0;
			break;
		}
		sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub >= 0)
			ret = walk_find(sub, id, rel, size, len + 1 + nl, depth + 1);
		if (ret != 0)
			rel[len] = '\0'; /* not found below: undo this level */
	}
	closedir(d);
	return ret;
}

int unit_resolver__path(struct unit_resolver *r, uint64_t cgroup_id, char *dst, size_t size)
{
	struct stat st;
	int fd, err;

	if (r->handles_work) {
		err = path_by_handle(r, cgroup_id, dst, size);
		if (err == 0 || r->handles_work)
			return err;
	}
	if (fstat(r->root_fd, &st) == 0 && (uint64_t)st.st_ino == cgroup_id) {
		snprintf(dst, size, "/");
		return 0;
	}
	if (size == 0)
		return -ENAMETOOLONG;
	dst[0] = '\0';
	fd = openat(r->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return walk_find(fd, cgroup_id, dst, size, 0, 0);
}

int unit_resolver__cached(struct unit_resolver *r, uint64_t cgroup_id)
{
	return cache_find(r, cgroup_id) != NULL;
}

int unit_resolver__exists(struct unit_resolver *r, uint64_t cgroup_id)
{
	char path[PATH_MAX];
	int err = unit_resolver__path(r, cgroup_id, path, sizeof(path));

	if (err == 0)
		return 1;
	if (err == -ESTALE || err == -ENOENT)
		return 0;
	return err;
}

/*
 * The path of a cgroup that is gone: its parent's path and its own leaf
 * name, both kept by the kernel side. The parent (a slice, a machine's
 * payload) usually outlives it.
 */
static int path_from_parent(struct unit_resolver *r, uint64_t parent_id, const char *leaf,
			    char *dst, size_t size)
{
	char parent[PATH_MAX];
	int err;

	if (!parent_id || !leaf || !leaf[0])
		return -ENOENT;
	err = unit_resolver__path(r, parent_id, parent, sizeof(parent));
	if (err && !(err == -ESTALE && parent[0]))
		return err;
	if ((size_t)snprintf(dst, size, "%s/%s", strcmp(parent, "/") ? parent : "", leaf) >= size)
		return -ENAMETOOLONG;
	return 0;
}

enum unit_name_source unit_resolver__name(struct unit_resolver *r, uint64_t cgroup_id,
					  const char *kernel_leaf, char *dst, size_t size)
{
	return unit_resolver__name_gone(r, cgroup_id, 0, kernel_leaf, dst, size);
}

enum unit_name_source unit_resolver__name_gone(struct unit_resolver *r, uint64_t cgroup_id,
					       uint64_t parent_id, const char *kernel_leaf,
					       char *dst, size_t size)
{
	struct cache_entry *e = cache_find(r, cgroup_id);
	char path[PATH_MAX];
	int32_t slot;
	int err;

	if (!e) {
		slot = cache_slot(r);
		e = &r->entries[slot];
		memset(e, 0, sizeof(*e));
		e->id = cgroup_id;
		path[0] = '\0';
		err = unit_resolver__path(r, cgroup_id, path, sizeof(path));
		if (err == 0 || (err == -ESTALE && path[0])) {
			unit_name_from_path(e->name, sizeof(e->name), path);
			e->source = UNIT_NAME_FS;
			r->stats.resolved++;
		} else if (path_from_parent(r, parent_id, kernel_leaf, path, sizeof(path)) == 0) {
			unit_name_from_path(e->name, sizeof(e->name), path);
			e->source = UNIT_NAME_LEAF;
			r->stats.from_leaf++;
		} else if (kernel_leaf && kernel_leaf[0]) {
			unit_name_from_leaf(e->name, sizeof(e->name), kernel_leaf);
			e->source = UNIT_NAME_LEAF;
			r->stats.from_leaf++;
		} else {
			snprintf(e->name, sizeof(e->name), "cgroup:%" PRIu64, cgroup_id);
			e->source = UNIT_NAME_NONE;
			r->stats.unnamed++;
		}
		e->used = 1;
		e->next = r->buckets[bucket_of(r, cgroup_id)];
		r->buckets[bucket_of(r, cgroup_id)] = slot;
		r->stats.cached++;
	}
	e->last_used = ++r->tick;
	snprintf(dst, size, "%s", e->name);
	return (enum unit_name_source)e->source;
}
