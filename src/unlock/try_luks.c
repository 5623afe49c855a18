/* LUKS (1 and 2) keys: every passphrase and key file is tried in the
 * order given, after the key source (a key vault) was asked once for its
 * secrets.  The format is read by src/luks and the volume's metadata
 * opened by the disk model (disk/crypt_luks.c); this file only connects
 * them to the keyring.  Headers kept apart from their volume are matched
 * to volumes by unlock.c, with the two helpers exported here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unlock/unlock_int.h"

int unlock_luks_try_keys(struct vu_luks *l, struct vu_keyring *kr,
			 char *by, size_t by_size, size_t *key_number,
			 char **why)
{
	if (kr->source && kr->source->find_luks && !kr->luks_fetched) {
		int r;

		kr->luks_fetched = 1;
		r = kr->source->find_luks(kr->source->arg, kr);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < kr->count; i++) {
		const struct vu_key *k = &kr->keys[i];
		int r;

		if (k->kind == VU_KEY_PASSPHRASE)
			r = vu_luks_unlock_passphrase(l, k->data, k->len);
		else if (k->kind == VU_KEY_KEYFILE)
			r = vu_luks_unlock_keyfile(l, k->data, k->len);
		else
			continue;
		if (r == 0) {
			snprintf(by, by_size, "%s from %s (key slot %d)",
				 k->kind == VU_KEY_KEYFILE ? "key file"
							   : "passphrase",
				 k->origin, vu_luks_unlocked_by(l));
			*key_number = i + 1;
			return 1;
		}
		r = unlock_tried(r, why);
		if (r < 0)
			return r;
	}
	return 0;
}

void unlock_luks_keyslot_list(const struct vu_luks *l, char *out,
			      size_t size)
{
	const struct vu_luks_info *in = vu_luks_info(l);

	snprintf(out, size, "its key slots are: ");
	for (size_t k = 0; k < in->nkeyslots; k++) {
		size_t n = strlen(out);
		snprintf(out + n, size - n, "%s%d (%s)", k ? ", " : "",
			 in->keyslots[k].index,
			 in->keyslots[k].pbkdf[0] ? in->keyslots[k].pbkdf
						  : "unbound");
	}
}

static int luks_try_keys(struct vu_volume *v, struct vu_keyring *kr)
{
	struct vu_luks *l = v->crypt_state;
	char *why = NULL, slots[512];
	int r = unlock_luks_try_keys(l, kr, v->unlocked_by,
				     sizeof(v->unlocked_by), &v->key_number,
				     &why);

	if (r != 0) {
		free(why);
		return r;
	}
	unlock_luks_keyslot_list(l, slots, sizeof(slots));
	unlock_set_lock_error(&v->lock_error, "%s: no key given unlocks this "
			      "%s volume%s%s%s%s", v->id,
			      vu_luks_info(l)->version == 1 ? "LUKS1" : "LUKS2",
			      slots, why ? why : "no passphrase or key file");
	free(why);
	return 0;
}

const struct unlock_scheme unlock_luks = {
	.crypt = &vu_crypt_luks,
	.try_keys = luks_try_keys,
};
