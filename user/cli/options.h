/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Command-line options of `rcatrace run` and `rcatrace dump`, parsed without side effects. */
#ifndef RCATRACE_OPTIONS_H
#define RCATRACE_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#define OPTIONS_MAX_UNIT_GLOBS 16
#define RCATRACE_DEFAULT_STATE "/var/lib/rcatrace/rcatrace.db"

/* Where --metrics-listen binds: a numeric address, so parsing needs no resolver. */
struct listen_address {
	int family;    /* AF_INET or AF_INET6 */
	char host[46]; /* INET6_ADDRSTRLEN */
	uint16_t port; /* 0: a free port the kernel picks */
};

/*
 * "9464" and ":9464" -> 127.0.0.1:9464; "ADDR:PORT" with a dotted IPv4
 * address or "localhost"; "[V6]:PORT" for IPv6. 0, or -EINVAL.
 */
int options_parse_listen(const char *arg, struct listen_address *ret);

struct run_options {
	int json;
	int verbose;
	int64_t duration_ms;       /* 0: until Ctrl-C / SIGTERM */
	int64_t interval_ms;       /* table / stats refresh, default 1000 */
	int64_t state_interval_ms; /* totals written and the store fsynced, default 10000 */
	const char *state_path;    /* the store; NULL with no_state */
	uint64_t max_db_bytes;     /* --max-db-size, default 256 MiB */
	int64_t retain_ms;         /* --retain, default 90 days */
	int no_state;
	const char *unit_globs[OPTIONS_MAX_UNIT_GLOBS];
	int n_unit_globs;
	uint32_t ringbuf_bytes; /* power of two, >= page size */
	uint32_t max_units;
	uint64_t kill_signals;    /* bit n: record signal n; 0 = the default fatal set */
	int64_t growth_window_ms; /* memory growth fit window, default 300000 */
	const char *metrics_listen;	    /* NULL: no HTTP endpoint */
	struct listen_address metrics_addr; /* parsed metrics_listen */
	const char *textfile_dir;	    /* NULL: no textfile */
	uint32_t metrics_max_units;	    /* units named in the metrics, default 500 */
};

/* "1048576", "64M", "1G", "512KiB" (powers of 1024) -> bytes. 0, or -EINVAL. */
int options_parse_size(const char *s, uint64_t *ret);

/* "TERM,KILL,9,SIGSEGV" -> bit mask. 0, or -EINVAL naming nothing valid. */
int options_parse_signals(const char *list, uint64_t *ret_mask);

struct dump_options {
	int json;
	const char *state_path;
	const char *unit_globs[OPTIONS_MAX_UNIT_GLOBS];
	int n_unit_globs;
	int top;            /* 0: all */
	int64_t since_ms;   /* unix ms; 0: no limit */
	const char *since_arg;
};

/* The history readers: `timeline`, `history` and `report`. */
enum read_command {
	READ_TIMELINE,
	READ_HISTORY,
	READ_REPORT,
};

struct read_options {
	int json;	      /* timeline, history */
	const char *state_path;
	const char *unit_globs[OPTIONS_MAX_UNIT_GLOBS];
	int n_unit_globs;
	int64_t since_ms, until_ms; /* unix ms; 0: no limit */
	const char *html_path;	    /* report: --html FILE (required) */
	int top;		    /* report: units drawn beside those with findings (default 8) */
};

/* Outcome of parsing: run the command, print help and exit 0, or usage error (exit 2). */
enum options_result {
	OPTIONS_OK = 0,
	OPTIONS_HELP = 1,
	OPTIONS_ERROR = 2,
};

/* On OPTIONS_ERROR, err holds one line saying what is wrong. now_ms anchors --since. */
enum options_result options_parse_run(int argc, char **argv, struct run_options *ret,
				      char *err, size_t errlen);
enum options_result options_parse_dump(int argc, char **argv, int64_t now_ms,
				       struct dump_options *ret, char *err, size_t errlen);

enum options_result options_parse_read(enum read_command cmd, int argc, char **argv,
				       int64_t now_ms, struct read_options *ret, char *err,
				       size_t errlen);
/* The usage text of a history reader. */
const char *options_read_usage(enum read_command cmd);

/* 1 if name matches one of the globs (or there are none). */
int options_unit_matches(const char *const *globs, int n, const char *name);

extern const char options_run_usage[];
extern const char options_dump_usage[];
extern const char options_main_usage[];

#endif
