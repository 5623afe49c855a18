/* What stands in DEST already where extract is to write: a file from an
 * earlier run (replaced only with --force), a directory (merged into, or
 * never replaced by a file), or one of the image's own files (never
 * replaced). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cli/extract.h"

int extract_note_images(struct xtract *x, const struct vu_disk *d)
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

static int is_image(const struct xtract *x, const struct stat *s)
{
	for (size_t i = 0; i < x->nimg; i++)
		if (x->img[i].st_dev == s->st_dev &&
		    x->img[i].st_ino == s->st_ino)
			return 1;
	return 0;
}

const char *extract_in_the_way(struct xtract *x, int root, int is_dir)
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

void extract_check_target(struct xtract *x, int root, int is_dir)
{
	const char *why = extract_in_the_way(x, root, is_dir);

	if (why && x->conflicts++ < SHOW_CONFLICTS)
		fprintf(stderr, "%s: %s/%s: already exists%s\n", vu_prog,
			x->dest, x->rel, why);
}
