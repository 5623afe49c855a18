/* A fixed VHD's footer (vhd_footer.h).  Every field is big-endian. */
#include <string.h>

#include "cli/vhd_footer.h"
#include "core/bytes.h"

/* VHD time stamps count seconds from 2000-01-01 00:00:00 UTC. */
#define VHD_EPOCH 946684800

/* The CHS geometry of the specification's appendix: the one every reader
 * that trusts geometry over size (Virtual PC, older qemu) computes back. */
static void chs(uint64_t size, uint16_t *cyl, uint8_t *heads, uint8_t *spt)
{
	uint64_t total = size / 512, cth;
	unsigned h, s;

	if (total > 65535ull * 16 * 255)
		total = 65535ull * 16 * 255;
	if (total >= 65535ull * 16 * 63) {
		s = 255;
		h = 16;
		cth = total / s;
	} else {
		s = 17;
		cth = total / s;
		h = (unsigned)((cth + 1023) / 1024);
		if (h < 4)
			h = 4;
		if (cth >= h * 1024ull || h > 16) {
			s = 31;
			h = 16;
			cth = total / s;
		}
		if (cth >= h * 1024ull) {
			s = 63;
			h = 16;
			cth = total / s;
		}
	}
	*cyl = (uint16_t)(cth / h);
	*heads = (uint8_t)h;
	*spt = (uint8_t)s;
}

void vhd_footer_fixed(uint8_t f[VHD_FOOTER_SIZE], uint64_t size, time_t now,
		      const uint8_t id[16])
{
	uint32_t sum = 0;
	uint16_t cyl;
	uint8_t heads, spt;

	memset(f, 0, VHD_FOOTER_SIZE);
	memcpy(f, "conectix", 8);
	vu_put_be32(f + 8, 2);			/* features: reserved bit */
	vu_put_be32(f + 12, 0x00010000);	/* format version 1.0 */
	vu_put_be64(f + 16, UINT64_MAX);	/* data offset: none (fixed) */
	vu_put_be32(f + 24, now > VHD_EPOCH ?
		    (uint32_t)(now - VHD_EPOCH) : 0);
	/* Creator "win " (Hyper-V): readers such as qemu take the size
	 * from the footer only for creators they know to write it so; for
	 * others they round it down to the CHS geometry, losing the tail. */
	memcpy(f + 28, "win ", 4);
	vu_put_be32(f + 32, 0x000a0000);	/* creator version 10.0 */
	memcpy(f + 36, "Wi2k", 4);		/* creator host OS */
	vu_put_be64(f + 40, size);		/* original size */
	vu_put_be64(f + 48, size);		/* current size */
	chs(size, &cyl, &heads, &spt);
	vu_put_be16(f + 56, cyl);
	f[58] = heads;
	f[59] = spt;
	vu_put_be32(f + 60, 2);			/* disk type: fixed */
	memcpy(f + 68, id, 16);
	/* f[84], saved state: 0 */
	for (int i = 0; i < VHD_FOOTER_SIZE; i++)
		sum += f[i];
	vu_put_be32(f + 64, ~sum);
}
