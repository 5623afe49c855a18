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

static int add_volume(struct vu_disk *d, const char *id, struct vu_blk *blk,
		      const struct vu_part *part)
{
	struct vu_volume *v = vu_disk_new_volume(d);
	int r;

	if (!v) {
		vu_blk_unref(blk);
		return vu_fail(-ENOMEM, "out of memory");
	}
	snprintf(v->id, sizeof(v->id), "%s", id);
	v->blk = blk; /* transferred */
	v->raw = vu_blk_ref(blk);
	v->part = part;
	d->nvolumes++;
	r = vu_probe(blk, &v->probe);
	if (r == 0 && v->probe.kind == VU_KIND_BITLOCKER)
		r = vu_bde_open(blk, &v->bde);
	if (r == 0 && (v->probe.kind == VU_KIND_LUKS1 ||
		       v->probe.kind == VU_KIND_LUKS2))
		r = vu_luks_open(blk, NULL, &v->luks);
	if (r < 0) {
		/* An unreadable volume is still listed; the front end says
		 * why and fails once it has shown the rest. */
		v->error = strdup(vu_errmsg(r));
		vu_err_clear();
		/* a damaged BitLocker or LUKS volume keeps its kind */
	}
	return 0;
}

int vu_disk_open(const char *path, struct vu_disk **out)
{
	struct vu_disk *d;
	int r;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d || !(d->path = strdup(path))) {
		free(d);
		return vu_fail(-ENOMEM, "out of memory");
	}
	r = vu_container_open(path, &d->blk, &d->container);
	if (r < 0)
		goto fail;
	r = vu_ptable_read(d->blk, &d->table);
	if (r < 0)
		goto fail;
	if (d->table.type == VU_TABLE_NONE) {
		r = add_volume(d, "disk", vu_blk_ref(d->blk), NULL);
		if (r < 0)
			goto fail;
	} else {
		for (size_t i = 0; i < d->table.count; i++) {
			const struct vu_part *p = &d->table.parts[i];
			char id[32], name[48];
			struct vu_blk *b;

			snprintf(id, sizeof(id), "p%u", p->slot);
			snprintf(name, sizeof(name), "%s#%u",
				 d->table.type == VU_TABLE_GPT ? "gpt" : "mbr",
				 p->slot);
			r = vu_slice_open(vu_blk_ref(d->blk), p->start, p->size,
					  name, &b);
			if (r < 0)
				goto fail;
			r = add_volume(d, id, b, p);
			if (r < 0)
				goto fail;
		}
	}
	*out = d;
	return 0;
fail:
	vu_disk_close(d);
	return r;
}

void vu_disk_close(struct vu_disk *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nvolumes; i++) {
		vu_blk_unref(d->volumes[i].blk);
		vu_blk_unref(d->volumes[i].raw);
		vu_bde_close(d->volumes[i].bde);
		vu_luks_close(d->volumes[i].luks);
		free(d->volumes[i].luks_header);
		free(d->volumes[i].error);
		free(d->volumes[i].lock_error);
	}
	free(d->volumes);
	for (size_t i = 0; i < d->nvgs; i++)
		vu_lvm_vg_close(d->vgs[i]);
	free(d->vgs);
	free(d->lock_error);
	vu_ptable_free(&d->table);
	vu_container_info_free(&d->container);
	vu_blk_unref(d->blk);
	free(d->path);
	free(d);
}

const struct vu_probe *vu_volume_content(const struct vu_volume *v)
{
	return v->unlocked ? &v->inner : &v->probe;
}

int vu_volume_encrypted(const struct vu_volume *v)
{
	return v->bde || v->luks || v->probe.kind == VU_KIND_BITLOCKER ||
	       v->probe.kind == VU_KIND_LUKS1 || v->probe.kind == VU_KIND_LUKS2;
}

struct vu_volume *vu_disk_volume(struct vu_disk *d, const char *id)
{
	for (size_t i = 0; i < d->nvolumes; i++)
		if (!strcmp(d->volumes[i].id, id))
			return &d->volumes[i];
	return NULL;
}
