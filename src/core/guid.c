#include "core/guid.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"

void vu_guid_format(const uint8_t g[16], char out[VU_GUID_STRLEN])
{
	snprintf(out, VU_GUID_STRLEN,
		 "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 vu_le32(g), vu_le16(g + 4), vu_le16(g + 6), g[8], g[9], g[10],
		 g[11], g[12], g[13], g[14], g[15]);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int vu_guid_parse(const char *s, uint8_t g[16])
{
	uint8_t raw[16];
	size_t len = strlen(s), n = 0;

	if (len == 38 && s[0] == '{' && s[37] == '}') {
		s++;
		len -= 2;
	}
	if (len != 36)
		return -EINVAL;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		int hi = hexval((unsigned char)s[i]),
		    lo = hexval((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		raw[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	/* text order -> on-disk mixed endian */
	g[0] = raw[3], g[1] = raw[2], g[2] = raw[1], g[3] = raw[0];
	g[4] = raw[5], g[5] = raw[4], g[6] = raw[7], g[7] = raw[6];
	memcpy(g + 8, raw + 8, 8);
	return 0;
}

int vu_guid_is_zero(const uint8_t g[16])
{
	for (int i = 0; i < 16; i++)
		if (g[i])
			return 0;
	return 1;
}
