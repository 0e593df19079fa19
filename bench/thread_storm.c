// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Thread storm: N times pthread_create a thread that returns at once, and join it. */
#include <pthread.h>

#include "bench.h"

static void *nothing(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	long n = bench_count(argc, argv, 1, "N"), failed = 0;
	double c0 = bench_cpu_s(), t0 = bench_now_s();

	for (long i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, nothing, NULL) || pthread_join(t, NULL))
			failed++;
	}
	bench_report("thread", n, bench_now_s() - t0, c0, failed);
	return failed ? 1 : 0;
}
