/* Error reporting: every fallible function returns 0 or a negative errno
 * with one fixed meaning (see STYLE.md):
 *   -EINVAL bad argument, -EIO read failed, -EUCLEAN corrupt metadata,
 *   -ENOTSUP unsupported feature, -EPERM wrong key, -ENOKEY no key,
 *   -ENOMEM, -ENOENT missing file/parent.
 * The innermost layer writes the message, once, into a per-thread
 * first-error-wins buffer; outer layers return the code unchanged. */
#ifndef VU_ERROR_H
#define VU_ERROR_H

#include <errno.h>

#ifndef EUCLEAN
#define EUCLEAN 117
#endif
#ifndef ENOKEY
#define ENOKEY 126
#endif

#define VU_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Record a message unless one is already recorded; returns err. */
int vu_fail(int err, const char *fmt, ...) VU_PRINTF(2, 3);
/* The recorded message, or a generic text for err when none was recorded. */
const char *vu_errmsg(int err);
/* Forget the recorded message (start of a new operation). */
void vu_err_clear(void);
/* Non-zero when a message is recorded. */
int vu_err_isset(void);

#endif
