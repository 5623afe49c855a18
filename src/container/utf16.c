#include "container/vhd.h"

#include "core/bytes.h"

static size_t put(char *out, size_t size, size_t n, uint32_t cp)
{
	uint8_t b[4];
	size_t len;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		len = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		len = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		len = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		len = 4;
	}
	if (n + len >= size)
		return n; /* out of room: drop the rest */
	for (size_t i = 0; i < len; i++)
		out[n + i] = (char)b[i];
	return n + len;
}

size_t vu_utf16_to_utf8(const uint8_t *in, size_t units, int big_endian,
			char *out, size_t out_size)
{
	size_t n = 0;

	if (!out_size)
		return 0;
	for (size_t i = 0; i < units; i++) {
		uint32_t u = big_endian ? vu_be16(in + 2 * i)
					: vu_le16(in + 2 * i);
		if (u == 0)
			break;
		if (u >= 0xd800 && u < 0xdc00 && i + 1 < units) {
			uint32_t lo = big_endian ? vu_be16(in + 2 * i + 2)
						 : vu_le16(in + 2 * i + 2);
			if (lo >= 0xdc00 && lo < 0xe000) {
				u = 0x10000 + ((u - 0xd800) << 10) +
				    (lo - 0xdc00);
				i++;
			} else {
				u = 0xfffd;
			}
		} else if (u >= 0xd800 && u < 0xe000) {
			u = 0xfffd;
		}
		n = put(out, out_size, n, u);
	}
	out[n] = '\0';
	return n;
}
