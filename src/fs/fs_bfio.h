/* A libbfio handle over a block source, for the libyal file-system
 * libraries (libfsxfs, libfsntfs), and the translation of their errors.
 *
 * The block source is positional and cursor-free; libyal reads through
 * seek + read, so each handle keeps its own cursor and open state, and a
 * clone (libbfio_handle_clone) gets its own.  One handle must not be used
 * by two threads at once: the file system's mutex guards it. */
#ifndef VU_FS_BFIO_H
#define VU_FS_BFIO_H

#include <stdint.h>

#include <libbfio.h>

#include "core/blk.h"

/* A new, closed handle reading vol (a reference is taken); the library
 * opens it.  0, -ENOMEM or -EIO. */
int vu_bfio_new(struct vu_blk *vol, libbfio_handle_t **out);
void vu_bfio_free(libbfio_handle_t **h);
/* The errno of the last failed read on h (0: none), and forget it. */
int vu_bfio_take_error(libbfio_handle_t *h);

/* The negative errno for a libyal error object (any libyal library: they
 * share libcerror's domains and codes): -EIO for reads, -ENOMEM, -ENOTSUP
 * for unsupported values, -EUCLEAN for the rest (bad on-disk data).  err
 * may be NULL (some libyal functions fail without one): -EUCLEAN. */
int vu_yal_errno(intptr_t *err);
/* The innermost message of a libyal error ("" when none), into buf. */
void vu_yal_message(intptr_t *err, char *buf, size_t size);

#endif
