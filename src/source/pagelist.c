/* See pagelist.h.  A strict scanner for the few elements Get Page Ranges
 * answers with; there is no XML library in the stack. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "source/pagelist.h"

#ifndef EPROTO
#define EPROTO 71
#endif

struct scan {
	const char *s;
	size_t len, at;
};

static int bad(const struct scan *sc, const char *what)
{
	return vu_fail(-EPROTO, "page list: at byte %zu: expected %s", sc->at,
		       what);
}

static void skip_space(struct scan *sc)
{
	while (sc->at < sc->len && strchr(" \t\r\n", sc->s[sc->at]))
		sc->at++;
}

static int starts(const struct scan *sc, const char *t)
{
	size_t n = strlen(t);

	return sc->at <= sc->len && sc->len - sc->at >= n &&
	       !memcmp(sc->s + sc->at, t, n);
}

static int expect(struct scan *sc, const char *t)
{
	skip_space(sc);
	if (!starts(sc, t))
		return bad(sc, t);
	sc->at += strlen(t);
	return 0;
}

/* <Name>digits</Name> */
static int number(struct scan *sc, const char *open, const char *close,
		  uint64_t *v)
{
	int r = expect(sc, open);

	if (r < 0)
		return r;
	*v = 0;
	if (sc->at >= sc->len || sc->s[sc->at] < '0' || sc->s[sc->at] > '9')
		return bad(sc, "a decimal number");
	while (sc->at < sc->len && sc->s[sc->at] >= '0' && sc->s[sc->at] <= '9') {
		unsigned d = (unsigned)(sc->s[sc->at] - '0');
		if (*v > (UINT64_MAX - d) / 10)
			return bad(sc, "a number below 2^64");
		*v = *v * 10 + d;
		sc->at++;
	}
	return expect(sc, close);
}

static int add_range(struct vu_page_map *m, uint64_t start, uint64_t end)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct vu_page_range *v;
		if (cap > SIZE_MAX / sizeof(*v))
			return vu_fail(-ENOMEM, "out of memory");
		v = realloc(m->v, cap * sizeof(*v));
		if (!v)
			return vu_fail(-ENOMEM, "out of memory");
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n].start = start;
	m->v[m->n].end = end;
	m->n++;
	return 0;
}

/* <PageRange> or <ClearRange>: Start and End (inclusive), 512-aligned */
static int range(struct scan *sc, struct vu_page_map *m, int clear)
{
	const char *close = clear ? "</ClearRange>" : "</PageRange>";
	uint64_t start, end;
	size_t at = sc->at;
	int r;

	if ((r = number(sc, "<Start>", "</Start>", &start)) < 0 ||
	    (r = number(sc, "<End>", "</End>", &end)) < 0 ||
	    (r = expect(sc, close)) < 0)
		return r;
	if (end < start || start % 512 || (end + 1) % 512 || end == UINT64_MAX)
		return vu_fail(-EPROTO, "page list: at byte %zu: range %llu-%llu"
			       " is not whole 512-byte pages", at,
			       (unsigned long long)start,
			       (unsigned long long)end);
	return clear ? 0 : add_range(m, start, end + 1);
}

/* <NextMarker /> or <NextMarker>text</NextMarker> */
static int next_marker(struct scan *sc, char *marker, size_t size)
{
	size_t begin, n;
	int r;

	if (starts(sc, "<NextMarker/>") || starts(sc, "<NextMarker />")) {
		sc->at += starts(sc, "<NextMarker/>") ? 13 : 14;
		marker[0] = 0;
		return 0;
	}
	if ((r = expect(sc, "<NextMarker>")) < 0)
		return r;
	begin = sc->at;
	while (sc->at < sc->len && sc->s[sc->at] != '<')
		sc->at++;
	n = sc->at - begin;
	if (n >= size)
		return bad(sc, "a shorter NextMarker");
	memcpy(marker, sc->s + begin, n);
	marker[n] = 0;
	return expect(sc, "</NextMarker>");
}

int vu_pagelist_parse(const char *body, size_t len, struct vu_page_map *map,
		      char *marker, size_t marker_size)
{
	struct scan sc = { body, len, 0 };
	int r;

	if (marker_size)
		marker[0] = 0;
	skip_space(&sc);
	if (starts(&sc, "\xef\xbb\xbf"))
		sc.at += 3;
	skip_space(&sc);
	if (starts(&sc, "<?xml")) {
		while (sc.at + 1 < len && !(body[sc.at] == '?' && body[sc.at + 1] == '>'))
			sc.at++;
		if (sc.at + 1 >= len)
			return bad(&sc, "'?>'");
		sc.at += 2;
	}
	if ((r = expect(&sc, "<PageList")) < 0)
		return r;
	/* attributes of PageList are not used */
	while (sc.at < len && body[sc.at] != '>')
		sc.at++;
	if (sc.at >= len)
		return bad(&sc, "'>'");
	sc.at++;
	for (;;) {
		skip_space(&sc);
		if (starts(&sc, "<PageRange>")) {
			sc.at += 11;
			r = range(&sc, map, 0);
		} else if (starts(&sc, "<ClearRange>")) {
			sc.at += 12;
			r = range(&sc, map, 1);
		} else if (starts(&sc, "<NextMarker")) {
			r = next_marker(&sc, marker, marker_size);
		} else if (starts(&sc, "</PageList>")) {
			sc.at += 11;
			skip_space(&sc);
			return sc.at == len ? 0 : bad(&sc, "the end of the body");
		} else {
			return bad(&sc, "<PageRange>, <ClearRange>, <NextMarker>"
				   " or </PageList>");
		}
		if (r < 0)
			return r;
	}
}

static int by_start(const void *a, const void *b)
{
	const struct vu_page_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int vu_page_map_finish(struct vu_page_map *map, uint64_t size)
{
	size_t o = 0;

	if (!map->n)
		return 0;
	qsort(map->v, map->n, sizeof(map->v[0]), by_start);
	for (size_t i = 0; i < map->n; i++) {
		if (map->v[i].end > size)
			return vu_fail(-EPROTO, "page list: range ends at byte "
				       "%llu, past the blob's %llu",
				       (unsigned long long)map->v[i].end,
				       (unsigned long long)size);
		if (o && map->v[i].start <= map->v[o - 1].end) {
			if (map->v[i].end > map->v[o - 1].end)
				map->v[o - 1].end = map->v[i].end;
		} else {
			map->v[o++] = map->v[i];
		}
	}
	map->n = o;
	return 0;
}

uint64_t vu_page_map_run(const struct vu_page_map *map, uint64_t off,
			 uint64_t len, int *written)
{
	size_t lo = 0, hi = map->n;

	/* the first range that ends after off */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (map->v[mid].end <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < map->n && map->v[lo].start <= off) {
		uint64_t n = map->v[lo].end - off;
		*written = 1;
		return n < len ? n : len;
	}
	*written = 0;
	if (lo < map->n) {
		uint64_t n = map->v[lo].start - off;
		return n < len ? n : len;
	}
	return len;
}

uint64_t vu_page_map_bytes(const struct vu_page_map *map)
{
	uint64_t n = 0;

	for (size_t i = 0; i < map->n; i++)
		n += map->v[i].end - map->v[i].start;
	return n;
}

void vu_page_map_free(struct vu_page_map *map)
{
	free(map->v);
	memset(map, 0, sizeof(*map));
}
