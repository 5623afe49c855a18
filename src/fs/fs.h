/* File systems inside a volume: NTFS (fs_ntfs.c: our own MFT reader,
 * libfsntfs for compressed data), ext2/3/4 (libext2fs), XFS (libfsxfs
 * listings, our own inodes) and FAT12/16/32 (fs_fat.c), read-only, behind one interface addressed by inode
 * number, which is what the FUSE low-level front end, ls/cat/extract and
 * the LUKS header discovery all need.
 *
 *   struct vu_fs *fs;
 *   vu_fs_open(vol, VU_KIND_EXT4, &fs);      takes its own reference
 *   vu_fs_lookup_path(fs, "/luks/osluksheader", &ino);
 *   vu_fs_getattr(fs, ino, &st);
 *   vu_fs_file_open(fs, ino, NULL, &f);      NULL: the main data stream
 *   vu_fs_file_read(f, buf, len, off);       short only at end of file
 *   vu_fs_file_close(f);
 *   vu_fs_close(fs);
 *
 * Thread safety: every call may be made from many threads at once.  The
 * libyal objects of one file system are guarded by that file system's
 * mutex; reads of regular file data go straight to the block source
 * through the file's extent list (cached at file open) wherever the data
 * is stored plainly, so parallel reads of one volume do not serialise.
 *
 * Paths use '/' and are absolute ("/" is the root); the libyal '\' form
 * stays inside the backends.  Names are UTF-8.
 *
 * Errors (negative errno, message through vu_fail naming the volume's
 * description chain and the path or inode): -ENOENT no such entry,
 * -ENOTDIR, -EISDIR, -EINVAL bad argument or not a symlink, -EUCLEAN
 * damaged structure, -ENOTSUP a feature not read (naming it), -EIO a read
 * failed, -ENOMEM. */
#ifndef VU_FS_H
#define VU_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "core/blk.h"
#include "volume/probe.h"

struct vu_fs;
struct vu_fs_file;

struct vu_fs_stat {
	uint64_t ino;		/* file-system inode / MFT entry number */
	uint32_t mode;		/* S_IFREG|0644 ...; NTFS: synthesised */
	uint32_t uid, gid;	/* NTFS: 0 */
	uint32_t nlink;
	uint64_t size;		/* bytes of the main stream; symlink: target length */
	uint64_t blocks;	/* 512-byte units allocated, for du */
	struct timespec atime, mtime, ctime;
	struct timespec btime;	/* creation (NTFS, ext4 crtime, XFS v5, FAT) */
	int has_btime;
	uint32_t nstreams;	/* NTFS named data streams, else 0 */
	uint32_t flags;		/* VU_FS_F_* */
};

#define VU_FS_F_COMPRESSED 0x1	/* NTFS LZNT1 compressed */
#define VU_FS_F_SPARSE     0x2
#define VU_FS_F_REPARSE    0x4	/* NTFS reparse point (symlink/junction) */
#define VU_FS_F_ENCRYPTED  0x8	/* NTFS EFS: content not readable */

/* The file-system kinds vu_fs_open reads. */
int vu_fs_supported(enum vu_kind kind);
/* Open the file system of kind on vol (read-only; vol is never written). */
int vu_fs_open(struct vu_blk *vol, enum vu_kind kind, struct vu_fs **out);
void vu_fs_close(struct vu_fs *fs);
/* "ntfs", "ext4", "xfs", "fat" ... */
const char *vu_fs_kind_name(const struct vu_fs *fs);
uint64_t vu_fs_root(const struct vu_fs *fs);

/* Resolve an absolute path without following symbolic links in its last
 * component (a symlink in the middle of the path: -ENOTSUP for now). */
int vu_fs_lookup_path(struct vu_fs *fs, const char *path, uint64_t *ino);
/* One name in directory dir ("." and ".." included). */
int vu_fs_lookup(struct vu_fs *fs, uint64_t dir, const char *name,
		 uint64_t *ino);
int vu_fs_getattr(struct vu_fs *fs, uint64_t ino, struct vu_fs_stat *st);

/* Call cb for each entry of dir, without "." and ".."; cb returns 0 to go
 * on, non-zero to stop (returned as is).  An entry that cannot be read is
 * skipped with a warning naming it; the others are still listed. */
typedef int (*vu_fs_dir_cb)(void *ctx, const char *name,
			    const struct vu_fs_stat *st);
int vu_fs_readdir(struct vu_fs *fs, uint64_t dir, vu_fs_dir_cb cb, void *ctx);

/* The target of a symbolic link (NTFS symlinks and junctions as a POSIX
 * path), NUL-terminated; -ERANGE when size is too small. */
int vu_fs_readlink(struct vu_fs *fs, uint64_t ino, char *buf, size_t size);

/* NTFS alternate data streams: call cb for each named stream. */
typedef int (*vu_fs_stream_cb)(void *ctx, const char *name, uint64_t size);
int vu_fs_streams(struct vu_fs *fs, uint64_t ino, vu_fs_stream_cb cb,
		  void *ctx);

/* Open the data of a regular file: stream NULL or "" is the main stream,
 * otherwise a named NTFS stream (-ENOENT when it has none).  The handle
 * keeps what it needs (extent list); close it from any thread. */
int vu_fs_file_open(struct vu_fs *fs, uint64_t ino, const char *stream,
		    struct vu_fs_file **out);
uint64_t vu_fs_file_size(const struct vu_fs_file *f);
/* Read up to len bytes at off: the count read (less than len only at the
 * end of the file, 0 at or past it), holes read as zeros; <0 on error. */
ssize_t vu_fs_file_read(struct vu_fs_file *f, void *buf, size_t len,
			uint64_t off);
void vu_fs_file_close(struct vu_fs_file *f);

/* Read a whole small file (at most max bytes, else -EFBIG) into a new
 * buffer: for headers and key files found on a volume. */
int vu_fs_read_file(struct vu_fs *fs, const char *path, size_t max,
		    uint8_t **data, size_t *len);

#endif
