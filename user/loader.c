// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "rcatrace.skel.h"

#define BATCH 256
/* The kernel's internal "not supported" errno, which batch ops may leak. */
#define ENOTSUPP 524

struct loader {
	struct rcatrace_bpf *skel;
	struct ring_buffer *rb;
	loader_record_fn on_record;
	void *ctx;
	int attached;
	uint32_t max_units;
	int ncpus;
};

static const char *failed_step = "";
static int verbose_libbpf;

const char *loader_failed_step(void)
{
	return failed_step;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose_libbpf)
		return 0;
	if (!verbose_libbpf)
		return 0; /* the caller reports failures once, with a remedy */
	return vfprintf(stderr, fmt, args);
}

static int handle_record(void *ctx, void *data, size_t size)
{
	struct loader *l = ctx;

	return l->on_record ? l->on_record(l->ctx, data, size) : 0;
}

void loader__free(struct loader *l)
{
	if (!l)
		return;
	ring_buffer__free(l->rb);
	rcatrace_bpf__destroy(l->skel);
	free(l);
}

/* Attach one program at a time so a failure names the hook that is missing. */
static int attach_all(struct loader *l)
{
	struct bpf_program *progs[] = {
		l->skel->progs.sched_process_fork,
		l->skel->progs.sched_process_exec,
		l->skel->progs.sched_process_exit,
	};
	struct bpf_link **links[] = {
		&l->skel->links.sched_process_fork,
		&l->skel->links.sched_process_exec,
		&l->skel->links.sched_process_exit,
	};
	static char step[96];

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		*links[i] = bpf_program__attach(progs[i]);
		if (!*links[i]) {
			int err = -errno;

			snprintf(step, sizeof(step), "attach %s", bpf_program__name(progs[i]));
			failed_step = step;
			return err;
		}
		l->attached++;
	}
	return 0;
}

struct loader *loader__new(const struct loader_opts *opts)
{
	struct loader *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return NULL;
	verbose_libbpf = opts->verbose;
	libbpf_set_print(libbpf_print);
	l->on_record = opts->on_record;
	l->ctx = opts->ctx;
	l->max_units = opts->max_units ? opts->max_units : RCA_DEFAULT_MAX_UNITS;
	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		err = l->ncpus ? l->ncpus : -EINVAL;
		failed_step = "count CPUs";
		goto fail;
	}

	failed_step = "open";
	l->skel = rcatrace_bpf__open();
	if (!l->skel) {
		err = -errno;
		goto fail;
	}
	l->skel->rodata->targ_self_tgid = opts->self_tgid;
	failed_step = "configure";
	err = bpf_map__set_max_entries(l->skel->maps.unit_stats, l->max_units);
	if (!err && opts->ringbuf_bytes)
		err = bpf_map__set_max_entries(l->skel->maps.events, opts->ringbuf_bytes);
	if (err)
		goto fail;

	failed_step = "load";
	err = rcatrace_bpf__load(l->skel);
	if (err)
		goto fail;

	err = attach_all(l);
	if (err)
		goto fail;

	failed_step = "ring buffer";
	l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.events), handle_record, l, NULL);
	if (!l->rb) {
		err = -errno;
		goto fail;
	}
	failed_step = "";
	return l;
fail:
	loader__free(l);
	errno = -err;
	return NULL;
}

int loader__attached(const struct loader *l)
{
	return l->attached;
}

int loader__poll(struct loader *l, int timeout_ms)
{
	int n = ring_buffer__poll(l->rb, timeout_ms);

	if (n == -EINTR)
		return 0;
	return n;
}

/*
 * Batched reads: one syscall per BATCH entries instead of two per entry, so
 * sampling an idle machine every second costs next to nothing. Falls back to
 * get_next_key on kernels without batch ops.
 */
static int for_each_entry(int fd, size_t key_size, size_t value_size,
			  int (*cb)(void *ctx, const void *key, const void *value), void *ctx)
{
	unsigned char keys[BATCH * 32], token[32], *values;
	__u32 count;
	int err, ret = 0, first = 1, done = 0;

	if (key_size > 32)
		return -EINVAL;
	values = malloc(BATCH * value_size);
	if (!values)
		return -ENOMEM;
	while (!done && !ret) {
		count = BATCH;
		err = bpf_map_lookup_batch(fd, first ? NULL : token, token, keys, values, &count,
					   NULL);
		if (err) {
			err = -errno;
			if (err == -ENOENT) {
				done = 1;
			} else if (first && (err == -EINVAL || err == -ENOTSUPP || err == -EOPNOTSUPP)) {
				free(values);
				goto fallback;
			} else {
				free(values);
				return err;
			}
		}
		first = 0;
		for (__u32 i = 0; i < count && !ret; i++)
			ret = cb(ctx, keys + i * key_size, values + i * value_size);
	}
	free(values);
	return ret;

fallback: {
	unsigned char key[32], next[32], value_buf[4096];

	if (value_size > sizeof(value_buf))
		return -EINVAL;
	err = bpf_map_get_next_key(fd, NULL, next);
	while (!err && !ret) {
		memcpy(key, next, key_size);
		if (bpf_map_lookup_elem(fd, key, value_buf) == 0)
			ret = cb(ctx, key, value_buf);
		err = bpf_map_get_next_key(fd, key, next);
	}
	return ret;
}
}

struct unit_adapter {
	loader_unit_fn fn;
	void *ctx;
};

static int unit_cb(void *ctx, const void *key, const void *value)
{
	struct unit_adapter *a = ctx;
	uint64_t id;

	memcpy(&id, key, sizeof(id));
	return a->fn(a->ctx, id, value);
}

int loader__for_each_unit(struct loader *l, loader_unit_fn fn, void *ctx)
{
	struct unit_adapter a = { fn, ctx };

	return for_each_entry(bpf_map__fd(l->skel->maps.unit_stats), sizeof(__u64),
			      sizeof(struct rca_unit_stats), unit_cb, &a);
}

struct ledger_adapter {
	loader_ledger_fn fn;
	void *ctx;
};

static int ledger_cb(void *ctx, const void *key, const void *value)
{
	struct ledger_adapter *a = ctx;

	return a->fn(a->ctx, key, value);
}

int loader__for_each_ledger(struct loader *l, loader_ledger_fn fn, void *ctx)
{
	struct ledger_adapter a = { fn, ctx };

	return for_each_entry(bpf_map__fd(l->skel->maps.respawn_ledger),
			      sizeof(struct rca_ledger_key), sizeof(struct rca_ledger), ledger_cb,
			      &a);
}

struct status_adapter {
	loader_status_fn fn;
	void *ctx;
};

static int status_cb(void *ctx, const void *key, const void *value)
{
	struct status_adapter *a = ctx;
	uint64_t count;

	memcpy(&count, value, sizeof(count));
	return a->fn(a->ctx, key, count);
}

int loader__for_each_status(struct loader *l, loader_status_fn fn, void *ctx)
{
	struct status_adapter a = { fn, ctx };

	return for_each_entry(bpf_map__fd(l->skel->maps.exit_status),
			      sizeof(struct rca_status_key), sizeof(__u64), status_cb, &a);
}

int loader__unit_leaf(struct loader *l, uint64_t cgroup_id, char *dst, size_t size)
{
	struct rca_unit_stats st;

	if (bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.unit_stats), &cgroup_id, &st))
		return -ENOENT;
	snprintf(dst, size, "%.*s", (int)sizeof(st.name), st.name);
	return 0;
}

int loader__read_lost(struct loader *l, uint64_t ret[RCA_LOST_KIND_MAX])
{
	int fd = bpf_map__fd(l->skel->maps.lost);
	__u64 *percpu = calloc((size_t)l->ncpus, sizeof(__u64));

	if (!percpu)
		return -ENOMEM;
	for (__u32 k = 0; k < RCA_LOST_KIND_MAX; k++) {
		ret[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, percpu))
			continue;
		for (int c = 0; c < l->ncpus; c++)
			ret[k] += percpu[c];
	}
	free(percpu);
	return 0;
}

struct forget_ctx {
	uint64_t cgroup_id;
	int fd;
	size_t key_size;
	unsigned char keys[BATCH][32];
	int n;
};

static int collect_ledger(void *ctx, const struct rca_ledger_key *key, const struct rca_ledger *v)
{
	struct forget_ctx *f = ctx;

	(void)v;
	if (key->cgroup_id == f->cgroup_id && f->n < BATCH)
		memcpy(f->keys[f->n++], key, sizeof(*key));
	return 0;
}

static int collect_status(void *ctx, const struct rca_status_key *key, uint64_t count)
{
	struct forget_ctx *f = ctx;

	(void)count;
	if (key->cgroup_id == f->cgroup_id && f->n < BATCH)
		memcpy(f->keys[f->n++], key, sizeof(*key));
	return 0;
}

int loader__forget_cgroup(struct loader *l, uint64_t cgroup_id)
{
	struct forget_ctx *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->cgroup_id = cgroup_id;
	loader__for_each_ledger(l, collect_ledger, f);
	for (int i = 0; i < f->n; i++)
		bpf_map_delete_elem(bpf_map__fd(l->skel->maps.respawn_ledger), f->keys[i]);
	f->n = 0;
	loader__for_each_status(l, collect_status, f);
	for (int i = 0; i < f->n; i++)
		bpf_map_delete_elem(bpf_map__fd(l->skel->maps.exit_status), f->keys[i]);
	bpf_map_delete_elem(bpf_map__fd(l->skel->maps.unit_stats), &cgroup_id);
	free(f);
	return 0;
}

int loader__unit_capacity(const struct loader *l, uint32_t *ret_max)
{
	*ret_max = l->max_units;
	return 0;
}
