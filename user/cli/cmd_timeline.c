// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `rcatrace timeline`: the store's story in time order. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli_error.h"
#include "clock.h"
#include "commands.h"
#include "options.h"
#include "store_reader.h"
#include "timeline.h"

struct collect {
	struct timeline *t;
	const struct read_options *o;
	int err;
};

static int matches(const struct read_options *o, const char *unit)
{
	return options_unit_matches(o->unit_globs, o->n_unit_globs, unit);
}

static int on_boot(void *ctx, const char *boot_id, int64_t first_ms, int64_t last_ms)
{
	struct collect *c = ctx;

	(void)last_ms;
	/* A boot is everyone's story, but not when the operator asked about some units only. */
	return c->o->n_unit_globs ? 0 : timeline__add_boot(c->t, boot_id, first_ms);
}

static void on_finding(void *ctx, const struct db_finding *f)
{
	struct collect *c = ctx;

	if (!c->err && matches(c->o, f->unit))
		c->err = timeline__add_finding(c->t, f);
}

static int on_oom(void *ctx, const struct fig_oom *o)
{
	struct collect *c = ctx;

	return matches(c->o, o->victim.unit) ? timeline__add_oom(c->t, o) : 0;
}

/* Kills across units (or by the kernel): within a unit they are its own business. */
static int on_kill(void *ctx, const struct fig_kill *k)
{
	struct collect *c = ctx;

	if (strcmp(k->sender.unit, k->target.unit) == 0 && !k->by_kernel)
		return 0;
	if (!matches(c->o, k->target.unit) && !matches(c->o, k->sender.unit))
		return 0;
	return timeline__add_kill(c->t, k);
}

int cmd_timeline(int argc, char **argv)
{
	struct read_options o;
	struct collect c = { 0 };
	struct db_range r;
	struct db *db;
	char err[256];
	int ret;

	switch (options_parse_read(READ_TIMELINE, argc, argv, clock_now_unix_ms(), &o, err, sizeof(err))) {
	case OPTIONS_HELP:
		fputs(options_read_usage(READ_TIMELINE), stdout);
		return 0;
	case OPTIONS_ERROR:
		fprintf(stderr, "rcatrace timeline: %s\n\n%s", err, options_read_usage(READ_TIMELINE));
		return 2;
	case OPTIONS_OK:
		break;
	}
	db = store_reader_open("rcatrace timeline", o.state_path, o.json);
	if (!db)
		return 1;
	c.t = timeline__new();
	c.o = &o;
	r = (struct db_range){ .since_ms = o.since_ms, .until_ms = o.until_ms };
	if (!c.t) {
		db__free(db);
		cli_error(o.json, "rcatrace timeline", "out of memory");
		return 1;
	}
	timeline__set_range(c.t, o.since_ms, o.until_ms);
	ret = db__each_boot(db, on_boot, &c);
	if (!ret)
		ret = db__each_finding(db, NULL, &r, on_finding, &c);
	if (!ret)
		ret = c.err;
	if (!ret)
		ret = db__each_oom(db, &r, on_oom, &c);
	if (!ret)
		ret = db__each_kill(db, &r, on_kill, &c);
	if (!ret)
		ret = o.json ? timeline__write_json(c.t, stdout) : timeline__write_text(c.t, stdout);
	if (ret)
		cli_error(o.json, "rcatrace timeline", "cannot read %s: %s", o.state_path, strerror(-ret));
	timeline__free(c.t);
	db__free(db);
	fflush(stdout);
	return ret || ferror(stdout) ? 1 : 0;
}
