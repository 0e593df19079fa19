// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "crash_storm.h"

void crash_storm_config_default(struct crash_storm_config *c)
{
	c->window_ms = 60000;
	c->min_crashes = 5;
	c->quiet_ms = 60000;
}

void crash_storm_track_init(struct crash_storm_track *t, uint64_t baseline)
{
	memset(t, 0, sizeof(*t));
	t->last_count = baseline;
}

static int64_t window_of(const struct crash_storm_config *c)
{
	return c->window_ms > 0 ? c->window_ms : 60000;
}

uint64_t crash_storm_window_crashes(const struct crash_storm_track *t,
				    const struct crash_storm_config *c, int64_t now_ms)
{
	uint64_t n = 0;

	for (int i = 0; i < CRASH_STORM_SLOTS; i++)
		if (t->slot_ms[i] && t->slot_ms[i] > now_ms - window_of(c))
			n += t->slot_n[i];
	return n;
}

/* Adds n crashes at now_ms: into the newest slot while it is young, else a new slot. */
static void add_crashes(struct crash_storm_track *t, const struct crash_storm_config *c,
			int64_t now_ms, uint64_t n)
{
	int64_t slot_len = window_of(c) / CRASH_STORM_SLOTS;

	if (!t->slot_ms[t->head] || now_ms - t->slot_ms[t->head] >= slot_len) {
		t->head = (t->head + 1) % CRASH_STORM_SLOTS;
		t->slot_ms[t->head] = now_ms;
		t->slot_n[t->head] = 0;
	}
	t->slot_n[t->head] += n;
}

enum crash_storm_transition crash_storm_track_observe(struct crash_storm_track *t,
						      const struct crash_storm_config *c,
						      int64_t now_ms, uint64_t crashes)
{
	uint64_t quiet = c->quiet_ms > 0 ? (uint64_t)c->quiet_ms : 60000;

	if (crashes < t->last_count)
		t->last_count = crashes; /* re-made kernel entries: what came between is unknown */
	if (crashes > t->last_count) {
		add_crashes(t, c, now_ms, crashes - t->last_count);
		t->last_crash_ms = now_ms;
		t->last_count = crashes;
	}
	if (!t->storm) {
		if (crash_storm_window_crashes(t, c, now_ms) >= (c->min_crashes ? c->min_crashes : 5)) {
			t->storm = 1;
			t->since_ms = now_ms;
			return CRASH_STORM_STARTED;
		}
	} else if (t->last_crash_ms && (uint64_t)(now_ms - t->last_crash_ms) >= quiet) {
		t->storm = 0;
		/* The next storm counts only crashes after this one ended. */
		memset(t->slot_ms, 0, sizeof(t->slot_ms));
		memset(t->slot_n, 0, sizeof(t->slot_n));
		return CRASH_STORM_ENDED;
	}
	return CRASH_STORM_NO_CHANGE;
}
