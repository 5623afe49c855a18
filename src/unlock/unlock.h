/* Unlocking a disk's encrypted volumes with the keys a user gave: the
 * layer above the disk model (disk/disk.h) and the file systems, because
 * ADE keeps LUKS headers in files of other volumes and a volume group may
 * lie on decrypted volumes, so opening volumes, reading file systems and
 * assembling LVM go in rounds. */
#ifndef VU_UNLOCK_H
#define VU_UNLOCK_H

#include "disk/disk.h"
#include "keys/keyring.h"

/* Try the keys on every encrypted volume (a clear-key BitLocker volume
 * needs none).  A volume no key opens keeps its encrypted content and gets
 * lock_error; that is not a failure here: the front end decides whether
 * the volume was needed.  Returns <0 only for errors that are not about
 * keys (damaged metadata, out of memory, read failures). */
int vu_disk_unlock(struct vu_disk *d, struct vu_keyring *kr);

#endif
