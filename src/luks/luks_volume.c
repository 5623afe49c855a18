/* The decrypted LUKS volume: a segment map over the data device.
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

#include <json-c/json.h>

#include "core/bytes.h"
#include "core/error.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "luks/luks_int.h"
#include "luks/luks_priv.h"

/* ---- cipher specifications ---- */

static const struct {
	const char *spec;
	enum vu_sector_mode mode;
	size_t key_min, key_max, key_step;
} luks_ciphers[] = {
	{ "aes-xts-plain64", VU_SECTOR_XTS_PLAIN64, 32, 64, 32 },
	{ "aes-cbc-essiv:sha256", VU_SECTOR_CBC_ESSIV, 16, 32, 8 },
	{ "aes-cbc-plain64", VU_SECTOR_CBC_PLAIN64, 16, 32, 8 },
};

int luks_cipher_parse(const char *spec, size_t key_len,
		      enum vu_sector_mode *mode)
{
	for (size_t i = 0; i < sizeof(luks_ciphers) / sizeof(luks_ciphers[0]);
	     i++) {
		if (strcmp(spec, luks_ciphers[i].spec))
			continue;
		if (key_len < luks_ciphers[i].key_min ||
		    key_len > luks_ciphers[i].key_max ||
		    key_len % luks_ciphers[i].key_step)
			return vu_fail(-ENOTSUP, "luks: cipher %s with a "
				       "%zu-bit key is not supported", spec,
				       key_len * 8);
		*mode = luks_ciphers[i].mode;
		return 0;
	}
	return vu_fail(-ENOTSUP, "luks: cipher %s is not supported", spec);
}

/* ---- LUKS2 JSON ---- */

/* A decimal number held in a JSON string (LUKS2 stores 64-bit values so). */
static int json_u64(json_object *o, const char *key, uint64_t *v)
{
	json_object *x;
	const char *s;
	char *end;

	if (!json_object_object_get_ex(o, key, &x))
		return -1;
	if (json_object_is_type(x, json_type_int)) {
		int64_t i = json_object_get_int64(x);

		if (i < 0)
			return -1;
		*v = (uint64_t)i;
		return 0;
	}
	if (!json_object_is_type(x, json_type_string))
		return -1;
	s = json_object_get_string(x);
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static int parse_index(const char *s)
{
	char *end;
	long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	return *end || v > 1000 ? -1 : (int)v;
}

/* Which digest lists item `id` in its `what` array ("segments",
 * "keyslots"); -1 when none. */
static int digest_of(json_object *root, const char *what, int id)
{
	json_object *digests;

	if (!json_object_object_get_ex(root, "digests", &digests) ||
	    !json_object_is_type(digests, json_type_object))
		return -1;
	json_object_object_foreach(digests, key, d)
	{
		json_object *arr;
		int di = parse_index(key);

		if (di < 0 || !json_object_object_get_ex(d, what, &arr) ||
		    !json_object_is_type(arr, json_type_array))
			continue;
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *e = json_object_array_get_idx(arr, i);

			if (parse_index(json_object_get_string(e)) == id)
				return di;
		}
	}
	return -1;
}

int luks_keyslot_digest(const char *json, int keyslot)
{
	json_object *root = json ? json_tokener_parse(json) : NULL;
	int d;

	if (!root)
		return -1;
	d = digest_of(root, "keyslots", keyslot);
	json_object_put(root);
	return d;
}

static int is_backup(json_object *seg)
{
	json_object *flags;

	if (!json_object_object_get_ex(seg, "flags", &flags) ||
	    !json_object_is_type(flags, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(flags); i++) {
		const char *f = json_object_get_string(
			json_object_array_get_idx(flags, i));

		if (f && !strncmp(f, "backup-", 7))
			return 1;
	}
	return 0;
}

int luks_segments_parse(const char *json, uint64_t dev_size,
			struct luks_seg *segs, size_t max, size_t *n)
{
	json_object *root = json ? json_tokener_parse(json) : NULL;
	json_object *segments, *byid[LUKS_MAX_SEGS] = { NULL };
	uint64_t pos = 0;
	int top = -1, r = 0;

	*n = 0;
	if (!root || !json_object_object_get_ex(root, "segments", &segments) ||
	    !json_object_is_type(segments, json_type_object)) {
		r = vu_fail(-EUCLEAN, "luks: metadata without segments");
		goto out;
	}
	json_object_object_foreach(segments, key, sobj)
	{
		int id = parse_index(key);

		if (id < 0 || id >= LUKS_MAX_SEGS) {
			r = vu_fail(-EUCLEAN, "luks: segment \"%s\": bad or "
				    "too large an index", key);
			goto out;
		}
		if (is_backup(sobj))
			continue;
		byid[id] = sobj;
		if (id > top)
			top = id;
	}
	if (top < 0) {
		r = vu_fail(-EUCLEAN, "luks: no active data segment");
		goto out;
	}
	for (int id = 0; id <= top; id++) {
		json_object *s = byid[id], *x;
		struct luks_seg g;
		const char *type;
		uint64_t size = 0, ss = 512;
		int dynamic = 0;

		memset(&g, 0, sizeof(g));
		if (!s) {
			r = vu_fail(-EUCLEAN, "luks: segment %d missing", id);
			goto out;
		}
		if ((size_t)id >= max) {
			r = vu_fail(-EUCLEAN, "luks: too many segments");
			goto out;
		}
		type = json_object_object_get_ex(s, "type", &x)
			       ? json_object_get_string(x) : NULL;
		if (!type || json_u64(s, "offset", &g.phys) < 0) {
			r = vu_fail(-EUCLEAN, "luks: segment %d: no type or "
				    "offset", id);
			goto out;
		}
		if (json_object_object_get_ex(s, "size", &x) &&
		    json_object_is_type(x, json_type_string) &&
		    !strcmp(json_object_get_string(x), "dynamic"))
			dynamic = 1;
		else if (json_u64(s, "size", &size) < 0) {
			r = vu_fail(-EUCLEAN, "luks: segment %d: bad size", id);
			goto out;
		}
		if (!strcmp(type, "crypt")) {
			g.crypt = 1;
			if (json_u64(s, "iv_tweak", &g.iv_tweak) < 0)
				g.iv_tweak = 0;
			if (json_u64(s, "sector_size", &ss) < 0)
				ss = 512;
			if (ss < 512 || ss > 4096 || (ss & (ss - 1))) {
				r = vu_fail(-EUCLEAN, "luks: segment %d: "
					    "sector size %" PRIu64, id, ss);
				goto out;
			}
			if (!json_object_object_get_ex(s, "encryption", &x) ||
			    !json_object_get_string(x)) {
				r = vu_fail(-EUCLEAN, "luks: segment %d: no "
					    "encryption", id);
				goto out;
			}
			snprintf(g.encryption, sizeof(g.encryption), "%s",
				 json_object_get_string(x));
			if (json_object_object_get_ex(s, "integrity", &x)) {
				r = vu_fail(-ENOTSUP, "luks: segment %d: "
					    "authenticated encryption "
					    "(integrity) is not supported",
					    id);
				goto out;
			}
			g.digest = digest_of(root, "segments", id);
		} else if (!strcmp(type, "linear")) {
			g.digest = -1;
		} else {
			r = vu_fail(-ENOTSUP, "luks: segment %d: type %s is "
				    "not supported", id, type);
			goto out;
		}
		g.sector_size = (uint32_t)ss;
		if (dynamic) {
			if (id != top) {
				r = vu_fail(-EUCLEAN, "luks: segment %d: "
					    "dynamic size not last", id);
				goto out;
			}
			if (g.phys > dev_size) {
				r = vu_fail(-EUCLEAN, "luks: segment %d: offset "
					    "%" PRIu64 " beyond the device "
					    "end %" PRIu64, id, g.phys,
					    dev_size);
				goto out;
			}
			size = dev_size - g.phys;
			size -= size % ss;
		}
		if (size % ss || g.phys > dev_size ||
		    size > dev_size - g.phys) {
			r = vu_fail(-EUCLEAN, "luks: segment %d: [%" PRIu64
				    ", +%" PRIu64 ") outside the device (%"
				    PRIu64 " bytes) or not whole sectors", id,
				    g.phys, size, dev_size);
			goto out;
		}
		g.start = pos;
		g.end = pos + size;
		pos = g.end;
		segs[(*n)++] = g;
	}
out:
	json_object_put(root);
	if (r < 0)
		*n = 0;
	return r;
}

/* ---- the decrypted volume ---- */

struct dseg {
	struct luks_seg s;
	struct vu_sector_cipher *c;	/* crypt segments */
	uint64_t first;			/* sector number of s.start for the IV */
};

struct luks_dec {
	size_t nseg;
	struct dseg seg[LUKS_MAX_SEGS];
};

static int read_crypt(struct vu_blk *b, const struct dseg *d, uint8_t *buf,
		      size_t len, uint64_t rel)
{
	uint32_t ss = d->s.sector_size;
	int r;

	while (len) {
		uint64_t sec = rel / ss;
		size_t in = (size_t)(rel % ss), n;

		if (in || len < ss) {
			uint8_t *tmp = malloc(ss);

			if (!tmp)
				return vu_fail(-ENOMEM, "out of memory");
			n = ss - in < len ? ss - in : len;
			r = vu_blk_read(b->lower, tmp, ss,
					d->s.phys + sec * ss);
			if (r == 0)
				r = vu_sector_decrypt(d->c, d->first + sec,
						      tmp, 1);
			if (r == 0)
				memcpy(buf, tmp + in, n);
			vu_cleanse(tmp, ss);
			free(tmp);
		} else {
			n = len - len % ss;
			r = vu_blk_read(b->lower, buf, n, d->s.phys + rel);
			if (r == 0)
				r = vu_sector_decrypt(d->c, d->first + sec, buf,
						      n / ss);
		}
		if (r < 0)
			return r;
		buf += n;
		rel += n;
		len -= n;
	}
	return 0;
}

static int dec_read_at(struct vu_blk *b, void *out, size_t len, uint64_t off)
{
	struct luks_dec *d = b->priv;
	uint8_t *buf = out;
	size_t i = 0;

	while (len) {
		const struct dseg *s;
		size_t n;
		int r;

		while (i < d->nseg && d->seg[i].s.end <= off)
			i++;
		if (i == d->nseg)
			return vu_blk_fail(b, -EIO, "no segment maps offset %"
					   PRIu64, off);
		s = &d->seg[i];
		n = s->s.end - off < len ? (size_t)(s->s.end - off) : len;
		if (s->c)
			r = read_crypt(b, s, buf, n, off - s->s.start);
		else
			r = vu_blk_read(b->lower, buf, n,
					s->s.phys + (off - s->s.start));
		if (r < 0)
			return r;
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

static void dec_destroy(struct vu_blk *b)
{
	struct luks_dec *d = b->priv;

	if (!d)
		return;
	for (size_t i = 0; i < d->nseg; i++)
		vu_sector_cipher_free(d->seg[i].c);
	free(d);
}

static const struct vu_blk_ops dec_ops = {
	.kind = "luks",
	.read_at = dec_read_at,
	.destroy = dec_destroy,
};

static const struct luks_key *key_of(const struct vu_luks *l, int digest)
{
	for (size_t i = 0; i < l->nkeys; i++)
		if (l->keys[i].digest == digest)
			return &l->keys[i];
	return NULL;
}

int vu_luks_volume_open(struct vu_luks *l, struct vu_blk **decrypted)
{
	struct luks_dec *d;
	struct vu_blk *blk;
	char spec[96];
	int r = 0;

	*decrypted = NULL;
	if (!l)
		return vu_fail(-EINVAL, "luks: no volume");
	if (!l->unlocked)
		return vu_blk_fail(l->vol, -ENOKEY, "luks: volume is locked");
	snprintf(spec, sizeof(spec), "%s-%s", l->info.cipher, l->info.mode);
	d = calloc(1, sizeof(*d));
	if (!d)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < l->nseg; i++) {
		struct dseg *s = &d->seg[i];
		const struct luks_key *k;
		enum vu_sector_mode mode;
		unsigned int shift;

		s->s = l->seg[i];
		d->nseg = i + 1;
		if (!s->s.crypt)
			continue;
		k = key_of(l, s->s.digest);
		if (!k) {
			r = vu_blk_fail(l->vol, -ENOKEY, "luks: no key for "
					"segment %zu (digest %d)", i,
					s->s.digest);
			goto fail;
		}
		r = luks_cipher_parse(s->s.encryption, k->len, &mode);
		if (r < 0)
			goto fail;
		shift = vu_log2u(s->s.sector_size / 512);
		if (s->s.iv_tweak & ((1u << shift) - 1)) {
			r = vu_blk_fail(l->vol, -ENOTSUP, "luks: segment %zu: "
					"iv_tweak %" PRIu64 " not a multiple "
					"of its sector", i, s->s.iv_tweak);
			goto fail;
		}
		s->first = s->s.iv_tweak >> shift;
		r = vu_sector_cipher_new(mode, k->key, k->len,
					 s->s.sector_size, &s->c);
		if (r == 0)
			r = vu_sector_cipher_set_iv_shift(s->c, shift);
		if (r < 0)
			goto fail;
	}
	for (size_t i = 0; i < d->nseg; i++)
		vu_log(VU_LOG_DEBUG, "%s: luks segment %zu: [%" PRIu64 ", %"
		       PRIu64 ") at %" PRIu64 " %s%s", l->vol->desc, i,
		       d->seg[i].s.start, d->seg[i].s.end, d->seg[i].s.phys,
		       d->seg[i].s.crypt ? "crypt " : "linear",
		       d->seg[i].s.encryption);
	blk = vu_blk_new(&dec_ops, vu_blk_ref(l->vol),
			 d->nseg ? d->seg[d->nseg - 1].s.end : 0,
			 l->info.sector_size,
			 d, "luks%d(%s)", l->info.version, spec);
	if (!blk) {
		dec_destroy(&(struct vu_blk){ .priv = d });
		return -ENOMEM;
	}
	*decrypted = blk;
	return 0;
fail:
	dec_destroy(&(struct vu_blk){ .priv = d });
	return r;
}
