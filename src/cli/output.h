/* What export and decrypt share to write a block source to a file: the
 * check that OUT is not the image, --threads, and the in-order sink of
 * export_pool that leaves zero chunks as holes. */
#ifndef VU_CLI_OUTPUT_H
#define VU_CLI_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/blk.h"
#include "disk/disk.h"

/* Write all n bytes to fd; a message naming out when that fails. */
int cli_write_all(int fd, const uint8_t *p, size_t n, const char *out);

/* -EINVAL with a message when st (of OUT) is one of the files of the
 * image chains of d: the image must never be written. */
int cli_check_not_image(const struct vu_disk *d, const struct stat *st,
			const char *out);

/* "--threads N" of command cmd: a whole number from 1 to
 * EXPORT_MAX_THREADS, else a usage error (EXIT_USAGE). */
int cli_parse_threads(const char *cmd, const char *s, unsigned *n);

/* All of b to fd from its current position, read by threads readers and
 * written in order, with progress named what on a terminal.  sparse (a
 * regular file): zero chunks become holes and the file is then cut to
 * b's size. */
int cli_copy_blk(struct vu_blk *b, const char *what, int fd, int sparse,
		 const char *out, unsigned threads);

#endif
