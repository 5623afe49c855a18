/* The FAT12/16/32 boot sector, directory entries and FSInfo sector, as far
 * as the volume probe (probe_fat.c) and the file reader (src/fs/fat_*.c)
 * read them (Microsoft's "FAT: General
 * Overview of On-Disk Format"; libblkid's vfat probe for what it checks).
 * All integers little-endian; offsets in bytes. */
#ifndef VU_FAT_FORMAT_H
#define VU_FAT_FORMAT_H

/* BIOS parameter block, common to all three */
#define FAT_SECTOR_SIZE_OFF	0x0b	/* le16 */
#define FAT_CLUSTER_SIZE_OFF	0x0d	/* u8 sectors */
#define FAT_RESERVED_OFF	0x0e	/* le16 */
#define FAT_FATS_OFF		0x10	/* u8 */
#define FAT_DIR_ENTRIES_OFF	0x11	/* le16 */
#define FAT_SECTORS_OFF		0x13	/* le16 */
#define FAT_MEDIA_OFF		0x15	/* u8 */
#define FAT_FAT_LENGTH_OFF	0x16	/* le16, 0 on FAT32 */
#define FAT_TOTAL_SECT_OFF	0x20	/* le32 */
/* FAT12/16 extended BPB */
#define FAT16_EXT_SIG_OFF	0x26
#define FAT16_SERIAL_OFF	0x27
#define FAT16_LABEL_OFF		0x2b
#define FAT16_MAGIC_OFF		0x36
/* FAT32 extended BPB */
#define FAT32_LENGTH_OFF	0x24	/* le32 */
#define FAT32_ROOT_CLUSTER_OFF	0x2c	/* le32 */
#define FAT32_FSINFO_OFF	0x30	/* le16 sector */
#define FAT32_EXT_SIG_OFF	0x42
#define FAT32_SERIAL_OFF	0x43
#define FAT32_LABEL_OFF		0x47
#define FAT32_MAGIC_OFF		0x52
#define FAT_LABEL_LEN		11
#define FAT_BOOT_SIG_OFF	0x1fe	/* 55 aa */

/* directory entries */
#define FAT_DIRENT		32
#define FAT_DIRENT_ATTR		11
#define FAT_DIRENT_CLUSTER_HI	20
#define FAT_DIRENT_CLUSTER_LO	26
#define FAT_DIRENT_NAME_LEN	11	/* 8 + 3, space padded */
#define FAT_DIRENT_NTRES	12	/* FAT_NT_LOWER_* */
#define FAT_DIRENT_CTIME_CS	13	/* u8, 10 ms units, 0..199 */
#define FAT_DIRENT_CTIME	14	/* le16 time */
#define FAT_DIRENT_CDATE	16	/* le16 date */
#define FAT_DIRENT_ADATE	18	/* le16 date */
#define FAT_DIRENT_MTIME	22	/* le16 time */
#define FAT_DIRENT_MDATE	24	/* le16 date */
#define FAT_DIRENT_SIZE		28	/* le32 */
#define FAT_NT_LOWER_BASE	0x08	/* NT: the base shown lowercase */
#define FAT_NT_LOWER_EXT	0x10	/* ... and the extension */
#define FAT_ATTR_READONLY	0x01
#define FAT_ATTR_HIDDEN		0x02
#define FAT_ATTR_SYSTEM		0x04
#define FAT_ENTRY_END		0x00	/* this and all later unused */
/* VFAT long name entries: 13 UTF-16 units each, in three pieces, stored
 * last part first; the first stored one has FAT_LFN_LAST in its order */
#define FAT_LFN_ORD		0
#define FAT_LFN_NAME1		1	/* 5 units */
#define FAT_LFN_CSUM		13	/* checksum of the short name */
#define FAT_LFN_NAME2		14	/* 6 units */
#define FAT_LFN_NAME3		28	/* 2 units */
#define FAT_LFN_LAST		0x40
#define FAT_LFN_ORD_MASK	0x1f
#define FAT_LFN_UNITS		13
#define FAT_LFN_MAX_ENTRIES	20	/* 255 units */
#define FAT_ATTR_VOLUME_ID	0x08
#define FAT_ATTR_DIR		0x10
#define FAT_ATTR_LONG_NAME	0x0f
#define FAT_ATTR_MASK		0x3f
#define FAT_ENTRY_FREE		0xe5
#define FAT_ENTRY_E5		0x05	/* a name that starts with 0xe5 */

/* cluster counts: more than FAT12_MAX is FAT16, more than FAT16_MAX is
 * FAT32; FAT32 entries are 28 bits */
#define FAT12_MAX		0xff4u
#define FAT16_MAX		0xfff4u
#define FAT32_MAX		0x0ffffff6u
#define FAT32_ENTRY_MASK	0x0fffffffu
/* FAT entry values: free, bad cluster, end of chain (at or above) */
#define FAT_FREE		0u
#define FAT12_BAD		0xff7u
#define FAT16_BAD		0xfff7u
#define FAT32_BAD		0x0ffffff7u
#define FAT_FIRST_CLUSTER	2	/* clusters 0 and 1 are reserved */
/* a directory holds at most 65536 entries (2 MiB) */
#define FAT_DIR_MAX_BYTES	(65536u * FAT_DIRENT)

/* FSInfo sector */
#define FSINFO_SIG1_OFF		0	/* "RRaA" */
#define FSINFO_SIG2_OFF		484	/* "rrAa" */

#endif
