// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Page-fault storm: ROUNDS times map 16 MiB of anonymous memory, write one
 * byte per 4 KiB page, unmap it. Transparent huge pages are refused for the
 * mapping, so every page is its own fault and its own rss_stat event (and
 * the unmap one more per round and kind). ops = pages touched.
 */
#include <sys/mman.h>

#include "bench.h"

#define MAP_BYTES (16UL << 20)
#define PAGE 4096UL

int main(int argc, char **argv)
{
	long rounds = bench_count(argc, argv, 1, "ROUNDS"), failed = 0;
	double c0 = bench_cpu_s(), t0 = bench_now_s();

	for (long r = 0; r < rounds; r++) {
		volatile char *p = mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			failed++;
			continue;
		}
		madvise((void *)p, MAP_BYTES, MADV_NOHUGEPAGE);
		for (unsigned long off = 0; off < MAP_BYTES; off += PAGE)
			p[off] = 1;
		munmap((void *)p, MAP_BYTES);
	}
	bench_report("pagefault", rounds * (long)(MAP_BYTES / PAGE), bench_now_s() - t0, c0, failed);
	return failed ? 1 : 0;
}
