// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * metrics: a boot's figures as Prometheus text and OpenMetrics. The whole
 * exposition of a small state is compared byte for byte in both formats;
 * hostile unit names (quotes, backslashes, newlines, invalid UTF-8) must give
 * a valid exposition; past the unit cap the rest must be summed into
 * unit="other" and counted, never dropped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "escape.h"
#include "figures.h"
#include "metrics.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FFFD "\xef\xbf\xbd"

/* ---- label escaping ------------------------------------------------------ */

struct escape_case {
	const char *name;
	const char *src;
	size_t size;
	const char *want;
};

static struct escape_case escape_cases[] = {
	{ "escape: plain unit name", "serial-getty@ttyS0.service", 64, "serial-getty@ttyS0.service" },
	{ "escape: empty", "", 64, "" },
	{ "escape: double quote", "a\"b", 64, "a\\\"b" },
	{ "escape: backslash", "a\\b", 64, "a\\\\b" },
	{ "escape: systemd's \\x2d stays readable", "dev-disk-by\\x2duuid.swap", 64,
	  "dev-disk-by\\\\x2duuid.swap" },
	{ "escape: newline", "a\nb", 64, "a\\nb" },
	{ "escape: a closing quote and brace cannot end the label", "x\"} 1\nevil{a=\"", 64,
	  "x\\\"} 1\\nevil{a=\\\"" },
	{ "escape: tab and carriage return are valid as they are", "a\tb\rc", 64, "a\tb\rc" },
	{ "escape: valid UTF-8 passes", "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80", 64,
	  "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80" },
	{ "escape: each invalid byte is U+FFFD", "a\xff\xfe" "b", 64, "a" FFFD FFFD "b" },
	{ "escape: lone continuation byte", "\x80", 64, FFFD },
	{ "escape: overlong slash", "\xc0\xaf", 64, FFFD FFFD },
	{ "escape: surrogate", "\xed\xa0\x80", 64, FFFD FFFD FFFD },
	{ "escape: sequence cut at the end", "a\xe2\x82", 64, "a" FFFD FFFD },
	{ "escape: cut before a two-byte escape, not inside it", "ab\"", 4, "ab" },
	{ "escape: cut before a replacement, not inside it", "ab\xff", 5, "ab" },
	{ "escape: cut before a multibyte character", "a\xe2\x82\xac", 4, "a" },
	{ "escape: size 1 gives an empty string", "abc", 1, "" },
};

static void test_escape(void **state)
{
	const struct escape_case *c = *state;
	char buf[128];
	size_t n;

	memset(buf, 'X', sizeof(buf));
	n = metrics_escape_label(buf, c->size, c->src);
	assert_string_equal(buf, c->want);
	assert_int_equal(n, strlen(c->want));
	assert_true(n < c->size);
	assert_int_equal(utf8_sequence_len((const unsigned char *)"a", 1), 1);
}

/* ---- content negotiation ------------------------------------------------ */

struct negotiate_case {
	const char *name;
	const char *accept;
	enum metrics_format want;
};

static struct negotiate_case negotiate_cases[] = {
	{ "negotiate: no Accept header", NULL, METRICS_TEXT },
	{ "negotiate: curl's */*", "*/*", METRICS_TEXT },
	{ "negotiate: text/plain", "text/plain;version=0.0.4", METRICS_TEXT },
	{ "negotiate: Prometheus 2.x",
	  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
	  "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
	  METRICS_OPENMETRICS },
	{ "negotiate: bare openmetrics", "application/openmetrics-text", METRICS_OPENMETRICS },
	{ "negotiate: after another type, with spaces", "text/plain; q=0.5, application/openmetrics-text; version=1.0.0",
	  METRICS_OPENMETRICS },
	{ "negotiate: case-insensitive type", "Application/OpenMetrics-Text", METRICS_OPENMETRICS },
	{ "negotiate: q=0 refuses it", "application/openmetrics-text;q=0,text/plain", METRICS_TEXT },
	{ "negotiate: q=0.000 refuses it", "application/openmetrics-text; q=0.000", METRICS_TEXT },
	{ "negotiate: q=0.1 accepts it", "application/openmetrics-text;q=0.1", METRICS_OPENMETRICS },
	{ "negotiate: a longer type is another type", "application/openmetrics-textual", METRICS_TEXT },
	{ "negotiate: empty", "", METRICS_TEXT },
};

static void test_negotiate(void **state)
{
	const struct negotiate_case *c = *state;

	assert_int_equal(metrics_negotiate(c->accept), c->want);
}

/* ---- whole expositions --------------------------------------------------- */

static char *render(const struct metrics_input *in, enum metrics_format fmt)
{
	struct metrics *m = metrics__new();
	char *buf = NULL;
	size_t len = 0;

	assert_non_null(m);
	assert_int_equal(metrics__collect(m, in), 0);
	assert_int_equal(metrics__render(m, fmt, &buf, &len), 0);
	assert_int_equal(strlen(buf), len);
	metrics__free(m);
	return buf;
}

/* The exposition must be valid UTF-8 whatever the names held. */
static void assert_valid_utf8(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t l = utf8_sequence_len((const unsigned char *)s + i, n - i < 4 ? n - i : 4);

		assert_true(l > 0);
		i += l;
	}
}

/* Each line is a comment or `name{labels} value`, with every label value closed. */
static void assert_lines_well_formed(const char *s)
{
	const char *line = s;

	while (*line) {
		const char *end = strchr(line, '\n');
		const char *p = line;

		assert_non_null(end);
		if (*p != '#') {
			while (p < end && *p != '{' && *p != ' ')
				p++;
			if (*p == '{') {
				p++;
				while (p < end && *p != '}') {
					while (p < end && *p != '=')
						p++;
					assert_true(p + 1 < end && p[1] == '"');
					p += 2;
					while (p < end && *p != '"')
						p += *p == '\\' ? 2 : 1;
					assert_true(p < end);
					p++;
					if (*p == ',')
						p++;
				}
				assert_true(p < end);
				p++;
			}
			assert_true(*p == ' ');
		}
		line = end + 1;
	}
}

struct small {
	struct fig_state st;
	uint64_t lost[RCA_LOST_KIND_MAX];
	struct metrics_input in;
};

static void small_state(struct small *s)
{
	struct fig_boot *b;
	struct fig_unit *a, *u;
	struct fig_exe *e;
	struct fig_oom o;

	memset(s, 0, sizeof(*s));
	fig_state_init(&s->st);
	memset(&o, 0, sizeof(o));
	snprintf(o.boot_id, sizeof(o.boot_id), "b0");
	snprintf(o.victim.unit, sizeof(o.victim.unit), "a.service");
	snprintf(o.constraint, sizeof(o.constraint), "global");
	assert_int_equal(fig_state_add_oom(&s->st, &o), 0); /* another boot: not this one's */
	snprintf(o.boot_id, sizeof(o.boot_id), "b1");
	snprintf(o.constraint, sizeof(o.constraint), "memcg");
	assert_int_equal(fig_state_add_oom(&s->st, &o), 0);

	assert_non_null(fig_state_boot(&s->st, "b0"));
	b = fig_state_boot(&s->st, "b1");
	assert_non_null(b);
	a = fig_boot_unit(b, "a.service");
	assert_non_null(a);
	a->starts = 20;
	a->execs = 25;
	a->crash_storm = 1;
	a->exits = 20;
	a->exits_failed = 3;
	a->forks = 20;
	a->threads = 2;
	a->oom_kills = 2; /* one record of two: the other is "unknown" */
	a->procs_alive = 2;
	a->pids_current = 3;
	a->pids_max = 100;
	a->mem.sampled_ms = 1;
	a->mem.rss_anon_kib = 1000;
	a->mem.rss_file_kib = 24;
	a->mem.growth_kib_per_s = 2.5;
	a->mem.leak_suspect = 1;
	a->mem.exhaustion_eta_s = 3600;
	/* The same sender and signal, once from a process and once from the kernel: one series. */
	fig_unit_add_kills(a, "b.service", 9, 0, 1);
	fig_unit_add_kills(a, "b.service", 9, 1, 1);
	e = fig_unit_exe(a, "/bin/a");
	assert_non_null(e);
	e->starts = 20;
	e->storms = 1;
	e->respawn_class = RESPAWN_STORM;
	fig_exe_add_status(e, RCA_STATUS_CODE, 0, 17);
	fig_exe_add_status(e, RCA_STATUS_CODE, 1, 2);
	fig_exe_add_status(e, RCA_STATUS_SIGNAL, 9, 1);

	u = fig_boot_unit(b, "b.service");
	assert_non_null(u);
	u->starts = 1;
	u->execs = 1;
	u->forks = 1;
	u->kills_sent = 2;

	s->lost[RCA_LOST_RINGBUF_EXEC] = 5;
	s->in.boot = fig_state_find_boot(&s->st, "b1");
	s->in.state = &s->st;
	s->in.lost = s->lost;
	s->in.units_unnamed = 1;
	s->in.now_ms = 1700000000123LL;
	s->in.version = "1.2.3";
}

/* Families both formats share, after the build info; only their # lines differ. */
#define LOST_SAMPLES                                                                          \
	"rcatrace_events_lost_total{kind=\"forkfail_full\"} 0\n"                              \
	"rcatrace_events_lost_total{kind=\"kills_full\"} 0\n"                                 \
	"rcatrace_events_lost_total{kind=\"ledger_full\"} 0\n"                                \
	"rcatrace_events_lost_total{kind=\"mm_full\"} 0\n"                                    \
	"rcatrace_events_lost_total{kind=\"procs_full\"} 0\n"                                 \
	"rcatrace_events_lost_total{kind=\"ringbuf_exec\"} 5\n"                               \
	"rcatrace_events_lost_total{kind=\"ringbuf_exit\"} 0\n"                               \
	"rcatrace_events_lost_total{kind=\"ringbuf_kill\"} 0\n"                               \
	"rcatrace_events_lost_total{kind=\"ringbuf_oom\"} 0\n"                                \
	"rcatrace_events_lost_total{kind=\"status_full\"} 0\n"                                \
	"rcatrace_events_lost_total{kind=\"units_full\"} 0\n"

/* The # HELP and # TYPE lines of a family, as each format writes them. */
#define META_TEXT(name, suffix, type, help)                                                   \
	"# HELP " name suffix " " help "\n# TYPE " name suffix " " type "\n"
#define META_OM(name, suffix, type, help) "# HELP " name " " help "\n# TYPE " name " " type "\n"

#define SMALL_EXPOSITION(META, INFO_TYPE)                                                     \
	META("rcatrace_build", "_info", INFO_TYPE, "Version of the running rcatrace.")        \
	"rcatrace_build_info{version=\"1.2.3\"} 1\n"                                          \
	META("rcatrace_last_sample_timestamp_seconds", "", "gauge",                           \
	     "Unix time of the sample these figures come from.")                              \
	"rcatrace_last_sample_timestamp_seconds 1700000000.123\n"                             \
	META("rcatrace_events_lost", "_total", "counter",                                     \
	     "Events or table entries the kernel side could not keep, by kind, all runs.")    \
	LOST_SAMPLES                                                                          \
	META("rcatrace_units_unnamed", "_total", "counter",                                   \
	     "Units that could not be named and show as cgroup:ID, all runs.")                \
	"rcatrace_units_unnamed_total 1\n"                                                    \
	META("rcatrace_units_dropped", "_total", "counter",                                   \
	     "Units of this boot refused past the table bound; their figures are not kept.")  \
	"rcatrace_units_dropped_total 0\n"                                                    \
	META("rcatrace_units", "", "gauge", "Units seen this boot.")                          \
	"rcatrace_units 2\n"                                                                  \
	META("rcatrace_metrics_units_folded", "", "gauge",                                    \
	     "Units past --metrics-max-units whose figures are summed into unit=other.")      \
	"rcatrace_metrics_units_folded 0\n"                                                   \
	META("rcatrace_unit_starts", "_total", "counter",                                     \
	     "Starts of the unit this boot: processes that entered it from outside.")         \
	"rcatrace_unit_starts_total{unit=\"a.service\"} 20\n"                                 \
	"rcatrace_unit_starts_total{unit=\"b.service\"} 1\n"                                  \
	META("rcatrace_unit_execs", "_total", "counter",                                      \
	     "Execs in the unit this boot, its own work included.")                           \
	"rcatrace_unit_execs_total{unit=\"a.service\"} 25\n"                                  \
	"rcatrace_unit_execs_total{unit=\"b.service\"} 1\n"                                   \
	META("rcatrace_unit_crash_storm", "", "gauge",                                        \
	     "1 while processes of the unit die of crash signals again and again.")           \
	"rcatrace_unit_crash_storm{unit=\"a.service\"} 1\n"                                   \
	"rcatrace_unit_crash_storm{unit=\"b.service\"} 0\n"                                   \
	META("rcatrace_unit_exits", "_total", "counter",                                      \
	     "Exits of processes started in the unit this boot, by exit code or killing signal.") \
	"rcatrace_unit_exits_total{unit=\"a.service\",code=\"0\"} 17\n"                       \
	"rcatrace_unit_exits_total{unit=\"a.service\",code=\"1\"} 2\n"                        \
	"rcatrace_unit_exits_total{unit=\"a.service\",signal=\"SIGKILL\"} 1\n"                \
	META("rcatrace_unit_exits_failed", "_total", "counter",                               \
	     "Exits with a non-zero code or by a signal this boot.")                          \
	"rcatrace_unit_exits_failed_total{unit=\"a.service\"} 3\n"                            \
	"rcatrace_unit_exits_failed_total{unit=\"b.service\"} 0\n"                            \
	META("rcatrace_unit_storm", "", "gauge",                                              \
	     "1 while an executable of the unit is in a respawn storm.")                      \
	"rcatrace_unit_storm{unit=\"a.service\"} 1\n"                                         \
	"rcatrace_unit_storm{unit=\"b.service\"} 0\n"                                         \
	META("rcatrace_unit_respawn_storms", "_total", "counter",                             \
	     "Respawn storms flagged in the unit this boot.")                                 \
	"rcatrace_unit_respawn_storms_total{unit=\"a.service\"} 1\n"                          \
	"rcatrace_unit_respawn_storms_total{unit=\"b.service\"} 0\n"                          \
	META("rcatrace_unit_forks", "_total", "counter",                                      \
	     "Processes forked in the unit this boot.")                                       \
	"rcatrace_unit_forks_total{unit=\"a.service\"} 20\n"                                  \
	"rcatrace_unit_forks_total{unit=\"b.service\"} 1\n"                                   \
	META("rcatrace_unit_threads", "_total", "counter",                                    \
	     "Threads created in the unit this boot.")                                        \
	"rcatrace_unit_threads_total{unit=\"a.service\"} 2\n"                                 \
	"rcatrace_unit_threads_total{unit=\"b.service\"} 0\n"                                 \
	META("rcatrace_unit_forks_failed", "_total", "counter",                               \
	     "Forks the kernel refused in the unit this boot.")                               \
	"rcatrace_unit_forks_failed_total{unit=\"a.service\"} 0\n"                            \
	"rcatrace_unit_forks_failed_total{unit=\"b.service\"} 0\n"                            \
	META("rcatrace_unit_fork_storm", "", "gauge",                                         \
	     "1 while the unit forks far faster than it execs, or fails against its limit.")  \
	"rcatrace_unit_fork_storm{unit=\"a.service\"} 0\n"                                    \
	"rcatrace_unit_fork_storm{unit=\"b.service\"} 0\n"                                    \
	META("rcatrace_unit_processes", "", "gauge",                                          \
	     "Processes in the unit at the last controller reading.")                         \
	"rcatrace_unit_processes{unit=\"a.service\"} 2\n"                                     \
	META("rcatrace_unit_pids", "", "gauge", "Tasks the pids controller counts in the unit.") \
	"rcatrace_unit_pids{unit=\"a.service\"} 3\n"                                          \
	META("rcatrace_unit_pids_max", "", "gauge", "The unit's pids.max limit.")             \
	"rcatrace_unit_pids_max{unit=\"a.service\"} 100\n"                                    \
	META("rcatrace_unit_resident_bytes", "", "gauge",                                     \
	     "Resident memory (anon, file and shmem) of the unit's processes.")               \
	"rcatrace_unit_resident_bytes{unit=\"a.service\"} 1048576\n"                          \
	META("rcatrace_unit_growth_bytes_per_second", "", "gauge",                            \
	     "Slope of the unit's resident memory over the growth window.")                   \
	"rcatrace_unit_growth_bytes_per_second{unit=\"a.service\"} 2560\n"                    \
	META("rcatrace_unit_leak_suspect", "", "gauge",                                       \
	     "1 while the unit's memory grows steadily, as a leak does.")                     \
	"rcatrace_unit_leak_suspect{unit=\"a.service\"} 1\n"                                  \
	"rcatrace_unit_leak_suspect{unit=\"b.service\"} 0\n"                                  \
	META("rcatrace_unit_memory_exhaustion_eta_seconds", "", "gauge",                      \
	     "Seconds until the unit's growth reaches its memory limit or the free memory.")  \
	"rcatrace_unit_memory_exhaustion_eta_seconds{unit=\"a.service\"} 3600\n"              \
	META("rcatrace_oom_kills", "_total", "counter",                                       \
	     "Processes of the unit the OOM killer took this boot, by constraint.")           \
	"rcatrace_oom_kills_total{unit=\"a.service\",constraint=\"memcg\"} 1\n"               \
	"rcatrace_oom_kills_total{unit=\"a.service\",constraint=\"unknown\"} 1\n"             \
	META("rcatrace_kills", "_total", "counter",                                           \
	     "Fatal signals processes of the unit received this boot, by sender unit and signal.") \
	"rcatrace_kills_total{unit=\"a.service\",sender_unit=\"b.service\",signal=\"SIGKILL\"} 2\n" \
	META("rcatrace_unit_kills_sent", "_total", "counter",                                 \
	     "Fatal signals processes of the unit sent to other processes this boot.")        \
	"rcatrace_unit_kills_sent_total{unit=\"a.service\"} 0\n"                              \
	"rcatrace_unit_kills_sent_total{unit=\"b.service\"} 2\n"

static void test_small_text(void **state)
{
	struct small s;
	char *got;

	(void)state;
	small_state(&s);
	got = render(&s.in, METRICS_TEXT);
	assert_string_equal(got, SMALL_EXPOSITION(META_TEXT, "gauge"));
	free(got);
	fig_state_free(&s.st);
}

static void test_small_openmetrics(void **state)
{
	struct small s;
	char *got;

	(void)state;
	small_state(&s);
	got = render(&s.in, METRICS_OPENMETRICS);
	assert_string_equal(got, SMALL_EXPOSITION(META_OM, "info") "# EOF\n");
	free(got);
	fig_state_free(&s.st);
}

/* Rendering twice from one object gives the same bytes: nothing accumulates. */
static void test_collect_is_idempotent(void **state)
{
	struct metrics *m = metrics__new();
	struct small s;
	char *a, *b;
	size_t la, lb;

	(void)state;
	small_state(&s);
	assert_int_equal(metrics__collect(m, &s.in), 0);
	assert_int_equal(metrics__render(m, METRICS_TEXT, &a, &la), 0);
	assert_int_equal(metrics__collect(m, &s.in), 0);
	assert_int_equal(metrics__render(m, METRICS_TEXT, &b, &lb), 0);
	assert_int_equal(la, lb);
	assert_string_equal(a, b);
	free(a);
	free(b);
	metrics__free(m);
	fig_state_free(&s.st);
}

/* No boot yet, no state: the global families only, lost counters at zero. */
static void test_empty(void **state)
{
	struct metrics_input in = { .version = "v" };
	char *got;

	(void)state;
	got = render(&in, METRICS_TEXT);
	assert_non_null(strstr(got, "rcatrace_build_info{version=\"v\"} 1\n"));
	assert_non_null(strstr(got, "rcatrace_events_lost_total{kind=\"ringbuf_exit\"} 0\n"));
	assert_non_null(strstr(got, "rcatrace_units 0\n"));
	assert_non_null(strstr(got, "rcatrace_metrics_units_folded 0\n"));
	assert_null(strstr(got, "rcatrace_unit_"));
	assert_null(strstr(got, "rcatrace_last_sample_timestamp_seconds"));
	free(got);
}

/* ---- hostile names ------------------------------------------------------- */

static void test_hostile_names(void **state)
{
	struct fig_state st;
	struct fig_boot *b;
	struct fig_unit *u;
	struct metrics_input in = { 0 };
	static const char *const names[] = {
		"q\"uote.service", "back\\slash.service", "new\nline.service",
		"bad\xff\xfe" "utf8.service", "x\"} 1\nrcatrace_unit_starts_total{unit=\"fake",
	};
	char *got;

	(void)state;
	fig_state_init(&st);
	b = fig_state_boot(&st, "b");
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		u = fig_boot_unit(b, names[i]);
		assert_non_null(u);
		u->starts = 10 + i;
		fig_unit_add_kills(u, names[(i + 1) % ARRAY_SIZE(names)], 15, 0, 1);
	}
	in.boot = b;
	in.version = "evil\"version\n\xff";
	for (int fmt = METRICS_TEXT; fmt <= METRICS_OPENMETRICS; fmt++) {
		got = render(&in, fmt);
		assert_valid_utf8(got);
		assert_lines_well_formed(got);
		assert_non_null(strstr(got, "rcatrace_unit_starts_total{unit=\"q\\\"uote.service\"} 10\n"));
		assert_non_null(strstr(got, "rcatrace_unit_starts_total{unit=\"back\\\\slash.service\"} 11\n"));
		assert_non_null(strstr(got, "rcatrace_unit_starts_total{unit=\"new\\nline.service\"} 12\n"));
		assert_non_null(strstr(got, "rcatrace_unit_starts_total{unit=\"bad" FFFD FFFD "utf8.service\"} 13\n"));
		assert_non_null(strstr(got, "rcatrace_unit_starts_total{unit=\"x\\\"} 1\\nrcatrace_unit_starts_total{unit=\\\"fake\"} 14\n"));
		assert_non_null(strstr(got, "rcatrace_kills_total{unit=\"q\\\"uote.service\",sender_unit=\"back\\\\slash.service\",signal=\"SIGTERM\"} 1\n"));
		assert_non_null(strstr(got, "rcatrace_build_info{version=\"evil\\\"version\\n" FFFD "\"} 1\n"));
		/* The injected line never starts a line of its own. */
		assert_null(strstr(got, "\nrcatrace_unit_starts_total{unit=\"fake"));
		free(got);
	}
	fig_state_free(&st);
}

/* Two names that differ only in invalid bytes look alike once replaced: one series, summed. */
static void test_names_that_escape_alike(void **state)
{
	struct fig_state st;
	struct fig_boot *b;
	struct metrics_input in = { 0 };
	char *got;

	(void)state;
	fig_state_init(&st);
	b = fig_state_boot(&st, "b");
	fig_boot_unit(b, "x\xff.service")->starts = 3;
	fig_boot_unit(b, "x\xfe.service")->starts = 4;
	fig_boot_unit(b, "x\xfe.service")->mem.leak_suspect = 1;
	in.boot = b;
	got = render(&in, METRICS_TEXT);
	assert_non_null(strstr(got, "rcatrace_unit_starts_total{unit=\"x" FFFD ".service\"} 7\n"));
	assert_non_null(strstr(got, "rcatrace_unit_leak_suspect{unit=\"x" FFFD ".service\"} 1\n"));
	assert_int_equal(strstr(got, "rcatrace_unit_starts_total{") -
				 strstr(got, "rcatrace_unit_starts_total{unit=\"x"),
			 0);
	assert_null(strstr(strstr(got, "rcatrace_unit_starts_total{") + 1, "rcatrace_unit_starts_total{"));
	free(got);
	fig_state_free(&st);
}

/* ---- the unit cap --------------------------------------------------------- */

static uint64_t value_of(const char *exposition, const char *series)
{
	const char *p = strstr(exposition, series);
	size_t n = strlen(series);

	/* A whole line: the series at a line start, followed by " value". */
	while (p && ((p != exposition && p[-1] != '\n') || p[n] != ' '))
		p = strstr(p + 1, series);
	if (!p)
		fail_msg("no series %s", series);
	return strtoull(p + n + 1, NULL, 10);
}

static void test_fold_into_other(void **state)
{
	struct fig_state st;
	struct fig_boot *b;
	struct fig_unit *u;
	struct metrics_input in = { 0 };
	struct metrics *m = metrics__new();
	char name[32], *got;
	size_t len;

	(void)state;
	fig_state_init(&st);
	b = fig_state_boot(&st, "b");
	/* u0..u5, u<i> with 100*i starts; u1 is quiet but leaking, so it ranks first. */
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "u%d.service", i);
		u = fig_boot_unit(b, name);
		u->starts = 100 * (uint64_t)i;
		u->forks = 1;
		u->mem.sampled_ms = 1;
		u->mem.rss_anon_kib = 1;
		u->mem.exhaustion_eta_s = 1000 - i;
		fig_unit_add_kills(u, "u0.service", 9, 0, 1);
		fig_unit_add_kills(u, "u5.service", 9, 0, 1);
	}
	((struct fig_unit *)fig_boot_find_unit(b, "u1.service"))->mem.leak_suspect = 1;
	in.boot = b;
	in.max_units = 3;
	assert_int_equal(metrics__collect(m, &in), 0);
	assert_int_equal(metrics__units_folded(m), 3);
	assert_int_equal(metrics__render(m, METRICS_TEXT, &got, &len), 0);

	/* Kept: u1 (alarm), u5 and u4 (busiest). Folded: u3, u2, u0. */
	assert_int_equal(value_of(got, "rcatrace_unit_starts_total{unit=\"u1.service\"}"), 100);
	assert_int_equal(value_of(got, "rcatrace_unit_starts_total{unit=\"u5.service\"}"), 500);
	assert_int_equal(value_of(got, "rcatrace_unit_starts_total{unit=\"u4.service\"}"), 400);
	assert_int_equal(value_of(got, "rcatrace_unit_starts_total{unit=\"other\"}"), 300 + 200 + 0);
	assert_null(strstr(got, "unit=\"u0.service\""));
	assert_null(strstr(got, "unit=\"u2.service\""));
	assert_null(strstr(got, "unit=\"u3.service\""));
	assert_int_equal(value_of(got, "rcatrace_metrics_units_folded"), 3);
	assert_int_equal(value_of(got, "rcatrace_units"), 6);
	/* Sizes summed, ETA the soonest, flags the maximum. */
	assert_int_equal(value_of(got, "rcatrace_unit_resident_bytes{unit=\"other\"}"), 3 * 1024);
	assert_int_equal(value_of(got, "rcatrace_unit_memory_exhaustion_eta_seconds{unit=\"other\"}"), 997);
	assert_int_equal(value_of(got, "rcatrace_unit_leak_suspect{unit=\"other\"}"), 0);
	assert_int_equal(value_of(got, "rcatrace_unit_leak_suspect{unit=\"u1.service\"}"), 1);
	/* A sender that is not exported is "other" too: no more names than the cap. */
	assert_int_equal(value_of(got, "rcatrace_kills_total{unit=\"u4.service\",sender_unit=\"other\",signal=\"SIGKILL\"}"), 1);
	assert_int_equal(value_of(got, "rcatrace_kills_total{unit=\"u4.service\",sender_unit=\"u5.service\",signal=\"SIGKILL\"}"), 1);
	assert_int_equal(value_of(got, "rcatrace_kills_total{unit=\"other\",sender_unit=\"other\",signal=\"SIGKILL\"}"), 3);
	assert_int_equal(value_of(got, "rcatrace_kills_total{unit=\"other\",sender_unit=\"u5.service\",signal=\"SIGKILL\"}"), 3);
	/* Nothing dropped: the starts of all series add up to the boot's. */
	assert_int_equal(value_of(got, "rcatrace_unit_starts_total{unit=\"u1.service\"}") +
				 value_of(got, "rcatrace_unit_starts_total{unit=\"u5.service\"}") +
				 value_of(got, "rcatrace_unit_starts_total{unit=\"u4.service\"}") +
				 value_of(got, "rcatrace_unit_starts_total{unit=\"other\"}"),
			 1500);
	free(got);
	metrics__free(m);
	fig_state_free(&st);
}

static void test_default_cap(void **state)
{
	struct fig_state st;
	struct fig_boot *b;
	struct metrics_input in = { 0 };
	struct metrics *m = metrics__new();
	char name[32];

	(void)state;
	fig_state_init(&st);
	b = fig_state_boot(&st, "b");
	for (int i = 0; i < METRICS_DEFAULT_MAX_UNITS + 7; i++) {
		snprintf(name, sizeof(name), "u%d.scope", i);
		assert_non_null(fig_boot_unit(b, name));
	}
	in.boot = b;
	assert_int_equal(metrics__collect(m, &in), 0);
	assert_int_equal(metrics__units_folded(m), 7);
	metrics__free(m);
	fig_state_free(&st);
}

/* ---- the textfile -------------------------------------------------------- */

static void test_textfile(void **state)
{
	char dir[] = "/tmp/rcatrace-metrics-test.XXXXXX", path[128], buf[64];
	struct stat st;
	FILE *f;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(metrics_write_textfile(dir, "a 1\n", 4), 0);
	assert_int_equal(metrics_write_textfile(dir, "b 2\n", 4), 0);
	snprintf(path, sizeof(path), "%s/rcatrace.prom", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_string_equal(buf, "b 2\n");
	/* Readable by node_exporter's user, and no temporary file left beside it. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	snprintf(path, sizeof(path), "%s/rcatrace.prom.tmp", dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	snprintf(path, sizeof(path), "%s/rcatrace.prom", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	/* A directory that does not exist: -ENOENT, nothing created. */
	assert_int_equal(metrics_write_textfile(dir, "a 1\n", 4), -ENOENT);
}

#define N_TESTS (ARRAY_SIZE(escape_cases) + ARRAY_SIZE(negotiate_cases) + 9)

int main(void)
{
	static struct CMUnitTest tests[N_TESTS];
	size_t n = 0;

#define ADD_ROWS(table, fn)                                                                   \
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)                                        \
	tests[n++] = (struct CMUnitTest){ .name = table[i].name, .test_func = fn,             \
					  .initial_state = &table[i] }
#define ADD(fn) tests[n++] = (struct CMUnitTest){ .name = #fn, .test_func = fn }

	ADD_ROWS(escape_cases, test_escape);
	ADD_ROWS(negotiate_cases, test_negotiate);
	ADD(test_small_text);
	ADD(test_small_openmetrics);
	ADD(test_collect_is_idempotent);
	ADD(test_empty);
	ADD(test_hostile_names);
	ADD(test_names_that_escape_alike);
	ADD(test_fold_into_other);
	ADD(test_default_cap);
	ADD(test_textfile);
	if (n != N_TESTS) {
		fprintf(stderr, "test table miscounted: %zu of %zu\n", n, (size_t)N_TESTS);
		return 1;
	}
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
