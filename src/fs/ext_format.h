/* The ext2/3/4 superblock fields we read ourselves (the kernel's
 * Documentation/filesystems/ext4/super.rst): the volume probe names the
 * volume with them (volume/probe_fs.c); fs_ext.c reads everything through
 * libext2fs.  All integers little-endian; offsets in bytes from the start
 * of the superblock. */
#ifndef VU_EXT_FORMAT_H
#define VU_EXT_FORMAT_H

#define EXT_SB_OFF		1024	/* from the start of the volume */
#define EXT_SB_LEN		1024
#define EXT_SB_MAGIC_OFF	0x38	/* le16 */
#define EXT_SB_MAGIC		0xef53
#define EXT_SB_COMPAT		0x5c	/* le32 feature flags */
#define EXT_SB_INCOMPAT		0x60
#define EXT_SB_RO_COMPAT	0x64
#define EXT_SB_UUID		0x68	/* 16 bytes */
#define EXT_SB_LABEL		0x78	/* NUL-padded */
#define EXT_SB_LABEL_LEN	16
#define EXT_SB_CSUM		0x3fc	/* le32 crc32c of the bytes before */

#define EXT_COMPAT_HAS_JOURNAL	0x0004u
#define EXT_INCOMPAT_FILETYPE	0x0002u
#define EXT_INCOMPAT_RECOVER	0x0004u
#define EXT_INCOMPAT_JOURNAL_DEV 0x0008u
#define EXT_INCOMPAT_META_BG	0x0010u
#define EXT_RO_SPARSE_SUPER	0x0001u
#define EXT_RO_LARGE_FILE	0x0002u
#define EXT_RO_BTREE_DIR	0x0004u
#define EXT_RO_METADATA_CSUM	0x0400u

#endif
