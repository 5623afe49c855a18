/* Test-only: read LVM2 PVs from image files.
 *   lvm-dump PV...             prints "VG name uuid extent_size_bytes",
 *                              "PV name uuid present", then one line per LV:
 *                              "LV name size_bytes types supported"
 *   lvm-dump -x VG-LV PV...    writes that LV to stdout */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blk.h"
#include "core/error.h"
#include "lvm/lvm.h"

static int dump(struct vu_blk *b)
{
	static char buf[1 << 20];
	uint64_t off = 0;

	while (off < b->size) {
		size_t n = b->size - off < sizeof(buf) ? (size_t)(b->size - off)
						       : sizeof(buf);
		int r = vu_blk_read(b, buf, n, off);

		if (r < 0)
			return r;
		if (fwrite(buf, 1, n, stdout) != n)
			return vu_fail(-EIO, "write to stdout failed");
		off += n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct vu_lvm_pv **pvs;
	struct vu_lvm_vg *vg = NULL;
	const char *extract = NULL;
	size_t n = 0;
	int i = 1, r = 0;

	if (argc > 2 && !strcmp(argv[1], "-x")) {
		extract = argv[2];
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: lvm-dump [-x VG-LV] PV...\n");
		return 2;
	}
	pvs = calloc((size_t)(argc - i), sizeof(*pvs));
	if (!pvs)
		return 1;
	for (; i < argc && r == 0; i++) {
		struct vu_blk *b = NULL;

		r = vu_file_open(argv[i], &b);
		if (r == 0)
			r = vu_lvm_scan(b, &pvs[n]);
		if (r == 0)
			n++;
		vu_blk_unref(b);
	}
	if (r == 0)
		r = vu_lvm_vg_open(pvs, n, &vg);
	if (r == 0 && extract) {
		struct vu_blk *lv = NULL;

		r = vu_lvm_lv_open(vg, extract, &lv);
		if (r == 0)
			r = dump(lv);
		vu_blk_unref(lv);
	} else if (r == 0) {
		struct vu_lvm_vg_info vi;
		struct vu_lvm_pv_info pi;
		struct vu_lvm_lv_info li;

		vu_lvm_vg_info(vg, &vi);
		printf("VG %s %s %llu\n", vi.name, vi.uuid,
		       (unsigned long long)vi.extent_size * 512);
		for (size_t k = 0; vu_lvm_vg_pv(vg, k, &pi) == 0; k++)
			printf("PV %s %s %s\n", pi.name, pi.uuid,
			       pi.present ? "present" : "missing");
		for (size_t k = 0; vu_lvm_vg_lv(vg, k, &li) == 0; k++)
			printf("LV %s %llu %s %s%s%s\n", li.name,
			       (unsigned long long)li.size, li.types,
			       li.supported ? "supported" : "unsupported",
			       li.visible ? "" : " hidden",
			       li.missing ? " missing" : "");
	}
	vu_lvm_vg_close(vg);
	for (size_t k = 0; k < n; k++)
		vu_lvm_pv_free(pvs[k]);
	free(pvs);
	if (r < 0) {
		fprintf(stderr, "lvm-dump: %s\n", vu_errmsg(r));
		return 1;
	}
	return 0;
}
