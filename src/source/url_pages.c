/* A page blob's written ranges, read once at open: Get Page Ranges
 * (?comp=pagelist), paged with NextMarker on a fragmented blob.  The map
 * only saves requests, so any failure is "no map" (read everything),
 * never an error. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "source/url_int.h"

/* One page of the list is at most this long (Azure's are a few MiB). */
#define MAX_PAGE_BODY ((size_t)64 << 20)
/* A marker travels in the query; Azure's are short. */
#define MAX_MARKER 1024

/* marker as a query value: unreserved characters kept, the rest %XX */
static void query_escape(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in && o + 4 < size; in++) {
		unsigned char ch = (unsigned char)*in;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-_.~", ch)) {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = 0;
}

void url_load_page_map(struct url_src *u, struct url_conn *c)
{
	char marker[MAX_MARKER] = "", extra[3 * MAX_MARKER + 64];
	int pages = 0, r = 0;

	if (!u->info.page_blob || getenv("VHDUNLOCK_NO_PAGE_MAP"))
		return;
	do {
		char esc[3 * MAX_MARKER + 1], *body = NULL;
		size_t len = 0;
		long status = 0;

		query_escape(marker, esc, sizeof(esc));
		snprintf(extra, sizeof(extra), "comp=pagelist%s%s",
			 marker[0] ? "&marker=" : "", esc);
		r = url_get_body(u, c, extra, MAX_PAGE_BODY, &status, &body,
				 &len);
		if (r == 0 && status != 200)
			r = vu_fail(-EIO, "HTTP %ld", status);
		if (r == 0)
			r = vu_pagelist_parse(body, len, &u->map, marker,
					      sizeof(marker));
		free(body);
		pages++;
	} while (r == 0 && marker[0]);
	if (r == 0)
		r = vu_page_map_finish(&u->map, u->info.size);
	if (r < 0) {
		vu_log(VU_LOG_INFO, "%s: no page map (%s): every range is "
		       "read", u->info.display, vu_errmsg(r));
		vu_err_clear();
		vu_page_map_free(&u->map);
		return;
	}
	u->info.have_map = 1;
	u->info.nranges = u->map.n;
	u->info.written_bytes = vu_page_map_bytes(&u->map);
	vu_log(VU_LOG_DEBUG, "%s: %zu written page ranges (%" PRIu64
	       " bytes) in %d page(s) of the list", u->info.display, u->map.n,
	       u->info.written_bytes, pages);
}
