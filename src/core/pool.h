/* A pool of worker threads for splitting one large piece of work (a read
 * through the mount) into parts done at once on every core.  The caller
 * works on the parts too, so a pool of no threads, or one whose workers are
 * all busy with other callers' parts, still finishes the work: the pool
 * only adds hands, it is never waited on for a free thread. */
#ifndef VU_POOL_H
#define VU_POOL_H

#include <stddef.h>

struct vu_pool;

/* Start n worker threads (0: none, every part runs on the caller). */
int vu_pool_new(unsigned int n, struct vu_pool **out);
/* Stop and join the workers; parts in progress are finished first. */
void vu_pool_free(struct vu_pool *p);

/* Run part(ctx, i) for i in [0, n) on the caller and any idle workers;
 * return when all are done.  0, or the error of the first part that
 * failed, with its message set on the calling thread (parts after a failed
 * one may be skipped).  Any number of callers may run at once. */
int vu_pool_run(struct vu_pool *p, int (*part)(void *ctx, size_t i),
		void *ctx, size_t n);

#endif
