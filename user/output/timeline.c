// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The timeline: copies of what the store read back, one list of events in time order, text or JSON. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "escape.h"
#include "events.h"
#include "json_writer.h"
#include "report.h"
#include "timeline.h"

enum tl_kind {
	TL_BOOT,
	TL_FINDING_STARTED,
	TL_FINDING_ENDED,
	TL_OOM_KILL,
	TL_KILL,
};

static const char *const kind_names[] = {
	[TL_BOOT] = "boot",
	[TL_FINDING_STARTED] = "finding_started",
	[TL_FINDING_ENDED] = "finding_ended",
	[TL_OOM_KILL] = "oom_kill",
	[TL_KILL] = "kill",
};

/* A finding whose strings it owns (one allocation each, freed with it). */
struct tl_finding {
	struct db_finding f;
	char *strings[4 + 6 * DB_FINDING_MAX_FIGURES];
	uint32_t n_strings;
};

struct tl_boot {
	char id[FIG_BOOT_ID_MAX];
	int64_t first_ms;
};

struct tl_event {
	int64_t t_ms;
	enum tl_kind kind;
	uint32_t index; /* into the array of its kind */
};

struct timeline {
	struct tl_finding *findings;
	struct fig_oom *ooms;
	struct fig_kill *kills;
	struct tl_boot *boots;
	struct tl_event *events;
	uint32_t n_findings, n_ooms, n_kills, n_boots, n_events;
	uint32_t cap_findings, cap_ooms, cap_kills, cap_boots;
	int64_t since_ms, until_ms;
};

struct timeline *timeline__new(void)
{
	return calloc(1, sizeof(struct timeline));
}

void timeline__free(struct timeline *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->n_findings; i++)
		for (uint32_t s = 0; s < t->findings[i].n_strings; s++)
			free(t->findings[i].strings[s]);
	free(t->findings);
	free(t->ooms);
	free(t->kills);
	free(t->boots);
	free(t->events);
	free(t);
}

/* Room for one more in *arr (of elem bytes, n used of *cap). 0 or -ENOMEM. */
static int grow(void **arr, uint32_t n, uint32_t *cap, size_t elem)
{
	void *p;
	uint32_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int timeline__add_boot(struct timeline *t, const char *boot_id, int64_t first_ms)
{
	if (grow((void **)&t->boots, t->n_boots, &t->cap_boots, sizeof(*t->boots)))
		return -ENOMEM;
	snprintf(t->boots[t->n_boots].id, sizeof(t->boots[0].id), "%s", boot_id);
	t->boots[t->n_boots++].first_ms = first_ms;
	return 0;
}

static const char *own(struct tl_finding *tf, const char *s, int *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d) {
		*failed = 1;
		return "";
	}
	tf->strings[tf->n_strings++] = d;
	return d;
}

static void own_figures(struct tl_finding *tf, struct db_figure *fig, uint32_t n, int *failed)
{
	for (uint32_t i = 0; i < n; i++) {
		fig[i].name = own(tf, fig[i].name, failed);
		fig[i].text = own(tf, fig[i].text, failed);
	}
}

int timeline__add_finding(struct timeline *t, const struct db_finding *f)
{
	struct tl_finding *tf;
	int failed = 0;

	if (grow((void **)&t->findings, t->n_findings, &t->cap_findings, sizeof(*t->findings)))
		return -ENOMEM;
	tf = &t->findings[t->n_findings++];
	memset(tf, 0, sizeof(*tf));
	tf->f = *f;
	tf->f.kind = own(tf, f->kind, &failed);
	tf->f.unit = own(tf, f->unit, &failed);
	tf->f.machine = own(tf, f->machine ? f->machine : "", &failed);
	tf->f.subject = own(tf, f->subject ? f->subject : "", &failed);
	own_figures(tf, tf->f.start, tf->f.n_start, &failed);
	own_figures(tf, tf->f.peak, tf->f.n_peak, &failed);
	own_figures(tf, tf->f.end, tf->f.n_end, &failed);
	return failed ? -ENOMEM : 0;
}

int timeline__add_oom(struct timeline *t, const struct fig_oom *o)
{
	if (grow((void **)&t->ooms, t->n_ooms, &t->cap_ooms, sizeof(*t->ooms)))
		return -ENOMEM;
	t->ooms[t->n_ooms++] = *o;
	return 0;
}

int timeline__add_kill(struct timeline *t, const struct fig_kill *k)
{
	if (grow((void **)&t->kills, t->n_kills, &t->cap_kills, sizeof(*t->kills)))
		return -ENOMEM;
	t->kills[t->n_kills++] = *k;
	return 0;
}

void timeline__set_range(struct timeline *t, int64_t since_ms, int64_t until_ms)
{
	t->since_ms = since_ms;
	t->until_ms = until_ms;
}

static int in_range(const struct timeline *t, int64_t ms)
{
	return (!t->since_ms || ms >= t->since_ms) && (!t->until_ms || ms <= t->until_ms);
}

static int event_cmp(const void *a, const void *b)
{
	const struct tl_event *x = a, *y = b;

	if (x->t_ms != y->t_ms)
		return x->t_ms < y->t_ms ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The events in range, in time order (ties: boots first, then by kind and arrival). */
static int build_events(struct timeline *t)
{
	uint32_t cap = t->n_boots + 2 * t->n_findings + t->n_ooms + t->n_kills, n = 0;
	struct tl_event *e = calloc(cap ? cap : 1, sizeof(*e));

	if (!e)
		return -ENOMEM;
#define ADD(ms, k, i)                                                  \
	do {                                                           \
		if (in_range(t, (ms)))                                 \
			e[n++] = (struct tl_event){ (ms), (k), (i) }; \
	} while (0)
	for (uint32_t i = 0; i < t->n_boots; i++)
		ADD(t->boots[i].first_ms, TL_BOOT, i);
	for (uint32_t i = 0; i < t->n_findings; i++) {
		ADD(t->findings[i].f.started_ms, TL_FINDING_STARTED, i);
		if (t->findings[i].f.ended_ms)
			ADD(t->findings[i].f.ended_ms, TL_FINDING_ENDED, i);
	}
	for (uint32_t i = 0; i < t->n_ooms; i++)
		ADD(t->ooms[i].time_ms, TL_OOM_KILL, i);
	for (uint32_t i = 0; i < t->n_kills; i++)
		ADD(t->kills[i].time_ms, TL_KILL, i);
#undef ADD
	qsort(e, n, sizeof(*e), event_cmp);
	free(t->events);
	t->events = e;
	t->n_events = n;
	return 0;
}

static const struct db_figure *figure(const struct db_figure *fig, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(fig[i].name, name) == 0)
			return &fig[i];
	return NULL;
}

static double num(const struct db_figure *fig, uint32_t n, const char *name)
{
	const struct db_figure *f = figure(fig, n, name);

	return f && !f->text ? f->value : NAN;
}

/* "83.0 MiB" from KiB. */
static const char *kib_text(double kib, char *buf, size_t size)
{
	if (kib >= 1024.0 * 1024.0)
		snprintf(buf, size, "%.1f GiB", kib / (1024.0 * 1024.0));
	else if (kib >= 1024.0)
		snprintf(buf, size, "%.1f MiB", kib / 1024.0);
	else
		snprintf(buf, size, "%.0f KiB", kib);
	return buf;
}

void timeline_finding_summary(char *dst, size_t size, const char *kind, const struct db_figure *fig,
			      uint32_t n)
{
	char a[32], sig[16];

	if (strcmp(kind, "leak_suspect") == 0) {
		snprintf(dst, size, "growing %.1f KiB/s (R\xc2\xb2 %.2f over %.0f s), rss %s",
			 num(fig, n, "growth_kib_per_s"), num(fig, n, "growth_fit_r2"),
			 num(fig, n, "window_s"), kib_text(num(fig, n, "rss_kib"), a, sizeof(a)));
	} else if (strcmp(kind, "respawn_storm") == 0) {
		snprintf(dst, size, "%.0f starts in the window (%.0f failed), every %.0f ms; %.0f starts in all",
			 num(fig, n, "window_starts"), num(fig, n, "window_failed"),
			 num(fig, n, "period_ms"), num(fig, n, "starts"));
	} else if (strcmp(kind, "crash_storm") == 0) {
		double s = num(fig, n, "signal");

		snprintf(dst, size, "%.0f crashes in the window (SIG%s), %.0f in all",
			 num(fig, n, "window_crashes"),
			 isnan(s) ? "?" : report_signal_name((uint32_t)s, sig, sizeof(sig)),
			 num(fig, n, "crashes"));
	} else if (strcmp(kind, "fork_storm") == 0) {
		double cur = num(fig, n, "pids_current"), max = num(fig, n, "pids_max");
		char pids[64] = "";

		/* -1: no pids controller, or no limit. */
		if (cur >= 0 && max >= 0)
			snprintf(pids, sizeof(pids), " (pids %.0f of %.0f)", cur, max);
		else if (cur >= 0)
			snprintf(pids, sizeof(pids), " (pids %.0f, no limit)", cur);
		snprintf(dst, size, "forking %.1f/s, exec %.1f/s; %.0f forks failed%s",
			 num(fig, n, "window_fork_rate_per_s"), num(fig, n, "exec_rate_per_s"),
			 num(fig, n, "forks_failed"), pids);
	} else if (strcmp(kind, "churn_growth") == 0) {
		const struct db_figure *storm = figure(fig, n, "storm_unit");
		const struct db_figure *other = figure(fig, n, "ambiguous_with");

		snprintf(dst, size, "grows %.1f per start of %s (R\xc2\xb2 %.2f over %.0f starts; %+.0f since the storm began)%s%s",
			 num(fig, n, "kib_per_start"), storm && storm->text ? storm->text : "?",
			 num(fig, n, "r2"), num(fig, n, "starts"), num(fig, n, "growth_kib"),
			 other && other->text ? "; ambiguous with " : "",
			 other && other->text ? other->text : "");
	} else {
		snprintf(dst, size, "%u figures", n);
	}
}

/* A finding's executable: its subject (respawn storms), else its figure (crash storms), else null. */
static const char *finding_executable(const struct db_finding *d)
{
	const struct db_figure *f = figure(d->start, d->n_start, "executable");

	if (d->subject && d->subject[0])
		return d->subject;
	return f && f->text && f->text[0] ? f->text : NULL;
}

/* "LEAK SUSPECT" from "leak_suspect". */
static void upper_words(char *dst, size_t size, const char *kind)
{
	size_t i = 0;

	for (; kind[i] && i + 1 < size; i++)
		dst[i] = kind[i] == '_' ? ' ' : (char)(kind[i] >= 'a' && kind[i] <= 'z' ? kind[i] - 32 : kind[i]);
	dst[i] = '\0';
}

static void text_event(struct timeline *t, const struct tl_event *e, FILE *f)
{
	char when[40], unit[512], line[1024], what[40], exe[512];

	clock_format_iso8601(e->t_ms, when, sizeof(when));
	switch (e->kind) {
	case TL_BOOT:
		escape_terminal(unit, sizeof(unit), t->boots[e->index].id, strlen(t->boots[e->index].id));
		fprintf(f, "%s  BOOT %s\n", when, unit);
		break;
	case TL_FINDING_STARTED:
	case TL_FINDING_ENDED: {
		const struct db_finding *d = &t->findings[e->index].f;
		int start = e->kind == TL_FINDING_STARTED;

		escape_terminal(unit, sizeof(unit), d->unit, strlen(d->unit));
		upper_words(what, sizeof(what), d->kind);
		if (start)
			timeline_finding_summary(line, sizeof(line), d->kind, d->start, d->n_start);
		else
			timeline_finding_summary(line, sizeof(line), d->kind, d->peak, d->n_peak);
		exe[0] = '\0';
		if (finding_executable(d)) {
			exe[0] = ' ';
			escape_terminal(exe + 1, sizeof(exe) - 1, finding_executable(d),
					strlen(finding_executable(d)));
		}
		if (start)
			fprintf(f, "%s  %s %s%s: %s\n", when, what, unit, exe, line);
		else
			fprintf(f, "%s  %s ended %s%s after %.0f s%s; at its peak: %s\n", when, what, unit,
				exe, (double)(d->ended_ms - d->started_ms) / 1000.0,
				num(d->end, d->n_end, "processes_gone") == 1 ? " (its processes exited)" : "",
				line);
		break;
	}
	case TL_OOM_KILL:
		events_format_oom(line, sizeof(line), &t->ooms[e->index]);
		fprintf(f, "%s  OOM KILL %s\n", when, line);
		break;
	case TL_KILL:
		events_format_kill(line, sizeof(line), &t->kills[e->index]);
		fprintf(f, "%s  KILL %s\n", when, line);
		break;
	}
}

int timeline__write_text(struct timeline *t, FILE *f)
{
	if (build_events(t))
		return -ENOMEM;
	if (!t->n_events)
		fprintf(f, "nothing happened in this range: no finding, OOM kill, kill across units or boot\n");
	for (uint32_t i = 0; i < t->n_events; i++)
		text_event(t, &t->events[i], f);
	return 0;
}

/* The figures as keys of the object being written (a timeline event's). */
static void json_flat_figures(struct json_writer *w, const struct db_figure *fig, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		/* The finding's own keys win: a figure never repeats one. */
		if (strcmp(fig[i].name, "executable") == 0)
			continue;
		if (fig[i].text)
			json_kv_string(w, fig[i].name, fig[i].text);
		else
			/* Whole figures as before (40.0); fractions keep what they say (R² 0.987). */
			json_kv_double(w, fig[i].name, fig[i].value,
				       fig[i].value == (double)(int64_t)fig[i].value ? 1 : 3);
	}
}

static void json_event(struct timeline *t, const struct tl_event *e, struct json_writer *w)
{
	char when[40];

	json_object_begin(w);
	switch (e->kind) {
	case TL_BOOT:
		json_kv_string(w, "time", clock_format_iso8601(e->t_ms, when, sizeof(when)));
		json_kv_string(w, "kind", kind_names[e->kind]);
		json_kv_null(w, "unit");
		json_kv_null(w, "machine");
		json_kv_string(w, "boot_id", t->boots[e->index].id);
		break;
	case TL_FINDING_STARTED:
	case TL_FINDING_ENDED: {
		const struct db_finding *d = &t->findings[e->index].f;

		json_kv_string(w, "time", clock_format_iso8601(e->t_ms, when, sizeof(when)));
		json_kv_string(w, "kind", kind_names[e->kind]);
		json_kv_string(w, "finding", d->kind);
		report_json_unit_name(w, d->unit);
		json_kv_string(w, "executable", finding_executable(d));
		json_kv_string(w, "started", clock_format_iso8601(d->started_ms, when, sizeof(when)));
		if (e->kind == TL_FINDING_STARTED) {
			json_flat_figures(w, d->start, d->n_start);
		} else {
			json_kv_double(w, "duration_s", (double)(d->ended_ms - d->started_ms) / 1000.0, 1);
			json_flat_figures(w, d->peak, d->n_peak);
			report_json_figures(w, "at_end", d->end, d->n_end);
		}
		break;
	}
	case TL_OOM_KILL:
		json_kv_string(w, "kind", kind_names[e->kind]);
		report_json_oom_fields(w, &t->ooms[e->index]);
		break;
	case TL_KILL:
		json_kv_string(w, "kind", kind_names[e->kind]);
		report_json_kill_fields(w, &t->kills[e->index]);
		/* The unit it happened to: the target's. */
		report_json_unit_name(w, t->kills[e->index].target.unit);
		break;
	}
	json_object_end(w);
}

int timeline__write_json(struct timeline *t, FILE *f)
{
	struct json_writer w;

	if (build_events(t))
		return -ENOMEM;
	json_init(&w, f);
	json_object_begin(&w);
	json_key(&w, "events");
	json_array_begin(&w);
	for (uint32_t i = 0; i < t->n_events; i++)
		json_event(t, &t->events[i], &w);
	json_array_end(&w);
	json_key(&w, "findings");
	json_array_begin(&w);
	for (uint32_t i = 0; i < t->n_findings; i++)
		report_json_finding(&w, &t->findings[i].f);
	json_array_end(&w);
	json_object_end(&w);
	fputc('\n', f);
	return 0;
}
