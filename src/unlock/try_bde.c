/* BitLocker's keys: tried in the order clear key, startup keys (.BEK),
 * recovery passwords, passwords; the startup keys named after the
 * volume's protectors are looked up in the --bek directories (and the key
 * source) first.  The format is read by src/bitlocker and the volume's
 * metadata opened by the disk model (disk/crypt_bde.c); this file only
 * connects them to the keyring. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unlock/unlock_int.h"

static void upper(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

/* Look in the --bek directories for <GUID>.BEK of each startup key. */
static int load_named_beks(struct vu_keyring *kr, const struct vu_bde_info *in)
{
	for (size_t i = 0; i < in->nprotectors; i++) {
		char name[VU_GUID_STRLEN + 8];
		int r;

		if (in->protectors[i].type != VU_BDE_PROT_STARTUP_KEY)
			continue;
		snprintf(name, sizeof(name), "%s.BEK", in->protectors[i].guid);
		upper(name);
		r = vu_keyring_find_bek(kr, name);
		if (r == 0) {
			snprintf(name, sizeof(name), "%s.BEK",
				 in->protectors[i].guid);
			r = vu_keyring_find_bek(kr, name);
		}
		if (r == 0 && kr->source && kr->source->find_bek)
			r = kr->source->find_bek(kr->source->arg, kr,
						 in->protectors[i].guid);
		if (r < 0)
			return r;
	}
	return 0;
}

static int try_keys(struct vu_volume *v, struct vu_bde *b,
		    struct vu_keyring *kr, char **why)
{
	static const enum vu_key_kind order[] = {
		VU_KEY_BEK, VU_KEY_RECOVERY_PASSWORD, VU_KEY_PASSWORD
	};
	int r;

	/* Protection suspended: the key is in the clear, no key needed. */
	r = vu_bde_unlock_clearkey(b);
	if (r == 0) {
		snprintf(v->unlocked_by, sizeof(v->unlocked_by),
			 "clear key (protection suspended)");
		return 1;
	}
	if (r != -ENOKEY && r != -EPERM)
		return r;
	vu_err_clear();

	r = load_named_beks(kr, vu_bde_info(b));
	if (r < 0)
		return r;
	for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++) {
		for (size_t i = 0; i < kr->count; i++) {
			const struct vu_key *k = &kr->keys[i];
			const char *what;

			if (k->kind != order[o])
				continue;
			switch (k->kind) {
			case VU_KEY_BEK:
				r = vu_bde_unlock_bek(b, k->data, k->len,
						      k->origin);
				what = "startup key";
				break;
			case VU_KEY_RECOVERY_PASSWORD:
				r = vu_bde_unlock_recovery_password(
					b, (const char *)k->data);
				what = "recovery password";
				break;
			default:
				r = vu_bde_unlock_password(
					b, (const char *)k->data);
				what = "password";
				break;
			}
			if (r == 0) {
				int p = vu_bde_unlocked_by(b);
				const struct vu_bde_info *in = vu_bde_info(b);
				snprintf(v->unlocked_by, sizeof(v->unlocked_by),
					 "%s {%s} from %s", what,
					 p >= 0 ? in->protectors[p].guid : "?",
					 k->origin);
				v->key_number = i + 1;
				return 1;
			}
			r = unlock_tried(r, why);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int bde_try_keys(struct vu_volume *v, struct vu_keyring *kr)
{
	struct vu_bde *b = v->crypt_state;
	const struct vu_bde_info *in;
	char prot[1024] = "its protectors are: ";
	char *why = NULL;
	int r = try_keys(v, b, kr, &why);

	if (r != 0) {
		free(why);
		return r;
	}
	in = vu_bde_info(b);
	for (size_t k = 0; k < in->nprotectors; k++) {
		size_t l = strlen(prot);
		snprintf(prot + l, sizeof(prot) - l, "%s%s {%s}",
			 k ? ", " : "", in->protectors[k].type_name,
			 in->protectors[k].guid);
	}
	/* A startup key's message already lists them. */
	if ((why && strstr(why, "its protectors are")) || !in->nprotectors)
		prot[0] = '\0';
	unlock_set_lock_error(&v->lock_error, "%s: no key given unlocks this "
			      "%s volume%s%s%s%s", v->id, "BitLocker", prot,
			      why);
	free(why);
	return 0;
}

const struct unlock_scheme unlock_bitlocker = {
	.crypt = &vu_crypt_bitlocker,
	.try_keys = bde_try_keys,
};
