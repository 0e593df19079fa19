// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * atomic_file: the one way rcatrace replaces a file (the state file, the
 * metrics textfile). Each case checks the bytes on disk, the mode, and that
 * no temporary file is left behind, on success and on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "atomic_file.h"

struct dir_fixture {
	char dir[64];
	char path[PATH_MAX];
	char tmp[PATH_MAX + 8];
};

static int setup(void **state)
{
	struct dir_fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/rcatrace-atomic-test.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/file", f->dir);
	snprintf(f->tmp, sizeof(f->tmp), "%s.tmp", f->path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct dir_fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* The whole content of path; "" when it cannot be read. */
static const char *slurp(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Entries in dir other than . and .. */
static int entries(const char *dir)
{
	char cmd[128];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

static void assert_no_tmp(const struct dir_fixture *f)
{
	struct stat st;

	assert_int_equal(lstat(f->tmp, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_writes(void **state)
{
	struct dir_fixture *f = *state;

	assert_int_equal(atomic_file_write(f->path, "hello\n", 6, 0600), 0);
	assert_string_equal(slurp(f->path), "hello\n");
	assert_no_tmp(f);
	assert_int_equal(entries(f->dir), 1);
}

static void test_replaces(void **state)
{
	struct dir_fixture *f = *state;
	struct stat before, after;

	assert_int_equal(atomic_file_write(f->path, "first version\n", 14, 0600), 0);
	assert_int_equal(stat(f->path, &before), 0);
	assert_int_equal(atomic_file_write(f->path, "second\n", 7, 0600), 0);
	assert_string_equal(slurp(f->path), "second\n");
	/* Replaced by rename (a new inode), not rewritten in place. */
	assert_int_equal(stat(f->path, &after), 0);
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(after.st_size, 7);
	assert_no_tmp(f);
	assert_int_equal(entries(f->dir), 1);
}

static void test_empty_content(void **state)
{
	struct dir_fixture *f = *state;
	struct stat st;

	assert_int_equal(atomic_file_write(f->path, "x", 1, 0600), 0);
	assert_int_equal(atomic_file_write(f->path, NULL, 0, 0600), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_no_tmp(f);
}

/* A .tmp left by a crash, or a symlink planted there, is replaced, not followed. */
static void test_stale_tmp(void **state)
{
	struct dir_fixture *f = *state;
	char target[PATH_MAX + 16];
	struct stat st;

	snprintf(target, sizeof(target), "%s/target", f->dir);
	assert_int_equal(symlink(target, f->tmp), 0);
	assert_int_equal(atomic_file_write(f->path, "new\n", 4, 0600), 0);
	assert_string_equal(slurp(f->path), "new\n");
	assert_int_equal(lstat(target, &st), -1);
	assert_no_tmp(f);

	assert_int_equal(atomic_file_write(f->tmp, "half a save", 11, 0600), 0);
	assert_int_equal(atomic_file_write(f->path, "newer\n", 6, 0600), 0);
	assert_string_equal(slurp(f->path), "newer\n");
	assert_no_tmp(f);
	assert_int_equal(entries(f->dir), 1);
}

/* The mode asked for, exactly, whatever the umask. */
static void test_mode(void **state)
{
	struct dir_fixture *f = *state;
	mode_t old = umask(077);
	struct stat st;

	assert_int_equal(atomic_file_write(f->path, "a", 1, 0644), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	umask(0);
	assert_int_equal(atomic_file_write(f->path, "b", 1, 0600), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	umask(old);
}

/* A failure after the temporary file was written leaves the old file and no .tmp. */
static void test_failure_leaves_old_file(void **state)
{
	struct dir_fixture *f = *state;
	char sub[PATH_MAX + 16], subtmp[PATH_MAX + 32];
	struct stat st;

	assert_int_equal(atomic_file_write(f->path, "keep\n", 5, 0600), 0);
	/* rename() of a file over a directory fails (EISDIR) after the write. */
	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	snprintf(subtmp, sizeof(subtmp), "%s.tmp", sub);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(atomic_file_write(sub, "x", 1, 0600), -EISDIR);
	assert_int_equal(lstat(subtmp, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_string_equal(slurp(f->path), "keep\n");
	assert_no_tmp(f);
	assert_int_equal(entries(f->dir), 2);
}

static void test_bad_paths(void **state)
{
	struct dir_fixture *f = *state;
	char missing[PATH_MAX + 32], under_file[PATH_MAX + 32], *longp;

	/* A directory that does not exist: -ENOENT, and it is not created. */
	snprintf(missing, sizeof(missing), "%s/nodir/file", f->dir);
	assert_int_equal(atomic_file_write(missing, "x", 1, 0600), -ENOENT);
	assert_int_equal(entries(f->dir), 0);
	/* A file where the directory should be. */
	assert_int_equal(atomic_file_write(f->path, "x", 1, 0600), 0);
	snprintf(under_file, sizeof(under_file), "%s/file/x", f->dir);
	assert_int_equal(atomic_file_write(under_file, "x", 1, 0600), -ENOTDIR);

	assert_int_equal(atomic_file_write("", "x", 1, 0600), -EINVAL);
	assert_int_equal(atomic_file_write(NULL, "x", 1, 0600), -EINVAL);
	assert_int_equal(atomic_file_write("/tmp/", "x", 1, 0600), -EINVAL);
	assert_int_equal(atomic_file_write(f->path, NULL, 1, 0600), -EINVAL);
	/* path.tmp would not fit in PATH_MAX. */
	longp = malloc(PATH_MAX);
	assert_non_null(longp);
	memset(longp, 'a', PATH_MAX - 3);
	longp[PATH_MAX - 3] = '\0';
	assert_int_equal(atomic_file_write(longp, "x", 1, 0600), -ENAMETOOLONG);
	free(longp);
	assert_string_equal(slurp(f->path), "x");
	assert_int_equal(entries(f->dir), 1);
}

/* A path without a slash is relative to the working directory. */
static void test_relative(void **state)
{
	struct dir_fixture *f = *state;
	char cwd[PATH_MAX];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(atomic_file_write("rel", "r\n", 2, 0600), 0);
	assert_string_equal(slurp("rel"), "r\n");
	assert_int_equal(access("rel.tmp", F_OK), -1);
	assert_int_equal(chdir(cwd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_writes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replaces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_content, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_tmp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failure_leaves_old_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_relative, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
