/* Unlocking the encrypted volumes of a disk with the keys the user gave.
 * Every key of a fitting kind is tried on every volume; the first that
 * opens it wins.  Why each key failed is kept, so that a volume that stays
 * locked gets one message naming its protectors and what was tried. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "disk/disk.h"

/* Append "; msg" to a growing message. */
static void note(char **acc, const char *msg)
{
	size_t old = *acc ? strlen(*acc) : 0, n = old + strlen(msg) + 3;
	char *s = realloc(*acc, n);

	if (!s)
		return;
	snprintf(s + old, n - old, "%s%s", old ? "; " : "", msg);
	*acc = s;
}

/* A key that did not open the volume: keep why, unless it is a failure
 * that is not about keys. */
static int tried(int r, char **why)
{
	if (r == -EPERM || r == -ENOKEY || r == -EINVAL || r == -EUCLEAN) {
		note(why, vu_errmsg(r));
		vu_err_clear();
		return 0;
	}
	return r;
}

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
		if (r < 0)
			return r;
	}
	return 0;
}

static int try_keys(struct vu_volume *v, struct vu_keyring *kr, char **why)
{
	static const enum vu_key_kind order[] = {
		VU_KEY_BEK, VU_KEY_RECOVERY_PASSWORD, VU_KEY_PASSWORD
	};
	int r;

	/* Protection suspended: the key is in the clear, no key needed. */
	r = vu_bde_unlock_clearkey(v->bde);
	if (r == 0) {
		snprintf(v->unlocked_by, sizeof(v->unlocked_by),
			 "clear key (protection suspended)");
		return 1;
	}
	if (r != -ENOKEY && r != -EPERM)
		return r;
	vu_err_clear();

	r = load_named_beks(kr, vu_bde_info(v->bde));
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
				r = vu_bde_unlock_bek(v->bde, k->data, k->len,
						      k->origin);
				what = "startup key";
				break;
			case VU_KEY_RECOVERY_PASSWORD:
				r = vu_bde_unlock_recovery_password(
					v->bde, (const char *)k->data);
				what = "recovery password";
				break;
			default:
				r = vu_bde_unlock_password(
					v->bde, (const char *)k->data);
				what = "password";
				break;
			}
			if (r == 0) {
				int p = vu_bde_unlocked_by(v->bde);
				const struct vu_bde_info *in = vu_bde_info(v->bde);
				snprintf(v->unlocked_by, sizeof(v->unlocked_by),
					 "%s {%s} from %s", what,
					 p >= 0 ? in->protectors[p].guid : "?",
					 k->origin);
				return 1;
			}
			r = tried(r, why);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int vu_disk_unlock(struct vu_disk *d, struct vu_keyring *kr)
{
	for (size_t i = 0; i < d->nvolumes; i++) {
		struct vu_volume *v = &d->volumes[i];
		struct vu_blk *plain;
		char *why = NULL;
		int r;

		if (!v->bde || v->unlocked)
			continue;
		r = try_keys(v, kr, &why);
		if (r < 0) {
			free(why);
			return r;
		}
		if (r == 0) {
			const struct vu_bde_info *in = vu_bde_info(v->bde);
			char prot[1024] = "";

			for (size_t k = 0; k < in->nprotectors; k++) {
				size_t l = strlen(prot);
				snprintf(prot + l, sizeof(prot) - l, "%s%s {%s}",
					 l ? ", " : "",
					 in->protectors[k].type_name,
					 in->protectors[k].guid);
			}
			free(v->lock_error);
			v->lock_error = malloc(2048);
			/* A startup key's message already lists them. */
			if (why && strstr(why, "its protectors are"))
				prot[0] = '\0';
			if (v->lock_error)
				snprintf(v->lock_error, 2048,
					 "%s: no key given unlocks this BitLocker "
					 "volume%s%s%s%s", v->id,
					 prot[0] ? "; its protectors are: " : "",
					 prot, why ? ": " : "", why ? why : "");
			free(why);
			continue;
		}
		free(why);
		r = vu_bde_volume_open(v->bde, &plain);
		if (r < 0)
			return r;
		vu_blk_unref(v->blk);
		v->blk = plain; /* transferred */
		v->unlocked = 1;
		r = vu_probe(v->blk, &v->inner);
		if (r < 0) {
			vu_log(VU_LOG_WARN, "%s: %s", v->id, vu_errmsg(r));
			vu_err_clear();
		}
		vu_log(VU_LOG_INFO, "%s: unlocked with the %s", v->id,
		       v->unlocked_by);
	}
	return 0;
}
