/* See url.h.  A read takes what the page map says is zeros without a
 * request, what the block cache holds without a request, and queues the
 * missing blocks (with more ahead of a sequential reader) for the workers;
 * it then waits for its own blocks only.  Blocks are pinned while a reader
 * waits on or copies from them, so eviction (least recently used first)
 * never frees bytes in use.  A block whose fetch failed is dropped from
 * the cache: its waiters get the error, a later read tries again. */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "core/error.h"
#include "core/log.h"
#include "source/curl_common.h"
#include "source/url_int.h"

static const struct vu_blk_ops url_ops;
static int ensure_workers(struct url_src *u);

/* ---- the block cache (u->lock held) ---- */

static size_t slot(const struct url_src *u, uint64_t idx)
{
	return (size_t)((idx * 0x9e3779b97f4a7c15ull) >> 20) &
	       (u->hash_size - 1);
}

static struct url_block *lookup(struct url_src *u, uint64_t idx)
{
	struct url_block *b = u->hash[slot(u, idx)];

	while (b && b->idx != idx)
		b = b->hnext;
	return b;
}

static void unhash(struct url_src *u, struct url_block *b)
{
	struct url_block **p = &u->hash[slot(u, b->idx)];

	while (*p != b)
		p = &(*p)->hnext;
	*p = b->hnext;
	b->hashed = 0;
}

static void lru_remove(struct url_src *u, struct url_block *b)
{
	if (b->lprev)
		b->lprev->lnext = b->lnext;
	else if (u->lru_head == b)
		u->lru_head = b->lnext;
	if (b->lnext)
		b->lnext->lprev = b->lprev;
	else if (u->lru_tail == b)
		u->lru_tail = b->lprev;
	b->lprev = b->lnext = NULL;
}

static void lru_push(struct url_src *u, struct url_block *b)
{
	b->lprev = NULL;
	b->lnext = u->lru_head;
	if (u->lru_head)
		u->lru_head->lprev = b;
	u->lru_head = b;
	if (!u->lru_tail)
		u->lru_tail = b;
}

static uint8_t *buffer_get(struct url_src *u)
{
	return u->nspare ? u->spare[--u->nspare] : malloc(URL_BLOCK);
}

static void buffer_put(struct url_src *u, uint8_t *p)
{
	if (p && u->spare && u->nspare < u->max_blocks)
		u->spare[u->nspare++] = p;
	else
		free(p);
}

static void block_free(struct url_src *u, struct url_block *b)
{
	buffer_put(u, b->data);
	free(b->msg);
	free(b);
	u->nblocks--;
}

/* Drop ready blocks nobody uses, oldest first, until there is room. */
static void evict(struct url_src *u, size_t want_free)
{
	struct url_block *b = u->lru_tail;

	while (b && u->nblocks + want_free > u->max_blocks) {
		struct url_block *prev = b->lprev;
		if (!b->pins) {
			lru_remove(u, b);
			unhash(u, b);
			block_free(u, b);
		}
		b = prev;
	}
}

static uint64_t block_len(const struct url_src *u, uint64_t idx)
{
	uint64_t start = idx * URL_BLOCK;

	return u->info.size - start < URL_BLOCK ? u->info.size - start
						: URL_BLOCK;
}

/* Whether the page map says block idx holds no written byte. */
static int block_unwritten(const struct url_src *u, uint64_t idx)
{
	int written;
	uint64_t len = block_len(u, idx);

	return u->info.have_map &&
	       vu_page_map_run(&u->map, idx * URL_BLOCK, len, &written) == len &&
	       !written;
}

static struct url_block *block_new(struct url_src *u, uint64_t idx)
{
	struct url_block *b = calloc(1, sizeof(*b));
	size_t s;

	if (!b)
		return NULL;
	b->data = buffer_get(u);
	if (!b->data) {
		free(b);
		return NULL;
	}
	b->idx = idx;
	b->state = URL_PENDING;
	b->hashed = 1;
	s = slot(u, idx);
	b->hnext = u->hash[s];
	u->hash[s] = b;
	u->nblocks++;
	return b;
}

/* A block from --cache-dir, ready at once; NULL when it is not there. */
static struct url_block *from_disk(struct url_src *u, uint64_t idx)
{
	struct url_block *b;

	if (!u->disk)
		return NULL;
	b = block_new(u, idx);
	if (!b)
		return NULL;
	if (!url_disk_cache_get(u->disk, idx, b->data, block_len(u, idx))) {
		unhash(u, b);
		block_free(u, b);
		return NULL;
	}
	b->state = URL_READY;
	lru_push(u, b);
	u->stats.disk_hits++;
	return b;
}

/* Queue a fetch of the missing, written blocks from idx on (at most n,
 * stopping at the first present or unwritten one).  demand: a reader
 * waits for it (and it may overfill the cache); else read-ahead, only
 * into room.  Returns the number of blocks queued. */
static size_t queue(struct url_src *u, uint64_t idx, size_t n, int demand)
{
	uint64_t last = (u->info.size - 1) / URL_BLOCK;
	struct url_job *j;

	if (n > (demand ? URL_MAX_REQ_BLOCKS : URL_MAX_AHEAD_BLOCKS))
		n = demand ? URL_MAX_REQ_BLOCKS : URL_MAX_AHEAD_BLOCKS;
	if (!demand && u->nblocks + n > u->max_blocks)
		evict(u, n);
	if (!demand && u->nblocks + n > u->max_blocks)
		return 0;
	j = calloc(1, sizeof(*j) + n * sizeof(j->b[0]));
	if (!j)
		return 0;
	while (j->n < n && idx + j->n <= last) {
		uint64_t k = idx + j->n;
		struct url_block *b;
		if (lookup(u, k) || block_unwritten(u, k))
			break;
		if ((b = from_disk(u, k)))
			break;
		b = block_new(u, k);
		if (!b)
			break;
		j->b[j->n++] = b;
	}
	if (!j->n) {
		free(j);
		return 0;
	}
	u->npending += j->n;
	if (demand) {
		if (u->demand_tail)
			u->demand_tail->next = j;
		else
			u->demand_head = j;
		u->demand_tail = j;
	} else {
		if (u->ahead_tail)
			u->ahead_tail->next = j;
		else
			u->ahead_head = j;
		u->ahead_tail = j;
	}
	pthread_cond_signal(&u->work);
	return j->n;
}

/* Sequential readers get the blocks after their read queued as well, in
 * a window that doubles while they stay sequential. */
static void read_ahead(struct url_src *u, uint64_t off, uint64_t end)
{
	uint64_t idx, stop;
	/* several FUSE threads read one stream slightly out of order */
	int seq = off + (2u << 20) >= u->seq_next &&
		  off <= u->seq_next + (512u << 10);

	if (seq && u->seq_next) {
		u->ahead = u->ahead ? u->ahead * 2 : (1u << 20);
		if (u->ahead > URL_MAX_AHEAD)
			u->ahead = URL_MAX_AHEAD;
		if (u->ahead > u->max_blocks * URL_BLOCK / 2)
			u->ahead = u->max_blocks * URL_BLOCK / 2;
	} else {
		u->ahead = 0;
	}
	if (end > u->seq_next || !seq)
		u->seq_next = end;
	if (!u->ahead || u->npending * URL_BLOCK >= URL_MAX_AHEAD)
		return;
	idx = (end + URL_BLOCK - 1) / URL_BLOCK;
	stop = (end + u->ahead + URL_BLOCK - 1) / URL_BLOCK;
	while (idx < stop && (lookup(u, idx) || block_unwritten(u, idx)))
		idx++;
	/* wait until a large range is missing: a reader advancing by 1 MiB
	 * must not turn into 1 MiB requests at the window's far end */
	if (stop - idx < (u->ahead / URL_BLOCK) / 4 &&
	    stop - idx < URL_MAX_AHEAD_BLOCKS)
		return;
	while (idx < stop && idx * URL_BLOCK < u->info.size) {
		size_t got;
		if (lookup(u, idx) || block_unwritten(u, idx)) {
			idx++;
			continue;
		}
		got = queue(u, idx, (size_t)(stop - idx), 0);
		if (!got)
			break;
		idx += got;
	}
}

static void unpin(struct url_src *u, struct url_block *b)
{
	if (--b->pins == 0 && b->state == URL_FAILED && !b->hashed)
		block_free(u, b);
}

/* ---- reading ---- */

static int url_read(struct vu_blk *blk, void *buf, size_t len, uint64_t off)
{
	struct url_src *u = blk->priv;
	uint8_t *out = buf;
	uint64_t pos = off, end = off + len;
	int ahead_done = 0;

	while (pos < end) {
		uint64_t idx = pos / URL_BLOCK, in = pos % URL_BLOCK, n;
		struct url_block *b;
		int written = 1;

		n = URL_BLOCK - in < end - pos ? URL_BLOCK - in : end - pos;
		if (u->info.have_map) {
			uint64_t run = vu_page_map_run(&u->map, pos, n, &written);
			if (!written) {
				memset(out, 0, run);
				pthread_mutex_lock(&u->lock);
				u->stats.zero_bytes += run;
				pthread_mutex_unlock(&u->lock);
				out += run;
				pos += run;
				continue;
			}
		}
		pthread_mutex_lock(&u->lock);
		if (u->fatal) {
			int e = u->fatal;
			pthread_mutex_unlock(&u->lock);
			return vu_blk_fail(blk, e, "%s", u->fatal_msg);
		}
		if (ensure_workers(u) < 0) {
			pthread_mutex_unlock(&u->lock);
			return vu_blk_fail(blk, -EAGAIN, "cannot start a thread");
		}
		b = lookup(u, idx);
		if (!b)
			b = from_disk(u, idx);
		if (!b) {
			uint64_t nb = (end - idx * URL_BLOCK + URL_BLOCK - 1) /
				      URL_BLOCK;
			evict(u, nb < URL_MAX_REQ_BLOCKS ? nb : URL_MAX_REQ_BLOCKS);
			queue(u, idx, (size_t)(nb < URL_MAX_REQ_BLOCKS
						       ? nb : URL_MAX_REQ_BLOCKS), 1);
			b = lookup(u, idx);
		} else if (b->state == URL_READY) {
			u->stats.cache_hits++;
		}
		if (!b) {
			pthread_mutex_unlock(&u->lock);
			return vu_blk_fail(blk, -ENOMEM, "out of memory");
		}
		/* pinned before read-ahead can evict to make room */
		b->pins++;
		if (!ahead_done) {
			read_ahead(u, off, end);
			ahead_done = 1;
		}
		while (b->state == URL_PENDING)
			pthread_cond_wait(&u->done, &u->lock);
		if (b->state == URL_FAILED) {
			int e = b->err;
			char msg[512];
			snprintf(msg, sizeof(msg), "%s",
				 b->msg ? b->msg : "read failed");
			unpin(u, b);
			pthread_mutex_unlock(&u->lock);
			return vu_blk_fail(blk, e, "%s", msg);
		}
		if (b->lprev || u->lru_head != b) {
			lru_remove(u, b);
			lru_push(u, b);
		}
		pthread_mutex_unlock(&u->lock);
		memcpy(out, b->data + in, n);
		pthread_mutex_lock(&u->lock);
		unpin(u, b);
		pthread_mutex_unlock(&u->lock);
		out += n;
		pos += n;
	}
	return 0;
}

/* ---- the workers ---- */

static struct url_job *next_job(struct url_src *u)
{
	struct url_job *j;

	while (!u->stop && !u->demand_head && !u->ahead_head)
		pthread_cond_wait(&u->work, &u->lock);
	if (u->stop)
		return NULL;
	if (u->demand_head) {
		j = u->demand_head;
		u->demand_head = j->next;
		if (!u->demand_head)
			u->demand_tail = NULL;
	} else {
		j = u->ahead_head;
		u->ahead_head = j->next;
		if (!u->ahead_head)
			u->ahead_tail = NULL;
	}
	return j;
}

/* The fetch's outcome into its blocks: ready (cached) or failed (out of
 * the cache, the message kept for the waiters). */
static void finish_job(struct url_src *u, struct url_job *j, int r,
		       const char *msg)
{
	for (size_t i = 0; i < j->n; i++) {
		struct url_block *b = j->b[i];

		u->npending--;
		if (r == 0) {
			b->state = URL_READY;
			lru_push(u, b);
			continue;
		}
		b->state = URL_FAILED;
		b->err = r;
		b->msg = strdup(msg);
		unhash(u, b);
		if (!b->pins)
			block_free(u, b);
	}
	/* a changed blob is never read again: no mixed bytes */
	if (r == -ESTALE && !u->fatal) {
		u->fatal = r;
		snprintf(u->fatal_msg, sizeof(u->fatal_msg), "%s", msg);
	}
	pthread_cond_broadcast(&u->done);
}

struct worker_arg {
	struct url_src *u;
	unsigned i;
};

static void *worker(void *arg)
{
	struct worker_arg *wa = arg;
	struct url_src *u = wa->u;
	struct url_conn *c = &u->conns[wa->i];

	free(wa);
	pthread_mutex_lock(&u->lock);
	for (;;) {
		struct url_job *j = next_job(u);
		uint8_t *dst[URL_MAX_AHEAD_BLOCKS];
		uint64_t off, len = 0;
		int r;

		if (!j)
			break;
		for (size_t i = 0; i < j->n; i++) {
			dst[i] = j->b[i]->data;
			len += block_len(u, j->b[i]->idx);
		}
		off = j->b[0]->idx * URL_BLOCK;
		pthread_mutex_unlock(&u->lock);
		vu_err_clear();
		r = url_fetch(u, c, off, len, dst, j->n);
		if (r == 0 && u->disk)
			for (size_t i = 0; i < j->n; i++)
				url_disk_cache_put(u->disk, j->b[i]->idx,
						   dst[i],
						   block_len(u, j->b[i]->idx));
		pthread_mutex_lock(&u->lock);
		finish_job(u, j, r, r < 0 ? vu_errmsg(r) : "");
		free(j);
	}
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

/* Start the workers in this process (u->lock held).  At least one must
 * run, or reads would wait for ever. */
static int ensure_workers(struct url_src *u)
{
	if (u->workers_pid == getpid())
		return 0;
	u->nthreads = 0;
	for (unsigned i = 0; i < u->nconns; i++) {
		struct worker_arg *wa = malloc(sizeof(*wa));
		if (!wa)
			break;
		wa->u = u;
		wa->i = i;
		if (pthread_create(&u->threads[u->nthreads], NULL, worker, wa)) {
			free(wa);
			break;
		}
		u->nthreads++;
	}
	if (!u->nthreads)
		return -EAGAIN;
	u->workers_pid = getpid();
	return 0;
}

/* ---- fork: quiet the workers before, start them anew in the child ---- */

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct url_src *live;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Before fork(): every source locked with no fetch in flight, so the
 * child's copy of the cache holds no block a dead worker was filling. */
static void before_fork(void)
{
	pthread_mutex_lock(&live_lock);
	for (struct url_src *u = live; u; u = u->live_next) {
		pthread_mutex_lock(&u->lock);
		while (u->npending && u->workers_pid == getpid())
			pthread_cond_wait(&u->done, &u->lock);
	}
}

static void after_fork_parent(void)
{
	for (struct url_src *u = live; u; u = u->live_next)
		pthread_mutex_unlock(&u->lock);
	pthread_mutex_unlock(&live_lock);
}

/* In the child only this thread exists: the workers' condition variables
 * and locks are made anew, and the workers start again on the next read
 * (their connections, owned by the source, are reused). */
static void after_fork_child(void)
{
	for (struct url_src *u = live; u; u = u->live_next) {
		pthread_mutex_unlock(&u->lock);
		pthread_mutex_init(&u->lock, NULL);
		pthread_mutex_init(&u->renew_lock, NULL);
		pthread_cond_init(&u->work, NULL);
		pthread_cond_init(&u->done, NULL);
		u->nthreads = 0;
		u->workers_pid = 0;
	}
	pthread_mutex_unlock(&live_lock);
	pthread_mutex_init(&live_lock, NULL);
}

static void install_atfork(void)
{
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

static void live_add(struct url_src *u)
{
	pthread_once(&atfork_once, install_atfork);
	pthread_mutex_lock(&live_lock);
	u->live_next = live;
	live = u;
	pthread_mutex_unlock(&live_lock);
}

static void live_remove(struct url_src *u)
{
	pthread_mutex_lock(&live_lock);
	for (struct url_src **p = &live; *p; p = &(*p)->live_next)
		if (*p == u) {
			*p = u->live_next;
			break;
		}
	pthread_mutex_unlock(&live_lock);
}

/* ---- open and close ---- */

int vu_url_scheme_ok(const char *url, int *loopback_http)
{
	char host[256], *p;

	*loopback_http = 0;
	if (!strncasecmp(url, "https://", 8))
		return 1;
	if (strncasecmp(url, "http://", 7))
		return 0;
	vu_url_host(url, host, sizeof(host));
	/* host without port; [::1] keeps its brackets off */
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		if ((p = strchr(host, ']')))
			*p = 0;
	} else if ((p = strrchr(host, ':'))) {
		*p = 0;
	}
	if (!strcasecmp(host, "localhost") || !strcmp(host, "::1") ||
	    !strncmp(host, "127.", 4)) {
		struct in_addr a;
		if (!strncmp(host, "127.", 4) && inet_pton(AF_INET, host, &a) != 1)
			return 0;
		*loopback_http = 1;
		return 1;
	}
	return 0;
}

static void url_destroy(struct vu_blk *blk)
{
	struct url_src *u = blk->priv;

	live_remove(u);
	pthread_mutex_lock(&u->lock);
	u->stop = 1;
	pthread_cond_broadcast(&u->work);
	pthread_mutex_unlock(&u->lock);
	if (u->workers_pid == getpid())
		for (unsigned i = 0; i < u->nthreads; i++)
			pthread_join(u->threads[i], NULL);
	free(u->threads);
	for (unsigned i = 0; i < u->nconns; i++)
		url_conn_free(&u->conns[i]);
	free(u->conns);
	/* jobs never taken, then every block */
	for (struct url_job *j = u->demand_head, *n; j; j = n) {
		n = j->next;
		free(j);
	}
	for (struct url_job *j = u->ahead_head, *n; j; j = n) {
		n = j->next;
		free(j);
	}
	for (size_t i = 0; u->hash && i < u->hash_size; i++)
		for (struct url_block *b = u->hash[i], *n; b; b = n) {
			n = b->hnext;
			block_free(u, b);
		}
	free(u->hash);
	while (u->nspare)
		free(u->spare[--u->nspare]);
	free(u->spare);
	url_disk_cache_close(u->disk);
	vu_page_map_free(&u->map);
	if (u->url) {
		explicit_bzero(u->url, u->url_cap);
		free(u->url);
	}
	free(u->ca);
	pthread_mutex_destroy(&u->lock);
	pthread_mutex_destroy(&u->renew_lock);
	pthread_cond_destroy(&u->work);
	pthread_cond_destroy(&u->done);
	free(u);
}

static const struct vu_blk_ops url_ops = {
	.kind = "url",
	.read_at = url_read,
	.destroy = url_destroy,
};

static struct url_src *url_new(const char *url, const struct vu_url_opts *o)
{
	struct url_src *u = calloc(1, sizeof(*u));
	uint64_t cache = o && o->cache_size ? o->cache_size : URL_DEFAULT_CACHE;

	if (!u)
		return NULL;
	u->url_cap = strlen(url) + 1;
	u->url = malloc(u->url_cap);
	u->max_blocks = (size_t)(cache / URL_BLOCK);
	if (u->max_blocks < 2 * URL_MAX_REQ_BLOCKS)
		u->max_blocks = 2 * URL_MAX_REQ_BLOCKS;
	u->hash_size = 64;
	while (u->hash_size < 2 * u->max_blocks)
		u->hash_size *= 2;
	u->hash = calloc(u->hash_size, sizeof(*u->hash));
	u->spare = calloc(u->max_blocks, sizeof(*u->spare));
	if (!u->url || !u->hash || !u->spare) {
		free(u->url);
		free(u->hash);
		free(u->spare);
		free(u);
		return NULL;
	}
	memcpy(u->url, url, u->url_cap);
	pthread_mutex_init(&u->lock, NULL);
	pthread_mutex_init(&u->renew_lock, NULL);
	pthread_cond_init(&u->work, NULL);
	pthread_cond_init(&u->done, NULL);
	vu_url_for_message(url, u->info.display, sizeof(u->info.display));
	return u;
}

/* The workers' connections; the threads start on the first read. */
static int make_conns(struct url_src *u, unsigned n)
{
	u->threads = calloc(n, sizeof(*u->threads));
	u->conns = calloc(n, sizeof(*u->conns));
	if (!u->threads || !u->conns)
		return vu_fail(-ENOMEM, "out of memory");
	for (; u->nconns < n; u->nconns++) {
		int r = url_conn_init(u, &u->conns[u->nconns]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Workers: the caller's choice, VHDUNLOCK_URL_CONNECTIONS (1 to 16), or
 * four. */
static unsigned connections(const struct vu_url_opts *o)
{
	const char *env = getenv("VHDUNLOCK_URL_CONNECTIONS");
	long n = env ? atol(env) : 0;

	if (o && o->connections)
		return o->connections;
	return n >= 1 && n <= 16 ? (unsigned)n : URL_DEFAULT_CONNECTIONS;
}

int vu_url_open(const char *url, const struct vu_url_opts *o,
		struct vu_blk **out)
{
	struct url_conn c = { 0 };
	struct url_src *u;
	int r, loopback;

	*out = NULL;
	if (!vu_url_scheme_ok(url, &loopback)) {
		char where[512];
		vu_url_for_message(url, where, sizeof(where));
		return vu_fail(-EINVAL, "%s: only https:// URLs are read (plain "
			       "http:// only on a loopback address): a SAS "
			       "would travel in clear", where);
	}
	vu_curl_init();
	u = url_new(url, o);
	if (!u)
		return vu_fail(-ENOMEM, "out of memory");
	u->allow_http = loopback;
	r = o && o->ca_file ? vu_curl_ca_blob(o->ca_file, &u->ca, &u->calen) : 0;
	if (r == 0)
		r = url_conn_init(u, &c);
	if (r == 0)
		r = url_probe(u, &c);
	if (r == 0 && u->info.size == 0)
		r = vu_fail(-EUCLEAN, "%s: the blob is empty (0 bytes), "
			    "expected a disk image", u->info.display);
	if (r == 0)
		url_load_page_map(u, &c);
	url_conn_free(&c);
	if (r == 0 && o && o->cache_dir)
		r = url_disk_cache_open(o->cache_dir, u, &u->disk);
	if (r == 0)
		r = make_conns(u, connections(o));
	if (r < 0) {
		struct vu_blk fake = { .priv = u };
		url_destroy(&fake);
		return r;
	}
	*out = vu_blk_new(&url_ops, NULL, u->info.size, 512, u, "url:%s",
			  u->info.display);
	if (!*out) {
		struct vu_blk fake = { .priv = u };
		url_destroy(&fake);
		return -ENOMEM;
	}
	u->blk = *out;
	live_add(u);
	return 0;
}

int vu_url_is(const struct vu_blk *b)
{
	return b && b->ops == &url_ops;
}

void vu_url_stats(const struct vu_blk *b, struct vu_url_stats *s)
{
	struct url_src *u = b->priv;

	pthread_mutex_lock(&u->lock);
	*s = u->stats;
	pthread_mutex_unlock(&u->lock);
}

void vu_url_info(const struct vu_blk *b, struct vu_url_info *in)
{
	const struct url_src *u = b->priv;

	*in = u->info;
}

void vu_url_set_renew(struct vu_blk *b, vu_url_renew_fn fn, void *arg,
		      int64_t expires)
{
	struct url_src *u = b->priv;

	pthread_mutex_lock(&u->lock);
	u->renew = fn;
	u->renew_arg = arg;
	u->expires = expires;
	u->renew_margin = expires ? (expires - (int64_t)time(NULL)) / 5 : 0;
	if (u->renew_margin > URL_RENEW_MARGIN)
		u->renew_margin = URL_RENEW_MARGIN;
	pthread_mutex_unlock(&u->lock);
}
