// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

#include "exporter.h"
#include "metrics_server.h"

struct exporter {
	struct exporter_opts o;
	struct metrics *metrics;
	struct metrics_server *server;
};

struct exporter *exporter__new(const struct exporter_opts *o)
{
	struct exporter *e = calloc(1, sizeof(*e));
	int err;

	if (!e)
		return NULL;
	e->o = *o;
	e->metrics = metrics__new();
	if (!e->metrics) {
		free(e);
		errno = ENOMEM;
		return NULL;
	}
	if (o->listen_host) {
		e->server = metrics_server__new(o->listen_host, o->listen_port);
		if (!e->server) {
			err = errno;
			exporter__free(e);
			errno = err;
			return NULL;
		}
	}
	return e;
}

void exporter__free(struct exporter *e)
{
	if (!e)
		return;
	metrics_server__free(e->server);
	metrics__free(e->metrics);
	free(e);
}

int exporter__publish(struct exporter *e, const struct metrics_input *in)
{
	char *text = NULL, *om = NULL;
	size_t text_len = 0, om_len = 0;
	int err = metrics__collect(e->metrics, in);

	if (!err)
		err = metrics__render(e->metrics, METRICS_TEXT, &text, &text_len);
	if (!err && e->server && (err = metrics__render(e->metrics, METRICS_OPENMETRICS, &om, &om_len)))
		free(text);
	if (err)
		return err; /* out of memory: the last published figures stay up */
	if (e->o.textfile_dir)
		err = metrics_write_textfile(e->o.textfile_dir, text, text_len);
	if (e->server) {
		/* The server takes both buffers. */
		metrics_server__publish(e->server, METRICS_TEXT, text, text_len);
		metrics_server__publish(e->server, METRICS_OPENMETRICS, om, om_len);
	} else {
		free(text);
	}
	return err;
}

unsigned exporter__port(const struct exporter *e)
{
	return e->server ? metrics_server__port(e->server) : 0;
}
