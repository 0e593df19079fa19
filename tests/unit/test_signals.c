// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * signals: the one name <-> number table, checked against the C library's
 * own numbering, and through its two users: --kill-signals (parsing) and
 * report_signal_name() (printing).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"
#include "report.h"
#include "signals.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BIT(n)	      (1ULL << (n))

/* Every named signal, with the number <signal.h> gives it here. */
static const struct {
	const char *name;
	int sig;
} named[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},	      {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},     {"BUS", SIGBUS},	 {"FPE", SIGFPE},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT},
    {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},	 {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO},     {"PWR", SIGPWR},	      {"SYS", SIGSYS},
};

static void test_table_matches_libc(void **state)
{
	char with_sig[16];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(named); i++) {
		assert_string_equal(signals_name(named[i].sig), named[i].name);
		assert_int_equal(signals_number(named[i].name), named[i].sig);
		snprintf(with_sig, sizeof(with_sig), "SIG%s", named[i].name);
		assert_int_equal(signals_number(with_sig), named[i].sig);
	}
	/* 1..31 all have a name: none is missing from the table. */
	for (int sig = 1; sig <= 31; sig++)
		assert_non_null(signals_name(sig));
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(signals_number("SEGV"), 11);
	assert_int_equal(signals_number("SIGSEGV"), 11);
	assert_int_equal(signals_number("segv"), 11);
	assert_int_equal(signals_number("SigTerm"), 15);
	/* Other names of 6 and 29: parsed, printed under the first name. */
	assert_int_equal(signals_number("IOT"), 6);
	assert_int_equal(signals_number("SIGPOLL"), 29);
	assert_string_equal(signals_name(6), "ABRT");
	assert_string_equal(signals_name(29), "IO");

	assert_int_equal(signals_number(""), -EINVAL);
	assert_int_equal(signals_number("SIG"), -EINVAL);
	assert_int_equal(signals_number("SIGSIGSEGV"), -EINVAL);
	assert_int_equal(signals_number("SEG"), -EINVAL);
	assert_int_equal(signals_number("SEGVX"), -EINVAL);
	assert_int_equal(signals_number("9"), -EINVAL);
	assert_int_equal(signals_number(NULL), -EINVAL);

	assert_null(signals_name(0));
	assert_null(signals_name(-1));
	assert_null(signals_name(32));
	assert_null(signals_name(64));
	assert_null(signals_name(1000));
}

static void test_default_fatal(void **state)
{
	static const int not_fatal[] = {SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP,
					SIGTTIN, SIGTTOU, SIGURG,  SIGWINCH};
	int n = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(not_fatal); i++)
		assert_int_equal(signals_default_fatal(not_fatal[i]), 0);
	for (int sig = 1; sig <= 64; sig++)
		n += signals_default_fatal(sig);
	assert_int_equal(n, 64 - (int)ARRAY_SIZE(not_fatal));
	assert_int_equal(signals_default_fatal(SIGKILL), 1);
	assert_int_equal(signals_default_fatal(SIGRTMIN), 1);
	assert_int_equal(signals_default_fatal(0), 0);
	assert_int_equal(signals_default_fatal(65), 0);
}

/* ---- --kill-signals ------------------------------------------------------ */

struct parse_case {
	const char *name;
	const char *list;
	int ret;
	uint64_t mask;
};

static struct parse_case parse_cases[] = {
    {"kill-signals: names", "TERM,KILL,SEGV", 0, BIT(15) | BIT(9) | BIT(11)},
    {"kill-signals: SIG prefix and any case", "SIGTERM,sigkill,SigSegv", 0,
     BIT(15) | BIT(9) | BIT(11)},
    {"kill-signals: numbers", "9,15,34", 0, BIT(9) | BIT(15) | BIT(34)},
    {"kill-signals: SIG and a number", "SIG9", 0, BIT(9)},
    {"kill-signals: aliases", "IOT,POLL", 0, BIT(6) | BIT(29)},
    /* Named in the table but absent from the old parser's copy of it. */
    {"kill-signals: STKFLT", "STKFLT", 0, BIT(16)},
    {"kill-signals: highest bit", "63", 0, BIT(63)},
    {"kill-signals: 64 does not fit the mask", "64", -EINVAL, 0},
    {"kill-signals: 0", "0", -EINVAL, 0},
    {"kill-signals: unknown name", "TERM,NOPE", -EINVAL, 0},
    {"kill-signals: CHLD is not fatal", "CHLD", -EINVAL, 0},
    {"kill-signals: STOP is not fatal", "SIGSTOP", -EINVAL, 0},
    {"kill-signals: TTIN stops, by name", "TTIN", -EINVAL, 0},
    {"kill-signals: TTOU stops, by number", "22", -EINVAL, 0},
    {"kill-signals: URG is ignored", "URG", -EINVAL, 0},
    {"kill-signals: WINCH is ignored", "28", -EINVAL, 0},
    {"kill-signals: empty", "", -EINVAL, 0},
    {"kill-signals: only commas", ",,", -EINVAL, 0},
    {"kill-signals: negative", "-9", -EINVAL, 0},
    {"kill-signals: space", " TERM", -EINVAL, 0},
};

static void test_parse(void **state)
{
	const struct parse_case *c = *state;
	uint64_t mask = 0xdead;

	assert_int_equal(options_parse_signals(c->list, &mask), c->ret);
	/* A refused list leaves the mask untouched. */
	assert_int_equal(mask, c->ret ? 0xdead : c->mask);
}

/* ---- report_signal_name() ---------------------------------------------- */

struct print_case {
	const char *name;
	uint32_t sig;
	size_t size;
	const char *want;
};

static struct print_case print_cases[] = {
    {"print: KILL", 9, 16, "KILL"},
    {"print: SEGV", 11, 16, "SEGV"},
    {"print: SYS", 31, 16, "SYS"},
    {"print: 0 as a number", 0, 16, "0"},
    {"print: real-time as a number", 34, 16, "34"},
    {"print: past 64 as a number", 4000000000u, 16, "4000000000"},
    {"print: cut to the buffer", 26, 4, "VTA"},
};

static void test_print(void **state)
{
	const struct print_case *c = *state;
	char buf[32];

	memset(buf, 'x', sizeof(buf));
	assert_ptr_equal(report_signal_name(c->sig, buf, c->size), buf);
	assert_string_equal(buf, c->want);
}

int main(void)
{
	struct CMUnitTest tests[3 + ARRAY_SIZE(parse_cases) + ARRAY_SIZE(print_cases)];
	size_t n = 0;

#define ADD_ROWS(table, fn)                                                                        \
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)                                             \
	tests[n++] = (struct CMUnitTest){                                                          \
	    .name = table[i].name, .test_func = fn, .initial_state = &table[i]}
#define ADD(fn)                                                                                    \
	tests[n++] = (struct CMUnitTest)                                                           \
	{                                                                                          \
		.name = #fn, .test_func = fn                                                       \
	}

	ADD(test_table_matches_libc);
	ADD(test_names);
	ADD(test_default_fatal);
	ADD_ROWS(parse_cases, test_parse);
	ADD_ROWS(print_cases, test_print);
	return _cmocka_run_group_tests("signals", tests, n, NULL, NULL);
}
