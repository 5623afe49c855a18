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
 *    The entries of the directories used last are kept (dir_cache.h), so
 *    that a lookup per entry after a listing (FUSE, extract) does not read
 *    the directory again each time.
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

/* One directory's entries, in on-disk order (the order mdir lists). */
struct fat_name {
	char *name;
	char sname[13];
	uint8_t raw[FAT_DIRENT];
	uint64_t ino;
};

struct fat_names {
	size_t n, cap;
	struct fat_name *v;
};

static void names_clear(void *table)
{
	struct fat_names *t = table;

	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].name);
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

static int names_add(struct vu_fs *fs, void *ctx, const struct fat_dirent *e)
{
	struct fat_names *t = ctx;
	struct fat_name *x;

	(void)fs;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;

		x = realloc(t->v, cap * sizeof(*x));
		if (!x)
			return vu_fail(-ENOMEM, "out of memory");
		t->v = x;
		t->cap = cap;
	}
	x = &t->v[t->n];
	x->name = strdup(e->name);
	if (!x->name)
		return vu_fail(-ENOMEM, "out of memory");
	memcpy(x->sname, e->sname, sizeof(x->sname));
	memcpy(x->raw, e->raw, sizeof(x->raw));
	x->ino = e->ino;
	t->n++;
	return 0;
}

static int names_build(void *ctx, uint64_t dir, void *table)
{
	int r = fat_dir_walk(ctx, dir, names_add, table);

	if (r < 0)
		names_clear(table);
	return r;
}

static void fat_close(struct vu_fs *fs)
{
	struct fat *f = F(fs);

	if (!f)
		return;
	dir_cache_clear(&f->names);
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
	f->names.table_size = sizeof(struct fat_names);
	f->names.build = names_build;
	f->names.clear_table = names_clear;
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

/* The entry of name in table t: exact, then ignoring ASCII case, then by
 * 8.3 name, each rule over the whole directory before the next. */
static const struct fat_name *names_find(const struct fat_names *t,
					 const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].name, name))
			return &t->v[i];
	for (size_t i = 0; i < t->n; i++)
		if (!strcasecmp(t->v[i].name, name))
			return &t->v[i];
	for (size_t i = 0; i < t->n; i++)
		if (!strcasecmp(t->v[i].sname, name))
			return &t->v[i];
	return NULL;
}

static int fat_lookup(struct vu_fs *fs, uint64_t dir, const char *name,
		      uint64_t *ino)
{
	const struct fat_names *t;
	const struct fat_name *hit;
	struct vu_fs_stat st;
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
	t = dir_cache_get(&F(fs)->names, dir, fs, &r);
	if (!t)
		return r;
	hit = names_find(t, name);
	if (!hit)
		return fs_fail(fs, -ENOENT, "no \"%s\" in directory inode %"
			       PRIu64, name, dir);
	*ino = hit->ino;
	return 0;
}

static int fat_readdir(struct vu_fs *fs, uint64_t dir, fs_dirent_fn fn,
		       void *ctx)
{
	const struct fat_names *t;
	struct vu_fs_stat st;
	int r;

	t = dir_cache_get(&F(fs)->names, dir, fs, &r);
	if (!t)
		return r;
	for (size_t i = 0; i < t->n; i++) {
		fat_entry_stat(F(fs), t->v[i].raw, t->v[i].ino, &st);
		if (fn(ctx, t->v[i].name, &st))
			return -ENOMEM;
	}
	return 0;
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
