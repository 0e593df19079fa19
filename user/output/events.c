// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What `run` says as things happen: exec and exit lines, findings starting
 * and ending, OOM kills and kills, as JSON lines on stdout or one text line
 * each on stderr (so they never disturb the table redrawn on stdout). The
 * one-line OOM and kill texts are shared with `dump`.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "escape.h"
#include "events.h"
#include "unit_name.h"
#include "options.h"
#include "report.h"

struct events {
	struct events_opts o;
};

struct events *events__new(const struct events_opts *o)
{
	struct events *e = calloc(1, sizeof(*e));

	if (e)
		e->o = *o;
	return e;
}

void events__free(struct events *e)
{
	free(e);
}

static void json_time(struct json_writer *w, const char *key, int64_t ms)
{
	char buf[40];

	json_kv_string(w, key, clock_format_iso8601(ms, buf, sizeof(buf)));
}

/* "3.2 h", "45 min", "12 s": when a projection lands, in words an operator reads at once. */
static void format_eta(char *dst, size_t size, int64_t s)
{
	if (s >= 2 * 86400)
		snprintf(dst, size, "%.1f days", s / 86400.0);
	else if (s >= 2 * 3600)
		snprintf(dst, size, "%.1f h", s / 3600.0);
	else if (s >= 120)
		snprintf(dst, size, "%lld min", (long long)(s / 60));
	else
		snprintf(dst, size, "%lld s", (long long)s);
}

void events_exec_exit(struct events *r, const struct rca_event *ev, const char *unit)
{
	struct json_writer *w = r->o.w;
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
static void finding_json_head(struct events *r, const char *finding, int started,
			      const struct fig_unit *u)
{
	struct json_writer *w = r->o.w;

	json_object_begin(w);
	json_kv_string(w, "type", "finding");
	json_kv_string(w, "finding", finding);
	json_kv_string(w, "state", started ? "started" : "ended");
	json_time(w, "time", clock_now_unix_ms());
	report_json_unit_name(w, u->name);
}

static void finding_json_end(struct events *r)
{
	json_object_end(r->o.w);
	fputc('\n', stdout);
	fflush(stdout);
}

static void report_respawn(struct events *r, const struct unit_table_finding *f, const char *unit)
{
	char exe[RCA_EXE_PATH_LEN * 4], status[256];
	struct fig_unit one = { .n_exes = 1, .exes = (struct fig_exe *)f->exe };

	if (r->o.json) {
		struct json_writer *w = r->o.w;

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
			(unsigned long long)f->fig.window_starts, r->o.respawn_window_s,
			f->fig.period_ms / 1000.0, status[0] ? status : "-");
	else
		fprintf(stderr, "rcatrace: respawn storm ended %s: %s, %llu starts in all, exits %s\n",
			unit, exe, (unsigned long long)f->exe->starts, status[0] ? status : "-");
}

static void report_fork_storm(struct events *r, const struct unit_table_finding *f,
			      const char *unit)
{
	const struct fig_unit *u = f->unit;

	if (r->o.json) {
		struct json_writer *w = r->o.w;

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

static void report_leak(struct events *r, const struct unit_table_finding *f, const char *unit)
{
	const struct fig_memory *m = &f->unit->mem;
	uint64_t rss = m->rss_anon_kib + m->rss_file_kib + m->rss_shmem_kib;

	if (r->o.json) {
		struct json_writer *w = r->o.w;

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
	if (f->started) {
		char eta[48] = "";

		/* When, not just that: the ETA is what an operator plans the next hour by. */
		if (m->exhaustion_eta_s >= 0) {
			char when[24];

			format_eta(when, sizeof(when), m->exhaustion_eta_s);
			snprintf(eta, sizeof(eta), ", memory runs out in %s", when);
		}
		fprintf(stderr, "rcatrace: LEAK SUSPECT %s: %llu KiB resident, growing %.1f KiB/s "
				"(R² %.2f over %.0f s)%s\n",
			unit, (unsigned long long)rss, m->growth_kib_per_s, m->growth_fit_r2,
			m->growth_window_s, eta);
	}
	else
		fprintf(stderr, "rcatrace: leak suspect cleared %s: %llu KiB resident\n", unit,
			(unsigned long long)rss);
}

static void report_crash_storm(struct events *r, const struct unit_table_finding *f,
			       const char *unit)
{
	const struct fig_exe *e = f->crash.exe;
	char sig[16], name[24], exe[RCA_EXE_PATH_LEN * 4], comm[RCA_COMM_LEN * 4 + 1],
		parent[RCA_COMM_LEN * 4 + 1];

	snprintf(name, sizeof(name), "SIG%s", report_signal_name(f->crash.signal, sig, sizeof(sig)));
	if (r->o.json) {
		struct json_writer *w = r->o.w;

		finding_json_head(r, "crash_storm", f->started, f->unit);
		json_kv_u64(w, "window_crashes", f->crash.window_crashes);
		json_kv_u64(w, "crashes", f->crash.crashes);
		json_kv_double(w, "window_s", r->o.crash_window_s, 0);
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
		unit, (unsigned long long)f->crash.window_crashes, r->o.crash_window_s, name, comm, exe,
		parent, e ? e->crash_ppid : 0);
}


/* "CHURN GROWTH init.scope grows 64 KiB per start of serial-getty@ttyS0.service (R² 0.98 over 312 starts; ...)" */
static void report_churn(struct events *r, const struct unit_table_finding *f, const char *unit)
{
	const struct churn_growth_result *c = &f->churn;
	int count = f->unit->mem.count >= 0;
	char storm[FIG_UNIT_NAME_MAX * 4], other[FIG_UNIT_NAME_MAX * 4] = "", amb[FIG_UNIT_NAME_MAX * 4 + 48] = "";

	escape_terminal(storm, sizeof(storm), f->storm_unit, strlen(f->storm_unit));
	if (f->ambiguous_with) {
		escape_terminal(other, sizeof(other), f->ambiguous_with, strlen(f->ambiguous_with));
		snprintf(amb, sizeof(amb), "; ambiguous: it grows with %s too", other);
	}
	if (r->o.json) {
		struct json_writer *w = r->o.w;

		finding_json_head(r, "churn_growth", f->started, f->unit);
		{
			char machine[FIG_UNIT_NAME_MAX];
			const char *su = unit_name_machine(f->storm_unit, machine, sizeof(machine));

			json_kv_string(w, "storm_unit", su);
			json_kv_string(w, "storm_machine", machine[0] ? machine : NULL);
		}
		json_kv_double(w, "kib_per_start", c->kib_per_start, 2);
		json_kv_double(w, "kib_per_s", c->kib_per_s, 2);
		json_kv_double(w, "r2", c->r2, 3);
		json_kv_u64(w, "starts", c->starts);
		json_kv_double(w, "growth_kib", c->growth_kib, 1);
		json_kv_string(w, "ambiguous_with", f->ambiguous_with);
		if (!f->started)
			json_kv_string(w, "reason", churn_growth_reason_name(c->reason));
		finding_json_end(r);
		return;
	}
	if (f->started)
		fprintf(stderr, "rcatrace: CHURN GROWTH %s grows %.1f %s per start of %s (R² %.2f over "
				"%llu starts; %+.1f %s since the storm began%s)\n",
			unit, c->kib_per_start, count ? "" : "KiB", storm, c->r2,
			(unsigned long long)c->starts, count ? c->growth_kib : c->growth_kib / 1024.0,
			count ? "" : "MiB", amb);
	else
		fprintf(stderr, "rcatrace: churn growth ended %s with %s (%s): %.1f %s per start over %llu starts\n",
			unit, storm, churn_growth_reason_name(c->reason), c->kib_per_start,
			count ? "" : "KiB", (unsigned long long)c->starts);
}

void events_finding(struct events *r, const struct unit_table_finding *f)
{
	char unit[FIG_UNIT_NAME_MAX * 4];

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
	case FINDING_CHURN_GROWTH:
		report_churn(r, f, unit);
		break;
	}
}

void events_format_oom(char *dst, size_t size, const struct fig_oom *o)
{
	char unit[FIG_UNIT_NAME_MAX * 4], comm[RCA_COMM_LEN * 4 + 1], tcomm[RCA_COMM_LEN * 4 + 1];

	escape_terminal(unit, sizeof(unit), o->victim.unit, strlen(o->victim.unit));
	escape_terminal(comm, sizeof(comm), o->victim.comm, strlen(o->victim.comm));
	escape_terminal(tcomm, sizeof(tcomm), o->trigger.comm, strlen(o->trigger.comm));
	size_t n = (size_t)snprintf(dst, size,
		 "%s: %s (pid %u), %s, rss %llu KiB anon + %llu KiB file + %llu KiB shmem; "
		 "allocation by %s (pid %u)",
		 unit, comm, o->victim.pid, o->constraint, (unsigned long long)o->rss_anon_kib,
		 (unsigned long long)o->rss_file_kib, (unsigned long long)o->rss_shmem_kib, tcomm,
		 o->trigger.pid);

	/* The storms running then, and what grew with each. */
	for (uint32_t i = 0; i < o->n_churn && i < FIG_OOM_CHURN && n < size; i++) {
		const struct fig_churn_link *c = &o->churn[i];
		char storm[FIG_UNIT_NAME_MAX * 4], grew[FIG_UNIT_NAME_MAX * 4];

		escape_terminal(storm, sizeof(storm), c->storm_unit, strlen(c->storm_unit));
		escape_terminal(grew, sizeof(grew), c->growing_unit, strlen(c->growing_unit));
		if (grew[0])
			n += (size_t)snprintf(dst + n, size - n,
					      "; %s in a storm (%llu starts): %s grew %.1f per start, %+.0f",
					      storm, (unsigned long long)c->starts, grew, c->kib_per_start,
					      c->growth_kib);
		else
			n += (size_t)snprintf(dst + n, size - n, "; %s in a storm", storm);
	}
}

void events_format_kill(char *dst, size_t size, const struct fig_kill *k)
{
	char tu[FIG_UNIT_NAME_MAX * 4], su[FIG_UNIT_NAME_MAX * 4], tc[RCA_COMM_LEN * 4 + 1],
		sc[RCA_COMM_LEN * 4 + 1], sig[16];

	escape_terminal(tu, sizeof(tu), k->target.unit, strlen(k->target.unit));
	escape_terminal(su, sizeof(su), k->sender.unit, strlen(k->sender.unit));
	escape_terminal(tc, sizeof(tc), k->target.comm, strlen(k->target.comm));
	escape_terminal(sc, sizeof(sc), k->sender.comm, strlen(k->sender.comm));
	report_signal_name(k->signal, sig, sizeof(sig));
	if (k->by_kernel)
		snprintf(dst, size, "%s: %s (pid %u) got SIG%s from the kernel (while %s, pid %u, ran)",
			 tu, tc, k->target.pid, sig, sc, k->sender.pid);
	else
		snprintf(dst, size, "%s: %s (pid %u) got SIG%s from %s (pid %u) in %s", tu, tc,
			 k->target.pid, sig, sc, k->sender.pid, su);
}

void events_oom(struct events *r, const struct fig_oom *o, int on_disk)
{
	char line[1024];

	if (r->o.json) {
		struct json_writer *w = r->o.w;

		json_object_begin(w);
		json_kv_string(w, "type", "oom_kill");
		report_json_oom_fields(w, o);
		json_kv_bool(w, "on_disk", on_disk);
		json_object_end(w);
		fputc('\n', stdout);
		fflush(stdout);
		return;
	}
	events_format_oom(line, sizeof(line), o);
	fprintf(stderr, "rcatrace: OOM KILL %s\n", line);
}

void events_kill(struct events *r, const struct fig_kill *k, int cross_unit)
{
	char line[1024];

	if (r->o.json) {
		struct json_writer *w = r->o.w;

		json_object_begin(w);
		json_kv_string(w, "type", "kill");
		report_json_kill_fields(w, k);
		json_kv_bool(w, "cross_unit", cross_unit);
		json_object_end(w);
		fputc('\n', stdout);
		return;
	}
	if (!cross_unit)
		return;
	events_format_kill(line, sizeof(line), k);
	fprintf(stderr, "rcatrace: KILL %s\n", line);
}

void events_stats(struct events *r, const struct events_stats *st)
{
	struct json_writer *w = r->o.w;

	if (!r->o.json)
		return;
	json_object_begin(w);
	json_kv_string(w, "type", "stats");
	json_time(w, "time", st->now_ms);
	json_key(w, "lost");
	json_object_begin(w);
	for (int i = 0; i < RCA_LOST_KIND_MAX; i++)
		json_kv_u64(w, report_lost_key(i), st->lost[i]);
	json_object_end(w);
	json_kv_u64(w, "records", st->records);
	json_kv_u64(w, "records_invalid", st->records_invalid);
	json_kv_u64(w, "units", st->units);
	json_kv_double(w, "sample_ms", st->sample_ms, 3);
	json_kv_u64(w, "units_unnamed", st->resolver.unnamed);
	json_kv_u64(w, "units_named_from_kernel", st->resolver.from_leaf);
	json_kv_u64(w, "unit_cache_evictions", st->resolver.evictions);
	json_kv_u64(w, "detector_tracks", st->model.exe_tracks);
	json_kv_u64(w, "detector_tracks_dropped", st->model.exe_tracks_dropped);
	json_kv_u64(w, "unit_tracks", st->model.unit_tracks);
	json_kv_u64(w, "unit_tracks_dropped", st->model.unit_tracks_dropped);
	json_kv_bool(w, "state_saved", st->state_saved);
	if (st->has_store) {
		json_kv_u64(w, "store_write_failures", st->store.write_failures);
		json_kv_u64(w, "store_rows_dropped", st->store.rows_dropped);
	}
	json_object_end(w);
	fputc('\n', stdout);
}

void events_summary(struct events *r, const struct fig_boot *boot, const char *const *globs,
		    int n_globs)
{
	const struct fig_unit **units = calloc(boot->n_units ? boot->n_units : 1, sizeof(*units));
	uint32_t n = 0;

	if (!units)
		return;
	for (uint32_t i = 0; i < boot->n_units; i++)
		if (options_unit_matches(globs, n_globs, boot->units[i].name))
			units[n++] = &boot->units[i];
	qsort(units, n, sizeof(*units), report_unit_cmp);
	if (r->o.json) {
		struct json_writer *w = r->o.w;

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
