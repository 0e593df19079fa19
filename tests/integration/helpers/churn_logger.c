// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test helper: a logger that never drops a message, like a journald that
 * keeps every line a crash-looping unit writes (systemd #11900).
 *
 *   churn_logger FIFO [BYTES_PER_MESSAGE]
 *
 * Reads lines from FIFO (opened read-write, so writers coming and going
 * never make it see an end) and keeps each one in its own slot of
 * BYTES_PER_MESSAGE (default 2048) in one reserved, growing region, the
 * whole slot touched. Memory grows by exactly BYTES_PER_MESSAGE per message,
 * a page every 4096 / BYTES_PER_MESSAGE messages, and by nothing else:
 * no allocator, no copies. A line longer than a slot is cut to it.
 *
 * Prints "<unix seconds> <VmRSS KiB> <messages>" at start, then each second,
 * and once more on SIGTERM or SIGINT before it exits 0. Exits 1 when the
 * FIFO cannot be opened or the region is full (1 GiB), 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Address space reserved for the messages; only what is written is resident. */
#define REGION_BYTES (1UL << 30)
/* The longest line read whole; the rest of a longer one is dropped. */
#define LINE_MAX_BYTES 4096

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
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

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: poll() wakes up */
	char line[LINE_MAX_BYTES], buf[LINE_MAX_BYTES];
	size_t slot = 2048, line_len = 0;
	unsigned long messages = 0;
	double next_print;
	char *region;
	int fd;

	if (argc < 2 || argc > 3 || (argc == 3 && (slot = strtoul(argv[2], NULL, 10)) == 0)) {
		fprintf(stderr, "usage: churn_logger FIFO [BYTES_PER_MESSAGE]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	region = mmap(NULL, REGION_BYTES, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (region == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	next_print = now_s();
	while (!stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double wait = next_print - now_s();
		ssize_t n;

		if (wait <= 0) {
			printf("%.3f %ld %lu\n", now_s(), vm_rss_kib(), messages);
			next_print += 1;
			continue;
		}
		if (poll(&p, 1, (int)(wait * 1000) + 1) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno != EINTR && errno != EAGAIN) {
			perror("read");
			return 1;
		}
		for (ssize_t i = 0; i < n; i++) {
			char *msg;

			if (buf[i] != '\n') {
				if (line_len < sizeof(line))
					line[line_len++] = buf[i];
				continue;
			}
			/* One message: its own slot, all of it touched. */
			if ((messages + 1) * slot > REGION_BYTES) {
				fprintf(stderr, "churn_logger: full after %lu messages\n", messages);
				return 1;
			}
			msg = region + messages * slot;
			memset(msg, ' ', slot);
			memcpy(msg, line, line_len < slot ? line_len : slot);
			messages++;
			line_len = 0;
		}
	}
	printf("%.3f %ld %lu\n", now_s(), vm_rss_kib(), messages);
	return 0;
}
