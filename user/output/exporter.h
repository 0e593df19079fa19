/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The metrics a run exports: rendered once per sample from the model and
 * handed, finished, to the HTTP thread (--metrics-listen) and the textfile
 * (--textfile). Neither ever reads the live tables.
 */
#ifndef RCATRACE_EXPORTER_H
#define RCATRACE_EXPORTER_H

#include <stdint.h>

#include "metrics.h"

struct exporter;

struct exporter_opts {
	const char *listen_host; /* NULL: no HTTP endpoint */
	uint16_t listen_port;
	const char *textfile_dir; /* NULL: no textfile */
};

/* NULL with errno set (the endpoint could not be bound: EADDRINUSE, EACCES, ...). */
struct exporter *exporter__new(const struct exporter_opts *o);
void exporter__free(struct exporter *e);

/*
 * Renders in and publishes it. 0, or -errno of the textfile's write (the HTTP
 * endpoint keeps serving); -ENOMEM keeps the last published figures up.
 */
int exporter__publish(struct exporter *e, const struct metrics_input *in);

/* The HTTP port bound (a port 0 asks the kernel for one); 0 without an endpoint. */
unsigned exporter__port(const struct exporter *e);

#endif
