/* LUKS (1 and 2) as an encryption scheme of a volume: every passphrase
 * and key file is tried in the order given, after the key source (a key
 * vault) was asked once for its secrets.  The format itself is read by
 * src/luks; this file only connects it to the keyring and the volume
 * (see crypt.h for why it lives in src/disk).  Headers kept apart from
 * their volume are matched to volumes by unlock.c, with the two helpers
 * exported here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk/disk_int.h"

int crypt_luks_try_keys(struct vu_luks *l, struct vu_keyring *kr,
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
		r = disk_tried(r, why);
		if (r < 0)
			return r;
	}
	return 0;
}

void crypt_luks_keyslot_list(const struct vu_luks *l, char *out, size_t size)
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

static int luks_unlock(struct vu_volume *v, struct vu_keyring *kr)
{
	struct vu_luks *l = v->crypt_state;
	char *why = NULL, slots[512];
	int r = crypt_luks_try_keys(l, kr, v->unlocked_by,
				    sizeof(v->unlocked_by), &v->key_number,
				    &why);

	if (r != 0) {
		free(why);
		return r;
	}
	crypt_luks_keyslot_list(l, slots, sizeof(slots));
	disk_set_lock_error(&v->lock_error,
			    "%s: no key given unlocks this %s volume%s%s%s%s",
			    v->id, vu_luks_info(l)->version == 1 ? "LUKS1"
								 : "LUKS2",
			    slots, why ? why : "no passphrase or key file");
	free(why);
	return 0;
}

static int luks_claims(enum vu_kind kind)
{
	return kind == VU_KIND_LUKS1 || kind == VU_KIND_LUKS2;
}

static int luks_open(struct vu_blk *raw, void **state)
{
	struct vu_luks *l = NULL;
	int r = vu_luks_open(raw, NULL, &l);

	*state = l;
	return r;
}

static int luks_decrypted(void *state, struct vu_blk **plain)
{
	return vu_luks_volume_open(state, plain);
}

static void luks_close(void *state)
{
	vu_luks_close(state);
}

static const char *luks_kind_name(const void *state)
{
	return vu_kind_name(vu_luks_info(state)->version == 1 ? VU_KIND_LUKS1
							       : VU_KIND_LUKS2);
}

const struct vu_crypt_ops vu_crypt_luks = {
	.name = "luks",
	.claims = luks_claims,
	.open = luks_open,
	.unlock = luks_unlock,
	.decrypted = luks_decrypted,
	.close = luks_close,
	.kind_name = luks_kind_name,
};
