#ifndef VU_CRC_H
#define VU_CRC_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32 (IEEE 802.3, as GPT uses) and CRC-32C (Castagnoli, as VHDX uses).
 * Pass crc = 0 for a new computation; chaining works. */
uint32_t vu_crc32(uint32_t crc, const void *buf, size_t len);
uint32_t vu_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
