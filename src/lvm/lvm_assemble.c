/* Volume groups from scanned PVs (see lvm_assemble.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "lvm/lvm.h"
#include "lvm/lvm_assemble.h"

static int is_open(struct vu_lvm_vg *const *open, size_t nopen,
		   const char *uuid)
{
	for (size_t i = 0; i < nopen; i++) {
		struct vu_lvm_vg_info vi;

		vu_lvm_vg_info(open[i], &vi);
		if (!strcmp(vi.uuid, uuid))
			return 1;
	}
	return 0;
}

/* The group of pv's VG, a new one at the end when it has none yet. */
static int group_of(struct vu_lvm_assembly *a, size_t *cap,
		    const struct vu_lvm_pv *pv, size_t *out)
{
	const char *uuid = vu_lvm_pv_vg_uuid(pv);
	struct vu_lvm_assembled *e;

	for (size_t g = 0; g < a->n; g++)
		if (!strcmp(a->vgs[g].uuid, uuid)) {
			*out = g;
			return 0;
		}
	if (a->n == *cap) {
		size_t c = *cap ? *cap * 2 : 4;
		struct vu_lvm_assembled *v = realloc(a->vgs, c * sizeof(*v));

		if (!v)
			return vu_fail(-ENOMEM, "out of memory");
		a->vgs = v;
		*cap = c;
	}
	e = &a->vgs[a->n];
	memset(e, 0, sizeof(*e));
	e->name = strdup(vu_lvm_pv_vg_name(pv));
	e->uuid = strdup(uuid);
	a->n++; /* counted now, so that free releases the copies */
	if (!e->name || !e->uuid)
		return vu_fail(-ENOMEM, "out of memory");
	*out = a->n - 1;
	return 0;
}

/* Open group g from its members (grp[i] == g); only -ENOMEM is fatal. */
static int open_group(struct vu_lvm_assembly *a, size_t g,
		      struct vu_lvm_pv **pvs, const size_t *grp, size_t n,
		      struct vu_lvm_pv **members)
{
	struct vu_lvm_assembled *e = &a->vgs[g];
	size_t k = 0;
	int r;

	for (size_t i = 0; i < n; i++)
		if (grp[i] == g)
			members[k++] = pvs[i];
	vu_err_clear(); /* this VG's message, not an older one */
	r = vu_lvm_vg_open(members, k, &e->vg);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		e->err = r;
		e->msg = strdup(vu_errmsg(r));
		vu_err_clear();
		if (!e->msg)
			return vu_fail(-ENOMEM, "out of memory");
	}
	return 0;
}

int vu_lvm_assemble(struct vu_lvm_pv **pvs, size_t n,
		    struct vu_lvm_vg *const *open, size_t nopen,
		    struct vu_lvm_assembly *out)
{
	struct vu_lvm_assembly a = { .n = 0 };
	struct vu_lvm_pv **members = NULL;
	size_t *grp = NULL, cap = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if ((!pvs && n) || (!open && nopen))
		return vu_fail(-EINVAL, "lvm: no physical volumes");
	/* every PV's group first: a VG opens once, with all its PVs, however
	 * they are interleaved with other VGs' */
	grp = calloc(n ? n : 1, sizeof(*grp));
	members = calloc(n ? n : 1, sizeof(*members));
	if (!grp || !members) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!vu_lvm_pv_vg_uuid(pvs[i])[0]) {
			/* no metadata area on it: only its VG's metadata
			 * could say whose it is */
			grp[i] = SIZE_MAX;
			a.unassigned++;
			continue;
		}
		r = group_of(&a, &cap, pvs[i], &grp[i]);
		if (r < 0)
			goto out;
		a.vgs[grp[i]].npvs++;
	}
	for (size_t g = 0; g < a.n; g++) {
		if (is_open(open, nopen, a.vgs[g].uuid)) {
			a.vgs[g].err = -EEXIST;
			continue;
		}
		r = open_group(&a, g, pvs, grp, n, members);
		if (r < 0)
			goto out;
	}
	*out = a; /* transferred */
	a.n = 0;
	a.vgs = NULL;
out:
	vu_lvm_assembly_free(&a);
	free(members);
	free(grp);
	return r;
}

void vu_lvm_assembly_free(struct vu_lvm_assembly *a)
{
	if (!a)
		return;
	for (size_t g = 0; g < a->n; g++) {
		free(a->vgs[g].name);
		free(a->vgs[g].uuid);
		free(a->vgs[g].msg);
		vu_lvm_vg_close(a->vgs[g].vg);
	}
	free(a->vgs);
	memset(a, 0, sizeof(*a));
}
