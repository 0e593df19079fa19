/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Untrusted bytes (comm, file names, cgroup names) made safe for a terminal or JSON. */
#ifndef RCATRACE_ESCAPE_H
#define RCATRACE_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/*
 * Terminal form: printable ASCII and valid UTF-8 pass; control bytes, DEL,
 * backslash and invalid UTF-8 become \n, \t, \\, \xHH. Always NUL-terminates
 * (when size > 0) and truncates on a character boundary. Reads at most
 * src_len bytes and stops at a NUL. Returns the length written.
 */
size_t escape_terminal(char *dst, size_t size, const char *src, size_t src_len);

/*
 * JSON string body (no quotes): ", \ and control bytes escaped; valid UTF-8
 * passes; each invalid byte becomes U+FFFD so the output is always valid JSON
 * and always valid UTF-8. Same buffer contract as escape_terminal().
 */
size_t escape_json(char *dst, size_t size, const char *src, size_t src_len);

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if s[0..n) is not one. */
size_t utf8_sequence_len(const unsigned char *s, size_t n);

/* Writes "src" as a quoted JSON string to f. */
void fputs_json_string(FILE *f, const char *src, size_t src_len);

#endif
