/* Volume probe: what a volume holds, from its first sectors, with label and
 * UUID spelled exactly as `blkid -p -o export` prints them (libblkid 2.38 is
 * the oracle the integration test compares against).
 *
 * One table of probers, tried in order: LUKS first (its header may sit on
 * anything), BitLocker before FAT and NTFS (a BitLocker boot sector looks
 * like both), FAT last of the boot-sector formats (its weakest signature
 * is one jump byte), then a LUKS2 secondary header for a volume whose
 * primary header was overwritten.
 * A prober returns 1 when it recognised the volume (filling out), 0 when
 * not, and a negative errno only when a read failed.  Damaged or truncated
 * content is "not recognised", never an error.
 *
 * Known, deliberate differences from libblkid:
 *  - NTFS: libblkid rejects a volume whose MFT records 0 and 3 do not start
 *    with "FILE"; we keep kind ntfs (the boot sector is valid) with an empty
 *    label.  We apply the update-sequence fixups libblkid skips.
 *  - ext: a superblock that is neither ext2/3/4 to libblkid (needs_recovery
 *    without a journal) is ext2 here; a journal device is unknown (blkid:
 *    jbd); a test_fs ext4 is ext4 (blkid: ext4dev).
 *  - FAT labels are copied as stored (OEM code page bytes), as libblkid
 *    does; everything else is UTF-8. */
#include "volume/probe.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/utf16.h"
#include "core/crc.h"
#include "core/log.h"
#include "volume/probe_format.h"

/* The first bytes of the volume, read once: every signature but a swap
 * page larger than this, the NTFS MFT and the FAT root directory lies
 * inside. */
#define HEAD_MAX 8192

struct head {
	uint8_t b[HEAD_MAX];
	size_t len;
};

static int head_has(const struct head *h, size_t off, size_t len)
{
	return off <= h->len && len <= h->len - off;
}

/* Read len bytes at off when the volume has them: 1 read, 0 absent,
 * negative errno when the read failed. */
static int read_opt(struct vu_blk *vol, void *buf, size_t len, uint64_t off)
{
	int r;

	if (off > vol->size || len > vol->size - off)
		return 0;
	r = vu_blk_read(vol, buf, len, off);
	return r < 0 ? r : 1;
}

/* ---- value helpers: libblkid's set_label / strncpy_uuid ---- */

static int is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

static void rtrim(char *s)
{
	size_t n = strlen(s);

	while (n && is_blank((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* Copy a fixed-size, NUL-padded string field; trailing blanks dropped. */
static void set_str(char *dst, size_t dstsz, const uint8_t *src, size_t len)
{
	size_t n = 0;

	while (n < len && n + 1 < dstsz && src[n])
		n++;
	memcpy(dst, src, n);
	dst[n] = '\0';
	rtrim(dst);
}

static int is_zero(const uint8_t *p, size_t len)
{
	while (len--)
		if (*p++)
			return 0;
	return 1;
}

/* RFC 4122 byte order, lower case; nothing for an all-zero UUID. */
static void set_uuid(struct vu_probe *out, const uint8_t u[16])
{
	if (is_zero(u, 16))
		return;
	snprintf(out->uuid, sizeof(out->uuid),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

static void set_detail(struct vu_probe *out, const char *s)
{
	snprintf(out->detail, sizeof(out->detail), "%s", s);
}

/* ---- LUKS ---- */

/* One LUKS binary header at off (0 for the primary): 1 recognised. */
static int luks_header(const uint8_t *b, uint64_t off, struct vu_probe *out)
{
	uint16_t version = vu_be16(b + LUKS_VERSION_OFF);

	if (version == 1 && off == 0) {
		out->kind = VU_KIND_LUKS1;
	} else if (version == 2) {
		/* a LUKS2 header names its own offset */
		if (vu_be64(b + LUKS2_HDR_OFFSET_OFF) != off)
			return 0;
		out->kind = VU_KIND_LUKS2;
		set_str(out->label, sizeof(out->label), b + LUKS2_LABEL_OFF,
			LUKS2_LABEL_LEN);
	} else {
		return 0;
	}
	set_str(out->uuid, sizeof(out->uuid), b + LUKS_UUID_OFF,
		LUKS_UUID_LEN);
	return 1;
}

static int probe_luks(struct vu_blk *vol, const struct head *h,
		      struct vu_probe *out)
{
	if (!head_has(h, 0, LUKS_HDR_MIN) ||
	    memcmp(h->b, LUKS_MAGIC, LUKS_MAGIC_LEN) != 0)
		return 0;
	if (luks_header(h->b, 0, out))
		return 1;
	vu_log(VU_LOG_DEBUG, "%s: LUKS magic with version %u", vol->desc,
	       vu_be16(h->b + LUKS_VERSION_OFF));
	return 0;
}

/* A LUKS2 volume whose primary header is gone still has its secondary
 * (libblkid looks there too).  Tried last, so that volumes recognised
 * otherwise cost no extra reads. */
static int probe_luks2_secondary(struct vu_blk *vol, const struct head *h,
				 struct vu_probe *out)
{
	uint8_t b[LUKS_HDR_MIN];

	for (size_t i = 0; i < sizeof(luks2_secondary) /
				   sizeof(luks2_secondary[0]); i++) {
		uint64_t off = luks2_secondary[i];
		int r;

		if (head_has(h, off, sizeof(b))) {
			memcpy(b, h->b + off, sizeof(b));
		} else {
			r = read_opt(vol, b, sizeof(b), off);
			if (r <= 0)
				return r;
		}
		if (memcmp(b, LUKS2_MAGIC2, LUKS_MAGIC_LEN) == 0 &&
		    vu_be16(b + LUKS_VERSION_OFF) == 2 &&
		    luks_header(b, off, out)) {
			vu_log(VU_LOG_INFO, "%s: LUKS2 primary header missing, "
			       "secondary found at %" PRIu64, vol->desc, off);
			return 1;
		}
	}
	return 0;
}

/* ---- BitLocker ---- */

static int probe_bitlocker(struct vu_blk *vol, const struct head *h,
			   struct vu_probe *out)
{
	const uint8_t *b = h->b;

	if (!head_has(h, 0, 512))
		return 0;
	if (memcmp(b + BDE_SIG_OFF, BDE_SIG_FVE, BDE_SIG_LEN) == 0) {
		/* Vista, or Windows 7 and later (which also carry the
		 * identifier GUID at 160; libblkid does not insist on it) */
		if (memcmp(b, bde_jump_vista, 3) != 0 &&
		    memcmp(b, bde_jump_win7, 3) != 0)
			return 0;
		out->kind = VU_KIND_BITLOCKER;
		return 1;
	}
	if (memcmp(b + BDE_SIG_OFF, BDE_SIG_TOGO, BDE_SIG_LEN) == 0 &&
	    memcmp(b, bde_jump_win7, 3) == 0 &&
	    memcmp(b + BDE_GUID_OFF_TOGO, bde_guid, sizeof(bde_guid)) == 0) {
		out->kind = VU_KIND_BITLOCKER;
		set_detail(out, "BitLocker To Go");
		return 1;
	}
	(void)vol;
	return 0;
}

/* ---- LVM2 physical volume ---- */

/* LVM's CRC: reflected CRC-32 from 0xf597a6cf without the final
 * inversion; vu_crc32 inverts on entry and exit. */
static uint32_t lvm_crc(const void *buf, size_t len)
{
	return ~vu_crc32(~LVM_CRC_INIT, buf, len);
}

static int probe_lvm2(struct vu_blk *vol, const struct head *h,
		      struct vu_probe *out)
{
	for (unsigned i = 0; i < LVM_LABEL_SECTORS; i++) {
		const uint8_t *s = h->b + (size_t)i * LVM_SECTOR;
		uint32_t off;
		char raw[LVM_ID_LEN + 7];
		size_t j, k = 0;

		if (!head_has(h, (size_t)i * LVM_SECTOR, LVM_SECTOR))
			break;
		if (memcmp(s, LVM_LABEL_ID, 8) != 0)
			continue;
		/* the first LABELONE decides, as in libblkid */
		if (memcmp(s + LVM_TYPE_OFF, LVM_TYPE, 8) != 0 ||
		    vu_le64(s + LVM_SECTOR_XL_OFF) != i)
			return 0;
		if (lvm_crc(s + LVM_OFFSET_XL_OFF,
			    LVM_SECTOR - LVM_OFFSET_XL_OFF) !=
		    vu_le32(s + LVM_CRC_XL_OFF)) {
			vu_log(VU_LOG_DEBUG, "%s: LVM2 label CRC mismatch",
			       vol->desc);
			return 0;
		}
		off = vu_le32(s + LVM_OFFSET_XL_OFF);
		if (off > LVM_SECTOR || LVM_ID_LEN > LVM_SECTOR - off)
			return 0;
		/* 6-4-4-4-4-4-6, as lvm and blkid print it */
		for (j = 0; j < LVM_ID_LEN; j++) {
			raw[k++] = (char)s[off + j];
			if (j == 5 || j == 9 || j == 13 || j == 17 ||
			    j == 21 || j == 25)
				raw[k++] = '-';
		}
		out->kind = VU_KIND_LVM2;
		set_str(out->uuid, sizeof(out->uuid), (const uint8_t *)raw, k);
		return 1;
	}
	return 0;
}

/* ---- NTFS ---- */

/* Apply the update sequence array to one MFT record: 0, or -EUCLEAN when
 * the record is damaged. */
static int ntfs_fixup(uint8_t *rec, uint32_t size)
{
	uint32_t usa_ofs = vu_le16(rec + MFT_USA_OFS_OFF);
	uint32_t usa_count = vu_le16(rec + MFT_USA_COUNT_OFF);
	uint32_t i;

	if (size % NTFS_FIXUP_STRIDE || usa_count != size / NTFS_FIXUP_STRIDE + 1 ||
	    usa_ofs < MFT_USA_COUNT_OFF + 2 || usa_ofs % 2 ||
	    usa_ofs > size || usa_count * 2 > size - usa_ofs)
		return -EUCLEAN;
	for (i = 1; i < usa_count; i++) {
		uint8_t *end = rec + i * NTFS_FIXUP_STRIDE - 2;

		if (memcmp(end, rec + usa_ofs, 2) != 0)
			return -EUCLEAN;
		memcpy(end, rec + usa_ofs + 2 * i, 2);
	}
	return 0;
}

/* The label from $Volume's $VOLUME_NAME.  Damage anywhere leaves the label
 * empty; only a failed read is an error. */
static int ntfs_label(struct vu_blk *vol, uint64_t mft_off, uint32_t recsize,
		      struct vu_probe *out)
{
	uint8_t *rec;
	uint64_t off;
	uint32_t aoff, used;
	int r;

	if (recsize < NTFS_FIXUP_STRIDE || recsize > NTFS_MAX_RECORD ||
	    !vu_is_pow2(recsize) ||
	    mft_off > UINT64_MAX - (uint64_t)NTFS_MFT_VOLUME * recsize)
		return 0;
	off = mft_off + (uint64_t)NTFS_MFT_VOLUME * recsize;
	rec = malloc(recsize);
	if (!rec)
		return vu_fail(-ENOMEM, "probe: out of memory");
	r = read_opt(vol, rec, recsize, off);
	if (r <= 0)
		goto out;
	r = 0;
	if (memcmp(rec, MFT_MAGIC, 4) != 0 || ntfs_fixup(rec, recsize) < 0) {
		vu_log(VU_LOG_DEBUG, "%s: ntfs: MFT record 3 at %" PRIu64
		       " is damaged", vol->desc, off);
		goto out;
	}
	used = vu_le32(rec + MFT_BYTES_USED_OFF);
	if (used > recsize)
		used = recsize;
	aoff = vu_le16(rec + MFT_ATTRS_OFF);
	while (aoff <= used && ATTR_RESIDENT_HDR <= used - aoff) {
		const uint8_t *a = rec + aoff;
		uint32_t type = vu_le32(a + ATTR_TYPE_OFF);
		uint32_t alen = vu_le32(a + ATTR_LEN_OFF);

		if (type == ATTR_END || alen < ATTR_RESIDENT_HDR ||
		    alen > used - aoff)
			break;
		if (type == ATTR_VOLUME_NAME) {
			uint32_t vlen = vu_le32(a + ATTR_VALUE_LEN_OFF);
			uint32_t voff = vu_le16(a + ATTR_VALUE_OFS_OFF);

			if (a[ATTR_NONRES_OFF] == 0 && voff <= alen &&
			    vlen <= alen - voff)
				/* lone surrogates kept, as libblkid does */
				vu_utf16_to_utf8(a + voff, vlen / 2,
						 VU_UTF16_KEEP_LONE, out->label,
						 sizeof(out->label));
			break;
		}
		aoff += alen;
	}
out:
	free(rec);
	return r;
}

static int probe_ntfs(struct vu_blk *vol, const struct head *h,
		      struct vu_probe *out)
{
	const uint8_t *b = h->b;
	uint32_t bps, spc, cluster, recsize;
	uint64_t clusters, mft_lcn;
	int8_t cpr;
	int r;

	if (!head_has(h, 0, 512) || memcmp(b + 3, NTFS_OEM, 8) != 0)
		return 0;
	/* the BIOS parameter block checks libblkid makes */
	bps = vu_le16(b + NTFS_BPS_OFF);
	spc = b[NTFS_SPC_OFF];
	if (bps < 256 || bps > 4096)
		return 0;
	if (!vu_is_pow2(spc) || spc > 128) {
		if (spc < 240 || spc > 249)
			return 0;
		spc = 1u << (256 - spc);
	}
	cluster = bps * spc;
	if (cluster > NTFS_MAX_CLUSTER)
		return 0;
	if (vu_le16(b + NTFS_RESERVED_OFF) || vu_le16(b + NTFS_ROOT_ENTRIES_OFF) ||
	    vu_le16(b + NTFS_SECTORS16_OFF) || vu_le16(b + NTFS_FAT_LENGTH_OFF) ||
	    vu_le32(b + NTFS_SECTORS32_OFF) || b[NTFS_FATS_OFF])
		return 0;
	cpr = (int8_t)b[NTFS_MFT_RECSIZE_OFF];
	if (cpr > 0) {
		if (!vu_is_pow2((uint64_t)cpr) || cpr > 64)
			return 0;
		recsize = (uint32_t)cpr * cluster;	/* <= 128 MiB */
	} else {
		if (cpr < -31 || cpr > -9)
			return 0;
		recsize = 1u << -cpr;
	}
	clusters = vu_le64(b + NTFS_TOTAL_SECTORS_OFF) / spc;
	mft_lcn = vu_le64(b + NTFS_MFT_LCN_OFF);
	if (mft_lcn > clusters || vu_le64(b + NTFS_MFTMIRR_LCN_OFF) > clusters)
		return 0;

	out->kind = VU_KIND_NTFS;
	snprintf(out->uuid, sizeof(out->uuid), "%016" PRIX64,
		 vu_le64(b + NTFS_SERIAL_OFF));
	if (mft_lcn <= UINT64_MAX / cluster) {
		r = ntfs_label(vol, mft_lcn * cluster, recsize, out);
		if (r < 0)
			return r;
	}
	return 1;
}

/* ---- ext2/3/4 ---- */

static int probe_ext(struct vu_blk *vol, const struct head *h,
		     struct vu_probe *out)
{
	const uint8_t *sb = h->b + EXT_SB_OFF;
	uint32_t compat, incompat, ro;

	if (!head_has(h, EXT_SB_OFF, EXT_SB_LEN) ||
	    vu_le16(sb + EXT_MAGIC_OFF) != EXT_MAGIC)
		return 0;
	compat = vu_le32(sb + EXT_COMPAT_OFF);
	incompat = vu_le32(sb + EXT_INCOMPAT_OFF);
	ro = vu_le32(sb + EXT_RO_COMPAT_OFF);
	/* libblkid trusts a checksummed superblock only when it matches:
	 * crc32c seeded with ~0, not inverted at the end */
	if ((ro & EXT_RO_METADATA_CSUM) &&
	    ~vu_crc32c(0, sb, EXT_CSUM_OFF) != vu_le32(sb + EXT_CSUM_OFF)) {
		vu_log(VU_LOG_DEBUG, "%s: ext superblock checksum mismatch",
		       vol->desc);
		return 0;
	}
	if (incompat & EXT_INCOMPAT_JOURNAL_DEV)
		return 0;
	if ((ro & ~EXT3_RO_SUPP) || (incompat & ~EXT3_INCOMPAT_SUPP))
		out->kind = VU_KIND_EXT4;
	else if (compat & EXT_COMPAT_HAS_JOURNAL)
		out->kind = VU_KIND_EXT3;
	else
		out->kind = VU_KIND_EXT2;
	set_str(out->label, sizeof(out->label), sb + EXT_LABEL_OFF,
		EXT_LABEL_LEN);
	set_uuid(out, sb + EXT_UUID_OFF);
	return 1;
}

/* ---- XFS ---- */

static int xfs_sb_valid(const uint8_t *sb)
{
	uint32_t blocksize = vu_be32(sb + XFS_BLOCKSIZE_OFF);
	uint32_t sectsize = vu_be16(sb + XFS_SECTSIZE_OFF);
	uint32_t inodesize = vu_be16(sb + XFS_INODESIZE_OFF);
	uint32_t blocklog = sb[XFS_BLOCKLOG_OFF];
	uint32_t sectlog = sb[XFS_SECTLOG_OFF];
	uint32_t inodelog = sb[XFS_INODELOG_OFF];
	uint64_t rext = (uint64_t)vu_be32(sb + XFS_REXTSIZE_OFF) * blocksize;

	return vu_be32(sb + XFS_AGCOUNT_OFF) != 0 &&
	       sectlog >= 9 && sectlog <= 15 && sectsize == 1u << sectlog &&
	       blocklog >= 9 && blocklog <= 16 && blocksize == 1u << blocklog &&
	       inodelog >= 8 && inodelog <= 11 &&
	       inodesize == 1u << inodelog &&
	       blocklog - inodelog == sb[XFS_INOPBLOG_OFF] &&
	       rext >= 4096 && rext <= 1024ull * 1024 * 1024 &&
	       sb[XFS_IMAX_PCT_OFF] <= 100 &&
	       vu_be64(sb + XFS_DBLOCKS_OFF) != 0;
}

static int probe_xfs(struct vu_blk *vol, const struct head *h,
		     struct vu_probe *out)
{
	const uint8_t *sb = h->b;

	if (!head_has(h, 0, XFS_SB_MIN) || memcmp(sb, XFS_MAGIC, 4) != 0 ||
	    !xfs_sb_valid(sb))
		return 0;
	if ((vu_be16(sb + XFS_VERSIONNUM_OFF) & 0x0f) == 5) {
		/* v5: crc32c of the whole sector with sb_crc zeroed */
		uint32_t sectsize = vu_be16(sb + XFS_SECTSIZE_OFF);
		static const uint8_t zero4[4];
		uint8_t *sect;
		uint32_t crc;
		int r;

		if (!(vu_be16(sb + XFS_VERSIONNUM_OFF) & XFS_VERSION_MOREBITS) ||
		    !(vu_be32(sb + XFS_FEATURES2_OFF) & XFS_VERSION2_CRC))
			return 0;
		sect = malloc(sectsize);
		if (!sect)
			return vu_fail(-ENOMEM, "probe: out of memory");
		r = read_opt(vol, sect, sectsize, 0);
		if (r <= 0) {
			free(sect);
			return r;
		}
		crc = vu_crc32c(0, sect, XFS_CRC_OFF);
		crc = vu_crc32c(crc, zero4, 4);
		crc = vu_crc32c(crc, sect + XFS_CRC_OFF + 4,
				sectsize - XFS_CRC_OFF - 4);
		r = crc == vu_le32(sect + XFS_CRC_OFF);
		free(sect);
		if (!r) {
			vu_log(VU_LOG_DEBUG, "%s: xfs superblock CRC mismatch",
			       vol->desc);
			return 0;
		}
	}
	out->kind = VU_KIND_XFS;
	set_str(out->label, sizeof(out->label), sb + XFS_LABEL_OFF,
		XFS_LABEL_LEN);
	set_uuid(out, sb + XFS_UUID_OFF);
	return 1;
}

/* ---- swap ---- */

static int probe_swap(struct vu_blk *vol, const struct head *h,
		      struct vu_probe *out)
{
	static const uint32_t pages[] = { 4096, 8192, 16384, 32768, 65536 };
	const uint8_t *hdr = h->b + SWAP_HDR_OFF;
	uint8_t magic[SWAP_MAGIC_LEN];
	uint32_t version;

	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		uint32_t at = pages[i] - SWAP_MAGIC_LEN;
		int r;

		if (head_has(h, at, SWAP_MAGIC_LEN)) {
			memcpy(magic, h->b + at, SWAP_MAGIC_LEN);
		} else {
			r = read_opt(vol, magic, SWAP_MAGIC_LEN, at);
			if (r < 0)
				return r;
			if (r == 0)
				return 0;
		}
		if (memcmp(magic, SWAP_MAGIC1, SWAP_MAGIC_LEN) == 0) {
			out->kind = VU_KIND_SWAP;	/* v0: no label, no UUID */
			return 1;
		}
		if (memcmp(magic, SWAP_MAGIC2, SWAP_MAGIC_LEN) != 0)
			continue;
		if (!head_has(h, SWAP_HDR_OFF, SWAP_HDR_LEN))
			return 0;
		version = vu_le32(hdr + SWAP_VERSION_OFF);
		if ((version != 1 && version != 0x01000000) ||
		    vu_le32(hdr + SWAP_LASTPAGE_OFF) == 0)
			return 0;
		out->kind = VU_KIND_SWAP;
		/* libblkid's guard against garbage in the header */
		if (is_zero(hdr + SWAP_PAD32_OFF, 8)) {
			set_str(out->label, sizeof(out->label),
				hdr + SWAP_LABEL_OFF, SWAP_LABEL_LEN);
			set_uuid(out, hdr + SWAP_UUID_OFF);
		}
		return 1;
	}
	return 0;
}

/* ---- FAT ---- */

struct fat_geo {
	uint32_t sector_size, cluster_size, reserved, fat_size, clusters;
};

/* libblkid's fat_valid_superblock, its 32-bit arithmetic included. */
static int fat_valid(const uint8_t *b, struct fat_geo *g)
{
	uint32_t dir_entries, sectors, fat_length, dir_size, max_count;
	uint8_t fats = b[FAT_FATS_OFF], media = b[FAT_MEDIA_OFF];
	int weak = 1;

	if (memcmp(b + FAT32_MAGIC_OFF, "MSWIN", 5) == 0 ||
	    memcmp(b + FAT32_MAGIC_OFF, "FAT32   ", 8) == 0 ||
	    memcmp(b + FAT16_MAGIC_OFF, "MSDOS", 5) == 0 ||
	    memcmp(b + FAT16_MAGIC_OFF, "FAT16   ", 8) == 0 ||
	    memcmp(b + FAT16_MAGIC_OFF, "FAT12   ", 8) == 0 ||
	    memcmp(b + FAT16_MAGIC_OFF, "FAT     ", 8) == 0)
		weak = 0;
	else if (b[0] != 0xeb && b[0] != 0xe9 &&
		 (b[FAT_BOOT_SIG_OFF] != 0x55 || b[FAT_BOOT_SIG_OFF + 1] != 0xaa))
		return 0;
	if (weak) {
		/* only a jump byte or the boot signature: old floppies have
		 * both; OS/2 puts FAT-like headers on JFS and HPFS */
		if (b[FAT_BOOT_SIG_OFF] != 0x55 || b[FAT_BOOT_SIG_OFF + 1] != 0xaa)
			return 0;
		if (memcmp(b + FAT16_MAGIC_OFF, "JFS     ", 8) == 0 ||
		    memcmp(b + FAT16_MAGIC_OFF, "HPFS    ", 8) == 0)
			return 0;
	}
	if (!fats || !vu_le16(b + FAT_RESERVED_OFF) ||
	    !(media >= 0xf8 || media == 0xf0) ||
	    !vu_is_pow2(b[FAT_CLUSTER_SIZE_OFF]))
		return 0;
	g->sector_size = vu_le16(b + FAT_SECTOR_SIZE_OFF);
	if (!vu_is_pow2(g->sector_size) || g->sector_size < 512 ||
	    g->sector_size > 4096)
		return 0;
	g->cluster_size = b[FAT_CLUSTER_SIZE_OFF];
	g->reserved = vu_le16(b + FAT_RESERVED_OFF);
	dir_entries = vu_le16(b + FAT_DIR_ENTRIES_OFF);
	sectors = vu_le16(b + FAT_SECTORS_OFF);
	if (!sectors)
		sectors = vu_le32(b + FAT_TOTAL_SECT_OFF);
	fat_length = vu_le16(b + FAT_FAT_LENGTH_OFF);
	if (!fat_length)
		fat_length = vu_le32(b + FAT32_LENGTH_OFF);
	g->fat_size = fat_length * fats;
	dir_size = (dir_entries * FAT_DIRENT + g->sector_size - 1) /
		   g->sector_size;
	g->clusters = (sectors - (g->reserved + g->fat_size + dir_size)) /
		      g->cluster_size;
	if (!vu_le16(b + FAT_FAT_LENGTH_OFF) && vu_le32(b + FAT32_LENGTH_OFF))
		max_count = FAT32_MAX;
	else
		max_count = g->clusters > FAT12_MAX ? FAT16_MAX : FAT12_MAX;
	return g->clusters <= max_count;
}

/* Look for the volume label entry among n directory entries at off:
 * 1 found (label set), 0 not, negative errno. */
static int fat_dir_label(struct vu_blk *vol, uint64_t off, uint64_t n,
			 struct vu_probe *out)
{
	uint8_t buf[4096];
	uint64_t i = 0;
	int r;

	/* libblkid reads the whole directory area or nothing */
	if (off > vol->size || n * FAT_DIRENT > vol->size - off)
		return 0;
	while (i < n) {
		uint64_t chunk = n - i;

		if (chunk > sizeof(buf) / FAT_DIRENT)
			chunk = sizeof(buf) / FAT_DIRENT;
		r = vu_blk_read(vol, buf, (size_t)chunk * FAT_DIRENT,
				off + i * FAT_DIRENT);
		if (r < 0)
			return r;
		for (uint64_t k = 0; k < chunk; k++) {
			uint8_t *e = buf + k * FAT_DIRENT;
			uint8_t attr = e[FAT_DIRENT_ATTR];

			if (e[0] == 0)
				return 0;
			if (e[0] == FAT_ENTRY_FREE ||
			    vu_le16(e + FAT_DIRENT_CLUSTER_HI) ||
			    vu_le16(e + FAT_DIRENT_CLUSTER_LO) ||
			    (attr & FAT_ATTR_MASK) == FAT_ATTR_LONG_NAME)
				continue;
			if ((attr & (FAT_ATTR_VOLUME_ID | FAT_ATTR_DIR)) ==
			    FAT_ATTR_VOLUME_ID) {
				if (e[0] == 0x05)
					e[0] = FAT_ENTRY_FREE;
				set_str(out->label, sizeof(out->label), e,
					FAT_LABEL_LEN);
				return 1;
			}
		}
		i += chunk;
	}
	return 0;
}

static void fat_serial(struct vu_probe *out, const uint8_t *s)
{
	snprintf(out->uuid, sizeof(out->uuid), "%02X%02X-%02X%02X", s[3],
		 s[2], s[1], s[0]);
}

static int probe_fat(struct vu_blk *vol, const struct head *h,
		     struct vu_probe *out)
{
	const uint8_t *b = h->b;
	struct fat_geo g;
	int r = 0;

	if (!head_has(h, 0, 512) || !fat_valid(b, &g))
		return 0;
	if (vu_le16(b + FAT_FAT_LENGTH_OFF)) {
		uint32_t root = (g.reserved + g.fat_size) * g.sector_size;
		uint8_t sig = b[FAT16_EXT_SIG_OFF];

		r = fat_dir_label(vol, root, vu_le16(b + FAT_DIR_ENTRIES_OFF),
				  out);
		if (r < 0)
			return r;
		if (sig == 0x28 || sig == 0x29)
			fat_serial(out, b + FAT16_SERIAL_OFF);
		if (g.clusters < FAT12_MAX)
			set_detail(out, "FAT12");
		else if (g.clusters < FAT16_MAX)
			set_detail(out, "FAT16");
	} else if (vu_le32(b + FAT32_LENGTH_OFF)) {
		uint32_t csize = g.cluster_size * g.sector_size;
		uint32_t data = g.reserved + g.fat_size;
		uint32_t entries = (uint32_t)((uint64_t)vu_le32(b + FAT32_LENGTH_OFF) *
					      g.sector_size / 4);
		uint32_t next = vu_le32(b + FAT32_ROOT_CLUSTER_OFF);
		uint32_t fsinfo = vu_le16(b + FAT32_FSINFO_OFF);
		int loops = FAT32_MAX_CHAIN;

		/* the root directory's cluster chain, a bounded walk */
		while (next && next < entries && --loops) {
			uint64_t off = (uint64_t)(data + (next - 2) * g.cluster_size) *
				       g.sector_size;
			uint64_t fatent = (uint64_t)g.reserved * g.sector_size +
					  (uint64_t)next * 4;
			uint8_t e[4];

			r = fat_dir_label(vol, off, csize / FAT_DIRENT, out);
			if (r < 0)
				return r;
			if (r > 0)
				break;
			/* libblkid reads a cluster's worth at the entry */
			if (fatent > vol->size || csize > vol->size - fatent)
				break;
			r = vu_blk_read(vol, e, sizeof(e), fatent);
			if (r < 0)
				return r;
			next = vu_le32(e) & 0x0fffffff;
		}
		set_detail(out, "FAT32");
		fat_serial(out, b + FAT32_SERIAL_OFF);
		if (fsinfo) {
			uint8_t fi[512];

			r = read_opt(vol, fi, sizeof(fi),
				     (uint64_t)fsinfo * g.sector_size);
			if (r <= 0)
				goto not_fat;
			if ((memcmp(fi + FSINFO_SIG1_OFF, "RRaA", 4) != 0 &&
			     memcmp(fi + FSINFO_SIG1_OFF, "RRdA", 4) != 0 &&
			     !is_zero(fi + FSINFO_SIG1_OFF, 4)) ||
			    (memcmp(fi + FSINFO_SIG2_OFF, "rrAa", 4) != 0 &&
			     !is_zero(fi + FSINFO_SIG2_OFF, 4)))
				goto not_fat;
		}
	}
	out->kind = VU_KIND_FAT;
	return 1;
not_fat:
	if (r < 0)
		return r;
	memset(out, 0, sizeof(*out));
	return 0;
}

/* ---- the table ---- */

static const struct prober {
	const char *name;
	int (*probe)(struct vu_blk *vol, const struct head *h,
		     struct vu_probe *out);
} probers[] = {
	{ "luks", probe_luks },
	{ "bitlocker", probe_bitlocker },
	{ "lvm2", probe_lvm2 },
	{ "ntfs", probe_ntfs },
	{ "xfs", probe_xfs },
	{ "ext", probe_ext },
	{ "swap", probe_swap },
	{ "fat", probe_fat },
	{ "luks2-secondary", probe_luks2_secondary },
};

int vu_probe(struct vu_blk *vol, struct vu_probe *out)
{
	struct head *h;
	int r = 0;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!vol || !out)
		return vu_fail(-EINVAL, "probe: no volume or result");
	h = malloc(sizeof(*h));
	if (!h)
		return vu_fail(-ENOMEM, "probe: out of memory");
	h->len = vol->size < HEAD_MAX ? (size_t)vol->size : HEAD_MAX;
	r = vu_blk_read(vol, h->b, h->len, 0);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < sizeof(probers) / sizeof(probers[0]); i++) {
		r = probers[i].probe(vol, h, out);
		if (r < 0) {
			memset(out, 0, sizeof(*out));
			goto out;
		}
		if (r > 0) {
			vu_log(VU_LOG_DEBUG, "%s: %s label='%s' uuid=%s %s",
			       vol->desc, vu_kind_name(out->kind), out->label,
			       out->uuid, out->detail);
			r = 0;
			goto out;
		}
		/* a prober that gave up leaves nothing behind */
		memset(out, 0, sizeof(*out));
	}
	out->kind = VU_KIND_UNKNOWN;
out:
	free(h);
	return r;
}

const char *vu_kind_name(enum vu_kind kind)
{
	static const char *const names[] = {
		[VU_KIND_UNKNOWN] = "unknown",
		[VU_KIND_BITLOCKER] = "bitlocker",
		[VU_KIND_LUKS1] = "luks1",
		[VU_KIND_LUKS2] = "luks2",
		[VU_KIND_LVM2] = "lvm2",
		[VU_KIND_NTFS] = "ntfs",
		[VU_KIND_EXT2] = "ext2",
		[VU_KIND_EXT3] = "ext3",
		[VU_KIND_EXT4] = "ext4",
		[VU_KIND_XFS] = "xfs",
		[VU_KIND_FAT] = "fat",
		[VU_KIND_SWAP] = "swap",
	};

	if ((unsigned)kind >= sizeof(names) / sizeof(names[0]) || !names[kind])
		return "unknown";
	return names[kind];
}
