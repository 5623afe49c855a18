/* Writing one entry of the tree under an open directory: a regular file
 * (or an NTFS stream) to a temporary name, with its all-zero blocks left
 * as holes, renamed into place once its data, mode and times are in; a
 * symbolic link recreated, never followed; a directory made or reused
 * without following a link put in its place. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/extract.h"
#include "crypto/crypto.h"

#define SPARSE_BLOCK 4096u /* zero blocks of this size become holes */

int extract_temp_file(unsigned int *seq, int dfd, char *name, size_t size)
{
	for (;;) {
		int fd;

		snprintf(name, size, ".vhdunlock.%ld.%u.tmp", (long)getpid(),
			 (*seq)++);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
					       O_NOFOLLOW, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
}

/* ---- one regular file ---- */

static int write_all_at(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		off += (uint64_t)w;
		n -= (size_t)w;
	}
	return 0;
}

static int is_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && !memcmp(p, p + 1, n - 1));
}

/* Zero blocks are skipped, so that they stay holes (the file's size is
 * set at the end); runs of data are written in one call. */
static int write_sparse(int fd, const uint8_t *buf, size_t n, uint64_t off)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i, b;

		while (j < n) {
			b = n - j < SPARSE_BLOCK ? n - j : SPARSE_BLOCK;
			if (is_zero(buf + j, b))
				break;
			j += b;
		}
		if (j > i) {
			int r = write_all_at(fd, buf + i, j - i, off + i);
			if (r < 0)
				return r;
		}
		b = n - j < SPARSE_BLOCK ? n - j : SPARSE_BLOCK;
		i = j + b; /* the zero block at j (or the end) */
	}
	return 0;
}

/* Copy the data of f to fd, hashing it. 0, or <0 with *side set. */
static int copy_data(struct xtract *x, struct vu_fs_file *f, int fd,
		     uint8_t hash[32], enum side *side)
{
	struct vu_sha256_ctx *h = NULL;
	uint64_t size = vu_fs_file_size(f), off = 0;
	int r = vu_sha256_new(&h);

	*side = FROM_IMAGE;
	while (r == 0 && off < size) {
		ssize_t n = vu_fs_file_read(f, x->buf, EXTRACT_CHUNK, off);

		*side = FROM_IMAGE;
		if (n == 0)
			n = vu_fail(-EIO, "the file ends at byte %" PRIu64
				    " of %" PRIu64, off, size);
		if (n < 0) {
			r = (int)n;
			break;
		}
		*side = FROM_IMAGE;
		r = vu_sha256_update(h, x->buf, (size_t)n);
		if (r < 0)
			break;
		*side = TO_DEST;
		r = write_sparse(fd, x->buf, (size_t)n, off);
		if (r < 0)
			break;
		off += (uint64_t)n;
		x->done += (uint64_t)n;
		cli_progress_update(&x->pr, x->done);
	}
	if (r == 0) {
		*side = TO_DEST;
		if (ftruncate(fd, (off_t)size) < 0)
			r = -errno;
	}
	if (r == 0) {
		*side = FROM_IMAGE;
		r = vu_sha256_final(h, hash);
	}
	vu_sha256_free(h);
	x->done += size - off; /* the progress of a file that failed */
	return r;
}

/* Rename tmp to name: over an existing one only with --force. */
static int put_in_place(struct xtract *x, int dfd, const char *tmp,
			const char *name)
{
	if (x->force)
		return renameat(dfd, tmp, dfd, name) < 0 ? -errno : 0;
	if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* a file system without RENAME_NOREPLACE: link fails on EEXIST */
	if (linkat(dfd, tmp, dfd, name, 0) < 0)
		return -errno;
	unlinkat(dfd, tmp, 0);
	return 0;
}

static int set_times_fd(int fd, const struct vu_fs_stat *st)
{
	struct timespec t[2] = { st->atime, st->mtime };

	return futimens(fd, t) < 0 ? -errno : 0;
}

int extract_file(struct xtract *x, int dfd, const char *name,
		 const struct vu_fs_stat *st, const char *stream)
{
	struct vu_fs_file *f = NULL;
	enum side side = FROM_IMAGE;
	uint8_t hash[32];
	char tmp[64];
	int fd = -1, r;

	r = vu_fs_file_open(x->c->fs, st->ino, stream, &f);
	if (r < 0) {
		x->done += stream ? 0 : st->size; /* as counted at first */
		return extract_step_failed(x, FROM_IMAGE, r);
	}
	fd = extract_temp_file(&x->tmpseq, dfd, tmp, sizeof(tmp));
	if (fd < 0) {
		r = -errno;
		tmp[0] = '\0';
		side = TO_DEST;
		goto out;
	}
	r = copy_data(x, f, fd, hash, &side);
	if (r < 0)
		goto out;
	side = TO_DEST;
	/* permission bits only: no set-id bits on files from an image */
	if (fchmod(fd, st->mode & 0777) < 0)
		r = -errno;
	if (r == 0)
		r = set_times_fd(fd, st);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	fd = -1;
	if (r == 0)
		r = put_in_place(x, dfd, tmp, name);
	if (r == 0)
		tmp[0] = '\0';
	if (r == 0)
		r = manifest_add(&x->manifest, x->rel, hash);
	if (r == 0)
		x->files++;
out:
	if (fd >= 0)
		close(fd);
	if (r < 0 && tmp[0])
		unlinkat(dfd, tmp, 0);
	vu_fs_file_close(f);
	if (r == -ENOMEM)
		return r;
	if (r == -EEXIST)
		return extract_exists_failed(x);
	return r < 0 ? extract_step_failed(x, side, r) : 0;
}

/* ---- symbolic links: recreated, never followed ---- */

int extract_link(struct xtract *x, int dfd, const char *name,
		 const struct vu_fs_stat *st)
{
	size_t n = st->size < 4096 ? 4096 : (size_t)st->size + 1;
	struct timespec t[2] = { st->atime, st->mtime };
	char *target, tmp[64];
	int r;

	if (st->size > (1u << 20))
		return extract_entry_failed(x, "symbolic link target of %"
					    PRIu64 " bytes", st->size);
	target = malloc(n);
	if (!target)
		return vu_fail(-ENOMEM, "out of memory");
	r = vu_fs_readlink(x->c->fs, st->ino, target, n);
	if (r < 0) {
		free(target);
		return extract_step_failed(x, FROM_IMAGE, r);
	}
	if (!x->force) {
		r = symlinkat(target, dfd, name) < 0 ? -errno : 0;
	} else {
		do {
			snprintf(tmp, sizeof(tmp), ".vhdunlock.%ld.%u.tmp",
				 (long)getpid(), x->tmpseq++);
			r = symlinkat(target, dfd, tmp) < 0 ? -errno : 0;
		} while (r == -EEXIST);
		if (r == 0 && renameat(dfd, tmp, dfd, name) < 0) {
			r = -errno;
			unlinkat(dfd, tmp, 0);
		}
	}
	free(target);
	if (r == 0 && utimensat(dfd, name, t, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	if (r == -EEXIST)
		return extract_exists_failed(x);
	if (r == 0)
		x->entries++;
	return r < 0 ? extract_step_failed(x, TO_DEST, r) : 0;
}

/* ---- directories ---- */

/* Opened without following a symbolic link put there. */
int extract_open_subdir(struct xtract *x, int dfd, const char *name)
{
	struct stat s;
	int fd;

	if (mkdirat(dfd, name, 0700) < 0) {
		if (errno != EEXIST)
			return -errno;
		if (fstatat(dfd, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (!S_ISDIR(s.st_mode)) {
			if (!x->force)
				return -EEXIST;
			if (unlinkat(dfd, name, 0) < 0 ||
			    mkdirat(dfd, name, 0700) < 0)
				return -errno;
		}
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* an existing directory from an earlier run may be read-only; its
	 * own mode is set again once its content is in */
	if (fchmod(fd, 0700) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int extract_finish_dir(int fd, const struct vu_fs_stat *st)
{
	if (fchmod(fd, st->mode & 0777) < 0)
		return -errno;
	return set_times_fd(fd, st);
}
