/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Opening the store for the readers (dump, timeline, history, report), with one message per way it fails. */
#ifndef RCATRACE_STORE_READER_H
#define RCATRACE_STORE_READER_H

#include "db.h"

/*
 * The store at path, read-only; NULL after saying why on stderr (or as a
 * JSON error line with json), prefixed by who ("rcatrace timeline").
 */
struct db *store_reader_open(const char *who, const char *path, int json);

#endif
