/* The written page ranges of an Azure page blob (Get Page Ranges,
 * "?comp=pagelist"): what was never written reads as zeros, so the URL
 * source answers those reads without a request. */
#ifndef VU_PAGELIST_H
#define VU_PAGELIST_H

#include <stddef.h>
#include <stdint.h>

struct vu_page_range {
	uint64_t start;	/* first byte */
	uint64_t end;	/* one past the last byte */
};

struct vu_page_map {
	struct vu_page_range *v;	/* sorted, disjoint, merged */
	size_t n, cap;
};

/* Parse one Get Page Ranges answer (XML, UTF-8):
 *   <?xml ...?><PageList><PageRange><Start>0</Start><End>511</End>
 *   </PageRange>...<ClearRange>...</ClearRange><NextMarker>M</NextMarker>
 *   </PageList>
 * End is inclusive in the XML.  Each PageRange is appended to map
 * (ClearRange elements are skipped); marker receives NextMarker's text
 * ("" when absent or empty).  A body that is not such a document, a
 * number that is not decimal or overflows, End < Start, a range not
 * aligned to 512 bytes or a marker longer than marker_size - 1 is
 * -EPROTO with a message naming the byte offset in the body and what was
 * expected.  Never reads past len; body need not be NUL-terminated. */
int vu_pagelist_parse(const char *body, size_t len, struct vu_page_map *map,
		      char *marker, size_t marker_size);

/* Sort the ranges and merge those that overlap or touch.  -EPROTO when a
 * range ends past size (the blob's length). */
int vu_page_map_finish(struct vu_page_map *map, uint64_t size);

/* How [off, off+len) meets the map: the length of the first run from off
 * that is all written (*written = 1) or all unwritten (*written = 0),
 * at most len.  O(log n). */
uint64_t vu_page_map_run(const struct vu_page_map *map, uint64_t off,
			 uint64_t len, int *written);

/* Bytes covered by the ranges. */
uint64_t vu_page_map_bytes(const struct vu_page_map *map);

void vu_page_map_free(struct vu_page_map *map);

#endif
