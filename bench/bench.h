/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared by the benchmark workloads: each does a fixed amount of work, times
 * only that work (CLOCK_MONOTONIC, so start-up and the tracer's attach are
 * not in the figure) and prints one JSON line:
 *   {"workload":"spawn","ops":2000,"seconds":1.234567,"failed":0}
 */
#ifndef RCATRACE_BENCH_H
#define RCATRACE_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* argv[i] as a positive count, or exits 2 with a usage message. */
static inline long bench_count(int argc, char **argv, int i, const char *usage)
{
	char *end;
	long v;

	if (argc <= i) {
		fprintf(stderr, "usage: %s %s\n", argv[0], usage);
		exit(2);
	}
	v = strtol(argv[i], &end, 10);
	if (*end || v <= 0) {
		fprintf(stderr, "%s: '%s' is not a positive count\nusage: %s %s\n", argv[0], argv[i],
			argv[0], usage);
		exit(2);
	}
	return v;
}

static inline void bench_report(const char *workload, long ops, double seconds, long failed)
{
	printf("{\"workload\":\"%s\",\"ops\":%ld,\"seconds\":%.6f,\"failed\":%ld}\n", workload, ops,
	       seconds, failed);
	fflush(stdout);
}

#endif /* RCATRACE_BENCH_H */
