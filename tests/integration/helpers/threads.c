// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Test helper: starts N threads that each exit, then exits with code 7. One process, N threads. */
#include <pthread.h>
#include <stdlib.h>

static void *worker(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 8;
	pthread_t t[64];

	if (n < 0 || n > 64)
		return 2;
	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, worker, NULL))
			return 3;
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 7;
}
