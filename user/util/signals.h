/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Linux signal names and numbers: the one table rcatrace parses and prints them with. */
#ifndef RCATRACE_SIGNALS_H
#define RCATRACE_SIGNALS_H

/*
 * The name of signal sig without "SIG" ("KILL"), or NULL for a number with
 * no name (0, the real-time signals 32..64, anything else).
 */
const char *signals_name(int sig);

/*
 * The number of a signal name, "SEGV" or "SIGSEGV", in any case. Names
 * only: a number is not a name. -EINVAL when it names no signal.
 */
int signals_number(const char *name);

/*
 * 1 if the kernel's default action for sig ends the process (terminate, or
 * core dump): every signal but CHLD, CONT, STOP, TSTP, TTIN, TTOU, URG and
 * WINCH, the real-time ones included. 0 otherwise, and for 0 or past 64.
 */
int signals_default_fatal(int sig);

#endif
