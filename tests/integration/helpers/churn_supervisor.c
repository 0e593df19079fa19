// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test helper: a supervisor that respawns a failing child into another unit
 * and pays for every respawn, like a service manager that keeps per-restart
 * state forever (systemd #15220, #37939, #40346).
 *
 *   churn_supervisor [-k] [-a START_AT] UNIT_DIR PERIOD_MS LEAK_KIB COUNT [COMMAND ARG...]
 *
 * COUNT times, one every PERIOD_MS on a fixed schedule from START_AT (unix
 * seconds; default now): a child moves itself into UNIT_DIR (writes to its
 * cgroup.procs) and execs COMMAND (an absolute path; default /bin/false),
 * and the supervisor keeps LEAK_KIB of touched memory it never frees. So its
 * VmRSS grows by LEAK_KIB per respawn and by nothing else. With -k it stays
 * after the last respawn, holding what it leaked, until killed; else it exits.
 *
 * The child is made with vfork(): it shares the supervisor's address space
 * until its exec, so no copy of the leak is ever counted twice (a fork()ed
 * child holds the parent's whole RSS in its own counters for a moment, a
 * spike of twice the supervisor's memory that a sample may catch).
 *
 * Prints "<unix seconds> <VmRSS KiB> <respawns>" before the first respawn
 * and after each one. Exits 1 (after COUNT) if a child could not enter the
 * unit or exec its command, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The child's own exit codes: it could not enter the unit, or not exec. */
#define EXIT_NO_ENTRY 126
#define EXIT_NO_EXEC 127

/*
 * Every leaked block is chained from here: reachable memory the compiler
 * cannot prove unused, so the touching is never optimised away.
 */
static void *volatile leaked;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	double d;

	while ((d = t - now_s()) > 0) {
		struct timespec ts = { (time_t)d, (long)((d - (time_t)d) * 1e9) };

		nanosleep(&ts, NULL);
	}
}

static long vm_rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * Starts cmd in the unit whose cgroup.procs is procs; the child's pid, or -1.
 * The child only makes system calls and never returns from here, as
 * vfork() requires; the parent goes on once the child has exec'd or exited.
 */
static __attribute__((noinline)) pid_t spawn_into(const char *procs, char *const *cmd)
{
	pid_t pid = vfork();

	if (pid == 0) {
		int fd = open(procs, O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(EXIT_NO_ENTRY);
		close(fd);
		execv(cmd[0], cmd);
		_exit(EXIT_NO_EXEC);
	}
	return pid;
}

static void usage(void)
{
	fprintf(stderr, "usage: churn_supervisor [-k] [-a START_AT] UNIT_DIR PERIOD_MS LEAK_KIB COUNT "
			"[COMMAND ARG...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static char *default_cmd[] = { "/bin/false", NULL };
	char procs[4096], **cmd = default_cmd;
	double start = 0, period;
	long leak_kib, count, respawns = 0, bad = 0;
	int keep = 0, opt;

	/* "+": options end at UNIT_DIR, so COMMAND's own options are left alone. */
	while ((opt = getopt(argc, argv, "+ka:")) != -1) {
		if (opt == 'k')
			keep = 1;
		else if (opt == 'a')
			start = atof(optarg);
		else
			usage();
	}
	if (argc - optind < 4)
		usage();
	period = atof(argv[optind + 1]) / 1000;
	leak_kib = atol(argv[optind + 2]);
	count = atol(argv[optind + 3]);
	if (argc - optind > 4)
		cmd = argv + optind + 4;
	if (period <= 0 || leak_kib < 0 || count < 0 || cmd[0][0] != '/')
		usage();
	/* Made before vfork(): the child does nothing but system calls. */
	if (snprintf(procs, sizeof(procs), "%s/cgroup.procs", argv[optind]) >= (int)sizeof(procs))
		usage();
	if (access(procs, W_OK)) {
		perror(procs);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (start <= 0)
		start = now_s();
	sleep_until(start);
	printf("%.3f %ld %ld\n", now_s(), vm_rss_kib(), respawns);

	for (long i = 0; i < count; i++) {
		pid_t pid;
		int status;

		sleep_until(start + i * period);
		pid = spawn_into(procs, cmd);
		if (pid < 0) {
			perror("vfork");
			return 1;
		}
		/* The cost of this respawn, kept for good: touched, never freed. */
		if (leak_kib > 0) {
			char *p = malloc((size_t)leak_kib * 1024);

			if (!p) {
				perror("malloc");
				return 1;
			}
			memset(p, 0x5a, (size_t)leak_kib * 1024);
			*(void **)p = leaked;
			leaked = p;
		}
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		respawns++;
		if (WIFEXITED(status) &&
		    (WEXITSTATUS(status) == EXIT_NO_ENTRY || WEXITSTATUS(status) == EXIT_NO_EXEC))
			bad++;
		printf("%.3f %ld %ld\n", now_s(), vm_rss_kib(), respawns);
	}
	if (bad)
		fprintf(stderr, "churn_supervisor: %ld of %ld children did not enter %s or exec %s\n",
			bad, respawns, argv[optind], cmd[0]);
	if (keep)
		for (;;)
			pause();
	return bad ? 1 : 0;
}
