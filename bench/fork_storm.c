// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fork storm: N times fork, the child _exit(0)s at once, the parent waits. No exec. */
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	long n = bench_count(argc, argv, 1, "N"), failed = 0;
	double c0 = bench_cpu_s(), t0 = bench_now_s();

	for (long i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
			failed++;
	}
	bench_report("fork", n, bench_now_s() - t0, c0, failed);
	return failed ? 1 : 0;
}
