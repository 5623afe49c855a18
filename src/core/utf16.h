#ifndef VU_UTF16_H
#define VU_UTF16_H

#include <stddef.h>
#include <stdint.h>

/* Input byte order: little-endian unless VU_UTF16_BE (VHD names). */
#define VU_UTF16_BE 1u
/* Encode a lone surrogate as it is (as libblkid does, so labels match
 * blkid) instead of as U+FFFD. */
#define VU_UTF16_KEEP_LONE 2u

/* UTF-16 (units 16-bit units, stopping at a NUL unit) to NUL-terminated
 * UTF-8 in out.  Surrogate pairs are joined.  Output stops before the first
 * character that does not fit.  Returns the UTF-8 length. */
size_t vu_utf16_to_utf8(const uint8_t *in, size_t units, unsigned flags,
			char *out, size_t out_size);

#endif
