/* File systems (src/fs): ext2, ext3, ext4 (with and without inline data)
 * and XFS v4/v5 images made by the real tools from a source tree
 * (tests/unit/fs_images.sh), walked through vu_fs and compared with the
 * tree: every name, the bytes of every file (whole, and at odd offsets
 * and lengths across extent boundaries), attributes against lstat(2),
 * holes and unwritten extents over stale data, symlink targets, hard
 * links, 3000-entry directories; errors (missing, not a directory,
 * symlink mid-path, buffer too small, wrong kind); truncated, bit-flipped
 * and failing images; and 8 threads reading through one file system. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs_check.h"
#include "shell.h"

#include "core/blk.h"
#include "core/error.h"
#include "fs/fs.h"
#include "fs/fs_bfio.h"

#define MIB (1024u * 1024u)

static time_t t_made; /* before the images were made */

/* ---- the images ---- */

struct img {
	const char *file;
	enum vu_kind kind;
	const char *tree;	/* source tree it was made from */
	int xfs;
	int inline_data;
	uint64_t hole_from, hole_to;	/* holey.bin reads as zeros here */
	int unwritten;		/* unwritten.bin reads as zeros */
};

static const struct img imgs[] = {
	{ "e4.img", VU_KIND_EXT4, "tree", 0, 0, MIB, 3 * MIB, 1 },
	{ "e3.img", VU_KIND_EXT3, "tree", 0, 0, 0, 0, 0 },
	{ "e2.img", VU_KIND_EXT2, "tree-e2", 0, 0, 300 * 1024, 501 * 1024, 0 },
	{ "e4i.img", VU_KIND_EXT4, "itree", 0, 1, 0, 0, 0 },
	{ "x5.img", VU_KIND_XFS, "tree", 1, 0, MIB, 3 * MIB, 1 },
	{ "x4.img", VU_KIND_XFS, "tree", 1, 0, 0, 0, 0 },
};
#define NIMG (sizeof(imgs) / sizeof(imgs[0]))

static const char *const tools[] = {
	"mkfs.ext4", "mkfs.ext3", "mkfs.ext2", "e2fsck", "debugfs",
	"mkfs.xfs", "xfs_db", "find", "awk", "seq", "xargs", "truncate",
};

static int group_setup(void **state)
{
	(void)state;
	t_made = time(NULL);
	return ut_fs_group_setup("fs_images.sh", tools,
				 sizeof(tools) / sizeof(tools[0]));
}

static struct vu_fs *open_img(const struct img *im)
{
	return ut_fs_open_file(im->file, im->kind);
}

/* The bytes a file of the image must hold: the source file, with the
 * ranges the image builder punched or made unwritten as zeros. */
static uint8_t *expected(const struct img *im, const char *rel, size_t *len)
{
	char p[1024];
	uint8_t *b;

	snprintf(p, sizeof(p), "%s%s", im->tree, rel);
	b = ut_slurp(p, len);
	if (!strcmp(rel, "/holey.bin") && im->hole_to)
		memset(b + im->hole_from, 0, im->hole_to - im->hole_from);
	if (!strcmp(rel, "/unwritten.bin") && im->unwritten)
		memset(b, 0, *len);
	return b;
}

/* ---- walking ---- */

struct walk {
	const struct img *im;
	struct vu_fs *fs;
	size_t files, dirs, links;
	uint64_t hard1, hard2;
};

static void check_attr(struct walk *w, const char *rel,
		       const struct vu_fs_stat *st, const struct stat *src)
{
	const struct img *im = w->im;

	if (st->mode != src->st_mode)
		fail_msg("%s %s: mode %o, want %o", im->file, rel, st->mode,
			 src->st_mode);
	assert_int_equal(st->uid, src->st_uid);
	assert_int_equal(st->gid, src->st_gid);
	if (!S_ISDIR(src->st_mode))
		assert_int_equal(st->size, src->st_size);
	if (S_ISREG(src->st_mode) && !strstr(rel, "sparse") &&
	    !strstr(rel, "holey") && !strstr(rel, "far") &&
	    !im->inline_data)
		assert_true(st->blocks * 512 >= st->size);
	if (!im->xfs) {
		/* mkfs -d keeps seconds; debugfs set these nanoseconds */
		if (!S_ISDIR(src->st_mode))
			assert_int_equal(st->mtime.tv_sec, src->st_mtim.tv_sec);
		if (!strcmp(rel, "/mtime.txt") && im->kind == VU_KIND_EXT4 &&
		    !im->inline_data)
			assert_int_equal(st->mtime.tv_nsec, 123456789);
		if (!S_ISDIR(src->st_mode))
			assert_int_equal(st->nlink, src->st_nlink);
	} else {
		/* mkfs.xfs -p stamps everything with its own time */
		if (st->mtime.tv_sec < t_made - 5 ||
		    st->mtime.tv_sec > time(NULL) + 5 ||
		    st->ctime.tv_sec < t_made - 5 ||
		    (st->has_btime && st->btime.tv_sec < t_made - 5))
			fail_msg("%s %s: times %lld/%lld outside the making "
				 "of the image", im->file, rel,
				 (long long)st->mtime.tv_sec,
				 (long long)st->ctime.tv_sec);
		if (!S_ISDIR(src->st_mode))
			assert_int_equal(st->nlink, 1); /* no hard links */
	}
	if (S_ISDIR(src->st_mode) && strcmp(rel, ""))
		assert_int_equal(st->nlink, src->st_nlink);
}

static void check_link(struct walk *w, const char *rel,
		       const struct vu_fs_stat *st, const char *src)
{
	char want[4096], got[4096], small[4];
	ssize_t n = readlink(src, want, sizeof(want) - 1);

	assert_true(n > 0);
	want[n] = '\0';
	if (vu_fs_readlink(w->fs, st->ino, got, sizeof(got)) != 0)
		fail_msg("%s %s: readlink: %s", w->im->file, rel,
			 vu_errmsg(-1));
	assert_string_equal(got, want);
	vu_err_clear();
	assert_int_equal(vu_fs_readlink(w->fs, st->ino, small, sizeof(small)),
			 -ERANGE);
	vu_err_clear();
	w->links++;
}

static void walk_dir(struct walk *w, uint64_t dir, const char *rel);

static void walk_entry(struct walk *w, const char *rel,
		       const struct vu_fs_stat *st)
{
	const struct img *im = w->im;
	char src[1200];
	struct stat sst;
	uint64_t ino;

	snprintf(src, sizeof(src), "%s/%s%s", ut_tmpdir, im->tree, rel);
	if (lstat(src, &sst) != 0)
		fail_msg("%s: %s is not in the source tree", im->file, rel);
	check_attr(w, rel, st, &sst);
	/* lookup by path finds the same inode */
	if (vu_fs_lookup_path(w->fs, rel, &ino) != 0)
		fail_msg("%s: lookup %s: %s", im->file, rel, vu_errmsg(-1));
	assert_int_equal(ino, st->ino);
	if (!strcmp(rel, "/hard1"))
		w->hard1 = st->ino;
	if (!strcmp(rel, "/hard2"))
		w->hard2 = st->ino;
	if (S_ISDIR(st->mode)) {
		w->dirs++;
		walk_dir(w, st->ino, rel);
	} else if (S_ISLNK(st->mode)) {
		check_link(w, rel, st, src);
	} else {
		size_t len;
		uint8_t *want = expected(im, rel, &len);
		char what[1300];

		snprintf(what, sizeof(what), "%s %s", im->file, rel);
		ut_check_file_data(w->fs, st->ino, NULL, want, len, what,
				   len > 100000 ? 40 : 0);
		free(want);
		w->files++;
	}
}

/* Every entry of the image is in the source, and as many as there. */
static void walk_dir(struct walk *w, uint64_t dir, const char *rel)
{
	size_t nsrc = ut_count_entries(ut_path("%s%s", w->im->tree, rel));
	struct ut_ents e = { 0 };
	char sub[1200];

	if (vu_fs_readdir(w->fs, dir, ut_collect, &e) != 0)
		fail_msg("%s: readdir %s: %s", w->im->file, rel,
			 vu_errmsg(-1));
	if (!*rel && !w->im->xfs) {
		/* mkfs.ext* adds lost+found, which the source lacks */
		const struct ut_ent *lf = ut_find_ent(&e, "lost+found");

		if (!lf || !S_ISDIR(lf->st.mode))
			fail_msg("%s: no lost+found directory", w->im->file);
		nsrc++;
	}
	if (e.n != nsrc)
		fail_msg("%s: %s has %zu entries, the source %zu", w->im->file,
			 rel, e.n, nsrc);
	for (size_t i = 0; i < e.n; i++) {
		if (!*rel && !strcmp(e.v[i].name, "lost+found"))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", rel, e.v[i].name);
		walk_entry(w, sub, &e.v[i].st);
	}
	ut_ents_free(&e);
}

static void test_trees(void **state)
{
	(void)state;
	for (size_t i = 0; i < NIMG; i++) {
		struct walk w = { .im = &imgs[i] };
		struct vu_fs_stat st;

		w.fs = open_img(&imgs[i]);
		assert_string_equal(vu_fs_kind_name(w.fs),
				    vu_kind_name(imgs[i].kind));
		assert_int_equal(vu_fs_getattr(w.fs, vu_fs_root(w.fs), &st),
				 0);
		assert_true(S_ISDIR(st.mode));
		walk_dir(&w, vu_fs_root(w.fs), "");
		if (imgs[i].inline_data) {
			assert_int_equal(w.files, 3);
		} else {
			/* 3000 in many/, and the rest */
			assert_true(w.files > 3000);
			assert_int_equal(w.links, 3);
			if (!imgs[i].xfs)
				assert_int_equal(w.hard1, w.hard2);
			else
				assert_int_not_equal(w.hard1, w.hard2);
		}
		vu_fs_close(w.fs);
	}
}

/* ---- lookups and errors ---- */

static void test_lookup_errors(void **state)
{
	static const size_t pick[] = { 0, 2, 4, 5 };

	(void)state;
	for (size_t k = 0; k < sizeof(pick) / sizeof(pick[0]); k++) {
		const struct img *im = &imgs[pick[k]];
		struct vu_fs *fs = open_img(im);
		uint64_t root = vu_fs_root(fs), a, ab, x, y;
		struct vu_fs_file *f = NULL;
		struct vu_fs_stat st;
		uint8_t *data = NULL;
		size_t len = 0;
		char buf[64];

		vu_err_clear();
		ut_expect_err(vu_fs_lookup_path(fs, "/nope", &x), -ENOENT,
			      "missing", "/nope");
		ut_expect_err(vu_fs_lookup_path(fs, "/a/b/nope/deeper", &x),
			      -ENOENT, "missing dir", im->file);
		ut_expect_err(vu_fs_lookup_path(fs, "/big.bin/x", &x), -ENOTDIR,
			      "file as dir", "/big.bin/x");
		ut_expect_err(vu_fs_lookup_path(fs, "/short.lnk/x", &x),
			      -ENOTSUP, "symlink mid-path", "symbolic link");
		ut_expect_err(vu_fs_lookup_path(fs, "relative", &x), -EINVAL,
			      "relative", NULL);
		ut_expect_err(vu_fs_lookup(fs, root, "a/b", &x), -EINVAL,
			      "slash", NULL);
		ut_expect_err(vu_fs_lookup(fs, root, "nope", &x), -ENOENT,
			      "lookup", "nope");
		assert_int_equal(vu_fs_lookup_path(fs, "/", &x), 0);
		assert_int_equal(x, root);
		assert_int_equal(vu_fs_lookup_path(fs, "/a", &a), 0);
		assert_int_equal(vu_fs_lookup_path(fs, "//a///b/", &ab), 0);
		assert_int_equal(vu_fs_lookup_path(fs, "/a/./b/c/..", &x), 0);
		assert_int_equal(x, ab);
		assert_int_equal(vu_fs_lookup_path(fs, "/a/b/..", &x), 0);
		assert_int_equal(x, a);
		assert_int_equal(vu_fs_lookup(fs, root, "..", &x), 0);
		assert_int_equal(x, root);
		assert_int_equal(vu_fs_lookup(fs, ab, ".", &x), 0);
		assert_int_equal(x, ab);
		/* a btree-format (XFS) or htree (ext4) directory */
		assert_int_equal(vu_fs_lookup_path(fs, "/many", &y), 0);
		assert_int_equal(vu_fs_lookup(fs, y, "..", &x), 0);
		assert_int_equal(x, root);
		assert_int_equal(vu_fs_lookup(fs, y, "entry-02999-with-a-"
					      "longer-name-for-more-blocks",
					      &x), 0);
		ut_expect_err(vu_fs_lookup(fs, y, "ENTRY-02999-with-a-"
					   "longer-name-for-more-blocks", &x),
			      -ENOENT, "case", NULL);
		assert_int_equal(vu_fs_lookup_path(fs, "/日本/ファイル", &x), 0);
		assert_int_equal(vu_fs_lookup_path(fs, "/😀.txt", &x), 0);
		assert_int_equal(vu_fs_lookup_path(fs, "/a/b/c/d/e/f/g/h/"
						   "deep.txt", &x), 0);
		/* wrong object for the call */
		assert_int_equal(vu_fs_lookup_path(fs, "/big.bin", &x), 0);
		ut_expect_err(vu_fs_readlink(fs, x, buf, sizeof(buf)), -EINVAL,
			      "readlink of a file", NULL);
		ut_expect_err(vu_fs_lookup(fs, x, "a", &y), -ENOTDIR,
			      "lookup in a file", NULL);
		ut_expect_err(vu_fs_readdir(fs, x, ut_collect, NULL), -ENOTDIR,
			      "readdir of a file", NULL);
		ut_expect_err(vu_fs_file_open(fs, x, "ads", &f), -ENOENT,
			      "named stream", NULL);
		assert_int_equal(vu_fs_streams(fs, x, NULL, NULL), 0);
		ut_expect_err(vu_fs_file_open(fs, a, NULL, &f), -EISDIR,
			      "open a dir", NULL);
		assert_int_equal(vu_fs_lookup_path(fs, "/short.lnk", &x), 0);
		ut_expect_err(vu_fs_file_open(fs, x, NULL, &f), -EINVAL,
			      "open a symlink", NULL);
		ut_expect_err(vu_fs_getattr(fs, 0xfffffffull, &st), -ENOENT,
			      "bad inode", NULL);
		assert_null(f);
		/* whole small files */
		assert_int_equal(vu_fs_read_file(fs, "/café.txt", 100, &data,
						 &len), 0);
		assert_int_equal(len, 3);
		assert_memory_equal(data, "caf", 3);
		free(data);
		assert_int_equal(vu_fs_read_file(fs, "/empty", 100, &data,
						 &len), 0);
		assert_int_equal(len, 0);
		free(data);
		ut_expect_err(vu_fs_read_file(fs, "/big.bin", 1000, &data,
					      &len), -EFBIG, "too big",
			      "/big.bin");
		ut_expect_err(vu_fs_read_file(fs, "/a", 1000, &data, &len),
			      -EISDIR, "dir", NULL);
		ut_expect_err(vu_fs_read_file(fs, "/nope", 1000, &data, &len),
			      -ENOENT, "missing", NULL);
		assert_null(data);
		vu_fs_close(fs);
	}
}

static void test_kinds(void **state)
{
	struct vu_blk *vol = NULL;
	struct vu_fs *fs = NULL;

	(void)state;
	assert_true(vu_fs_supported(VU_KIND_EXT2));
	assert_true(vu_fs_supported(VU_KIND_EXT3));
	assert_true(vu_fs_supported(VU_KIND_EXT4));
	assert_true(vu_fs_supported(VU_KIND_XFS));
	assert_true(vu_fs_supported(VU_KIND_NTFS));
	assert_true(vu_fs_supported(VU_KIND_FAT));	/* test_fs_fat.c */
	assert_false(vu_fs_supported(VU_KIND_SWAP));
	assert_false(vu_fs_supported(VU_KIND_UNKNOWN));
	assert_int_equal(vu_file_open(ut_path("e4.img"), &vol), 0);
	ut_expect_err(vu_fs_open(vol, VU_KIND_SWAP, &fs), -ENOTSUP, "swap",
		      "e4.img");
	ut_expect_err(vu_fs_open(vol, VU_KIND_FAT, &fs), -EUCLEAN,
		      "ext as fat", "bytes per sector 0");
	ut_expect_err(vu_fs_open(vol, VU_KIND_NTFS, &fs), -EUCLEAN,
		      "ext as ntfs", "e4.img");
	ut_expect_err(vu_fs_open(vol, VU_KIND_XFS, &fs), -EUCLEAN, "ext as xfs",
		      "e4.img");
	vu_blk_unref(vol);
	assert_int_equal(vu_file_open(ut_path("x5.img"), &vol), 0);
	ut_expect_err(vu_fs_open(vol, VU_KIND_EXT4, &fs), -EUCLEAN,
		      "xfs as ext", "x5.img");
	ut_expect_err(vu_fs_open(vol, VU_KIND_NTFS, &fs), -EUCLEAN,
		      "xfs as ntfs", "x5.img");
	vu_blk_unref(vol);
	assert_null(fs);
}

/* The B+tree of an XFS data fork, read as file data and compared with the
 * blocks xfs_db maps for it. */
static void test_xfs_btree_fork(void **state)
{
	struct img im = { "xdir.img", VU_KIND_XFS, "tree", 1, 0, 0, 0, 0 };
	unsigned long long lo, fsb, ag, agbno, cnt, agblocks = 0, size = 0;
	struct vu_fs *fs;
	uint8_t *want, *blk;
	char line[256];
	uint64_t ino;
	int flag, nrec = 0;
	FILE *f;

	(void)state;
	f = fopen(ut_path("agblocks"), "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%llu", &agblocks), 1);
	fclose(f);
	f = fopen(ut_path("many.size"), "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%llu", &size), 1);
	fclose(f);
	want = calloc(1, size);
	blk = malloc(4096);
	assert_non_null(want);
	assert_non_null(blk);
	f = fopen(ut_path("many.bmap"), "r");
	assert_non_null(f);
	{
		FILE *img = fopen(ut_path("xdir.img"), "rb");

		assert_non_null(img);
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "data offset %llu startblock %llu "
				   "(%llu/%llu) count %llu flag %d", &lo,
				   &fsb, &ag, &agbno, &cnt, &flag) != 6)
				continue;
			nrec++;
			for (unsigned long long b = 0; b < cnt; b++) {
				if ((lo + b) * 4096 >= size)
					break;
				assert_int_equal(fseeko(img, (off_t)((ag *
					agblocks + agbno + b) * 4096),
					SEEK_SET), 0);
				assert_int_equal(fread(blk, 1, 4096, img),
						 4096);
				memcpy(want + (lo + b) * 4096, blk, 4096);
			}
		}
		fclose(img);
	}
	fclose(f);
	assert_true(nrec > 21); /* more than the inode holds: a B+tree */
	fs = open_img(&im);
	assert_int_equal(vu_fs_lookup_path(fs, "/many", &ino), 0);
	ut_check_file_data(fs, ino, NULL, want, size,
			   "xdir.img /many as a file", 50);
	vu_fs_close(fs);
	free(want);
	free(blk);
}

/* ---- damaged and failing images ---- */

static int try_image(const uint8_t *b, size_t len, enum vu_kind kind)
{
	static const int errs[] = { -EUCLEAN, -EIO, -ENOTSUP, -EINVAL,
				    -ENOENT, -ENOTDIR, 0 };

	return ut_try_image(b, len, kind, 600, errs);
}

static void test_damaged(void **state)
{
	static const struct {
		const char *file;
		enum vu_kind kind;
		size_t flip;	/* a superblock byte the open must catch */
	} t[] = {
		{ "e4.img", VU_KIND_EXT4, 1024 + 0 },	/* csum */
		{ "e2.img", VU_KIND_EXT2, 1024 + 24 },	/* log block size */
		{ "x5.img", VU_KIND_XFS, 8 },		/* CRC */
		{ "x4.img", VU_KIND_XFS, 104 },		/* inode size */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t len, cut;
		uint8_t *b = ut_load(ut_path("%s", t[i].file), &len);
		uint32_t seed = 12345;

		/* truncated: too short to open, then cut through data */
		assert_true(try_image(b, 1024, t[i].kind) < 0);
		assert_true(try_image(b, 4096 - (t[i].kind == VU_KIND_XFS ?
						3584 : 0), t[i].kind) < 0);
		for (cut = 65536; cut < len; cut *= 4)
			(void)try_image(b, cut, t[i].kind);
		(void)try_image(b, len / 2, t[i].kind);
		/* the superblock */
		b[t[i].flip] ^= 0x40;
		if (try_image(b, len, t[i].kind) >= 0)
			fail_msg("%s: flipped superblock byte %zu opens",
				 t[i].file, t[i].flip);
		b[t[i].flip] ^= 0x40;
		/* random flips in the metadata near the start */
		for (int k = 0; k < 8; k++) {
			struct ut_flips fl;

			ut_flips_apply(b, &fl, 8, 1024, 2 * MIB, &seed);
			(void)try_image(b, len, t[i].kind);
			ut_flips_undo(b, &fl);
		}
		munmap(b, len);
	}
}

static int deep_reads(struct vu_fs *fs)
{
	const char *deep = "/a/b/c/d/e/f/g/h/deep.txt";
	uint8_t *data = NULL;
	uint64_t ino;
	size_t len;
	int r = vu_fs_lookup_path(fs, deep, &ino);

	if (r == 0)
		r = vu_fs_read_file(fs, deep, 64, &data, &len);
	free(data);
	return r;
}

/* Every read of open and walk failing in turn: an error, never a crash. */
static void test_read_faults(void **state)
{
	static const size_t pick[] = { 0, 2, 4 };

	(void)state;
	for (size_t k = 0; k < sizeof(pick) / sizeof(pick[0]); k++)
		ut_fs_read_faults(imgs[pick[k]].file, imgs[pick[k]].kind, 20,
				  7, 60, deep_reads);
}

/* ---- threads ---- */

static void test_threads(void **state)
{
	static const char *const paths[] = {
		"/big.bin", "/sparse.bin", "/big.bin", "/hard1",
		"/big.bin", "/日本/ファイル", "/a/b/c/d/e/f/g/h/deep.txt",
		"/mtime.txt",
	};
	static const size_t pick[] = { 0, 2, 4 };

	(void)state;
	for (size_t k = 0; k < sizeof(pick) / sizeof(pick[0]); k++) {
		const struct img *im = &imgs[pick[k]];
		struct vu_fs *fs = open_img(im);
		struct ut_read_job j[8];
		char src[8][600];

		for (int i = 0; i < 8; i++) {
			snprintf(src[i], sizeof(src[i]), "%s%s", im->tree,
				 paths[i]);
			j[i] = (struct ut_read_job){ paths[i], src[i], NULL };
		}
		ut_read_in_threads(fs, j, im->file);
		vu_fs_close(fs);
	}
}

/* A file handle keeps its file system: closing the file system first is
 * allowed, the file still reads. */
static void test_file_outlives_fs(void **state)
{
	struct vu_fs *fs = open_img(&imgs[4]);
	struct vu_fs_file *f = NULL;
	uint8_t buf[5];
	uint64_t ino;

	(void)state;
	assert_int_equal(vu_fs_lookup_path(fs, "/hard1", &ino), 0);
	assert_int_equal(vu_fs_file_open(fs, ino, NULL, &f), 0);
	vu_fs_close(fs);
	assert_int_equal(vu_fs_file_read(f, buf, 5, 0), 5);
	assert_memory_equal(buf, "hard\n", 5);
	vu_fs_file_close(f);
}

/* The libbfio adapter: closed until opened, a cursor per handle, clones
 * with their own cursor, short reads at the end, no writing. */
static void test_bfio(void **state)
{
	static uint8_t data[10000];
	libbfio_handle_t *h = NULL, *c = NULL;
	libbfio_error_t *err = NULL;
	struct vu_blk *vol = NULL;
	uint8_t a[16], b[16];
	size64_t size = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 256);
	assert_int_equal(vu_mem_open(data, sizeof(data), "bfio", &vol), 0);
	assert_int_equal(vu_bfio_new(vol, &h), 0);
	vu_blk_unref(vol); /* the handle keeps its own reference */
	assert_int_equal(libbfio_handle_is_open(h, &err), 0);
	assert_int_equal(libbfio_handle_open(h, LIBBFIO_OPEN_WRITE, &err), -1);
	libbfio_error_free(&err);
	assert_int_equal(libbfio_handle_open(h, LIBBFIO_OPEN_READ, &err), 1);
	assert_int_equal(libbfio_handle_is_open(h, &err), 1);
	assert_int_equal(libbfio_handle_get_size(h, &size, &err), 1);
	assert_int_equal(size, sizeof(data));
	assert_int_equal(libbfio_handle_seek_offset(h, 100, SEEK_SET, &err),
			 100);
	assert_int_equal(libbfio_handle_clone(&c, h, &err), 1);
	/* the clone has its own cursor */
	assert_int_equal(libbfio_handle_seek_offset(c, 5000, SEEK_SET, &err),
			 5000);
	assert_int_equal(libbfio_handle_read_buffer(h, a, 16, &err), 16);
	assert_memory_equal(a, data + 100, 16);
	assert_int_equal(libbfio_handle_read_buffer(c, b, 16, &err), 16);
	assert_memory_equal(b, data + 5000, 16);
	assert_int_equal(libbfio_handle_read_buffer(h, a, 16, &err), 16);
	assert_memory_equal(a, data + 116, 16);
	/* short at the end, then nothing */
	assert_int_equal(libbfio_handle_seek_offset(h, -6, SEEK_END, &err),
			 (off64_t)sizeof(data) - 6);
	assert_int_equal(libbfio_handle_read_buffer(h, a, 16, &err), 6);
	assert_memory_equal(a, data + sizeof(data) - 6, 6);
	assert_int_equal(libbfio_handle_read_buffer(h, a, 16, &err), 0);
	assert_int_equal(vu_bfio_take_error(h), 0);
	/* a failing read: its errno is kept for the error translation */
	vu_blk_fault_after(1);
	assert_int_equal(libbfio_handle_seek_offset(h, 0, SEEK_SET, &err), 0);
	assert_true(libbfio_handle_read_buffer(h, a, 16, &err) < 0);
	vu_blk_fault_after(0);
	assert_int_equal(vu_bfio_take_error(h), -EIO);
	assert_int_equal(vu_bfio_take_error(h), 0);
	assert_int_equal(vu_yal_errno(err), -EIO);
	libbfio_error_free(&err);
	assert_int_equal(vu_yal_errno(NULL), -EUCLEAN);
	vu_err_clear();
	assert_int_equal(libbfio_handle_close(h, &err), 0);
	assert_int_equal(libbfio_handle_is_open(h, &err), 0);
	vu_bfio_free(&c);
	vu_bfio_free(&h);
	assert_null(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bfio),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_trees),
		cmocka_unit_test(test_lookup_errors),
		cmocka_unit_test(test_xfs_btree_fork),
		cmocka_unit_test(test_file_outlives_fs),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_read_faults),
		cmocka_unit_test(test_damaged),
	};

	return cmocka_run_group_tests(tests, group_setup,
				      ut_tmp_group_teardown);
}
