/* Fuzz target: scan a PV (label, mda header, metadata text), assemble its
 * VG, list it and read a little of every LV that opens.  Seeds are the
 * first 16 KiB of real PVs; the input is padded with zeros to PAD so that
 * the usual 1 MiB metadata area fits. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/blk.h"
#include "core/error.h"
#include "core/log.h"
#include "lvm/lvm.h"

#define PAD ((1u << 20) + (64u << 10))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vu_blk *b = NULL;
	struct vu_lvm_pv *pv = NULL;
	struct vu_lvm_vg *vg = NULL;
	struct vu_lvm_lv_info li;
	struct vu_lvm_pv_info pi;
	struct vu_lvm_vg_info vi;
	size_t len = size < PAD ? PAD : size;
	uint8_t *img = calloc(1, len);

	if (!img)
		return 0;
	memcpy(img, data, size);
	vu_log_set_sink(NULL, NULL);
	vu_err_clear();
	if (vu_mem_open(img, len, "fuzz", &b) < 0) {
		free(img);
		return 0;
	}
	if (vu_lvm_scan(b, &pv) == 0 && vu_lvm_vg_open(&pv, 1, &vg) == 0) {
		vu_lvm_vg_info(vg, &vi);
		for (size_t i = 0; vu_lvm_vg_pv(vg, i, &pi) == 0; i++)
			;
		for (size_t i = 0; vu_lvm_vg_lv(vg, i, &li) == 0; i++) {
			struct vu_blk *lv = NULL;
			uint8_t buf[4096];

			if (vu_lvm_lv_open(vg, li.name, &lv) == 0) {
				size_t n = lv->size < sizeof(buf) ?
						   (size_t)lv->size :
						   sizeof(buf);

				(void)vu_blk_read(lv, buf, n, 0);
				(void)vu_blk_read(lv, buf, n, lv->size - n);
			}
			vu_blk_unref(lv);
		}
	}
	vu_lvm_vg_close(vg);
	vu_lvm_pv_free(pv);
	vu_blk_unref(b);
	free(img);
	return 0;
}
