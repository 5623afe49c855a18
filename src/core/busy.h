/* Long steps whose amount of work is unknown, such as deriving a key with
 * Argon2 at 1 GiB: the core says when one starts and ends, and the front
 * end shows that it is busy (a ticker on a terminal).  Without a sink the
 * calls do nothing (fuzzers, unit tests, the FUSE daemon). */
#ifndef VU_BUSY_H
#define VU_BUSY_H

#include "core/error.h"

/* what: "p2: deriving the key (argon2id, 1024 MiB, 4 threads)" on begin,
 * NULL on end. */
typedef void (*vu_busy_fn)(const char *what, void *arg);

void vu_busy_set_sink(vu_busy_fn fn, void *arg);
void vu_busy_begin(const char *fmt, ...) VU_PRINTF(1, 2);
void vu_busy_end(void);

#endif
