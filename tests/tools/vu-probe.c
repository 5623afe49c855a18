/* Test-only: identify a volume image and print what the probe found, one
 * line: KIND=.. LABEL=.. UUID=.. DETAIL=..  (values unquoted, as found). */
#include <stdio.h>

#include "core/blk.h"
#include "core/error.h"
#include "volume/probe.h"

int main(int argc, char **argv)
{
	struct vu_blk *vol = NULL;
	struct vu_probe p;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: vu-probe FILE\n");
		return 2;
	}
	r = vu_file_open(argv[1], &vol);
	if (r == 0)
		r = vu_probe(vol, &p);
	vu_blk_unref(vol);
	if (r < 0) {
		fprintf(stderr, "vu-probe: %s\n", vu_errmsg(r));
		return 1;
	}
	printf("KIND=%s LABEL=%s UUID=%s DETAIL=%s\n", vu_kind_name(p.kind),
	       p.label, p.uuid, p.detail);
	return 0;
}
