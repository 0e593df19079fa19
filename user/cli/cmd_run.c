// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `rcatrace run`: attach, sample the kernel tables each interval, keep the store. */
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
#include "db.h"
#include "escape.h"
#include "events.h"
#include "exporter.h"
#include "findings.h"
#include "kernel_memory.h"
#include "json_writer.h"
#include "loader.h"
#include "metrics.h"
#include "notify.h"
#include "options.h"
#include "record.h"
#include "sampler.h"
#include "report.h"
#include "system.h"
#include "unit_name.h"
#include "unit_resolver.h"
#include "unit_table.h"
#include "view.h"

/* Gone cgroups are looked for this often, and whenever unit_stats is 3/4 full. */
#define RETIRE_EVERY_MS 30000
/* A unit idle this long is a candidate for retirement (its cgroup may be gone). */
#define RETIRE_IDLE_NS (10ULL * 1000000000ULL)
/* Ledger rows (per unit and executable) idle this long are folded and taken out of the kernel. */
#define LEDGER_IDLE_NS (3600ULL * 1000000000ULL)
#define LEDGER_PRESSED_IDLE_NS (60ULL * 1000000000ULL)
/* Controllers (pids, memory) of active units are read this often; of every unit, 5x slower. */
#define CONTROLLERS_EVERY_MS 2000
#define CONTROLLERS_ALL_EVERY 5
/* The task iterator reconciles per-unit memory with the kernel's counters this often. */
#define MEMORY_SYNC_EVERY_MS 60000
/* While records flow they reach the JSON stream within this; when quiet, within an interval. */
#define POLL_MS 100
/* With no counter changed, the totals are still rewritten this often (memory figures). */
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
	struct db *db;            /* the store; NULL with --no-state */
	struct loader *loader;
	struct sampler *sampler;
	struct kernel_sample sample; /* the last reading, reused */
	struct db_machine_point machine; /* the machine's memory at the last sample */
	struct events *events;
	struct view *view;
	struct json_writer json;
	uint64_t records_invalid;
	uint64_t records;
	int state_error;
	int out_error;
	int read_controllers;     /* 0: not this sample; 1: recently active units; 2: every unit */
	uint32_t controller_rounds;
	uint64_t ooms_seen;
	uint32_t page_size;
	char boot_id[FIG_BOOT_ID_MAX];
	uint64_t signature;       /* the last sample's: changes when anything was counted */
	double sample_ms;         /* what the last sample cost: read, name, model, detectors */
	uint64_t saved_signature; /* ... when the totals were last written */
	int64_t saved_ms;
	struct exporter *exporter;	/* NULL: neither --metrics-listen nor --textfile */
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

static uint64_t pages_kib(const struct run_ctx *r, int64_t pages)
{
	return pages > 0 ? (uint64_t)pages * (r->page_size / 1024) : 0;
}

/*
 * The outcome of a write to the store. A failure (a full disk) is said once,
 * when writing stops, and once when it resumes; tracing goes on either way,
 * and every failed write is counted in the store (store_write_failures).
 */
static void store_result(struct run_ctx *r, int err)
{
	if (err && !r->state_error)
		fprintf(stderr, "rcatrace: cannot write the store %s: %s; tracing goes on, %s\n",
			r->o.state_path, err == -ENOSPC ? "disk full" : strerror(-err),
			err == -ENOSPC ? "writing resumes when there is room" : "will retry");
	else if (!err && r->state_error)
		fprintf(stderr, "rcatrace: writing the store %s again\n", r->o.state_path);
	r->state_error = err;
}

static void oom_churn_link(void *ctx, const struct unit_table_finding *f)
{
	struct fig_oom *o = ctx;
	struct fig_churn_link *c;

	if (o->n_churn >= FIG_OOM_CHURN)
		return;
	c = &o->churn[o->n_churn++];
	snprintf(c->storm_unit, sizeof(c->storm_unit), "%s", f->storm_unit);
	snprintf(c->growing_unit, sizeof(c->growing_unit), "%s", f->unit->name);
	c->kib_per_start = f->churn.kib_per_start;
	c->growth_kib = f->churn.growth_kib;
	c->starts = f->churn.starts;
}

/* The storms running when memory ran out: each with what grew per start of it, if anything did. */
static void oom_churn(struct run_ctx *r, struct fig_oom *o)
{
	const struct fig_boot *b = unit_table__current(r->table);

	unit_table__each_churn_link(r->table, oom_churn_link, o);
	for (uint32_t i = 0; b && i < b->n_units && o->n_churn < FIG_OOM_CHURN; i++) {
		const struct fig_unit *u = &b->units[i];
		int linked = 0;

		if (!report_unit_storm(u) && !u->crash_storm)
			continue;
		for (uint32_t k = 0; k < o->n_churn; k++)
			linked |= strcmp(o->churn[k].storm_unit, u->name) == 0;
		if (!linked)
			snprintf(o->churn[o->n_churn++].storm_unit, sizeof(o->churn[0].storm_unit), "%s",
				 u->name);
	}
}

static void handle_oom(struct run_ctx *r, const struct rca_oom_record *rec)
{
	struct fig_oom o;
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
	o.rss_anon_kib = pages_kib(r, rec->rss_pages[RCA_MEM_ANON]);
	o.rss_file_kib = pages_kib(r, rec->rss_pages[RCA_MEM_FILE]);
	o.rss_shmem_kib = pages_kib(r, rec->rss_pages[RCA_MEM_SHMEM]);
	o.oom_score_adj = (int32_t)rec->oom_score_adj;
	o.n_top_rss = unit_table__top_units(r->table, 0, o.top_rss, FIG_OOM_TOP_UNITS);
	o.n_top_growth = unit_table__top_units(r->table, 1, o.top_growth, FIG_OOM_TOP_UNITS);
	oom_churn(r, &o);
	r->ooms_seen++;
	unit_table__add_oom(r->table, &o);
	/* On disk now: the machine may not live to the next interval. */
	err = r->db ? db__add_oom(r->db, &o) : -EINVAL;
	if (r->db)
		store_result(r, err);
	events_oom(r->events, &o, err == 0);
}

static void handle_kill(struct run_ctx *r, const struct rca_kill_record *rec)
{
	struct fig_kill k;

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
	if (r->db)
		store_result(r, db__add_kill(r->db, &k));
	if (!options_unit_matches(r->o.unit_globs, r->o.n_unit_globs, k.target.unit) &&
	    !options_unit_matches(r->o.unit_globs, r->o.n_unit_globs, k.sender.unit))
		return;
	events_kill(r->events, &k, strcmp(k.sender.unit, k.target.unit) != 0 && !k.by_kernel);
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
			events_exec_exit(r->events, &ev, unit);
		return 0;
	}
	r->records_invalid++;
	return 0;
}

/*
 * Reads the pids/memory controllers of a unit, through one of its pids:
 * recently active units every CONTROLLERS_EVERY_MS, every unit with memory
 * every CONTROLLERS_ALL_EVERY rounds.
 */
static void read_unit_controllers(struct run_ctx *r, uint64_t cgroup_id, const char *name)
{
	struct cgroup_controllers_opts co = { .proc_root = "/proc", .cgroup_root = "/sys/fs/cgroup",
					      .cgroup2_mount = unit_resolver__root(r->resolver) };
	char rel[PATH_MAX], dir[PATH_MAX * 2];
	struct cgroup_figures cg;
	int64_t procs = 0;
	int got;

	if (unit_resolver__path(r->resolver, cgroup_id, rel, sizeof(rel)) < 0)
		return;
	snprintf(dir, sizeof(dir), "%s%s", unit_resolver__root(r->resolver),
		 strcmp(rel, "/") == 0 ? "" : rel);
	got = cgroup_controllers_read_dir(&co, dir, &cg, &procs);
	if (got >= 0)
		unit_table__set_controllers(r->table, name, got ? &cg : NULL, procs);
}

static void read_controllers(struct run_ctx *r)
{
	const struct kernel_sample *s = &r->sample;
	uint64_t recent = clock_now_boot_ns() - 60ULL * 1000000000ULL;

	for (uint32_t i = 0; i < s->n_units; i++) {
		const struct ks_unit *u = &s->units[i];

		/*
		 * A cgroup every process entered and left holds nothing to read: of
		 * 4,096 transient units, reading each one's files cost 65 ms a sample.
		 * (Processes that moved out count as still in: read, harmlessly.)
		 */
		if (u->st.starts + u->st.forks <= u->st.exits)
			continue;
		if (!(u->flags & KS_RETIRED) && (r->read_controllers == 2 || u->st.last_ns > recent))
			read_unit_controllers(r, u->cgroup_id, ks_name(s, u->name));
	}
	/* Units known only by their memory (processes older than us) get figures too. */
	for (uint32_t i = 0; r->read_controllers == 2 && i < s->n_mems; i++) {
		const struct ks_mem *m = &s->mems[i];

		if (!(m->flags & KS_RETIRED) &&
		    m->m.pages[RCA_MEM_ANON] + m->m.pages[RCA_MEM_FILE] + m->m.pages[RCA_MEM_SHMEM] > 0)
			read_unit_controllers(r, m->cgroup_id, ks_name(s, m->unit));
	}
}

/*
 * The machine's memory now: the store's machine rows, the exhaustion
 * projection, and the kernel pseudo-units (kernel:slab, ...,
 * kernel:dying_cgroups) of the model.
 */
static void read_machine(struct run_ctx *r, int64_t now_ms)
{
	struct kernel_memory_opts ko = { 0 };
	struct kernel_dying_cgroups dc;
	struct kernel_meminfo mi;
	struct db_machine_point *m = &r->machine;
	struct unit_table_kernel k;

	if (kernel_memory_read_meminfo(NULL, &mi))
		mi = (struct kernel_meminfo){ -1, -1, -1, -1, -1, -1, -1 };
	if (kernel_memory_read_dying(&ko, &dc))
		dc.dying = -1;
	*m = (struct db_machine_point){ .t_ms = now_ms, .mem_total_kib = mi.mem_total_kib,
					.mem_available_kib = mi.mem_available_kib,
					.slab_kib = mi.slab_kib, .sunreclaim_kib = mi.sunreclaim_kib,
					.kernel_stack_kib = mi.kernel_stack_kib,
					.page_tables_kib = mi.page_tables_kib, .percpu_kib = mi.percpu_kib,
					.dying_cgroups = dc.dying };
	k = (struct unit_table_kernel){ mi.slab_kib, mi.sunreclaim_kib, mi.kernel_stack_kib,
					mi.page_tables_kib, mi.percpu_kib, dc.dying };
	unit_table__set_kernel(r->table, &k);
	unit_table__set_mem_available(r->table, mi.mem_available_kib > 0 ? (uint64_t)mi.mem_available_kib : 0);
}

static void emit_stats(struct run_ctx *r, int64_t now_ms)
{
	struct events_stats st = { .now_ms = now_ms, .lost = r->sample.lost, .records = r->records,
				   .records_invalid = r->records_invalid,
				   .units = r->sample.n_units, .sample_ms = r->sample_ms,
				   .state_saved = r->o.state_path && !r->state_error,
				   .has_store = r->db != NULL };

	unit_resolver__stats(r->resolver, &st.resolver);
	unit_table__stats(r->table, &st.model);
	if (r->db)
		db__losses(r->db, &st.store);
	events_stats(r->events, &st);
}

static void on_finding(void *ctx, const struct unit_table_finding *f)
{
	struct run_ctx *r = ctx;

	/* Stored first: committed and fsynced before anything else is said or written. */
	if (r->db)
		store_result(r, store_finding(r->db, r->boot_id, f, clock_now_unix_ms()));
	if (f->ongoing)
		return; /* its peak, for the store; nothing new to say */
	if (options_unit_matches(r->o.unit_globs, r->o.n_unit_globs, f->unit->name))
		events_finding(r->events, f);
}

/* One sample, one way: the kernel's maps -> one kernel_sample -> the model -> findings. */
static int sample(struct run_ctx *r, int64_t now_ms, int retire)
{
	struct sampler_read_opts so = { .now_ms = now_ms, .retire = retire,
					.cgroup_idle_ns = RETIRE_IDLE_NS,
					.ledger_idle_ns = LEDGER_IDLE_NS,
					.ledger_pressed_idle_ns = LEDGER_PRESSED_IDLE_NS };
	uint64_t t0 = clock_now_boot_ns();
	int err = sampler__read(r->sampler, &so, &r->sample);

	if (err)
		return err;
	r->signature = r->sample.signature + r->ooms_seen;
	if (r->read_controllers)
		read_controllers(r);
	read_machine(r, now_ms);
	err = unit_table__apply(r->table, &r->sample, on_finding, r);
	r->sample_ms = (double)(clock_now_boot_ns() - t0) / 1e6;
	return err;
}

/*
 * Every --state-interval: housekeeping (downsampling, retention, the size
 * cap), then the totals, committed with an fsync, which also brings the
 * samples committed since the last one to the disk. force: at exit. An idle
 * machine is not woken for an fsync every few seconds: with no counter
 * changed the totals are rewritten only every STATE_IDLE_MS, for the memory
 * figures, and samples committed meanwhile are fsynced alone.
 */
static void save_state(struct run_ctx *r, int64_t now, int force)
{
	int err;

	if (!r->db)
		return;
	err = db__maintain(r->db, now);
	if (!force && !err && !r->state_error && r->signature == r->saved_signature &&
	    now - r->saved_ms < STATE_IDLE_MS) {
		store_result(r, db__sync(r->db));
		return;
	}
	r->saved_signature = r->signature;
	r->saved_ms = now;
	if (!err)
		err = db__save_state(r->db, unit_table__state(r->table), 1);
	store_result(r, err);
}

/* One transaction per sample: the series of the units that changed in it. */
static void save_sample(struct run_ctx *r, int64_t now)
{
	const struct fig_boot *cur = unit_table__current(r->table);

	if (r->db && cur)
		store_result(r, db__add_sample(r->db, cur, &r->machine, now));
}

/* This boot's figures, to the metrics endpoint and the textfile (a failed write said once). */
struct metrics_links {
	struct metrics_churn_link l[64];
	uint32_t n;
};

static void metrics_link(void *ctx, const struct unit_table_finding *f)
{
	struct metrics_links *ml = ctx;

	if (ml->n < sizeof(ml->l) / sizeof(ml->l[0]))
		ml->l[ml->n++] = (struct metrics_churn_link){ f->storm_unit, f->unit->name,
							      f->churn.kib_per_start,
							      f->unit->mem.count >= 0 };
}

static int export_metrics(struct run_ctx *r, int64_t now_ms, int quiet)
{
	const struct fig_state *st = unit_table__state(r->table);
	struct metrics_input in = { .boot = unit_table__current(r->table), .state = st,
				    .lost = st->lost, .units_unnamed = st->units_unnamed,
				    .max_units = r->o.metrics_max_units, .now_ms = now_ms,
				    .version = RCATRACE_VERSION };
	struct metrics_links ml = { .n = 0 };
	int err;

	if (!r->exporter)
		return 0;
	unit_table__each_churn_link(r->table, metrics_link, &ml);
	in.links = ml.l;
	in.n_links = ml.n;
	err = exporter__publish(r->exporter, &in);
	if (r->o.textfile_dir) {
		if (err && err != -ENOMEM && err != r->textfile_error && !quiet)
			fprintf(stderr, "rcatrace: cannot write %s/%s: %s (will retry)\n",
				r->o.textfile_dir, METRICS_TEXTFILE_NAME, strerror(-err));
		if (err != -ENOMEM)
			r->textfile_error = err;
	}
	return err;
}

/* --metrics-listen and --textfile: bound and written once now, so a mistake fails at start. */
static int start_metrics(struct run_ctx *r)
{
	const struct listen_address *a = &r->o.metrics_addr;
	struct exporter_opts eo = { .listen_host = r->o.metrics_listen ? a->host : NULL,
				    .listen_port = (uint16_t)a->port,
				    .textfile_dir = r->o.textfile_dir };
	int err;

	if (!r->o.metrics_listen && !r->o.textfile_dir)
		return 0;
	r->exporter = exporter__new(&eo);
	if (!r->exporter) {
		err = errno;
		if (err == ENOMEM) {
			cli_error(r->o.json, "rcatrace", "out of memory");
			return -ENOMEM;
		}
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
	err = export_metrics(r, clock_now_unix_ms(), 1);
	if (err && r->o.textfile_dir) {
		cli_error(r->o.json, "rcatrace", "cannot write the metrics textfile %s/%s: %s; --textfile "
			  "needs an existing directory rcatrace can write to",
			  r->o.textfile_dir, METRICS_TEXTFILE_NAME, strerror(-err));
		return err;
	}
	if (r->o.metrics_listen)
		fprintf(stderr, "rcatrace: serving metrics at http://%s%s%s:%u/metrics\n",
			a->family == AF_INET6 ? "[" : "", a->host, a->family == AF_INET6 ? "]" : "",
			exporter__port(r->exporter));
	return 0;
}

static void print_summary(struct run_ctx *r)
{
	const struct fig_boot *cur = unit_table__current(r->table);

	if (cur)
		events_summary(r->events, cur, r->o.unit_globs, r->o.n_unit_globs);
}

/*
 * Opens the store and reads what earlier runs left. A corrupt database, or a
 * file that is not one, is set aside as PATH.corrupt and run starts afresh;
 * one of a newer rcatrace is left alone and refused.
 */
static int load_base_state(struct run_ctx *r, struct fig_state *base)
{
	const struct run_options *o = &r->o;
	struct db_opts dopts = { .max_bytes = o->max_db_bytes, .retain_ms = o->retain_ms };
	char err[256], aside[PATH_MAX];
	int ret;

	fig_state_init(base);
	if (!o->state_path)
		return 0;
	r->db = db__open(o->state_path, DB_WRITE, &dopts, err, sizeof(err));
	if (!r->db && errno == EBADMSG) {
		if (db__set_aside(o->state_path, aside, sizeof(aside)) == 0) {
			fprintf(stderr, "rcatrace: store %s is unreadable (%s); kept it as %s and started "
					"afresh\n", o->state_path, err, aside);
			r->db = db__open(o->state_path, DB_WRITE, &dopts, err, sizeof(err));
		} else {
			cli_error(o->json, "rcatrace", "store %s is unreadable (%s) and could not be set "
				  "aside; use --state PATH", o->state_path, err);
			return -EBADMSG;
		}
	}
	if (!r->db) {
		ret = -errno;
		cli_error(o->json, "rcatrace", "cannot open the store %s: %s; use --state PATH or "
			  "--no-state", o->state_path, err);
		return ret;
	}
	ret = db__load_state(r->db, base);
	if (ret) {
		cli_error(o->json, "rcatrace", "cannot read the store %s: %s; use --state PATH or "
			  "--no-state", o->state_path, strerror(-ret));
		return ret;
	}
	/* Findings an earlier boot left open ended with it. */
	db__close_stale_findings(r->db, r->boot_id);
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
	if (system_kernel_at_least(RCATRACE_MIN_KERNEL_MAJOR, RCATRACE_MIN_KERNEL_MINOR) == 0) {
		/*
		 * A warning, not a refusal: distribution kernels backport BPF features
		 * under older version numbers. If one is missing, the load says which.
		 */
		fprintf(stderr, "rcatrace: this kernel is older than %d.%d, which rcatrace needs "
				"(atomic map reads and BPF atomics); trying anyway\n",
			RCATRACE_MIN_KERNEL_MAJOR, RCATRACE_MIN_KERNEL_MINOR);
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
	r.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	signal(SIGPIPE, SIG_IGN);

	r.resolver = unit_resolver__new(NULL);
	if (!r.resolver) {
		cli_error(r.o.json, "rcatrace",
			  "no cgroup v2 hierarchy is mounted (%s); mount one with "
			  "'mount -t cgroup2 none /sys/fs/cgroup/unified'", strerror(errno));
		return 1;
	}
	if (load_base_state(&r, &base) < 0)
		goto out;
	topts.base = &base;
	topts.boot_id = boot_id;
	topts.state_interval_ms = (uint32_t)r.o.state_interval_ms;
	topts.page_size = r.page_size;
	respawn_detector_config_default(&topts.detector);
	memory_growth_config_default(&topts.growth);
	topts.growth.window_s = r.o.growth_window_ms / 1000.0;
	fork_storm_config_default(&topts.fork_storm);
	crash_storm_config_default(&topts.crash_storm);
	r.table = unit_table__new(&topts);
	fig_state_free(&base);
	{
		struct events_opts eo = { .json = r.o.json, .w = &r.json,
					  .respawn_window_s = topts.detector.window_ms / 1000.0,
					  .crash_window_s = topts.crash_storm.window_ms / 1000.0 };

		r.events = events__new(&eo);
	}
	if (!r.table || !r.events) {
		cli_error(r.o.json, "rcatrace", "out of memory");
		goto out;
	}
	if (!r.o.json) {
		struct view_opts vo = { .out = stdout, .terminal = isatty(STDOUT_FILENO),
					.unit_globs = r.o.unit_globs, .n_unit_globs = r.o.n_unit_globs };

		r.view = view__new(&vo);
		if (!r.view) {
			cli_error(r.o.json, "rcatrace", "out of memory");
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
	{
		struct sampler_opts so = { .loader = r.loader, .resolver = r.resolver };

		r.sampler = sampler__new(&so);
		if (!r.sampler) {
			cli_error(r.o.json, "rcatrace", "out of memory");
			goto out;
		}
	}
	/* libbpf parsed and freed the kernel's BTF (megabytes): give the pages back. */
	malloc_trim(0);

	{
		struct sigaction sa = { .sa_handler = on_signal };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	/* Write the totals once now, so a store that cannot be written fails at once, not in an hour. */
	if (r.db && unit_table__end(r.table, clock_now_unix_ms(), NULL, NULL) == 0) {
		e = db__save_state(r.db, unit_table__state(r.table), 1);
		/* A full disk does not stop tracing: the writes resume when there is room. */
		if (e == -ENOSPC) {
			store_result(&r, e);
		} else if (e) {
			cli_error(r.o.json, "rcatrace",
				  "cannot write the store %s: %s; use --state PATH or --no-state",
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
				fprintf(stderr, "rcatrace: cannot use %s (%s): %s\n", miss[i].hook,
					strerror(-miss[i].err), miss[i].consequence);
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
	/* Under systemd with Type=notify: tracing runs now, not when the process started. */
	notify_service_manager("READY=1");

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
			cli_error(r.o.json, "rcatrace", "reading the ring buffer failed: %s",
				  strerror(-e));
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
			if (r.sample.n_units * 4 >= cap * 3)
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
			e = sample(&r, now, retire);
		}
		if (e) {
			cli_error(r.o.json, "rcatrace", "reading the kernel tables failed: %s",
				  strerror(-e));
			goto out;
		}
		save_sample(&r, now);
		if (now >= next_save) {
			save_state(&r, now, 0);
			next_save = now + r.o.state_interval_ms;
		}
		export_metrics(&r, now, 0);
		if (r.o.json) {
			emit_stats(&r, now);
		} else {
			struct view_status vs = { .units_unnamed = 0, .records_invalid = r.records_invalid,
						  .state_path = r.o.state_path, .state_error = r.state_error };
			struct unit_resolver_stats rs;

			unit_resolver__stats(r.resolver, &rs);
			memcpy(vs.lost, r.sample.lost, sizeof(vs.lost));
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
	if (sample(&r, now, 0) == 0) {
		save_sample(&r, now);
		save_state(&r, now, 1);
		export_metrics(&r, now, 0);
		if (r.o.json)
			emit_stats(&r, now);
	}
	if (!r.out_error)
		print_summary(&r);
	ret = r.state_error ? 1 : 0;
out:
	sampler__free(r.sampler);
	kernel_sample_free(&r.sample);
	events__free(r.events);
	exporter__free(r.exporter);
	loader__free(r.loader);
	view__free(r.view);
	unit_table__free(r.table);
	unit_resolver__free(r.resolver);
	db__free(r.db);
	return ret;
}
