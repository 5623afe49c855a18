/* vhdunlock extract: copy a file or a directory tree out of a volume's file
 * system, keeping modification times and permission bits, and write a
 * sha256sum manifest of what was copied.  This file is the command: its
 * options, DEST, the two walks over the tree (the first counts and checks,
 * the second copies) and the result; extract.h lists the other steps. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/extract.h"
#include "core/log.h"

/* ---- messages ---- */

/* Entries the file system skips (fs_warn_skip) reach us only as warnings:
 * they are counted as failures, and our own warnings are not counted
 * twice.  During the first walk nothing is printed, the copy walk repeats
 * it. */
static void count_sink(enum vu_log_level level, const char *msg, void *arg)
{
	struct xtract *x = arg;

	if (level == VU_LOG_WARN && !x->own_warning && !x->prewalk)
		x->core_warnings++;
	if (x->prewalk || (int)level > x->log_max)
		return;
	if (x->pr.enabled)
		fputs("\r\033[K", stderr); /* not into the progress bar */
	cli_log_sink(level, msg, NULL);
}

static int log_level_now(void)
{
	int l = VU_LOG_TRACE;

	while (l > VU_LOG_ERROR && !vu_log_enabled((enum vu_log_level)l))
		l--;
	return l;
}

/* ---- the two cases: a tree, or one file or link ---- */

/* mkdir -p; 1 when the last component was made here. */
static int make_dest(const char *dest)
{
	char *p = strdup(dest);
	int made = 0;

	if (!p)
		return vu_fail(-ENOMEM, "out of memory");
	for (char *s = p + 1;; s++) {
		char c = *s;

		if (c && c != '/')
			continue;
		if (s[-1] == '/') { /* "a//b", "a/b/" */
			if (!c)
				break;
			continue;
		}
		*s = '\0';
		made = mkdir(p, 0700) == 0;
		if (!made && errno != EEXIST) {
			int e = errno;
			free(p);
			return vu_fail(-EIO, "%s: cannot create: %s", dest,
				       strerror(e));
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return made;
}

static int run_walks(struct xtract *x, int root, uint64_t ino)
{
	char what[600];
	int r;

	x->prewalk = 1;
	r = extract_walk_dir(x, -1, ino, root);
	x->prewalk = 0;
	if (r < 0)
		return r;
	if (x->conflicts)
		return vu_fail(-EEXIST, "%s: %lu file%s in the way%s; nothing "
			       "extracted", x->dest, x->conflicts,
			       x->conflicts == 1 ? "" : "s",
			       x->conflicts > SHOW_CONFLICTS ? " (the first "
			       "shown above)" : " (shown above)");
	snprintf(what, sizeof(what), "%s:%s", x->c->v->id, x->src);
	cli_progress_start(&x->pr, what, x->total);
	r = extract_walk_dir(x, root, ino, root);
	cli_progress_end(&x->pr);
	return r;
}

static int extract_tree(struct xtract *x, uint64_t ino,
			const struct vu_fs_stat *st)
{
	struct stat s;
	int made, root, r;

	if (stat(x->dest, &s) == 0 && !S_ISDIR(s.st_mode))
		return vu_fail(-ENOTDIR, "%s: exists and is not a directory",
			       x->dest);
	made = make_dest(x->dest);
	if (made < 0)
		return made;
	root = open(x->dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return vu_fail(-EIO, "%s: cannot open: %s", x->dest,
			       strerror(errno));
	x->anc[x->depth++] = ino;
	r = run_walks(x, root, ino);
	if (r == 0)
		r = manifest_write(&x->manifest, root, x->dest, &x->tmpseq);
	/* a DEST that was there before keeps its own mode and times */
	if (r == 0 && made && (r = extract_finish_dir(root, st)) < 0)
		r = vu_fail(r, "%s: %s", x->dest, strerror(-r));
	close(root);
	return r;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* A file, link or stream: into DEST when it is a directory (under the
 * source's own name), else as DEST. */
static int extract_one(struct xtract *x, const struct cli_fspath *p,
		       const struct vu_fs_stat *st, const char *stream)
{
	const char *src_base = base_name(stream ? p->base : p->path), *why;
	char *dir = NULL, *name = NULL;
	struct stat s;
	int dfd = -1, r;

	if (stat(x->dest, &s) == 0 && S_ISDIR(s.st_mode)) {
		dir = strdup(x->dest);
		if (stream)
			r = asprintf(&name, "%s:%s", src_base, stream);
		else
			name = strdup(src_base), r = 0;
	} else if (x->dest[strlen(x->dest) - 1] == '/') {
		r = vu_fail(-ENOENT, "%s: no such directory", x->dest);
		goto out;
	} else {
		const char *b = base_name(x->dest);

		size_t n = (size_t)(b - x->dest);

		while (n > 1 && x->dest[n - 1] == '/') /* "a//b" */
			n--;
		dir = b == x->dest ? strdup(".") : strndup(x->dest, n);
		name = strdup(b);
		r = 0;
	}
	if (r < 0 || !dir || !name) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto out;
	}
	if (extract_bad_name(name) || !strcmp(name, MANIFEST)) {
		r = vu_fail(-EINVAL, "%s: cannot extract to the name \"%s\"",
			    x->dest, name);
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = vu_fail(-EIO, "%s: cannot open: %s", dir, strerror(errno));
		goto out;
	}
	/* messages and the manifest name the file relative to dir */
	x->dest = dir;
	x->src = p->path;
	r = extract_path_push(x, name);
	if (r < 0)
		goto out;
	why = extract_in_the_way(x, dfd, 0);
	if (why) {
		r = vu_fail(-EEXIST, "%s/%s: already exists%s", dir, name, why);
		goto out;
	}
	x->prewalk = 1;
	if (S_ISREG(st->mode) && !stream && st->nstreams)
		r = extract_streams(x, -1, name, st, dfd);
	x->prewalk = 0;
	if (r == 0 && x->conflicts)
		r = vu_fail(-EEXIST, "%s: %lu stream file%s in the way; nothing "
			    "extracted", dir, x->conflicts,
			    x->conflicts == 1 ? "" : "s");
	if (r < 0)
		goto out;
	x->total += S_ISREG(st->mode) || stream ? st->size : 0;
	cli_progress_start(&x->pr, p->path, x->total);
	if (S_ISLNK(st->mode) && !stream)
		r = extract_link(x, dfd, name, st);
	else
		r = extract_file(x, dfd, name, st, stream);
	if (r == 0 && S_ISREG(st->mode) && !stream && st->nstreams)
		r = extract_streams(x, dfd, name, st, dfd);
	cli_progress_end(&x->pr);
	if (r == 0)
		r = manifest_write(&x->manifest, dfd, dir, &x->tmpseq);
out:
	if (dfd >= 0)
		close(dfd);
	free(dir);
	free(name);
	return r;
}

static int run(struct xtract *x, const struct cli_fspath *p)
{
	struct cli_fsnode n;
	int r = cli_fs_resolve(x->c, p, 0, &n);

	if (r < 0)
		return r;
	x->src = p->path;
	if (S_ISDIR(n.st.mode) && !n.stream)
		return extract_tree(x, n.ino, &n.st);
	if (!S_ISREG(n.st.mode) && !S_ISLNK(n.st.mode) && !n.stream)
		return cli_fs_fail(x->c, p->path,
				   vu_fail(-EINVAL, "not a regular file, "
					   "directory or symbolic link"));
	if (n.stream) {
		struct vu_fs_file *f;

		r = cli_fs_open_data(x->c, p, &n, &f);
		if (r < 0)
			return r;
		n.st.size = vu_fs_file_size(f);
		vu_fs_file_close(f);
	}
	return extract_one(x, p, &n.st, n.stream);
}

static const char help[] =
	"Usage: vhdunlock extract IMAGE VOLUME:PATH DEST [KEYS] [--force]\n"
	"Copy a file out of a volume's file system to DEST (into DEST when it "
	"is a\ndirectory), or a directory's whole tree into DEST (made when "
	"missing).\nModification times and permission bits are kept (set-id "
	"bits dropped),\nsymbolic links are recreated, hard links become "
	"copies, devices and fifos\nare skipped; all-zero blocks become holes.  "
	"DEST/" MANIFEST "\nlists every file copied, for sha256sum -c.\n"
	"\n"
	"  --force  overwrite existing files (never directories)\n";

static int finish(struct xtract *x, int r)
{
	unsigned long bad = x->failed + x->core_warnings;

	if (r < 0)
		return cli_fail(r);
	vu_log(VU_LOG_INFO, "%lu file%s copied, %lu other entr%s made, %lu "
	       "skipped", x->files, x->files == 1 ? "" : "s", x->entries,
	       x->entries == 1 ? "y" : "ies", x->skipped);
	if (!bad)
		return EXIT_OK;
	fprintf(stderr, "%s: %s: %s:%s: %lu entr%s could not be extracted "
		"(see the warnings above)\n", vu_prog, x->c->image,
		x->c->v->id, x->src, bad, bad == 1 ? "y" : "ies");
	return EXIT_FAIL;
}

static const struct cli_command extract_command = {
	CLI_COMMAND("extract", help, "IMAGE VOLUME:PATH DEST", 3, 3, "h"),
	.longopts = {
		{ "force", no_argument, NULL, 'f' },
		CLI_COMMON_OPTIONS,
	},
};

int cmd_extract(int argc, char **argv)
{
	struct cli_fscmd f = { 0 };
	struct xtract x = { 0 };
	int ch, r;

	while ((ch = cli_next_option(&extract_command, argc, argv,
				     &f.frame.keys, &r)) > 0)
		if (ch == 'f')
			x.force = 1;
	if (ch < 0)
		goto out;
	r = cli_fspath_operand(extract_command.name, argv[optind + 1],
			       &f.path);
	if (r != EXIT_OK)
		goto out;
	x.dest = argv[optind + 2];
	if (!x.dest[0]) {
		r = cli_usage("extract: DEST is empty");
		goto out;
	}
	r = cli_fscmd_open(&f, argv[optind]);
	if (r != EXIT_OK)
		goto out;
	x.c = &f.c;
	x.src = f.path.path;
	r = extract_note_images(&x, f.frame.d);
	if (r < 0) {
		r = cli_fail(r);
		goto out;
	}
	x.buf = malloc(EXTRACT_CHUNK);
	if (!x.buf) {
		r = cli_fail(vu_fail(-ENOMEM, "out of memory"));
		goto out;
	}
	/* warnings reach count_sink even under -q, which prints only what
	 * the user asked for */
	x.log_max = log_level_now();
	vu_log_set_sink(count_sink, &x);
	if (x.log_max < VU_LOG_WARN)
		vu_log_set_level(VU_LOG_WARN);
	r = run(&x, &f.path);
	vu_log_set_sink(cli_log_sink, NULL);
	vu_log_set_level((enum vu_log_level)x.log_max);
	r = finish(&x, r);
out:
	manifest_free(&x.manifest);
	free(x.img);
	free(x.rel);
	free(x.buf);
	cli_fscmd_close(&f);
	return r;
}
