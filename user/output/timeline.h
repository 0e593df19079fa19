/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `rcatrace timeline`: what the store holds, as one story in time order:
 * boots, findings starting and ending, OOM kills, kills across units. The
 * command reads them from the store; this module keeps copies, orders them
 * and writes them as text or as one JSON document.
 */
#ifndef RCATRACE_TIMELINE_H
#define RCATRACE_TIMELINE_H

#include <stdint.h>
#include <stdio.h>

#include "db.h"
#include "figures.h"

struct timeline;

struct timeline *timeline__new(void);
void timeline__free(struct timeline *t);

/* Each copies what it is given. 0 or -ENOMEM. */
int timeline__add_boot(struct timeline *t, const char *boot_id, int64_t first_ms);
int timeline__add_finding(struct timeline *t, const struct db_finding *f);
int timeline__add_oom(struct timeline *t, const struct fig_oom *o);
int timeline__add_kill(struct timeline *t, const struct fig_kill *k);

/* Events kept in [since_ms, until_ms] (0: open); a finding open in it gives its start and end within it. */
void timeline__set_range(struct timeline *t, int64_t since_ms, int64_t until_ms);

/*
 * {"events": [{"time", "kind", "unit", "machine", ...}], "findings": [...]}.
 * kind: "boot", "finding_started", "finding_ended", "oom_kill", "kill". A
 * finding event carries the finding's keys ("finding", "executable",
 * "started") and its figures flattened: at the start for "finding_started",
 * at the peak for "finding_ended" (with "duration_s" and "at_end", the figures
 * at its end). "findings": each one
 * as `dump --json` shows it. Returns -ENOMEM or 0.
 */
int timeline__write_json(struct timeline *t, FILE *f);
/* One line per event, oldest first, every name escaped. -ENOMEM or 0. */
int timeline__write_text(struct timeline *t, FILE *f);

/*
 * One line saying what a finding was, from its figures: "growing 2048.0
 * KiB/s (R² 1.00 over 39 s), rss 81.5 MiB", "51 starts in the window (51
 * failed), every 110 ms; 51 starts in all", ...
 */
void timeline_finding_summary(char *dst, size_t size, const char *kind, const struct db_figure *fig,
			      uint32_t n);

#endif
