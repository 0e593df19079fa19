// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `rcatrace run`: attach, sample the kernel tables each interval, keep the state file. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cgroup_controllers.h"
#include "cli_error.h"
#include "clock.h"
#include "commands.h"
#include "escape.h"
#include "json_writer.h"
#include "loader.h"
#include "metrics.h"
#include "metrics_server.h"
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
/* Ledger rows (per unit and executable) idle this long are folded and taken out of the kernel. */
#define LEDGER_IDLE_NS (3600ULL * 1000000000ULL)
#define LEDGER_PRESSED_IDLE_NS (60ULL * 1000000000ULL)
/* Controllers (pids, memory) of active units are read this often; of every unit, 5x slower. */
#define CONTROLLERS_EVERY_MS 2000
#define CONTROLLERS_ALL_EVERY 5
/* The task iterator reconciles per-unit memory with the kernel's counters this often. */
#define MEMORY_SYNC_EVERY_MS 60000
#define MAX_ACTIVE 1024
/* While records flow they reach the JSON stream within this; when quiet, within an interval. */
#define POLL_MS 100
/* With no counter changed, the state file is still rewritten this often (memory figures). */
#define STATE_IDLE_MS 60000

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
	uint32_t ledger_in_map; /* rows read at the last sample */
	int state_error;
	int out_error;
	uint64_t active_ids[MAX_ACTIVE]; /* cgroups whose controllers are read this sample */
	uint32_t n_active;
	int read_controllers;     /* 1: recently active units; 2: every unit */
	uint32_t controller_rounds;
	uint64_t ooms_seen;
	char boot_id[FIG_BOOT_ID_MAX];
	double window_s; /* respawn detector window, for messages */
	double crash_window_s;
	uint64_t signature;       /* sum of every counter read this sample */
	uint64_t saved_signature; /* ... when the state file was last written */
	int64_t saved_ms;
	struct metrics *metrics;	/* NULL: neither --metrics-listen nor --textfile */
	struct metrics_server *server;	/* NULL: no --metrics-listen */
	int textfile_error;
};

static int name_cgroup(void *ctx, uint64_t cgroup_id, uint64_t parent_id, const char *leaf,
		       char *dst, size_t size)
{
	struct run_ctx *r = ctx;
	char kleaf[RCA_CGROUP_NAME_LEN + 1] = "";

	/* Not named yet and no hint given: the kernel's record of the cgroup, if it has one. */
	if (!leaf && !unit_resolver__cached(r->resolver, cgroup_id) &&
	    loader__unit_leaf(r->loader, cgroup_id, kleaf, sizeof(kleaf), &parent_id) == 0)
		leaf = kleaf;
	return unit_resolver__name_gone(r->resolver, cgroup_id, parent_id, leaf, dst, size) ==
	       UNIT_NAME_NONE;
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
	report_json_unit_name(w, unit);
	json_kv_u64(w, "cgroup_id", ev->cgroup_id);
	if (ev->type == RCA_REC_EXEC) {
		json_key(w, "filename");
		json_string_n(w, ev->filename, sizeof(ev->filename));
	} else {
		if (ev->killed) {
			char full[24];

			snprintf(full, sizeof(full), "SIG%s",
				 report_signal_name((uint32_t)ev->signal, sig, sizeof(sig)));
			json_kv_null(w, "exit_code");
			json_kv_string(w, "signal", full);
			json_kv_u64(w, "signal_number", (uint64_t)ev->signal);
			json_kv_bool(w, "core_dumped", ev->core_dumped);
		} else {
			json_kv_u64(w, "exit_code", (uint64_t)ev->exit_code);
			json_kv_null(w, "signal");
			json_kv_null(w, "signal_number");
		}
		json_kv_double(w, "lifetime_ms", ev->lifetime_ns / 1e6, 3);
	}
	json_object_end(w);
	fputc('\n', stdout);
}

/*
 * A record's unit, named now, at first sight; if the cgroup is already gone,
 * by the leaf name the kernel recorded when it first counted the unit.
 */
static void name_record_unit(struct run_ctx *r, uint64_t cgroup_id, char *unit, size_t size)
{
	name_cgroup(r, cgroup_id, 0, NULL, unit, size);
}

static void proc_ref_of(struct run_ctx *r, const struct rca_proc_ref *in, struct fig_proc_ref *out)
{
	out->pid = in->pid;
	snprintf(out->comm, sizeof(out->comm), "%s", in->comm);
	name_record_unit(r, in->cgroup_id, out->unit, sizeof(out->unit));
}

static void handle_oom(struct run_ctx *r, const struct rca_oom_record *rec)
{
	struct fig_oom o;
	char victim_unit[FIG_UNIT_NAME_MAX * 4], comm[RCA_COMM_LEN * 4];
	char trig_comm[RCA_COMM_LEN * 4];
	int err;

	memset(&o, 0, sizeof(o));
	o.time_ms = clock_boot_ns_to_unix_ms(rec->time_ns);
	snprintf(o.boot_id, sizeof(o.boot_id), "%s", r->boot_id);
	proc_ref_of(r, &rec->victim, &o.victim);
	proc_ref_of(r, &rec->trigger, &o.trigger);
	snprintf(o.constraint, sizeof(o.constraint), "%s",
		 rec->constraint == RCA_OOM_MEMCG ? "memcg" : "global");
	snprintf(o.memcg, sizeof(o.memcg), "%s", rec->memcg_name);
	o.memcg_limit_bytes = rec->constraint == RCA_OOM_MEMCG ? (int64_t)rec->memcg_limit_bytes : -1;
	o.memcg_usage_bytes = rec->constraint == RCA_OOM_MEMCG ? (int64_t)rec->memcg_usage_bytes : -1;
	o.rss_anon_kib = rec->rss_pages[RCA_MEM_ANON] > 0 ? rec->rss_pages[RCA_MEM_ANON] * 4 : 0;
	o.rss_file_kib = rec->rss_pages[RCA_MEM_FILE] > 0 ? rec->rss_pages[RCA_MEM_FILE] * 4 : 0;
	o.rss_shmem_kib = rec->rss_pages[RCA_MEM_SHMEM] > 0 ? rec->rss_pages[RCA_MEM_SHMEM] * 4 : 0;
	o.oom_score_adj = (int32_t)rec->oom_score_adj;
	o.n_top_rss = unit_table__top_units(r->table, 0, o.top_rss, FIG_OOM_TOP_UNITS);
	o.n_top_growth = unit_table__top_units(r->table, 1, o.top_growth, FIG_OOM_TOP_UNITS);
	r->ooms_seen++;
	unit_table__add_oom(r->table, &o);
	/* On disk now: the machine may not live to the next interval. */
	if (r->o.state_path && (err = state_file_save(r->o.state_path, unit_table__state(r->table))))
		fprintf(stderr, "rcatrace: could not write the OOM kill to %s: %s\n", r->o.state_path,
			strerror(-err));

	if (r->o.json) {
		struct json_writer *w = &r->json;

		json_object_begin(w);
		json_kv_string(w, "type", "oom_kill");
		report_json_oom_fields(w, &o);
		json_kv_bool(w, "on_disk", r->o.state_path != NULL);
		json_object_end(w);
		fputc('\n', stdout);
		fflush(stdout);
		return;
	}
	escape_terminal(victim_unit, sizeof(victim_unit), o.victim.unit, strlen(o.victim.unit));
	escape_terminal(comm, sizeof(comm), o.victim.comm, strlen(o.victim.comm));
	escape_terminal(trig_comm, sizeof(trig_comm), o.trigger.comm, strlen(o.trigger.comm));
	fprintf(stderr, "rcatrace: OOM KILL %s: %s (pid %u), %s, rss %llu KiB anon + %llu KiB file; "
			"allocation by %s (pid %u)\n",
		victim_unit, comm, o.victim.pid, o.constraint, (unsigned long long)o.rss_anon_kib,
		(unsigned long long)o.rss_file_kib, trig_comm, o.trigger.pid);
}

static void handle_kill(struct run_ctx *r, const struct rca_kill_record *rec)
{
	struct fig_kill k;
	char sig[16];
	int cross;

	memset(&k, 0, sizeof(k));
	k.time_ms = clock_boot_ns_to_unix_ms(rec->time_ns);
	snprintf(k.boot_id, sizeof(k.boot_id), "%s", r->boot_id);
	k.signal = rec->signal;
	k.by_kernel = rec->by_kernel;
	k.result = rec->result;
	proc_ref_of(r, &rec->sender, &k.sender);
	proc_ref_of(r, &rec->target, &k.target);
	k.n_lineage = rec->n_lineage < FIG_LINEAGE_MAX ? rec->n_lineage : FIG_LINEAGE_MAX;
	for (uint32_t i = 0; i < k.n_lineage; i++)
		proc_ref_of(r, &rec->lineage[i], &k.lineage[i]);
	unit_table__add_kill_record(r->table, &k);
	cross = strcmp(k.sender.unit, k.target.unit) != 0 && !k.by_kernel;
	if (!options_unit_matches(r->o.unit_globs, r->o.n_unit_globs, k.target.unit) &&
	    !options_unit_matches(r->o.unit_globs, r->o.n_unit_globs, k.sender.unit))
		return;
	report_signal_name(k.signal, sig, sizeof(sig));
	if (r->o.json) {
		struct json_writer *w = &r->json;

		json_object_begin(w);
		json_kv_string(w, "type", "kill");
		report_json_kill_fields(w, &k);
		json_kv_bool(w, "cross_unit", cross);
		json_object_end(w);
		fputc('\n', stdout);
		return;
	}
	if (cross) {
		char tu[FIG_UNIT_NAME_MAX * 4], tc[64], sc[64], su[FIG_UNIT_NAME_MAX * 4];

		escape_terminal(tu, sizeof(tu), k.target.unit, strlen(k.target.unit));
		escape_terminal(tc, sizeof(tc), k.target.comm, strlen(k.target.comm));
		escape_terminal(sc, sizeof(sc), k.sender.comm, strlen(k.sender.comm));
		escape_terminal(su, sizeof(su), k.sender.unit, strlen(k.sender.unit));
		fprintf(stderr, "rcatrace: KILL %s: %s (pid %u) got SIG%s from %s (pid %u) in %s\n", tu,
			tc, k.target.pid, sig, sc, k.sender.pid, su);
	}
}

static int on_record(void *ctx, const void *data, size_t size)
{
	struct run_ctx *r = ctx;
	struct rca_event ev;
	char unit[UNIT_NAME_MAX];

	switch (record_type(data, size)) {
	case RCA_REC_OOM: {
		struct rca_oom_record oom;

		if (record_decode_oom(data, size, &oom) < 0)
			break;
		r->records++;
		handle_oom(r, &oom);
		return 0;
	}
	case RCA_REC_KILL: {
		struct rca_kill_record kill;

		if (record_decode_kill(data, size, &kill) < 0)
			break;
		r->records++;
		handle_kill(r, &kill);
		return 0;
	}
	default:
		if (record_decode(data, size, &ev) < 0)
			break;
		r->records++;
		if (!r->o.json)
			return 0;
		name_record_unit(r, ev.cgroup_id, unit, sizeof(unit));
		if (options_unit_matches(r->o.unit_globs, r->o.n_unit_globs, unit))
			emit_event(r, &ev, unit);
		return 0;
	}
	r->records_invalid++;
	return 0;
}

static int is_retired(const struct run_ctx *r, uint64_t id)
{
	for (uint32_t i = 0; i < r->n_retire; i++)
		if (r->retire_ids[i] == id)
			return 1;
	return 0;
}

static void add_active(struct run_ctx *r, uint64_t cgroup_id)
{
	for (uint32_t i = 0; i < r->n_active; i++)
		if (r->active_ids[i] == cgroup_id)
			return;
	if (r->n_active < MAX_ACTIVE)
		r->active_ids[r->n_active++] = cgroup_id;
}

static int sample_unit(void *ctx, uint64_t cgroup_id, const struct rca_unit_stats *st)
{
	struct run_ctx *r = ctx;

	r->units_in_map++;
	r->signature += st->starts + st->forks + st->threads + st->execs + st->exits + st->oom_kills;
	unit_table__add_unit(r->table, cgroup_id, st, is_retired(r, cgroup_id));
	if (r->read_controllers && !is_retired(r, cgroup_id) &&
	    (r->read_controllers == 2 || st->last_ns + 60ULL * 1000000000ULL > clock_now_boot_ns()))
		add_active(r, cgroup_id);
	return 0;
}

static int sample_ledger(void *ctx, const struct rca_ledger_key *key, const struct rca_ledger *l)
{
	struct run_ctx *r = ctx;

	r->ledger_in_map++;
	unit_table__add_ledger(r->table, key, l, 0);
	return 0;
}

static int sample_status(void *ctx, const struct rca_status_key *key, const struct rca_status *st)
{
	struct run_ctx *r = ctx;

	r->signature += st->count;
	unit_table__add_status(r->table, key, st, 0);
	return 0;
}

static int retire_ledger_row(void *ctx, const struct rca_ledger_key *key, const struct rca_ledger *l)
{
	struct run_ctx *r = ctx;

	unit_table__add_ledger(r->table, key, l, 1);
	return 0;
}

static int retire_status_row(void *ctx, const struct rca_status_key *key, const struct rca_status *st)
{
	struct run_ctx *r = ctx;

	unit_table__add_status(r->table, key, st, 1);
	return 0;
}

/*
 * Ledger rows are keyed by unit and outlive the unit's cgroups, so a unit
 * restarting every 10 minutes keeps its period. They are folded into the
 * model and taken out of the kernel once idle for LEDGER_IDLE_NS, or, when
 * the map is 3/4 full, once idle for LEDGER_PRESSED_IDLE_NS.
 */
static void retire_ledger(struct run_ctx *r)
{
	uint64_t now = clock_now_boot_ns();
	uint64_t idle = r->ledger_in_map > loader__ledger_capacity(r->loader) / 4 * 3
				? LEDGER_PRESSED_IDLE_NS
				: LEDGER_IDLE_NS;

	if (now > idle)
		loader__retire_ledger(r->loader, now - idle, MAX_RETIRE, retire_ledger_row,
				      retire_status_row, r);
}

static int sample_mem(void *ctx, uint64_t cgroup_id, const struct rca_unit_mem *m)
{
	struct run_ctx *r = ctx;

	unit_table__add_mem(r->table, cgroup_id, m, is_retired(r, cgroup_id));
	/* Units known only by their memory (processes older than us) get figures too. */
	if (r->read_controllers == 2 && !is_retired(r, cgroup_id) &&
	    m->pages[RCA_MEM_ANON] + m->pages[RCA_MEM_FILE] + m->pages[RCA_MEM_SHMEM] > 0)
		add_active(r, cgroup_id);
	return 0;
}

static int sample_kill(void *ctx, const struct rca_kill_key *key, uint64_t count)
{
	struct run_ctx *r = ctx;

	r->signature += count;
	unit_table__add_kills(r->table, key, count,
			      is_retired(r, key->target_cgroup_id) || is_retired(r, key->sender_cgroup_id));
	return 0;
}

static int sample_forkfail(void *ctx, const struct rca_forkfail_key *key, uint64_t count)
{
	struct run_ctx *r = ctx;

	r->signature += count;
	unit_table__add_forkfail(r->table, key, count, is_retired(r, key->cgroup_id));
	return 0;
}

/* Reads the pids/memory controllers of the units active lately, through one of their pids. */
static void read_controllers(struct run_ctx *r)
{
	struct cgroup_controllers_opts co = { .proc_root = "/proc", .cgroup_root = "/sys/fs/cgroup",
					      .cgroup2_mount = unit_resolver__root(r->resolver) };

	for (uint32_t i = 0; i < r->n_active; i++) {
		char rel[PATH_MAX], path[PATH_MAX + 64], name[UNIT_NAME_MAX], line[32];
		struct cgroup_figures cg;
		int64_t procs = 0;
		int pid = -1;
		FILE *f;

		if (unit_resolver__path(r->resolver, r->active_ids[i], rel, sizeof(rel)) < 0)
			continue;
		snprintf(path, sizeof(path), "%s%s/cgroup.procs", unit_resolver__root(r->resolver),
			 strcmp(rel, "/") == 0 ? "" : rel);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (pid < 0)
				pid = atoi(line);
			procs++;
		}
		fclose(f);
		unit_resolver__name(r->resolver, r->active_ids[i], NULL, name, sizeof(name));
		if (pid > 0 && cgroup_controllers_read(&co, pid, &cg) == 0)
			unit_table__set_controllers(r->table, name, &cg, procs);
		else
			unit_table__set_controllers(r->table, name, NULL, procs);
	}
}

static uint64_t mem_available_kib(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	unsigned long long kib = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
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

static void finding_json_head(struct run_ctx *r, const char *finding, int started,
			      const struct fig_unit *u)
{
	struct json_writer *w = &r->json;

	json_object_begin(w);
	json_kv_string(w, "type", "finding");
	json_kv_string(w, "finding", finding);
	json_kv_string(w, "state", started ? "started" : "ended");
	json_time(w, "time", clock_now_unix_ms());
	report_json_unit_name(w, u->name);
}

static void finding_json_end(struct run_ctx *r)
{
	json_object_end(&r->json);
	fputc('\n', stdout);
	fflush(stdout);
}

static void report_respawn(struct run_ctx *r, const struct unit_table_finding *f, const char *unit)
{
	char exe[RCA_EXE_PATH_LEN * 4], status[256];
	struct fig_unit one = { .n_exes = 1, .exes = (struct fig_exe *)f->exe };

	if (r->o.json) {
		struct json_writer *w = &r->json;

		finding_json_head(r, "respawn_storm", f->started, f->unit);
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
		finding_json_end(r);
		return;
	}
	escape_terminal(exe, sizeof(exe), f->exe->path, strlen(f->exe->path));
	report_format_status(status, sizeof(status), &one);
	/* stderr: one clear line, and it does not disturb the redrawn table on stdout. */
	if (f->started)
		fprintf(stderr,
			"rcatrace: RESPAWN STORM %s: %s started %llu times (%llu in the last %.0f s), "
			"every %.1f s, exits %s\n",
			unit, exe, (unsigned long long)f->exe->starts,
			(unsigned long long)f->fig.window_starts, r->window_s,
			f->fig.period_ms / 1000.0, status[0] ? status : "-");
	else
		fprintf(stderr, "rcatrace: respawn storm ended %s: %s, %llu starts in all, exits %s\n",
			unit, exe, (unsigned long long)f->exe->starts, status[0] ? status : "-");
}

static void report_fork_storm(struct run_ctx *r, const struct unit_table_finding *f,
			      const char *unit)
{
	const struct fig_unit *u = f->unit;

	if (r->o.json) {
		struct json_writer *w = &r->json;

		finding_json_head(r, "fork_storm", f->started, u);
		json_kv_double(w, "fork_rate_per_s", f->unit->fork_rate_per_s, 1);
		json_kv_double(w, "window_fork_rate_per_s", f->fork.fork_rate_per_s, 1);
		json_kv_double(w, "exec_rate_per_s", f->fork.exec_rate_per_s, 1);
		json_kv_u64(w, "window_forks", f->fork.window_forks);
		json_kv_u64(w, "window_failed", f->fork.window_failed);
		json_kv_u64(w, "forks_failed", u->forks_failed);
		json_kv_i64(w, "pids_current", u->pids_current);
		json_kv_i64(w, "pids_max", u->pids_max);
		finding_json_end(r);
		return;
	}
	if (f->started) {
		char pids[64] = "";

		if (u->pids_max > 0)
			snprintf(pids, sizeof(pids), ", %lld of %lld pids", (long long)u->pids_current,
				 (long long)u->pids_max);
		fprintf(stderr, "rcatrace: FORK STORM %s: %.0f forks/s now (%llu forks, %llu execs in "
				"the last %.0f s), %llu failed forks%s\n",
			unit, u->fork_rate_per_s, (unsigned long long)f->fork.window_forks,
			(unsigned long long)f->fork.window_execs, f->fork.window_span_ms / 1000.0,
			(unsigned long long)u->forks_failed, pids);
	}
	else
		fprintf(stderr, "rcatrace: fork storm ended %s: %llu forks, %llu failed in all\n", unit,
			(unsigned long long)u->forks, (unsigned long long)u->forks_failed);
}

static void report_leak(struct run_ctx *r, const struct unit_table_finding *f, const char *unit)
{
	const struct fig_memory *m = &f->unit->mem;
	uint64_t rss = m->rss_anon_kib + m->rss_file_kib + m->rss_shmem_kib;

	if (r->o.json) {
		struct json_writer *w = &r->json;

		finding_json_head(r, "leak_suspect", f->started, f->unit);
		json_kv_u64(w, "rss_kib", rss);
		json_kv_double(w, "growth_kib_per_s", m->growth_kib_per_s, 1);
		json_kv_double(w, "growth_fit_r2", m->growth_fit_r2, 3);
		json_kv_double(w, "window_s", m->growth_window_s, 0);
		if (m->exhaustion_eta_s >= 0)
			json_kv_i64(w, "exhaustion_eta_s", m->exhaustion_eta_s);
		else
			json_kv_null(w, "exhaustion_eta_s");
		finding_json_end(r);
		return;
	}
	if (f->started)
		fprintf(stderr, "rcatrace: LEAK SUSPECT %s: %llu KiB resident, growing %.1f KiB/s "
				"(R² %.2f over %.0f s)%s\n",
			unit, (unsigned long long)rss, m->growth_kib_per_s, m->growth_fit_r2,
			m->growth_window_s, m->exhaustion_eta_s >= 0 ? ", memory runs out in time" : "");
	else
		fprintf(stderr, "rcatrace: leak suspect cleared %s: %llu KiB resident\n", unit,
			(unsigned long long)rss);
}

static void report_crash_storm(struct run_ctx *r, const struct unit_table_finding *f,
			       const char *unit)
{
	const struct fig_exe *e = f->crash.exe;
	char sig[16], name[24], exe[RCA_EXE_PATH_LEN * 4], comm[RCA_COMM_LEN * 4 + 1],
		parent[RCA_COMM_LEN * 4 + 1];

	snprintf(name, sizeof(name), "SIG%s", report_signal_name(f->crash.signal, sig, sizeof(sig)));
	if (r->o.json) {
		struct json_writer *w = &r->json;

		finding_json_head(r, "crash_storm", f->started, f->unit);
		json_kv_u64(w, "window_crashes", f->crash.window_crashes);
		json_kv_u64(w, "crashes", f->crash.crashes);
		json_kv_double(w, "window_s", r->crash_window_s, 0);
		json_kv_string(w, "signal", f->crash.signal ? name : NULL);
		json_kv_string(w, "executable", e ? e->path : NULL);
		json_kv_string(w, "comm", e ? e->crash_comm : NULL);
		json_key(w, "parent");
		if (e) {
			json_object_begin(w);
			json_kv_u64(w, "pid", e->crash_ppid);
			json_kv_string(w, "comm", e->crash_parent_comm);
			json_object_end(w);
		} else {
			json_null(w);
		}
		finding_json_end(r);
		return;
	}
	if (!f->started) {
		fprintf(stderr, "rcatrace: crash storm ended %s: %llu crashes in all\n", unit,
			(unsigned long long)f->crash.crashes);
		return;
	}
	escape_terminal(exe, sizeof(exe), e ? e->path : "?", e ? strlen(e->path) : 1);
	escape_terminal(comm, sizeof(comm), e ? e->crash_comm : "?", e ? strlen(e->crash_comm) : 1);
	escape_terminal(parent, sizeof(parent), e ? e->crash_parent_comm : "?",
			e ? strlen(e->crash_parent_comm) : 1);
	fprintf(stderr,
		"rcatrace: CRASH STORM %s: %llu crashes in the last %.0f s (latest %s), %s (%s), "
		"replaced by %s (pid %u)\n",
		unit, (unsigned long long)f->crash.window_crashes, r->crash_window_s, name, comm, exe,
		parent, e ? e->crash_ppid : 0);
}

static void report_finding(void *ctx, const struct unit_table_finding *f)
{
	struct run_ctx *r = ctx;
	char unit[FIG_UNIT_NAME_MAX * 4];

	if (!options_unit_matches(r->o.unit_globs, r->o.n_unit_globs, f->unit->name))
		return;
	escape_terminal(unit, sizeof(unit), f->unit->name, strlen(f->unit->name));
	switch (f->kind) {
	case FINDING_RESPAWN_STORM:
		report_respawn(r, f, unit);
		break;
	case FINDING_FORK_STORM:
		report_fork_storm(r, f, unit);
		break;
	case FINDING_LEAK_SUSPECT:
		report_leak(r, f, unit);
		break;
	case FINDING_CRASH_STORM:
		report_crash_storm(r, f, unit);
		break;
	}
}

static void emit_stats(struct run_ctx *r, const uint64_t lost[RCA_LOST_KIND_MAX], int64_t now_ms)
{
		struct unit_resolver_stats rs;
	struct json_writer *w = &r->json;

	unit_resolver__stats(r->resolver, &rs);
	json_object_begin(w);
	json_kv_string(w, "type", "stats");
	json_time(w, "time", now_ms);
	json_key(w, "lost");
	json_object_begin(w);
	for (int i = 0; i < RCA_LOST_KIND_MAX; i++)
		json_kv_u64(w, report_lost_key(i), lost[i]);
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
	r->n_active = 0;
	r->signature = r->ooms_seen + r->n_retire;
	unit_table__begin(r->table);
	err = loader__for_each_unit(r->loader, sample_unit, r);
	if (!err && retire_scan)
		retire_ledger(r);
	r->ledger_in_map = 0;
	if (!err)
		err = loader__for_each_ledger(r->loader, sample_ledger, r);
	if (!err)
		err = loader__for_each_status(r->loader, sample_status, r);
	if (!err)
		err = loader__for_each_mem(r->loader, sample_mem, r);
	if (!err)
		err = loader__for_each_kill(r->loader, sample_kill, r);
	if (!err)
		err = loader__for_each_forkfail(r->loader, sample_forkfail, r);
	if (err)
		return err;
	if (r->read_controllers)
		read_controllers(r);
	unit_table__set_mem_available(r->table, mem_available_kib());
	for (uint32_t i = 0; i < r->n_retire; i++)
		loader__forget_cgroup(r->loader, r->retire_ids[i]);
	loader__read_lost(r->loader, lost);
	unit_resolver__stats(r->resolver, &rs);
	unit_table__set_lost(r->table, lost, rs.unnamed);
	return unit_table__end(r->table, now_ms, report_finding, r);
}

/*
 * force: at exit. Otherwise an idle machine is not woken for an fsync every
 * few seconds: with no counter changed the file is rewritten only every
 * STATE_IDLE_MS, for the memory figures.
 */
static void save_state(struct run_ctx *r, int64_t now, int force)
{
	int err;

	if (!r->o.state_path)
		return;
	if (!force && !r->state_error && r->signature == r->saved_signature &&
	    now - r->saved_ms < STATE_IDLE_MS)
		return;
	r->saved_signature = r->signature;
	r->saved_ms = now;
	err = state_file_save(r->o.state_path, unit_table__state(r->table));
	if (err && err != r->state_error)
		fprintf(stderr, "rcatrace: cannot write the state file %s: %s (will retry)\n",
			r->o.state_path, strerror(-err));
	r->state_error = err;
}

/*
 * Renders this boot's figures once and hands the finished buffers to the HTTP
 * thread and the textfile: neither ever reads the live tables.
 */
static int export_metrics(struct run_ctx *r, int64_t now_ms, int quiet)
{
	const struct fig_state *st = unit_table__state(r->table);
	struct metrics_input in = { .boot = unit_table__current(r->table), .state = st,
				    .lost = st->lost, .units_unnamed = st->units_unnamed,
				    .max_units = r->o.metrics_max_units, .now_ms = now_ms,
				    .version = RCATRACE_VERSION };
	char *text = NULL, *om = NULL;
	size_t text_len = 0, om_len = 0;
	int err;

	if (!r->metrics)
		return 0;
	err = metrics__collect(r->metrics, &in);
	if (!err)
		err = metrics__render(r->metrics, METRICS_TEXT, &text, &text_len);
	if (!err && r->server && (err = metrics__render(r->metrics, METRICS_OPENMETRICS, &om, &om_len)))
		free(text);
	if (err)
		return err; /* out of memory: the last published figures stay up */
	if (r->o.textfile_dir) {
		err = metrics_write_textfile(r->o.textfile_dir, text, text_len);
		if (err && err != r->textfile_error && !quiet)
			fprintf(stderr, "rcatrace: cannot write %s/%s: %s (will retry)\n",
				r->o.textfile_dir, METRICS_TEXTFILE_NAME, strerror(-err));
		r->textfile_error = err;
	}
	if (r->server) {
		metrics_server__publish(r->server, METRICS_TEXT, text, text_len);
		metrics_server__publish(r->server, METRICS_OPENMETRICS, om, om_len);
	} else {
		free(text);
	}
	return err;
}

/* --metrics-listen and --textfile: bound and written once now, so a mistake fails at start. */
static int start_metrics(struct run_ctx *r)
{
	const struct listen_address *a = &r->o.metrics_addr;
	int err;

	if (!r->o.metrics_listen && !r->o.textfile_dir)
		return 0;
	r->metrics = metrics__new();
	if (!r->metrics) {
		cli_error(r->o.json, "rcatrace", "out of memory");
		return -ENOMEM;
	}
	if (r->o.metrics_listen) {
		r->server = metrics_server__new(a->host, a->port);
		if (!r->server) {
			err = errno;
			cli_error(r->o.json, "rcatrace", "cannot serve metrics on %s%s%s:%u: %s; %s",
				a->family == AF_INET6 ? "[" : "", a->host, a->family == AF_INET6 ? "]" : "",
				a->port, strerror(err),
				err == EADDRINUSE ? "another program (or rcatrace) holds that port: pick "
						    "another with --metrics-listen"
				: err == EADDRNOTAVAIL ? "that address is not on this machine"
				: err == EACCES ? "ports below 1024 need CAP_NET_BIND_SERVICE: pick a higher one"
						: "check --metrics-listen");
			return -err;
		}
	}
	err = export_metrics(r, clock_now_unix_ms(), 1);
	if (err && r->o.textfile_dir) {
		cli_error(r->o.json, "rcatrace", "cannot write the metrics textfile %s/%s: %s; --textfile "
			  "needs an existing directory rcatrace can write to",
			r->o.textfile_dir, METRICS_TEXTFILE_NAME, strerror(-err));
		return err;
	}
	if (r->server)
		fprintf(stderr, "rcatrace: serving metrics at http://%s%s%s:%u/metrics\n",
			a->family == AF_INET6 ? "[" : "", a->host, a->family == AF_INET6 ? "]" : "",
			metrics_server__port(r->server));
	return 0;
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
	qsort(units, n, sizeof(*units), report_unit_cmp);
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

static void explain_load_failure(int json, int err)
{
	const char *step = loader_failed_step();

	if (err == EPERM || err == EACCES)
		cli_error(json, "rcatrace",
			  "the kernel refused to %s the BPF programs (%s): run as root (or with "
			  "CAP_BPF and CAP_PERFMON, and CAP_DAC_READ_SEARCH to name cgroups); a lockdown or "
			  "kernel.unprivileged_bpf_disabled may also forbid it", step, strerror(err));
	else if (strncmp(step, "attach ", 7) == 0)
		cli_error(json, "rcatrace",
			  "cannot attach to tracepoint %s (%s): this kernel lacks it; rerun with -v for "
			  "details", step + 7, strerror(err));
	else
		cli_error(json, "rcatrace",
			  "cannot %s the BPF programs: %s; rerun with -v for libbpf's diagnostics", step,
			  strerror(err));
}

int cmd_run(int argc, char **argv)
{
	struct run_ctx r = { 0 };
	struct unit_table_opts topts = { 0 };
	struct loader_opts lopts = { 0 };
	struct fig_state base;
	char err[256], boot_id[FIG_BOOT_ID_MAX];
	uint64_t lost[RCA_LOST_KIND_MAX] = { 0 };
	int64_t start_ms, next_sample, next_save, next_retire, next_controllers, next_memsync, now;
	int64_t poll_ms = POLL_MS;
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
		cli_error(r.o.json, "rcatrace",
			  "this kernel exposes no BTF at /sys/kernel/btf/vmlinux; rcatrace needs a kernel "
			  "built with CONFIG_DEBUG_INFO_BTF=y (5.8 or later)");
		return 1;
	}
	if (!system_can_trace()) {
		cli_error(r.o.json, "rcatrace",
			  "tracing needs root (or CAP_BPF and CAP_PERFMON): run it with sudo");
		return 1;
	}
	if (system_boot_id(boot_id, sizeof(boot_id)) < 0)
		snprintf(boot_id, sizeof(boot_id), "unknown");
	snprintf(r.boot_id, sizeof(r.boot_id), "%s", boot_id);
	json_init(&r.json, stdout);
	signal(SIGPIPE, SIG_IGN);

	r.resolver = unit_resolver__new(NULL);
	if (!r.resolver) {
		cli_error(r.o.json, "rcatrace",
			  "no cgroup v2 hierarchy is mounted (%s); mount one with "
			  "'mount -t cgroup2 none /sys/fs/cgroup/unified'", strerror(errno));
		return 1;
	}
	if (load_base_state(&r.o, &base) < 0)
		goto out;
	topts.base = &base;
	topts.boot_id = boot_id;
	topts.state_interval_ms = (uint32_t)r.o.state_interval_ms;
	topts.name = name_cgroup;
	topts.name_ctx = &r;
	respawn_detector_config_default(&topts.detector);
	memory_growth_config_default(&topts.growth);
	topts.growth.window_s = r.o.growth_window_ms / 1000.0;
	fork_storm_config_default(&topts.fork_storm);
	crash_storm_config_default(&topts.crash_storm);
	r.window_s = topts.detector.window_ms / 1000.0;
	r.crash_window_s = topts.crash_storm.window_ms / 1000.0;
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
	if (start_metrics(&r) < 0)
		goto out;

	lopts.ringbuf_bytes = r.o.ringbuf_bytes;
	lopts.max_units = r.o.max_units;
	lopts.self_tgid = (uint32_t)getpid();
	lopts.verbose = r.o.verbose;
	lopts.kill_signals = r.o.kill_signals;
	lopts.on_record = on_record;
	lopts.ctx = &r;
	r.loader = loader__new(&lopts);
	if (!r.loader) {
		explain_load_failure(r.o.json, errno);
		goto out;
	}
	/* libbpf parsed and freed the kernel's BTF (megabytes): give the pages back. */
	malloc_trim(0);

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
			cli_error(r.o.json, "rcatrace",
				  "cannot write the state file %s: %s; use --state PATH or --no-state",
				  r.o.state_path, strerror(-e));
			goto out;
		}
	}
	{
		const struct loader_missing *miss;
		int n_miss;

		miss = loader__missing(r.loader, &n_miss);
		for (int i = 0; i < n_miss; i++) {
			if (miss[i].err)
				fprintf(stderr, "rcatrace: the kernel refused %s (%s): %s\n",
					miss[i].hook, strerror(-miss[i].err), miss[i].consequence);
			else
				fprintf(stderr, "rcatrace: this kernel lacks %s: %s\n", miss[i].hook,
					miss[i].consequence);
		}
		if (loader__mounted_tracefs(r.loader))
			fprintf(stderr, "rcatrace: mounted tracefs at /sys/kernel/tracing for the "
					"syscall tracepoints\n");
		e = loader__sync_memory(r.loader);
		if (e)
			fprintf(stderr, "rcatrace: could not seed the memory of running processes (%s); "
					"their memory counts from their next page fault\n", strerror(-e));
	}
	fprintf(stderr, "rcatrace: attached %d programs; cgroup2 at %s; state %s; Ctrl-C to stop\n",
		loader__attached(r.loader), unit_resolver__root(r.resolver),
		r.o.state_path ? r.o.state_path : "off");

	start_ms = clock_now_unix_ms();
	next_sample = start_ms + r.o.interval_ms;
	next_save = start_ms + r.o.state_interval_ms;
	next_retire = start_ms + RETIRE_EVERY_MS;
	next_controllers = start_ms;
	next_memsync = start_ms + MEMORY_SYNC_EVERY_MS;
	while (!stop_requested) {
		int64_t wait;

		now = clock_now_unix_ms();
		if (r.o.duration_ms && now - start_ms >= r.o.duration_ms)
			break;
		wait = next_sample - now;
		if (r.o.duration_ms && start_ms + r.o.duration_ms - now < wait)
			wait = start_ms + r.o.duration_ms - now;
		/*
		 * The kernel side does not wake us for each record (see
		 * events_submit()): read what waits every 100 ms at the latest.
		 */
		e = loader__poll(r.loader, wait < 0 ? 0
						  : (int)(wait > poll_ms ? poll_ms : wait));
		if (e < 0) {
			fprintf(stderr, "rcatrace: reading the ring buffer failed: %s\n", strerror(-e));
			goto out;
		}
		/* Quick while records flow, one wakeup per interval when the machine is quiet. */
		poll_ms = e > 0 ? POLL_MS : 1000;
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
			r.read_controllers = 0;
			if (now >= next_controllers) {
				r.read_controllers =
					r.controller_rounds++ % CONTROLLERS_ALL_EVERY == 0 ? 2 : 1;
				next_controllers = now + CONTROLLERS_EVERY_MS;
			}
			if (now >= next_memsync) {
				loader__sync_memory(r.loader);
				next_memsync = now + MEMORY_SYNC_EVERY_MS;
			}
			e = sample(&r, now, retire, lost);
		}
		if (e) {
			fprintf(stderr, "rcatrace: reading the kernel tables failed: %s\n", strerror(-e));
			goto out;
		}
		if (now >= next_save) {
			save_state(&r, now, 0);
			next_save = now + r.o.state_interval_ms;
		}
		export_metrics(&r, now, 0);
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
		save_state(&r, now, 1);
		export_metrics(&r, now, 0);
		if (r.o.json)
			emit_stats(&r, lost, now);
	}
	if (!r.out_error)
		print_summary(&r);
	ret = r.state_error ? 1 : 0;
out:
	metrics_server__free(r.server);
	metrics__free(r.metrics);
	loader__free(r.loader);
	view__free(r.view);
	unit_table__free(r.table);
	unit_resolver__free(r.resolver);
	return ret;
}
