// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test helper: a prefork master, the shape of a web server or a PHP-FPM pool.
 * It keeps NWORKERS forked workers (no exec: they are the master's work, not
 * starts of the unit) and replaces each one that dies.
 *
 *   prefork crash|exit0 NWORKERS RESULT_FILE
 *
 * crash: each worker dies of SIGSEGV 0.5 s after its fork (a real NULL write).
 * exit0: each worker exits 0 after 2 s.
 * On SIGTERM the master stops replacing, reaps the workers still running (they
 * end by themselves), writes to RESULT_FILE
 *   "workers W segv S exit0 E other O replaced R"
 * and exits 0, so the test can hold rcatrace's counts against exact figures.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static void worker(int crash)
{
	/* Volatile both ways: the compiler may neither turn the NULL write into a
	 * trap (SIGILL) nor drop it as a dead store. */
	volatile int *volatile p = NULL;

	/* A name of its own, so the test can tell the crashing worker from the master. */
	prctl(PR_SET_NAME, "prefork-worker");
	/* No core dump: a core per crash would slow the storm and litter the disk. */
	prctl(PR_SET_DUMPABLE, 0);
	signal(SIGTERM, SIG_DFL);
	if (crash) {
		usleep(500 * 1000);
		*p = 1;
	}
	usleep(2000 * 1000);
	_exit(0);
}

static pid_t spawn(int crash)
{
	pid_t pid = fork();

	if (pid == 0)
		worker(crash);
	if (pid < 0)
		perror("prefork: fork");
	return pid;
}

int main(int argc, char **argv)
{
	unsigned long workers = 0, segv = 0, exit0 = 0, other = 0, replaced = 0;
	struct sigaction sa;
	int crash, n, alive = 0, status;
	FILE *f;

	if (argc != 4 || (strcmp(argv[1], "crash") && strcmp(argv[1], "exit0")) ||
	    (n = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: prefork crash|exit0 NWORKERS RESULT_FILE\n");
		return 2;
	}
	crash = !strcmp(argv[1], "crash");
	/* No SA_RESTART: SIGTERM must interrupt wait() so the master stops replacing. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);

	for (; alive < n; alive++, workers++)
		if (spawn(crash) < 0)
			return 1;
	while (alive > 0) {
		if (wait(&status) < 0)
			continue; /* EINTR: look at `stopping` again */
		alive--;
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
			segv++;
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			exit0++;
		else
			other++;
		if (!stopping && spawn(crash) > 0) {
			alive++;
			workers++;
			replaced++;
		}
	}
	f = fopen(argv[3], "w");
	if (!f) {
		perror(argv[3]);
		return 1;
	}
	fprintf(f, "workers %lu segv %lu exit0 %lu other %lu replaced %lu\n", workers, segv, exit0,
		other, replaced);
	return fclose(f) ? 1 : 0;
}
