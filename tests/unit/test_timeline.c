// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * timeline: boots, findings, OOM kills and kills as one story in time order,
 * as text and as one JSON document. Every document written is parsed by a
 * small strict JSON reader that also refuses an object with a key twice;
 * event objects are checked as exact strings.
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

#include "timeline.h"

/* 2023-11-14T22:13:20.000Z */
#define T0 1700000000000LL
#define S(s) (T0 + (s)*1000LL)
#define R2 "R\xc2\xb2"

static char out[1 << 16];

/* ---- a strict JSON reader: valid JSON, no raw control byte, no key twice --- */

struct reader {
	const char *p;
	const char *doc;
	jmp_buf fail;
	char why[160];
};

static void refuse(struct reader *r, const char *what)
{
	snprintf(r->why, sizeof(r->why), "%s at offset %td: %.30s", what, r->p - r->doc, r->p);
	longjmp(r->fail, 1);
}

static void skip_ws(struct reader *r)
{
	while (*r->p == ' ' || *r->p == '\n' || *r->p == '\t' || *r->p == '\r')
		r->p++;
}

static void expect_char(struct reader *r, char c)
{
	char what[32];

	skip_ws(r);
	if (*r->p != c) {
		snprintf(what, sizeof(what), "'%c' expected", c);
		refuse(r, what);
	}
	r->p++;
}

/* A string, its body (escapes as written) copied to key. */
static void read_string(struct reader *r, char *key, size_t size)
{
	size_t n = 0;

	expect_char(r, '"');
	while (*r->p != '"') {
		if (*r->p == '\0')
			refuse(r, "unterminated string");
		if ((unsigned char)*r->p < 0x20)
			refuse(r, "raw control byte");
		if (*r->p == '\\') {
			if (!r->p[1] || !strchr("\"\\/bfnrtu", r->p[1]))
				refuse(r, "bad escape");
			if (n + 1 < size)
				key[n++] = *r->p;
			r->p++;
		}
		if (n + 1 < size)
			key[n++] = *r->p;
		r->p++;
	}
	r->p++;
	key[n] = '\0';
}

static void read_value(struct reader *r);

static void read_object(struct reader *r)
{
	char keys[64][64];
	int n = 0;

	expect_char(r, '{');
	skip_ws(r);
	if (*r->p == '}') {
		r->p++;
		return;
	}
	for (;;) {
		if (n == 64)
			refuse(r, "more keys than the reader holds");
		read_string(r, keys[n], sizeof(keys[n]));
		for (int i = 0; i < n; i++) {
			if (strcmp(keys[i], keys[n]) == 0) {
				char what[96];

				snprintf(what, sizeof(what), "key \"%s\" twice in one object", keys[n]);
				refuse(r, what);
			}
		}
		n++;
		expect_char(r, ':');
		read_value(r);
		skip_ws(r);
		if (*r->p == '}') {
			r->p++;
			return;
		}
		expect_char(r, ',');
	}
}

static void read_array(struct reader *r)
{
	expect_char(r, '[');
	skip_ws(r);
	if (*r->p == ']') {
		r->p++;
		return;
	}
	for (;;) {
		read_value(r);
		skip_ws(r);
		if (*r->p == ']') {
			r->p++;
			return;
		}
		expect_char(r, ',');
	}
}

static void read_value(struct reader *r)
{
	char tmp[1024];

	skip_ws(r);
	if (*r->p == '{') {
		read_object(r);
	} else if (*r->p == '[') {
		read_array(r);
	} else if (*r->p == '"') {
		read_string(r, tmp, sizeof(tmp));
	} else if (strncmp(r->p, "null", 4) == 0 || strncmp(r->p, "true", 4) == 0) {
		r->p += 4;
	} else if (strncmp(r->p, "false", 5) == 0) {
		r->p += 5;
	} else if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9')) {
		/* Digits, a dot, an exponent: never "nan" or "inf", which strtod would take. */
		size_t len = strspn(r->p + 1, "0123456789.eE+-") + 1;

		if (len == 1 && *r->p == '-')
			refuse(r, "bad number");
		r->p += len;
	} else {
		refuse(r, "unexpected value");
	}
}

/* NULL when doc is one valid JSON document (then a newline) with no key twice in an object; else why not. */
static const char *json_problem(const char *doc)
{
	static struct reader r;

	memset(&r, 0, sizeof(r));
	r.p = r.doc = doc;
	if (setjmp(r.fail))
		return r.why;
	read_value(&r);
	if (strcmp(r.p, "\n") != 0)
		refuse(&r, "trailing bytes after the document");
	return NULL;
}

static void assert_valid_json(const char *doc)
{
	const char *why = json_problem(doc);

	if (why)
		fail_msg("invalid JSON: %s", why);
}

static void assert_starts_with(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)) != 0)
		fail_msg("\n%s\ndoes not start with\n%s", s, prefix);
}

/* The end of the object (or array) at p: past its closing bracket, strings skipped. */
static const char *container_end(const char *p)
{
	int depth = 0, in_string = 0;

	for (; *p; p++) {
		if (in_string) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				in_string = 0;
		} else if (*p == '"') {
			in_string = 1;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (--depth == 0)
				return p + 1;
		}
	}
	fail_msg("unterminated container");
	return p;
}

/* The i-th object of the top-level array under key ("events" or "findings"), in ev; 0 if none. */
static int nth_object(const char *doc, const char *key, int i, char *ev, size_t size)
{
	char needle[32];
	const char *p, *end;

	snprintf(needle, sizeof(needle), "\"%s\":[", key);
	p = strstr(doc, needle);
	assert_non_null(p);
	p += strlen(needle);
	for (int k = 0;; k++) {
		if (*p != '{')
			return 0;
		end = container_end(p);
		if (k == i) {
			snprintf(ev, size, "%.*s", (int)(end - p), p);
			return 1;
		}
		p = end;
		if (*p == ',')
			p++;
	}
}

/* The kinds of the events, in order, joined by spaces. */
static const char *event_kinds(const char *doc)
{
	static char kinds[1024];
	char ev[8192];

	kinds[0] = '\0';
	for (int i = 0; nth_object(doc, "events", i, ev, sizeof(ev)); i++) {
		const char *k = strstr(ev, "\"kind\":\"");

		assert_non_null(k);
		k += strlen("\"kind\":\"");
		snprintf(kinds + strlen(kinds), sizeof(kinds) - strlen(kinds), "%s%.*s",
			 kinds[0] ? " " : "", (int)strcspn(k, "\""), k);
	}
	return kinds;
}

/* ---- the story used by most tests ------------------------------------------ */

static const struct db_figure storm_start[] = {
	{ .name = "executable", .text = "/usr/sbin/nginx" },
	{ .name = "starts", .value = 40 },
	{ .name = "window_starts", .value = 12 },
	{ .name = "window_failed", .value = 3 },
	{ .name = "period_ms", .value = 250 },
};
static const struct db_figure storm_peak[] = {
	{ .name = "executable", .text = "/usr/sbin/nginx" },
	{ .name = "starts", .value = 90 },
	{ .name = "window_starts", .value = 40 },
	{ .name = "window_failed", .value = 5 },
	{ .name = "period_ms", .value = 100 },
};
static const struct db_figure leak_start[] = {
	{ .name = "rss_kib", .value = 85000 },
	{ .name = "growth_kib_per_s", .value = 2048 },
	{ .name = "growth_fit_r2", .value = 0.987 },
	{ .name = "window_s", .value = 300 },
};

static void set_figures(struct db_figure *dst, uint32_t *n, const struct db_figure *src,
			uint32_t count)
{
	memcpy(dst, src, count * sizeof(*src));
	*n = count;
}

/* A respawn storm of a machine's nginx, from -10 s to +20 s. */
static void storm(struct db_finding *f)
{
	memset(f, 0, sizeof(*f));
	f->id = 1;
	f->kind = "respawn_storm";
	f->unit = "web1:nginx.service";
	f->machine = "web1";
	f->subject = "/usr/sbin/nginx";
	f->started_ms = S(-10);
	f->ended_ms = S(20);
	set_figures(f->start, &f->n_start, storm_start, 5);
	set_figures(f->peak, &f->n_peak, storm_peak, 5);
}

/* A leak suspect on the host, started at 0 and still open. */
static void leak(struct db_finding *f)
{
	memset(f, 0, sizeof(*f));
	f->id = 2;
	f->kind = "leak_suspect";
	f->unit = "leaky.service";
	f->machine = "";
	f->subject = "";
	f->started_ms = S(0);
	set_figures(f->start, &f->n_start, leak_start, 4);
	set_figures(f->peak, &f->n_peak, leak_start, 4);
}

static void oom(struct fig_oom *o)
{
	memset(o, 0, sizeof(*o));
	o->time_ms = S(5);
	snprintf(o->boot_id, sizeof(o->boot_id), "boot-2");
	o->victim.pid = 4242;
	snprintf(o->victim.comm, sizeof(o->victim.comm), "hog");
	snprintf(o->victim.unit, sizeof(o->victim.unit), "leaky.service");
	snprintf(o->constraint, sizeof(o->constraint), "memcg");
	o->memcg_limit_bytes = -1;
	o->memcg_usage_bytes = -1;
	o->rss_anon_kib = 1000;
	o->rss_file_kib = 10;
	o->rss_shmem_kib = 1;
	o->trigger = o->victim;
}

static void kill_record(struct fig_kill *k)
{
	memset(k, 0, sizeof(*k));
	k->time_ms = S(20);
	snprintf(k->boot_id, sizeof(k->boot_id), "boot-2");
	k->signal = 9;
	k->sender.pid = 10;
	snprintf(k->sender.comm, sizeof(k->sender.comm), "killer");
	snprintf(k->sender.unit, sizeof(k->sender.unit), "sender.service");
	k->target.pid = 20;
	snprintf(k->target.comm, sizeof(k->target.comm), "target");
	snprintf(k->target.unit, sizeof(k->target.unit), "web1:victim.service");
}

/* The story, added out of order: a kill, the open leak, the OOM, the boot, the storm. */
static struct timeline *story(void)
{
	struct timeline *t = timeline__new();
	struct db_finding f;
	struct fig_oom o;
	struct fig_kill k;

	assert_non_null(t);
	kill_record(&k);
	assert_int_equal(timeline__add_kill(t, &k), 0);
	leak(&f);
	assert_int_equal(timeline__add_finding(t, &f), 0);
	oom(&o);
	assert_int_equal(timeline__add_oom(t, &o), 0);
	assert_int_equal(timeline__add_boot(t, "boot-2", S(0)), 0);
	storm(&f);
	assert_int_equal(timeline__add_finding(t, &f), 0);
	return t;
}

static void render(struct timeline *t, int json)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int err;

	assert_non_null(f);
	err = json ? timeline__write_json(t, f) : timeline__write_text(t, f);
	fclose(f);
	snprintf(out, sizeof(out), "%s", text ? text : "");
	free(text);
	assert_int_equal(err, 0);
	assert_true(len < sizeof(out));
	if (json)
		assert_valid_json(out);
}

/* ---- order ---------------------------------------------------------------- */

#define LINE_STORM_STARTED                                                                    \
	"2023-11-14T22:13:10.000Z  RESPAWN STORM web1:nginx.service /usr/sbin/nginx: 12 starts " \
	"in the window (3 failed), every 250 ms; 40 starts in all\n"
#define LINE_BOOT "2023-11-14T22:13:20.000Z  BOOT boot-2\n"
#define LINE_LEAK_STARTED                                                                     \
	"2023-11-14T22:13:20.000Z  LEAK SUSPECT leaky.service: growing 2048.0 KiB/s (" R2       \
	" 0.99 over 300 s), rss 83.0 MiB\n"
#define LINE_OOM                                                                              \
	"2023-11-14T22:13:25.000Z  OOM KILL leaky.service: hog (pid 4242), memcg, rss 1000 KiB " \
	"anon + 10 KiB file + 1 KiB shmem; allocation by hog (pid 4242)\n"
#define LINE_STORM_ENDED                                                                      \
	"2023-11-14T22:13:40.000Z  RESPAWN STORM ended web1:nginx.service /usr/sbin/nginx after " \
	"30 s; at its peak: 40 starts in the window (5 failed), every 100 ms; 90 starts in all\n"
#define LINE_KILL                                                                             \
	"2023-11-14T22:13:40.000Z  KILL web1:victim.service: target (pid 20) got SIGKILL from "  \
	"killer (pid 10) in sender.service\n"

/*
 * Text: the storm that began before the boot comes first, ends after the OOM;
 * at a tie the boot leads, then starts, ends, OOM kills and kills; the open
 * leak has a start and no end.
 */
static void test_text_order(void **state)
{
	struct timeline *t = story();

	(void)state;
	render(t, 0);
	assert_string_equal(out, LINE_STORM_STARTED LINE_BOOT LINE_LEAK_STARTED LINE_OOM
					 LINE_STORM_ENDED LINE_KILL);
	timeline__free(t);
}

/* JSON: the same order, and an open finding has no finding_ended. */
static void test_json_order(void **state)
{
	struct timeline *t = story();

	(void)state;
	render(t, 1);
	assert_string_equal(event_kinds(out), "finding_started boot finding_started oom_kill "
					      "finding_ended kill");
	timeline__free(t);
}

/* ---- range ---------------------------------------------------------------- */

struct range_case {
	const char *name;
	int64_t since_ms, until_ms;
	const char *want_kinds;
	const char *want_text;
};

static const struct range_case range_cases[] = {
	/* [0 s, 10 s]: the boot, the leak's start and the OOM; the storm's start and end are outside. */
	{ .name = "range: [0 s, 10 s]", .since_ms = S(0), .until_ms = S(10),
	  .want_kinds = "boot finding_started oom_kill",
	  .want_text = LINE_BOOT LINE_LEAK_STARTED LINE_OOM },
	/* since is inclusive, until open: from the OOM on. */
	{ .name = "range: since 5 s, until open", .since_ms = S(5), .until_ms = 0,
	  .want_kinds = "oom_kill finding_ended kill",
	  .want_text = LINE_OOM LINE_STORM_ENDED LINE_KILL },
	/* until is inclusive, since open: up to the boot's moment. */
	{ .name = "range: since open, until 0 s", .since_ms = 0, .until_ms = S(0),
	  .want_kinds = "finding_started boot finding_started",
	  .want_text = LINE_STORM_STARTED LINE_BOOT LINE_LEAK_STARTED },
	/* Inside the storm, between events: nothing, said so. */
	{ .name = "range: between events", .since_ms = S(6), .until_ms = S(19), .want_kinds = "",
	  .want_text = "nothing happened in this range: no finding, OOM kill, kill across units "
		       "or boot\n" },
};

static void test_range(void **state)
{
	const struct range_case *c = *state;
	struct timeline *t = story();

	timeline__set_range(t, c->since_ms, c->until_ms);
	render(t, 1);
	assert_string_equal(event_kinds(out), c->want_kinds);
	render(t, 0);
	assert_string_equal(out, c->want_text);
	timeline__free(t);
}

/* ---- JSON keys ------------------------------------------------------------ */

/* Each event object exactly: a finding's keys, its figures flattened, "executable" once. */
static void test_json_events_exact(void **state)
{
	struct timeline *t = story();
	char ev[8192];
	const char *ended_prefix =
		"{\"time\":\"2023-11-14T22:13:40.000Z\",\"kind\":\"finding_ended\","
		"\"finding\":\"respawn_storm\",\"unit\":\"nginx.service\",\"machine\":\"web1\","
		"\"executable\":\"/usr/sbin/nginx\",\"started\":\"2023-11-14T22:13:10.000Z\","
		"\"duration_s\":30.0,\"starts\":90.0,\"window_starts\":40.0,\"window_failed\":5.0,"
		"\"period_ms\":100.0";

	(void)state;
	render(t, 1);
	assert_true(nth_object(out, "events", 0, ev, sizeof(ev)));
	assert_string_equal(ev, "{\"time\":\"2023-11-14T22:13:10.000Z\",\"kind\":\"finding_started\","
				"\"finding\":\"respawn_storm\",\"unit\":\"nginx.service\","
				"\"machine\":\"web1\",\"executable\":\"/usr/sbin/nginx\","
				"\"started\":\"2023-11-14T22:13:10.000Z\",\"starts\":40.0,"
				"\"window_starts\":12.0,\"window_failed\":3.0,\"period_ms\":250.0}");
	assert_true(nth_object(out, "events", 1, ev, sizeof(ev)));
	assert_string_equal(ev, "{\"time\":\"2023-11-14T22:13:20.000Z\",\"kind\":\"boot\","
				"\"unit\":null,\"machine\":null,\"boot_id\":\"boot-2\"}");
	/* The host's leak: "machine" null, "executable" null, its start figures. */
	assert_true(nth_object(out, "events", 2, ev, sizeof(ev)));
	assert_string_equal(ev, "{\"time\":\"2023-11-14T22:13:20.000Z\",\"kind\":\"finding_started\","
				"\"finding\":\"leak_suspect\",\"unit\":\"leaky.service\","
				"\"machine\":null,\"executable\":null,"
				"\"started\":\"2023-11-14T22:13:20.000Z\",\"rss_kib\":85000.0,"
				"\"growth_kib_per_s\":2048.0,\"growth_fit_r2\":0.987,\"window_s\":300.0}");
	assert_true(nth_object(out, "events", 3, ev, sizeof(ev)));
	assert_starts_with(ev, "{\"kind\":\"oom_kill\",\"time\":\"2023-11-14T22:13:25.000Z\",");
	assert_non_null(strstr(ev, "\"unit\":\"leaky.service\",\"machine\":null,"));
	/* The storm's end: its peak figures and its duration. */
	assert_true(nth_object(out, "events", 4, ev, sizeof(ev)));
	assert_starts_with(ev, ended_prefix);
	/* The kill: the unit it happened to is the target's, split from its machine. */
	assert_true(nth_object(out, "events", 5, ev, sizeof(ev)));
	assert_starts_with(ev, "{\"kind\":\"kill\",\"time\":\"2023-11-14T22:13:40.000Z\",");
	assert_non_null(strstr(ev, "\"signal\":\"SIGKILL\""));
	assert_int_equal(strcmp(ev + strlen(ev) - strlen(",\"unit\":\"victim.service\","
							   "\"machine\":\"web1\"}"),
				",\"unit\":\"victim.service\",\"machine\":\"web1\"}"),
			 0);
	assert_false(nth_object(out, "events", 6, ev, sizeof(ev)));
	timeline__free(t);
}

/* "findings": each finding once, as dump shows it, with "at_start" and "at_peak". */
static void test_json_findings(void **state)
{
	struct timeline *t = story();
	char f0[8192], f1[8192];

	(void)state;
	render(t, 1);
	/* In the order they were added: the leak, then the storm. */
	assert_true(nth_object(out, "findings", 0, f0, sizeof(f0)));
	assert_true(nth_object(out, "findings", 1, f1, sizeof(f1)));
	assert_false(nth_object(out, "findings", 2, f0 + 4096, 4096));
	assert_starts_with(f0, "{\"finding\":\"leak_suspect\",\"unit\":\"leaky.service\","
				"\"machine\":null,\"executable\":null,"
				"\"started\":\"2023-11-14T22:13:20.000Z\",\"ended\":null,"
				"\"at_start\":{\"rss_kib\":85000.0,\"growth_kib_per_s\":2048.0,"
				"\"growth_fit_r2\":0.987,\"window_s\":300.0},"
				"\"at_peak\":{\"rss_kib\":85000.0,\"growth_kib_per_s\":2048.0,"
				"\"growth_fit_r2\":0.987,\"window_s\":300.0}");
	assert_non_null(strstr(f1, "{\"finding\":\"respawn_storm\",\"unit\":\"nginx.service\","
				   "\"machine\":\"web1\",\"executable\":\"/usr/sbin/nginx\","
				   "\"started\":\"2023-11-14T22:13:10.000Z\","
				   "\"ended\":\"2023-11-14T22:13:40.000Z\","
				   "\"at_start\":{\"executable\":\"/usr/sbin/nginx\",\"starts\":40.0,"
				   "\"window_starts\":12.0,\"window_failed\":3.0,\"period_ms\":250.0},"
				   "\"at_peak\":{\"executable\":\"/usr/sbin/nginx\",\"starts\":90.0,"
				   "\"window_starts\":40.0,\"window_failed\":5.0,\"period_ms\":100.0}"));
	timeline__free(t);
}

/* A figure named like another of the finding's keys: still one "executable" (the reader refuses twins). */
static void test_json_no_duplicate_keys(void **state)
{
	struct timeline *t = timeline__new();
	struct db_finding f;
	struct fig_kill k;
	struct fig_oom o;
	char ev[8192];
	int findings = 0;

	(void)state;
	storm(&f);
	/* The storm's figures name the executable; a crash storm's too, with no subject of its own. */
	assert_int_equal(timeline__add_finding(t, &f), 0);
	f.kind = "crash_storm";
	f.subject = "";
	f.start[0].text = "/usr/bin/crashy";
	assert_int_equal(timeline__add_finding(t, &f), 0);
	oom(&o);
	assert_int_equal(timeline__add_oom(t, &o), 0);
	kill_record(&k);
	k.n_lineage = 2;
	snprintf(k.lineage[0].unit, sizeof(k.lineage[0].unit), "web2:a.service");
	assert_int_equal(timeline__add_kill(t, &k), 0);
	render(t, 1); /* parses every object, refusing a key twice */
	/* Each finding event names "executable" exactly once, whatever its figures are named. */
	for (int i = 0; nth_object(out, "events", i, ev, sizeof(ev)); i++) {
		int n = 0;

		if (!strstr(ev, "\"finding\":"))
			continue;
		findings++;
		for (const char *p = ev; (p = strstr(p, "\"executable\":")); p++)
			n++;
		if (n != 1)
			fail_msg("\"executable\" %d times in %s", n, ev);
	}
	assert_int_equal(findings, 4); /* two findings, each started and ended */
	timeline__free(t);
}

/* The reader itself refuses a key twice, raw control bytes and NaN, so the tests above can fail. */
static void test_reader_refuses(void **state)
{
	(void)state;
	assert_null(json_problem("{\"a\":[1,-2.5e3,null,true,\"x\\u001b\"],\"b\":{\"c\":{}}}\n"));
	assert_non_null(strstr(json_problem("{\"a\":1,\"b\":{\"c\":2,\"c\":3}}\n"),
			       "key \"c\" twice in one object"));
	assert_non_null(json_problem("{\"a\":\"\x1b[31m\"}\n"));
	assert_non_null(json_problem("{\"a\":nan}\n"));
	assert_non_null(json_problem("{\"a\":1}{}\n"));
}

/* ---- untrusted names ------------------------------------------------------ */

/* An escape sequence in a unit, an executable or a comm: escaped in text, \u001b in JSON. */
static void test_hostile_names(void **state)
{
	struct timeline *t = timeline__new();
	struct db_finding f;
	struct fig_kill k;

	(void)state;
	storm(&f);
	f.unit = "web1:evil\x1b[31m.service";
	f.subject = "/tmp/\x1b]0;pwned\x07";
	assert_int_equal(timeline__add_finding(t, &f), 0);
	kill_record(&k);
	snprintf(k.target.unit, sizeof(k.target.unit), "bad\x1b[2J.service");
	snprintf(k.sender.comm, sizeof(k.sender.comm), "k\x1b[1m");
	assert_int_equal(timeline__add_kill(t, &k), 0);

	render(t, 0);
	assert_null(strchr(out, '\x1b'));
	assert_null(strchr(out, '\x07'));
	assert_non_null(strstr(out, "RESPAWN STORM web1:evil\\x1b[31m.service /tmp/\\x1b]0;pwned\\x07: "));
	assert_non_null(strstr(out, "KILL bad\\x1b[2J.service: target (pid 20) got SIGKILL from "
				    "k\\x1b[1m (pid 10)"));

	render(t, 1);
	assert_null(strchr(out, '\x1b'));
	assert_non_null(strstr(out, "\"unit\":\"evil\\u001b[31m.service\",\"machine\":\"web1\","
				    "\"executable\":\"/tmp/\\u001b]0;pwned\\u0007\""));
	assert_non_null(strstr(out, "\"unit\":\"bad\\u001b[2J.service\",\"machine\":null}"));
	timeline__free(t);
}

/* ---- copies ---------------------------------------------------------------- */

/* Every string of a finding is copied: the caller's buffers overwritten after add change nothing. */
static void test_copies_outlive_caller(void **state)
{
	static const char *const fig_names[] = { "executable", "window_starts", "window_failed",
						 "period_ms", "starts" };
	char kind[32], unit[64], machine[16], subject[64], names[5][32], text[64];
	struct timeline *t = timeline__new();
	struct db_finding f;

	(void)state;
	snprintf(kind, sizeof(kind), "respawn_storm");
	snprintf(unit, sizeof(unit), "web1:nginx.service");
	snprintf(machine, sizeof(machine), "web1");
	snprintf(subject, sizeof(subject), "/usr/sbin/nginx");
	for (int i = 0; i < 5; i++)
		snprintf(names[i], sizeof(names[i]), "%s", fig_names[i]);
	snprintf(text, sizeof(text), "/usr/sbin/nginx");
	memset(&f, 0, sizeof(f));
	f.kind = kind;
	f.unit = unit;
	f.machine = machine;
	f.subject = subject;
	f.started_ms = S(-10);
	f.ended_ms = S(20);
	f.n_start = f.n_peak = 5;
	for (int i = 0; i < 2; i++) {
		struct db_figure *fig = i ? f.peak : f.start;

		fig[0] = (struct db_figure){ .name = names[0], .text = text };
		for (int k = 1; k < 5; k++)
			fig[k] = (struct db_figure){ .name = names[k], .value = 10 * k + i };
	}
	assert_int_equal(timeline__add_finding(t, &f), 0);
	memset(kind, 'X', sizeof(kind) - 1);
	memset(unit, 'X', sizeof(unit) - 1);
	memset(machine, 'X', sizeof(machine) - 1);
	memset(subject, 'X', sizeof(subject) - 1);
	for (int i = 0; i < 5; i++)
		memset(names[i], 'X', sizeof(names[i]) - 1);
	memset(text, 'X', sizeof(text) - 1);
	memset(&f, 0, sizeof(f));

	render(t, 0);
	assert_null(strstr(out, "XXX"));
	assert_string_equal(out, "2023-11-14T22:13:10.000Z  RESPAWN STORM web1:nginx.service "
				 "/usr/sbin/nginx: 10 starts in the window (20 failed), every 30 ms; "
				 "40 starts in all\n"
				 "2023-11-14T22:13:40.000Z  RESPAWN STORM ended web1:nginx.service "
				 "/usr/sbin/nginx after 30 s; at its peak: 11 starts in the window "
				 "(21 failed), every 31 ms; 41 starts in all\n");
	render(t, 1);
	assert_null(strstr(out, "XXX"));
	assert_non_null(strstr(out, "{\"finding\":\"respawn_storm\",\"unit\":\"nginx.service\","
				    "\"machine\":\"web1\",\"executable\":\"/usr/sbin/nginx\","));
	assert_non_null(strstr(out, "\"at_start\":{\"executable\":\"/usr/sbin/nginx\","
				    "\"window_starts\":10.0,\"window_failed\":20.0,\"period_ms\":30.0,"
				    "\"starts\":40.0},"
				    "\"at_peak\":{\"executable\":\"/usr/sbin/nginx\","
				    "\"window_starts\":11.0,\"window_failed\":21.0,\"period_ms\":31.0,"
				    "\"starts\":41.0}"));
	timeline__free(t);
}

/* ---- endings and the empty timeline ---------------------------------------- */

/* A leak whose processes exited says so at its end; its end figures are kept under "at_end". */
static void test_leak_processes_gone(void **state)
{
	static const struct db_figure end[] = { { .name = "rss_kib", .value = 100 },
						{ .name = "processes_gone", .value = 1 } };
	struct timeline *t = timeline__new();
	struct db_finding f;

	(void)state;
	leak(&f);
	f.ended_ms = S(60);
	set_figures(f.end, &f.n_end, end, 2);
	assert_int_equal(timeline__add_finding(t, &f), 0);
	render(t, 0);
	assert_string_equal(out, LINE_LEAK_STARTED
			    "2023-11-14T22:14:20.000Z  LEAK SUSPECT ended leaky.service after 60 s "
			    "(its processes exited); at its peak: growing 2048.0 KiB/s (" R2
			    " 0.99 over 300 s), rss 83.0 MiB\n");
	render(t, 1);
	assert_non_null(strstr(out, "\"at_end\":{\"rss_kib\":100.0,\"processes_gone\":1.0}"));
	timeline__free(t);
}

/* Nothing at all: the text says so in one line; the JSON is two empty arrays. */
static void test_empty(void **state)
{
	struct timeline *t = timeline__new();

	(void)state;
	render(t, 0);
	assert_string_equal(out, "nothing happened in this range: no finding, OOM kill, kill "
				 "across units or boot\n");
	render(t, 1);
	assert_string_equal(out, "{\"events\":[],\"findings\":[]}\n");
	timeline__free(t);
	timeline__free(NULL); /* NULL-safe, as every destructor */
}

/* Many of each (past the first allocation of 16): all kept, in order. */
static void test_many(void **state)
{
	struct timeline *t = timeline__new();
	char id[16], want[64];

	(void)state;
	for (int i = 39; i >= 0; i--) {
		snprintf(id, sizeof(id), "boot-%02d", i);
		assert_int_equal(timeline__add_boot(t, id, S(i)), 0);
	}
	render(t, 0);
	snprintf(want, sizeof(want), "2023-11-14T22:13:20.000Z  BOOT boot-00\n");
	assert_starts_with(out, want);
	snprintf(want, sizeof(want), "2023-11-14T22:13:59.000Z  BOOT boot-39\n");
	assert_string_equal(out + strlen(out) - strlen(want), want);
	{
		int lines = 0;

		for (const char *p = out; *p; p++)
			lines += *p == '\n';
		assert_int_equal(lines, 40);
	}
	timeline__free(t);
}

/* ---- timeline_finding_summary ---------------------------------------------- */

struct summary_case {
	const char *name;
	const char *kind;
	struct db_figure fig[8];
	uint32_t n;
	const char *want;
};

static const struct summary_case summary_cases[] = {
	{ .name = "summary: leak_suspect", .kind = "leak_suspect",
	  .fig = { { .name = "rss_kib", .value = 85000 },
		   { .name = "growth_kib_per_s", .value = 2048 },
		   { .name = "growth_fit_r2", .value = 0.987 },
		   { .name = "window_s", .value = 300 } },
	  .n = 4, .want = "growing 2048.0 KiB/s (" R2 " 0.99 over 300 s), rss 83.0 MiB" },
	/* Memory past a GiB, and under a MiB. */
	{ .name = "summary: leak_suspect GiB", .kind = "leak_suspect",
	  .fig = { { .name = "rss_kib", .value = 3 * 1024 * 1024 },
		   { .name = "growth_kib_per_s", .value = 0.25 },
		   { .name = "growth_fit_r2", .value = 1 },
		   { .name = "window_s", .value = 3600 } },
	  .n = 4, .want = "growing 0.2 KiB/s (" R2 " 1.00 over 3600 s), rss 3.0 GiB" },
	{ .name = "summary: leak_suspect KiB", .kind = "leak_suspect",
	  .fig = { { .name = "window_s", .value = 60 },
		   { .name = "rss_kib", .value = 900 },
		   { .name = "growth_fit_r2", .value = 0.5 },
		   { .name = "growth_kib_per_s", .value = 1.5 } },
	  .n = 4, .want = "growing 1.5 KiB/s (" R2 " 0.50 over 60 s), rss 900 KiB" },
	{ .name = "summary: respawn_storm", .kind = "respawn_storm",
	  .fig = { { .name = "executable", .text = "/sbin/agetty" },
		   { .name = "starts", .value = 170 },
		   { .name = "window_starts", .value = 164 },
		   { .name = "window_failed", .value = 2 },
		   { .name = "period_ms", .value = 249.4 },
		   { .name = "lifetime_ms", .value = 3 } },
	  .n = 6, .want = "164 starts in the window (2 failed), every 249 ms; 170 starts in all" },
	{ .name = "summary: crash_storm", .kind = "crash_storm",
	  .fig = { { .name = "window_crashes", .value = 12 },
		   { .name = "crashes", .value = 30 },
		   { .name = "signal", .value = 11 },
		   { .name = "executable", .text = "/usr/bin/crashy" },
		   { .name = "comm", .text = "crashy" } },
	  .n = 5, .want = "12 crashes in the window (SIGSEGV), 30 in all" },
	{ .name = "summary: crash_storm SIGABRT", .kind = "crash_storm",
	  .fig = { { .name = "window_crashes", .value = 5 },
		   { .name = "crashes", .value = 5 },
		   { .name = "signal", .value = 6 } },
	  .n = 3, .want = "5 crashes in the window (SIGABRT), 5 in all" },
	{ .name = "summary: fork_storm", .kind = "fork_storm",
	  .fig = { { .name = "fork_rate_per_s", .value = 1000 },
		   { .name = "window_fork_rate_per_s", .value = 1234.56 },
		   { .name = "exec_rate_per_s", .value = 0.5 },
		   { .name = "window_forks", .value = 12345 },
		   { .name = "window_failed", .value = 3 },
		   { .name = "forks_failed", .value = 17 },
		   { .name = "pids_current", .value = 512 },
		   { .name = "pids_max", .value = 512 } },
	  .n = 8, .want = "forking 1234.6/s, exec 0.5/s; 17 forks failed (pids 512 of 512)" },
	{ .name = "summary: unknown kind", .kind = "future_storm",
	  .fig = { { .name = "a", .value = 1 }, { .name = "b", .value = 2 },
		   { .name = "c", .text = "x" } },
	  .n = 3, .want = "3 figures" },
};

static void test_summary(void **state)
{
	const struct summary_case *c = *state;
	char buf[256];

	memset(buf, 'Z', sizeof(buf));
	timeline_finding_summary(buf, sizeof(buf), c->kind, c->fig, c->n);
	assert_string_equal(buf, c->want);
}

/* Cut to the caller's buffer, NUL-terminated. */
static void test_summary_truncated(void **state)
{
	const struct summary_case *c = &summary_cases[0];
	char buf[12];

	(void)state;
	memset(buf, 'Z', sizeof(buf));
	timeline_finding_summary(buf, sizeof(buf), c->kind, c->fig, c->n);
	assert_string_equal(buf, "growing 204");
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

int main(void)
{
	static struct CMUnitTest tests[ARRAY_SIZE(range_cases) + ARRAY_SIZE(summary_cases) + 16];
	size_t n = 0;

#define ADD(label, fn) tests[n++] = (struct CMUnitTest){ .name = label, .test_func = fn }
#define ADD_ROWS(table, fn)                                                                   \
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)                                        \
	tests[n++] = (struct CMUnitTest){ .name = table[i].name, .test_func = fn,             \
					  .initial_state = (void *)&table[i] }
	ADD("text: time order across kinds", test_text_order);
	ADD("json: time order across kinds", test_json_order);
	ADD_ROWS(range_cases, test_range);
	ADD("json: event objects exact", test_json_events_exact);
	ADD("json: findings with at_start and at_peak", test_json_findings);
	ADD("json: no key twice", test_json_no_duplicate_keys);
	ADD("json reader refuses twins, control bytes, nan", test_reader_refuses);
	ADD("hostile names escaped", test_hostile_names);
	ADD("copies outlive the caller's buffers", test_copies_outlive_caller);
	ADD("leak ended: processes gone, at_end", test_leak_processes_gone);
	ADD("empty timeline", test_empty);
	ADD("40 boots", test_many);
	ADD_ROWS(summary_cases, test_summary);
	ADD("summary: cut to the buffer", test_summary_truncated);
	return cmocka_run_group_tests_name("timeline", tests, NULL, NULL);
}
