#include "disk/disk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* The volume array grows as logical volumes are found: nothing keeps a
 * pointer into it across vu_disk_open/vu_disk_unlock (FUSE uses indexes). */
struct vu_volume *vu_disk_new_volume(struct vu_disk *d)
{
	struct vu_volume *v = realloc(d->volumes,
				      (d->nvolumes + 1) * sizeof(*v));

	if (!v)
		return NULL;
	d->volumes = v;
	v = &d->volumes[d->nvolumes];
	memset(v, 0, sizeof(*v));
	return v;
}

/* A volume, probed, with its encryption's metadata read; *out (when
 * asked) points at it. */
static int add_volume(struct vu_disk *d, size_t image, const char *id,
		      struct vu_blk *blk, const struct vu_part *part,
		      struct vu_volume **out)
{
	struct vu_volume *v = vu_disk_new_volume(d);
	const struct vu_crypt_ops *crypt;
	int r;

	if (!v) {
		vu_blk_unref(blk);
		return vu_fail(-ENOMEM, "out of memory");
	}
	snprintf(v->id, sizeof(v->id), "%s", id);
	v->image = image;
	v->blk = blk; /* transferred */
	v->raw = vu_blk_ref(blk);
	v->part = part;
	d->nvolumes++;
	r = vu_probe(blk, &v->probe);
	crypt = r == 0 ? vu_crypt_for_kind(v->probe.kind) : NULL;
	if (crypt) {
		void *state;

		r = crypt->open(blk, &state);
		if (r == 0) {
			v->crypt = crypt;
			v->crypt_state = state;
		}
	}
	if (r < 0) {
		/* An unreadable volume is still listed; the front end says
		 * why and fails once it has shown the rest. */
		v->error = strdup(vu_errmsg(r));
		vu_err_clear();
		/* a damaged encrypted volume keeps its kind */
	}
	if (out)
		*out = v;
	return 0;
}

int vu_disk_add_stacked(struct vu_disk *d, size_t image, const char *id,
			struct vu_blk *blk, struct vu_volume **out)
{
	return add_volume(d, image, id, blk, NULL, out);
}

/* With several disks every id names its disk: p2 -> d1p2, disk -> d1. */
static void number_ids(struct vu_disk *d)
{
	for (size_t i = 0; i < d->nvolumes; i++) {
		struct vu_volume *v = &d->volumes[i];
		char id[sizeof(v->id)];

		if (v->id[0] == 'd' && v->id[1] >= '1' && v->id[1] <= '9')
			continue; /* done already */
		if (!strcmp(v->id, "disk"))
			snprintf(id, sizeof(id), "d%zu", v->image + 1);
		else
			snprintf(id, sizeof(id), "d%zu%.20s", v->image + 1,
				 v->id);
		memcpy(v->id, id, sizeof(id));
	}
}

static int open_image(struct vu_disk *d, const char *path)
{
	struct vu_disk_image *im, *ims;
	size_t n = d->nimages;
	int r;

	ims = realloc(d->images, (n + 1) * sizeof(*ims));
	if (!ims)
		return vu_fail(-ENOMEM, "out of memory");
	d->images = ims;
	im = &ims[n];
	memset(im, 0, sizeof(*im));
	im->path = strdup(path);
	if (!im->path)
		return vu_fail(-ENOMEM, "out of memory");
	d->nimages++;
	r = vu_container_open(path, &im->blk, &im->container);
	if (r < 0)
		return r;
	r = vu_ptable_read(im->blk, &im->table);
	if (r < 0)
		return r;
	if (im->table.type == VU_TABLE_NONE)
		return add_volume(d, n, "disk", vu_blk_ref(im->blk), NULL,
				  NULL);
	for (size_t i = 0; i < im->table.count; i++) {
		const struct vu_part *p = &im->table.parts[i];
		char id[32], name[48];
		struct vu_blk *b;

		snprintf(id, sizeof(id), "p%u", p->slot);
		snprintf(name, sizeof(name), "%s#%u",
			 im->table.type == VU_TABLE_GPT ? "gpt" : "mbr",
			 p->slot);
		r = vu_slice_open(vu_blk_ref(im->blk), p->start, p->size, name,
				  &b);
		if (r < 0)
			return r;
		r = add_volume(d, n, id, b, p, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

int vu_disk_open(const char *path, struct vu_disk **out)
{
	struct vu_disk *d;
	int r;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return vu_fail(-ENOMEM, "out of memory");
	r = open_image(d, path);
	if (r < 0) {
		vu_disk_close(d);
		return r;
	}
	*out = d;
	return 0;
}

int vu_disk_add(struct vu_disk *d, const char *path)
{
	int r = open_image(d, path);

	/* volumes keep pointers into their image's partition table: on
	 * failure the image stays listed, closed with the disk */
	number_ids(d);
	return r;
}

void vu_disk_close(struct vu_disk *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nvolumes; i++) {
		vu_blk_unref(d->volumes[i].blk);
		vu_blk_unref(d->volumes[i].raw);
		if (d->volumes[i].crypt)
			d->volumes[i].crypt->close(d->volumes[i].crypt_state);
		free(d->volumes[i].luks_header);
		free(d->volumes[i].error);
		free(d->volumes[i].lock_error);
	}
	free(d->volumes);
	for (size_t i = 0; i < d->nvgs; i++)
		vu_lvm_vg_close(d->vgs[i]);
	free(d->vgs);
	for (size_t i = 0; i < d->nmds; i++)
		vu_md_array_free(d->mds[i]);
	free(d->mds);
	for (size_t i = 0; i < d->nheaders; i++) {
		free(d->headers[i].name);
		vu_blk_unref(d->headers[i].blk);
	}
	free(d->headers);
	free(d->lock_error);
	for (size_t i = 0; i < d->nimages; i++) {
		vu_ptable_free(&d->images[i].table);
		vu_container_info_free(&d->images[i].container);
		vu_blk_unref(d->images[i].blk);
		free(d->images[i].path);
	}
	free(d->images);
	free(d);
}

const struct vu_probe *vu_volume_content(const struct vu_volume *v)
{
	return v->unlocked ? &v->inner : &v->probe;
}

int vu_volume_composite(const struct vu_volume *v)
{
	return v->vg || v->md;
}

int vu_volume_encrypted(const struct vu_volume *v)
{
	return v->crypt || vu_crypt_for_kind(v->probe.kind);
}

struct vu_bde *vu_volume_bde(const struct vu_volume *v)
{
	return v->crypt == &vu_crypt_bitlocker ? v->crypt_state : NULL;
}

struct vu_luks *vu_volume_luks(const struct vu_volume *v)
{
	return v->crypt == &vu_crypt_luks ? v->crypt_state : NULL;
}

struct vu_volume *vu_disk_volume(struct vu_disk *d, const char *id)
{
	for (size_t i = 0; i < d->nvolumes; i++)
		if (!strcmp(d->volumes[i].id, id))
			return &d->volumes[i];
	return NULL;
}
