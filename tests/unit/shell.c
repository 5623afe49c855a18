/* Running real tools and reaching their files in the scratch directory
 * the unit tests share (see shell.h). */
#include "shell.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

char ut_tmpdir[256];

#define PATHS "PATH=\"$PATH:/sbin:/usr/sbin\""

int ut_setup_tmp(const char *prefix)
{
	const char *base = getenv("TMPDIR");

	snprintf(ut_tmpdir, sizeof(ut_tmpdir), "%s/%s-XXXXXX",
		 base && *base ? base : "/tmp", prefix);
	return mkdtemp(ut_tmpdir) ? 0 : -1;
}

int ut_teardown_tmp(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", ut_tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int ut_tmp_group_setup(void **state)
{
	char prefix[128];

	(void)state;
	/* the program's name, so that a directory left behind by a crash
	 * says which test made it */
	snprintf(prefix, sizeof(prefix), "vu-%s",
		 program_invocation_short_name);
	return ut_setup_tmp(prefix);
}

int ut_tmp_group_teardown(void **state)
{
	(void)state;
	return ut_teardown_tmp();
}

const char *ut_path(const char *fmt, ...)
{
	static _Thread_local char p[4][1200];
	static _Thread_local unsigned k;
	char *s = p[k++ % 4];
	char rel[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(s, sizeof(p[0]), "%s/%s", ut_tmpdir, rel);
	return s;
}

int ut_have(const char *tool)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), PATHS " command -v %s >/dev/null 2>&1",
		 tool);
	return system(cmd) == 0;
}

void ut_need(const char *tool, const char *package)
{
	if (!ut_have(tool))
		fail_msg("%s not installed (%s): the real-tool check cannot "
			 "run; install it (.ci/deps.sh)", tool, package);
}

int ut_sh(const char *fmt, ...)
{
	char cmd[2048], full[2400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "cd '%s' && " PATHS " && %s", ut_tmpdir,
		 cmd);
	return system(full);
}

void ut_sh_line(char *out, size_t n, const char *cmd)
{
	char full[2400];
	FILE *f;

	out[0] = '\0';
	snprintf(full, sizeof(full), "cd '%s' && " PATHS " && %s", ut_tmpdir,
		 cmd);
	f = popen(full, "r");
	if (!f)
		return;
	if (!fgets(out, (int)n, f))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	pclose(f);
}

int ut_open(const char *name, int flags)
{
	int fd = open(ut_path("%s", name), flags, 0600);

	if (fd < 0)
		fail_msg("%s: %s", ut_path("%s", name), strerror(errno));
	return fd;
}

void ut_read_at(const char *name, uint64_t off, void *buf, size_t len)
{
	int fd = ut_open(name, O_RDONLY);

	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

void ut_write_at(const char *name, uint64_t off, const void *buf,
		 size_t len)
{
	int fd = ut_open(name, O_WRONLY);

	assert_int_equal(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

void ut_write_file(const char *name, const void *d, size_t len)
{
	int fd = ut_open(name, O_WRONLY | O_CREAT | O_TRUNC);

	assert_int_equal(write(fd, d, len), (ssize_t)len);
	close(fd);
}
