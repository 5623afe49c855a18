/* Explicit little/big-endian decoding of on-disk fields: never cast a
 * buffer to a struct, the image may be unaligned or hostile. */
#ifndef VU_BYTES_H
#define VU_BYTES_H

#include <stdint.h>

static inline uint16_t vu_le16(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t vu_le32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static inline uint64_t vu_le64(const void *p)
{
	const uint8_t *b = p;
	return (uint64_t)vu_le32(b) | (uint64_t)vu_le32(b + 4) << 32;
}

static inline uint16_t vu_be16(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t vu_be32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static inline uint64_t vu_be64(const void *p)
{
	const uint8_t *b = p;
	return (uint64_t)vu_be32(b) << 32 | vu_be32(b + 4);
}

static inline void vu_put_le32(void *p, uint32_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

static inline void vu_put_be32(void *p, uint32_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static inline void vu_put_le16(void *p, uint16_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static inline void vu_put_le64(void *p, uint64_t v)
{
	vu_put_le32(p, (uint32_t)v);
	vu_put_le32((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

static inline void vu_put_be16(void *p, uint16_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline void vu_put_be64(void *p, uint64_t v)
{
	vu_put_be32(p, (uint32_t)(v >> 32));
	vu_put_be32((uint8_t *)p + 4, (uint32_t)v);
}

/* Sizes read from an image (sector, cluster, block, record) must be powers
 * of two before they are used as shifts or divisors. */
static inline int vu_is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* floor(log2(v)); 0 for 0 and 1. */
static inline unsigned vu_log2u(uint64_t v)
{
	unsigned n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

#endif
