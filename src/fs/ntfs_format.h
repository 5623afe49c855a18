/* The parts of the NTFS on-disk format that we read ourselves: the boot
 * sector, MFT records and their attributes, attribute lists, run lists,
 * $I30 directory indexes and reparse point buffers (the libyal "New
 * Technologies File System (NTFS)" notes and ntfs-3g's layout.h describe
 * them).  fs_ntfs.c and the volume probe (volume/probe_fs.c) both use it.
 * All integers little-endian; offsets in bytes. */
#ifndef VU_NTFS_FORMAT_H
#define VU_NTFS_FORMAT_H

/* boot sector; the FAT fields of the BIOS parameter block are all zero */
#define NTFS_BOOT_OEM		3	/* NTFS_OEM_ID */
#define NTFS_OEM_ID		"NTFS    "
#define NTFS_OEM_ID_LEN		8
#define NTFS_BOOT_BPS		0x0b	/* le16 bytes per sector */
#define NTFS_BOOT_SPC		0x0d	/* u8 sectors per cluster, or 2^(256-n) */
#define NTFS_BOOT_RESERVED	0x0e	/* le16, 0 */
#define NTFS_BOOT_FATS		0x10	/* u8, 0 */
#define NTFS_BOOT_ROOT_ENTRIES	0x11	/* le16, 0 */
#define NTFS_BOOT_SECTORS16	0x13	/* le16, 0 */
#define NTFS_BOOT_FAT_LENGTH	0x16	/* le16, 0 */
#define NTFS_BOOT_SECTORS32	0x20	/* le32, 0 */
#define NTFS_BOOT_TOTAL_SECTORS	0x28	/* le64 */
#define NTFS_BOOT_MFT_LCN	0x30	/* le64 */
#define NTFS_BOOT_MFTMIRR_LCN	0x38	/* le64 */
#define NTFS_BOOT_MFT_RECSIZE	0x40	/* s8: clusters, or 2^-n bytes */
#define NTFS_BOOT_INDX_SIZE	0x44	/* s8: clusters, or 2^-n bytes */
#define NTFS_BOOT_SERIAL	0x48	/* le64 volume serial number */
#define NTFS_BOOT_SIGNATURE	0x1fe	/* 0x55 0xaa */
#define NTFS_BOOT_SIZE		512

/* multi-sector structures (MFT records, index blocks) start with the
 * update sequence array header: core/usa.h */

/* MFT record */
#define MFT_MAGIC		"FILE"
#define MFT_SEQ			0x10	/* le16 sequence number */
#define MFT_LINKS		0x12	/* le16 */
#define MFT_ATTRS		0x14	/* le16 offset of the first attribute */
#define MFT_FLAGS		0x16	/* le16 */
#define MFT_USED		0x18	/* le32 bytes in use */
#define MFT_ALLOC		0x1c	/* le32 record size */
#define MFT_BASE		0x20	/* le64 base record reference, 0 in base */
#define MFT_NUMBER		0x2c	/* le32 own number (NTFS 3.1 records) */
#define MFT_HDR_31		0x30	/* header size with MFT_NUMBER */
#define MFT_FLAG_IN_USE		0x0001
#define MFT_FLAG_DIRECTORY	0x0002	/* has a $I30 index */
#define MFT_RECORD_MIN		1024u
#define MFT_RECORD_MAX		65536u

/* well-known records */
#define MFT_REC_MFT		0
#define MFT_REC_VOLUME		3	/* $Volume: the label */
#define MFT_REC_ROOT		5
#define MFT_REC_UPCASE		10
#define MFT_REC_RESERVED_END	16	/* 0..15: the metadata files */

/* file references: 48-bit record number, 16-bit sequence number */
#define MFT_REF_INDEX(r)	((uint64_t)(r) & UINT64_C(0xffffffffffff))
#define MFT_REF_SEQ(r)		((uint16_t)((r) >> 48))

/* attribute header (common part) */
#define ATTR_TYPE		0x00	/* le32 */
#define ATTR_LEN		0x04	/* le32 */
#define ATTR_NONRES		0x08	/* u8 */
#define ATTR_NAME_LEN		0x09	/* u8, UTF-16 units */
#define ATTR_NAME_OFS		0x0a	/* le16 */
#define ATTR_FLAGS		0x0c	/* le16 */
/* resident */
#define ATTR_VALUE_LEN		0x10	/* le32 */
#define ATTR_VALUE_OFS		0x14	/* le16 */
#define ATTR_RES_HDR		0x18
/* non-resident */
#define ATTR_LOWEST_VCN		0x10	/* le64 */
#define ATTR_HIGHEST_VCN	0x18	/* le64, -1 when no clusters */
#define ATTR_RUNS_OFS		0x20	/* le16 */
#define ATTR_CU_SHIFT		0x22	/* le16: compression unit 2^n clusters */
#define ATTR_ALLOC_SIZE		0x28	/* le64, first chunk only */
#define ATTR_DATA_SIZE		0x30	/* le64 */
#define ATTR_INIT_SIZE		0x38	/* le64: valid data length */
#define ATTR_COMP_SIZE		0x40	/* le64, compressed or sparse only */
#define ATTR_NONRES_HDR		0x40
#define ATTR_NONRES_HDR_COMP	0x48

#define ATTR_FLAG_COMPRESSED	0x00ff	/* compression method mask */
#define ATTR_FLAG_ENCRYPTED	0x4000
#define ATTR_FLAG_SPARSE	0x8000

/* attribute types */
#define AT_STANDARD_INFORMATION	0x10
#define AT_ATTRIBUTE_LIST	0x20
#define AT_FILE_NAME		0x30
#define AT_DATA			0x80
#define AT_INDEX_ROOT		0x90
#define AT_INDEX_ALLOCATION	0xa0
#define AT_VOLUME_NAME		0x60	/* in $Volume: UTF-16LE, no NUL */
#define AT_REPARSE_POINT	0xc0
#define AT_END			0xffffffffu

/* $STANDARD_INFORMATION (FILETIME: 100 ns since 1601-01-01 UTC) */
#define SI_CREATION		0x00	/* le64 */
#define SI_MODIFICATION		0x08
#define SI_MFT_CHANGE		0x10
#define SI_ACCESS		0x18
#define SI_FILE_ATTRS		0x20	/* le32 */
#define SI_MIN			0x30	/* NTFS 1.2 size; 3.x has 0x48 */

/* file attribute flags ($STANDARD_INFORMATION, $FILE_NAME) */
#define FILE_ATTR_SPARSE	0x00000200
#define FILE_ATTR_REPARSE	0x00000400
#define FILE_ATTR_COMPRESSED	0x00000800
#define FILE_ATTR_OFFLINE	0x00001000
#define FILE_ATTR_ENCRYPTED	0x00004000
#define FILE_ATTR_RECALL_ON_DATA_ACCESS 0x00400000

/* $FILE_NAME (also the key of $I30 index entries) */
#define FN_PARENT		0x00	/* le64 reference */
#define FN_NAME_LEN		0x40	/* u8, UTF-16 units */
#define FN_NAMESPACE		0x41	/* u8 */
#define FN_NAME			0x42
#define FN_NS_POSIX		0
#define FN_NS_WIN32		1
#define FN_NS_DOS		2
#define FN_NS_WIN32_DOS		3

/* $ATTRIBUTE_LIST entries */
#define AL_TYPE			0x00	/* le32 */
#define AL_LEN			0x04	/* le16 */
#define AL_NAME_LEN		0x06	/* u8 */
#define AL_NAME_OFS		0x07	/* u8 */
#define AL_LOWEST_VCN		0x08	/* le64 */
#define AL_REF			0x10	/* le64 */
#define AL_MIN			0x1a

/* $INDEX_ROOT value, then an index node header */
#define IR_TYPE			0x00	/* le32: 0x30 for $I30 */
#define IR_BLOCK_SIZE		0x08	/* le32 */
#define IR_NODE			0x10
/* index node header (in the root, and at 0x18 of an INDX block) */
#define IN_ENTRIES_OFS		0x00	/* le32, from the node header */
#define IN_INDEX_LEN		0x04	/* le32, from the node header */
#define IN_HDR			0x10
/* INDX block */
#define INDX_VCN		0x10	/* le64 */
#define INDX_NODE		0x18
/* index entry */
#define IE_REF			0x00	/* le64 */
#define IE_LEN			0x08	/* le16 */
#define IE_KEY_LEN		0x0a	/* le16 */
#define IE_FLAGS		0x0c	/* le32 */
#define IE_KEY			0x10
#define IE_FLAG_SUBNODE		0x01	/* le64 child VCN in the last 8 bytes */
#define IE_FLAG_LAST		0x02

/* reparse point buffer: le32 tag, le16 data length, le16 reserved, data */
#define RP_TAG			0x00
#define RP_DATA_LEN		0x04
#define RP_HDR			0x08
/* symbolic links and junctions (mount points): le16 substitute name
 * offset and length, le16 print name offset and length (bytes, from the
 * path buffer), then for symbolic links le32 flags; then the path buffer */
#define RP_SUBST_OFS		0x08
#define RP_SUBST_LEN		0x0a
#define RP_PRINT_OFS		0x0c
#define RP_PRINT_LEN		0x0e
#define RP_SYMLINK_FLAGS	0x10
#define RP_JUNCTION_PATH	0x10
#define RP_SYMLINK_PATH		0x14
#define RP_SYMLINK_RELATIVE	0x00000001

#define IO_REPARSE_TAG_MOUNT_POINT	0xa0000003u
#define IO_REPARSE_TAG_HSM		0xc0000004u
#define IO_REPARSE_TAG_HSM2		0x80000006u
#define IO_REPARSE_TAG_SIS		0x80000007u
#define IO_REPARSE_TAG_SYMLINK		0xa000000cu
#define IO_REPARSE_TAG_DEDUP		0x80000013u
#define IO_REPARSE_TAG_WOF		0x80000017u
/* cloud files (OneDrive): 0x9000001a with the low bits of the second
 * byte as flags (0x9000101a, 0x9000201a ... 0x9000f01a) */
#define IO_REPARSE_TAG_CLOUD_MASK	0xffff0fffu
#define IO_REPARSE_TAG_CLOUD		0x9000001au

#endif
