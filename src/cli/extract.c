/* vhdunlock extract: copy a file or a directory tree out of a volume's file
 * system, keeping modification times and permission bits, and write a
 * sha256sum manifest of what was copied.
 *
 * The image is hostile until proven otherwise: every name from it is
 * checked (no "", ".", "..", '/'), every output is made relative to an
 * open directory with O_NOFOLLOW, so nothing is written outside DEST
 * whatever the names and symbolic links inside it.  Files are written to
 * a temporary name and renamed into place (RENAME_NOREPLACE without
 * --force), so no half-written file ever carries a real name. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/fspath.h"
#include "core/error.h"
#include "core/log.h"
#include "crypto/crypto.h"

#define CHUNK (1u << 20)
#define SPARSE_BLOCK 4096u /* zero blocks of this size become holes */
#define MAX_DEPTH 200	   /* one open directory per level */
#define MANIFEST "vhdunlock-manifest.sha256"
#define SHOW_CONFLICTS 5

struct mline {
	char *name; /* as sha256sum writes it (escaped) */
	int escaped;
	char hex[65];
};

struct xtract {
	struct cli_fsvol *c;
	const char *src;	/* the source path, as given */
	const char *dest;	/* DEST, as given */
	int force;
	int prewalk;		/* counting and checking, nothing written */
	uint8_t *buf;
	/* the entry at hand, relative to the extraction root */
	char *rel;
	size_t rlen, rcap;
	uint64_t anc[MAX_DEPTH]; /* directories above it: loops in a damaged
				    file system end here */
	int depth;
	/* counts */
	uint64_t total, done;
	unsigned long files, entries, failed, skipped, conflicts;
	unsigned long core_warnings;
	int own_warning;	/* a warning of ours is being logged */
	int log_max;		/* the level the user asked for */
	unsigned int tmpseq;
	struct cli_progress pr;
	/* the manifest lines of this run */
	struct mline *m;
	size_t mn, mcap;
	/* the image's own files, never to be replaced, even with --force */
	struct stat *img;
	size_t nimg;
};

/* ---- messages ---- */

/* Entries the file system skips (fs_warn_skip) reach us only as warnings:
 * they are counted as failures, and our own warnings are not counted
 * twice.  During the first walk nothing is printed, the copy walk repeats
 * it. */
static void count_sink(enum vu_log_level level, const char *msg, void *arg)
{
	struct xtract *x = arg;

	if (level == VU_LOG_WARN && !x->own_warning && !x->prewalk)
		x->core_warnings++;
	if (x->prewalk || (int)level > x->log_max)
		return;
	if (x->pr.enabled)
		fputs("\r\033[K", stderr); /* not into the progress bar */
	cli_log_sink(level, msg, NULL);
}

static int log_level_now(void)
{
	int l = VU_LOG_TRACE;

	while (l > VU_LOG_ERROR && !vu_log_enabled((enum vu_log_level)l))
		l--;
	return l;
}

/* "p1:/home/user/a.txt": the source of the entry at hand */
static void src_name(const struct xtract *x, char *out, size_t size)
{
	size_t n = strlen(x->src);
	int slash = n && x->src[n - 1] == '/';

	snprintf(out, size, "%s:%s%s%s", x->c->v->id, x->src,
		 x->rlen && !slash ? "/" : "", x->rel ? x->rel : "");
}

/* A warning about the entry at hand: it is not extracted (or not all of
 * it), the others go on (0 is returned for that), and the exit status
 * will be 1. */
static int entry_failed(struct xtract *x, const char *fmt, ...)
	VU_PRINTF(2, 3);
static int entry_failed(struct xtract *x, const char *fmt, ...)
{
	char what[512], src[4200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	src_name(x, src, sizeof(src));
	x->own_warning = 1;
	vu_log(VU_LOG_WARN, "%s: %s: %s", x->c->image, src, what);
	x->own_warning = 0;
	vu_err_clear();
	x->failed++;
	return 0;
}

/* The target of the entry at hand appeared after the first walk. */
static int exists_failed(struct xtract *x)
{
	return entry_failed(x, "%s/%s: already exists; use --force to "
			    "overwrite it", x->dest, x->rel);
}

/* ---- the relative path ---- */

static int push(struct xtract *x, const char *name)
{
	size_t n = strlen(name), need = x->rlen + n + 2;

	if (need > x->rcap) {
		char *p = realloc(x->rel, need * 2);
		if (!p)
			return vu_fail(-ENOMEM, "out of memory");
		x->rel = p;
		x->rcap = need * 2;
	}
	if (x->rlen)
		x->rel[x->rlen++] = '/';
	memcpy(x->rel + x->rlen, name, n + 1);
	x->rlen += n;
	return 0;
}

static void pop(struct xtract *x, size_t len)
{
	x->rlen = len;
	if (x->rel)
		x->rel[len] = '\0';
}

/* A name from the image that must not become a path: hostile or damaged
 * images could hold them, a sound file system never does. */
static int bad_name(const char *name)
{
	return !name[0] || !strcmp(name, ".") || !strcmp(name, "..") ||
	       strchr(name, '/');
}

/* ---- the manifest ---- */

static int manifest_add(struct xtract *x, const char *rel,
			const uint8_t hash[32])
{
	struct mline *l;
	char *e;
	size_t k = 0;

	if (x->mn == x->mcap) {
		size_t cap = x->mcap ? x->mcap * 2 : 64;
		l = realloc(x->m, cap * sizeof(*l));
		if (!l)
			return vu_fail(-ENOMEM, "out of memory");
		x->m = l;
		x->mcap = cap;
	}
	l = &x->m[x->mn];
	e = malloc(strlen(rel) * 2 + 1);
	if (!e)
		return vu_fail(-ENOMEM, "out of memory");
	/* sha256sum's escaping: a line whose name holds '\\', '\n' or '\r'
	 * starts with '\\' and has them escaped. */
	l->escaped = 0;
	for (const char *p = rel; *p; p++) {
		char esc = *p == '\\' ? '\\'
			 : *p == '\n' ? 'n'
			 : *p == '\r' ? 'r'
				      : 0;

		if (esc) {
			e[k++] = '\\';
			e[k++] = esc;
			l->escaped = 1;
		} else {
			e[k++] = *p;
		}
	}
	e[k] = '\0';
	l->name = e;
	for (int i = 0; i < 32; i++)
		snprintf(l->hex + 2 * i, 3, "%02x", hash[i]);
	x->mn++;
	return 0;
}

static int mline_cmp(const void *a, const void *b)
{
	const struct mline *p = *(const struct mline *const *)a;
	const struct mline *q = *(const struct mline *const *)b;

	return p->escaped != q->escaped ? p->escaped - q->escaped
					: strcmp(p->name, q->name);
}

/* A line of an existing manifest names a file written now: it is
 * replaced by the new line. */
static int superseded(char *line, struct mline **sorted, size_t n)
{
	struct mline key = { 0 }, *kp = &key;
	char *name;
	size_t len = strlen(line);

	if (len && line[len - 1] == '\n')
		line[--len] = '\0';
	key.escaped = line[0] == '\\';
	name = line + key.escaped;
	if (strlen(name) < 66 || strspn(name, "0123456789abcdefABCDEF") != 64 ||
	    name[64] != ' ' || (name[65] != ' ' && name[65] != '*'))
		return 0; /* not ours to judge: kept */
	key.name = name + 66;
	return bsearch(&kp, sorted, n, sizeof(*sorted), mline_cmp) != NULL;
}

static int make_temp(struct xtract *x, int dfd, char *name, size_t size)
{
	for (;;) {
		int fd;

		snprintf(name, size, ".vhdunlock.%ld.%u.tmp", (long)getpid(),
			 x->tmpseq++);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
					       O_NOFOLLOW, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
}

/* Write the manifest of this run into dfd.  An existing manifest (an
 * earlier extract into the same place) keeps its lines for other files;
 * lines for the files written now are replaced. */
static int write_manifest(struct xtract *x, int dfd, const char *dir)
{
	struct mline **sorted = NULL;
	char tmp[64], *line = NULL;
	size_t cap = 0;
	FILE *in = NULL, *out = NULL;
	int fd, r = 0;

	if (!x->mn)
		return 0;
	sorted = malloc(x->mn * sizeof(*sorted));
	if (!sorted)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < x->mn; i++)
		sorted[i] = &x->m[i];
	qsort(sorted, x->mn, sizeof(*sorted), mline_cmp);
	fd = openat(dfd, MANIFEST, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		in = fdopen(fd, "r");
	fd = make_temp(x, dfd, tmp, sizeof(tmp));
	if (fd < 0 || !(out = fdopen(fd, "w"))) {
		r = vu_fail(-EIO, "%s/%s: cannot write: %s", dir, MANIFEST,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	while (in && getline(&line, &cap, in) > 0)
		if (!superseded(line, sorted, x->mn))
			fprintf(out, "%s\n", line);
	for (size_t i = 0; i < x->mn; i++)
		fprintf(out, "%s%s  %s\n", x->m[i].escaped ? "\\" : "",
			x->m[i].hex, x->m[i].name);
	if (fchmod(fileno(out), 0644) < 0 || ferror(out) || fclose(out) != 0 ||
	    renameat(dfd, tmp, dfd, MANIFEST) < 0) {
		r = vu_fail(-EIO, "%s/%s: cannot write: %s", dir, MANIFEST,
			    strerror(errno));
		unlinkat(dfd, tmp, 0);
	}
	out = NULL;
out:
	if (out)
		fclose(out);
	if (in)
		fclose(in);
	free(line);
	free(sorted);
	return r;
}

/* ---- one regular file ---- */

static int write_all_at(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		off += (uint64_t)w;
		n -= (size_t)w;
	}
	return 0;
}

static int is_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && !memcmp(p, p + 1, n - 1));
}

/* Zero blocks are skipped, so that they stay holes (the file's size is
 * set at the end); runs of data are written in one call. */
static int write_sparse(int fd, const uint8_t *buf, size_t n, uint64_t off)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i, b;

		while (j < n) {
			b = n - j < SPARSE_BLOCK ? n - j : SPARSE_BLOCK;
			if (is_zero(buf + j, b))
				break;
			j += b;
		}
		if (j > i) {
			int r = write_all_at(fd, buf + i, j - i, off + i);
			if (r < 0)
				return r;
		}
		b = n - j < SPARSE_BLOCK ? n - j : SPARSE_BLOCK;
		i = j + b; /* the zero block at j (or the end) */
	}
	return 0;
}

/* Out of space and the like: every further file would fail the same way,
 * so the extraction stops. */
static int fatal_errno(int e)
{
	return e == ENOSPC || e == EDQUOT || e == EROFS || e == ENOMEM;
}

/* Which side of a copy failed: the image (message recorded by the core)
 * or DEST (an errno of ours). */
enum side { FROM_IMAGE, TO_DEST };

/* Copy the data of f to fd, hashing it. 0, or <0 with *side set. */
static int copy_data(struct xtract *x, struct vu_fs_file *f, int fd,
		     uint8_t hash[32], enum side *side)
{
	struct vu_sha256_ctx *h = NULL;
	uint64_t size = vu_fs_file_size(f), off = 0;
	int r = vu_sha256_new(&h);

	*side = FROM_IMAGE;
	while (r == 0 && off < size) {
		ssize_t n = vu_fs_file_read(f, x->buf, CHUNK, off);

		*side = FROM_IMAGE;
		if (n == 0)
			n = vu_fail(-EIO, "the file ends at byte %" PRIu64
				    " of %" PRIu64, off, size);
		if (n < 0) {
			r = (int)n;
			break;
		}
		*side = FROM_IMAGE;
		r = vu_sha256_update(h, x->buf, (size_t)n);
		if (r < 0)
			break;
		*side = TO_DEST;
		r = write_sparse(fd, x->buf, (size_t)n, off);
		if (r < 0)
			break;
		off += (uint64_t)n;
		x->done += (uint64_t)n;
		cli_progress_update(&x->pr, x->done);
	}
	if (r == 0) {
		*side = TO_DEST;
		if (ftruncate(fd, (off_t)size) < 0)
			r = -errno;
	}
	if (r == 0) {
		*side = FROM_IMAGE;
		r = vu_sha256_final(h, hash);
	}
	vu_sha256_free(h);
	x->done += size - off; /* the progress of a file that failed */
	return r;
}

/* Rename tmp to name: over an existing one only with --force. */
static int put_in_place(struct xtract *x, int dfd, const char *tmp,
			const char *name)
{
	if (x->force)
		return renameat(dfd, tmp, dfd, name) < 0 ? -errno : 0;
	if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* a file system without RENAME_NOREPLACE: link fails on EEXIST */
	if (linkat(dfd, tmp, dfd, name, 0) < 0)
		return -errno;
	unlinkat(dfd, tmp, 0);
	return 0;
}

static int set_times_fd(int fd, const struct vu_fs_stat *st)
{
	struct timespec t[2] = { st->atime, st->mtime };

	return futimens(fd, t) < 0 ? -errno : 0;
}

/* Report a failed step of one entry; fatal ones end everything. */
static int step_failed(struct xtract *x, enum side side, int err)
{
	if (err > 0)
		err = -err;
	if (side == FROM_IMAGE) {
		entry_failed(x, "%s; not extracted", vu_errmsg(err));
		return err == -ENOMEM ? err : 0;
	}
	entry_failed(x, "%s%s%s: %s; not extracted", x->dest,
		     x->rlen ? "/" : "", x->rel ? x->rel : "", strerror(-err));
	return fatal_errno(-err) ? vu_fail(err, "%s: %s", x->dest,
					   strerror(-err))
				 : 0;
}

/* One regular file (or one NTFS stream of it) as name in dfd. */
static int extract_file(struct xtract *x, int dfd, const char *name,
			const struct vu_fs_stat *st, const char *stream)
{
	struct vu_fs_file *f = NULL;
	enum side side = FROM_IMAGE;
	uint8_t hash[32];
	char tmp[64];
	int fd = -1, r;

	r = vu_fs_file_open(x->c->fs, st->ino, stream, &f);
	if (r < 0) {
		x->done += stream ? 0 : st->size; /* as counted at first */
		return step_failed(x, FROM_IMAGE, r);
	}
	fd = make_temp(x, dfd, tmp, sizeof(tmp));
	if (fd < 0) {
		r = -errno;
		tmp[0] = '\0';
		side = TO_DEST;
		goto out;
	}
	r = copy_data(x, f, fd, hash, &side);
	if (r < 0)
		goto out;
	side = TO_DEST;
	/* permission bits only: no set-id bits on files from an image */
	if (fchmod(fd, st->mode & 0777) < 0)
		r = -errno;
	if (r == 0)
		r = set_times_fd(fd, st);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	fd = -1;
	if (r == 0)
		r = put_in_place(x, dfd, tmp, name);
	if (r == 0)
		tmp[0] = '\0';
	if (r == 0)
		r = manifest_add(x, x->rel, hash);
	if (r == 0)
		x->files++;
out:
	if (fd >= 0)
		close(fd);
	if (r < 0 && tmp[0])
		unlinkat(dfd, tmp, 0);
	vu_fs_file_close(f);
	if (r == -ENOMEM)
		return r;
	if (r == -EEXIST)
		return exists_failed(x);
	return r < 0 ? step_failed(x, side, r) : 0;
}

/* ---- symbolic links: recreated, never followed ---- */

static int extract_link(struct xtract *x, int dfd, const char *name,
			const struct vu_fs_stat *st)
{
	size_t n = st->size < 4096 ? 4096 : (size_t)st->size + 1;
	struct timespec t[2] = { st->atime, st->mtime };
	char *target, tmp[64];
	int r;

	if (st->size > (1u << 20))
		return entry_failed(x, "symbolic link target of %" PRIu64
				    " bytes", st->size);
	target = malloc(n);
	if (!target)
		return vu_fail(-ENOMEM, "out of memory");
	r = vu_fs_readlink(x->c->fs, st->ino, target, n);
	if (r < 0) {
		free(target);
		return step_failed(x, FROM_IMAGE, r);
	}
	if (!x->force) {
		r = symlinkat(target, dfd, name) < 0 ? -errno : 0;
	} else {
		do {
			snprintf(tmp, sizeof(tmp), ".vhdunlock.%ld.%u.tmp",
				 (long)getpid(), x->tmpseq++);
			r = symlinkat(target, dfd, tmp) < 0 ? -errno : 0;
		} while (r == -EEXIST);
		if (r == 0 && renameat(dfd, tmp, dfd, name) < 0) {
			r = -errno;
			unlinkat(dfd, tmp, 0);
		}
	}
	free(target);
	if (r == 0 && utimensat(dfd, name, t, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	if (r == -EEXIST)
		return exists_failed(x);
	if (r == 0)
		x->entries++;
	return r < 0 ? step_failed(x, TO_DEST, r) : 0;
}

/* ---- directories ---- */

struct dirent_ {
	char *name;
	struct vu_fs_stat st;
};

struct dirlist {
	struct dirent_ *e;
	size_t n, cap;
};

static int dl_add(void *ctx, const char *name, const struct vu_fs_stat *st)
{
	struct dirlist *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct dirent_ *e = realloc(l->e, cap * sizeof(*e));

		if (!e)
			return vu_fail(-ENOMEM, "out of memory");
		l->e = e;
		l->cap = cap;
	}
	l->e[l->n].name = strdup(name);
	if (!l->e[l->n].name)
		return vu_fail(-ENOMEM, "out of memory");
	l->e[l->n++].st = *st;
	return 0;
}

static void dl_free(struct dirlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
}

static int dl_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dirent_ *)a)->name,
		      ((const struct dirent_ *)b)->name);
}

struct streamlist {
	char **names;
	uint64_t *sizes;
	size_t n;
};

static int sl_add(void *ctx, const char *name, uint64_t size)
{
	struct streamlist *l = ctx;
	char **nm = realloc(l->names, (l->n + 1) * sizeof(*nm));
	uint64_t *sz;

	if (!nm)
		return vu_fail(-ENOMEM, "out of memory");
	l->names = nm;
	sz = realloc(l->sizes, (l->n + 1) * sizeof(*sz));
	if (!sz)
		return vu_fail(-ENOMEM, "out of memory");
	l->sizes = sz;
	l->names[l->n] = strdup(name);
	if (!l->names[l->n])
		return vu_fail(-ENOMEM, "out of memory");
	l->sizes[l->n++] = size;
	return 0;
}

static void sl_free(struct streamlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	free(l->sizes);
}

static int is_image(const struct xtract *x, const struct stat *s)
{
	for (size_t i = 0; i < x->nimg; i++)
		if (x->img[i].st_dev == s->st_dev &&
		    x->img[i].st_ino == s->st_ino)
			return 1;
	return 0;
}

/* Is the target of the entry at hand in the way?  NULL when not, else
 * why, to follow "already exists". */
static const char *in_the_way(struct xtract *x, int root, int is_dir)
{
	struct stat s;

	if (fstatat(root, x->rel, &s, AT_SYMLINK_NOFOLLOW) < 0)
		return NULL;
	if (is_dir && S_ISDIR(s.st_mode))
		return NULL; /* merged into */
	if (is_image(x, &s))
		return " and is a file of the image itself (never replaced)";
	if (S_ISDIR(s.st_mode))
		return " as a directory (not replaced, even with --force)";
	return x->force ? NULL : "; use --force to overwrite it";
}

/* First walk: the targets in the way are counted, the first shown. */
static void check_target(struct xtract *x, int root, int is_dir)
{
	const char *why = in_the_way(x, root, is_dir);

	if (why && x->conflicts++ < SHOW_CONFLICTS)
		fprintf(stderr, "%s: %s/%s: already exists%s\n", vu_prog,
			x->dest, x->rel, why);
}

/* The files of the image chains (parents included), to refuse replacing
 * them with --force. */
static int note_images(struct xtract *x, const struct vu_disk *d)
{
	for (size_t k = 0; k < d->nimages; k++) {
		const struct vu_container_info *ci = &d->images[k].container;

		for (size_t i = 0; i < ci->chain_len; i++) {
			struct stat s, *n;

			if (stat(ci->chain[i].path, &s) < 0)
				continue;
			n = realloc(x->img, (x->nimg + 1) * sizeof(*n));
			if (!n)
				return vu_fail(-ENOMEM, "out of memory");
			x->img = n;
			x->img[x->nimg++] = s;
		}
	}
	return 0;
}

static int walk_dir(struct xtract *x, int dfd, uint64_t ino, int root);

/* NTFS named streams of a regular file, as NAME:STREAM beside it (':' is
 * not allowed in NTFS names, so these cannot clash with a file). */
static int extract_streams(struct xtract *x, int dfd, const char *name,
			   const struct vu_fs_stat *st, int root)
{
	struct streamlist sl = { 0 };
	size_t parent = x->rlen - strlen(name);
	int r = vu_fs_streams(x->c->fs, st->ino, sl_add, &sl);

	if (parent)
		parent--; /* the '/' before name */

	if (r < 0) {
		sl_free(&sl);
		if (r == -ENOMEM)
			return r;
		if (!x->prewalk)
			entry_failed(x, "cannot list its streams: %s",
				     vu_errmsg(r));
		vu_err_clear();
		return 0;
	}
	for (size_t i = 0; i < sl.n && r == 0; i++) {
		char *full;

		if (asprintf(&full, "%s:%s", name, sl.names[i]) < 0) {
			r = vu_fail(-ENOMEM, "out of memory");
			break;
		}
		pop(x, parent);
		r = push(x, full);
		if (r == 0 && bad_name(full)) {
			if (!x->prewalk)
				entry_failed(x, "stream name \"%s\" cannot be a "
					     "file name", sl.names[i]);
		} else if (r == 0 && x->prewalk) {
			x->total += sl.sizes[i];
			check_target(x, root, 0);
		} else if (r == 0) {
			r = extract_file(x, dfd, full, st, sl.names[i]);
		}
		free(full);
	}
	pop(x, parent);
	sl_free(&sl);
	return r == 0 ? push(x, name) : r;
}

static int ancestor(const struct xtract *x, uint64_t ino)
{
	for (int i = 0; i < x->depth; i++)
		if (x->anc[i] == ino)
			return 1;
	return 0;
}

/* Make (or reuse) the directory name in dfd and open it without
 * following a symbolic link put there. */
static int open_subdir(struct xtract *x, int dfd, const char *name)
{
	struct stat s;
	int fd;

	if (mkdirat(dfd, name, 0700) < 0) {
		if (errno != EEXIST)
			return -errno;
		if (fstatat(dfd, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (!S_ISDIR(s.st_mode)) {
			if (!x->force)
				return -EEXIST;
			if (unlinkat(dfd, name, 0) < 0 ||
			    mkdirat(dfd, name, 0700) < 0)
				return -errno;
		}
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* an existing directory from an earlier run may be read-only; its
	 * own mode is set again once its content is in */
	if (fchmod(fd, 0700) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* Mode and times of a directory, once its content is in. */
static int finish_dir(int fd, const struct vu_fs_stat *st)
{
	if (fchmod(fd, st->mode & 0777) < 0)
		return -errno;
	return set_times_fd(fd, st);
}

static int extract_dir(struct xtract *x, int dfd, const char *name,
		       const struct vu_fs_stat *st, int root)
{
	int fd = -1, r;

	if (x->depth >= MAX_DEPTH) {
		if (!x->prewalk)
			entry_failed(x, "more than %d directory levels; not "
				     "extracted", MAX_DEPTH);
		return 0;
	}
	if (ancestor(x, st->ino)) {
		if (!x->prewalk)
			entry_failed(x, "directory loop (inode %" PRIu64
				     " contains itself); not extracted",
				     st->ino);
		return 0;
	}
	if (!x->prewalk) {
		fd = open_subdir(x, dfd, name);
		if (fd == -EEXIST)
			return exists_failed(x);
		if (fd < 0)
			return step_failed(x, TO_DEST, fd);
	} else {
		check_target(x, root, 1);
	}
	x->anc[x->depth++] = st->ino;
	r = walk_dir(x, fd, st->ino, root);
	x->depth--;
	if (fd >= 0) {
		int e = finish_dir(fd, st);
		close(fd);
		if (r == 0 && e < 0)
			r = step_failed(x, TO_DEST, e);
		x->entries++;
	}
	return r;
}

/* One entry of a directory: name in dfd (dfd -1 during the first walk). */
static int walk_entry(struct xtract *x, int dfd, const char *name,
		      const struct vu_fs_stat *st, int root)
{
	int r = 0;

	if (!strchr(x->rel, '/') && !strcmp(name, MANIFEST)) {
		if (!x->prewalk)
			entry_failed(x, "has the name of the manifest; not "
				     "extracted (use cat for it)");
		return 0;
	}
	switch (st->mode & S_IFMT) {
	case S_IFDIR:
		return extract_dir(x, dfd, name, st, root);
	case S_IFREG:
		if (x->prewalk) {
			x->total += st->size;
			check_target(x, root, 0);
		} else {
			r = extract_file(x, dfd, name, st, NULL);
		}
		if (r == 0 && st->nstreams)
			r = extract_streams(x, dfd, name, st, root);
		return r;
	case S_IFLNK:
		if (x->prewalk)
			check_target(x, root, 0);
		else
			r = extract_link(x, dfd, name, st);
		return r;
	default:
		if (!x->prewalk) {
			x->own_warning = 1;
			vu_log(VU_LOG_WARN, "%s: %s:%s/%s: skipped: not a "
			       "regular file, directory or symbolic link "
			       "(mode %06o)", x->c->image, x->c->v->id,
			       strcmp(x->src, "/") ? x->src : "", x->rel,
			       st->mode);
			x->own_warning = 0;
			x->skipped++;
		}
		return 0;
	}
}

static int walk_dir(struct xtract *x, int dfd, uint64_t ino, int root)
{
	struct dirlist l = { 0 };
	size_t len = x->rlen;
	int r;

	r = vu_fs_readdir(x->c->fs, ino, dl_add, &l);
	if (r < 0) {
		dl_free(&l);
		if (r == -ENOMEM)
			return r;
		if (!x->prewalk)
			entry_failed(x, "cannot read the directory: %s",
				     vu_errmsg(r));
		vu_err_clear();
		return 0;
	}
	/* by name: the manifest's order does not depend on the file
	 * system's directory layout */
	if (l.n)
		qsort(l.e, l.n, sizeof(l.e[0]), dl_cmp);
	for (size_t i = 0; i < l.n && r == 0; i++) {
		r = push(x, l.e[i].name);
		if (r < 0)
			break;
		if (bad_name(l.e[i].name)) {
			/* only a damaged or forged image holds these */
			if (!x->prewalk)
				entry_failed(x, "the name \"%s\" is not allowed "
					     "in a path; not extracted",
					     l.e[i].name);
		} else {
			r = walk_entry(x, dfd, l.e[i].name, &l.e[i].st, root);
		}
		pop(x, len);
	}
	dl_free(&l);
	return r;
}

/* ---- the two cases: a tree, or one file or link ---- */

/* mkdir -p; 1 when the last component was made here. */
static int make_dest(const char *dest)
{
	char *p = strdup(dest);
	int made = 0;

	if (!p)
		return vu_fail(-ENOMEM, "out of memory");
	for (char *s = p + 1;; s++) {
		char c = *s;

		if (c && c != '/')
			continue;
		if (s[-1] == '/') { /* "a//b", "a/b/" */
			if (!c)
				break;
			continue;
		}
		*s = '\0';
		made = mkdir(p, 0700) == 0;
		if (!made && errno != EEXIST) {
			int e = errno;
			free(p);
			return vu_fail(-EIO, "%s: cannot create: %s", dest,
				       strerror(e));
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return made;
}

static int run_walks(struct xtract *x, int root, uint64_t ino)
{
	char what[600];
	int r;

	x->prewalk = 1;
	r = walk_dir(x, -1, ino, root);
	x->prewalk = 0;
	if (r < 0)
		return r;
	if (x->conflicts)
		return vu_fail(-EEXIST, "%s: %lu file%s in the way%s; nothing "
			       "extracted", x->dest, x->conflicts,
			       x->conflicts == 1 ? "" : "s",
			       x->conflicts > SHOW_CONFLICTS ? " (the first "
			       "shown above)" : " (shown above)");
	snprintf(what, sizeof(what), "%s:%s", x->c->v->id, x->src);
	cli_progress_start(&x->pr, what, x->total);
	r = walk_dir(x, root, ino, root);
	cli_progress_end(&x->pr);
	return r;
}

static int extract_tree(struct xtract *x, uint64_t ino,
			const struct vu_fs_stat *st)
{
	struct stat s;
	int made, root, r;

	if (stat(x->dest, &s) == 0 && !S_ISDIR(s.st_mode))
		return vu_fail(-ENOTDIR, "%s: exists and is not a directory",
			       x->dest);
	made = make_dest(x->dest);
	if (made < 0)
		return made;
	root = open(x->dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return vu_fail(-EIO, "%s: cannot open: %s", x->dest,
			       strerror(errno));
	x->anc[x->depth++] = ino;
	r = run_walks(x, root, ino);
	if (r == 0)
		r = write_manifest(x, root, x->dest);
	/* a DEST that was there before keeps its own mode and times */
	if (r == 0 && made && (r = finish_dir(root, st)) < 0)
		r = vu_fail(r, "%s: %s", x->dest, strerror(-r));
	close(root);
	return r;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* A file, link or stream: into DEST when it is a directory (under the
 * source's own name), else as DEST. */
static int extract_one(struct xtract *x, const struct cli_fspath *p,
		       const struct vu_fs_stat *st, const char *stream)
{
	const char *src_base = base_name(stream ? p->base : p->path), *why;
	char *dir = NULL, *name = NULL;
	struct stat s;
	int dfd = -1, r;

	if (stat(x->dest, &s) == 0 && S_ISDIR(s.st_mode)) {
		dir = strdup(x->dest);
		if (stream)
			r = asprintf(&name, "%s:%s", src_base, stream);
		else
			name = strdup(src_base), r = 0;
	} else if (x->dest[strlen(x->dest) - 1] == '/') {
		r = vu_fail(-ENOENT, "%s: no such directory", x->dest);
		goto out;
	} else {
		const char *b = base_name(x->dest);

		size_t n = (size_t)(b - x->dest);

		while (n > 1 && x->dest[n - 1] == '/') /* "a//b" */
			n--;
		dir = b == x->dest ? strdup(".") : strndup(x->dest, n);
		name = strdup(b);
		r = 0;
	}
	if (r < 0 || !dir || !name) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto out;
	}
	if (bad_name(name) || !strcmp(name, MANIFEST)) {
		r = vu_fail(-EINVAL, "%s: cannot extract to the name \"%s\"",
			    x->dest, name);
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = vu_fail(-EIO, "%s: cannot open: %s", dir, strerror(errno));
		goto out;
	}
	/* messages and the manifest name the file relative to dir */
	x->dest = dir;
	x->src = p->path;
	r = push(x, name);
	if (r < 0)
		goto out;
	why = in_the_way(x, dfd, 0);
	if (why) {
		r = vu_fail(-EEXIST, "%s/%s: already exists%s", dir, name, why);
		goto out;
	}
	x->prewalk = 1;
	if (S_ISREG(st->mode) && !stream && st->nstreams)
		r = extract_streams(x, -1, name, st, dfd);
	x->prewalk = 0;
	if (r == 0 && x->conflicts)
		r = vu_fail(-EEXIST, "%s: %lu stream file%s in the way; nothing "
			    "extracted", dir, x->conflicts,
			    x->conflicts == 1 ? "" : "s");
	if (r < 0)
		goto out;
	x->total += S_ISREG(st->mode) || stream ? st->size : 0;
	cli_progress_start(&x->pr, p->path, x->total);
	if (S_ISLNK(st->mode) && !stream)
		r = extract_link(x, dfd, name, st);
	else
		r = extract_file(x, dfd, name, st, stream);
	if (r == 0 && S_ISREG(st->mode) && !stream && st->nstreams)
		r = extract_streams(x, dfd, name, st, dfd);
	cli_progress_end(&x->pr);
	if (r == 0)
		r = write_manifest(x, dfd, dir);
out:
	if (dfd >= 0)
		close(dfd);
	free(dir);
	free(name);
	return r;
}

static int run(struct xtract *x, const struct cli_fspath *p)
{
	struct vu_fs_stat st;
	const char *stream;
	uint64_t ino;
	int r;

	r = cli_fs_resolve(x->c, p, 0, &ino, &stream, &st);
	if (r < 0)
		return r;
	x->src = p->path;
	if (S_ISDIR(st.mode) && !stream)
		return extract_tree(x, ino, &st);
	if (!S_ISREG(st.mode) && !S_ISLNK(st.mode) && !stream)
		return cli_fs_fail(x->c, p->path,
				   vu_fail(-EINVAL, "not a regular file, "
					   "directory or symbolic link"));
	if (stream) {
		struct vu_fs_file *f;

		r = cli_fs_open_data(x->c, p, ino, stream, &f);
		if (r < 0)
			return r;
		st.size = vu_fs_file_size(f);
		vu_fs_file_close(f);
	}
	return extract_one(x, p, &st, stream);
}

static const char help[] =
	"Usage: vhdunlock extract IMAGE VOLUME:PATH DEST [KEYS] [--force]\n"
	"Copy a file out of a volume's file system to DEST (into DEST when it "
	"is a\ndirectory), or a directory's whole tree into DEST (made when "
	"missing).\nModification times and permission bits are kept (set-id "
	"bits dropped),\nsymbolic links are recreated, hard links become "
	"copies, devices and fifos\nare skipped; all-zero blocks become holes.  "
	"DEST/" MANIFEST "\nlists every file copied, for sha256sum -c.\n"
	"\n"
	"  --force  overwrite existing files (never directories)\n"
	"\nKEYS:\n" CLI_KEY_HELP;

static int finish(struct xtract *x, int r)
{
	unsigned long bad = x->failed + x->core_warnings;

	if (r < 0)
		return cli_fail(r);
	vu_log(VU_LOG_INFO, "%lu file%s copied, %lu other entr%s made, %lu "
	       "skipped", x->files, x->files == 1 ? "" : "s", x->entries,
	       x->entries == 1 ? "y" : "ies", x->skipped);
	if (!bad)
		return EXIT_OK;
	fprintf(stderr, "%s: %s: %s:%s: %lu entr%s could not be extracted "
		"(see the warnings above)\n", vu_prog, x->c->image,
		x->c->v->id, x->src, bad, bad == 1 ? "y" : "ies");
	return EXIT_FAIL;
}

int cmd_extract(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		CLI_KEY_OPTIONS,
		{ 0 },
	};
	struct cli_keys keys = { 0 };
	struct cli_fspath path = { 0 };
	struct cli_fsvol c = { 0 };
	struct xtract x = { 0 };
	struct vu_disk *d = NULL;
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			x.force = 1;
			break;
		case 'h':
			fputs(help, stdout);
			cli_keys_free(&keys);
			return EXIT_OK;
		default:
			r = cli_key_option(ch, optarg, &keys);
			if (r <= 0) {
				cli_keys_free(&keys);
				return r < 0 ? cli_fail(r)
					     : cli_usage("extract: bad option");
			}
		}
	}
	if (argc - optind != 3) {
		cli_keys_free(&keys);
		return cli_usage("extract: expected IMAGE VOLUME:PATH DEST, got "
				 "%d arguments", argc - optind);
	}
	if (cli_fspath_parse(argv[optind + 1], &path) < 0) {
		r = cli_usage("extract: %s", vu_errmsg(-EINVAL));
		vu_err_clear();
		cli_keys_free(&keys);
		return r;
	}
	x.dest = argv[optind + 2];
	if (!x.dest[0]) {
		cli_fspath_free(&path);
		cli_keys_free(&keys);
		return cli_usage("extract: DEST is empty");
	}
	r = cli_open_disk(argv[optind], &keys, &d);
	if (r < 0) {
		r = cli_fail(r);
		goto out;
	}
	r = cli_fsvol_open(&c, d, argv[optind], path.vol, keys.given);
	if (r != EXIT_OK)
		goto out;
	x.c = &c;
	x.src = path.path;
	r = note_images(&x, d);
	if (r < 0) {
		r = cli_fail(r);
		goto out;
	}
	x.buf = malloc(CHUNK);
	if (!x.buf) {
		r = cli_fail(vu_fail(-ENOMEM, "out of memory"));
		goto out;
	}
	/* warnings reach count_sink even under -q, which prints only what
	 * the user asked for */
	x.log_max = log_level_now();
	vu_log_set_sink(count_sink, &x);
	if (x.log_max < VU_LOG_WARN)
		vu_log_set_level(VU_LOG_WARN);
	r = run(&x, &path);
	vu_log_set_sink(cli_log_sink, NULL);
	vu_log_set_level((enum vu_log_level)x.log_max);
	r = finish(&x, r);
out:
	for (size_t i = 0; i < x.mn; i++)
		free(x.m[i].name);
	free(x.m);
	free(x.img);
	free(x.rel);
	free(x.buf);
	cli_fsvol_close(&c);
	vu_disk_close(d);
	cli_fspath_free(&path);
	cli_keys_free(&keys);
	return r;
}
