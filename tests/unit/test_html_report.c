// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * html_report: the self-contained HTML page. Coordinates are checked as the
 * exact strings the page holds, worked out by hand from the fixed geometry
 * (plot area x 70..920, RSS y 8..168, starts y 8..68), so a scaling slip, a
 * counter reset turned into a huge bar, or a hostile byte that reaches the
 * page fails a test.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "html_report.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FFFD	      "\xef\xbf\xbd"

/* 2023-11-14T22:13:20Z; an axis of 340 s puts 2.5 px on each second of the 850 px plot. */
#define T0   1700000000000LL
#define S(s) (T0 + (s)*1000LL)
#define T1   S(340)

static char page[1 << 18];

/* Renders r into page; copied out and freed before any assertion, so none leaks. */
static void render(const struct html_report *r)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int err;

	assert_non_null(f);
	err = html_report_write(f, r);
	fclose(f);
	snprintf(page, sizeof(page), "%s", out ? out : "");
	free(out);
	assert_int_equal(err, 0);
	assert_true(len < sizeof(page));
}

/* The part of page between needle and the next end (or the end of the page); "" if absent. */
static const char *between(const char *needle, const char *end)
{
	static char part[1 << 16];
	const char *a = strstr(page, needle), *b;

	if (!a)
		return "";
	b = strstr(a + strlen(needle), end);
	snprintf(part, sizeof(part), "%.*s", b ? (int)(b - a) : (int)strlen(a), a);
	return part;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static struct db_point pt(int64_t t_ms, uint64_t anon_kib, uint64_t starts)
{
	return (struct db_point){ .t_ms = t_ms, .rss_anon_kib = anon_kib, .starts = starts };
}

static struct html_report one_unit(const struct html_unit *u)
{
	return (struct html_report){
		.title = "t", .subtitle = "s", .from_ms = T0, .to_ms = T1, .units = u, .n_units = 1
	};
}

static void test_hostile_names_are_escaped(void **state)
{
	/* ESC, DEL, a byte that is not UTF-8, and U+009B (CSI) as UTF-8. */
	const char *evil = "ev<script>\"'&\x1b[31m\x7f\xff\xc2\x9b.service";
	const char *want = "ev&lt;script&gt;&quot;&#39;&amp;" FFFD "[31m" FFFD FFFD FFFD ".service";
	struct db_point p[] = { pt(S(0), 100, 0), pt(S(340), 200, 0) };
	struct html_unit u = { .unit = evil, .p = p, .n = 2 };
	struct html_finding fd = { .kind = "leak_suspect",
				   .unit = evil,
				   .started_ms = S(10),
				   .label = "<b>leak</b>\x1b]0;x\x07" };
	struct html_mark m = { .kind = "kill", .unit = evil, .t_ms = S(20), .label = "a'b\"c" };
	struct html_report r = one_unit(&u);
	char data_unit[256], heading[256];

	(void)state;
	r.title = "host <web1>\x1b[2J";
	r.findings = &fd, r.n_findings = 1;
	r.marks = &m, r.n_marks = 1;
	render(&r);
	snprintf(data_unit, sizeof(data_unit), "data-unit=\"%s\"", want);
	snprintf(heading, sizeof(heading), "<h2>%s</h2>", want);
	assert_non_null(strstr(page, data_unit));
	assert_non_null(strstr(page, heading));
	assert_non_null(strstr(page, "<h1>host &lt;web1&gt;" FFFD "[2J</h1>"));
	assert_non_null(strstr(page, "<title>&lt;b&gt;leak&lt;/b&gt;" FFFD "]0;x" FFFD "</title>"));
	assert_non_null(strstr(page, "<title>a&#39;b&quot;c</title>"));
	/* No control byte but the newlines the writer puts itself. */
	for (const unsigned char *c = (const unsigned char *)page; *c; c++)
		if (*c < 0x20 && *c != '\n')
			fail_msg("control byte 0x%02x at offset %td", *c, (const char *)c - page);
	assert_null(strstr(page, "<script"));
	assert_null(strstr(page, "<b>"));
}

static void test_nothing_fetched_no_script(void **state)
{
	struct db_point p[] = { pt(S(0), 100, 0), pt(S(60), 200, 5) };
	struct html_unit u = { .unit = "a.service", .p = p, .n = 2 };
	struct html_report r = one_unit(&u);
	static const char *const forbidden[] = { "<script", "http:",   "https:",  "href",
						 "src=",    "@import", "url(",	  "<img",
						 "<link",   "<iframe", "<object", "<embed",
						 "onload=", "onclick" };

	(void)state;
	render(&r);
	for (size_t i = 0; i < ARRAY_SIZE(forbidden); i++)
		if (strstr(page, forbidden[i]))
			fail_msg("the page holds \"%s\"", forbidden[i]);
	/* The browser enforces it as well. */
	assert_non_null(strstr(page, "content=\"default-src 'none'; style-src 'unsafe-inline'\""));
}

/* 50 MiB is a nice value: the top of the axis, so the last point lands in the top right corner. */
static void test_rss_polyline_coordinates(void **state)
{
	struct db_point p[] = { pt(S(0), 0, 0), pt(S(170), 20000, 0), pt(S(340), 50000, 0) };
	struct html_unit u = { .unit = "leaky.service", .p = p, .n = 3 };
	struct html_report r = one_unit(&u);
	const char *chart;

	(void)state;
	p[1].rss_file_kib = 5000, p[1].rss_shmem_kib = 600; /* 25600 KiB: half of the axis */
	p[2].rss_file_kib = 1000, p[2].rss_shmem_kib = 200; /* 51200 KiB: all of it */
	render(&r);
	chart = between("<svg width=\"960\" height=\"190\" class=\"rss\"", "<svg class=\"starts\"");
	assert_non_null(strstr(chart, "data-unit=\"leaky.service\" data-t0-ms=\"1700000000000\" "
				      "data-t1-ms=\"1700000340000\" data-ymax-kib=\"51200\" "
				      "data-plot-x=\"70\" data-plot-y=\"8\" data-plot-w=\"850\" "
				      "data-plot-h=\"160\""));
	assert_non_null(strstr(chart, "points=\"70.0,168.0 495.0,88.0 920.0,8.0\""));
	assert_non_null(strstr(chart, ">50 MiB</text>"));
	assert_non_null(strstr(chart, ">25 MiB</text>"));
	assert_non_null(strstr(chart, "stroke=\"#1f77b4\" stroke-width=\"2.5\""));
	assert_non_null(strstr(chart, "stroke=\"#6b6f8a\""));
	/* The two colours the screenshot checker looks for appear in RSS charts only. */
	assert_int_equal(count(page, "#1f77b4"), 1);
	assert_int_equal(count(page, "#6b6f8a"), 1);
}

struct ymax_case {
	const char *name;
	uint64_t max_kib;
	const char *want_attr, *want_label;
};

static struct ymax_case ymax_cases[] = {
	{ "y max: 0 KiB gives 1 MiB", 0, "data-ymax-kib=\"1024\"", ">1 MiB<" },
	{ "y max: 3 KiB", 3, "data-ymax-kib=\"5\"", ">5 KiB<" },
	{ "y max: 1000 KiB stays KiB", 1000, "data-ymax-kib=\"1000\"", ">1000 KiB<" },
	{ "y max: 1020 KiB rounds to 1 MiB", 1020, "data-ymax-kib=\"1024\"", ">1 MiB<" },
	{ "y max: 80 MiB rounds to 100 MiB", 80 << 10, "data-ymax-kib=\"102400\"", ">100 MiB<" },
	{ "y max: 2 GiB + 1 KiB rounds to 2.5 GiB", (2 << 20) + 1, "data-ymax-kib=\"2621440\"",
	  ">2.5 GiB<" },
};

static void test_ymax(void **state)
{
	const struct ymax_case *c = *state;
	struct db_point p[] = { pt(S(0), 0, 0), pt(S(10), c->max_kib, 0) };
	struct html_unit u = { .unit = "u", .p = p, .n = 2 };
	struct html_report r = one_unit(&u);

	render(&r);
	assert_non_null(strstr(page, c->want_attr));
	assert_non_null(strstr(page, c->want_label));
}

/*
 * Starts 10, 16, 28, 28, then 4 after a reset: 6/min, 12/min, none, and 4 in
 * 30 s = 8/min (the reset counts from 0, never as a wrapped-around huge
 * number). The axis top is 20/min: 60 px for 20, so 3 px per start/min.
 */
static void test_starts_per_minute_bars(void **state)
{
	struct db_point p[] = { pt(S(0), 1, 10), pt(S(60), 1, 16), pt(S(120), 1, 28),
				pt(S(180), 1, 28), pt(S(210), 1, 4) };
	struct html_unit u = { .unit = "flappy.service", .p = p, .n = ARRAY_SIZE(p) };
	struct html_report r = one_unit(&u);
	const char *chart;

	(void)state;
	render(&r);
	chart = between("<svg class=\"starts\"", "</section>");
	assert_non_null(strstr(chart, "data-ymax-per-min=\"20\""));
	assert_int_equal(count(chart, "class=\"bar\""), 3);
	assert_non_null(strstr(chart, "x=\"70.0\" y=\"50.0\" width=\"150.0\" height=\"18.0\""));
	assert_non_null(strstr(chart, "x=\"220.0\" y=\"32.0\" width=\"150.0\" height=\"36.0\""));
	assert_non_null(strstr(chart, "x=\"520.0\" y=\"44.0\" width=\"75.0\" height=\"24.0\""));
	assert_non_null(strstr(chart, ">20/min</text>"));
	assert_non_null(strstr(chart, ">10/min</text>"));
}

static void test_zero_and_one_point(void **state)
{
	struct db_point one = pt(S(170), 512, 7);
	struct html_unit u[] = { { .unit = "none.service", .p = NULL, .n = 0 },
				 { .unit = "one.service", .p = &one, .n = 1 } };
	struct html_report r = one_unit(u);

	(void)state;
	r.n_units = 2;
	render(&r);
	assert_null(strstr(page, "<polyline"));
	assert_int_equal(count(page, "class=\"bar\""), 0);
	assert_int_equal(count(page, "no samples in this range"), 1);
	assert_non_null(strstr(page, "data-unit=\"none.service\" data-t0-ms=\"1700000000000\" "
				     "data-t1-ms=\"1700000340000\" data-ymax-kib=\"1024\""));
	/* 512 KiB of a 1000 KiB axis: 81.92 px up from 168. */
	assert_non_null(strstr(page, "<circle cx=\"495.0\" cy=\"86.1\""));
}

/* A unit without a name is drawn as "" and gets no one else's findings or OOM kills. */
static void test_unit_without_name(void **state)
{
	struct db_point p[] = { pt(S(0), 1000, 0), pt(S(340), 2000, 3) };
	struct html_unit u = { .unit = NULL, .p = p, .n = 2 };
	struct html_finding fd = {
		.kind = "leak_suspect", .unit = "x", .started_ms = S(10), .label = "x's"
	};
	struct html_mark m = { .kind = "oom_kill", .unit = "x", .t_ms = S(20), .label = "x's" };
	struct html_report r = one_unit(&u);

	(void)state;
	r.findings = &fd, r.n_findings = 1;
	r.marks = &m, r.n_marks = 1;
	render(&r);
	assert_non_null(strstr(page, "<h2></h2>"));
	assert_non_null(strstr(page, "data-unit=\"\""));
	assert_null(strstr(page, "x&#39;s"));
	assert_non_null(strstr(page, "<body data-page-height=\"404\">"));
}

/* An axis of no length, samples out of order: no division by zero, no NaN on the page. */
static void test_degenerate_axis(void **state)
{
	struct db_point p[] = { pt(S(0), 100, 5), pt(S(0), 200, 9), pt(S(-5), 300, 12) };
	struct html_unit u = { .unit = "u", .p = p, .n = 3 };
	struct html_report r = one_unit(&u);

	(void)state;
	r.to_ms = r.from_ms;
	render(&r);
	assert_null(strstr(page, "nan"));
	assert_null(strstr(page, "inf"));
	assert_int_equal(count(page, "class=\"bar\""), 0);
}

static void test_empty_report(void **state)
{
	struct html_report r = { .title = "rcatrace report: host web1",
				 .subtitle = "nothing",
				 .from_ms = T0,
				 .to_ms = S(610) };

	(void)state;
	render(&r);
	assert_non_null(strstr(page, "Nothing was recorded from 2023-11-14 22:13:20 to "
				     "2023-11-14 22:23:30 UTC."));
	assert_null(strstr(page, "<svg"));
	/* Margins 2 x 16, the title 28, the subtitle and the message 28 each. */
	assert_non_null(strstr(page, "<body data-page-height=\"116\">"));
	assert_non_null(strstr(page, "</body></html>\n"));
}

/*
 * At 2.5 px/s: 40..100 s is x 170 + 150; one still open from 300 s runs to the
 * axis end (920); one from before the axis is cut at its start (70).
 */
static void test_findings_rectangles(void **state)
{
	struct db_point p[] = { pt(S(0), 1000, 0), pt(S(340), 2000, 0) };
	struct html_unit u = { .unit = "a.service", .p = p, .n = 2 };
	struct html_finding fds[] = {
		{ .kind = "leak_suspect",
		  .unit = "a.service",
		  .started_ms = S(40),
		  .ended_ms = S(100),
		  .label = "closed" },
		{ .kind = "respawn_storm",
		  .unit = "a.service",
		  .started_ms = S(300),
		  .label = "open" },
		{ .kind = "crash_storm",
		  .unit = "a.service",
		  .started_ms = S(-20),
		  .ended_ms = S(20),
		  .label = "early" },
		{ .kind = "leak_suspect",
		  .unit = "a.service",
		  .started_ms = S(-99),
		  .ended_ms = S(-50),
		  .label = "before the axis" },
		{ .kind = "leak_suspect",
		  .unit = "a.service",
		  .started_ms = S(400),
		  .label = "after the axis" },
		{ .kind = "leak_suspect",
		  .unit = "b.service",
		  .started_ms = S(0),
		  .label = "another unit's" },
	};
	struct html_report r = one_unit(&u);
	const char *rss, *starts;

	(void)state;
	r.findings = fds, r.n_findings = ARRAY_SIZE(fds);
	render(&r);
	rss = between("class=\"rss\"", "<svg class=\"starts\"");
	assert_int_equal(count(rss, "class=\"finding\""), 3);
	assert_non_null(strstr(rss,
			       "x=\"170.0\" y=\"8.0\" width=\"150.0\" height=\"160.0\" "
			       "fill=\"#ff7f0e\" fill-opacity=\"0.18\"><title>closed</title>"));
	assert_non_null(strstr(rss, "x=\"820.0\" y=\"8.0\" width=\"100.0\" height=\"160.0\" "
				    "fill=\"#d62728\""));
	assert_non_null(strstr(rss, "x=\"70.0\" y=\"8.0\" width=\"50.0\" height=\"160.0\""));
	starts = between("<svg class=\"starts\"", "</section>");
	assert_int_equal(count(starts, "class=\"finding\""), 3);
	assert_non_null(strstr(starts, "x=\"170.0\" y=\"8.0\" width=\"150.0\" height=\"60.0\""));
	assert_int_equal(count(page, "<p class=\"legend\">"), 3);
	assert_non_null(strstr(page, "leak_suspect 22:14:00 to 22:15:00: closed</p>"));
	assert_non_null(strstr(page, "respawn_storm 22:18:20 to still open: open</p>"));
	assert_null(strstr(page, "another unit"));
	assert_null(strstr(page, "before the axis"));
	assert_null(strstr(page, "after the axis"));
}

/* 200 s is x 570: a solid line for an OOM kill, a dashed one for a kill, each labelled. */
static void test_marks(void **state)
{
	struct db_point p[] = { pt(S(0), 1000, 0), pt(S(340), 2000, 0) };
	struct html_unit u = { .unit = "a.service", .p = p, .n = 2 };
	struct html_mark marks[] = {
		{ .kind = "oom_kill",
		  .unit = "a.service",
		  .t_ms = S(200),
		  .label = "OOM kill of a" },
		{ .kind = "kill", .unit = "a.service", .t_ms = S(100), .label = "SIGTERM from x" },
		{ .kind = "kill", .unit = "b.service", .t_ms = S(100), .label = "not ours" },
		{ .kind = "oom_kill", .unit = "a.service", .t_ms = S(340), .label = "at the end" },
	};
	struct html_report r = one_unit(&u);
	int64_t machine_t[] = { S(0), S(340) };
	uint64_t machine_kib[] = { 1 << 20, 2 << 20 };
	const char *rss;

	(void)state;
	r.marks = marks, r.n_marks = ARRAY_SIZE(marks);
	r.machine_t_ms = machine_t, r.machine_used_kib = machine_kib, r.n_machine = 2;
	render(&r);
	/* The machine's chart shows every OOM kill, whichever unit it hit, and no other kill. */
	assert_int_equal(
	    count(between("<h2>Machine: used memory</h2>", "</section>"), "class=\"mark\""), 2);
	rss = between("class=\"rss\"", "<svg class=\"starts\"");
	assert_non_null(strstr(rss, "<title>OOM kill of a</title><line x1=\"570.0\" y1=\"8.0\" "
				    "x2=\"570.0\" y2=\"168.0\" stroke-width=\"1.5\"/>"));
	assert_non_null(strstr(rss, ">OOM kill</text>"));
	assert_non_null(strstr(rss, "x2=\"320.0\" y2=\"168.0\" stroke-width=\"1.5\" "
				    "stroke-dasharray=\"4 3\"/>"));
	assert_non_null(strstr(rss, ">kill</text>"));
	/* At the right edge the label goes left of its line, inside the plot. */
	assert_non_null(strstr(rss, "<text x=\"917.0\" y=\"162.0\" stroke=\"none\" "
				    "text-anchor=\"end\">OOM kill</text>"));
	assert_int_equal(count(page, "class=\"mark\""), 8); /* the unit's two charts: ours only */
	assert_non_null(strstr(page, "</span>OOM kill 22:16:40: OOM kill of a</p>"));
	assert_null(strstr(page, "not ours"));
}

/* 20 findings: 7 legend lines and one that counts the other 13; the page height counts 8. */
static void test_legend_is_capped(void **state)
{
	struct db_point p[] = { pt(S(0), 1000, 0), pt(S(340), 2000, 0) };
	struct html_unit u = { .unit = "a.service", .p = p, .n = 2 };
	struct html_finding fds[20];
	struct html_report r = one_unit(&u);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		fds[i] = (struct html_finding){ .kind = "crash_storm",
						.unit = "a.service",
						.started_ms = S(i * 10),
						.ended_ms = S(i * 10 + 5),
						.label = "c" };
	r.findings = fds, r.n_findings = ARRAY_SIZE(fds);
	render(&r);
	assert_int_equal(count(page, "<p class=\"legend\">"), 8);
	assert_non_null(strstr(page, "<p class=\"legend\">and 13 more findings and kills</p>"));
	/* 2 x 16 + 28 + 28, then the unit: heading 24, charts 190 + 90, legend 8 x 16, 12. */
	assert_non_null(strstr(page, "<body data-page-height=\"532\">"));
}

static void test_time_ticks(void **state)
{
	struct html_report r = { .title = "t", .subtitle = "s", .from_ms = T0, .to_ms = S(610) };
	uint64_t used[] = { 1, 2 };
	int64_t t[] = { T0, S(610) };

	(void)state;
	r.machine_t_ms = t, r.machine_used_kib = used, r.n_machine = 2;
	render(&r);
	/* Every 2 minutes from 22:14:00; x = 70 + 40 s x 850/610 s. */
	assert_non_null(
	    strstr(page, "<text x=\"125.7\" y=\"183.0\" text-anchor=\"middle\">22:14:00<"));
	assert_non_null(strstr(page, ">22:22:00<"));
	assert_int_equal(count(page, "text-anchor=\"middle\""), 5);
	/* Three days: a tick at each UTC midnight, with its date. */
	r.to_ms = T0 + 3 * 86400000LL;
	render(&r);
	assert_non_null(strstr(page, ">11-15 00:00<"));
	assert_non_null(strstr(page, ">11-17 00:00<"));
	assert_int_equal(count(page, "text-anchor=\"middle\""), 3);
}

static void test_write_error_is_returned(void **state)
{
	struct db_point p[] = { pt(S(0), 1000, 0), pt(S(340), 2000, 0) };
	struct html_unit u = { .unit = "a.service", .p = p, .n = 2 };
	struct html_report r = one_unit(&u);
	FILE *f = fopen("/dev/full", "w");
	int err;

	(void)state;
	if (!f)
		skip();
	err = html_report_write(f, &r);
	fclose(f);
	assert_int_equal(err, -ENOSPC);
}

#define N_TESTS (ARRAY_SIZE(ymax_cases) + 13)

int main(void)
{
	static struct CMUnitTest tests[N_TESTS];
	size_t n = 0;

	tests[n++] = (struct CMUnitTest){ .name = "hostile names are escaped",
					  .test_func = test_hostile_names_are_escaped };
	tests[n++] = (struct CMUnitTest){ .name = "nothing fetched, no script",
					  .test_func = test_nothing_fetched_no_script };
	tests[n++] = (struct CMUnitTest){ .name = "RSS polyline coordinates",
					  .test_func = test_rss_polyline_coordinates };
	for (size_t i = 0; i < ARRAY_SIZE(ymax_cases); i++)
		tests[n++] = (struct CMUnitTest){ .name = ymax_cases[i].name,
						  .test_func = test_ymax,
						  .initial_state = &ymax_cases[i] };
	tests[n++] = (struct CMUnitTest){ .name = "starts per minute bars, counter reset",
					  .test_func = test_starts_per_minute_bars };
	tests[n++] = (struct CMUnitTest){ .name = "zero and one point",
					  .test_func = test_zero_and_one_point };
	tests[n++] = (struct CMUnitTest){ .name = "unit without a name",
					  .test_func = test_unit_without_name };
	tests[n++] =
	    (struct CMUnitTest){ .name = "degenerate axis", .test_func = test_degenerate_axis };
	tests[n++] = (struct CMUnitTest){ .name = "empty report", .test_func = test_empty_report };
	tests[n++] = (struct CMUnitTest){ .name = "findings rectangles",
					  .test_func = test_findings_rectangles };
	tests[n++] = (struct CMUnitTest){ .name = "marks", .test_func = test_marks };
	tests[n++] =
	    (struct CMUnitTest){ .name = "legend is capped", .test_func = test_legend_is_capped };
	tests[n++] = (struct CMUnitTest){ .name = "time ticks", .test_func = test_time_ticks };
	tests[n++] = (struct CMUnitTest){ .name = "write error is returned",
					  .test_func = test_write_error_is_returned };
	if (n != N_TESTS) {
		fprintf(stderr, "test table miscounted: %zu of %zu\n", n, (size_t)N_TESTS);
		return 1;
	}
	return cmocka_run_group_tests_name("html_report", tests, NULL, NULL);
}
