/* What a volume holds, from its first sectors: no key needed. */
#ifndef VU_PROBE_H
#define VU_PROBE_H

#include "core/blk.h"

enum vu_kind {
	VU_KIND_UNKNOWN,
	VU_KIND_BITLOCKER,	/* includes BitLocker To Go */
	VU_KIND_LUKS1,
	VU_KIND_LUKS2,
	VU_KIND_LVM2,
	VU_KIND_NTFS,
	VU_KIND_EXT2,
	VU_KIND_EXT3,
	VU_KIND_EXT4,
	VU_KIND_XFS,
	VU_KIND_FAT,
	VU_KIND_SWAP,
	VU_KIND_MD,		/* a Linux md RAID member */
};

struct vu_probe {
	enum vu_kind kind;
	char label[256];   /* UTF-8, "" when the format has none or it is empty */
	char uuid[64];	   /* as blkid prints it, "" when none */
	char detail[64];   /* e.g. "BitLocker To Go", "FAT32", "" */
};

/* Identify a volume.  Never fails on unknown or damaged content (that is
 * VU_KIND_UNKNOWN); returns a negative errno only when reading fails. */
int vu_probe(struct vu_blk *vol, struct vu_probe *out);
/* "bitlocker", "luks1", ..., "unknown" as CLI.md names them. */
const char *vu_kind_name(enum vu_kind kind);

#endif
