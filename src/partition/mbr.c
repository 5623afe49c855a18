/* MBR partition tables: primaries p1..p4 keep their slot, logical
 * partitions in the EBR chain of an extended partition continue at p5,
 * as Linux numbers them.  The extended partition itself holds no volume
 * and is not listed.
 *
 * A sector ending in 55 AA is not necessarily an MBR: the boot sector of
 * NTFS, FAT, exFAT and BitLocker volumes ends in 55 AA too.  Those, and
 * sectors whose entries cannot be partition entries (boot flag other than
 * 0x00/0x80), are "no table" (-ENOENT); only a sector that really looks
 * like an MBR can be corrupt (-EUCLEAN). */
#include "partition/partition.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "partition/mbr_format.h"

/* ---- boot sectors that are not partition tables ---- */

struct boot_magic {
	unsigned off;
	const char *magic;
	unsigned len;
};

static const struct boot_magic boot_magics[] = {
	{ 3, "NTFS    ", 8 },
	{ 3, "-FVE-FS-", 8 },	/* BitLocker (Vista and later) */
	{ 3, "EXFAT   ", 8 },
	{ 3, "ReFS\0\0\0\0", 8 },
	{ 0, "LUKS\xba\xbe", 6 },
	{ 0, "SKUL\xba\xbe", 6 },
};

/* A FAT12/16/32 BIOS parameter block (BitLocker To Go's "MSWIN4.1" boot
 * sector carries one too). */
static int looks_like_fat(const uint8_t *s)
{
	unsigned bps = vu_le16(s + 11), spc = s[13], media = s[21];

	if (!((s[0] == 0xeb && s[2] == 0x90) || s[0] == 0xe9))
		return 0;
	if (bps < 512 || bps > 4096 || !vu_is_pow2(bps))
		return 0;
	if (!vu_is_pow2(spc))
		return 0;
	if (vu_le16(s + 14) == 0 || s[16] == 0) /* reserved sectors, FATs */
		return 0;
	return media == 0xf0 || media >= 0xf8;
}

static int is_boot_sector(const uint8_t *s)
{
	for (size_t i = 0; i < sizeof(boot_magics) / sizeof(boot_magics[0]);
	     i++) {
		const struct boot_magic *m = &boot_magics[i];

		if (memcmp(s + m->off, m->magic, m->len) == 0)
			return 1;
	}
	return looks_like_fat(s);
}

/* ---- parsing ---- */

struct mbr_ctx {
	struct vu_blk *disk;
	uint32_t ss;
	uint64_t disk_lbas;
	struct vu_part *parts;
	size_t count;
};

static void add_part(struct mbr_ctx *c, unsigned slot, uint64_t lba,
		     uint64_t sectors, const struct mbr_entry *e, int logical)
{
	struct vu_part *p = &c->parts[c->count++];

	p->slot = slot;
	p->start = lba * c->ss;
	p->size = sectors * c->ss;
	p->mbr_type = e->type;
	p->bootable = e->boot == 0x80;
	p->logical = logical;
}

/* Follow the EBR chain of the extended partition in primary slot ext_slot
 * (LBAs ext_start .. ext_start + ext_size - 1); logicals get the next
 * slots from *next_slot. */
static int parse_extended(struct mbr_ctx *c, unsigned ext_slot,
			  uint64_t ext_start, uint64_t ext_size,
			  unsigned *next_slot)
{
	uint64_t visited[MBR_MAX_LOGICALS];
	uint64_t ext_end = ext_start + ext_size; /* exclusive */
	uint64_t ebr = ext_start;
	unsigned n = 0;
	uint8_t s[MBR_SIZE];

	for (;;) {
		struct mbr_entry e, link;
		int r;

		if (ebr < ext_start || ebr >= ext_end)
			return vu_blk_fail(c->disk, -EUCLEAN,
					   "mbr: EBR at LBA %" PRIu64
					   " is outside the extended partition %u (LBAs %" PRIu64
					   "..%" PRIu64 ")",
					   ebr, ext_slot, ext_start, ext_end - 1);
		for (unsigned i = 0; i < n; i++)
			if (visited[i] == ebr)
				return vu_blk_fail(c->disk, -EUCLEAN,
						   "mbr: EBR chain of extended partition %u loops back to the EBR at LBA %" PRIu64,
						   ext_slot, ebr);
		if (n == MBR_MAX_LOGICALS)
			return vu_blk_fail(c->disk, -EUCLEAN,
					   "mbr: more than %u logical partitions (EBRs) in extended partition %u",
					   MBR_MAX_LOGICALS, ext_slot);
		visited[n++] = ebr;

		r = vu_blk_read(c->disk, s, sizeof(s), ebr * c->ss);
		if (r < 0)
			return r;
		if (!mbr_has_magic(s)) {
			/* An extended partition without logicals may have
			 * no EBR at all; a broken link is corruption. */
			if (ebr == ext_start)
				return 0;
			return vu_blk_fail(c->disk, -EUCLEAN,
					   "mbr: EBR at LBA %" PRIu64
					   ": signature 0x%04x at offset %u, expected 0x%04x",
					   ebr, vu_le16(s + MBR_MAGIC_OFF),
					   MBR_MAGIC_OFF, MBR_MAGIC);
		}
		mbr_entry_decode(s, 0, &e);
		mbr_entry_decode(s, 1, &link);
		if ((e.boot & 0x7f) || (link.boot & 0x7f))
			return vu_blk_fail(c->disk, -EUCLEAN,
					   "mbr: EBR at LBA %" PRIu64
					   ": boot flag 0x%02x, expected 0x00 or 0x80",
					   ebr, (e.boot & 0x7f) ? e.boot : link.boot);

		if (e.type != MBR_TYPE_EMPTY && e.size != 0 &&
		    !mbr_type_is_extended(e.type)) {
			uint64_t start = ebr + e.start;

			if (e.start == 0)
				return vu_blk_fail(c->disk, -EUCLEAN,
						   "mbr: partition %u (EBR at LBA %" PRIu64
						   "): starts at the EBR itself, expected a start of 1 or more",
						   *next_slot, ebr);
			if (start + e.size > ext_end)
				return vu_blk_fail(c->disk, -EUCLEAN,
						   "mbr: partition %u (EBR at LBA %" PRIu64
						   "): LBAs %" PRIu64 "..%" PRIu64
						   " are outside the extended partition %u (LBAs %" PRIu64
						   "..%" PRIu64 ")",
						   *next_slot, ebr, start,
						   start + e.size - 1, ext_slot,
						   ext_start, ext_end - 1);
			if (*next_slot - 5 >= MBR_MAX_LOGICALS)
				return vu_blk_fail(c->disk, -EUCLEAN,
						   "mbr: more than %u logical partitions, expected at most %u",
						   MBR_MAX_LOGICALS, MBR_MAX_LOGICALS);
			add_part(c, (*next_slot)++, start, e.size, &e, 1);
		}
		if (!mbr_type_is_extended(link.type) || link.size == 0)
			return 0;
		ebr = ext_start + link.start;
	}
}

int vu_mbr_parse(struct vu_blk *disk, struct vu_ptable *out)
{
	struct mbr_entry ents[MBR_ENTRIES];
	struct mbr_ctx c = { .disk = disk };
	uint8_t s[MBR_SIZE];
	unsigned next_slot = 5;
	int r;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!disk || !out)
		return vu_fail(-EINVAL, "mbr: no disk or table");
	c.ss = disk->sector_size;
	if (c.ss < MBR_SIZE)
		return vu_blk_fail(disk, -EINVAL,
				   "mbr: sector size %u, expected 512 or more",
				   c.ss);
	c.disk_lbas = disk->size / c.ss;
	if (disk->size < MBR_SIZE)
		return -ENOENT;
	r = vu_blk_read(disk, s, sizeof(s), 0);
	if (r < 0)
		return r;
	if (!mbr_has_magic(s) || is_boot_sector(s))
		return -ENOENT;
	for (unsigned i = 0; i < MBR_ENTRIES; i++) {
		mbr_entry_decode(s, i, &ents[i]);
		/* Garbage where the entries would be: a boot sector we do
		 * not know, not a damaged table (Linux decides the same). */
		if (ents[i].boot & 0x7f)
			return -ENOENT;
		if (ents[i].type == MBR_TYPE_GPT_PROTECTIVE)
			return -ENOENT; /* a GPT disk */
	}

	c.parts = calloc(MBR_ENTRIES + MBR_MAX_LOGICALS, sizeof(*c.parts));
	if (!c.parts)
		return vu_fail(-ENOMEM, "out of memory");

	for (unsigned i = 0; i < MBR_ENTRIES; i++) {
		const struct mbr_entry *e = &ents[i];
		unsigned slot = i + 1;

		if (e->type == MBR_TYPE_EMPTY || e->size == 0)
			continue;
		if (e->start == 0) {
			r = vu_blk_fail(disk, -EUCLEAN,
					"mbr: partition %u (entry at offset %u): starts at LBA 0, the MBR itself, expected LBA 1 or later",
					slot, mbr_entry_off(i));
			goto fail;
		}
		if ((uint64_t)e->start + e->size > c.disk_lbas) {
			r = vu_blk_fail(disk, -EUCLEAN,
					"mbr: partition %u (entry at offset %u): LBAs %" PRIu32
					"..%" PRIu64
					" are past the end of the disk (%" PRIu64
					" sectors of %u bytes)",
					slot, mbr_entry_off(i), e->start,
					(uint64_t)e->start + e->size - 1,
					c.disk_lbas, c.ss);
			goto fail;
		}
		if (!mbr_type_is_extended(e->type))
			add_part(&c, slot, e->start, e->size, e, 0);
	}
	for (unsigned i = 0; i < MBR_ENTRIES; i++) {
		const struct mbr_entry *e = &ents[i];

		if (!mbr_type_is_extended(e->type) || e->size == 0)
			continue;
		r = parse_extended(&c, i + 1, e->start, e->size, &next_slot);
		if (r < 0)
			goto fail;
	}

	out->type = VU_TABLE_MBR;
	out->sector_size = c.ss;
	out->disk_signature = vu_le32(s + MBR_DISK_SIG_OFF);
	out->count = c.count;
	out->parts = c.parts; /* transferred */
	if (!c.count) {
		free(c.parts);
		out->parts = NULL;
	}
	return 0;
fail:
	free(c.parts);
	return r;
}

/* ---- type names ---- */

static const char *const mbr_type_names[256] = {
	[0x01] = "FAT12",
	[0x04] = "FAT16 <32M",
	[0x05] = "Extended",
	[0x06] = "FAT16",
	[0x07] = "HPFS/NTFS/exFAT",
	[0x0b] = "W95 FAT32",
	[0x0c] = "W95 FAT32 (LBA)",
	[0x0e] = "W95 FAT16 (LBA)",
	[0x0f] = "W95 Extended (LBA)",
	[0x11] = "Hidden FAT12",
	[0x12] = "Compaq diagnostics",
	[0x14] = "Hidden FAT16 <32M",
	[0x16] = "Hidden FAT16",
	[0x17] = "Hidden HPFS/NTFS",
	[0x1b] = "Hidden W95 FAT32",
	[0x1c] = "Hidden W95 FAT32 (LBA)",
	[0x1e] = "Hidden W95 FAT16 (LBA)",
	[0x27] = "Windows recovery environment",
	[0x42] = "Windows dynamic disk (LDM)",
	[0x82] = "Linux swap",
	[0x83] = "Linux",
	[0x85] = "Linux extended",
	[0x86] = "NTFS volume set",
	[0x87] = "NTFS volume set",
	[0x88] = "Linux plaintext",
	[0x8e] = "Linux LVM",
	[0xa5] = "FreeBSD",
	[0xa6] = "OpenBSD",
	[0xa8] = "Darwin UFS",
	[0xa9] = "NetBSD",
	[0xab] = "Darwin boot",
	[0xaf] = "HFS / HFS+",
	[0xbf] = "Solaris",
	[0xde] = "Dell Utility",
	[0xe8] = "Linux LUKS",
	[0xea] = "Linux extended boot",
	[0xee] = "GPT protective",
	[0xef] = "EFI System",
	[0xfb] = "VMware VMFS",
	[0xfc] = "VMware VMKCORE",
	[0xfd] = "Linux RAID autodetect",
};

const char *vu_mbr_type_name(uint8_t type)
{
	return mbr_type_names[type];
}
