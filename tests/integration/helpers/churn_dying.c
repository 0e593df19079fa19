// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test helper: a crash loop that leaves a dying memory cgroup behind at
 * every start, as a service manager on a cgroup v1 host does when each
 * restart gets a new memory cgroup and the old one still has page cache
 * charged to it.
 *
 *   churn_dying [-a START_AT] UNIT_DIR MEMCG_DIR FILE_DIR PERIOD_MS COUNT [KIB]
 *
 * COUNT cycles, one every PERIOD_MS on a fixed schedule from START_AT (unix
 * seconds; default now). Each cycle:
 *  1. makes the memory cgroup MEMCG_DIR/run-I;
 *  2. forks a child that enters UNIT_DIR (one start of that unit) and
 *     run-I, writes KIB (default 64) KiB to FILE_DIR/f.I (page cache,
 *     charged to run-I, kept: the file stays), then execs /bin/false;
 *  3. waits for it, and removes run-I. The page cache keeps the removed
 *     cgroup from being freed: it is dying, counted by /proc/cgroups.
 * The child is a real fork(), not a vfork(): page cache is charged to the
 * memory cgroup of the owner of the writer's address space, which must be
 * the child itself.
 *
 * FILE_DIR should be on tmpfs: its pages are never written back. On a disk
 * file system (ext4 here) the kernel let some of the dying cgroups go once
 * their pages had been written back: 0.93 per cycle over 360 cycles instead
 * of 1, from ~55 s on, in bursts every 5 s.
 *
 * Prints "<unix seconds> <num_cgroups of memory in /proc/cgroups> <cycles>"
 * before the first cycle and after each one. Exits 1 (after COUNT) if a
 * cycle failed, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The child's own exit codes, told apart from /bin/false's 1. */
#define EXIT_NO_ENTRY 126
#define EXIT_NO_EXEC 127
#define EXIT_NO_WRITE 125

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

/* num_cgroups of the memory controller's hierarchy, live and dying; -1 unknown. */
static long memory_num_cgroups(void)
{
	FILE *f = fopen("/proc/cgroups", "r");
	char line[256];
	long hierarchy, num = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memory %ld %ld", &hierarchy, &num) == 2)
			break;
	fclose(f);
	return num;
}

static int enter(const char *dir)
{
	char procs[4200];
	int fd, ok;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, "0", 1) == 1;
	close(fd);
	return ok ? 0 : -1;
}

/* KIB KiB of page cache in path, charged to the caller's memory cgroup. */
static int write_file(const char *path, long kib)
{
	static char block[65536];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	memset(block, 'd', sizeof(block));
	for (long left = kib * 1024; left > 0;) {
		size_t n = left < (long)sizeof(block) ? (size_t)left : sizeof(block);

		if (write(fd, block, n) != (ssize_t)n) {
			close(fd);
			return -1;
		}
		left -= n;
	}
	return close(fd);
}

static void usage(void)
{
	fprintf(stderr, "usage: churn_dying [-a START_AT] UNIT_DIR MEMCG_DIR FILE_DIR PERIOD_MS "
			"COUNT [KIB]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *unit, *memcg, *files;
	double start = 0, period;
	long count, kib = 64, bad = 0, cycles = 0;
	int opt;

	while ((opt = getopt(argc, argv, "a:")) != -1) {
		if (opt == 'a')
			start = atof(optarg);
		else
			usage();
	}
	if (argc - optind < 5 || argc - optind > 6)
		usage();
	unit = argv[optind];
	memcg = argv[optind + 1];
	files = argv[optind + 2];
	period = atof(argv[optind + 3]) / 1000;
	count = atol(argv[optind + 4]);
	if (argc - optind == 6)
		kib = atol(argv[optind + 5]);
	if (period <= 0 || count < 0 || kib <= 0)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (start <= 0)
		start = now_s();
	sleep_until(start);
	printf("%.3f %ld %ld\n", now_s(), memory_num_cgroups(), cycles);

	for (long i = 0; i < count; i++) {
		char run[4096], file[4096];
		pid_t pid;
		int status, t;

		sleep_until(start + i * period);
		snprintf(run, sizeof(run), "%s/run-%ld", memcg, i);
		snprintf(file, sizeof(file), "%s/f.%ld", files, i);
		if (mkdir(run, 0755) && errno != EEXIST) {
			perror(run);
			return 1;
		}
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			/* The start first: the unit sees it even if the rest fails. */
			if (enter(unit) || enter(run))
				_exit(EXIT_NO_ENTRY);
			if (write_file(file, kib))
				_exit(EXIT_NO_WRITE);
			execl("/bin/false", "false", (char *)NULL);
			_exit(EXIT_NO_EXEC);
		}
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
			bad++;
		/* The reaped child may still be counted in the cgroup for a moment. */
		for (t = 0; t < 1000 && rmdir(run) && errno == EBUSY; t++)
			usleep(1000);
		if (t == 1000 || (access(run, F_OK) == 0)) {
			fprintf(stderr, "churn_dying: %s could not be removed\n", run);
			bad++;
		}
		cycles++;
		printf("%.3f %ld %ld\n", now_s(), memory_num_cgroups(), cycles);
	}
	if (bad)
		fprintf(stderr, "churn_dying: %ld of %ld cycles failed\n", bad, cycles);
	return bad ? 1 : 0;
}
