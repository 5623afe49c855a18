/* Checks the file-system unit tests (test_fs for ext and XFS, test_fs_ntfs
 * for NTFS) share, so that both read files, list directories and damage
 * images the same way and a fix to one checker reaches both. */
#ifndef VU_TEST_FS_CHECK_H
#define VU_TEST_FS_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "fs/fs.h"

/* A directory listing, as vu_fs_readdir gave it. */
struct ut_ent {
	char name[1024];
	struct vu_fs_stat st;
};

struct ut_ents {
	struct ut_ent *v;
	size_t n, cap;
};

/* vu_fs_readdir callback: appends to the struct ut_ents in ctx. */
int ut_collect(void *ctx, const char *name, const struct vu_fs_stat *st);
/* The entry of that exact name, or NULL. */
const struct ut_ent *ut_find_ent(const struct ut_ents *e, const char *name);
/* Free the entries and leave e empty, ready for the next listing. */
void ut_ents_free(struct ut_ents *e);

/* xorshift32: the same sequence on every run for a given seed. */
uint32_t ut_rnd(uint32_t *s);

/* Read stream (NULL or "" for the data) of ino whole in uneven chunks,
 * then random_reads random ranges, then at, past and across the end, and
 * compare every byte with want[len]; what names the file in failures. */
void ut_check_file_data(struct vu_fs *fs, uint64_t ino, const char *stream,
			const uint8_t *want, size_t len, const char *what,
			int random_reads);

/* The image at path as a private copy-on-write mapping (munmap it):
 * damage costs only the pages it touches, and is undone by writing the
 * bytes back. */
uint8_t *ut_load(const char *path, size_t *len);

/* Walk whatever a damaged file system lets be walked (names, lookups,
 * streams, link targets, the first 256 KiB of files), ignoring errors:
 * only a crash or a hang fails.  Stops after *budget entries. */
void ut_walk_any(struct vu_fs *fs, uint64_t dir, int depth, size_t *budget);

/* r must be want, and when sub is not NULL its message must contain sub;
 * clears the error for the next call. */
void ut_expect_err(int r, int want, const char *what, const char *sub);

#endif
