/* On-disk layout of the GUID partition table (UEFI 2.10, section 5.3).
 * Offsets in bytes; fields little-endian; decoded explicitly, never cast. */
#ifndef VU_GPT_FORMAT_H
#define VU_GPT_FORMAT_H

#include <stdint.h>
#include <string.h>

#include "core/bytes.h"

#define GPT_SIGNATURE "EFI PART"
#define GPT_SIGNATURE_LEN 8u
#define GPT_PRIMARY_LBA 1u
#define GPT_REVISION_1 0x00010000u

/* Header fields. */
#define GPT_H_SIGNATURE 0u
#define GPT_H_REVISION 8u	/* u32 */
#define GPT_H_HEADER_SIZE 12u	/* u32, 92..sector size */
#define GPT_H_HEADER_CRC 16u	/* u32, over header_size bytes, itself 0 */
#define GPT_H_MY_LBA 24u	/* u64 */
#define GPT_H_ALTERNATE_LBA 32u /* u64 */
#define GPT_H_FIRST_USABLE 40u	/* u64 */
#define GPT_H_LAST_USABLE 48u	/* u64, inclusive */
#define GPT_H_DISK_GUID 56u	/* 16 bytes */
#define GPT_H_ENTRIES_LBA 72u	/* u64 */
#define GPT_H_NUM_ENTRIES 80u	/* u32 */
#define GPT_H_ENTRY_SIZE 84u	/* u32, 128 * 2^n */
#define GPT_H_ENTRIES_CRC 88u	/* u32, over num * size bytes */
#define GPT_HEADER_MIN 92u

/* Partition entry fields. */
#define GPT_E_TYPE_GUID 0u
#define GPT_E_PART_GUID 16u
#define GPT_E_FIRST_LBA 32u	/* u64 */
#define GPT_E_LAST_LBA 40u	/* u64, inclusive */
#define GPT_E_ATTRIBUTES 48u	/* u64 */
#define GPT_E_NAME 56u		/* 36 UTF-16LE units */
#define GPT_E_NAME_UNITS 36u
#define GPT_ENTRY_MIN 128u

/* Bound on the entry array we are willing to read (num * size). */
#define GPT_ENTRIES_MAX_BYTES (4u << 20)

struct gpt_header {
	uint32_t revision;
	uint32_t header_size;
	uint32_t header_crc;
	uint64_t my_lba;
	uint64_t alternate_lba;
	uint64_t first_usable;
	uint64_t last_usable;
	uint8_t disk_guid[16];
	uint64_t entries_lba;
	uint32_t num_entries;
	uint32_t entry_size;
	uint32_t entries_crc;
};

static inline int gpt_has_signature(const uint8_t *h)
{
	return memcmp(h + GPT_H_SIGNATURE, GPT_SIGNATURE,
		      GPT_SIGNATURE_LEN) == 0;
}

static inline void gpt_header_decode(const uint8_t *h, struct gpt_header *g)
{
	g->revision = vu_le32(h + GPT_H_REVISION);
	g->header_size = vu_le32(h + GPT_H_HEADER_SIZE);
	g->header_crc = vu_le32(h + GPT_H_HEADER_CRC);
	g->my_lba = vu_le64(h + GPT_H_MY_LBA);
	g->alternate_lba = vu_le64(h + GPT_H_ALTERNATE_LBA);
	g->first_usable = vu_le64(h + GPT_H_FIRST_USABLE);
	g->last_usable = vu_le64(h + GPT_H_LAST_USABLE);
	memcpy(g->disk_guid, h + GPT_H_DISK_GUID, 16);
	g->entries_lba = vu_le64(h + GPT_H_ENTRIES_LBA);
	g->num_entries = vu_le32(h + GPT_H_NUM_ENTRIES);
	g->entry_size = vu_le32(h + GPT_H_ENTRY_SIZE);
	g->entries_crc = vu_le32(h + GPT_H_ENTRIES_CRC);
}

/* The fields of g into the header at h (header_size bytes, zeroed by the
 * caller), the signature with them; both CRCs as g has them. */
static inline void gpt_header_encode(uint8_t *h, const struct gpt_header *g)
{
	memcpy(h + GPT_H_SIGNATURE, GPT_SIGNATURE, GPT_SIGNATURE_LEN);
	vu_put_le32(h + GPT_H_REVISION, g->revision);
	vu_put_le32(h + GPT_H_HEADER_SIZE, g->header_size);
	vu_put_le32(h + GPT_H_HEADER_CRC, g->header_crc);
	vu_put_le64(h + GPT_H_MY_LBA, g->my_lba);
	vu_put_le64(h + GPT_H_ALTERNATE_LBA, g->alternate_lba);
	vu_put_le64(h + GPT_H_FIRST_USABLE, g->first_usable);
	vu_put_le64(h + GPT_H_LAST_USABLE, g->last_usable);
	memcpy(h + GPT_H_DISK_GUID, g->disk_guid, 16);
	vu_put_le64(h + GPT_H_ENTRIES_LBA, g->entries_lba);
	vu_put_le32(h + GPT_H_NUM_ENTRIES, g->num_entries);
	vu_put_le32(h + GPT_H_ENTRY_SIZE, g->entry_size);
	vu_put_le32(h + GPT_H_ENTRIES_CRC, g->entries_crc);
}

#endif
