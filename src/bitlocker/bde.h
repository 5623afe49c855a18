/* BitLocker module internals, shared by bde_*.c, the unit tests and the
 * fuzz target.  Nothing here is for other modules (see bitlocker.h). */
#ifndef VU_BDE_H
#define VU_BDE_H

#include <stddef.h>
#include <stdint.h>

#include "bitlocker/bitlocker.h"
#include "bitlocker/bde_format.h"

enum bde_variant { BDE_VISTA, BDE_WIN7, BDE_TOGO };

/* What the volume header says. */
struct bde_vh {
	enum bde_variant variant;
	int used_space_only;
	uint32_t sector_size;
	uint32_t cluster_size;
	uint64_t metadata_offset[3];	/* Vista: only [0] is known here */
};

/* An AES-CCM wrapped key as stored (ciphertext borrowed from the block). */
struct bde_ccm {
	int present;
	uint8_t nonce[12];
	uint8_t mac[16];
	const uint8_t *data;
	size_t len;
};

struct bde_prot {
	uint16_t type;
	uint8_t guid[16];
	uint64_t mtime;			/* FILETIME */
	int has_salt;
	uint8_t salt[16];		/* stretch key salt (password, recovery) */
	struct bde_ccm vmk;		/* the VMK, wrapped */
	const uint8_t *clear_key;	/* clear key protector: the key (borrowed) */
	size_t clear_key_len;
};

#define BDE_MAX_PROTECTORS 64

/* One parsed metadata copy.  Pointers borrow from the block buffer. */
struct bde_meta {
	uint16_t version;		/* block header version: 1 or 2 */
	uint16_t state, next_state;
	uint64_t encrypted_size;
	uint32_t header_sectors;
	uint64_t metadata_offset[3];
	uint64_t vh_offset;		/* v2: relocated boot sectors; v1: MFT mirror cluster */
	uint64_t vh_size;		/* from the volume header entry, 0 if none */
	int has_vh_entry;
	uint32_t area_size;		/* bytes each metadata area covers */
	uint8_t volume_guid[16];
	uint16_t method;
	uint64_t creation_time;		/* FILETIME */
	const uint8_t *desc;		/* UTF-16LE, desc_len bytes */
	size_t desc_len;
	struct bde_ccm fvek;
	size_t nprot;
	struct bde_prot prot[BDE_MAX_PROTECTORS];
};

/* A parsed .BEK file: the identifier and the 32-byte key (secret memory). */
struct bde_bek {
	uint8_t guid[16];	/* the external key's identifier */
	uint8_t header_guid[16];	/* the file header's identifier */
	int has_volume_guid;		/* newer files name the volume too */
	uint8_t volume_guid[16];
	uint8_t *key;		/* vu_secret_alloc(key_len) */
	size_t key_len;
};

/* bde_metadata.c */
int bde_parse_vh(const uint8_t *sec, size_t len, struct bde_vh *out);
/* Validate and parse one metadata block read from offset `off` (len bytes,
 * normally the whole area).  Returns 0 or -EUCLEAN with the reason in why
 * (records no error message: the caller decides). */
int bde_parse_block(const uint8_t *buf, size_t len, uint64_t off,
		    struct bde_meta *m, char *why, size_t whylen);
/* UTF-16LE to UTF-8 (NUL-terminated, malloc'd; stops at the first NUL;
 * bad surrogates become U+FFFD). */
char *bde_utf16_to_utf8(const uint8_t *p, size_t len);
int64_t bde_filetime_to_unix(uint64_t ft);
const char *bde_method_name(uint16_t method);
const char *bde_method_cipher(uint16_t method);
const char *bde_state_name(uint16_t state);

/* bde_bek.c */
int bde_bek_parse(const uint8_t *buf, size_t len, const char *name,
		  struct bde_bek *out);
void bde_bek_free(struct bde_bek *bek);

/* bde_keys.c */
/* 48 digits -> 16-byte key.  0 or -EINVAL with a message naming the group. */
int bde_recovery_parse(const char *pw, uint8_t key[16]);
/* CCM-unwrap a key entry: 0 with *key (secret memory, *key_len bytes) and
 * *method, -EPERM on a MAC mismatch, -EUCLEAN on a damaged plaintext. */
int bde_unwrap(const uint8_t *kek, size_t kek_len, const struct bde_ccm *w,
	       uint8_t **key, size_t *key_len, uint32_t *method);

/* bitlocker.c / bde_volume.c: the opened volume */
struct vu_bde {
	struct vu_blk *vol;
	struct bde_vh vh;
	uint8_t *block;			/* the metadata copy in use */
	size_t block_len;
	struct bde_meta meta;
	char *description;
	struct vu_bde_protector *protectors;
	struct vu_bde_info info;
	uint8_t *fvek;			/* secret memory, NULL until unlocked */
	size_t fvek_len;
	int unlocked_by;
};

#endif
