// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "clock.h"
#include "escape.h"
#include "options.h"
#include "report.h"
#include "view.h"

#define VIEW_MAX_UNITS 4096

struct prev {
	char name[FIG_UNIT_NAME_MAX];
	uint64_t events;
	uint64_t failed;
};

struct view {
	struct view_opts o;
	struct prev *prev;
	uint32_t n_prev;
	int64_t prev_ms;
};

struct row {
	const struct fig_unit *u;
	double rate;
	int changed;
};

struct view *view__new(const struct view_opts *opts)
{
	struct view *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->o = *opts;
	v->prev = calloc(VIEW_MAX_UNITS, sizeof(*v->prev));
	if (!v->prev) {
		free(v);
		return NULL;
	}
	return v;
}

void view__free(struct view *v)
{
	if (!v)
		return;
	free(v->prev);
	free(v);
}

static int prev_cmp(const void *a, const void *b)
{
	return strcmp(((const struct prev *)a)->name, ((const struct prev *)b)->name);
}

static const struct prev *prev_find(const struct view *v, const char *name)
{
	struct prev key;

	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, v->prev, v->n_prev, sizeof(*v->prev), prev_cmp);
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	/* Alarms first, then the busiest now, then what dump would show first. */
	if (report_unit_alarm(x->u) != report_unit_alarm(y->u))
		return report_unit_alarm(y->u) - report_unit_alarm(x->u);
	if (x->rate != y->rate)
		return x->rate < y->rate ? 1 : -1;
	if (x->u->execs != y->u->execs)
		return x->u->execs < y->u->execs ? 1 : -1;
	return strcmp(x->u->name, y->u->name);
}

static uint64_t lost_total(const struct view_status *st)
{
	uint64_t n = 0;

	for (int i = 0; i < RCA_LOST_KIND_MAX; i++)
		n += st->lost[i];
	return n;
}

static void render_table(struct view *v, struct row *rows, uint32_t n, int64_t now_ms,
			 const struct view_status *st)
{
	FILE *f = v->o.out;
	struct winsize ws = { .ws_row = 24, .ws_col = 120 };
	char name[41], status[48], when[40];

	/* sorted like dump: what matters most first is in row_cmp */
	uint32_t max_rows;

	ioctl(fileno(f), TIOCGWINSZ, &ws);
	max_rows = ws.ws_row > 6 ? ws.ws_row - 5u : 1u;
	/* Home and clear: redraw in place, readable at a glance. */
	fputs("\033[H\033[2J", f);
	fprintf(f, "rcatrace  %s  units: %u  ring-buffer drops: %llu  unnamed: %llu  state: %s%s\n",
		clock_format_iso8601(now_ms, when, sizeof(when)), n,
		(unsigned long long)(st->lost[RCA_LOST_RINGBUF_EXEC] + st->lost[RCA_LOST_RINGBUF_EXIT]),
		(unsigned long long)st->units_unnamed, st->state_path ? st->state_path : "off",
		st->state_error ? " (NOT SAVED)" : "");
	if (lost_total(st) - st->lost[RCA_LOST_RINGBUF_EXEC] - st->lost[RCA_LOST_RINGBUF_EXIT])
		fprintf(f, "WARNING: kernel tables full, counts incomplete: units %llu, ledger %llu, "
			   "status %llu\n",
			(unsigned long long)st->lost[RCA_LOST_UNITS_FULL],
			(unsigned long long)st->lost[RCA_LOST_LEDGER_FULL],
			(unsigned long long)st->lost[RCA_LOST_STATUS_FULL]);
	fprintf(f, "\n%-36s %8s %8s %8s %8s %7s %8s %8s %-12s %s\n", "UNIT", "STARTS", "EXECS",
		"EXITS", "FAILED", "EV/S", "RSS MiB", "KiB/s", "ALERTS", "EXITS BY CODE / SIGNAL");
	for (uint32_t i = 0; i < n && i < max_rows; i++) {
		const struct fig_unit *u = rows[i].u;
		const struct fig_memory *m = &u->mem;
		char alerts[32], rss[16], growth[16];

		escape_terminal(name, 37, u->name, strlen(u->name));
		report_format_status(status, sizeof(status), u);
		report_format_alerts(alerts, sizeof(alerts), u);
		if (m->sampled_ms && !m->gone) {
			snprintf(rss, sizeof(rss), "%.1f",
				 (m->rss_anon_kib + m->rss_file_kib + m->rss_shmem_kib) / 1024.0);
			snprintf(growth, sizeof(growth), "%.1f", m->growth_kib_per_s);
		} else {
			snprintf(rss, sizeof(rss), "-");
			snprintf(growth, sizeof(growth), "-");
		}
		fprintf(f, "%-36s %8llu %8llu %8llu %8llu %7.1f %8s %8s %-12s %s\n", name,
			(unsigned long long)u->starts, (unsigned long long)u->execs,
			(unsigned long long)u->exits,
			(unsigned long long)u->exits_failed, rows[i].rate, rss,
			growth[0] == 'n' ? "-" : growth, alerts, status);
	}
	if (n > max_rows)
		fprintf(f, "... %u more units (rcatrace dump shows all)\n", n - max_rows);
}

static const char *alerts_of(const struct fig_unit *u)
{
	static char buf[32];

	report_format_alerts(buf, sizeof(buf), u);
	return buf;
}

static void render_lines(struct view *v, struct row *rows, uint32_t n, int64_t now_ms)
{
	char name[FIG_UNIT_NAME_MAX * 4], status[256], when[40];

	clock_format_iso8601(now_ms, when, sizeof(when));
	for (uint32_t i = 0; i < n; i++) {
		const struct fig_unit *u = rows[i].u;

		if (!rows[i].changed)
			continue;
		escape_terminal(name, sizeof(name), u->name, strlen(u->name));
		report_format_status(status, sizeof(status), u);
		fprintf(v->o.out,
			"%s unit=%s starts=%llu execs=%llu exits=%llu failed=%llu rate=%.1f/s "
			"rss_kib=%llu growth_kib_s=%.1f alerts=%s exits_by=%s\n",
			when, name, (unsigned long long)u->starts, (unsigned long long)u->execs,
			(unsigned long long)u->exits,
			(unsigned long long)u->exits_failed, rows[i].rate,
			(unsigned long long)(u->mem.rss_anon_kib + u->mem.rss_file_kib +
					     u->mem.rss_shmem_kib),
			u->mem.growth_kib_per_s == u->mem.growth_kib_per_s ? u->mem.growth_kib_per_s : 0.0,
			alerts_of(u), status[0] ? status : "-");
	}
}

void view__render(struct view *v, const struct fig_boot *boot, int64_t now_ms,
		  const struct view_status *st)
{
	struct row *rows = calloc(boot->n_units ? boot->n_units : 1, sizeof(*rows));
	double secs = v->prev_ms ? (now_ms - v->prev_ms) / 1000.0 : 0;
	uint32_t n = 0;

	if (!rows)
		return;
	for (uint32_t i = 0; i < boot->n_units; i++) {
		const struct fig_unit *u = &boot->units[i];
		const struct prev *p;
		uint64_t events = u->execs + u->exits;

		if (!options_unit_matches(v->o.unit_globs, v->o.n_unit_globs, u->name))
			continue;
		p = prev_find(v, u->name);
		rows[n].u = u;
		rows[n].changed = !p || p->events != events;
		rows[n].rate = p && secs > 0 && events >= p->events ? (events - p->events) / secs : 0;
		n++;
	}
	qsort(rows, n, sizeof(*rows), row_cmp);
	if (v->o.terminal)
		render_table(v, rows, n, now_ms, st);
	else
		render_lines(v, rows, n, now_ms);
	fflush(v->o.out);

	v->n_prev = 0;
	for (uint32_t i = 0; i < n && v->n_prev < VIEW_MAX_UNITS; i++) {
		struct prev *p = &v->prev[v->n_prev++];

		snprintf(p->name, sizeof(p->name), "%s", rows[i].u->name);
		p->events = rows[i].u->execs + rows[i].u->exits;
	}
	qsort(v->prev, v->n_prev, sizeof(*v->prev), prev_cmp);
	v->prev_ms = now_ms;
	free(rows);
}
