/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `rcatrace report --html`: one self-contained HTML page (inline SVG and CSS,
 * no script, nothing fetched) drawn from the store's history: the machine's
 * memory, then a chart per unit of resident memory and starts per minute on
 * one time axis, findings shaded where they were open, OOM kills and kills
 * marked.
 */
#ifndef RCATRACE_HTML_REPORT_H
#define RCATRACE_HTML_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "db.h"

/* A finding as an interval on the time axis. */
struct html_finding {
	const char *kind;  /* "respawn_storm", "leak_suspect", ... */
	const char *unit;  /* stored name ("MACHINE:unit" for a machine's unit) */
	int64_t started_ms;
	int64_t ended_ms;  /* 0: still open (drawn to the end of the axis) */
	const char *label; /* one line: "leak suspect 2048 KiB/s, peak 83 MiB" */
};

/* A moment marked on the axis: an OOM kill or a kill. */
struct html_mark {
	const char *kind; /* "oom_kill" or "kill" */
	const char *unit; /* the unit it happened to (the victim, the target) */
	int64_t t_ms;
	const char *label; /* one line: "OOM kill of leaky (pid 4242)" */
};

/* One unit's chart: its series (one boot; counters cumulative). */
struct html_unit {
	const char *unit;
	const struct db_point *p;
	uint32_t n;
};

struct html_report {
	const char *title;    /* "rcatrace report: host web1" */
	const char *subtitle; /* "boot 3f2a..., 10:00:31 to 10:12:02 UTC" */
	int64_t from_ms, to_ms; /* the time axis, shared by every chart */
	/* The machine's used memory (MemTotal - MemAvailable), KiB, in time order; may be empty. */
	const int64_t *machine_t_ms;
	const uint64_t *machine_used_kib;
	uint32_t n_machine;
	const struct html_unit *units;
	uint32_t n_units;
	const struct html_finding *findings;
	uint32_t n_findings;
	const struct html_mark *marks;
	uint32_t n_marks;
};

/* Writes the page. Every string is escaped for HTML. 0 or -errno (a write error). */
int html_report_write(FILE *f, const struct html_report *r);

#endif
