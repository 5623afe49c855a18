/* The inside of a file system: fs.c does the locking, path handling,
 * reference counting and plain-data reads for every kind; a backend
 * (fs_ext.c, fs_xfs.c, fs_ntfs.c, fs_fat.c) only answers questions about
 * inodes through a constant table of functions.
 *
 * Locking: every function of the table is called with fs->lock held,
 * except open (no other thread knows the file system yet) and close (the
 * last reference is gone).  Backends therefore keep their library objects
 * unguarded.  fs.c never calls back into the table while a backend
 * function runs; callbacks handed to backends (fs_dirent_fn) only copy.
 *
 * Errors: a backend returns a negative errno (fs.h) and writes the
 * message itself through fs_fail(), which names the volume. */
#ifndef VU_FS_BACKEND_H
#define VU_FS_BACKEND_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/blk.h"
#include "fs/fs.h"

struct fs_ops;

struct vu_fs {
	const struct fs_ops *ops;
	struct vu_blk *vol;	/* reference held */
	enum vu_kind kind;
	pthread_mutex_t lock;	/* guards priv and all backend calls */
	uint64_t root;		/* set by ops->open */
	int refs;		/* atomic: vu_fs_open's and one per open file */
	void *priv;		/* backend state */
};

/* One run of a file's data.  Offsets and lengths are bytes; physical is
 * relative to the start of the volume (fs->vol). */
struct fs_extent {
	uint64_t logical;
	uint64_t length;
	uint64_t physical;	/* unused when FS_EXTENT_ZERO */
	uint32_t flags;
};

/* Reads as zeros: a hole, or an allocated but unwritten extent. */
#define FS_EXTENT_ZERO 0x1

/* What ops->data_open tells about a file's data.  Either an extent list
 * (sorted by logical, not overlapping; gaps and everything past the last
 * extent read as zeros up to size) that fs.c serves from the volume
 * without the lock, or use_read = 1 and ops->data_read is called under
 * the lock for every read (inline data, compressed streams ...). */
struct fs_data {
	uint64_t size;
	struct fs_extent *ext;	/* malloc'ed; fs.c frees it */
	size_t next, cap;	/* used and allocated entries */
	int use_read;
	void *handle;		/* backend state for data_read/data_close */
};

/* The readdir collector: copies one entry; non-zero return means out of
 * memory (the backend stops and returns -ENOMEM). */
typedef int (*fs_dirent_fn)(void *ctx, const char *name,
			    const struct vu_fs_stat *st);

struct fs_ops {
	const char *name;	/* "ext4", "xfs": vu_fs_kind_name() */
	/* Read the superblock (or equivalent), set fs->priv and fs->root. */
	int (*open)(struct vu_fs *fs);
	void (*close)(struct vu_fs *fs);
	/* One name in directory dir, "." and ".." included; -ENOENT when
	 * missing, -ENOTDIR when dir is not a directory. */
	int (*lookup)(struct vu_fs *fs, uint64_t dir, const char *name,
		      uint64_t *ino);
	int (*getattr)(struct vu_fs *fs, uint64_t ino, struct vu_fs_stat *st);
	/* Every entry but "." and "..", with its attributes; an entry that
	 * cannot be read is logged (fs_warn) and skipped. */
	int (*readdir)(struct vu_fs *fs, uint64_t dir, fs_dirent_fn fn,
		       void *ctx);
	int (*readlink)(struct vu_fs *fs, uint64_t ino, char *buf,
			size_t size);
	/* NULL: the kind has no named streams (every file has none).
	 * cb is fs.c's collector (it only copies); its non-zero return
	 * (-ENOMEM) stops the listing and is returned. */
	int (*streams)(struct vu_fs *fs, uint64_t ino, vu_fs_stream_cb cb,
		       void *ctx);
	/* Describe the data of a regular file (stream NULL: the main one;
	 * a backend without streams gets only NULL). */
	int (*data_open)(struct vu_fs *fs, uint64_t ino, const char *stream,
			 struct fs_data *d);
	/* Only for use_read: up to len bytes at off < size. */
	ssize_t (*data_read)(struct vu_fs *fs, void *handle, void *buf,
			     size_t len, uint64_t off);
	/* Free d->handle (may be NULL). */
	void (*data_close)(struct vu_fs *fs, void *handle);
};

extern const struct fs_ops fs_ext_ops;
extern const struct fs_ops fs_xfs_ops;
extern const struct fs_ops fs_ntfs_ops;
extern const struct fs_ops fs_fat_ops;

/* vu_blk_fail for the volume of fs: "<desc>: ext4: <message>". */
int fs_fail(const struct vu_fs *fs, int err, const char *fmt, ...)
	VU_PRINTF(3, 4);
/* A warning about one entry, through vu_log; the error state is left as it
 * was before the failed call (the entry is skipped, not the listing). */
void fs_warn_skip(const struct vu_fs *fs, int had_error, const char *fmt,
		  ...) VU_PRINTF(3, 4);

/* Extent list helper for backends: append, growing the array.  Runs that
 * start at or past size are dropped (they cannot be read).  0 or -ENOMEM. */
int fs_data_add(struct fs_data *d, uint64_t logical, uint64_t length,
		uint64_t physical, uint32_t flags);

#endif
