/* Checks the file-system unit tests (test_fs for ext and XFS, test_fs_ntfs
 * for NTFS, test_fs_fat for FAT) share, so that all make their images,
 * read files, list directories and damage images the same way and a fix
 * to one checker reaches all. */
#ifndef VU_TEST_FS_CHECK_H
#define VU_TEST_FS_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "fs/fs.h"
#include "volume/probe.h"

/* Group setup: logging off, every one of the ntools tools on PATH (else
 * on stderr which one is missing), ut_tmpdir made, and the images made
 * in it by tests/unit/<script> (its log on stderr when it fails).  0, or
 * -1: the images are needed, so the whole group fails. */
int ut_fs_group_setup(const char *script, const char *const *tools,
		      size_t ntools);

/* vu_fs_open of the image file name in ut_tmpdir as kind; a failure
 * fails the test with the reason. */
struct vu_fs *ut_fs_open_file(const char *name, enum vu_kind kind);
/* vu_fs_open of b[len] (a volume called name) as kind, the error state
 * cleared first: 0 and *fs, or the error and *fs NULL. */
int ut_fs_open_mem(const uint8_t *b, size_t len, const char *name,
		   enum vu_kind kind, struct vu_fs **fs);

/* The whole file rel of ut_tmpdir, NUL-terminated past *len (free it);
 * a file that cannot be read fails the test. */
uint8_t *ut_slurp(const char *rel, size_t *len);
/* How many entries the host directory has (as `ls -A` lists them). */
size_t ut_count_entries(const char *dir);

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

/* Up to 16 bits flipped in an image, to be flipped back. */
struct ut_flips {
	size_t pos[16];
	uint8_t bit[16];
	int n;
};

/* Flip n random bits of b in [from, from + span), drawn from seed. */
void ut_flips_apply(uint8_t *b, struct ut_flips *f, int n, size_t from,
		    size_t span, uint32_t *seed);
void ut_flips_undo(uint8_t *b, const struct ut_flips *f);

/* Walk whatever a damaged file system lets be walked (names, lookups,
 * streams, link targets, the first 256 KiB of files), ignoring errors:
 * only a crash or a hang fails.  Stops after *budget entries. */
void ut_walk_any(struct vu_fs *fs, uint64_t dir, int depth, size_t *budget);

/* Open b[len] as kind and walk it with ut_walk_any (budget entries): 0,
 * or the open's error, which must be one of errs (0-terminated) and
 * reported. */
int ut_try_image(const uint8_t *b, size_t len, enum vu_kind kind,
		 size_t budget, const int *errs);

/* Open the image name in ut_tmpdir as kind with its first, second, ...
 * read failing (n = 1, 2, ... dense, then in steps of step up to last),
 * and when the open gets through let reads do its reads (0 or an error):
 * a failure must be reported as an error, never crash or pass silently. */
void ut_fs_read_faults(const char *name, enum vu_kind kind, long dense,
		       long step, long last, int (*reads)(struct vu_fs *fs));

/* What one reader thread reads: path (stream NULL for the data) in the
 * file system must hold the bytes of the host file src in ut_tmpdir. */
struct ut_read_job {
	const char *path, *src, *stream;
};

/* Eight threads read the eight jobs through fs at once, three rounds
 * each in chunks of odd sizes, listing /many (3000 entries) between
 * rounds; what names the image in failures. */
void ut_read_in_threads(struct vu_fs *fs, const struct ut_read_job *jobs,
			const char *what);

/* r must be want, and when sub is not NULL its message must contain sub;
 * clears the error for the next call. */
void ut_expect_err(int r, int want, const char *what, const char *sub);

#endif
