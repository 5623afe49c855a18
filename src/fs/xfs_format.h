/* The parts of the XFS on-disk format that we read ourselves (the Linux
 * kernel's fs/xfs/libxfs/xfs_format.h and xfs_da_format.h): the
 * superblock (fs_xfs.c and the volume probe, volume/probe_fs.c), the inode
 * core, the data fork's extent records and B+tree, and the head of a
 * directory (for "..").  All integers big-endian except the CRCs
 * (little-endian CRC-32C). */
#ifndef VU_XFS_FORMAT_H
#define VU_XFS_FORMAT_H

/* superblock, at byte 0 of the volume (and of each AG) */
#define XFS_SB_MAGIC		0x58465342	/* "XFSB" */
#define XFS_SB_BLOCKSIZE	4	/* be32 */
#define XFS_SB_DBLOCKS		8	/* be64 */
#define XFS_SB_UUID		32	/* 16 bytes */
#define XFS_SB_ROOTINO		56	/* be64 */
#define XFS_SB_REXTSIZE		80	/* be32, blocks */
#define XFS_SB_AGBLOCKS		84	/* be32 */
#define XFS_SB_AGCOUNT		88	/* be32 */
#define XFS_SB_VERSIONNUM	100	/* be16, low 4 bits: 4 or 5 */
#define XFS_SB_SECTSIZE		102	/* be16 */
#define XFS_SB_INODESIZE	104	/* be16 */
#define XFS_SB_INOPBLOCK	106	/* be16 */
#define XFS_SB_FNAME		108	/* label, NUL-padded */
#define XFS_SB_FNAME_LEN	12
#define XFS_SB_BLOCKLOG		120	/* u8 */
#define XFS_SB_SECTLOG		121
#define XFS_SB_INODELOG		122
#define XFS_SB_INOPBLOG		123
#define XFS_SB_AGBLKLOG		124
#define XFS_SB_IMAX_PCT		127	/* u8: inode space, percent */
#define XFS_SB_DIRBLKLOG	192	/* u8: directory block = block << this */
#define XFS_SB_FEATURES2	200	/* be32 */
#define XFS_SB_INCOMPAT		216	/* be32, v5 */
#define XFS_SB_CRC		224	/* le32, v5, over the first sector */
#define XFS_SB_SIZE		512	/* what we read */

#define XFS_SB_VERSION_NUMBITS	0x000f
#define XFS_SB_VERSION_5	5
#define XFS_SB_VERSION_MOREBITS	0x8000	/* features2 is valid */
#define XFS_SB_VERSION2_CRC	0x00000100	/* features2 */
#define XFS_SB_VERSION2_FTYPE	0x00000200	/* v4 features2 */
#define XFS_INCOMPAT_FTYPE	0x01
#define XFS_INCOMPAT_SPINODES	0x02
#define XFS_INCOMPAT_META_UUID	0x04
#define XFS_INCOMPAT_BIGTIME	0x08
#define XFS_INCOMPAT_NEEDSREPAIR 0x10
#define XFS_INCOMPAT_NREXT64	0x20
#define XFS_INCOMPAT_KNOWN	0x3f

/* inode core (xfs_dinode) */
#define XFS_DINODE_MAGIC	0x494e		/* "IN" */
#define XFS_DI_MAGIC		0	/* be16 */
#define XFS_DI_MODE		2	/* be16 */
#define XFS_DI_VERSION		4	/* u8: 1, 2, 3 (v5 file systems) */
#define XFS_DI_FORMAT		5	/* u8: data fork format */
#define XFS_DI_ONLINK		6	/* be16, v1 link count */
#define XFS_DI_UID		8	/* be32 */
#define XFS_DI_GID		12	/* be32 */
#define XFS_DI_NLINK		16	/* be32, v2+ */
#define XFS_DI_BIG_NEXTENTS	24	/* be64, v3 with NREXT64 */
#define XFS_DI_ATIME		32	/* be32 sec + be32 nsec, or be64 */
#define XFS_DI_MTIME		40
#define XFS_DI_CTIME		48
#define XFS_DI_SIZE		56	/* be64 */
#define XFS_DI_NBLOCKS		64	/* be64, file system blocks */
#define XFS_DI_NEXTENTS		76	/* be32 */
#define XFS_DI_FORKOFF		82	/* u8: attribute fork at this * 8 */
#define XFS_DI_FLAGS		90	/* be16 */
#define XFS_DI_CRC		100	/* le32, v3 */
#define XFS_DI_FLAGS2		120	/* be64, v3 */
#define XFS_DI_CRTIME		144	/* v3 */
#define XFS_DI_INO		152	/* be64, v3: the inode's own number */
#define XFS_DI_CORE_V2		100	/* data fork after the v1/v2 core */
#define XFS_DI_CORE_V3		176	/* ... after the v3 core */

#define XFS_DINODE_FMT_LOCAL	1
#define XFS_DINODE_FMT_EXTENTS	2
#define XFS_DINODE_FMT_BTREE	3

#define XFS_DIFLAG_REALTIME	0x0001
#define XFS_DIFLAG2_BIGTIME	0x0008	/* be64 ns since 1901-12-13 */
#define XFS_DIFLAG2_NREXT64	0x0010
#define XFS_BIGTIME_EPOCH_OFFSET 2147483648LL	/* 2^31 seconds */

/* bmbt record: 128 bits, big-endian: flag:1 startoff:54 startblock:52
 * blockcount:21 */
#define XFS_BMBT_REC		16

/* bmbt root in the inode (xfs_bmdr_block): be16 level, be16 numrecs, then
 * maxrecs be64 keys and maxrecs be64 pointers filling the fork */
#define XFS_BMDR_HDR		4
/* bmbt blocks (long-format btree blocks) */
#define XFS_BMAP_MAGIC		0x424d4150	/* "BMAP", v4 */
#define XFS_BMAP_CRC_MAGIC	0x424d4133	/* "BMA3", v5 */
#define XFS_BTREE_LEVEL		4	/* be16 */
#define XFS_BTREE_NUMRECS	6	/* be16 */
#define XFS_BTREE_OWNER		56	/* be64, v5 */
#define XFS_BTREE_CRC		64	/* le32, v5 */
#define XFS_BTREE_LHDR_V4	24
#define XFS_BTREE_LHDR_V5	72
#define XFS_BTREE_MAXLEVELS	9

/* directories: short form in the inode (be8 count, be8 i8count, parent
 * as 4 or 8 bytes), or data blocks starting with a header */
#define XFS_DIR2_BLOCK_MAGIC	0x58443242	/* "XD2B" */
#define XFS_DIR2_DATA_MAGIC	0x58443244	/* "XD2D" */
#define XFS_DIR3_BLOCK_MAGIC	0x58444233	/* "XDB3" */
#define XFS_DIR3_DATA_MAGIC	0x58444433	/* "XDD3" */
#define XFS_DIR2_DATA_HDR	16
#define XFS_DIR3_DATA_HDR	64
#define XFS_DIR2_DATA_FREE_TAG	0xffff	/* unused entry: be16 tag, be16 len */

#endif
