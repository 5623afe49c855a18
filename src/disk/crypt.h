/* The encryption schemes a volume may use (BitLocker, LUKS), each behind
 * one table of operations, so that opening, decrypting and closing a
 * volume loop over the schemes instead of testing each one: adding a
 * scheme is one new crypt_<scheme>.c and a line in crypt.c, and its keys
 * one try_<scheme>.c and a line in src/unlock/try.c.
 *
 * Trying keys is not here but in src/unlock, a layer above: it walks the
 * keyring (src/keys), and unlocking reads detached headers out of file
 * systems (src/fs), both of which sit above the disk model. */
#ifndef VU_CRYPT_H
#define VU_CRYPT_H

#include "core/blk.h"
#include "volume/probe.h"

struct vu_crypt_ops {
	const char *name;	  /* "bitlocker", "luks" */
	/* Non-zero for a probe kind whose volumes this scheme opens. */
	int (*claims)(enum vu_kind kind);
	/* Read the scheme's metadata from the stored content into *state. */
	int (*open)(struct vu_blk *raw, void **state);
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
