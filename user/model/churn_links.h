/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Churn growth across units: while a unit is in a respawn or crash storm,
 * which other unit's memory, or which kernel figure, grows per start of it?
 * The statistics are churn_growth's, one tracker per (storm, candidate)
 * pair; this module keeps what they need around them:
 *
 * - a short history of every candidate and every unit that starts: one
 *   point each CHURN_TICK_MS (value and cumulative starts, on one shared
 *   clock), CHURN_HISTORY points, so a storm found now has a pre-window
 *   (up to 160 s) of how each neighbour behaved before it;
 * - the pairs of each storm: made when the storm is first seen, the kernel
 *   figures and the CHURN_PAIRS_PER_STORM candidates that grew most over
 *   the history, replayed from it; refilled every CHURN_REFILL_MS with the
 *   fastest growers not yet followed; released when the storm ends;
 * - two storms at once: a candidate linked to one storm while it grows with
 *   another too is attributed by churn_growth_pick(): to this one, to the
 *   other (the link is not said), to both, or said to be ambiguous.
 *
 * Memory: a history of about 0.6 KiB per followed name (at most
 * CHURN_MAX_NAMES, names unseen for CHURN_FORGET_MS are forgotten) and
 * 4.3 KiB per pair (at most CHURN_MAX_PAIRS).
 */
#ifndef RCATRACE_CHURN_LINKS_H
#define RCATRACE_CHURN_LINKS_H

#include <stdint.h>

#include "churn_growth.h"

#define CHURN_TICK_MS 5000
#define CHURN_HISTORY 32
#define CHURN_MAX_NAMES 8192
#define CHURN_FORGET_MS 600000
#define CHURN_PAIRS_PER_STORM 24
#define CHURN_MAX_PAIRS 256
#define CHURN_REFILL_MS 30000

struct churn_links;

/* A unit in a storm now: its cumulative starts, and when the storm was flagged. */
struct churn_storm {
	const char *unit;
	uint64_t starts;
	int64_t since_ms;
};

/* A link starting, ending, or still standing (ongoing, each sample). */
struct churn_link_event {
	int started;		    /* 1: started or still standing; 0: ended */
	int ongoing;		    /* 1: still standing, reported again with its figures now */
	const char *storm_unit;
	const char *growing;	    /* a unit, or a kernel pseudo-unit ("kernel:slab") */
	const char *ambiguous_with; /* another storm it grows with as well; NULL: none */
	struct churn_growth_result res;
};

typedef void (*churn_link_fn)(void *ctx, const struct churn_link_event *e);

struct churn_links *churn_links__new(void);
void churn_links__free(struct churn_links *c);

/*
 * This sample's figure of a name: a unit's memory (KiB) or a kernel figure
 * (KiB, or a count), its cumulative starts (0 for a kernel figure) and those
 * it had before this run began (read at its first record: a unit first seen
 * with its storm had these before). candidate: whether it may be linked as
 * the one that grows (a kernel figure, a unit with memory). Call for every
 * name, then churn_links__observe().
 */
void churn_links__record(struct churn_links *c, const char *name, int64_t now_ms, double value,
			 uint64_t starts, uint64_t starts_before, int candidate);

/*
 * The storms now (a storm missing from the list has ended): pairs are made,
 * fed and released, and fn hears of every link that starts or ends, and of
 * every standing link (ongoing). Returns the pairs dropped for want of room
 * so far.
 */
uint64_t churn_links__observe(struct churn_links *c, int64_t now_ms, const struct churn_storm *storms,
			      uint32_t n_storms, churn_link_fn fn, void *ctx);

/* The links standing now, for an OOM record or the metrics: fn for each; returns how many. */
uint32_t churn_links__each_link(const struct churn_links *c, churn_link_fn fn, void *ctx);

#endif
