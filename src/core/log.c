#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

static vu_log_fn sink;
static void *sink_arg;
static enum vu_log_level max_level = VU_LOG_WARN;

void vu_log_set_sink(vu_log_fn fn, void *arg)
{
	sink = fn;
	sink_arg = arg;
}

void vu_log_set_level(enum vu_log_level level)
{
	max_level = level;
}

int vu_log_enabled(enum vu_log_level level)
{
	return sink && level <= max_level;
}

void vu_log(enum vu_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!vu_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sink(level, msg, sink_arg);
}
