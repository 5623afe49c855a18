/* The FAT12/16/32 boot sector, directory entries and FSInfo sector, as far
 * as the volume probe (probe_fat.c) reads them (Microsoft's "FAT: General
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

/* FSInfo sector */
#define FSINFO_SIG1_OFF		0	/* "RRaA" */
#define FSINFO_SIG2_OFF		484	/* "rrAa" */

#endif
