/* Fuzz target: a page blob's Get Page Ranges answer (XML), parsed into a
 * page map, finished against a fixed blob size, and walked with
 * vu_page_map_run over the whole blob. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "source/pagelist.h"

/* A blob far larger than any range a small input can describe. */
#define BLOB ((uint64_t)1 << 40)
/* Each range gives at most two runs; inputs are far below this. */
#define MAX_STEPS 1000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vu_page_map m = { 0 };
	char marker[128];
	uint64_t off = 0, n, written = 0;
	int w, last = -1, steps = 0;

	vu_log_set_sink(NULL, NULL);
	vu_err_clear();
	if (vu_pagelist_parse((const char *)data, size, &m, marker,
			      sizeof(marker)) == 0) {
		if (strlen(marker) >= sizeof(marker))
			__builtin_trap();
		if (vu_page_map_finish(&m, BLOB) == 0) {
			/* the runs tile the blob, never empty, alternating
			 * (ranges are merged), and the written ones add up to
			 * vu_page_map_bytes */
			while (off < BLOB && steps++ < MAX_STEPS) {
				n = vu_page_map_run(&m, off, BLOB - off, &w);
				if (!n || n > BLOB - off || w == last)
					__builtin_trap();
				written += w ? n : 0;
				last = w;
				off += n;
			}
			if (off == BLOB && written != vu_page_map_bytes(&m))
				__builtin_trap();
		}
	} else if (marker[0]) {
		__builtin_trap(); /* a refused body leaves no marker */
	}
	vu_page_map_free(&m);
	vu_err_clear();
	return 0;
}
