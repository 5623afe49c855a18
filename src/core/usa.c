#include "core/usa.h"

#include <errno.h>
#include <string.h>

#include "core/bytes.h"

int vu_usa_fixup(uint8_t *b, uint32_t size)
{
	uint32_t ofs = vu_le16(b + VU_USA_OFS);
	uint32_t count = vu_le16(b + VU_USA_COUNT);

	/* one entry for the sequence number, one per stride; the array must
	 * lie after the header fields that locate it */
	if (size % VU_USA_STRIDE || count != size / VU_USA_STRIDE + 1 ||
	    ofs < VU_USA_COUNT + 2 || ofs % 2 || ofs > size ||
	    count * 2 > size - ofs)
		return -EUCLEAN;
	for (uint32_t i = 1; i < count; i++) {
		uint8_t *end = b + i * VU_USA_STRIDE - 2;

		if (memcmp(end, b + ofs, 2) != 0)
			return -EUCLEAN;
		memcpy(end, b + ofs + 2 * i, 2);
	}
	return 0;
}
