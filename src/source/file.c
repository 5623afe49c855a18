/* The file source: pread on a descriptor opened read-only.  The image is
 * never written, so O_RDONLY is the only mode this file ever uses. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/blk.h"

struct file_src {
	int fd;
};

static int file_read(struct vu_blk *b, void *buf, size_t len, uint64_t off)
{
	const struct file_src *f = b->priv;
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(f->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vu_blk_fail(b, -EIO, "read at offset %" PRIu64
					   ": %s", off, strerror(errno));
		if (n == 0)
			return vu_blk_fail(b, -EIO, "file ends at offset %"
					   PRIu64 " (truncated while open?)",
					   off);
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static void file_destroy(struct vu_blk *b)
{
	struct file_src *f = b->priv;

	close(f->fd);
	free(f);
}

static const struct vu_blk_ops file_ops = {
	.kind = "file",
	.read_at = file_read,
	.destroy = file_destroy,
};

int vu_file_open(const char *path, struct vu_blk **out)
{
	struct file_src *f;
	struct stat st;
	uint64_t size;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vu_fail(errno == ENOENT ? -ENOENT : -EIO,
			       "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return vu_fail(-EIO, "%s: cannot stat: %s", path, strerror(e));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return vu_fail(-EINVAL, "%s: is a directory, expected a disk "
			       "image file", path);
	}
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(fd, 0, SEEK_END);
		size = end < 0 ? 0 : (uint64_t)end;
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else {
		close(fd);
		return vu_fail(-EINVAL, "%s: not a regular file or block "
			       "device", path);
	}
	if (size == 0) {
		close(fd);
		return vu_fail(-EUCLEAN, "%s: file is empty (0 bytes), "
			       "expected a disk image", path);
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		return vu_fail(-ENOMEM, "out of memory");
	}
	f->fd = fd;
	*out = vu_blk_new(&file_ops, NULL, size, 512, f, "file:%s", path);
	if (!*out) {
		close(fd);
		free(f);
		return -ENOMEM;
	}
	return 0;
}
