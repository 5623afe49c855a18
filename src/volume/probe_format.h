/* On-disk fields the volume probe reads: offsets and constants only, every
 * field is decoded explicitly (core/bytes.h), never by casting a buffer.
 * Sources: the libblkid superblock probes (the oracle the probe must agree
 * with), the libyal BitLocker and NTFS format notes, cryptsetup's LUKS1/2
 * on-disk format documents, the ext4 and XFS disk-layout documents. */
#ifndef VU_PROBE_FORMAT_H
#define VU_PROBE_FORMAT_H

/* ---- BitLocker: a boot sector with a BitLocker OEM identifier ---- */
#define BDE_SIG_OFF		3
#define BDE_SIG_FVE		"-FVE-FS-"	/* Vista and Windows 7+ */
#define BDE_SIG_TOGO		"MSWIN4.1"	/* BitLocker To Go (FAT32 look) */
#define BDE_SIG_LEN		8
/* Windows 7+ and To Go: the BitLocker identifier GUID
 * {4967d63b-2e29-4ad8-8399-f6a339e3d001} as stored (mixed endian). */
#define BDE_GUID_OFF_WIN7	160
#define BDE_GUID_OFF_TOGO	424
static const unsigned char bde_guid[16] = {
	0x3b, 0xd6, 0x67, 0x49, 0x29, 0x2e, 0xd8, 0x4a,
	0x83, 0x99, 0xf6, 0xa3, 0x39, 0xe3, 0xd0, 0x01,
};
static const unsigned char bde_jump_vista[3] = { 0xeb, 0x52, 0x90 };
static const unsigned char bde_jump_win7[3] = { 0xeb, 0x58, 0x90 };

/* ---- LUKS1 / LUKS2 binary header (big endian) ---- */
#define LUKS_MAGIC		"LUKS\xba\xbe"
#define LUKS_MAGIC_LEN		6
#define LUKS_VERSION_OFF	6	/* be16 */
#define LUKS2_LABEL_OFF		24
#define LUKS2_LABEL_LEN		48
#define LUKS_UUID_OFF		168
#define LUKS_UUID_LEN		40
#define LUKS2_HDR_OFFSET_OFF	256	/* be64, 0 for the primary header */
#define LUKS_HDR_MIN		264	/* bytes the probe reads */
/* LUKS2 keeps a second binary header at one of these offsets */
#define LUKS2_MAGIC2		"SKUL\xba\xbe"
static const unsigned long luks2_secondary[] = {
	0x4000, 0x8000, 0x10000, 0x20000, 0x40000, 0x80000, 0x100000,
	0x200000, 0x400000,
};

/* ---- LVM2 physical volume label: one of the first four 512-byte sectors */
#define LVM_LABEL_SECTORS	4
#define LVM_SECTOR		512
#define LVM_LABEL_ID		"LABELONE"
#define LVM_SECTOR_XL_OFF	8	/* le64: this label's sector number */
#define LVM_CRC_XL_OFF		16	/* le32 over offset_xl .. end of sector */
#define LVM_OFFSET_XL_OFF	20	/* le32: pv_header from the label */
#define LVM_TYPE_OFF		24
#define LVM_TYPE		"LVM2 001"
#define LVM_ID_LEN		32	/* pv_header starts with the PV UUID */
#define LVM_CRC_INIT		0xf597a6cfu

/* ---- NTFS boot sector and MFT records ---- */
#define NTFS_OEM		"NTFS    "
#define NTFS_BPS_OFF		0x0b	/* le16 bytes per sector */
#define NTFS_SPC_OFF		0x0d	/* u8 sectors per cluster (or 2^-n) */
#define NTFS_RESERVED_OFF	0x0e	/* le16, must be 0 */
#define NTFS_FATS_OFF		0x10	/* u8, must be 0 */
#define NTFS_ROOT_ENTRIES_OFF	0x11	/* le16, must be 0 */
#define NTFS_SECTORS16_OFF	0x13	/* le16, must be 0 */
#define NTFS_FAT_LENGTH_OFF	0x16	/* le16, must be 0 */
#define NTFS_SECTORS32_OFF	0x20	/* le32, must be 0 */
#define NTFS_TOTAL_SECTORS_OFF	0x28	/* le64 */
#define NTFS_MFT_LCN_OFF	0x30	/* le64 */
#define NTFS_MFTMIRR_LCN_OFF	0x38	/* le64 */
#define NTFS_MFT_RECSIZE_OFF	0x40	/* s8: clusters, or 2^-n bytes */
#define NTFS_SERIAL_OFF		0x48	/* le64 */
#define NTFS_MAX_CLUSTER	(2u * 1024 * 1024)
#define NTFS_MAX_RECORD		65536u	/* larger is treated as damaged */
#define NTFS_MFT_VOLUME		3	/* $Volume */
#define NTFS_FIXUP_STRIDE	512
/* FILE record header */
#define MFT_MAGIC		"FILE"
#define MFT_USA_OFS_OFF		0x04	/* le16 */
#define MFT_USA_COUNT_OFF	0x06	/* le16 */
#define MFT_ATTRS_OFF		0x14	/* le16 */
#define MFT_BYTES_USED_OFF	0x18	/* le32 */
#define MFT_BYTES_ALLOC_OFF	0x1c	/* le32 */
/* attribute header (resident form) */
#define ATTR_TYPE_OFF		0x00	/* le32 */
#define ATTR_LEN_OFF		0x04	/* le32 */
#define ATTR_NONRES_OFF		0x08	/* u8 */
#define ATTR_VALUE_LEN_OFF	0x10	/* le32 */
#define ATTR_VALUE_OFS_OFF	0x14	/* le16 */
#define ATTR_RESIDENT_HDR	0x18
#define ATTR_VOLUME_NAME	0x60u
#define ATTR_END		0xffffffffu

/* ---- ext2/3/4 superblock, 1024 bytes at 1024 ---- */
#define EXT_SB_OFF		1024
#define EXT_SB_LEN		1024
#define EXT_MAGIC_OFF		0x38	/* le16 */
#define EXT_MAGIC		0xef53
#define EXT_COMPAT_OFF		0x5c
#define EXT_INCOMPAT_OFF	0x60
#define EXT_RO_COMPAT_OFF	0x64
#define EXT_UUID_OFF		0x68
#define EXT_LABEL_OFF		0x78
#define EXT_LABEL_LEN		16
#define EXT_FLAGS_OFF		0x160
#define EXT_CSUM_OFF		0x3fc
#define EXT_COMPAT_HAS_JOURNAL	0x0004u
#define EXT_INCOMPAT_FILETYPE	0x0002u
#define EXT_INCOMPAT_RECOVER	0x0004u
#define EXT_INCOMPAT_JOURNAL_DEV 0x0008u
#define EXT_INCOMPAT_META_BG	0x0010u
#define EXT_RO_SPARSE_SUPER	0x0001u
#define EXT_RO_LARGE_FILE	0x0002u
#define EXT_RO_BTREE_DIR	0x0004u
#define EXT_RO_METADATA_CSUM	0x0400u
/* What ext3 understands; anything else makes it ext4 (as libblkid says). */
#define EXT3_INCOMPAT_SUPP	(EXT_INCOMPAT_FILETYPE | EXT_INCOMPAT_RECOVER | \
				 EXT_INCOMPAT_META_BG)
#define EXT3_RO_SUPP		(EXT_RO_SPARSE_SUPER | EXT_RO_LARGE_FILE | \
				 EXT_RO_BTREE_DIR)

/* ---- XFS superblock (big endian), sector 0 ---- */
#define XFS_MAGIC		"XFSB"
#define XFS_SB_MIN		232	/* through sb_crc */
#define XFS_BLOCKSIZE_OFF	4	/* be32 */
#define XFS_DBLOCKS_OFF		8	/* be64 */
#define XFS_UUID_OFF		32
#define XFS_REXTSIZE_OFF	80	/* be32 */
#define XFS_AGCOUNT_OFF		88	/* be32 */
#define XFS_VERSIONNUM_OFF	100	/* be16 */
#define XFS_SECTSIZE_OFF	102	/* be16 */
#define XFS_INODESIZE_OFF	104	/* be16 */
#define XFS_LABEL_OFF		108
#define XFS_LABEL_LEN		12
#define XFS_BLOCKLOG_OFF	120
#define XFS_SECTLOG_OFF		121
#define XFS_INODELOG_OFF	122
#define XFS_INOPBLOG_OFF	123
#define XFS_IMAX_PCT_OFF	127
#define XFS_FEATURES2_OFF	200	/* be32 */
#define XFS_CRC_OFF		224	/* le32, crc32c of the sector */
#define XFS_VERSION_MOREBITS	0x8000u
#define XFS_VERSION2_CRC	0x0100u

/* ---- Linux swap: magic at the end of the first page ---- */
#define SWAP_MAGIC2		"SWAPSPACE2"
#define SWAP_MAGIC1		"SWAP-SPACE"
#define SWAP_MAGIC_LEN		10
#define SWAP_HDR_OFF		1024
#define SWAP_VERSION_OFF	0	/* le32, relative to SWAP_HDR_OFF */
#define SWAP_LASTPAGE_OFF	4
#define SWAP_UUID_OFF		12
#define SWAP_LABEL_OFF		28
#define SWAP_LABEL_LEN		16
#define SWAP_PAD32_OFF		172	/* padding[32], padding[33]: zero */
#define SWAP_HDR_LEN		180

/* ---- FAT12/16/32 boot sector ---- */
#define FAT_SECTOR_SIZE_OFF	0x0b	/* le16 */
#define FAT_CLUSTER_SIZE_OFF	0x0d	/* u8 sectors */
#define FAT_RESERVED_OFF	0x0e	/* le16 */
#define FAT_FATS_OFF		0x10	/* u8 */
#define FAT_DIR_ENTRIES_OFF	0x11	/* le16 */
#define FAT_SECTORS_OFF		0x13	/* le16 */
#define FAT_MEDIA_OFF		0x15	/* u8 */
#define FAT_FAT_LENGTH_OFF	0x16	/* le16, 0 on FAT32 */
#define FAT_TOTAL_SECT_OFF	0x20	/* le32 */
#define FAT16_EXT_SIG_OFF	0x26
#define FAT16_SERIAL_OFF	0x27
#define FAT16_LABEL_OFF		0x2b
#define FAT16_MAGIC_OFF		0x36
#define FAT32_LENGTH_OFF	0x24	/* le32 */
#define FAT32_ROOT_CLUSTER_OFF	0x2c	/* le32 */
#define FAT32_FSINFO_OFF	0x30	/* le16 sector */
#define FAT32_EXT_SIG_OFF	0x42
#define FAT32_SERIAL_OFF	0x43
#define FAT32_LABEL_OFF		0x47
#define FAT32_MAGIC_OFF		0x52
#define FAT_LABEL_LEN		11
#define FAT_BOOT_SIG_OFF	0x1fe
#define FAT_DIRENT		32
#define FAT_DIRENT_ATTR		11
#define FAT_DIRENT_CLUSTER_HI	20
#define FAT_DIRENT_CLUSTER_LO	26
#define FAT_ATTR_VOLUME_ID	0x08
#define FAT_ATTR_DIR		0x10
#define FAT_ATTR_LONG_NAME	0x0f
#define FAT_ATTR_MASK		0x3f
#define FAT_ENTRY_FREE		0xe5
#define FAT12_MAX		0xff4u
#define FAT16_MAX		0xfff4u
#define FAT32_MAX		0x0ffffff6u
#define FAT32_MAX_CHAIN		100	/* root clusters followed, as libblkid */
#define FSINFO_SIG1_OFF		0
#define FSINFO_SIG2_OFF		484

#endif
