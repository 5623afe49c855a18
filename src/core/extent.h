/* Extent maps: the one way a layer says where its bytes come from.
 *
 * A decrypted BitLocker or LUKS volume, a logical volume, a VHD or VHDX
 * disk and a file of a file system all answer a read the same way: split
 * it into runs, and fill each run with zeros, with bytes of a lower source,
 * or with bytes of a lower source passed through a transform (decryption)
 * sector by sector.  This file holds that walk once.
 *
 * A layer describes itself either as a static table of runs (built once at
 * open: BitLocker, LUKS, LVM) or as a lookup function that answers "what
 * lies at this offset" from its own tables (VHD/VHDX block tables, a file's
 * extent list).  Either way vu_runs_read() does the reading, straight into
 * the caller's buffer: whole sectors are read and transformed in place,
 * only a partial first or last sector goes through a small stack buffer.
 *
 * Core stays free of cryptography: a transform is a callback. */
#ifndef VU_EXTENT_H
#define VU_EXTENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/blk.h"

/* Largest sector a transform may work in: the bounce buffer for a partial
 * sector lives on the stack. */
#define VU_XFORM_MAX_SECTOR 4096u

/* A transform of whole sectors in place, e.g. a sector cipher.  sector is
 * the number of the first one as the transform counts them (an IV). */
struct vu_xform {
	const char *name; /* for the --debug map, e.g. "aes-xts-plain64" */
	uint32_t sector_size; /* a power of two, at most VU_XFORM_MAX_SECTOR */
	int (*apply)(void *ctx, uint64_t sector, uint8_t *buf, size_t n);
	void *ctx;
};

/* What lies at an offset, as a lookup answers it: `length` bytes from the
 * offset asked about (at least one) come from `lower` at `lower_off`, or
 * are zeros when lower is NULL.  With a transform, the byte at lower_off is
 * `skew` bytes into the transform's sector number `sector`, whose bytes
 * start at lower_off - skew in lower. */
struct vu_run {
	uint64_t length;
	struct vu_blk *lower;		/* borrowed; NULL: zeros */
	uint64_t lower_off;
	const struct vu_xform *xf;	/* NULL: bytes pass through */
	uint64_t sector;
	uint32_t skew;
};

/* Answer for offset off of a source: up to max runs that follow each
 * other from off (a lookup that learns several at once, e.g. from one read
 * of a sector bitmap, hands them all over).  len is how much the caller
 * still wants (a hint: a lookup may stop there).  Returns how many runs
 * (at least one), or a negative errno with a message. */
#define VU_RUNS_MAX 16
typedef int (*vu_run_lookup_fn)(const void *ctx, uint64_t off, size_t len,
				struct vu_run *runs, size_t max);

/* Read [off, off+len) run by run through lookup. */
int vu_runs_read(vu_run_lookup_fn lookup, const void *ctx, void *buf,
		 size_t len, uint64_t off);

/* ---- static maps ---- */

struct vu_extent_map;

struct vu_extent_map *vu_extent_map_new(void);
void vu_extent_map_free(struct vu_extent_map *m);

/* Register a transform the map owns (name is copied): free_ctx(ctx) is
 * called when the map goes (also when this call fails).  Returns NULL with a message when out
 * of memory or the sector size is not supported. */
const struct vu_xform *vu_extent_map_xform(struct vu_extent_map *m,
					   const char *name,
					   uint32_t sector_size,
					   int (*apply)(void *, uint64_t,
							uint8_t *, size_t),
					   void *ctx, void (*free_ctx)(void *));

/* Append a run of length bytes after the previous ones.  lower NULL: zeros;
 * else the bytes at lower_off of lower (a reference is taken).  With xf,
 * the transform's sector first_sector starts at byte sector0_off of lower
 * (sector0_off <= lower_off): the IV of each byte follows from where it
 * lies in lower.  Neighbouring runs that continue each other merge. */
int vu_extent_map_add(struct vu_extent_map *m, uint64_t length,
		      struct vu_blk *lower, uint64_t lower_off,
		      const struct vu_xform *xf, uint64_t first_sector,
		      uint64_t sector0_off);

/* Total length of the runs so far. */
uint64_t vu_extent_map_size(const struct vu_extent_map *m);

/* The lookup of a static map (for layers that read through one without
 * being one, and for tests). */
int vu_extent_map_lookup(const void *m, uint64_t off, size_t len,
			 struct vu_run *runs, size_t max);

/* Log the runs at debug level, each line starting with who. */
void vu_extent_map_log(const struct vu_extent_map *m, const char *who);

/* Make the map a block source of its total size.  The map is taken (also
 * on failure); lower's reference is transferred as with vu_blk_new() and
 * only names the layer's place in the chain.  kind (a string constant,
 * e.g. "bitlocker") becomes the source's ops kind, name its description. */
int vu_extent_map_open(struct vu_extent_map *m, struct vu_blk *lower,
		       uint32_t sector_size, const char *kind,
		       const char *name, struct vu_blk **out);

/* ---- lookup sources ---- */

/* A block source read through a layer's own lookup.  destroy(ctx) frees
 * the layer's state when the source goes (also when this call fails);
 * lower's reference is transferred, kind and name as above. */
int vu_lookup_open(struct vu_blk *lower, uint64_t size, uint32_t sector_size,
		   vu_run_lookup_fn lookup, void *ctx,
		   void (*destroy)(void *ctx), const char *kind,
		   const char *name, struct vu_blk **out);

#endif
