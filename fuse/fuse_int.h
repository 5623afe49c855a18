/* Inside the FUSE front end: the session state shared by mount.c (the
 * session), ops.c (the operations, the root directory, <id>.img files,
 * read-only answers) and tree.c, tree_io.c (the <id>/ file trees).
 *
 * Node ids (FUSE inode numbers), for a disk of n volumes:
 *   1               the root
 *   2 + i           volume i's <id>.img
 *   2 + n + i       volume i's <id>/ (the root of its file system)
 *   2 + 2n ...      every other file of the trees, from the node table
 *                   (fuse/nodes.h), handed out at lookup and readdirplus */
#ifndef VU_FUSE_INT_H
#define VU_FUSE_INT_H

#define FUSE_USE_VERSION 310 /* configure requires fuse3 >= 3.10 */

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "core/error.h"
#include "core/pool.h"
#include "disk/disk.h"
#include "fs/fs.h"
#include "fuse/nodes.h"

#define ROOT_INO 1
#define TIMEOUT 86400.0 /* seconds: the image never changes */

/* An open handle of the trees (a listing, a file), on a list so that the
 * ones the kernel never releases (still open when the mount ends) are
 * freed at the end. */
struct tree_handle {
	struct tree_handle *prev, *next;
	void (*free)(struct tree_handle *h);
};

struct vu_fuse {
	struct fuse_session *se;
	struct vu_disk *d;
	uid_t uid;
	gid_t gid;
	struct timespec mtime;
	uint64_t total; /* bytes in every volume, for statfs */
	int handlers, mounted, foreground;
	char *mountpoint;   /* as mounted, for fuse/readahead.c */
	/* rate limit of fault messages */
	pthread_mutex_t log_lock;
	time_t log_window;
	unsigned log_count;
	unsigned long log_dropped;
	/* the file trees */
	struct vu_fs **fs;	/* per volume: its file system, or NULL */
	uint64_t *fsroot;	/* per volume: the root's fs inode */
	size_t ntrees;		/* volumes with a file system */
	struct nodes nodes;
	pthread_mutex_t handles_lock;
	struct tree_handle handles; /* the list's head; next NULL before init */
	/* hands for splitting a large read across the cores (made after the
	 * daemon forks: threads do not survive it); NULL: none */
	struct vu_pool *pool;
};

static inline fuse_ino_t img_ino(size_t i)
{
	return 2 + (fuse_ino_t)i;
}

static inline fuse_ino_t voldir_ino(const struct vu_fuse *f, size_t i)
{
	return 2 + (fuse_ino_t)f->d->nvolumes + (fuse_ino_t)i;
}

/* Log a fault (a failed read, a damaged structure), rate-limited. */
void fuse_log_fault(struct vu_fuse *f, const char *fmt, ...)
	VU_PRINTF(2, 3);

/* The errno to answer for r, a -errno from the layers below: that very
 * one, so that a reader can tell a blob that changed (ESTALE) from damaged
 * data (EUCLEAN) from a failed read (EIO).  The kernel refuses an answer
 * outside 1..511 and the request would hang: anything else is EIO. */
static inline int fuse_errno(int r)
{
	return r < 0 && r > -512 ? -r : EIO;
}

/* The operations, dispatched between the root, the images and the trees. */
extern const struct fuse_lowlevel_ops vu_fuse_ops;

/* The attributes of the root or an <id>.img: 0, or -ENOENT. */
int fuse_fill_attr(struct vu_fuse *f, fuse_ino_t ino, struct stat *st);

/* Open the file system of every volume that holds one vu_fs reads; a
 * volume whose file system does not open gets no tree and a warning.  <0
 * only when out of memory. */
int tree_init(struct vu_fuse *f);
void tree_free(struct vu_fuse *f);
/* Non-zero for a node id of the trees (volume directories included). */
int tree_owns(const struct vu_fuse *f, fuse_ino_t ino);
/* The volume a tree node id belongs to, or -1. */
long tree_volume(struct vu_fuse *f, fuse_ino_t ino);
/* The attributes of volume i's <id>/ directory: 0 or <0. */
int tree_voldir_attr(struct vu_fuse *f, size_t i, struct stat *st);

/* The operations on tree nodes (volume directories included). */
void tree_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void tree_forget(struct vu_fuse *f, fuse_ino_t ino, uint64_t nlookup);
void tree_getattr(fuse_req_t req, fuse_ino_t ino);
void tree_readlink(fuse_req_t req, fuse_ino_t ino);
void tree_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void tree_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		  struct fuse_file_info *fi, int plus);
void tree_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void tree_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	       struct fuse_file_info *fi);
/* Ends an open file's or an open directory's handle. */
void tree_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void tree_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		   size_t size);
void tree_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);

/* Shared by tree.c and tree_io.c. */
/* Free the handles the kernel did not release (the session has ended). */
void tree_free_handles(struct vu_fuse *f);
/* What a tree node id stands for: 0, or -ENOENT. */
int tree_resolve(struct vu_fuse *f, fuse_ino_t ino, struct node_info *n);
/* The st_ino shown for (vol, fsino), whose node id is id. */
ino_t tree_stable_ino(uint32_t vol, uint64_t fsino, fuse_ino_t id);
/* The errno to answer for r, a failed fs call (what: "readdir", ...);
 * faults are logged and the thread's message cleared.  A missing name
 * (ENOENT, ENOTDIR, ...) is an answer, not a fault: not logged. */
int tree_errno(struct vu_fuse *f, uint32_t vol, uint64_t fsino,
	       const char *what, int r);
/* The same for a call where every failure is a fault (a read of an open
 * file: no name is looked up): always logged. */
int tree_fault(struct vu_fuse *f, uint32_t vol, uint64_t fsino,
	       const char *what, int r);
/* The attributes of node id (n): 0 or an errno to answer. */
int tree_node_attr(struct vu_fuse *f, fuse_ino_t id,
		   const struct node_info *n, struct stat *st);
/* The entry for (vol, fsino, stream) with attributes s, counting a
 * lookup: 0 or an errno. */
int tree_entry(struct vu_fuse *f, uint32_t vol, uint64_t fsino,
	       const char *stream, uint64_t size, const struct vu_fs_stat *s,
	       struct fuse_entry_param *e);

/* fuse/readahead.c: widen the new mount's kernel read-ahead to one full
 * request where the caller may (root); quietly nothing otherwise. */
void fuse_raise_readahead(const char *mountpoint);

/* This thread's reply buffer of at least size bytes (fuse/reply_buf.c),
 * valid until its next call on the same thread; NULL when out of memory.
 * Never freed by the caller. */
void *fuse_reply_buffer(size_t size);

#endif
