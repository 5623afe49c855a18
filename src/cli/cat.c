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
		    uint64_t ino, const char *stream)
{
	const char *path = p->path;
	struct vu_fs_file *f = NULL;
	uint8_t *buf = malloc(CHUNK);
	uint64_t off = 0, size;
	int r;

	if (!buf)
		return vu_fail(-ENOMEM, "out of memory");
	r = cli_fs_open_data(c, p, ino, stream, &f);
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
	struct vu_fs_stat st;
	const char *stream;
	uint64_t ino;
	int r;

	r = cli_fs_resolve(c, p, 1, &ino, &stream, &st);
	if (r < 0)
		return r;
	if (S_ISDIR(st.mode) && !stream)
		return cli_fs_fail(c, p->path, -EISDIR);
	if (!S_ISREG(st.mode) && !stream)
		return cli_fs_fail(c, p->path,
				   vu_fail(-EINVAL, "not a regular file"));
	return copy_out(c, p, ino, stream);
}

static const char help[] =
	"Usage: vhdunlock cat IMAGE VOLUME:PATH[:STREAM] [KEYS]\n"
	"Write the content of one file of a volume's file system to standard "
	"output;\nsymbolic links are followed inside the volume.  PATH:STREAM "
	"names an NTFS\nnamed stream, when no file of that whole name exists.\n"
	"\nKEYS:\n" CLI_KEY_HELP;

int cmd_cat(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		CLI_KEY_OPTIONS,
		{ 0 },
	};
	struct cli_keys keys = { 0 };
	struct cli_fspath path = { 0 };
	struct cli_fsvol c = { 0 };
	struct vu_disk *d = NULL;
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(help, stdout);
			cli_keys_free(&keys);
			return EXIT_OK;
		default:
			r = cli_key_option(ch, optarg, &keys);
			if (r <= 0) {
				cli_keys_free(&keys);
				return r < 0 ? cli_fail(r)
					     : cli_usage("cat: bad option");
			}
		}
	}
	if (argc - optind != 2) {
		cli_keys_free(&keys);
		return cli_usage("cat: expected IMAGE VOLUME:PATH, got %d "
				 "arguments", argc - optind);
	}
	if (cli_fspath_parse(argv[optind + 1], &path) < 0) {
		r = cli_usage("cat: %s", vu_errmsg(-EINVAL));
		vu_err_clear();
		cli_keys_free(&keys);
		return r;
	}
	/* A reader that stops early (| head) ends the copy: EPIPE instead
	 * of the signal, and no message about it. */
	signal(SIGPIPE, SIG_IGN);
	r = cli_open_disk(argv[optind], &keys, &d);
	if (r < 0) {
		r = cli_fail(r);
		goto out;
	}
	r = cli_fsvol_open(&c, d, argv[optind], path.vol, keys.given);
	if (r != EXIT_OK)
		goto out;
	r = cat_path(&c, &path);
	r = r < 0 ? cli_fail(r) : EXIT_OK;
out:
	cli_fsvol_close(&c);
	vu_disk_close(d);
	cli_fspath_free(&path);
	cli_keys_free(&keys);
	return r;
}
