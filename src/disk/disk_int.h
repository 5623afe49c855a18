/* Shared between the files of src/disk. */
#ifndef VU_DISK_INT_H
#define VU_DISK_INT_H

#include "disk/disk.h"

/* Look in the file system of each readable volume not looked at yet for
 * ADE's detached LUKS headers and add them to d->headers; *found tells
 * whether any was new. */
int disk_find_headers(struct vu_disk *d, int *found);

#endif
