/* Unit tests that check our parsers against structures written by real
 * tools (sgdisk, sfdisk, fdisk, mkfs.*) run those tools in a scratch
 * directory through these helpers. */
#ifndef VU_TEST_SHELL_H
#define VU_TEST_SHELL_H

#include <stddef.h>

extern char ut_tmpdir[256];

/* Make ut_tmpdir as $TMPDIR/<prefix>-XXXXXX; 0 or -1. */
int ut_setup_tmp(const char *prefix);
/* Remove ut_tmpdir and everything in it; 0 or -1. */
int ut_teardown_tmp(void);
/* Non-zero when the tool is on PATH (sbin directories included). */
int ut_have(const char *tool);
/* Run a shell command inside ut_tmpdir; its exit status. */
int ut_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The first line a command prints (inside ut_tmpdir), without newline. */
void ut_sh_line(char *out, size_t n, const char *cmd);

#endif
