#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Thread-local: the FUSE loop reads from many threads at once and each
 * request must report its own first failure. */
static _Thread_local char err_msg[1024];
static _Thread_local int err_set;

int vu_fail(int err, const char *fmt, ...)
{
	va_list ap;

	if (err_set)
		return err;
	va_start(ap, fmt);
	vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
	va_end(ap);
	err_set = 1;
	return err;
}

const char *vu_errmsg(int err)
{
	if (err_set)
		return err_msg;
	switch (err) {
	case -EUCLEAN:
		return "corrupt metadata";
	case -ENOTSUP:
		return "unsupported feature";
	case -EPERM:
		return "wrong key";
	case -ENOKEY:
		return "no key for this volume";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

void vu_err_clear(void)
{
	err_set = 0;
	err_msg[0] = '\0';
}

int vu_err_isset(void)
{
	return err_set;
}
