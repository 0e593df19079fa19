// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A quiet machine, two ways:
 *   quiet N         one thread per CPU does N rounds of integer arithmetic and no
 *                   system call: no tracepoint fires, so what a tracer costs here
 *                   is what its own periodic work takes from busy CPUs.
 *   quiet --sleep S sleep S seconds (the idle machine the CPU footprint is read on).
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static long rounds;

static void *spin(void *arg)
{
	unsigned long long x = (unsigned long long)(long)arg + 1;

	for (long i = 0; i < rounds; i++) {
		/* xorshift: cheap, and the compiler cannot fold it away. */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return (void *)(unsigned long)(x & 1);
}

int main(int argc, char **argv)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN), failed = 0;
	pthread_t t[256];
	double t0, c0;

	if (argc > 2 && strcmp(argv[1], "--sleep") == 0) {
		long s = bench_count(argc, argv, 2, "--sleep SECONDS");

		c0 = bench_cpu_s();
	t0 = bench_now_s();
		sleep((unsigned int)s);
		bench_report("sleep", s, bench_now_s() - t0, c0, 0);
		return 0;
	}
	rounds = bench_count(argc, argv, 1, "ROUNDS | --sleep SECONDS");
	if (ncpu < 1)
		ncpu = 1;
	if (ncpu > 256)
		ncpu = 256;
	c0 = bench_cpu_s();
	t0 = bench_now_s();
	for (long i = 0; i < ncpu; i++)
		if (pthread_create(&t[i], NULL, spin, (void *)i)) {
			fprintf(stderr, "%s: cannot create a thread\n", argv[0]);
			return 1;
		}
	for (long i = 0; i < ncpu; i++)
		pthread_join(t[i], NULL);
	bench_report("quiet", rounds * ncpu, bench_now_s() - t0, c0, failed);
	return failed ? 1 : 0;
}
