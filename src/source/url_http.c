/* One range request of the URL source, checked and retried.  Every answer
 * is checked against what the first one said: status 206, the exact
 * Content-Range asked for, the same ETag (or Last-Modified), the whole
 * body.  Anything else is retried (429, 5xx, resets, short bodies) or
 * named (a refused SAS, a changed blob); wrong bytes never pass. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "source/curl_common.h"
#include "source/url_int.h"

#define MAX_TRIES 6
/* An error answer's body is kept for its code, not its size. */
#define MAX_ERROR_BODY 4096
/* Azure wants a version for x-ms-range beyond 4 GiB and for paged page
 * lists; 2021-08-06 is also the first that takes a bearer token on a
 * disk's SAS. */
#define MS_VERSION "x-ms-version: 2021-08-06"

struct answer {
	long status;
	char etag[128];
	char last_modified[64];
	char content_range[128];
	char blob_type[32];
	char retry_after[64];
	char error_code[96];	/* x-ms-error-code */
	/* a 206 body goes to dst[], anything else to body (bounded) */
	uint8_t *const *dst;
	size_t ndst;
	uint64_t want, got;
	char *body;
	size_t body_len, body_cap, body_max;
	int body_too_long;
	int transport;		/* the transfer itself failed */
};

static void wipe_free(char *p, size_t n)
{
	if (p) {
		explicit_bzero(p, n);
		free(p);
	}
}

int url_conn_init(struct url_src *u, struct url_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->h = curl_easy_init();
	if (!c->h)
		return vu_fail(-ENOMEM, "out of memory");
	vu_curl_setup(c->h, u->allow_http, u->ca, u->calen, c->err);
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT, 10L);
	/* no hang: a transfer slower than 1 byte/s for 60 s fails (and is
	 * retried) */
	curl_easy_setopt(c->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c->h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c->h, CURLOPT_TCP_KEEPALIVE, 1L);
	/* large receives: the default 16 KiB costs a recv and a poll per
	 * 16 KiB, which on a virtual machine is most of the CPU time */
	curl_easy_setopt(c->h, CURLOPT_BUFFERSIZE, 512L << 10);
	return 0;
}

void url_conn_free(struct url_conn *c)
{
	if (c->h)
		curl_easy_cleanup(c->h);
	wipe_free(c->url, c->url_cap);
	memset(c, 0, sizeof(*c));
}

/* Ask the renewer for a new URL and make it the source's. */
static int renew_url(struct url_src *u)
{
	char *url = NULL;
	int64_t expires = 0;
	int r = u->renew(u->renew_arg, &url, &expires);

	if (r < 0)
		return r;
	pthread_mutex_lock(&u->lock);
	wipe_free(u->url, u->url_cap);
	u->url = url;
	u->url_cap = strlen(url) + 1;
	u->url_gen++;
	u->expires = expires;
	u->renew_margin = expires ? (expires - (int64_t)time(NULL)) / 5 : 0;
	if (u->renew_margin > URL_RENEW_MARGIN)
		u->renew_margin = URL_RENEW_MARGIN;
	pthread_mutex_unlock(&u->lock);
	vu_log(VU_LOG_INFO, "%s: read access renewed", u->info.display);
	return 0;
}

int url_conn_refresh(struct url_src *u, struct url_conn *c)
{
	int r = 0;

	if (u->renew && u->expires &&
	    time(NULL) + u->renew_margin >= u->expires) {
		pthread_mutex_lock(&u->renew_lock);
		if (time(NULL) + u->renew_margin >= u->expires)
			r = renew_url(u);
		pthread_mutex_unlock(&u->renew_lock);
		if (r < 0)
			return r;
	}
	pthread_mutex_lock(&u->lock);
	if (!c->url || c->url_gen != u->url_gen) {
		size_t n = strlen(u->url) + 1;
		char *copy = malloc(n);
		if (!copy) {
			pthread_mutex_unlock(&u->lock);
			return vu_fail(-ENOMEM, "out of memory");
		}
		memcpy(copy, u->url, n);
		wipe_free(c->url, c->url_cap);
		c->url = copy;
		c->url_cap = n;
		c->url_gen = u->url_gen;
	}
	pthread_mutex_unlock(&u->lock);
	return 0;
}

static void keep_header(const char *data, size_t len, const char *name,
			char *out, size_t size)
{
	size_t nl = strlen(name);

	if (len <= nl || strncasecmp(data, name, nl))
		return;
	data += nl;
	len -= nl;
	while (len && (*data == ' ' || *data == '\t'))
		data++, len--;
	while (len && (data[len - 1] == '\r' || data[len - 1] == '\n' ||
		       data[len - 1] == ' '))
		len--;
	snprintf(out, size, "%.*s", (int)len, data);
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n;

	/* a new status line (after a 100 Continue or a redirect): forget */
	if (len > 5 && !strncmp(data, "HTTP/", 5)) {
		const char *sp = memchr(data, ' ', len);
		a->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		a->etag[0] = a->last_modified[0] = a->content_range[0] = 0;
		a->retry_after[0] = a->error_code[0] = a->blob_type[0] = 0;
	}
	keep_header(data, len, "etag:", a->etag, sizeof(a->etag));
	keep_header(data, len, "last-modified:", a->last_modified,
		    sizeof(a->last_modified));
	keep_header(data, len, "content-range:", a->content_range,
		    sizeof(a->content_range));
	keep_header(data, len, "x-ms-blob-type:", a->blob_type,
		    sizeof(a->blob_type));
	keep_header(data, len, "retry-after:", a->retry_after,
		    sizeof(a->retry_after));
	keep_header(data, len, "x-ms-error-code:", a->error_code,
		    sizeof(a->error_code));
	return len;
}

static size_t keep_body(struct answer *a, const char *data, size_t len)
{
	if (a->body_len + len + 1 > a->body_cap) {
		size_t cap = (a->body_len + len + 1) * 2;
		char *b;

		if (a->body_len + len > a->body_max) {
			a->body_too_long = 1;
			return 0;
		}
		if (cap > a->body_max + 1)
			cap = a->body_max + 1;
		b = realloc(a->body, cap);
		if (!b)
			return 0;
		a->body = b;
		a->body_cap = cap;
	}
	memcpy(a->body + a->body_len, data, len);
	a->body_len += len;
	a->body[a->body_len] = 0;
	return len;
}

/* The body of a 206 is scattered over the blocks' buffers; any other
 * status's body is kept (bounded) for its error code. */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n, left = len;

	if (!a->dst || a->status != 206)
		return keep_body(a, data, len);
	while (left) {
		uint64_t at = a->got;
		size_t i = (size_t)(at / URL_BLOCK), in = (size_t)(at % URL_BLOCK);
		size_t room = (size_t)URL_BLOCK - in, k;

		if (at >= a->want || i >= a->ndst)
			return 0; /* more than asked for: refuse it */
		if (room > a->want - at)
			room = (size_t)(a->want - at);
		k = left < room ? left : room;
		memcpy(a->dst[i] + in, data, k);
		data += k;
		left -= k;
		a->got += k;
	}
	return len;
}

/* One request: a GET of c->url (with extra appended to its query), with
 * a Range when len > 0.  0 with a->status; <0 for a transport failure
 * (recorded). */
static int perform(struct url_src *u, struct url_conn *c, const char *extra,
		   uint64_t off, uint64_t len, struct answer *a)
{
	char range[96], xrange[96], *full = NULL;
	struct curl_slist *hdr = NULL;
	size_t fl = 0;
	CURLcode cc;
	long status = 0;
	int r = 0;

	hdr = curl_slist_append(hdr, MS_VERSION);
	if (len) {
		snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-%" PRIu64,
			 off, off + len - 1);
		snprintf(xrange, sizeof(xrange), "x-ms-range: bytes=%" PRIu64
			 "-%" PRIu64, off, off + len - 1);
		hdr = curl_slist_append(hdr, range);
		hdr = curl_slist_append(hdr, xrange);
	}
	if (extra) {
		fl = strlen(c->url) + strlen(extra) + 2;
		full = malloc(fl);
		if (!full) {
			curl_slist_free_all(hdr);
			return vu_fail(-ENOMEM, "out of memory");
		}
		snprintf(full, fl, "%s%c%s", c->url,
			 strchr(c->url, '?') ? '&' : '?', extra);
	}
	c->err[0] = 0;
	curl_easy_setopt(c->h, CURLOPT_URL, full ? full : c->url);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->h, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, a);
	pthread_mutex_lock(&u->lock);
	u->stats.requests++;
	pthread_mutex_unlock(&u->lock);
	cc = curl_easy_perform(c->h);
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	a->status = status;
	if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && a->body_too_long)) {
		a->transport = 1;
		r = vu_curl_error(cc, c->url, c->err[0] ? c->err
							: curl_easy_strerror(cc));
	}
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdr);
	wipe_free(full, fl);
	return r;
}

/* libcurl failures worth another try: the connection, not the request. */
static int transport_retryable(int r)
{
	return r == -EIO || r == -ETIMEDOUT || r == -EHOSTUNREACH;
}

static int status_retryable(long s)
{
	return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 ||
	       s == 504;
}

/* Milliseconds before try `tried` + 1: Retry-After (seconds or a date),
 * else 250 ms doubled; at most VHDUNLOCK_RETRY_MAX_WAIT seconds (30). */
static unsigned wait_ms(const struct answer *a, int tried)
{
	unsigned cap = vu_retry_max_wait() * 1000u, w = 250u << (tried - 1);
	long s = vu_retry_after_seconds(a->retry_after);

	if (s >= 0)
		w = (unsigned)s * 1000u;
	return w < cap ? w : cap;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Content-Range "bytes A-B/T" */
static int parse_content_range(const char *s, uint64_t *a, uint64_t *b,
			       uint64_t *total)
{
	unsigned long long x, y, t;
	int n = 0;

	if (sscanf(s, "bytes %llu-%llu/%llu%n", &x, &y, &t, &n) != 3 ||
	    s[n] || y < x || y >= t)
		return -1;
	*a = x;
	*b = y;
	*total = t;
	return 0;
}

/* The same blob as at open?  ETag first; Last-Modified where a server
 * sends no ETag. */
static int same_blob(const struct url_src *u, const struct answer *a)
{
	if (u->info.etag[0] && a->etag[0])
		return !strcmp(u->info.etag, a->etag);
	if (u->info.last_modified[0] && a->last_modified[0])
		return !strcmp(u->info.last_modified, a->last_modified);
	return 1;
}

/* An answer that is not the 206 asked for, as an error. */
static int refusal(struct url_src *u, const struct answer *a)
{
	const char *d = u->info.display;
	char code[96];

	snprintf(code, sizeof(code), "%s%s", a->error_code[0] ? " " : "",
		 a->error_code);
	if (a->status == 403 || a->status == 401)
		return vu_fail(-EACCES, "%s: access refused (HTTP %ld%s): the "
			       "SAS has expired or was revoked; grant access "
			       "again and give the new URL", d, a->status,
			       code);
	if (a->status == 404)
		return vu_fail(-ENOENT, "%s: no such blob (HTTP 404%s): it "
			       "was deleted, or its read access was revoked",
			       d, code);
	if (a->status == 412)
		return vu_fail(-ESTALE, "%s: the blob changed since it was "
			       "opened (HTTP 412%s)", d, code);
	if (a->status == 416)
		return vu_fail(-EIO, "%s: range not satisfiable (HTTP 416): "
			       "the blob is shorter than it was", d);
	if (a->status == 200)
		return vu_fail(-ENOTSUP, "%s: the server ignores Range "
			       "requests (HTTP 200 to a range request): it "
			       "cannot serve a disk image", d);
	return vu_fail(-EIO, "%s: HTTP %ld%s", d, a->status, code);
}

/* Check a 206 against the request and the blob seen at open. */
static int check_answer(struct url_src *u, const struct answer *a,
			uint64_t off, uint64_t len)
{
	uint64_t x, y, t;

	if (!same_blob(u, a))
		return vu_fail(-ESTALE, "%s: the blob changed since it was "
			       "opened (ETag %s, now %s): it is being written; "
			       "read a snapshot instead", u->info.display,
			       u->info.etag, a->etag);
	if (parse_content_range(a->content_range, &x, &y, &t) < 0)
		return vu_fail(-EPROTO, "%s: bad Content-Range '%s', expected "
			       "'bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64 "'",
			       u->info.display, a->content_range, off,
			       off + len - 1, u->info.size);
	if (x != off || y != off + len - 1 || t != u->info.size) {
		if (t != u->info.size)
			return vu_fail(-ESTALE, "%s: the blob is now %" PRIu64
				       " bytes, was %" PRIu64, u->info.display,
				       t, u->info.size);
		return vu_fail(-EPROTO, "%s: asked for bytes %" PRIu64 "-%"
			       PRIu64 ", got %" PRIu64 "-%" PRIu64,
			       u->info.display, off, off + len - 1, x, y);
	}
	if (a->got != len)
		return vu_fail(-EIO, "%s: short answer at offset %" PRIu64
			       ": %" PRIu64 " of %" PRIu64 " bytes",
			       u->info.display, off, a->got, len);
	return 0;
}

int url_fetch(struct url_src *u, struct url_conn *c, uint64_t off,
	      uint64_t len, uint8_t *const *dst, size_t ndst)
{
	int r = 0, renewed = 0;

	for (int tried = 1;; tried++) {
		struct answer a = { .dst = dst, .ndst = ndst, .want = len,
				    .body_max = MAX_ERROR_BODY };
		int again;

		r = url_conn_refresh(u, c);
		if (r < 0)
			return r;
		r = perform(u, c, NULL, off, len, &a);
		if (r == 0) {
			if (a.status == 206)
				r = check_answer(u, &a, off, len);
			else if ((a.status == 403 || a.status == 401) &&
				 u->renew && !renewed) {
				/* a refused SAS: ask for a new one, once, unless
				 * another worker has just done so */
				renewed = 1;
				free(a.body);
				vu_err_clear();
				pthread_mutex_lock(&u->renew_lock);
				pthread_mutex_lock(&u->lock);
				r = c->url_gen == u->url_gen;
				pthread_mutex_unlock(&u->lock);
				r = r ? renew_url(u) : 0;
				pthread_mutex_unlock(&u->renew_lock);
				if (r < 0)
					return r;
				tried--;
				continue;
			} else
				r = refusal(u, &a);
		}
		pthread_mutex_lock(&u->lock);
		u->stats.bytes += a.got;
		pthread_mutex_unlock(&u->lock);
		/* a failed transfer, a throttled or failing server, a short
		 * answer: worth another try; a refusal or a changed blob not */
		again = tried < MAX_TRIES && r < 0 &&
			((a.transport && transport_retryable(r)) ||
			 (!a.transport && status_retryable(a.status)) ||
			 (r == -EIO && a.status == 206));
		free(a.body);
		if (!again)
			return r;
		vu_log(VU_LOG_DEBUG, "%s: %s; trying again", u->info.display,
		       vu_errmsg(r));
		vu_err_clear();
		pthread_mutex_lock(&u->lock);
		u->stats.retries++;
		pthread_mutex_unlock(&u->lock);
		sleep_ms(wait_ms(&a, tried));
	}
}

int url_get_body(struct url_src *u, struct url_conn *c, const char *extra,
		 size_t max, long *status, char **body, size_t *len)
{
	int r;

	*body = NULL;
	*len = 0;
	for (int tried = 1;; tried++) {
		struct answer a = { .body_max = max };

		r = url_conn_refresh(u, c);
		if (r < 0)
			return r;
		r = perform(u, c, extra, 0, 0, &a);
		if ((r < 0 && a.transport && transport_retryable(r)) ||
		    (r == 0 && status_retryable(a.status))) {
			if (tried < MAX_TRIES) {
				free(a.body);
				vu_err_clear();
				sleep_ms(wait_ms(&a, tried));
				continue;
			}
		}
		if (r == 0 && a.body_too_long)
			r = vu_fail(-EFBIG, "%s: answer longer than %zu bytes",
				    u->info.display, max);
		if (r < 0) {
			free(a.body);
			return r;
		}
		*status = a.status;
		*body = a.body;
		*len = a.body_len;
		return 0;
	}
}

int url_probe(struct url_src *u, struct url_conn *c)
{
	uint8_t first[1], *dst[1] = { first };
	uint64_t x, y, t;
	int r;

	for (int tried = 1;; tried++) {
		struct answer a = { .dst = dst, .ndst = 1, .want = 1,
				    .body_max = MAX_ERROR_BODY };

		r = url_conn_refresh(u, c);
		if (r < 0)
			return r;
		r = perform(u, c, NULL, 0, 1, &a);
		if (r == 0 && a.status == 206) {
			if (parse_content_range(a.content_range, &x, &y, &t) < 0 ||
			    x != 0)
				r = vu_fail(-EPROTO, "%s: bad Content-Range '%s' "
					    "in the answer to bytes 0-0",
					    u->info.display, a.content_range);
			else {
				u->info.size = t;
				snprintf(u->info.etag, sizeof(u->info.etag), "%s",
					 a.etag);
				snprintf(u->info.last_modified,
					 sizeof(u->info.last_modified), "%s",
					 a.last_modified);
				u->info.page_blob =
					!strcasecmp(a.blob_type, "PageBlob");
			}
		} else if (r == 0) {
			r = refusal(u, &a);
		}
		if (tried < MAX_TRIES && r < 0 &&
		    ((a.transport && transport_retryable(r)) ||
		     (!a.transport && status_retryable(a.status)))) {
			free(a.body);
			vu_err_clear();
			sleep_ms(wait_ms(&a, tried));
			continue;
		}
		free(a.body);
		return r;
	}
}
