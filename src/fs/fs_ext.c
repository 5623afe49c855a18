/* ext2/ext3/ext4 through libext2fs (e2fsprogs), read-only, over the
 * volume's block source by an io_manager of our own.
 *
 * Why not libfsext: Debian's libfsext 20201107 cannot look a name up in a
 * directory (libfsext_file_entry_get_sub_file_entry_by_utf8_name passes no
 * inode to libfsext_file_entry_initialize, "TODO set inode" in
 * libfsext_file_entry.c, so every existing name fails with "invalid inode"
 * and a missing one is -1 as well), crashes on a path with an empty
 * component ("/a//b": segmentation fault in
 * libfsext_volume_get_file_entry_by_utf8_path) and has no link count, no
 * block count and a size of 0 for directories.  Its data and listings were
 * right; libext2fs is the file system's own library and has all of it.
 *
 * Regular file data is mapped at open (extent tree or block map) and read
 * by fs.c straight from the volume; only inline data goes through
 * ext2fs_file_read under the lock. */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>
#include <et/com_err.h>

#include "core/blk.h"
#include "core/error.h"
#include "fs/fs_backend.h"

/* ---- io_manager over a struct vu_blk ---- */

/* A few recently read single blocks: libext2fs reads inode table and
 * directory blocks one at a time, often the same one again (16 inodes per
 * 4 KiB block).  Used only under the file system's lock. */
#define EIO_CACHE 32

struct eio_slot {
	uint64_t block;
	int valid;
	uint8_t *data;
};

struct eio {
	struct vu_blk *vol;	/* reference held */
	int err;		/* errno of the last failed read */
	struct eio_slot cache[EIO_CACHE];
};

/* ext2fs_open2 passes only a name to the manager's open: the volume to
 * read is handed over in this thread for the duration of the call. */
static _Thread_local struct vu_blk *eio_pending;

static struct struct_io_manager eio_manager;

static void eio_drop_cache(struct eio *e)
{
	for (int i = 0; i < EIO_CACHE; i++) {
		free(e->cache[i].data);
		e->cache[i].data = NULL;
		e->cache[i].valid = 0;
	}
}

static errcode_t eio_open(const char *name, int flags, io_channel *channel)
{
	io_channel ch;
	struct eio *e;

	*channel = NULL;
	if (flags & IO_FLAG_RW)
		return EXT2_ET_RO_FILSYS;
	if (!eio_pending)
		return EXT2_ET_BAD_DEVICE_NAME;
	ch = calloc(1, sizeof(*ch));
	e = calloc(1, sizeof(*e));
	if (!ch || !e || !(ch->name = strdup(name ? name : "?"))) {
		free(ch);
		free(e);
		return EXT2_ET_NO_MEMORY;
	}
	e->vol = vu_blk_ref(eio_pending);
	ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	ch->manager = &eio_manager;
	ch->block_size = 1024;
	ch->refcount = 1;
	ch->private_data = e;
	*channel = ch;
	return 0;
}

static errcode_t eio_close(io_channel ch)
{
	struct eio *e = ch->private_data;

	if (--ch->refcount > 0)
		return 0;
	eio_drop_cache(e);
	vu_blk_unref(e->vol);
	free(e);
	free(ch->name);
	free(ch);
	return 0;
}

static errcode_t eio_set_blksize(io_channel ch, int blksize)
{
	if (blksize <= 0 || blksize > EXT2_MAX_BLOCK_SIZE)
		return EXT2_ET_INVALID_ARGUMENT;
	if (ch->block_size != blksize)
		eio_drop_cache(ch->private_data);
	ch->block_size = blksize;
	return 0;
}

/* count < 0: -count bytes; else count blocks.  Past the end of the volume
 * is a short read, as unix_io reports it (the rest zero-filled). */
static errcode_t eio_read64(io_channel ch, unsigned long long block,
			    int count, void *data)
{
	struct eio *e = ch->private_data;
	uint64_t off, len, have;
	struct eio_slot *s = NULL;
	int r;

	len = count < 0 ? (uint64_t)-(int64_t)count
			: (uint64_t)count * (uint64_t)ch->block_size;
	if (block > UINT64_MAX / (uint64_t)ch->block_size)
		return EXT2_ET_LLSEEK_FAILED;
	off = block * (uint64_t)ch->block_size;
	if (count == 1) {
		s = &e->cache[block % EIO_CACHE];
		if (s->valid && s->block == block) {
			memcpy(data, s->data, len);
			return 0;
		}
	}
	have = off < e->vol->size ? e->vol->size - off : 0;
	if (have < len)
		memset((uint8_t *)data + have, 0, len - have);
	if (have) {
		r = vu_blk_read(e->vol, data, have < len ? have : len, off);
		if (r < 0) {
			e->err = r;
			return (errcode_t)-r;
		}
	}
	if (have < len)
		return EXT2_ET_SHORT_READ;
	if (s) {
		if (!s->data)
			s->data = malloc((size_t)ch->block_size);
		if (s->data) {
			memcpy(s->data, data, len);
			s->block = block;
			s->valid = 1;
		}
	}
	return 0;
}

static errcode_t eio_read(io_channel ch, unsigned long block, int count,
			  void *data)
{
	return eio_read64(ch, block, count, data);
}

static errcode_t eio_write(io_channel ch, unsigned long block, int count,
			   const void *data)
{
	(void)ch, (void)block, (void)count, (void)data;
	return EXT2_ET_RO_FILSYS;
}

static errcode_t eio_write64(io_channel ch, unsigned long long block,
			     int count, const void *data)
{
	(void)ch, (void)block, (void)count, (void)data;
	return EXT2_ET_RO_FILSYS;
}

static errcode_t eio_write_byte(io_channel ch, unsigned long off, int count,
				const void *data)
{
	(void)ch, (void)off, (void)count, (void)data;
	return EXT2_ET_RO_FILSYS;
}

static errcode_t eio_flush(io_channel ch)
{
	(void)ch;
	return 0;
}

static errcode_t eio_set_option(io_channel ch, const char *opt,
				const char *arg)
{
	(void)ch, (void)opt, (void)arg;
	return EXT2_ET_INVALID_ARGUMENT;
}

static struct struct_io_manager eio_manager = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "vhdunlock block source",
	.open = eio_open,
	.close = eio_close,
	.set_blksize = eio_set_blksize,
	.read_blk = eio_read,
	.write_blk = eio_write,
	.flush = eio_flush,
	.write_byte = eio_write_byte,
	.set_option = eio_set_option,
	.read_blk64 = eio_read64,
	.write_blk64 = eio_write64,
};

/* ---- errors ---- */

static pthread_once_t et_once = PTHREAD_ONCE_INIT;

static void et_init(void)
{
	initialize_ext2_error_table();
}

/* errcode_t to our errno: small values are errnos (ours from the io
 * manager among them), the rest are libext2fs's table. */
static int ext_errno(errcode_t code)
{
	if (code > 0 && code < 4096)
		return -(int)code;
	switch (code) {
	case EXT2_ET_NO_MEMORY:
		return -ENOMEM;
	case EXT2_ET_SHORT_READ:
	case EXT2_ET_LLSEEK_FAILED:
		return -EIO;
	case EXT2_ET_UNSUPP_FEATURE:
	case EXT2_ET_RO_UNSUPP_FEATURE:
	case EXT2_ET_UNIMPLEMENTED:
		return -ENOTSUP;
	case EXT2_ET_FILE_NOT_FOUND:
	case EXT2_ET_BAD_INODE_NUM:
		return -ENOENT;
	case EXT2_ET_NO_DIRECTORY:
		return -ENOTDIR;
	default:
		return -EUCLEAN;
	}
}

static int ext_fail(struct vu_fs *fs, errcode_t code, const char *fmt, ...)
	VU_PRINTF(3, 4);

/* A message naming what failed and libext2fs's reason.  A failed volume
 * read has written its own message already (first error wins). */
static int ext_fail(struct vu_fs *fs, errcode_t code, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pthread_once(&et_once, et_init);
	return fs_fail(fs, ext_errno(code), "%s: %s", what,
		       error_message(code));
}

/* ---- inodes ---- */

static ext2_filsys efs(const struct vu_fs *fs)
{
	return fs->priv;
}

static int ext_inode(struct vu_fs *fs, uint64_t ino,
		     struct ext2_inode_large *in)
{
	ext2_filsys e = efs(fs);
	errcode_t c;

	memset(in, 0, sizeof(*in));
	if (ino < 1 || ino > e->super->s_inodes_count)
		return fs_fail(fs, -ENOENT, "inode %" PRIu64 " out of range "
			       "(1 to %u)", ino, e->super->s_inodes_count);
	c = ext2fs_read_inode_full(e, (ext2_ino_t)ino,
				   (struct ext2_inode *)in, sizeof(*in));
	if (c)
		return ext_fail(fs, c, "inode %" PRIu64, ino);
	if (!in->i_links_count && (!in->i_mode || in->i_dtime))
		return fs_fail(fs, -ENOENT, "inode %" PRIu64 " is not in use",
			       ino);
	return 0;
}

/* Whether the large inode holds the field at offset off (4 bytes). */
static int has_extra(const struct vu_fs *fs, const struct ext2_inode_large *in,
		     size_t off)
{
	size_t isize = (size_t)EXT2_INODE_SIZE(efs(fs)->super);
	size_t good_old = EXT2_GOOD_OLD_INODE_SIZE;

	return isize > good_old && off + 4 <= good_old + in->i_extra_isize &&
	       off + 4 <= isize;
}

/* Seconds are signed 32-bit; the extra field holds two epoch bits (years
 * past 2038) and the nanoseconds. */
static struct timespec ext_time(const struct vu_fs *fs,
				const struct ext2_inode_large *in,
				uint32_t sec, size_t extra_off)
{
	struct timespec ts = { .tv_sec = (int32_t)sec };

	if (has_extra(fs, in, extra_off)) {
		uint32_t x;

		memcpy(&x, (const uint8_t *)in + extra_off, 4);
		x = ext2fs_le32_to_cpu(x);
		ts.tv_sec += (time_t)((int64_t)(x & EXT4_EPOCH_MASK) << 32);
		ts.tv_nsec = (long)(x >> EXT4_EPOCH_BITS);
		if (ts.tv_nsec > 999999999)
			ts.tv_nsec = 999999999;
	}
	return ts;
}

static void ext_fill_stat(const struct vu_fs *fs, uint64_t ino,
			  const struct ext2_inode_large *in,
			  struct vu_fs_stat *st)
{
	const struct ext2_inode *i = (const struct ext2_inode *)in;

	memset(st, 0, sizeof(*st));
	st->ino = ino;
	st->mode = in->i_mode;
	st->uid = inode_uid(*in);
	st->gid = inode_gid(*in);
	st->nlink = in->i_links_count;
	st->size = EXT2_I_SIZE(in);
	st->blocks = ext2fs_get_stat_i_blocks(efs(fs), (struct ext2_inode *)i);
	st->atime = ext_time(fs, in, in->i_atime,
			     offsetof(struct ext2_inode_large, i_atime_extra));
	st->mtime = ext_time(fs, in, in->i_mtime,
			     offsetof(struct ext2_inode_large, i_mtime_extra));
	st->ctime = ext_time(fs, in, in->i_ctime,
			     offsetof(struct ext2_inode_large, i_ctime_extra));
	if (has_extra(fs, in, offsetof(struct ext2_inode_large, i_crtime))) {
		st->btime = ext_time(fs, in, in->i_crtime,
				     offsetof(struct ext2_inode_large,
					      i_crtime_extra));
		st->has_btime = 1;
	}
	if (in->i_flags & EXT4_ENCRYPT_FL)
		st->flags |= VU_FS_F_ENCRYPTED;
}

static int ext_getattr(struct vu_fs *fs, uint64_t ino, struct vu_fs_stat *st)
{
	struct ext2_inode_large in;
	int r = ext_inode(fs, ino, &in);

	if (r < 0)
		return r;
	ext_fill_stat(fs, ino, &in, st);
	return 0;
}

/* ---- directories ---- */

/* ext_inode for an operation that takes one type of file (fmt, one of
 * LINUX_S_IF*): err and "inode N is not a <what>" for any other. */
static int ext_inode_of_type(struct vu_fs *fs, uint64_t ino,
			     struct ext2_inode_large *in, unsigned int fmt,
			     int err, const char *what)
{
	int r = ext_inode(fs, ino, in);

	if (r < 0)
		return r;
	if ((in->i_mode & LINUX_S_IFMT) != fmt)
		return fs_fail(fs, err, "inode %" PRIu64 " is not a %s", ino,
			       what);
	return 0;
}

static int ext_isdir(struct vu_fs *fs, uint64_t ino)
{
	struct ext2_inode_large in;

	return ext_inode_of_type(fs, ino, &in, LINUX_S_IFDIR, -ENOTDIR,
				 "directory");
}

static int ext_lookup(struct vu_fs *fs, uint64_t dir, const char *name,
		      uint64_t *ino)
{
	size_t len = strlen(name);
	ext2_ino_t found = 0;
	errcode_t c;
	int r;

	r = ext_isdir(fs, dir);
	if (r < 0)
		return r;
	if (len > EXT2_NAME_LEN)
		return fs_fail(fs, -ENOENT, "directory %" PRIu64 ": no \"%s\" "
			       "(name too long)", dir, name);
	c = ext2fs_lookup(efs(fs), (ext2_ino_t)dir, name, (int)len, NULL,
			  &found);
	if (c == EXT2_ET_FILE_NOT_FOUND)
		return fs_fail(fs, -ENOENT, "directory %" PRIu64 ": no \"%s\"",
			       dir, name);
	if (c)
		return ext_fail(fs, c, "directory %" PRIu64 ": lookup of "
				"\"%s\"", dir, name);
	*ino = found;
	return 0;
}

struct ext_dir_ctx {
	struct vu_fs *fs;
	uint64_t dir;
	fs_dirent_fn fn;
	void *ctx;
	int err;
};

static int ext_dirent(ext2_ino_t dir, int entry, struct ext2_dir_entry *de,
		      int offset, int blocksize, char *buf, void *priv)
{
	struct ext_dir_ctx *c = priv;
	struct ext2_inode_large in;
	struct vu_fs_stat st;
	char name[EXT2_NAME_LEN + 1];
	int len = ext2fs_dirent_name_len(de);
	int had = vu_err_isset();
	int r;

	(void)dir, (void)offset, (void)blocksize, (void)buf;
	if (entry == DIRENT_DOT_FILE || entry == DIRENT_DOT_DOT_FILE)
		return 0;
	memcpy(name, de->name, (size_t)len);
	name[len] = '\0';
	/* inline-data directories report their ".." as an ordinary entry */
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	if (!len || memchr(name, '/', (size_t)len) ||
	    strlen(name) != (size_t)len) {
		fs_warn_skip(c->fs, had, "directory %" PRIu64 ": entry with "
			     "a bad name (inode %u)", c->dir, de->inode);
		return 0;
	}
	r = ext_inode(c->fs, de->inode, &in);
	if (r == -EIO) {
		c->err = r; /* the image, not the entry, failed */
		return DIRENT_ABORT;
	}
	if (r < 0) {
		fs_warn_skip(c->fs, had, "directory %" PRIu64 ": \"%s\": %s",
			     c->dir, name, vu_errmsg(r));
		return 0;
	}
	ext_fill_stat(c->fs, de->inode, &in, &st);
	if (c->fn(c->ctx, name, &st)) {
		c->err = -ENOMEM;
		return DIRENT_ABORT;
	}
	return 0;
}

static int ext_readdir(struct vu_fs *fs, uint64_t dir, fs_dirent_fn fn,
		       void *ctx)
{
	struct ext_dir_ctx c = { fs, dir, fn, ctx, 0 };
	errcode_t e;
	int r;

	r = ext_isdir(fs, dir);
	if (r < 0)
		return r;
	e = ext2fs_dir_iterate2(efs(fs), (ext2_ino_t)dir, 0, NULL, ext_dirent,
				&c);
	if (c.err)
		return c.err;
	if (e)
		return ext_fail(fs, e, "directory %" PRIu64, dir);
	return 0;
}

/* ---- symbolic links ---- */

/* Targets are at most a block (PATH_MAX in practice). */
#define EXT_LINK_MAX 65536

static int ext_readlink(struct vu_fs *fs, uint64_t ino, char *buf,
			size_t size)
{
	struct ext2_inode_large in;
	ext2_file_t file = NULL;
	unsigned int got = 0;
	uint64_t len;
	errcode_t c;
	int r;

	r = ext_inode_of_type(fs, ino, &in, LINUX_S_IFLNK, -EINVAL,
			      "symbolic link");
	if (r < 0)
		return r;
	len = EXT2_I_SIZE(&in);
	if (len > EXT_LINK_MAX)
		return fs_fail(fs, -EUCLEAN, "symbolic link %" PRIu64 ": "
			       "target of %" PRIu64 " bytes", ino, len);
	if (len + 1 > size)
		return fs_fail(fs, -ERANGE, "symbolic link %" PRIu64 ": "
			       "target of %" PRIu64 " bytes, buffer of %zu",
			       ino, len, size);
	/* fast symlinks keep the target in i_block itself */
	if (ext2fs_is_fast_symlink((struct ext2_inode *)&in)) {
		if (len > sizeof(in.i_block))
			return fs_fail(fs, -EUCLEAN, "symbolic link %" PRIu64
				       ": inline target too long", ino);
		memcpy(buf, in.i_block, (size_t)len);
		buf[len] = '\0';
		return 0;
	}
	c = ext2fs_file_open2(efs(fs), (ext2_ino_t)ino,
			      (struct ext2_inode *)&in, 0, &file);
	if (!c)
		c = ext2fs_file_read(file, buf, (unsigned int)len, &got);
	if (file)
		ext2fs_file_close(file);
	if (c)
		return ext_fail(fs, c, "symbolic link %" PRIu64, ino);
	if (got != len)
		return fs_fail(fs, -EUCLEAN, "symbolic link %" PRIu64 ": "
			       "%u of %" PRIu64 " bytes", ino, got, len);
	buf[len] = '\0';
	return 0;
}

/* ---- file data ---- */

struct ext_map {
	struct vu_fs *fs;
	struct fs_data *d;
	uint64_t bs, nblocks;
	uint64_t run_l, run_p, run_n; /* blocks of the run being built */
	int err;
};

static int map_flush(struct ext_map *m)
{
	int r = 0;

	if (m->run_n)
		r = fs_data_add(m->d, m->run_l * m->bs, m->run_n * m->bs,
				m->run_p * m->bs, 0);
	m->run_n = 0;
	return r;
}

/* ext2/ext3 block maps, one block at a time, merged into runs. */
static int map_block(ext2_filsys e, blk64_t *blk, e2_blkcnt_t cnt,
		     blk64_t ref, int ref_off, void *priv)
{
	struct ext_map *m = priv;
	uint64_t l = (uint64_t)cnt;

	(void)e, (void)ref, (void)ref_off;
	if (cnt < 0)
		return 0;
	if (l * m->bs >= m->d->size)
		return BLOCK_ABORT; /* past the end: nothing more to read */
	if (*blk >= m->nblocks) {
		m->err = fs_fail(m->fs, -EUCLEAN, "block %llu of the file is "
				 "at %llu, past the file system's %" PRIu64
				 " blocks", (unsigned long long)l,
				 (unsigned long long)*blk, m->nblocks);
		return BLOCK_ABORT;
	}
	if (m->run_n && l == m->run_l + m->run_n &&
	    *blk == m->run_p + m->run_n) {
		m->run_n++;
		return 0;
	}
	if ((m->err = map_flush(m)) < 0)
		return BLOCK_ABORT;
	m->run_l = l;
	m->run_p = *blk;
	m->run_n = 1;
	return 0;
}

static int map_blockmap(struct vu_fs *fs, uint64_t ino, struct ext_map *m)
{
	errcode_t c;

	c = ext2fs_block_iterate3(efs(fs), (ext2_ino_t)ino,
				  BLOCK_FLAG_READ_ONLY | BLOCK_FLAG_DATA_ONLY,
				  NULL, map_block, m);
	if (m->err)
		return m->err;
	if (c)
		return ext_fail(fs, c, "inode %" PRIu64 ": block map", ino);
	return map_flush(m);
}

/* ext4 extent trees: every leaf in logical order. */
static int map_extents(struct vu_fs *fs, uint64_t ino,
		       struct ext2_inode_large *in, struct ext_map *m)
{
	ext2_extent_handle_t h = NULL;
	struct ext2fs_extent x;
	errcode_t c;
	int r = 0;

	c = ext2fs_extent_open2(efs(fs), (ext2_ino_t)ino,
				(struct ext2_inode *)in, &h);
	if (c)
		return ext_fail(fs, c, "inode %" PRIu64 ": extent tree", ino);
	for (c = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &x); !c;
	     c = ext2fs_extent_get(h, EXT2_EXTENT_NEXT, &x)) {
		if (!(x.e_flags & EXT2_EXTENT_FLAGS_LEAF))
			continue;
		if (x.e_lblk * m->bs >= m->d->size)
			break;
		if (x.e_pblk >= m->nblocks || x.e_len > m->nblocks - x.e_pblk) {
			r = fs_fail(fs, -EUCLEAN, "inode %" PRIu64 ": extent "
				    "at block %llu+%u is past the file "
				    "system's %" PRIu64 " blocks", ino,
				    (unsigned long long)x.e_pblk, x.e_len,
				    m->nblocks);
			break;
		}
		if (m->d->next) {
			const struct fs_extent *p = &m->d->ext[m->d->next - 1];

			if (x.e_lblk * m->bs < p->logical + p->length) {
				r = fs_fail(fs, -EUCLEAN, "inode %" PRIu64
					    ": extents out of order at "
					    "block %llu", ino,
					    (unsigned long long)x.e_lblk);
				break;
			}
		}
		r = fs_data_add(m->d, x.e_lblk * m->bs, x.e_len * m->bs,
				x.e_pblk * m->bs,
				x.e_flags & EXT2_EXTENT_FLAGS_UNINIT ?
				FS_EXTENT_ZERO : 0);
		if (r < 0)
			break;
	}
	ext2fs_extent_free(h);
	if (r < 0)
		return r;
	if (c && c != EXT2_ET_EXTENT_NO_NEXT && c != EXT2_ET_NO_CURRENT_NODE)
		return ext_fail(fs, c, "inode %" PRIu64 ": extent tree", ino);
	return 0;
}

static int ext_data_open(struct vu_fs *fs, uint64_t ino, const char *stream,
			 struct fs_data *d)
{
	struct ext2_inode_large in;
	struct ext_map m = { .fs = fs, .d = d };
	ext2_file_t file = NULL;
	errcode_t c;
	int r;

	(void)stream;
	r = ext_inode(fs, ino, &in);
	if (r < 0)
		return r;
	if (LINUX_S_ISDIR(in.i_mode))
		return fs_fail(fs, -EISDIR, "inode %" PRIu64 " is a directory",
			       ino);
	if (!LINUX_S_ISREG(in.i_mode))
		return fs_fail(fs, -EINVAL, "inode %" PRIu64 " is not a "
			       "regular file", ino);
	if (in.i_flags & EXT4_ENCRYPT_FL)
		return fs_fail(fs, -ENOTSUP, "inode %" PRIu64 ": content "
			       "encrypted (fscrypt)", ino);
	d->size = EXT2_I_SIZE(&in);
	if (in.i_flags & EXT4_INLINE_DATA_FL) {
		c = ext2fs_file_open2(efs(fs), (ext2_ino_t)ino,
				      (struct ext2_inode *)&in, 0, &file);
		if (c)
			return ext_fail(fs, c, "inode %" PRIu64 ": inline "
					"data", ino);
		d->use_read = 1;
		d->handle = file;
		return 0;
	}
	m.bs = efs(fs)->blocksize;
	m.nblocks = ext2fs_blocks_count(efs(fs)->super);
	if (in.i_flags & EXT4_EXTENTS_FL)
		return map_extents(fs, ino, &in, &m);
	return map_blockmap(fs, ino, &m);
}

static ssize_t ext_data_read(struct vu_fs *fs, void *handle, void *buf,
			     size_t len, uint64_t off)
{
	ext2_file_t file = handle;
	unsigned int got = 0;
	errcode_t c;

	if (len > 1u << 30)
		len = 1u << 30;
	c = ext2fs_file_llseek(file, off, EXT2_SEEK_SET, NULL);
	if (!c)
		c = ext2fs_file_read(file, buf, (unsigned int)len, &got);
	if (c)
		return ext_fail(fs, c, "inode %u: inline data at %" PRIu64,
				ext2fs_file_get_inode_num(file), off);
	return got;
}

static void ext_data_close(struct vu_fs *fs, void *handle)
{
	(void)fs;
	ext2fs_file_close(handle);
}

/* ---- the file system ---- */

static int ext_open(struct vu_fs *fs)
{
	ext2_filsys e = NULL;
	errcode_t c;
	int r;

	eio_pending = fs->vol;
	c = ext2fs_open2(fs->vol->desc, NULL, EXT2_FLAG_64BITS, 0, 0,
			 &eio_manager, &e);
	eio_pending = NULL;
	if (c)
		return ext_fail(fs, c, "cannot open");
	fs->priv = e;
	fs->root = EXT2_ROOT_INO;
	r = ext_isdir(fs, EXT2_ROOT_INO);
	if (r < 0) {
		ext2fs_close_free(&e);
		fs->priv = NULL;
	}
	return r;
}

static void ext_close(struct vu_fs *fs)
{
	if (fs->priv)
		ext2fs_close_free((ext2_filsys *)&fs->priv);
}

const struct fs_ops fs_ext_ops = {
	.name = "ext",
	.open = ext_open,
	.close = ext_close,
	.lookup = ext_lookup,
	.getattr = ext_getattr,
	.readdir = ext_readdir,
	.readlink = ext_readlink,
	.data_open = ext_data_open,
	.data_read = ext_data_read,
	.data_close = ext_data_close,
};
