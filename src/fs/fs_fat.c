/* FAT12/16/32, read-only, our own reader: no maintained Debian library
 * reads FAT from a block source.  fat_volume.c reads the boot sector and
 * follows cluster chains, fat_dir.c reads directories and names; this file
 * is the backend table (fs_backend.h).
 *
 * What the interface shows:
 *  - inode = byte offset of the file's short entry / 32; root = 1
 *    (fat_int.h).
 *  - each file once, by its VFAT long name (UTF-16 to UTF-8) when it has a
 *    whole one, else by its 8.3 name with Windows NT's lowercase flags;
 *    deleted entries, volume labels, "." and ".." are not listed.
 *  - lookup: the exact name first, then ignoring ASCII case (FAT names
 *    are case-insensitive), then the 8.3 name of a file with a long one.
 *  - modes synthesised as for NTFS: directories 0555, files 0444; uid/gid
 *    0; mtime and ctime from the write date and time, atime from the
 *    access date, btime from the creation time; local time taken as UTC.
 *  - file data is an extent list from the cluster chain, checked at open:
 *    the chain must have exactly the clusters the size needs, stay in
 *    range, not loop and lie within the volume. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/blk.h"
#include "core/bytes.h"
#include "core/error.h"
#include "fs/fat_int.h"

static void fat_close(struct vu_fs *fs)
{
	struct fat *f = F(fs);

	if (!f)
		return;
	fat_cache_free(f);
	free(f->cbuf);
	free(f->ent);
	free(f);
	fs->priv = NULL;
}

static int fat_open(struct vu_fs *fs)
{
	struct fat_run *runs = NULL;
	struct fat *f;
	size_t n;
	int r;

	f = calloc(1, sizeof(*f));
	if (!f)
		return vu_fail(-ENOMEM, "out of memory");
	fs->priv = f;
	fs->root = FAT_ROOT_INO;
	f->ent = malloc(sizeof(*f->ent));
	if (!f->ent) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto fail;
	}
	r = fat_boot_read(fs);
	/* a FAT32 root whose chain is broken: fail now, not on first use */
	if (r == 0 && f->bits == 32)
		r = fat_chain(fs, f->root_cluster, 0,
			      FAT_DIR_MAX_BYTES / f->csize + 1,
			      "root directory", &runs, &n);
	free(runs);
	if (r == 0)
		return 0;
fail:
	fat_close(fs);
	return r;
}

static int fat_getattr(struct vu_fs *fs, uint64_t ino, struct vu_fs_stat *st)
{
	uint8_t raw[FAT_DIRENT];
	int r;

	if (ino == FAT_ROOT_INO) {
		fat_root_stat(st);
		return 0;
	}
	r = fat_entry_read(fs, ino, raw);
	if (r < 0)
		return r;
	fat_entry_stat(F(fs), raw, ino, st);
	return 0;
}

struct find {
	const char *name;
	int pass;	/* 0 exact, 1 ASCII case, 2 short name */
	uint64_t ino;
};

static int match_name(struct vu_fs *fs, void *ctx, const struct fat_dirent *e)
{
	struct find *q = ctx;
	int hit;

	(void)fs;
	if (q->pass == 0)
		hit = !strcmp(e->name, q->name);
	else if (q->pass == 1)
		hit = !strcasecmp(e->name, q->name);
	else
		hit = !strcasecmp(e->sname, q->name);
	if (!hit)
		return 0;
	q->ino = e->ino;
	return FAT_WALK_STOP;
}

static int fat_lookup(struct vu_fs *fs, uint64_t dir, const char *name,
		      uint64_t *ino)
{
	struct vu_fs_stat st;
	struct find q = { name, 0, 0 };
	int r;

	r = fat_getattr(fs, dir, &st);
	if (r < 0)
		return r;
	if (!S_ISDIR(st.mode))
		return fs_fail(fs, -ENOTDIR, "inode %" PRIu64 " is not a "
			       "directory", dir);
	if (!strcmp(name, ".")) {
		*ino = dir;
		return 0;
	}
	if (!strcmp(name, ".."))
		return fat_parent(fs, dir, ino);
	/* a pass per rule, so an exact name wins over a folded one anywhere
	 * in the directory */
	for (q.pass = 0; q.pass < 3; q.pass++) {
		r = fat_dir_walk(fs, dir, match_name, &q);
		if (r < 0)
			return r;
		if (q.ino) {
			*ino = q.ino;
			return 0;
		}
	}
	return fs_fail(fs, -ENOENT, "no \"%s\" in directory inode %" PRIu64,
		       name, dir);
}

struct list {
	fs_dirent_fn fn;
	void *ctx;
};

static int list_one(struct vu_fs *fs, void *ctx, const struct fat_dirent *e)
{
	struct list *l = ctx;
	struct vu_fs_stat st;

	fat_entry_stat(F(fs), e->raw, e->ino, &st);
	return l->fn(l->ctx, e->name, &st) ? -ENOMEM : 0;
}

static int fat_readdir(struct vu_fs *fs, uint64_t dir, fs_dirent_fn fn,
		       void *ctx)
{
	struct list l = { fn, ctx };

	return fat_dir_walk(fs, dir, list_one, &l);
}

static int fat_readlink(struct vu_fs *fs, uint64_t ino, char *buf,
			size_t size)
{
	(void)buf;
	(void)size;
	return fs_fail(fs, -EINVAL, "inode %" PRIu64 ": not a symbolic link "
		       "(FAT has none)", ino);
}

static int fat_data_open(struct vu_fs *fs, uint64_t ino, const char *stream,
			 struct fs_data *d)
{
	struct fat *f = F(fs);
	struct fat_run *runs = NULL;
	uint8_t raw[FAT_DIRENT];
	char what[64], sname[13];
	uint32_t first, want;
	uint64_t logical = 0;
	size_t n = 0;
	int r;

	(void)stream;
	if (ino == FAT_ROOT_INO)
		return fs_fail(fs, -EISDIR, "root directory: is a directory");
	r = fat_entry_read(fs, ino, raw);
	if (r < 0)
		return r;
	fat_short_name(raw, sname);
	snprintf(what, sizeof(what), "file \"%s\" (inode %" PRIu64 ")", sname,
		 ino);
	if (raw[FAT_DIRENT_ATTR] & FAT_ATTR_DIR)
		return fs_fail(fs, -EISDIR, "%s: is a directory", what);
	d->size = vu_le32(raw + FAT_DIRENT_SIZE);
	first = fat_entry_cluster(f, raw);
	want = (uint32_t)((d->size + f->csize - 1) / f->csize);
	if (!want && !first)
		return 0;
	if (!want)
		return fs_fail(fs, -EUCLEAN, "%s: empty, but starts at "
			       "cluster %u", what, first);
	if (!first)
		return fs_fail(fs, -EUCLEAN, "%s: %" PRIu64 " bytes, but no "
			       "first cluster", what, d->size);
	r = fat_chain(fs, first, want, want, what, &runs, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		uint64_t off = fat_cluster_off(f, runs[i].first);
		uint64_t len = (uint64_t)runs[i].count * f->csize;

		/* the last cluster needs to be there only up to the size */
		if (len > d->size - logical)
			len = d->size - logical;
		if (off + len > fs->vol->size) {
			r = fs_fail(fs, -EUCLEAN, "%s: clusters %u to %u end "
				    "at byte %" PRIu64 ", past the end of the "
				    "%" PRIu64 "-byte volume (truncated "
				    "image?)", what, runs[i].first,
				    runs[i].first + runs[i].count - 1,
				    off + len, fs->vol->size);
			break;
		}
		r = fs_data_add(d, logical, len, off, 0);
		logical += len;
	}
	free(runs);
	return r;
}

const struct fs_ops fs_fat_ops = {
	.name = "fat",
	.open = fat_open,
	.close = fat_close,
	.lookup = fat_lookup,
	.getattr = fat_getattr,
	.readdir = fat_readdir,
	.readlink = fat_readlink,
	.streams = NULL,
	.data_open = fat_data_open,
};
