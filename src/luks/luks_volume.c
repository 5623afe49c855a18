/* The decrypted LUKS volume: its segments as the runs of an extent map
 * (core/extent.h) over the data device.
 *
 *   crypt   decrypted with the key of its digest; the IV of the byte at
 *           offset x inside the segment is iv_tweak + x / 512 (LUKS2 never
 *           sets iv_large_sectors, so 4096-byte sectors count IVs in
 *           512-byte units)
 *   linear  plaintext, passed through (the part a reencryption --encrypt
 *           has not reached yet)
 *
 * An idle volume is one crypt segment; a LUKS2 reencryption in progress
 * lists several (cryptsetup's lib/luks2/luks2_reencrypt.c builds the same
 * map out of dm-crypt and dm-linear targets).  The map and the ciphers
 * never change after creation, so reads need no locks. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/extent.h"
#include "core/error.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "luks/luks_int.h"
#include "luks/luks_priv.h"

static int decrypt(void *cipher, uint64_t sector, uint8_t *buf, size_t n)
{
	return vu_sector_decrypt(cipher, sector, buf, n);
}

static void cipher_free(void *cipher)
{
	vu_sector_cipher_free(cipher);
}

static const struct luks_key *key_of(const struct vu_luks *l, int digest)
{
	for (size_t i = 0; i < l->nkeys; i++)
		if (l->keys[i].digest == digest)
			return &l->keys[i];
	return NULL;
}

/* The transform of crypt segment i: its cipher with the key of its digest,
 * counting IVs in 512-byte units; the map owns it. */
static int segment_xform(struct vu_extent_map *m, const struct vu_luks *l,
			 size_t i, const struct vu_xform **out)
{
	const struct luks_seg *s = &l->seg[i];
	const struct luks_key *k = key_of(l, s->digest);
	struct vu_sector_cipher *c;
	enum vu_sector_mode mode;
	unsigned int shift = vu_log2u(s->sector_size / 512);
	int r;

	if (!k)
		return vu_blk_fail(l->vol, -ENOKEY, "luks: no key for segment "
				   "%zu (digest %d)", i, s->digest);
	if (s->iv_tweak & ((1u << shift) - 1))
		return vu_blk_fail(l->vol, -ENOTSUP, "luks: segment %zu: "
				   "iv_tweak %" PRIu64 " not a multiple of "
				   "its sector", i, s->iv_tweak);
	r = luks_cipher_parse(s->encryption, k->len, &mode);
	if (r == 0)
		r = vu_sector_cipher_new(mode, k->key, k->len, s->sector_size,
					 &c);
	if (r < 0)
		return r;
	r = vu_sector_cipher_set_iv_shift(c, shift);
	if (r < 0) {
		vu_sector_cipher_free(c);
		return r;
	}
	*out = vu_extent_map_xform(m, s->encryption, s->sector_size, decrypt,
				   c, cipher_free);
	return *out ? 0 : -ENOMEM;
}

int vu_luks_volume_open(struct vu_luks *l, struct vu_blk **decrypted)
{
	struct vu_extent_map *m;
	char name[128];
	int r = 0;

	*decrypted = NULL;
	if (!l)
		return vu_fail(-EINVAL, "luks: no volume");
	if (!l->unlocked)
		return vu_blk_fail(l->vol, -ENOKEY, "luks: volume is locked");
	m = vu_extent_map_new();
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < l->nseg && r == 0; i++) {
		const struct luks_seg *s = &l->seg[i];
		const struct vu_xform *xf = NULL;

		if (s->crypt && (r = segment_xform(m, l, i, &xf)) < 0)
			break;
		/* the IV of the segment's first sector is iv_tweak */
		r = vu_extent_map_add(m, s->end - s->start, l->vol, s->phys,
				      xf, s->iv_tweak >> vu_log2u(
						  s->sector_size / 512),
				      s->phys);
	}
	if (r < 0) {
		vu_extent_map_free(m);
		return r;
	}
	vu_extent_map_log(m, l->vol->desc);
	snprintf(name, sizeof(name), "luks%d(%s-%s)", l->info.version,
		 l->info.cipher, l->info.mode);
	return vu_extent_map_open(m, vu_blk_ref(l->vol), l->info.sector_size,
				  "luks", name, decrypted);
}
