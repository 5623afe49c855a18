#include "shell.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int ut_have(const char *tool)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), PATHS " command -v %s >/dev/null 2>&1",
		 tool);
	return system(cmd) == 0;
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
