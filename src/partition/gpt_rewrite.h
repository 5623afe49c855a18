/* A GPT rewritten for a copy of its disk (`vhdunlock decrypt`): a
 * partition that now starts elsewhere (a LUKS volume replaced by its
 * payload), a disk that grows (padded to a whole MiB for Azure).  Read
 * from the source disk, checked as vu_gpt_parse checks it, changed in
 * memory and handed back as the four areas of a valid table, CRCs
 * computed: the copy lays them over its output.  Nothing is written here
 * and the source is never changed.  The protective MBR is left as it is
 * (its size field may say less than the disk, which firmware and
 * partition tools accept). */
#ifndef VU_GPT_REWRITE_H
#define VU_GPT_REWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "core/blk.h"

struct vu_gpt_rewrite;

/* One area of the new table: len bytes at byte offset off of the disk. */
struct vu_gpt_area {
	uint64_t off;
	size_t len;
	const uint8_t *data; /* owned by the rewrite */
};

/* The areas, in disk order: primary header, primary entry array, backup
 * entry array, backup header. */
#define VU_GPT_AREAS 4

/* Read disk's GPT (sector_size: its logical sector size).  -ENOENT when
 * there is none, -EUCLEAN with a message when it is damaged beyond use. */
int vu_gpt_rewrite_open(struct vu_blk *disk, uint32_t sector_size,
			struct vu_gpt_rewrite **out);
void vu_gpt_rewrite_free(struct vu_gpt_rewrite *g);

/* Partition slot (1-based, as volume pN) starts at first_lba instead,
 * keeping its last LBA: -EINVAL with a message when the slot is empty or
 * the new start is outside [first usable LBA, its last LBA]. */
int vu_gpt_rewrite_move_start(struct vu_gpt_rewrite *g, unsigned slot,
			      uint64_t first_lba);

/* The copy is disk_bytes long (a whole number of sectors, no smaller than
 * the source): the backup table moves to its new end and the last usable
 * LBA follows it. */
int vu_gpt_rewrite_resize(struct vu_gpt_rewrite *g, uint64_t disk_bytes);

/* The new table as VU_GPT_AREAS areas, valid until the next call or the
 * free. */
int vu_gpt_rewrite_areas(struct vu_gpt_rewrite *g,
			 struct vu_gpt_area areas[VU_GPT_AREAS]);

#endif
