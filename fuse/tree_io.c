/* The file trees, continued: directory listings, open files and the
 * streams extended attribute (see fuse/tree.c). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "fuse/fuse_int.h"

#define STREAMS_XATTR "user.vhdunlock.streams"

/* One entry of a listing. */
struct dentry {
	char *name;
	struct vu_fs_stat st;
};

/* An opendir handle: the directory's entries, read at the first readdir. */
struct listing {
	struct tree_handle link; /* first: the list's free casts back */
	pthread_mutex_t lock;
	int loaded;
	uint32_t vol;
	uint64_t fsino;
	fuse_ino_t self;
	size_t n, cap;
	struct dentry *e;
};

/* An open handle of a file or stream. */
struct handle {
	struct tree_handle link; /* first */
	struct vu_fs_file *file;
	uint32_t vol;
	uint64_t fsino;
};

/* ---- the list of open handles ---- */

static void track(struct vu_fuse *f, struct tree_handle *h,
		  void (*free_fn)(struct tree_handle *h))
{
	h->free = free_fn;
	pthread_mutex_lock(&f->handles_lock);
	h->next = f->handles.next;
	h->prev = &f->handles;
	h->next->prev = h;
	f->handles.next = h;
	pthread_mutex_unlock(&f->handles_lock);
}

/* Take h off the list and free it. */
static void release(struct vu_fuse *f, struct tree_handle *h)
{
	pthread_mutex_lock(&f->handles_lock);
	h->prev->next = h->next;
	h->next->prev = h->prev;
	pthread_mutex_unlock(&f->handles_lock);
	h->free(h);
}

void tree_free_handles(struct vu_fuse *f)
{
	while (f->handles.next != &f->handles)
		release(f, f->handles.next);
}

/* ---- directories ---- */

static int collect(void *ctx, const char *name, const struct vu_fs_stat *st)
{
	struct listing *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct dentry *e = realloc(l->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		l->e = e;
		l->cap = cap;
	}
	l->e[l->n].name = strdup(name);
	if (!l->e[l->n].name)
		return -ENOMEM;
	l->e[l->n].st = *st;
	l->n++;
	return 0;
}

static void listing_free(struct tree_handle *h)
{
	struct listing *l = (struct listing *)h;

	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* Read the entries once: 0 or an errno.  The kernel may send readdir for
 * one handle from two threads (two readers of one descriptor), hence the
 * lock. */
static int listing_load(struct vu_fuse *f, struct listing *l)
{
	int r = 0;

	pthread_mutex_lock(&l->lock);
	if (!l->loaded) {
		vu_err_clear();
		r = vu_fs_readdir(f->fs[l->vol], l->fsino, collect, l);
		if (r < 0) {
			for (size_t i = 0; i < l->n; i++)
				free(l->e[i].name);
			l->n = 0;
			r = tree_errno(f, l->vol, l->fsino, "readdir", r);
		} else {
			l->loaded = 1;
			r = 0;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return r;
}

void tree_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	struct node_info n;
	struct stat st;
	struct listing *l;
	int r;

	if (tree_resolve(f, ino, &n) < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	r = n.stream[0] ? ENOTDIR : tree_node_attr(f, ino, &n, &st);
	if (!r && !S_ISDIR(st.st_mode))
		r = ENOTDIR;
	if (r) {
		fuse_reply_err(req, r);
		return;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_init(&l->lock, NULL);
	l->vol = n.vol;
	l->fsino = n.fsino;
	l->self = ino;
	track(f, &l->link, listing_free);
	fi->fh = (uint64_t)(uintptr_t)l;
	/* No kernel readdir cache: a listing served from it comes without
	 * attributes, and ls -l then looks up every name; readdirplus from
	 * our listing is cheaper (see op_init). */
	fi->cache_readdir = 0;
	if (fuse_reply_open(req, fi) != 0)
		release(f, &l->link); /* interrupted: no releasedir comes */
}

/* Add entry i of l (0 ".", 1 "..") to buf: its size, larger than room
 * when it did not fit (nothing added, nothing counted); 0 with *err set
 * when it could not be made. */
static size_t add_entry(fuse_req_t req, struct vu_fuse *f, struct listing *l,
			size_t i, int plus, char *buf, size_t room, int *err)
{
	const char *name = i == 0 ? "." : i == 1 ? ".." : l->e[i - 2].name;
	struct fuse_entry_param e;
	size_t need;

	need = plus ? fuse_add_direntry_plus(req, NULL, 0, name, NULL, 0)
		    : fuse_add_direntry(req, NULL, 0, name, NULL, 0);
	if (need > room)
		return need;
	memset(&e, 0, sizeof(e));
	if (i < 2) {
		/* The kernel links no inode for "." and "..": no node. */
		e.attr.st_ino = i == 1 && l->self == voldir_ino(f, l->vol)
					? ROOT_INO
					: tree_stable_ino(l->vol, l->fsino, l->self);
		e.attr.st_mode = S_IFDIR;
	} else if (plus) {
		const struct vu_fs_stat *s = &l->e[i - 2].st;

		*err = tree_entry(f, l->vol, s->ino, NULL, 0, s, &e);
		if (*err)
			return 0;
	} else {
		e.attr.st_ino = tree_stable_ino(l->vol, l->e[i - 2].st.ino, 0);
		e.attr.st_mode = l->e[i - 2].st.mode & S_IFMT;
	}
	return plus ? fuse_add_direntry_plus(req, buf, room, name, &e,
					     (off_t)i + 1)
		    : fuse_add_direntry(req, buf, room, name, &e.attr,
					(off_t)i + 1);
}

void tree_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		  struct fuse_file_info *fi, int plus)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	struct listing *l = (struct listing *)(uintptr_t)fi->fh;
	size_t used = 0;
	int err = 0;
	char *buf;

	err = listing_load(f, l);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	buf = fuse_reply_buffer(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = off < 0 ? 0 : (size_t)off; i < 2 + l->n; i++) {
		size_t n = add_entry(req, f, l, i, plus, buf + used,
				     size - used, &err);

		if (err || n > size - used)
			break;
		used += n;
	}
	if (err && !used)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, used); /* the rest comes next call */
}

/* ---- files ---- */

static void handle_free(struct tree_handle *t)
{
	struct handle *h = (struct handle *)t;

	vu_fs_file_close(h->file);
	free(h);
}

void tree_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	struct node_info n;
	struct handle *h;
	int r;

	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (tree_resolve(f, ino, &n) < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	h->vol = n.vol;
	h->fsino = n.fsino;
	vu_err_clear();
	r = vu_fs_file_open(f->fs[n.vol], n.fsino,
			    n.stream[0] ? n.stream : NULL, &h->file);
	if (r < 0) {
		free(h);
		fuse_reply_err(req, tree_errno(f, n.vol, n.fsino, "open", r));
		return;
	}
	track(f, &h->link, handle_free);
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->keep_cache = 1; /* the content never changes */
	fi->direct_io = 0;
	if (fuse_reply_open(req, fi) != 0)
		release(f, &h->link); /* interrupted: no release comes */
}

/* A read of at least twice this is split into parts read at once by the
 * caller and the pool's idle workers: large enough that handing a part
 * over costs nothing next to decrypting it. */
#define SPLIT_MIN (256u << 10)

struct split_read {
	struct vu_fs_file *file;
	char *buf;
	uint64_t off;
	size_t size, part;
};

static int read_part(void *ctx, size_t i)
{
	const struct split_read *s = ctx;
	size_t at = i * s->part;
	size_t n = s->size - at < s->part ? s->size - at : s->part;
	ssize_t got = vu_fs_file_read(s->file, s->buf + at, n, s->off + at);

	if (got < 0)
		return (int)got;
	if ((size_t)got != n)
		return vu_fail(-EIO, "short read: %zd of %zu bytes at %"
			       PRIu64, got, n, s->off + at);
	return 0;
}

/* Read [off, off + size) of the file into buf: the bytes there, fewer at
 * its end.  Large reads in parts across the pool. */
static ssize_t file_read(struct vu_fuse *f, struct vu_fs_file *file,
			 char *buf, size_t size, uint64_t off)
{
	uint64_t fsize = vu_fs_file_size(file);
	struct split_read s = { file, buf, off, size, 0 };
	size_t parts;
	int r;

	if (off >= fsize)
		return 0;
	if (s.size > fsize - off)
		s.size = (size_t)(fsize - off);
	parts = s.size / SPLIT_MIN;
	if (!f->pool || parts < 2)
		return vu_fs_file_read(file, buf, s.size, off);
	/* parts of whole pages, at most one per core */
	if (parts > 16)
		parts = 16;
	s.part = (s.size / parts + 4095) & ~(size_t)4095;
	parts = (s.size + s.part - 1) / s.part;
	r = vu_pool_run(f->pool, read_part, &s, parts);
	return r < 0 ? r : (ssize_t)s.size;
}

void tree_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	       struct fuse_file_info *fi)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	ssize_t got;
	char *buf;

	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	buf = fuse_reply_buffer(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	vu_err_clear(); /* this thread's message belongs to this read */
	got = file_read(f, h->file, buf, size, (uint64_t)off);
	if (got < 0) {
		char what[80];
		int r = (int)got;

		snprintf(what, sizeof(what), "read of %zu bytes at %lld",
			 size, (long long)off);
		/* the reader's own errno (ESTALE, EUCLEAN, EIO, ...): the
		 * log says the rest */
		fuse_reply_err(req, tree_fault(f, h->vol, h->fsino, what, r));
	} else {
		fuse_reply_buf(req, buf, (size_t)got);
	}
}

/* For release and releasedir alike: fh is a struct handle or a struct
 * listing, and either begins with its link. */
void tree_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct tree_handle *h = (struct tree_handle *)(uintptr_t)fi->fh;

	if (h)
		release(fuse_req_userdata(req), h);
	fuse_reply_err(req, 0);
}

/* ---- streams as an extended attribute ---- */

struct names {
	char *buf;
	size_t len, cap;
	int err;
};

static int add_stream(void *ctx, const char *name, uint64_t size)
{
	struct names *s = ctx;
	size_t n = strlen(name) + 1;

	(void)size;
	if (s->len + n > s->cap) {
		size_t cap = (s->len + n) * 2;
		char *p = realloc(s->buf, cap);

		if (!p)
			return -ENOMEM;
		s->buf = p;
		s->cap = cap;
	}
	if (s->len)
		s->buf[s->len - 1] = '\n'; /* the separator */
	memcpy(s->buf + s->len, name, n);
	s->len += n;
	return 0;
}

/* Reply with data (len bytes) as xattr calls want it: the size when the
 * caller asks for it, ERANGE when its buffer is too small. */
static void reply_value(fuse_req_t req, const char *data, size_t len,
			size_t size)
{
	if (!size)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, data, len);
}

/* The number of named streams of the node, or an errno (negated). */
static int stream_count(struct vu_fuse *f, const struct node_info *n)
{
	struct vu_fs_stat s;
	int r;

	if (n->stream[0])
		return 0; /* a stream has no streams */
	vu_err_clear();
	r = vu_fs_getattr(f->fs[n->vol], n->fsino, &s);
	if (r < 0)
		return -tree_errno(f, n->vol, n->fsino, "getattr", r);
	return s.nstreams > 0;
}

void tree_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		   size_t size)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	struct names s = { 0 };
	struct node_info n;
	int r;

	/* Other names (security.selinux, ACLs: ls asks) need no fs call. */
	if (strcmp(name, STREAMS_XATTR)) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	if (tree_resolve(f, ino, &n) < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	r = stream_count(f, &n);
	if (r <= 0) {
		fuse_reply_err(req, r < 0 ? -r : ENODATA);
		return;
	}
	vu_err_clear();
	r = vu_fs_streams(f->fs[n.vol], n.fsino, add_stream, &s);
	if (r < 0)
		fuse_reply_err(req, tree_errno(f, n.vol, n.fsino, "streams", r));
	else if (!s.len)
		fuse_reply_err(req, ENODATA);
	else
		reply_value(req, s.buf, s.len - 1, size); /* no final NUL */
	free(s.buf);
}

void tree_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	struct node_info n;
	int r;

	if (tree_resolve(f, ino, &n) < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	r = stream_count(f, &n);
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (r == 0)
		reply_value(req, "", 0, size);
	else
		reply_value(req, STREAMS_XATTR, sizeof(STREAMS_XATTR), size);
}
