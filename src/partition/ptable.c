/* Which partition table a disk has: GPT when the MBR is protective (a type
 * 0xee entry) or "EFI PART" is at LBA 1 (a GPT disk whose protective MBR
 * was wiped), else MBR, else none.  A stale backup GPT at the end of an MBR
 * disk is ignored, as Linux does. */
#include "partition/partition.h"

#include <stdlib.h>
#include <string.h>

#include "partition/gpt_format.h"
#include "partition/mbr_format.h"

/* 1 when the sector at offset off starts with "EFI PART", 0 when not, or a
 * negative errno when the read fails. */
static int gpt_signature_at(struct vu_blk *disk, uint64_t off)
{
	uint8_t sig[GPT_SIGNATURE_LEN];
	int r;

	if (disk->size < off || disk->size - off < sizeof(sig))
		return 0;
	r = vu_blk_read(disk, sig, sizeof(sig), off);
	if (r < 0)
		return r;
	return memcmp(sig, GPT_SIGNATURE, sizeof(sig)) == 0;
}

/* 1 when LBA 0 is a protective (or hybrid) MBR. */
static int mbr_is_protective(struct vu_blk *disk)
{
	uint8_t s[MBR_SIZE];
	int r;

	if (disk->size < MBR_SIZE)
		return 0;
	r = vu_blk_read(disk, s, sizeof(s), 0);
	if (r < 0)
		return r;
	if (!mbr_has_magic(s))
		return 0;
	for (unsigned i = 0; i < MBR_ENTRIES; i++) {
		struct mbr_entry e;

		mbr_entry_decode(s, i, &e);
		if (e.type == MBR_TYPE_GPT_PROTECTIVE)
			return 1;
	}
	return 0;
}

int vu_ptable_read(struct vu_blk *disk, struct vu_ptable *out)
{
	uint32_t ss;
	int prot, sig, r;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!disk || !out)
		return vu_fail(-EINVAL, "partition table: no disk or table");
	ss = disk->sector_size;

	prot = mbr_is_protective(disk);
	if (prot < 0)
		return prot;
	sig = gpt_signature_at(disk, ss);
	if (sig < 0)
		return sig;
	if (sig) {
		r = vu_gpt_parse(disk, ss, out);
		goto gpt;
	}
	if (ss == 512) {
		sig = gpt_signature_at(disk, 4096); /* a 4Kn disk in a VHDX */
		if (sig < 0)
			return sig;
		if (sig) {
			r = vu_gpt_parse(disk, 4096, out);
			goto gpt;
		}
	}
	if (prot) {
		/* No primary header: look for a backup, with either size. */
		int had_msg = vu_err_isset();

		r = vu_gpt_parse(disk, ss, out);
		if (r < 0 && r != -EIO && r != -ENOMEM && ss == 512) {
			int r4 = vu_gpt_parse(disk, 4096, out);

			if (r4 == 0 && !had_msg)
				vu_err_clear(); /* the 512 attempt's */
			if (r4 == 0 || r == -ENOENT)
				r = r4;
		}
		goto gpt;
	}

	r = vu_mbr_parse(disk, out);
	if (r == -ENOENT) {
		memset(out, 0, sizeof(*out));
		out->type = VU_TABLE_NONE;
		out->sector_size = ss;
		return 0;
	}
	return r;

gpt:
	/* A header at LBA 1 that is cut off, or a protective MBR with
	 * neither header: a GPT disk whose table is gone. */
	if (r == -ENOENT)
		r = vu_blk_fail(disk, -EUCLEAN,
				"gpt: %s but no complete \"%s\" header at LBA 1 or at the last LBA, with %u- or 4096-byte sectors",
				prot ? "protective MBR (type 0xee)" :
				       "signature at LBA 1",
				GPT_SIGNATURE, ss);
	return r;
}

void vu_ptable_free(struct vu_ptable *t)
{
	if (!t)
		return;
	free(t->parts);
	memset(t, 0, sizeof(*t));
}
