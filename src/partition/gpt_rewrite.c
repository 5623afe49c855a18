/* GPT rewriting for disk copies (gpt_rewrite.h).
 *
 * The table is kept as one header and one entry array; the four areas are
 * made from them on demand.  The primary keeps its entry array where it
 * was (LBA 2 on every disk seen, but the header says), the backup's goes
 * right before the backup header at the last LBA, as the UEFI
 * specification (5.3.1) and every partition tool place it. */
#include "partition/gpt_rewrite.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/crc.h"
#include "core/error.h"
#include "partition/gpt_format.h"
#include "partition/gpt_int.h"

struct vu_gpt_rewrite {
	struct vu_blk *disk;	/* for messages */
	uint32_t ss;
	uint64_t lbas;		/* of the copy */
	int resized;
	struct gpt_header h;	/* as read */
	uint64_t primary_entries_lba;
	uint8_t *entries;
	size_t arr_bytes;
	uint64_t arr_lbas;
	uint8_t *out;		/* the areas' bytes */
};

int vu_gpt_rewrite_open(struct vu_blk *disk, uint32_t sector_size,
			struct vu_gpt_rewrite **out)
{
	struct vu_gpt_rewrite *g = calloc(1, sizeof(*g));
	int r;

	*out = NULL;
	if (!g)
		return vu_fail(-ENOMEM, "out of memory");
	r = gpt_load_table(disk, sector_size, &g->h, &g->entries);
	if (r < 0) {
		free(g);
		return r;
	}
	g->disk = disk;
	g->ss = sector_size;
	g->lbas = disk->size / sector_size;
	g->arr_bytes = (size_t)g->h.num_entries * g->h.entry_size;
	g->arr_lbas = (g->arr_bytes + sector_size - 1) / sector_size;
	/* read from the backup: the primary's array goes where it belongs */
	g->primary_entries_lba = g->h.my_lba == GPT_PRIMARY_LBA
					 ? g->h.entries_lba
					 : GPT_PRIMARY_LBA + 1;
	*out = g;
	return 0;
}

void vu_gpt_rewrite_free(struct vu_gpt_rewrite *g)
{
	if (!g)
		return;
	free(g->entries);
	free(g->out);
	free(g);
}

int vu_gpt_rewrite_move_start(struct vu_gpt_rewrite *g, unsigned slot,
			      uint64_t first_lba)
{
	static const uint8_t unused[16];
	uint8_t *e;
	uint64_t last;

	if (slot < 1 || slot > g->h.num_entries)
		return vu_blk_fail(g->disk, -EINVAL, "gpt: no partition "
				   "entry %u (the table has %" PRIu32 ")",
				   slot, g->h.num_entries);
	e = g->entries + (size_t)(slot - 1) * g->h.entry_size;
	if (memcmp(e + GPT_E_TYPE_GUID, unused, 16) == 0)
		return vu_blk_fail(g->disk, -EINVAL, "gpt: partition entry "
				   "%u is unused", slot);
	last = vu_le64(e + GPT_E_LAST_LBA);
	if (first_lba < g->h.first_usable || first_lba > last)
		return vu_blk_fail(g->disk, -EINVAL, "gpt: partition %u "
				   "cannot start at LBA %" PRIu64 ": expected "
				   "%" PRIu64 "..%" PRIu64 " (first usable LBA "
				   "to its last LBA)", slot, first_lba,
				   g->h.first_usable, last);
	vu_put_le64(e + GPT_E_FIRST_LBA, first_lba);
	return 0;
}

int vu_gpt_rewrite_resize(struct vu_gpt_rewrite *g, uint64_t disk_bytes)
{
	if (disk_bytes % g->ss || disk_bytes < g->disk->size)
		return vu_blk_fail(g->disk, -EINVAL, "gpt: a copy of %"
				   PRIu64 " bytes: expected a multiple of %"
				   PRIu32 " no smaller than the disk (%"
				   PRIu64 ")", disk_bytes, g->ss,
				   g->disk->size);
	g->resized = disk_bytes / g->ss != g->lbas;
	g->lbas = disk_bytes / g->ss;
	return 0;
}

/* One header for the copy at my_lba, its CRC computed, into sector h. */
static void put_header(const struct vu_gpt_rewrite *g, uint8_t *h,
		       uint64_t my_lba, uint64_t alternate_lba,
		       uint64_t entries_lba, uint64_t last_usable)
{
	struct gpt_header n = g->h;

	n.header_size = GPT_HEADER_MIN; /* no fields past it are known */
	n.header_crc = 0;
	n.my_lba = my_lba;
	n.alternate_lba = alternate_lba;
	n.entries_lba = entries_lba;
	n.last_usable = last_usable;
	n.entries_crc = vu_crc32(0, g->entries, g->arr_bytes);
	gpt_header_encode(h, &n);
	vu_put_le32(h + GPT_H_HEADER_CRC, vu_crc32(0, h, n.header_size));
}

int vu_gpt_rewrite_areas(struct vu_gpt_rewrite *g,
			 struct vu_gpt_area areas[VU_GPT_AREAS])
{
	uint64_t backup_lba = g->lbas - 1;
	uint64_t backup_entries = backup_lba - g->arr_lbas;
	uint64_t last_usable = g->resized ? backup_entries - 1
					  : g->h.last_usable;
	size_t arr = (size_t)g->arr_lbas * g->ss;
	uint8_t *p;

	if (backup_entries <= g->primary_entries_lba + g->arr_lbas ||
	    last_usable >= backup_entries)
		return vu_blk_fail(g->disk, -EUCLEAN, "gpt: no room for the "
				   "backup table before LBA %" PRIu64,
				   backup_lba);
	free(g->out);
	g->out = calloc(2, g->ss + arr);
	if (!g->out)
		return vu_fail(-ENOMEM, "out of memory");
	p = g->out;
	put_header(g, p, GPT_PRIMARY_LBA, backup_lba, g->primary_entries_lba,
		   last_usable);
	areas[0] = (struct vu_gpt_area){ GPT_PRIMARY_LBA * g->ss, g->ss, p };
	p += g->ss;
	memcpy(p, g->entries, g->arr_bytes);
	areas[1] = (struct vu_gpt_area){ g->primary_entries_lba * g->ss, arr,
					 p };
	p += arr;
	memcpy(p, g->entries, g->arr_bytes);
	areas[2] = (struct vu_gpt_area){ backup_entries * g->ss, arr, p };
	p += arr;
	put_header(g, p, backup_lba, GPT_PRIMARY_LBA, backup_entries,
		   last_usable);
	areas[3] = (struct vu_gpt_area){ backup_lba * g->ss, g->ss, p };
	return 0;
}
