/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Replacing a file so that a reader, or a crash, sees the old one or the new one, never half. */
#ifndef RCATRACE_ATOMIC_FILE_H
#define RCATRACE_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Writes buf to path.tmp (created afresh: a stale one, or a symlink planted in
 * its place, is removed first; mode set exactly, whatever the umask), fsyncs
 * it, renames it over path and fsyncs the directory. One writer per path: a
 * second one writing the same path at once would take over the first one's
 * temporary file. 0, or -errno with path untouched and no temporary file left;
 * the one exception is a failed fsync of the directory, returned although the
 * new file is in place, because then it may not survive a crash.
 * -EINVAL for an empty path or one ending in '/'; -ENOENT when the directory
 * does not exist (it is not created).
 */
int atomic_file_write(const char *path, const void *buf, size_t len, mode_t mode);

#endif
