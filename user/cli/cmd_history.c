// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `rcatrace history`: the series of the units asked for. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli_error.h"
#include "clock.h"
#include "commands.h"
#include "history.h"
#include "json_writer.h"
#include "options.h"
#include "store_reader.h"

struct collect {
	const struct read_options *o;
	struct json_writer *w; /* NULL: text */
	uint32_t units;
};

static int want(void *ctx, const char *unit)
{
	const struct collect *c = ctx;

	return options_unit_matches(c->o->unit_globs, c->o->n_unit_globs, unit);
}

static int on_series(void *ctx, const struct db_series *s)
{
	struct collect *c = ctx;

	c->units++;
	if (c->w) {
		history_json_unit(c->w, s);
		return 0;
	}
	return history_text_unit(stdout, s);
}

int cmd_history(int argc, char **argv)
{
	struct read_options o;
	struct collect c = { 0 };
	struct json_writer w;
	struct db_range r;
	struct db *db;
	char err[256];
	int ret;

	switch (options_parse_read(READ_HISTORY, argc, argv, clock_now_unix_ms(), &o, err, sizeof(err))) {
	case OPTIONS_HELP:
		fputs(options_read_usage(READ_HISTORY), stdout);
		return 0;
	case OPTIONS_ERROR:
		fprintf(stderr, "rcatrace history: %s\n\n%s", err, options_read_usage(READ_HISTORY));
		return 2;
	case OPTIONS_OK:
		break;
	}
	db = store_reader_open("rcatrace history", o.state_path, o.json);
	if (!db)
		return 1;
	r = (struct db_range){ .since_ms = o.since_ms, .until_ms = o.until_ms };
	c.o = &o;
	if (o.json) {
		json_init(&w, stdout);
		json_object_begin(&w);
		json_key(&w, "units");
		json_array_begin(&w);
		c.w = &w;
	}
	ret = db__each_series(db, &r, want, on_series, &c);
	if (o.json) {
		json_array_end(&w);
		json_object_end(&w);
		fputc('\n', stdout);
	} else if (!ret && !c.units) {
		printf("no series in this range%s\n", o.n_unit_globs ? " for these units" : "");
	}
	if (ret)
		cli_error(o.json, "rcatrace history", "cannot read %s: %s", o.state_path, strerror(-ret));
	db__free(db);
	fflush(stdout);
	return ret || ferror(stdout) ? 1 : 0;
}
