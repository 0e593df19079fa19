/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reads the kernel's maps once per interval into one kernel_sample: every
 * row named (each cgroup once per sample, through the resolver), exit
 * statuses joined to their ledger rows. Retires what the kernel can let go
 * of in the same pass: cgroups that are gone (their rows are read one last
 * time, marked retired, then deleted) and ledger rows idle for long (taken
 * out atomically, so nothing counted between the read and the delete is lost).
 */
#ifndef RCATRACE_SAMPLER_H
#define RCATRACE_SAMPLER_H

#include <stdint.h>

#include "kernel_sample.h"

struct loader;
struct unit_resolver;
struct sampler;

struct sampler_opts {
	struct loader *loader;
	struct unit_resolver *resolver;
};

struct sampler *sampler__new(const struct sampler_opts *o);
void sampler__free(struct sampler *s);

/* What one reading should also do. */
struct sampler_read_opts {
	int64_t now_ms;
	int retire;                 /* look for gone cgroups and idle ledger rows */
	uint64_t cgroup_idle_ns;    /* a cgroup idle this long may be gone (it is checked) */
	uint64_t ledger_idle_ns;    /* ledger rows idle this long are retired ... */
	uint64_t ledger_pressed_idle_ns; /* ... or this long once the ledger is 3/4 full */
};

/* Fills out (reset first). 0 or -errno (the maps could not be read). */
int sampler__read(struct sampler *s, const struct sampler_read_opts *o, struct kernel_sample *out);

#endif
