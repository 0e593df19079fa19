/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The figures of this boot as Prometheus metrics: the text exposition format
 * (0.0.4) and OpenMetrics 1.0, rendered into a malloc'd buffer. Pure: no
 * sockets, no threads; `metrics_server` serves what this renders and
 * `--textfile` writes it for node_exporter.
 *
 * Counters are this boot's figures, which continue from the state file across
 * a restart of `rcatrace run`; a new boot starts them afresh (Prometheus sees
 * a counter reset). At most max_units unit names appear as label values; the
 * other units are summed into unit="other" (counters and sizes summed, 0/1
 * flags as their maximum, an ETA as the soonest) and counted in
 * rcatrace_metrics_units_folded. Label values are escaped per the format and
 * invalid UTF-8 becomes U+FFFD; two names that then look alike are one series,
 * summed like "other".
 */
#ifndef RCATRACE_METRICS_H
#define RCATRACE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "figures.h"
#include "rcatrace.h"

#define METRICS_DEFAULT_MAX_UNITS 500
#define METRICS_OTHER_UNIT "other"
#define METRICS_TEXTFILE_NAME "rcatrace.prom"

enum metrics_format {
	METRICS_TEXT = 0,	 /* text/plain; version=0.0.4 */
	METRICS_OPENMETRICS = 1, /* application/openmetrics-text; version=1.0.0 */
};

/* A churn-growth link standing now: growing grows kib_per_start per start of storm. */
struct metrics_churn_link {
	const char *storm, *growing; /* stored names ("MACHINE:unit" for a machine's) */
	double per_start;	     /* KiB, or a count for kernel:dying_cgroups */
	int count;
};

struct metrics_input {
	const struct fig_boot *boot;   /* this boot's units; NULL: none yet */
	const struct fig_state *state; /* for the OOM records' constraint; may be NULL */
	const uint64_t *lost;	       /* [RCA_LOST_KIND_MAX], all runs; NULL: zeros */
	uint64_t units_unnamed;	       /* all runs */
	uint32_t max_units;	       /* 0: METRICS_DEFAULT_MAX_UNITS */
	int64_t now_ms;		       /* unix ms of the sample; 0: not exported */
	const char *version;	       /* rcatrace_build_info{version} */
	const struct metrics_churn_link *links; /* rcatrace_churn_growth_*_per_start */
	uint32_t n_links;
};

struct metrics;

struct metrics *metrics__new(void);
void metrics__free(struct metrics *m);
/* Turns the figures into samples (kept until the next collect). 0 or -ENOMEM. */
int metrics__collect(struct metrics *m, const struct metrics_input *in);
/* The samples in one format, NUL-terminated, into *ret_buf (free() it). 0 or -ENOMEM. */
int metrics__render(const struct metrics *m, enum metrics_format fmt, char **ret_buf,
		    size_t *ret_len);
/* Units of the last collect whose figures went into unit="other". */
uint32_t metrics__units_folded(const struct metrics *m);

/* The Content-Type header of a format. */
const char *metrics_content_type(enum metrics_format fmt);
/*
 * The format a scraper asked for in its Accept header (NULL: none): OpenMetrics
 * when it lists application/openmetrics-text with a q above 0, as Prometheus
 * does, else the text format.
 */
enum metrics_format metrics_negotiate(const char *accept);

/*
 * A label value body (no quotes) into dst: \ " and newline escaped, each
 * invalid UTF-8 byte replaced by U+FFFD. Always NUL-terminates (size > 0) and
 * cuts on a character boundary. Returns the length written.
 */
size_t metrics_escape_label(char *dst, size_t size, const char *src);

/*
 * Writes buf to DIR/rcatrace.prom (mode 0644) atomically, through
 * atomic_file_write(): DIR/rcatrace.prom.tmp, fsync, rename, fsync of DIR; a
 * reader sees the old file or the new one, never half of one. 0 or -errno
 * (the temporary file is removed; -ENOENT when DIR does not exist).
 */
int metrics_write_textfile(const char *dir, const char *buf, size_t len);

#endif
