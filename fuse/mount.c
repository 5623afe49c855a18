/* The FUSE front end (libfuse3 low-level API): the root directory holds
 * <id>.img for every volume of the disk, its raw content, decrypted where a
 * key unlocked it.  Read-only: every call that would change something
 * answers EROFS.  Inodes: 1 the root, 2 + i volume i's image file.  The
 * image never changes while mounted, so entries and attributes are cached
 * for a long time and the kernel keeps file pages between opens.
 * vu_blk reads are thread-safe: the session runs multi-threaded. */
#define FUSE_USE_VERSION 310 /* configure requires fuse3 >= 3.10 */

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "fuse/mount.h"

#define ROOT_INO 1
#define TIMEOUT 86400.0 /* seconds: the image never changes */
#define FAULTS_PER_MINUTE 10

struct vu_fuse {
	struct fuse_session *se;
	struct vu_disk *d;
	uid_t uid;
	gid_t gid;
	struct timespec mtime;
	uint64_t total; /* bytes in every volume, for statfs */
	int handlers, mounted, foreground;
	/* rate limit of fault messages */
	pthread_mutex_t log_lock;
	time_t log_window;
	unsigned log_count;
	unsigned long log_dropped;
};

/* ---- logging: syslog in the background, rate-limited faults ---- */

static void syslog_sink(enum vu_log_level level, const char *msg, void *arg)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG,
				    LOG_DEBUG };
	(void)arg;
	syslog(prio[level], "%s", msg);
}

/* libfuse's own messages; its levels are syslog's. */
static void fuse_syslog(enum fuse_log_level level, const char *fmt, va_list ap)
{
	vsyslog((int)level, fmt, ap);
}

/* Log a read fault, at most FAULTS_PER_MINUTE a minute: a damaged image
 * read by a file manager must not flood the log. */
static void log_fault(struct vu_fuse *f, const char *fmt, ...)
	VU_PRINTF(2, 3);
static void log_fault(struct vu_fuse *f, const char *fmt, ...)
{
	struct timespec now;
	unsigned long dropped = 0;
	int emit = 0;
	char msg[1024];
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&f->log_lock);
	if (now.tv_sec - f->log_window >= 60) {
		dropped = f->log_dropped;
		f->log_window = now.tv_sec;
		f->log_count = 0;
		f->log_dropped = 0;
	}
	if (f->log_count < FAULTS_PER_MINUTE) {
		f->log_count++;
		emit = 1;
	} else {
		f->log_dropped++;
	}
	pthread_mutex_unlock(&f->log_lock);
	if (dropped)
		vu_log(VU_LOG_WARN, "%lu more read errors were not logged",
		       dropped);
	if (!emit)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vu_log(VU_LOG_ERROR, "%s", msg);
}

/* ---- inodes ---- */

static struct vu_volume *volume_of(struct vu_fuse *f, fuse_ino_t ino)
{
	if (ino < 2 || ino - 2 >= f->d->nvolumes)
		return NULL;
	return &f->d->volumes[ino - 2];
}

/* 0, or -ENOENT for an inode that is not ours. */
static int fill_attr(struct vu_fuse *f, fuse_ino_t ino, struct stat *st)
{
	struct vu_volume *v = volume_of(f, ino);

	memset(st, 0, sizeof(*st));
	if (ino == ROOT_INO) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
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

/* ---- operations ---- */

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	struct fuse_entry_param e;
	size_t len = strlen(name);

	if (parent != ROOT_INO) {
		fuse_reply_err(req, parent >= 2 ? ENOTDIR : ENOENT);
		return;
	}
	for (size_t i = 0; i < f->d->nvolumes; i++) {
		const char *id = f->d->volumes[i].id;
		size_t n = strlen(id);

		if (len != n + 4 || memcmp(name, id, n) ||
		    strcmp(name + n, ".img"))
			continue;
		memset(&e, 0, sizeof(e));
		e.ino = 2 + i;
		e.attr_timeout = TIMEOUT;
		e.entry_timeout = TIMEOUT;
		fill_attr(f, e.ino, &e.attr);
		fuse_reply_entry(req, &e);
		return;
	}
	/* Negative entries are cached as long: no file ever appears. */
	memset(&e, 0, sizeof(e));
	e.entry_timeout = TIMEOUT;
	fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	if (fill_attr(fuse_req_userdata(req), ino, &st) < 0)
		fuse_reply_err(req, ENOENT);
	else
		fuse_reply_attr(req, &st, TIMEOUT);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	if (ino != ROOT_INO) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	fi->keep_cache = 1;
	fi->cache_readdir = 1;
	fuse_reply_open(req, fi);
}

/* Entries at offsets 0 ".", 1 "..", 2 + i volume i; each entry's next
 * offset is its own plus one. */
static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	size_t used = 0;
	char *buf;

	(void)fi;
	if (ino != ROOT_INO) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (off_t i = off < 0 ? 0 : off;
	     (uint64_t)i < 2 + (uint64_t)f->d->nvolumes; i++) {
		struct stat st;
		char name[sizeof(f->d->volumes[0].id) + 8];
		size_t n;

		memset(&st, 0, sizeof(st));
		if (i < 2) {
			snprintf(name, sizeof(name), "%s", i ? ".." : ".");
			st.st_ino = ROOT_INO;
			st.st_mode = S_IFDIR;
		} else {
			snprintf(name, sizeof(name), "%s.img",
				 f->d->volumes[i - 2].id);
			st.st_ino = (ino_t)(i);
			st.st_mode = S_IFREG;
		}
		n = fuse_add_direntry(req, buf + used, size - used, name, &st,
				      i + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vu_fuse *f = fuse_req_userdata(req);

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
	fi->keep_cache = 1; /* the content never changes */
	fi->direct_io = 0;
	fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	struct vu_volume *v = volume_of(f, ino);
	uint64_t vsize;
	void *buf;
	int r;

	(void)fi;
	if (!v) {
		fuse_reply_err(req, ino == ROOT_INO ? EISDIR : ENOENT);
		return;
	}
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	vsize = v->blk->size;
	if ((uint64_t)off >= vsize || size == 0) {
		fuse_reply_buf(req, NULL, 0); /* end of file */
		return;
	}
	if (size > vsize - (uint64_t)off)
		size = (size_t)(vsize - (uint64_t)off);
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	vu_err_clear(); /* this thread's message belongs to this read */
	r = vu_blk_read(v->blk, buf, size, (uint64_t)off);
	if (r < 0) {
		log_fault(f, "%s.img: read of %zu bytes at %lld failed: %s",
			  v->id, size, (long long)off, vu_errmsg(r));
		vu_err_clear();
		/* Corrupt metadata is an I/O error to a reader. */
		fuse_reply_err(req, r == -EUCLEAN ? EIO : -r);
	} else {
		fuse_reply_buf(req, buf, size);
	}
	free(buf);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct vu_fuse *f = fuse_req_userdata(req);
	struct statvfs s;

	(void)ino;
	memset(&s, 0, sizeof(s));
	s.f_bsize = 4096;
	s.f_frsize = 4096;
	s.f_blocks = (fsblkcnt_t)((f->total + 4095) / 4096);
	s.f_files = (fsfilcnt_t)(1 + f->d->nvolumes);
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

static const struct fuse_lowlevel_ops ops = {
	.lookup = op_lookup,
	.getattr = op_getattr,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.open = op_open,
	.read = op_read,
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

/* ---- session ---- */

/* "default_permissions,fsname=...,subtype=vhdunlock,USER,ro": read-only
 * last, so that no user option turns it off. */
static int build_args(const struct vu_fuse_opts *o, struct fuse_args *args)
{
	char *opts = NULL, *fsname = NULL;
	int r = -1;

	if (asprintf(&fsname, "fsname=%s", o->fsname) < 0) {
		fsname = NULL;
		goto out;
	}
	if (fuse_opt_add_arg(args, "vhdunlock") ||
	    fuse_opt_add_opt(&opts, "default_permissions") ||
	    fuse_opt_add_opt_escaped(&opts, fsname) ||
	    fuse_opt_add_opt(&opts, "subtype=vhdunlock") ||
	    (o->options && *o->options &&
	     fuse_opt_add_opt(&opts, o->options)) ||
	    fuse_opt_add_opt(&opts, "ro") || fuse_opt_add_arg(args, "-o") ||
	    fuse_opt_add_arg(args, opts))
		goto out;
	r = 0;
out:
	free(opts);
	free(fsname);
	return r;
}

int vu_fuse_mount(struct vu_disk *d, const struct vu_fuse_opts *o,
		  struct vu_fuse **out)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct vu_fuse *f;
	struct stat st;
	int r;

	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return vu_fail(-ENOMEM, "out of memory");
	pthread_mutex_init(&f->log_lock, NULL);
	f->d = d;
	f->uid = getuid();
	f->gid = getgid();
	f->foreground = o->foreground;
	if (d->path && stat(d->path, &st) == 0)
		f->mtime = st.st_mtim;
	else
		clock_gettime(CLOCK_REALTIME, &f->mtime); /* a URL */
	for (size_t i = 0; i < d->nvolumes; i++)
		f->total += d->volumes[i].blk->size;

	if (build_args(o, &args) < 0) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto fail;
	}
	/* libfuse explains on stderr what it refuses. */
	f->se = fuse_session_new(&args, &ops, sizeof(ops), f);
	if (!f->se) {
		r = vu_fail(-EINVAL, "cannot start the FUSE session%s%s%s",
			    o->options ? " (options '" : "",
			    o->options ? o->options : "",
			    o->options ? "')" : "");
		goto fail;
	}
	if (fuse_set_signal_handlers(f->se) != 0) {
		r = vu_fail(-EIO, "cannot install signal handlers");
		goto fail;
	}
	f->handlers = 1;
	if (fuse_session_mount(f->se, o->mountpoint) != 0) {
		r = vu_fail(-EIO, "%s: cannot mount (is /dev/fuse usable and "
			    "fusermount3 installed?)", o->mountpoint);
		goto fail;
	}
	f->mounted = 1;
	fuse_opt_free_args(&args);
	*out = f;
	return 0;
fail:
	fuse_opt_free_args(&args);
	vu_fuse_free(f);
	return r;
}

int vu_fuse_run(struct vu_fuse *f)
{
	struct fuse_loop_config cfg;
	int r;

	if (fuse_daemonize(f->foreground) != 0)
		return vu_fail(-EIO, "cannot detach into the background");
	if (!f->foreground) {
		/* Standard error is /dev/null from here on. */
		openlog("vhdunlock", LOG_PID, LOG_DAEMON);
		vu_log_set_sink(syslog_sink, NULL);
		fuse_set_log_func(fuse_syslog);
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.clone_fd = 0;
	cfg.max_idle_threads = 10;
	r = fuse_session_loop_mt(f->se, &cfg);
	/* 0 when unmounted, the signal number after SIGINT/SIGTERM/SIGHUP. */
	if (r < 0)
		return vu_fail(-EIO, "FUSE session failed: %s", strerror(-r));
	return 0;
}

void vu_fuse_free(struct vu_fuse *f)
{
	if (!f)
		return;
	if (f->se) {
		if (f->mounted)
			fuse_session_unmount(f->se);
		if (f->handlers)
			fuse_remove_signal_handlers(f->se);
		fuse_session_destroy(f->se);
	}
	pthread_mutex_destroy(&f->log_lock);
	free(f);
}
