/* The FUSE front end (libfuse3 low-level API), its session: the options
 * the mount gets, mounting while the terminal is there, the daemon's loop,
 * and logging (standard error in the foreground, syslog in the
 * background; read faults rate-limited).  What the mount shows is in
 * fuse/ops.c (the root and the <id>.img files) and fuse/tree.c,
 * fuse/tree_io.c (the <id>/ file trees); node ids in fuse/fuse_int.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "core/log.h"
#include "fuse/fuse_int.h"
#include "fuse/mount.h"

#define FAULTS_PER_MINUTE 10

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
void fuse_log_fault(struct vu_fuse *f, const char *fmt, ...)
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

/* ---- session ---- */

/* Whether the comma-separated options hold opt as one of them. */
static int has_option(const char *options, const char *opt)
{
	size_t n = strlen(opt);

	for (const char *p = options; p && *p; p += strcspn(p, ",")) {
		p += *p == ',';
		if (!strncmp(p, opt, n) && (p[n] == ',' || !p[n]))
			return 1;
	}
	return 0;
}

/* "[default_permissions,]fsname=...,subtype=vhdunlock,USER,ro": read-only
 * last, so that no user option turns it off.
 *
 * Permissions: with allow_other, other users reach the mount, and
 * default_permissions has the kernel apply the file system's own modes and
 * owners to them.  Without it the kernel lets nobody but the mounting user
 * (and no one else, not even root) in at all, and that user is the
 * responder who must read everything the image holds, root's 0600 files
 * included, without being root: so no permission checks then. */
static int build_args(const struct vu_fuse_opts *o, struct fuse_args *args)
{
	char *opts = NULL, *fsname = NULL;
	int others = has_option(o->options, "allow_other");
	int r = -1;

	if (asprintf(&fsname, "fsname=%s", o->fsname) < 0) {
		fsname = NULL;
		goto out;
	}
	if (fuse_opt_add_arg(args, "vhdunlock") ||
	    (others && fuse_opt_add_opt(&opts, "default_permissions")) ||
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
	if (stat(d->images[0].path, &st) == 0)
		f->mtime = st.st_mtim;
	else
		clock_gettime(CLOCK_REALTIME, &f->mtime); /* a URL */
	for (size_t i = 0; i < d->nvolumes; i++)
		f->total += d->volumes[i].blk->size;
	/* The file systems open here, while there is a terminal to warn
	 * on about the ones that do not. */
	r = tree_init(f);
	if (r < 0) {
		r = vu_fail(r, "out of memory");
		goto fail;
	}

	if (build_args(o, &args) < 0) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto fail;
	}
	/* libfuse explains on stderr what it refuses. */
	f->se = fuse_session_new(&args, &vu_fuse_ops, sizeof(vu_fuse_ops), f);
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
	f->mountpoint = strdup(o->mountpoint);
	if (!f->mountpoint) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto fail;
	}
	fuse_opt_free_args(&args);
	*out = f;
	return 0;
fail:
	fuse_opt_free_args(&args);
	vu_fuse_free(f);
	return r;
}

/* The kernel's first request is INIT, and only the answer to it sets the
 * mount's read-ahead (the kernel's window, lowered to what we ask): so
 * answer it here, then widen the window, then serve everything else. */
static void answer_init(struct vu_fuse *f)
{
	struct fuse_buf buf = { 0 };
	int r;

	do
		r = fuse_session_receive_buf(f->se, &buf);
	while (r == -EINTR && !fuse_session_exited(f->se));
	if (r > 0)
		fuse_session_process_buf(f->se, &buf);
	free(buf.mem);
	if (r > 0)
		fuse_raise_readahead(f->mountpoint);
}

static unsigned int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 16 ? 16 : (unsigned int)n;
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
	answer_init(f);
	/* one more hand per core for large reads (fuse/tree_io.c); without
	 * them every read still runs on its FUSE thread */
	if (vu_pool_new(online_cpus(), &f->pool) < 0)
		vu_err_clear();
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
	vu_pool_free(f->pool);
	tree_free(f);
	free(f->mountpoint);
	pthread_mutex_destroy(&f->log_lock);
	free(f);
}
