/* Unlocking a BitLocker volume: from a startup key, recovery password, user
 * password or clear key to the VMK (AES-CCM), then from the VMK to the FVEK
 * (AES-CCM).  Every key and intermediate lives in secret memory.
 *
 * A MAC mismatch while unwrapping a VMK means a wrong key (-EPERM); a MAC
 * that matches around a malformed key entry, or an FVEK that the opened VMK
 * does not unwrap, means damaged metadata (-EUCLEAN). */
#include "bitlocker/bde.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"
#include "core/log.h"
#include "crypto/crypto.h"

/* ---- recovery password ---- */

int bde_recovery_parse(const char *pw, uint8_t key[16])
{
	size_t len, start = 0, ndig = 0, ndash = 0;
	char digits[BDE_RECOVERY_GROUPS * BDE_RECOVERY_GROUP_DIGITS];
	int r = 0;

	memset(key, 0, 16);
	if (!pw)
		return vu_fail(-EINVAL, "recovery password: none given");
	len = strlen(pw);
	while (start < len && isspace((unsigned char)pw[start]))
		start++;
	while (len > start && isspace((unsigned char)pw[len - 1]))
		len--;
	for (size_t i = start; i < len; i++) {
		char c = pw[i];

		if (c >= '0' && c <= '9') {
			if (ndig == sizeof(digits)) {
				ndig++;
				break;
			}
			digits[ndig++] = c;
		} else if (c == '-') {
			/* a dash only between two groups */
			if (ndig == 0 || ndig % BDE_RECOVERY_GROUP_DIGITS ||
			    ndash != ndig / BDE_RECOVERY_GROUP_DIGITS - 1) {
				r = vu_fail(-EINVAL, "recovery password: a dash "
					    "at position %zu does not separate "
					    "two groups of 6 digits",
					    i - start + 1);
				goto out;
			}
			ndash++;
		} else {
			r = vu_fail(-EINVAL, "recovery password: unexpected "
				    "character at position %zu (48 digits in "
				    "8 groups of 6 expected)", i - start + 1);
			goto out;
		}
	}
	if (ndig != sizeof(digits)) {
		r = vu_fail(-EINVAL, "recovery password: %s digits, expected "
			    "48 (8 groups of 6, dashes optional)",
			    ndig > sizeof(digits) ? "more than 48" :
			    ndig == 0 ? "no" : "too few");
		goto out;
	}
	if (ndash != 0 && ndash != BDE_RECOVERY_GROUPS - 1) {
		r = vu_fail(-EINVAL, "recovery password: %zu dashes, expected "
			    "7 or none", ndash);
		goto out;
	}
	for (int g = 0; g < BDE_RECOVERY_GROUPS; g++) {
		uint32_t v = 0;

		for (int k = 0; k < BDE_RECOVERY_GROUP_DIGITS; k++)
			v = v * 10 + (uint32_t)(digits[g * 6 + k] - '0');
		if (v % 11) {
			r = vu_fail(-EINVAL, "recovery password: group %d fails "
				    "its check digit (not a multiple of 11)",
				    g + 1);
			goto out;
		}
		if (v >= BDE_RECOVERY_GROUP_LIMIT) {
			r = vu_fail(-EINVAL, "recovery password: group %d is "
				    "out of range (above 720895)", g + 1);
			goto out;
		}
		vu_put_le16(key + 2 * g, (uint16_t)(v / 11));
	}
out:
	vu_cleanse(digits, sizeof(digits));
	if (r < 0)
		vu_cleanse(key, 16);
	return r;
}

int vu_bde_recovery_password_check(const char *password)
{
	uint8_t key[16];
	int r = bde_recovery_parse(password, key);

	vu_cleanse(key, sizeof(key));
	return r;
}

/* ---- AES-CCM unwrap of a key entry ---- */

int bde_unwrap(const uint8_t *kek, size_t kek_len, const struct bde_ccm *w,
	       uint8_t **key, size_t *key_len, uint32_t *method)
{
	uint8_t *plain = NULL, *k = NULL;
	size_t size;
	int r;

	*key = NULL;
	*key_len = 0;
	*method = 0;
	if (!w->present || w->len < BDE_ENTRY_HEADER_SIZE + 4 ||
	    w->len > 4096)
		return vu_fail(-EUCLEAN, "bitlocker: wrapped key of %zu bytes",
			       w->len);
	plain = vu_secret_alloc(w->len);
	if (!plain)
		return vu_fail(-ENOMEM, "out of memory");
	r = vu_aes_ccm_decrypt(kek, kek_len, w->nonce, w->data, w->len, w->mac,
			       plain);
	if (r < 0)
		goto out; /* -EPERM: the MAC does not match */
	size = vu_le16(plain);
	if (size != w->len || vu_le16(plain + 4) != BDE_VALUE_KEY ||
	    size < BDE_ENTRY_HEADER_SIZE + 4 + 16) {
		r = vu_fail(-EUCLEAN, "bitlocker: decrypted key entry has size "
			    "%zu and value type %u, expected %zu and 1", size,
			    vu_le16(plain + 4), w->len);
		goto out;
	}
	*method = vu_le16(plain + BDE_ENTRY_HEADER_SIZE);
	*key_len = size - BDE_ENTRY_HEADER_SIZE - 4;
	k = vu_secret_alloc(*key_len);
	if (!k) {
		*key_len = 0;
		r = vu_fail(-ENOMEM, "out of memory");
		goto out;
	}
	memcpy(k, plain + BDE_ENTRY_HEADER_SIZE + 4, *key_len);
	*key = k; /* transferred */
out:
	vu_secret_free(plain, w->len);
	return r;
}

/* ---- helpers for messages ---- */

static void list_protectors(const struct vu_bde *b, char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < b->info.nprotectors && used < n; i++) {
		const struct vu_bde_protector *p = &b->info.protectors[i];
		int w = snprintf(out + used, n - used, "%s%s {%s}",
				 i ? ", " : "", p->type_name, p->guid);

		if (w < 0)
			break;
		used += (size_t)w;
	}
	if (b->info.nprotectors == 0)
		snprintf(out, n, "none");
}

static int fail_nothing(struct vu_bde *b, int err, const char *what)
{
	char list[1024];

	list_protectors(b, list, sizeof(list));
	if (!what)
		return vu_fail(err, "%s (\"%s\") has no clear key (protection "
			       "is not suspended); its protectors are: %s",
			       b->vol->desc, b->info.description, list);
	return vu_fail(err, "%s matches no protector of %s (\"%s\"); its "
		       "protectors are: %s", what, b->vol->desc,
		       b->info.description, list);
}

/* FVEK as vu_sector_cipher_new() wants it, from the unwrapped key data. */
static int fvek_material(struct vu_bde *b, const uint8_t *k, size_t len)
{
	size_t half = 0, need;
	uint8_t *out;

	switch (b->meta.method) {
	case BDE_METHOD_AES128_CBC: need = 16; break;
	case BDE_METHOD_AES256_CBC: need = 32; break;
	case BDE_METHOD_XTS_AES128: need = 32; break;
	case BDE_METHOD_XTS_AES256: need = 64; break;
	case BDE_METHOD_AES128_CBC_DIFFUSER: need = 32; half = 16; break;
	case BDE_METHOD_AES256_CBC_DIFFUSER: need = 64; half = 32; break;
	default:
		return vu_fail(-ENOTSUP, "bitlocker: method 0x%04x",
			       b->meta.method);
	}
	if (len < need)
		return vu_blk_fail(b->vol, -EUCLEAN, "bitlocker: fvek of %zu "
				   "bytes for %s, expected %zu", len,
				   b->info.method_name, need);
	out = vu_secret_alloc(need);
	if (!out)
		return vu_fail(-ENOMEM, "out of memory");
	if (half && len >= 64) {
		/* Elephant: FVEK in the first 32 bytes, the tweak key in the
		 * last 32; AES-128 uses the first 16 bytes of each */
		memcpy(out, k, half);
		memcpy(out + half, k + 32, half);
	} else {
		memcpy(out, k, need);
	}
	b->fvek = out;
	b->fvek_len = need;
	return 0;
}

/* Open protector i with its key-encryption key: VMK, then FVEK. */
static int try_protector(struct vu_bde *b, size_t i, const uint8_t *kek,
			 size_t kek_len)
{
	const struct bde_prot *p = &b->meta.prot[i];
	uint8_t *vmk = NULL, *fk = NULL;
	size_t vmk_len = 0, fk_len = 0;
	uint32_t method;
	int r;

	r = bde_unwrap(kek, kek_len, &p->vmk, &vmk, &vmk_len, &method);
	if (r < 0)
		return r;
	if (vmk_len != 32) {
		r = vu_blk_fail(b->vol, -EUCLEAN, "bitlocker: vmk of protector "
				"{%s} is %zu bytes, expected 32",
				b->info.protectors[i].guid, vmk_len);
		goto out;
	}
	r = bde_unwrap(vmk, vmk_len, &b->meta.fvek, &fk, &fk_len, &method);
	if (r == -EPERM) { /* the crypto layer records nothing for a MAC */
		r = vu_blk_fail(b->vol, -EUCLEAN, "bitlocker: protector {%s} "
				"opened, but its vmk does not unwrap the fvek "
				"(damaged metadata)", b->info.protectors[i].guid);
		goto out;
	}
	if (r < 0)
		goto out;
	r = fvek_material(b, fk, fk_len);
	if (r == 0) {
		b->unlocked_by = (int)i;
		vu_log(VU_LOG_INFO, "%s: unlocked with %s protector {%s}",
		       b->vol->desc, b->info.protectors[i].type_name,
		       b->info.protectors[i].guid);
	}
out:
	if (vmk)
		vu_secret_free(vmk, vmk_len);
	if (fk)
		vu_secret_free(fk, fk_len);
	return r;
}

/* Stretch-key protectors of one type: derive each one's key from init and
 * its salt. */
static int try_stretched(struct vu_bde *b, uint16_t type,
			 const uint8_t init[32], const char *what)
{
	uint8_t *kek = vu_secret_alloc(32);
	int r = -ENOKEY, found = 0;

	if (!kek)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < b->meta.nprot; i++) {
		const struct bde_prot *p = &b->meta.prot[i];

		if (p->type != type)
			continue;
		found = 1;
		if (!p->has_salt || !p->vmk.present) {
			vu_log(VU_LOG_WARN, "%s: %s protector {%s} has no "
			       "stretch key or no encrypted vmk", b->vol->desc,
			       what, b->info.protectors[i].guid);
			continue;
		}
		r = vu_bde_stretch(init, p->salt, kek);
		if (r < 0)
			break;
		r = try_protector(b, i, kek, 32);
		if (r != -EPERM)
			break;
	}
	vu_secret_free(kek, 32);
	if (r == 0 || (r < 0 && r != -EPERM && r != -ENOKEY))
		return r;
	if (!found)
		return fail_nothing(b, -ENOKEY, what);
	{
		char m[96];

		snprintf(m, sizeof(m), "the %s given", what);
		return fail_nothing(b, -EPERM, m);
	}
}

int vu_bde_unlock_recovery_password(struct vu_bde *b, const char *password)
{
	uint8_t *key, *init;
	int r;

	if (!b)
		return vu_fail(-EINVAL, "bitlocker: no volume");
	if (b->fvek)
		return 0;
	key = vu_secret_alloc(16 + 32);
	if (!key)
		return vu_fail(-ENOMEM, "out of memory");
	init = key + 16;
	r = bde_recovery_parse(password, key);
	if (r == 0)
		r = vu_sha256(key, 16, init);
	if (r == 0)
		r = try_stretched(b, BDE_PROT_RECOVERY_PASSWORD, init,
				  "recovery password");
	vu_secret_free(key, 16 + 32);
	return r;
}

/* UTF-8 -> UTF-16LE into secret memory; -EINVAL for invalid UTF-8. */
static int to_utf16le(const char *s, uint8_t **out, size_t *out_len,
		      size_t *out_cap)
{
	size_t n = strlen(s), cap = 4 * n + 2, o = 0;
	const uint8_t *p = (const uint8_t *)s;
	uint8_t *u = vu_secret_alloc(cap);

	*out = NULL;
	*out_len = 0;
	*out_cap = cap;
	if (!u)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		int extra;

		if (p[i] < 0x80) {
			cp = p[i];
			extra = 0;
		} else if ((p[i] & 0xe0) == 0xc0) {
			cp = p[i] & 0x1f;
			extra = 1;
		} else if ((p[i] & 0xf0) == 0xe0) {
			cp = p[i] & 0x0f;
			extra = 2;
		} else if ((p[i] & 0xf8) == 0xf0) {
			cp = p[i] & 0x07;
			extra = 3;
		} else {
			goto bad;
		}
		if (i + (size_t)extra >= n + (extra ? 0 : 1))
			goto bad;
		for (int k = 1; k <= extra; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		i += 1 + (size_t)extra;
		if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
			goto bad;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			vu_put_le16(u + o, (uint16_t)(0xd800 + (cp >> 10)));
			vu_put_le16(u + o + 2, (uint16_t)(0xdc00 + (cp & 0x3ff)));
			o += 4;
		} else {
			vu_put_le16(u + o, (uint16_t)cp);
			o += 2;
		}
	}
	*out = u; /* transferred */
	*out_len = o;
	return 0;
bad:
	vu_secret_free(u, cap);
	return vu_fail(-EINVAL, "bitlocker password: not valid UTF-8");
}

int vu_bde_unlock_password(struct vu_bde *b, const char *password)
{
	uint8_t *u = NULL, *h = NULL;
	size_t ulen = 0, ucap = 0;
	int r;

	if (!b || !password)
		return vu_fail(-EINVAL, "bitlocker: no volume or password");
	if (b->fvek)
		return 0;
	r = to_utf16le(password, &u, &ulen, &ucap);
	if (r < 0)
		return r;
	h = vu_secret_alloc(64);
	if (!h) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto out;
	}
	r = vu_sha256(u, ulen, h);
	if (r == 0)
		r = vu_sha256(h, 32, h + 32);
	if (r == 0)
		r = try_stretched(b, BDE_PROT_PASSWORD, h + 32, "password");
out:
	if (h)
		vu_secret_free(h, 64);
	vu_secret_free(u, ucap);
	return r;
}

int vu_bde_unlock_clearkey(struct vu_bde *b)
{
	int r = -ENOKEY, found = 0;

	if (!b)
		return vu_fail(-EINVAL, "bitlocker: no volume");
	if (b->fvek)
		return 0;
	for (size_t i = 0; i < b->meta.nprot; i++) {
		const struct bde_prot *p = &b->meta.prot[i];

		if (p->type != BDE_PROT_CLEAR_KEY || !p->clear_key)
			continue;
		found = 1;
		if (p->clear_key_len != 32) {
			r = vu_blk_fail(b->vol, -EUCLEAN, "bitlocker: clear key "
					"of protector {%s} is %zu bytes, "
					"expected 32",
					b->info.protectors[i].guid,
					p->clear_key_len);
			continue;
		}
		r = try_protector(b, i, p->clear_key, 32);
		if (r == -EPERM) {
			r = vu_blk_fail(b->vol, -EUCLEAN, "bitlocker: the clear "
					"key of protector {%s} does not open "
					"its vmk (damaged metadata)",
					b->info.protectors[i].guid);
			continue;
		}
		if (r == 0 || r != -EUCLEAN)
			break;
	}
	if (!found)
		return fail_nothing(b, -ENOKEY, NULL);
	return r;
}

int vu_bde_unlock_bek(struct vu_bde *b, const uint8_t *bek, size_t len,
		      const char *bek_name)
{
	struct bde_bek k;
	char guid[VU_GUID_STRLEN], what[128];
	int r, matched = -1;

	if (!b)
		return vu_fail(-EINVAL, "bitlocker: no volume");
	if (b->fvek)
		return 0;
	r = bde_bek_parse(bek, len, bek_name, &k);
	if (r < 0)
		return r;
	vu_guid_format(k.guid, guid);
	for (size_t i = 0; i < b->meta.nprot && matched < 0; i++) {
		const struct bde_prot *p = &b->meta.prot[i];

		if (p->type == BDE_PROT_STARTUP_KEY && p->vmk.present &&
		    (!memcmp(p->guid, k.guid, 16) ||
		     !memcmp(p->guid, k.header_guid, 16)))
			matched = (int)i;
	}
	if (matched >= 0) {
		r = try_protector(b, (size_t)matched, k.key, k.key_len);
		if (r == -EPERM)
			r = vu_fail(-EPERM, "startup key {%s}%s%s does not "
				    "open its protector on %s (\"%s\"): the "
				    "key does not match", guid,
				    bek_name ? " in " : "",
				    bek_name ? bek_name : "", b->vol->desc,
				    b->info.description);
		goto out;
	}
	/* No protector has its identifier: the file may have been renamed
	 * or rewritten; a key that opens a startup-key protector still
	 * counts.  CCM costs nothing next to a password stretch. */
	r = -EPERM;
	for (size_t i = 0; i < b->meta.nprot && r == -EPERM; i++) {
		const struct bde_prot *p = &b->meta.prot[i];

		if (p->type != BDE_PROT_STARTUP_KEY || !p->vmk.present)
			continue;
		r = try_protector(b, i, k.key, k.key_len);
		if (r == 0)
			vu_log(VU_LOG_WARN, "%s: startup key {%s} opened "
			       "protector {%s} with another identifier",
			       b->vol->desc, guid, b->info.protectors[i].guid);
	}
	if (r == -EPERM) {
		snprintf(what, sizeof(what), "startup key {%s}", guid);
		r = fail_nothing(b, -EPERM, what);
	}
out:
	bde_bek_free(&k);
	return r;
}
