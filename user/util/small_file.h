/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reading the small files of /proc and cgroupfs, safely. */
#ifndef RCATRACE_SMALL_FILE_H
#define RCATRACE_SMALL_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Reads at most size - 1 bytes of a regular file and NUL-terminates them.
 * O_NONBLOCK, and anything but a regular file refused: a FIFO planted in a
 * tree must not hang the sampler. Returns the length or -errno.
 */
ssize_t small_file_read(const char *path, char *buf, size_t size);

#endif
