/* On-disk layout of VHD (Virtual Hard Disk Image Format Specification,
 * 2006) and of the VHDX fields we validate ourselves (MS-VHDX).
 * VHD fields are big-endian, VHDX fields little-endian. */
#ifndef VU_VHD_FORMAT_H
#define VU_VHD_FORMAT_H

/* VHD footer: the last 512 bytes of the file (dynamic disks keep a copy at
 * offset 0).  Old writers made 511-byte footers. */
#define VHD_FOOTER_SIZE 512
#define VHD_COOKIE "conectix"
#define VHD_F_COOKIE 0		/* 8 bytes */
#define VHD_F_FEATURES 8	/* be32 */
#define VHD_F_VERSION 12	/* be32, 0x00010000 */
#define VHD_F_DATA_OFFSET 16	/* be64, ~0 for fixed */
#define VHD_F_TIMESTAMP 24	/* be32, seconds since 2000-01-01 */
#define VHD_F_CREATOR_APP 28	/* 4 chars */
#define VHD_F_ORIGINAL_SIZE 40	/* be64 */
#define VHD_F_CURRENT_SIZE 48	/* be64: the virtual disk size */
#define VHD_F_GEOMETRY 56	/* be16 cyl, u8 heads, u8 sectors */
#define VHD_F_DISK_TYPE 60	/* be32 */
#define VHD_F_CHECKSUM 64	/* be32, one's complement of the byte sum */
#define VHD_F_UNIQUE_ID 68	/* 16 bytes */

#define VHD_TYPE_FIXED 2
#define VHD_TYPE_DYNAMIC 3
#define VHD_TYPE_DIFFERENCING 4

/* Dynamic disk header, at the footer's data offset. */
#define VHD_DYN_HEADER_SIZE 1024
#define VHD_DYN_COOKIE "cxsparse"
#define VHD_D_TABLE_OFFSET 16	/* be64: block allocation table */
#define VHD_D_MAX_ENTRIES 28	/* be32 */
#define VHD_D_BLOCK_SIZE 32	/* be32 */
#define VHD_MAX_BLOCK_SIZE (256u << 20) /* larger is taken as damage */
#define VHD_BAT_UNUSED 0xffffffffu	/* block not allocated */
#define VHD_D_CHECKSUM 36	/* be32 */
#define VHD_D_PARENT_ID 40	/* 16 bytes: parent's footer unique id */
#define VHD_D_PARENT_NAME 64	/* 512 bytes UTF-16BE */
#define VHD_D_LOCATORS 576	/* 8 entries of 24 bytes */
#define VHD_LOC_SIZE 24
#define VHD_LOC_CODE 0		/* be32 platform code */
#define VHD_LOC_DATA_LEN 8	/* be32 */
#define VHD_LOC_DATA_OFFSET 16	/* be64 */
#define VHD_PLAT_W2RU 0x57327275 /* "W2ru": relative Windows path, UTF-16LE */
#define VHD_PLAT_W2KU 0x57326b75 /* "W2ku": absolute Windows path, UTF-16LE */

/* VHDX */
#define VHDX_SIGNATURE "vhdxfile"
#define VHDX_HEADER1_OFFSET (64 * 1024)
#define VHDX_HEADER2_OFFSET (128 * 1024)
#define VHDX_HEADER_SIZE 4096
#define VHDX_H_SIGNATURE 0	/* "head" */
#define VHDX_H_CHECKSUM 4	/* le32 CRC-32C over 4 KiB, field zeroed */
#define VHDX_H_SEQUENCE 8	/* le64 */
#define VHDX_H_FILE_WRITE_GUID 16
#define VHDX_H_DATA_WRITE_GUID 32
#define VHDX_H_LOG_GUID 48	/* zero: the log is empty */
#define VHDX_H_LOG_VERSION 64
#define VHDX_H_VERSION 66	/* le16, 1 */
#define VHDX_H_LOG_LENGTH 68
#define VHDX_H_LOG_OFFSET 72

#define VHDX_REGION1_OFFSET (192 * 1024)
#define VHDX_REGION2_OFFSET (256 * 1024)
#define VHDX_REGION_SIZE (64 * 1024)
#define VHDX_R_SIGNATURE 0	/* "regi" */
#define VHDX_R_CHECKSUM 4	/* le32 CRC-32C over 64 KiB, field zeroed */
#define VHDX_R_COUNT 8		/* le32, at most 2047 */
#define VHDX_R_ENTRIES 16	/* 32 bytes each */
#define VHDX_RE_SIZE 32
#define VHDX_RE_GUID 0
#define VHDX_RE_OFFSET 16	/* le64 */
#define VHDX_RE_LENGTH 24	/* le32 */
#define VHDX_RE_REQUIRED 28	/* le32 bit 0 */
#define VHDX_REGION_MAX 2047


/* VHDX metadata region (MS-VHDX 2.6) and block allocation table (2.5). */
#define VHDX_BAT_GUID "2dc27766-f623-4200-9d64-115e9bfd4a08"
#define VHDX_METADATA_GUID "8b7ca206-4790-4b9a-b8fe-575f050f886e"
#define VHDX_M_SIGNATURE "metadata"
#define VHDX_M_COUNT 10		/* le16 */
#define VHDX_M_ENTRIES 32	/* 32 bytes each */
#define VHDX_ME_SIZE 32
#define VHDX_ME_OFFSET 16	/* le32, from the region start */
#define VHDX_ME_LENGTH 20	/* le32 */
#define VHDX_FILE_PARAMS_GUID "caa16737-fa36-4d43-b3b6-33f0aa44e76b"
#define VHDX_DISK_SIZE_GUID "2fa54224-cd1b-4876-b211-5dbed83bf4b8"
#define VHDX_LOGICAL_SECTOR_GUID "8141bf1d-a96f-4709-ba47-f233a8faab5f"
#define VHDX_BAT_STATE(e) ((e) & 7)
#define VHDX_BAT_OFFSET(e) ((e) & ~(uint64_t)0xfffff)
#define VHDX_ME_ITEM_ID 0	/* GUID */
#define VHDX_ME_FLAGS 24	/* le32 */
#define VHDX_ME_IS_REQUIRED 4u	/* flag bit 2 */
#define VHDX_M_TABLE_SIZE (64 * 1024) /* items start after the table */
#define VHDX_M_MAX_ITEM (1024 * 1024)
#define VHDX_PHYSICAL_SECTOR_GUID "cda348c7-445d-4471-9cc9-e9885251c556"
#define VHDX_PAGE83_GUID "beca12ab-b2e6-4523-93ef-c309e000c746"
#define VHDX_PARENT_LOCATOR_GUID "a8d35f2d-b30b-454d-abf7-d3d84834ab0c"
/* File Parameters: le32 block size, le32 flags */
#define VHDX_FP_LEAVE_ALLOCATED 1u
#define VHDX_FP_HAS_PARENT 2u
#define VHDX_MAX_DISK_SIZE (64ull << 40) /* 64 TiB */
#define VHDX_MIN_BLOCK_SIZE (1u << 20)
#define VHDX_MAX_BLOCK_SIZE (256u << 20)

/* Parent locator (2.6.2.6): type GUID, le16 reserved, le16 entry count,
 * then 12-byte entries (le32 key offset, le32 value offset, le16 key
 * length, le16 value length); offsets from the locator's start, strings
 * UTF-16LE without terminator. */
#define VHDX_LOCATOR_TYPE_GUID "b04aefb7-d19e-4a81-b789-25b8e9445913"
#define VHDX_PL_COUNT 18
#define VHDX_PL_ENTRIES 20
#define VHDX_PLE_SIZE 12

/* BAT entry (2.5.1): state in bits 0-2, file offset in MiB from bit 20.
 * Every chunk_ratio payload entries are followed by one sector bitmap
 * entry; chunk_ratio = 2^23 * logical sector size / block size. */
#define VHDX_SECTORS_PER_CHUNK (1ull << 23)
#define VHDX_SB_BLOCK_SIZE (1024 * 1024)
#define VHDX_PAYLOAD_NOT_PRESENT 0
#define VHDX_PAYLOAD_UNDEFINED 1
#define VHDX_PAYLOAD_ZERO 2
#define VHDX_PAYLOAD_UNMAPPED 3
#define VHDX_PAYLOAD_UNMAPPED_V095 5 /* the 0.95 draft's value */
#define VHDX_PAYLOAD_FULLY_PRESENT 6
#define VHDX_PAYLOAD_PARTIALLY_PRESENT 7
#define VHDX_SB_NOT_PRESENT 0
#define VHDX_SB_PRESENT 6

#endif
