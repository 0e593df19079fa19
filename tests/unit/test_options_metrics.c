// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * options, the metrics flags of `rcatrace run`: --metrics-listen ADDR:PORT
 * (a bare port binds loopback, never every interface), --textfile DIR and
 * --metrics-max-units N. Kept apart from test_options.c so the two can grow
 * without stepping on each other; both link the same options.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "options.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct listen_case {
	const char *name;
	const char *arg;
	int ok;
	int family;
	const char *host;
	uint16_t port;
};

static struct listen_case listen_cases[] = {
	{ "listen: bare port is loopback", "9464", 1, AF_INET, "127.0.0.1", 9464 },
	{ "listen: :port is loopback", ":9464", 1, AF_INET, "127.0.0.1", 9464 },
	{ "listen: localhost is 127.0.0.1", "localhost:9100", 1, AF_INET, "127.0.0.1", 9100 },
	{ "listen: every IPv4 interface", "0.0.0.0:9464", 1, AF_INET, "0.0.0.0", 9464 },
	{ "listen: one IPv4 address, top port", "192.168.1.10:65535", 1, AF_INET, "192.168.1.10", 65535 },
	{ "listen: IPv6 loopback", "[::1]:9464", 1, AF_INET6, "::1", 9464 },
	{ "listen: every IPv6 interface, port 0", "[::]:0", 1, AF_INET6, "::", 0 },
	{ "listen: full IPv6", "[fe80::1:2]:80", 1, AF_INET6, "fe80::1:2", 80 },
	{ "listen: empty", "", 0 },
	{ "listen: colon alone", ":", 0 },
	{ "listen: host without port", "127.0.0.1:", 0 },
	{ "listen: word", "abc", 0 },
	{ "listen: port with junk", "9464x", 0 },
	{ "listen: port past 65535", "65536", 0 },
	{ "listen: negative port", "-1", 0 },
	{ "listen: IPv6 without brackets", "::1:9464", 0 },
	{ "listen: brackets without port", "[::1]", 0 },
	{ "listen: brackets without colon", "[::1]9464", 0 },
	{ "listen: IPv4 in brackets", "[1.2.3.4]:80", 0 },
	{ "listen: empty brackets", "[]:80", 0 },
	{ "listen: host name (not resolved)", "example.com:9464", 0 },
	{ "listen: short IPv4", "1.2.3:80", 0 },
	{ "listen: leading space", " 9464", 0 },
};

static void test_listen(void **state)
{
	const struct listen_case *c = *state;
	struct listen_address l = { .family = -1, .host = "untouched", .port = 7 };
	int ret = options_parse_listen(c->arg, &l);

	if (!c->ok) {
		assert_int_equal(ret, -EINVAL);
		/* Outputs untouched on failure. */
		assert_int_equal(l.family, -1);
		assert_string_equal(l.host, "untouched");
		assert_int_equal(l.port, 7);
		return;
	}
	assert_int_equal(ret, 0);
	assert_int_equal(l.family, c->family);
	assert_string_equal(l.host, c->host);
	assert_int_equal(l.port, c->port);
}

static int parse(const char *const *args, struct run_options *o, char *err, size_t errlen)
{
	char *argv[16];
	int argc = 0;

	while (args[argc]) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	return options_parse_run(argc, argv, o, err, errlen);
}

static void test_defaults_off(void **state)
{
	static const char *const args[] = { "run", NULL };
	struct run_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(args, &o, err, sizeof(err)), OPTIONS_OK);
	assert_null(o.metrics_listen);
	assert_null(o.textfile_dir);
	assert_int_equal(o.metrics_max_units, METRICS_DEFAULT_MAX_UNITS);
}

static void test_all_flags(void **state)
{
	static const char *const args[] = { "run",	       "--metrics-listen", "[::1]:9464",
					    "--textfile",      "/var/lib/node",    "--metrics-max-units",
					    "20",	       NULL };
	struct run_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(args, &o, err, sizeof(err)), OPTIONS_OK);
	assert_string_equal(o.metrics_listen, "[::1]:9464");
	assert_int_equal(o.metrics_addr.family, AF_INET6);
	assert_string_equal(o.metrics_addr.host, "::1");
	assert_int_equal(o.metrics_addr.port, 9464);
	assert_string_equal(o.textfile_dir, "/var/lib/node");
	assert_int_equal(o.metrics_max_units, 20);
}

struct error_case {
	const char *name;
	const char *args[6];
	const char *want;
};

static struct error_case error_cases[] = {
	{ "error: listen on a host name",
	  { "run", "--metrics-listen", "example.com:9464", NULL },
	  "--metrics-listen: 'example.com:9464' is not ADDR:PORT with a numeric address and a port "
	  "up to 65535 (e.g. 9464, 127.0.0.1:9464, [::1]:9464)" },
	{ "error: listen without a value", { "run", "--metrics-listen", NULL },
	  "option '--metrics-listen' needs a value" },
	{ "error: empty textfile dir", { "run", "--textfile", "", NULL },
	  "--textfile: the directory is empty" },
	{ "error: max units 0", { "run", "--metrics-max-units", "0", NULL },
	  "--metrics-max-units: '0' must be a number from 1 to 1048576" },
	{ "error: max units not a number", { "run", "--metrics-max-units", "lots", NULL },
	  "--metrics-max-units: 'lots' must be a number from 1 to 1048576" },
};

static void test_error(void **state)
{
	const struct error_case *c = *state;
	struct run_options o;
	char err[256] = "";

	assert_int_equal(parse(c->args, &o, err, sizeof(err)), OPTIONS_ERROR);
	assert_string_equal(err, c->want);
}

static void test_usage_names_the_flags(void **state)
{
	(void)state;
	assert_non_null(strstr(options_run_usage, "--metrics-listen ADDR:PORT"));
	assert_non_null(strstr(options_run_usage, "--textfile DIR"));
	assert_non_null(strstr(options_run_usage, "--metrics-max-units N"));
}

#define N_TESTS (ARRAY_SIZE(listen_cases) + ARRAY_SIZE(error_cases) + 3)

int main(void)
{
	static struct CMUnitTest tests[N_TESTS];
	size_t n = 0;

#define ADD_ROWS(table, fn)                                                                   \
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)                                        \
	tests[n++] = (struct CMUnitTest){ .name = table[i].name, .test_func = fn,             \
					  .initial_state = &table[i] }
#define ADD(fn) tests[n++] = (struct CMUnitTest){ .name = #fn, .test_func = fn }

	ADD_ROWS(listen_cases, test_listen);
	ADD_ROWS(error_cases, test_error);
	ADD(test_defaults_off);
	ADD(test_all_flags);
	ADD(test_usage_names_the_flags);
	if (n != N_TESTS) {
		fprintf(stderr, "test table miscounted: %zu of %zu\n", n, (size_t)N_TESTS);
		return 1;
	}
	return cmocka_run_group_tests_name("options_metrics", tests, NULL, NULL);
}
