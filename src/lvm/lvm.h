/* LVM2: physical volumes -> volume group -> logical volumes, read from the
 * on-disk format directly (label, pv_header, metadata area, text
 * metadata).  Linear and striped LVs open (segments of type "striped",
 * any stripe count and size, on any of the PVs given); other segment types
 * (raid*, mirror, thin, cache, vdo, ...) are listed with supported = 0 and
 * the type in unsupported. */
#ifndef VU_LVM_H
#define VU_LVM_H

#include <stddef.h>
#include <stdint.h>

#include "core/blk.h"

struct vu_lvm_pv; /* one scanned physical volume */
struct vu_lvm_vg; /* a volume group assembled from its PVs */

/* Read a PV's label, pv_header and newest metadata (CRCs checked).
 * Takes its own reference to pv.  -EINVAL when pv carries no LVM2 label,
 * -EUCLEAN for damaged structures (the message names structure and
 * offset), -EIO, -ENOMEM.  A PV without metadata areas scans fine. */
int vu_lvm_scan(struct vu_blk *pv, struct vu_lvm_pv **out);
void vu_lvm_pv_free(struct vu_lvm_pv *pv);

/* The PV's UUID as lvm prints it (6-4-4-4-4-4-6). */
const char *vu_lvm_pv_uuid(const struct vu_lvm_pv *pv);
/* The VG named by this PV's metadata, "" when it has none. */
const char *vu_lvm_pv_vg_name(const struct vu_lvm_pv *pv);
/* That VG's UUID (6-4-4-4-4-4-6), "" when it has none: VG names need not
 * be unique across disks, UUIDs are. */
const char *vu_lvm_pv_vg_uuid(const struct vu_lvm_pv *pv);

/* Assemble the VG from n scanned PVs (all of one VG; the newest metadata,
 * by seqno, wins).  The VG takes its own references to the PVs' sources;
 * the caller still frees pvs.  PVs listed in the metadata but not given
 * are "missing": LVs on them fail to open with -ENOENT.  -EINVAL when no
 * PV has metadata or a PV belongs to another VG; -EUCLEAN for bad
 * metadata. */
int vu_lvm_vg_open(struct vu_lvm_pv **pvs, size_t n, struct vu_lvm_vg **out);
void vu_lvm_vg_close(struct vu_lvm_vg *vg);

struct vu_lvm_vg_info {
	const char *name;
	const char *uuid;	/* 6-4-4-4-4-4-6 */
	uint64_t extent_size;	/* in 512-byte sectors */
	uint64_t seqno;
	size_t pv_count;
	size_t lv_count;
	size_t missing_pvs;
};

struct vu_lvm_pv_info {
	const char *name;	/* "pv0" as the metadata names it */
	const char *uuid;
	const char *device;	/* the device path last seen by lvm, or "" */
	uint64_t dev_size;	/* sectors */
	uint64_t pe_start;	/* sectors */
	uint64_t pe_count;
	int present;		/* 0: not given to vu_lvm_vg_open */
};

struct vu_lvm_lv_info {
	const char *name;
	const char *uuid;
	uint64_t size;		/* bytes */
	uint64_t extents;
	size_t segment_count;
	const char *types;	/* segment types, ","-joined, distinct: "linear",
				   "striped", "thin", "thin-pool", ... */
	int visible;		/* 0: internal LV (_tmeta, _rimage_0, ...) */
	int supported;		/* 1: vu_lvm_lv_open can map it */
	const char *unsupported; /* the first segment type it cannot map
				    ("raid1"), NULL when supported or only
				    internal */
	int missing;		/* 1: needs a PV that was not given */
};

void vu_lvm_vg_info(const struct vu_lvm_vg *vg, struct vu_lvm_vg_info *out);
/* i-th PV / LV in metadata order; -EINVAL when i is out of range. */
int vu_lvm_vg_pv(const struct vu_lvm_vg *vg, size_t i,
		 struct vu_lvm_pv_info *out);
int vu_lvm_vg_lv(const struct vu_lvm_vg *vg, size_t i,
		 struct vu_lvm_lv_info *out);

/* A block source for LV name ("rootlv", or "rootvg/rootlv", or
 * "rootvg-rootlv").  -ENOENT when there is no such LV or a PV it needs is
 * missing (the message names the PV, its UUID and the device lvm last saw
 * it on), -ENOTSUP ("not supported: raid1") for segment types other than
 * striped and for internal LVs, -EUCLEAN when its extents lie past the
 * end of a PV (truncated). */
int vu_lvm_lv_open(struct vu_lvm_vg *vg, const char *name,
		   struct vu_blk **out);

/* For an LV vu_lvm_lv_open refused: a source of the LV's size whose every
 * read fails with -ENOTSUP and the message why (copied), so that the LV
 * can still be listed as a volume carrying its error. */
int vu_lvm_lv_unreadable(struct vu_lvm_vg *vg, const char *name,
			 const char *why, struct vu_blk **out);

#endif
