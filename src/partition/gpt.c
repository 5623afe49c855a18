/* GUID partition tables: primary header at LBA 1, backup at the last LBA
 * (or where the primary's alternate LBA points).  Both the header and the
 * entry array are CRC32-checked; a damaged primary falls back to the
 * backup with a warning.  Partition N is entry N of the array (1-based);
 * empty entries (zero type GUID) leave gaps in the numbering, as Linux. */
#include "partition/partition.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/utf16.h"
#include "core/crc.h"
#include "core/guid.h"
#include "core/log.h"
#include "partition/gpt_format.h"
#include "partition/gpt_int.h"

enum { HDR_OK, HDR_ABSENT, HDR_BAD };

/* One copy of the table (primary or backup) as read from the disk. */
struct gpt_copy {
	uint64_t lba;
	struct gpt_header h;
	uint8_t *entries;
	char why[256]; /* what is wrong with it, when it is not HDR_OK */
};

static int why(struct gpt_copy *c, int status, const char *fmt, ...)
	VU_PRINTF(3, 4);

static int why(struct gpt_copy *c, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return status;
}

/* Read and check the header at lba and its entry array: HDR_OK, HDR_ABSENT
 * (no signature), HDR_BAD (c->why says why), or a negative errno when a
 * read fails. */
static int load_copy(struct vu_blk *disk, uint32_t ss, uint64_t lba,
		     struct gpt_copy *c)
{
	uint64_t lbas = disk->size / ss, arr_lbas;
	struct gpt_header *h = &c->h;
	uint32_t crc, arr_bytes;
	uint8_t *buf;
	int r;

	c->lba = lba;
	if (lba >= lbas)
		return why(c, HDR_ABSENT,
			   "LBA %" PRIu64 " is past the end of the disk (%" PRIu64
			   " sectors of %u bytes)", lba, lbas, ss);
	buf = malloc(ss);
	if (!buf)
		return vu_fail(-ENOMEM, "out of memory");
	r = vu_blk_read(disk, buf, ss, lba * ss);
	if (r < 0)
		goto out;
	if (!gpt_has_signature(buf)) {
		r = why(c, HDR_ABSENT, "no \"%s\" signature", GPT_SIGNATURE);
		goto out;
	}
	gpt_header_decode(buf, h);
	r = HDR_BAD;
	if (h->revision >> 16 != GPT_REVISION_1 >> 16) {
		why(c, r, "revision 0x%08" PRIx32 ", expected 0x%08x",
		    h->revision, GPT_REVISION_1);
		goto out;
	}
	if (h->header_size < GPT_HEADER_MIN || h->header_size > ss) {
		why(c, r, "header size %" PRIu32 ", expected %u..%u",
		    h->header_size, GPT_HEADER_MIN, ss);
		goto out;
	}
	vu_put_le32(buf + GPT_H_HEADER_CRC, 0);
	crc = vu_crc32(0, buf, h->header_size);
	if (crc != h->header_crc) {
		why(c, r, "CRC32 0x%08" PRIx32 ", expected 0x%08" PRIx32,
		    h->header_crc, crc);
		goto out;
	}
	if (h->my_lba != lba) {
		why(c, r, "my LBA %" PRIu64 ", expected %" PRIu64, h->my_lba,
		    lba);
		goto out;
	}
	if (h->first_usable > h->last_usable) {
		why(c, r, "first usable LBA %" PRIu64
		    " is after the last usable LBA %" PRIu64,
		    h->first_usable, h->last_usable);
		goto out;
	}
	if (h->last_usable >= lbas) {
		why(c, r, "last usable LBA %" PRIu64
		    " is past the end of the disk (%" PRIu64
		    " sectors of %u bytes)", h->last_usable, lbas, ss);
		goto out;
	}
	if (h->entry_size < GPT_ENTRY_MIN || h->entry_size % GPT_ENTRY_MIN) {
		why(c, r, "partition entry size %" PRIu32
		    ", expected a multiple of %u", h->entry_size,
		    GPT_ENTRY_MIN);
		goto out;
	}
	if ((uint64_t)h->num_entries * h->entry_size > GPT_ENTRIES_MAX_BYTES) {
		why(c, r, "%" PRIu32 " partition entries of %" PRIu32
		    " bytes, expected at most %u bytes in all",
		    h->num_entries, h->entry_size, GPT_ENTRIES_MAX_BYTES);
		goto out;
	}
	arr_bytes = h->num_entries * h->entry_size;
	arr_lbas = (arr_bytes + ss - 1) / ss;
	if (h->entries_lba < 2 || h->entries_lba >= lbas ||
	    arr_lbas > lbas - h->entries_lba ||
	    (lba >= h->entries_lba && lba < h->entries_lba + arr_lbas)) {
		why(c, r, "partition entry array at LBA %" PRIu64 " (%" PRIu64
		    " sectors) is not inside the disk (%" PRIu64
		    " sectors) apart from LBAs 0, 1 and the header",
		    h->entries_lba, arr_lbas, lbas);
		goto out;
	}
	c->entries = malloc(arr_bytes ? arr_bytes : 1);
	if (!c->entries) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto out;
	}
	r = vu_blk_read(disk, c->entries, arr_bytes, h->entries_lba * ss);
	if (r < 0)
		goto out;
	crc = vu_crc32(0, c->entries, arr_bytes);
	if (crc != h->entries_crc) {
		r = why(c, HDR_BAD, "partition entry array at LBA %" PRIu64
			": CRC32 0x%08" PRIx32 ", expected 0x%08" PRIx32,
			h->entries_lba, h->entries_crc, crc);
		goto out;
	}
	r = HDR_OK;
out:
	free(buf);
	return r;
}

static void copy_free(struct gpt_copy *c)
{
	free(c->entries);
	c->entries = NULL;
}

static int by_start(const void *a, const void *b)
{
	const struct vu_part *x = *(const struct vu_part *const *)a;
	const struct vu_part *y = *(const struct vu_part *const *)b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* No two partitions may share a sector. */
static int check_overlap(struct vu_blk *disk, uint32_t ss,
			 struct vu_part *parts, size_t count)
{
	const struct vu_part **sorted, *widest = NULL;
	int r = 0;

	if (count < 2)
		return 0;
	sorted = malloc(count * sizeof(*sorted));
	if (!sorted)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < count; i++)
		sorted[i] = &parts[i];
	qsort(sorted, count, sizeof(*sorted), by_start);
	for (size_t i = 0; i < count; i++) {
		const struct vu_part *p = sorted[i];

		if (widest && p->start < widest->start + widest->size) {
			const struct vu_part *a = widest->slot < p->slot ?
						  widest : p;
			const struct vu_part *b = a == p ? widest : p;

			r = vu_blk_fail(disk, -EUCLEAN,
					"gpt: partitions %u (LBAs %" PRIu64
					"..%" PRIu64 ") and %u (LBAs %" PRIu64
					"..%" PRIu64 ") overlap",
					a->slot, a->start / ss,
					(a->start + a->size) / ss - 1, b->slot,
					b->start / ss,
					(b->start + b->size) / ss - 1);
			break;
		}
		if (!widest || p->start + p->size >
				       widest->start + widest->size)
			widest = p;
	}
	free(sorted);
	return r;
}

/* Turn a checked copy into the table. */
static int fill(struct vu_blk *disk, uint32_t ss, const struct gpt_copy *c,
		struct vu_ptable *out)
{
	const struct gpt_header *h = &c->h;
	uint64_t lbas = disk->size / ss;
	struct vu_part *parts = NULL;
	size_t count = 0, n = 0;
	int r;

	for (uint32_t i = 0; i < h->num_entries; i++)
		if (!vu_guid_is_zero(c->entries + (size_t)i * h->entry_size))
			count++;
	if (count) {
		parts = calloc(count, sizeof(*parts));
		if (!parts)
			return vu_fail(-ENOMEM, "out of memory");
	}
	for (uint32_t i = 0; i < h->num_entries; i++) {
		const uint8_t *e = c->entries + (size_t)i * h->entry_size;
		uint64_t first = vu_le64(e + GPT_E_FIRST_LBA);
		uint64_t last = vu_le64(e + GPT_E_LAST_LBA);
		unsigned slot = i + 1;
		struct vu_part *p;

		if (vu_guid_is_zero(e + GPT_E_TYPE_GUID))
			continue;
		if (first > last) {
			r = vu_blk_fail(disk, -EUCLEAN,
					"gpt: partition %u: first LBA %" PRIu64
					" is after its last LBA %" PRIu64,
					slot, first, last);
			goto fail;
		}
		if (last >= lbas) {
			r = vu_blk_fail(disk, -EUCLEAN,
					"gpt: partition %u: LBAs %" PRIu64
					"..%" PRIu64
					" are past the end of the disk (%" PRIu64
					" sectors of %u bytes)",
					slot, first, last, lbas, ss);
			goto fail;
		}
		if (first < h->first_usable || last > h->last_usable) {
			r = vu_blk_fail(disk, -EUCLEAN,
					"gpt: partition %u: LBAs %" PRIu64
					"..%" PRIu64
					" are outside the usable LBAs %" PRIu64
					"..%" PRIu64,
					slot, first, last, h->first_usable,
					h->last_usable);
			goto fail;
		}
		p = &parts[n++];
		p->slot = slot;
		p->start = first * ss;
		p->size = (last - first + 1) * ss;
		memcpy(p->type_guid, e + GPT_E_TYPE_GUID, 16);
		memcpy(p->part_guid, e + GPT_E_PART_GUID, 16);
		p->attributes = vu_le64(e + GPT_E_ATTRIBUTES);
		vu_utf16_to_utf8(e + GPT_E_NAME, GPT_E_NAME_UNITS, 0, p->name,
				 sizeof(p->name));
	}
	r = check_overlap(disk, ss, parts, n);
	if (r < 0)
		goto fail;

	out->type = VU_TABLE_GPT;
	out->sector_size = ss;
	memcpy(out->disk_guid, h->disk_guid, 16);
	out->first_usable_lba = h->first_usable;
	out->last_usable_lba = h->last_usable;
	out->count = n;
	out->parts = parts; /* transferred */
	return 0;
fail:
	free(parts);
	return r;
}

/* Load the copy of the table to use into pri or bak and point *use at it:
 * the primary when it is sound, else the backup (with a warning).  0,
 * -ENOENT when neither is there, or -EUCLEAN naming what is wrong with
 * both. */
static int pick_copy(struct vu_blk *disk, uint32_t sector_size,
		     struct gpt_copy *pri, struct gpt_copy *bak,
		     const struct gpt_copy **use)
{
	uint64_t lbas = disk->size / sector_size;
	int sp, sb;

	sp = load_copy(disk, sector_size, GPT_PRIMARY_LBA, pri);
	if (sp < 0)
		return sp;
	if (sp == HDR_OK) {
		*use = pri;
		return 0;
	}
	/* The backup is at the last LBA; a header that is readable but
	 * damaged may still point at where it was written. */
	if (lbas > 2)
		sb = load_copy(disk, sector_size, lbas - 1, bak);
	else
		sb = why(bak, HDR_ABSENT,
			 "disk of %" PRIu64 " sectors of %u bytes has no room for it",
			 lbas, sector_size);
	if (sb >= 0 && sb != HDR_OK && sp == HDR_BAD &&
	    pri->h.alternate_lba > 2 && pri->h.alternate_lba < lbas - 1) {
		struct gpt_copy alt = { 0 };
		int sa = load_copy(disk, sector_size, pri->h.alternate_lba,
				   &alt);

		if (sa == HDR_OK) {
			copy_free(bak);
			*bak = alt;
			sb = sa;
		} else {
			copy_free(&alt);
			if (sa < 0)
				sb = sa;
		}
	}
	if (sb < 0)
		return sb;
	if (sb == HDR_OK) {
		*use = bak;
		vu_log(VU_LOG_WARN,
		       "%s: gpt: primary header at LBA 1 is damaged (%s); using the backup header at LBA %" PRIu64,
		       disk->desc, pri->why, bak->lba);
		return 0;
	}
	if (sp == HDR_ABSENT && sb == HDR_ABSENT)
		return -ENOENT;
	return vu_blk_fail(disk, -EUCLEAN,
			   "gpt: primary header at LBA 1: %s; backup header at LBA %" PRIu64
			   ": %s (sector size %u)",
			   pri->why, bak->lba, bak->why, sector_size);
}

static int check_sector_size(struct vu_blk *disk, uint32_t sector_size)
{
	if (sector_size < 512 || sector_size > 65536 ||
	    !vu_is_pow2(sector_size))
		return vu_blk_fail(disk, -EINVAL,
				   "gpt: sector size %u, expected a power of two in 512..65536",
				   sector_size);
	return 0;
}

int vu_gpt_parse(struct vu_blk *disk, uint32_t sector_size,
		 struct vu_ptable *out)
{
	struct gpt_copy pri = { 0 }, bak = { 0 };
	const struct gpt_copy *use = NULL;
	int r;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!disk || !out)
		return vu_fail(-EINVAL, "gpt: no disk or table");
	if (!sector_size)
		sector_size = disk->sector_size;
	r = check_sector_size(disk, sector_size);
	if (r == 0)
		r = pick_copy(disk, sector_size, &pri, &bak, &use);
	if (r == 0)
		r = fill(disk, sector_size, use, out);
	if (r == 0 && use == &bak)
		out->used_backup = 1;
	copy_free(&pri);
	copy_free(&bak);
	return r;
}

int gpt_load_table(struct vu_blk *disk, uint32_t sector_size,
		   struct gpt_header *h, uint8_t **entries)
{
	struct gpt_copy pri = { 0 }, bak = { 0 };
	const struct gpt_copy *use = NULL;
	int r = check_sector_size(disk, sector_size);

	*entries = NULL;
	if (r == 0)
		r = pick_copy(disk, sector_size, &pri, &bak, &use);
	if (r == 0) {
		*h = use->h;
		*entries = use->entries;
		if (use == &pri)
			pri.entries = NULL;
		else
			bak.entries = NULL;
	}
	copy_free(&pri);
	copy_free(&bak);
	return r;
}

/* ---- type names ---- */

static const struct {
	const char *guid;
	const char *name;
} gpt_types[] = {
	{ "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "EFI System" },
	{ "024dee41-33e7-11d3-9d69-0008c781f39f", "MBR partition scheme" },
	{ "21686148-6449-6e6f-744e-656564454649", "BIOS boot" },
	{ "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", "Microsoft basic data" },
	{ "e3c9e316-0b5c-4db8-817d-f92df00215ae", "Microsoft reserved" },
	{ "de94bba4-06d1-4d40-a16a-bfd50179d6ac",
	  "Windows recovery environment" },
	{ "5808c8aa-7e8f-42e0-85d2-e1e90434cfb3", "Microsoft LDM metadata" },
	{ "af9b60a0-1431-4f62-bc68-3311714a69ad", "Microsoft LDM data" },
	{ "e75caf8f-f680-4cee-afa3-b001e56efc2d", "Microsoft Storage Spaces" },
	{ "0fc63daf-8483-4772-8e79-3d69d8477de4", "Linux filesystem" },
	{ "e6d6d379-f507-44c2-a23c-238f2a3df928", "Linux LVM" },
	{ "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", "Linux swap" },
	{ "a19d880f-05fc-4d3b-a006-743f0f84911e", "Linux RAID" },
	{ "bc13c2ff-59e6-4262-a352-b275fd6f7172",
	  "Linux extended boot (XBOOTLDR)" },
	{ "4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "Linux root (x86-64)" },
	{ "44479540-f297-41b2-9af7-d131d5f0458a", "Linux root (x86)" },
	{ "b921b045-1df0-41c3-af44-4c6f280d3fae", "Linux root (ARM-64)" },
	{ "69dad710-2ce4-4e3c-b16c-21a1d49abed3", "Linux root (ARM)" },
	{ "8484680c-9521-48c6-9c11-b0720656f69e", "Linux /usr (x86-64)" },
	{ "933ac7e1-2eb4-4f13-b844-0e14e2aef915", "Linux /home" },
	{ "3b8f8425-20e0-4f3b-907f-1a25a76f98e8", "Linux /srv" },
	{ "4d21b016-b534-45c2-a9fb-5c16e091fd2d", "Linux /var" },
	{ "7ec6f557-3bc5-4aca-b293-16ef5df639d1", "Linux /var/tmp" },
	{ "ca7d7ccb-63ed-4c53-861c-1742536059cc", "Linux LUKS" },
	{ "7ffec5c9-2d00-49b7-8941-3ea10a5586b7", "Linux dm-crypt" },
	{ "8da63339-0007-60c0-c436-083ac8230908", "Linux reserved" },
	{ "48465300-0000-11aa-aa11-00306543ecac", "Apple HFS/HFS+" },
	{ "7c3457ef-0000-11aa-aa11-00306543ecac", "Apple APFS" },
	{ "516e7cb4-6ecf-11d6-8ff8-00022d09712b", "FreeBSD data" },
	{ "516e7cba-6ecf-11d6-8ff8-00022d09712b", "FreeBSD ZFS" },
	{ "6a898cc3-1dd2-11b2-99a6-080020736631", "Solaris /usr & Apple ZFS" },
};

const char *vu_gpt_type_name(const uint8_t type_guid[16])
{
	char s[VU_GUID_STRLEN];

	if (!type_guid)
		return NULL;
	vu_guid_format(type_guid, s);
	for (size_t i = 0; i < sizeof(gpt_types) / sizeof(gpt_types[0]); i++)
		if (strcmp(s, gpt_types[i].guid) == 0)
			return gpt_types[i].name;
	return NULL;
}
