/* See pagelist.h.  A strict scanner for the few elements Get Page Ranges
 * answers with; there is no XML library in the stack.  Every read goes
 * through struct scan, whose position never passes len, so a body that is
 * not NUL-terminated (or is cut anywhere) is safe.  Anything the scanner
 * does not know is refused rather than guessed at: a wrong page map would
 * make the URL source answer zeros for data that exists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "source/pagelist.h"

#ifndef EPROTO
#define EPROTO 71
#endif

/* Page blobs are written in whole pages of this size. */
#define PAGE_BYTES 512u
/* First allocation of a map; doubled from there. */
#define MAP_FIRST_CAP 64u
/* How much of the body an error message quotes after "found". */
#define FOUND_SHOW 24u

static const char utf8_bom[] = "\xef\xbb\xbf";

struct scan {
	const char *s;
	size_t len, at;
};

static size_t left(const struct scan *sc)
{
	return sc->len - sc->at;
}

/* A short, printable quote of what is at the current position. */
static void found(const struct scan *sc, char *out, size_t size)
{
	size_t n = left(sc) < FOUND_SHOW ? left(sc) : FOUND_SHOW, o = 0;

	if (!n) {
		snprintf(out, size, "the end of the body");
		return;
	}
	out[o++] = '"';
	for (size_t i = 0; i < n && o + 2 < size; i++) {
		unsigned char c = (unsigned char)sc->s[sc->at + i];
		out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[o++] = '"';
	out[o] = 0;
}

static int bad(const struct scan *sc, const char *what)
{
	char seen[FOUND_SHOW + 8];

	found(sc, seen, sizeof(seen));
	return vu_fail(-EPROTO, "page list: at byte %zu: expected %s, found %s",
		       sc->at, what, seen);
}

/* XML white space only: strchr() would also match the NUL byte. */
static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_space(struct scan *sc)
{
	while (sc->at < sc->len && is_space(sc->s[sc->at]))
		sc->at++;
}

static int starts(const struct scan *sc, const char *t)
{
	size_t n = strlen(t);

	return left(sc) >= n && !memcmp(sc->s + sc->at, t, n);
}

/* After white space, is lead+name a whole tag name here ("<NextMarker"
 * but not "<NextMarkers")?  Nothing is consumed. */
static int at_tag(struct scan *sc, const char *lead, const char *name)
{
	size_t ll = strlen(lead), nl = strlen(name);
	char c;

	skip_space(sc);
	if (!starts(sc, lead) || left(sc) < ll + nl ||
	    memcmp(sc->s + sc->at + ll, name, nl))
		return 0;
	if (left(sc) == ll + nl)
		return 1; /* cut here: take_tag reports it */
	c = sc->s[sc->at + ll + nl];
	return c == '>' || c == '/' || is_space(c);
}

/* Consume the tag lead+name ("<PageRange", "</PageRange"), optional white
 * space and ">" — or "/>" when empty is not NULL (*empty says which). */
static int take_tag(struct scan *sc, const char *lead, const char *name,
		    int *empty)
{
	char want[64];

	snprintf(want, sizeof(want), "%s%s>", lead, name);
	if (!at_tag(sc, lead, name))
		return bad(sc, want);
	sc->at += strlen(lead) + strlen(name);
	skip_space(sc);
	if (empty)
		*empty = 0;
	if (starts(sc, ">")) {
		sc->at++;
		return 0;
	}
	if (empty && starts(sc, "/>")) {
		sc->at += 2;
		*empty = 1;
		return 0;
	}
	return bad(sc, empty ? "'>' or '/>'" : "'>'");
}

/* <?xml ... ?>: its pseudo-attributes are not needed. */
static int xml_declaration(struct scan *sc)
{
	sc->at += strlen("<?xml");
	while (left(sc) >= 2 && !starts(sc, "?>"))
		sc->at++;
	if (!starts(sc, "?>")) {
		sc->at = sc->len;
		return bad(sc, "'?>'");
	}
	sc->at += 2;
	return 0;
}

/* The attributes of the root element (e.g. ServiceEndpoint in newer
 * versions) are not used; a quoted value may hold '>'. */
static int skip_attributes(struct scan *sc)
{
	char quote = 0;

	for (; sc->at < sc->len; sc->at++) {
		char c = sc->s[sc->at];
		if (quote) {
			if (c == quote)
				quote = 0;
		} else if (c == '"' || c == '\'') {
			quote = c;
		} else if (c == '>' || c == '<' || starts(sc, "/>")) {
			break;
		}
	}
	if (quote || sc->at == sc->len || sc->s[sc->at] == '<')
		return bad(sc, "the end of the <PageList> tag");
	return 0;
}

/* <Name>decimal</Name>: at most 2^64 - 1. */
static int number(struct scan *sc, const char *name, uint64_t *v)
{
	int r = take_tag(sc, "<", name, NULL);

	if (r < 0)
		return r;
	skip_space(sc);
	if (!left(sc) || sc->s[sc->at] < '0' || sc->s[sc->at] > '9')
		return bad(sc, "a decimal number");
	*v = 0;
	while (left(sc) && sc->s[sc->at] >= '0' && sc->s[sc->at] <= '9') {
		unsigned d = (unsigned)(sc->s[sc->at] - '0');
		if (*v > (UINT64_MAX - d) / 10)
			return bad(sc, "a number below 2^64");
		*v = *v * 10 + d;
		sc->at++;
	}
	return take_tag(sc, "</", name, NULL);
}

static int add_range(struct vu_page_map *m, uint64_t start, uint64_t end)
{
	if (m->n == m->cap) {
		struct vu_page_range *v;
		size_t cap;
		/* doubling must neither wrap nor overflow the byte count */
		if (m->cap > SIZE_MAX / 2 / sizeof(*v))
			return vu_fail(-ENOMEM, "page list: too many ranges");
		cap = m->cap ? m->cap * 2 : MAP_FIRST_CAP;
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

/* The body of <PageRange> or <ClearRange>: Start, End (inclusive), both
 * on 512-byte page boundaries; a PageRange goes into the map. */
static int range(struct scan *sc, struct vu_page_map *m, const char *name,
		 int keep)
{
	uint64_t start, end;
	size_t at;
	int r;

	skip_space(sc);
	at = sc->at;
	if ((r = number(sc, "Start", &start)) < 0 ||
	    (r = number(sc, "End", &end)) < 0)
		return r;
	if (end < start || start % PAGE_BYTES || end == UINT64_MAX ||
	    (end + 1) % PAGE_BYTES)
		return vu_fail(-EPROTO, "page list: at byte %zu: expected whole "
			       "%u-byte pages with End >= Start, found "
			       "Start %llu, End %llu", at, PAGE_BYTES,
			       (unsigned long long)start,
			       (unsigned long long)end);
	if ((r = take_tag(sc, "</", name, NULL)) < 0)
		return r;
	return keep ? add_range(m, start, end + 1) : 0;
}

/* The five predefined entities; a marker has no use for any other. */
static int entity(struct scan *sc, char *c)
{
	static const struct {
		const char *text;
		char c;
	} known[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (starts(sc, known[i].text)) {
			sc->at += strlen(known[i].text);
			*c = known[i].c;
			return 0;
		}
	return bad(sc, "&amp;, &lt;, &gt;, &quot; or &apos;");
}

/* <NextMarker />, <NextMarker></NextMarker> or <NextMarker>M</NextMarker> */
static int next_marker(struct scan *sc, char *marker, size_t size)
{
	size_t n = 0;
	int empty, r;

	if ((r = take_tag(sc, "<", "NextMarker", &empty)) < 0)
		return r;
	while (!empty && left(sc) && sc->s[sc->at] != '<') {
		char c = sc->s[sc->at];
		if (c == '&') {
			if ((r = entity(sc, &c)) < 0)
				return r;
		} else {
			sc->at++;
		}
		if (n + 1 >= size)
			return bad(sc, "a NextMarker that fits the caller's "
				   "buffer");
		marker[n++] = c;
	}
	if (size)
		marker[n] = 0;
	return empty ? 0 : take_tag(sc, "</", "NextMarker", NULL);
}

/* The children of <PageList> up to and including </PageList>. */
static int page_list(struct scan *sc, struct vu_page_map *map, char *marker,
		     size_t marker_size)
{
	int markers = 0, r;

	for (;;) {
		if (at_tag(sc, "<", "PageRange")) {
			if ((r = take_tag(sc, "<", "PageRange", NULL)) < 0 ||
			    (r = range(sc, map, "PageRange", 1)) < 0)
				return r;
		} else if (at_tag(sc, "<", "ClearRange")) {
			if ((r = take_tag(sc, "<", "ClearRange", NULL)) < 0 ||
			    (r = range(sc, map, "ClearRange", 0)) < 0)
				return r;
		} else if (at_tag(sc, "<", "NextMarker")) {
			if (markers++)
				return bad(sc, "a single NextMarker");
			if ((r = next_marker(sc, marker, marker_size)) < 0)
				return r;
		} else if (at_tag(sc, "</", "PageList")) {
			return take_tag(sc, "</", "PageList", NULL);
		} else {
			return bad(sc, "<PageRange>, <ClearRange>, <NextMarker> "
				   "or </PageList>");
		}
	}
}

static int document(struct scan *sc, struct vu_page_map *map, char *marker,
		    size_t marker_size)
{
	int empty = 0, r;

	if (starts(sc, utf8_bom))
		sc->at += strlen(utf8_bom);
	skip_space(sc);
	if (starts(sc, "<?xml") && (r = xml_declaration(sc)) < 0)
		return r;
	if (!at_tag(sc, "<", "PageList"))
		return bad(sc, "<PageList>");
	sc->at += strlen("<PageList");
	if ((r = skip_attributes(sc)) < 0)
		return r;
	if (starts(sc, "/>")) {
		sc->at += 2; /* <PageList/>: a blob never written */
		empty = 1;
	} else {
		sc->at++; /* '>' */
	}
	if (!empty && (r = page_list(sc, map, marker, marker_size)) < 0)
		return r;
	skip_space(sc);
	return left(sc) ? bad(sc, "the end of the body") : 0;
}

int vu_pagelist_parse(const char *body, size_t len, struct vu_page_map *map,
		      char *marker, size_t marker_size)
{
	struct scan sc = { body, len, 0 };
	size_t n0 = map->n;
	int r;

	if (marker_size)
		marker[0] = 0;
	r = document(&sc, map, marker, marker_size);
	if (r < 0) {
		/* a refused body adds nothing: earlier pages stay usable */
		map->n = n0;
		if (marker_size)
			marker[0] = 0;
	}
	return r;
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
		const struct vu_page_range *r = &map->v[i];
		if (r->end > size)
			return vu_fail(-EPROTO, "page list: range %llu-%llu "
				       "ends past the blob's %llu bytes",
				       (unsigned long long)r->start,
				       (unsigned long long)r->end - 1,
				       (unsigned long long)size);
		/* sorted by start: only the last kept range can meet it */
		if (o && r->start <= map->v[o - 1].end) {
			if (r->end > map->v[o - 1].end)
				map->v[o - 1].end = r->end;
		} else {
			map->v[o++] = *r;
		}
	}
	map->n = o;
	return 0;
}

uint64_t vu_page_map_run(const struct vu_page_map *map, uint64_t off,
			 uint64_t len, int *written)
{
	size_t lo = 0, hi = map->n;
	uint64_t n;

	/* binary search for the first range that ends after off */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (map->v[mid].end <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == map->n) {
		*written = 0; /* past the last range */
		return len;
	}
	*written = map->v[lo].start <= off;
	n = *written ? map->v[lo].end - off : map->v[lo].start - off;
	return n < len ? n : len;
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
