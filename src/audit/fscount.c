/* How much of a plain file system anyone can read: its files and
 * directories, counted by walking it (without following links). */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "audit/audit_int.h"
#include "core/error.h"
#include "fs/fs.h"

/* A damaged file system must not make the walk endless. */
#define MAX_ENTRIES 50000000ULL

struct walk {
	uint64_t *dirs_todo;
	size_t ntodo, cap;
	uint64_t files, dirs, seen;
};

static int visit(void *ctx, const char *name, const struct vu_fs_stat *st)
{
	struct walk *w = ctx;

	(void)name;
	if (++w->seen > MAX_ENTRIES)
		return 1;
	if (S_ISREG(st->mode)) {
		w->files++;
	} else if (S_ISDIR(st->mode)) {
		w->dirs++;
		if (w->ntodo == w->cap) {
			size_t cap = w->cap ? w->cap * 2 : 256;
			uint64_t *t = realloc(w->dirs_todo, cap * sizeof(*t));
			if (!t)
				return -ENOMEM;
			w->dirs_todo = t;
			w->cap = cap;
		}
		w->dirs_todo[w->ntodo++] = st->ino;
	}
	return 0;
}

int audit_count_files(struct vu_blk *b, enum vu_kind kind, uint64_t *files,
		      uint64_t *dirs)
{
	struct walk w = { 0 };
	struct vu_fs *fs;
	int r;

	*files = *dirs = 0;
	r = vu_fs_open(b, kind, &fs);
	if (r < 0)
		return r;
	r = visit(&w, "/", &(struct vu_fs_stat){ .ino = vu_fs_root(fs),
						 .mode = S_IFDIR });
	w.dirs = 0; /* the root is not counted */
	while (r == 0 && w.ntodo) {
		uint64_t dir = w.dirs_todo[--w.ntodo];

		r = vu_fs_readdir(fs, dir, visit, &w);
		if (r > 0)
			r = 0; /* the cap: stop counting there */
		if (r == -ENOMEM)
			r = vu_fail(-ENOMEM, "out of memory");
		else if (r < 0) {
			/* a damaged directory: count what the others hold */
			vu_err_clear();
			r = 0;
		}
		if (w.seen > MAX_ENTRIES)
			break;
	}
	free(w.dirs_todo);
	vu_fs_close(fs);
	*files = w.files;
	*dirs = w.dirs;
	return r;
}
