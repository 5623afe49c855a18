/* Shared between the files of src/unlock. */
#ifndef VU_UNLOCK_INT_H
#define VU_UNLOCK_INT_H

#include "unlock/unlock.h"

/* The key-trying half of an encryption scheme of disk/crypt.h. */
struct unlock_scheme {
	const struct vu_crypt_ops *crypt;
	/* Try the keyring's keys on v->crypt_state.  1: one opened it
	 * (v->unlocked_by and v->key_number set); 0: none did (v->lock_error
	 * says why); <0: an error that is not about keys. */
	int (*try_keys)(struct vu_volume *v, struct vu_keyring *kr);
};

extern const struct unlock_scheme unlock_bitlocker;
extern const struct unlock_scheme unlock_luks;

/* The key-trying half of the scheme crypt, or NULL when keys do not
 * unlock it. */
const struct unlock_scheme *unlock_scheme_of(const struct vu_crypt_ops *crypt);

/* Look in the file system of each readable volume not looked at yet for
 * ADE's detached LUKS headers and add them to d->headers; *found tells
 * whether any was new. */
int unlock_find_headers(struct vu_disk *d, int *found);

/* md_round.c: assemble the md arrays whose members are among the volumes
 * not looked at yet; each array becomes a volume. */
int unlock_expand_md(struct vu_disk *d);

/* Append "; msg" to a growing message. */
void unlock_note(char **acc, const char *msg);
/* A key that did not open the volume: keep why in *why and return 0,
 * unless r is a failure that is not about keys (returned as is). */
int unlock_tried(int r, char **why);
/* *dst = fmt filled with id, what, "; list" and ": why" (each part left
 * out when empty or NULL). */
void unlock_set_lock_error(char **dst, const char *fmt, const char *id,
			   const char *what, const char *list,
			   const char *why);

/* LUKS with a header kept apart (unlock.c tries it on volumes that hold
 * nothing recognisable): the keys tried on l, 1 when one opened it (by
 * and *key_number set); and "its key slots are: ..." for the message. */
int unlock_luks_try_keys(struct vu_luks *l, struct vu_keyring *kr,
			 char *by, size_t by_size, size_t *key_number,
			 char **why);
void unlock_luks_keyslot_list(const struct vu_luks *l, char *out,
			      size_t size);

#endif
