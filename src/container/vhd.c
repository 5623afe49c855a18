#include "container/vhd.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "container/vhd_format.h"
#include "core/bytes.h"

static uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t field)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i++)
		if (i < field || i >= field + 4)
			sum += buf[i];
	return ~sum;
}

int vhd_detect(struct vu_blk *file)
{
	uint8_t buf[8];

	if (file->size >= VHD_FOOTER_SIZE &&
	    vu_blk_read(file, buf, 8, file->size - VHD_FOOTER_SIZE) == 0 &&
	    !memcmp(buf, VHD_COOKIE, 8))
		return 1;
	/* A 511-byte footer (Virtual PC 2004 and older writers). */
	if (file->size >= VHD_FOOTER_SIZE - 1 &&
	    vu_blk_read(file, buf, 8, file->size - (VHD_FOOTER_SIZE - 1)) == 0 &&
	    !memcmp(buf, VHD_COOKIE, 8))
		return 1;
	/* A dynamic disk's footer copy at 0: a truncated file still has it. */
	if (file->size >= 8 && vu_blk_read(file, buf, 8, 0) == 0 &&
	    !memcmp(buf, VHD_COOKIE, 8))
		return 1;
	return 0;
}

static int read_footer(struct vu_blk *file, uint8_t *f, uint64_t *at)
{
	uint8_t cookie[8];
	int r;

	*at = file->size - VHD_FOOTER_SIZE;
	if (file->size >= VHD_FOOTER_SIZE) {
		r = vu_blk_read(file, cookie, 8, *at);
		if (r < 0)
			return r;
		if (!memcmp(cookie, VHD_COOKIE, 8))
			return vu_blk_read(file, f, VHD_FOOTER_SIZE, *at);
	}
	if (file->size >= VHD_FOOTER_SIZE - 1) {
		*at = file->size - (VHD_FOOTER_SIZE - 1);
		r = vu_blk_read(file, cookie, 8, *at);
		if (r < 0)
			return r;
		if (!memcmp(cookie, VHD_COOKIE, 8)) {
			memset(f, 0, VHD_FOOTER_SIZE);
			return vu_blk_read(file, f, VHD_FOOTER_SIZE - 1, *at);
		}
	}
	return vu_blk_fail(file, -EUCLEAN,
			   "vhd: no footer (\"conectix\") in the last 512 bytes, "
			   "but a footer copy at offset 0: the file is "
			   "truncated or its end is damaged");
}

/* Parent locators: W2ru (relative) first, then W2ku (absolute). */
static int read_locators(struct vu_blk *file, const uint8_t *dyn,
			 struct vhd_meta *meta)
{
	static const uint32_t order[] = { VHD_PLAT_W2RU, VHD_PLAT_W2KU };
	size_t n = 0;
	char name[1024];

	for (size_t o = 0; o < 2; o++) {
		for (int i = 0; i < 8 && n < VHD_MAX_PARENT_PATHS - 2; i++) {
			const uint8_t *e = dyn + VHD_D_LOCATORS + i * VHD_LOC_SIZE;
			uint32_t len = vu_be32(e + VHD_LOC_DATA_LEN);
			uint64_t off = vu_be64(e + VHD_LOC_DATA_OFFSET);
			uint8_t *raw;
			int r;

			if (vu_be32(e + VHD_LOC_CODE) != order[o] || !len)
				continue;
			if (len > 64 * 1024 || off > file->size ||
			    len > file->size - off)
				return vu_blk_fail(file, -EUCLEAN,
						   "vhd: parent locator %d: %" PRIu32
						   " bytes at offset %" PRIu64
						   " lie outside the file", i, len,
						   off);
			raw = malloc(len);
			if (!raw)
				return vu_fail(-ENOMEM, "out of memory");
			r = vu_blk_read(file, raw, len, off);
			if (r == 0) {
				vu_utf16_to_utf8(raw, len / 2, 0, name,
						 sizeof(name));
				if (name[0] && !(meta->parent_paths[n++] =
							 strdup(name)))
					r = vu_fail(-ENOMEM, "out of memory");
			}
			free(raw);
			if (r < 0)
				return r;
		}
	}
	/* The parent's Unicode name from the header, last resort. */
	vu_utf16_to_utf8(dyn + VHD_D_PARENT_NAME, 256, VU_UTF16_BE, name,
			 sizeof(name));
	if (name[0] && !(meta->parent_paths[n++] = strdup(name)))
		return vu_fail(-ENOMEM, "out of memory");
	return 0;
}

/* Every allocated block (its sector bitmap and data) must lie before the
 * footer: a file cut short is reported as such, not as a read error. */
static int check_blocks(struct vu_blk *file, uint64_t bat, uint64_t entries,
			uint32_t block_size, uint64_t footer_at)
{
	uint64_t bitmap = ((uint64_t)block_size / 512 / 8 + 511) / 512 * 512;
	uint8_t *t = malloc(entries ? entries * 4 : 1);
	int r;

	if (!t)
		return vu_fail(-ENOMEM, "out of memory");
	r = vu_blk_read(file, t, entries * 4, bat);
	for (uint64_t i = 0; r == 0 && i < entries; i++) {
		uint32_t sector = vu_be32(t + i * 4);
		uint64_t at = (uint64_t)sector * 512;

		if (sector == 0xffffffffu)
			continue;
		if (at > footer_at || bitmap + block_size > footer_at - at)
			r = vu_blk_fail(file, -EUCLEAN,
					"vhd: block %" PRIu64 " at offset %" PRIu64
					" lies past the end of the data (footer "
					"at %" PRIu64 "): the file is truncated",
					i, at, footer_at);
	}
	free(t);
	return r;
}

int vhd_check(struct vu_blk *file, struct vhd_meta *meta)
{
	uint8_t f[VHD_FOOTER_SIZE], dyn[VHD_DYN_HEADER_SIZE];
	uint32_t want, got;
	uint64_t at, data_off;
	int r;

	memset(meta, 0, sizeof(*meta));
	r = read_footer(file, f, &at);
	if (r < 0)
		return r;
	got = vu_be32(f + VHD_F_CHECKSUM);
	want = vhd_checksum(f, VHD_FOOTER_SIZE, VHD_F_CHECKSUM);
	if (got != want)
		return vu_blk_fail(file, -EUCLEAN,
				   "vhd: footer at offset %" PRIu64
				   ": checksum 0x%08" PRIx32 ", expected 0x%08"
				   PRIx32, at, got, want);
	meta->disk_type = vu_be32(f + VHD_F_DISK_TYPE);
	meta->current_size = vu_be64(f + VHD_F_CURRENT_SIZE);
	memcpy(meta->unique_id, f + VHD_F_UNIQUE_ID, 16);
	if (vu_be32(f + VHD_F_VERSION) >> 16 != 1)
		return vu_blk_fail(file, -ENOTSUP,
				   "vhd: footer at offset %" PRIu64
				   ": format version 0x%08" PRIx32
				   ", expected 0x00010000", at,
				   vu_be32(f + VHD_F_VERSION));
	if (meta->current_size == 0 || meta->current_size % 512)
		return vu_blk_fail(file, -EUCLEAN,
				   "vhd: footer at offset %" PRIu64
				   ": disk size %" PRIu64
				   " is not a positive multiple of 512", at,
				   meta->current_size);

	switch (meta->disk_type) {
	case VHD_TYPE_FIXED:
		if (at < meta->current_size)
			return vu_blk_fail(file, -EUCLEAN,
					   "vhd: fixed disk of %" PRIu64
					   " bytes, but the file holds only %"
					   PRIu64 " bytes before its footer "
					   "(truncated)", meta->current_size,
					   at);
		return 0;
	case VHD_TYPE_DYNAMIC:
	case VHD_TYPE_DIFFERENCING:
		break;
	default:
		return vu_blk_fail(file, -EUCLEAN,
				   "vhd: footer at offset %" PRIu64
				   ": disk type %" PRIu32
				   ", expected 2 (fixed), 3 (dynamic) or 4 "
				   "(differencing)", at, meta->disk_type);
	}

	data_off = vu_be64(f + VHD_F_DATA_OFFSET);
	if (data_off > at || at - data_off < VHD_DYN_HEADER_SIZE)
		return vu_blk_fail(file, -EUCLEAN,
				   "vhd: dynamic header offset %" PRIu64
				   " lies outside the file (footer at %" PRIu64
				   ")", data_off, at);
	r = vu_blk_read(file, dyn, sizeof(dyn), data_off);
	if (r < 0)
		return r;
	if (memcmp(dyn, VHD_DYN_COOKIE, 8))
		return vu_blk_fail(file, -EUCLEAN,
				   "vhd: dynamic header at offset %" PRIu64
				   ": no \"cxsparse\" signature", data_off);
	got = vu_be32(dyn + VHD_D_CHECKSUM);
	want = vhd_checksum(dyn, sizeof(dyn), VHD_D_CHECKSUM);
	if (got != want)
		return vu_blk_fail(file, -EUCLEAN,
				   "vhd: dynamic header at offset %" PRIu64
				   ": checksum 0x%08" PRIx32 ", expected 0x%08"
				   PRIx32, data_off, got, want);
	{
		uint32_t bs = vu_be32(dyn + VHD_D_BLOCK_SIZE);
		uint64_t entries = vu_be32(dyn + VHD_D_MAX_ENTRIES);
		uint64_t bat = vu_be64(dyn + VHD_D_TABLE_OFFSET);

		if (bs < 512 || bs > VHD_MAX_BLOCK_SIZE || !vu_is_pow2(bs))
			return vu_blk_fail(file, -EUCLEAN,
					   "vhd: dynamic header at offset %"
					   PRIu64 ": block size %" PRIu32
					   ", expected a power of two from 512 "
					   "to 256 MiB", data_off, bs);
		if (entries * bs < meta->current_size)
			return vu_blk_fail(file, -EUCLEAN,
					   "vhd: block table of %" PRIu64
					   " entries of %" PRIu32
					   " bytes cannot hold the disk size %"
					   PRIu64, entries, bs,
					   meta->current_size);
		if (bat > at || entries * 4 > at - bat)
			return vu_blk_fail(file, -EUCLEAN,
					   "vhd: block table at offset %" PRIu64
					   " (%" PRIu64 " entries) lies outside "
					   "the file", bat, entries);
		r = check_blocks(file, bat, entries, bs, at);
		if (r < 0)
			return r;
		meta->block_size = bs;
		meta->max_entries = (uint32_t)entries;
		meta->bat_offset = bat;
		meta->footer_at = at;
	}
	if (meta->disk_type == VHD_TYPE_DIFFERENCING) {
		memcpy(meta->parent_id, dyn + VHD_D_PARENT_ID, 16);
		r = read_locators(file, dyn, meta);
		if (r < 0) {
			vhd_meta_free(meta);
			return r;
		}
	}
	return 0;
}

void vhd_meta_free(struct vhd_meta *meta)
{
	for (size_t i = 0; i < sizeof(meta->parent_paths) /
				   sizeof(meta->parent_paths[0]); i++) {
		free(meta->parent_paths[i]);
		meta->parent_paths[i] = NULL;
	}
}
