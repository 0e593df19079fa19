// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"

/* The directory part of path into dir: "." without a slash, "/" for "/x". */
static int parent_dir(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash)
		return snprintf(dir, size, ".") < (int)size ? 0 : -ENAMETOOLONG;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The rename is on disk only once its directory is. */
static int fsync_dir(const char *dir)
{
	int fd, e = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Some file systems cannot sync a directory; the rename is done all the same. */
	if (fsync(fd) < 0 && errno != EINVAL)
		e = -errno;
	close(fd);
	return e;
}

int atomic_file_write(const char *path, const void *buf, size_t len, mode_t mode)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	int fd, e;

	if (!path || !*path || path[strlen(path) - 1] == '/' || (!buf && len))
		return -EINVAL;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	e = parent_dir(path, dir, sizeof(dir));
	if (e)
		return e;
	/*
	 * A .tmp left by a crash is removed, then created afresh with O_EXCL so
	 * its mode is ours and a symlink planted in its place is not followed.
	 */
	if (unlink(tmp) < 0 && errno != ENOENT)
		return -errno;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode & 07777);
	if (fd < 0)
		return -errno;
	/* The mode asked for, whatever the umask took off at creation. */
	e = fchmod(fd, mode & 07777) < 0 ? -errno : 0;
	if (!e)
		e = write_all(fd, buf, len);
	if (!e && fsync(fd) < 0)
		e = -errno;
	if (close(fd) < 0 && !e)
		e = -errno;
	if (!e && rename(tmp, path) < 0)
		e = -errno;
	if (e) {
		unlink(tmp);
		return e;
	}
	return fsync_dir(dir);
}
