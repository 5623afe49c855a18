/* Writing a block source to a file, for export and decrypt. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/export_pool.h"
#include "cli/output.h"
#include "core/error.h"

int cli_write_all(int fd, const uint8_t *p, size_t n, const char *out)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return vu_fail(-EIO, "%s: write failed: %s", out,
				       strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && !memcmp(p, p + 1, n - 1));
}

int cli_check_not_image(const struct vu_disk *d, const struct stat *o,
			const char *out)
{
	struct stat s;

	for (size_t k = 0; k < d->nimages; k++) {
		const struct vu_container_info *c = &d->images[k].container;

		for (size_t i = 0; i < c->chain_len; i++)
			if (stat(c->chain[i].path, &s) == 0 &&
			    s.st_dev == o->st_dev && s.st_ino == o->st_ino)
				return vu_fail(-EINVAL, "%s: is the image %s "
					       "itself; refusing to overwrite "
					       "it", out, c->chain[i].path);
	}
	return 0;
}

int cli_parse_threads(const char *cmd, const char *s, unsigned *n)
{
	unsigned long v = 0;
	const char *c;

	/* no sign, no spaces, no suffix */
	for (c = s; *c >= '0' && *c <= '9'; c++) {
		v = v * 10 + (unsigned long)(*c - '0');
		if (v > EXPORT_MAX_THREADS)
			break;
	}
	if (c == s || *c || v < 1 || v > EXPORT_MAX_THREADS)
		return cli_usage("%s: --threads: expected a number from 1 "
				 "to %d, got '%s'", cmd, EXPORT_MAX_THREADS,
				 s);
	*n = (unsigned)v;
	return 0;
}

/* Where the chunks go, in order (export_pool's sink). */
struct out_sink {
	int fd;
	int sparse;		/* a regular file: zero chunks become holes */
	const char *path;	/* OUT, for messages */
	struct cli_progress pr;
};

static int write_chunk(void *arg, const uint8_t *buf, size_t n, uint64_t off)
{
	struct out_sink *o = arg;
	int r;

	/* Zero chunks become holes in a regular file: a 30 GB disk that is
	 * mostly empty is written quickly and takes little space, and reads
	 * back the same. */
	if (o->sparse && all_zero(buf, n)) {
		if (lseek(o->fd, (off_t)n, SEEK_CUR) < 0)
			return vu_fail(-EIO, "%s: seek failed: %s", o->path,
				       strerror(errno));
	} else {
		r = cli_write_all(o->fd, buf, n, o->path);
		if (r < 0)
			return r;
	}
	cli_progress_update(&o->pr, off + n);
	return 0;
}

int cli_copy_blk(struct vu_blk *b, const char *what, int fd, int sparse,
		 const char *out, unsigned threads)
{
	struct out_sink o = { .fd = fd, .sparse = sparse, .path = out };
	int r;

	cli_progress_start(&o.pr, what, b->size);
	r = export_pool_run(b, threads, write_chunk, &o);
	/* a hole at the end needs the size set */
	if (r == 0 && sparse && ftruncate(fd, (off_t)b->size) < 0)
		r = vu_fail(-EIO, "%s: cannot set size: %s", out,
			    strerror(errno));
	cli_progress_end(&o.pr);
	return r;
}
