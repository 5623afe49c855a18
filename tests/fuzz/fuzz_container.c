/* Fuzz target: our VHD and VHDX metadata checks (footer, dynamic header,
 * parent locators, block table; VHDX headers, region tables, metadata
 * items, parent locator) over arbitrary bytes, then the reader: opened over
 * the same bytes with no parent (its sectors read as zeros), and the disk
 * read in 64 KiB pieces, the first 16 MiB and the last piece. */
#include <stddef.h>
#include <stdint.h>

#include "container/vhd.h"
#include "container/vhd_format.h"
#include "core/blk.h"
#include "core/log.h"

#define PIECE (64 * 1024)
#define READ_CAP (16 * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_disk(struct vu_blk *d)
{
	static uint8_t buf[PIECE];
	uint64_t cap = d->size < READ_CAP ? d->size : READ_CAP;

	for (uint64_t off = 0; off < cap; off += PIECE)
		vu_blk_read(d, buf, cap - off < PIECE ? cap - off : PIECE, off);
	if (d->size > cap) {
		uint64_t n = d->size - cap < PIECE ? d->size - cap : PIECE;
		vu_blk_read(d, buf, n, d->size - n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vu_blk *b, *d;

	vu_log_set_sink(NULL, NULL);
	if (vu_mem_open(data, size, "fuzz", &b) < 0)
		return 0;
	if (vhd_detect(b)) {
		struct vhd_meta m;
		if (vhd_check(b, &m) == 0) {
			if (m.disk_type != VHD_TYPE_FIXED &&
			    vhd_reader_open(vu_blk_ref(b), &m, NULL, &d) == 0) {
				read_disk(d);
				vu_blk_unref(d);
			}
			vhd_meta_free(&m);
		}
	}
	if (vhdx_detect(b)) {
		struct vhdx_meta m;
		if (vhdx_check(b, &m) == 0) {
			if (vhdx_reader_open(vu_blk_ref(b), &m, NULL, &d) == 0) {
				read_disk(d);
				vu_blk_unref(d);
			}
			vhdx_meta_free(&m);
		}
	}
	vu_err_clear();
	vu_blk_unref(b);
	return 0;
}
