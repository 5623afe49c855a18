/* The encryption schemes a volume may use (BitLocker, LUKS), each behind
 * one table of operations, so that opening, unlocking, decrypting and
 * closing a volume loop over the schemes instead of testing each one:
 * adding a scheme is one new crypt_<scheme>.c and a line in crypt.c.
 *
 * The tables live in src/disk, not beside the format readers in
 * src/bitlocker and src/luks: unlocking walks the keyring (src/keys) and
 * fills the volume's unlocked_by/key_number/lock_error (src/disk), and
 * the format readers must not depend on those higher layers. */
#ifndef VU_CRYPT_H
#define VU_CRYPT_H

#include "core/blk.h"
#include "keys/keyring.h"
#include "volume/probe.h"

struct vu_volume;

struct vu_crypt_ops {
	const char *name;	  /* "bitlocker", "luks" */
	/* Non-zero for a probe kind whose volumes this scheme opens. */
	int (*claims)(enum vu_kind kind);
	/* Read the scheme's metadata from the stored content into *state. */
	int (*open)(struct vu_blk *raw, void **state);
	/* Try the keyring's keys on v->crypt_state.  1: one opened it
	 * (v->unlocked_by and v->key_number set); 0: none did (v->lock_error
	 * says why); <0: an error that is not about keys. */
	int (*unlock)(struct vu_volume *v, struct vu_keyring *kr);
	/* The decrypted content of an unlocked state (a new reference). */
	int (*decrypted)(void *state, struct vu_blk **plain);
	void (*close)(void *state);
	/* The volume kind as info names it, from the metadata ("luks2"):
	 * a volume opened through a detached header probes as unknown. */
	const char *(*kind_name)(const void *state);
};

extern const struct vu_crypt_ops vu_crypt_bitlocker;
extern const struct vu_crypt_ops vu_crypt_luks;

/* The scheme that opens volumes of this probe kind, or NULL. */
const struct vu_crypt_ops *vu_crypt_for_kind(enum vu_kind kind);

#endif
