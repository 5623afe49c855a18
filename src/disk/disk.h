/* A disk as the user sees it: the container, its partition table and the
 * volumes with their ids (disk, p1, p2, ...) and probed kinds.  The CLI and
 * the FUSE front end both start here. */
#ifndef VU_DISK_H
#define VU_DISK_H

#include <stddef.h>

#include "container/container.h"
#include "core/blk.h"
#include "partition/partition.h"
#include "volume/probe.h"

struct vu_volume {
	char id[32];		  /* "disk", "p1", ... */
	struct vu_blk *blk;	  /* the volume's raw content */
	const struct vu_part *part; /* NULL for "disk" */
	struct vu_probe probe;
	char *error;		  /* why the volume could not be read, or NULL */
};

struct vu_disk {
	char *path;
	struct vu_blk *blk;	  /* the whole virtual disk */
	struct vu_container_info container;
	struct vu_ptable table;
	size_t nvolumes;
	struct vu_volume *volumes;
};

int vu_disk_open(const char *path, struct vu_disk **out);
void vu_disk_close(struct vu_disk *d);
/* The volume with this id, or NULL. */
struct vu_volume *vu_disk_volume(struct vu_disk *d, const char *id);

#endif
