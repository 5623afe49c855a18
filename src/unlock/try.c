/* The key-trying half of each encryption scheme, found from the
 * scheme the disk model opened the volume with, and the helpers the
 * schemes share for building the messages of keys that failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unlock/unlock_int.h"

/* One line per scheme of disk/crypt.c that keys unlock. */
static const struct unlock_scheme *const schemes[] = {
	&unlock_bitlocker,
	&unlock_luks,
};

const struct unlock_scheme *unlock_scheme_of(const struct vu_crypt_ops *crypt)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (schemes[i]->crypt == crypt)
			return schemes[i];
	return NULL;
}

void unlock_note(char **acc, const char *msg)
{
	size_t old = *acc ? strlen(*acc) : 0, n = old + strlen(msg) + 3;
	char *s = realloc(*acc, n);

	if (!s)
		return;
	snprintf(s + old, n - old, "%s%s", old ? "; " : "", msg);
	*acc = s;
}

int unlock_tried(int r, char **why)
{
	if (r == -EPERM || r == -ENOKEY || r == -EINVAL || r == -EUCLEAN) {
		unlock_note(why, vu_errmsg(r));
		vu_err_clear();
		return 0;
	}
	return r;
}

void unlock_set_lock_error(char **dst, const char *fmt, const char *id,
			   const char *what, const char *list, const char *why)
{
	free(*dst);
	*dst = malloc(2048);
	if (*dst)
		snprintf(*dst, 2048, fmt, id, what, list[0] ? "; " : "",
			 list[0] ? list : "", why ? ": " : "", why ? why : "");
}
