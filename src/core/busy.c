#include "core/busy.h"

#include <stdarg.h>
#include <stdio.h>

static vu_busy_fn sink;
static void *sink_arg;

void vu_busy_set_sink(vu_busy_fn fn, void *arg)
{
	sink = fn;
	sink_arg = arg;
}

void vu_busy_begin(const char *fmt, ...)
{
	char what[256];
	va_list ap;

	if (!sink)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	sink(what, sink_arg);
}

void vu_busy_end(void)
{
	if (sink)
		sink(NULL, sink_arg);
}
