/* LUKS metadata that is text: cipher specifications and the LUKS2 JSON
 * segments (the data areas, their ciphers and keys), parsed with json-c.
 * The decrypted volume built from them is luks_volume.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/bytes.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "luks/luks_int.h"

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

/* The crypt part of a segment: sector size, cipher, digest. */
static int parse_crypt(json_object *root, json_object *s, int id,
		       struct luks_seg *g, uint64_t *ss)
{
	json_object *x;

	g->crypt = 1;
	if (json_u64(s, "iv_tweak", &g->iv_tweak) < 0)
		g->iv_tweak = 0;
	if (json_u64(s, "sector_size", ss) < 0)
		*ss = 512;
	if (*ss < 512 || *ss > 4096 || !vu_is_pow2(*ss))
		return vu_fail(-EUCLEAN, "luks: segment %d: sector size %"
			       PRIu64, id, *ss);
	if (!json_object_object_get_ex(s, "encryption", &x) ||
	    !json_object_get_string(x))
		return vu_fail(-EUCLEAN, "luks: segment %d: no encryption",
			       id);
	snprintf(g->encryption, sizeof(g->encryption), "%s",
		 json_object_get_string(x));
	if (json_object_object_get_ex(s, "integrity", &x))
		return vu_fail(-ENOTSUP, "luks: segment %d: authenticated "
			       "encryption (integrity) is not supported", id);
	g->digest = digest_of(root, "segments", id);
	return 0;
}

/* One segment of the JSON "segments" object and its size in bytes (the
 * caller places it).  A "dynamic" size, allowed only for the last one,
 * runs to the device end. */
static int parse_segment(json_object *root, json_object *s, int id,
			 int last, uint64_t dev_size, struct luks_seg *g,
			 uint64_t *sizep)
{
	json_object *x;
	const char *type;
	uint64_t size = 0, ss = 512;
	int dynamic = 0, r;

	memset(g, 0, sizeof(*g));
	type = json_object_object_get_ex(s, "type", &x)
		       ? json_object_get_string(x) : NULL;
	if (!type || json_u64(s, "offset", &g->phys) < 0)
		return vu_fail(-EUCLEAN, "luks: segment %d: no type or offset",
			       id);
	if (json_object_object_get_ex(s, "size", &x) &&
	    json_object_is_type(x, json_type_string) &&
	    !strcmp(json_object_get_string(x), "dynamic"))
		dynamic = 1;
	else if (json_u64(s, "size", &size) < 0)
		return vu_fail(-EUCLEAN, "luks: segment %d: bad size", id);
	if (!strcmp(type, "crypt")) {
		r = parse_crypt(root, s, id, g, &ss);
		if (r < 0)
			return r;
	} else if (!strcmp(type, "linear")) {
		g->digest = -1;
	} else {
		return vu_fail(-ENOTSUP, "luks: segment %d: type %s is not "
			       "supported", id, type);
	}
	g->sector_size = (uint32_t)ss;
	if (dynamic) {
		if (!last)
			return vu_fail(-EUCLEAN, "luks: segment %d: dynamic "
				       "size not last", id);
		if (g->phys > dev_size)
			return vu_fail(-EUCLEAN, "luks: segment %d: offset %"
				       PRIu64 " beyond the device end %" PRIu64,
				       id, g->phys, dev_size);
		size = dev_size - g->phys;
		size -= size % ss;
	}
	if (size % ss || g->phys > dev_size || size > dev_size - g->phys)
		return vu_fail(-EUCLEAN, "luks: segment %d: [%" PRIu64 ", +%"
			       PRIu64 ") outside the device (%" PRIu64
			       " bytes) or not whole sectors", id, g->phys,
			       size, dev_size);
	*sizep = size;
	return 0;
}

int luks_segments_parse(const char *json, uint64_t dev_size,
			struct luks_seg *segs, size_t max, size_t *n)
{
	json_object *root = json ? json_tokener_parse(json) : NULL;
	json_object *segments, *byid[LUKS_MAX_SEGS] = { NULL };
	uint64_t pos = 0, size = 0;
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
		if (!byid[id]) {
			r = vu_fail(-EUCLEAN, "luks: segment %d missing", id);
			goto out;
		}
		if ((size_t)id >= max) {
			r = vu_fail(-EUCLEAN, "luks: too many segments");
			goto out;
		}
		r = parse_segment(root, byid[id], id, id == top, dev_size,
				  &segs[*n], &size);
		if (r < 0)
			goto out;
		segs[*n].start = pos;
		segs[*n].end = pos + size;
		pos = segs[(*n)++].end;
	}
out:
	json_object_put(root);
	if (r < 0)
		*n = 0;
	return r;
}

