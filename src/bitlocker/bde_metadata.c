/* BitLocker metadata: the volume header, the three FVE metadata copies
 * (validated, the first good one used, a warning for each damaged one) and
 * their entries.  No key is needed for anything here. */
#include "bitlocker/bde.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/utf16.h"
#include "core/crc.h"
#include "core/error.h"
#include "core/log.h"
#include "crypto/crypto.h"

/* ---- names ---- */

static const struct {
	uint16_t method;
	const char *name, *cipher;
} methods[] = {
	{ BDE_METHOD_AES128_CBC_DIFFUSER, "aes-cbc-128-elephant", "cbc-128-elephant" },
	{ BDE_METHOD_AES256_CBC_DIFFUSER, "aes-cbc-256-elephant", "cbc-256-elephant" },
	{ BDE_METHOD_AES128_CBC, "aes-cbc-128", "cbc-128" },
	{ BDE_METHOD_AES256_CBC, "aes-cbc-256", "cbc-256" },
	{ BDE_METHOD_XTS_AES128, "aes-xts-128", "xts-128" },
	{ BDE_METHOD_XTS_AES256, "aes-xts-256", "xts-256" },
};

const char *bde_method_name(uint16_t method)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].method == method)
			return methods[i].name;
	return NULL;
}

const char *bde_method_cipher(uint16_t method)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].method == method)
			return methods[i].cipher;
	return NULL;
}

const char *bde_state_name(uint16_t state)
{
	switch (state) {
	case BDE_STATE_DECRYPTED: return "decrypted";
	case BDE_STATE_ENCRYPTING: return "conversion in progress";
	case BDE_STATE_EOW: return "encrypt on write";
	case BDE_STATE_ENCRYPTED: return "encrypted";
	case BDE_STATE_PAUSED: return "conversion paused";
	default: return "unknown";
	}
}

const char *vu_bde_prot_name(uint16_t type)
{
	switch (type) {
	case BDE_PROT_CLEAR_KEY: return "clear key";
	case BDE_PROT_TPM: return "tpm";
	case BDE_PROT_STARTUP_KEY: return "startup key";
	case BDE_PROT_TPM_STARTUP_KEY: return "tpm+startup key";
	case BDE_PROT_TPM_PIN_STARTUP_KEY: return "tpm+pin+startup key";
	case BDE_PROT_TPM_PIN: return "tpm+pin";
	case BDE_PROT_RECOVERY_PASSWORD: return "recovery password";
	case BDE_PROT_PUBLIC_KEY: return "public key";
	case BDE_PROT_PASSWORD: return "password";
	default: return "unknown";
	}
}

int64_t bde_filetime_to_unix(uint64_t ft)
{
	if (ft < BDE_FILETIME_UNIX_EPOCH)
		return 0;
	return (int64_t)((ft - BDE_FILETIME_UNIX_EPOCH) / 10000000u);
}

/* ---- UTF-16LE -> UTF-8 ---- */

char *bde_utf16_to_utf8(const uint8_t *p, size_t len)
{
	size_t units = len / 2;
	char *out = malloc(units * 3 + 1); /* a unit gives at most 3 bytes */

	if (out)
		vu_utf16_to_utf8(p, units, 0, out, units * 3 + 1);
	return out;
}

/* ---- volume header ---- */

int bde_parse_vh(const uint8_t *sec, size_t len, struct bde_vh *out)
{
	uint32_t bps;

	memset(out, 0, sizeof(*out));
	if (len < 512)
		return -EUCLEAN;
	bps = vu_le16(sec + offsetof(struct bde_vh_common, bytes_per_sector));
	if (bps == 0)
		bps = 512;
	if (bps < 512 || bps > 4096 || !vu_is_pow2(bps))
		return -ENOTSUP;
	out->sector_size = bps;
	out->cluster_size = bps * sec[offsetof(struct bde_vh_common,
					       sectors_per_cluster)];

	if (!memcmp(sec + 3, BDE_SIGNATURE_TOGO, BDE_SIGNATURE_LEN)) {
		const uint8_t *id = sec + offsetof(struct bde_vh_togo,
						   identifier);

		out->variant = BDE_TOGO;
		if (memcmp(id, BDE_GUID_NORMAL, 16))
			return -EUCLEAN; /* a plain FAT volume */
		for (int i = 0; i < 3; i++)
			out->metadata_offset[i] = vu_le64(
				sec + offsetof(struct bde_vh_togo,
					       metadata_offset) + 8 * i);
		return 0;
	}
	if (memcmp(sec + 3, BDE_SIGNATURE, BDE_SIGNATURE_LEN))
		return -EUCLEAN;
	if (!memcmp(sec, BDE_BOOT_VISTA, 3)) {
		uint64_t cl = vu_le64(sec + offsetof(struct bde_vh_vista,
						     metadata1_cluster));

		out->variant = BDE_VISTA;
		if (out->cluster_size == 0 || cl > UINT64_MAX / out->cluster_size)
			return -EUCLEAN;
		out->metadata_offset[0] = cl * out->cluster_size;
		return 0;
	}
	{
		const uint8_t *id = sec + offsetof(struct bde_vh_win7,
						   identifier);

		out->variant = BDE_WIN7;
		if (!memcmp(id, BDE_GUID_USED_SPACE, 16))
			out->used_space_only = 1;
		else if (memcmp(id, BDE_GUID_NORMAL, 16))
			return -ENOTSUP;
		for (int i = 0; i < 3; i++)
			out->metadata_offset[i] = vu_le64(
				sec + offsetof(struct bde_vh_win7,
					       metadata_offset) + 8 * i);
	}
	return 0;
}

/* ---- one metadata block ---- */

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -EUCLEAN)

static int parse_vmk(const uint8_t *v, size_t vlen, size_t at,
		     struct bde_prot *p, char *why, size_t whylen)
{
	size_t pos = sizeof(struct bde_vmk);

	if (vlen < sizeof(struct bde_vmk))
		return WHY("vmk entry at +%zu is %zu bytes, too short", at,
			   vlen);
	memset(p, 0, sizeof(*p));
	memcpy(p->guid, v + offsetof(struct bde_vmk, guid), 16);
	p->mtime = vu_le64(v + offsetof(struct bde_vmk, mtime));
	p->type = vu_le16(v + offsetof(struct bde_vmk, protection));
	while (vlen - pos >= BDE_ENTRY_HEADER_SIZE) {
		const uint8_t *e = v + pos;
		size_t es = vu_le16(e);
		uint16_t vt = vu_le16(e + 4);
		const uint8_t *d = e + BDE_ENTRY_HEADER_SIZE;
		size_t dl;

		if (es == 0)
			break;
		if (es < BDE_ENTRY_HEADER_SIZE || es > vlen - pos)
			return WHY("vmk property at +%zu has size %zu (%zu left)",
				   at + pos, es, vlen - pos);
		dl = es - BDE_ENTRY_HEADER_SIZE;
		switch (vt) {
		case BDE_VALUE_KEY:
			if (dl < 4 + 16)
				return WHY("clear key at +%zu is %zu bytes",
					   at + pos, dl);
			p->clear_key = d + 4;
			p->clear_key_len = dl - 4;
			break;
		case BDE_VALUE_STRETCH_KEY:
			if (dl < 4 + 16)
				return WHY("stretch key at +%zu is %zu bytes",
					   at + pos, dl);
			memcpy(p->salt, d + 4, 16);
			p->has_salt = 1;
			break;
		case BDE_VALUE_AES_CCM:
			if (dl < sizeof(struct bde_aes_ccm) + 12)
				return WHY("encrypted vmk at +%zu is %zu bytes",
					   at + pos, dl);
			p->vmk.present = 1;
			memcpy(p->vmk.nonce, d, 12);
			memcpy(p->vmk.mac, d + 12, 16);
			p->vmk.data = d + sizeof(struct bde_aes_ccm);
			p->vmk.len = dl - sizeof(struct bde_aes_ccm);
			break;
		default: /* description, use key, TPM blob, times: not needed */
			break;
		}
		pos += es;
	}
	return 0;
}

/* The block header (the "-FVE-FS-" one): which copies exist, and this one
 * among them, since a copy that does not list itself is not a copy. */
static int parse_block_header(const uint8_t *buf, uint64_t off,
			      struct bde_meta *m, char *why, size_t whylen)
{
	int self = 0;

	if (memcmp(buf, BDE_SIGNATURE, BDE_SIGNATURE_LEN))
		return WHY("no \"-FVE-FS-\" signature");
	m->version = vu_le16(buf + offsetof(struct bde_block_header, version));
	if (m->version != 1 && m->version != 2)
		return WHY("block header version %u, expected 1 or 2",
			   m->version);
	for (int i = 0; i < 3; i++) {
		m->metadata_offset[i] = vu_le64(
			buf + offsetof(struct bde_block_header,
				       metadata_offset) + 8 * i);
		if (m->metadata_offset[i] == off)
			self = 1;
	}
	if (!self)
		return WHY("copy does not list its own offset %" PRIu64, off);
	m->vh_offset = vu_le64(buf + offsetof(struct bde_block_header,
					      vh_offset));
	m->area_size = m->version == 1 ? BDE_METADATA_AREA_SIZE_V1
				       : BDE_METADATA_AREA_SIZE;
	return 0;
}

/* The metadata header after it; *end is where its entries stop, counted
 * from the start of the block. */
static int parse_metadata_size(const uint8_t *buf, size_t len, size_t *end,
			       char *why, size_t whylen)
{
	const uint8_t *h = buf + BDE_BLOCK_HEADER_SIZE;
	size_t msize = vu_le32(h + offsetof(struct bde_metadata_header, size));

	if (vu_le32(h + offsetof(struct bde_metadata_header, version)) != 1)
		return WHY("metadata header version %" PRIu32 ", expected 1",
			   vu_le32(h + 4));
	if (vu_le32(h + offsetof(struct bde_metadata_header, header_size)) !=
	    BDE_METADATA_HEADER_SIZE)
		return WHY("metadata header size %" PRIu32 ", expected 48",
			   vu_le32(h + 8));
	if (msize < BDE_METADATA_HEADER_SIZE ||
	    msize > len - BDE_BLOCK_HEADER_SIZE)
		return WHY("metadata size %zu outside 48..%zu", msize,
			   len - BDE_BLOCK_HEADER_SIZE);
	*end = BDE_BLOCK_HEADER_SIZE + msize;
	return 0;
}

/* Version 2 only: the CRC-32 in the validation structure after the block,
 * then the conversion state, which version 1 does not have. */
static int parse_validation(const uint8_t *buf, size_t len, size_t end,
			    struct bde_meta *m, char *why, size_t whylen)
{
	size_t block_size, vsize;
	uint32_t crc, want;

	if (m->version != 2) {
		m->state = BDE_STATE_ENCRYPTED;
		m->next_state = BDE_STATE_ENCRYPTED;
		return 0;
	}
	block_size = (size_t)vu_le16(buf + offsetof(
			     struct bde_block_header, size)) * 16;
	if (block_size < end || block_size > len ||
	    len - block_size < sizeof(struct bde_validation))
		return WHY("block size %zu does not hold metadata "
			   "of %zu bytes and its validation", block_size,
			   end);
	vsize = vu_le16(buf + block_size);
	if (vsize < sizeof(struct bde_validation) ||
	    vu_le16(buf + block_size + 2) > 2)
		return WHY("validation header (size %zu, version %u) "
			   "at +%zu is not valid", vsize,
			   vu_le16(buf + block_size + 2), block_size);
	want = vu_le32(buf + block_size + 4);
	crc = vu_crc32(0, buf, block_size);
	if (crc != want)
		return WHY("CRC-32 0x%08" PRIx32 ", expected 0x%08"
			   PRIx32, crc, want);
	m->state = vu_le16(buf + offsetof(struct bde_block_header, state));
	m->next_state = vu_le16(buf + offsetof(struct bde_block_header,
					       next_state));
	m->encrypted_size = vu_le64(buf + offsetof(
		struct bde_block_header, encrypted_size));
	m->header_sectors = vu_le32(buf + offsetof(
		struct bde_block_header, header_sectors));
	return 0;
}

/* One top-level entry: a protector (VMK), the encrypted FVEK, the
 * description or the relocated volume header; any other entry is not
 * needed and is skipped.  d and dl are its value, pos the entry's offset
 * in the block, for messages. */
static int parse_entry(const uint8_t *d, size_t dl, size_t pos,
		       uint16_t type, uint16_t vt, struct bde_meta *m,
		       char *why, size_t whylen)
{
	int r;

	if (type == BDE_ENTRY_VMK && vt == BDE_VALUE_VMK) {
		if (m->nprot == BDE_MAX_PROTECTORS)
			return WHY("more than %d protectors",
				   BDE_MAX_PROTECTORS);
		r = parse_vmk(d, dl, pos + BDE_ENTRY_HEADER_SIZE,
			      &m->prot[m->nprot], why, whylen);
		if (r < 0)
			return r;
		m->nprot++;
	} else if (type == BDE_ENTRY_FVEK && vt == BDE_VALUE_AES_CCM) {
		if (dl < sizeof(struct bde_aes_ccm) + 12)
			return WHY("encrypted fvek at +%zu is %zu bytes",
				   pos, dl);
		m->fvek.present = 1;
		memcpy(m->fvek.nonce, d, 12);
		memcpy(m->fvek.mac, d + 12, 16);
		m->fvek.data = d + sizeof(struct bde_aes_ccm);
		m->fvek.len = dl - sizeof(struct bde_aes_ccm);
	} else if (type == BDE_ENTRY_DESCRIPTION && vt == BDE_VALUE_STRING) {
		m->desc = d;
		m->desc_len = dl;
	} else if (type == BDE_ENTRY_VOLUME_HEADER &&
		   vt == BDE_VALUE_OFFSET_SIZE) {
		if (dl < 8)
			return WHY("volume header entry at +%zu is "
				   "%zu bytes", pos, dl);
		m->has_vh_entry = 1;
		m->vh_offset = vu_le64(d);
		m->vh_size = dl >= 16 ? vu_le64(d + 8) : 0;
	}
	return 0;
}

/* The entries from after the metadata header up to end; an entry of size
 * zero ends the list. */
static int parse_entries(const uint8_t *buf, size_t end, struct bde_meta *m,
			 char *why, size_t whylen)
{
	size_t pos = BDE_BLOCK_HEADER_SIZE + BDE_METADATA_HEADER_SIZE;

	while (end - pos >= BDE_ENTRY_HEADER_SIZE) {
		const uint8_t *e = buf + pos;
		size_t es = vu_le16(e);
		int r;

		if (es == 0)
			break;
		if (es < BDE_ENTRY_HEADER_SIZE || es > end - pos)
			return WHY("entry at +%zu has size %zu (%zu left)", pos,
				   es, end - pos);
		r = parse_entry(e + BDE_ENTRY_HEADER_SIZE,
				es - BDE_ENTRY_HEADER_SIZE, pos,
				vu_le16(e + 2), vu_le16(e + 4), m, why, whylen);
		if (r < 0)
			return r;
		pos += es;
	}
	if (!m->fvek.present)
		return WHY("no encrypted FVEK entry");
	return 0;
}

int bde_parse_block(const uint8_t *buf, size_t len, uint64_t off,
		    struct bde_meta *m, char *why, size_t whylen)
{
	const uint8_t *h = buf + BDE_BLOCK_HEADER_SIZE;
	size_t end = 0;
	int r;

	memset(m, 0, sizeof(*m));
	if (len < BDE_BLOCK_HEADER_SIZE + BDE_METADATA_HEADER_SIZE)
		return WHY("only %zu bytes", len);
	r = parse_block_header(buf, off, m, why, whylen);
	if (r == 0)
		r = parse_metadata_size(buf, len, &end, why, whylen);
	if (r == 0)
		r = parse_validation(buf, len, end, m, why, whylen);
	if (r < 0)
		return r;
	memcpy(m->volume_guid,
	       h + offsetof(struct bde_metadata_header, volume_guid), 16);
	m->method = (uint16_t)vu_le32(
		h + offsetof(struct bde_metadata_header, method));
	m->creation_time = vu_le64(
		h + offsetof(struct bde_metadata_header, creation_time));
	return parse_entries(buf, end, m, why, whylen);
}

/* ---- the volume ---- */

static int read_copy(struct vu_bde *b, int i, uint64_t off, uint8_t *buf,
		     size_t *len)
{
	uint64_t vsize = b->vol->size;
	size_t want = BDE_METADATA_AREA_SIZE;

	if (off >= vsize)
		return -ERANGE;
	if (vsize - off < want)
		want = (size_t)(vsize - off);
	(void)i;
	*len = want;
	return vu_blk_read(b->vol, buf, want, off);
}

static const char *variant_name(enum bde_variant v)
{
	switch (v) {
	case BDE_VISTA: return "vista";
	case BDE_TOGO: return "to go";
	default: return "windows 7+";
	}
}

static int build_info(struct vu_bde *b, int copy)
{
	struct vu_bde_info *in = &b->info;
	struct bde_meta *m = &b->meta;

	memset(in, 0, sizeof(*in));
	in->variant = variant_name(b->vh.variant);
	in->used_space_only = b->vh.used_space_only;
	in->method = m->method;
	in->method_name = bde_method_name(m->method);
	in->cipher = bde_method_cipher(m->method);
	vu_guid_format(m->volume_guid, in->volume_guid);
	b->description = m->desc ? bde_utf16_to_utf8(m->desc, m->desc_len)
				 : strdup("");
	if (!b->description)
		return vu_fail(-ENOMEM, "out of memory");
	in->description = b->description;
	in->creation_time = (time_t)bde_filetime_to_unix(m->creation_time);
	in->state = m->state;
	in->next_state = m->next_state;
	in->state_name = bde_state_name(m->state);
	in->volume_size = b->vol->size;
	in->encrypted_size = m->encrypted_size;
	if (m->version == 1 || in->encrypted_size == 0 ||
	    in->encrypted_size > in->volume_size)
		in->encrypted_size = in->volume_size;
	in->partly_encrypted = in->encrypted_size < in->volume_size;
	in->sector_size = b->vh.sector_size;
	for (int i = 0; i < 3; i++)
		in->metadata_offset[i] = m->metadata_offset[i];
	in->metadata_copy = copy;
	if (m->version == 2) {
		in->header_offset = m->vh_offset;
		in->header_size = m->vh_size;
	}
	b->protectors = calloc(m->nprot ? m->nprot : 1,
			       sizeof(*b->protectors));
	if (!b->protectors)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < m->nprot; i++) {
		b->protectors[i].type = m->prot[i].type;
		b->protectors[i].type_name = vu_bde_prot_name(m->prot[i].type);
		vu_guid_format(m->prot[i].guid, b->protectors[i].guid);
		b->protectors[i].mtime =
			(time_t)bde_filetime_to_unix(m->prot[i].mtime);
	}
	in->nprotectors = m->nprot;
	in->protectors = b->protectors;
	return 0;
}

/* Checks that need the volume: where the relocated header lies. */
static int check_layout(struct vu_bde *b, char *why, size_t whylen)
{
	struct bde_meta *m = &b->meta;
	uint64_t size = b->vol->size, ss = b->vh.sector_size;

	for (int i = 0; i < 3; i++)
		if (m->metadata_offset[i] % ss || m->metadata_offset[i] >= size)
			return WHY("metadata offset %" PRIu64 " is not a "
				   "sector inside the volume",
				   m->metadata_offset[i]);
	if (m->version == 1)
		return 0;
	if (!m->vh_size)
		m->vh_size = (uint64_t)m->header_sectors * ss;
	if (!m->vh_size || m->vh_offset % ss || m->vh_size % ss ||
	    m->vh_offset >= size || m->vh_size > size - m->vh_offset ||
	    m->vh_size > size / 2)
		return WHY("relocated boot sectors at %" PRIu64 " (%" PRIu64
			   " bytes) do not fit the volume", m->vh_offset,
			   m->vh_size);
	return 0;
}

/* The volume header in sector 0: which variant, where the copies are. */
static int read_volume_header(struct vu_bde *b)
{
	struct vu_blk *vol = b->vol;
	uint8_t sec[512];
	int r;

	r = vu_blk_read(vol, sec, sizeof(sec), 0);
	if (r < 0)
		return r;
	r = bde_parse_vh(sec, sizeof(sec), &b->vh);
	if (r == -ENOTSUP)
		return vu_blk_fail(vol, r, "bitlocker: unsupported volume "
				   "header (sector size %u or identifier)",
				   vu_le16(sec + 11));
	if (r < 0)
		return vu_blk_fail(vol, r, "bitlocker: no BitLocker volume "
				   "header (signature \"%.8s\")",
				   (const char *)sec + 3);
	return 0;
}

/* Reads and parses copy i into buf and b->meta: 0 if it is good, 1 if it
 * is damaged (why says how), a negative errno if the read failed. */
static int try_copy(struct vu_bde *b, int i, uint8_t *buf, size_t *len,
		    char *why, size_t whylen)
{
	uint64_t off = b->vh.metadata_offset[i];
	int r;

	r = read_copy(b, i, off, buf, len);
	if (r == -ERANGE) {
		snprintf(why, whylen, "offset outside the volume");
		return 1;
	}
	if (r < 0)
		return r;
	return bde_parse_block(buf, *len, off, &b->meta, why, whylen) < 0;
}

/* Uses the first good copy, warning about each damaged one before it: its
 * block is taken from *buf into b->block.  Returns the copy's index, or a
 * negative errno naming every copy's damage when none is good. */
static int use_first_good_copy(struct vu_bde *b, uint8_t **buf)
{
	struct vu_blk *vol = b->vol;
	char why[3][160], msg[200];
	int r;

	for (int i = 0; i < 3; i++) {
		uint64_t off = b->vh.metadata_offset[i];
		size_t len = 0;

		if (b->vh.variant == BDE_VISTA && i > 0) {
			snprintf(why[i], sizeof(why[i]),
				 "not known (Vista lists it in copy 1)");
			continue;
		}
		r = try_copy(b, i, *buf, &len, why[i], sizeof(why[i]));
		if (r < 0)
			return r;
		if (r == 0) {
			b->block = *buf; /* transferred */
			b->block_len = len;
			*buf = NULL;
			r = check_layout(b, msg, sizeof(msg));
			if (r < 0)
				return vu_blk_fail(vol, r, "bitlocker: "
						   "metadata copy %d at "
						   "offset %" PRIu64 ": %s",
						   i + 1, off, msg);
			return i;
		}
		vu_log(VU_LOG_WARN, "%s: bitlocker metadata copy %d at offset "
		       "%" PRIu64 " is damaged (%s)%s", vol->desc, i + 1, off,
		       why[i], i < 2 ? "; trying the next copy" : "");
	}
	return vu_blk_fail(vol, -EUCLEAN, "bitlocker: every metadata copy "
			   "is damaged: copy 1 at offset %" PRIu64 ": %s; "
			   "copy 2 at offset %" PRIu64 ": %s; copy 3 at "
			   "offset %" PRIu64 ": %s",
			   b->vh.metadata_offset[0], why[0],
			   b->vh.metadata_offset[1], why[1],
			   b->vh.metadata_offset[2], why[2]);
}

/* The copies after the one in use: say which are damaged, since a
 * responder wants to know before the next one goes.  Nothing here fails
 * the open. */
static void warn_later_copies(struct vu_bde *b, int used)
{
	struct vu_blk *vol = b->vol;

	for (int i = used + 1; i < 3 && b->vh.variant != BDE_VISTA; i++) {
		uint64_t off = b->meta.metadata_offset[i];
		size_t len = 0;
		struct bde_meta *tmp;
		uint8_t *other = malloc(BDE_METADATA_AREA_SIZE);
		char why[160] = "read failed";
		int r;

		tmp = malloc(sizeof(*tmp));
		if (!other || !tmp) {
			free(other);
			free(tmp);
			break;
		}
		r = read_copy(b, i, off, other, &len);
		if (r == -ERANGE)
			snprintf(why, sizeof(why), "offset outside the volume");
		else if (r == 0)
			r = bde_parse_block(other, len, off, tmp, why,
					    sizeof(why));
		if (r == -EIO)
			vu_err_clear(); /* the copy in use is what matters */
		if (r < 0)
			vu_log(VU_LOG_WARN, "%s: bitlocker metadata copy %d at "
			       "offset %" PRIu64 " is damaged (%s)", vol->desc,
			       i + 1, off, r == -EIO ? "read failed" : why);
		free(other);
		free(tmp);
	}
}

int vu_bde_open(struct vu_blk *vol, struct vu_bde **out)
{
	struct vu_bde *b = NULL;
	uint8_t *buf = NULL;
	int r, used;

	*out = NULL;
	if (!vol)
		return vu_fail(-EINVAL, "bitlocker: no volume");
	if (vol->size < 512)
		return vu_blk_fail(vol, -EUCLEAN, "bitlocker: volume of %"
				   PRIu64 " bytes is too small", vol->size);
	b = calloc(1, sizeof(*b));
	buf = malloc(BDE_METADATA_AREA_SIZE);
	if (!b || !buf) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto fail;
	}
	b->vol = vu_blk_ref(vol);
	b->unlocked_by = -1;
	r = read_volume_header(b);
	if (r < 0)
		goto fail;
	used = use_first_good_copy(b, &buf);
	if (used < 0) {
		r = used;
		goto fail;
	}
	warn_later_copies(b, used);
	if (!bde_method_name(b->meta.method)) {
		r = vu_blk_fail(vol, -ENOTSUP, "bitlocker: unsupported "
				"encryption method 0x%04x", b->meta.method);
		goto fail;
	}
	r = build_info(b, used);
	if (r < 0)
		goto fail;
	*out = b;
	return 0;
fail:
	free(buf);
	vu_bde_close(b);
	return r;
}

const struct vu_bde_info *vu_bde_info(const struct vu_bde *b)
{
	return b ? &b->info : NULL;
}

int vu_bde_is_unlocked(const struct vu_bde *b)
{
	return b && b->fvek;
}

int vu_bde_unlocked_by(const struct vu_bde *b)
{
	return b && b->fvek ? b->unlocked_by : -1;
}

void vu_bde_close(struct vu_bde *b)
{
	if (!b)
		return;
	if (b->fvek)
		vu_secret_free(b->fvek, b->fvek_len);
	free(b->protectors);
	free(b->description);
	free(b->block);
	vu_blk_unref(b->vol);
	free(b);
}
