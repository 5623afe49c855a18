/* vhdunlock extract, between its files: the state of one run and what
 * each step offers the others.
 *
 *   extract.c           the command: options, DEST, the two walks, the result
 *   extract_walk.c      one walk of the tree (the first counts and checks,
 *                       the second copies): directories, entries, streams
 *   extract_targets.c   what is in DEST already, and the image's own files
 *   extract_write.c     one file, link or directory written under an open
 *                       directory: temporary name and rename, holes, modes,
 *                       times
 *   extract_entry.c     the entry at hand: its relative path, and the
 *                       warnings that name it
 *   extract_manifest.c  the sha256sum manifest of what was written
 *
 * The image is hostile until proven otherwise: every name from it is
 * checked (no "", ".", "..", '/'), every output is made relative to an
 * open directory with O_NOFOLLOW, so nothing is written outside DEST
 * whatever the names and symbolic links inside it.  Files are written to
 * a temporary name and renamed into place (RENAME_NOREPLACE without
 * --force), so no half-written file ever carries a real name. */
#ifndef VU_CLI_EXTRACT_H
#define VU_CLI_EXTRACT_H

#include <stdint.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/fspath.h"
#include "core/error.h"

#define EXTRACT_CHUNK (1u << 20) /* one read of file data */
#define MAX_DEPTH 200		 /* one open directory per level */
#define MANIFEST "vhdunlock-manifest.sha256"
#define SHOW_CONFLICTS 5	 /* targets in the way named one by one */

/* The lines of the manifest written by this run. */
struct manifest_line;
struct manifest {
	struct manifest_line *lines;
	size_t n, cap;
};

struct xtract {
	struct cli_fsvol *c;
	const char *src;	/* the source path, as given */
	const char *dest;	/* DEST, as given */
	int force;
	int prewalk;		/* counting and checking, nothing written */
	uint8_t *buf;		/* EXTRACT_CHUNK bytes */
	/* the entry at hand, relative to the extraction root */
	char *rel;
	size_t rlen, rcap;
	uint64_t anc[MAX_DEPTH]; /* directories above it: loops in a damaged
				    file system end here */
	int depth;
	/* counts */
	uint64_t total, done;
	unsigned long files, entries, failed, skipped, conflicts;
	unsigned long core_warnings;
	int own_warning;	/* a warning of ours is being logged */
	int log_max;		/* the level the user asked for */
	unsigned int tmpseq;	/* the next temporary name */
	struct cli_progress pr;
	struct manifest manifest;
	/* the image's own files, never to be replaced, even with --force */
	struct stat *img;
	size_t nimg;
};

/* ---- the entry at hand (extract_entry.c) ---- */

/* Append name to x->rel; extract_path_pop(x, len) takes it off again. */
int extract_path_push(struct xtract *x, const char *name);
void extract_path_pop(struct xtract *x, size_t len);
/* A name from the image that must not become a path. */
int extract_bad_name(const char *name);

/* A warning about the entry at hand: it is not extracted (or not all of
 * it), the others go on (0 is returned for that), and the exit status
 * will be 1. */
int extract_entry_failed(struct xtract *x, const char *fmt, ...)
	VU_PRINTF(2, 3);
/* The target of the entry at hand appeared after the first walk. */
int extract_exists_failed(struct xtract *x);

/* Which side of a copy failed: the image (message recorded by the core)
 * or DEST (an errno of ours). */
enum side { FROM_IMAGE, TO_DEST };
/* Report a failed step of one entry: 0 to go on, or <0 for a failure that
 * ends everything (out of memory, out of space and the like). */
int extract_step_failed(struct xtract *x, enum side side, int err);

/* ---- writing under an open directory (extract_write.c) ---- */

/* Create a new temporary file in dfd; its name into name.  An fd, or -1
 * with errno set. */
int extract_temp_file(unsigned int *seq, int dfd, char *name, size_t size);
/* One regular file (or one NTFS stream of it) as name in dfd. */
int extract_file(struct xtract *x, int dfd, const char *name,
		 const struct vu_fs_stat *st, const char *stream);
/* A symbolic link, recreated (never followed) as name in dfd. */
int extract_link(struct xtract *x, int dfd, const char *name,
		 const struct vu_fs_stat *st);
/* Make (or reuse) the directory name in dfd and open it: an fd, or
 * -EEXIST when something else is there (without --force), or -errno. */
int extract_open_subdir(struct xtract *x, int dfd, const char *name);
/* Mode and times of a directory, once its content is in: 0 or -errno. */
int extract_finish_dir(int fd, const struct vu_fs_stat *st);

/* ---- what is in DEST already (extract_targets.c) ---- */

/* The files of the image chains (parents included), to refuse replacing
 * them with --force. */
int extract_note_images(struct xtract *x, const struct vu_disk *d);
/* Is the target of the entry at hand in the way?  NULL when not, else
 * why, to follow "already exists". */
const char *extract_in_the_way(struct xtract *x, int root, int is_dir);
/* First walk: the targets in the way are counted, the first shown. */
void extract_check_target(struct xtract *x, int root, int is_dir);

/* ---- the walk (extract_walk.c) ---- */

/* Walk the directory ino: with x->prewalk set, count the bytes to copy and
 * check the targets under root (dfd is -1); else copy it into dfd. */
int extract_walk_dir(struct xtract *x, int dfd, uint64_t ino, int root);
/* The NTFS named streams of the regular file at hand, as NAME:STREAM
 * beside it in dfd (counted and checked only, with x->prewalk). */
int extract_streams(struct xtract *x, int dfd, const char *name,
		    const struct vu_fs_stat *st, int root);

/* ---- the manifest (extract_manifest.c) ---- */

/* Add rel, escaped as sha256sum escapes it, with its hash. */
int manifest_add(struct manifest *m, const char *rel, const uint8_t hash[32]);
/* Write the manifest into dfd (named dir in messages), keeping the lines
 * of an existing one for other files; nothing when m is empty. */
int manifest_write(const struct manifest *m, int dfd, const char *dir,
		   unsigned int *tmpseq);
void manifest_free(struct manifest *m);

#endif
