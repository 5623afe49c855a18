/* The file trees of the mount: MOUNTPOINT/<id>/ shows the files of volume
 * <id>'s file system through src/fs (whose calls are thread-safe, so the
 * multi-threaded session calls it directly).
 *
 * - Node ids come from the node table (fuse/nodes.h); the root of each
 *   file system is the fixed id of its <id>/ directory.  st_ino is not the
 *   node id but (volume + 1) << 48 | fs inode: it stays the same when the
 *   kernel forgets a node and looks it up again under a new id, so tools
 *   that match hard links by inode number across a long walk (cp -a, tar,
 *   rsync -H, du) still see them.  Node ids stay below 2^48 (at a million
 *   lookups a second, more than FUSE answers, that is 9 years away), so
 *   they never collide with it; streams, and the rare fs inode of 2^48 or
 *   more (XFS on a huge volume), show their node id.
 * - NTFS alternate data streams are reached only by looking up
 *   "name:stream" (CLI.md's PATH:STREAM naming); readdir never lists them,
 *   so ls, find and cp -r see the files alone.  A stream is a regular
 *   read-only file of the stream's size.  The extended attribute
 *   user.vhdunlock.streams of a file that has named streams lists them,
 *   separated by '\n' (no newline after the last); files without streams
 *   do not have it.
 * - Directory listings are read once per opendir handle (lazily, at the
 *   first readdir), so the offsets the kernel asks for are indexes into a
 *   fixed list: 0 ".", 1 "..", 2 + k the k-th entry.
 * - Nothing here changes a file: writes are answered EROFS in ops.c.
 *
 * Lookup, attributes and symlinks are here; listings, open files and the
 * streams attribute in tree_io.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "fuse/fuse_int.h"

#define STABLE_BITS 48
#define READLINK_MAX (1u << 20) /* longer targets are damage */

/* ---- helpers ---- */

int tree_owns(const struct vu_fuse *f, fuse_ino_t ino)
{
	return ino >= voldir_ino(f, 0);
}

int tree_resolve(struct vu_fuse *f, fuse_ino_t ino, struct node_info *n)
{
	if (ino >= voldir_ino(f, 0) && ino < voldir_ino(f, f->d->nvolumes)) {
		size_t i = ino - voldir_ino(f, 0);

		if (!f->fs[i])
			return -ENOENT;
		n->vol = (uint32_t)i;
		n->fsino = f->fsroot[i];
		n->size = 0;
		n->stream[0] = 0;
		return 0;
	}
	return nodes_get(&f->nodes, ino, n);
}

long tree_volume(struct vu_fuse *f, fuse_ino_t ino)
{
	struct node_info n;

	if (!tree_owns(f, ino) || tree_resolve(f, ino, &n) < 0)
		return -1;
	return (long)n.vol;
}

ino_t tree_stable_ino(uint32_t vol, uint64_t fsino, fuse_ino_t id)
{
	if (fsino >> STABLE_BITS || vol >= 0xffff)
		return (ino_t)id;
	return (ino_t)(((uint64_t)vol + 1) << STABLE_BITS | fsino);
}

/* The errno to answer for a failed fs call.  Faults (a failed read, a
 * damaged structure, a feature not read, a blob that changed) are logged,
 * rate-limited, with the volume and inode; a missing name is no fault. */
int tree_errno(struct vu_fuse *f, uint32_t vol, uint64_t fsino,
	       const char *what, int r)
{
	switch (r) {
	case -ENOENT:
	case -ENOTDIR:
	case -EISDIR:
	case -EINVAL:
	case -ENOMEM:
	case -ENAMETOOLONG:
		vu_err_clear();
		return fuse_errno(r);
	default:
		return tree_fault(f, vol, fsino, what, r);
	}
}

int tree_fault(struct vu_fuse *f, uint32_t vol, uint64_t fsino,
	       const char *what, int r)
{
	fuse_log_fault(f, "%s: inode %llu: %s: %s", f->d->volumes[vol].id,
		       (unsigned long long)fsino, what, vu_errmsg(r));
	vu_err_clear();
	return fuse_errno(r);
}

/* Only the data a struct stat holds.  The creation time (s->btime) has no
 * place in it: FUSE 3.10's low-level API answers stat, not statx, so
 * statx's stx_btime stays unset through the mount. */
static void to_stat(const struct vu_fs_stat *s, ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = s->mode;
	st->st_nlink = s->nlink;
	st->st_uid = s->uid;
	st->st_gid = s->gid;
	st->st_size = (off_t)s->size;
	st->st_blocks = (blkcnt_t)s->blocks;
	st->st_blksize = 4096;
	st->st_atim = s->atime;
	st->st_mtim = s->mtime;
	st->st_ctim = s->ctime;
}

/* A stream: a read-only regular file of its own size, with the owner and
 * times of the file it belongs to. */
static void stream_stat(const struct vu_fs_stat *base, uint64_t size,
			fuse_ino_t id, struct stat *st)
{
	to_stat(base, (ino_t)id, st);
	st->st_mode = S_IFREG | (base->mode & 0444);
	st->st_nlink = 1;
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
}

/* The attributes of node id (n): 0 or an errno to answer. */
int tree_node_attr(struct vu_fuse *f, fuse_ino_t id,
		   const struct node_info *n, struct stat *st)
{
	struct vu_fs_stat s;
	int r;

	vu_err_clear();
	r = vu_fs_getattr(f->fs[n->vol], n->fsino, &s);
	if (r < 0)
		return tree_errno(f, n->vol, n->fsino, "getattr", r);
	if (n->stream[0])
		stream_stat(&s, n->size, id, st);
	else
		to_stat(&s, tree_stable_ino(n->vol, n->fsino, id), st);
	return 0;
}

int tree_voldir_attr(struct vu_fuse *f, size_t i, struct stat *st)
{
	struct node_info n;
	int r = tree_resolve(f, voldir_ino(f, i), &n);

	return r < 0 ? -r : tree_node_attr(f, voldir_ino(f, i), &n, st);
}

/* The entry for (vol, fsino, stream) with attributes s, counting one
 * lookup of it (none for a file system's root, a fixed id).  0 or an
 * errno.  A reply the kernel then drops (an interrupted request) leaves a
 * count that is never forgotten: a node kept until unmount. */
int tree_entry(struct vu_fuse *f, uint32_t vol, uint64_t fsino,
	       const char *stream, uint64_t size, const struct vu_fs_stat *s,
	       struct fuse_entry_param *e)
{
	uint64_t id;
	int r;

	memset(e, 0, sizeof(*e));
	if (!stream && fsino == f->fsroot[vol]) {
		id = voldir_ino(f, vol);
	} else {
		r = nodes_ref(&f->nodes, vol, fsino, stream, size, &id);
		if (r < 0)
			return -r;
	}
	e->ino = id;
	if (stream)
		stream_stat(s, size, id, &e->attr);
	else
		to_stat(s, tree_stable_ino(vol, fsino, id), &e->attr);
	e->attr_timeout = TIMEOUT;
	e->entry_timeout = TIMEOUT;
	return 0;
}

/* ---- lookup ---- */

/* "name:stream" in directory dir: the file, then its named stream.
 * 0 and *e, or an errno (ENOENT when either is missing). */
static int lookup_stream(struct vu_fuse *f, uint32_t vol, uint64_t dir,
			 const char *name, struct fuse_entry_param *e)
{
	const char *colon = strchr(name, ':');
	struct vu_fs *fs = f->fs[vol];
	struct vu_fs_file *file;
	struct vu_fs_stat s;
	uint64_t ino, size;
	char *base;
	int r;

	if (!colon[1])
		return ENOENT;
	base = strndup(name, (size_t)(colon - name));
	if (!base)
		return ENOMEM;
	vu_err_clear();
	r = vu_fs_lookup(fs, dir, base, &ino);
	free(base);
	if (r < 0)
		return tree_errno(f, vol, dir, "lookup", r);
	r = vu_fs_getattr(fs, ino, &s);
	if (r < 0)
		return tree_errno(f, vol, ino, "getattr", r);
	if (!s.nstreams)
		return ENOENT; /* ext4, XFS, or an NTFS file without streams */
	r = vu_fs_file_open(fs, ino, colon + 1, &file);
	if (r < 0)
		return tree_errno(f, vol, ino, "open stream", r);
	size = vu_fs_file_size(file);
	vu_fs_file_close(file);
	return tree_entry(f, vol, ino, colon + 1, size, &s, e);
}

/* name in directory dir: 0 and *e, or an errno. */
static int lookup_name(struct vu_fuse *f, uint32_t vol, uint64_t dir,
		       const char *name, struct fuse_entry_param *e)
{
	struct vu_fs *fs = f->fs[vol];
	struct vu_fs_stat s;
	uint64_t ino;
	int r;

	vu_err_clear();
	r = vu_fs_lookup(fs, dir, name, &ino);
	if (r == -ENOENT && strchr(name, ':')) {
		vu_err_clear();
		return lookup_stream(f, vol, dir, name, e);
	}
	if (r < 0)
		return tree_errno(f, vol, dir, "lookup", r);
	r = vu_fs_getattr(fs, ino, &s);
	if (r < 0)
		return tree_errno(f, vol, ino, "getattr", r);
	return tree_entry(f, vol, ino, NULL, 0, &s, e);
}

void tree_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	struct fuse_entry_param e;
	struct node_info n;
	int r;

	if (tree_resolve(f, parent, &n) < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (n.stream[0]) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	/* The kernel resolves ".." itself; an NFS-style lookup of it at a
	 * file system's root leaves the tree for the mount's root. */
	if (!strcmp(name, "..") && n.fsino == f->fsroot[n.vol]) {
		memset(&e, 0, sizeof(e));
		e.ino = ROOT_INO;
		e.attr_timeout = e.entry_timeout = TIMEOUT;
		fuse_fill_attr(f, ROOT_INO, &e.attr);
		fuse_reply_entry(req, &e);
		return;
	}
	r = lookup_name(f, n.vol, n.fsino, name, &e);
	if (r == ENOENT) {
		/* Negative entries are cached as long: nothing appears. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = TIMEOUT;
		fuse_reply_entry(req, &e);
	} else if (r) {
		fuse_reply_err(req, r);
	} else {
		fuse_reply_entry(req, &e);
	}
}

void tree_forget(struct vu_fuse *f, fuse_ino_t ino, uint64_t nlookup)
{
	/* The volume directories are fixed: never dropped. */
	if (ino >= voldir_ino(f, f->d->nvolumes))
		nodes_forget(&f->nodes, ino, nlookup);
}

void tree_getattr(fuse_req_t req, fuse_ino_t ino)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	struct node_info n;
	struct stat st;
	int r;

	if (tree_resolve(f, ino, &n) < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	r = tree_node_attr(f, ino, &n, &st);
	if (r)
		fuse_reply_err(req, r);
	else
		fuse_reply_attr(req, &st, TIMEOUT);
}

void tree_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	struct node_info n;
	size_t size = 4096;
	char *buf = NULL;
	int r;

	if (tree_resolve(f, ino, &n) < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (n.stream[0]) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	/* The target's length is not known in advance for NTFS: grow. */
	for (;;) {
		char *p = realloc(buf, size);

		if (!p) {
			r = -ENOMEM;
			break;
		}
		buf = p;
		vu_err_clear();
		r = vu_fs_readlink(f->fs[n.vol], n.fsino, buf, size);
		if (r != -ERANGE || size >= READLINK_MAX)
			break;
		size *= 2;
	}
	if (r < 0)
		fuse_reply_err(req, tree_errno(f, n.vol, n.fsino, "readlink", r));
	else
		fuse_reply_readlink(req, buf);
	free(buf);
}

/* ---- setup ---- */

/* Open volume i's file system when it holds one vu_fs reads.  0, also
 * when it is damaged (warned, no tree); -ENOMEM; -EIO when the image could
 * not be read. */
static int open_tree(struct vu_fuse *f, size_t i)
{
	struct vu_volume *v = &f->d->volumes[i];
	enum vu_kind kind = vu_volume_content(v)->kind;
	int r;

	if (!vu_fs_supported(kind))
		return 0;
	unsigned long failures = vu_blk_source_failures(NULL, 0);

	vu_err_clear();
	r = vu_fs_open(v->blk, kind, &f->fs[i]);
	if (r == -ENOMEM)
		return r;
	if (r < 0 && vu_blk_source_failures(NULL, 0) != failures) {
		/* not a damaged file system but an image that could not be
		 * read: mounting without the tree would hide that */
		f->fs[i] = NULL;
		return vu_fail(-EIO, "%s: cannot read its %s file system: %s",
			       v->id, vu_kind_name(kind), vu_errmsg(r));
	}
	if (r < 0) {
		f->fs[i] = NULL;
		vu_log(VU_LOG_WARN, "%s: cannot read its %s file system, "
		       "no %s/ in the mount (%s.img is there): %s", v->id,
		       vu_kind_name(kind), v->id, v->id, vu_errmsg(r));
		vu_err_clear();
		return 0;
	}
	f->fsroot[i] = vu_fs_root(f->fs[i]);
	f->ntrees++;
	return 0;
}

int tree_init(struct vu_fuse *f)
{
	size_t n = f->d->nvolumes;
	int r;

	pthread_mutex_init(&f->handles_lock, NULL);
	f->handles.prev = f->handles.next = &f->handles;
	f->fs = calloc(n ? n : 1, sizeof(*f->fs));
	f->fsroot = calloc(n ? n : 1, sizeof(*f->fsroot));
	if (!f->fs || !f->fsroot)
		return -ENOMEM;
	r = nodes_init(&f->nodes, voldir_ino(f, n));
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = open_tree(f, i);
		if (r < 0)
			return r;
	}
	return 0;
}

void tree_free(struct vu_fuse *f)
{
	if (f->handles.next) {
		tree_free_handles(f);
		pthread_mutex_destroy(&f->handles_lock);
	}
	for (size_t i = 0; f->fs && i < f->d->nvolumes; i++)
		if (f->fs[i])
			vu_fs_close(f->fs[i]);
	free(f->fs);
	free(f->fsroot);
	f->fs = NULL;
	f->fsroot = NULL;
	nodes_free(&f->nodes);
}
