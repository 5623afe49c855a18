/* BitLocker startup key files (.BEK): a metadata header (as in an FVE
 * metadata block) followed by one startup-key entry holding an external
 * key: its identifier, a description ("ExternalKey"), the 32-byte key, and
 * in files written by newer Windows (180 bytes instead of 156) a property
 * naming the volume's GUID. */
#include "bitlocker/bde.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"
#include "crypto/crypto.h"

#define BEK_MIN (BDE_METADATA_HEADER_SIZE + BDE_ENTRY_HEADER_SIZE + \
		 sizeof(struct bde_external_key))

static int bad(const char *name, const char *fmt, ...) VU_PRINTF(2, 3);

static int bad(const char *name, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return vu_fail(-EUCLEAN, "%s: not a usable BitLocker startup key "
		       "file: %s", name ? name : "startup key", what);
}

void bde_bek_free(struct bde_bek *bek)
{
	if (bek && bek->key)
		vu_secret_free(bek->key, bek->key_len);
	if (bek)
		memset(bek, 0, sizeof(*bek));
}

static int parse_external(const uint8_t *v, size_t vlen, size_t at,
			  const char *name, struct bde_bek *out)
{
	size_t pos = sizeof(struct bde_external_key);

	memcpy(out->guid, v + offsetof(struct bde_external_key, guid), 16);
	while (vlen - pos >= BDE_ENTRY_HEADER_SIZE) {
		const uint8_t *e = v + pos;
		size_t es = vu_le16(e);
		uint16_t vt = vu_le16(e + 4);
		size_t dl;

		if (es == 0)
			break;
		if (es < BDE_ENTRY_HEADER_SIZE || es > vlen - pos)
			return bad(name, "property at byte %zu has size %zu "
				   "beyond the entry", at + pos, es);
		dl = es - BDE_ENTRY_HEADER_SIZE;
		if (vt == BDE_VALUE_KEY) {
			if (dl != 4 + 32)
				return bad(name, "key at byte %zu is %zu bytes, "
					   "expected 32", at + pos,
					   dl >= 4 ? dl - 4 : 0);
			if (out->key)
				return bad(name, "second key at byte %zu",
					   at + pos);
			out->key = vu_secret_alloc(32);
			if (!out->key)
				return vu_fail(-ENOMEM, "out of memory");
			out->key_len = 32;
			memcpy(out->key, e + BDE_ENTRY_HEADER_SIZE + 4, 32);
		} else if (vt == BDE_VALUE_GUID && dl >= 16) {
			out->has_volume_guid = 1;
			memcpy(out->volume_guid, e + BDE_ENTRY_HEADER_SIZE, 16);
		}
		pos += es;
	}
	if (!out->key)
		return bad(name, "the external key entry at byte %zu holds no "
			   "key", at);
	return 0;
}

int bde_bek_parse(const uint8_t *buf, size_t len, const char *name,
		  struct bde_bek *out)
{
	size_t size, pos;
	int r;

	memset(out, 0, sizeof(*out));
	if (!buf || len < BEK_MIN)
		return bad(name, "truncated: %zu bytes, at least %zu expected",
			   len, BEK_MIN);
	if (vu_le32(buf + offsetof(struct bde_metadata_header, version)) != 1 ||
	    vu_le32(buf + offsetof(struct bde_metadata_header,
				   header_size)) != BDE_METADATA_HEADER_SIZE)
		return bad(name, "header version %" PRIu32 ", header size %" PRIu32
			   " (expected 1 and 48)",
			   vu_le32(buf + 4), vu_le32(buf + 8));
	size = vu_le32(buf + offsetof(struct bde_metadata_header, size));
	if (size > len)
		return bad(name, "truncated: %zu bytes, the header says %zu",
			   len, size);
	if (size < BEK_MIN)
		return bad(name, "header size field %zu, at least %zu expected",
			   size, BEK_MIN);
	memcpy(out->header_guid,
	       buf + offsetof(struct bde_metadata_header, volume_guid), 16);

	pos = BDE_METADATA_HEADER_SIZE;
	r = 0;
	while (size - pos >= BDE_ENTRY_HEADER_SIZE) {
		const uint8_t *e = buf + pos;
		size_t es = vu_le16(e);
		uint16_t vt = vu_le16(e + 4);

		if (es == 0)
			break;
		if (es < BDE_ENTRY_HEADER_SIZE || es > size - pos) {
			r = bad(name, "entry at byte %zu has size %zu beyond "
				"the file", pos, es);
			break;
		}
		if (vt == BDE_VALUE_EXTERNAL_KEY && !out->key) {
			if (es < BDE_ENTRY_HEADER_SIZE +
					 sizeof(struct bde_external_key)) {
				r = bad(name, "external key entry at byte %zu "
					"is only %zu bytes", pos, es);
				break;
			}
			r = parse_external(e + BDE_ENTRY_HEADER_SIZE,
					   es - BDE_ENTRY_HEADER_SIZE,
					   pos + BDE_ENTRY_HEADER_SIZE, name,
					   out);
			if (r < 0)
				break;
		} else if (vt == BDE_VALUE_GUID &&
			   es >= BDE_ENTRY_HEADER_SIZE + 16) {
			/* the volume's GUID beside the key entry */
			out->has_volume_guid = 1;
			memcpy(out->volume_guid, e + BDE_ENTRY_HEADER_SIZE, 16);
		}
		pos += es;
	}
	if (r == 0 && !out->key)
		r = bad(name, "no external key entry in %zu bytes", size);
	if (r < 0)
		bde_bek_free(out);
	return r;
}

int vu_bde_bek_guid(const uint8_t *bek, size_t len, const char *bek_name,
		    char guid[VU_GUID_STRLEN])
{
	struct bde_bek k;
	int r;

	guid[0] = '\0';
	r = bde_bek_parse(bek, len, bek_name, &k);
	if (r < 0)
		return r;
	vu_guid_format(k.guid, guid);
	bde_bek_free(&k);
	return 0;
}
