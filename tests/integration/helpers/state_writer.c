// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Test helper: rewrites a state file through state_file_save() as fast as it
 * can, the counter of unit "crash.service" going up by one each time, and
 * prints each value once its save has returned. Killed at random moments by
 * the crash test, which then checks the file is whole and at most one save
 * behind what was acknowledged.
 */
#include <stdio.h>
#include <stdlib.h>

#include "figures.h"
#include "state_file.h"

int main(int argc, char **argv)
{
	struct fig_state s;
	struct fig_unit *u;
	struct fig_boot *b;
	unsigned long long i;

	if (argc != 3)
		return 2;
	fig_state_init(&s);
	b = fig_state_boot(&s, "crash-test-boot");
	u = b ? fig_boot_unit(b, "crash.service") : NULL;
	if (!u)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = strtoull(argv[2], NULL, 10) + 1;; i++) {
		u->execs = i;
		if (state_file_save(argv[1], &s))
			return 1;
		printf("%llu\n", i);
	}
}
