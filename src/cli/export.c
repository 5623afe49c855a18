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
#include "cli/export_pool.h"
#include "cli/output.h"
#include "core/log.h"
#include "disk/disk.h"

/* ---- the command ---- */

#define STR(x) #x
#define XSTR(x) STR(x)

static const char export_help[] =
	"Usage: vhdunlock export IMAGE VOLUME OUT [KEYS] [--force] "
	"[--threads N]\n"
	"Write the content of VOLUME (disk, p1, p2, ...) to OUT, or to "
	"standard output\nwhen OUT is -; decrypted when a key unlocks "
	"it.\n"
	"\n"
	"  --force      overwrite an existing OUT\n"
	"  --threads N  read and decrypt with N threads, 1 to "
	XSTR(EXPORT_MAX_THREADS) " (default:\n"
	"               one per online CPU, at most "
	XSTR(EXPORT_MAX_THREADS) ")\n";

enum { OPT_FORCE = 'f', OPT_THREADS = 't' };

static const struct cli_command export_command = {
	CLI_COMMAND("export", export_help, "IMAGE VOLUME OUT", 3, 3, "h"),
	.longopts = {
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "threads", required_argument, NULL, OPT_THREADS },
		CLI_COMMON_OPTIONS,
	},
};

struct export_args {
	const char *image, *vol, *out;
	int force, to_stdout;
	unsigned threads;
};

/* The options and operands into a; -1 when the command ends now with
 * *status (help shown, or a usage error). */
static int parse_args(int argc, char **argv, struct export_args *a,
		      struct cli_keys *keys, int *status)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->threads = export_pool_default_threads();
	while ((c = cli_next_option(&export_command, argc, argv, keys,
				    status)) > 0) {
		if (c == OPT_FORCE) {
			a->force = 1;
		} else if (c == OPT_THREADS) {
			*status = cli_parse_threads("export", optarg,
						    &a->threads);
			if (*status)
				return -1;
		}
	}
	if (c < 0)
		return -1;
	a->image = argv[optind];
	a->vol = argv[optind + 1];
	a->out = argv[optind + 2];
	a->to_stdout = !strcmp(a->out, "-");
	if (a->to_stdout && isatty(STDOUT_FILENO)) {
		*status = cli_usage("export: refusing to write a volume to a "
				    "terminal; redirect standard output");
		return -1;
	}
	return 0;
}

/* The volume named vol, or NULL with a message listing the ids. */
static struct vu_volume *find_volume(struct vu_disk *d, const char *image,
				     const char *vol)
{
	/* 'disk' (one image) or 'd2' (several) always names a whole virtual
	 * disk, partition table or not. */
	static struct vu_volume whole;
	struct vu_volume *v = vu_disk_volume(d, vol);
	char ids[512] = "";
	size_t k = 0;
	char tail;

	if (v)
		return v;
	if ((d->nimages == 1 && !strcmp(vol, "disk")) ||
	    (d->nimages > 1 && sscanf(vol, "d%zu%c", &k, &tail) == 1 &&
	     k >= 1 && k <= d->nimages)) {
		memset(&whole, 0, sizeof(whole));
		snprintf(whole.id, sizeof(whole.id), "%s", vol);
		whole.blk = d->images[k ? k - 1 : 0].blk;
		return &whole;
	}
	for (size_t i = 0; i < d->nvolumes; i++) {
		size_t l = strlen(ids);

		snprintf(ids + l, sizeof(ids) - l, "%s%s", l ? ", " : "",
			 d->volumes[i].id);
	}
	vu_fail(-EINVAL, "%s: no volume '%s'; the volumes are: %s", image, vol,
		ids);
	return NULL;
}

/* Before anything is written: an exit status (3) when the keys given do
 * not open v, else 0, with a warning when what is exported is not what
 * the user may expect. */
static int check_unlocked(const struct vu_disk *d, const struct vu_volume *v,
			  const struct cli_keys *keys)
{
	if (v->lock_error && keys->given)
		return cli_locked_fail(v);
	if (d->lock_error && !v->unlocked &&
	    v->probe.kind == VU_KIND_UNKNOWN)
		/* a detached header was given for this volume, it seems */
		return cli_disk_locked_fail(d);
	if (vu_volume_encrypted(v) && !v->unlocked)
		vu_log(VU_LOG_WARN, "%s is encrypted (%s) and no key was "
		       "given: exporting its encrypted content", v->id,
		       vu_kind_name(v->probe.kind));
	else if (keys->given && !v->unlocked && v->part &&
		 v->probe.kind == VU_KIND_UNKNOWN)
		/* ADE data disks may keep their LUKS header elsewhere */
		vu_log(VU_LOG_WARN, "%s holds nothing recognisable: if it is "
		       "LUKS data whose header is kept apart, give the header "
		       "with --luks-header, or the OS disk that keeps it "
		       "with --add-disk; exporting its stored content", v->id);
	return 0;
}

/* Open OUT (a file; standard output is the caller's) for writing from its
 * start: created, or with --force emptied.  On success *fd and *created;
 * on failure nothing is left open or created. */
static int open_output(const struct export_args *a, const struct vu_disk *d,
		       int *fd, int *created)
{
	struct stat st;
	int f, made = 0, r;

	*fd = -1;
	*created = 0;
	f = open(a->out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (f >= 0)
		made = 1;
	else if (errno == EEXIST && a->force)
		f = open(a->out, O_WRONLY | O_CLOEXEC);
	else if (errno == EEXIST)
		return vu_fail(-EEXIST, "%s: already exists; use --force to "
			       "overwrite it", a->out);
	if (f < 0)
		return vu_fail(-EIO, "%s: cannot create: %s", a->out,
			       strerror(errno));
	if (fstat(f, &st) < 0)
		r = vu_fail(-EIO, "%s: cannot stat: %s", a->out,
			    strerror(errno));
	else
		r = cli_check_not_image(d, &st, a->out);
	if (r == 0 && !made && S_ISREG(st.st_mode) && ftruncate(f, 0) < 0)
		r = vu_fail(-EIO, "%s: cannot truncate: %s", a->out,
			    strerror(errno));
	if (r < 0) {
		close(f);
		if (made)
			unlink(a->out);
		return r;
	}
	*fd = f;
	*created = made;
	return 0;
}

/* v to OUT: opened, copied, flushed and closed; a file this created is
 * removed on failure, so no half-written volume is left behind. */
static int export_volume(const struct export_args *a, const struct vu_disk *d,
			 struct vu_volume *v)
{
	struct stat st;
	int fd = STDOUT_FILENO, created = 0, sparse, r;

	if (!a->to_stdout) {
		r = open_output(a, d, &fd, &created);
		if (r < 0)
			return r;
	}
	sparse = !a->to_stdout && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	r = cli_copy_blk(v->blk, v->id, fd, sparse, a->out, a->threads);
	if (a->to_stdout)
		return r;
	if (r == 0 && fsync(fd) < 0 && errno != EINVAL)
		r = vu_fail(-EIO, "%s: %s", a->out, strerror(errno));
	if (close(fd) < 0 && r == 0)
		r = vu_fail(-EIO, "%s: %s", a->out, strerror(errno));
	if (r < 0 && created)
		unlink(a->out);
	return r;
}

int cmd_export(int argc, char **argv)
{
	struct cli_frame f = { 0 };
	struct export_args a;
	struct vu_volume *v;
	int r = 0, status = EXIT_OK;

	if (parse_args(argc, argv, &a, &f.keys, &status) < 0)
		goto out;
	r = cli_open_disk(a.image, &f.keys, &f.d);
	if (r < 0)
		goto out;
	v = find_volume(f.d, a.image, a.vol);
	if (!v) {
		r = -EINVAL;
		goto out;
	}
	status = check_unlocked(f.d, v, &f.keys);
	if (status == EXIT_OK)
		r = export_volume(&a, f.d, v);
out:
	return cli_frame_end(&f, r < 0 ? r : status);
}
