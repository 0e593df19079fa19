// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer target for the state file reader: whatever the bytes, decode
 * must either refuse them cleanly or give figures that encode to a stable
 * form (encode, decode, encode again: the same bytes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "figures.h"
#include "state_file.h"

#define HEADER_LEN 32

static void check_refusal(int r, const struct fig_state *s, const char *err)
{
	if (r >= 0 || s->n_boots || s->boots || s->n_ooms || s->ooms || s->n_kills ||
	    s->kills || !err[0])
		abort();
}

/* What the fig_* functions did to the copy, the state file must still take. */
static void check_encodable(const struct fig_state *s)
{
	struct fig_state back;
	void *buf = NULL;
	size_t len;
	char err[256];

	if (state_file_encode(s, &buf, &len))
		abort();
	if (state_file_decode(buf, len, &back, err, sizeof(err)))
		abort();
	free(buf);
	fig_state_free(&back);
}

/* Adds every record of s again to copy: the lists stay bounded and count what they drop. */
static void add_records(struct fig_state *copy, const struct fig_state *s)
{
	for (uint32_t i = 0; i < s->n_ooms; i++) {
		uint64_t before = copy->n_ooms + copy->ooms_dropped;

		if (fig_state_add_oom(copy, &s->ooms[i]))
			continue;
		if (copy->n_ooms > FIG_MAX_OOMS || copy->n_ooms + copy->ooms_dropped != before + 1)
			abort();
	}
	for (uint32_t i = 0; i < s->n_kills; i++) {
		uint64_t before = copy->n_kills + copy->kills_dropped;

		if (fig_state_add_kill(copy, &s->kills[i]))
			continue;
		if (copy->n_kills > FIG_MAX_KILLS ||
		    copy->n_kills + copy->kills_dropped != before + 1)
			abort();
	}
	/* A record of the list itself, which the append moves. */
	if (copy->n_ooms)
		fig_state_add_oom(copy, &copy->ooms[0]);
	if (copy->n_kills)
		fig_state_add_kill(copy, &copy->kills[copy->n_kills - 1]);
}

/* The figures functions must also hold up on whatever decode accepted. */
static void exercise_figures(const struct fig_state *s)
{
	struct fig_state copy;
	volatile double sink = 0;

	if (fig_state_copy(&copy, s))
		return;
	for (uint32_t i = 0; i < s->n_boots; i++) {
		const struct fig_boot *b = &s->boots[i];

		if (fig_state_find_boot(s, b->boot_id) == NULL)
			abort();
		/* Merging a boot into its copy doubles every counter. */
		fig_boot_merge(&copy.boots[i], b);
		for (uint32_t j = 0; j < b->n_units; j++) {
			const struct fig_unit *u = &b->units[j];
			struct fig_unit *cu = &copy.boots[i].units[j];

			if (fig_boot_find_unit(b, u->name) == NULL)
				abort();
			if (cu->n_kill_counts > FIG_MAX_KILL_COUNTS ||
			    cu->n_fork_errnos > FIG_MAX_ERRNO)
				abort();
			/* The unit's own senders and errnos again, and one new of each. */
			for (uint32_t k = 0; k < u->n_kill_counts; k++)
				fig_unit_add_kills(cu, u->kill_counts[k].sender_unit,
						   u->kill_counts[k].signal,
						   u->kill_counts[k].by_kernel, 1);
			fig_unit_add_kills(cu, "fuzz.service", 9, 1, 1);
			fig_unit_add_fork_errno(cu, 11, 1);
			if (cu->n_kill_counts > FIG_MAX_KILL_COUNTS ||
			    cu->n_fork_errnos > FIG_MAX_ERRNO)
				abort();
			for (uint32_t k = 0; k < u->n_exes; k++) {
				const struct fig_exe *e = &u->exes[k];

				sink += fig_exe_period_ms(e);
				sink += fig_exe_period_stdev_ms(e);
				sink += fig_exe_lifetime_pct_ms(e, 50);
				sink += fig_exe_lifetime_pct_ms(e, 99);
				sink += (double)fig_unit_status_count(u, RCA_STATUS_CODE, 1);
			}
		}
	}
	(void)sink;
	add_records(&copy, s);
	check_encodable(&copy);
	fig_state_free(&copy);
}

static void round_trip(const uint8_t *data, size_t size)
{
	struct fig_state s, s2;
	void *buf1 = NULL, *buf2 = NULL;
	size_t len1, len2;
	char err[256];
	int r;

	r = state_file_decode(data, size, &s, err, sizeof(err));
	if (r) {
		check_refusal(r, &s, err);
		return;
	}
	exercise_figures(&s);
	if (state_file_encode(&s, &buf1, &len1))
		abort();
	r = state_file_decode(buf1, len1, &s2, err, sizeof(err));
	if (r)
		abort();
	if (state_file_encode(&s2, &buf2, &len2))
		abort();
	if (len1 != len2 || memcmp(buf1, buf2, len1) != 0)
		abort();
	free(buf1);
	free(buf2);
	fig_state_free(&s);
	fig_state_free(&s2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;
	uint32_t crc;

	/* As given: exercises the header checks and the CRC. */
	round_trip(data, size);

	/*
	 * A mutated payload almost never keeps its CRC, so it would stop at the
	 * checksum. Again with the payload length and CRC made to match, so
	 * the mutations reach the parser.
	 */
	if (size < HEADER_LEN)
		return 0;
	fixed = malloc(size);
	if (!fixed)
		return 0;
	memcpy(fixed, data, size);
	for (int i = 0; i < 8; i++)
		fixed[16 + i] = (uint8_t)((uint64_t)(size - HEADER_LEN) >> (8 * i));
	crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), fixed + HEADER_LEN,
			      (uInt)(size - HEADER_LEN));
	for (int i = 0; i < 4; i++)
		fixed[24 + i] = (uint8_t)(crc >> (8 * i));
	round_trip(fixed, size);
	free(fixed);
	return 0;
}
