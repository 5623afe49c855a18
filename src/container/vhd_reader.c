/* The disk of a dynamic or differencing VHD ("Virtual Hard Disk Image
 * Format Specification", 2006).
 *
 * A block allocation table maps each block of the virtual disk to a sector
 * of the file (0xffffffff: not allocated).  An allocated block starts with
 * its sector bitmap, padded to 512 bytes, followed by the block's data.
 * Dynamic: an unallocated block reads as zeros and the bitmap is ignored.
 * Differencing: an unallocated block reads from the parent; in an
 * allocated one, sector i comes from this file when bit 7 - i%8 of bitmap
 * byte i/8 is set, else from the parent.
 *
 * The table is loaded and checked at open and never changes; bitmaps are
 * read per request, so any number of threads may read at once. */
#include "container/vhd.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "container/vhd_format.h"
#include "core/bytes.h"
#include "core/extent.h"

struct vhd_reader {
	struct vu_blk *file;	/* borrowed: the layer's lower */
	struct vu_blk *parent;	/* reference held; NULL: dynamic disk */
	int differencing;
	uint32_t block_size;
	uint32_t bitmap_size;	/* bytes before a block's data */
	uint32_t nblocks;
	uint32_t *bat;		/* file sector of each block */
};

/* ---- the sector bitmap walk, shared with the VHDX reader ---- */

int vhd_bitmap_runs(struct vu_blk *file, uint64_t bitmap_off, int msb_first,
		    uint64_t first, uint64_t max, struct vhd_side_run *runs,
		    size_t nmax)
{
	uint8_t bits[4096];
	uint64_t s = first, end = first + max;
	size_t n = 0;

	while (s < end) {
		/* the bitmap bytes for the sectors [s, wend) */
		uint64_t byte0 = s / 8;
		uint64_t wend = (byte0 + sizeof(bits)) * 8;
		int r;

		if (wend > end)
			wend = end;
		r = vu_blk_read(file, bits,
				(size_t)((wend - 1) / 8 - byte0 + 1),
				bitmap_off + byte0);
		if (r < 0)
			return r;
		for (; s < wend; s++) {
			unsigned shift = msb_first ? 7 - (unsigned)(s % 8)
						   : (unsigned)(s % 8);
			int here = (bits[s / 8 - byte0] >> shift) & 1;

			if (n && runs[n - 1].here == here) {
				runs[n - 1].count++;
				continue;
			}
			if (n == nmax)
				return (int)n;
			runs[n++] = (struct vhd_side_run){ here, s, 1 };
		}
	}
	return (int)n;
}

int vhd_bitmap_lookup(struct vu_blk *file, struct vu_blk *parent,
		      uint64_t bitmap_off, int msb_first, uint32_t sector,
		      uint64_t block_off, uint64_t data_off, uint64_t in,
		      uint64_t want, struct vu_run *runs, size_t max)
{
	struct vhd_side_run side[VU_RUNS_MAX];
	uint64_t first = in / sector, last = (in + want + sector - 1) / sector;
	int n = vhd_bitmap_runs(file, bitmap_off, msb_first, first,
				last - first, side,
				max < VU_RUNS_MAX ? max : VU_RUNS_MAX);

	for (int i = 0; i < n; i++) {
		uint64_t pos = i ? side[i].first * sector : in;

		runs[i].length = (side[i].first + side[i].count) * sector - pos;
		runs[i].lower = side[i].here ? file : parent; /* NULL: zeros */
		runs[i].lower_off = side[i].here ? data_off + pos
						 : block_off + pos;
	}
	return n;
}

/* ---- the layer: a lookup of the extent walk (core/extent.h) ---- */

/* The runs at virtual offset off: [off, end of its block) or, in a block
 * of a differencing disk, each stretch of sectors on one side. */
static int vhd_lookup(const void *ctx, uint64_t off, size_t len,
		      struct vu_run *runs, size_t max)
{
	const struct vhd_reader *v = ctx;
	uint64_t in = off % v->block_size, avail = v->block_size - in;
	uint32_t sector = v->bat[off / v->block_size];
	uint64_t at = (uint64_t)sector * 512;

	runs[0].length = avail;
	if (sector == VHD_BAT_UNUSED) {
		runs[0].lower = v->parent; /* NULL: zeros */
		runs[0].lower_off = off;
		return 1;
	}
	if (v->differencing)
		return vhd_bitmap_lookup(v->file, v->parent, at, 1, 512,
					 off - in, at + v->bitmap_size, in,
					 len < avail ? len : avail, runs, max);
	runs[0].lower = v->file;
	runs[0].lower_off = at + v->bitmap_size + in;
	return 1;
}

static void vhd_reader_free(struct vhd_reader *v)
{
	if (!v)
		return;
	vu_blk_unref(v->parent);
	free(v->bat);
	free(v);
}

static void vhd_destroy(void *v)
{
	vhd_reader_free(v);
}

/* Load the table: every allocated block (bitmap and data) must lie before
 * the footer; the bitmap and data must not overlap the headers. */
static int load_bat(struct vu_blk *file, const struct vhd_meta *m,
		    struct vhd_reader *v)
{
	uint64_t len = (uint64_t)v->nblocks * 4;
	uint64_t span = (uint64_t)v->bitmap_size + v->block_size;
	uint8_t *raw;
	int r;

	if (m->bat_offset > m->footer_at || len > m->footer_at - m->bat_offset)
		return vu_blk_fail(file, -EUCLEAN, "vhd: block table at offset %"
				   PRIu64 " (%" PRIu32 " entries) lies outside "
				   "the file (footer at %" PRIu64 ")",
				   m->bat_offset, v->nblocks, m->footer_at);
	raw = malloc(len ? len : 1);
	v->bat = malloc(v->nblocks ? v->nblocks * sizeof(*v->bat) : 1);
	if (!raw || !v->bat) {
		free(raw);
		return vu_fail(-ENOMEM, "out of memory");
	}
	r = vu_blk_read(file, raw, len, m->bat_offset);
	for (uint32_t i = 0; r == 0 && i < v->nblocks; i++) {
		uint32_t sector = vu_be32(raw + (uint64_t)i * 4);
		uint64_t at = (uint64_t)sector * 512;

		v->bat[i] = sector;
		if (sector == VHD_BAT_UNUSED)
			continue;
		if (at > m->footer_at || span > m->footer_at - at)
			r = vu_blk_fail(file, -EUCLEAN,
					"vhd: block table entry %" PRIu32
					" at offset %" PRIu64 ": block at %" PRIu64
					" (%" PRIu64 " bytes) lies past the end "
					"of the data (footer at %" PRIu64
					"): the file is truncated", i,
					m->bat_offset + (uint64_t)i * 4, at, span,
					m->footer_at);
	}
	free(raw);
	return r;
}

int vhd_reader_open(struct vu_blk *file, const struct vhd_meta *m,
		    struct vu_blk *parent, struct vu_blk **out)
{
	struct vhd_reader *v = NULL;
	uint32_t bs = m->block_size;
	uint64_t nblocks;
	int r;

	*out = NULL;
	if (m->disk_type != VHD_TYPE_DYNAMIC &&
	    m->disk_type != VHD_TYPE_DIFFERENCING) {
		r = vu_blk_fail(file, -EINVAL, "vhd: disk type %" PRIu32
				" has no block table", m->disk_type);
		goto fail;
	}
	if (bs < 512 || bs > VHD_MAX_BLOCK_SIZE || !vu_is_pow2(bs)) {
		r = vu_blk_fail(file, -EUCLEAN, "vhd: block size %" PRIu32
				", expected a power of two from 512 to 256 MiB",
				bs);
		goto fail;
	}
	nblocks = (m->current_size + bs - 1) / bs;
	if (m->current_size == 0 || m->current_size % 512 ||
	    nblocks > m->max_entries) {
		r = vu_blk_fail(file, -EUCLEAN, "vhd: disk size %" PRIu64
				" needs %" PRIu64 " blocks of %" PRIu32
				" bytes, the block table has %" PRIu32,
				m->current_size, nblocks, bs, m->max_entries);
		goto fail;
	}
	if (parent && m->disk_type == VHD_TYPE_DYNAMIC) {
		vu_blk_unref(parent);
		parent = NULL;
	}
	if (parent && parent->size != m->current_size) {
		r = vu_blk_fail(file, -EUCLEAN, "vhd: parent %s is %" PRIu64
				" bytes, expected %" PRIu64 " (the child's size)",
				parent->desc, parent->size, m->current_size);
		goto fail;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto fail;
	}
	v->differencing = m->disk_type == VHD_TYPE_DIFFERENCING;
	v->block_size = bs;
	v->bitmap_size = (bs / 512 / 8 + 511) / 512 * 512;
	v->nblocks = (uint32_t)nblocks;
	r = load_bat(file, m, v);
	if (r < 0)
		goto fail;
	v->parent = parent; /* transferred */
	v->file = file;
	return vu_lookup_open(file, m->current_size, 512, vhd_lookup, v,
			      vhd_destroy, "vhd", v->differencing
			      ? "vhd(differencing)" : "vhd(dynamic)", out);
fail:
	vhd_reader_free(v);
	vu_blk_unref(parent);
	vu_blk_unref(file);
	return r;
}
