/* A streaming writer of a dynamic VHDX ([MS-VHDX] v1.0), for disk copies
 * (`decrypt --format vhdx`).  The data comes in order, once; blocks that
 * never get non-zero data are left out of the file (not present), and zero
 * stretches inside the blocks written stay holes, so the file is sparse
 * where the disk reads as zeros.  The headers, region tables, metadata and
 * block table are written by vu_vhdx_writer_finish(): before it, the file
 * is not a VHDX.
 *
 * Errors: -EINVAL for a bad argument or data out of order, -ENOSPC when
 * the file system is full, -EIO for any other write failure, -ENOMEM;
 * each with a message (vu_errmsg) naming the file and the offset.  After a
 * failed call the writer only accepts vu_vhdx_writer_free(). */
#ifndef VU_VHDX_WRITE_H
#define VU_VHDX_WRITE_H

#include <stddef.h>
#include <stdint.h>

#define VU_VHDX_WRITE_BLOCK_SIZE (32u << 20)

struct vu_vhdx_writer;

/* Start a VHDX of virtual_size bytes (a positive multiple of the logical
 * sector size, 512 or 4096, up to 64 TiB) on fd, open for writing, meant
 * to be a regular file: it is emptied first, so that every stretch never
 * written reads as zeros (on anything else such stretches keep what was
 * there).  The writer borrows fd (the caller closes it) and copies
 * path_for_messages.  No fsync: that, and renaming a temporary file into
 * place, are the caller's. */
int vu_vhdx_writer_open(int fd, const char *path_for_messages,
			uint64_t virtual_size, uint32_t logical_sector_size,
			struct vu_vhdx_writer **out);

/* Data in order: consecutive calls cover [0, virtual_size) with no gaps
 * or overlaps; len may be any size.  All-zero data of a block that has no
 * data yet is not written. */
int vu_vhdx_writer_put(struct vu_vhdx_writer *w, const uint8_t *buf,
		       size_t len, uint64_t off);

/* After the last byte: write the block table, the metadata, both region
 * tables and both headers (last, so that a file cut short is no VHDX). */
int vu_vhdx_writer_finish(struct vu_vhdx_writer *w);

void vu_vhdx_writer_free(struct vu_vhdx_writer *w);

#endif
