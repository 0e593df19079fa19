// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "loader.h"
#include "sampler.h"
#include "unit_resolver.h"

/* Gone cgroups retired per pass; the rest wait for the next one. */
#define MAX_RETIRE 1024
/* Names kept from one reading to the next; past this, they are all forgotten and made again. */
#define MAX_NAMES 65536

struct name_slot {
	uint64_t cgroup_id;
	uint32_t name; /* its id in the sample */
	uint32_t gen;  /* the names' generation that filled it; older slots are empty */
};

struct sampler {
	struct loader *loader;
	struct unit_resolver *resolver;
	struct kernel_sample *out;
	const struct sampler_read_opts *o;
	uint32_t gen;       /* of the name table's slots */
	uint32_t last_ledger_rows; /* ledger rows the last reading found */
	uint32_t names_gen; /* of out's names when the table was filled */
	/* cgroup id -> name id in out: each cgroup named once, its id kept across readings. */
	struct name_slot *names;
	uint32_t names_cap, names_used;
	/* gone cgroups of this reading, sorted for bsearch */
	uint64_t retire[MAX_RETIRE];
	uint32_t n_retire;
	int err;
};

struct sampler *sampler__new(const struct sampler_opts *o)
{
	struct sampler *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->loader = o->loader;
	s->resolver = o->resolver;
	return s;
}

void sampler__free(struct sampler *s)
{
	if (!s)
		return;
	free(s->names);
	free(s);
}

static int grow_names(struct sampler *s)
{
	uint32_t cap = s->names_cap ? s->names_cap * 2 : 1024;
	struct name_slot *old = s->names, *p = calloc(cap, sizeof(*p));

	if (!p)
		return -ENOMEM;
	s->names = p;
	s->names_cap = cap;
	s->names_used = 0;
	/* Re-insert this reading's slots. */
	for (uint32_t i = 0; old && i < cap / 2; i++) {
		if (old[i].gen != s->gen)
			continue;
		for (uint32_t h = (uint32_t)(old[i].cgroup_id * 0x9E3779B97F4A7C15ULL >> 40) & (cap - 1);;
		     h = (h + 1) & (cap - 1))
			if (p[h].gen != s->gen) {
				p[h] = old[i];
				s->names_used++;
				break;
			}
	}
	free(old);
	return 0;
}

/*
 * The id of a cgroup's unit name in this reading's sample. A cgroup the
 * resolver has not named yet is named from the kernel's record of it (leaf
 * name, parent) when it is already gone.
 */
static uint32_t name_of(struct sampler *s, uint64_t cgroup_id, const struct rca_unit_stats *st)
{
	char name[UNIT_NAME_MAX], leaf[RCA_CGROUP_NAME_LEN + 1] = "";
	uint64_t parent = 0;
	uint32_t h;
	int64_t off;

	if (s->names_used * 2 >= s->names_cap && grow_names(s))
		goto fail;
	for (h = (uint32_t)(cgroup_id * 0x9E3779B97F4A7C15ULL >> 40) & (s->names_cap - 1);
	     s->names[h].gen == s->gen; h = (h + 1) & (s->names_cap - 1))
		if (s->names[h].cgroup_id == cgroup_id)
			return s->names[h].name;
	if (st) {
		memcpy(leaf, st->name, RCA_CGROUP_NAME_LEN);
		parent = st->parent_id;
	} else if (!unit_resolver__cached(s->resolver, cgroup_id)) {
		loader__unit_leaf(s->loader, cgroup_id, leaf, sizeof(leaf), &parent);
	}
	unit_resolver__name_gone(s->resolver, cgroup_id, parent, leaf[0] ? leaf : NULL, name,
				 sizeof(name));
	off = kernel_sample_add_name(s->out, name);
	if (off < 0)
		goto fail;
	s->names[h] = (struct name_slot){ .cgroup_id = cgroup_id, .name = (uint32_t)off, .gen = s->gen };
	s->names_used++;
	return (uint32_t)off;
fail:
	s->err = -ENOMEM;
	return 0; /* name 0 is always there: "" */
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int is_retired(const struct sampler *s, uint64_t cgroup_id)
{
	return s->n_retire && bsearch(&cgroup_id, s->retire, s->n_retire, sizeof(uint64_t), u64_cmp);
}

/* Cgroups idle long enough are checked; those gone are retired in this reading. */
static int find_gone(void *ctx, uint64_t cgroup_id, const struct rca_unit_stats *st)
{
	struct sampler *s = ctx;

	if (s->n_retire >= MAX_RETIRE ||
	    st->last_ns + s->o->cgroup_idle_ns > clock_now_boot_ns())
		return 0;
	if (unit_resolver__exists(s->resolver, cgroup_id) == 0)
		s->retire[s->n_retire++] = cgroup_id;
	return 0;
}

static int read_unit(void *ctx, uint64_t cgroup_id, const struct rca_unit_stats *st)
{
	struct sampler *s = ctx;
	struct ks_unit *u = kernel_sample_add_unit(s->out);

	if (!u)
		return -ENOMEM;
	u->cgroup_id = cgroup_id;
	u->st = *st;
	u->flags = is_retired(s, cgroup_id) ? KS_RETIRED : 0;
	u->name = name_of(s, cgroup_id, st);
	s->out->signature += st->starts + st->forks + st->threads + st->execs + st->exits +
			     st->oom_kills;
	return s->err;
}

static int add_exe(struct sampler *s, const struct rca_ledger_key *key, const struct rca_ledger *l,
		   uint32_t flags)
{
	struct ks_exe *e = kernel_sample_add_exe(s->out);

	if (!e)
		return -ENOMEM;
	e->key = *key;
	e->l = *l;
	e->flags = flags;
	e->unit = name_of(s, l->cgroup_id, NULL);
	return s->err;
}

static int add_status(struct sampler *s, const struct rca_status_key *key,
		      const struct rca_status *st, uint32_t flags)
{
	struct ks_status *r = kernel_sample_add_status(s->out);

	if (!r)
		return -ENOMEM;
	r->key = *key;
	r->st = *st;
	r->flags = flags;
	r->unit = name_of(s, st->cgroup_id, NULL);
	s->out->signature += st->count;
	return s->err;
}

static int read_exe(void *ctx, const struct rca_ledger_key *key, const struct rca_ledger *l)
{
	struct sampler *s = ctx;

	s->out->ledger_rows_live++;
	return add_exe(ctx, key, l, 0);
}

static int read_status(void *ctx, const struct rca_status_key *key, const struct rca_status *st)
{
	return add_status(ctx, key, st, 0);
}

static int retire_exe(void *ctx, const struct rca_ledger_key *key, const struct rca_ledger *l)
{
	return add_exe(ctx, key, l, KS_RETIRED);
}

static int retire_status(void *ctx, const struct rca_status_key *key, const struct rca_status *st)
{
	return add_status(ctx, key, st, KS_RETIRED);
}

static int read_mem(void *ctx, uint64_t cgroup_id, const struct rca_unit_mem *m)
{
	struct sampler *s = ctx;
	struct ks_mem *r = kernel_sample_add_mem(s->out);

	if (!r)
		return -ENOMEM;
	r->cgroup_id = cgroup_id;
	r->m = *m;
	r->flags = is_retired(s, cgroup_id) ? KS_RETIRED : 0;
	r->unit = name_of(s, cgroup_id, NULL);
	return s->err;
}

static int read_kill(void *ctx, const struct rca_kill_key *key, uint64_t count)
{
	struct sampler *s = ctx;
	struct ks_kill *r = kernel_sample_add_kill(s->out);

	if (!r)
		return -ENOMEM;
	r->key = *key;
	r->count = count;
	r->flags = is_retired(s, key->target_cgroup_id) || is_retired(s, key->sender_cgroup_id)
			   ? KS_RETIRED
			   : 0;
	r->target = name_of(s, key->target_cgroup_id, NULL);
	r->sender = name_of(s, key->sender_cgroup_id, NULL);
	s->out->signature += count;
	return s->err;
}

static int read_forkfail(void *ctx, const struct rca_forkfail_key *key, uint64_t count)
{
	struct sampler *s = ctx;
	struct ks_forkfail *r = kernel_sample_add_forkfail(s->out);

	if (!r)
		return -ENOMEM;
	r->key = *key;
	r->count = count;
	r->flags = is_retired(s, key->cgroup_id) ? KS_RETIRED : 0;
	r->unit = name_of(s, key->cgroup_id, NULL);
	s->out->signature += count;
	return s->err;
}

int sampler__read(struct sampler *s, const struct sampler_read_opts *o, struct kernel_sample *out)
{
	uint64_t now_ns = clock_now_boot_ns();
	int err;

	kernel_sample_reset(out);
	out->now_ms = o->now_ms;
	s->out = out;
	s->o = o;
	s->err = 0;
	s->n_retire = 0;
	/* Names live on; a fresh start when too many gone cgroups hold an id, or a new sample. */
	if (out->n_names > MAX_NAMES || !out->n_names || out->names_gen != s->names_gen) {
		kernel_sample_clear_names(out);
		s->names_gen = out->names_gen;
		if (++s->gen == 0)
			++s->gen; /* 0 marks an empty slot */
		s->names_used = 0;
		/* Name 0 is "", for rows that could not be named (out of memory). */
		if (kernel_sample_add_name(out, "") < 0)
			return -ENOMEM;
	}
	if (o->retire) {
		/* Decided BEFORE reading: a gone cgroup cannot gain events, so its last read is final. */
		loader__for_each_unit(s->loader, find_gone, s);
		qsort(s->retire, s->n_retire, sizeof(uint64_t), u64_cmp);
	}
	err = loader__for_each_unit(s->loader, read_unit, s);
	if (!err && o->retire) {
		/* The ledger's fill, as the last reading counted it (no walk of its keys for that). */
		uint64_t idle = s->last_ledger_rows > loader__ledger_capacity(s->loader) / 4 * 3
					? o->ledger_pressed_idle_ns
					: o->ledger_idle_ns;

		if (now_ns > idle) {
			int n = loader__retire_ledger(s->loader, now_ns - idle, MAX_RETIRE, retire_exe,
						      retire_status, s);

			err = n < 0 ? n : s->err;
		}
	}
	if (!err)
		err = loader__for_each_ledger(s->loader, read_exe, s);
	if (!err)
		err = loader__for_each_status(s->loader, read_status, s);
	if (!err)
		err = loader__for_each_mem(s->loader, read_mem, s);
	if (!err)
		err = loader__for_each_kill(s->loader, read_kill, s);
	if (!err)
		err = loader__for_each_forkfail(s->loader, read_forkfail, s);
	if (!err)
		err = kernel_sample_join(out);
	s->last_ledger_rows = out->ledger_rows_live;
	if (err)
		return err;
	/* Read one last time above: now the gone cgroups' rows go, all in one pass per map. */
	if (s->n_retire)
		loader__forget_cgroups(s->loader, s->retire, s->n_retire);
	loader__read_lost(s->loader, out->lost);
	{
		struct unit_resolver_stats rs;

		unit_resolver__stats(s->resolver, &rs);
		out->units_unnamed = rs.unnamed;
	}
	return 0;
}
