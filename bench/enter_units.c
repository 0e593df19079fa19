// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * enter_units DIR N: N transient units, as systemd makes them: for each,
 * DIR/uI.service is made and a child moves itself into it and execs
 * /bin/true. The cgroups stay (the bench removes them), so every unit keeps
 * its rows in the kernel: the worst case for a sample.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc == 3 ? atoi(argv[2]) : 0;

	if (n < 1) {
		fprintf(stderr, "usage: enter_units DIR N\n");
		return 2;
	}
	for (int i = 1; i <= n; i++) {
		char dir[4096], procs[4200];
		pid_t pid;

		snprintf(dir, sizeof(dir), "%s/u%d.service", argv[1], i);
		if (mkdir(dir, 0755) && errno != EEXIST) {
			perror(dir);
			return 1;
		}
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			FILE *f = fopen(procs, "w");

			if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f))
				_exit(126);
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, NULL, 0) < 0)
			return 1;
	}
	return 0;
}
