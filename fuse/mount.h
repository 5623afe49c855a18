/* The FUSE front end: a disk's volumes served read-only through the libfuse3
 * low-level API.  The mount point holds <id>.img for every volume (its raw
 * content, decrypted where a key unlocked it) and <id>/ for every volume
 * whose file system src/fs reads (its files). */
#ifndef VU_FUSE_MOUNT_H
#define VU_FUSE_MOUNT_H

#include "disk/disk.h"

struct vu_fuse_opts {
	const char *mountpoint; /* an absolute path (libfuse unmounts by it) */
	const char *fsname;	/* shown in /proc/mounts, e.g. vhdunlock:d.vhd */
	const char *options;	/* the user's -o options, comma-separated, or NULL */
	int foreground;
};

struct vu_fuse;

/* Open the volumes' file systems (a volume whose file system does not open
 * is warned about and gets no <id>/), create the session and mount it:
 * every error is reported (vu_fail) here, while the caller still has a
 * terminal.  d stays owned by the caller and must outlive the session.
 * -EINVAL for options libfuse refuses, -EIO when the mount fails. */
int vu_fuse_mount(struct vu_disk *d, const struct vu_fuse_opts *o,
		  struct vu_fuse **out);
/* Detach unless foreground (logging moves to syslog then) and serve until
 * unmounted or SIGINT/SIGTERM/SIGHUP.  0 on a clean end, <0 on failure. */
int vu_fuse_run(struct vu_fuse *f);
/* Unmount (when still mounted) and free the session; NULL is accepted. */
void vu_fuse_free(struct vu_fuse *f);

#endif
