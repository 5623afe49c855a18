/* Our own checks of VHD and VHDX metadata.  libvhdi reads the data, but its
 * errors are terse backtraces; these checks run first so that a damaged
 * image gets a message naming the structure, the offset and what was
 * expected, and so that a fixed VHD needs no libvhdi at all. */
#ifndef VU_VHD_H
#define VU_VHD_H

#include <stddef.h>
#include <stdint.h>

#include "core/blk.h"

struct vhd_meta {
	uint32_t disk_type;	  /* VHD_TYPE_* */
	uint64_t current_size;
	uint8_t unique_id[16];
	uint8_t parent_id[16];	  /* differencing only */
	/* differencing: parent paths from the locators, best first; each a
	 * UTF-8 Windows path as written (backslashes).  NULL-terminated. */
	char *parent_paths[10];
};

/* Has a VHD footer (at the end, or a dynamic disk's copy at 0)? */
int vhd_detect(struct vu_blk *file);
/* Validate footer (and dynamic header), fill meta.  -EUCLEAN on damage. */
int vhd_check(struct vu_blk *file, struct vhd_meta *meta);
void vhd_meta_free(struct vhd_meta *meta);

struct vhdx_meta {
	uint8_t data_write_guid[16];
	int log_not_empty;
};

int vhdx_detect(struct vu_blk *file);
/* Validate the file identifier, both headers and both region tables. */
int vhdx_check(struct vu_blk *file, struct vhdx_meta *meta);

/* UTF-16 to UTF-8; invalid units become U+FFFD.  units is the count of
 * 16-bit units; stops at a NUL.  Returns the UTF-8 length. */
size_t vu_utf16_to_utf8(const uint8_t *in, size_t units, int big_endian,
			char *out, size_t out_size);

#endif
