/* On-disk layout of the MBR and of extended boot records (EBRs).
 * Offsets in bytes; fields little-endian; decoded explicitly, never cast. */
#ifndef VU_MBR_FORMAT_H
#define VU_MBR_FORMAT_H

#include <stdint.h>

#include "core/bytes.h"

#define MBR_SIZE 512u
#define MBR_DISK_SIG_OFF 440u	/* u32 NT disk signature */
#define MBR_TABLE_OFF 446u	/* four 16-byte entries */
#define MBR_ENTRY_SIZE 16u
#define MBR_ENTRIES 4u
#define MBR_MAGIC_OFF 510u	/* 55 AA */
#define MBR_MAGIC 0xaa55u

/* Entry fields, relative to the entry. */
#define MBR_E_BOOT 0u		/* 0x00 or 0x80 */
#define MBR_E_TYPE 4u
#define MBR_E_START 8u		/* u32 LBA */
#define MBR_E_SIZE 12u		/* u32 sectors */

#define MBR_TYPE_EMPTY 0x00u
#define MBR_TYPE_GPT_PROTECTIVE 0xeeu

/* Logical partitions per extended partition (EBRs followed). */
#define MBR_MAX_LOGICALS 128u

struct mbr_entry {
	uint8_t boot;
	uint8_t type;
	uint32_t start;
	uint32_t size;
};

static inline unsigned mbr_entry_off(unsigned i)
{
	return MBR_TABLE_OFF + i * MBR_ENTRY_SIZE;
}

static inline void mbr_entry_decode(const uint8_t *sector, unsigned i,
				    struct mbr_entry *e)
{
	const uint8_t *p = sector + mbr_entry_off(i);

	e->boot = p[MBR_E_BOOT];
	e->type = p[MBR_E_TYPE];
	e->start = vu_le32(p + MBR_E_START);
	e->size = vu_le32(p + MBR_E_SIZE);
}

static inline int mbr_has_magic(const uint8_t *sector)
{
	return vu_le16(sector + MBR_MAGIC_OFF) == MBR_MAGIC;
}

static inline int mbr_type_is_extended(uint8_t type)
{
	return type == 0x05 || type == 0x0f || type == 0x85;
}

#endif
