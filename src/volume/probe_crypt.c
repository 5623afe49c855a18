/* The volume probe's formats that hold another volume: LUKS1 and LUKS2
 * (also by a LUKS2 secondary header), BitLocker and BitLocker To Go, and
 * LVM2 physical volumes.  The layouts are the modules' own
 * (luks/luks_format.h, bitlocker/bde_format.h, lvm/lvm_format.h); what is
 * checked, and how the values are spelt, is libblkid's. */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "bitlocker/bde_format.h"
#include "core/bytes.h"
#include "core/crc.h"
#include "core/log.h"
#include "luks/luks_format.h"
#include "lvm/lvm_format.h"
#include "volume/probe_int.h"

/* The probe reads the LUKS binary header through the LUKS2 hdr_offset. */
#define LUKS_PROBE_LEN		(LUKS2_HDR_OFFSET + 8)

/* Where the BitLocker volume header keeps its OEM identifier and, in a To
 * Go header, the identifier GUID. */
#define BDE_SIG_OFF		offsetof(struct bde_vh_common, signature)
#define BDE_GUID_OFF_TOGO	offsetof(struct bde_vh_togo, identifier)

/* ---- LUKS ---- */

/* One LUKS binary header at off (0 for the primary): 1 recognised. */
static int luks_header(const uint8_t *b, uint64_t off, struct vu_probe *out)
{
	uint16_t version = vu_be16(b + LUKS_VERSION);

	if (version == 1 && off == 0) {
		out->kind = VU_KIND_LUKS1;
	} else if (version == 2) {
		/* a LUKS2 header names its own offset */
		if (vu_be64(b + LUKS2_HDR_OFFSET) != off)
			return 0;
		out->kind = VU_KIND_LUKS2;
		probe_set_str(out->label, sizeof(out->label), b + LUKS2_LABEL,
			      LUKS2_LABEL_LEN);
	} else {
		return 0;
	}
	probe_set_str(out->uuid, sizeof(out->uuid), b + LUKS_UUID,
		      LUKS_UUID_LEN);
	return 1;
}

int probe_luks(struct vu_blk *vol, const struct head *h,
	       struct vu_probe *out)
{
	if (!head_has(h, 0, LUKS_PROBE_LEN) ||
	    memcmp(h->b, LUKS_MAGIC, LUKS_MAGIC_LEN) != 0)
		return 0;
	if (luks_header(h->b, 0, out))
		return 1;
	vu_log(VU_LOG_DEBUG, "%s: LUKS magic with version %u", vol->desc,
	       vu_be16(h->b + LUKS_VERSION));
	return 0;
}

/* A LUKS2 volume whose primary header is gone still has its secondary
 * (libblkid looks there too).  Tried last, so that volumes recognised
 * otherwise cost no extra reads. */
int probe_luks2_secondary(struct vu_blk *vol, const struct head *h,
			  struct vu_probe *out)
{
	uint8_t b[LUKS_PROBE_LEN];

	for (uint64_t off = LUKS2_HDR_SIZE_MIN; off <= LUKS2_HDR_SIZE_MAX;
	     off <<= 1) {
		int r;

		if (head_has(h, off, sizeof(b))) {
			memcpy(b, h->b + off, sizeof(b));
		} else {
			r = probe_read_opt(vol, b, sizeof(b), off);
			if (r <= 0)
				return r;
		}
		if (memcmp(b, LUKS2_MAGIC2, LUKS_MAGIC_LEN) == 0 &&
		    vu_be16(b + LUKS_VERSION) == 2 &&
		    luks_header(b, off, out)) {
			vu_log(VU_LOG_INFO, "%s: LUKS2 primary header missing, "
			       "secondary found at %" PRIu64, vol->desc, off);
			return 1;
		}
	}
	return 0;
}

/* ---- BitLocker ---- */

int probe_bitlocker(struct vu_blk *vol, const struct head *h,
		    struct vu_probe *out)
{
	const uint8_t *b = h->b;

	/* every header variant is one 512-byte sector */
	if (!head_has(h, 0, sizeof(struct bde_vh_win7)))
		return 0;
	if (memcmp(b + BDE_SIG_OFF, BDE_SIGNATURE, BDE_SIGNATURE_LEN) == 0) {
		/* Vista, or Windows 7 and later (which also carry the
		 * identifier GUID at 160; libblkid does not insist on it) */
		if (memcmp(b, BDE_BOOT_VISTA, BDE_BOOT_LEN) != 0 &&
		    memcmp(b, BDE_BOOT_WIN7, BDE_BOOT_LEN) != 0)
			return 0;
		out->kind = VU_KIND_BITLOCKER;
		return 1;
	}
	if (memcmp(b + BDE_SIG_OFF, BDE_SIGNATURE_TOGO,
		   BDE_SIGNATURE_LEN) == 0 &&
	    memcmp(b, BDE_BOOT_WIN7, BDE_BOOT_LEN) == 0 &&
	    memcmp(b + BDE_GUID_OFF_TOGO, BDE_GUID_NORMAL, BDE_GUID_LEN) == 0) {
		out->kind = VU_KIND_BITLOCKER;
		probe_set_detail(out, "BitLocker To Go");
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

int probe_lvm2(struct vu_blk *vol, const struct head *h,
	       struct vu_probe *out)
{
	for (unsigned i = 0; i < LVM_LABEL_SCAN_SECTORS; i++) {
		const uint8_t *s = h->b + (size_t)i * LVM_SECTOR;
		uint32_t off;
		char raw[LVM_ID_LEN + 7];
		size_t j, k = 0;

		if (!head_has(h, (size_t)i * LVM_SECTOR, LVM_SECTOR))
			break;
		if (memcmp(s, LVM_LABEL_ID, 8) != 0)
			continue;
		/* the first LABELONE decides, as in libblkid */
		if (memcmp(s + LVM_LH_TYPE, LVM_LABEL_TYPE, 8) != 0 ||
		    vu_le64(s + LVM_LH_SECTOR) != i)
			return 0;
		if (lvm_crc(s + LVM_LH_OFFSET, LVM_SECTOR - LVM_LH_OFFSET) !=
		    vu_le32(s + LVM_LH_CRC)) {
			vu_log(VU_LOG_DEBUG, "%s: LVM2 label CRC mismatch",
			       vol->desc);
			return 0;
		}
		off = vu_le32(s + LVM_LH_OFFSET);
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
		probe_set_str(out->uuid, sizeof(out->uuid),
			      (const uint8_t *)raw, k);
		return 1;
	}
	return 0;
}
