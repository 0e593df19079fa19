// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `rcatrace dump`: the per-unit figures of the store, this boot's and earlier ones. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_error.h"
#include "clock.h"
#include "escape.h"
#include "events.h"
#include "commands.h"
#include "db.h"
#include "json_writer.h"
#include "options.h"
#include "report.h"
#include "store_reader.h"
#include "timeline.h"
#include "system.h"

/* The units of one boot that pass the filters, sorted by storm, then starts. */
static uint32_t select_units(const struct fig_boot *b, const struct dump_options *o,
			     const struct fig_unit **out)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < b->n_units; i++) {
		const struct fig_unit *u = &b->units[i];

		if (!options_unit_matches(o->unit_globs, o->n_unit_globs, u->name))
			continue;
		if (o->since_ms && u->last_ms < o->since_ms)
			continue;
		out[n++] = u;
	}
	qsort(out, n, sizeof(*out), report_unit_cmp);
	if (o->top && (uint32_t)o->top < n)
		n = (uint32_t)o->top;
	return n;
}

/* The boot dump describes: this machine's current one if the state has it, else the newest. */
static const struct fig_boot *pick_boot(const struct fig_state *s, const char *boot_id)
{
	const struct fig_boot *b = fig_state_find_boot(s, boot_id);

	if (!b && s->n_boots)
		b = &s->boots[s->n_boots - 1];
	return b;
}

struct findings_ctx {
	struct json_writer *w;
	const struct dump_options *o;
};

/* A finding of the boot, when it passes the filters. */
static void json_finding(void *ctx, const struct db_finding *f)
{
	struct findings_ctx *c = ctx;

	if (!options_unit_matches(c->o->unit_globs, c->o->n_unit_globs, f->unit))
		return;
	if (c->o->since_ms && f->ended_ms && f->ended_ms < c->o->since_ms)
		return;
	report_json_finding(c->w, f);
}

static double figure_num(const struct db_figure *f, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (!f[i].text && strcmp(f[i].name, name) == 0)
			return f[i].value;
	return NAN;
}

static void json_churn_link(void *ctx, const struct db_finding *f)
{
	struct findings_ctx *c = ctx;
	const struct db_figure *fig = f->n_end ? f->end : f->peak;
	uint32_t n = f->n_end ? f->n_end : f->n_peak;
	double starts = figure_num(fig, n, "starts");

	if (strcmp(f->kind, "churn_growth") != 0 ||
	    (!options_unit_matches(c->o->unit_globs, c->o->n_unit_globs, f->unit) &&
	     !options_unit_matches(c->o->unit_globs, c->o->n_unit_globs, f->subject)))
		return;
	report_json_churn_link(c->w, f->subject, f->unit, figure_num(fig, n, "kib_per_start"),
			       figure_num(fig, n, "r2"), isnan(starts) ? 0 : (uint64_t)starts,
			       figure_num(fig, n, "growth_kib"));
}

static void dump_json(struct db *db, const struct fig_state *s, const struct fig_boot *cur,
		      const struct dump_options *o, const char *machine_boot)
{
	struct findings_ctx fc = { .o = o };
	struct db_losses dl;
	const struct fig_unit **units = calloc(cur->n_units ? cur->n_units : 1, sizeof(*units));
	struct json_writer w;
	char when[40];
	uint32_t n;

	if (!units)
		return;
	n = select_units(cur, o, units);
	json_init(&w, stdout);
	json_object_begin(&w);
	json_kv_string(&w, "boot_id", cur->boot_id);
	json_kv_bool(&w, "current_boot", strcmp(cur->boot_id, machine_boot) == 0);
	json_kv_string(&w, "written", clock_format_iso8601(s->written_ms, when, sizeof(when)));
	json_kv_double(&w, "interval_s", s->interval_ms / 1000.0, 1);
	json_key(&w, "lost");
	json_object_begin(&w);
	for (int i = 0; i < RCA_LOST_KIND_MAX; i++)
		json_kv_u64(&w, report_lost_key(i), s->lost[i]);
	json_kv_u64(&w, "units_unnamed", s->units_unnamed);
	json_kv_u64(&w, "units_dropped", cur->units_dropped);
	json_kv_u64(&w, "boots_dropped", s->boots_dropped);
	json_kv_u64(&w, "oom_kills_dropped", s->ooms_dropped);
	json_kv_u64(&w, "kills_dropped", s->kills_dropped);
	db__losses(db, &dl);
	json_kv_u64(&w, "store_rows_dropped", dl.rows_dropped);
	json_kv_u64(&w, "store_write_failures", dl.write_failures);
	json_object_end(&w);
	json_key(&w, "units");
	json_array_begin(&w);
	for (uint32_t i = 0; i < n; i++)
		report_json_unit(&w, units[i], 1, s, cur->boot_id);
	json_array_end(&w);
	json_key(&w, "oom_kills");
	json_array_begin(&w);
	for (uint32_t i = 0; i < s->n_ooms; i++)
		if (options_unit_matches(o->unit_globs, o->n_unit_globs, s->ooms[i].victim.unit) &&
		    (!o->since_ms || s->ooms[i].time_ms >= o->since_ms))
			report_json_oom(&w, &s->ooms[i]);
	json_array_end(&w);
	json_key(&w, "kills");
	json_array_begin(&w);
	for (uint32_t i = 0; i < s->n_kills; i++)
		if ((options_unit_matches(o->unit_globs, o->n_unit_globs, s->kills[i].target.unit) ||
		     options_unit_matches(o->unit_globs, o->n_unit_globs, s->kills[i].sender.unit)) &&
		    (!o->since_ms || s->kills[i].time_ms >= o->since_ms))
			report_json_kill(&w, &s->kills[i]);
	json_array_end(&w);
	/* Every finding of this boot, oldest first, open or ended. */
	json_key(&w, "findings");
	json_array_begin(&w);
	fc.w = &w;
	db__each_finding(db, cur->boot_id, NULL, json_finding, &fc);
	json_array_end(&w);
	/* Churn growth: what grew per start of a storm (its figures now, or at its end). */
	json_key(&w, "churn_links");
	json_array_begin(&w);
	db__each_finding(db, cur->boot_id, NULL, json_churn_link, &fc);
	json_array_end(&w);
	/* Every boot the file knows, newest last, with its unit totals. */
	json_key(&w, "boots");
	json_array_begin(&w);
	for (uint32_t b = 0; b < s->n_boots; b++) {
		const struct fig_boot *boot = &s->boots[b];
		uint64_t starts = 0, execs = 0;

		for (uint32_t i = 0; i < boot->n_units; i++) {
			starts += boot->units[i].starts;
			execs += boot->units[i].execs;
		}
		json_object_begin(&w);
		json_kv_string(&w, "boot_id", boot->boot_id);
		json_kv_string(&w, "first_seen", clock_format_iso8601(boot->first_ms, when, sizeof(when)));
		json_kv_string(&w, "last_seen", clock_format_iso8601(boot->last_ms, when, sizeof(when)));
		json_kv_u64(&w, "units", boot->n_units);
		json_kv_u64(&w, "starts", starts);
		json_kv_u64(&w, "execs", execs);
		json_object_end(&w);
	}
	json_array_end(&w);
	json_object_end(&w);
	fputc('\n', stdout);
	free(units);
}

struct text_findings {
	const struct dump_options *o;
	uint32_t shown;
};

/* "  2026-11-29T10:00:31Z .. 10:00:44Z  LEAK SUSPECT leak.service: growing ..." */
static void text_finding(void *ctx, const struct db_finding *f)
{
	struct text_findings *c = ctx;
	char from[40], to[40], unit[512], what[512];

	if (!options_unit_matches(c->o->unit_globs, c->o->n_unit_globs, f->unit) ||
	    (c->o->since_ms && f->ended_ms && f->ended_ms < c->o->since_ms))
		return;
	if (!c->shown++)
		printf("\nFindings of this boot (oldest first; `rcatrace timeline` tells the whole story):\n");
	escape_terminal(unit, sizeof(unit), f->unit, strlen(f->unit));
	timeline_finding_summary(what, sizeof(what), f->kind, f->peak, f->n_peak);
	clock_format_iso8601(f->started_ms, from, sizeof(from));
	if (f->ended_ms)
		clock_format_iso8601(f->ended_ms, to, sizeof(to));
	else
		snprintf(to, sizeof(to), "open");
	printf("  %s .. %s  %s %s: %s\n", from, to, f->kind, unit, what);
}

static void dump_text(struct db *db, const struct fig_state *s, const struct fig_boot *cur,
		      const struct dump_options *o, const char *machine_boot)
{
	struct text_findings tf = { .o = o };
	const struct fig_unit **units;
	char when[40];
	uint64_t lost = 0;
	uint32_t n;

	for (int i = 0; i < RCA_LOST_KIND_MAX; i++)
		lost += s->lost[i];
	printf("state written %s, boot %s%s\n", clock_format_iso8601(s->written_ms, when, sizeof(when)),
	       cur->boot_id, strcmp(cur->boot_id, machine_boot) == 0 ? " (this boot)" : " (an earlier boot)");
	if (lost || s->units_unnamed)
		printf("note: %llu events lost in the kernel (ring buffer or full tables), %llu units "
		       "unnamed; see dump --json .lost\n",
		       (unsigned long long)lost, (unsigned long long)s->units_unnamed);
	units = calloc(cur->n_units ? cur->n_units : 1, sizeof(*units));
	if (!units)
		return;
	n = select_units(cur, o, units);
	putchar('\n');
	report_text_units(stdout, units, n, 1);
	free(units);
	db__each_finding(db, cur->boot_id, NULL, text_finding, &tf);
	if (s->n_ooms) {
		printf("\nOOM kills (newest last, %u kept, %llu dropped):\n", s->n_ooms,
		       (unsigned long long)s->ooms_dropped);
		for (uint32_t i = 0; i < s->n_ooms; i++) {
			char line[1024];

			events_format_oom(line, sizeof(line), &s->ooms[i]);
			printf("  %s %s\n", clock_format_iso8601(s->ooms[i].time_ms, when, sizeof(when)),
			       line);
		}
	}
	if (s->n_kills) {
		uint32_t shown = 0;

		for (uint32_t i = 0; i < s->n_kills; i++) {
			const struct fig_kill *k = &s->kills[i];
			char line[1024];

			if (strcmp(k->sender.unit, k->target.unit) == 0 && !k->by_kernel)
				continue;
			if (!shown++)
				printf("\nKills across units (newest last):\n");
			events_format_kill(line, sizeof(line), k);
			printf("  %s %s\n", clock_format_iso8601(k->time_ms, when, sizeof(when)), line);
		}
	}
	for (uint32_t b = s->n_boots; b-- > 0;) {
		const struct fig_boot *boot = &s->boots[b];

		if (boot == cur)
			continue;
		units = calloc(boot->n_units ? boot->n_units : 1, sizeof(*units));
		if (!units)
			return;
		n = select_units(boot, o, units);
		if (n) {
			printf("\nearlier boot %s (%s", boot->boot_id,
			       clock_format_iso8601(boot->first_ms, when, sizeof(when)));
			printf(" .. %s)\n", clock_format_iso8601(boot->last_ms, when, sizeof(when)));
			report_text_units(stdout, units, n, 1);
		}
		free(units);
	}
}

int cmd_dump(int argc, char **argv)
{
	struct dump_options o;
	struct fig_state s;
	struct db *db;
	const struct fig_boot *cur;
	char err[256], machine_boot[FIG_BOOT_ID_MAX] = "";
	int ret;

	switch (options_parse_dump(argc, argv, clock_now_unix_ms(), &o, err, sizeof(err))) {
	case OPTIONS_HELP:
		fputs(options_dump_usage, stdout);
		return 0;
	case OPTIONS_ERROR:
		fprintf(stderr, "rcatrace dump: %s\n\n%s", err, options_dump_usage);
		return 2;
	case OPTIONS_OK:
		break;
	}
	system_boot_id(machine_boot, sizeof(machine_boot));
	db = store_reader_open("rcatrace dump", o.state_path, o.json);
	if (!db)
		return 1;
	ret = db__load_state(db, &s);
	if (ret) {
		cli_error(o.json, "rcatrace dump", "refusing %s: cannot read it: %s", o.state_path,
			  strerror(-ret));
		db__free(db);
		return 1;
	}
	cur = pick_boot(&s, machine_boot);
	if (!cur) {
		cli_error(o.json, "rcatrace dump", "%s holds no boot yet", o.state_path);
		fig_state_free(&s);
		db__free(db);
		return 1;
	}
	if (o.json)
		dump_json(db, &s, cur, &o, machine_boot);
	else
		dump_text(db, &s, cur, &o, machine_boot);
	fflush(stdout);
	ret = ferror(stdout) ? 1 : 0;
	fig_state_free(&s);
	db__free(db);
	return ret;
}
