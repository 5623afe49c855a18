/* export's reader (export_pool.h).
 *
 * Chunk i of the volume lives in slot i % nslots while it is read and until
 * the sink has taken it.  A reader claims the next chunk only when fewer
 * than nslots chunks are ahead of the sink, so the slot it gets is free:
 * its previous chunk, i - nslots, has been written.  The calling thread is
 * the writer: it waits for the chunk it needs next and gives it to the
 * sink, which keeps the output in order whatever order the reads end in.
 *
 * Locking: everything in struct pool below the lock is read and written
 * with it held, except the buffers, which belong to whoever holds the
 * chunk (a reader from claim to ready, the writer from ready to written).
 *
 * vu_fail's message buffer is per thread, so a reader's failure is copied
 * into the pool and recorded again in the writer's thread at the end. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/export_pool.h"
#include "core/log.h"

struct pool {
	struct vu_blk *blk;
	uint64_t nchunks;
	size_t nslots;
	uint8_t *bufs;		/* nslots * EXPORT_CHUNK */
	pthread_mutex_t lock;
	pthread_cond_t space;	/* a slot was freed, or stop */
	pthread_cond_t filled;	/* a chunk was read, or stop */
	unsigned char *ready;	/* per slot: read, not yet written */
	uint64_t next;		/* the next chunk to claim */
	uint64_t written;	/* chunks the sink has taken */
	int stop;		/* the end, or the first error: all stop */
	int err;		/* that error, 0 at the end */
	char msg[1024];		/* and its message */
};

unsigned export_pool_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > EXPORT_MAX_THREADS ? EXPORT_MAX_THREADS : (unsigned)n;
}

static size_t chunk_len(const struct vu_blk *b, uint64_t i)
{
	uint64_t off = i * EXPORT_CHUNK;

	return b->size - off < EXPORT_CHUNK ? (size_t)(b->size - off)
					    : EXPORT_CHUNK;
}

static uint8_t *slot_buf(struct pool *p, uint64_t i)
{
	return p->bufs + (size_t)(i % p->nslots) * EXPORT_CHUNK;
}

/* With the lock held: stop every thread, keeping the first error (err 0:
 * the end, nothing failed). */
static void pool_stop(struct pool *p, int err, const char *msg)
{
	if (p->stop)
		return;
	p->stop = 1;
	p->err = err;
	if (err)
		snprintf(p->msg, sizeof(p->msg), "%s", msg);
	pthread_cond_broadcast(&p->space);
	pthread_cond_broadcast(&p->filled);
}

static void *reader(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		uint64_t i;
		int r;

		pthread_mutex_lock(&p->lock);
		while (!p->stop && p->next < p->nchunks &&
		       p->next - p->written >= p->nslots)
			pthread_cond_wait(&p->space, &p->lock);
		if (p->stop || p->next >= p->nchunks) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		i = p->next++;
		pthread_mutex_unlock(&p->lock);

		/* a layer may have recorded a message for a failure it went
		 * past; this read's own must be the one kept */
		vu_err_clear();
		r = vu_blk_read(p->blk, slot_buf(p, i), chunk_len(p->blk, i),
				i * EXPORT_CHUNK);

		pthread_mutex_lock(&p->lock);
		if (r < 0) {
			pool_stop(p, r, vu_errmsg(r));
		} else {
			p->ready[i % p->nslots] = 1;
			pthread_cond_signal(&p->filled);
		}
		pthread_mutex_unlock(&p->lock);
	}
}

/* The writer: every chunk to the sink in order, until the end or an error
 * (then recorded in the pool). */
static void pool_write(struct pool *p, export_sink_fn sink, void *arg)
{
	for (uint64_t i = 0; i < p->nchunks; i++) {
		size_t s = (size_t)(i % p->nslots);
		int r, stop;

		pthread_mutex_lock(&p->lock);
		while (!p->ready[s] && !p->stop)
			pthread_cond_wait(&p->filled, &p->lock);
		stop = p->stop;
		pthread_mutex_unlock(&p->lock);
		/* a failed read ends the run even when the chunks before it
		 * are ready: the output is incomplete either way */
		if (stop)
			return;
		r = sink(arg, slot_buf(p, i), chunk_len(p->blk, i),
			 i * EXPORT_CHUNK);
		pthread_mutex_lock(&p->lock);
		if (r < 0) {
			pool_stop(p, r, vu_errmsg(r));
		} else {
			p->ready[s] = 0;
			p->written = i + 1;
			pthread_cond_signal(&p->space);
		}
		pthread_mutex_unlock(&p->lock);
		if (r < 0)
			return;
	}
}

/* The plain loop: one buffer, read then write, in the calling thread. */
static int run_serial(struct vu_blk *b, uint8_t *buf, uint64_t nchunks,
		      export_sink_fn sink, void *arg)
{
	for (uint64_t i = 0; i < nchunks; i++) {
		size_t n = chunk_len(b, i);
		int r = vu_blk_read(b, buf, n, i * EXPORT_CHUNK);

		if (r == 0)
			r = sink(arg, buf, n, i * EXPORT_CHUNK);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Start up to n readers; returns how many started.  They take no
 * asynchronous signal: an interrupt or a broken pipe is the main
 * thread's to handle, as without them. */
static unsigned start_readers(struct pool *p, pthread_t *tids, unsigned n)
{
	sigset_t all, old;
	unsigned k;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (k = 0; k < n; k++)
		if (pthread_create(&tids[k], NULL, reader, p) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return k;
}

int export_pool_run(struct vu_blk *b, unsigned nthreads, export_sink_fn sink,
		    void *arg)
{
	struct pool p = { .blk = b };
	pthread_t tids[EXPORT_MAX_THREADS];
	unsigned started;
	int r;

	p.nchunks = (b->size + EXPORT_CHUNK - 1) / EXPORT_CHUNK;
	if (p.nchunks == 0)
		return 0;
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > EXPORT_MAX_THREADS)
		nthreads = EXPORT_MAX_THREADS;
	/* no more readers than chunks, nor buffers than chunks */
	if (nthreads > p.nchunks)
		nthreads = (unsigned)p.nchunks;
	p.nslots = nthreads == 1 ? 1 : 2 * (size_t)nthreads;
	if (p.nslots > p.nchunks)
		p.nslots = (size_t)p.nchunks;

	p.bufs = malloc(p.nslots * EXPORT_CHUNK);
	p.ready = calloc(p.nslots, 1);
	if (!p.bufs || !p.ready) {
		r = vu_fail(-ENOMEM, "out of memory for %zu read buffers of "
			    "%zu MiB", p.nslots, EXPORT_CHUNK >> 20);
		goto out;
	}
	if (nthreads == 1) {
		r = run_serial(b, p.bufs, p.nchunks, sink, arg);
		goto out;
	}

	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.space, NULL);
	pthread_cond_init(&p.filled, NULL);
	started = start_readers(&p, tids, nthreads);
	if (started == 0) {
		/* no thread to be had: still export, more slowly */
		vu_log(VU_LOG_DEBUG, "export: no reader thread could start; "
		       "reading in this thread");
		r = run_serial(b, p.bufs, p.nchunks, sink, arg);
	} else {
		if (started < nthreads)
			vu_log(VU_LOG_DEBUG, "export: %u of %u reader threads "
			       "started", started, nthreads);
		pool_write(&p, sink, arg);
		/* at the end, or after an error: every reader finishes the
		 * read it is in and returns */
		pthread_mutex_lock(&p.lock);
		pool_stop(&p, 0, NULL);
		pthread_mutex_unlock(&p.lock);
		for (unsigned k = 0; k < started; k++)
			pthread_join(tids[k], NULL);
		r = p.err;
		if (r < 0) {
			vu_err_clear();
			vu_fail(r, "%s", p.msg);
		}
	}
	pthread_cond_destroy(&p.filled);
	pthread_cond_destroy(&p.space);
	pthread_mutex_destroy(&p.lock);
out:
	free(p.ready);
	free(p.bufs);
	return r;
}
