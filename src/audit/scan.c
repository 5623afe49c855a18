/* Sampling the sealed areas of a volume: read 64 KiB chunks spread over
 * every area (one in each window of 1/fraction chunks, at a position that
 * varies from window to window so that a regular layout cannot hide
 * between the samples; the first and last chunk always), classify each
 * 512-byte unit, and merge the units that are not ciphertext into ranges.
 * With --full every chunk is read. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_int.h"
#include "core/error.h"

/* The stride in chunks between samples: 1 reads everything. */
static uint64_t stride_of(const struct vu_audit_opts *o)
{
	double s;

	if (o->full || o->fraction >= 1 || o->fraction <= 0)
		return 1;
	s = 1 / o->fraction + 0.5;
	return s > 1e9 ? 1000000000 : (uint64_t)s;
}

/* A well-mixed position inside window w (splitmix64). */
static uint64_t mix(uint64_t w)
{
	w += 0x9e3779b97f4a7c15ULL;
	w = (w ^ (w >> 30)) * 0xbf58476d1ce4e5b9ULL;
	w = (w ^ (w >> 27)) * 0x94d049bb133111ebULL;
	return w ^ (w >> 31);
}

/* Call each(chunk index) for the chunks sampled of an area of n chunks,
 * in increasing order; stop at a non-zero return. */
static int for_each_chunk(uint64_t n, uint64_t stride,
			  int (*each)(void *ctx, uint64_t chunk), void *ctx)
{
	uint64_t last = (uint64_t)-1;
	int r;

	if (!n)
		return 0;
	for (uint64_t w = 0; w * stride < n; w++) {
		uint64_t c = w * stride + (stride > 1 ? mix(w) % stride : 0);

		if (w == 0 && c != 0 && (r = each(ctx, 0)))
			return r; /* the first chunk always */
		if (c >= n)
			c = n - 1;
		if (c != last && (c != 0 || w == 0) && (r = each(ctx, c)))
			return r;
		last = c;
	}
	if (last != n - 1)
		return each(ctx, n - 1); /* the last chunk always */
	return 0;
}

struct plan_ctx {
	uint64_t bytes, length;
};

static int plan_one(void *ctx, uint64_t chunk)
{
	struct plan_ctx *p = ctx;
	uint64_t off = chunk * AUDIT_CHUNK;

	p->bytes += p->length - off < AUDIT_CHUNK ? p->length - off
						  : AUDIT_CHUNK;
	return 0;
}

uint64_t audit_scan_plan(const struct audit_area *a, size_t n,
			 const struct vu_audit_opts *o)
{
	struct plan_ctx p = { 0, 0 };

	for (size_t i = 0; i < n; i++) {
		p.length = a[i].length;
		for_each_chunk((a[i].length + AUDIT_CHUNK - 1) / AUDIT_CHUNK,
			       stride_of(o), plan_one, &p);
	}
	return p.bytes;
}

struct scan_ctx {
	struct vu_blk *b;
	const struct audit_area *area;
	const struct vu_audit_opts *o;
	uint64_t *done, total;
	struct vu_audit_scan *sc;
	uint8_t *buf;
};

/* Note a unit that is not ciphertext, extending the last range when it
 * continues it with the same finding. */
static int add_found(struct vu_audit_scan *sc, uint64_t off, const char *what)
{
	struct vu_audit_range *last = sc->nfound ? &sc->found[sc->nfound - 1]
						 : NULL;

	sc->found_bytes += AUDIT_UNIT;
	if (last && last->offset + last->length == off && last->what == what) {
		last->length += AUDIT_UNIT;
		return 0;
	}
	if (sc->nfound == AUDIT_MAX_RANGES) {
		sc->dropped++;
		return 0;
	}
	if (!sc->found) {
		sc->found = calloc(AUDIT_MAX_RANGES, sizeof(*sc->found));
		if (!sc->found)
			return vu_fail(-ENOMEM, "out of memory");
	}
	sc->found[sc->nfound++] =
		(struct vu_audit_range){ off, AUDIT_UNIT, what };
	return 0;
}

static int scan_one(void *ctx, uint64_t chunk)
{
	struct scan_ctx *s = ctx;
	uint64_t off = chunk * AUDIT_CHUNK, len = s->area->length - off;
	int r;

	if (len > AUDIT_CHUNK)
		len = AUDIT_CHUNK;
	len -= len % AUDIT_UNIT; /* areas are whole sectors; be safe */
	r = vu_blk_read(s->b, s->buf, (size_t)len, s->area->offset + off);
	if (r < 0)
		return r;
	for (uint64_t u = 0; u < len; u += AUDIT_UNIT) {
		const char *what;
		enum audit_class c = audit_classify(s->buf + u, AUDIT_UNIT,
						    &what);

		s->sc->units[c]++;
		if (c == AUDIT_LOW_ENTROPY)
			what = "data that is neither ciphertext nor recognised";
		if ((c == AUDIT_PLAINTEXT || c == AUDIT_LOW_ENTROPY) &&
		    (r = add_found(s->sc, s->area->offset + off + u, what)) < 0)
			return r;
	}
	s->sc->sampled_bytes += len;
	*s->done += len;
	if (s->o->progress)
		s->o->progress(s->o->arg, *s->done, s->total);
	return 0;
}

int audit_scan(struct vu_blk *b, const struct audit_area *a, size_t n,
	       const struct vu_audit_opts *o, uint64_t *done, uint64_t total,
	       struct vu_audit_scan *sc)
{
	struct scan_ctx s = { b, NULL, o, done, total, sc, NULL };
	int r = 0;

	s.buf = malloc(AUDIT_CHUNK);
	if (!s.buf)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < n && r == 0; i++) {
		s.area = &a[i];
		sc->area_bytes += a[i].length;
		r = for_each_chunk((a[i].length + AUDIT_CHUNK - 1) / AUDIT_CHUNK,
				   stride_of(o), scan_one, &s);
	}
	free(s.buf);
	return r;
}

void audit_scan_free(struct vu_audit_scan *sc)
{
	free(sc->found);
	memset(sc, 0, sizeof(*sc));
}
