/* The XTS tweak passes of sector.c four blocks at a time, in the 512-bit
 * registers of AVX-512 where the processor has them: the tweaks cost as
 * much as AES-NI itself when made one block at a time.  No OpenSSL, no
 * keys: tweaks and data only. */
#ifndef VU_XTS_WIDE_H
#define VU_XTS_WIDE_H

#include <stddef.h>
#include <stdint.h>

/* Can this processor (and the kernel, which must save the registers) run
 * the functions below?  0 where they are not built (other compilers or
 * architectures). */
int vu_xts_wide_usable(void);
/* Tests: with forbid set, vu_xts_wide_usable says 0, so that sector.c's
 * own passes get tested on processors that have AVX-512 too. */
void vu_xts_wide_forbid(int forbid);

/* As xts_group in sector.c: the tweaks T * alpha^j, j = 0..31, of 32
 * consecutive blocks (T = lo | hi << 64) into tw, and the blocks at d
 * XORed with them. */
void vu_xts_wide_group(uint8_t *tw, uint8_t *d, uint64_t lo, uint64_t hi);

/* d ^= t over n bytes, n a multiple of 64. */
void vu_xts_wide_xor(uint8_t *d, const uint8_t *t, size_t n);

#endif
