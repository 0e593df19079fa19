// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mountinfo.h"

void mountinfo_unescape(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/*
 * mountinfo(5): ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
 * The optional fields vary in number; the " - " separator ends them.
 */
static int parse_line(char *line, char **ret_root, char **ret_mnt, char **ret_fstype)
{
	char *fields[6], *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(line, " \n", &save); tok && n < 6; tok = strtok_r(NULL, " \n", &save))
		fields[n++] = tok;
	if (n < 6)
		return -EINVAL;
	for (; tok; tok = strtok_r(NULL, " \n", &save)) {
		if (strcmp(tok, "-") == 0) {
			tok = strtok_r(NULL, " \n", &save);
			if (!tok)
				return -EINVAL;
			*ret_root = fields[3];
			*ret_mnt = fields[4];
			*ret_fstype = tok;
			return 0;
		}
	}
	return -EINVAL;
}

int mountinfo_find_cgroup2(FILE *f, char *ret_path, size_t size)
{
	char *line = NULL, *root, *mnt, *fstype;
	size_t cap = 0;
	int ret = -ENOENT;

	while (getline(&line, &cap, f) > 0) {
		if (parse_line(line, &root, &mnt, &fstype) < 0)
			continue;
		if (strcmp(fstype, "cgroup2") != 0 || strcmp(root, "/") != 0)
			continue;
		mountinfo_unescape(mnt);
		if (strlen(mnt) >= size) {
			ret = -ENAMETOOLONG;
			break;
		}
		strcpy(ret_path, mnt);
		ret = 0;
		break;
	}
	free(line);
	return ret;
}
