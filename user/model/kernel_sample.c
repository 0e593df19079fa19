// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_sample.h"

void kernel_sample_init(struct kernel_sample *s)
{
	memset(s, 0, sizeof(*s));
}

void kernel_sample_free(struct kernel_sample *s)
{
	free(s->units);
	free(s->exes);
	free(s->statuses);
	free(s->mems);
	free(s->kills);
	free(s->forkfails);
	free(s->names);
	free(s->name_offs);
	kernel_sample_init(s);
}

void kernel_sample_reset(struct kernel_sample *s)
{
	s->now_ms = 0;
	memset(s->lost, 0, sizeof(s->lost));
	s->units_unnamed = s->signature = 0;
	s->ledger_rows_live = 0;
	s->n_units = s->n_exes = s->n_statuses = s->n_mems = s->n_kills = s->n_forkfails = 0;
}

void kernel_sample_clear_names(struct kernel_sample *s)
{
	s->names_len = 0;
	s->n_names = 0;
	s->names_gen++;
}

/* One more zeroed element at the end of *arr, growing it by doubling. */
static void *append(void **arr, uint32_t *n, uint32_t *cap, size_t elem)
{
	char *p;

	if (*n == *cap) {
		uint32_t nc = *cap ? *cap * 2 : 64;

		p = realloc(*arr, (size_t)nc * elem);
		if (!p)
			return NULL;
		*arr = p;
		*cap = nc;
	}
	p = (char *)*arr + (size_t)(*n)++ * elem;
	memset(p, 0, elem);
	return p;
}

#define APPEND(s, name) append((void **)&(s)->name, &(s)->n_##name, &(s)->cap_##name, sizeof(*(s)->name))

struct ks_unit *kernel_sample_add_unit(struct kernel_sample *s)
{
	return APPEND(s, units);
}

struct ks_exe *kernel_sample_add_exe(struct kernel_sample *s)
{
	return APPEND(s, exes);
}

struct ks_status *kernel_sample_add_status(struct kernel_sample *s)
{
	struct ks_status *st = APPEND(s, statuses);

	if (st)
		st->exe = -1;
	return st;
}

struct ks_mem *kernel_sample_add_mem(struct kernel_sample *s)
{
	return APPEND(s, mems);
}

struct ks_kill *kernel_sample_add_kill(struct kernel_sample *s)
{
	return APPEND(s, kills);
}

struct ks_forkfail *kernel_sample_add_forkfail(struct kernel_sample *s)
{
	return APPEND(s, forkfails);
}

int64_t kernel_sample_add_name(struct kernel_sample *s, const char *name)
{
	size_t len = strlen(name) + 1, off = s->names_len;

	if (off + len > UINT32_MAX)
		return -ENOMEM;
	if (off + len > s->names_cap) {
		size_t nc = s->names_cap ? s->names_cap : 4096;
		char *p;

		while (nc < off + len)
			nc *= 2;
		p = realloc(s->names, nc);
		if (!p)
			return -ENOMEM;
		s->names = p;
		s->names_cap = nc;
	}
	if (s->n_names == s->cap_names) {
		uint32_t nc = s->cap_names ? s->cap_names * 2 : 256;
		uint32_t *p = realloc(s->name_offs, nc * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->name_offs = p;
		s->cap_names = nc;
	}
	memcpy(s->names + off, name, len);
	s->names_len += len;
	s->name_offs[s->n_names] = (uint32_t)off;
	return s->n_names++;
}

static uint32_t key_hash(uint64_t unit_key, uint64_t exe_id)
{
	uint64_t h = (unit_key ^ (exe_id * 0x9E3779B97F4A7C15ULL)) * 0xff51afd7ed558ccdULL;

	return (uint32_t)(h >> 32);
}

int kernel_sample_join(struct kernel_sample *s)
{
	uint32_t cap = 16, mask;
	int32_t *idx;

	while (cap < 2 * s->n_exes + 2)
		cap *= 2;
	idx = malloc(cap * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	memset(idx, 0xff, cap * sizeof(*idx));
	mask = cap - 1;
	for (uint32_t i = 0; i < s->n_exes; i++) {
		uint32_t h = key_hash(s->exes[i].key.unit_key, s->exes[i].key.exe_id) & mask;

		while (idx[h] >= 0)
			h = (h + 1) & mask;
		idx[h] = (int32_t)i;
	}
	for (uint32_t i = 0; i < s->n_statuses; i++) {
		struct ks_status *st = &s->statuses[i];

		st->exe = -1;
		for (uint32_t h = key_hash(st->key.unit_key, st->key.exe_id) & mask; idx[h] >= 0;
		     h = (h + 1) & mask) {
			const struct ks_exe *e = &s->exes[idx[h]];

			/* A row retired this sample and its successor share a key: pair like with like. */
			if (e->key.unit_key == st->key.unit_key && e->key.exe_id == st->key.exe_id &&
			    (e->flags & KS_RETIRED) == (st->flags & KS_RETIRED)) {
				st->exe = idx[h];
				break;
			}
		}
	}
	free(idx);
	return 0;
}
