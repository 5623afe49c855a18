/* The md step of vu_disk_unlock's rounds: md members among the volumes
 * (plain ones, and decrypted ones once their keys opened them) not looked
 * at yet are assembled into arrays (md/md.h), and each array becomes a
 * volume: "md-NAME" after the name mdadm gave it, "mdN" for a numbered
 * one or a 0.90 array.  An array that cannot be read is still a volume,
 * carrying why as its error, so that info and audit show it. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "unlock/unlock_int.h"

/* The volume id: md-NAME, mdN for a name of digits (mdadm's /dev/mdN)
 * or a 0.90 array's minor; characters a path cannot hold become '_'. A
 * clash with an id taken adds the UUID's first 8 digits. */
static void md_id(const struct vu_disk *d, const struct vu_md_info *mi,
		  char *out, size_t size)
{
	const char *n = mi->name;
	size_t k, digits = strspn(n, "0123456789");

	if (!n[0])
		snprintf(out, size, "md%d", mi->minor < 0 ? 0 : mi->minor);
	else if (n[digits] == '\0')
		snprintf(out, size, "md%s", n);
	else
		snprintf(out, size, "md-%s", n);
	for (k = 2; out[k]; k++)
		if (out[k] == '/' || !isgraph((unsigned char)out[k]))
			out[k] = '_';
	for (size_t i = 0; i < d->nvolumes; i++)
		if (!strcmp(d->volumes[i].id, out)) {
			snprintf(out + k, size > k ? size - k : 0, "-%.8s",
				 mi->uuid);
			break;
		}
}

/* An array that cannot be read: listed with why, never probed (every
 * read would fail). */
static int unreadable_volume(struct vu_disk *d, size_t image, const char *id,
			     const struct vu_md_info *mi)
{
	/* the message vu_md_array_open left, for every read */
	char *why = strdup(vu_errmsg(-ENOTSUP)), *err = NULL;
	char name[48];
	struct vu_volume *v = NULL;
	struct vu_blk *b = NULL;

	vu_err_clear();
	snprintf(name, sizeof(name), "md:%s", id);
	if (why)
		err = strdup(mi->error ? mi->error : why);
	if (err && vu_unreadable_open(mi->size, why, name, &b) == 0)
		v = vu_disk_new_volume(d);
	free(why);
	if (!v) {
		free(err);
		vu_blk_unref(b);
		return vu_fail(-ENOMEM, "out of memory");
	}
	snprintf(v->id, sizeof(v->id), "%s", id);
	v->image = image;
	v->blk = b; /* transferred */
	v->raw = vu_blk_ref(b);
	v->error = err; /* transferred */
	d->nvolumes++;
	return 0;
}

/* The array's volume, on the disk of its first member present. */
static int array_volume(struct vu_disk *d, struct vu_md_array *a)
{
	struct vu_md_info mi;
	struct vu_volume *v, *first = NULL;
	struct vu_blk *b = NULL;
	char id[sizeof(v->id)];
	int r;

	vu_md_array_info(a, &mi);
	for (unsigned i = 0; i < mi.raid_disks && !first; i++) {
		const char *label;
		uint64_t at;

		if (vu_md_array_role(a, i, &label, &at) == 0 && label)
			first = vu_disk_volume(d, label);
	}
	md_id(d, &mi, id, sizeof(id));
	r = vu_md_array_open(a, &b);
	if (r == -ENOMEM)
		return r;
	if (r == 0) {
		r = vu_disk_add_stacked(d, first ? first->image : 0, id, b,
					&v);
		if (r < 0)
			return r;
		v->md = a;
	} else {
		r = unreadable_volume(d, first ? first->image : 0, id, &mi);
		if (r < 0)
			return r;
		d->volumes[d->nvolumes - 1].md = a;
	}
	if (mi.degraded)
		vu_log(VU_LOG_WARN, "%s: %s degraded: %u of %u members present",
		       id, vu_md_level_name(mi.level), mi.present,
		       mi.raid_disks);
	return 0;
}

int unlock_expand_md(struct vu_disk *d)
{
	size_t n0 = d->nvolumes, nm = 0;
	struct vu_md_member **ms = calloc(n0 ? n0 : 1, sizeof(*ms));
	struct vu_md_assembly a;
	int r;

	if (!ms)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < n0; i++) {
		struct vu_volume *v = &d->volumes[i];

		if (v->md_scanned || vu_volume_content(v)->kind != VU_KIND_MD)
			continue;
		v->md_scanned = 1;
		r = vu_md_scan(v->blk, v->id, &ms[nm]);
		if (r == -ENOMEM) {
			while (nm)
				vu_md_member_free(ms[--nm]);
			free(ms);
			return r;
		}
		if (r < 0) {
			vu_log(VU_LOG_WARN, "%s: %s", v->id, vu_errmsg(r));
			vu_err_clear();
			continue;
		}
		nm++;
	}
	if (!nm) {
		free(ms);
		return 0;
	}
	r = vu_md_assemble(ms, nm, d->mds, d->nmds, &a);
	free(ms);
	if (r < 0)
		return r;
	for (size_t g = 0; g < a.n && r == 0; g++) {
		struct vu_md_array **mds = realloc(d->mds, (d->nmds + 1) *
						   sizeof(*mds));

		if (!mds) {
			r = vu_fail(-ENOMEM, "out of memory");
			break;
		}
		d->mds = mds;
		d->mds[d->nmds++] = a.arrays[g];
		a.arrays[g] = NULL; /* transferred */
		r = array_volume(d, d->mds[d->nmds - 1]);
	}
	vu_md_assembly_free(&a);
	return r;
}
