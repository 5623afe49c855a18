/* XFS (v4 and v5), read-only: libfsxfs for directory listings and symbolic
 * link targets, our own code for the rest.
 *
 * Debian's libfsxfs 20201117 reads directories and symbolic links right
 * (every format mkfs.xfs writes, checked by tests/unit/test_fs.c) but:
 *  - libfsxfs_file_entry_get_sub_file_entry_by_utf8_name is a stub
 *    ("TODO implement" in libfsxfs_file_entry.c): it returns -1 with no
 *    error for every name.  Lookups go through a per-directory table of
 *    names built from the listing (get_sub_file_entry_by_index), cached.
 *  - timestamps of bigtime inodes (the default since xfsprogs 5.15) are
 *    read as seconds + nanoseconds and come out wrong (1999 for 2026);
 *  - there is no link count, block count or extent list in its API.
 * So inodes are read here (xfs_format.h): attributes, and the data fork's
 * extent list or B+tree, which fs.c then reads straight from the volume.
 * Only a data fork stored in the inode itself (never written by Linux for
 * regular files) goes through libfsxfs's reader. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libfsxfs.h>

#include "core/blk.h"
#include "core/bytes.h"
#include "core/crc.h"
#include "core/error.h"
#include "fs/dir_cache.h"
#include "fs/fs_backend.h"
#include "fs/fs_bfio.h"
#include "fs/xfs_format.h"

/* Inodes are at most 2 KiB; a name at most 255 bytes. */
#define XFS_INODE_MAX 2048
#define XFS_NAME_MAX 255

struct xfs_name {
	char *name;
	uint64_t ino;
};

struct xfs_names {
	size_t n;
	struct xfs_name *v;	/* sorted by name */
};

struct xfs {
	libbfio_handle_t *bfio;
	libfsxfs_volume_t *lib;
	uint64_t dblocks;
	uint32_t blocksize, agblocks, agcount, inodesize;
	unsigned blocklog, inopblog, agblklog, dirblklog;
	int v5, ftype;
	struct dir_cache names;	/* of struct xfs_names */
};

/* One inode, as read. */
struct xfs_inode {
	uint64_t ino;
	uint8_t raw[XFS_INODE_MAX];
	unsigned version, format;
	uint64_t flags2;
	uint32_t fork_off, fork_size; /* data fork within raw */
};

static struct xfs *X(const struct vu_fs *fs)
{
	return fs->priv;
}

/* ---- libfsxfs errors ---- */

static int lib_fail(struct vu_fs *fs, libfsxfs_error_t **err,
		    const char *fmt, ...) VU_PRINTF(3, 4);

/* Our read error if the library failed on one, else its own reason. */
static int lib_fail(struct vu_fs *fs, libfsxfs_error_t **err,
		    const char *fmt, ...)
{
	char what[512], why[512];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	r = vu_bfio_take_error(X(fs)->bfio);
	if (!r)
		r = vu_yal_errno(*err);
	vu_yal_message(*err, why, sizeof(why));
	libfsxfs_error_free(err);
	return fs_fail(fs, r, "%s: libfsxfs: %s", what,
		       why[0] ? why : "failed");
}

/* ---- geometry ---- */

static int sb_parse(struct vu_fs *fs, const uint8_t *sb)
{
	struct xfs *x = X(fs);
	unsigned ver = vu_be16(sb + XFS_SB_VERSIONNUM) & XFS_SB_VERSION_NUMBITS;
	uint32_t sect = vu_be16(sb + XFS_SB_SECTSIZE);
	uint32_t incompat;

	if (vu_be32(sb) != XFS_SB_MAGIC)
		return fs_fail(fs, -EUCLEAN, "no superblock magic");
	if (ver != 4 && ver != 5)
		return fs_fail(fs, -ENOTSUP, "superblock version %u", ver);
	x->v5 = ver == 5;
	x->blocksize = vu_be32(sb + XFS_SB_BLOCKSIZE);
	x->dblocks = vu_be64(sb + XFS_SB_DBLOCKS);
	x->agblocks = vu_be32(sb + XFS_SB_AGBLOCKS);
	x->agcount = vu_be32(sb + XFS_SB_AGCOUNT);
	x->inodesize = vu_be16(sb + XFS_SB_INODESIZE);
	x->blocklog = sb[XFS_SB_BLOCKLOG];
	x->inopblog = sb[XFS_SB_INOPBLOG];
	x->agblklog = sb[XFS_SB_AGBLKLOG];
	x->dirblklog = sb[XFS_SB_DIRBLKLOG];
	/* the logarithms first: they are shift counts below */
	if (x->blocklog > 16 || sb[XFS_SB_INODELOG] > 11 || x->inopblog > 8 ||
	    x->blocksize < 512 || x->blocksize > 65536 ||
	    (1u << x->blocklog) != x->blocksize ||
	    x->inodesize < 256 || x->inodesize > XFS_INODE_MAX ||
	    (1u << sb[XFS_SB_INODELOG]) != x->inodesize ||
	    x->inodesize > x->blocksize ||
	    (1u << x->inopblog) != x->blocksize / x->inodesize ||
	    vu_be16(sb + XFS_SB_INOPBLOCK) != x->blocksize / x->inodesize ||
	    !x->agblocks || !x->agcount || x->agblklog > 31 ||
	    (1ull << x->agblklog) < x->agblocks ||
	    (x->agblklog && (1ull << (x->agblklog - 1)) >= x->agblocks) ||
	    x->dirblklog > 8 || !vu_is_pow2(sect) || sect < 512 ||
	    sect > XFS_SB_SIZE * 64 ||
	    /* byte offsets of every block must fit in 63 bits */
	    (uint64_t)x->agcount * x->agblocks > (UINT64_C(1) << (63 - 16)))
		return fs_fail(fs, -EUCLEAN, "superblock geometry is "
			       "inconsistent (block %u, inode %u, AG %u "
			       "blocks x %u)", x->blocksize, x->inodesize,
			       x->agblocks, x->agcount);
	if (!x->v5) {
		x->ftype = !!(vu_be32(sb + XFS_SB_FEATURES2) &
			      XFS_SB_VERSION2_FTYPE);
		return 0;
	}
	incompat = vu_be32(sb + XFS_SB_INCOMPAT);
	if (incompat & ~(uint32_t)XFS_INCOMPAT_KNOWN)
		return fs_fail(fs, -ENOTSUP, "incompatible features 0x%x",
			       incompat & ~(uint32_t)XFS_INCOMPAT_KNOWN);
	x->ftype = !!(incompat & XFS_INCOMPAT_FTYPE);
	return 0;
}

/* v5 metadata CRCs: CRC-32C of the block with the CRC field as zero. */
static int crc_ok(const uint8_t *buf, size_t len, size_t crc_off)
{
	static const uint8_t zero[4];
	uint32_t c;

	c = vu_crc32c(0, buf, crc_off);
	c = vu_crc32c(c, zero, 4);
	c = vu_crc32c(c, buf + crc_off + 4, len - crc_off - 4);
	return c == vu_le32(buf + crc_off);
}

static int sb_read(struct vu_fs *fs)
{
	uint8_t sb[XFS_SB_SIZE * 64];
	uint32_t sect;
	int r;

	if (fs->vol->size < XFS_SB_SIZE)
		return fs_fail(fs, -EUCLEAN, "volume of %" PRIu64 " bytes is "
			       "too small", fs->vol->size);
	r = vu_blk_read(fs->vol, sb, XFS_SB_SIZE, 0);
	if (r < 0)
		return r;
	r = sb_parse(fs, sb);
	if (r < 0 || !X(fs)->v5)
		return r;
	sect = vu_be16(sb + XFS_SB_SECTSIZE);
	if (sect > fs->vol->size)
		return fs_fail(fs, -EUCLEAN, "superblock sector of %u bytes "
			       "past the end", sect);
	r = vu_blk_read(fs->vol, sb, sect, 0);
	if (r < 0)
		return r;
	if (!crc_ok(sb, sect, XFS_SB_CRC))
		return fs_fail(fs, -EUCLEAN, "superblock CRC mismatch");
	return 0;
}

/* Byte offset of file system block fsb (AG number : block in the AG). */
static int fsb_offset(struct vu_fs *fs, uint64_t fsb, uint64_t count,
		      uint64_t *off)
{
	const struct xfs *x = X(fs);
	uint64_t agno = fsb >> x->agblklog;
	uint64_t agbno = fsb & ((1ull << x->agblklog) - 1);

	if (agno >= x->agcount || agbno >= x->agblocks ||
	    count > x->agblocks - agbno)
		return fs_fail(fs, -EUCLEAN, "block %" PRIu64 "+%" PRIu64
			       " (AG %" PRIu64 ") outside the file system",
			       fsb, count, agno);
	*off = (agno * x->agblocks + agbno) << x->blocklog;
	return 0;
}

/* A metadata read: a location past the end of the volume is damage (or a
 * truncated image), not a bad argument. */
static int xread(struct vu_fs *fs, void *buf, size_t len, uint64_t off,
		 const char *what, uint64_t ino)
{
	if (off > fs->vol->size || len > fs->vol->size - off)
		return fs_fail(fs, -EUCLEAN, "%s of inode %" PRIu64 " at byte %"
			       PRIu64 " is past the end of the volume (size %"
			       PRIu64 ")", what, ino, off, fs->vol->size);
	return vu_blk_read(fs->vol, buf, len, off);
}

/* ---- inodes ---- */

static int inode_read(struct vu_fs *fs, uint64_t ino, struct xfs_inode *in)
{
	const struct xfs *x = X(fs);
	unsigned shift = x->agblklog + x->inopblog;
	uint64_t agno = ino >> shift;
	uint64_t agino = ino & ((1ull << shift) - 1);
	uint64_t agbno = agino >> x->inopblog;
	uint64_t idx = agino & ((1ull << x->inopblog) - 1);
	uint64_t off, core, max;
	uint8_t *b = in->raw;
	int r;

	in->ino = ino;
	if (!ino || shift >= 64 || agno >= x->agcount || agbno >= x->agblocks)
		return fs_fail(fs, -ENOENT, "inode %" PRIu64 " out of range",
			       ino);
	off = ((agno * x->agblocks + agbno) << x->blocklog) +
	      idx * x->inodesize;
	r = xread(fs, b, x->inodesize, off, "core", ino);
	if (r < 0)
		return r;
	in->version = b[XFS_DI_VERSION];
	in->format = b[XFS_DI_FORMAT];
	if (vu_be16(b + XFS_DI_MAGIC) != XFS_DINODE_MAGIC ||
	    in->version < 1 || in->version > 3 || (in->version == 3) != x->v5)
		return fs_fail(fs, -EUCLEAN, "inode %" PRIu64 " at byte %"
			       PRIu64 ": bad magic or version", ino, off);
	if (in->version == 3 && (vu_be64(b + XFS_DI_INO) != ino ||
				 !crc_ok(b, x->inodesize, XFS_DI_CRC)))
		return fs_fail(fs, -EUCLEAN, "inode %" PRIu64 ": CRC or "
			       "inode number mismatch", ino);
	if (!(vu_be16(b + XFS_DI_MODE) & S_IFMT))
		return fs_fail(fs, -ENOENT, "inode %" PRIu64 " is not in use",
			       ino);
	in->flags2 = in->version == 3 ? vu_be64(b + XFS_DI_FLAGS2) : 0;
	core = in->version == 3 ? XFS_DI_CORE_V3 : XFS_DI_CORE_V2;
	max = x->inodesize - core;
	in->fork_off = (uint32_t)core;
	in->fork_size = b[XFS_DI_FORKOFF] ? b[XFS_DI_FORKOFF] * 8u
					  : (uint32_t)max;
	if (in->fork_size > max)
		return fs_fail(fs, -EUCLEAN, "inode %" PRIu64 ": attribute "
			       "fork offset past the inode", ino);
	return 0;
}

static struct timespec xfs_time(const struct xfs_inode *in, size_t off)
{
	struct timespec ts;

	if (in->flags2 & XFS_DIFLAG2_BIGTIME) {
		uint64_t t = vu_be64(in->raw + off);

		ts.tv_sec = (time_t)((int64_t)(t / 1000000000u) -
				     XFS_BIGTIME_EPOCH_OFFSET);
		ts.tv_nsec = (long)(t % 1000000000u);
		return ts;
	}
	ts.tv_sec = (int32_t)vu_be32(in->raw + off);
	ts.tv_nsec = (long)vu_be32(in->raw + off + 4);
	if (ts.tv_nsec > 999999999)
		ts.tv_nsec = 999999999;
	return ts;
}

static void inode_stat(const struct vu_fs *fs, const struct xfs_inode *in,
		       struct vu_fs_stat *st)
{
	const uint8_t *b = in->raw;

	memset(st, 0, sizeof(*st));
	st->ino = in->ino;
	st->mode = vu_be16(b + XFS_DI_MODE);
	st->uid = vu_be32(b + XFS_DI_UID);
	st->gid = vu_be32(b + XFS_DI_GID);
	st->nlink = in->version == 1 ? vu_be16(b + XFS_DI_ONLINK)
				     : vu_be32(b + XFS_DI_NLINK);
	st->size = vu_be64(b + XFS_DI_SIZE);
	st->blocks = vu_be64(b + XFS_DI_NBLOCKS) << (X(fs)->blocklog - 9);
	st->atime = xfs_time(in, XFS_DI_ATIME);
	st->mtime = xfs_time(in, XFS_DI_MTIME);
	st->ctime = xfs_time(in, XFS_DI_CTIME);
	if (in->version == 3) {
		st->btime = xfs_time(in, XFS_DI_CRTIME);
		st->has_btime = 1;
	}
}

static int xfs_getattr(struct vu_fs *fs, uint64_t ino, struct vu_fs_stat *st)
{
	struct xfs_inode in;
	int r = inode_read(fs, ino, &in);

	if (r < 0)
		return r;
	inode_stat(fs, &in, st);
	return 0;
}

/* ---- data fork mapping ---- */

struct xfs_map {
	struct vu_fs *fs;
	struct fs_data *d;
	uint64_t ino;
	uint64_t budget;	/* btree blocks we are still willing to read */
};

static int add_rec(struct xfs_map *m, const uint8_t *rec)
{
	const struct xfs *x = X(m->fs);
	uint64_t l0 = vu_be64(rec), l1 = vu_be64(rec + 8);
	uint64_t startoff = (l0 & 0x7fffffffffffffffull) >> 9;
	uint64_t startblock = ((l0 & 0x1ff) << 43) | (l1 >> 21);
	uint64_t count = l1 & 0x1fffff;
	uint64_t phys = 0;
	struct fs_data *d = m->d;
	int r;

	if (!count || startoff >> (63 - x->blocklog))
		return fs_fail(m->fs, -EUCLEAN, "inode %" PRIu64 ": bad "
			       "extent record at offset block %" PRIu64,
			       m->ino, startoff);
	if (d->next) {
		const struct fs_extent *p = &d->ext[d->next - 1];

		if (startoff << x->blocklog < p->logical + p->length)
			return fs_fail(m->fs, -EUCLEAN, "inode %" PRIu64
				       ": extents out of order at block %"
				       PRIu64, m->ino, startoff);
	}
	r = fsb_offset(m->fs, startblock, count, &phys);
	if (r < 0)
		return r;
	return fs_data_add(d, startoff << x->blocklog, count << x->blocklog,
			   phys, l0 >> 63 ? FS_EXTENT_ZERO : 0);
}

static int add_recs(struct xfs_map *m, const uint8_t *p, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		int r = add_rec(m, p + i * XFS_BMBT_REC);

		if (r < 0)
			return r;
	}
	return 0;
}

static int bmbt_walk(struct xfs_map *m, uint64_t fsb, unsigned level);

/* Pointers of a node (in the inode or a block): one subtree each. */
static int bmbt_ptrs(struct xfs_map *m, const uint8_t *ptrs, unsigned n,
		     unsigned level)
{
	for (unsigned i = 0; i < n; i++) {
		int r = bmbt_walk(m, vu_be64(ptrs + 8 * i), level - 1);

		if (r < 0)
			return r;
	}
	return 0;
}

static int bmbt_walk(struct xfs_map *m, uint64_t fsb, unsigned level)
{
	struct vu_fs *fs = m->fs;
	const struct xfs *x = X(fs);
	size_t hdr = x->v5 ? XFS_BTREE_LHDR_V5 : XFS_BTREE_LHDR_V4;
	unsigned maxrecs, n;
	uint64_t off;
	uint8_t *b;
	int r;

	if (!m->budget--)
		return fs_fail(fs, -EUCLEAN, "inode %" PRIu64 ": extent "
			       "B+tree larger than its extent count", m->ino);
	r = fsb_offset(fs, fsb, 1, &off);
	if (r < 0)
		return r;
	b = malloc(x->blocksize);
	if (!b)
		return vu_fail(-ENOMEM, "out of memory");
	r = xread(fs, b, x->blocksize, off, "extent B+tree block", m->ino);
	if (r < 0)
		goto out;
	n = vu_be16(b + XFS_BTREE_NUMRECS);
	maxrecs = (unsigned)((x->blocksize - hdr) /
			     (level ? 16 : XFS_BMBT_REC));
	if (vu_be32(b) != (x->v5 ? XFS_BMAP_CRC_MAGIC : XFS_BMAP_MAGIC) ||
	    vu_be16(b + XFS_BTREE_LEVEL) != level || !n || n > maxrecs ||
	    (x->v5 && (vu_be64(b + XFS_BTREE_OWNER) != m->ino ||
		       !crc_ok(b, x->blocksize, XFS_BTREE_CRC)))) {
		r = fs_fail(fs, -EUCLEAN, "inode %" PRIu64 ": bad extent "
			    "B+tree block %" PRIu64 " (level %u)", m->ino,
			    fsb, level);
		goto out;
	}
	if (level)
		r = bmbt_ptrs(m, b + hdr + (size_t)maxrecs * 8, n, level);
	else
		r = add_recs(m, b + hdr, n);
out:
	free(b);
	return r;
}

/* The data fork of a regular file as an extent list. */
static int map_fork(struct vu_fs *fs, const struct xfs_inode *in,
		    struct fs_data *d)
{
	const uint8_t *fork = in->raw + in->fork_off;
	struct xfs_map m = { fs, d, in->ino, 0 };
	uint64_t next;
	unsigned level, n, maxrecs;

	next = in->flags2 & XFS_DIFLAG2_NREXT64 ?
	       vu_be64(in->raw + XFS_DI_BIG_NEXTENTS) :
	       vu_be32(in->raw + XFS_DI_NEXTENTS);
	if (in->format == XFS_DINODE_FMT_EXTENTS) {
		if (next > in->fork_size / XFS_BMBT_REC)
			return fs_fail(fs, -EUCLEAN, "inode %" PRIu64 ": %"
				       PRIu64 " extents do not fit in the "
				       "inode", in->ino, next);
		return add_recs(&m, fork, next);
	}
	/* B+tree root in the inode: level, numrecs, keys, pointers */
	level = vu_be16(fork);
	n = vu_be16(fork + 2);
	maxrecs = (in->fork_size - XFS_BMDR_HDR) / 16;
	if (!level || level > XFS_BTREE_MAXLEVELS || !n || n > maxrecs)
		return fs_fail(fs, -EUCLEAN, "inode %" PRIu64 ": bad extent "
			       "B+tree root (level %u, %u records)", in->ino,
			       level, n);
	/* every block holds one record or more */
	m.budget = next + 64;
	return bmbt_ptrs(&m, fork + XFS_BMDR_HDR + (size_t)maxrecs * 8, n,
			 level);
}

/* ---- files ---- */

struct xfs_handle {
	libfsxfs_file_entry_t *fe;
	uint64_t ino;
};

static int lib_entry(struct vu_fs *fs, uint64_t ino,
		     libfsxfs_file_entry_t **fe)
{
	libfsxfs_error_t *err = NULL;

	*fe = NULL;
	if (libfsxfs_volume_get_file_entry_by_inode(X(fs)->lib, ino, fe,
						    &err) != 1) {
		*fe = NULL;
		return lib_fail(fs, &err, "inode %" PRIu64, ino);
	}
	return 0;
}

static void lib_entry_free(libfsxfs_file_entry_t **fe)
{
	libfsxfs_error_t *err = NULL;

	if (*fe && libfsxfs_file_entry_free(fe, &err) != 1)
		libfsxfs_error_free(&err);
	*fe = NULL;
}

static int xfs_data_open(struct vu_fs *fs, uint64_t ino, const char *stream,
			 struct fs_data *d)
{
	struct xfs_inode in;
	struct xfs_handle *h;
	uint16_t mode;
	int r;

	(void)stream;
	r = inode_read(fs, ino, &in);
	if (r < 0)
		return r;
	mode = vu_be16(in.raw + XFS_DI_MODE);
	if (S_ISDIR(mode))
		return fs_fail(fs, -EISDIR, "inode %" PRIu64 " is a directory",
			       ino);
	if (!S_ISREG(mode))
		return fs_fail(fs, -EINVAL, "inode %" PRIu64 " is not a "
			       "regular file", ino);
	if (vu_be16(in.raw + XFS_DI_FLAGS) & XFS_DIFLAG_REALTIME)
		return fs_fail(fs, -ENOTSUP, "inode %" PRIu64 ": data on the "
			       "realtime device", ino);
	d->size = vu_be64(in.raw + XFS_DI_SIZE);
	if (d->size > INT64_MAX)
		return fs_fail(fs, -EUCLEAN, "inode %" PRIu64 ": size %" PRIu64,
			       ino, d->size);
	if (in.format == XFS_DINODE_FMT_EXTENTS ||
	    in.format == XFS_DINODE_FMT_BTREE)
		return map_fork(fs, &in, d);
	if (in.format != XFS_DINODE_FMT_LOCAL)
		return fs_fail(fs, -EUCLEAN, "inode %" PRIu64 ": data fork "
			       "format %u", ino, in.format);
	h = calloc(1, sizeof(*h));
	if (!h)
		return vu_fail(-ENOMEM, "out of memory");
	r = lib_entry(fs, ino, &h->fe);
	if (r < 0) {
		free(h);
		return r;
	}
	h->ino = ino;
	d->use_read = 1;
	d->handle = h;
	return 0;
}

static ssize_t xfs_data_read(struct vu_fs *fs, void *handle, void *buf,
			     size_t len, uint64_t off)
{
	struct xfs_handle *h = handle;
	libfsxfs_error_t *err = NULL;
	ssize_t n;

	n = libfsxfs_file_entry_read_buffer_at_offset(h->fe, buf, len,
						      (off64_t)off, &err);
	if (n < 0)
		return lib_fail(fs, &err, "inode %" PRIu64 ": data at %"
				PRIu64, h->ino, off);
	return n;
}

static void xfs_data_close(struct vu_fs *fs, void *handle)
{
	struct xfs_handle *h = handle;

	(void)fs;
	lib_entry_free(&h->fe);
	free(h);
}

static int xfs_readlink(struct vu_fs *fs, uint64_t ino, char *buf,
			size_t size)
{
	libfsxfs_file_entry_t *fe = NULL;
	libfsxfs_error_t *err = NULL;
	struct xfs_inode in;
	uint64_t len;
	size_t n = 0;
	int r;

	r = inode_read(fs, ino, &in);
	if (r < 0)
		return r;
	if (!S_ISLNK(vu_be16(in.raw + XFS_DI_MODE)))
		return fs_fail(fs, -EINVAL, "inode %" PRIu64 " is not a "
			       "symbolic link", ino);
	len = vu_be64(in.raw + XFS_DI_SIZE);
	if (len + 1 > size)
		return fs_fail(fs, -ERANGE, "symbolic link %" PRIu64 ": "
			       "target of %" PRIu64 " bytes, buffer of %zu",
			       ino, len, size);
	r = lib_entry(fs, ino, &fe);
	if (r < 0)
		return r;
	/* the size libfsxfs reports counts the terminating NUL */
	if (libfsxfs_file_entry_get_utf8_symbolic_link_target_size(fe, &n,
								   &err) != 1 ||
	    n > size || libfsxfs_file_entry_get_utf8_symbolic_link_target(
				fe, (uint8_t *)buf, size, &err) != 1) {
		if (err)
			r = lib_fail(fs, &err, "symbolic link %" PRIu64, ino);
		else
			r = fs_fail(fs, -EUCLEAN, "symbolic link %" PRIu64
				    ": target of %zu bytes", ino, n);
	} else if (strlen(buf) != len) {
		r = fs_fail(fs, -EUCLEAN, "symbolic link %" PRIu64 ": target "
			    "of %zu bytes, inode size %" PRIu64, ino,
			    strlen(buf), len);
	}
	lib_entry_free(&fe);
	return r;
}

/* ---- directories ---- */

static int is_dir(struct vu_fs *fs, uint64_t ino, struct xfs_inode *in)
{
	int r = inode_read(fs, ino, in);

	if (r < 0)
		return r;
	if (!S_ISDIR(vu_be16(in->raw + XFS_DI_MODE)))
		return fs_fail(fs, -ENOTDIR, "inode %" PRIu64 " is not a "
			       "directory", ino);
	return 0;
}

/* Also the directory cache's clear_table. */
static void names_free(void *table)
{
	struct xfs_names *t = table;

	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].name);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct xfs_name *)a)->name,
		      ((const struct xfs_name *)b)->name);
}

/* Entry i of directory fe: its name and inode number.  0, or <0 with the
 * entry to be skipped (message written). */
static int sub_entry(struct vu_fs *fs, libfsxfs_file_entry_t *fe,
		     uint64_t dir, int i, struct xfs_name *out)
{
	libfsxfs_file_entry_t *sub = NULL;
	libfsxfs_error_t *err = NULL;
	uint8_t name[XFS_NAME_MAX * 4 + 1];
	size_t n = 0;
	int r = 0;

	if (libfsxfs_file_entry_get_sub_file_entry_by_index(fe, i, &sub,
							    &err) != 1)
		return lib_fail(fs, &err, "directory %" PRIu64 ": entry %d",
				dir, i);
	if (libfsxfs_file_entry_get_utf8_name_size(sub, &n, &err) != 1 ||
	    n < 2 || n > sizeof(name) ||
	    libfsxfs_file_entry_get_utf8_name(sub, name, sizeof(name),
					      &err) != 1 ||
	    libfsxfs_file_entry_get_inode_number(sub, &out->ino, &err) != 1) {
		r = err ? lib_fail(fs, &err, "directory %" PRIu64
				   ": entry %d", dir, i)
			: fs_fail(fs, -EUCLEAN, "directory %" PRIu64
				  ": entry %d: name of %zu bytes", dir, i, n);
		goto out;
	}
	name[sizeof(name) - 1] = '\0';
	if (!name[0] || strchr((char *)name, '/')) {
		r = fs_fail(fs, -EUCLEAN, "directory %" PRIu64 ": entry %d: "
			    "bad name", dir, i);
		goto out;
	}
	out->name = strdup((char *)name);
	if (!out->name)
		r = vu_fail(-ENOMEM, "out of memory");
out:
	lib_entry_free(&sub);
	return r;
}

/* Read directory dir's (name, inode) table through libfsxfs.  Entries
 * libfsxfs cannot read are skipped with a warning. */
static int names_build(void *ctx, uint64_t dir, void *table)
{
	struct vu_fs *fs = ctx;
	struct xfs_names *t = table;
	libfsxfs_file_entry_t *fe = NULL;
	libfsxfs_error_t *err = NULL;
	int count = 0, r;

	memset(t, 0, sizeof(*t));
	r = lib_entry(fs, dir, &fe);
	if (r < 0)
		return r;
	if (libfsxfs_file_entry_get_number_of_sub_file_entries(fe, &count,
							       &err) != 1) {
		r = lib_fail(fs, &err, "directory %" PRIu64, dir);
		goto out;
	}
	t->v = calloc(count > 0 ? (size_t)count : 1, sizeof(*t->v));
	if (!t->v) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < count; i++) {
		int had = vu_err_isset();

		r = sub_entry(fs, fe, dir, i, &t->v[t->n]);
		if (r == -ENOMEM || r == -EIO)
			goto out; /* EIO: not damage; nothing half is kept */
		if (r < 0) {
			fs_warn_skip(fs, had, "%s", vu_errmsg(r));
			continue;
		}
		t->n++;
	}
	r = 0;
	qsort(t->v, t->n, sizeof(*t->v), name_cmp);
out:
	lib_entry_free(&fe);
	if (r < 0)
		names_free(t);
	return r;
}

/* The inode number of ".." in a directory data block, or 0. */
static uint64_t dotdot_in_block(const struct xfs *x, const uint8_t *b)
{
	uint32_t magic = vu_be32(b);
	size_t pos = x->v5 ? XFS_DIR3_DATA_HDR : XFS_DIR2_DATA_HDR;

	if (magic != (x->v5 ? XFS_DIR3_BLOCK_MAGIC : XFS_DIR2_BLOCK_MAGIC) &&
	    magic != (x->v5 ? XFS_DIR3_DATA_MAGIC : XFS_DIR2_DATA_MAGIC))
		return 0;
	/* entries: be64 inumber, u8 namelen, name, [u8 ftype], be16 tag,
	 * padded to 8; unused ones: be16 0xffff, be16 length */
	while (pos + 16 <= x->blocksize) {
		size_t len;

		if (vu_be16(b + pos) == XFS_DIR2_DATA_FREE_TAG) {
			len = vu_be16(b + pos + 2);
		} else {
			unsigned nl = b[pos + 8];

			if (nl == 2 && !memcmp(b + pos + 9, "..", 2))
				return vu_be64(b + pos);
			len = (8 + 1 + nl + (size_t)x->ftype + 2 + 7) & ~(size_t)7;
		}
		if (!len || len % 8)
			return 0;
		pos += len;
	}
	return 0;
}

/* The parent of a directory, from its own ".." (libfsxfs hides it): the
 * short-form header, or the second entry of the first data block. */
static int parent_of(struct vu_fs *fs, const struct xfs_inode *in,
		     uint64_t *parent)
{
	const struct xfs *x = X(fs);
	const uint8_t *f = in->raw + in->fork_off;
	struct fs_data d = { .size = UINT64_MAX };
	uint8_t *b = NULL;
	int r;

	if (in->format == XFS_DINODE_FMT_LOCAL) {
		*parent = f[1] ? vu_be64(f + 2) : vu_be32(f + 2);
		return 0;
	}
	r = map_fork(fs, in, &d);
	if (r < 0)
		goto out;
	b = malloc(x->blocksize);
	if (!b) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto out;
	}
	*parent = 0;
	if (d.next && !d.ext[0].logical && !(d.ext[0].flags & FS_EXTENT_ZERO)) {
		r = xread(fs, b, x->blocksize, d.ext[0].physical,
			  "first directory block", in->ino);
		if (r < 0)
			goto out;
		*parent = dotdot_in_block(x, b);
	}
	if (!*parent)
		r = fs_fail(fs, -EUCLEAN, "directory %" PRIu64 ": no \"..\" "
			    "entry", in->ino);
out:
	free(d.ext);
	free(b);
	return r;
}

static int xfs_lookup(struct vu_fs *fs, uint64_t dir, const char *name,
		      uint64_t *ino)
{
	const struct xfs_names *t;
	const struct xfs_name *hit;
	struct xfs_name key = { (char *)name, 0 };
	struct xfs_inode in;
	int r;

	r = is_dir(fs, dir, &in);
	if (r < 0)
		return r;
	if (!strcmp(name, ".")) {
		*ino = dir;
		return 0;
	}
	if (!strcmp(name, ".."))
		return parent_of(fs, &in, ino);
	t = dir_cache_get(&X(fs)->names, dir, fs, &r);
	if (!t)
		return r;
	hit = t->n ? bsearch(&key, t->v, t->n, sizeof(*t->v), name_cmp)
		   : NULL;
	if (!hit)
		return fs_fail(fs, -ENOENT, "directory %" PRIu64 ": no \"%s\"",
			       dir, name);
	*ino = hit->ino;
	return 0;
}

static int xfs_readdir(struct vu_fs *fs, uint64_t dir, fs_dirent_fn fn,
		       void *ctx)
{
	const struct xfs_names *t;
	struct xfs_inode in;
	struct vu_fs_stat st;
	int r;

	r = is_dir(fs, dir, &in);
	if (r < 0)
		return r;
	t = dir_cache_get(&X(fs)->names, dir, fs, &r);
	if (!t)
		return r;
	for (size_t i = 0; i < t->n; i++) {
		int had = vu_err_isset();

		r = inode_read(fs, t->v[i].ino, &in);
		if (r == -EIO)
			return r; /* the image, not the entry, failed */
		if (r < 0) {
			fs_warn_skip(fs, had, "directory %" PRIu64 ": \"%s\": "
				     "%s", dir, t->v[i].name, vu_errmsg(r));
			continue;
		}
		inode_stat(fs, &in, &st);
		if (fn(ctx, t->v[i].name, &st))
			return -ENOMEM;
	}
	return 0;
}

/* ---- the file system ---- */

static void xfs_close(struct vu_fs *fs)
{
	struct xfs *x = X(fs);
	libfsxfs_error_t *err = NULL;

	if (!x)
		return;
	dir_cache_clear(&x->names);
	if (x->lib) {
		if (libfsxfs_volume_close(x->lib, &err) != 0)
			libfsxfs_error_free(&err);
		if (libfsxfs_volume_free(&x->lib, &err) != 1)
			libfsxfs_error_free(&err);
	}
	vu_bfio_free(&x->bfio);
	free(x);
	fs->priv = NULL;
}

static int xfs_open(struct vu_fs *fs)
{
	libfsxfs_error_t *err = NULL;
	struct xfs_inode in;
	struct xfs *x;
	uint8_t sb[XFS_SB_SIZE];
	int r;

	x = calloc(1, sizeof(*x));
	if (!x)
		return vu_fail(-ENOMEM, "out of memory");
	/* a few directories' tables (lookups in a few directories at a time
	 * is the common pattern: a path walk, an ls -l) */
	x->names.table_size = sizeof(struct xfs_names);
	x->names.build = names_build;
	x->names.clear_table = names_free;
	fs->priv = x;
	r = sb_read(fs);
	if (r < 0)
		goto fail;
	r = vu_bfio_new(fs->vol, &x->bfio);
	if (r < 0)
		goto fail;
	if (libfsxfs_volume_initialize(&x->lib, &err) != 1) {
		x->lib = NULL;
		r = lib_fail(fs, &err, "cannot open");
		goto fail;
	}
	/* the library opens the handle (it reports closed until then) */
	if (libfsxfs_volume_open_file_io_handle(x->lib, x->bfio,
						LIBFSXFS_OPEN_READ,
						&err) != 1) {
		r = lib_fail(fs, &err, "cannot open");
		libfsxfs_volume_free(&x->lib, NULL);
		x->lib = NULL;
		goto fail;
	}
	/* libfsxfs_file_system_read_inode_information reports success after
	 * a failed read of an AG's inode B+tree information and leaves its
	 * error object set: drop it */
	libfsxfs_error_free(&err);
	r = vu_blk_read(fs->vol, sb, sizeof(sb), 0);
	if (r < 0)
		goto fail;
	fs->root = vu_be64(sb + XFS_SB_ROOTINO);
	r = is_dir(fs, fs->root, &in);
	if (r < 0)
		goto fail;
	return 0;
fail:
	xfs_close(fs);
	return r;
}

const struct fs_ops fs_xfs_ops = {
	.name = "xfs",
	.open = xfs_open,
	.close = xfs_close,
	.lookup = xfs_lookup,
	.getattr = xfs_getattr,
	.readdir = xfs_readdir,
	.readlink = xfs_readlink,
	.data_open = xfs_data_open,
	.data_read = xfs_data_read,
	.data_close = xfs_data_close,
};
