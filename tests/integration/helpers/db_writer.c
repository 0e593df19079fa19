// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test helper for the store's crash safety, and a query tool for the tests.
 *
 *   db_writer crashtest N FILE
 *
 * N times: fork a writer that opens FILE with db__open() and commits samples
 * through db__add_sample_series() as fast as it can (unit "crash.service",
 * sample i at t_ms = i with execs = i), the totals through db__save_state()
 * every 10th, housekeeping every 50th, and acknowledges each sample on a pipe
 * once its commit has returned; SIGKILL it after a random 0-20 ms (during its
 * open, its upgrade, a commit or a checkpoint); then open FILE as `dump` does
 * (DB_READ: PRAGMA quick_check) and check it holds every acknowledged sample:
 * samples 1..max all there, max >= the last acknowledged. The next writer
 * goes on from max. Every 100th database is copied to FILE.snapK (with its
 * WAL) for `rcatrace dump`. Prints "kills N whole W bad B samples S".
 *
 *   db_writer query FILE SQL
 *
 * Prints the first column of each row of SQL (the tests need no sqlite3 CLI).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "figures.h"

static void writer(const char *path, long long from, int ack_fd)
{
	struct fig_state s;
	struct fig_boot *b;
	struct fig_unit *u;
	char err[256];
	struct db *db;

	fig_state_init(&s);
	b = fig_state_boot(&s, "crash-test-boot");
	u = b ? fig_boot_unit(b, "crash.service") : NULL;
	if (!u)
		_exit(1);
	db = db__open(path, DB_WRITE, NULL, err, sizeof(err));
	if (!db) {
		fprintf(stderr, "writer: %s\n", err);
		_exit(1);
	}
	for (long long i = from + 1;; i++) {
		u->execs = (uint64_t)i;
		b->last_ms = i;
		if (db__add_sample_series(db, b, i))
			_exit(1);
		if (write(ack_fd, &i, sizeof(i)) != sizeof(i))
			_exit(1);
		if (i % 10 == 0 && db__save_state(db, &s, i % 20 == 0))
			_exit(1);
		if (i % 50 == 0 && db__maintain(db, i))
			_exit(1);
	}
}

static int query(const char *path, const char *sql, long long *ret, int print)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		fprintf(stderr, "db_writer: %s: %s\n", path, sqlite3_errmsg(h));
		sqlite3_close(h);
		return -1;
	}
	sqlite3_busy_timeout(h, 5000);
	if (sqlite3_prepare_v2(h, sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "db_writer: %s: %s\n", sql, sqlite3_errmsg(h));
		sqlite3_close(h);
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (ret)
			*ret = sqlite3_column_int64(s, 0);
		if (print) {
			const unsigned char *t = sqlite3_column_text(s, 0);

			printf("%s\n", t ? (const char *)t : "NULL");
		}
	}
	sqlite3_finalize(s);
	sqlite3_close(h);
	return rc == SQLITE_DONE ? 0 : -1;
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

static int crashtest(int n, const char *path)
{
	long long from = 0, samples = 0;
	int whole = 0, bad = 0, snaps = 0;

	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (int k = 0; k < n; k++) {
		long long acked = from, v, count = -1, max = -1;
		int fds[2];
		char err[256];
		struct db *db;
		pid_t pid;

		if (pipe(fds))
			return 1;
		pid = fork();
		if (pid == 0) {
			close(fds[0]);
			writer(path, from, fds[1]);
		}
		close(fds[1]);
		usleep((useconds_t)(rand() % 20000));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		while (read(fds[0], &v, sizeof(v)) == sizeof(v))
			acked = v;
		close(fds[0]);
		db = db__open(path, DB_READ, NULL, err, sizeof(err));
		/* Killed before its schema was committed: an empty database, and nothing acknowledged. */
		if (!db && errno == EBADMSG && from == 0 && acked == 0 && strstr(err, "(empty)")) {
			whole++;
			continue;
		}
		if (!db && errno == EBADMSG) {
			fprintf(stderr, "kill %d: refused: %s\n", k, err);
			bad++;
			break;
		}
		db__free(db);
		if (db && (query(path, "SELECT count(*) FROM series WHERE res = 0", &count, 0) ||
			   query(path, "SELECT coalesce(max(t_ms), 0) FROM series WHERE res = 0", &max, 0)))
			db = NULL;
		/* Nothing yet (killed in its first open): fine while nothing was acknowledged. */
		if (!db && acked == 0 && from == 0) {
			whole++;
			continue;
		}
		if (!db || count != max || max < acked) {
			fprintf(stderr, "kill %d: %lld rows, max %lld, acknowledged %lld\n", k, count, max,
				acked);
			bad++;
			break;
		}
		whole++;
		samples += max - from;
		from = max;
		if (k % 100 == 99) {
			char snap[4096], from_wal[4200], to_wal[4200];

			snprintf(snap, sizeof(snap), "%s.snap%d", path, snaps++);
			snprintf(from_wal, sizeof(from_wal), "%s-wal", path);
			snprintf(to_wal, sizeof(to_wal), "%s-wal", snap);
			copy_file(path, snap);
			copy_file(from_wal, to_wal);
		}
	}
	printf("kills %d whole %d bad %d samples %lld\n", n, whole, bad, samples);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "crashtest") == 0)
		return crashtest(atoi(argv[2]), argv[3]);
	if (argc == 4 && strcmp(argv[1], "query") == 0)
		return query(argv[2], argv[3], NULL, 1) ? 1 : 0;
	fprintf(stderr, "usage: db_writer crashtest N FILE | db_writer query FILE SQL\n");
	return 2;
}
