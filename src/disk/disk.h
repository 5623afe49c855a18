/* A disk as the user sees it: the container, its partition table and the
 * volumes with their ids (disk, p1, p2, ...) and probed kinds, with the
 * metadata of encrypted ones.  The CLI and the FUSE front end both start
 * here; src/unlock fills in what keys open (unlock/unlock.h). */
#ifndef VU_DISK_H
#define VU_DISK_H

#include <stddef.h>

#include "bitlocker/bitlocker.h"
#include "container/container.h"
#include "disk/crypt.h"
#include "luks/luks.h"
#include "lvm/lvm.h"
#include "md/md.h"
#include "core/blk.h"
#include "partition/partition.h"
#include "volume/probe.h"

struct vu_volume {
	char id[32];		  /* "disk", "p1", ...; "d1p2" with several disks */
	size_t image;		  /* index in vu_disk.images (LVs: of a PV) */
	struct vu_blk *blk;	  /* the content: decrypted once unlocked */
	struct vu_blk *raw;	  /* the content as stored (encrypted) */
	const struct vu_part *part; /* NULL for "disk" */
	struct vu_probe probe;	  /* of the stored content */
	char *error;		  /* why the volume could not be read, or NULL */
	/* encrypted volumes */
	const struct vu_crypt_ops *crypt; /* its scheme, once its metadata
					     was read; NULL: not encrypted
					     or damaged (error says why) */
	void *crypt_state;	  /* the scheme's metadata (and key) */
	char *luks_header;	  /* the detached header used: a file, or
				     "p1:/luks/osluksheader" found on a volume */
	int unlocked;
	char unlocked_by[160];	  /* "startup key {GUID} (FILE)", ... */
	size_t key_number;	  /* 1 + the index in the keyring of the key
				     that opened it; 0: none (clear key) */
	struct vu_probe inner;	  /* what the decrypted content holds */
	char *lock_error;	  /* why the keys given did not unlock it */
	/* LVM */
	struct vu_lvm_vg *vg;	  /* for a logical volume: its VG (borrowed) */
	struct vu_lvm_lv_info lv; /* for a logical volume */
	/* md RAID */
	struct vu_md_array *md;	  /* for an md array: the array (borrowed) */
	/* done once per volume (vu_disk_unlock runs rounds) */
	int fs_scanned;		  /* looked for ADE's detached headers */
	int lvm_scanned;	  /* looked at as an LVM PV */
	int md_scanned;		  /* looked at as an md member */
	int unlock_tried;	  /* its keys were tried */
};

/* One image: the first given, or one added with --add-disk. */
struct vu_disk_image {
	char *path;
	struct vu_blk *blk;	  /* the whole virtual disk */
	struct vu_container_info container;
	struct vu_ptable table;
};

/* The disks of one VM, opened together: ADE keeps data disks' LUKS
 * headers on the OS disk, and a volume group may span disks. */
struct vu_disk {
	size_t nimages;
	struct vu_disk_image *images;
	size_t nvolumes;
	struct vu_volume *volumes;
	size_t nvgs;
	struct vu_lvm_vg **vgs;	  /* volume groups found on the volumes */
	size_t nmds;
	struct vu_md_array **mds; /* md arrays found on the volumes */
	char *lock_error;	  /* a --luks-header no volume opened with */
	size_t nheaders;	  /* detached headers found on volumes */
	struct vu_found_header *headers;
};

/* A LUKS header file found in a volume's file system (ADE layout). */
struct vu_found_header {
	char *name;		  /* "p1:/luks/osluksheader" */
	struct vu_blk *blk;	  /* its bytes, in memory */
	size_t image;		  /* the disk it was found on */
	int os_header;		  /* luks/osluksheader: for its own disk only */
	int tried, used;
};

int vu_disk_open(const char *path, struct vu_disk **out);
/* Open another disk of the same VM beside the first (--add-disk): its
 * volumes follow, and every id gets its disk's position (d1p2, d2p1, d2
 * for a disk without partition table).  Before vu_disk_unlock. */
int vu_disk_add(struct vu_disk *d, const char *path);
/* Non-zero when the volume is encrypted (BitLocker or LUKS). */
int vu_volume_encrypted(const struct vu_volume *v);
/* The volume's BitLocker metadata, or NULL when it is not a readable
 * BitLocker volume; the same for LUKS (inline or detached header).  For
 * the front ends' scheme-specific fields. */
struct vu_bde *vu_volume_bde(const struct vu_volume *v);
struct vu_luks *vu_volume_luks(const struct vu_volume *v);
/* Non-zero for a volume made of others (an LVM logical volume, an md
 * array) rather than a region of one image. */
int vu_volume_composite(const struct vu_volume *v);
/* What the volume holds as read now: the decrypted content once unlocked. */
const struct vu_probe *vu_volume_content(const struct vu_volume *v);
void vu_disk_close(struct vu_disk *d);
/* Append a zeroed volume (NULL when out of memory). */
struct vu_volume *vu_disk_new_volume(struct vu_disk *d);
/* Append a volume found inside others (an md array): probed, and with
 * its encryption's metadata read, as a partition is.  blk's reference is
 * transferred; *out points into d->volumes until the next volume is
 * added.  -ENOMEM only: an unreadable volume is listed with its error. */
int vu_disk_add_stacked(struct vu_disk *d, size_t image, const char *id,
			struct vu_blk *blk, struct vu_volume **out);
/* The volume with this id, or NULL. */
struct vu_volume *vu_disk_volume(struct vu_disk *d, const char *id);

#endif
