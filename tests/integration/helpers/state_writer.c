// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test helper for the state file's crash safety.
 *
 *   state_writer crashtest N FILE
 *
 * N times: fork a writer that rewrites FILE through state_file_save() as fast
 * as it can (the counter of unit "crash.service" going up by one per save)
 * and acknowledges each save on a pipe once it has returned; SIGKILL it after
 * a random 0-10 ms; then load FILE with state_file_load() (the reader `dump`
 * uses) and check it is whole and holds the last acknowledged save or the one
 * after it. Every 100th file is kept as FILE.snapK for `rcatrace dump`.
 * Prints "kills N whole W bad B saves S".
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "figures.h"
#include "state_file.h"

static void writer(const char *path, unsigned long long from, int ack_fd)
{
	struct fig_state s;
	struct fig_unit *u;
	struct fig_boot *b;

	fig_state_init(&s);
	b = fig_state_boot(&s, "crash-test-boot");
	u = b ? fig_boot_unit(b, "crash.service") : NULL;
	if (!u)
		_exit(1);
	for (unsigned long long i = from + 1;; i++) {
		u->execs = i;
		if (state_file_save(path, &s))
			_exit(1);
		if (write(ack_fd, &i, sizeof(i)) != sizeof(i))
			_exit(1);
	}
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (out < 0) {
		close(in);
		return -errno;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			break;
	close(in);
	close(out);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long acked = 0, saves = 0;
	int kills, whole = 0, bad = 0;
	const char *path;

	if (argc != 4 || strcmp(argv[1], "crashtest") != 0)
		return 2;
	kills = atoi(argv[2]);
	path = argv[3];
	srand((unsigned)getpid());
	for (int k = 0; k < kills; k++) {
		unsigned long long ack, last = acked, got;
		struct fig_state s;
		char err[256];
		int fds[2], ret;
		pid_t pid;

		if (pipe(fds))
			return 1;
		pid = fork();
		if (pid == 0) {
			close(fds[0]);
			writer(path, acked, fds[1]);
		}
		close(fds[1]);
		usleep((useconds_t)(rand() % 10000));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		while (read(fds[0], &ack, sizeof(ack)) == sizeof(ack))
			last = ack;
		close(fds[0]);

		ret = state_file_load(path, &s, err, sizeof(err));
		if (ret == -ENOENT && last == 0) {
			whole++; /* killed before its first save: no file is the truth */
			continue;
		}
		if (ret < 0) {
			fprintf(stderr, "kill %d: %s (last acknowledged %llu)\n", k, err, last);
			bad++;
			continue;
		}
		got = s.n_boots && s.boots[0].n_units ? s.boots[0].units[0].execs : 0;
		fig_state_free(&s);
		if (got < last || got > last + 1) {
			fprintf(stderr, "kill %d: file holds %llu, last acknowledged %llu\n", k, got, last);
			bad++;
		} else {
			whole++;
		}
		saves += got - acked;
		acked = got;
		if (k % 100 == 99) {
			char snap[4096];

			snprintf(snap, sizeof(snap), "%s.snap%d", path, k / 100);
			copy_file(path, snap);
		}
	}
	printf("kills %d whole %d bad %d saves %llu\n", kills, whole, bad, saves);
	return bad ? 1 : 0;
}
