// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

static int64_t ts_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t clock_now_unix_ms(void)
{
	return ts_ns(CLOCK_REALTIME) / 1000000;
}

uint64_t clock_now_boot_ns(void)
{
	return (uint64_t)ts_ns(CLOCK_BOOTTIME);
}

int64_t clock_boot_ns_to_unix_ms(uint64_t boot_ns)
{
	int64_t offset = ts_ns(CLOCK_REALTIME) - ts_ns(CLOCK_BOOTTIME);

	return ((int64_t)boot_ns + offset) / 1000000;
}

char *clock_format_iso8601(int64_t unix_ms, char *dst, size_t size)
{
	time_t secs = (time_t)(unix_ms / 1000);
	int ms = (int)(unix_ms % 1000);
	struct tm tm;

	if (ms < 0) {
		ms += 1000;
		secs--;
	}
	if (!gmtime_r(&secs, &tm)) {
		snprintf(dst, size, "?");
		return dst;
	}
	snprintf(dst, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
	return dst;
}

int clock_parse_duration_ms(const char *s, int64_t *ret_ms)
{
	static const struct {
		const char *suffix;
		double ms;
	} units[] = { { "", 1000 },	{ "s", 1000 },	  { "ms", 1 },	     { "m", 60000 },
		      { "min", 60000 }, { "h", 3600000 }, { "d", 86400000 } };
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			double ms = v * units[i].ms;

			if (ms > 9.0e15)
				return -EINVAL;
			*ret_ms = (int64_t)llround(ms);
			return 0;
		}
	}
	return -EINVAL;
}

int clock_parse_since(const char *s, int64_t now_ms, int64_t *ret_unix_ms)
{
	struct tm tm = { 0 };
	int64_t back;
	const char *end;

	if (!s)
		return -EINVAL;
	if (clock_parse_duration_ms(s, &back) == 0) {
		*ret_unix_ms = now_ms - back;
		return 0;
	}
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end)
		return -EINVAL;
	if (*end == 'T' || *end == ' ') {
		const char *t = strptime(end + 1, "%H:%M:%S", &tm);

		if (!t)
			t = strptime(end + 1, "%H:%M", &tm);
		if (!t)
			return -EINVAL;
		end = t;
	}
	if (*end == 'Z')
		end++;
	if (*end)
		return -EINVAL;
	{
		/* timegm() would move 2026-02-31 into March: a date that is not one is refused. */
		int mday = tm.tm_mday, mon = tm.tm_mon, year = tm.tm_year;
		time_t t = timegm(&tm);

		if (tm.tm_mday != mday || tm.tm_mon != mon || tm.tm_year != year)
			return -EINVAL;
		*ret_unix_ms = (int64_t)t * 1000;
	}
	return 0;
}
