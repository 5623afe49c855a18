#include "core/extent.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"
#include "core/log.h"

/* ---- the walk ---- */

/* Bytes read and transformed at a time: within a core's L2 cache. */
#define XFORM_STEP (256u << 10)

/* Fill [buf, buf+n) from a transformed run: whole sectors are read into
 * the caller's buffer and transformed there; a partial first or last
 * sector is read whole into a stack buffer, which is wiped after (it held
 * plaintext). */
static int read_xform(const struct vu_run *run, uint8_t *buf, size_t n)
{
	const struct vu_xform *xf = run->xf;
	uint32_t ss = xf->sector_size;
	uint64_t sector = run->sector, pos = run->lower_off;
	uint32_t skew = run->skew;
	int r;

	while (n) {
		size_t m;

		if (skew || n < ss) {
			uint8_t tmp[VU_XFORM_MAX_SECTOR];

			m = ss - skew < n ? ss - skew : n;
			r = vu_blk_read(run->lower, tmp, ss, pos - skew);
			if (r == 0)
				r = xf->apply(xf->ctx, sector, tmp, 1);
			if (r == 0)
				memcpy(buf, tmp + skew, m);
			explicit_bzero(tmp, ss);
			sector++;
		} else {
			/* read and transform in steps that stay in the cache
			 * between the two: a 4 MiB read would be evicted
			 * before the transform reads it back */
			m = n - n % ss;
			if (m > XFORM_STEP)
				m = XFORM_STEP - XFORM_STEP % ss;
			r = vu_blk_read(run->lower, buf, m, pos);
			if (r == 0)
				r = xf->apply(xf->ctx, sector, buf, m / ss);
			sector += m / ss;
		}
		if (r < 0)
			return r;
		skew = 0;
		buf += m;
		pos += m;
		n -= m;
	}
	return 0;
}

int vu_runs_read(vu_run_lookup_fn lookup, const void *ctx, void *out,
		 size_t len, uint64_t off)
{
	uint8_t *buf = out;

	while (len) {
		struct vu_run runs[VU_RUNS_MAX];
		int nrun;

		memset(runs, 0, sizeof(runs));
		nrun = lookup(ctx, off, len, runs, VU_RUNS_MAX);
		if (nrun < 0)
			return nrun;
		if (nrun == 0 || runs[0].length == 0)
			return vu_fail(-EIO, "extent map: nothing maps offset %"
				       PRIu64, off);
		for (int i = 0; i < nrun && len && runs[i].length; i++) {
			const struct vu_run *run = &runs[i];
			size_t n = run->length < len ? (size_t)run->length
						     : len;
			int r = 0;

			if (!run->lower)
				memset(buf, 0, n);
			else if (!run->xf)
				r = vu_blk_read(run->lower, buf, n,
						run->lower_off);
			else
				r = read_xform(run, buf, n);
			if (r < 0)
				return r;
			buf += n;
			off += n;
			len -= n;
		}
	}
	return 0;
}

/* ---- static maps ---- */

struct ext_run {
	uint64_t start, length;
	struct vu_blk *lower;	/* reference held; NULL: zeros */
	uint64_t lower_off;
	const struct vu_xform *xf;
	uint64_t first_sector, sector0_off;
};

struct owned_xform {
	struct vu_xform xf;
	char name[64];
	void (*free_ctx)(void *);
};

struct vu_extent_map {
	size_t n, cap;
	struct ext_run *runs;
	size_t nxf;
	struct owned_xform **xf;
};

struct vu_extent_map *vu_extent_map_new(void)
{
	struct vu_extent_map *m = calloc(1, sizeof(*m));

	if (!m)
		vu_fail(-ENOMEM, "out of memory");
	return m;
}

void vu_extent_map_free(struct vu_extent_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		vu_blk_unref(m->runs[i].lower);
	for (size_t i = 0; i < m->nxf; i++) {
		if (m->xf[i]->free_ctx)
			m->xf[i]->free_ctx(m->xf[i]->xf.ctx);
		free(m->xf[i]);
	}
	free(m->xf);
	free(m->runs);
	free(m);
}

const struct vu_xform *vu_extent_map_xform(struct vu_extent_map *m,
					   const char *name,
					   uint32_t sector_size,
					   int (*apply)(void *, uint64_t,
							uint8_t *, size_t),
					   void *ctx, void (*free_ctx)(void *))
{
	struct owned_xform *o = NULL, **grown;

	if (!vu_is_pow2(sector_size) || sector_size > VU_XFORM_MAX_SECTOR) {
		vu_fail(-ENOTSUP, "%s: sector size %" PRIu32 " not supported "
			"(a power of two up to %u expected)", name,
			sector_size, VU_XFORM_MAX_SECTOR);
		goto fail;
	}
	grown = realloc(m->xf, (m->nxf + 1) * sizeof(*grown));
	if (grown)
		m->xf = grown;
	o = grown ? calloc(1, sizeof(*o)) : NULL;
	if (!o) {
		vu_fail(-ENOMEM, "out of memory");
		goto fail;
	}
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->xf = (struct vu_xform){ o->name, sector_size, apply, ctx };
	o->free_ctx = free_ctx;
	m->xf[m->nxf++] = o;
	return &o->xf;
fail:
	if (free_ctx)
		free_ctx(ctx);
	return NULL;
}

uint64_t vu_extent_map_size(const struct vu_extent_map *m)
{
	return m->n ? m->runs[m->n - 1].start + m->runs[m->n - 1].length : 0;
}

/* Does b continue a, so that one run can say both? */
static int continues(const struct ext_run *a, const struct ext_run *b)
{
	if (a->lower != b->lower || a->xf != b->xf)
		return 0;
	if (!a->lower)
		return 1;
	if (a->lower_off + a->length != b->lower_off)
		return 0;
	return !a->xf || (a->first_sector == b->first_sector &&
			  a->sector0_off == b->sector0_off);
}

int vu_extent_map_add(struct vu_extent_map *m, uint64_t length,
		      struct vu_blk *lower, uint64_t lower_off,
		      const struct vu_xform *xf, uint64_t first_sector,
		      uint64_t sector0_off)
{
	struct ext_run run = { vu_extent_map_size(m), length, lower,
			       lower_off, lower ? xf : NULL, first_sector,
			       sector0_off };

	if (length == 0)
		return 0;
	if (run.start + length < run.start)
		return vu_fail(-EOVERFLOW, "extent map: runs end past 2^64");
	if (lower && (lower_off > lower->size ||
		      length > lower->size - lower_off))
		return vu_blk_fail(lower, -EUCLEAN, "extent map: run of %"
				   PRIu64 " bytes at offset %" PRIu64
				   " is past the end (size %" PRIu64 ")",
				   length, lower_off, lower->size);
	if (run.xf) {
		/* so that IV arithmetic stays put: the run's sectors */
		uint32_t ss = run.xf->sector_size;
		uint64_t skew = (lower_off - sector0_off) % ss;
		uint64_t end = lower_off - skew +
			       ((skew + length + ss - 1) / ss) * ss;

		if (sector0_off > lower_off || end > lower->size ||
		    end < lower_off)
			return vu_blk_fail(lower, -EUCLEAN, "extent map: %s "
					   "run at offset %" PRIu64 " (%"
					   PRIu64 " bytes) does not lie in "
					   "whole %" PRIu32 "-byte sectors of "
					   "its source", run.xf->name,
					   lower_off, length, ss);
	}
	if (m->n && continues(&m->runs[m->n - 1], &run)) {
		m->runs[m->n - 1].length += length;
		return 0;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 8;
		struct ext_run *g = realloc(m->runs, cap * sizeof(*g));

		if (!g)
			return vu_fail(-ENOMEM, "out of memory");
		m->runs = g;
		m->cap = cap;
	}
	run.lower = vu_blk_ref(lower);
	m->runs[m->n++] = run;
	return 0;
}

int vu_extent_map_lookup(const void *ctx, uint64_t off, size_t len,
			 struct vu_run *runs, size_t max)
{
	const struct vu_extent_map *m = ctx;
	const struct ext_run *e;
	size_t lo = 0, hi = m->n;
	uint64_t rel;

	if (max == 0)
		return 0;

	/* the last run that starts at or before off */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->runs[mid].start <= off)
			lo = mid;
		else
			hi = mid;
	}
	if (!m->n || off - m->runs[lo].start >= m->runs[lo].length ||
	    off < m->runs[lo].start)
		return vu_fail(-EIO, "extent map: no run maps offset %" PRIu64,
			       off);
	rel = off - m->runs[lo].start;
	for (size_t k = 0; k < max && lo + k < m->n; k++) {
		struct vu_run *out = &runs[k];

		e = &m->runs[lo + k];
		*out = (struct vu_run){ .length = e->length - rel,
					.lower = e->lower,
					.lower_off = e->lower_off + rel,
					.xf = e->xf };
		if (e->xf) {
			uint64_t into = out->lower_off - e->sector0_off;

			out->sector = e->first_sector +
				      into / e->xf->sector_size;
			out->skew = (uint32_t)(into % e->xf->sector_size);
		}
		if (out->length >= len)
			return (int)k + 1;
		len -= (size_t)out->length;
		rel = 0;
	}
	return (int)(max < m->n - lo ? max : m->n - lo);
}

void vu_extent_map_log(const struct vu_extent_map *m, const char *who)
{
	enum { SHOWN = 64 };

	if (!vu_log_enabled(VU_LOG_DEBUG))
		return;
	for (size_t i = 0; i < m->n && i < SHOWN; i++) {
		const struct ext_run *e = &m->runs[i];
		char what[640];

		if (!e->lower)
			snprintf(what, sizeof(what), "zeros");
		else if (!e->xf)
			snprintf(what, sizeof(what), "%s at %" PRIu64,
				 e->lower->desc, e->lower_off);
		else
			snprintf(what, sizeof(what), "%s at %" PRIu64
				 " through %s from sector %" PRIu64,
				 e->lower->desc, e->lower_off, e->xf->name,
				 e->first_sector + (e->lower_off -
						    e->sector0_off) /
							   e->xf->sector_size);
		vu_log(VU_LOG_DEBUG, "%s: map [%" PRIu64 ", %" PRIu64 "): %s",
		       who, e->start, e->start + e->length, what);
	}
	if (m->n > SHOWN)
		vu_log(VU_LOG_DEBUG, "%s: map: %zu more runs", who,
		       m->n - SHOWN);
}

/* ---- block sources ---- */

/* Each source carries its own ops so that its kind is the layer's. */
struct ext_src {
	struct vu_blk_ops ops;
	vu_run_lookup_fn lookup;
	void *ctx;
	void (*destroy)(void *ctx);
};

static int src_read(struct vu_blk *b, void *buf, size_t len, uint64_t off)
{
	const struct ext_src *s = b->priv;

	return vu_runs_read(s->lookup, s->ctx, buf, len, off);
}

static void src_destroy(struct vu_blk *b)
{
	struct ext_src *s = b->priv;

	if (s->destroy)
		s->destroy(s->ctx);
	free(s);
}

int vu_lookup_open(struct vu_blk *lower, uint64_t size, uint32_t sector_size,
		   vu_run_lookup_fn lookup, void *ctx,
		   void (*destroy)(void *ctx), const char *kind,
		   const char *name, struct vu_blk **out)
{
	struct ext_src *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s) {
		if (destroy)
			destroy(ctx);
		vu_blk_unref(lower);
		return vu_fail(-ENOMEM, "out of memory");
	}
	s->ops = (struct vu_blk_ops){ kind, src_read, src_destroy };
	s->lookup = lookup;
	s->ctx = ctx;
	s->destroy = destroy;
	*out = vu_blk_new(&s->ops, lower, size, sector_size, s, "%s", name);
	if (!*out) {
		src_destroy(&(struct vu_blk){ .priv = s });
		return -ENOMEM;
	}
	return 0;
}

static void map_destroy(void *m)
{
	vu_extent_map_free(m);
}

int vu_extent_map_open(struct vu_extent_map *m, struct vu_blk *lower,
		       uint32_t sector_size, const char *kind,
		       const char *name, struct vu_blk **out)
{
	return vu_lookup_open(lower, vu_extent_map_size(m), sector_size,
			      vu_extent_map_lookup, m, map_destroy, kind,
			      name, out);
}
