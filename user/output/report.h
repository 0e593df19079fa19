/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* How unit figures are written: the JSON unit objects (dump, run summary) and the text table. */
#ifndef RCATRACE_REPORT_H
#define RCATRACE_REPORT_H

#include <stdio.h>

#include "db.h"
#include "figures.h"
#include "json_writer.h"

/* {"1": 421490, ...} for kind RCA_STATUS_CODE or RCA_STATUS_SIGNAL, summed over exes. */
void report_json_status(struct json_writer *w, const struct fig_exe *exes, uint32_t n_exes,
			uint32_t kind);

/* The figures of one executable as a JSON object. */
void report_json_exe(struct json_writer *w, const struct fig_exe *e);

/*
 * One unit as a JSON object: "unit", "starts", "exits", "exits_failed",
 * "period_ms", "period_stdev_ms", "lifetime_ms", "exit_codes", "signals",
 * "storm", "first_seen", "last_seen", "executables" (when with_exes), and
 * "boots" (the same unit in earlier boots) when earlier is non-NULL.
 */
void report_json_unit(struct json_writer *w, const struct fig_unit *u, int with_exes,
		      const struct fig_state *earlier, const char *current_boot_id);

/* {"pid", "comm", "unit"} under key. */
void report_json_proc_ref(struct json_writer *w, const char *key, const struct fig_proc_ref *p);
/* The fields of an OOM / a kill record, inside an object the caller opened (run adds "type"). */
void report_json_oom_fields(struct json_writer *w, const struct fig_oom *o);
void report_json_kill_fields(struct json_writer *w, const struct fig_kill *k);
/*
 * A churn-growth link: {"storm_unit", "storm_machine", "growing_unit",
 * "growing_machine", "kib_per_start", "r2", "starts", "growth_kib"} (dump's
 * churn_links, an OOM record's; r2 NaN: null; growing "": null).
 */
void report_json_churn_link(struct json_writer *w, const char *storm, const char *growing,
			    double kib_per_start, double r2, uint64_t starts, double growth_kib);
/* "churn_links": the storms running when memory ran out, and what grew with them. */
void report_json_oom_churn(struct json_writer *w, const struct fig_oom *o);
/* An OOM record / a kill record as a JSON object (dump). */
void report_json_oom(struct json_writer *w, const struct fig_oom *o);
void report_json_kill(struct json_writer *w, const struct fig_kill *k);

/* The main executable of a unit: the one with the most starts (NULL if none). */
const struct fig_exe *report_main_exe(const struct fig_unit *u);
/* 1 if the unit needs attention: a storm, a fork storm, a leak suspect or an OOM kill. */
int report_unit_alarm(const struct fig_unit *u);
/* 1 if any executable of the unit is in a storm now. */
int report_unit_storm(const struct fig_unit *u);

/* "0:50 1:50 SIGKILL:1" into dst (escaping not needed: numbers only). */
void report_format_status(char *dst, size_t size, const struct fig_unit *u);

/* The JSON key of a lost-counter kind ("ringbuf_exec", ...). */
const char *report_lost_key(int kind);

/* Signal name without "SIG" ("KILL"), or the number. */
const char *report_signal_name(uint32_t sig, char *buf, size_t size);
/* "unit" and "machine" (null on the host) of a unit named "MACHINE:unit" or "unit". */
void report_json_unit_name(struct json_writer *w, const char *name);

/* {"name": value or "text", ...} under key: a finding's figures. */
void report_json_figures(struct json_writer *w, const char *key, const struct db_figure *f,
			 uint32_t n);
/*
 * A finding as an interval (dump, timeline): "finding", "unit", "machine",
 * "executable" (respawn storms, else null), "started", "ended" (null while
 * open), "at_start", "at_peak" and "at_end" (its figures; at_end null while open). _fields: inside an object
 * the caller opened.
 */
void report_json_finding_fields(struct json_writer *w, const struct db_finding *f);
void report_json_finding(struct json_writer *w, const struct db_finding *f);

/* "STORM,LEAK,FORK,OOM" (those that apply) or "-". */
void report_format_alerts(char *dst, size_t size, const struct fig_unit *u);
/* qsort comparator over const struct fig_unit *: alarms first, then starts, then memory. */
int report_unit_cmp(const void *a, const void *b);

/* Prints the text table of a boot's units (sorted by starts), the unit name escaped. */
void report_text_units(FILE *f, const struct fig_unit *const *units, uint32_t n, int wide);

#endif
