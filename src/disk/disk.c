#include "disk/disk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static int add_volume(struct vu_disk *d, const char *id, struct vu_blk *blk,
		      const struct vu_part *part)
{
	struct vu_volume *v = &d->volumes[d->nvolumes];
	int r;

	memset(v, 0, sizeof(*v));
	snprintf(v->id, sizeof(v->id), "%s", id);
	v->blk = blk; /* transferred */
	v->raw = vu_blk_ref(blk);
	v->part = part;
	d->nvolumes++;
	r = vu_probe(blk, &v->probe);
	if (r == 0 && v->probe.kind == VU_KIND_BITLOCKER)
		r = vu_bde_open(blk, &v->bde);
	if (r < 0) {
		/* An unreadable volume is still listed; the front end says
		 * why and fails once it has shown the rest. */
		v->error = strdup(vu_errmsg(r));
		vu_err_clear();
		if (!v->bde)
			v->probe.kind = v->probe.kind == VU_KIND_BITLOCKER
						? VU_KIND_BITLOCKER
						: VU_KIND_UNKNOWN;
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
	d->volumes = calloc(d->table.count ? d->table.count : 1,
			    sizeof(*d->volumes));
	if (!d->volumes) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto fail;
	}
	if (d->table.type == VU_TABLE_NONE) {
		add_volume(d, "disk", vu_blk_ref(d->blk), NULL);
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
			add_volume(d, id, b, p);
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
		free(d->volumes[i].error);
		free(d->volumes[i].lock_error);
	}
	free(d->volumes);
	vu_ptable_free(&d->table);
	vu_container_info_free(&d->container);
	vu_blk_unref(d->blk);
	free(d->path);
	free(d);
}

int vu_volume_encrypted(const struct vu_volume *v)
{
	return v->probe.kind == VU_KIND_BITLOCKER ||
	       v->probe.kind == VU_KIND_LUKS1 || v->probe.kind == VU_KIND_LUKS2;
}

struct vu_volume *vu_disk_volume(struct vu_disk *d, const char *id)
{
	for (size_t i = 0; i < d->nvolumes; i++)
		if (!strcmp(d->volumes[i].id, id))
			return &d->volumes[i];
	return NULL;
}
