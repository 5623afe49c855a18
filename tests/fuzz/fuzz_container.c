/* Fuzz target: our VHD and VHDX metadata checks (footer, dynamic header,
 * parent locators, block table; VHDX headers, region tables, metadata
 * table, block table) over arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "container/vhd.h"
#include "core/blk.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vu_blk *b;

	vu_log_set_sink(NULL, NULL);
	if (vu_mem_open(data, size, "fuzz", &b) < 0)
		return 0;
	if (vhd_detect(b)) {
		struct vhd_meta m;
		if (vhd_check(b, &m) == 0)
			vhd_meta_free(&m);
	}
	if (vhdx_detect(b)) {
		struct vhdx_meta m;
		vhdx_check(b, &m);
	}
	vu_err_clear();
	vu_blk_unref(b);
	return 0;
}
