/* A disk as the user sees it: the container, its partition table and the
 * volumes with their ids (disk, p1, p2, ...) and probed kinds.  The CLI and
 * the FUSE front end both start here. */
#ifndef VU_DISK_H
#define VU_DISK_H

#include <stddef.h>

#include "bitlocker/bitlocker.h"
#include "container/container.h"
#include "keys/keyring.h"
#include "luks/luks.h"
#include "lvm/lvm.h"
#include "core/blk.h"
#include "partition/partition.h"
#include "volume/probe.h"

struct vu_volume {
	char id[32];		  /* "disk", "p1", ... */
	struct vu_blk *blk;	  /* the content: decrypted once unlocked */
	struct vu_blk *raw;	  /* the content as stored (encrypted) */
	const struct vu_part *part; /* NULL for "disk" */
	struct vu_probe probe;	  /* of the stored content */
	char *error;		  /* why the volume could not be read, or NULL */
	/* encrypted volumes */
	struct vu_bde *bde;	  /* BitLocker metadata, when kind bitlocker */
	struct vu_luks *luks;	  /* LUKS header, inline or detached */
	char *luks_header;	  /* the detached header file used, or NULL */
	int unlocked;
	char unlocked_by[160];	  /* "startup key {GUID} (FILE)", ... */
	struct vu_probe inner;	  /* what the decrypted content holds */
	char *lock_error;	  /* why the keys given did not unlock it */
	/* LVM */
	struct vu_lvm_vg *vg;	  /* for a logical volume: its VG (borrowed) */
	struct vu_lvm_lv_info lv; /* for a logical volume */
};

struct vu_disk {
	char *path;
	struct vu_blk *blk;	  /* the whole virtual disk */
	struct vu_container_info container;
	struct vu_ptable table;
	size_t nvolumes;
	struct vu_volume *volumes;
	size_t nvgs;
	struct vu_lvm_vg **vgs;	  /* volume groups found on the volumes */
	char *lock_error;	  /* a --luks-header no volume opened with */
};

int vu_disk_open(const char *path, struct vu_disk **out);
/* Try the keys on every encrypted volume (a clear-key BitLocker volume
 * needs none).  A volume no key opens keeps its encrypted content and gets
 * lock_error; that is not a failure here: the front end decides whether
 * the volume was needed.  Returns <0 only for errors that are not about
 * keys (damaged metadata, out of memory, read failures). */
int vu_disk_unlock(struct vu_disk *d, struct vu_keyring *kr);
/* Non-zero when the volume is encrypted (BitLocker or LUKS). */
int vu_volume_encrypted(const struct vu_volume *v);
/* What the volume holds as read now: the decrypted content once unlocked. */
const struct vu_probe *vu_volume_content(const struct vu_volume *v);
void vu_disk_close(struct vu_disk *d);
/* Append a zeroed volume (NULL when out of memory). */
struct vu_volume *vu_disk_new_volume(struct vu_disk *d);
/* The volume with this id, or NULL. */
struct vu_volume *vu_disk_volume(struct vu_disk *d, const char *id);

#endif
