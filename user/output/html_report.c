// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The HTML report. Every size is a fixed number of pixels, so a screenshot of
 * the page is predictable: tests/integration/report_check.py finds each RSS
 * chart by its frame colour and checks every point of its line against the
 * data-* attributes the chart's <svg> carries.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "escape.h"
#include "html_report.h"

/* Every chart is SVG_W wide, its plot area at (PLOT_X, PLOT_Y), the time labels below it. */
#define SVG_W	      960
#define PLOT_X	      70
#define PLOT_W	      850
#define PLOT_Y	      8
#define TIME_LABELS_H 22
#define MEMORY_PLOT_H 160
#define STARTS_PLOT_H 60
#define MEMORY_SVG_H  (PLOT_Y + MEMORY_PLOT_H + TIME_LABELS_H)
#define STARTS_SVG_H  (PLOT_Y + STARTS_PLOT_H + TIME_LABELS_H)
/* Text boxes: one line each, of a fixed height, so the page height is known up front. */
#define BODY_MARGIN   16
#define TITLE_H	      28
#define SUBTITLE_H    20
#define SUBTITLE_PAD  8
#define HEADING_H     22
#define HEADING_PAD   2
#define LEGEND_LINE_H 16
#define SECTION_PAD   12
#define LEGEND_MAX    8 /* lines per unit; the last one says how many more there were */
/* report_check.py finds the RSS charts by these two colours: nothing else uses them. */
#define RSS_LINE_COLOUR	 "#1f77b4"
#define RSS_FRAME_COLOUR "#6b6f8a"
#define FRAME_COLOUR	 "#b0b0b0"
#define GRID_COLOUR	 "#ececec"

/* A plot area and what it maps: time on x, a value on y from 0 (bottom) to ymax (top). */
struct plot {
	double x, y, w, h;
	int64_t t0, t1;
	double ymax;
};

/* A memory series: a unit's points (resident = anon + file + shmem) or the machine's arrays. */
struct memory_series {
	const struct db_point *p;
	const int64_t *t_ms;
	const uint64_t *kib;
	uint32_t n;
};

/*
 * Text for HTML content and attribute values alike. Control bytes (an ESC in a
 * unit name), C1 controls and invalid UTF-8 become U+FFFD: they must not reach
 * a terminal that someone pipes the page to, nor confuse a browser.
 */
static void write_escaped(FILE *f, const char *s)
{
	static const char *const entities[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;" };
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)p), i = 0;
	const char *special;

	while (i < len) {
		size_t seq = utf8_sequence_len(p + i, len - i < 4 ? len - i : 4);
		unsigned char c = p[i];

		if (seq == 0 || c < 0x20 || c == 0x7f || (c == 0xc2 && p[i + 1] < 0xa0)) {
			fputs("\xef\xbf\xbd", f);
			i += seq ? seq : 1;
			continue;
		}
		special = strchr("&<>\"'", c);
		if (special)
			fputs(entities[special - "&<>\"'"], f);
		else
			fwrite(p + i, 1, seq, f);
		i += seq;
	}
}

static double plot_x_at(const struct plot *p, int64_t t_ms)
{
	double span = p->t1 > p->t0 ? (double)(p->t1 - p->t0) : 1.0;

	return p->x + (double)(t_ms - p->t0) * p->w / span;
}

static double plot_y_at(const struct plot *p, double v)
{
	return p->y + p->h - v * p->h / p->ymax;
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The smallest of 1, 2, 2.5, 5 times a power of ten that is >= v; 1 for v <= 0. */
static double nice_ceiling(double v)
{
	static const double mantissas[] = { 1, 2, 2.5, 5, 10 };
	double m = 1;

	if (v <= 0)
		return 1;
	while (m * 10 < v)
		m *= 10;
	while (m > v)
		m /= 10;
	for (size_t i = 0; i < sizeof(mantissas) / sizeof(mantissas[0]); i++)
		if (mantissas[i] * m >= v)
			return mantissas[i] * m;
	return 10 * m;
}

/* A round number of KiB, MiB or GiB at or above max_kib, so the top label reads "80 MiB". */
static double memory_axis_max_kib(uint64_t max_kib)
{
	double unit = 1;

	if (max_kib == 0)
		return 1024;
	while ((double)max_kib / unit > 1000 && unit < 1024.0 * 1024 * 1024)
		unit *= 1024;
	return nice_ceiling((double)max_kib / unit) * unit;
}

static void format_kib(char *buf, size_t size, double kib)
{
	static const char *const names[] = { "KiB", "MiB", "GiB", "TiB" };
	int i = 0;

	while (kib >= 1024 && i < 3) {
		kib /= 1024;
		i++;
	}
	snprintf(buf, size, "%g %s", kib, names[i]);
}

static int axis_spans_days(const struct html_report *r)
{
	return r->to_ms - r->from_ms > 86400000;
}

static void format_utc(char *buf, size_t size, int64_t t_ms, const char *fmt)
{
	time_t secs = (time_t)(t_ms / 1000);
	struct tm tm;

	if (!gmtime_r(&secs, &tm) || !strftime(buf, size, fmt, &tm))
		snprintf(buf, size, "?");
}

/* A moment in the legend: with its date only when the axis spans more than a day. */
static void format_moment(char *buf, size_t size, const struct html_report *r, int64_t t_ms)
{
	format_utc(buf, size, t_ms, axis_spans_days(r) ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S");
}

/* About five ticks at round UTC times. */
static int64_t time_tick_step_ms(int64_t span_ms)
{
	static const int64_t steps_s[] = { 1,	  2,	 5,	10,    15,     30,    60,
					   120,	  300,	 600,	900,   1800,   3600,  7200,
					   10800, 21600, 43200, 86400, 172800, 604800 };

	for (size_t i = 0; i < sizeof(steps_s) / sizeof(steps_s[0]); i++)
		if (span_ms / (steps_s[i] * 1000) <= 5)
			return steps_s[i] * 1000;
	return (span_ms / 5 / 86400000 + 1) * 86400000;
}

static void write_time_axis(FILE *f, const struct plot *p, int with_date)
{
	int64_t step = time_tick_step_ms(p->t1 - p->t0);
	int64_t t = p->t0 / step * step;
	char label[32];

	if (t < p->t0)
		t += step;
	for (; t <= p->t1; t += step) {
		double x = plot_x_at(p, t);

		format_utc(label, sizeof(label), t, with_date ? "%m-%d %H:%M" : "%H:%M:%S");
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"" GRID_COLOUR "\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
			x, p->y, x, p->y + p->h, x, p->y + p->h + 15, label);
	}
}

/* Labels at ymax, at half of it (with a grid line) and at 0. */
static void write_value_axis(FILE *f, const struct plot *p, const char *top, const char *half)
{
	double mid = p->y + p->h / 2;

	fprintf(f,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" GRID_COLOUR "\"/>"
		"<g text-anchor=\"end\"><text x=\"%.1f\" y=\"%.1f\">%s</text><text x=\"%.1f\" "
		"y=\"%.1f\">%s</text><text x=\"%.1f\" y=\"%.1f\">0</text></g>\n",
		p->x, mid, p->x + p->w, mid, p->x - 6, p->y + 4, top, p->x - 6, mid + 4, half,
		p->x - 6, p->y + p->h + 4);
}

/*
 * After the chart's own <svg> tag: the axes, then a nested <svg> that clips
 * what is drawn next to the plot area (no clipPath id to keep unique).
 */
static void open_plot(FILE *f, const struct html_report *r, const struct plot *p, const char *top,
		      const char *half)
{
	write_value_axis(f, p, top, half);
	write_time_axis(f, p, axis_spans_days(r));
	fprintf(f,
		"<svg x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"%.0f %.0f %.0f %.0f\">\n",
		p->x, p->y, p->w, p->h, p->x, p->y, p->w, p->h);
}

/* The frame goes last, crisp on whole pixels: the screenshot checker looks for its colour. */
static void close_plot(FILE *f, const struct plot *p, const char *frame_colour, const char *caption)
{
	fprintf(f,
		"</svg><rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
		"stroke=\"%s\" shape-rendering=\"crispEdges\"/>"
		"<text x=\"%.1f\" y=\"%.1f\" fill=\"#777\">%s</text>\n</svg>\n",
		p->x + 0.5, p->y + 0.5, p->w, p->h, frame_colour, p->x + 6, p->y + 14, caption);
}

static const char *finding_colour(const char *kind)
{
	static const char *const colours[][2] = { { "leak_suspect", "#ff7f0e" },
						  { "respawn_storm", "#d62728" },
						  { "crash_storm", "#8c564b" },
						  { "fork_storm", "#e377c2" } };

	for (size_t i = 0; kind && i < sizeof(colours) / sizeof(colours[0]); i++)
		if (!strcmp(kind, colours[i][0]))
			return colours[i][1];
	return "#bcbd22";
}

static int is_oom_kill(const struct html_mark *m)
{
	return m->kind && !strcmp(m->kind, "oom_kill");
}

static int finding_visible(const struct html_report *r, const struct html_finding *fd,
			   const char *unit)
{
	return fd->unit && !strcmp(fd->unit, unit) && fd->started_ms <= r->to_ms &&
	       (fd->ended_ms == 0 || fd->ended_ms >= r->from_ms);
}

/* A unit's own marks; the machine's chart (unit NULL) shows every OOM kill. */
static int mark_visible(const struct html_report *r, const struct html_mark *m, const char *unit)
{
	int ours = unit ? m->unit && !strcmp(m->unit, unit) : is_oom_kill(m);

	return ours && m->t_ms >= r->from_ms && m->t_ms <= r->to_ms;
}

static void write_findings(FILE *f, const struct html_report *r, const struct plot *p,
			   const char *unit)
{
	for (uint32_t i = 0; i < r->n_findings; i++) {
		const struct html_finding *fd = &r->findings[i];
		double x0, x1;

		if (!finding_visible(r, fd, unit))
			continue;
		x0 = clamp(plot_x_at(p, fd->started_ms), p->x, p->x + p->w);
		x1 = clamp(plot_x_at(p, fd->ended_ms ? fd->ended_ms : p->t1), p->x, p->x + p->w);
		fprintf(f,
			"<rect class=\"finding\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%.1f\" fill=\"%s\" fill-opacity=\"0.18\"><title>",
			x0, p->y, x1 - x0, p->h, finding_colour(fd->kind));
		write_escaped(f, fd->label);
		fputs("</title></rect>\n", f);
	}
}

static void write_marks(FILE *f, const struct html_report *r, const struct plot *p,
			const char *unit, int labelled)
{
	for (uint32_t i = 0; i < r->n_marks; i++) {
		const struct html_mark *m = &r->marks[i];
		int oom = is_oom_kill(m);
		double x = plot_x_at(p, m->t_ms);
		/* Near the right edge the label goes left of the line, so it stays in the plot. */
		int left = x > p->x + p->w - 60;

		if (!mark_visible(r, m, unit))
			continue;
		fprintf(f, "<g class=\"mark\" stroke=\"%s\" fill=\"%s\"><title>",
			oom ? "#b00000" : "#444", oom ? "#b00000" : "#444");
		write_escaped(f, m->label);
		fprintf(f,
			"</title><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			"stroke-width=\"1.5\"%s/>",
			x, p->y, x, p->y + p->h, oom ? "" : " stroke-dasharray=\"4 3\"");
		if (labelled)
			fprintf(f,
				"<text x=\"%.1f\" y=\"%.1f\" stroke=\"none\" "
				"text-anchor=\"%s\">%s</text>",
				left ? x - 3 : x + 3, p->y + p->h - 6, left ? "end" : "start",
				oom ? "OOM kill" : "kill");
		fputs("</g>\n", f);
	}
}

static void memory_series_at(const struct memory_series *s, uint32_t i, int64_t *ret_t_ms,
			     uint64_t *ret_kib)
{
	if (s->p) {
		*ret_t_ms = s->p[i].t_ms;
		*ret_kib = s->p[i].rss_anon_kib + s->p[i].rss_file_kib + s->p[i].rss_shmem_kib;
	} else {
		*ret_t_ms = s->t_ms[i];
		*ret_kib = s->kib[i];
	}
}

/* A unit's resident memory (unit set) or the machine's used memory (unit NULL). */
static void write_memory_chart(FILE *f, const struct html_report *r, const char *unit,
			       const struct memory_series *s)
{
	struct plot p = { PLOT_X, PLOT_Y, PLOT_W, MEMORY_PLOT_H, r->from_ms, r->to_ms, 0 };
	uint64_t max_kib = 0, kib;
	char top[32], half[32];
	int64_t t;

	for (uint32_t i = 0; i < s->n; i++) {
		memory_series_at(s, i, &t, &kib);
		max_kib = kib > max_kib ? kib : max_kib;
	}
	p.ymax = memory_axis_max_kib(max_kib);
	fprintf(f, "<svg width=\"%d\" height=\"%d\"", SVG_W, MEMORY_SVG_H);
	if (unit) {
		fputs(" class=\"rss\" data-unit=\"", f);
		write_escaped(f, unit);
		fprintf(f,
			"\" data-t0-ms=\"%" PRId64 "\" data-t1-ms=\"%" PRId64 "\" "
			"data-ymax-kib=\"%.0f\" data-plot-x=\"%d\" data-plot-y=\"%d\" "
			"data-plot-w=\"%d\" data-plot-h=\"%d\"",
			p.t0, p.t1, p.ymax, PLOT_X, PLOT_Y, PLOT_W, MEMORY_PLOT_H);
	}
	fputs(">\n", f);
	format_kib(top, sizeof(top), p.ymax);
	format_kib(half, sizeof(half), p.ymax / 2);
	open_plot(f, r, &p, top, half);
	if (unit)
		write_findings(f, r, &p, unit);
	if (s->n == 1) {
		/* One point draws no line: a dot shows it. */
		memory_series_at(s, 0, &t, &kib);
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>",
			plot_x_at(&p, t), plot_y_at(&p, (double)kib),
			unit ? RSS_LINE_COLOUR : "#2ca02c");
	} else if (s->n > 1) {
		fprintf(f,
			"<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" "
			"stroke-linejoin=\"round\" points=\"",
			unit ? RSS_LINE_COLOUR : "#2ca02c", unit ? "2.5" : "2");
		for (uint32_t i = 0; i < s->n; i++) {
			memory_series_at(s, i, &t, &kib);
			fprintf(f, "%s%.1f,%.1f", i ? " " : "", plot_x_at(&p, t),
				plot_y_at(&p, (double)kib));
		}
		fputs("\"/>\n", f);
	}
	write_marks(f, r, &p, unit, 1);
	close_plot(f, &p, unit ? RSS_FRAME_COLOUR : FRAME_COLOUR,
		   s->n ? (unit ? "resident memory" : "used memory") : "no samples in this range");
}

/* Starts per minute between two points. A counter that went down was reset (a new boot). */
static double starts_per_minute(const struct db_point *a, const struct db_point *b)
{
	uint64_t d = b->starts >= a->starts ? b->starts - a->starts : b->starts;

	if (b->t_ms <= a->t_ms)
		return 0;
	return (double)d * 60000.0 / (double)(b->t_ms - a->t_ms);
}

static void write_starts_chart(FILE *f, const struct html_report *r, const char *unit,
			       const struct html_unit *u)
{
	struct plot p = { PLOT_X, PLOT_Y, PLOT_W, STARTS_PLOT_H, r->from_ms, r->to_ms, 0 };
	double max_rate = 0;
	char top[32], half[32];

	for (uint32_t i = 1; i < u->n; i++) {
		double rate = starts_per_minute(&u->p[i - 1], &u->p[i]);

		max_rate = rate > max_rate ? rate : max_rate;
	}
	p.ymax = nice_ceiling(max_rate);
	fprintf(f, "<svg class=\"starts\" width=\"%d\" height=\"%d\" data-ymax-per-min=\"%g\">\n",
		SVG_W, STARTS_SVG_H, p.ymax);
	snprintf(top, sizeof(top), "%g/min", p.ymax);
	snprintf(half, sizeof(half), "%g/min", p.ymax / 2);
	open_plot(f, r, &p, top, half);
	write_findings(f, r, &p, unit);
	for (uint32_t i = 1; i < u->n; i++) {
		double rate = starts_per_minute(&u->p[i - 1], &u->p[i]);
		double x0 = plot_x_at(&p, u->p[i - 1].t_ms), x1 = plot_x_at(&p, u->p[i].t_ms);
		double y = plot_y_at(&p, rate);

		if (rate > 0)
			fprintf(f,
				"<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				"height=\"%.1f\" fill=\"#17becf\" "
				"shape-rendering=\"crispEdges\"/>\n",
				x0, y, x1 - x0, p.y + p.h - y);
	}
	write_marks(f, r, &p, unit, 0);
	close_plot(f, &p, FRAME_COLOUR, "starts per minute");
}

/* Findings and marks of a unit in the range: a legend line each. */
static uint32_t legend_items(const struct html_report *r, const char *unit)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < r->n_findings; i++)
		n += finding_visible(r, &r->findings[i], unit);
	for (uint32_t i = 0; i < r->n_marks; i++)
		n += mark_visible(r, &r->marks[i], unit);
	return n;
}

/* "<colour key> leak_suspect 10:00:31 to still open: <label>" */
static void write_legend_line(FILE *f, const char *colour, const char *kind, const char *when,
			      const char *label)
{
	fprintf(f, "<p class=\"legend\"><span class=\"key\" style=\"background:%s\"></span>",
		colour);
	write_escaped(f, kind);
	fprintf(f, " %s: ", when);
	write_escaped(f, label);
	fputs("</p>\n", f);
}

/* At most LEGEND_MAX lines, the last one then counting what did not fit. */
static void write_legend(FILE *f, const struct html_report *r, const char *unit)
{
	uint32_t total = legend_items(r, unit), shown = 0;
	uint32_t room = total > LEGEND_MAX ? LEGEND_MAX - 1 : total;
	char from[32], to[32], when[80];

	for (uint32_t i = 0; i < r->n_findings && shown < room; i++) {
		const struct html_finding *fd = &r->findings[i];

		if (!finding_visible(r, fd, unit))
			continue;
		format_moment(from, sizeof(from), r, fd->started_ms);
		format_moment(to, sizeof(to), r, fd->ended_ms);
		snprintf(when, sizeof(when), "%s to %s", from, fd->ended_ms ? to : "still open");
		write_legend_line(f, finding_colour(fd->kind), fd->kind, when, fd->label);
		shown++;
	}
	for (uint32_t i = 0; i < r->n_marks && shown < room; i++) {
		const struct html_mark *m = &r->marks[i];

		if (!mark_visible(r, m, unit))
			continue;
		format_moment(when, sizeof(when), r, m->t_ms);
		write_legend_line(f, is_oom_kill(m) ? "#b00000" : "#444",
				  is_oom_kill(m) ? "OOM kill" : "kill", when, m->label);
		shown++;
	}
	if (total > shown)
		fprintf(f, "<p class=\"legend\">and %" PRIu32 " more findings and kills</p>\n",
			total - shown);
}

/* The height of the whole page, so a screenshot can be taken of all of it at once. */
static int page_height(const struct html_report *r)
{
	int h = 2 * BODY_MARGIN + TITLE_H + SUBTITLE_H + SUBTITLE_PAD;
	uint32_t lines;

	if (r->n_machine)
		h += HEADING_H + HEADING_PAD + MEMORY_SVG_H + SECTION_PAD;
	if (r->n_units == 0)
		h += SUBTITLE_H + SUBTITLE_PAD;
	for (uint32_t i = 0; i < r->n_units; i++) {
		lines = legend_items(r, r->units[i].unit ? r->units[i].unit : "");
		lines = lines < LEGEND_MAX ? lines : LEGEND_MAX;
		h += HEADING_H + HEADING_PAD + MEMORY_SVG_H + STARTS_SVG_H +
		     (int)lines * LEGEND_LINE_H + SECTION_PAD;
	}
	return h;
}

/*
 * The Content-Security-Policy makes "nothing fetched, no script" hold in the
 * browser too, whatever a bug here lets through. Every text box is one line
 * of a fixed height (long text is cut with an ellipsis) so page_height() is
 * exact.
 */
static void write_head(FILE *f, const struct html_report *r)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" "
	      "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n<title>",
	      f);
	write_escaped(f, r->title);
	fputs("</title>\n<style>\n", f);
	fprintf(f, "body{margin:%dpx;font-family:sans-serif;color:#222;background:#fff}\n",
		BODY_MARGIN);
	fprintf(f,
		"h1,h2,p{margin:0;max-width:%dpx;white-space:nowrap;overflow:hidden;"
		"text-overflow:ellipsis}\n",
		SVG_W);
	fprintf(f, "h1{font-size:20px;line-height:%dpx;height:%dpx}\n", TITLE_H, TITLE_H);
	fprintf(f,
		"p.sub{font-size:13px;color:#555;line-height:%dpx;height:%dpx;"
		"padding-bottom:%dpx}\n",
		SUBTITLE_H, SUBTITLE_H, SUBTITLE_PAD);
	fprintf(f, "h2{font-size:15px;line-height:%dpx;height:%dpx;padding-bottom:%dpx}\n",
		HEADING_H, HEADING_H, HEADING_PAD);
	fprintf(f, "section{padding-bottom:%dpx}\n", SECTION_PAD);
	fprintf(f, "p.legend{font-size:12px;line-height:%dpx;height:%dpx}\n", LEGEND_LINE_H,
		LEGEND_LINE_H);
	fputs("svg{display:block;font-size:11px;fill:#555}\n"
	      ".key{display:inline-block;width:10px;height:10px;margin-right:6px;opacity:.6}\n"
	      "</style></head>\n",
	      f);
}

static void write_unit_section(FILE *f, const struct html_report *r, const struct html_unit *u)
{
	struct memory_series s = { .p = u->p, .n = u->n };
	const char *unit = u->unit ? u->unit : "";

	fputs("<section><h2>", f);
	write_escaped(f, unit);
	fputs("</h2>\n", f);
	write_memory_chart(f, r, unit, &s);
	write_starts_chart(f, r, unit, u);
	write_legend(f, r, unit);
	fputs("</section>\n", f);
}

int html_report_write(FILE *f, const struct html_report *r)
{
	char from[32], to[32];

	write_head(f, r);
	fprintf(f, "<body data-page-height=\"%d\">\n<h1>", page_height(r));
	write_escaped(f, r->title);
	fputs("</h1>\n<p class=\"sub\">", f);
	write_escaped(f, r->subtitle);
	fputs("</p>\n", f);
	if (r->n_machine) {
		struct memory_series s = { .t_ms = r->machine_t_ms,
					   .kib = r->machine_used_kib,
					   .n = r->n_machine };

		fputs("<section><h2>Machine: used memory</h2>\n", f);
		write_memory_chart(f, r, NULL, &s);
		fputs("</section>\n", f);
	}
	if (r->n_units == 0) {
		format_utc(from, sizeof(from), r->from_ms, "%Y-%m-%d %H:%M:%S");
		format_utc(to, sizeof(to), r->to_ms, "%Y-%m-%d %H:%M:%S");
		fprintf(f, "<p class=\"sub\">Nothing was recorded from %s to %s UTC.</p>\n", from,
			to);
	}
	for (uint32_t i = 0; i < r->n_units; i++)
		write_unit_section(f, r, &r->units[i]);
	fputs("</body></html>\n", f);
	if (fflush(f) || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}
