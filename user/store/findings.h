/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Findings of the model, as the store keeps them: an interval, opened and closed. */
#ifndef RCATRACE_FINDINGS_H
#define RCATRACE_FINDINGS_H

#include <stdint.h>

#include "unit_table.h"

struct db;

/*
 * Opens (f->started) or closes the finding's row, committed and fsynced. 0 or
 * -errno (the store could not be written: the caller says it, once).
 */
int store_finding(struct db *db, const char *boot_id, const struct unit_table_finding *f,
		  int64_t now_ms);

#endif
