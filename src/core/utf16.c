#include "core/utf16.h"

#include "core/bytes.h"

static uint32_t unit(const uint8_t *in, size_t i, unsigned flags)
{
	return flags & VU_UTF16_BE ? vu_be16(in + 2 * i) : vu_le16(in + 2 * i);
}

size_t vu_utf16_to_utf8(const uint8_t *in, size_t units, unsigned flags,
			char *out, size_t out_size)
{
	size_t n = 0;

	if (!out_size)
		return 0;
	for (size_t i = 0; i < units; i++) {
		uint32_t cp = unit(in, i, flags);
		uint8_t b[4];
		size_t len;

		if (cp == 0)
			break;
		if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < units &&
		    unit(in, i + 1, flags) >= 0xdc00 &&
		    unit(in, i + 1, flags) < 0xe000) {
			cp = 0x10000 + ((cp - 0xd800) << 10) +
			     (unit(in, i + 1, flags) - 0xdc00);
			i++;
		} else if (cp >= 0xd800 && cp < 0xe000 &&
			   !(flags & VU_UTF16_KEEP_LONE)) {
			cp = 0xfffd;
		}
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
		if (n + len >= out_size)
			break;
		for (size_t k = 0; k < len; k++)
			out[n + k] = (char)b[k];
		n += len;
	}
	out[n] = '\0';
	return n;
}
