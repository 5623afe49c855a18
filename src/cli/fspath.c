/* VOLUME:PATH[:STREAM] arguments and the file system of the volume they
 * name, for ls, cat and extract. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/fspath.h"
#include "core/error.h"

#define MAX_LINKS 40 /* as Linux's MAXSYMLINKS */

int cli_fspath_parse(const char *arg, struct cli_fspath *p)
{
	const char *colon = strchr(arg, ':'), *rest, *last;
	size_t n;

	memset(p, 0, sizeof(*p));
	/* Volume ids (p2, d1p2, VG-LV) never hold a ':', so the first one
	 * ends the id; everything after it is the path. */
	if (!colon)
		return vu_fail(-EINVAL, "'%s' is not VOLUME:PATH (for example "
			       "p1:/etc/fstab; p1:/ is the root)", arg);
	n = (size_t)(colon - arg);
	if (n == 0 || n >= sizeof(p->vol))
		return vu_fail(-EINVAL, "'%s': the volume id before ':' is %s",
			       arg, n ? "too long" : "missing");
	memcpy(p->vol, arg, n);
	p->vol[n] = '\0';
	rest = colon + 1;
	/* "p1:" is the root and "p1:etc/fstab" is taken from the root: a
	 * volume has no current directory to be relative to. */
	if (asprintf(&p->path, "%s%s", rest[0] == '/' ? "" : "/", rest) < 0) {
		p->path = NULL;
		return vu_fail(-ENOMEM, "out of memory");
	}
	last = strrchr(p->path, '/') + 1;
	colon = strrchr(last, ':');
	if (colon && colon > last && colon[1]) {
		p->base = strndup(p->path, (size_t)(colon - p->path));
		p->stream = strdup(colon + 1);
		if (!p->base || !p->stream) {
			cli_fspath_free(p);
			return vu_fail(-ENOMEM, "out of memory");
		}
	}
	return 0;
}

int cli_fspath_operand(const char *cmd, const char *arg,
		       struct cli_fspath *p)
{
	int r;

	if (cli_fspath_parse(arg, p) == 0)
		return EXIT_OK;
	r = cli_usage("%s: %s", cmd, vu_errmsg(-EINVAL));
	vu_err_clear();
	return r;
}

void cli_fspath_free(struct cli_fspath *p)
{
	free(p->path);
	free(p->base);
	free(p->stream);
	memset(p, 0, sizeof(*p));
}

/* ---- the volume ---- */

static void list_ids(const struct vu_disk *d, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t i = 0; i < d->nvolumes; i++) {
		size_t l = strlen(out);
		snprintf(out + l, size - l, "%s%s", l ? ", " : "",
			 d->volumes[i].id);
	}
}

static int is_fs_kind(enum vu_kind k)
{
	return k == VU_KIND_NTFS || k == VU_KIND_EXT2 || k == VU_KIND_EXT3 ||
	       k == VU_KIND_EXT4 || k == VU_KIND_XFS || k == VU_KIND_FAT;
}

const char *cli_fs_state(const struct vu_volume *v)
{
	enum vu_kind k = vu_volume_content(v)->kind;

	if (v->error)
		return "unreadable";
	if (vu_volume_encrypted(v) && !v->unlocked)
		return "locked";
	if (vu_fs_supported(k))
		return "readable";
	return is_fs_kind(k) ? "not supported" : "no file system";
}

/* What a locked volume needs, with its protectors or key slots, so that
 * the user can pick the right key (exit status 3, CLI.md). */
static int need_key(const struct cli_fsvol *c)
{
	const struct vu_volume *v = c->v;
	const struct vu_bde *bde = vu_volume_bde(v);
	const struct vu_luks *luks = vu_volume_luks(v);
	char list[1024] = "";

	if (bde) {
		const struct vu_bde_info *in = vu_bde_info(bde);

		for (size_t k = 0; k < in->nprotectors; k++) {
			size_t l = strlen(list);
			snprintf(list + l, sizeof(list) - l, "%s%s {%s}",
				 k ? ", " : "; its protectors are: ",
				 in->protectors[k].type_name,
				 in->protectors[k].guid);
		}
		fprintf(stderr, "%s: %s: volume %s is encrypted with BitLocker "
			"and locked: give its key with --bek FILE|DIR, "
			"--recovery-password-file FILE or --password-file "
			"FILE%s\n", vu_prog, c->image, v->id, list);
	} else {
		if (luks) {
			const struct vu_luks_info *in = vu_luks_info(luks);

			for (size_t k = 0; k < in->nkeyslots; k++) {
				size_t l = strlen(list);
				snprintf(list + l, sizeof(list) - l, "%s%d",
					 k ? ", " : "; its key slots are: ",
					 in->keyslots[k].index);
			}
		}
		fprintf(stderr, "%s: %s: volume %s is encrypted with LUKS and "
			"locked: give its key with --passphrase-file FILE or "
			"--key-file FILE (and --luks-header FILE when its header "
			"is kept apart)%s\n", vu_prog, c->image, v->id, list);
	}
	return EXIT_NOKEY;
}

static int no_fs(const struct cli_fsvol *c, int keys_given)
{
	const struct vu_volume *v = c->v;
	enum vu_kind k = vu_volume_content(v)->kind;
	const char *why;

	if (k == VU_KIND_LVM2)
		why = "an LVM physical volume: its logical volumes have ids of "
		      "their own (VG-LV, see 'vhdunlock ls IMAGE')";
	else if (is_fs_kind(k))
		why = "a file system vhdunlock does not read yet";
	else if (k == VU_KIND_UNKNOWN && keys_given && v->part)
		why = "nothing recognisable: if it is LUKS data whose header is "
		      "kept apart, give the header with --luks-header, or the OS "
		      "disk that keeps it with --add-disk";
	else
		why = "no file system";
	fprintf(stderr, "%s: %s: volume %s holds %s%s%s\n", vu_prog, c->image,
		v->id, k == VU_KIND_UNKNOWN ? "" : vu_kind_name(k),
		k == VU_KIND_UNKNOWN ? "" : ", ", why);
	return EXIT_FAIL;
}

int cli_fsvol_open(struct cli_fsvol *c, struct vu_disk *d, const char *image,
		   const char *id, int keys_given)
{
	struct vu_volume *v;
	char ids[512];
	int r;

	memset(c, 0, sizeof(*c));
	c->image = image;
	c->d = d;
	v = vu_disk_volume(d, id);
	if (!v) {
		list_ids(d, ids, sizeof(ids));
		fprintf(stderr, "%s: %s: no volume '%s'; the volumes are: %s\n",
			vu_prog, image, id, ids[0] ? ids : "(none)");
		return EXIT_FAIL;
	}
	c->v = v;
	if (v->error) {
		fprintf(stderr, "%s: %s: cannot read volume %s: %s\n", vu_prog,
			image, v->id, v->error);
		return EXIT_FAIL;
	}
	if (vu_volume_encrypted(v) && !v->unlocked)
		return keys_given && v->lock_error ? cli_locked_fail(v)
						   : need_key(c);
	if (d->lock_error && !v->unlocked && v->probe.kind == VU_KIND_UNKNOWN)
		return cli_disk_locked_fail(d); /* its --luks-header failed */
	if (!vu_fs_supported(vu_volume_content(v)->kind))
		return no_fs(c, keys_given);
	r = vu_fs_open(v->blk, vu_volume_content(v)->kind, &c->fs);
	if (r < 0) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", vu_errmsg(r));
		vu_err_clear();
		vu_fail(r, "%s: volume %s: cannot read its %s file system: %s",
			image, v->id, vu_kind_name(vu_volume_content(v)->kind),
			msg);
		return cli_fail(r);
	}
	return EXIT_OK;
}

void cli_fsvol_close(struct cli_fsvol *c)
{
	vu_fs_close(c->fs);
	c->fs = NULL;
}

int cli_fscmd_open(struct cli_fscmd *f, const char *image)
{
	struct cli_frame *fr = &f->frame;
	int r = cli_open_disk(image, &fr->keys, &fr->d);

	if (r < 0)
		return cli_fail(r);
	return cli_fsvol_open(&f->c, fr->d, image, f->path.vol,
			      fr->keys.given);
}

void cli_fscmd_close(struct cli_fscmd *f)
{
	cli_fsvol_close(&f->c);
	cli_fspath_free(&f->path);
	cli_frame_close(&f->frame);
}

int cli_fs_fail(const struct cli_fsvol *c, const char *path, int err)
{
	char detail[1024];

	/* A user's mistake gets a plain sentence; a damaged or unsupported
	 * structure keeps the core's message, which names the layers, the
	 * inode and what was expected. */
	switch (err) {
	case -ENOENT:
		snprintf(detail, sizeof(detail), "no such file or directory");
		break;
	case -ENOTDIR:
		snprintf(detail, sizeof(detail), "a component of the path is "
			 "not a directory");
		break;
	case -EISDIR:
		snprintf(detail, sizeof(detail), "is a directory");
		break;
	case -ELOOP:
		snprintf(detail, sizeof(detail), "more than %d symbolic links "
			 "(a loop?)", MAX_LINKS);
		break;
	default:
		snprintf(detail, sizeof(detail), "%s", vu_errmsg(err));
	}
	vu_err_clear();
	return vu_fail(err, "%s: %s:%s: %s", c->image, c->v->id, path, detail);
}

/* ---- paths ---- */

/* A symlink's target, in a new buffer. */
static int read_target(struct cli_fsvol *c, uint64_t ino, uint64_t size,
		       char **out)
{
	size_t n = size < 4096 ? 4096 : (size_t)size + 1;
	char *buf;
	int r;

	*out = NULL;
	if (size > (1u << 20))
		return vu_fail(-EUCLEAN, "symbolic link target of %" PRIu64
			       " bytes", size);
	buf = malloc(n);
	if (!buf)
		return vu_fail(-ENOMEM, "out of memory");
	r = vu_fs_readlink(c->fs, ino, buf, n);
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf; /* transferred */
	return 0;
}

/* Follow the link at ino: the new path to walk is its target followed by
 * what was left of the old one. */
static int splice_link(struct cli_fsvol *c, uint64_t ino, uint64_t size,
		       const char *left, char **path)
{
	char *target, *np;
	int r = read_target(c, ino, size, &target);

	if (r < 0)
		return r;
	if (!target[0]) {
		free(target);
		return vu_fail(-EUCLEAN, "empty symbolic link target");
	}
	if (asprintf(&np, "%s/%s", target, left) < 0) {
		free(target);
		return vu_fail(-ENOMEM, "out of memory");
	}
	free(target);
	free(*path);
	*path = np;
	return 0;
}

/* Resolve path one component at a time, following symbolic links in the
 * middle (and at the end when follow, or when a '/' follows the name) with
 * absolute targets taken from the volume's root.  vu_fs_lookup_path does
 * not follow links, and a volume of a VM is full of them (/bin, /lib). */
static int walk(struct cli_fsvol *c, const char *path, int follow,
		uint64_t *ino, struct vu_fs_stat *st)
{
	char *cur_path = strdup(path), name[1024];
	uint64_t cur = vu_fs_root(c->fs), next;
	struct vu_fs_stat cst, nst;
	const char *p;
	int hops = 0, r;

	if (!cur_path)
		return vu_fail(-ENOMEM, "out of memory");
	r = vu_fs_getattr(c->fs, cur, &cst);
	for (p = cur_path; r == 0;) {
		size_t n;
		int last;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (!n)
			break;
		if (n >= sizeof(name)) {
			r = vu_fail(-ENAMETOOLONG, "name too long");
			break;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		if (!strcmp(name, "."))
			continue;
		if (!S_ISDIR(cst.mode)) {
			r = -ENOTDIR;
			break;
		}
		r = vu_fs_lookup(c->fs, cur, name, &next);
		if (r == 0)
			r = vu_fs_getattr(c->fs, next, &nst);
		if (r < 0)
			break;
		last = p[strspn(p, "/")] == '\0';
		if (S_ISLNK(nst.mode) && (!last || follow || *p == '/')) {
			if (++hops > MAX_LINKS) {
				r = -ELOOP;
				break;
			}
			r = splice_link(c, next, nst.size, p, &cur_path);
			if (r < 0)
				break;
			p = cur_path;
			if (*p == '/') { /* absolute: from the volume's root */
				cur = vu_fs_root(c->fs);
				r = vu_fs_getattr(c->fs, cur, &cst);
			}
			continue;
		}
		cur = next;
		cst = nst;
	}
	free(cur_path);
	/* "file/" names a directory, as in the kernel */
	if (r == 0 && path[0] && path[strlen(path) - 1] == '/' &&
	    !S_ISDIR(cst.mode))
		r = -ENOTDIR;
	if (r < 0)
		return r;
	*ino = cur;
	*st = cst;
	return 0;
}

int cli_fs_resolve(struct cli_fsvol *c, const struct cli_fspath *p,
		   int follow, struct cli_fsnode *n)
{
	int r;

	n->ino = 0;
	n->stream = NULL;
	r = walk(c, p->path, follow, &n->ino, &n->st);
	if (r == -ENOENT && p->base) {
		/* "a.txt:Zone.Identifier": not a file of that name, so the
		 * stream Zone.Identifier of a.txt (NTFS; on ext and XFS the
		 * open of the stream fails with -ENOENT naming it). */
		vu_err_clear();
		r = walk(c, p->base, follow, &n->ino, &n->st);
		if (r == 0) {
			n->stream = p->stream;
			return 0;
		}
	}
	return r < 0 ? cli_fs_fail(c, p->path, r) : 0;
}

int cli_fs_open_data(struct cli_fsvol *c, const struct cli_fspath *p,
		     const struct cli_fsnode *n, struct vu_fs_file **f)
{
	int r = vu_fs_file_open(c->fs, n->ino, n->stream, f);

	if (r == -ENOENT && n->stream) {
		vu_err_clear();
		return vu_fail(r, "%s: %s:%s: no such file, and %s has no "
			       "stream \"%s\"", c->image, c->v->id, p->path,
			       p->base, n->stream);
	}
	return r < 0 ? cli_fs_fail(c, p->path, r) : 0;
}

void cli_iso_time(const struct timespec *ts, int nanos, char *out,
		  size_t size)
{
	struct tm tm;
	time_t t = ts->tv_sec;
	size_t n;

	if (!gmtime_r(&t, &tm)) {
		snprintf(out, size, "?");
		return;
	}
	n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (nanos)
		snprintf(out + n, size - n, ".%09ldZ", (long)ts->tv_nsec);
	else
		snprintf(out + n, size - n, "Z");
}
