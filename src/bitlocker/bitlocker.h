/* BitLocker: parse a volume's metadata (no key needed), unlock it with a
 * startup key (.BEK), recovery password, user password or clear key, and
 * read it decrypted, exactly as Windows presents it.
 *
 *   struct vu_bde *b;
 *   vu_bde_open(vol, &b);                  parse the three metadata copies
 *   vu_bde_info(b)->protectors[...]        what can open it
 *   vu_bde_unlock_bek(b, bek, len, name);  or _recovery_password, ...
 *   vu_bde_volume_open(b, &plain);         a vu_blk reading decrypted data
 *   vu_bde_close(b);                       plain keeps what it needs
 *
 * Errors: -EUCLEAN damaged metadata or key file, -ENOTSUP a variant we do
 * not read, -EPERM the key opens no protector (wrong key), -ENOKEY the
 * volume has no protector of that kind, -EINVAL a malformed recovery
 * password, -EIO a failed read.  The message names the volume. */
#ifndef VU_BITLOCKER_H
#define VU_BITLOCKER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/blk.h"
#include "core/guid.h"

struct vu_bde;

/* Protector (VMK protection) types, as stored. */
enum vu_bde_prot {
	VU_BDE_PROT_CLEAR_KEY = 0x0000,
	VU_BDE_PROT_TPM = 0x0100,
	VU_BDE_PROT_STARTUP_KEY = 0x0200,
	VU_BDE_PROT_TPM_STARTUP_KEY = 0x0300,
	VU_BDE_PROT_TPM_PIN_STARTUP_KEY = 0x0400,
	VU_BDE_PROT_TPM_PIN = 0x0500,
	VU_BDE_PROT_RECOVERY_PASSWORD = 0x0800,
	VU_BDE_PROT_PUBLIC_KEY = 0x1000,
	VU_BDE_PROT_PASSWORD = 0x2000,
};

struct vu_bde_protector {
	uint16_t type;			/* enum vu_bde_prot (or unknown) */
	const char *type_name;		/* "startup key", "recovery password", ... */
	char guid[VU_GUID_STRLEN];	/* lower case, no braces */
	time_t mtime;			/* last change, 0 when unknown */
};

struct vu_bde_info {
	const char *variant;		/* "vista", "windows 7+", "to go" */
	int used_space_only;		/* "used disk space only" identifier */
	uint16_t method;		/* 0x8000 ... 0x8005 */
	const char *method_name;	/* "aes-cbc-128-elephant", "aes-cbc-256",
					 * "aes-xts-128", ... */
	const char *cipher;		/* short form for description chains:
					 * "xts-128", "cbc-256", "cbc-128-elephant" */
	char volume_guid[VU_GUID_STRLEN];
	const char *description;	/* UTF-8, "" when none */
	time_t creation_time;		/* 0 when unknown */
	uint16_t state, next_state;	/* conversion state (1 decrypted,
					 * 2 encrypting, 4 encrypted, 5 paused) */
	const char *state_name;		/* "encrypted", "encryption in progress", ... */
	int partly_encrypted;		/* encrypted_size < volume size */
	uint64_t encrypted_size;	/* bytes from the start that are encrypted */
	uint64_t volume_size;		/* size of the underlying volume */
	uint32_t sector_size;		/* 512 or 4096 */
	uint64_t metadata_offset[3];	/* byte offsets of the three copies */
	int metadata_copy;		/* the copy in use: 0, 1 or 2 */
	uint64_t header_offset;		/* where the boot sectors were moved */
	uint64_t header_size;		/* and how many bytes */
	size_t nprotectors;
	const struct vu_bde_protector *protectors;
};

/* Parse the volume header and the first valid metadata copy.  Takes its
 * own reference to vol.  -EUCLEAN (all copies damaged), -ENOTSUP, -EIO. */
int vu_bde_open(struct vu_blk *vol, struct vu_bde **out);
const struct vu_bde_info *vu_bde_info(const struct vu_bde *b);
void vu_bde_close(struct vu_bde *b);

/* Unlock.  Each returns 0 once the volume's FVEK is known (a second call
 * after success is a no-op returning 0), -EPERM when the key opens no
 * protector, -ENOKEY when there is no protector of that kind, -EUCLEAN for
 * damaged key material, -EINVAL for a malformed recovery password.
 * bek_name names the key file in messages (may be NULL). */
int vu_bde_unlock_bek(struct vu_bde *b, const uint8_t *bek, size_t len,
		      const char *bek_name);
int vu_bde_unlock_recovery_password(struct vu_bde *b, const char *password);
int vu_bde_unlock_password(struct vu_bde *b, const char *password);
int vu_bde_unlock_clearkey(struct vu_bde *b);
/* Non-zero once unlocked; which protector opened it (index into
 * info->protectors), or -1. */
int vu_bde_is_unlocked(const struct vu_bde *b);
int vu_bde_unlocked_by(const struct vu_bde *b);

/* The decrypted volume (needs an unlocked b): the relocated boot sectors
 * in place, metadata areas as zeros, the unencrypted tail of a partly
 * encrypted volume passed through.  It holds its own copy of the key and a
 * reference to the encrypted volume, so b may be closed afterwards.
 * Thread-safe.  Its description ends in "bitlocker(<cipher>)". */
int vu_bde_volume_open(struct vu_bde *b, struct vu_blk **decrypted);

/* ---- helpers that need no volume ---- */

/* The startup key identifier inside a .BEK file (the GUID that names the
 * file and the protector it opens).  -EUCLEAN naming the file when it is
 * not a BEK file. */
int vu_bde_bek_guid(const uint8_t *bek, size_t len, const char *bek_name,
		    char guid[VU_GUID_STRLEN]);
/* Check a recovery password's form (48 digits, 8 groups, dashes optional,
 * each group divisible by 11 and below 720896): 0 or -EINVAL naming the
 * group. */
int vu_bde_recovery_password_check(const char *password);
/* "startup key", "recovery password", "password", "clear key", "tpm",
 * "tpm+pin", ..., "unknown" */
const char *vu_bde_prot_name(uint16_t type);

#endif
