/* The volume probe's file systems: NTFS (with its label from $Volume),
 * ext2/3/4, XFS, and Linux swap.  The layouts are the file system
 * modules' (fs/ntfs_format.h, fs/ext_format.h, fs/xfs_format.h; these
 * headers hold constants only, so volume/ still depends on no fs/ code)
 * and swap_format.h; what is checked, and how the values are spelt, is
 * libblkid's. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/crc.h"
#include "core/error.h"
#include "core/log.h"
#include "core/usa.h"
#include "core/utf16.h"
#include "fs/ext_format.h"
#include "fs/ntfs_format.h"
#include "fs/xfs_format.h"
#include "volume/probe_int.h"
#include "volume/swap_format.h"

/* libblkid's limit on an NTFS cluster */
#define NTFS_PROBE_MAX_CLUSTER	(2u * 1024 * 1024)
/* What the probe needs of the XFS superblock in the head: through sb_crc. */
#define XFS_PROBE_LEN		232

/* What ext3 understands; anything else makes it ext4 (as libblkid says). */
#define EXT3_INCOMPAT_SUPP	(EXT_INCOMPAT_FILETYPE | \
				 EXT_INCOMPAT_RECOVER | EXT_INCOMPAT_META_BG)
#define EXT3_RO_SUPP		(EXT_RO_SPARSE_SUPER | EXT_RO_LARGE_FILE | \
				 EXT_RO_BTREE_DIR)

/* ---- NTFS ---- */

/* The label from $Volume's $VOLUME_NAME.  Damage anywhere leaves the label
 * empty; only a failed read is an error. */
static int ntfs_label(struct vu_blk *vol, uint64_t mft_off, uint32_t recsize,
		      struct vu_probe *out)
{
	uint8_t *rec;
	uint64_t off;
	uint32_t aoff, used;
	int r;

	if (recsize < VU_USA_STRIDE || recsize > MFT_RECORD_MAX ||
	    !vu_is_pow2(recsize) ||
	    mft_off > UINT64_MAX - (uint64_t)MFT_REC_VOLUME * recsize)
		return 0;
	off = mft_off + (uint64_t)MFT_REC_VOLUME * recsize;
	rec = malloc(recsize);
	if (!rec)
		return vu_fail(-ENOMEM, "probe: out of memory");
	r = probe_read_opt(vol, rec, recsize, off);
	if (r <= 0)
		goto out;
	r = 0;
	if (memcmp(rec, MFT_MAGIC, 4) != 0 || vu_usa_fixup(rec, recsize) < 0) {
		vu_log(VU_LOG_DEBUG, "%s: ntfs: MFT record 3 at %" PRIu64
		       " is damaged", vol->desc, off);
		goto out;
	}
	used = vu_le32(rec + MFT_USED);
	if (used > recsize)
		used = recsize;
	aoff = vu_le16(rec + MFT_ATTRS);
	while (aoff <= used && ATTR_RES_HDR <= used - aoff) {
		const uint8_t *a = rec + aoff;
		uint32_t type = vu_le32(a + ATTR_TYPE);
		uint32_t alen = vu_le32(a + ATTR_LEN);

		if (type == AT_END || alen < ATTR_RES_HDR ||
		    alen > used - aoff)
			break;
		if (type == AT_VOLUME_NAME) {
			uint32_t vlen = vu_le32(a + ATTR_VALUE_LEN);
			uint32_t voff = vu_le16(a + ATTR_VALUE_OFS);

			if (a[ATTR_NONRES] == 0 && voff <= alen &&
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

int probe_ntfs(struct vu_blk *vol, const struct head *h,
	       struct vu_probe *out)
{
	const uint8_t *b = h->b;
	uint32_t bps, spc, cluster, recsize;
	uint64_t clusters, mft_lcn;
	int8_t cpr;
	int r;

	if (!head_has(h, 0, NTFS_BOOT_SIZE) ||
	    memcmp(b + NTFS_BOOT_OEM, NTFS_OEM_ID, NTFS_OEM_ID_LEN) != 0)
		return 0;
	/* the BIOS parameter block checks libblkid makes */
	bps = vu_le16(b + NTFS_BOOT_BPS);
	spc = b[NTFS_BOOT_SPC];
	if (bps < 256 || bps > 4096)
		return 0;
	if (!vu_is_pow2(spc) || spc > 128) {
		if (spc < 240 || spc > 249)
			return 0;
		spc = 1u << (256 - spc);
	}
	cluster = bps * spc;
	if (cluster > NTFS_PROBE_MAX_CLUSTER)
		return 0;
	if (vu_le16(b + NTFS_BOOT_RESERVED) ||
	    vu_le16(b + NTFS_BOOT_ROOT_ENTRIES) ||
	    vu_le16(b + NTFS_BOOT_SECTORS16) ||
	    vu_le16(b + NTFS_BOOT_FAT_LENGTH) ||
	    vu_le32(b + NTFS_BOOT_SECTORS32) || b[NTFS_BOOT_FATS])
		return 0;
	cpr = (int8_t)b[NTFS_BOOT_MFT_RECSIZE];
	if (cpr > 0) {
		if (!vu_is_pow2((uint64_t)cpr) || cpr > 64)
			return 0;
		recsize = (uint32_t)cpr * cluster;	/* <= 128 MiB */
	} else {
		if (cpr < -31 || cpr > -9)
			return 0;
		recsize = 1u << -cpr;
	}
	clusters = vu_le64(b + NTFS_BOOT_TOTAL_SECTORS) / spc;
	mft_lcn = vu_le64(b + NTFS_BOOT_MFT_LCN);
	if (mft_lcn > clusters || vu_le64(b + NTFS_BOOT_MFTMIRR_LCN) > clusters)
		return 0;

	out->kind = VU_KIND_NTFS;
	snprintf(out->uuid, sizeof(out->uuid), "%016" PRIX64,
		 vu_le64(b + NTFS_BOOT_SERIAL));
	if (mft_lcn <= UINT64_MAX / cluster) {
		r = ntfs_label(vol, mft_lcn * cluster, recsize, out);
		if (r < 0)
			return r;
	}
	return 1;
}

/* ---- ext2/3/4 ---- */

int probe_ext(struct vu_blk *vol, const struct head *h,
	      struct vu_probe *out)
{
	const uint8_t *sb = h->b + EXT_SB_OFF;
	uint32_t compat, incompat, ro;

	if (!head_has(h, EXT_SB_OFF, EXT_SB_LEN) ||
	    vu_le16(sb + EXT_SB_MAGIC_OFF) != EXT_SB_MAGIC)
		return 0;
	compat = vu_le32(sb + EXT_SB_COMPAT);
	incompat = vu_le32(sb + EXT_SB_INCOMPAT);
	ro = vu_le32(sb + EXT_SB_RO_COMPAT);
	/* libblkid trusts a checksummed superblock only when it matches:
	 * crc32c seeded with ~0, not inverted at the end */
	if ((ro & EXT_RO_METADATA_CSUM) &&
	    ~vu_crc32c(0, sb, EXT_SB_CSUM) != vu_le32(sb + EXT_SB_CSUM)) {
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
	probe_set_str(out->label, sizeof(out->label), sb + EXT_SB_LABEL,
		      EXT_SB_LABEL_LEN);
	probe_set_uuid(out, sb + EXT_SB_UUID);
	return 1;
}

/* ---- XFS ---- */

static int xfs_sb_valid(const uint8_t *sb)
{
	uint32_t blocksize = vu_be32(sb + XFS_SB_BLOCKSIZE);
	uint32_t sectsize = vu_be16(sb + XFS_SB_SECTSIZE);
	uint32_t inodesize = vu_be16(sb + XFS_SB_INODESIZE);
	uint32_t blocklog = sb[XFS_SB_BLOCKLOG];
	uint32_t sectlog = sb[XFS_SB_SECTLOG];
	uint32_t inodelog = sb[XFS_SB_INODELOG];
	uint64_t rext = (uint64_t)vu_be32(sb + XFS_SB_REXTSIZE) * blocksize;

	return vu_be32(sb + XFS_SB_AGCOUNT) != 0 &&
	       sectlog >= 9 && sectlog <= 15 && sectsize == 1u << sectlog &&
	       blocklog >= 9 && blocklog <= 16 && blocksize == 1u << blocklog &&
	       inodelog >= 8 && inodelog <= 11 &&
	       inodesize == 1u << inodelog &&
	       blocklog - inodelog == sb[XFS_SB_INOPBLOG] &&
	       rext >= 4096 && rext <= 1024ull * 1024 * 1024 &&
	       sb[XFS_SB_IMAX_PCT] <= 100 &&
	       vu_be64(sb + XFS_SB_DBLOCKS) != 0;
}

int probe_xfs(struct vu_blk *vol, const struct head *h,
	      struct vu_probe *out)
{
	const uint8_t *sb = h->b;

	if (!head_has(h, 0, XFS_PROBE_LEN) || vu_be32(sb) != XFS_SB_MAGIC ||
	    !xfs_sb_valid(sb))
		return 0;
	if ((vu_be16(sb + XFS_SB_VERSIONNUM) & XFS_SB_VERSION_NUMBITS) ==
	    XFS_SB_VERSION_5) {
		/* v5: crc32c of the whole sector with sb_crc zeroed */
		uint32_t sectsize = vu_be16(sb + XFS_SB_SECTSIZE);
		static const uint8_t zero4[4];
		uint8_t *sect;
		uint32_t crc;
		int r;

		if (!(vu_be16(sb + XFS_SB_VERSIONNUM) &
		      XFS_SB_VERSION_MOREBITS) ||
		    !(vu_be32(sb + XFS_SB_FEATURES2) & XFS_SB_VERSION2_CRC))
			return 0;
		sect = malloc(sectsize);
		if (!sect)
			return vu_fail(-ENOMEM, "probe: out of memory");
		r = probe_read_opt(vol, sect, sectsize, 0);
		if (r <= 0) {
			free(sect);
			return r;
		}
		crc = vu_crc32c(0, sect, XFS_SB_CRC);
		crc = vu_crc32c(crc, zero4, 4);
		crc = vu_crc32c(crc, sect + XFS_SB_CRC + 4,
				sectsize - XFS_SB_CRC - 4);
		r = crc == vu_le32(sect + XFS_SB_CRC);
		free(sect);
		if (!r) {
			vu_log(VU_LOG_DEBUG, "%s: xfs superblock CRC mismatch",
			       vol->desc);
			return 0;
		}
	}
	out->kind = VU_KIND_XFS;
	probe_set_str(out->label, sizeof(out->label), sb + XFS_SB_FNAME,
		      XFS_SB_FNAME_LEN);
	probe_set_uuid(out, sb + XFS_SB_UUID);
	return 1;
}

/* ---- swap ---- */

int probe_swap(struct vu_blk *vol, const struct head *h,
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
			r = probe_read_opt(vol, magic, SWAP_MAGIC_LEN, at);
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
		if (probe_is_zero(hdr + SWAP_PAD32_OFF, 8)) {
			probe_set_str(out->label, sizeof(out->label),
				      hdr + SWAP_LABEL_OFF, SWAP_LABEL_LEN);
			probe_set_uuid(out, hdr + SWAP_UUID_OFF);
		}
		return 1;
	}
	return 0;
}
