// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include "cli_error.h"
#include "store_reader.h"

struct db *store_reader_open(const char *who, const char *path, int json)
{
	char err[256];
	struct db *db = db__open(path, DB_READ, NULL, err, sizeof(err));

	if (db)
		return db;
	if (errno == ENOENT)
		cli_error(json, who,
			  "no store at %s: start 'rcatrace run' first, or name the file with "
			  "--state PATH", path);
	else if (errno == EACCES || errno == EPERM)
		cli_error(json, who, "cannot read %s: %s; run it with sudo", path, strerror(errno));
	else
		cli_error(json, who, "refusing %s: %s", path, err);
	return NULL;
}
