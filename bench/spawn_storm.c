// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Spawn storm: N times fork, exec PROGRAM (the static `true` the benchmark
 * builds), wait. Each spawn is one fork, one exec and one process exit.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	const char *usage = "N PROGRAM";
	long n = bench_count(argc, argv, 1, usage), failed = 0;
	char *child_argv[2];
	double t0, c0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s %s\n", argv[0], usage);
		return 2;
	}
	child_argv[0] = argv[2];
	child_argv[1] = NULL;
	c0 = bench_cpu_s();
	t0 = bench_now_s();
	for (long i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid == 0) {
			execv(argv[2], child_argv);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			failed++;
	}
	bench_report("spawn", n, bench_now_s() - t0, c0, failed);
	return failed ? 1 : 0;
}
