/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A streaming JSON writer: keeps track of commas and nesting, escapes every string. */
#ifndef RCATRACE_JSON_WRITER_H
#define RCATRACE_JSON_WRITER_H

#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json_writer {
	FILE *f;
	int depth;
	int need_comma[JSON_MAX_DEPTH + 1]; /* [0] is the top level */
	int after_key;
};

void json_init(struct json_writer *w, FILE *f);
void json_object_begin(struct json_writer *w);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w);
void json_array_end(struct json_writer *w);
void json_key(struct json_writer *w, const char *key);
void json_string(struct json_writer *w, const char *s);
/* A string of at most n bytes (stops at NUL): for fixed kernel buffers. */
void json_string_n(struct json_writer *w, const char *s, size_t n);
void json_u64(struct json_writer *w, uint64_t v);
void json_i64(struct json_writer *w, int64_t v);
/* Finite values print with `decimals` digits; NaN and infinities print null. */
void json_double(struct json_writer *w, double v, int decimals);
void json_bool(struct json_writer *w, int v);
void json_null(struct json_writer *w);

/* key + value shorthands */
void json_kv_string(struct json_writer *w, const char *key, const char *s);
void json_kv_u64(struct json_writer *w, const char *key, uint64_t v);
void json_kv_i64(struct json_writer *w, const char *key, int64_t v);
void json_kv_double(struct json_writer *w, const char *key, double v, int decimals);
void json_kv_bool(struct json_writer *w, const char *key, int v);
void json_kv_null(struct json_writer *w, const char *key);

#endif
