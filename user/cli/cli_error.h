/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one way commands report a fatal error: a line on stderr, and JSON on stdout in --json mode. */
#ifndef RCATRACE_CLI_ERROR_H
#define RCATRACE_CLI_ERROR_H

/*
 * Prints "<prefix>: <message>" on stderr and, when json is set, also
 * {"type":"error","error":"<message>"} on stdout, so a script reading the
 * JSON stream learns why it ended.
 */
void cli_error(int json, const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
