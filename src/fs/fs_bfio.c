/* libbfio handle over a struct vu_blk (see fs_bfio.h).
 *
 * Which libbfio this is: libvhdi and libvslvm are not linked into this
 * project (we have our own VHD/VHDX and LVM readers), so the only libbfio
 * in the process is Debian's libbfio.so.1 (20170123), the one libfsxfs,
 * libfsext and libfsntfs are linked against; the private libbfio copies
 * that DESIGN.md warns about ("Known traps") never come in.  Keep it that
 * way: linking libvhdi or libvslvm into libvhdunlock.a brings the trap
 * back.  (The libyal libraries also each export their bundled libcdata,
 * libcerror, libuna ... copies; all calls bind to the first one loaded,
 * which is consistent, and the suite runs under ASan.) */
#include "fs/fs_bfio.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* Exported by every libyal library, which all bundle libcerror; the
 * public headers only declare the domain and code values. */
extern int libcerror_error_matches(intptr_t *error, int domain, int code);

struct bfio_io {
	struct vu_blk *vol;	/* reference held */
	uint64_t pos;		/* this handle's cursor */
	int is_open;
	int err;		/* errno of the last failed read */
};

static int io_free(intptr_t **io_handle, libbfio_error_t **error)
{
	struct bfio_io *io;

	(void)error;
	if (!io_handle || !*io_handle)
		return 1;
	io = (struct bfio_io *)*io_handle;
	vu_blk_unref(io->vol);
	free(io);
	*io_handle = NULL;
	return 1;
}

/* A clone reads the same source with its own cursor, closed like a new
 * handle (libbfio opens the clone itself when the source was open). */
static int io_clone(intptr_t **dst, intptr_t *src, libbfio_error_t **error)
{
	const struct bfio_io *s = (const struct bfio_io *)src;
	struct bfio_io *d;

	(void)error;
	if (!dst || *dst || !s)
		return -1;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -1;
	d->vol = vu_blk_ref(s->vol);
	*dst = (intptr_t *)d;
	return 1;
}

static int io_open(intptr_t *io_handle, int flags, libbfio_error_t **error)
{
	struct bfio_io *io = (struct bfio_io *)io_handle;

	(void)error;
	if (!io || (flags & (LIBBFIO_ACCESS_FLAG_WRITE |
			     LIBBFIO_ACCESS_FLAG_TRUNCATE)))
		return -1; /* the image is never written */
	io->is_open = 1;
	io->pos = 0;
	return 1;
}

static int io_close(intptr_t *io_handle, libbfio_error_t **error)
{
	struct bfio_io *io = (struct bfio_io *)io_handle;

	(void)error;
	if (!io || !io->is_open)
		return -1;
	io->is_open = 0;
	return 0;
}

/* libbfio wants what is there: short at the end, 0 past it. */
static ssize_t io_read(intptr_t *io_handle, uint8_t *buf, size_t size,
		       libbfio_error_t **error)
{
	struct bfio_io *io = (struct bfio_io *)io_handle;
	size_t n;
	int r;

	(void)error;
	if (!io || !io->is_open || (!buf && size) || size > SSIZE_MAX)
		return -1;
	if (io->pos >= io->vol->size)
		return 0;
	n = size;
	if (n > io->vol->size - io->pos)
		n = (size_t)(io->vol->size - io->pos);
	r = vu_blk_read(io->vol, buf, n, io->pos);
	if (r < 0) {
		io->err = r;
		return -1;
	}
	io->pos += n;
	return (ssize_t)n;
}

static ssize_t io_write(intptr_t *io_handle, const uint8_t *buf, size_t size,
			libbfio_error_t **error)
{
	(void)io_handle, (void)buf, (void)size, (void)error;
	return -1;
}

static off64_t io_seek(intptr_t *io_handle, off64_t off, int whence,
		       libbfio_error_t **error)
{
	struct bfio_io *io = (struct bfio_io *)io_handle;
	int64_t base;

	(void)error;
	if (!io || !io->is_open)
		return -1;
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)io->pos;
		break;
	case SEEK_END:
		base = (int64_t)io->vol->size;
		break;
	default:
		return -1;
	}
	if ((off < 0 && -off > base) || (off > 0 && off > INT64_MAX - base))
		return -1;
	io->pos = (uint64_t)(base + off);
	return (off64_t)io->pos;
}

static int io_exists(intptr_t *io_handle, libbfio_error_t **error)
{
	(void)error;
	return io_handle ? 1 : -1;
}

/* 0 until opened: libyal opens a handle that reports closed, and only
 * then closes it again when its volume is closed. */
static int io_is_open(intptr_t *io_handle, libbfio_error_t **error)
{
	const struct bfio_io *io = (const struct bfio_io *)io_handle;

	(void)error;
	return io ? io->is_open : -1;
}

static int io_get_size(intptr_t *io_handle, size64_t *size,
		       libbfio_error_t **error)
{
	const struct bfio_io *io = (const struct bfio_io *)io_handle;

	(void)error;
	if (!io || !size)
		return -1;
	*size = io->vol->size;
	return 1;
}

int vu_bfio_new(struct vu_blk *vol, libbfio_handle_t **out)
{
	libbfio_error_t *err = NULL;
	struct bfio_io *io;

	*out = NULL;
	io = calloc(1, sizeof(*io));
	if (!io)
		return vu_fail(-ENOMEM, "out of memory");
	io->vol = vu_blk_ref(vol);
	/* managed: libbfio frees io with the handle (and on failure here) */
	if (libbfio_handle_initialize(out, (intptr_t *)io, io_free, io_clone,
				      io_open, io_close, io_read, io_write,
				      io_seek, io_exists, io_is_open,
				      io_get_size,
				      LIBBFIO_FLAG_IO_HANDLE_MANAGED |
				      LIBBFIO_FLAG_IO_HANDLE_CLONE_BY_FUNCTION,
				      &err) != 1) {
		libbfio_error_free(&err);
		if (!*out) {
			vu_blk_unref(io->vol);
			free(io);
		}
		*out = NULL;
		return vu_blk_fail(vol, -ENOMEM, "libbfio: cannot make a "
				   "handle");
	}
	return 0;
}

void vu_bfio_free(libbfio_handle_t **h)
{
	libbfio_error_t *err = NULL;

	if (!h || !*h)
		return;
	if (libbfio_handle_free(h, &err) != 1)
		libbfio_error_free(&err);
	*h = NULL;
}

int vu_bfio_take_error(libbfio_handle_t *h)
{
	libbfio_error_t *err = NULL;
	intptr_t *p = NULL;
	struct bfio_io *io;
	int e;

	if (!h || libbfio_handle_get_io_handle(h, &p, &err) != 1 || !p) {
		libbfio_error_free(&err);
		return 0;
	}
	io = (struct bfio_io *)p;
	e = io->err;
	io->err = 0;
	return e;
}

int vu_yal_errno(intptr_t *err)
{
	if (!err)
		return -EUCLEAN;
	if (libcerror_error_matches(err, LIBBFIO_ERROR_DOMAIN_IO,
				   LIBBFIO_IO_ERROR_READ_FAILED) ||
	    libcerror_error_matches(err, LIBBFIO_ERROR_DOMAIN_IO,
				   LIBBFIO_IO_ERROR_SEEK_FAILED) ||
	    libcerror_error_matches(err, LIBBFIO_ERROR_DOMAIN_IO,
				   LIBBFIO_IO_ERROR_GENERIC))
		return -EIO;
	if (libcerror_error_matches(err, LIBBFIO_ERROR_DOMAIN_MEMORY,
				   LIBBFIO_MEMORY_ERROR_INSUFFICIENT))
		return -ENOMEM;
	if (libcerror_error_matches(err, LIBBFIO_ERROR_DOMAIN_RUNTIME,
				   LIBBFIO_RUNTIME_ERROR_UNSUPPORTED_VALUE) ||
	    libcerror_error_matches(err, LIBBFIO_ERROR_DOMAIN_ARGUMENTS,
				   LIBBFIO_ARGUMENT_ERROR_UNSUPPORTED_VALUE))
		return -ENOTSUP;
	/* invalid data, signature/checksum mismatch, values out of bounds:
	 * a parser of on-disk data has nothing else to fail on */
	return -EUCLEAN;
}

void vu_yal_message(intptr_t *err, char *buf, size_t size)
{
	char all[2048];

	if (!size)
		return;
	buf[0] = '\0';
	if (!err || libbfio_error_backtrace_sprint(err, all, sizeof(all)) < 0)
		return;
	all[sizeof(all) - 1] = '\0';
	/* the first line is the innermost cause */
	all[strcspn(all, "\n")] = '\0';
	snprintf(buf, size, "%s", all);
	/* libyal ends its messages with a full stop; ours do not */
	size = strlen(buf);
	if (size && buf[size - 1] == '.')
		buf[size - 1] = '\0';
}
