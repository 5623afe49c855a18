/* File systems: dispatch to the backend of a kind (fs_backend.h), one mutex
 * per file system around every backend call, '/' paths resolved one
 * component at a time, and plain file data read straight from the volume
 * through the extent list taken at file open, without the mutex. */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/blk.h"
#include "core/error.h"
#include "core/extent.h"
#include "core/log.h"
#include "fs/fs.h"
#include "fs/fs_backend.h"

struct vu_fs_file {
	struct vu_fs *fs;	/* reference held */
	uint64_t ino;
	struct fs_data d;
};

/* Which backend reads which kind. */
static const struct fs_ops *backend_of(enum vu_kind kind)
{
	switch (kind) {
	case VU_KIND_NTFS:
		return &fs_ntfs_ops;
	case VU_KIND_EXT2:
	case VU_KIND_EXT3:
	case VU_KIND_EXT4:
		return &fs_ext_ops;
	case VU_KIND_XFS:
		return &fs_xfs_ops;
	case VU_KIND_FAT:
		return &fs_fat_ops;
	default:
		return NULL;
	}
}

int fs_fail(const struct vu_fs *fs, int err, const char *fmt, ...)
{
	char msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return vu_blk_fail(fs->vol, err, "%s: %s", vu_kind_name(fs->kind), msg);
}

void fs_warn_skip(const struct vu_fs *fs, int had_error, const char *fmt,
		  ...)
{
	char msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vu_log(VU_LOG_WARN, "%s: %s: %s (skipped)", fs->vol->desc,
	       vu_kind_name(fs->kind), msg);
	/* the skipped entry's failure must not stand in for a later one */
	if (!had_error)
		vu_err_clear();
}

int fs_data_add(struct fs_data *d, uint64_t logical, uint64_t length,
		uint64_t physical, uint32_t flags)
{
	struct fs_extent *n;

	if (logical >= d->size || !length)
		return 0;
	if (length > d->size - logical)
		length = d->size - logical;
	if (d->next == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;

		n = realloc(d->ext, cap * sizeof(*n));
		if (!n)
			return vu_fail(-ENOMEM, "out of memory");
		d->ext = n;
		d->cap = cap;
	}
	d->ext[d->next++] = (struct fs_extent){ logical, length, physical,
						 flags };
	return 0;
}

int vu_fs_supported(enum vu_kind kind)
{
	return backend_of(kind) != NULL;
}

int vu_fs_open(struct vu_blk *vol, enum vu_kind kind, struct vu_fs **out)
{
	const struct fs_ops *ops = backend_of(kind);
	struct vu_fs *fs;
	int r;

	*out = NULL;
	if (!vol)
		return vu_fail(-EINVAL, "fs: no volume");
	if (!ops)
		return vu_blk_fail(vol, -ENOTSUP,
				   "%s: file system not supported",
				   vu_kind_name(kind));
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return vu_fail(-ENOMEM, "out of memory");
	fs->ops = ops;
	fs->vol = vu_blk_ref(vol);
	fs->kind = kind;
	fs->refs = 1;
	pthread_mutex_init(&fs->lock, NULL);
	r = ops->open(fs);
	if (r < 0) {
		pthread_mutex_destroy(&fs->lock);
		vu_blk_unref(fs->vol);
		free(fs);
		return r;
	}
	*out = fs;
	return 0;
}

static void fs_unref(struct vu_fs *fs)
{
	if (!fs || __atomic_sub_fetch(&fs->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	fs->ops->close(fs);
	pthread_mutex_destroy(&fs->lock);
	vu_blk_unref(fs->vol);
	free(fs);
}

/* Files still open keep the file system alive until they are closed. */
void vu_fs_close(struct vu_fs *fs)
{
	fs_unref(fs);
}

const char *vu_fs_kind_name(const struct vu_fs *fs)
{
	return fs ? vu_kind_name(fs->kind) : "?";
}

uint64_t vu_fs_root(const struct vu_fs *fs)
{
	return fs->root;
}

int vu_fs_lookup(struct vu_fs *fs, uint64_t dir, const char *name,
		 uint64_t *ino)
{
	int r;

	*ino = 0;
	if (!name || !*name || strchr(name, '/'))
		return fs_fail(fs, -EINVAL, "bad name \"%s\" in directory %"
			       PRIu64, name ? name : "", dir);
	pthread_mutex_lock(&fs->lock);
	r = fs->ops->lookup(fs, dir, name, ino);
	pthread_mutex_unlock(&fs->lock);
	return r;
}

int vu_fs_getattr(struct vu_fs *fs, uint64_t ino, struct vu_fs_stat *st)
{
	int r;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&fs->lock);
	r = fs->ops->getattr(fs, ino, st);
	pthread_mutex_unlock(&fs->lock);
	if (r < 0)
		memset(st, 0, sizeof(*st));
	return r;
}

/* One component of a path: the backend lookup, with the path named in the
 * message when it fails (the backend named the inode already). */
static int lookup_component(struct vu_fs *fs, uint64_t dir, const char *name,
			    const char *path, uint64_t *ino)
{
	struct vu_fs_stat st;
	int had, r;

	r = vu_fs_getattr(fs, dir, &st);
	if (r < 0)
		return r;
	if (!S_ISDIR(st.mode)) {
		if (S_ISLNK(st.mode))
			return fs_fail(fs, -ENOTSUP, "%s: symbolic link in "
				       "the middle of the path (not followed)",
				       path);
		return fs_fail(fs, -ENOTDIR, "%s: a component before \"%s\" "
			       "is not a directory", path, name);
	}
	had = vu_err_isset();
	r = vu_fs_lookup(fs, dir, name, ino);
	if (r != -ENOENT)
		return r;
	if (!had)
		vu_err_clear(); /* the path says more than the inode */
	return fs_fail(fs, -ENOENT, "%s: no such file or directory", path);
}

int vu_fs_lookup_path(struct vu_fs *fs, const char *path, uint64_t *ino)
{
	char name[1024];
	const char *p;
	uint64_t cur;
	int r;

	*ino = 0;
	if (!path || path[0] != '/')
		return fs_fail(fs, -EINVAL, "path \"%s\" is not absolute",
			       path ? path : "");
	cur = fs->root;
	for (p = path; *p;) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (!n)
			break;
		if (n >= sizeof(name))
			return fs_fail(fs, -ENAMETOOLONG, "%s: name too long",
				       path);
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		r = lookup_component(fs, cur, name, path, &cur);
		if (r < 0)
			return r;
	}
	*ino = cur;
	return 0;
}

/* ---- readdir: collect under the lock, call back without it ---- */

struct dirent_buf {
	struct vu_fs_stat *st;
	char **names;
	size_t n, cap;
};

static int collect(void *ctx, const char *name, const struct vu_fs_stat *st)
{
	struct dirent_buf *b = ctx;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct vu_fs_stat *s = realloc(b->st, cap * sizeof(*s));
		char **nm;

		if (!s)
			return vu_fail(-ENOMEM, "out of memory");
		b->st = s;
		nm = realloc(b->names, cap * sizeof(*nm));
		if (!nm)
			return vu_fail(-ENOMEM, "out of memory");
		b->names = nm;
		b->cap = cap;
	}
	b->names[b->n] = strdup(name);
	if (!b->names[b->n])
		return vu_fail(-ENOMEM, "out of memory");
	b->st[b->n++] = *st;
	return 0;
}

static void dirent_buf_free(struct dirent_buf *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->names[i]);
	free(b->names);
	free(b->st);
}

/* The callback may take its time or call back into this file system:
 * entries are collected first, and cb runs with the lock released. */
int vu_fs_readdir(struct vu_fs *fs, uint64_t dir, vu_fs_dir_cb cb, void *ctx)
{
	struct dirent_buf b = { 0 };
	int r;

	pthread_mutex_lock(&fs->lock);
	r = fs->ops->readdir(fs, dir, collect, &b);
	pthread_mutex_unlock(&fs->lock);
	for (size_t i = 0; r >= 0 && i < b.n; i++) {
		r = cb(ctx, b.names[i], &b.st[i]);
		if (r)
			break;
	}
	dirent_buf_free(&b);
	return r;
}

int vu_fs_readlink(struct vu_fs *fs, uint64_t ino, char *buf, size_t size)
{
	int r;

	if (!buf || !size)
		return fs_fail(fs, -EINVAL, "readlink of inode %" PRIu64
			       ": no buffer", ino);
	buf[0] = '\0';
	pthread_mutex_lock(&fs->lock);
	r = fs->ops->readlink(fs, ino, buf, size);
	pthread_mutex_unlock(&fs->lock);
	if (r < 0)
		buf[0] = '\0';
	return r;
}

/* A stream is collected as an entry whose stat holds only its size. */
static int collect_stream(void *ctx, const char *name, uint64_t size)
{
	struct vu_fs_stat st = { .size = size };

	return collect(ctx, name, &st);
}

/* As readdir: collected under the lock, cb called without it. */
int vu_fs_streams(struct vu_fs *fs, uint64_t ino, vu_fs_stream_cb cb,
		  void *ctx)
{
	struct dirent_buf b = { 0 };
	struct vu_fs_stat st;
	int r;

	if (!fs->ops->streams) /* none in this kind: only check ino */
		return vu_fs_getattr(fs, ino, &st);
	pthread_mutex_lock(&fs->lock);
	r = fs->ops->streams(fs, ino, collect_stream, &b);
	pthread_mutex_unlock(&fs->lock);
	for (size_t i = 0; r >= 0 && cb && i < b.n; i++) {
		r = cb(ctx, b.names[i], b.st[i].size);
		if (r)
			break;
	}
	dirent_buf_free(&b);
	return r;
}

/* ---- file data ---- */

int vu_fs_file_open(struct vu_fs *fs, uint64_t ino, const char *stream,
		    struct vu_fs_file **out)
{
	struct vu_fs_file *f;
	int r;

	*out = NULL;
	if (stream && !*stream)
		stream = NULL;
	if (stream && !fs->ops->streams)
		return fs_fail(fs, -ENOENT, "inode %" PRIu64 ": no stream "
			       "\"%s\" (%s has no named streams)", ino, stream,
			       vu_kind_name(fs->kind));
	f = calloc(1, sizeof(*f));
	if (!f)
		return vu_fail(-ENOMEM, "out of memory");
	pthread_mutex_lock(&fs->lock);
	r = fs->ops->data_open(fs, ino, stream, &f->d);
	pthread_mutex_unlock(&fs->lock);
	if (r < 0) {
		free(f->d.ext);
		free(f);
		return r;
	}
	__atomic_add_fetch(&fs->refs, 1, __ATOMIC_RELAXED);
	f->fs = fs;
	f->ino = ino;
	*out = f;
	return 0;
}

uint64_t vu_fs_file_size(const struct vu_fs_file *f)
{
	return f->d.size;
}

/* The first extent that ends after off (binary search), or next. */
static size_t extent_at(const struct fs_data *d, uint64_t off)
{
	size_t lo = 0, hi = d->next;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct fs_extent *e = &d->ext[mid];

		if (e->logical + e->length <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* What lies at off of a file (a lookup of the extent walk, core/extent.h):
 * data from the volume, or zeros for holes, gaps and unwritten runs. */
static int file_lookup(const void *ctx, uint64_t off, size_t len,
		       struct vu_run *runs, size_t max)
{
	const struct vu_fs_file *f = ctx;
	const struct fs_data *d = &f->d;
	struct vu_blk *vol = f->fs->vol;
	size_t i = extent_at(d, off);
	const struct fs_extent *e = i < d->next ? &d->ext[i] : NULL;
	uint64_t in, n;

	(void)max;
	if (!e || off < e->logical) { /* a gap: hole */
		runs[0].length = e ? e->logical - off : len;
		return 1;
	}
	in = off - e->logical;
	runs[0].length = e->length - in;
	if (e->flags & FS_EXTENT_ZERO)
		return 1;
	n = runs[0].length < len ? runs[0].length : len;
	if (e->physical > vol->size || in + n > vol->size - e->physical)
		return fs_fail(f->fs, -EUCLEAN, "inode %" PRIu64 ": extent at "
			       "byte %" PRIu64 " of the volume is past its end "
			       "(size %" PRIu64 ")", f->ino, e->physical,
			       vol->size);
	runs[0].lower = vol;
	runs[0].lower_off = e->physical + in;
	return 1;
}

ssize_t vu_fs_file_read(struct vu_fs_file *f, void *buf, size_t len,
			uint64_t off)
{
	struct vu_fs *fs = f->fs;
	ssize_t r;

	if (off >= f->d.size || !len)
		return 0;
	if (len > f->d.size - off)
		len = (size_t)(f->d.size - off);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (!f->d.use_read) {
		r = vu_runs_read(file_lookup, f, buf, len, off);
		return r < 0 ? r : (ssize_t)len;
	}
	/* the backend's own reader, which may return less than asked */
	pthread_mutex_lock(&fs->lock);
	r = 0;
	while ((size_t)r < len) {
		ssize_t n = fs->ops->data_read(fs, f->d.handle,
					       (uint8_t *)buf + r, len - r,
					       off + r);
		if (n < 0) {
			r = n;
			break;
		}
		if (n == 0) { /* the library ends early: the rest is zeros */
			memset((uint8_t *)buf + r, 0, len - r);
			r = len;
			break;
		}
		r += n;
	}
	pthread_mutex_unlock(&fs->lock);
	return r;
}

void vu_fs_file_close(struct vu_fs_file *f)
{
	struct vu_fs *fs;

	if (!f)
		return;
	fs = f->fs;
	if (fs->ops->data_close && f->d.handle) {
		pthread_mutex_lock(&fs->lock);
		fs->ops->data_close(fs, f->d.handle);
		pthread_mutex_unlock(&fs->lock);
	}
	free(f->d.ext);
	free(f);
	fs_unref(fs);
}

int vu_fs_read_file(struct vu_fs *fs, const char *path, size_t max,
		    uint8_t **data, size_t *len)
{
	struct vu_fs_stat st;
	struct vu_fs_file *f = NULL;
	uint8_t *buf = NULL;
	uint64_t ino;
	ssize_t n;
	int r;

	*data = NULL;
	*len = 0;
	r = vu_fs_lookup_path(fs, path, &ino);
	if (r < 0)
		return r;
	r = vu_fs_getattr(fs, ino, &st);
	if (r < 0)
		return r;
	if (S_ISDIR(st.mode))
		return fs_fail(fs, -EISDIR, "%s: is a directory", path);
	if (!S_ISREG(st.mode))
		return fs_fail(fs, -EINVAL, "%s: not a regular file", path);
	r = vu_fs_file_open(fs, ino, NULL, &f);
	if (r < 0)
		return r;
	if (vu_fs_file_size(f) > max) {
		r = fs_fail(fs, -EFBIG, "%s: %" PRIu64 " bytes, more than the "
			    "%zu expected", path, vu_fs_file_size(f), max);
		goto out;
	}
	buf = malloc(vu_fs_file_size(f) ? (size_t)vu_fs_file_size(f) : 1);
	if (!buf) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto out;
	}
	n = vu_fs_file_read(f, buf, (size_t)vu_fs_file_size(f), 0);
	if (n < 0) {
		r = (int)n;
		goto out;
	}
	*data = buf; /* transferred */
	*len = (size_t)n;
	buf = NULL;
	r = 0;
out:
	free(buf);
	vu_fs_file_close(f);
	return r;
}
