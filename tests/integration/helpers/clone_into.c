// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test helper: a supervisor that stays outside the unit and starts each child
 * straight into the unit's cgroup with clone3(CLONE_INTO_CGROUP), the way
 * systemd >= 254 and container runtimes do. No process ever writes to
 * cgroup.procs, so a tracer that only watches cgroup migrations misses these
 * starts.
 *
 *   clone_into CGROUP_DIR N PERIOD_MS PROGRAM [ARG...]
 *
 * Starts PROGRAM N times, one start every PERIOD_MS on a fixed schedule (so
 * the period does not drift with the child's run time), waiting for each
 * child. Prints
 *   "starts N first T0 last T1 exit_code C:n ..."
 * with T0/T1 the CLOCK_REALTIME seconds of the first and last clone3.
 * Exits 77 when the kernel has no clone3 or no CLONE_INTO_CGROUP.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

static double realtime_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct clone_args args;
	struct timespec next;
	double first = 0, last = 0;
	unsigned long codes[256] = { 0 }, other = 0;
	int cg, n, period_ms, status;

	if (argc < 5 || (n = atoi(argv[2])) < 1 || (period_ms = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: clone_into CGROUP_DIR N PERIOD_MS PROGRAM [ARG...]\n");
		return 2;
	}
	cg = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		perror(argv[1]);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (int i = 0; i < n; i++) {
		double t;
		pid_t pid;

		memset(&args, 0, sizeof(args));
		args.flags = CLONE_INTO_CGROUP;
		args.exit_signal = SIGCHLD;
		args.cgroup = cg;
		t = realtime_s();
		pid = syscall(SYS_clone3, &args, sizeof(args));
		if (pid == 0) {
			execv(argv[4], argv + 4);
			_exit(127);
		}
		if (pid < 0) {
			/* ENOSYS: no clone3; E2BIG/EINVAL: a kernel before CLONE_INTO_CGROUP (5.7). */
			if (i == 0 && (errno == ENOSYS || errno == E2BIG || errno == EINVAL)) {
				fprintf(stderr, "clone_into: clone3 with CLONE_INTO_CGROUP unavailable: %s\n",
					strerror(errno));
				return 77;
			}
			perror("clone_into: clone3");
			return 1;
		}
		if (i == 0)
			first = t;
		last = t;
		if (waitpid(pid, &status, 0) < 0) {
			perror("clone_into: waitpid");
			return 1;
		}
		if (WIFEXITED(status))
			codes[WEXITSTATUS(status)]++;
		else
			other++;
		next.tv_nsec += period_ms % 1000 * 1000000L;
		next.tv_sec += period_ms / 1000 + next.tv_nsec / 1000000000L;
		next.tv_nsec %= 1000000000L;
		if (i + 1 < n)
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
				;
	}
	printf("starts %d first %.6f last %.6f exit_code", n, first, last);
	for (int c = 0; c < 256; c++)
		if (codes[c])
			printf(" %d:%lu", c, codes[c]);
	if (other)
		printf(" other:%lu", other);
	printf("\n");
	return 0;
}
