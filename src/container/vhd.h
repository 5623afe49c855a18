/* VHD and VHDX: our checks of their metadata and our readers of their data.
 *
 * The checks run first so that a damaged image gets a message naming the
 * structure, the offset and what was expected; they fill a meta structure
 * from which the reader layers are made.  The readers replace libvhdi on the
 * data path: libvhdi 20210425 misreads VHD sector bitmaps (it does not mask
 * the bit it tests), reads a VHDX chunk's sector bitmap from file offset 0
 * when the chunk has none, and loses a VHDX parent given only by
 * relative_path.  Its tools stay in the test suite as oracles. */
#ifndef VU_VHD_H
#define VU_VHD_H

#include <stddef.h>
#include <stdint.h>

#include "core/blk.h"
#include "core/utf16.h"

#define VHD_MAX_PARENT_PATHS 10

struct vhd_meta {
	uint32_t disk_type;	  /* VHD_TYPE_* */
	uint64_t current_size;
	uint8_t unique_id[16];
	uint8_t parent_id[16];	  /* differencing only */
	/* dynamic and differencing: the block table, checked to lie in the
	 * file before the footer (at footer_at) */
	uint32_t block_size;
	uint32_t max_entries;
	uint64_t bat_offset;
	uint64_t footer_at;
	/* differencing: parent paths from the locators, best first; each a
	 * UTF-8 Windows path as written (backslashes).  NULL-terminated. */
	char *parent_paths[VHD_MAX_PARENT_PATHS];
};

/* Has a VHD footer (at the end, or a dynamic disk's copy at 0)? */
int vhd_detect(struct vu_blk *file);
/* Validate footer (and dynamic header), fill meta.  -EUCLEAN on damage. */
int vhd_check(struct vu_blk *file, struct vhd_meta *meta);
void vhd_meta_free(struct vhd_meta *meta);

/* The disk of a dynamic or differencing VHD checked by vhd_check().  The
 * references to file and parent are transferred (also on failure).  A
 * differencing disk needs its parent, of the same size; without one (NULL:
 * fuzzers, tests) the parent's sectors read as zeros. */
int vhd_reader_open(struct vu_blk *file, const struct vhd_meta *meta,
		    struct vu_blk *parent, struct vu_blk **out);

/* A block split sector by sector between this file and the parent by a
 * sector bitmap (shared by both readers): sectors [first, first+max) of
 * the block as runs of the same side, at most nmax of them (the last may
 * stop short).  Returns how many, or a negative errno.
 *   bitmap_off  file offset of the bitmap byte holding the block's sector 0
 *   msb_first   VHD: sector i is bit 7 - i%8; VHDX: bit i%8 */
struct vhd_side_run {
	int here;		/* 1: this file, 0: the parent */
	uint64_t first, count;	/* sectors of the block */
};
int vhd_bitmap_runs(struct vu_blk *file, uint64_t bitmap_off, int msb_first,
		    uint64_t first, uint64_t max, struct vhd_side_run *runs,
		    size_t nmax);

/* The extent runs (core/extent.h) of one block split by its bitmap:
 * [in, in+want) of the block at virtual offset block_off, data at
 * data_off of file.  Returns how many runs, or a negative errno. */
struct vu_run;
int vhd_bitmap_lookup(struct vu_blk *file, struct vu_blk *parent,
		      uint64_t bitmap_off, int msb_first, uint32_t sector,
		      uint64_t block_off, uint64_t data_off, uint64_t in,
		      uint64_t want, struct vu_run *runs, size_t max);

#define VHDX_MAX_PARENT_PATHS 4

struct vhdx_meta {
	uint8_t data_write_guid[16];
	int log_not_empty;
	/* the region table in use */
	uint64_t bat_offset, meta_offset;
	uint32_t bat_length, meta_length;
	/* metadata items (MS-VHDX 2.6.2) */
	uint32_t block_size;
	int leave_block_allocated, has_parent;
	uint64_t virtual_size;
	uint32_t logical_sector_size, physical_sector_size;
	/* parent locator: DataWriteGuid(s) of the parent, in on-disk order */
	int have_linkage2;
	uint8_t parent_linkage[16], parent_linkage2[16];
	/* relative_path, absolute_win32_path, volume_path as written;
	 * NULL-terminated */
	char *parent_paths[VHDX_MAX_PARENT_PATHS];
};

int vhdx_detect(struct vu_blk *file);
/* Validate the file identifier, both headers and both region tables, the
 * metadata and the block table, and fill meta (free it with
 * vhdx_meta_free() on success; on failure nothing is left to free). */
int vhdx_check(struct vu_blk *file, struct vhdx_meta *meta);
void vhdx_meta_free(struct vhdx_meta *meta);
/* Parse the metadata region named by meta->meta_offset/meta_length: called
 * by vhdx_check(). */
int vhdx_parse_metadata(struct vu_blk *file, struct vhdx_meta *meta);

/* The disk of a VHDX checked by vhdx_check(); as vhd_reader_open(). */
int vhdx_reader_open(struct vu_blk *file, const struct vhdx_meta *meta,
		     struct vu_blk *parent, struct vu_blk **out);


#endif
