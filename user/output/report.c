// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "escape.h"
#include "report.h"
#include "unit_name.h"
#include "respawn_detector.h"
#include "signals.h"

const char *report_lost_key(int kind)
{
	static const char *const keys[RCA_LOST_KIND_MAX] = {
		[RCA_LOST_RINGBUF_EXEC] = "ringbuf_exec", [RCA_LOST_RINGBUF_EXIT] = "ringbuf_exit",
		[RCA_LOST_UNITS_FULL] = "units_full",	  [RCA_LOST_LEDGER_FULL] = "ledger_full",
		[RCA_LOST_STATUS_FULL] = "status_full",	  [RCA_LOST_PROCS_FULL] = "procs_full",
		[RCA_LOST_RINGBUF_OOM] = "ringbuf_oom",	  [RCA_LOST_RINGBUF_KILL] = "ringbuf_kill",
		[RCA_LOST_MM_FULL] = "mm_full",		  [RCA_LOST_KILLS_FULL] = "kills_full",
		[RCA_LOST_FORKFAIL_FULL] = "forkfail_full",
	};

	return kind >= 0 && kind < RCA_LOST_KIND_MAX && keys[kind] ? keys[kind] : "unknown";
}

const char *report_signal_name(uint32_t sig, char *buf, size_t size)
{
	const char *name = sig <= 64 ? signals_name((int)sig) : NULL;

	if (name)
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "%u", sig);
	return buf;
}

/* (kind, value) -> count summed over executables, in value order. */
static uint32_t collect_status(const struct fig_exe *exes, uint32_t n_exes, uint32_t kind,
			       struct fig_status *out, uint32_t cap)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < n_exes; i++) {
		for (uint32_t j = 0; j < exes[i].n_status && j < FIG_MAX_STATUS; j++) {
			const struct fig_status *s = &exes[i].status[j];
			uint32_t k;

			if (s->kind != kind)
				continue;
			for (k = 0; k < n && out[k].value != s->value; k++)
				;
			if (k == n) {
				if (n == cap)
					continue;
				out[n] = *s;
				out[n++].count = 0;
			}
			out[k].count += s->count;
		}
	}
	/* insertion sort by value: small n */
	for (uint32_t i = 1; i < n; i++) {
		struct fig_status tmp = out[i];
		uint32_t j = i;

		for (; j > 0 && out[j - 1].value > tmp.value; j--)
			out[j] = out[j - 1];
		out[j] = tmp;
	}
	return n;
}

void report_json_status(struct json_writer *w, const struct fig_exe *exes, uint32_t n_exes,
			uint32_t kind)
{
	struct fig_status st[256];
	uint32_t n = collect_status(exes, n_exes, kind, st, 256);
	char key[24];

	json_object_begin(w);
	for (uint32_t i = 0; i < n; i++) {
		/* Codes by number, as shells show them; signals by name, as kill(1) takes them. */
		if (kind == RCA_STATUS_SIGNAL) {
			char sig[16];

			snprintf(key, sizeof(key), "SIG%s",
				 report_signal_name(st[i].value, sig, sizeof(sig)));
		} else {
			snprintf(key, sizeof(key), "%u", st[i].value);
		}
		json_kv_u64(w, key, st[i].count);
	}
	json_object_end(w);
}

static void json_kv_time(struct json_writer *w, const char *key, int64_t ms)
{
	char buf[40];

	if (ms <= 0)
		json_kv_null(w, key);
	else
		json_kv_string(w, key, clock_format_iso8601(ms, buf, sizeof(buf)));
}

static void json_lifetime(struct json_writer *w, const struct fig_exe *e)
{
	json_key(w, "lifetime_ms");
	json_object_begin(w);
	json_kv_double(w, "p50", e ? fig_exe_lifetime_pct_ms(e, 50) : NAN, 1);
	json_kv_double(w, "p90", e ? fig_exe_lifetime_pct_ms(e, 90) : NAN, 1);
	json_kv_double(w, "mean", e && e->exits ? e->lifetime_sum_us / 1000.0 / e->exits : NAN, 1);
	json_object_end(w);
}

void report_json_exe(struct json_writer *w, const struct fig_exe *e)
{
	json_object_begin(w);
	json_kv_string(w, "executable", e->path);
	json_kv_u64(w, "starts", e->starts);
	json_kv_u64(w, "execs", e->execs);
	json_kv_u64(w, "exits", e->exits);
	json_kv_u64(w, "exits_failed", e->exits_failed);
	json_kv_double(w, "period_ms", fig_exe_period_ms(e), 1);
	json_kv_double(w, "period_stdev_ms", fig_exe_period_stdev_ms(e), 1);
	json_lifetime(w, e);
	json_key(w, "exit_codes");
	report_json_status(w, e, 1, RCA_STATUS_CODE);
	json_key(w, "signals");
	report_json_status(w, e, 1, RCA_STATUS_SIGNAL);
	json_kv_u64(w, "exits_unclassified", e->status_other);
	json_kv_bool(w, "storm", e->respawn_class == RESPAWN_STORM);
	json_kv_string(w, "class", respawn_class_name(e->respawn_class));
	json_kv_u64(w, "storms", e->storms);
	json_kv_time(w, "storm_since", e->storm_since_ms);
	json_kv_time(w, "first_start", e->first_start_ms);
	json_kv_time(w, "last_start", e->last_start_ms);
	json_kv_time(w, "last_exit", e->last_exit_ms);
	json_object_end(w);
}

const struct fig_exe *report_main_exe(const struct fig_unit *u)
{
	const struct fig_exe *best = NULL;

	for (uint32_t i = 0; i < u->n_exes; i++)
		if (!best || u->exes[i].starts > best->starts ||
		    (u->exes[i].starts == best->starts && u->exes[i].exits > best->exits))
			best = &u->exes[i];
	return best;
}

int report_unit_alarm(const struct fig_unit *u)
{
	return report_unit_storm(u) || u->crash_storm || u->fork_storm || u->mem.leak_suspect ||
	       u->oom_kills;
}

void report_json_unit_name(struct json_writer *w, const char *name)
{
	char machine[UNIT_NAME_MACHINE_MAX];
	const char *unit = unit_name_machine(name, machine, sizeof(machine));

	json_kv_string(w, "unit", unit);
	json_kv_string(w, "machine", machine[0] ? machine : NULL);
}

void report_json_figures(struct json_writer *w, const char *key, const struct db_figure *f,
			 uint32_t n)
{
	json_key(w, key);
	json_object_begin(w);
	for (uint32_t i = 0; i < n; i++) {
		if (f[i].text)
			json_kv_string(w, f[i].name, f[i].text);
		else
			json_kv_double(w, f[i].name, f[i].value,
				       f[i].value == (double)(int64_t)f[i].value ? 1 : 3);
	}
	json_object_end(w);
}

void report_json_finding_fields(struct json_writer *w, const struct db_finding *f)
{
	char when[40];

	json_kv_string(w, "finding", f->kind);
	report_json_unit_name(w, f->unit);
	json_kv_string(w, "executable", f->subject[0] ? f->subject : NULL);
	json_kv_string(w, "started", clock_format_iso8601(f->started_ms, when, sizeof(when)));
	if (f->ended_ms)
		json_kv_string(w, "ended", clock_format_iso8601(f->ended_ms, when, sizeof(when)));
	else
		json_kv_null(w, "ended");
	report_json_figures(w, "at_start", f->start, f->n_start);
	report_json_figures(w, "at_peak", f->peak, f->n_peak);
	if (f->n_end)
		report_json_figures(w, "at_end", f->end, f->n_end);
	else
		json_kv_null(w, "at_end");
}

void report_json_finding(struct json_writer *w, const struct db_finding *f)
{
	json_object_begin(w);
	report_json_finding_fields(w, f);
	json_object_end(w);
}

int report_unit_storm(const struct fig_unit *u)
{
	for (uint32_t i = 0; i < u->n_exes; i++)
		if (u->exes[i].respawn_class == RESPAWN_STORM)
			return 1;
	return 0;
}

static const char *errno_name(uint32_t err, char *buf, size_t size)
{
	switch (err) {
	case 11:
		return "EAGAIN";
	case 12:
		return "ENOMEM";
	case 1:
		return "EPERM";
	case 22:
		return "EINVAL";
	case 28:
		return "ENOSPC";
	case 38:
		return "ENOSYS";
	case 4:
		return "EINTR";
	case 513:
		return "ERESTARTNOINTR";
	default:
		snprintf(buf, size, "%u", err);
		return buf;
	}
}

static void json_kv_gauge(struct json_writer *w, const char *key, int64_t v)
{
	if (v < 0)
		json_kv_null(w, key);
	else
		json_kv_i64(w, key, v);
}

/* Memory, kills and fork figures of a unit (issue-independent keys, one place). */
static void json_unit_health(struct json_writer *w, const struct fig_unit *u)
{
	const struct fig_memory *m = &u->mem;
	char buf[24], sig[16];

	json_kv_u64(w, "rss_kib", m->rss_anon_kib + m->rss_file_kib + m->rss_shmem_kib);
	json_key(w, "rss_kib_by_kind");
	json_object_begin(w);
	json_kv_u64(w, "anon", m->rss_anon_kib);
	json_kv_u64(w, "file", m->rss_file_kib);
	json_kv_u64(w, "shmem", m->rss_shmem_kib);
	json_object_end(w);
	json_kv_u64(w, "rss_peak_kib", m->rss_peak_kib);
	json_kv_double(w, "growth_kib_per_s", m->growth_kib_per_s, 2);
	json_kv_double(w, "growth_fit_r2", m->growth_fit_r2, 3);
	json_kv_double(w, "growth_window_s", m->sampled_ms ? m->growth_window_s : NAN, 0);
	json_kv_bool(w, "leak_suspect", m->leak_suspect);
	json_kv_gauge(w, "exhaustion_eta_s", m->exhaustion_eta_s);
	json_kv_bool(w, "memory_gone", m->gone);
	json_kv_time(w, "memory_sampled", m->sampled_ms);
	json_kv_gauge(w, "memcg_usage_bytes", m->memcg_usage_bytes);
	json_kv_gauge(w, "memcg_limit_bytes", m->memcg_limit_bytes);
	json_kv_gauge(w, "kernel_bytes", m->kernel_bytes);
	json_kv_gauge(w, "count", m->count);
	json_kv_u64(w, "oom_kills", u->oom_kills);

	json_kv_u64(w, "kills_received", u->kills_received);
	json_kv_u64(w, "kills_sent", u->kills_sent);
	json_key(w, "kills_by_sender");
	json_array_begin(w);
	for (uint32_t i = 0; i < u->n_kill_counts; i++) {
		const struct fig_kill_count *k = &u->kill_counts[i];

		json_object_begin(w);
		json_kv_string(w, "sender_unit", k->sender_unit);
		snprintf(buf, sizeof(buf), "SIG%s", report_signal_name(k->signal, sig, sizeof(sig)));
		json_kv_string(w, "signal", buf);
		json_kv_bool(w, "by_kernel", k->by_kernel);
		json_kv_u64(w, "count", k->count);
		json_object_end(w);
	}
	json_array_end(w);
	json_kv_u64(w, "kills_by_sender_other", u->kill_counts_other);

	json_kv_u64(w, "forks_failed", u->forks_failed);
	json_key(w, "forks_failed_by_errno");
	json_object_begin(w);
	for (uint32_t i = 0; i < u->n_fork_errnos && i < FIG_MAX_ERRNO; i++)
		json_kv_u64(w, errno_name(u->fork_errnos[i].err, buf, sizeof(buf)),
			    u->fork_errnos[i].count);
	if (u->fork_errnos_other)
		json_kv_u64(w, "other", u->fork_errnos_other);
	json_object_end(w);
	json_kv_bool(w, "fork_storm", u->fork_storm);
	json_kv_time(w, "fork_storm_since", u->fork_storm_since_ms);
	json_kv_double(w, "fork_rate_per_s", u->fork_rate_per_s, 1);
	json_kv_gauge(w, "procs_alive", u->procs_alive);
	json_kv_gauge(w, "pids_current", u->pids_current);
	json_kv_gauge(w, "pids_max", u->pids_max);
	json_kv_gauge(w, "pids_events_max", u->pids_events_max);
}

static void json_unit_body(struct json_writer *w, const struct fig_unit *u, int with_exes)
{
	const struct fig_exe *main_exe = report_main_exe(u);
	uint64_t storms = 0;
	int64_t storm_since = 0;

	for (uint32_t i = 0; i < u->n_exes; i++) {
		storms += u->exes[i].storms;
		if (u->exes[i].respawn_class == RESPAWN_STORM && u->exes[i].storm_since_ms > storm_since)
			storm_since = u->exes[i].storm_since_ms;
	}
	report_json_unit_name(w, u->name);
	json_kv_u64(w, "starts", u->starts);
	json_kv_u64(w, "execs", u->execs);
	json_kv_u64(w, "exits", u->exits);
	json_kv_u64(w, "exits_failed", u->exits_failed);
	json_kv_u64(w, "forks", u->forks);
	json_kv_u64(w, "threads", u->threads);
	json_kv_string(w, "main_executable", main_exe ? main_exe->path : NULL);
	json_kv_double(w, "period_ms", main_exe ? fig_exe_period_ms(main_exe) : NAN, 1);
	json_kv_double(w, "period_stdev_ms", main_exe ? fig_exe_period_stdev_ms(main_exe) : NAN, 1);
	json_lifetime(w, main_exe);
	json_key(w, "exit_codes");
	report_json_status(w, u->exes, u->n_exes, RCA_STATUS_CODE);
	json_key(w, "signals");
	report_json_status(w, u->exes, u->n_exes, RCA_STATUS_SIGNAL);
	json_kv_bool(w, "storm", report_unit_storm(u));
	json_kv_u64(w, "storms", storms);
	json_kv_time(w, "storm_since", storm_since);
	json_kv_bool(w, "crash_storm", u->crash_storm);
	json_kv_u64(w, "crash_storms", u->crash_storms);
	json_kv_time(w, "crash_storm_since", u->crash_storm_since_ms);
	json_kv_u64(w, "crashes", fig_unit_crashes(u));
	json_kv_u64(w, "window_crashes", u->window_crashes);
	json_kv_time(w, "first_seen", u->first_ms);
	json_kv_time(w, "last_seen", u->last_ms);
	json_unit_health(w, u);
	if (with_exes) {
		json_key(w, "executables");
		json_array_begin(w);
		for (uint32_t i = 0; i < u->n_exes; i++)
			report_json_exe(w, &u->exes[i]);
		json_array_end(w);
		json_kv_u64(w, "executables_dropped", u->exes_dropped);
	}
}

void report_json_unit(struct json_writer *w, const struct fig_unit *u, int with_exes,
		      const struct fig_state *earlier, const char *current_boot_id)
{
	json_object_begin(w);
	json_unit_body(w, u, with_exes);
	if (earlier) {
		json_key(w, "boots");
		json_array_begin(w);
		for (uint32_t b = 0; b < earlier->n_boots; b++) {
			const struct fig_boot *boot = &earlier->boots[b];
			const struct fig_unit *bu;

			if (current_boot_id && strcmp(boot->boot_id, current_boot_id) == 0)
				continue;
			bu = fig_boot_find_unit(boot, u->name);
			if (!bu)
				continue;
			json_object_begin(w);
			json_kv_string(w, "boot_id", boot->boot_id);
			json_unit_body(w, bu, with_exes);
			json_object_end(w);
		}
		json_array_end(w);
	}
	json_object_end(w);
}

void report_format_status(char *dst, size_t size, const struct fig_unit *u)
{
	struct fig_status st[64];
	uint32_t n;
	size_t pos = 0;
	char sig[16];

	dst[0] = '\0';
	n = collect_status(u->exes, u->n_exes, RCA_STATUS_CODE, st, 64);
	for (uint32_t i = 0; i < n && pos < size; i++)
		pos += (size_t)snprintf(dst + pos, size - pos, "%s%u:%llu", pos ? " " : "",
					st[i].value, (unsigned long long)st[i].count);
	n = collect_status(u->exes, u->n_exes, RCA_STATUS_SIGNAL, st, 64);
	for (uint32_t i = 0; i < n && pos < size; i++)
		pos += (size_t)snprintf(dst + pos, size - pos, "%sSIG%s:%llu", pos ? " " : "",
					report_signal_name(st[i].value, sig, sizeof(sig)),
					(unsigned long long)st[i].count);
	if (pos >= size && size > 4)
		strcpy(dst + size - 4, "...");
}

static void format_ms(char *dst, size_t size, double ms)
{
	if (!isfinite(ms))
		snprintf(dst, size, "-");
	else if (ms < 1000)
		snprintf(dst, size, "%.0fms", ms);
	else if (ms < 120000)
		snprintf(dst, size, "%.1fs", ms / 1000);
	else if (ms < 7200000)
		snprintf(dst, size, "%.1fm", ms / 60000);
	else if (ms < 172800000)
		snprintf(dst, size, "%.1fh", ms / 3600000);
	else
		snprintf(dst, size, "%.1fd", ms / 86400000);
}

static void format_kib(char *dst, size_t size, double kib)
{
	const char *sign = kib < 0 ? "-" : "";

	kib = fabs(kib);
	if (!isfinite(kib))
		snprintf(dst, size, "-");
	else if (kib < 1024)
		snprintf(dst, size, "%s%.0fK", sign, kib);
	else if (kib < 1024 * 1024)
		snprintf(dst, size, "%s%.1fM", sign, kib / 1024);
	else
		snprintf(dst, size, "%s%.1fG", sign, kib / (1024 * 1024));
}

static void format_time(char *dst, size_t size, int64_t ms)
{
	char iso[40];

	if (ms <= 0) {
		snprintf(dst, size, "-");
		return;
	}
	clock_format_iso8601(ms, iso, sizeof(iso));
	/* "2026-11-23T10:04:05.123Z" -> "11-23 10:04:05" */
	snprintf(dst, size, "%.5s %.8s", iso + 5, iso + 11);
}

/* The tail of a path, which names it best: ".../helpers/memhog". */
static void path_tail(char *dst, size_t size, const char *path, size_t width)
{
	size_t len = strlen(path);
	char tmp[RCA_EXE_PATH_LEN + 8];

	if (len <= width) {
		escape_terminal(dst, size, path, len);
		return;
	}
	snprintf(tmp, sizeof(tmp), "...%s", path + len - (width - 3));
	escape_terminal(dst, size, tmp, strlen(tmp));
}

void report_format_alerts(char *dst, size_t size, const struct fig_unit *u)
{
	size_t pos = 0;

	dst[0] = '\0';
	if (report_unit_storm(u))
		pos += (size_t)snprintf(dst + pos, size - pos, "%sSTORM", pos ? "," : "");
	if (u->crash_storm && pos < size)
		pos += (size_t)snprintf(dst + pos, size - pos, "%sCRASH", pos ? "," : "");
	if (u->mem.leak_suspect && pos < size)
		pos += (size_t)snprintf(dst + pos, size - pos, "%sLEAK", pos ? "," : "");
	if (u->fork_storm && pos < size)
		pos += (size_t)snprintf(dst + pos, size - pos, "%sFORK", pos ? "," : "");
	if (u->oom_kills && pos < size)
		pos += (size_t)snprintf(dst + pos, size - pos, "%sOOM", pos ? "," : "");
	if (!pos)
		snprintf(dst, size, "-");
}

/* The UNIT column: at least this wide, at most UNIT_COLUMN_MAX. */
#define UNIT_COLUMN_MIN 32
#define UNIT_COLUMN_MAX 64

void report_text_units(FILE *f, const struct fig_unit *const *units, uint32_t n, int wide)
{
	int uw = UNIT_COLUMN_MIN;
	char name[UNIT_COLUMN_MAX * 4 + 1], exe[96], status[128], period[16], life[16], first[24], last[24], rss[24],
		growth[20], eta[16], alerts[32];

	/* As wide as the longest name (a machine's units are "MACHINE:unit"), within reason. */
	for (uint32_t i = 0; i < n; i++) {
		size_t len = strlen(units[i]->name);

		if (len > (size_t)uw)
			uw = len < UNIT_COLUMN_MAX ? (int)len : UNIT_COLUMN_MAX;
	}
	fprintf(f, wide ? "%-*s %-20s %7s %7s %7s %7s %8s %7s %-12s %-24s"
			: "%-*s %-20s %7s %7s %7s %7s %8s %7s %-12s %s",
		uw, "UNIT", "EXECUTABLE", "STARTS", "PERIOD", "LIFE", "RSS", "GROWTH/s", "ETA", "ALERTS",
		"EXITS (code:n SIGNAL:n)");
	if (wide)
		fprintf(f, "  %-14s %-14s", "FIRST SEEN", "LAST SEEN");
	fputc('\n', f);
	for (uint32_t i = 0; i < n; i++) {
		const struct fig_unit *u = units[i];
		const struct fig_exe *m = report_main_exe(u);
		const struct fig_memory *mem = &u->mem;

		escape_terminal(name, (size_t)uw + 1, u->name, strlen(u->name));
		path_tail(exe, sizeof(exe), m ? m->path : "-", 20);
		report_format_status(status, sizeof(status), u);
		format_ms(period, sizeof(period), m ? fig_exe_period_ms(m) : NAN);
		format_ms(life, sizeof(life), m ? fig_exe_lifetime_pct_ms(m, 50) : NAN);
		if (mem->sampled_ms && mem->count >= 0) {
			/* A kernel count (kernel:dying_cgroups): the number, and its growth per second. */
			snprintf(rss, sizeof(rss), "%lld", (long long)mem->count);
			if (isnan(mem->growth_kib_per_s))
				snprintf(growth, sizeof(growth), "-");
			else
				snprintf(growth, sizeof(growth), "%.1f", mem->growth_kib_per_s);
			snprintf(eta, sizeof(eta), "-");
		} else if (mem->sampled_ms) {
			/* A kernel pseudo-unit (kernel:slab, ...) has no processes: its figure is its charge. */
			format_kib(rss, sizeof(rss),
				   strncmp(u->name, "kernel:", 7) == 0 && mem->memcg_usage_bytes >= 0
					   ? mem->memcg_usage_bytes / 1024.0
					   : (double)(mem->rss_anon_kib + mem->rss_file_kib +
						      mem->rss_shmem_kib));
			format_kib(growth, sizeof(growth), mem->growth_kib_per_s);
			if (mem->gone)
				snprintf(eta, sizeof(eta), "gone");
			else
				format_ms(eta, sizeof(eta),
					  mem->exhaustion_eta_s >= 0 ? mem->exhaustion_eta_s * 1000.0 : NAN);
		} else {
			snprintf(rss, sizeof(rss), "-");
			snprintf(growth, sizeof(growth), "-");
			snprintf(eta, sizeof(eta), "-");
		}
		report_format_alerts(alerts, sizeof(alerts), u);
		fprintf(f, wide ? "%-*s %-20s %7llu %7s %7s %7s %8s %7s %-12s %-24s"
				: "%-*s %-20s %7llu %7s %7s %7s %8s %7s %-12s %s",
			uw, name, exe, (unsigned long long)u->starts, period, life, rss, growth, eta, alerts,
			status[0] ? status : "-");
		if (wide) {
			format_time(first, sizeof(first), u->first_ms);
			format_time(last, sizeof(last), u->last_ms);
			fprintf(f, "  %-14s %-14s", first, last);
		}
		fputc('\n', f);
	}
}

int report_unit_cmp(const void *a, const void *b)
{
	const struct fig_unit *x = *(const struct fig_unit *const *)a;
	const struct fig_unit *y = *(const struct fig_unit *const *)b;
	uint64_t rx = x->mem.rss_anon_kib + x->mem.rss_file_kib + x->mem.rss_shmem_kib;
	uint64_t ry = y->mem.rss_anon_kib + y->mem.rss_file_kib + y->mem.rss_shmem_kib;

	/* What matters most first: alarms, then the busiest, then the biggest. */
	if (report_unit_alarm(x) != report_unit_alarm(y))
		return report_unit_alarm(y) - report_unit_alarm(x);
	if (x->execs != y->execs)
		return x->execs < y->execs ? 1 : -1;
	if (rx != ry)
		return rx < ry ? 1 : -1;
	return strcmp(x->name, y->name);
}

void report_json_proc_ref(struct json_writer *w, const char *key, const struct fig_proc_ref *p)
{
	json_key(w, key);
	json_object_begin(w);
	json_kv_u64(w, "pid", p->pid);
	json_kv_string(w, "comm", p->comm);
	report_json_unit_name(w, p->unit);
	json_object_end(w);
}

static void json_top(struct json_writer *w, const char *key, const struct fig_top_unit *t,
		     uint32_t n)
{
	json_key(w, key);
	json_array_begin(w);
	for (uint32_t i = 0; i < n && i < FIG_OOM_TOP_UNITS; i++) {
		json_object_begin(w);
		report_json_unit_name(w, t[i].unit);
		json_kv_u64(w, "rss_kib", t[i].rss_kib);
		json_kv_double(w, "growth_kib_per_s", t[i].growth_kib_per_s, 2);
		json_object_end(w);
	}
	json_array_end(w);
}

/* "storm_unit", "storm_machine", "growing_unit", "growing_machine" of two stored names. */
static void json_link_names(struct json_writer *w, const char *storm, const char *growing)
{
	char m[FIG_UNIT_NAME_MAX];
	const char *u = unit_name_machine(storm, m, sizeof(m));

	json_kv_string(w, "storm_unit", u);
	json_kv_string(w, "storm_machine", m[0] ? m : NULL);
	if (!growing[0]) {
		json_kv_null(w, "growing_unit");
		json_kv_null(w, "growing_machine");
		return;
	}
	u = unit_name_machine(growing, m, sizeof(m));
	json_kv_string(w, "growing_unit", u);
	json_kv_string(w, "growing_machine", m[0] ? m : NULL);
}

void report_json_churn_link(struct json_writer *w, const char *storm, const char *growing,
			    double kib_per_start, double r2, uint64_t starts, double growth_kib)
{
	json_object_begin(w);
	json_link_names(w, storm, growing);
	json_kv_double(w, "kib_per_start", kib_per_start, 2);
	if (isnan(r2))
		json_kv_null(w, "r2");
	else
		json_kv_double(w, "r2", r2, 3);
	json_kv_u64(w, "starts", starts);
	json_kv_double(w, "growth_kib", growth_kib, 1);
	json_object_end(w);
}

void report_json_oom_churn(struct json_writer *w, const struct fig_oom *o)
{
	json_key(w, "churn_links");
	json_array_begin(w);
	for (uint32_t i = 0; i < o->n_churn && i < FIG_OOM_CHURN; i++)
		report_json_churn_link(w, o->churn[i].storm_unit, o->churn[i].growing_unit,
				       o->churn[i].kib_per_start, NAN, o->churn[i].starts,
				       o->churn[i].growth_kib);
	json_array_end(w);
}

void report_json_oom_fields(struct json_writer *w, const struct fig_oom *o)
{
	json_kv_time(w, "time", o->time_ms);
	json_kv_string(w, "boot_id", o->boot_id);
	json_kv_u64(w, "pid", o->victim.pid);
	json_kv_string(w, "comm", o->victim.comm);
	report_json_unit_name(w, o->victim.unit);
	json_kv_string(w, "constraint", o->constraint);
	json_kv_string(w, "memcg", o->memcg);
	json_kv_gauge(w, "memcg_limit_bytes", o->memcg_limit_bytes);
	json_kv_gauge(w, "memcg_usage_bytes", o->memcg_usage_bytes);
	json_key(w, "rss_kib");
	json_object_begin(w);
	json_kv_u64(w, "anon", o->rss_anon_kib);
	json_kv_u64(w, "file", o->rss_file_kib);
	json_kv_u64(w, "shmem", o->rss_shmem_kib);
	json_object_end(w);
	json_kv_i64(w, "oom_score_adj", o->oom_score_adj);
	report_json_proc_ref(w, "trigger", &o->trigger);
	report_json_oom_churn(w, o);
	json_top(w, "top_units", o->top_rss, o->n_top_rss);
	json_top(w, "top_growth", o->top_growth, o->n_top_growth);
}

void report_json_oom(struct json_writer *w, const struct fig_oom *o)
{
	json_object_begin(w);
	report_json_oom_fields(w, o);
	json_object_end(w);
}

void report_json_kill_fields(struct json_writer *w, const struct fig_kill *k)
{
	char sig[16], full[24];

	json_kv_time(w, "time", k->time_ms);
	json_kv_string(w, "boot_id", k->boot_id);
	snprintf(full, sizeof(full), "SIG%s", report_signal_name(k->signal, sig, sizeof(sig)));
	json_kv_string(w, "signal", full);
	json_kv_u64(w, "signal_number", k->signal);
	json_kv_bool(w, "by_kernel", k->by_kernel);
	json_kv_i64(w, "result", k->result);
	json_key(w, "sender");
	json_object_begin(w);
	json_kv_u64(w, "pid", k->sender.pid);
	json_kv_string(w, "comm", k->sender.comm);
	report_json_unit_name(w, k->sender.unit);
	json_key(w, "lineage");
	json_array_begin(w);
	for (uint32_t i = 0; i < k->n_lineage && i < FIG_LINEAGE_MAX; i++) {
		json_object_begin(w);
		json_kv_u64(w, "pid", k->lineage[i].pid);
		json_kv_string(w, "comm", k->lineage[i].comm);
		report_json_unit_name(w, k->lineage[i].unit);
		json_object_end(w);
	}
	json_array_end(w);
	json_object_end(w);
	report_json_proc_ref(w, "target", &k->target);
}

void report_json_kill(struct json_writer *w, const struct fig_kill *k)
{
	json_object_begin(w);
	report_json_kill_fields(w, k);
	json_object_end(w);
}
