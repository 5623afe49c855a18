/* Inside the partition layer: the GPT reader's table for gpt_rewrite.c. */
#ifndef VU_GPT_INT_H
#define VU_GPT_INT_H

#include <stdint.h>

#include "core/blk.h"
#include "partition/gpt_format.h"

/* The table vu_gpt_parse reads (the primary, or the backup when the
 * primary is damaged), raw: its header decoded and its entry array
 * (num_entries * entry_size bytes, malloc'd; the caller frees it).
 * Errors as vu_gpt_parse. */
int gpt_load_table(struct vu_blk *disk, uint32_t sector_size,
		   struct gpt_header *h, uint8_t **entries);

#endif
