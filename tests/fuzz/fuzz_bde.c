/* Fuzz target: BitLocker metadata and key files.
 * The input is used three ways: as a whole volume (vu_bde_open on a memory
 * source, then every unlock path that needs no stretch, and a read of the
 * decrypted volume when the clear key opens it), as one metadata block
 * parsed at offset 0, and as a .BEK file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bitlocker/bde.h"
#include "bitlocker/bitlocker.h"
#include "core/blk.h"
#include "core/bytes.h"
#include "core/error.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vu_blk *vol = NULL, *dec = NULL;
	struct vu_bde *b = NULL;
	struct bde_meta *m;
	struct bde_bek k;
	char why[160], guid[VU_GUID_STRLEN];
	uint8_t buf[4096];

	vu_log_set_sink(NULL, NULL);
	vu_err_clear();

	/* one metadata block, listing itself at offset 0 or anywhere */
	m = malloc(sizeof(*m));
	if (m) {
		/* the offset the block lists first: a raw block parses whole */
		uint64_t self = size >= 40 ? vu_le64(data + 32) : 0;

		(void)bde_parse_block(data, size, 0, m, why, sizeof(why));
		(void)bde_parse_block(data, size, self, m, why, sizeof(why));
		free(m);
	}

	/* a .BEK file */
	vu_err_clear();
	if (bde_bek_parse(data, size, "fuzz.BEK", &k) == 0)
		bde_bek_free(&k);
	(void)vu_bde_bek_guid(data, size, "fuzz.BEK", guid);

	/* a whole volume */
	vu_err_clear();
	if (vu_mem_open(data, size, "fuzz", &vol) < 0)
		return 0;
	if (vu_bde_open(vol, &b) == 0) {
		const struct vu_bde_info *in = vu_bde_info(b);

		(void)in->nprotectors;
		if (size >= 48 + 64)
			(void)vu_bde_unlock_bek(b, data + size - 156 > data
							   ? data + size - 156
							   : data,
						size >= 156 ? 156 : size, "x");
		if (vu_bde_unlock_clearkey(b) == 0 &&
		    vu_bde_volume_open(b, &dec) == 0) {
			size_t n = dec->size < sizeof(buf) ? (size_t)dec->size
							   : sizeof(buf);

			(void)vu_blk_read(dec, buf, n, 0);
			if (dec->size > n)
				(void)vu_blk_read(dec, buf, n, dec->size - n);
			vu_blk_unref(dec);
		}
		vu_bde_close(b);
	}
	vu_blk_unref(vol);
	return 0;
}
