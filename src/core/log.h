/* The core never prints: it logs through a sink chosen by the front end. */
#ifndef VU_LOG_H
#define VU_LOG_H

#include "core/error.h"

enum vu_log_level {
	VU_LOG_ERROR,
	VU_LOG_WARN,
	VU_LOG_INFO,
	VU_LOG_DEBUG,
	VU_LOG_TRACE,
};

typedef void (*vu_log_fn)(enum vu_log_level level, const char *msg,
			  void *arg);

/* fn NULL discards everything (fuzzers, unit tests). */
void vu_log_set_sink(vu_log_fn fn, void *arg);
void vu_log_set_level(enum vu_log_level max_level);
int vu_log_enabled(enum vu_log_level level);
void vu_log(enum vu_log_level level, const char *fmt, ...) VU_PRINTF(2, 3);

#endif
