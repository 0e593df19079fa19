// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * /metrics over HTTP with libmicrohttpd: HTTP parsing, limits and timeouts
 * are its job, not ours. We create the listening socket ourselves so a port
 * in use comes back as EADDRINUSE, not as a bare failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "metrics_server.h"

#define N_FORMATS 2

struct metrics_server {
	struct MHD_Daemon *daemon;
	uint16_t port;
	pthread_mutex_t lock; /* guards buf and len */
	char *buf[N_FORMATS];
	size_t len[N_FORMATS];
};

static enum MHD_Result respond(struct MHD_Connection *c, unsigned int status, const char *type,
			       const char *body, size_t len, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned int status,
				    const char *text, const char *allow)
{
	return respond(c, status, "text/plain; charset=utf-8", text, strlen(text), allow);
}

/* Runs on libmicrohttpd's thread: it reads only the published buffers. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	static int seen;
	struct metrics_server *s = cls;
	enum metrics_format fmt;
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n",
				    "GET, HEAD");
	/* First call: the headers are in; answer on the next, once any body is read (and ignored). */
	if (!*con_cls) {
		*con_cls = &seen;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/") == 0)
		return respond_text(c, MHD_HTTP_OK, "rcatrace: metrics are at /metrics\n", NULL);
	if (strcmp(url, "/metrics") != 0)
		return respond_text(c, MHD_HTTP_NOT_FOUND, "not found: metrics are at /metrics\n", NULL);

	fmt = metrics_negotiate(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							    MHD_HTTP_HEADER_ACCEPT));
	pthread_mutex_lock(&s->lock);
	if (!s->buf[fmt]) {
		pthread_mutex_unlock(&s->lock);
		return respond_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "rcatrace has not taken its first sample yet\n", NULL);
	}
	r = MHD_create_response_from_buffer(s->len[fmt], s->buf[fmt], MHD_RESPMEM_MUST_COPY);
	pthread_mutex_unlock(&s->lock);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, metrics_content_type(fmt));
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* libmicrohttpd's own messages would go to stderr, attacker-triggered: keep them quiet. */
static void quiet_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	(void)fmt;
	(void)ap;
}

static int listen_on(const char *host, uint16_t port, int *ret_family, uint16_t *ret_port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1, err;

	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		len = sizeof(*in6);
	} else {
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A restart must not wait out the TIME_WAIT of the last run's connections. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	*ret_family = ss.ss_family;
	*ret_port = ntohs(ss.ss_family == AF_INET ? in4->sin_port : in6->sin6_port);
	return fd;
}

struct metrics_server *metrics_server__new(const char *host, uint16_t port)
{
	struct metrics_server *s;
	sigset_t all, old;
	unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD;
	int fd, family = 0, err;

	s = calloc(1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	fd = listen_on(host, port, &family, &s->port);
	if (fd < 0) {
		err = -fd;
		goto fail;
	}
	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The HTTP thread inherits this mask: SIGINT and SIGTERM go to the tracing thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
				     MHD_OPTION_LISTEN_SOCKET, fd,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_SERVER_MAX_CONNECTIONS,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_SERVER_TIMEOUT_S,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_SERVER_REQUEST_MAX,
				     MHD_OPTION_EXTERNAL_LOGGER, quiet_log, NULL,
				     MHD_OPTION_END);
	err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!s->daemon) {
		close(fd);
		if (!err)
			err = EIO;
		goto fail;
	}
	return s;
fail:
	pthread_mutex_destroy(&s->lock);
	free(s);
	errno = err;
	return NULL;
}

void metrics_server__free(struct metrics_server *s)
{
	if (!s)
		return;
	/* Joins the HTTP thread and closes the listening socket. */
	MHD_stop_daemon(s->daemon);
	for (int i = 0; i < N_FORMATS; i++)
		free(s->buf[i]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

uint16_t metrics_server__port(const struct metrics_server *s)
{
	return s ? s->port : 0;
}

void metrics_server__publish(struct metrics_server *s, enum metrics_format fmt, char *buf,
			     size_t len)
{
	char *old;

	if (!s || (int)fmt < 0 || fmt >= N_FORMATS) {
		free(buf);
		return;
	}
	/* A pointer swap under the lock: the tracing loop never waits on a client. */
	pthread_mutex_lock(&s->lock);
	old = s->buf[fmt];
	s->buf[fmt] = buf;
	s->len[fmt] = len;
	pthread_mutex_unlock(&s->lock);
	free(old);
}
