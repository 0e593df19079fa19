/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What `run` says as things happen: exec and exit lines, findings, OOM kills
 * and kills; JSON lines on stdout (json) or one line each on stderr.
 */
#ifndef RCATRACE_EVENTS_H
#define RCATRACE_EVENTS_H

#include <stddef.h>

#include "db.h"
#include "figures.h"
#include "json_writer.h"
#include "record.h"
#include "unit_resolver.h"
#include "unit_table.h"

struct events;

struct events_opts {
	int json;
	struct json_writer *w;    /* stdout's, for json */
	double respawn_window_s;  /* the detectors' windows, for the words of a finding */
	double crash_window_s;
};

struct events *events__new(const struct events_opts *o);
void events__free(struct events *e);

/* An exec or exit record (JSON only), its unit named by the caller. */
void events_exec_exit(struct events *e, const struct rca_event *ev, const char *unit);
/* A finding that started or ended. */
void events_finding(struct events *e, const struct unit_table_finding *f);
/* An OOM kill; on_disk: it is in the store already. */
void events_oom(struct events *e, const struct fig_oom *o, int on_disk);
/* A kill; in text only when it crosses units. */
void events_kill(struct events *e, const struct fig_kill *k, int cross_unit);

/* What the stats line says every interval (JSON only). */
struct events_stats {
	int64_t now_ms;
	const uint64_t *lost; /* RCA_LOST_KIND_MAX kernel-side losses */
	uint64_t records, records_invalid;
	uint32_t units;
	double sample_ms;
	int state_saved;
	int has_store;
	struct unit_resolver_stats resolver;
	struct unit_table_stats model;
	struct db_losses store;
};
void events_stats(struct events *e, const struct events_stats *st);

/* The summary at exit: the boot's units matching the globs, what matters most first. */
void events_summary(struct events *e, const struct fig_boot *boot, const char *const *globs,
		    int n_globs);

/* The one-line texts `run` and `dump` share (escaped for a terminal). */
void events_format_oom(char *dst, size_t size, const struct fig_oom *o);
void events_format_kill(char *dst, size_t size, const struct fig_kill *k);

#endif
