/* Linux md (mdadm) RAID superblocks, as the kernel's
 * include/uapi/linux/raid/md_p.h lays them out and md(4) documents them.
 * Version 1.x is little-endian; version 0.90 is in the byte order of the
 * machine that wrote it, which for every Azure VM is little-endian (a
 * big-endian one is refused by its magic).  Offsets in bytes. */
#ifndef VU_MD_FORMAT_H
#define VU_MD_FORMAT_H

#define MD_MAGIC		0xa92b4efcu
#define MD_SECTOR		512

/* ---- version 1.x: struct mdp_superblock_1 ----
 * 1.1 at sector 0, 1.2 at sector 8, 1.0 at ((sectors - 16) & ~7) of a
 * member of that many sectors (at least 32). */
#define MD11_OFFSET		0
#define MD12_OFFSET		4096
#define MD10_OFFSET(bytes) \
	((((bytes) / MD_SECTOR - 16) & ~7ull) * MD_SECTOR)
#define MD1_MAGIC		0	/* le32 */
#define MD1_MAJOR		4	/* le32: 1 */
#define MD1_FEATURE_MAP		8	/* le32 */
#define MD1_SET_UUID		16	/* 16 bytes */
#define MD1_SET_NAME		32	/* 32 bytes, "host:name" */
#define MD1_SET_NAME_LEN	32
#define MD1_CTIME		64	/* le64, low 40 bits: seconds */
#define MD1_LEVEL		72	/* le32, signed: -1 linear */
#define MD1_LAYOUT		76	/* le32 */
#define MD1_SIZE		80	/* le64: sectors used per member */
#define MD1_CHUNKSIZE		88	/* le32: sectors */
#define MD1_RAID_DISKS		92	/* le32 */
#define MD1_NEW_LEVEL		100
#define MD1_RESHAPE_POS		104	/* le64 */
#define MD1_DATA_OFFSET		128	/* le64: sectors, from 0 */
#define MD1_DATA_SIZE		136	/* le64: sectors for data */
#define MD1_SUPER_OFFSET	144	/* le64: sectors: where this sb is */
#define MD1_RECOVERY_OFFSET	152	/* le64: sectors rebuilt so far */
#define MD1_DEV_NUMBER		160	/* le32: index in dev_roles */
#define MD1_DEVICE_UUID		168	/* 16 bytes */
#define MD1_UTIME		192	/* le64 */
#define MD1_EVENTS		200	/* le64 */
#define MD1_RESYNC_OFFSET	208	/* le64 */
#define MD1_SB_CSUM		216	/* le32 */
#define MD1_MAX_DEV		220	/* le32: entries in dev_roles */
#define MD1_DEV_ROLES		256	/* le16 each */
#define MD1_HEADER_SIZE		256
#define MD1_MAX_SIZE		4096	/* with its roles */
#define MD1_MAX_DEV_LIMIT	((MD1_MAX_SIZE - MD1_HEADER_SIZE) / 2)

/* dev_roles values that are not a slot */
#define MD_ROLE_SPARE		0xffffu
#define MD_ROLE_FAULTY		0xfffeu
#define MD_ROLE_JOURNAL		0xfffdu
#define MD_ROLE_MAX		0xff00u	/* below: an active slot */

/* feature_map bits */
#define MD_FEATURE_BITMAP_OFFSET	0x0001u
#define MD_FEATURE_RECOVERY_OFFSET	0x0002u	/* rebuilding */
#define MD_FEATURE_RESHAPE_ACTIVE	0x0004u
#define MD_FEATURE_BAD_BLOCKS		0x0008u
#define MD_FEATURE_REPLACEMENT		0x0010u
#define MD_FEATURE_RESHAPE_BACKWARDS	0x0020u
#define MD_FEATURE_NEW_OFFSET		0x0040u
#define MD_FEATURE_RECOVERY_BITMAP	0x0080u
#define MD_FEATURE_CLUSTERED		0x0100u
#define MD_FEATURE_JOURNAL		0x0200u
#define MD_FEATURE_PPL			0x0400u
#define MD_FEATURE_MULTIPLE_PPLS	0x0800u
#define MD_FEATURE_RAID0_LAYOUT		0x1000u
#define MD_FEATURE_ALL			0x1fffu

/* ---- version 0.90: mdp_super_t, 4096 bytes of 32-bit words, in the
 * last 64 KiB-aligned 64 KiB of the member; data from sector 0 ---- */
#define MD0_RESERVED		65536	/* bytes kept at the end */
/* where a member of that many bytes (at least 2 * MD0_RESERVED) keeps it */
#define MD0_OFFSET(bytes) \
	(((bytes) & ~(MD0_RESERVED - 1ull)) - MD0_RESERVED)
#define MD0_SIZE		4096
#define MD0_W(n)		((n) * 4)	/* word n's offset */
#define MD0_MAGIC		MD0_W(0)
#define MD0_MAJOR		MD0_W(1)	/* 0 */
#define MD0_MINOR		MD0_W(2)	/* 90; 91: reshaping */
#define MD0_SET_UUID0		MD0_W(5)
#define MD0_CTIME		MD0_W(6)
#define MD0_LEVEL		MD0_W(7)
#define MD0_SIZE_KB		MD0_W(8)	/* KiB of each member used */
#define MD0_NR_DISKS		MD0_W(9)
#define MD0_RAID_DISKS		MD0_W(10)
#define MD0_MD_MINOR		MD0_W(11)
#define MD0_SET_UUID1		MD0_W(13)	/* and words 14, 15 */
#define MD0_UTIME		MD0_W(32)
#define MD0_STATE		MD0_W(33)
#define MD0_SB_CSUM		MD0_W(38)
#define MD0_EVENTS_LO		MD0_W(39)	/* little-endian order */
#define MD0_EVENTS_HI		MD0_W(40)
#define MD0_LAYOUT		MD0_W(64)
#define MD0_CHUNK_SIZE		MD0_W(65)	/* bytes */
#define MD0_DISKS		MD0_W(128)	/* 27 descriptors */
#define MD0_NDISKS		27
#define MD0_THIS_DISK		MD0_W(992)
#define MD0_DESC_SIZE		MD0_W(32)
/* in a descriptor */
#define MD0_D_NUMBER		MD0_W(0)
#define MD0_D_RAID_DISK		MD0_W(3)
#define MD0_D_STATE		MD0_W(4)
#define MD0_DISK_FAULTY		0x1u
#define MD0_DISK_ACTIVE		0x2u
#define MD0_DISK_SYNC		0x4u
#define MD0_DISK_REMOVED	0x8u

/* levels */
#define MD_LEVEL_LINEAR		(-1)
#define MD_LEVEL_MULTIPATH	(-4)

/* RAID5 layouts (the kernel's ALGORITHM_*); mdadm's ddf-* names for
 * RAID5 write the first three */
#define MD_R5_LEFT_ASYMMETRIC	0
#define MD_R5_RIGHT_ASYMMETRIC	1
#define MD_R5_LEFT_SYMMETRIC	2
#define MD_R5_RIGHT_SYMMETRIC	3
#define MD_R5_PARITY_0		4
#define MD_R5_PARITY_N		5

/* RAID0 layout over members of different sizes: which member a chunk of a
 * zone after the first goes to counts chunks from the array's start
 * (original, kernels before 3.14) or from the zone's (alternate) */
#define MD_R0_ORIGINAL		1
#define MD_R0_ALTERNATE		2

/* RAID10 layout: near copies in bits 0-7, far copies in 8-15, bit 16:
 * far copies offset, bit 17: far sets */
#define MD_R10_NEAR(l)		((l) & 0xffu)
#define MD_R10_FAR(l)		(((l) >> 8) & 0xffu)
#define MD_R10_OFFSET		0x10000u

#endif
