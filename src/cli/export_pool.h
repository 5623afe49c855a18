/* export's reader: a volume read in large chunks by several threads and
 * handed on strictly in order, so that decryption uses every core while the
 * output stays one sequential stream. */
#ifndef VU_CLI_EXPORT_POOL_H
#define VU_CLI_EXPORT_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/blk.h"

/* The most --threads takes: beyond it more threads only add buffers. */
#define EXPORT_MAX_THREADS 64
/* One read: large enough that a layer's per-read cost is lost in it, a
 * multiple of every sector size, so every read starts aligned. */
#define EXPORT_CHUNK ((size_t)4 << 20)

/* Takes the chunk [off, off + len) of the volume; called in order of off,
 * always from the thread that called export_pool_run.  A negative errno
 * (its message recorded with vu_fail) ends the run with that error. */
typedef int (*export_sink_fn)(void *arg, const uint8_t *buf, size_t len,
			      uint64_t off);

/* One thread per online CPU, from 1 to EXPORT_MAX_THREADS. */
unsigned export_pool_default_threads(void);

/* Read all of b in EXPORT_CHUNK pieces with nthreads reader threads (1: a
 * plain loop in the calling thread) and give each piece to sink, in order.
 * At most 2 * nthreads chunks are held at once, in buffers allocated here
 * once.  The first error, a read's or the sink's, stops every thread; it is
 * returned with its message recorded in the calling thread, and no thread
 * is left running. */
int export_pool_run(struct vu_blk *b, unsigned nthreads, export_sink_fn sink,
		    void *arg);

#endif
