/* Fuzz target: partition tables.  The input is a whole disk, read through
 * the memory source: the dispatcher with the sector size the disk says
 * (512) and with 4096, and the GPT parser with 4096-byte sectors.  A table
 * that parses must describe partitions inside the disk, in slot order, with
 * no two GPT partitions sharing a sector. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/blk.h"
#include "core/log.h"
#include "partition/partition.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int r, const struct vu_ptable *t, uint64_t disk_size)
{
	if (r < 0) {
		if (t->count || t->parts)
			abort(); /* out must be clear on error */
		return;
	}
	for (size_t i = 0; i < t->count; i++) {
		const struct vu_part *p = &t->parts[i];

		if (!p->size || p->start > disk_size ||
		    p->size > disk_size - p->start)
			abort();
		if (i && p->slot <= t->parts[i - 1].slot)
			abort();
		if (memchr(p->name, '\0', sizeof(p->name)) == NULL)
			abort();
		if (t->type != VU_TABLE_GPT)
			continue;
		for (size_t j = 0; j < i; j++) {
			const struct vu_part *q = &t->parts[j];

			if (p->start < q->start + q->size &&
			    q->start < p->start + p->size)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t sector_sizes[] = { 512, 4096 };
	struct vu_ptable t;
	struct vu_blk *disk;

	vu_log_set_sink(NULL, NULL);
	vu_err_clear();
	if (vu_mem_open(data, size, "fuzz", &disk) < 0)
		return 0;
	for (size_t i = 0; i < 2; i++) {
		disk->sector_size = sector_sizes[i];
		vu_err_clear();
		check(vu_ptable_read(disk, &t), &t, size);
		vu_ptable_free(&t);
	}
	disk->sector_size = 512;
	vu_err_clear();
	check(vu_gpt_parse(disk, 4096, &t), &t, size);
	vu_ptable_free(&t);
	vu_err_clear();
	check(vu_mbr_parse(disk, &t), &t, size);
	vu_ptable_free(&t);
	vu_blk_unref(disk);
	vu_err_clear();
	return 0;
}
