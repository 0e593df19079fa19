/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared by the benchmark workloads: each does a fixed amount of work, times
 * only that work (CLOCK_MONOTONIC, so start-up and the tracer's attach are
 * not in the figure) and the CPU it used (user + system, its own and its
 * reaped children's: what a tracer's programs add in the kernel shows here,
 * and other load on the machine much less than in wall time). One JSON line:
 *   {"workload":"spawn","ops":2000,"seconds":1.234567,"cpu_s":1.1,"failed":0}
 */
#ifndef RCATRACE_BENCH_H
#define RCATRACE_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>

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

/* CPU seconds used so far by this process and its reaped children. */
static inline double bench_cpu_s(void)
{
	struct rusage self, children;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &children);
	return self.ru_utime.tv_sec + self.ru_stime.tv_sec + children.ru_utime.tv_sec +
	       children.ru_stime.tv_sec +
	       (self.ru_utime.tv_usec + self.ru_stime.tv_usec + children.ru_utime.tv_usec +
		children.ru_stime.tv_usec) / 1e6;
}

/* Call with the bench_cpu_s() taken when the work started. */
static inline void bench_report(const char *workload, long ops, double seconds, double cpu0,
				long failed)
{
	printf("{\"workload\":\"%s\",\"ops\":%ld,\"seconds\":%.6f,\"cpu_s\":%.6f,\"failed\":%ld}\n",
	       workload, ops, seconds, bench_cpu_s() - cpu0, failed);
	fflush(stdout);
}

#endif /* RCATRACE_BENCH_H */
