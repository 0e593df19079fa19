/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The /metrics HTTP endpoint, served by libmicrohttpd from its own thread.
 * The tracing loop renders the metrics and publishes the finished buffers;
 * the HTTP thread only copies the newest one under a mutex, so a slow or
 * hostile client can never touch the live tables nor stall tracing. The
 * number of connections and their idle time are bounded.
 */
#ifndef RCATRACE_METRICS_SERVER_H
#define RCATRACE_METRICS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

/* Concurrent connections; more are accepted and closed at once. */
#define METRICS_SERVER_MAX_CONNECTIONS 32
/* A connection idle this long is closed (seconds). */
#define METRICS_SERVER_TIMEOUT_S 10
/* Request line and headers must fit in this (bytes); a larger request gets a 431. */
#define METRICS_SERVER_REQUEST_MAX 16384

struct metrics_server;

/*
 * Binds host (numeric IPv4 or IPv6) and port (0: a free one) and starts the
 * HTTP thread. NULL with errno: EADDRINUSE, EACCES, EADDRNOTAVAIL, EINVAL
 * (host is not a numeric address), ENOMEM, or EIO when the server would not start.
 */
struct metrics_server *metrics_server__new(const char *host, uint16_t port);
void metrics_server__free(struct metrics_server *s);
/* The port bound, useful after asking for port 0. */
uint16_t metrics_server__port(const struct metrics_server *s);
/*
 * Replaces the exposition served in fmt with buf (malloc'd, len bytes); the
 * server owns buf from now on. Until the first publish, /metrics answers 503.
 */
void metrics_server__publish(struct metrics_server *s, enum metrics_format fmt, char *buf,
			     size_t len);

#endif
