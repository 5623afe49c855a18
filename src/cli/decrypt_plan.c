/* decrypt's plan and output disk (decrypt_plan.h). */
#include "cli/decrypt_plan.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/extent.h"
#include "luks/luks.h"
#include "partition/gpt_rewrite.h"
#include "partition/mbr_rewrite.h"

/* ---- what becomes of each volume ---- */

/* An unlocked LUKS volume: in place when its payload starts at 0 (a
 * detached header), else moved to the payload where the table allows. */
static enum decrypt_action luks_action(const struct vu_disk *d,
				       struct decrypt_vol *q)
{
	const struct vu_ptable *t = &d->images[0].table;
	uint64_t off = vu_luks_info(vu_volume_luks(q->v))->data_offset;

	if (off == 0)
		return DECRYPT_IN_PLACE;
	if (!q->v->part)
		q->why = "LUKS on the whole disk, with no partition to start "
			 "at its payload";
	else if (t->type == VU_TABLE_MBR && q->v->part->slot > 4)
		q->why = "LUKS in a logical MBR partition, whose start cannot "
			 "be moved yet";
	else if (off % t->sector_size || off >= q->size)
		q->why = "LUKS payload not on a sector of the partition "
			 "table";
	if (q->why)
		return DECRYPT_UNSUPPORTED;
	q->moved_by = off;
	return DECRYPT_MOVED;
}

static enum decrypt_action action_of(const struct vu_disk *d,
				     struct decrypt_vol *q)
{
	if (!vu_volume_encrypted(q->v))
		return DECRYPT_COPY;
	if (!q->v->unlocked)
		return DECRYPT_LOCKED;
	if (vu_volume_bde(q->v))
		return DECRYPT_IN_PLACE;
	if (vu_volume_luks(q->v))
		return luks_action(d, q);
	q->why = "an encryption scheme decrypt does not know";
	return DECRYPT_UNSUPPORTED;
}

/* Where the decrypted content goes must hold it: BitLocker's is the
 * volume's size, LUKS's at most what follows its payload offset. */
static int check_fit(const struct vu_disk *d, const struct decrypt_vol *q)
{
	uint64_t disk = d->images[0].blk->size, have = q->size - q->moved_by;
	uint64_t need = q->v->blk->size;
	int bde = vu_volume_bde(q->v) != NULL;

	if (q->start > disk || q->size > disk - q->start ||
	    (bde ? need != have : need > have))
		return vu_fail(-EUCLEAN, "%s: %s: %" PRIu64 " bytes at %"
			       PRIu64 " (payload at +%" PRIu64 ", decrypted "
			       "%" PRIu64 ") do not fit the disk's %" PRIu64,
			       d->images[0].path, q->v->id, q->size,
			       q->start, q->moved_by, need, disk);
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct decrypt_vol *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The volumes that lie on the first image (partitions, or the whole disk
 * without a table; logical volumes lie inside them), by start. */
static int plan_volumes(struct vu_disk *d, struct decrypt_plan *p)
{
	uint64_t disk = d->images[0].blk->size;

	p->vols = calloc(d->nvolumes ? d->nvolumes : 1, sizeof(*p->vols));
	if (!p->vols)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < d->nvolumes; i++) {
		struct vu_volume *v = &d->volumes[i];
		struct decrypt_vol *q = &p->vols[p->n];
		int r;

		if (v->image != 0 || vu_volume_composite(v))
			continue;
		q->v = v;
		q->start = v->part ? v->part->start : 0;
		q->size = v->part ? v->part->size : disk;
		q->act = action_of(d, q);
		if (q->act == DECRYPT_IN_PLACE || q->act == DECRYPT_MOVED) {
			r = check_fit(d, q);
			if (r < 0)
				return r;
		}
		p->n++;
	}
	qsort(p->vols, p->n, sizeof(*p->vols), by_start);
	return 0;
}

/* ---- the partition table's new sectors ---- */

static int add_area(struct decrypt_plan *p, uint64_t off, const uint8_t *data,
		    size_t len, const char *name)
{
	struct decrypt_area *a = &p->areas[p->nareas];
	int r = vu_mem_open(data, len, name, &a->blk);

	if (r == 0) {
		a->off = off;
		p->nareas++;
	}
	return r;
}

static int read_sector0(struct vu_blk *disk, uint32_t ss, uint8_t **out)
{
	*out = malloc(ss);
	if (!*out)
		return vu_fail(-ENOMEM, "out of memory");
	return vu_blk_read(disk, *out, ss, 0);
}

static int rewrite_gpt(struct vu_disk *d, struct decrypt_plan *p)
{
	const struct vu_ptable *t = &d->images[0].table;
	struct vu_blk *disk = d->images[0].blk;
	struct vu_gpt_area a[VU_GPT_AREAS];
	int r = vu_gpt_rewrite_open(disk, t->sector_size, &p->gpt);

	for (size_t i = 0; r == 0 && i < p->n; i++)
		if (p->vols[i].act == DECRYPT_MOVED)
			r = vu_gpt_rewrite_move_start(
				p->gpt, p->vols[i].v->part->slot,
				(p->vols[i].start + p->vols[i].moved_by) /
					t->sector_size);
	if (r == 0)
		r = vu_gpt_rewrite_resize(p->gpt, p->size);
	if (r == 0)
		r = vu_gpt_rewrite_areas(p->gpt, a);
	for (int i = 0; r == 0 && i < VU_GPT_AREAS; i++)
		r = add_area(p, a[i].off, a[i].data, a[i].len, "gpt");
	if (r == 0 && p->size > disk->size) {
		r = read_sector0(disk, t->sector_size, &p->mbr);
		if (r == 0)
			r = vu_mbr_rewrite_protective(p->mbr,
						      p->size / t->sector_size);
		if (r == 0)
			r = add_area(p, 0, p->mbr, t->sector_size, "mbr");
	}
	return r;
}

static int rewrite_mbr(struct vu_disk *d, struct decrypt_plan *p)
{
	const struct vu_ptable *t = &d->images[0].table;
	int r = read_sector0(d->images[0].blk, t->sector_size, &p->mbr);

	for (size_t i = 0; r == 0 && i < p->n; i++)
		if (p->vols[i].act == DECRYPT_MOVED)
			r = vu_mbr_rewrite_move_start(
				p->mbr, p->vols[i].v->part->slot,
				(uint32_t)(p->vols[i].moved_by /
					   t->sector_size));
	if (r == 0)
		r = add_area(p, 0, p->mbr, t->sector_size, "mbr");
	return r;
}

/* The table is rewritten when an entry moves or a GPT's backup must move
 * to a padded end. */
static int plan_table(struct vu_disk *d, struct decrypt_plan *p)
{
	enum vu_table_type type = d->images[0].table.type;
	int moved = 0, r;

	for (size_t i = 0; i < p->n; i++)
		moved |= p->vols[i].act == DECRYPT_MOVED;
	if (type == VU_TABLE_GPT && (moved ||
				     p->size > d->images[0].blk->size))
		r = rewrite_gpt(d, p);
	else if (type == VU_TABLE_MBR && moved)
		r = rewrite_mbr(d, p);
	else
		return 0;
	if (r == 0)
		p->table_rewritten = 1;
	return r;
}

int decrypt_plan_make(struct vu_disk *d, uint64_t pad_to,
		      struct decrypt_plan *p)
{
	uint64_t size = d->images[0].blk->size;
	int r;

	memset(p, 0, sizeof(*p));
	p->size = pad_to ? (size + pad_to - 1) / pad_to * pad_to : size;
	r = plan_volumes(d, p);
	return r < 0 ? r : plan_table(d, p);
}

void decrypt_plan_free(struct decrypt_plan *p)
{
	for (size_t i = 0; i < p->nareas; i++)
		vu_blk_unref(p->areas[i].blk);
	vu_gpt_rewrite_free(p->gpt);
	free(p->mbr);
	free(p->vols);
	memset(p, 0, sizeof(*p));
}

/* ---- the output disk ---- */

/* A range of the output that does not come from the disk as stored. */
struct piece {
	uint64_t start, len;
	struct vu_blk *blk;	/* NULL: zeros */
};

static int by_piece_start(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* What replaces the disk's bytes: decrypted volumes, zeroed LUKS headers,
 * the rewritten table; sorted.  pieces: room for 2 per volume + areas. */
static size_t list_pieces(const struct decrypt_plan *p, struct piece *pieces)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct decrypt_vol *q = &p->vols[i];

		if (q->act == DECRYPT_MOVED)
			pieces[n++] = (struct piece){ q->start, q->moved_by,
						      NULL };
		if (q->act == DECRYPT_MOVED || q->act == DECRYPT_IN_PLACE)
			pieces[n++] = (struct piece){
				q->start + q->moved_by, q->v->blk->size,
				q->v->blk };
	}
	for (size_t i = 0; i < p->nareas; i++)
		pieces[n++] = (struct piece){ p->areas[i].off,
					      p->areas[i].blk->size,
					      p->areas[i].blk };
	qsort(pieces, n, sizeof(*pieces), by_piece_start);
	return n;
}

/* [pos, end) as the disk has it, zeros past its end (padding). */
static int add_stored(struct vu_extent_map *m, struct vu_blk *disk,
		      uint64_t pos, uint64_t end)
{
	uint64_t stored = end < disk->size ? end : disk->size;
	int r = 0;

	if (pos < stored)
		r = vu_extent_map_add(m, stored - pos, disk, pos, NULL, 0, 0);
	if (r == 0 && end > stored && end > pos)
		r = vu_extent_map_add(m, end - (pos > stored ? pos : stored),
				      NULL, 0, NULL, 0, 0);
	return r;
}

static int fill_map(struct vu_disk *d, const struct decrypt_plan *p,
		    const struct piece *pieces, size_t n,
		    struct vu_extent_map *m)
{
	struct vu_blk *disk = d->images[0].blk;
	uint64_t pos = 0;
	int r = 0;

	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct piece *c = &pieces[i];

		if (c->start < pos || c->len > p->size - c->start)
			return vu_fail(-EUCLEAN, "%s: decrypt: what replaces "
				       "%" PRIu64 " bytes at %" PRIu64 " "
				       "overlaps what comes before it or "
				       "ends past the disk; refusing",
				       d->images[0].path, c->len, c->start);
		r = add_stored(m, disk, pos, c->start);
		if (r == 0)
			r = vu_extent_map_add(m, c->len, c->blk, 0, NULL, 0,
					      0);
		pos = c->start + c->len;
	}
	return r < 0 ? r : add_stored(m, disk, pos, p->size);
}

int decrypt_plan_disk(struct vu_disk *d, struct decrypt_plan *p,
		      struct vu_blk **out)
{
	struct vu_blk *disk = d->images[0].blk;
	struct piece *pieces = calloc(2 * p->n + p->nareas + 1,
				      sizeof(*pieces));
	struct vu_extent_map *m = vu_extent_map_new();
	int r;

	*out = NULL;
	if (!pieces || !m) {
		free(pieces);
		vu_extent_map_free(m);
		return vu_fail(-ENOMEM, "out of memory");
	}
	r = fill_map(d, p, pieces, list_pieces(p, pieces), m);
	free(pieces);
	if (r < 0) {
		vu_extent_map_free(m);
		return r;
	}
	vu_extent_map_log(m, "decrypt");
	return vu_extent_map_open(m, vu_blk_ref(disk), disk->sector_size,
				  "decrypt", "decrypted disk", out);
}
