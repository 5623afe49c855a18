/* Unit tests: extent maps (core/extent.c).  Random maps of zero runs,
 * pass-through runs and transformed runs over several memory sources are
 * read at random offsets and lengths and compared with a naive reference
 * that computes every byte on its own from the run list; then the errors:
 * runs past a source's end, sectors too large, holes in a lookup, failing
 * reads and transforms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/blk.h"
#include "core/error.h"
#include "core/extent.h"

#define NLOWER 3
#define LOWER_SIZE (256u * 1024)
#define MAX_RUNS 40

static uint8_t lower_bytes[NLOWER][LOWER_SIZE];

/* A toy transform that depends on the sector number, the byte's place in
 * its sector and which transform it is, so that a wrong IV, a wrong skew or
 * a mixed-up transform all show. */
struct toy {
	uint32_t ss;
	uint8_t id;
	int fail_at;	/* sector that fails, -1: none */
	int *freed;
};

static uint8_t toy_byte(uint8_t id, uint64_t sector, uint32_t j)
{
	uint64_t x = (sector * 0x9e3779b97f4a7c15ull) ^
		     (j * 0xbf58476d1ce4e5b9ull) ^ id;

	x ^= x >> 29;
	return (uint8_t)(x ^ (x >> 8));
}

static int toy_apply(void *ctx, uint64_t sector, uint8_t *buf, size_t n)
{
	const struct toy *t = ctx;

	for (size_t k = 0; k < n; k++) {
		if (t->fail_at >= 0 && sector + k == (uint64_t)t->fail_at)
			return vu_fail(-EBADMSG, "toy: sector %d fails",
				       t->fail_at);
		for (uint32_t j = 0; j < t->ss; j++)
			buf[k * t->ss + j] ^= toy_byte(t->id, sector + k, j);
	}
	return 0;
}

static void toy_free(void *ctx)
{
	struct toy *t = ctx;

	if (t->freed)
		(*t->freed)++;
	free(t);
}

/* The run list as the test made it, for the reference. */
struct ref_run {
	uint64_t length;
	int lower;		/* -1: zeros */
	uint64_t lower_off;
	int xf;			/* -1: none */
	uint64_t first_sector, sector0_off;
};

struct ref_map {
	size_t n;
	struct ref_run r[MAX_RUNS];
	uint32_t ss[2];
	uint8_t id[2];
	uint64_t size;
};

static uint8_t ref_byte(const struct ref_map *m, uint64_t p)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct ref_run *r = &m->r[i];
		uint64_t q, into;

		if (p >= r->length) {
			p -= r->length;
			continue;
		}
		if (r->lower < 0)
			return 0;
		q = r->lower_off + p;
		if (r->xf < 0)
			return lower_bytes[r->lower][q];
		into = q - r->sector0_off;
		return lower_bytes[r->lower][q] ^
		       toy_byte(m->id[r->xf],
				r->first_sector + into / m->ss[r->xf],
				(uint32_t)(into % m->ss[r->xf]));
	}
	fail_msg("reference: offset past the map");
	return 0;
}

static uint64_t rnd(uint64_t n)
{
	return n ? (uint64_t)random() % n : 0;
}

/* A random run: zeros, pass-through or transformed, lengths sometimes
 * whole sectors and sometimes not, places sometimes aligned. */
static struct ref_run random_run(const struct ref_map *m)
{
	struct ref_run r = { 1 + rnd(rnd(4) ? 5000 : 40000), -1, 0, -1, 0, 0 };
	int kind = (int)rnd(4);

	if (kind == 0)
		return r;
	r.lower = (int)rnd(NLOWER);
	if (kind == 1) {
		r.lower_off = rnd(LOWER_SIZE - r.length);
		return r;
	}
	r.xf = (int)rnd(2);
	{
		uint32_t ss = m->ss[r.xf];
		uint64_t skew = rnd(2) ? 0 : rnd(ss);
		uint64_t nsec = (skew + r.length + ss - 1) / ss;
		uint64_t k = rnd(8); /* sectors between sector 0 and the run */

		r.sector0_off = rnd(LOWER_SIZE - (k + nsec) * ss + 1);
		r.lower_off = r.sector0_off + k * ss + skew;
		r.first_sector = rnd(2) ? rnd(1u << 30) : 0;
	}
	return r;
}

struct built {
	struct vu_blk *lower[NLOWER];
	struct vu_blk *map;
	struct ref_map ref;
	int freed;
};

static void build(struct built *b, int nruns)
{
	static const uint32_t sizes[] = { 512, 1024, 4096 };
	struct vu_extent_map *m = vu_extent_map_new();
	const struct vu_xform *xf[2];

	assert_non_null(m);
	memset(&b->ref, 0, sizeof(b->ref));
	b->freed = 0;
	for (int k = 0; k < 2; k++) {
		struct toy *t = calloc(1, sizeof(*t));

		assert_non_null(t);
		t->ss = sizes[rnd(3)];
		t->id = (uint8_t)(k + 1);
		t->fail_at = -1;
		t->freed = &b->freed;
		b->ref.ss[k] = t->ss;
		b->ref.id[k] = t->id;
		xf[k] = vu_extent_map_xform(m, k ? "toy-b" : "toy-a", t->ss,
					    toy_apply, t, toy_free);
		assert_non_null(xf[k]);
	}
	for (int i = 0; i < nruns; i++) {
		struct ref_run r = random_run(&b->ref);
		struct vu_blk *lower = r.lower < 0 ? NULL : b->lower[r.lower];

		assert_int_equal(vu_extent_map_add(m, r.length, lower,
						   r.lower_off,
						   r.xf < 0 ? NULL : xf[r.xf],
						   r.first_sector,
						   r.sector0_off), 0);
		b->ref.r[b->ref.n++] = r;
		b->ref.size += r.length;
	}
	assert_int_equal(vu_extent_map_size(m), b->ref.size);
	assert_int_equal(vu_extent_map_open(m, NULL, 512, "test", "map",
					    &b->map), 0);
	assert_int_equal(b->map->size, b->ref.size);
}

static void test_random_maps(void **state)
{
	struct built b;
	uint8_t *got, *want;

	(void)state;
	srandom(14);
	for (int k = 0; k < NLOWER; k++) {
		for (size_t i = 0; i < LOWER_SIZE; i++)
			lower_bytes[k][i] = (uint8_t)random();
	}
	for (int round = 0; round < 60; round++) {
		for (int k = 0; k < NLOWER; k++)
			assert_int_equal(vu_mem_open(lower_bytes[k], LOWER_SIZE,
						     "l", &b.lower[k]), 0);
		build(&b, 1 + (int)rnd(MAX_RUNS));
		got = malloc(b.ref.size);
		want = malloc(b.ref.size);
		assert_non_null(got);
		assert_non_null(want);
		for (uint64_t p = 0; p < b.ref.size; p++)
			want[p] = ref_byte(&b.ref, p);
		/* the whole map, then random requests */
		assert_int_equal(vu_blk_read(b.map, got, b.ref.size, 0), 0);
		assert_memory_equal(got, want, b.ref.size);
		for (int q = 0; q < 300; q++) {
			uint64_t off = rnd(b.ref.size + 1);
			uint64_t len = rnd(rnd(3) ? 9000
						   : b.ref.size - off + 1);

			if (len > b.ref.size - off)
				len = b.ref.size - off;
			memset(got, 0xa5, len);
			assert_int_equal(vu_blk_read(b.map, got, len, off), 0);
			assert_memory_equal(got, want + off, len);
		}
		free(got);
		free(want);
		for (int k = 0; k < NLOWER; k++)
			vu_blk_unref(b.lower[k]);
		assert_int_equal(b.freed, 0);
		vu_blk_unref(b.map);
		assert_int_equal(b.freed, 2); /* both transforms went */
	}
}

/* A lookup that hands over one run at a time must read the same as the
 * map's own, which hands over up to VU_RUNS_MAX. */
static int one_at_a_time(const void *ctx, uint64_t off, size_t len,
			 struct vu_run *runs, size_t max)
{
	(void)max;
	return vu_extent_map_lookup(ctx, off, len, runs, 1);
}

static void test_lookup_source(void **state)
{
	struct vu_extent_map *m = vu_extent_map_new();
	struct vu_blk *lo, *one, *many;
	static uint8_t a[8192], b[8192];

	(void)state;
	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(vu_mem_open(a, sizeof(a), "a", &lo), 0);
	for (int i = 0; i < 30; i++)
		assert_int_equal(vu_extent_map_add(m, 100 + i,
						   i % 3 ? lo : NULL,
						   (uint64_t)i * 200, NULL, 0,
						   0), 0);
	assert_int_equal(vu_lookup_open(NULL, vu_extent_map_size(m), 512,
					one_at_a_time, m, NULL, "one", "one",
					&one), 0);
	assert_int_equal(vu_extent_map_open(m, NULL, 512, "many", "many",
					    &many), 0);
	assert_string_equal(many->ops->kind, "many");
	memset(b, 1, sizeof(b));
	assert_int_equal(vu_blk_read(one, b, one->size, 0), 0);
	{
		uint8_t *c = malloc(many->size);

		assert_non_null(c);
		assert_int_equal(vu_blk_read(many, c, many->size, 0), 0);
		assert_memory_equal(b, c, many->size);
		/* run 0 is zeros, run 1 is a[200..301) */
		for (int i = 0; i < 100; i++)
			assert_int_equal(c[i], 0);
		assert_memory_equal(c + 100, a + 200, 101);
		free(c);
	}
	vu_blk_unref(one);
	vu_blk_unref(many);
	vu_blk_unref(lo);
}

static void test_neighbours_merge(void **state)
{
	struct vu_extent_map *m = vu_extent_map_new();
	static uint8_t a[4096];
	struct vu_run runs[4];
	struct vu_blk *lo;

	(void)state;
	assert_int_equal(vu_mem_open(a, sizeof(a), "a", &lo), 0);
	assert_int_equal(vu_extent_map_add(m, 1000, lo, 0, NULL, 0, 0), 0);
	assert_int_equal(vu_extent_map_add(m, 1000, lo, 1000, NULL, 0, 0), 0);
	assert_int_equal(vu_extent_map_add(m, 10, NULL, 0, NULL, 0, 0), 0);
	assert_int_equal(vu_extent_map_add(m, 10, NULL, 0, NULL, 0, 0), 0);
	assert_int_equal(vu_extent_map_add(m, 0, lo, 0, NULL, 0, 0), 0);
	assert_int_equal(vu_extent_map_lookup(m, 0, 5000, runs, 4), 2);
	assert_int_equal(runs[0].length, 2000);
	assert_ptr_equal(runs[0].lower, lo);
	assert_int_equal(runs[1].length, 20);
	assert_null(runs[1].lower);
	/* from the middle: the rest of the run */
	assert_int_equal(vu_extent_map_lookup(m, 1500, 1, runs, 4), 1);
	assert_int_equal(runs[0].length, 500);
	assert_int_equal(runs[0].lower_off, 1500);
	vu_err_clear();
	assert_int_equal(vu_extent_map_lookup(m, 2020, 1, runs, 4), -EIO);
	vu_err_clear();
	vu_extent_map_free(m);
	vu_blk_unref(lo);
}

/* A transformed run longer than the walk's read-and-transform step, read
 * whole and from an unaligned offset. */
static void test_large_run(void **state)
{
	const size_t size = 3u << 20;
	uint8_t *src = malloc(size), *got = malloc(size);
	struct vu_extent_map *m = vu_extent_map_new();
	struct toy *t = calloc(1, sizeof(*t));
	const struct vu_xform *xf;
	struct vu_blk *lo, *map;

	(void)state;
	assert_non_null(src);
	assert_non_null(got);
	assert_non_null(t);
	for (size_t i = 0; i < size; i++)
		src[i] = (uint8_t)(i * 31 + (i >> 9));
	assert_int_equal(vu_mem_open(src, size, "big", &lo), 0);
	t->ss = 4096;
	t->id = 9;
	t->fail_at = -1;
	xf = vu_extent_map_xform(m, "toy", 4096, toy_apply, t, toy_free);
	assert_non_null(xf);
	/* sector 100 starts at byte 4096 of the source */
	assert_int_equal(vu_extent_map_add(m, size - 8192, lo, 4096, xf, 100,
					   4096), 0);
	assert_int_equal(vu_extent_map_open(m, NULL, 512, "t", "t", &map), 0);
	for (int k = 0; k < 2; k++) {
		uint64_t off = k ? 777 : 0, len = map->size - off;

		assert_int_equal(vu_blk_read(map, got, len, off), 0);
		for (uint64_t p = 0; p < len; p++) {
			uint64_t q = 4096 + off + p;
			uint64_t sector = 100 + (q - 4096) / 4096;
			uint8_t want = src[q] ^ toy_byte(9, sector,
							 (uint32_t)(q % 4096));

			if (got[p] != want)
				fail_msg("byte %llu of a read at %llu",
					 (unsigned long long)p,
					 (unsigned long long)off);
		}
	}
	vu_blk_unref(map);
	vu_blk_unref(lo);
	free(src);
	free(got);
}

static void test_errors(void **state)
{
	struct vu_extent_map *m = vu_extent_map_new();
	static uint8_t a[8192];
	uint8_t buf[2048];
	struct vu_blk *lo, *map;
	const struct vu_xform *xf;
	struct toy *t;
	int freed = 0;

	(void)state;
	assert_int_equal(vu_mem_open(a, sizeof(a), "a", &lo), 0);
	/* past the end of the source */
	vu_err_clear();
	assert_int_equal(vu_extent_map_add(m, 4097, lo, 4096, NULL, 0, 0),
			 -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(0), "past the end"));
	assert_non_null(strstr(vu_errmsg(0), "mem:a"));
	vu_err_clear();
	/* a sector size the bounce buffer cannot hold: refused, ctx freed */
	t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->freed = &freed;
	assert_null(vu_extent_map_xform(m, "big", 8192, toy_apply, t,
					toy_free));
	assert_int_equal(freed, 1);
	assert_non_null(strstr(vu_errmsg(0), "sector size 8192"));
	vu_err_clear();
	/* a transformed run whose last sector would run past the source */
	t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->ss = 512;
	t->fail_at = 3;
	t->freed = &freed;
	xf = vu_extent_map_xform(m, "toy", 512, toy_apply, t, toy_free);
	assert_non_null(xf);
	assert_int_equal(vu_extent_map_add(m, 100, lo, 8000, xf, 0, 7900),
			 -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(0), "whole 512-byte sectors"));
	vu_err_clear();
	/* sector 0 after the run start */
	assert_int_equal(vu_extent_map_add(m, 100, lo, 0, xf, 0, 512),
			 -EUCLEAN);
	vu_err_clear();
	assert_int_equal(vu_extent_map_add(m, 4096, lo, 0, xf, 0, 0), 0);
	assert_int_equal(vu_extent_map_open(m, NULL, 512, "t", "t", &map), 0);
	/* sectors 0-2 read, sector 3 fails: whole and partial */
	assert_int_equal(vu_blk_read(map, buf, 1536, 0), 0);
	assert_int_equal(vu_blk_read(map, buf, 10, 1000), 0);
	assert_int_equal(vu_blk_read(map, buf, 10, 1530), -EBADMSG);
	vu_err_clear();
	assert_int_equal(vu_blk_read(map, buf, 2048, 1024), -EBADMSG);
	assert_non_null(strstr(vu_errmsg(0), "sector 3 fails"));
	vu_err_clear();
	/* a read of the source below fails: the error comes up */
	vu_blk_fault_after(1 + 1); /* the map's own read, then the source */
	assert_int_equal(vu_blk_read(map, buf, 512, 0), -EIO);
	vu_blk_fault_after(0);
	vu_err_clear();
	vu_blk_unref(map);
	assert_int_equal(freed, 2);
	vu_blk_unref(lo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_maps),
		cmocka_unit_test(test_lookup_source),
		cmocka_unit_test(test_neighbours_merge),
		cmocka_unit_test(test_large_run),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
