/* Fuzz target: the volume probe over an arbitrary first part of a volume. */
#include <stddef.h>
#include <stdint.h>

#include "core/blk.h"
#include "core/error.h"
#include "core/log.h"
#include "volume/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vu_blk *vol = NULL;
	struct vu_probe p;

	vu_log_set_sink(NULL, NULL);
	vu_err_clear();
	if (vu_mem_open(data, size, "fuzz", &vol) < 0)
		return 0;
	(void)vu_probe(vol, &p);
	(void)vu_kind_name(p.kind);
	vu_blk_unref(vol);
	return 0;
}
