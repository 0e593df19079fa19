// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test helper: a bounded fork storm. For SECONDS it forks children that live
 * CHILD_MS and exit, reaping as it goes, and counts forks that worked and
 * forks refused with EAGAIN (pids.max). Prints "ok N eagain M other K".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5, end;
	int child_ms = argc > 2 ? atoi(argv[2]) : 50;
	unsigned long ok = 0, eagain = 0, other = 0;

	end = now_s() + secs;
	while (now_s() < end) {
		pid_t pid = fork();

		if (pid == 0) {
			usleep(child_ms * 1000);
			_exit(0);
		} else if (pid > 0) {
			ok++;
		} else if (errno == EAGAIN) {
			eagain++;
			usleep(2000);
		} else {
			other++;
			usleep(2000);
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	while (wait(NULL) > 0)
		;
	printf("ok %lu eagain %lu other %lu\n", ok, eagain, other);
	return 0;
}
