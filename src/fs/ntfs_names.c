/* NTFS (see fs_ntfs.c for what the interface shows and why these are
 * our own code). File names: UTF-16 to UTF-8 (WTF-8 for lone surrogates) and back, and
 * case folding with the volume's $UpCase. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libfsntfs.h>

#include "core/blk.h"
#include "core/bytes.h"
#include "core/error.h"
#include "core/log.h"
#include "core/utf16.h"
#include "fs/fs_backend.h"
#include "fs/fs_bfio.h"
#include "fs/ntfs_int.h"

/* ---- names ---- */

/* UTF-16 units (host order) to UTF-8, lone surrogates kept. */
void ntfs_units_to_utf8(const uint16_t *u, size_t n, char *out,
			size_t size)
{
	uint8_t le[2 * NTFS_NAME_UNITS];

	if (n > NTFS_NAME_UNITS)
		n = NTFS_NAME_UNITS;
	for (size_t i = 0; i < n; i++) {
		le[2 * i] = (uint8_t)u[i];
		le[2 * i + 1] = (uint8_t)(u[i] >> 8);
	}
	vu_utf16_to_utf8(le, n, VU_UTF16_KEEP_LONE, out, size);
}

/* UTF-8 (surrogates encoded on their own accepted) to UTF-16 units: the
 * count, or -1 when the string is not that or too long. */
static int utf8_to_units(const char *s, uint16_t *u, size_t max)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = 0;

	while (*p) {
		uint32_t cp;
		unsigned more;

		if (*p < 0x80) {
			cp = *p;
			more = 0;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = *p & 0x1f;
			more = 1;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			more = 2;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p & 0x07;
			more = 3;
		} else {
			return -1;
		}
		p++;
		for (unsigned i = 0; i < more; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (*p & 0x3f);
		}
		if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) ||
		    (more == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return -1;
		if (cp >= 0x10000) {
			if (n + 2 > max)
				return -1;
			u[n++] = (uint16_t)(0xd800 + ((cp - 0x10000) >> 10));
			u[n++] = (uint16_t)(0xdc00 + ((cp - 0x10000) & 0x3ff));
		} else {
			if (n + 1 > max)
				return -1;
			u[n++] = (uint16_t)cp;
		}
	}
	return (int)n;
}

static void fold_units(const struct ntfs *x, uint16_t *u, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (x->upcase)
			u[i] = x->upcase[u[i]];
		else if (u[i] >= 'a' && u[i] <= 'z')
			u[i] = (uint16_t)(u[i] - 'a' + 'A');
	}
}

/* A UTF-8 name with its case folded, or "" when it cannot be. */
void ntfs_fold_utf8(const struct ntfs *x, const char *s, char *out,
		    size_t size)
{
	uint16_t u[NTFS_NAME_UNITS];
	int n = utf8_to_units(s, u, NTFS_NAME_UNITS);

	out[0] = '\0';
	if (n <= 0)
		return;
	fold_units(x, u, (size_t)n);
	ntfs_units_to_utf8(u, (size_t)n, out, size);
}

/* An on-disk UTF-16LE name as UTF-8, and folded; -1 when it holds a NUL
 * or is too long. */
int ntfs_disk_name(const struct ntfs *x, const uint8_t *le, size_t n,
		   char *name, char *fold, size_t size)
{
	uint16_t u[NTFS_NAME_UNITS];

	if (!n || n > NTFS_NAME_UNITS)
		return -1;
	for (size_t i = 0; i < n; i++) {
		u[i] = vu_le16(le + 2 * i);
		if (!u[i])
			return -1;
	}
	ntfs_units_to_utf8(u, n, name, size);
	if (fold) {
		fold_units(x, u, n);
		ntfs_units_to_utf8(u, n, fold, size);
	}
	return 0;
}

/* Whether attribute a is named name (NULL: unnamed), exactly or, with
 * folded set, after folding (fold: name folded). */
int ntfs_attr_named(const struct ntfs *x, const struct ntfs_attr *a,
		    const char *name, const char *fold)
{
	char n[NTFS_NAME_MAX], f[NTFS_NAME_MAX];

	if (!name)
		return a->name_len == 0;
	if (!a->name_len ||
	    ntfs_disk_name(x, a->name, a->name_len, n, fold ? f : NULL,
			   sizeof(n)) < 0)
		return 0;
	return fold ? !strcmp(f, fold) : !strcmp(n, name);
}
