/* The URL source: a disk image read over HTTP(S) with range requests, such
 * as the SAS URL of an exported Azure disk or snapshot (a page blob), or
 * any server that honours Range.
 *
 * Reads go through a bounded in-memory block cache; blocks missing from it
 * are fetched by a few worker threads, each with its own connection kept
 * alive, several requests in flight, and sequential reads fetched ahead.
 * A page blob's written ranges are read once (?comp=pagelist): what was
 * never written reads as zeros without a request.  The blob must not
 * change underneath: the ETag (or Last-Modified) seen at open is compared
 * with every answer, and a change is an error, never mixed bytes.
 *
 * The URL's query string (a SAS) is a secret: no message, log or trace
 * names it; the source describes itself by scheme, host and path only. */
#ifndef VU_URL_H
#define VU_URL_H

#include <stdint.h>
#include <stdio.h>

#include "core/blk.h"

struct vu_url_opts {
	const char *ca_file;	/* --ca-file, or NULL */
	uint64_t cache_size;	/* bytes of block cache; 0: 256 MiB */
	const char *cache_dir;	/* --cache-dir, or NULL */
	unsigned connections;	/* worker threads; 0: 4 */
};

/* Where the source gets a new URL (a new SAS) when the one it has is about
 * to expire or is refused: fills *url (malloc'd, the caller's to wipe and
 * free) and its expiry (0: unknown).  Called from a worker thread, one call
 * at a time. */
typedef int (*vu_url_renew_fn)(void *arg, char **url, int64_t *expires);

struct vu_url_stats {
	uint64_t requests;	/* range requests sent (retries included) */
	uint64_t bytes;		/* body bytes received */
	uint64_t cache_hits;	/* block reads served from memory */
	uint64_t disk_hits;	/* blocks read from --cache-dir */
	uint64_t zero_bytes;	/* read as zeros: never written (page map) */
	uint64_t retries;
};

/* What info shows of the source. */
struct vu_url_info {
	char display[512];	/* URL without query */
	uint64_t size;
	char etag[128];
	char last_modified[64];
	int page_blob;		/* x-ms-blob-type: PageBlob */
	int have_map;		/* the page ranges were read */
	uint64_t written_bytes;	/* bytes in written page ranges */
	uint64_t nranges;
};

/* Open url read-only.  http:// only for loopback hosts (an emulator): a
 * SAS would travel in clear.  The first request learns the size and ETag;
 * a server that ignores Range is refused. */
int vu_url_open(const char *url, const struct vu_url_opts *o,
		struct vu_blk **out);

/* Non-zero when b is a URL source. */
int vu_url_is(const struct vu_blk *b);
void vu_url_stats(const struct vu_blk *b, struct vu_url_stats *s);
void vu_url_info(const struct vu_blk *b, struct vu_url_info *in);
/* Renew the URL through fn before expires (seconds since the epoch; 0:
 * only when a request is refused). */
void vu_url_set_renew(struct vu_blk *b, vu_url_renew_fn fn, void *arg,
		      int64_t expires);

/* Whether url is one this source takes: https://, or http:// to a
 * loopback host; 0 for anything else (a path). */
int vu_url_scheme_ok(const char *url, int *loopback_http);

#endif
