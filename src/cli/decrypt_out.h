/* decrypt's output file: written under a temporary name beside OUT and
 * renamed over it only once whole and on disk, so that a failure or a
 * signal never leaves an OUT that looks complete. */
#ifndef VU_CLI_DECRYPT_OUT_H
#define VU_CLI_DECRYPT_OUT_H

#include "core/blk.h"
#include "disk/disk.h"

enum decrypt_format { DECRYPT_VHD, DECRYPT_VHDX, DECRYPT_RAW };

/* Called with the written file's path before it takes OUT's name: an
 * error keeps it from doing so (and removes it). */
typedef int (*decrypt_check_fn)(const char *path, void *arg);

/* b (the whole output disk) to out in format fmt: a fixed VHD is b's
 * bytes and a footer, a dynamic VHDX leaves out the blocks that read as
 * zeros.  An existing out is refused unless force, and so is
 * any file of d's images.  Zero chunks are left as holes. */
int decrypt_out_write(const struct vu_disk *d, struct vu_blk *b,
		      const char *out, int force, enum decrypt_format fmt,
		      unsigned threads, decrypt_check_fn check, void *arg);

#endif
