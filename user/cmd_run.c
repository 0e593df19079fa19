// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `rcatrace run`: attach, sample the kernel tables each interval, keep the state file. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "commands.h"
#include "escape.h"
#include "json_writer.h"
#include "loader.h"
#include "options.h"
#include "record.h"
#include "report.h"
#include "state_file.h"
#include "system.h"
#include "unit_resolver.h"
#include "unit_table.h"
#include "view.h"

/* Gone cgroups are looked for this often, and whenever unit_stats is 3/4 full. */
#define RETIRE_EVERY_MS 30000
/* A unit idle this long is a candidate for retirement (its cgroup may be gone). */
#define RETIRE_IDLE_NS (10ULL * 1000000000ULL)
#define MAX_RETIRE 1024

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	stop_requested = 1;
	/* A second Ctrl-C kills: the default action is back. */
	signal(sig, SIG_DFL);
}

struct run_ctx {
	struct run_options o;
	struct unit_resolver *resolver;
	struct unit_table *table;
	struct loader *loader;
	struct view *view;
	struct json_writer json;
	uint64_t records_invalid;
	uint64_t records;
	uint64_t retire_ids[MAX_RETIRE];
	uint32_t n_retire;
	uint32_t units_in_map;
	int state_error;
	int out_error;
};

static int name_cgroup(void *ctx, uint64_t cgroup_id, const char *leaf, char *dst, size_t size)
{
	struct run_ctx *r = ctx;

	return unit_resolver__name(r->resolver, cgroup_id, leaf, dst, size) == UNIT_NAME_NONE;
}

static void json_time(struct json_writer *w, const char *key, int64_t ms)
{
	char buf[40];

	json_kv_string(w, key, clock_format_iso8601(ms, buf, sizeof(buf)));
}

static void emit_event(struct run_ctx *r, const struct rca_event *ev, const char *unit)
{
	struct json_writer *w = &r->json;
	char sig[16];

	json_object_begin(w);
	json_kv_string(w, "type", ev->type == RCA_REC_EXEC ? "exec" : "exit");
	json_time(w, "time", clock_boot_ns_to_unix_ms(ev->time_ns));
	json_kv_u64(w, "pid", ev->pid);
	json_kv_u64(w, "ppid", ev->ppid);
	json_key(w, "comm");
	json_string_n(w, ev->comm, sizeof(ev->comm));
	json_kv_string(w, "unit", unit);
	json_kv_u64(w, "cgroup_id", ev->cgroup_id);
	if (ev->type == RCA_REC_EXEC) {
		json_key(w, "filename");
		json_string_n(w, ev->filename, sizeof(ev->filename));
	} else {
		if (ev->killed) {
			json_kv_null(w, "exit_code");
			json_kv_u64(w, "signal", (uint64_t)ev->signal);
			json_kv_string(w, "signal_name", report_signal_name((uint32_t)ev->signal, sig, sizeof(sig)));
			json_kv_bool(w, "core_dumped", ev->core_dumped);
		} else {
			json_kv_u64(w, "exit_code", (uint64_t)ev->exit_code);
			json_kv_null(w, "signal");
		}
		json_kv_double(w, "lifetime_ms", ev->lifetime_ns / 1e6, 3);
	}
	json_object_end(w);
	fputc('\n', stdout);
}

static int on_record(void *ctx, const void *data, size_t size)
{
	struct run_ctx *r = ctx;
	struct rca_event ev;
	char unit[UNIT_NAME_MAX];

	if (record_decode(data, size, &ev) < 0) {
		r->records_invalid++;
		return 0;
	}
	r->records++;
	if (ev.type == RCA_REC_EXEC)
		unit_table__learn_exe(r->table, ev.exe_id, ev.filename);
	if (!r->o.json)
		return 0;
	/*
	 * Named now, at first sight; if the cgroup is already gone, by the leaf
	 * name the kernel recorded when it first counted the unit.
	 */
	if (!unit_resolver__cached(r->resolver, ev.cgroup_id)) {
		char leaf[RCA_CGROUP_NAME_LEN + 1] = "";

		loader__unit_leaf(r->loader, ev.cgroup_id, leaf, sizeof(leaf));
		unit_resolver__name(r->resolver, ev.cgroup_id, leaf, unit, sizeof(unit));
	} else {
		unit_resolver__name(r->resolver, ev.cgroup_id, NULL, unit, sizeof(unit));
	}
	if (options_unit_matches(r->o.unit_globs, r->o.n_unit_globs, unit))
		emit_event(r, &ev, unit);
	return 0;
}

static int is_retired(const struct run_ctx *r, uint64_t id)
{
	for (uint32_t i = 0; i < r->n_retire; i++)
		if (r->retire_ids[i] == id)
			return 1;
	return 0;
}

static int sample_unit(void *ctx, uint64_t cgroup_id, const struct rca_unit_stats *st)
{
	struct run_ctx *r = ctx;

	r->units_in_map++;
	unit_table__add_unit(r->table, cgroup_id, st, is_retired(r, cgroup_id));
	return 0;
}

static int sample_ledger(void *ctx, const struct rca_ledger_key *key, const struct rca_ledger *l)
{
	struct run_ctx *r = ctx;

	unit_table__add_ledger(r->table, key, l, is_retired(r, key->cgroup_id));
	return 0;
}

static int sample_status(void *ctx, const struct rca_status_key *key, uint64_t count)
{
	struct run_ctx *r = ctx;

	unit_table__add_status(r->table, key, count, is_retired(r, key->cgroup_id));
	return 0;
}

struct retire_scan {
	struct run_ctx *r;
	uint64_t now_ns;
};

static int find_gone(void *ctx, uint64_t cgroup_id, const struct rca_unit_stats *st)
{
	struct retire_scan *s = ctx;
	struct run_ctx *r = s->r;

	if (r->n_retire >= MAX_RETIRE || st->last_ns + RETIRE_IDLE_NS > s->now_ns)
		return 0;
	if (unit_resolver__exists(r->resolver, cgroup_id) == 0)
		r->retire_ids[r->n_retire++] = cgroup_id;
	return 0;
}

static void report_finding(void *ctx, const struct unit_table_finding *f)
{
	struct run_ctx *r = ctx;
	const char *what = f->what == RESPAWN_STORM_STARTED ? "started" : "ended";
	char unit[FIG_UNIT_NAME_MAX * 4], exe[RCA_EXE_PATH_LEN * 4], status[256];

	if (!options_unit_matches(r->o.unit_globs, r->o.n_unit_globs, f->unit->name))
		return;
	if (r->o.json) {
		struct json_writer *w = &r->json;

		json_object_begin(w);
		json_kv_string(w, "type", "finding");
		json_kv_string(w, "finding", "respawn_storm");
		json_kv_string(w, "state", what);
		json_time(w, "time", clock_now_unix_ms());
		json_kv_string(w, "unit", f->unit->name);
		json_kv_string(w, "executable", f->exe->path);
		json_kv_u64(w, "starts", f->exe->starts);
		json_kv_u64(w, "window_starts", f->fig.window_starts);
		json_kv_u64(w, "window_failed", f->fig.window_failed);
		json_kv_double(w, "period_ms", f->fig.period_ms, 1);
		json_kv_double(w, "lifetime_ms", f->fig.lifetime_ms, 1);
		json_key(w, "exit_codes");
		report_json_status(w, f->exe, 1, RCA_STATUS_CODE);
		json_key(w, "signals");
		report_json_status(w, f->exe, 1, RCA_STATUS_SIGNAL);
		json_object_end(w);
		fputc('\n', stdout);
		fflush(stdout);
		return;
	}
	escape_terminal(unit, sizeof(unit), f->unit->name, strlen(f->unit->name));
	escape_terminal(exe, sizeof(exe), f->exe->path, strlen(f->exe->path));
	{
		struct fig_unit one = { .n_exes = 1, .exes = (struct fig_exe *)f->exe };

		report_format_status(status, sizeof(status), &one);
	}
	/* stderr: one clear line, and it does not disturb the redrawn table on stdout. */
	if (f->what == RESPAWN_STORM_STARTED)
		fprintf(stderr,
			"rcatrace: RESPAWN STORM %s: %s started %llu times (%llu in the last %.0fs), "
			"every %.1fs, exits %s\n",
			unit, exe, (unsigned long long)f->exe->starts,
			(unsigned long long)f->fig.window_starts, r->o.interval_ms ? 300.0 : 0,
			f->fig.period_ms / 1000.0, status[0] ? status : "-");
	else
		fprintf(stderr, "rcatrace: respawn storm ended %s: %s, %llu starts in all, exits %s\n",
			unit, exe, (unsigned long long)f->exe->starts, status[0] ? status : "-");
}

static void emit_stats(struct run_ctx *r, const uint64_t lost[RCA_LOST_KIND_MAX], int64_t now_ms)
{
	static const char *const lost_keys[RCA_LOST_KIND_MAX] = {
		[RCA_LOST_RINGBUF_EXEC] = "ringbuf_exec", [RCA_LOST_RINGBUF_EXIT] = "ringbuf_exit",
		[RCA_LOST_UNITS_FULL] = "units_full",	  [RCA_LOST_LEDGER_FULL] = "ledger_full",
		[RCA_LOST_STATUS_FULL] = "status_full",	  [RCA_LOST_PROCS_FULL] = "procs_full",
	};
	struct unit_resolver_stats rs;
	struct json_writer *w = &r->json;

	unit_resolver__stats(r->resolver, &rs);
	json_object_begin(w);
	json_kv_string(w, "type", "stats");
	json_time(w, "time", now_ms);
	json_key(w, "lost");
	json_object_begin(w);
	for (int i = 0; i < RCA_LOST_KIND_MAX; i++)
		json_kv_u64(w, lost_keys[i], lost[i]);
	json_object_end(w);
	json_kv_u64(w, "records", r->records);
	json_kv_u64(w, "records_invalid", r->records_invalid);
	json_kv_u64(w, "units", r->units_in_map);
	json_kv_u64(w, "units_unnamed", rs.unnamed);
	json_kv_u64(w, "units_named_from_kernel", rs.from_leaf);
	json_kv_u64(w, "unit_cache_evictions", rs.evictions);
	json_kv_bool(w, "state_saved", r->o.state_path && !r->state_error);
	json_object_end(w);
	fputc('\n', stdout);
}

/* One sample: fold the kernel maps into the table, retire gone cgroups, run the detector. */
static int sample(struct run_ctx *r, int64_t now_ms, int retire_scan, uint64_t lost[])
{
	struct unit_resolver_stats rs;
	int err;

	r->n_retire = 0;
	if (retire_scan) {
		struct retire_scan s = { r, clock_now_boot_ns() };

		/* Decide who is gone BEFORE reading: a gone cgroup cannot gain events. */
		loader__for_each_unit(r->loader, find_gone, &s);
	}
	r->units_in_map = 0;
	unit_table__begin(r->table);
	err = loader__for_each_unit(r->loader, sample_unit, r);
	if (!err)
		err = loader__for_each_ledger(r->loader, sample_ledger, r);
	if (!err)
		err = loader__for_each_status(r->loader, sample_status, r);
	if (err)
		return err;
	for (uint32_t i = 0; i < r->n_retire; i++)
		loader__forget_cgroup(r->loader, r->retire_ids[i]);
	loader__read_lost(r->loader, lost);
	unit_resolver__stats(r->resolver, &rs);
	unit_table__set_lost(r->table, lost, rs.unnamed);
	return unit_table__end(r->table, now_ms, report_finding, r);
}

static void save_state(struct run_ctx *r)
{
	int err;

	if (!r->o.state_path)
		return;
	err = state_file_save(r->o.state_path, unit_table__state(r->table));
	if (err && err != r->state_error)
		fprintf(stderr, "rcatrace: cannot write the state file %s: %s (will retry)\n",
			r->o.state_path, strerror(-err));
	r->state_error = err;
}

static void print_summary(struct run_ctx *r)
{
	const struct fig_boot *cur = unit_table__current(r->table);
	const struct fig_unit **units;
	uint32_t n = 0;

	if (!cur)
		return;
	units = calloc(cur->n_units ? cur->n_units : 1, sizeof(*units));
	if (!units)
		return;
	for (uint32_t i = 0; i < cur->n_units; i++)
		if (options_unit_matches(r->o.unit_globs, r->o.n_unit_globs, cur->units[i].name))
			units[n++] = &cur->units[i];
	if (r->o.json) {
		struct json_writer *w = &r->json;

		json_object_begin(w);
		json_kv_string(w, "type", "summary");
		json_time(w, "time", clock_now_unix_ms());
		json_key(w, "units");
		json_array_begin(w);
		for (uint32_t i = 0; i < n; i++)
			report_json_unit(w, units[i], 1, NULL, NULL);
		json_array_end(w);
		json_object_end(w);
		fputc('\n', stdout);
	} else {
		fprintf(stdout, "\nrcatrace: summary of this boot (%u units)\n", n);
		report_text_units(stdout, units, n, 0);
	}
	fflush(stdout);
	free(units);
}

static int load_base_state(const struct run_options *o, struct fig_state *base)
{
	char err[256], aside[PATH_MAX];
	int ret;

	fig_state_init(base);
	if (!o->state_path)
		return 0;
	ret = state_file_load(o->state_path, base, err, sizeof(err));
	if (ret == 0 || ret == -ENOENT)
		return 0;
	if (ret == -EACCES || ret == -EPERM || ret == -EISDIR) {
		fprintf(stderr, "rcatrace: cannot read the state file %s: %s; use --state PATH or --no-state\n",
			o->state_path, strerror(-ret));
		return ret;
	}
	if (state_file_set_aside(o->state_path, aside, sizeof(aside)) == 0)
		fprintf(stderr, "rcatrace: state file %s is unreadable (%s); kept it as %s and started afresh\n",
			o->state_path, err, aside);
	else
		fprintf(stderr, "rcatrace: state file %s is unreadable (%s) and could not be set aside; "
				"use --state PATH\n", o->state_path, err);
	return 0;
}

static void explain_load_failure(int err)
{
	const char *step = loader_failed_step();

	if (err == EPERM || err == EACCES)
		fprintf(stderr, "rcatrace: the kernel refused to %s the BPF programs (%s): run as root "
				"(or with CAP_BPF, CAP_PERFMON and CAP_DAC_READ_SEARCH); a lockdown or "
				"kernel.unprivileged_bpf_disabled may also forbid it\n", step, strerror(err));
	else if (strncmp(step, "attach ", 7) == 0)
		fprintf(stderr, "rcatrace: cannot attach to tracepoint %s (%s): this kernel lacks it; "
				"rerun with -v for details\n", step + 7, strerror(err));
	else
		fprintf(stderr, "rcatrace: cannot %s the BPF programs: %s; rerun with -v for libbpf's "
				"diagnostics\n", step, strerror(err));
}

int cmd_run(int argc, char **argv)
{
	struct run_ctx r = { 0 };
	struct unit_table_opts topts = { 0 };
	struct loader_opts lopts = { 0 };
	struct fig_state base;
	char err[256], boot_id[FIG_BOOT_ID_MAX];
	uint64_t lost[RCA_LOST_KIND_MAX] = { 0 };
	int64_t start_ms, next_sample, next_save, next_retire, now;
	int ret = 1, e;

	switch (options_parse_run(argc, argv, &r.o, err, sizeof(err))) {
	case OPTIONS_HELP:
		fputs(options_run_usage, stdout);
		return 0;
	case OPTIONS_ERROR:
		fprintf(stderr, "rcatrace run: %s\n\n%s", err, options_run_usage);
		return 2;
	case OPTIONS_OK:
		break;
	}
	if (!system_has_btf()) {
		fprintf(stderr, "rcatrace: this kernel exposes no BTF at /sys/kernel/btf/vmlinux; rcatrace "
				"needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (5.8 or later)\n");
		return 1;
	}
	if (!system_can_trace()) {
		fprintf(stderr, "rcatrace: tracing needs root (or CAP_BPF and CAP_PERFMON): run it with "
				"sudo\n");
		return 1;
	}
	if (system_boot_id(boot_id, sizeof(boot_id)) < 0)
		snprintf(boot_id, sizeof(boot_id), "unknown");
	json_init(&r.json, stdout);
	signal(SIGPIPE, SIG_IGN);

	r.resolver = unit_resolver__new(NULL);
	if (!r.resolver) {
		fprintf(stderr, "rcatrace: no cgroup v2 hierarchy is mounted (%s); mount one with "
				"'mount -t cgroup2 none /sys/fs/cgroup/unified'\n", strerror(errno));
		return 1;
	}
	if (load_base_state(&r.o, &base) < 0)
		goto out;
	topts.base = &base;
	topts.boot_id = boot_id;
	topts.name = name_cgroup;
	topts.name_ctx = &r;
	respawn_detector_config_default(&topts.detector);
	r.table = unit_table__new(&topts);
	fig_state_free(&base);
	if (!r.table) {
		fprintf(stderr, "rcatrace: out of memory\n");
		goto out;
	}
	if (!r.o.json) {
		struct view_opts vo = { .out = stdout, .terminal = isatty(STDOUT_FILENO),
					.unit_globs = r.o.unit_globs, .n_unit_globs = r.o.n_unit_globs };

		r.view = view__new(&vo);
		if (!r.view) {
			fprintf(stderr, "rcatrace: out of memory\n");
			goto out;
		}
	}

	lopts.ringbuf_bytes = r.o.ringbuf_bytes;
	lopts.max_units = r.o.max_units;
	lopts.self_tgid = (uint32_t)getpid();
	lopts.verbose = r.o.verbose;
	lopts.on_record = on_record;
	lopts.ctx = &r;
	r.loader = loader__new(&lopts);
	if (!r.loader) {
		explain_load_failure(errno);
		goto out;
	}

	{
		struct sigaction sa = { .sa_handler = on_signal };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	/* Write the state once now, so a bad --state path fails at once, not in an hour. */
	if (r.o.state_path && unit_table__end(r.table, clock_now_unix_ms(), NULL, NULL) == 0) {
		e = state_file_save(r.o.state_path, unit_table__state(r.table));
		if (e) {
			fprintf(stderr, "rcatrace: cannot write the state file %s: %s; use --state PATH "
					"or --no-state\n", r.o.state_path, strerror(-e));
			goto out;
		}
	}
	fprintf(stderr, "rcatrace: attached %d programs (fork, exec, exit); cgroup2 at %s; state %s; "
			"Ctrl-C to stop\n", loader__attached(r.loader), unit_resolver__root(r.resolver),
		r.o.state_path ? r.o.state_path : "off");

	start_ms = clock_now_unix_ms();
	next_sample = start_ms + r.o.interval_ms;
	next_save = start_ms + r.o.state_interval_ms;
	next_retire = start_ms + RETIRE_EVERY_MS;
	while (!stop_requested) {
		int64_t wait;

		now = clock_now_unix_ms();
		if (r.o.duration_ms && now - start_ms >= r.o.duration_ms)
			break;
		wait = next_sample - now;
		if (r.o.duration_ms && start_ms + r.o.duration_ms - now < wait)
			wait = start_ms + r.o.duration_ms - now;
		e = loader__poll(r.loader, wait < 0 ? 0 : (int)(wait > 1000 ? 1000 : wait));
		if (e < 0) {
			fprintf(stderr, "rcatrace: reading the ring buffer failed: %s\n", strerror(-e));
			goto out;
		}
		now = clock_now_unix_ms();
		if (now < next_sample)
			continue;
		{
			uint32_t cap;
			int retire = now >= next_retire;

			loader__unit_capacity(r.loader, &cap);
			if (r.units_in_map * 4 >= cap * 3)
				retire = 1;
			if (retire)
				next_retire = now + RETIRE_EVERY_MS;
			e = sample(&r, now, retire, lost);
		}
		if (e) {
			fprintf(stderr, "rcatrace: reading the kernel tables failed: %s\n", strerror(-e));
			goto out;
		}
		if (now >= next_save) {
			save_state(&r);
			next_save = now + r.o.state_interval_ms;
		}
		if (r.o.json) {
			emit_stats(&r, lost, now);
		} else {
			struct view_status vs = { .units_unnamed = 0, .records_invalid = r.records_invalid,
						  .state_path = r.o.state_path, .state_error = r.state_error };
			struct unit_resolver_stats rs;

			unit_resolver__stats(r.resolver, &rs);
			memcpy(vs.lost, lost, sizeof(vs.lost));
			vs.units_unnamed = rs.unnamed;
			view__render(r.view, unit_table__current(r.table), now, &vs);
		}
		fflush(stdout);
		if (ferror(stdout)) {
			/* The reader went away (a closed pipe): stop, but keep the state. */
			r.out_error = 1;
			break;
		}
		next_sample += r.o.interval_ms;
		if (next_sample <= now)
			next_sample = now + r.o.interval_ms;
	}

	/* Drain what the ring buffer still holds, take the last sample, save, summarise. */
	loader__poll(r.loader, 0);
	now = clock_now_unix_ms();
	if (sample(&r, now, 0, lost) == 0) {
		save_state(&r);
		if (r.o.json)
			emit_stats(&r, lost, now);
	}
	if (!r.out_error)
		print_summary(&r);
	ret = r.state_error ? 1 : 0;
out:
	loader__free(r.loader);
	view__free(r.view);
	unit_table__free(r.table);
	unit_resolver__free(r.resolver);
	return ret;
}
