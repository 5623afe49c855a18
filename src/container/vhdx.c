/* VHDX checks ([MS-VHDX] 2.1-2.3): the file identifier, the current
 * header (both copies, highest sequence number wins), the region table
 * (first intact copy) and, through vhdx_parse_metadata(), the metadata
 * items.  The block table is checked when the reader loads it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container/vhd.h"
#include "container/vhd_format.h"
#include "core/bytes.h"
#include "core/crc.h"
#include "core/guid.h"
#include "core/log.h"

int vhdx_detect(struct vu_blk *file)
{
	uint8_t sig[8];

	return file->size >= 8 && vu_blk_read(file, sig, 8, 0) == 0 &&
	       !memcmp(sig, VHDX_SIGNATURE, 8);
}

/* CRC-32C of a structure with its checksum field taken as zero. */
static uint32_t crc_without_field(const uint8_t *buf, size_t len)
{
	static const uint8_t zero[4];
	uint32_t c = vu_crc32c(0, buf, 4);

	c = vu_crc32c(c, zero, 4);
	return vu_crc32c(c, buf + 8, len - 8);
}

/* Read a structure that starts with a 4-byte signature and a CRC-32C over
 * its whole size (VHDX headers and region tables).  Returns 1 when both
 * match, 0 when damaged (why[] says how), <0 on a read error. */
static int read_signed(struct vu_blk *file, uint64_t off, uint8_t *buf,
		       size_t size, const char *sig, const char *what,
		       char *why, size_t why_size)
{
	uint32_t got, want;
	int r = vu_blk_read(file, buf, size, off);

	if (r < 0)
		return r;
	if (memcmp(buf, sig, 4)) {
		snprintf(why, why_size, "%s at offset %" PRIu64
			 ": no \"%s\" signature", what, off, sig);
		return 0;
	}
	got = vu_le32(buf + 4); /* VHDX_H_CHECKSUM, VHDX_R_CHECKSUM */
	want = crc_without_field(buf, size);
	if (got != want) {
		snprintf(why, why_size, "%s at offset %" PRIu64
			 ": CRC-32C 0x%08" PRIx32 ", expected 0x%08" PRIx32,
			 what, off, got, want);
		return 0;
	}
	return 1;
}

static int check_header(struct vu_blk *file, uint64_t off, uint8_t *h,
			char *why, size_t why_size)
{
	int r = read_signed(file, off, h, VHDX_HEADER_SIZE, "head", "header",
			    why, why_size);

	if (r <= 0)
		return r;
	if (vu_le16(h + VHDX_H_VERSION) != 1) {
		snprintf(why, why_size, "header at offset %" PRIu64
			 ": version %u, expected 1", off,
			 vu_le16(h + VHDX_H_VERSION));
		return 0;
	}
	return 1;
}

static const uint8_t *known_region(const uint8_t guid[16])
{
	static uint8_t bat[16], meta[16];
	static int init;

	if (!init) {
		vu_guid_parse(VHDX_BAT_GUID, bat);
		vu_guid_parse(VHDX_METADATA_GUID, meta);
		init = 1;
	}
	if (!memcmp(guid, bat, 16) || !memcmp(guid, meta, 16))
		return guid;
	return NULL;
}

static int check_region_table(struct vu_blk *file, uint64_t off, uint8_t *t,
			      char *why, size_t why_size)
{
	uint32_t count;
	int r = read_signed(file, off, t, VHDX_REGION_SIZE, "regi",
			    "region table", why, why_size);

	if (r <= 0)
		return r;
	count = vu_le32(t + VHDX_R_COUNT);
	if (count > VHDX_REGION_MAX) {
		snprintf(why, why_size, "region table at offset %" PRIu64
			 ": %" PRIu32 " entries, at most %d allowed", off,
			 count, VHDX_REGION_MAX);
		return 0;
	}
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = t + VHDX_R_ENTRIES + i * VHDX_RE_SIZE;
		uint64_t roff = vu_le64(e + VHDX_RE_OFFSET);
		uint32_t rlen = vu_le32(e + VHDX_RE_LENGTH);
		char g[VU_GUID_STRLEN];

		vu_guid_format(e + VHDX_RE_GUID, g);
		if (roff > file->size || rlen > file->size - roff) {
			snprintf(why, why_size, "region table at offset %"
				 PRIu64 ": region %s (%" PRIu32
				 " bytes at %" PRIu64 ") lies past the end of "
				 "the file (%" PRIu64 " bytes)", off, g, rlen,
				 roff, file->size);
			return 0;
		}
		if ((vu_le32(e + VHDX_RE_REQUIRED) & 1) &&
		    !known_region(e + VHDX_RE_GUID)) {
			snprintf(why, why_size, "region table at offset %"
				 PRIu64 ": required region %s is unknown", off,
				 g);
			return 0;
		}
	}
	return 1;
}

static const uint8_t *find_region(const uint8_t *table, const char *guid_text)
{
	uint8_t g[16];
	uint32_t count = vu_le32(table + VHDX_R_COUNT);

	vu_guid_parse(guid_text, g);
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = table + VHDX_R_ENTRIES + i * VHDX_RE_SIZE;
		if (!memcmp(e + VHDX_RE_GUID, g, 16))
			return e;
	}
	return NULL;
}

int vhdx_check(struct vu_blk *file, struct vhdx_meta *meta)
{
	static const uint64_t hoff[2] = { VHDX_HEADER1_OFFSET,
					  VHDX_HEADER2_OFFSET };
	static const uint64_t roff[2] = { VHDX_REGION1_OFFSET,
					  VHDX_REGION2_OFFSET };
	char why[2][256] = { "", "" };
	uint8_t *buf = NULL, *best = NULL;
	uint64_t best_seq = 0;
	int valid[2], r = 0;

	memset(meta, 0, sizeof(*meta));
	if (file->size < VHDX_REGION2_OFFSET + VHDX_REGION_SIZE)
		return vu_blk_fail(file, -EUCLEAN,
				   "vhdx: file of %" PRIu64 " bytes is shorter "
				   "than the %d-byte header section (truncated)",
				   file->size,
				   VHDX_REGION2_OFFSET + VHDX_REGION_SIZE);
	buf = malloc(2 * VHDX_HEADER_SIZE + 2 * VHDX_REGION_SIZE);
	if (!buf)
		return vu_fail(-ENOMEM, "out of memory");

	/* The header with the higher sequence number among the valid ones
	 * is current (MS-VHDX 2.2.2). */
	for (int i = 0; i < 2; i++) {
		uint8_t *h = buf + i * VHDX_HEADER_SIZE;

		r = check_header(file, hoff[i], h, why[i], sizeof(why[i]));
		if (r < 0)
			goto out;
		valid[i] = r;
		if (valid[i] && (!best || vu_le64(h + VHDX_H_SEQUENCE) > best_seq)) {
			best = h;
			best_seq = vu_le64(h + VHDX_H_SEQUENCE);
		}
	}
	if (!best) {
		r = vu_blk_fail(file, -EUCLEAN,
				"vhdx: both headers are damaged: %s; %s",
				why[0], why[1]);
		goto out;
	}
	for (int i = 0; i < 2; i++)
		if (!valid[i])
			vu_log(VU_LOG_WARN, "%s: vhdx: %s; using the other "
			       "header", file->desc, why[i]);
	memcpy(meta->data_write_guid, best + VHDX_H_DATA_WRITE_GUID, 16);
	meta->log_not_empty = !vu_guid_is_zero(best + VHDX_H_LOG_GUID);

	/* The region tables: use the first intact copy. */
	for (int i = 0; i < 2; i++) {
		r = check_region_table(file, roff[i],
				       buf + 2 * VHDX_HEADER_SIZE +
					       i * VHDX_REGION_SIZE,
				       why[i], sizeof(why[i]));
		if (r < 0)
			goto out;
		valid[i] = r;
	}
	if (!valid[0] && !valid[1]) {
		r = vu_blk_fail(file, -EUCLEAN,
				"vhdx: both region tables are damaged: %s; %s",
				why[0], why[1]);
		goto out;
	}
	if (!valid[0] || !valid[1])
		vu_log(VU_LOG_WARN, "%s: vhdx: %s; using the other copy",
		       file->desc, why[valid[0] ? 1 : 0]);
	{
		const uint8_t *t = buf + 2 * VHDX_HEADER_SIZE +
				   (valid[0] ? 0 : VHDX_REGION_SIZE);
		const uint8_t *bat = find_region(t, VHDX_BAT_GUID);
		const uint8_t *md = find_region(t, VHDX_METADATA_GUID);

		if (!bat || !md) {
			r = vu_blk_fail(file, -EUCLEAN, "vhdx: region table "
					"lacks the %s region",
					bat ? "metadata" : "BAT");
			goto out;
		}
		meta->bat_offset = vu_le64(bat + VHDX_RE_OFFSET);
		meta->bat_length = vu_le32(bat + VHDX_RE_LENGTH);
		meta->meta_offset = vu_le64(md + VHDX_RE_OFFSET);
		meta->meta_length = vu_le32(md + VHDX_RE_LENGTH);
	}
	r = vhdx_parse_metadata(file, meta);
	if (r < 0)
		goto out;
	r = 0;
out:
	if (r < 0)
		vhdx_meta_free(meta);
	free(buf);
	return r;
}
