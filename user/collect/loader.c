// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "rcatrace.skel.h"

#define BATCH 256
/* The kernel's internal "not supported" errno, which batch ops may leak. */
#define ENOTSUPP 524

#define MAX_MISSING 8

struct loader {
	struct rcatrace_bpf *skel;
	struct bpf_link *iter_link;
	struct loader_missing missing[MAX_MISSING];
	int n_missing;
	int mounted_tracefs;
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
	bpf_link__destroy(l->iter_link);
	ring_buffer__free(l->rb);
	rcatrace_bpf__destroy(l->skel);
	free(l);
}

/* err: 0 when the kernel lacks the hook, else why attaching it failed (-errno). */
static void note_missing(struct loader *l, const char *hook, const char *consequence, int err)
{
	if (l->n_missing < MAX_MISSING) {
		l->missing[l->n_missing].hook = hook;
		l->missing[l->n_missing].consequence = consequence;
		l->missing[l->n_missing].err = err;
		l->n_missing++;
	}
}

/*
 * Which tp_btf hooks the kernel has: btf_trace_<tracepoint> typedefs exist
 * only for them. The raw BTF file is scanned for those names in chunks, rather
 * than parsed: a parse costs some 13 MB, which libbpf spends again at load.
 */
struct hook_probe {
	const char *tp;
	char name[64];
	int found;
};

static void probe_tp_btf(struct hook_probe *probes, int n)
{
	static char buf[65536 + 64];
	size_t keep = 0, got;
	FILE *f = fopen("/sys/kernel/btf/vmlinux", "re");

	for (int i = 0; i < n; i++) {
		/* NUL on both sides: a whole name in the string section, not a prefix. */
		snprintf(probes[i].name, sizeof(probes[i].name), "%cbtf_trace_%s", 0, probes[i].tp);
		probes[i].found = 0;
	}
	if (!f) {
		for (int i = 0; i < n; i++)
			probes[i].found = 1; /* cannot tell: let the load decide */
		return;
	}
	while ((got = fread(buf + keep, 1, sizeof(buf) - 64 - keep, f)) > 0) {
		size_t len = keep + got;

		for (int i = 0; i < n; i++) {
			size_t nl = 1 + strlen(probes[i].name + 1) + 1; /* with both NULs */

			if (!probes[i].found && memmem(buf, len, probes[i].name, nl))
				probes[i].found = 1;
		}
		/* Keep a tail so a name split across two chunks is still found. */
		keep = len < 63 ? len : 63;
		memmove(buf, buf + len - keep, keep);
	}
	fclose(f);
}

static int tracefs_has(const char *event)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/id", event);
	if (access(path, R_OK) == 0)
		return 1;
	snprintf(path, sizeof(path), "/sys/kernel/debug/tracing/events/%s/id", event);
	return access(path, R_OK) == 0;
}

/*
 * The syscall tracepoints need tracefs. Mount it when it is missing (as the
 * operator would) and say so; without it the failed-fork count is off.
 */
static int ensure_tracefs(struct loader *l)
{
	if (tracefs_has("syscalls/sys_exit_clone"))
		return 1;
	if (access("/sys/kernel/tracing/events", F_OK) != 0 &&
	    mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0)
		l->mounted_tracefs = 1;
	return tracefs_has("syscalls/sys_exit_clone");
}

/* Optional hooks are probed before load; a missing one is switched off and reported. */
static void disable_missing_hooks(struct loader *l)
{
	struct hook_probe probes[] = { { .tp = "rss_stat" }, { .tp = "mark_victim" },
				       { .tp = "signal_generate" } };
	struct rcatrace_bpf *sk = l->skel;

	probe_tp_btf(probes, 3);
	if (!probes[0].found) {
		bpf_program__set_autoload(sk->progs.rss_stat, false);
		note_missing(l, "kmem/rss_stat", "no per-unit resident memory or growth", 0);
	}
	if (!probes[1].found) {
		bpf_program__set_autoload(sk->progs.mark_victim, false);
		note_missing(l, "oom/mark_victim", "OOM kills are not recorded", 0);
	}
	if (!probes[2].found) {
		bpf_program__set_autoload(sk->progs.signal_generate, false);
		note_missing(l, "signal/signal_generate", "who killed whom is not recorded", 0);
	}
	if (!ensure_tracefs(l)) {
		bpf_program__set_autoload(sk->progs.sys_exit_clone, false);
		bpf_program__set_autoload(sk->progs.sys_exit_clone3, false);
		bpf_program__set_autoload(sk->progs.sys_exit_fork, false);
		bpf_program__set_autoload(sk->progs.sys_exit_vfork, false);
		note_missing(l, "syscalls/sys_exit_clone* (needs tracefs)", "failed forks are not counted", 0);
	} else if (!tracefs_has("syscalls/sys_exit_clone3")) {
		bpf_program__set_autoload(sk->progs.sys_exit_clone3, false);
	}
}

/* What an operator loses when an optional program cannot be attached. */
static const char *consequence_of(const struct rcatrace_bpf *sk, const struct bpf_program *prog)
{
	if (prog == sk->progs.cgroup_attach_task)
		return "starts of units by a supervisor moving its child in (systemd, runc) are not "
		       "counted";
	if (prog == sk->progs.rss_stat)
		return "no per-unit resident memory or growth";
	if (prog == sk->progs.mark_victim)
		return "OOM kills are not recorded";
	if (prog == sk->progs.signal_generate)
		return "who killed whom is not recorded";
	if (prog == sk->progs.sys_exit_clone || prog == sk->progs.sys_exit_clone3 ||
	    prog == sk->progs.sys_exit_fork || prog == sk->progs.sys_exit_vfork)
		return "failed forks are not counted";
	return NULL; /* required */
}

/*
 * Attach one program at a time so a failure names the hook. The links go
 * where the skeleton destroys them. A required hook (fork, exec, exit) that
 * fails is fatal; an optional one is switched off and reported (permission:
 * a classic tracepoint needs a perf event, which kernel.perf_event_paranoid=3
 * refuses without CAP_SYS_ADMIN; lockdown; a missing event).
 */
static int attach_all(struct loader *l)
{
	struct bpf_object_skeleton *s = l->skel->skeleton;
	static char step[96];

	for (int i = 0; i < s->prog_cnt; i++) {
		struct bpf_program *prog = *s->progs[i].prog;
		const char *consequence = consequence_of(l->skel, prog);
		struct bpf_link *link;

		if (!bpf_program__autoload(prog) || prog == l->skel->progs.iter_task)
			continue;
		link = bpf_program__attach(prog);
		if (!link) {
			int err = -errno;

			if (consequence) {
				note_missing(l, bpf_program__section_name(prog), consequence, err);
				continue;
			}
			snprintf(step, sizeof(step), "attach %s", bpf_program__name(prog));
			failed_step = step;
			return err;
		}
		*s->progs[i].link = link;
		l->attached++;
	}
	return 0;
}

const struct loader_missing *loader__missing(const struct loader *l, int *n)
{
	*n = l->n_missing;
	return l->missing;
}

int loader__mounted_tracefs(const struct loader *l)
{
	return l->mounted_tracefs;
}

int loader__sync_memory(struct loader *l)
{
	char buf[64];
	int fd, n;

	if (!bpf_program__autoload(l->skel->progs.rss_stat))
		return 0;
	if (!l->iter_link) {
		l->iter_link = bpf_program__attach_iter(l->skel->progs.iter_task, NULL);
		if (!l->iter_link)
			return -errno;
	}
	fd = bpf_iter_create(bpf_link__fd(l->iter_link));
	if (fd < 0)
		return -errno;
	/* The program prints nothing: reading to the end just walks every task. */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	close(fd);
	return n < 0 ? -errno : 0;
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
	l->skel->rodata->targ_wakeup_bytes =
		(opts->ringbuf_bytes ? opts->ringbuf_bytes : RCA_DEFAULT_RINGBUF_BYTES) / 4;
	l->skel->rodata->targ_kill_signals =
		opts->kill_signals ? opts->kill_signals : LOADER_DEFAULT_KILL_SIGNALS;
	disable_missing_hooks(l);
	failed_step = "configure";
	err = bpf_map__set_max_entries(l->skel->maps.unit_stats, l->max_units);
	if (!err)
		err = bpf_map__set_max_entries(l->skel->maps.unit_mem, l->max_units);
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
	int n = ring_buffer__poll(l->rb, timeout_ms), m;

	if (n < 0 && n != -EINTR)
		return n;
	/*
	 * The kernel side submits without waking us (events_submit()), so epoll
	 * reports the ring only when it fills up: the wait above is mostly a
	 * sleep. Read whatever is there, every time.
	 */
	m = ring_buffer__consume(l->rb);
	if (m < 0 && m != -EINTR)
		return m;
	return (n > 0 ? n : 0) + (m > 0 ? m : 0);
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

	return a->fn(a->ctx, key, value);
}

int loader__for_each_status(struct loader *l, loader_status_fn fn, void *ctx)
{
	struct status_adapter a = { fn, ctx };

	return for_each_entry(bpf_map__fd(l->skel->maps.exit_status),
			      sizeof(struct rca_status_key), sizeof(struct rca_status), status_cb,
			      &a);
}

int loader__unit_leaf(struct loader *l, uint64_t cgroup_id, char *dst, size_t size,
		      uint64_t *ret_parent_id)
{
	struct rca_unit_stats st;

	if (bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.unit_stats), &cgroup_id, &st))
		return -ENOENT;
	snprintf(dst, size, "%.*s", (int)sizeof(st.name), st.name);
	*ret_parent_id = st.parent_id;
	return 0;
}

struct kill_adapter {
	loader_kill_fn fn;
	void *ctx;
};

static int kill_cb(void *ctx, const void *key, const void *value)
{
	struct kill_adapter *a = ctx;
	uint64_t count;

	memcpy(&count, value, sizeof(count));
	return a->fn(a->ctx, key, count);
}

struct forkfail_adapter {
	loader_forkfail_fn fn;
	void *ctx;
};

static int forkfail_cb(void *ctx, const void *key, const void *value)
{
	struct forkfail_adapter *a = ctx;
	uint64_t count;

	memcpy(&count, value, sizeof(count));
	return a->fn(a->ctx, key, count);
}

struct mem_adapter {
	loader_mem_fn fn;
	void *ctx;
};

static int mem_cb(void *ctx, const void *key, const void *value)
{
	struct mem_adapter *a = ctx;
	uint64_t id;

	memcpy(&id, key, sizeof(id));
	return a->fn(a->ctx, id, value);
}

int loader__for_each_mem(struct loader *l, loader_mem_fn fn, void *ctx)
{
	struct mem_adapter a = { fn, ctx };

	return for_each_entry(bpf_map__fd(l->skel->maps.unit_mem), sizeof(__u64),
			      sizeof(struct rca_unit_mem), mem_cb, &a);
}

int loader__for_each_kill(struct loader *l, loader_kill_fn fn, void *ctx)
{
	struct kill_adapter a = { fn, ctx };

	return for_each_entry(bpf_map__fd(l->skel->maps.kill_counts), sizeof(struct rca_kill_key),
			      sizeof(__u64), kill_cb, &a);
}

int loader__for_each_forkfail(struct loader *l, loader_forkfail_fn fn, void *ctx)
{
	struct forkfail_adapter a = { fn, ctx };

	return for_each_entry(bpf_map__fd(l->skel->maps.fork_failures),
			      sizeof(struct rca_forkfail_key), sizeof(__u64), forkfail_cb, &a);
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

static int collect_kill(void *ctx, const struct rca_kill_key *key, uint64_t count)
{
	struct forget_ctx *f = ctx;

	(void)count;
	if ((key->target_cgroup_id == f->cgroup_id || key->sender_cgroup_id == f->cgroup_id) &&
	    f->n < BATCH)
		memcpy(f->keys[f->n++], key, sizeof(*key));
	return 0;
}

static int collect_forkfail(void *ctx, const struct rca_forkfail_key *key, uint64_t count)
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
	loader__for_each_kill(l, collect_kill, f);
	for (int i = 0; i < f->n; i++)
		bpf_map_delete_elem(bpf_map__fd(l->skel->maps.kill_counts), f->keys[i]);
	f->n = 0;
	loader__for_each_forkfail(l, collect_forkfail, f);
	for (int i = 0; i < f->n; i++)
		bpf_map_delete_elem(bpf_map__fd(l->skel->maps.fork_failures), f->keys[i]);
	bpf_map_delete_elem(bpf_map__fd(l->skel->maps.unit_mem), &cgroup_id);
	bpf_map_delete_elem(bpf_map__fd(l->skel->maps.unit_stats), &cgroup_id);
	free(f);
	return 0;
}

int loader__unit_capacity(const struct loader *l, uint32_t *ret_max)
{
	*ret_max = l->max_units;
	return 0;
}

/* Keys of idle ledger rows, gathered before any is removed. */
struct retire_ctx {
	uint64_t idle_before_ns;
	uint32_t max, n;
	struct rca_ledger_key *keys;
};

static int collect_idle(void *ctx, const struct rca_ledger_key *key, const struct rca_ledger *v)
{
	struct retire_ctx *c = ctx;
	uint64_t last = v->last_start_ns > v->last_exit_ns ? v->last_start_ns : v->last_exit_ns;

	if (c->n < c->max && last < c->idle_before_ns)
		c->keys[c->n++] = *key;
	return 0;
}

static int key_retired(const struct retire_ctx *c, uint64_t unit_key, uint64_t exe_id)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (c->keys[i].unit_key == unit_key && c->keys[i].exe_id == exe_id)
			return 1;
	return 0;
}

struct status_keys {
	const struct retire_ctx *c;
	uint32_t n, max;
	struct rca_status_key *keys;
};

static int collect_status_of(void *ctx, const struct rca_status_key *key, const struct rca_status *v)
{
	struct status_keys *s = ctx;

	(void)v;
	if (s->n < s->max && key_retired(s->c, key->unit_key, key->exe_id))
		s->keys[s->n++] = *key;
	return 0;
}

int loader__retire_ledger(struct loader *l, uint64_t idle_before_ns, uint32_t max,
			  loader_ledger_fn on_ledger, loader_status_fn on_status, void *ctx)
{
	int lfd = bpf_map__fd(l->skel->maps.respawn_ledger);
	int sfd = bpf_map__fd(l->skel->maps.exit_status);
	struct retire_ctx c = { .idle_before_ns = idle_before_ns, .max = max };
	struct status_keys sk = { .c = &c };
	struct rca_ledger *v = malloc(sizeof(*v));
	struct rca_status st;
	int err = 0;

	c.keys = calloc(max ? max : 1, sizeof(*c.keys));
	if (!v || !c.keys) {
		err = -ENOMEM;
		goto out;
	}
	loader__for_each_ledger(l, collect_idle, &c);
	if (!c.n)
		goto out;
	/*
	 * Taken out atomically: an event between a read and a delete would be
	 * lost; one after it makes a new row, counted from zero, which the
	 * model adds to what it folded here.
	 */
	for (uint32_t i = 0; i < c.n; i++)
		if (bpf_map_lookup_and_delete_elem(lfd, &c.keys[i], v) == 0)
			on_ledger(ctx, &c.keys[i], v);
	sk.max = RCA_DEFAULT_MAX_EXIT_STATUS;
	sk.keys = calloc(sk.max, sizeof(*sk.keys));
	if (!sk.keys) {
		err = -ENOMEM;
		goto out;
	}
	loader__for_each_status(l, collect_status_of, &sk);
	for (uint32_t i = 0; i < sk.n; i++)
		if (bpf_map_lookup_and_delete_elem(sfd, &sk.keys[i], &st) == 0)
			on_status(ctx, &sk.keys[i], &st);
	err = (int)c.n;
out:
	free(sk.keys);
	free(c.keys);
	free(v);
	return err;
}

uint32_t loader__ledger_capacity(const struct loader *l)
{
	return bpf_map__max_entries(l->skel->maps.respawn_ledger);
}
