/* Volume groups from a heap of scanned PVs: the PVs are grouped by the VG
 * UUID their metadata names and each group is opened with
 * vu_lvm_vg_open.  Grouping by UUID, not name, keeps two VGs that share a
 * name (two cloned images, each with its "rootvg") apart.  A VG that
 * fails to open does not stop the others: its error is kept with it. */
#ifndef VU_LVM_ASSEMBLE_H
#define VU_LVM_ASSEMBLE_H

#include <stddef.h>

#include "lvm/lvm.h"

struct vu_lvm_assembled {
	char *name;		/* the VG's name, from its PVs' metadata */
	char *uuid;		/* 6-4-4-4-4-4-6 */
	size_t npvs;		/* scanned PVs that belong to it */
	/* 0: vg is open; -EEXIST: a VG with this UUID was among those
	 * already open, nothing was opened; else why vu_lvm_vg_open failed,
	 * its message in msg */
	int err;
	char *msg;
	struct vu_lvm_vg *vg;	/* owned here until the caller takes it and
				   sets this to NULL */
};

struct vu_lvm_assembly {
	size_t n;			/* VGs, in the order their first PV
					   was given */
	struct vu_lvm_assembled *vgs;
	size_t unassigned;		/* PVs without metadata: which VG
					   they belong to is not known */
};

/* Group pvs[0..n) into VGs and open each one not listed in open[0..nopen)
 * (by UUID).  The PVs stay the caller's: every VG takes references of its
 * own to the devices, so the caller may free pvs as soon as this returns.
 * 0 with *out filled even when VGs failed (see err); -ENOMEM, or -EINVAL
 * for a NULL array, with *out empty. */
int vu_lvm_assemble(struct vu_lvm_pv **pvs, size_t n,
		    struct vu_lvm_vg *const *open, size_t nopen,
		    struct vu_lvm_assembly *out);
/* Closes the VGs the caller did not take. */
void vu_lvm_assembly_free(struct vu_lvm_assembly *a);

#endif
