/* LUKS internals shared by luks.c, luks_volume.c and the unit tests. */
#ifndef VU_LUKS_INT_H
#define VU_LUKS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "luks/luks.h"

#define LUKS_MAX_SEGS 16
#define LUKS_MAX_KEYS 4
#define LUKS_HDR_CAP (64u << 20) /* never copy more header than this */

/* One active data segment, in volume order. */
struct luks_seg {
	uint64_t start, end;	/* bytes in the decrypted volume */
	uint64_t phys;		/* byte offset of start on the data device */
	int crypt;		/* 1 crypt, 0 linear (plaintext) */
	int digest;		/* crypt: the digest (key) it is bound to */
	uint64_t iv_tweak;	/* crypt: IV of its first byte, 512-byte units */
	uint32_t sector_size;	/* crypt: 512 ... 4096 */
	char encryption[64];	/* crypt: "aes-xts-plain64" */
};

/* A cipher specification as LUKS stores it ("aes-xts-plain64",
 * "aes-cbc-essiv:sha256", "aes-cbc-plain64", or LUKS1 cipher "aes" with
 * mode "xts-plain64") and the volume key size in bytes: our sector mode,
 * or -ENOTSUP naming the specification. */
int luks_cipher_parse(const char *spec, size_t key_len,
		      enum vu_sector_mode *mode);

/* The active segments of a LUKS2 JSON area ("backup-*" ones skipped), in
 * key order, with their digests; "dynamic" sizes reach dev_size (rounded
 * down to the sector size).  -EUCLEAN with a message for a malformed or
 * unmappable list, -ENOTSUP for an unknown segment type. */
int luks_segments_parse(const char *json, uint64_t dev_size,
			struct luks_seg *segs, size_t max, size_t *n);

/* The digest a keyslot is bound to, -1 when none (unbound or unknown). */
int luks_keyslot_digest(const char *json, int keyslot);

/* The LUKS1 header area size (payload offset, or the end of the last
 * key material for a detached header with payload offset 0) from the
 * first 592 bytes; 0 when not a LUKS1 header. */
uint64_t luks1_header_size(const uint8_t *hdr, size_t len);

#endif
