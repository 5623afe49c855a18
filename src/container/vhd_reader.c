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

struct vhd_reader {
	struct vu_blk *parent;	/* reference held; NULL: dynamic disk */
	int differencing;
	uint32_t block_size;
	uint32_t bitmap_size;	/* bytes before a block's data */
	uint32_t nblocks;
	uint32_t *bat;		/* file sector of each block */
};

/* ---- the sector bitmap walk, shared with the VHDX reader ---- */

/* One run of sectors from the same side: [lo, hi) of the block. */
static int read_run(struct vu_blk *layer, uint8_t *buf, uint64_t in,
		    uint64_t lo, uint64_t hi, int here, uint64_t data_off,
		    uint64_t virt_off, struct vu_blk *parent)
{
	uint8_t *dst = buf + (lo - in);
	size_t n = (size_t)(hi - lo);

	if (here)
		return vu_blk_read(layer->lower, dst, n, data_off + lo);
	if (!parent) {
		memset(dst, 0, n);
		return 0;
	}
	return vu_blk_read(parent, dst, n, virt_off + lo);
}

int vhd_bitmap_read(struct vu_blk *layer, uint8_t *buf, uint64_t in,
		    size_t len, uint32_t sector, uint64_t bitmap_off,
		    int msb_first, uint64_t data_off, uint64_t virt_off,
		    struct vu_blk *parent)
{
	uint8_t bits[4096];
	uint64_t first = in / sector, end = (in + len + sector - 1) / sector;
	uint64_t run_lo = in, s = first;
	int run_here = -1, r;

	while (s < end) {
		/* the bitmap bytes for the sectors [s, wend) */
		uint64_t byte0 = s / 8;
		uint64_t wend = (byte0 + sizeof(bits)) * 8;
		size_t nbytes;

		if (wend > end)
			wend = end;
		nbytes = (size_t)((wend - 1) / 8 - byte0 + 1);
		r = vu_blk_read(layer->lower, bits, nbytes, bitmap_off + byte0);
		if (r < 0)
			return r;
		for (; s < wend; s++) {
			unsigned shift = msb_first ? 7 - (unsigned)(s % 8)
						   : (unsigned)(s % 8);
			int here = (bits[s / 8 - byte0] >> shift) & 1;
			uint64_t at = s * sector;

			if (here == run_here)
				continue;
			if (run_here >= 0 && at > run_lo) {
				r = read_run(layer, buf, in, run_lo, at,
					     run_here, data_off, virt_off,
					     parent);
				if (r < 0)
					return r;
				run_lo = at;
			}
			run_here = here;
		}
	}
	if (run_here >= 0 && in + len > run_lo)
		return read_run(layer, buf, in, run_lo, in + len, run_here,
				data_off, virt_off, parent);
	return 0;
}

/* ---- the layer ---- */

static int vhd_read(struct vu_blk *b, void *out, size_t len, uint64_t off)
{
	const struct vhd_reader *v = b->priv;
	uint8_t *buf = out;

	while (len) {
		uint64_t blk = off / v->block_size;
		uint64_t in = off % v->block_size;
		size_t n = len < v->block_size - in ? len
						    : (size_t)(v->block_size - in);
		uint32_t sector = v->bat[blk];
		int r;

		if (sector == VHD_BAT_UNUSED) {
			if (v->parent)
				r = vu_blk_read(v->parent, buf, n, off);
			else
				r = (memset(buf, 0, n), 0);
		} else {
			uint64_t at = (uint64_t)sector * 512;
			uint64_t data = at + v->bitmap_size;

			if (v->differencing)
				r = vhd_bitmap_read(b, buf, in, n, 512, at, 1,
						    data, off - in, v->parent);
			else
				r = vu_blk_read(b->lower, buf, n, data + in);
		}
		if (r < 0)
			return r;
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

static void vhd_reader_free(struct vhd_reader *v)
{
	if (!v)
		return;
	vu_blk_unref(v->parent);
	free(v->bat);
	free(v);
}

static void vhd_destroy(struct vu_blk *b)
{
	vhd_reader_free(b->priv);
}

static const struct vu_blk_ops vhd_ops = {
	.kind = "vhd",
	.read_at = vhd_read,
	.destroy = vhd_destroy,
};

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
	if (bs < 512 || bs > VHD_MAX_BLOCK_SIZE || (bs & (bs - 1))) {
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
	parent = NULL;
	*out = vu_blk_new(&vhd_ops, file, m->current_size, 512, v,
			  "vhd(%s)", v->differencing ? "differencing"
						     : "dynamic");
	file = NULL; /* transferred, also on failure */
	if (!*out) {
		r = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	vhd_reader_free(v);
	vu_blk_unref(parent);
	vu_blk_unref(file);
	return r;
}
