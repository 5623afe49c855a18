/* Inside the URL source: the state url_source.c (reads, workers, cache),
 * url_http.c (one range request, checked and retried), url_pages.c (the
 * page map) and url_disk_cache.c (--cache-dir) share. */
#ifndef VU_URL_INT_H
#define VU_URL_INT_H

#include <curl/curl.h>
#include <pthread.h>
#include <sys/types.h>
#include <stdint.h>

#include "source/pagelist.h"
#include "source/url.h"

/* The unit of caching and of fetching: small enough that a file system's
 * scattered metadata reads do not pull in much more than they need, large
 * enough that a request's overhead is small against its transfer. */
#define URL_BLOCK ((uint64_t)256 << 10)
/* The most a reader's own request asks for (blocks): a few MiB, so that
 * scattered reads wait for little more than they need. */
#define URL_MAX_REQ_BLOCKS 16
/* The most a read-ahead request asks for (blocks, 32 MiB): servers have a
 * cost per request (Azurite about 35 ms), so a sequential reader is fed
 * with large ranges, several in flight. */
#define URL_MAX_AHEAD_BLOCKS 128
/* How far ahead sequential reads are fetched, at most. */
#define URL_MAX_AHEAD ((uint64_t)256 << 20)
#define URL_DEFAULT_CACHE ((uint64_t)256 << 20)
#define URL_DEFAULT_CONNECTIONS 4
/* Renew a SAS this long before it expires, at most (a fifth of its
 * lifetime when that is shorter). */
#define URL_RENEW_MARGIN 300

enum url_block_state { URL_PENDING, URL_READY, URL_FAILED };

struct url_block {
	uint64_t idx;
	enum url_block_state state;
	int err;
	char *msg;		/* FAILED: the worker's message */
	int pins;		/* readers waiting on or copying from it */
	int hashed;		/* still findable in the hash table */
	uint8_t *data;		/* URL_BLOCK bytes (the last block: less) */
	struct url_block *hnext, *lprev, *lnext;
};

struct url_job {
	struct url_job *next;
	size_t n;
	struct url_block *b[]; /* at most URL_MAX_AHEAD_BLOCKS */
};

/* One worker's connection (libcurl keeps it alive between requests). */
struct url_conn {
	CURL *h;
	char err[CURL_ERROR_SIZE];
	char *url;		/* this worker's copy of the current URL */
	size_t url_cap;
	unsigned url_gen;
};

struct url_src {
	struct vu_blk *blk;	/* the source this is the state of */
	/* the URL with its SAS: a secret, wiped when replaced or freed */
	char *url;
	size_t url_cap;
	unsigned url_gen;
	int allow_http;
	char *ca;		/* the CA blob, or NULL */
	size_t calen;
	struct vu_url_info info;
	struct vu_page_map map;

	pthread_mutex_t lock;
	pthread_cond_t work;	/* a job was queued, or stop */
	pthread_cond_t done;	/* a job finished */
	struct url_block **hash;
	size_t hash_size;	/* power of two */
	struct url_block *lru_head, *lru_tail; /* ready blocks, newest first */
	size_t nblocks, max_blocks, npending;
	/* block buffers kept for reuse: a 256 KiB malloc is an mmap, and its
	 * page faults cost more than the copy into it */
	uint8_t **spare;
	size_t nspare;
	struct url_job *demand_head, *demand_tail, *ahead_head, *ahead_tail;
	uint64_t seq_next, ahead;	/* read-ahead state */
	int fatal;		/* an error every later read returns */
	char fatal_msg[512];
	struct vu_url_stats stats;

	vu_url_renew_fn renew;
	void *renew_arg;
	int64_t expires;
	int64_t renew_margin;
	pthread_mutex_t renew_lock;

	/* workers start on the first read, and again in a child after a
	 * fork (a mount's daemon): threads do not cross fork() */
	pthread_t *threads;
	struct url_conn *conns;	/* one per worker, owned here */
	unsigned nthreads, nconns;
	pid_t workers_pid;
	int stop;
	struct url_src *live_next; /* the list fork() handlers walk */

	struct url_disk_cache *disk;	/* --cache-dir, or NULL */
};

/* ---- url_http.c ---- */
int url_conn_init(struct url_src *u, struct url_conn *c);
void url_conn_free(struct url_conn *c);
/* Take the source's current URL into c (renewing it first when it is
 * about to expire). */
int url_conn_refresh(struct url_src *u, struct url_conn *c);
/* The first request: size, ETag, Last-Modified, blob type. */
int url_probe(struct url_src *u, struct url_conn *c);
/* Read [off, off+len) into the blocks' buffers dst[i] (each URL_BLOCK
 * bytes but the last), checked (status, Content-Range, ETag, length) and
 * retried.  On failure a message is recorded (vu_fail, this thread). */
int url_fetch(struct url_src *u, struct url_conn *c, uint64_t off,
	      uint64_t len, uint8_t *const *dst, size_t ndst);
/* GET of url with "extra" appended to its query (e.g. "comp=pagelist"),
 * the body into a malloc'd buffer (at most max bytes).  0 with *status
 * for any HTTP status; <0 for a transport failure. */
int url_get_body(struct url_src *u, struct url_conn *c, const char *extra,
		 size_t max, long *status, char **body, size_t *len);

/* ---- url_pages.c ---- */
/* Read the page ranges into u->map (paged with NextMarker).  Any failure
 * leaves no map: everything is then read (never an error). */
void url_load_page_map(struct url_src *u, struct url_conn *c);

/* ---- url_disk_cache.c ---- */
struct url_disk_cache;
/* Open (or make) the cache for u's URL and ETag under dir.  <0 with a
 * message when dir is unusable. */
int url_disk_cache_open(const char *dir, const struct url_src *u,
			struct url_disk_cache **out);
/* 1 and the block's bytes in buf when it is cached, else 0. */
int url_disk_cache_get(struct url_disk_cache *d, uint64_t idx, uint8_t *buf,
		       size_t len);
void url_disk_cache_put(struct url_disk_cache *d, uint64_t idx,
			const uint8_t *buf, size_t len);
void url_disk_cache_close(struct url_disk_cache *d);

#endif
