/* MBR rewriting for disk copies (mbr_rewrite.h). */
#include "partition/mbr_rewrite.h"

#include <inttypes.h>

#include "core/bytes.h"
#include "core/error.h"
#include "partition/mbr_format.h"

/* CHS of an LBA in the geometry every tool since the 1990s assumes (255
 * heads, 63 sectors a track); past cylinder 1023 the "use LBA" marker
 * (1023, 254, 63), as fdisk and Windows write it. */
static void put_chs(uint8_t *p, uint32_t lba)
{
	uint32_t c = lba / (255 * 63), h = lba / 63 % 255, s = lba % 63 + 1;

	if (c > 1023) {
		c = 1023;
		h = 254;
		s = 63;
	}
	p[0] = (uint8_t)h;
	p[1] = (uint8_t)(s | (c >> 8) << 6);
	p[2] = (uint8_t)c;
}

int vu_mbr_rewrite_move_start(uint8_t sector[512], unsigned slot,
			      uint32_t delta)
{
	struct mbr_entry e;
	uint8_t *p;

	if (!mbr_has_magic(sector))
		return vu_fail(-EINVAL, "mbr: no 55 AA signature at offset "
			       "%u", MBR_MAGIC_OFF);
	if (slot < 1 || slot > MBR_ENTRIES)
		return vu_fail(-EINVAL, "mbr: partition %u is not a primary "
			       "one (1..%u): moving the start of a logical "
			       "partition is not supported", slot,
			       MBR_ENTRIES);
	mbr_entry_decode(sector, slot - 1, &e);
	if (e.type == MBR_TYPE_EMPTY || mbr_type_is_extended(e.type))
		return vu_fail(-EINVAL, "mbr: partition %u is %s", slot,
			       e.type ? "an extended partition" : "empty");
	if (delta >= e.size || e.start > UINT32_MAX - delta)
		return vu_fail(-EINVAL, "mbr: partition %u (%" PRIu32
			       " sectors at LBA %" PRIu32 ") cannot start %"
			       PRIu32 " sectors later", slot, e.size, e.start,
			       delta);
	p = sector + mbr_entry_off(slot - 1);
	vu_put_le32(p + MBR_E_START, e.start + delta);
	vu_put_le32(p + MBR_E_SIZE, e.size - delta);
	put_chs(p + 1, e.start + delta);
	return 0;
}

int vu_mbr_rewrite_protective(uint8_t sector[512], uint64_t lbas)
{
	for (unsigned i = 0; i < MBR_ENTRIES && mbr_has_magic(sector); i++) {
		struct mbr_entry e;
		uint8_t *p = sector + mbr_entry_off(i);

		mbr_entry_decode(sector, i, &e);
		if (e.type != MBR_TYPE_GPT_PROTECTIVE)
			continue;
		vu_put_le32(p + MBR_E_SIZE, lbas - e.start > UINT32_MAX
						    ? UINT32_MAX
						    : (uint32_t)(lbas -
								 e.start));
		put_chs(p + 5, lbas - 1 > UINT32_MAX ? UINT32_MAX
						     : (uint32_t)(lbas - 1));
		return 0;
	}
	return vu_fail(-EINVAL, "mbr: no protective (0xEE) entry");
}
