// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test helper: unit churn, as a host with many short-lived transient units.
 *
 *   cgroup_churn ROOT N
 *
 * N times: make ROOT/churn-I.service, run /bin/true in it (a child moves
 * itself in, then execs), wait, remove the cgroup. Prints "units N".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n, done = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: cgroup_churn ROOT N\n");
		return 2;
	}
	n = atoi(argv[2]);
	for (int i = 0; i < n; i++) {
		char dir[4096], procs[4200];
		pid_t pid;

		snprintf(dir, sizeof(dir), "%s/churn-%d.service", argv[1], i);
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
		if (mkdir(dir, 0755) && errno != EEXIST) {
			perror(dir);
			return 1;
		}
		pid = fork();
		if (pid == 0) {
			int fd = open(procs, O_WRONLY);

			if (fd < 0 || write(fd, "0", 1) != 1)
				_exit(126);
			close(fd);
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		if (pid > 0 && waitpid(pid, NULL, 0) == pid)
			done++;
		/* The exited child may linger in the cgroup a moment. */
		for (int t = 0; t < 100 && rmdir(dir); t++)
			usleep(1000);
	}
	printf("units %d\n", done);
	return 0;
}
