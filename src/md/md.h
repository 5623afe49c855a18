/* Linux md RAID arrays (mdadm), read from their members' superblocks
 * (md_format.h): members are scanned one by one, grouped by array UUID,
 * and each array is assembled by role, degraded where a member is
 * missing.  Levels 0, 1, 4, 5 (every layout mdadm writes) and 10 with near
 * copies are read; others are assembled and listed with why they cannot
 * be read.  The array is a block source like any volume: a file system,
 * a LUKS volume or an LVM PV may sit on it. */
#ifndef VU_MD_H
#define VU_MD_H

#include <stddef.h>
#include <stdint.h>

#include "core/blk.h"

struct vu_md_member; /* one scanned member */
struct vu_md_array;  /* an array assembled from its members */

/* Read a member's superblock (1.1 at 0, 1.2 at 4 KiB, 1.0 and 0.90 at
 * the end; checksums checked).  label names the member in messages and
 * in the array's role list (a volume id, "d2p1"); blk gets a reference of
 * the member's own.  -EINVAL when blk carries no md superblock, -EUCLEAN
 * for a damaged one (the message names the field and offset), -ENOTSUP
 * for a superblock version not read, -EIO, -ENOMEM. */
int vu_md_scan(struct vu_blk *blk, const char *label,
	       struct vu_md_member **out);
void vu_md_member_free(struct vu_md_member *m);
/* The array UUID as mdadm prints it (8:8:8:8 hex digits). */
const char *vu_md_member_uuid(const struct vu_md_member *m);

struct vu_md_assembly {
	size_t n;		  /* arrays, by their first member */
	struct vu_md_array **arrays; /* the caller takes them (sets NULL) */
};

/* Group members by array UUID and assemble each group.  The members are
 * taken (also on failure); members of an array listed in open[0..nopen)
 * are dropped with a warning (found after their array was assembled).
 * An array that cannot be read (level, layout, too few members, a reshape
 * under way) is assembled all the same, carrying its error.  0, or
 * -ENOMEM with *out empty. */
int vu_md_assemble(struct vu_md_member **members, size_t n,
		   struct vu_md_array *const *open, size_t nopen,
		   struct vu_md_assembly *out);
void vu_md_assembly_free(struct vu_md_assembly *a);
void vu_md_array_free(struct vu_md_array *a);

struct vu_md_info {
	const char *uuid;	/* 8:8:8:8, as mdadm prints it */
	const char *name;	/* the name part of "host:name"; "" for 0.90 */
	const char *host;	/* the host part, "" when none */
	int minor;		/* 0.90: the md minor (md0); -1 for 1.x */
	const char *metadata;	/* "0.90", "1.0", "1.1", "1.2" */
	int level;		/* 0, 1, 4, 5, 10; -1 linear ... */
	const char *layout;	/* "left-symmetric", "near=2", "" */
	uint64_t chunk;		/* bytes; 0 for RAID1 */
	unsigned raid_disks;
	unsigned present;	/* roles with an in-sync member */
	uint64_t size;		/* bytes the array presents */
	uint64_t member_size;	/* bytes used of each member's data area
				   (RAID0 with zones: of the smallest) */
	unsigned zones;		/* RAID0: 1, or more for members of
				   different sizes */
	uint64_t events;
	int degraded;		/* roles missing, still readable */
	const char *error;	/* why it cannot be read; NULL: it can */
	const char *notes;	/* members left out and why, one per line
				   ("d3p1: spare"); "" when none */
};
void vu_md_array_info(const struct vu_md_array *a, struct vu_md_info *out);

/* Role i (0 .. raid_disks-1): the member's label, NULL when missing, and
 * where its data starts on it.  -EINVAL when i is out of range. */
int vu_md_array_role(const struct vu_md_array *a, unsigned i,
		     const char **label, uint64_t *data_offset);

/* The array's content as a block source.  -ENOTSUP / -ENOENT with the
 * message of vu_md_info.error when it cannot be read. */
int vu_md_array_open(struct vu_md_array *a, struct vu_blk **out);

/* "raid5" ... for messages and info ("linear", "multipath", "raidN"). */
const char *vu_md_level_name(int level);

#endif
