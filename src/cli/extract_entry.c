/* The entry extract is at: its path relative to the extraction root, the
 * check of every name the image gives it, and the warnings that name it
 * when it cannot be extracted. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/extract.h"
#include "core/log.h"

int extract_path_push(struct xtract *x, const char *name)
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

void extract_path_pop(struct xtract *x, size_t len)
{
	x->rlen = len;
	if (x->rel)
		x->rel[len] = '\0';
}

/* Hostile or damaged images could hold such names, a sound file system
 * never does. */
int extract_bad_name(const char *name)
{
	return !name[0] || !strcmp(name, ".") || !strcmp(name, "..") ||
	       strchr(name, '/');
}

/* "p1:/home/user/a.txt": the source of the entry at hand */
static void src_name(const struct xtract *x, char *out, size_t size)
{
	size_t n = strlen(x->src);
	int slash = n && x->src[n - 1] == '/';

	snprintf(out, size, "%s:%s%s%s", x->c->v->id, x->src,
		 x->rlen && !slash ? "/" : "", x->rel ? x->rel : "");
}

int extract_entry_failed(struct xtract *x, const char *fmt, ...)
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

int extract_exists_failed(struct xtract *x)
{
	return extract_entry_failed(x, "%s/%s: already exists; use --force "
				    "to overwrite it", x->dest, x->rel);
}

/* Out of space and the like: every further file would fail the same way,
 * so the extraction stops. */
static int fatal_errno(int e)
{
	return e == ENOSPC || e == EDQUOT || e == EROFS || e == ENOMEM;
}

int extract_step_failed(struct xtract *x, enum side side, int err)
{
	if (err > 0)
		err = -err;
	if (side == FROM_IMAGE) {
		extract_entry_failed(x, "%s; not extracted", vu_errmsg(err));
		return err == -ENOMEM ? err : 0;
	}
	extract_entry_failed(x, "%s%s%s: %s; not extracted", x->dest,
			     x->rlen ? "/" : "", x->rel ? x->rel : "",
			     strerror(-err));
	return fatal_errno(-err) ? vu_fail(err, "%s: %s", x->dest,
					   strerror(-err))
				 : 0;
}
