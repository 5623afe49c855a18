/* Unit tests that check our parsers and writers against structures
 * written or read by real tools (sgdisk, sfdisk, fdisk, mkfs.*,
 * qemu-img) run those tools in one scratch directory through these
 * helpers, and reach the files there through them, so that each test
 * program does not carry its own copy. */
#ifndef VU_TEST_SHELL_H
#define VU_TEST_SHELL_H

#include <stddef.h>
#include <stdint.h>

extern char ut_tmpdir[256];

/* Make ut_tmpdir as $TMPDIR/<prefix>-XXXXXX; 0 or -1. */
int ut_setup_tmp(const char *prefix);
/* Remove ut_tmpdir and everything in it; 0 or -1. */
int ut_teardown_tmp(void);
/* cmocka group fixtures for a program whose tests share one ut_tmpdir:
 * made as vu-<program name>-XXXXXX before the first test, removed with
 * all in it after the last. */
int ut_tmp_group_setup(void **state);
int ut_tmp_group_teardown(void **state);

/* The path of a file in ut_tmpdir, its name printed from fmt.  The
 * string lives until the fourth next call in the same thread, so that a
 * call may name two or three paths at once. */
const char *ut_path(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Non-zero when the tool is on PATH (sbin directories included). */
int ut_have(const char *tool);
/* Fail the test unless the tool is on PATH: a check against a real tool
 * that cannot run must not pass.  package names what installs it. */
void ut_need(const char *tool, const char *package);
/* Run a shell command inside ut_tmpdir; its exit status. */
int ut_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The first line a command prints (inside ut_tmpdir), without newline. */
void ut_sh_line(char *out, size_t n, const char *cmd);

/* open(2) of the file name in ut_tmpdir (mode 0600 if it is made); a
 * failure fails the test with the reason. */
int ut_open(const char *name, int flags);
/* Exactly len bytes at off of the existing file name in ut_tmpdir, read
 * into buf or written from it; anything less fails the test. */
void ut_read_at(const char *name, uint64_t off, void *buf, size_t len);
void ut_write_at(const char *name, uint64_t off, const void *buf,
		 size_t len);
/* The file name in ut_tmpdir made anew (mode 0600) to hold d[len]. */
void ut_write_file(const char *name, const void *d, size_t len);

#endif
