// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "escape.h"
#include "json_writer.h"

void json_init(struct json_writer *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
}

/* Separator before a value: a comma unless first in its container or right after a key. */
static void value_prefix(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	/* Top-level values are separate documents (JSON lines): no comma between them. */
	if (w->depth > 0 && w->need_comma[w->depth])
		fputc(',', w->f);
	w->need_comma[w->depth] = 1;
}

static void open_container(struct json_writer *w, char c)
{
	value_prefix(w);
	fputc(c, w->f);
	if (w->depth < JSON_MAX_DEPTH)
		w->depth++;
	w->need_comma[w->depth] = 0;
}

static void close_container(struct json_writer *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	fputc(c, w->f);
}

void json_object_begin(struct json_writer *w)
{
	open_container(w, '{');
}

void json_object_end(struct json_writer *w)
{
	close_container(w, '}');
}

void json_array_begin(struct json_writer *w)
{
	open_container(w, '[');
}

void json_array_end(struct json_writer *w)
{
	close_container(w, ']');
}

void json_key(struct json_writer *w, const char *key)
{
	value_prefix(w);
	fputs_json_string(w->f, key, strlen(key));
	fputc(':', w->f);
	w->after_key = 1;
}

void json_string_n(struct json_writer *w, const char *s, size_t n)
{
	value_prefix(w);
	fputs_json_string(w->f, s ? s : "", s ? strnlen(s, n) : 0);
}

void json_string(struct json_writer *w, const char *s)
{
	json_string_n(w, s, s ? strlen(s) : 0);
}

void json_u64(struct json_writer *w, uint64_t v)
{
	value_prefix(w);
	fprintf(w->f, "%" PRIu64, v);
}

void json_i64(struct json_writer *w, int64_t v)
{
	value_prefix(w);
	fprintf(w->f, "%" PRId64, v);
}

void json_double(struct json_writer *w, double v, int decimals)
{
	value_prefix(w);
	if (!isfinite(v))
		fputs("null", w->f);
	else
		fprintf(w->f, "%.*f", decimals, v);
}

void json_bool(struct json_writer *w, int v)
{
	value_prefix(w);
	fputs(v ? "true" : "false", w->f);
}

void json_null(struct json_writer *w)
{
	value_prefix(w);
	fputs("null", w->f);
}

/* A keyed string that is not known (NULL) is null, never a made-up "". */
void json_kv_string(struct json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	if (s)
		json_string(w, s);
	else
		json_null(w);
}

void json_kv_u64(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	json_u64(w, v);
}

void json_kv_i64(struct json_writer *w, const char *key, int64_t v)
{
	json_key(w, key);
	json_i64(w, v);
}

void json_kv_double(struct json_writer *w, const char *key, double v, int decimals)
{
	json_key(w, key);
	json_double(w, v, decimals);
}

void json_kv_bool(struct json_writer *w, const char *key, int v)
{
	json_key(w, key);
	json_bool(w, v);
}

void json_kv_null(struct json_writer *w, const char *key)
{
	json_key(w, key);
	json_null(w);
}
