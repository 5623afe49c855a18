#include "core/crc.h"

#include <pthread.h>

static uint32_t tab_ieee[256], tab_castagnoli[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void fill(uint32_t *tab, uint32_t poly)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? poly ^ (c >> 1) : c >> 1;
		tab[i] = c;
	}
}

static void make_tables(void)
{
	fill(tab_ieee, 0xEDB88320u);
	fill(tab_castagnoli, 0x82F63B78u);
}

static uint32_t run(const uint32_t *tab, uint32_t crc, const void *buf,
		    size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&tables_once, make_tables);
	crc = ~crc;
	while (len--)
		crc = tab[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint32_t vu_crc32(uint32_t crc, const void *buf, size_t len)
{
	return run(tab_ieee, crc, buf, len);
}

uint32_t vu_crc32c(uint32_t crc, const void *buf, size_t len)
{
	return run(tab_castagnoli, crc, buf, len);
}
