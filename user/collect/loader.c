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

#define BATCH 1024
/* The kernel's internal "not supported" errno, which batch ops may leak. */
#define ENOTSUPP 524

#define MAX_MISSING 8

struct loader {
	struct rcatrace_bpf *skel;
	struct bpf_link *iter_link;
	struct loader_missing missing[MAX_MISSING];
	int n_missing;
	int mounted_tracefs;
	int tracefs_errno;    /* why tracefs could not be mounted; 0: it was, or it was there */
	int forkfail_refused; /* fork-failure hooks refused at attach, said once */
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
	(void)level;
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
	if (access("/sys/kernel/tracing/events", F_OK) != 0) {
		if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0)
			l->mounted_tracefs = 1;
		else
			l->tracefs_errno = errno;
	}
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
		/* Not the kernel's lack: tracefs is missing here (a container) and cannot be mounted. */
		if (l->tracefs_errno)
			note_missing(l, "syscalls/sys_exit_clone* (tracefs is not mounted at "
					"/sys/kernel/tracing and could not be mounted)",
				     "failed forks are not counted", -l->tracefs_errno);
		else
			note_missing(l, "syscalls/sys_exit_clone* (needs tracefs)",
				     "failed forks are not counted", 0);
	} else if (!tracefs_has("syscalls/sys_exit_clone3")) {
		bpf_program__set_autoload(sk->progs.sys_exit_clone3, false);
	}
}

static int is_forkfail_prog(const struct rcatrace_bpf *sk, const struct bpf_program *prog)
{
	return prog == sk->progs.sys_exit_clone || prog == sk->progs.sys_exit_clone3 ||
	       prog == sk->progs.sys_exit_fork || prog == sk->progs.sys_exit_vfork;
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
				/* The four fork-failure hooks share one consequence: say it once. */
				if (is_forkfail_prog(l->skel, prog)) {
					if (!l->forkfail_refused++)
						note_missing(l, "tracepoint/syscalls/sys_exit_clone, _clone3, "
								"_fork, _vfork", consequence, err);
					continue;
				}
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

/* log2 of the page size: the kernel counts memory in pages, not always of 4 KiB. */
static int page_shift(__u32 *ret)
{
	long size = sysconf(_SC_PAGESIZE);

	if (size <= 0 || (size & (size - 1)))
		return -EINVAL;
	*ret = (__u32)__builtin_ctzl((unsigned long)size);
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
	l->skel->rodata->targ_wakeup_bytes =
		(opts->ringbuf_bytes ? opts->ringbuf_bytes : RCA_DEFAULT_RINGBUF_BYTES) / 4;
	l->skel->rodata->targ_kill_signals =
		opts->kill_signals ? opts->kill_signals : LOADER_DEFAULT_KILL_SIGNALS;
	failed_step = "page size";
	err = page_shift(&l->skel->rodata->targ_page_shift);
	if (err)
		goto fail;
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
	/*
	 * One buffer for every walk, kept: a fresh one per walk was an mmap and
	 * its page faults each time (values of 800 bytes, BATCH of them). A walk
	 * started from a walk's callback gets a buffer of its own.
	 */
	static unsigned char *kept;
	static size_t kept_size;
	static int walking;
	size_t need = BATCH * (value_size + 4 * sizeof(__u64));
	unsigned char *buf = kept, *values;
	__u64 *keys, token[4];
	__u32 count;
	int err, ret = 0, first = 1, done = 0, own = walking;

	if (key_size > sizeof(token))
		return -EINVAL;
	if (own || need > kept_size) {
		buf = own ? malloc(need) : realloc(kept, need);
		if (!buf)
			return -ENOMEM;
		if (!own) {
			kept = buf;
			kept_size = need;
		}
	}
	/* u64-aligned: the callbacks read keys and values as structs of u64s. */
	keys = (__u64 *)buf;
	values = buf + BATCH * 4 * sizeof(__u64);
	walking++;
	while (!done && !ret) {
		count = BATCH;
		err = bpf_map_lookup_batch(fd, first ? NULL : token, token, keys, values, &count,
					   NULL);
		if (err) {
			err = -errno;
			if (err == -ENOENT) {
				done = 1;
			} else if (first && (err == -EINVAL || err == -ENOTSUPP || err == -EOPNOTSUPP)) {
				walking--;
				if (own)
					free(buf);
				goto fallback;
			} else {
				ret = err;
				break;
			}
		}
		first = 0;
		for (__u32 i = 0; i < count && !ret; i++) {
			const unsigned char *key = (const unsigned char *)keys + i * key_size;

			ret = cb(ctx, key, values + i * value_size);
		}
	}
	walking--;
	if (own)
		free(buf);
	return ret;

fallback: {
	__u64 key[4], next[4], value_buf[512];

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

/*
 * One walk for every map reader: the caller's typed callback, and how a raw
 * entry becomes its arguments (a u64 key passed by value, a u64 value passed
 * as a count, else pointers to the key and the value).
 */
enum map_walk_kind {
	WALK_UNIT,
	WALK_LEDGER,
	WALK_STATUS,
	WALK_MEM,
	WALK_KILL,
	WALK_FORKFAIL,
};

struct map_walk {
	enum map_walk_kind kind;
	union {
		loader_unit_fn unit;
		loader_ledger_fn ledger;
		loader_status_fn status;
		loader_mem_fn mem;
		loader_kill_fn kill;
		loader_forkfail_fn forkfail;
	} fn;
	void *ctx;
};

static int map_walk_entry(void *ctx, const void *key, const void *value)
{
	const struct map_walk *w = ctx;
	uint64_t n;

	/* A key or value of a single u64 is handed over by value. */
	switch (w->kind) {
	case WALK_UNIT:
		memcpy(&n, key, sizeof(n));
		return w->fn.unit(w->ctx, n, value);
	case WALK_LEDGER:
		return w->fn.ledger(w->ctx, key, value);
	case WALK_STATUS:
		return w->fn.status(w->ctx, key, value);
	case WALK_MEM:
		memcpy(&n, key, sizeof(n));
		return w->fn.mem(w->ctx, n, value);
	case WALK_KILL:
		memcpy(&n, value, sizeof(n));
		return w->fn.kill(w->ctx, key, n);
	case WALK_FORKFAIL:
		memcpy(&n, value, sizeof(n));
		return w->fn.forkfail(w->ctx, key, n);
	}
	return -EINVAL;
}

/* Entry sizes come from the map itself, so the walk steps through it as the kernel packs it. */
static int map_walk(struct bpf_map *map, const struct map_walk *w)
{
	return for_each_entry(bpf_map__fd(map), bpf_map__key_size(map), bpf_map__value_size(map),
			      map_walk_entry, (void *)w);
}

int loader__for_each_unit(struct loader *l, loader_unit_fn fn, void *ctx)
{
	return map_walk(l->skel->maps.unit_stats,
			&(struct map_walk){ .kind = WALK_UNIT, .fn.unit = fn, .ctx = ctx });
}

int loader__for_each_ledger(struct loader *l, loader_ledger_fn fn, void *ctx)
{
	return map_walk(l->skel->maps.respawn_ledger,
			&(struct map_walk){ .kind = WALK_LEDGER, .fn.ledger = fn, .ctx = ctx });
}

int loader__for_each_status(struct loader *l, loader_status_fn fn, void *ctx)
{
	return map_walk(l->skel->maps.exit_status,
			&(struct map_walk){ .kind = WALK_STATUS, .fn.status = fn, .ctx = ctx });
}

int loader__for_each_mem(struct loader *l, loader_mem_fn fn, void *ctx)
{
	return map_walk(l->skel->maps.unit_mem,
			&(struct map_walk){ .kind = WALK_MEM, .fn.mem = fn, .ctx = ctx });
}

int loader__for_each_kill(struct loader *l, loader_kill_fn fn, void *ctx)
{
	return map_walk(l->skel->maps.kill_counts,
			&(struct map_walk){ .kind = WALK_KILL, .fn.kill = fn, .ctx = ctx });
}

int loader__for_each_forkfail(struct loader *l, loader_forkfail_fn fn, void *ctx)
{
	return map_walk(l->skel->maps.fork_failures,
			&(struct map_walk){ .kind = WALK_FORKFAIL, .fn.forkfail = fn, .ctx = ctx });
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

/*
 * Keys to delete, gathered in one walk of a map for every gone cgroup at once
 * (sorted ids, bsearch), with no cap per cgroup: a key left behind would come
 * back as live and be counted twice.
 */
struct forget_ctx {
	const uint64_t *ids;
	uint32_t n_ids;
	size_t key_size;
	unsigned char *keys;
	uint32_t n, cap;
	int err;
};

static int id_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int gone(const struct forget_ctx *f, uint64_t id)
{
	return bsearch(&id, f->ids, f->n_ids, sizeof(*f->ids), id_cmp) != NULL;
}

static int forget_key(struct forget_ctx *f, const void *key)
{
	if (f->n == f->cap) {
		uint32_t cap = f->cap ? f->cap * 2 : 256;
		unsigned char *p = realloc(f->keys, cap * f->key_size);

		if (!p)
			return f->err = -ENOMEM;
		f->keys = p;
		f->cap = cap;
	}
	memcpy(f->keys + (size_t)f->n++ * f->key_size, key, f->key_size);
	return 0;
}

static int collect_kill(void *ctx, const struct rca_kill_key *key, uint64_t count)
{
	struct forget_ctx *f = ctx;

	(void)count;
	if (gone(f, key->target_cgroup_id) || gone(f, key->sender_cgroup_id))
		return forget_key(f, key);
	return 0;
}

static int collect_forkfail(void *ctx, const struct rca_forkfail_key *key, uint64_t count)
{
	struct forget_ctx *f = ctx;

	(void)count;
	return gone(f, key->cgroup_id) ? forget_key(f, key) : 0;
}

static void delete_collected(struct forget_ctx *f, int fd)
{
	for (uint32_t i = 0; i < f->n; i++)
		bpf_map_delete_elem(fd, f->keys + (size_t)i * f->key_size);
	f->n = 0;
}

int loader__forget_cgroups(struct loader *l, const uint64_t *sorted_ids, uint32_t n)
{
	struct forget_ctx f = { .ids = sorted_ids, .n_ids = n };

	f.key_size = sizeof(struct rca_kill_key);
	loader__for_each_kill(l, collect_kill, &f);
	delete_collected(&f, bpf_map__fd(l->skel->maps.kill_counts));
	free(f.keys);
	f.keys = NULL;
	f.cap = 0;
	f.key_size = sizeof(struct rca_forkfail_key);
	loader__for_each_forkfail(l, collect_forkfail, &f);
	delete_collected(&f, bpf_map__fd(l->skel->maps.fork_failures));
	free(f.keys);
	for (uint32_t i = 0; i < n; i++) {
		bpf_map_delete_elem(bpf_map__fd(l->skel->maps.unit_mem), &sorted_ids[i]);
		bpf_map_delete_elem(bpf_map__fd(l->skel->maps.unit_stats), &sorted_ids[i]);
	}
	return f.err;
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
