/* NTFS (see fs_ntfs.c for what the interface shows and why these are
 * our own code). File data: plain extents read by fs.c without the lock, resident data
 * copied at open, LZNT1-compressed streams through libfsntfs (opened
 * lazily), and the reparse points whose data is not on the volume. */
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

/* ---- file data ---- */

struct ntfs_handle {
	uint64_t ino;
	uint8_t *res;		/* resident data */
	libfsntfs_file_entry_t *fe;
	libfsntfs_data_stream_t *ds;	/* a named stream, else fe's data */
};

/* What a reparse point means for the content of the main stream. */
static int reparse_refuses(struct vu_fs *fs, const struct ntfs_inode *in)
{
	static const struct {
		uint32_t tag;
		const char *what;
	} held[] = {
		{ IO_REPARSE_TAG_WOF, "compressed by the Windows Overlay "
		  "Filter (WOF: compact.exe, CompactOS)" },
		{ IO_REPARSE_TAG_DEDUP, "held in the Data Deduplication chunk "
		  "store" },
		{ IO_REPARSE_TAG_SIS, "held in the single-instance store" },
		{ IO_REPARSE_TAG_HSM, "moved out by hierarchical storage" },
		{ IO_REPARSE_TAG_HSM2, "moved out by hierarchical storage" },
	};
	uint32_t tag = in->tag;
	uint32_t fa = ntfs_file_attrs(in);

	for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		if (tag == held[i].tag)
			return fs_fail(fs, -ENOTSUP, "inode %" PRIu64 ": content "
				       "%s (reparse tag 0x%08x), not read",
				       in->ino, held[i].what, tag);
	if ((tag & IO_REPARSE_TAG_CLOUD_MASK) == IO_REPARSE_TAG_CLOUD &&
	    (fa & (FILE_ATTR_OFFLINE | FILE_ATTR_RECALL_ON_DATA_ACCESS)))
		return fs_fail(fs, -ENOTSUP, "inode %" PRIu64 ": content is in "
			       "the cloud, not on this volume (OneDrive "
			       "placeholder, reparse tag 0x%08x)", in->ino, tag);
	return 0;
}

void ntfs_lib_close(struct ntfs *x)
{
	libfsntfs_error_t *err = NULL;

	if (x->lib) {
		if (libfsntfs_volume_close(x->lib, &err) != 0)
			libfsntfs_error_free(&err);
		if (libfsntfs_volume_free(&x->lib, &err) != 1)
			libfsntfs_error_free(&err);
	}
	x->lib = NULL;
	vu_bfio_free(&x->bfio);
}

static int lib_fail(struct vu_fs *fs, libfsntfs_error_t **err,
		    const char *fmt, ...) VU_PRINTF(3, 4);

/* Our read error if the library failed on one, else its own reason. */
static int lib_fail(struct vu_fs *fs, libfsntfs_error_t **err,
		    const char *fmt, ...)
{
	char what[512], why[512];
	va_list ap;
	int r = 0;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (N(fs)->bfio)
		r = vu_bfio_take_error(N(fs)->bfio);
	if (!r)
		r = vu_yal_errno(*err);
	vu_yal_message(*err, why, sizeof(why));
	libfsntfs_error_free(err);
	return fs_fail(fs, r, "%s: libfsntfs: %s", what,
		       why[0] ? why : "failed");
}

/* libfsntfs on this volume, opened the first time it is needed. */
static int lib_open(struct vu_fs *fs)
{
	struct ntfs *x = N(fs);
	libfsntfs_error_t *err = NULL;
	int r;

	if (x->lib)
		return 0;
	if (x->lib_err)
		return vu_fail(x->lib_err, "%s", x->lib_why);
	r = vu_bfio_new(fs->vol, &x->bfio);
	if (r < 0)
		return r;
	if (libfsntfs_volume_initialize(&x->lib, &err) != 1) {
		x->lib = NULL;
		r = lib_fail(fs, &err, "compressed data");
		goto fail;
	}
	/* the library opens the handle (it reports closed until then) */
	if (libfsntfs_volume_open_file_io_handle(x->lib, x->bfio,
						 LIBFSNTFS_OPEN_READ,
						 &err) != 1) {
		libfsntfs_volume_free(&x->lib, NULL);
		x->lib = NULL;
		r = lib_fail(fs, &err, "compressed data: cannot open the "
			     "volume");
		goto fail;
	}
	return 0;
fail:
	if (r != -ENOMEM && r != -EIO) {
		x->lib_err = r;
		snprintf(x->lib_why, sizeof(x->lib_why), "%s", vu_errmsg(r));
	}
	ntfs_lib_close(x);
	return r;
}

static void handle_free(struct ntfs_handle *h)
{
	libfsntfs_error_t *err = NULL;

	if (!h)
		return;
	if (h->ds && libfsntfs_data_stream_free(&h->ds, &err) != 1)
		libfsntfs_error_free(&err);
	if (h->fe && libfsntfs_file_entry_free(&h->fe, &err) != 1)
		libfsntfs_error_free(&err);
	free(h->res);
	free(h);
}

/* The stream named like a of ino through libfsntfs. */
static int lib_stream(struct vu_fs *fs, const struct ntfs_inode *in,
		      const struct ntfs_attr *a, uint64_t size,
		      struct ntfs_handle *h)
{
	const struct ntfs *x = N(fs);
	libfsntfs_error_t *err = NULL;
	char want[NTFS_NAME_MAX], got[NTFS_NAME_MAX];
	size64_t lsize = 0;
	int n = 0, r;

	r = lib_open(fs);
	if (r < 0)
		return r;
	if (libfsntfs_volume_get_file_entry_by_index(x->lib, in->ino, &h->fe,
						     &err) != 1) {
		h->fe = NULL;
		return lib_fail(fs, &err, "inode %" PRIu64, in->ino);
	}
	if (!a->name_len) {
		if (libfsntfs_file_entry_get_size(h->fe, &lsize, &err) != 1)
			return lib_fail(fs, &err, "inode %" PRIu64, in->ino);
		goto check;
	}
	ntfs_disk_name(x, a->name, a->name_len, want, NULL, sizeof(want));
	if (libfsntfs_file_entry_get_number_of_alternate_data_streams(
		    h->fe, &n, &err) != 1)
		return lib_fail(fs, &err, "inode %" PRIu64, in->ino);
	for (int i = 0; i < n && !h->ds; i++) {
		uint16_t u[NTFS_NAME_UNITS + 1];
		size_t len = 0;

		if (libfsntfs_file_entry_get_alternate_data_stream_by_index(
			    h->fe, i, &h->ds, &err) != 1)
			return lib_fail(fs, &err, "inode %" PRIu64 ": stream %d",
					in->ino, i);
		/* the size counts the terminating NUL */
		if (libfsntfs_data_stream_get_utf16_name_size(h->ds, &len,
							      &err) != 1 ||
		    len < 2 || len > NTFS_NAME_UNITS + 1 ||
		    libfsntfs_data_stream_get_utf16_name(h->ds, u, len,
							 &err) != 1) {
			libfsntfs_error_free(&err); /* not this one */
			got[0] = '\0';
		} else {
			ntfs_units_to_utf8(u, len - 1, got, sizeof(got));
		}
		if (strcmp(got, want))
			libfsntfs_data_stream_free(&h->ds, NULL);
	}
	if (!h->ds)
		return fs_fail(fs, -EUCLEAN, "inode %" PRIu64 ": libfsntfs "
			       "does not find stream \"%s\"", in->ino, want);
	if (libfsntfs_data_stream_get_size(h->ds, &lsize, &err) != 1)
		return lib_fail(fs, &err, "inode %" PRIu64, in->ino);
check:
	if (lsize != size)
		return fs_fail(fs, -EUCLEAN, "inode %" PRIu64 ": libfsntfs "
			       "reads %" PRIu64 " bytes, the record says %"
			       PRIu64, in->ino, (uint64_t)lsize, size);
	return 0;
}

/* The $DATA attribute of stream (NULL: the main one), exactly or after
 * folding. */
static const struct ntfs_attr *data_attr(const struct ntfs *x,
					 const struct ntfs_inode *in,
					 const char *stream)
{
	char fold[NTFS_NAME_MAX];

	for (int pass = 0; pass < (stream ? 2 : 1); pass++) {
		if (pass)
			ntfs_fold_utf8(x, stream, fold, sizeof(fold));
		if (pass && !fold[0])
			break;
		for (size_t i = 0; i < in->na; i++) {
			const struct ntfs_attr *a = &in->a[i];

			if (a->type == AT_DATA && (!a->nonres || !a->lowest) &&
			    ntfs_attr_named(x, a, stream, pass ? fold : NULL))
				return a;
		}
	}
	return NULL;
}

static int has_wof_stream(const struct ntfs_inode *in)
{
	static const char wof[] = "WofCompressedData";

	for (size_t i = 0; i < in->na; i++) {
		const struct ntfs_attr *a = &in->a[i];
		size_t k;

		if (a->type != AT_DATA || a->name_len != sizeof(wof) - 1)
			continue;
		for (k = 0; k < sizeof(wof) - 1; k++)
			if (vu_le16(a->name + 2 * k) != (uint8_t)wof[k])
				break;
		if (k == sizeof(wof) - 1)
			return 1;
	}
	return 0;
}

int ntfs_data_open(struct vu_fs *fs, uint64_t ino, const char *stream,
		   struct fs_data *d)
{
	const struct ntfs *x = N(fs);
	const struct ntfs_attr *a;
	struct ntfs_stream s = { 0 };
	struct ntfs_handle *h = NULL;
	struct ntfs_inode in;
	uint32_t mode;
	int r;

	r = ntfs_inode_get(fs, ino, &in);
	if (r < 0)
		return r;
	mode = ntfs_inode_mode(&in);
	if (!stream && S_ISDIR(mode)) {
		r = fs_fail(fs, -EISDIR, "inode %" PRIu64 " is a directory",
			    ino);
		goto out;
	}
	if (!stream && !S_ISREG(mode)) {
		r = fs_fail(fs, -EINVAL, "inode %" PRIu64 " is not a regular "
			    "file", ino);
		goto out;
	}
	if (!stream && (r = reparse_refuses(fs, &in)) < 0)
		goto out;
	a = data_attr(x, &in, stream);
	if (!a) {
		r = stream ? fs_fail(fs, -ENOENT, "inode %" PRIu64 ": no "
				     "stream \"%s\"", ino, stream)
			   : fs_fail(fs, -EUCLEAN, "inode %" PRIu64 ": no "
				     "$DATA attribute", ino);
		goto out;
	}
	if ((a->flags & ATTR_FLAG_ENCRYPTED) ||
	    (!stream && (ntfs_file_attrs(&in) & FILE_ATTR_ENCRYPTED))) {
		r = fs_fail(fs, -ENOTSUP, "inode %" PRIu64 ": content "
			    "encrypted with EFS, not read", ino);
		goto out;
	}
	if (!a->nonres) {
		h = calloc(1, sizeof(*h));
		if (!h || !(h->res = malloc(a->value_len ? a->value_len : 1))) {
			r = vu_fail(-ENOMEM, "out of memory");
			goto out;
		}
		memcpy(h->res, a->value, a->value_len);
		h->ino = ino;
		d->size = a->value_len;
		d->use_read = 1;
		d->handle = h; /* transferred */
		h = NULL;
		goto out;
	}
	r = ntfs_stream_get(fs, &in, AT_DATA, a, &s);
	if (r < 0)
		goto out;
	if (!(a->flags & ATTR_FLAG_COMPRESSED)) {
		r = ntfs_stream_map(fs, &in, &s, d);
		goto out;
	}
	/* compressed: libfsntfs decompresses, under the lock */
	if (a->size > a->alloc || a->size > INT64_MAX || !a->cu_shift) {
		r = fs_fail(fs, -EUCLEAN, "inode %" PRIu64 ": compressed data "
			    "of %" PRIu64 " bytes in %" PRIu64 " allocated",
			    ino, a->size, a->alloc);
		goto out;
	}
	if (has_wof_stream(&in)) { /* libfsntfs reads its reparse point */
		r = fs_fail(fs, -ENOTSUP, "inode %" PRIu64 ": compressed by "
			    "the Windows Overlay Filter (WOF), not read", ino);
		goto out;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto out;
	}
	h->ino = ino;
	r = lib_stream(fs, &in, a, a->size, h);
	if (r < 0)
		goto out;
	d->size = a->size;
	d->use_read = 1;
	d->handle = h; /* transferred */
	h = NULL;
out:
	handle_free(h);
	free(s.c);
	ntfs_inode_free(&in);
	return r;
}

ssize_t ntfs_data_read(struct vu_fs *fs, void *handle, void *buf,
		       size_t len, uint64_t off)
{
	struct ntfs_handle *h = handle;
	libfsntfs_error_t *err = NULL;
	ssize_t n;

	if (h->res) { /* fs.c keeps off + len within the size */
		memcpy(buf, h->res + off, len);
		return (ssize_t)len;
	}
	if (len > 1u << 30)
		len = 1u << 30;
	if (h->ds)
		n = libfsntfs_data_stream_read_buffer_at_offset(h->ds, buf, len,
								(off64_t)off,
								&err);
	else
		n = libfsntfs_file_entry_read_buffer_at_offset(h->fe, buf, len,
							       (off64_t)off,
							       &err);
	if (n < 0)
		return lib_fail(fs, &err, "inode %" PRIu64 ": compressed data "
				"at %" PRIu64, h->ino, off);
	return n;
}

void ntfs_data_close(struct vu_fs *fs, void *handle)
{
	(void)fs;
	handle_free(handle);
}
