/* Fuzz target: LUKS header loading.  The input is a volume (vu_luks_open on
 * a memory source: our header-area sizing and LUKS2 checksum/JSON checks,
 * then libcryptsetup's parser on the memfd copy), and, as text, a LUKS2
 * JSON area for the segment-map parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/blk.h"
#include "core/error.h"
#include "core/log.h"
#include "luks/luks.h"
#include "luks/luks_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vu_blk *vol = NULL;
	struct vu_luks *l = NULL;
	struct luks_seg segs[LUKS_MAX_SEGS];
	size_t n;
	char *text;

	vu_log_set_sink(NULL, NULL);
	vu_err_clear();

	/* the segment list parser on the input as JSON text */
	text = malloc(size + 1);
	if (text) {
		memcpy(text, data, size);
		text[size] = '\0';
		(void)luks_segments_parse(text, (uint64_t)size << 12, segs,
					  LUKS_MAX_SEGS, &n);
		(void)luks_keyslot_digest(text, 0);
		free(text);
	}
	(void)luks1_header_size(data, size);

	/* a whole volume */
	vu_err_clear();
	if (vu_mem_open(data, size, "fuzz", &vol) < 0)
		return 0;
	if (vu_luks_open(vol, NULL, &l) == 0) {
		(void)vu_luks_info(l)->nkeyslots;
		vu_luks_close(l);
	}
	vu_blk_unref(vol);
	return 0;
}
