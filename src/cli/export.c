/* vhdunlock export: a volume's raw content to a file or standard output. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/log.h"
#include "disk/disk.h"

#define CHUNK (4u << 20)

static int write_all(int fd, const uint8_t *p, size_t n, const char *out)
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

/* The image must never be written: refuse an OUT that is one of the files
 * of the image chain. */
static int check_not_image(const struct vu_disk *d, int fd, const char *out)
{
	struct stat o, s;

	if (fstat(fd, &o) < 0)
		return vu_fail(-EIO, "%s: cannot stat: %s", out,
			       strerror(errno));
	for (size_t k = 0; k < d->nimages; k++) {
		const struct vu_container_info *c = &d->images[k].container;

		for (size_t i = 0; i < c->chain_len; i++)
			if (stat(c->chain[i].path, &s) == 0 &&
			    s.st_dev == o.st_dev && s.st_ino == o.st_ino)
				return vu_fail(-EINVAL, "%s: is the image %s "
					       "itself; refusing to overwrite "
					       "it", out, c->chain[i].path);
	}
	return 0;
}

static int copy_volume(struct vu_volume *v, int fd, int sparse,
		       const char *out)
{
	struct cli_progress pr;
	uint8_t *buf = malloc(CHUNK);
	uint64_t off = 0, size = v->blk->size;
	int r = 0;

	if (!buf)
		return vu_fail(-ENOMEM, "out of memory");
	cli_progress_start(&pr, v->id, size);
	while (off < size) {
		size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;

		r = vu_blk_read(v->blk, buf, n, off);
		if (r < 0)
			break;
		/* Zero chunks become holes in a regular file: a 30 GB disk
		 * that is mostly empty exports quickly and takes little
		 * space, and reads back the same. */
		if (sparse && all_zero(buf, n)) {
			if (lseek(fd, (off_t)n, SEEK_CUR) < 0) {
				r = vu_fail(-EIO, "%s: seek failed: %s", out,
					    strerror(errno));
				break;
			}
		} else {
			r = write_all(fd, buf, n, out);
			if (r < 0)
				break;
		}
		off += n;
		cli_progress_update(&pr, off);
	}
	if (r == 0 && sparse && ftruncate(fd, (off_t)size) < 0)
		r = vu_fail(-EIO, "%s: cannot set size: %s", out,
			    strerror(errno));
	cli_progress_end(&pr);
	free(buf);
	return r;
}

static const char export_help[] =
	"Usage: vhdunlock export IMAGE VOLUME OUT [KEYS] [--force]\n"
	"Write the content of VOLUME (disk, p1, p2, ...) to OUT, or to "
	"standard output\nwhen OUT is -; decrypted when a key unlocks "
	"it.\n\nKEYS:\n" CLI_KEY_HELP;

static const struct cli_command export_command = {
	.name = "export", .help = export_help,
	.operands = "IMAGE VOLUME OUT", .min_operands = 3, .max_operands = 3,
	.shortopts = "h",
	.longopts = {
		{ "force", no_argument, NULL, 'f' },
		CLI_COMMON_OPTIONS,
	},
};

int cmd_export(int argc, char **argv)
{
	struct cli_keys keys = { 0 };
	struct vu_disk *d = NULL;
	struct vu_volume *v;
	const char *image, *vol, *out;
	int force = 0, c, r, fd = -1, created = 0, to_stdout;
	struct stat st;

	while ((c = cli_next_option(&export_command, argc, argv, &keys,
				    &r)) > 0)
		if (c == 'f')
			force = 1;
	if (c < 0) {
		cli_keys_free(&keys);
		return r;
	}
	image = argv[optind];
	vol = argv[optind + 1];
	out = argv[optind + 2];
	to_stdout = !strcmp(out, "-");
	if (to_stdout && isatty(STDOUT_FILENO)) {
		cli_keys_free(&keys);
		return cli_usage("export: refusing to write a volume to a "
				 "terminal; redirect standard output");
	}

	r = cli_open_disk(image, &keys, &d);
	if (r < 0) {
		cli_keys_free(&keys);
		return cli_fail(r);
	}
	v = vu_disk_volume(d, vol);
	if (!v) {
		/* 'disk' (one image) or 'd2' (several) always names a whole
		 * virtual disk, partition table or not. */
		static struct vu_volume whole;
		size_t k = 0;
		char tail;

		if ((d->nimages == 1 && !strcmp(vol, "disk")) ||
		    (d->nimages > 1 &&
		     sscanf(vol, "d%zu%c", &k, &tail) == 1 && k >= 1 &&
		     k <= d->nimages)) {
			memset(&whole, 0, sizeof(whole));
			snprintf(whole.id, sizeof(whole.id), "%s", vol);
			whole.blk = d->images[k ? k - 1 : 0].blk;
			v = &whole;
		}
	}
	if (!v) {
		char ids[512] = "";
		for (size_t i = 0; i < d->nvolumes; i++) {
			size_t l = strlen(ids);
			snprintf(ids + l, sizeof(ids) - l, "%s%s", l ? ", " : "",
				 d->volumes[i].id);
		}
		vu_fail(-EINVAL, "%s: no volume '%s'; the volumes are: %s",
			image, vol, ids);
		r = -EINVAL;
		goto out;
	}
	if (v->lock_error && keys.given) {
		/* The keys given do not open the volume asked for. */
		r = cli_locked_fail(v);
		vu_disk_close(d);
		cli_keys_free(&keys);
		return r;
	}
	if (d->lock_error && !v->unlocked &&
	    v->probe.kind == VU_KIND_UNKNOWN) {
		/* a detached header was given for this volume, it seems */
		r = cli_disk_locked_fail(d);
		vu_disk_close(d);
		cli_keys_free(&keys);
		return r;
	}
	if (vu_volume_encrypted(v) && !v->unlocked)
		vu_log(VU_LOG_WARN, "%s is encrypted (%s) and no key was given: "
		       "exporting its encrypted content", v->id,
		       vu_kind_name(v->probe.kind));
	else if (keys.given && !v->unlocked && v->part &&
		 v->probe.kind == VU_KIND_UNKNOWN)
		/* ADE data disks may keep their LUKS header elsewhere */
		vu_log(VU_LOG_WARN, "%s holds nothing recognisable: if it is "
		       "LUKS data whose header is kept apart, give the header "
		       "with --luks-header, or the OS disk that keeps it "
		       "with --add-disk; exporting its stored content", v->id);

	if (to_stdout) {
		fd = STDOUT_FILENO;
	} else {
		fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			created = 1;
		} else if (errno == EEXIST && force) {
			fd = open(out, O_WRONLY | O_CLOEXEC);
		} else if (errno == EEXIST) {
			r = vu_fail(-EEXIST, "%s: already exists; use --force "
				    "to overwrite it", out);
			goto out;
		}
		if (fd < 0) {
			r = vu_fail(-EIO, "%s: cannot create: %s", out,
				    strerror(errno));
			goto out;
		}
		r = check_not_image(d, fd, out);
		if (r < 0)
			goto out;
		if (!created && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    ftruncate(fd, 0) < 0) {
			r = vu_fail(-EIO, "%s: cannot truncate: %s", out,
				    strerror(errno));
			goto out;
		}
	}
	r = copy_volume(v, fd,
			!to_stdout && fstat(fd, &st) == 0 && S_ISREG(st.st_mode),
			out);
	if (r == 0 && !to_stdout && fsync(fd) < 0 && errno != EINVAL)
		r = vu_fail(-EIO, "%s: %s", out, strerror(errno));
out:
	if (fd >= 0 && !to_stdout && close(fd) < 0 && r == 0)
		r = vu_fail(-EIO, "%s: %s", out, strerror(errno));
	if (r < 0 && created)
		unlink(out); /* no half-written volume left behind */
	vu_disk_close(d);
	cli_keys_free(&keys);
	return r < 0 ? cli_fail(r) : EXIT_OK;
}
