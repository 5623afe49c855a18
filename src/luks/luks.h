/* LUKS1 and LUKS2: libcryptsetup loads the header and returns the volume
 * key (no dm-crypt, no root: the header area is copied into a memfd and
 * opened as /proc/self/fd/N); the data is decrypted by our own sector
 * engine, through a segment map that also covers a LUKS2 volume in the
 * middle of a reencryption (crypt segments decrypted, linear ones passed
 * through).
 *
 *   struct vu_luks *l;
 *   vu_luks_open(vol, NULL, &l);             or a detached header
 *   vu_luks_info(l)->keyslots[...]           what can open it
 *   vu_luks_unlock_passphrase(l, pw, len);   or _keyfile
 *   vu_luks_volume_open(l, &plain);          a vu_blk reading decrypted data
 *   vu_luks_close(l);                        plain keeps what it needs
 *
 * Errors: -EUCLEAN damaged or truncated header (both LUKS2 copies), -ENOTSUP
 * a cipher or layout we do not decrypt, -EPERM no keyslot opens with that
 * key, -ENOKEY volume locked, -EIO a failed read, -ENOMEM. */
#ifndef VU_LUKS_H
#define VU_LUKS_H

#include <stddef.h>
#include <stdint.h>

#include "core/blk.h"

struct vu_luks;

#define VU_LUKS_MAX_KEYSLOTS 32

struct vu_luks_keyslot {
	int index;
	int active;		/* holds a key (LUKS2: including unbound) */
	int unbound;		/* LUKS2 keyslot not bound to a segment */
	char pbkdf[16];		/* "pbkdf2", "argon2id", "argon2i", "" */
	char hash[16];		/* pbkdf2 hash, "" for argon2 */
	uint32_t iterations;	/* pbkdf2 iterations or argon2 time cost */
	uint32_t memory_kb;	/* argon2 memory cost, 0 for pbkdf2 */
	uint32_t threads;	/* argon2 parallel cost */
};

enum vu_luks_reencrypt {
	VU_LUKS_REENC_NONE,	/* no reencryption */
	VU_LUKS_REENC_CLEAN,	/* in progress, interrupted cleanly */
	VU_LUKS_REENC_CRASH,	/* in progress, needs recovery */
	VU_LUKS_REENC_INVALID,
};

struct vu_luks_info {
	int version;		/* 1 or 2 */
	char cipher[32];	/* "aes" */
	char mode[48];		/* "xts-plain64", "cbc-essiv:sha256" */
	unsigned int key_bits;	/* volume key size in bits (XTS: both halves) */
	uint32_t sector_size;	/* 512 or 4096 */
	char uuid[40];
	char label[49];		/* LUKS2, "" when none */
	uint64_t data_offset;	/* bytes (0 for most detached headers) */
	uint64_t header_size;	/* bytes copied from the header source */
	int detached;		/* header came from a separate source */
	int primary_damaged;	/* LUKS2 loaded from the secondary header */
	size_t nkeyslots;	/* entries in keyslots (active ones) */
	struct vu_luks_keyslot keyslots[VU_LUKS_MAX_KEYSLOTS];
	int ntokens;
	enum vu_luks_reencrypt reencrypt;
	const char *reencrypt_name; /* "none", "clean", "crash", "invalid" */
	size_t nsegments;	/* LUKS2 active data segments (1 when idle) */
};

/* Load the header of vol, or of detached_header when not NULL (vol then
 * holds only the data).  Takes its own references.  A LUKS2 volume whose
 * primary header is damaged loads from the secondary (with a warning);
 * both damaged, or a truncated header: -EUCLEAN. */
int vu_luks_open(struct vu_blk *vol, struct vu_blk *detached_header,
		 struct vu_luks **out);
const struct vu_luks_info *vu_luks_info(const struct vu_luks *l);
/* For a detached header: read the data from vol instead (the segments
 * are mapped again for its size).  Keys already found stay, so one key
 * derivation serves every candidate volume a found header is tried on. */
int vu_luks_set_data(struct vu_luks *l, struct vu_blk *vol);
void vu_luks_close(struct vu_luks *l);

/* The data segments as mapped (no key needed), in volume order: where
 * each lies on the data volume and whether it is encrypted (a LUKS2
 * reencryption in progress leaves a plaintext, "linear", segment).
 * Returns how many there are; at most max are filled. */
struct vu_luks_segment {
	uint64_t offset, length; /* bytes on the data volume */
	int encrypted;
};
size_t vu_luks_segments(const struct vu_luks *l, struct vu_luks_segment *out,
			size_t max);

/* Unlock with a passphrase or a key file (used byte for byte, as ADE's
 * 172-byte base64 key file).  0 once the volume key(s) are known (a second
 * call after success returns 0), -EPERM when no keyslot opens. */
int vu_luks_unlock_passphrase(struct vu_luks *l, const uint8_t *pass,
			      size_t len);
int vu_luks_unlock_keyfile(struct vu_luks *l, const uint8_t *data,
			   size_t len);
int vu_luks_is_unlocked(const struct vu_luks *l);
/* The keyslot that opened the volume, or -1. */
int vu_luks_unlocked_by(const struct vu_luks *l);

/* The decrypted volume (needs an unlocked l): the data area, with the
 * segments of a reencryption in progress mapped.  Holds its own keys and
 * a reference to vol, so l may be closed afterwards.  Thread-safe.
 * -ENOTSUP (naming it) for a cipher other than aes-xts-plain64,
 * aes-cbc-essiv:sha256 and aes-cbc-plain64.  Its description ends in
 * "luks2(aes-xts-plain64)". */
int vu_luks_volume_open(struct vu_luks *l, struct vu_blk **decrypted);

#endif
