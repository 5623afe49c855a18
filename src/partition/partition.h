/* Partition tables: MBR (with extended/logical partitions) and GPT. */
#ifndef VU_PARTITION_H
#define VU_PARTITION_H

#include <stddef.h>
#include <stdint.h>

#include "core/blk.h"

enum vu_table_type {
	VU_TABLE_NONE, /* no table: the whole image is volume "disk" */
	VU_TABLE_MBR,
	VU_TABLE_GPT,
};

struct vu_part {
	unsigned slot;	    /* the N of volume id "pN" (1-based, as Linux) */
	uint64_t start;	    /* bytes from the start of the disk */
	uint64_t size;	    /* bytes */
	/* MBR */
	uint8_t mbr_type;   /* partition type byte (0 for GPT) */
	int bootable;	    /* MBR 0x80 flag */
	int logical;	    /* inside an extended partition (slot >= 5) */
	/* GPT */
	uint8_t type_guid[16];
	uint8_t part_guid[16];
	uint64_t attributes;
	char name[109];	    /* GPT name as UTF-8 (36 UTF-16 units) */
};

struct vu_ptable {
	enum vu_table_type type;
	uint32_t sector_size;	 /* the logical sector size the table used */
	/* MBR */
	uint32_t disk_signature;
	/* GPT */
	uint8_t disk_guid[16];
	int used_backup;	 /* primary GPT header damaged, backup used */
	uint64_t first_usable_lba, last_usable_lba;
	size_t count;
	struct vu_part *parts;	 /* sorted by slot */
};

/* Find and parse the partition table of a disk.  A disk without a table
 * (a bare file system or BitLocker volume, whose boot sector also ends in
 * 55 AA) gives type VU_TABLE_NONE and count 0.  A table that is present but
 * damaged beyond use gives -EUCLEAN with a message naming the structure,
 * the offset and what was expected.  Warnings (backup GPT used) go to
 * vu_log.  out is cleared on entry; free it with vu_ptable_free(). */
int vu_ptable_read(struct vu_blk *disk, struct vu_ptable *out);
void vu_ptable_free(struct vu_ptable *t);

/* The parsers behind vu_ptable_read, exposed for unit tests and fuzzers.
 * Each returns -ENOENT when its table is not there at all. */
int vu_mbr_parse(struct vu_blk *disk, struct vu_ptable *out);
int vu_gpt_parse(struct vu_blk *disk, uint32_t sector_size,
		 struct vu_ptable *out);

/* Human name of a GPT partition type ("EFI System", "Microsoft basic data",
 * ...) or of an MBR type byte; NULL when unknown. */
const char *vu_gpt_type_name(const uint8_t type_guid[16]);
const char *vu_mbr_type_name(uint8_t type);

#endif
