/* An MBR rewritten for a copy of its disk (`vhdunlock decrypt`), as
 * gpt_rewrite.h does for GPT: pure functions on the 512-byte sector as
 * read, so the copy lays the result over its output and the source is
 * never changed. */
#ifndef VU_MBR_REWRITE_H
#define VU_MBR_REWRITE_H

#include <stdint.h>

/* Primary partition slot (1..4) starts delta sectors later and ends where
 * it did (a LUKS volume replaced by its payload): its start LBA, size and
 * starting CHS address change.  -EINVAL with a message when the sector is
 * no MBR, the slot is empty, extended or beyond 4 (logical partitions live
 * in extended boot records), or delta is not less than its size. */
int vu_mbr_rewrite_move_start(uint8_t sector[512], unsigned slot,
			      uint32_t delta);

/* A protective MBR (one 0xEE entry) of a GPT disk that grows to lbas
 * sectors: the entry covers it all, up to the 32-bit limit.  -EINVAL when
 * there is no protective entry. */
int vu_mbr_rewrite_protective(uint8_t sector[512], uint64_t lbas);

#endif
