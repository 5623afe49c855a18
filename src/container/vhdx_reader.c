/* The disk of a VHDX ([MS-VHDX] v20160714): its metadata items, its parent
 * locator and its block allocation table.
 *
 * BAT entries come in chunks: chunk_ratio payload entries, then one sector
 * bitmap entry for the chunk (2.5).  Payload states (2.5.1.1):
 *   NOT_PRESENT, UNDEFINED  dynamic: zeros; differencing: the parent
 *   ZERO, UNMAPPED           zeros
 *   FULLY_PRESENT            this file
 *   PARTIALLY_PRESENT        differencing only: per sector, by the chunk's
 *                            1 MiB sector bitmap block (bit s%8 of byte s/8,
 *                            2.5), set: this file, clear: the parent
 * A partially present block in a chunk without a sector bitmap block is
 * damage (2.5.1.2), found when the table is loaded.  The table never
 * changes after open, so any number of threads may read at once. */
#include "container/vhd.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container/vhd_format.h"
#include "core/bytes.h"
#include "core/extent.h"
#include "core/guid.h"

/* ---- metadata (2.6) ---- */

enum item { IT_FILE_PARAMS, IT_DISK_SIZE, IT_PAGE83, IT_LOGICAL,
	    IT_PHYSICAL, IT_LOCATOR, IT_COUNT };

static const struct {
	const char *guid, *name;
	uint32_t min_len;
} items[IT_COUNT] = {
	[IT_FILE_PARAMS] = { VHDX_FILE_PARAMS_GUID, "file parameters", 8 },
	[IT_DISK_SIZE] = { VHDX_DISK_SIZE_GUID, "virtual disk size", 8 },
	[IT_PAGE83] = { VHDX_PAGE83_GUID, "page 83 data", 16 },
	[IT_LOGICAL] = { VHDX_LOGICAL_SECTOR_GUID, "logical sector size", 4 },
	[IT_PHYSICAL] = { VHDX_PHYSICAL_SECTOR_GUID, "physical sector size",
			  4 },
	[IT_LOCATOR] = { VHDX_PARENT_LOCATOR_GUID, "parent locator", 20 },
};

struct item_ref {
	int found;
	uint32_t off, len;	/* from the region start */
};

static int locator_value(struct vu_blk *file, const uint8_t *loc,
			 uint32_t loc_len, uint64_t at, uint32_t voff,
			 uint16_t vlen, char *out, size_t out_size)
{
	if (voff > loc_len || vlen > loc_len - voff || vlen % 2)
		return vu_blk_fail(file, -EUCLEAN, "vhdx: parent locator at "
				   "offset %" PRIu64 ": string of %u bytes at "
				   "%" PRIu32 " lies outside its %" PRIu32
				   " bytes", at, vlen, voff, loc_len);
	vu_utf16_to_utf8(loc + voff, vlen / 2u, 0, out, out_size);
	return 0;
}

/* A parent_linkage value: the identifier the parent must have (that of
 * parent_linkage2 is one it may have instead), checked by the container. */
static int set_linkage(struct vu_blk *file, struct vhdx_meta *m, uint64_t at,
		       const char *key, const char *value, int *have_linkage)
{
	uint8_t guid[16];

	if (vu_guid_parse(value, guid) < 0)
		return vu_blk_fail(file, -EUCLEAN, "vhdx: parent locator at "
				   "offset %" PRIu64 ": %s \"%s\" is not a "
				   "GUID", at, key, value);
	if (key[14] == '2') {
		memcpy(m->parent_linkage2, guid, 16);
		m->have_linkage2 = 1;
	} else {
		memcpy(m->parent_linkage, guid, 16);
		*have_linkage = 1;
	}
	return 0;
}

/* Parent locator (2.6.2.6): key/value pairs in UTF-16LE. */
static int parse_locator(struct vu_blk *file, struct vhdx_meta *m,
			 const uint8_t *loc, uint32_t len, uint64_t at)
{
	static const char *const path_keys[] = {
		"relative_path", "absolute_win32_path", "volume_path",
	};
	uint8_t type[16];
	unsigned count = vu_le16(loc + VHDX_PL_COUNT);
	int have_linkage = 0, n = 0, r;
	char *paths[3] = { NULL, NULL, NULL };
	char g[VU_GUID_STRLEN];

	vu_guid_parse(VHDX_LOCATOR_TYPE_GUID, type);
	if (memcmp(loc, type, 16)) {
		vu_guid_format(loc, g);
		return vu_blk_fail(file, -ENOTSUP, "vhdx: parent locator at "
				   "offset %" PRIu64 ": type %s, expected %s "
				   "(vhdx parent)", at, g,
				   VHDX_LOCATOR_TYPE_GUID);
	}
	if (count > (len - VHDX_PL_ENTRIES) / VHDX_PLE_SIZE) {
		r = vu_blk_fail(file, -EUCLEAN, "vhdx: parent locator at "
				"offset %" PRIu64 ": %u entries do not fit in "
				"%" PRIu32 " bytes", at, count, len);
		goto out;
	}
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *e = loc + VHDX_PL_ENTRIES + i * VHDX_PLE_SIZE;
		char key[64], value[4096];

		r = locator_value(file, loc, len, at, vu_le32(e),
				  vu_le16(e + 8), key, sizeof(key));
		if (r == 0)
			r = locator_value(file, loc, len, at, vu_le32(e + 4),
					  vu_le16(e + 10), value,
					  sizeof(value));
		if (r < 0)
			goto out;
		if (!strcmp(key, "parent_linkage") ||
		    !strcmp(key, "parent_linkage2")) {
			r = set_linkage(file, m, at, key, value,
					&have_linkage);
			if (r < 0)
				goto out;
			continue;
		}
		for (int k = 0; k < 3; k++) {
			if (strcmp(key, path_keys[k]) || !value[0] || paths[k])
				continue;
			paths[k] = strdup(value);
			if (!paths[k]) {
				r = vu_fail(-ENOMEM, "out of memory");
				goto out;
			}
		}
	}
	if (!have_linkage) {
		r = vu_blk_fail(file, -EUCLEAN, "vhdx: parent locator at "
				"offset %" PRIu64 " has no parent_linkage",
				at);
		goto out;
	}
	/* best first: the relative path, then the absolute ones */
	for (int k = 0; k < 3; k++)
		if (paths[k]) {
			m->parent_paths[n++] = paths[k]; /* transferred */
			paths[k] = NULL;
		}
	r = 0;
out:
	for (int k = 0; k < 3; k++)
		free(paths[k]);
	return r;
}

static int read_item(struct vu_blk *file, const struct vhdx_meta *m,
		     const struct item_ref *it, void *buf, uint32_t len)
{
	return vu_blk_read(file, buf, len, m->meta_offset + it->off);
}

/* One metadata table entry (2.6.1.2): an item this reader knows is
 * recorded in ref after its bounds are checked; an unknown one is skipped
 * unless it is marked required. */
static int table_entry(struct vu_blk *file, const struct vhdx_meta *m,
		       const uint8_t *e, uint8_t (*guids)[16],
		       struct item_ref *ref)
{
	uint32_t ioff = vu_le32(e + VHDX_ME_OFFSET);
	uint32_t ilen = vu_le32(e + VHDX_ME_LENGTH);
	char g[VU_GUID_STRLEN];
	int k;

	for (k = 0; k < IT_COUNT; k++)
		if (!memcmp(e + VHDX_ME_ITEM_ID, guids[k], 16))
			break;
	if (k == IT_COUNT) {
		if (!(vu_le32(e + VHDX_ME_FLAGS) & VHDX_ME_IS_REQUIRED))
			return 0;
		vu_guid_format(e + VHDX_ME_ITEM_ID, g);
		return vu_blk_fail(file, -ENOTSUP, "vhdx: metadata table at "
				   "offset %" PRIu64 ": required item %s is "
				   "unknown", m->meta_offset, g);
	}
	if (ilen < items[k].min_len || ilen > VHDX_M_MAX_ITEM ||
	    ioff < VHDX_M_TABLE_SIZE || ioff > m->meta_length ||
	    ilen > m->meta_length - ioff)
		return vu_blk_fail(file, -EUCLEAN, "vhdx: metadata %s "
				   "item: %" PRIu32 " bytes at offset %"
				   PRIu32 " of the region, expected at "
				   "least %" PRIu32 " bytes inside its %"
				   PRIu32 " bytes after the table",
				   items[k].name, ilen, ioff,
				   items[k].min_len, m->meta_length);
	ref[k].found = 1;
	ref[k].off = ioff;
	ref[k].len = ilen;
	return 0;
}

/* The metadata table (2.6.1) at the start of the region: where each item
 * is.  Every item but the parent locator and the page 83 data is needed. */
static int load_table(struct vu_blk *file, const struct vhdx_meta *m,
		      struct item_ref *ref)
{
	uint64_t at = m->meta_offset;
	uint8_t *table, guids[IT_COUNT][16];
	unsigned count;
	int r;

	table = malloc(VHDX_M_TABLE_SIZE);
	if (!table)
		return vu_fail(-ENOMEM, "out of memory");
	r = vu_blk_read(file, table, VHDX_M_TABLE_SIZE, at);
	if (r < 0)
		goto out;
	if (memcmp(table, VHDX_M_SIGNATURE, 8)) {
		r = vu_blk_fail(file, -EUCLEAN, "vhdx: metadata table at "
				"offset %" PRIu64 ": no \"metadata\" signature",
				at);
		goto out;
	}
	count = vu_le16(table + VHDX_M_COUNT);
	if (count > 2047) {
		r = vu_blk_fail(file, -EUCLEAN, "vhdx: metadata table at "
				"offset %" PRIu64 ": %u entries, at most 2047 "
				"allowed", at, count);
		goto out;
	}
	for (int k = 0; k < IT_COUNT; k++)
		vu_guid_parse(items[k].guid, guids[k]);
	for (unsigned i = 0; i < count && r == 0; i++)
		r = table_entry(file, m, table + VHDX_M_ENTRIES +
				i * VHDX_ME_SIZE, guids, ref);
	for (int k = 0; k < IT_COUNT && r == 0; k++)
		if (!ref[k].found && k != IT_LOCATOR && k != IT_PAGE83)
			r = vu_blk_fail(file, -EUCLEAN, "vhdx: metadata table "
					"at offset %" PRIu64 " has no %s item",
					at, items[k].name);
out:
	free(table);
	return r;
}

/* File parameters, sector sizes and disk size (2.6.2.1 to 2.6.2.5). */
static int read_geometry(struct vu_blk *file, struct vhdx_meta *m,
			 const struct item_ref *ref)
{
	uint8_t v[8];
	int r;

	r = read_item(file, m, &ref[IT_FILE_PARAMS], v, 8);
	if (r < 0)
		return r;
	m->block_size = vu_le32(v);
	m->leave_block_allocated = !!(vu_le32(v + 4) & VHDX_FP_LEAVE_ALLOCATED);
	m->has_parent = !!(vu_le32(v + 4) & VHDX_FP_HAS_PARENT);
	if (m->block_size < VHDX_MIN_BLOCK_SIZE ||
	    m->block_size > VHDX_MAX_BLOCK_SIZE ||
	    !vu_is_pow2(m->block_size))
		return vu_blk_fail(file, -EUCLEAN, "vhdx: block size %" PRIu32
				   ", expected a power of two from 1 MiB to "
				   "256 MiB", m->block_size);
	r = read_item(file, m, &ref[IT_LOGICAL], v, 4);
	if (r < 0)
		return r;
	m->logical_sector_size = vu_le32(v);
	r = read_item(file, m, &ref[IT_PHYSICAL], v, 4);
	if (r < 0)
		return r;
	m->physical_sector_size = vu_le32(v);
	if ((m->logical_sector_size != 512 && m->logical_sector_size != 4096) ||
	    (m->physical_sector_size != 512 &&
	     m->physical_sector_size != 4096))
		return vu_blk_fail(file, -EUCLEAN, "vhdx: sector sizes %" PRIu32
				   " (logical) and %" PRIu32 " (physical), "
				   "expected 512 or 4096",
				   m->logical_sector_size,
				   m->physical_sector_size);
	r = read_item(file, m, &ref[IT_DISK_SIZE], v, 8);
	if (r < 0)
		return r;
	m->virtual_size = vu_le64(v);
	if (m->virtual_size == 0 || m->virtual_size > VHDX_MAX_DISK_SIZE ||
	    m->virtual_size % m->logical_sector_size)
		return vu_blk_fail(file, -EUCLEAN, "vhdx: virtual disk size %"
				   PRIu64 ", expected a positive multiple of %"
				   PRIu32 " up to 64 TiB", m->virtual_size,
				   m->logical_sector_size);
	return 0;
}

/* A differencing disk's parent locator item, which it must have. */
static int read_parent_locator(struct vu_blk *file, struct vhdx_meta *m,
			       const struct item_ref *ref)
{
	const struct item_ref *it = &ref[IT_LOCATOR];
	uint8_t *loc;
	int r;

	if (!it->found)
		return vu_blk_fail(file, -EUCLEAN, "vhdx: differencing disk "
				   "without a parent locator item");
	loc = malloc(it->len);
	if (!loc)
		return vu_fail(-ENOMEM, "out of memory");
	r = read_item(file, m, it, loc, it->len);
	if (r == 0)
		r = parse_locator(file, m, loc, it->len,
				  m->meta_offset + it->off);
	free(loc);
	return r;
}

int vhdx_parse_metadata(struct vu_blk *file, struct vhdx_meta *m)
{
	struct item_ref ref[IT_COUNT] = { { 0 } };
	uint64_t at = m->meta_offset;
	int r;

	if (m->meta_length < VHDX_M_TABLE_SIZE || at > file->size ||
	    m->meta_length > file->size - at)
		return vu_blk_fail(file, -EUCLEAN, "vhdx: metadata region at "
				   "offset %" PRIu64 " (%" PRIu32 " bytes) "
				   "lies outside the file or is shorter than "
				   "64 KiB", at, m->meta_length);
	r = load_table(file, m, ref);
	if (r == 0)
		r = read_geometry(file, m, ref);
	if (r == 0 && m->has_parent)
		r = read_parent_locator(file, m, ref);
	return r;
}

void vhdx_meta_free(struct vhdx_meta *m)
{
	for (int i = 0; i < VHDX_MAX_PARENT_PATHS; i++) {
		free(m->parent_paths[i]);
		m->parent_paths[i] = NULL;
	}
}

/* ---- the layer ---- */

struct vhdx_reader {
	struct vu_blk *file;	/* borrowed: the layer's lower */
	struct vu_blk *parent;	/* reference held; NULL: none */
	int differencing;
	uint32_t block_size, sector;
	uint64_t chunk_ratio;	/* payload blocks per sector bitmap block */
	uint64_t nblocks;
	uint64_t *bat;		/* the whole table, entries as read */
};

static uint64_t payload_entry(const struct vhdx_reader *x, uint64_t blk)
{
	return x->bat[blk + blk / x->chunk_ratio];
}

static uint64_t sb_entry(const struct vhdx_reader *x, uint64_t chunk)
{
	return x->bat[chunk * (x->chunk_ratio + 1) + x->chunk_ratio];
}

/* The runs at virtual offset off: to the end of its block or, in a
 * partially present block, each stretch of sectors on one side of the
 * sector bitmap (a lookup of the extent walk, core/extent.h). */
static int vhdx_lookup(const void *ctx, uint64_t off, size_t len,
		       struct vu_run *runs, size_t max)
{
	const struct vhdx_reader *x = ctx;
	uint64_t blk = off / x->block_size;
	uint64_t in = off % x->block_size, avail = x->block_size - in;
	uint64_t e = payload_entry(x, blk), sb, base;

	runs[0].length = avail;
	switch (VHDX_BAT_STATE(e)) {
	case VHDX_PAYLOAD_NOT_PRESENT:
	case VHDX_PAYLOAD_UNDEFINED:
		if (x->differencing && x->parent) {
			runs[0].lower = x->parent;
			runs[0].lower_off = off;
		}
		return 1;
	default: /* ZERO, UNMAPPED; others refused at open */
		return 1;
	case VHDX_PAYLOAD_FULLY_PRESENT:
		runs[0].lower = x->file;
		runs[0].lower_off = VHDX_BAT_OFFSET(e) + in;
		return 1;
	case VHDX_PAYLOAD_PARTIALLY_PRESENT:
		sb = sb_entry(x, blk / x->chunk_ratio);
		base = (blk % x->chunk_ratio) * (x->block_size / x->sector);
		return vhd_bitmap_lookup(x->file, x->parent,
					 VHDX_BAT_OFFSET(sb) + base / 8, 0,
					 x->sector, off - in,
					 VHDX_BAT_OFFSET(e), in,
					 len < avail ? len : avail, runs, max);
	}
}

static void vhdx_reader_free(struct vhdx_reader *x)
{
	if (!x)
		return;
	vu_blk_unref(x->parent);
	free(x->bat);
	free(x);
}

static void vhdx_destroy(void *x)
{
	vhdx_reader_free(x);
}

/* Check one present block (payload or sector bitmap) lies in the file. */
static int check_extent(struct vu_blk *file, const struct vhdx_meta *m,
			uint64_t i, uint64_t e, uint64_t size, const char *what)
{
	uint64_t at = VHDX_BAT_OFFSET(e);

	if (at >= VHDX_MIN_BLOCK_SIZE && at <= file->size &&
	    size <= file->size - at)
		return 0;
	return vu_blk_fail(file, -EUCLEAN, "vhdx: block table entry %" PRIu64
			   " (offset %" PRIu64 "): %s of %" PRIu64 " bytes at "
			   "offset %" PRIu64 " lies %s (file of %" PRIu64
			   " bytes): the file is truncated or damaged", i,
			   m->bat_offset + i * 8, what, size, at,
			   at < VHDX_MIN_BLOCK_SIZE ? "in the header section"
						    : "past the end of the file",
			   file->size);
}

/* Payload entry i of the table (raw: as read, x->bat: kept): its state
 * must be one this reader serves, a present block must lie in the file,
 * and a partially present one needs its chunk's sector bitmap block. */
static int check_payload(struct vu_blk *file, const struct vhdx_meta *m,
			 struct vhdx_reader *x, const uint8_t *raw, uint64_t i)
{
	uint64_t e = x->bat[i];
	uint64_t chunk = i / (x->chunk_ratio + 1);
	uint64_t sbi = chunk * (x->chunk_ratio + 1) + x->chunk_ratio;
	uint64_t sb;

	switch (VHDX_BAT_STATE(e)) {
	case VHDX_PAYLOAD_NOT_PRESENT:
	case VHDX_PAYLOAD_UNDEFINED:
	case VHDX_PAYLOAD_ZERO:
	case VHDX_PAYLOAD_UNMAPPED:
		return 0;
	case VHDX_PAYLOAD_UNMAPPED_V095:
		x->bat[i] = (e & ~(uint64_t)7) | VHDX_PAYLOAD_UNMAPPED;
		return 0;
	case VHDX_PAYLOAD_PARTIALLY_PRESENT:
		if (!x->differencing)
			return vu_blk_fail(file, -EUCLEAN, "vhdx: block "
					   "table entry %" PRIu64 " (offset %"
					   PRIu64 "): state 7 (partially "
					   "present) in a disk without a "
					   "parent", i, m->bat_offset + i * 8);
		sb = vu_le64(raw + sbi * 8);
		if (VHDX_BAT_STATE(sb) != VHDX_SB_PRESENT)
			return vu_blk_fail(file, -EUCLEAN, "vhdx: chunk %"
					   PRIu64 ": block table entry %"
					   PRIu64 " is partially present, but "
					   "the chunk's sector bitmap entry %"
					   PRIu64 " (offset %" PRIu64 ") has "
					   "state %u, expected 6 (present)",
					   chunk, i, sbi,
					   m->bat_offset + sbi * 8,
					   (unsigned)VHDX_BAT_STATE(sb));
		/* fall through */
	case VHDX_PAYLOAD_FULLY_PRESENT:
		return check_extent(file, m, i, e, x->block_size,
				    "payload block");
	default:
		return vu_blk_fail(file, -EUCLEAN, "vhdx: block table "
				   "entry %" PRIu64 " (offset %" PRIu64
				   "): state %u, expected 0-3, 6 or 7", i,
				   m->bat_offset + i * 8,
				   (unsigned)VHDX_BAT_STATE(e));
	}
}

static int load_bat(struct vu_blk *file, const struct vhdx_meta *m,
		    struct vhdx_reader *x)
{
	uint64_t nchunks = (x->nblocks + x->chunk_ratio - 1) / x->chunk_ratio;
	uint64_t total = x->differencing
				 ? nchunks * (x->chunk_ratio + 1)
				 : x->nblocks + (x->nblocks - 1) / x->chunk_ratio;
	uint8_t *raw;
	int r;

	/* A chunk's sector bitmap entry follows its payload entries; the
	 * reader looks at it only for a partially present block, whose
	 * chunk then has all its entries. */
	if (total > m->bat_length / 8 || m->bat_offset > file->size ||
	    m->bat_length > file->size - m->bat_offset)
		return vu_blk_fail(file, -EUCLEAN, "vhdx: block table at "
				   "offset %" PRIu64 " of %" PRIu32 " bytes "
				   "(%" PRIu32 " entries), expected %" PRIu64
				   " entries inside the file for %" PRIu64
				   " blocks", m->bat_offset, m->bat_length,
				   m->bat_length / 8, total, x->nblocks);
	x->bat = malloc(total * 8);
	raw = malloc(total * 8);
	if (!x->bat || !raw) {
		free(raw);
		return vu_fail(-ENOMEM, "out of memory");
	}
	r = vu_blk_read(file, raw, total * 8, m->bat_offset);
	for (uint64_t i = 0; r == 0 && i < total; i++) {
		uint64_t e = vu_le64(raw + i * 8);
		unsigned state = VHDX_BAT_STATE(e);
		int is_sb = i % (x->chunk_ratio + 1) == x->chunk_ratio;

		x->bat[i] = e;
		if (is_sb) {
			/* dynamic disks have none; their entries are unused */
			if (x->differencing && state == VHDX_SB_PRESENT)
				r = check_extent(file, m, i, e,
						 VHDX_SB_BLOCK_SIZE,
						 "sector bitmap block");
			continue;
		}
		r = check_payload(file, m, x, raw, i);
	}
	free(raw);
	return r;
}

int vhdx_reader_open(struct vu_blk *file, const struct vhdx_meta *m,
		     struct vu_blk *parent, struct vu_blk **out)
{
	struct vhdx_reader *x = NULL;
	const char *type;
	char name[32];
	int r;

	*out = NULL;
	if (m->block_size < VHDX_MIN_BLOCK_SIZE ||
	    m->block_size > VHDX_MAX_BLOCK_SIZE ||
	    !vu_is_pow2(m->block_size) ||
	    (m->logical_sector_size != 512 && m->logical_sector_size != 4096) ||
	    m->virtual_size == 0 || m->virtual_size > VHDX_MAX_DISK_SIZE ||
	    m->virtual_size % m->logical_sector_size) {
		r = vu_blk_fail(file, -EUCLEAN, "vhdx: block size %" PRIu32
				", sector size %" PRIu32 ", disk size %" PRIu64
				": not a valid combination", m->block_size,
				m->logical_sector_size, m->virtual_size);
		goto fail;
	}
	if (parent && !m->has_parent) {
		vu_blk_unref(parent);
		parent = NULL;
	}
	if (parent && (parent->size != m->virtual_size ||
		       parent->sector_size != m->logical_sector_size)) {
		r = vu_blk_fail(file, -EUCLEAN, "vhdx: parent %s has %" PRIu64
				" bytes in %" PRIu32 "-byte sectors, expected %"
				PRIu64 " in %" PRIu32 "-byte sectors",
				parent->desc, parent->size, parent->sector_size,
				m->virtual_size, m->logical_sector_size);
		goto fail;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto fail;
	}
	x->differencing = m->has_parent;
	x->block_size = m->block_size;
	x->sector = m->logical_sector_size;
	x->chunk_ratio = VHDX_SECTORS_PER_CHUNK * m->logical_sector_size /
			 m->block_size;
	x->nblocks = (m->virtual_size + m->block_size - 1) / m->block_size;
	r = load_bat(file, m, x);
	if (r < 0)
		goto fail;
	x->parent = parent; /* transferred */
	parent = NULL;
	type = m->has_parent ? "differencing"
	       : m->leave_block_allocated ? "fixed" : "dynamic";
	x->file = file;
	snprintf(name, sizeof(name), "vhdx(%s)", type);
	return vu_lookup_open(file, m->virtual_size, m->logical_sector_size,
			      vhdx_lookup, x, vhdx_destroy, "vhdx", name, out);
fail:
	vhdx_reader_free(x);
	vu_blk_unref(parent);
	vu_blk_unref(file);
	return r;
}
