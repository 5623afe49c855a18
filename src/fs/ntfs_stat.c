/* NTFS (see fs_ntfs.c for what the interface shows and why these are
 * our own code). What stat shows of a file (times, synthesised modes, link counts), and
 * symbolic links and junctions as POSIX link targets. */
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

/* ---- stat ---- */

static struct timespec nt_time(const uint8_t *p)
{
	uint64_t ft = vu_le64(p);
	struct timespec ts;

	ts.tv_sec = (time_t)(int64_t)(ft / 10000000u) - NTFS_EPOCH_SECS;
	ts.tv_nsec = (long)(ft % 10000000u) * 100;
	return ts;
}

static int is_link_tag(uint32_t tag)
{
	return tag == IO_REPARSE_TAG_SYMLINK ||
	       tag == IO_REPARSE_TAG_MOUNT_POINT;
}

uint32_t ntfs_file_attrs(const struct ntfs_inode *in)
{
	const struct ntfs_attr *si = ntfs_attr_find(in, AT_STANDARD_INFORMATION,
						    NULL);

	return si && !si->nonres && si->value_len >= SI_MIN ?
	       vu_le32(si->value + SI_FILE_ATTRS) : 0;
}

uint32_t ntfs_inode_mode(const struct ntfs_inode *in)
{
	if (is_link_tag(in->tag))
		return S_IFLNK | 0777;
	if (in->rflags & MFT_FLAG_DIRECTORY)
		return S_IFDIR | 0555;
	return S_IFREG | 0444;
}

static int link_target(struct vu_fs *fs, const struct ntfs_inode *in,
		       char **out);

int ntfs_inode_stat(struct vu_fs *fs, const struct ntfs_inode *in,
		    struct vu_fs_stat *st)
{
	const struct ntfs_attr *si = ntfs_attr_find(in, AT_STANDARD_INFORMATION,
						    NULL);
	const struct ntfs_attr *data, *a;
	uint32_t fa;

	memset(st, 0, sizeof(*st));
	if (!si || si->nonres || si->value_len < SI_MIN)
		return fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64 ": no "
			       "$STANDARD_INFORMATION", in->ino);
	st->ino = in->ino;
	st->mode = ntfs_inode_mode(in);
	st->btime = nt_time(si->value + SI_CREATION);
	st->has_btime = 1;
	st->mtime = nt_time(si->value + SI_MODIFICATION);
	st->ctime = nt_time(si->value + SI_MFT_CHANGE);
	st->atime = nt_time(si->value + SI_ACCESS);
	fa = vu_le32(si->value + SI_FILE_ATTRS);
	for (size_t i = 0; i < in->na; i++) {
		a = &in->a[i];
		if (a->type == AT_FILE_NAME && !a->nonres &&
		    a->value_len > FN_NAMESPACE &&
		    a->value[FN_NAMESPACE] != FN_NS_DOS)
			st->nlink++;
		if (a->type == AT_DATA && a->name_len &&
		    (!a->nonres || !a->lowest))
			st->nstreams++;
	}
	if (!st->nlink)
		st->nlink = 1;
	data = ntfs_attr_find(in, AT_DATA, NULL);
	if (S_ISDIR(st->mode)) {
		data = ntfs_attr_find(in, AT_INDEX_ALLOCATION, "$I30");
		if (!data)
			data = ntfs_attr_find(in, AT_INDEX_ROOT, "$I30");
	}
	if (data && data->nonres) {
		st->size = data->size;
		st->blocks = (data->comp + 511) / 512;
	} else if (data) {
		st->size = data->value_len;
	}
	/* ntfs-3g leaves these out of $STANDARD_INFORMATION */
	if (data && (data->flags & ATTR_FLAG_COMPRESSED))
		fa |= FILE_ATTR_COMPRESSED;
	if (data && (data->flags & ATTR_FLAG_SPARSE))
		fa |= FILE_ATTR_SPARSE;
	if (data && (data->flags & ATTR_FLAG_ENCRYPTED))
		fa |= FILE_ATTR_ENCRYPTED;
	if (S_ISLNK(st->mode)) {
		char *t = NULL;
		int had = vu_err_isset();

		/* a damaged target shows as an empty one; readlink says why */
		if (link_target(fs, in, &t) < 0 && !had)
			vu_err_clear();
		st->size = t ? strlen(t) : 0;
		st->blocks = 0;
		free(t);
	}
	if (fa & FILE_ATTR_COMPRESSED)
		st->flags |= VU_FS_F_COMPRESSED;
	if (fa & FILE_ATTR_SPARSE)
		st->flags |= VU_FS_F_SPARSE;
	if (fa & FILE_ATTR_REPARSE || ntfs_attr_find(in, AT_REPARSE_POINT, NULL))
		st->flags |= VU_FS_F_REPARSE;
	if (fa & FILE_ATTR_ENCRYPTED)
		st->flags |= VU_FS_F_ENCRYPTED;
	return 0;
}

/* Records 0 to 15 but the root are not shown. */
int ntfs_check_ino(struct vu_fs *fs, uint64_t ino)
{
	if ((ino < MFT_REC_RESERVED_END && ino != MFT_REC_ROOT) ||
	    ino > MFT_REF_INDEX(UINT64_MAX))
		return fs_fail(fs, -ENOENT, "inode %" PRIu64 " is not a file "
			       "shown (NTFS metadata file or out of range)",
			       ino);
	return 0;
}

int ntfs_inode_get(struct vu_fs *fs, uint64_t ino, struct ntfs_inode *in)
{
	int r = ntfs_check_ino(fs, ino);

	return r < 0 ? r : ntfs_inode_load(fs, ino, in);
}

int ntfs_getattr(struct vu_fs *fs, uint64_t ino, struct vu_fs_stat *st)
{
	struct ntfs_inode in;
	int r;

	r = ntfs_inode_get(fs, ino, &in);
	if (r < 0)
		return r;
	r = ntfs_inode_stat(fs, &in, st);
	ntfs_inode_free(&in);
	return r;
}

/* ---- symbolic links ---- */

/* The substitute name of a symlink or junction (UTF-8, '\' already made
 * '/') as a POSIX path (see the top of this file): a new string. */
static char *map_target(const char *t)
{
	const char *p = t, *pre = "";
	char drive[8];
	char *out;

	if (!strncmp(p, "/\?\?/", 4)) {
		p += 4;
		if (((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z') &&
		    p[1] == ':' && (p[2] == '/' || !p[2])) {
			if ((p[0] | 0x20) == 'c') {
				pre = "/";
			} else {
				snprintf(drive, sizeof(drive), "/mnt/%c/",
					 p[0] | 0x20);
				pre = drive;
			}
			p += p[2] ? 3 : 2;
		} else if (!strncmp(p, "UNC/", 4)) {
			pre = "//";
			p += 4;
		} else {
			pre = "/mnt/";
		}
	}
	out = malloc(strlen(pre) + strlen(p) + 1);
	if (out) {
		strcpy(out, pre);
		strcat(out, p);
	}
	return out;
}

/* The target of a symbolic link or junction, as a new string. */
static int link_target(struct vu_fs *fs, const struct ntfs_inode *in,
		       char **out)
{
	const struct ntfs_attr *rp = ntfs_attr_find(in, AT_REPARSE_POINT, NULL);
	uint8_t *v = NULL;
	char *name = NULL;
	uint32_t vlen = 0, dlen, path, so, sl, po, pl;
	size_t units;
	int r;

	*out = NULL;
	if (!rp)
		return fs_fail(fs, -EINVAL, "inode %" PRIu64 " has no reparse "
			       "point", in->ino);
	r = ntfs_attr_value(fs, in, rp, NTFS_REPARSE_MAX, &v, &vlen);
	if (r < 0)
		return r;
	r = -EUCLEAN;
	if (vlen < RP_HDR)
		goto bad;
	dlen = vu_le16(v + RP_DATA_LEN);
	path = vu_le32(v + RP_TAG) == IO_REPARSE_TAG_SYMLINK ?
	       RP_SYMLINK_PATH : RP_JUNCTION_PATH;
	if (dlen > vlen - RP_HDR || RP_HDR + dlen < path)
		goto bad;
	so = vu_le16(v + RP_SUBST_OFS);
	sl = vu_le16(v + RP_SUBST_LEN);
	po = vu_le16(v + RP_PRINT_OFS);
	pl = vu_le16(v + RP_PRINT_LEN);
	dlen -= path - RP_HDR; /* the path buffer */
	if (so > dlen || sl > dlen - so || po > dlen || pl > dlen - po ||
	    sl % 2 || pl % 2)
		goto bad;
	if (!sl) { /* no substitute name: the print name */
		so = po;
		sl = pl;
	}
	units = sl / 2;
	if (!units)
		goto bad;
	for (size_t i = 0; i < units; i++)
		if (!vu_le16(v + path + so + 2 * i))
			goto bad;
	name = malloc(units * 3 + 1);
	if (!name) {
		free(v);
		return vu_fail(-ENOMEM, "out of memory");
	}
	vu_utf16_to_utf8(v + path + so, units, VU_UTF16_KEEP_LONE, name,
			 units * 3 + 1);
	for (char *c = name; *c; c++)
		if (*c == '\\')
			*c = '/';
	*out = map_target(name);
	free(name);
	free(v);
	if (!*out)
		return vu_fail(-ENOMEM, "out of memory");
	return 0;
bad:
	free(v);
	return fs_fail(fs, r, "MFT record %" PRIu64 ": damaged reparse point "
		       "(%u bytes)", in->ino, vlen);
}

int ntfs_readlink(struct vu_fs *fs, uint64_t ino, char *buf,
		  size_t size)
{
	struct ntfs_inode in;
	char *t = NULL;
	int r;

	r = ntfs_inode_get(fs, ino, &in);
	if (r < 0)
		return r;
	if (!S_ISLNK(ntfs_inode_mode(&in)))
		r = fs_fail(fs, -EINVAL, "inode %" PRIu64 " is not a symbolic "
			    "link", ino);
	else
		r = link_target(fs, &in, &t);
	ntfs_inode_free(&in);
	if (r < 0)
		return r;
	if (strlen(t) + 1 > size)
		r = fs_fail(fs, -ERANGE, "symbolic link %" PRIu64 ": target "
			    "of %zu bytes, buffer of %zu", ino, strlen(t),
			    size);
	else
		memcpy(buf, t, strlen(t) + 1);
	free(t);
	return r;
}
