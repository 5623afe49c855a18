/* Inside src/md: a scanned member (md_super.c), shared with the assembly
 * (md_assemble.c) and the array's read path (md_map.c). */
#ifndef VU_MD_INT_H
#define VU_MD_INT_H

#include <stddef.h>
#include <stdint.h>

#include "md/md.h"

#define MD_UUID_STR	36	/* 8:8:8:8 and NUL */

struct vu_md_member {
	struct vu_blk *blk;	/* reference held */
	char *label;
	char metadata[5];	/* "0.90", "1.0", "1.1", "1.2" */
	uint8_t uuid[16];	/* as stored */
	char uuid_str[MD_UUID_STR];
	char set_name[33];	/* "host:name"; "" for 0.90 */
	int minor;		/* 0.90's md minor, -1 for 1.x */
	int32_t level;
	uint32_t layout;
	uint64_t chunk;		/* sectors */
	uint32_t raid_disks;
	uint64_t size;		/* sectors of each member used */
	uint64_t data_offset;	/* sectors */
	uint64_t data_size;	/* sectors available from data_offset */
	uint64_t events;
	uint32_t features;	/* 1.x feature_map; 0.90 reshaping: RESHAPE */
	uint64_t recovery_offset; /* sectors, with FEATURE_RECOVERY_OFFSET */
	uint32_t dev_number;	/* index into roles */
	uint32_t max_dev;
	uint16_t *roles;	/* what this superblock says of every device:
				   a slot, or MD_ROLE_SPARE/FAULTY/... */
};

/* md_map.c: the array's read path over its members' data areas, one per
 * role (NULL: missing; only RAID1, 4, 5 and 10 may have some).  Sizes in
 * bytes.  *out is a block source named name; -ENOTSUP/-ENOENT with a
 * message when the geometry cannot be read. */
struct md_geometry {
	int level;
	uint32_t layout;
	uint64_t chunk;		/* bytes */
	unsigned ndev;
	uint64_t dev_size;	/* bytes of each data area used (RAID0: the
				   smallest) */
	const uint64_t *dev_sizes; /* RAID0: bytes of each role's data area,
				      whole chunks; members of different
				      sizes make zones.  NULL otherwise */
	uint64_t size;		/* bytes the array presents */
	unsigned zones;		/* RAID0: zones (1 when all are equal) */
};
int md_map_open(const struct md_geometry *g, struct vu_blk *const *devs,
		const char *name, struct vu_blk **out);
/* Size the array presents, and whether the level/layout can be read:
 * NULL, or a static string saying why not ("raid6", "raid10 far=2"). */
const char *md_geometry_check(struct md_geometry *g);

#endif
