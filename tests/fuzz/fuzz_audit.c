/* Fuzz target: the audit's look at bytes.  Every 512-byte unit of the
 * input is classified, and the input as a memory volume is scanned (full
 * and sampled) over areas whose bounds come from its first bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "audit/audit_int.h"
#include "core/blk.h"
#include "core/error.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vu_audit_opts full = { .fraction = 1, .full = 1 };
	struct vu_audit_opts sample = { .fraction = 0.3 };
	struct vu_audit_scan sc = { 0 };
	struct audit_area area = { 0, 0 };
	struct vu_blk *vol = NULL;
	uint64_t done = 0;
	const char *what;

	vu_log_set_sink(NULL, NULL);
	vu_err_clear();
	for (size_t off = 0; off < size; off += AUDIT_UNIT)
		(void)audit_classify(data + off, size - off < AUDIT_UNIT ?
				     size - off : AUDIT_UNIT, &what);
	if (size < 8 || vu_mem_open(data, size, "fuzz", &vol) < 0)
		return 0;
	/* an area inside the volume, in whole units */
	area.offset = (data[0] | (uint64_t)data[1] << 8) % (size + 1);
	area.offset -= area.offset % AUDIT_UNIT;
	area.length = (size - area.offset) / AUDIT_UNIT * AUDIT_UNIT;
	(void)audit_scan(vol, &area, 1, &full, &done, size, &sc);
	audit_scan_free(&sc);
	(void)audit_scan(vol, &area, 1, &sample, &done, size, &sc);
	audit_scan_free(&sc);
	vu_blk_unref(vol);
	return 0;
}
