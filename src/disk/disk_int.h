/* Shared between the files of src/disk. */
#ifndef VU_DISK_INT_H
#define VU_DISK_INT_H

#include "disk/disk.h"

/* Look in the file system of each readable volume not looked at yet for
 * ADE's detached LUKS headers and add them to d->headers; *found tells
 * whether any was new. */
int disk_find_headers(struct vu_disk *d, int *found);

/* Append "; msg" to a growing message. */
void disk_note(char **acc, const char *msg);
/* A key that did not open the volume: keep why in *why and return 0,
 * unless r is a failure that is not about keys (returned as is). */
int disk_tried(int r, char **why);
/* *dst = fmt filled with id, what, "; list" and ": why" (each part left
 * out when empty or NULL). */
void disk_set_lock_error(char **dst, const char *fmt, const char *id,
			 const char *what, const char *list, const char *why);

/* LUKS with a header kept apart (unlock.c tries it on volumes that hold
 * nothing recognisable): the keys tried on l, 1 when one opened it (by
 * and *key_number set); and "its key slots are: ..." for the message. */
int crypt_luks_try_keys(struct vu_luks *l, struct vu_keyring *kr,
			char *by, size_t by_size, size_t *key_number,
			char **why);
void crypt_luks_keyslot_list(const struct vu_luks *l, char *out,
			     size_t size);

#endif
