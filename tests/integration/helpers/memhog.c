// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test helper with three memory workloads:
 *   memhog grow KIB_PER_S SECONDS  touch new anonymous memory at a steady rate, then wait
 *   memhog flat BASE_MIB           hold a base, and map/touch/unmap 256 KiB every 100 ms
 *   memhog oom                     allocate and touch 1 MiB chunks until killed
 * Prints "<unix seconds> <VmRSS KiB>" from /proc/self/status each second (grow, flat).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

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

static void *touch_new(size_t bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	for (size_t i = 0; i < bytes; i += 4096)
		p[i] = 1;
	return p;
}

static void sleep_until(double t)
{
	double d = t - now_s();

	if (d > 0) {
		struct timespec ts = { (time_t)d, (long)((d - (time_t)d) * 1e9) };

		nanosleep(&ts, NULL);
	}
}

int main(int argc, char **argv)
{
	double start = now_s(), next_print = start;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && strcmp(argv[1], "grow") == 0) {
		double rate = atof(argv[2]), secs = atof(argv[3]);
		size_t step = 64 * 1024; /* small steps: a steady slope */
		double period = step / 1024.0 / rate;

		for (int i = 0; now_s() - start < secs; i++) {
			if (!touch_new(step))
				return 1;
			if (now_s() >= next_print) {
				printf("%.3f %ld\n", now_s(), vm_rss_kib());
				next_print += 1;
			}
			sleep_until(start + (i + 1) * period);
		}
		printf("%.3f %ld\n", now_s(), vm_rss_kib());
		pause();
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "flat") == 0) {
		if (!touch_new((size_t)atoi(argv[2]) << 20))
			return 1;
		for (;;) {
			void *p = touch_new(256 * 1024);

			if (!p)
				return 1;
			munmap(p, 256 * 1024);
			if (now_s() >= next_print) {
				printf("%.3f %ld\n", now_s(), vm_rss_kib());
				next_print += 1;
			}
			usleep(100000);
		}
	}
	if (argc == 2 && strcmp(argv[1], "oom") == 0) {
		for (;;)
			if (!touch_new(1 << 20))
				return 1;
	}
	fprintf(stderr, "usage: memhog grow KIB_PER_S SECONDS | flat BASE_MIB | oom\n");
	return 2;
}
