/* The operations of the mount: the root directory holds <id>.img for
 * every volume of the disk, its raw content, decrypted where a key
 * unlocked it, and <id>/ for every volume whose file system can be read,
 * served by fuse/tree.c and fuse/tree_io.c.  Read-only: every call that
 * would change something answers EROFS, in the trees too.  The image never
 * changes while mounted, so entries and attributes are cached for a long
 * time and the kernel keeps file pages between opens.  vu_blk and vu_fs
 * calls are thread-safe: the session runs multi-threaded. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "core/log.h"
#include "fuse/fuse_int.h"

/* ---- the root and the image files ---- */

static struct vu_volume *volume_of(struct vu_fuse *f, fuse_ino_t ino)
{
	if (ino < 2 || ino - 2 >= f->d->nvolumes)
		return NULL;
	return &f->d->volumes[ino - 2];
}

int fuse_fill_attr(struct vu_fuse *f, fuse_ino_t ino, struct stat *st)
{
	struct vu_volume *v = volume_of(f, ino);

	memset(st, 0, sizeof(*st));
	if (ino == ROOT_INO) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2 + (nlink_t)f->ntrees;
	} else if (v) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)v->blk->size;
		st->st_blocks = (blkcnt_t)((v->blk->size + 511) / 512);
	} else {
		return -ENOENT;
	}
	st->st_ino = ino;
	st->st_uid = f->uid;
	st->st_gid = f->gid;
	st->st_blksize = 4096;
	st->st_atim = st->st_mtim = st->st_ctim = f->mtime;
	return 0;
}

/* The root's entry at offset i: 0 ".", 1 "..", 2 + i volume i's image,
 * 2 + n + i volume i's tree (absent without one).  0 and the name and
 * attributes (st_ino 0 for "." and ".."), -ENOENT when the slot is
 * empty, or another -errno when its attributes cannot be read. */
static int root_entry(struct vu_fuse *f, size_t i, char *name, size_t size,
		      struct fuse_entry_param *e)
{
	size_t n = f->d->nvolumes;

	memset(e, 0, sizeof(*e));
	e->attr_timeout = e->entry_timeout = TIMEOUT;
	if (i < 2) {
		snprintf(name, size, "%s", i ? ".." : ".");
		e->attr.st_ino = ROOT_INO;
		e->attr.st_mode = S_IFDIR;
		return 0;
	}
	if (i < 2 + n) {
		snprintf(name, size, "%s.img", f->d->volumes[i - 2].id);
		e->ino = img_ino(i - 2);
		return fuse_fill_attr(f, e->ino, &e->attr);
	}
	if (i >= 2 + 2 * n || !f->fs[i - 2 - n])
		return -ENOENT;
	snprintf(name, size, "%s", f->d->volumes[i - 2 - n].id);
	e->ino = voldir_ino(f, i - 2 - n);
	/* a tree whose root cannot be read now is an error, not absent */
	return -tree_voldir_attr(f, i - 2 - n, &e->attr);
}

/* The root's slot holding name: 2 + i "<id>.img", 2 + n + i "<id>" (a
 * volume with a tree); 0 for none. */
static size_t root_slot(struct vu_fuse *f, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < f->d->nvolumes; i++) {
		const char *id = f->d->volumes[i].id;
		size_t n = strlen(id);

		if (len < n || memcmp(name, id, n))
			continue;
		if (!strcmp(name + n, ".img"))
			return 2 + i;
		if (!name[n] && f->fs[i])
			return 2 + f->d->nvolumes + i;
	}
	return 0;
}

static void root_lookup(fuse_req_t req, const char *name)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	struct fuse_entry_param e;
	char ename[sizeof(f->d->volumes[0].id) + 8];
	size_t slot = root_slot(f, name);
	int r = slot ? root_entry(f, slot, ename, sizeof(ename), &e) : -ENOENT;

	if (r == 0) {
		fuse_reply_entry(req, &e);
		return;
	}
	if (r != -ENOENT) {
		fuse_reply_err(req, -r); /* not cached: it may read later */
		return;
	}
	/* Negative entries are cached as long: no file ever appears. */
	memset(&e, 0, sizeof(e));
	e.entry_timeout = TIMEOUT;
	fuse_reply_entry(req, &e);
}

/* Each entry's next offset is its own plus one.  readdirplus counts no
 * lookups here: every node of the root is fixed. */
static void root_readdir(fuse_req_t req, size_t size, off_t off, int plus)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	size_t used = 0;
	char *buf = fuse_reply_buffer(size);

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = off < 0 ? 0 : (size_t)off;
	     i < 2 + 2 * f->d->nvolumes; i++) {
		struct fuse_entry_param e;
		char name[sizeof(f->d->volumes[0].id) + 8];
		size_t n;

		int r = root_entry(f, i, name, sizeof(name), &e);

		if (r == -ENOENT)
			continue;
		if (r < 0) {
			/* the entries so far; the next call starts here and
			 * reports the error */
			if (!used) {
				fuse_reply_err(req, -r);
				return;
			}
			break;
		}
		n = plus ? fuse_add_direntry_plus(req, buf + used, size - used,
						  name, &e, (off_t)i + 1)
			 : fuse_add_direntry(req, buf + used, size - used,
					     name, &e.attr, (off_t)i + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
}

static void img_read(fuse_req_t req, struct vu_volume *v, size_t size,
		     off_t off)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	uint64_t vsize = v->blk->size;
	void *buf;
	int r;

	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if ((uint64_t)off >= vsize || size == 0) {
		fuse_reply_buf(req, NULL, 0); /* end of file */
		return;
	}
	if (size > vsize - (uint64_t)off)
		size = (size_t)(vsize - (uint64_t)off);
	buf = fuse_reply_buffer(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	vu_err_clear(); /* this thread's message belongs to this read */
	r = vu_blk_read(v->blk, buf, size, (uint64_t)off);
	if (r < 0) {
		fuse_log_fault(f, "%s.img: read of %zu bytes at %lld failed: %s",
			       v->id, size, (long long)off, vu_errmsg(r));
		vu_err_clear();
		fuse_reply_err(req, fuse_errno(r));
	} else {
		fuse_reply_buf(req, buf, size);
	}
}

/* ---- operations: the root and images here, the trees in tree*.c ---- */

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	/* Reads of one file answered in parallel, in any order. */
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	/* Lookups in one directory in parallel. */
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	/* Always readdirplus, never plain readdir: a listing brings every
	 * entry's attributes, so ls -l of a 20,000-entry directory costs
	 * ~100 requests instead of 20,000 lookups (with the kernel's
	 * automatic choice, ls followed by ls -l looked every name up).
	 * What remains is GNU ls asking each file for its ACL and SELinux
	 * label (getxattr); answering ENOSYS would stop those for good but
	 * also user.vhdunlock.streams. */
	if (conn->capable & FUSE_CAP_READDIRPLUS) {
		conn->want |= FUSE_CAP_READDIRPLUS;
		conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	}
	/* Nothing changes: symlink targets may be cached, and a file's
	 * pages need no invalidation when its attributes are fetched. */
	/* Not FUSE_CAP_POSIX_ACL, although the kernel would then cache the
	 * "no ACL" that ls -l asks every file for: it also turns on
	 * default_permissions, and the mounting user could no longer read
	 * root's 0600 files (see fuse/mount.c). */
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
	/* Request sizes are left as libfuse negotiates them: max_read
	 * unlimited, up to 256 pages a request (1 MiB, what O_DIRECT reads
	 * get; buffered reads come as read-ahead makes them, 128-256 KiB
	 * unless fuse/readahead.c could widen it).  Splice is not asked for:
	 * the data is decrypted or assembled in memory, not read from a
	 * descriptor that could be spliced. */
	(void)userdata;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vu_fuse *f = fuse_req_userdata(req);

	if (parent == ROOT_INO)
		root_lookup(req, name);
	else if (tree_owns(f, parent))
		tree_lookup(req, parent, name);
	else
		fuse_reply_err(req, volume_of(f, parent) ? ENOTDIR : ENOENT);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct vu_fuse *f = fuse_req_userdata(req);

	if (tree_owns(f, ino))
		tree_forget(f, ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct vu_fuse *f = fuse_req_userdata(req);

	for (size_t i = 0; i < count; i++)
		if (tree_owns(f, forgets[i].ino))
			tree_forget(f, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	struct stat st;

	(void)fi;
	if (tree_owns(f, ino))
		tree_getattr(req, ino);
	else if (fuse_fill_attr(f, ino, &st) < 0)
		fuse_reply_err(req, ENOENT);
	else
		fuse_reply_attr(req, &st, TIMEOUT);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	if (tree_owns(fuse_req_userdata(req), ino))
		tree_readlink(req, ino);
	else
		fuse_reply_err(req, EINVAL);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct vu_fuse *f = fuse_req_userdata(req);

	if (tree_owns(f, ino)) {
		tree_opendir(req, ino, fi);
		return;
	}
	if (ino != ROOT_INO) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	fi->fh = 0;
	fi->keep_cache = 1;
	fi->cache_readdir = 1;
	fuse_reply_open(req, fi);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	if (tree_owns(fuse_req_userdata(req), ino))
		tree_readdir(req, ino, size, off, fi, 0);
	else
		root_readdir(req, size, off, 0);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	if (tree_owns(fuse_req_userdata(req), ino))
		tree_readdir(req, ino, size, off, fi, 1);
	else
		root_readdir(req, size, off, 1);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vu_fuse *f = fuse_req_userdata(req);

	if (tree_owns(f, ino)) {
		tree_open(req, ino, fi);
		return;
	}
	if (ino == ROOT_INO) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (!volume_of(f, ino)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	fi->fh = 0;
	fi->keep_cache = 1; /* the content never changes */
	fi->direct_io = 0;
	fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	struct vu_volume *v = volume_of(f, ino);

	if (tree_owns(f, ino))
		tree_read(req, ino, size, off, fi);
	else if (v)
		img_read(req, v, size, off);
	else
		fuse_reply_err(req, ino == ROOT_INO ? EISDIR : ENOENT);
}

/* Also releasedir: the root and the images have no handle to end. */
static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	if (tree_owns(fuse_req_userdata(req), ino))
		tree_release(req, ino, fi);
	else
		fuse_reply_err(req, 0);
}

/* Extended attributes: only the trees' user.vhdunlock.streams. */
static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	if (tree_owns(fuse_req_userdata(req), ino))
		tree_getxattr(req, ino, name, size);
	else
		fuse_reply_err(req, ENODATA);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	if (tree_owns(fuse_req_userdata(req), ino))
		tree_listxattr(req, ino, size);
	else if (size)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_xattr(req, 0);
}

/* The size of the volume ino is in (or of all of them), nothing free;
 * the inodes known now. */
static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	long vol = tree_volume(f, ino);
	uint64_t bytes = vol >= 0 ? f->d->volumes[vol].blk->size : f->total;
	struct statvfs s;

	memset(&s, 0, sizeof(s));
	s.f_bsize = 4096;
	s.f_frsize = 4096;
	s.f_blocks = (fsblkcnt_t)((bytes + 4095) / 4096);
	s.f_files = (fsfilcnt_t)(1 + f->d->nvolumes + f->ntrees +
				 nodes_count(&f->nodes));
	s.f_namemax = 255;
	s.f_flag = ST_RDONLY;
	fuse_reply_statfs(req, &s);
}

/* Everything that would change the tree or a file. */
static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	fuse_reply_err(req, EROFS);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	fuse_reply_err(req, EROFS);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	fuse_reply_err(req, EROFS);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	fuse_reply_err(req, EROFS);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	fuse_reply_err(req, EROFS);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, EROFS);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	fuse_reply_err(req, EROFS);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	fuse_reply_err(req, EROFS);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	fuse_reply_err(req, EROFS);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	fuse_reply_err(req, EROFS);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	fuse_reply_err(req, EROFS);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			 off_t offset, off_t length, struct fuse_file_info *fi)
{
	fuse_reply_err(req, EROFS);
}

const struct fuse_lowlevel_ops vu_fuse_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.readlink = op_readlink,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_release,
	.open = op_open,
	.read = op_read,
	.release = op_release,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.statfs = op_statfs,
	.write = op_write,
	.setattr = op_setattr,
	.create = op_create,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_unlink,
	.rename = op_rename,
	.symlink = op_symlink,
	.link = op_link,
	.setxattr = op_setxattr,
	.removexattr = op_removexattr,
	.fallocate = op_fallocate,
};
