/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One reading of the kernel's maps, as plain rows: what the sampler
 * (collect/sampler.c) reads once per interval and the model
 * (unit_table__apply()) applies. Every row carries its unit's name, named
 * once per cgroup per sample; exit-status rows are joined to the ledger row
 * of the same (unit key, executable), whose path is the kernel's own record
 * of the executable. Pure: no I/O, so tests build samples by hand.
 */
#ifndef RCATRACE_KERNEL_SAMPLE_H
#define RCATRACE_KERNEL_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "rcatrace.h"

/* Row flags. */
#define KS_RETIRED 1 /* the kernel row is gone after this sample: its counts are final */

struct ks_unit {
	uint64_t cgroup_id;
	uint32_t name; /* id of the unit's name in the sample */
	uint32_t flags;
	struct rca_unit_stats st;
};

struct ks_exe {
	struct rca_ledger_key key;
	uint32_t unit;
	uint32_t flags;
	struct rca_ledger l;
};

struct ks_status {
	struct rca_status_key key;
	uint32_t unit;  /* its cgroup's unit: used when no ledger row joins it */
	uint32_t flags;
	int32_t exe;    /* index of the ledger row with the same key; -1 when none */
	uint32_t _pad;
	struct rca_status st;
};

struct ks_mem {
	uint64_t cgroup_id;
	uint32_t unit;
	uint32_t flags;
	struct rca_unit_mem m;
};

struct ks_kill {
	struct rca_kill_key key;
	uint32_t target, sender;
	uint32_t flags;
	uint32_t _pad;
	uint64_t count;
};

struct ks_forkfail {
	struct rca_forkfail_key key;
	uint32_t unit;
	uint32_t flags;
	uint64_t count;
};

#define KS_ARRAY(type, name)                                                                      \
	type *name;                                                                               \
	uint32_t n_##name, cap_##name

struct kernel_sample {
	int64_t now_ms;
	uint64_t lost[RCA_LOST_KIND_MAX]; /* kernel-side losses of this run, summed over CPUs */
	uint64_t units_unnamed;           /* cgroups that could not be named, this run */
	uint64_t signature;               /* sum of every counter read: changes when anything counted */
	uint32_t ledger_rows_live;        /* ledger rows left in the kernel after this sample */
	KS_ARRAY(struct ks_unit, units);
	KS_ARRAY(struct ks_exe, exes);
	KS_ARRAY(struct ks_status, statuses);
	KS_ARRAY(struct ks_mem, mems);
	KS_ARRAY(struct ks_kill, kills);
	KS_ARRAY(struct ks_forkfail, forkfails);
	/*
	 * Names, each stored once; rows refer to them by id (an index into
	 * name_offs). They outlive a reading, so a cgroup keeps its id from one
	 * sample to the next and readers can keep tables by id; names_gen changes
	 * when they are cleared (ids are then reused).
	 */
	char *names;
	size_t names_len, names_cap;
	uint32_t *name_offs;
	uint32_t n_names, cap_names;
	uint32_t names_gen;
};

void kernel_sample_init(struct kernel_sample *s);
void kernel_sample_free(struct kernel_sample *s);
/* Empties the sample's rows for the next reading; keeps the names and what it allocated. */
void kernel_sample_reset(struct kernel_sample *s);
/* Forgets every name (a new names_gen): ids start again from 0. */
void kernel_sample_clear_names(struct kernel_sample *s);

/* The name of id. */
static inline const char *ks_name(const struct kernel_sample *s, uint32_t id)
{
	return s->names + s->name_offs[id];
}

/* Stores a name; its id (0, 1, ...: dense, so a reader can keep a table by id), or -ENOMEM. */
int64_t kernel_sample_add_name(struct kernel_sample *s, const char *name);

/* Appends a zeroed row; NULL when out of memory. */
struct ks_unit *kernel_sample_add_unit(struct kernel_sample *s);
struct ks_exe *kernel_sample_add_exe(struct kernel_sample *s);
struct ks_status *kernel_sample_add_status(struct kernel_sample *s);
struct ks_mem *kernel_sample_add_mem(struct kernel_sample *s);
struct ks_kill *kernel_sample_add_kill(struct kernel_sample *s);
struct ks_forkfail *kernel_sample_add_forkfail(struct kernel_sample *s);

/* Sets each status row's exe to the ledger row with its key (unit key, exe id). 0 or -ENOMEM. */
int kernel_sample_join(struct kernel_sample *s);

#endif
