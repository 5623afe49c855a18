/* One walk of a directory tree of the image, in name order.  extract walks
 * twice: first with nothing written (x->prewalk), counting the bytes to
 * copy and the targets in the way, then copying.  Directory loops and
 * depth are bounded, names are checked before they become paths. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/extract.h"
#include "core/log.h"

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

/* ':' is not allowed in NTFS names, so NAME:STREAM cannot clash with a
 * file. */
int extract_streams(struct xtract *x, int dfd, const char *name,
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
			extract_entry_failed(x, "cannot list its streams: %s",
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
		extract_path_pop(x, parent);
		r = extract_path_push(x, full);
		if (r == 0 && extract_bad_name(full)) {
			if (!x->prewalk)
				extract_entry_failed(x, "stream name \"%s\" "
						     "cannot be a file name",
						     sl.names[i]);
		} else if (r == 0 && x->prewalk) {
			x->total += sl.sizes[i];
			extract_check_target(x, root, 0);
		} else if (r == 0) {
			r = extract_file(x, dfd, full, st, sl.names[i]);
		}
		free(full);
	}
	extract_path_pop(x, parent);
	sl_free(&sl);
	return r == 0 ? extract_path_push(x, name) : r;
}

static int ancestor(const struct xtract *x, uint64_t ino)
{
	for (int i = 0; i < x->depth; i++)
		if (x->anc[i] == ino)
			return 1;
	return 0;
}

static int extract_dir(struct xtract *x, int dfd, const char *name,
		       const struct vu_fs_stat *st, int root)
{
	int fd = -1, r;

	if (x->depth >= MAX_DEPTH) {
		if (!x->prewalk)
			extract_entry_failed(x, "more than %d directory "
					     "levels; not extracted",
					     MAX_DEPTH);
		return 0;
	}
	if (ancestor(x, st->ino)) {
		if (!x->prewalk)
			extract_entry_failed(x, "directory loop (inode %"
					     PRIu64 " contains itself); not "
					     "extracted", st->ino);
		return 0;
	}
	if (!x->prewalk) {
		fd = extract_open_subdir(x, dfd, name);
		if (fd == -EEXIST)
			return extract_exists_failed(x);
		if (fd < 0)
			return extract_step_failed(x, TO_DEST, fd);
	} else {
		extract_check_target(x, root, 1);
	}
	x->anc[x->depth++] = st->ino;
	r = extract_walk_dir(x, fd, st->ino, root);
	x->depth--;
	if (fd >= 0) {
		int e = extract_finish_dir(fd, st);
		close(fd);
		if (r == 0 && e < 0)
			r = extract_step_failed(x, TO_DEST, e);
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
			extract_entry_failed(x, "has the name of the "
					     "manifest; not extracted (use "
					     "cat for it)");
		return 0;
	}
	switch (st->mode & S_IFMT) {
	case S_IFDIR:
		return extract_dir(x, dfd, name, st, root);
	case S_IFREG:
		if (x->prewalk) {
			x->total += st->size;
			extract_check_target(x, root, 0);
		} else {
			r = extract_file(x, dfd, name, st, NULL);
		}
		if (r == 0 && st->nstreams)
			r = extract_streams(x, dfd, name, st, root);
		return r;
	case S_IFLNK:
		if (x->prewalk)
			extract_check_target(x, root, 0);
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

int extract_walk_dir(struct xtract *x, int dfd, uint64_t ino, int root)
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
			extract_entry_failed(x, "cannot read the directory: "
					     "%s", vu_errmsg(r));
		vu_err_clear();
		return 0;
	}
	/* by name: the manifest's order does not depend on the file
	 * system's directory layout */
	if (l.n)
		qsort(l.e, l.n, sizeof(l.e[0]), dl_cmp);
	for (size_t i = 0; i < l.n && r == 0; i++) {
		r = extract_path_push(x, l.e[i].name);
		if (r < 0)
			break;
		if (extract_bad_name(l.e[i].name)) {
			/* only a damaged or forged image holds these */
			if (!x->prewalk)
				extract_entry_failed(x, "the name \"%s\" is "
						     "not allowed in a path; "
						     "not extracted",
						     l.e[i].name);
		} else {
			r = walk_entry(x, dfd, l.e[i].name, &l.e[i].st, root);
		}
		extract_path_pop(x, len);
	}
	dl_free(&l);
	return r;
}
