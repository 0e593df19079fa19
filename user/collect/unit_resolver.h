/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cgroup v2 id -> unit name, through the cgroup2 mount. Names are resolved at
 * first sight and cached (bounded, evictions counted), so a unit keeps its
 * name after its cgroup is removed. When the cgroup is already gone at first
 * sight, the kernel's leaf name (recorded by the BPF side) names it.
 */
#ifndef RCATRACE_UNIT_RESOLVER_H
#define RCATRACE_UNIT_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#define UNIT_NAME_MAX 256

struct unit_resolver;

struct unit_resolver_opts {
	const char *cgroup2_root;   /* NULL: found in mountinfo_path */
	const char *mountinfo_path; /* NULL: /proc/self/mountinfo */
	size_t max_cache;           /* 0: 16384 entries */
};

struct unit_resolver_stats {
	uint64_t resolved;   /* names found through the cgroup2 file system */
	uint64_t from_leaf;  /* named from the kernel's leaf name (cgroup already gone) */
	uint64_t unnamed;    /* could not be named at all: shown as cgroup:<id> */
	uint64_t evictions;  /* cache entries dropped to stay within max_cache */
	uint64_t cached;     /* entries in the cache now */
};

enum unit_name_source {
	UNIT_NAME_FS = 0,
	UNIT_NAME_LEAF = 1,
	UNIT_NAME_NONE = 2,
};

/* NULL with errno set: ENOENT when no cgroup2 mount exists. */
struct unit_resolver *unit_resolver__new(const struct unit_resolver_opts *opts);
void unit_resolver__free(struct unit_resolver *r);

/*
 * Copies the unit name of cgroup_id into dst and returns its source.
 * kernel_leaf may be NULL or "". The answer is cached, so later calls give
 * the same name even once the cgroup is gone.
 */
enum unit_name_source unit_resolver__name(struct unit_resolver *r, uint64_t cgroup_id,
					  const char *kernel_leaf, char *dst, size_t size);

/*
 * The same, for a cgroup that may be gone already: it is then named from its
 * parent's path (parent_id, if that still exists) and its kernel leaf name,
 * so a unit inside a machine keeps its machine.
 */
enum unit_name_source unit_resolver__name_gone(struct unit_resolver *r, uint64_t cgroup_id,
					       uint64_t parent_id, const char *kernel_leaf,
					       char *dst, size_t size);

/* 1 if cgroup_id has a cached name (no lookup is done). */
int unit_resolver__cached(struct unit_resolver *r, uint64_t cgroup_id);

/* 1 if the cgroup still exists, 0 if it is gone, -errno if that cannot be told. */
int unit_resolver__exists(struct unit_resolver *r, uint64_t cgroup_id);

/*
 * The cgroup v2 path of cgroup_id relative to the mount ("/system.slice/x.service").
 * -ESTALE when the cgroup is being removed (dst still holds its path, without " (deleted)").
 */
int unit_resolver__path(struct unit_resolver *r, uint64_t cgroup_id, char *dst, size_t size);

const char *unit_resolver__root(const struct unit_resolver *r);
void unit_resolver__stats(const struct unit_resolver *r, struct unit_resolver_stats *ret);

#endif
