/* vhdunlock ls: the volumes of an image, or the entries of a directory in
 * a volume's file system (names; -l long lines; --json objects). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/fspath.h"
#include "core/error.h"
#include "core/log.h"

struct stream {
	char *name;
	uint64_t size;
};

struct entry {
	char *name;
	struct vu_fs_stat st;
	char *target;		/* symlinks, with -l or --json */
	struct stream *streams;	/* NTFS named streams (-l, --json) */
	size_t nstreams;
};

struct listing {
	struct entry *e;
	size_t n, cap;
	int failed;		/* a link or stream list could not be read */
};

static int add_entry(struct listing *l, const char *name,
		     const struct vu_fs_stat *st)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct entry *e = realloc(l->e, cap * sizeof(*e));

		if (!e)
			return vu_fail(-ENOMEM, "out of memory");
		l->e = e;
		l->cap = cap;
	}
	memset(&l->e[l->n], 0, sizeof(l->e[0]));
	l->e[l->n].name = strdup(name);
	if (!l->e[l->n].name)
		return vu_fail(-ENOMEM, "out of memory");
	l->e[l->n++].st = *st;
	return 0;
}

static int collect(void *ctx, const char *name, const struct vu_fs_stat *st)
{
	return add_entry(ctx, name, st);
}

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->e[i].name);
		free(l->e[i].target);
		for (size_t k = 0; k < l->e[i].nstreams; k++)
			free(l->e[i].streams[k].name);
		free(l->e[i].streams);
	}
	free(l->e);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name,
		      ((const struct entry *)b)->name);
}

static int add_stream(void *ctx, const char *name, uint64_t size)
{
	struct entry *e = ctx;
	struct stream *s = realloc(e->streams, (e->nstreams + 1) * sizeof(*s));

	if (!s)
		return vu_fail(-ENOMEM, "out of memory");
	e->streams = s;
	s[e->nstreams].name = strdup(name);
	if (!s[e->nstreams].name)
		return vu_fail(-ENOMEM, "out of memory");
	s[e->nstreams++].size = size;
	return 0;
}

/* What -l and --json show beyond readdir's attributes: link targets and
 * stream lists.  One that cannot be read is a warning, not the end. */
static int add_details(struct cli_fsvol *c, const char *dir,
		       struct listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct entry *e = &l->e[i];
		int r = 0;

		if (S_ISLNK(e->st.mode)) {
			size_t n = e->st.size < 4096 ? 4096
						     : (size_t)e->st.size + 1;
			e->target = e->st.size <= (1u << 20) ? malloc(n) : NULL;
			if (!e->target)
				r = vu_fail(-ENOMEM, "out of memory");
			else
				r = vu_fs_readlink(c->fs, e->st.ino, e->target,
						   n);
		} else if (e->st.nstreams) {
			r = vu_fs_streams(c->fs, e->st.ino, add_stream, e);
		}
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			vu_log(VU_LOG_WARN, "%s: %s:%s%s%s: %s", c->image,
			       c->v->id, dir, strcmp(dir, "/") ? "/" : "",
			       e->name, vu_errmsg(r));
			vu_err_clear();
			free(e->target);
			e->target = NULL;
			l->failed = 1;
		}
	}
	return 0;
}

/* ---- text ---- */

static void mode_string(uint32_t m, char s[11])
{
	static const char rwx[] = "rwxrwxrwx";

	switch (m & S_IFMT) {
	case S_IFDIR: s[0] = 'd'; break;
	case S_IFLNK: s[0] = 'l'; break;
	case S_IFCHR: s[0] = 'c'; break;
	case S_IFBLK: s[0] = 'b'; break;
	case S_IFIFO: s[0] = 'p'; break;
	case S_IFSOCK: s[0] = 's'; break;
	default: s[0] = '-';
	}
	for (int i = 0; i < 9; i++)
		s[1 + i] = m & (0400u >> i) ? rwx[i] : '-';
	if (m & S_ISUID)
		s[3] = m & S_IXUSR ? 's' : 'S';
	if (m & S_ISGID)
		s[6] = m & S_IXGRP ? 's' : 'S';
	if (m & S_ISVTX)
		s[9] = m & S_IXOTH ? 't' : 'T';
	s[10] = '\0';
}

struct widths {
	int nlink, uid, gid, size;
};

static int digits(uint64_t v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static void widen(struct widths *w, const struct entry *e)
{
	int d;

	if ((d = digits(e->st.nlink)) > w->nlink)
		w->nlink = d;
	if ((d = digits(e->st.uid)) > w->uid)
		w->uid = d;
	if ((d = digits(e->st.gid)) > w->gid)
		w->gid = d;
	if ((d = digits(e->st.size)) > w->size)
		w->size = d;
	for (size_t k = 0; k < e->nstreams; k++)
		if ((d = digits(e->streams[k].size)) > w->size)
			w->size = d;
}

static void long_line(const struct vu_fs_stat *st, const struct widths *w,
		      uint64_t size, const char *name, const char *stream,
		      const char *target)
{
	char mode[11], t[40];

	mode_string(st->mode, mode);
	cli_iso_time(&st->mtime, 0, t, sizeof(t));
	printf("%s %*" PRIu32 " %*" PRIu32 " %*" PRIu32 " %*" PRIu64 " %s %s%s%s"
	       "%s%s\n", mode, w->nlink, st->nlink, w->uid, st->uid, w->gid,
	       st->gid, w->size, size, t, name, stream ? ":" : "",
	       stream ? stream : "", target ? " -> " : "",
	       target ? target : "");
}

/* -l: one line per entry; a file's named streams follow it as lines of
 * their own, NAME:STREAM with the stream's size (the other columns are the
 * file's). */
static void print_long(const struct listing *l)
{
	struct widths w = { 1, 1, 1, 1 };

	for (size_t i = 0; i < l->n; i++)
		widen(&w, &l->e[i]);
	for (size_t i = 0; i < l->n; i++) {
		const struct entry *e = &l->e[i];

		long_line(&e->st, &w, e->st.size, e->name, NULL,
			  S_ISLNK(e->st.mode) ? (e->target ? e->target : "?")
					      : NULL);
		for (size_t k = 0; k < e->nstreams; k++)
			long_line(&e->st, &w, e->streams[k].size, e->name,
				  e->streams[k].name, NULL);
	}
}

/* ---- JSON ---- */

static const char *type_name(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "symlink";
	default: return "other";
	}
}

static json_object *jtime(const struct timespec *ts)
{
	char t[48];

	cli_iso_time(ts, 1, t, sizeof(t));
	return json_object_new_string(t);
}

static json_object *flags_json(uint32_t f)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ VU_FS_F_COMPRESSED, "compressed" },
		{ VU_FS_F_SPARSE, "sparse" },
		{ VU_FS_F_REPARSE, "reparse" },
		{ VU_FS_F_ENCRYPTED, "encrypted" },
	};
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (f & names[i].bit)
			json_object_array_add(
				a, json_object_new_string(names[i].name));
	return a;
}

static json_object *entry_json(const struct entry *e)
{
	const struct vu_fs_stat *st = &e->st;
	json_object *o = json_object_new_object(), *s;
	char mode[8];

	snprintf(mode, sizeof(mode), "%04o", st->mode & 07777u);
	json_object_object_add(o, "name", json_object_new_string(e->name));
	json_object_object_add(o, "type",
			       json_object_new_string(type_name(st->mode)));
	json_object_object_add(o, "size", json_object_new_uint64(st->size));
	json_object_object_add(o, "mode", json_object_new_string(mode));
	json_object_object_add(o, "uid", json_object_new_uint64(st->uid));
	json_object_object_add(o, "gid", json_object_new_uint64(st->gid));
	json_object_object_add(o, "nlink", json_object_new_uint64(st->nlink));
	json_object_object_add(o, "inode", json_object_new_uint64(st->ino));
	json_object_object_add(o, "mtime", jtime(&st->mtime));
	json_object_object_add(o, "atime", jtime(&st->atime));
	json_object_object_add(o, "ctime", jtime(&st->ctime));
	json_object_object_add(o, "btime",
			       st->has_btime ? jtime(&st->btime) : NULL);
	if (S_ISLNK(st->mode))
		json_object_object_add(o, "target",
				       e->target ? json_object_new_string(
							   e->target)
						 : NULL);
	s = json_object_new_array();
	for (size_t k = 0; k < e->nstreams; k++) {
		json_object *so = json_object_new_object();

		json_object_object_add(
			so, "name", json_object_new_string(e->streams[k].name));
		json_object_object_add(
			so, "size", json_object_new_uint64(e->streams[k].size));
		json_object_array_add(s, so);
	}
	json_object_object_add(o, "streams", s);
	json_object_object_add(o, "flags", flags_json(st->flags));
	return o;
}

static void print_json(json_object *a)
{
	puts(json_object_to_json_string_ext(
		a, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
}

static void print_entries_json(const struct listing *l)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < l->n; i++)
		json_object_array_add(a, entry_json(&l->e[i]));
	print_json(a);
}

/* ---- the volumes (no path) ---- */

static void kind_string(const struct vu_volume *v, char *out, size_t size)
{
	if (v->unlocked)
		snprintf(out, size, "%s (%s)", vu_kind_name(v->probe.kind),
			 vu_kind_name(v->inner.kind));
	else
		snprintf(out, size, "%s", vu_kind_name(v->probe.kind));
}

static void list_volumes_json(const struct vu_disk *d)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < d->nvolumes; i++) {
		const struct vu_volume *v = &d->volumes[i];
		const struct vu_probe *p = vu_volume_content(v);
		json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_string(v->id));
		json_object_object_add(
			o, "kind",
			json_object_new_string(vu_kind_name(v->probe.kind)));
		json_object_object_add(
			o, "content",
			vu_volume_encrypted(v) && !v->unlocked
				? NULL
				: json_object_new_string(vu_kind_name(p->kind)));
		json_object_object_add(o, "size",
				       json_object_new_uint64(v->blk->size));
		json_object_object_add(o, "label",
				       json_object_new_string(p->label));
		json_object_object_add(o, "uuid",
				       json_object_new_string(p->uuid));
		json_object_object_add(
			o, "files", json_object_new_string(cli_fs_state(v)));
		json_object_array_add(a, o);
	}
	print_json(a);
}

static void list_volumes_text(const struct vu_disk *d)
{
	printf("%-16s %-18s %10s  %-16s %s\n", "ID", "KIND", "SIZE", "LABEL",
	       "FILES");
	for (size_t i = 0; i < d->nvolumes; i++) {
		const struct vu_volume *v = &d->volumes[i];
		const struct vu_probe *p = vu_volume_content(v);
		char kind[64], size[32];

		kind_string(v, kind, sizeof(kind));
		vu_human_size(v->blk->size, size, sizeof(size));
		printf("%-16s %-18s %10s  %-16s %s\n", v->id, kind, size,
		       p->label[0] ? p->label : "-", cli_fs_state(v));
	}
}

/* Like info: the listing is shown, then what could not be read or
 * unlocked decides the exit status. */
static int list_volumes(const struct vu_disk *d, const char *image, int json,
			int keys_given)
{
	int r = EXIT_OK;

	if (json)
		list_volumes_json(d);
	else
		list_volumes_text(d);
	for (size_t i = 0; i < d->nvolumes; i++) {
		if (!d->volumes[i].error)
			continue;
		fprintf(stderr, "%s: %s: cannot read volume %s: %s\n", vu_prog,
			image, d->volumes[i].id, d->volumes[i].error);
		r = EXIT_FAIL;
	}
	return cli_locked_status(d, keys_given, r);
}

/* ---- one path ---- */

/* The name a single file is listed under: as given, like ls(1); JSON has
 * the entry's own name. */
static const char *last_name(const char *path)
{
	const char *end = path + strlen(path), *s;

	while (end > path + 1 && end[-1] == '/')
		end--;
	for (s = end; s > path && s[-1] != '/'; s--)
		;
	return s;
}

static int list_stream(struct cli_fsvol *c, const struct cli_fspath *p,
		       const struct cli_fsnode *n, int lng, int json)
{
	struct vu_fs_file *f;
	struct listing l = { 0 };
	struct widths w = { 1, 1, 1, 1 };
	uint64_t size;
	int r = cli_fs_open_data(c, p, n, &f);

	if (r < 0)
		return r;
	size = vu_fs_file_size(f);
	vu_fs_file_close(f);
	if (!lng && !json) {
		printf("%s\n", p->path);
		return 0;
	}
	r = add_entry(&l, last_name(p->path), &n->st);
	if (r < 0) {
		listing_free(&l);
		return r;
	}
	l.e[0].st.size = size; /* the stream's, not the file's */
	if (json) {
		print_entries_json(&l);
	} else {
		widen(&w, &l.e[0]);
		long_line(&n->st, &w, size, p->path, NULL, NULL);
	}
	listing_free(&l);
	return 0;
}

static int list_path(struct cli_fsvol *c, const struct cli_fspath *p, int lng,
		     int json)
{
	struct listing l = { 0 };
	struct cli_fsnode n;
	int r = cli_fs_resolve(c, p, 0, &n);

	if (r < 0)
		return r;
	if (n.stream)
		return list_stream(c, p, &n, lng, json);
	if (S_ISDIR(n.st.mode)) {
		r = vu_fs_readdir(c->fs, n.ino, collect, &l);
		if (r < 0) {
			r = cli_fs_fail(c, p->path, r);
			goto out;
		}
		if (l.n)
			qsort(l.e, l.n, sizeof(l.e[0]), by_name);
	} else {
		r = add_entry(&l, json ? last_name(p->path) : p->path, &n.st);
		if (r < 0)
			goto out;
	}
	if (lng || json) {
		r = add_details(c, p->path, &l);
		if (r < 0)
			goto out;
	}
	if (json) {
		print_entries_json(&l);
	} else if (lng) {
		print_long(&l);
	} else {
		for (size_t i = 0; i < l.n; i++)
			printf("%s\n", l.e[i].name);
	}
	r = l.failed ? 1 : 0;
out:
	listing_free(&l);
	return r;
}

static const char help[] =
	"Usage: vhdunlock ls IMAGE [VOLUME:PATH] [KEYS] [-l] [--json]\n"
	"Without a path: list the volumes of IMAGE and whether their files can "
	"be read.\nWith VOLUME:PATH (p1:/etc, rootvg-rootlv:/home): list the "
	"directory, sorted\nby name, or the one file the path names.  Symbolic "
	"links in the middle of the\npath are followed inside the volume; one "
	"at the end is listed itself.\n"
	"\n"
	"  -l      long listing: mode, links, uid, gid, size, mtime (UTC),\n"
	"          name, -> target for symbolic links; NTFS named streams\n"
	"          follow their file as NAME:STREAM lines\n"
	"  --json  a JSON array of entries (schema: man vhdunlock)\n";

static const struct cli_command ls_command = {
	CLI_COMMAND("ls", help, "IMAGE [VOLUME:PATH]", 1, 2, "hl"),
	.longopts = {
		{ "json", no_argument, NULL, 'j' },
		{ "long", no_argument, NULL, 'l' },
		CLI_COMMON_OPTIONS,
	},
};

int cmd_ls(int argc, char **argv)
{
	struct cli_fscmd f = { 0 };
	int json = 0, lng = 0, ch, r;

	while ((ch = cli_next_option(&ls_command, argc, argv, &f.frame.keys,
				     &r)) > 0) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'l':
			lng = 1;
			break;
		}
	}
	if (ch < 0)
		goto out;
	if (argc - optind == 1) {
		struct cli_frame *fr = &f.frame;

		r = cli_open_disk(argv[optind], &fr->keys, &fr->d);
		r = r < 0 ? cli_fail(r)
			  : list_volumes(fr->d, argv[optind], json,
					 fr->keys.given);
		goto out;
	}
	r = cli_fspath_operand(ls_command.name, argv[optind + 1], &f.path);
	if (r != EXIT_OK)
		goto out;
	r = cli_fscmd_open(&f, argv[optind]);
	if (r != EXIT_OK)
		goto out;
	r = list_path(&f.c, &f.path, lng, json);
	if (r < 0)
		r = cli_fail(r);
	else if (r > 0)
		r = EXIT_FAIL; /* listed, with warnings */
	if (fflush(stdout) != 0 && r == EXIT_OK)
		r = cli_fail(vu_fail(-EIO, "standard output: %s",
				     strerror(errno)));
out:
	cli_fscmd_close(&f);
	return r;
}
