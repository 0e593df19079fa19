// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `rcatrace report --html FILE`: the store drawn as one HTML page. Units
 * drawn: every one with a finding in the range, then the top --top by peak
 * memory; read in two passes over the series (peaks, then the chosen ones'
 * points), so memory holds only what is drawn.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_error.h"
#include "clock.h"
#include "commands.h"
#include "events.h"
#include "history.h"
#include "html_report.h"
#include "options.h"
#include "store_reader.h"
#include "timeline.h"

/* A series longer than this is thinned to it (highest memory per share): a page stays small. */
#define MAX_POINTS 1500

struct candidate {
	char *unit;
	char boot[FIG_BOOT_ID_MAX];
	uint64_t peak_kib;
	int finding; /* has a finding in the range: always drawn */
	int chosen;
	struct db_point *p;
	uint32_t n;
};

struct report_ctx {
	const struct read_options *o;
	struct candidate *c;
	uint32_t n, cap;
	int pass; /* 0: peaks, 1: points of the chosen */
	struct html_finding *findings;
	char **labels; /* owned strings of findings and marks */
	uint32_t n_findings, n_labels, cap_findings, cap_labels;
	struct html_mark *marks;
	uint32_t n_marks, cap_marks;
	int64_t *mt;
	uint64_t *mused;
	uint32_t n_machine, cap_machine;
	int64_t first_ms, last_ms;
	int err;
};

static int grow(void **arr, uint32_t n, uint32_t *cap, size_t elem)
{
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*arr, (*cap ? *cap * 2 : 64) * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = *cap ? *cap * 2 : 64;
	return 0;
}

/* A copy kept until the end; NULL when out of memory (then err is set). */
static const char *keep(struct report_ctx *x, const char *s)
{
	char *d;

	if (grow((void **)&x->labels, x->n_labels, &x->cap_labels, sizeof(*x->labels)) || !(d = strdup(s))) {
		x->err = -ENOMEM;
		return NULL;
	}
	x->labels[x->n_labels++] = d;
	return d;
}

static void seen(struct report_ctx *x, int64_t t_ms)
{
	if (!x->first_ms || t_ms < x->first_ms)
		x->first_ms = t_ms;
	if (t_ms > x->last_ms)
		x->last_ms = t_ms;
}

static struct candidate *candidate_of(struct report_ctx *x, const char *boot, const char *unit)
{
	for (uint32_t i = 0; i < x->n; i++)
		if (strcmp(x->c[i].unit, unit) == 0 && strcmp(x->c[i].boot, boot) == 0)
			return &x->c[i];
	return NULL;
}

static int want(void *ctx, const char *unit)
{
	struct report_ctx *x = ctx;

	return options_unit_matches(x->o->unit_globs, x->o->n_unit_globs, unit);
}

/* At most MAX_POINTS: each share of the points gives its last, with the share's highest memory. */
static uint32_t thin(const struct db_point *in, uint32_t n, struct db_point *out)
{
	uint32_t m = n > MAX_POINTS ? MAX_POINTS : n;

	for (uint32_t k = 0; k < m; k++) {
		uint32_t lo = (uint32_t)((uint64_t)k * n / m), hi = (uint32_t)((uint64_t)(k + 1) * n / m);
		const struct db_point *top = &in[lo];

		for (uint32_t i = lo; i < hi; i++)
			if (history_rss_kib(&in[i]) > history_rss_kib(top))
				top = &in[i];
		out[k] = in[hi - 1];
		out[k].rss_anon_kib = top->rss_anon_kib;
		out[k].rss_file_kib = top->rss_file_kib;
		out[k].rss_shmem_kib = top->rss_shmem_kib;
	}
	return m;
}

static int on_series(void *ctx, const struct db_series *s)
{
	struct report_ctx *x = ctx;
	struct candidate *c = candidate_of(x, s->boot_id, s->unit);

	if (x->pass == 0) {
		uint64_t peak = 0;

		for (uint32_t i = 0; i < s->n; i++)
			if (history_rss_kib(&s->p[i]) > peak)
				peak = history_rss_kib(&s->p[i]);
		seen(x, s->p[0].t_ms);
		seen(x, s->p[s->n - 1].t_ms);
		if (!c) {
			if (grow((void **)&x->c, x->n, &x->cap, sizeof(*x->c)))
				return -ENOMEM;
			c = &x->c[x->n++];
			memset(c, 0, sizeof(*c));
			if (!(c->unit = strdup(s->unit)))
				return -ENOMEM;
			snprintf(c->boot, sizeof(c->boot), "%s", s->boot_id);
		}
		c->peak_kib = peak;
		return 0;
	}
	if (!c || !c->chosen)
		return 0;
	c->p = malloc((s->n > MAX_POINTS ? MAX_POINTS : s->n) * sizeof(*c->p));
	if (!c->p)
		return -ENOMEM;
	c->n = thin(s->p, s->n, c->p);
	return 0;
}

static void on_finding(void *ctx, const struct db_finding *f)
{
	struct report_ctx *x = ctx;
	struct html_finding *h;
	char what[256], label[512];

	if (x->err || !want(x, f->unit))
		return;
	if (grow((void **)&x->findings, x->n_findings, &x->cap_findings, sizeof(*x->findings))) {
		x->err = -ENOMEM;
		return;
	}
	timeline_finding_summary(what, sizeof(what), f->kind, f->peak, f->n_peak);
	snprintf(label, sizeof(label), "%s", what);
	h = &x->findings[x->n_findings];
	h->kind = keep(x, f->kind);
	h->unit = keep(x, f->unit);
	h->label = keep(x, label);
	h->started_ms = f->started_ms;
	h->ended_ms = f->ended_ms;
	if (x->err)
		return;
	x->n_findings++;
	seen(x, f->started_ms);
	if (f->ended_ms)
		seen(x, f->ended_ms);
	/* Every unit with a finding is drawn, in each boot it has a series in. */
	for (uint32_t i = 0; i < x->n; i++)
		if (strcmp(x->c[i].unit, f->unit) == 0)
			x->c[i].finding = 1;
}

static int add_mark(struct report_ctx *x, const char *kind, const char *unit, int64_t t_ms,
		    const char *label)
{
	struct html_mark *m;

	if (grow((void **)&x->marks, x->n_marks, &x->cap_marks, sizeof(*x->marks)))
		return -ENOMEM;
	m = &x->marks[x->n_marks];
	m->kind = kind;
	m->unit = keep(x, unit);
	m->label = keep(x, label);
	m->t_ms = t_ms;
	if (x->err)
		return x->err;
	x->n_marks++;
	seen(x, t_ms);
	return 0;
}

static int on_oom(void *ctx, const struct fig_oom *o)
{
	struct report_ctx *x = ctx;
	char line[1024];

	if (!want(x, o->victim.unit))
		return 0;
	events_format_oom(line, sizeof(line), o);
	return add_mark(x, "oom_kill", o->victim.unit, o->time_ms, line);
}

static int on_kill(void *ctx, const struct fig_kill *k)
{
	struct report_ctx *x = ctx;
	char line[1024];

	if ((strcmp(k->sender.unit, k->target.unit) == 0 && !k->by_kernel) || !want(x, k->target.unit))
		return 0;
	events_format_kill(line, sizeof(line), k);
	return add_mark(x, "kill", k->target.unit, k->time_ms, line);
}

static int on_machine(void *ctx, const struct db_machine_point *m)
{
	struct report_ctx *x = ctx;
	uint32_t cap = x->cap_machine;

	if (m->mem_total_kib < 0 || m->mem_available_kib < 0)
		return 0;
	if (grow((void **)&x->mt, x->n_machine, &cap, sizeof(*x->mt)) ||
	    grow((void **)&x->mused, x->n_machine, &x->cap_machine, sizeof(*x->mused)))
		return -ENOMEM;
	x->mt[x->n_machine] = m->t_ms;
	x->mused[x->n_machine++] = (uint64_t)(m->mem_total_kib - m->mem_available_kib);
	return 0;
}

/* Units with findings first, then the top by peak memory. */
static int candidate_cmp(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->finding != y->finding)
		return y->finding - x->finding;
	if (x->peak_kib != y->peak_kib)
		return x->peak_kib < y->peak_kib ? 1 : -1;
	return strcmp(x->unit, y->unit);
}

static int write_page(struct report_ctx *x, FILE *f)
{
	struct html_unit *units = calloc(x->n ? x->n : 1, sizeof(*units));
	struct html_report r = { 0 };
	char host[256] = "", title[320], subtitle[160], a[40], b[40];
	uint32_t n = 0;
	int err;

	if (!units)
		return -ENOMEM;
	for (uint32_t i = 0; i < x->n; i++)
		if (x->c[i].chosen && x->c[i].n)
			units[n++] = (struct html_unit){ x->c[i].unit, x->c[i].p, x->c[i].n };
	gethostname(host, sizeof(host) - 1);
	snprintf(title, sizeof(title), "rcatrace report: %s", host);
	r.from_ms = x->o->since_ms ? x->o->since_ms : x->first_ms;
	r.to_ms = x->o->until_ms ? x->o->until_ms : x->last_ms;
	snprintf(subtitle, sizeof(subtitle), "%s to %s", clock_format_iso8601(r.from_ms, a, sizeof(a)),
		 clock_format_iso8601(r.to_ms, b, sizeof(b)));
	r.title = title;
	r.subtitle = subtitle;
	r.machine_t_ms = x->mt;
	r.machine_used_kib = x->mused;
	r.n_machine = x->n_machine;
	r.units = units;
	r.n_units = n;
	r.findings = x->findings;
	r.n_findings = x->n_findings;
	r.marks = x->marks;
	r.n_marks = x->n_marks;
	err = html_report_write(f, &r);
	free(units);
	return err;
}

static uint32_t drawn(const struct report_ctx *x)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < x->n; i++)
		n += x->c[i].chosen && x->c[i].n;
	return n;
}

static void ctx_free(struct report_ctx *x)
{
	for (uint32_t i = 0; i < x->n; i++) {
		free(x->c[i].unit);
		free(x->c[i].p);
	}
	for (uint32_t i = 0; i < x->n_labels; i++)
		free(x->labels[i]);
	free(x->c);
	free(x->labels);
	free(x->findings);
	free(x->marks);
	free(x->mt);
	free(x->mused);
}

static int build(struct db *db, struct report_ctx *x)
{
	struct db_range r = { .since_ms = x->o->since_ms, .until_ms = x->o->until_ms };
	uint32_t others = 0;
	int err;

	err = db__each_series(db, &r, want, on_series, x);
	if (!err)
		err = db__each_finding(db, NULL, &r, on_finding, x);
	if (!err)
		err = x->err;
	if (!err)
		err = db__each_oom(db, &r, on_oom, x);
	if (!err)
		err = db__each_kill(db, &r, on_kill, x);
	if (!err)
		err = db__each_machine_point(db, &r, on_machine, x);
	if (err)
		return err;
	qsort(x->c, x->n, sizeof(*x->c), candidate_cmp);
	for (uint32_t i = 0; i < x->n; i++)
		x->c[i].chosen = x->c[i].finding || others++ < (uint32_t)x->o->top;
	x->pass = 1;
	return db__each_series(db, &r, want, on_series, x);
}

int cmd_report(int argc, char **argv)
{
	struct read_options o;
	struct report_ctx x = { 0 };
	struct db *db;
	char err[256], tmp[4096];
	FILE *f;
	int ret, to_stdout;

	switch (options_parse_read(READ_REPORT, argc, argv, clock_now_unix_ms(), &o, err, sizeof(err))) {
	case OPTIONS_HELP:
		fputs(options_read_usage(READ_REPORT), stdout);
		return 0;
	case OPTIONS_ERROR:
		fprintf(stderr, "rcatrace report: %s\n\n%s", err, options_read_usage(READ_REPORT));
		return 2;
	case OPTIONS_OK:
		break;
	}
	db = store_reader_open("rcatrace report", o.state_path, 0);
	if (!db)
		return 1;
	x.o = &o;
	ret = build(db, &x);
	db__free(db);
	if (ret) {
		cli_error(0, "rcatrace report", "cannot read %s: %s", o.state_path, strerror(-ret));
		ctx_free(&x);
		return 1;
	}
	/* Written beside its name, then renamed: a failed write never leaves half a page. */
	to_stdout = strcmp(o.html_path, "-") == 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", o.html_path);
	f = to_stdout ? stdout : fopen(tmp, "we");
	if (!f) {
		cli_error(0, "rcatrace report", "cannot write %s: %s", tmp, strerror(errno));
		ctx_free(&x);
		return 1;
	}
	ret = write_page(&x, f);
	if (!to_stdout) {
		if (fclose(f) && !ret)
			ret = -errno;
		if (!ret && rename(tmp, o.html_path))
			ret = -errno;
		if (ret)
			unlink(tmp);
	}
	if (ret)
		cli_error(0, "rcatrace report", "cannot write %s: %s", o.html_path, strerror(-ret));
	else if (!to_stdout)
		fprintf(stderr, "rcatrace report: wrote %s (%u units, %u findings, %u marks)\n",
			o.html_path, drawn(&x), x.n_findings, x.n_marks);
	ctx_free(&x);
	return ret ? 1 : 0;
}
