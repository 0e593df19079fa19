// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>

#include "cli_error.h"
#include "json_writer.h"

void cli_error(int json, const char *prefix, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", prefix, msg);
	if (json) {
		struct json_writer w;

		json_init(&w, stdout);
		json_object_begin(&w);
		json_kv_string(&w, "type", "error");
		json_kv_string(&w, "error", msg);
		json_object_end(&w);
		fputc('\n', stdout);
		fflush(stdout);
	}
}
