/* vhdunlock cat: one file's content (or an NTFS stream's) to standard
 * output. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/fspath.h"
#include "core/error.h"

#define CHUNK (1u << 20) /* large reads: extents are read straight through */

/* 0, 1 when the reader went away (EPIPE), or <0. */
static int write_out(const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EPIPE)
			return 1;
		if (w < 0)
			return vu_fail(-EIO, "standard output: write failed: %s",
				       strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int copy_out(struct cli_fsvol *c, const struct cli_fspath *p,
		    const struct cli_fsnode *node)
{
	const char *path = p->path;
	struct vu_fs_file *f = NULL;
	uint8_t *buf = malloc(CHUNK);
	uint64_t off = 0, size;
	int r;

	if (!buf)
		return vu_fail(-ENOMEM, "out of memory");
	r = cli_fs_open_data(c, p, node, &f);
	if (r < 0)
		goto out;
	size = vu_fs_file_size(f);
	while (off < size) {
		ssize_t n = vu_fs_file_read(f, buf, CHUNK, off);

		if (n < 0) {
			r = cli_fs_fail(c, path, (int)n);
			goto out;
		}
		if (n == 0) { /* short only at the end, says fs.h */
			r = cli_fs_fail(c, path, vu_fail(-EIO, "read returned "
					"nothing at byte %llu of %llu",
					(unsigned long long)off,
					(unsigned long long)size));
			goto out;
		}
		r = write_out(buf, (size_t)n);
		if (r != 0)
			goto out; /* 1: the reader has all it wanted */
		off += (uint64_t)n;
	}
out:
	vu_fs_file_close(f);
	free(buf);
	return r;
}

static int cat_path(struct cli_fsvol *c, const struct cli_fspath *p)
{
	struct cli_fsnode n;
	int r = cli_fs_resolve(c, p, 1, &n);

	if (r < 0)
		return r;
	if (S_ISDIR(n.st.mode) && !n.stream)
		return cli_fs_fail(c, p->path, -EISDIR);
	if (!S_ISREG(n.st.mode) && !n.stream)
		return cli_fs_fail(c, p->path,
				   vu_fail(-EINVAL, "not a regular file"));
	return copy_out(c, p, &n);
}

static const char help[] =
	"Usage: vhdunlock cat IMAGE VOLUME:PATH[:STREAM] [KEYS]\n"
	"Write the content of one file of a volume's file system to standard "
	"output;\nsymbolic links are followed inside the volume.  PATH:STREAM "
	"names an NTFS\nnamed stream, when no file of that whole name exists.\n";

static const struct cli_command cat_command = {
	CLI_COMMAND("cat", help, "IMAGE VOLUME:PATH", 2, 2, "h"),
	.longopts = { CLI_COMMON_OPTIONS },
};

int cmd_cat(int argc, char **argv)
{
	struct cli_fscmd f = { 0 };
	int r;

	/* cat has no options of its own: only the end of them comes back */
	if (cli_next_option(&cat_command, argc, argv, &f.frame.keys, &r) < 0)
		goto out;
	r = cli_fspath_operand(cat_command.name, argv[optind + 1], &f.path);
	if (r != EXIT_OK)
		goto out;
	/* A reader that stops early (| head) ends the copy: EPIPE instead
	 * of the signal, and no message about it. */
	signal(SIGPIPE, SIG_IGN);
	r = cli_fscmd_open(&f, argv[optind]);
	if (r != EXIT_OK)
		goto out;
	r = cat_path(&f.c, &f.path);
	r = r < 0 ? cli_fail(r) : EXIT_OK;
out:
	cli_fscmd_close(&f);
	return r;
}
