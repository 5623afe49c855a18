/* The registry of encryption schemes, and the helpers their unlock
 * operations share for building the messages of keys that failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk/disk_int.h"

/* One line per scheme: add_volume and vu_volume_encrypted look here. */
static const struct vu_crypt_ops *const schemes[] = {
	&vu_crypt_bitlocker,
	&vu_crypt_luks,
};

const struct vu_crypt_ops *vu_crypt_for_kind(enum vu_kind kind)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (schemes[i]->claims(kind))
			return schemes[i];
	return NULL;
}

void disk_note(char **acc, const char *msg)
{
	size_t old = *acc ? strlen(*acc) : 0, n = old + strlen(msg) + 3;
	char *s = realloc(*acc, n);

	if (!s)
		return;
	snprintf(s + old, n - old, "%s%s", old ? "; " : "", msg);
	*acc = s;
}

int disk_tried(int r, char **why)
{
	if (r == -EPERM || r == -ENOKEY || r == -EINVAL || r == -EUCLEAN) {
		disk_note(why, vu_errmsg(r));
		vu_err_clear();
		return 0;
	}
	return r;
}

void disk_set_lock_error(char **dst, const char *fmt, const char *id,
			 const char *what, const char *list, const char *why)
{
	free(*dst);
	*dst = malloc(2048);
	if (*dst)
		snprintf(*dst, 2048, fmt, id, what, list[0] ? "; " : "",
			 list[0] ? list : "", why ? ": " : "", why ? why : "");
}
