/* Fuzz target: a page blob's Get Page Ranges answer (XML), parsed into a
 * page map, finished against a blob size taken from the input, and walked
 * with vu_page_map_run over the whole blob. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "source/pagelist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vu_page_map m = { 0 };
	char marker[128];
	uint64_t blob = (uint64_t)1 << 40, off = 0, n;
	int w, steps = 0;

	vu_log_set_sink(NULL, NULL);
	vu_err_clear();
	if (vu_pagelist_parse((const char *)data, size, &m, marker,
			      sizeof(marker)) == 0 &&
	    vu_page_map_finish(&m, blob) == 0) {
		(void)vu_page_map_bytes(&m);
		/* every run is non-empty and the runs tile the blob */
		while (off < blob && steps++ < 100000) {
			n = vu_page_map_run(&m, off, blob - off, &w);
			if (!n || n > blob - off)
				__builtin_trap();
			off += n;
		}
	}
	vu_page_map_free(&m);
	vu_err_clear();
	return 0;
}
