/* NTFS (src/fs/fs_ntfs.c): images made by mkntfs and written through a
 * real ntfs-3g FUSE mount (tests/unit/fs_ntfs_images.sh), walked through
 * vu_fs and compared with the source tree and with what ntfs-3g reports:
 * every name, the bytes of every file (plain, sparse, LZNT1-compressed,
 * resident, runs spread over an attribute list, past the valid data
 * length over stale clusters), times (ntfs-3g's system.ntfs_times),
 * link counts, alternate data streams, symbolic links and junctions
 * written as raw reparse buffers, reparse points whose content is not on
 * the volume, DOS names, case-insensitive lookups with $UpCase; copies of
 * the image patched here for a name with a lone surrogate, an EFS flag, a
 * damaged reparse buffer, damaged records and index blocks; truncated,
 * bit-flipped and failing images; 8 threads reading. */
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
#include "core/bytes.h"
#include "core/error.h"
#include "fs/fs.h"

#define MIB (1024u * 1024u)

static const char *const tools[] = {
	"mkntfs", "ntfs-3g", "fusermount", "setfattr", "getfattr", "iconv",
	"od", "ntfsfallocate", "ntfsinfo", "truncate", "seq", "xargs", "dd",
};

static int group_setup(void **state)
{
	(void)state;
	if (access("/dev/fuse", R_OK | W_OK) != 0) {
		fprintf(stderr, "test_fs_ntfs: /dev/fuse is needed (ntfs-3g "
			"writes the images; run as root)\n");
		return -1;
	}
	return ut_fs_group_setup("fs_ntfs_images.sh", tools,
				 sizeof(tools) / sizeof(tools[0]));
}

static struct vu_fs *open_file(const char *file)
{
	struct vu_fs *fs = ut_fs_open_file(file, VU_KIND_NTFS);

	assert_string_equal(vu_fs_kind_name(fs), "ntfs");
	return fs;
}

static uint64_t ino_of(struct vu_fs *fs, const char *path)
{
	uint64_t ino = 0;

	if (vu_fs_lookup_path(fs, path, &ino) != 0)
		fail_msg("lookup %s: %s", path, vu_errmsg(-1));
	return ino;
}

static void stat_of(struct vu_fs *fs, const char *path, struct vu_fs_stat *st)
{
	if (vu_fs_getattr(fs, ino_of(fs, path), st) != 0)
		fail_msg("getattr %s: %s", path, vu_errmsg(-1));
}

/* ---- reading files ---- */

/* Many random reads for a large file, a few for a small one. */
static void check_stream(struct vu_fs *fs, uint64_t ino, const char *stream,
			 const uint8_t *want, size_t len, const char *what)
{
	ut_check_file_data(fs, ino, stream, want, len, what,
			   len > 100000 ? 40 : 4);
}

static void check_file(struct vu_fs *fs, const char *path, const char *src)
{
	size_t len;
	uint8_t *want = ut_slurp(src, &len);

	check_stream(fs, ino_of(fs, path), NULL, want, len, path);
	free(want);
}

/* ---- times as ntfs-3g reports them ---- */

struct ntime {
	char path[512];
	struct timespec t[4]; /* creation, modification, access, change */
};

static struct ntime *ntimes;
static size_t nntimes;

static struct timespec filetime(uint64_t ft)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(int64_t)(ft / 10000000u) - 11644473600LL;
	ts.tv_nsec = (long)(ft % 10000000u) * 100;
	return ts;
}

static void load_ntimes(void)
{
	char line[1200], path[1024] = "";
	FILE *f = fopen(ut_path("ntimes"), "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "# file: ", 8)) {
			snprintf(path, sizeof(path), "/%s", line + 8);
			continue;
		}
		if (strncmp(line, "system.ntfs_times_be=0x", 23) ||
		    strlen(line + 23) != 64)
			continue;
		ntimes = realloc(ntimes, (nntimes + 1) * sizeof(*ntimes));
		assert_non_null(ntimes);
		snprintf(ntimes[nntimes].path, sizeof(ntimes[0].path), "%s",
			 path);
		for (int i = 0; i < 4; i++) {
			char h[17];

			memcpy(h, line + 23 + 16 * i, 16);
			h[16] = '\0';
			ntimes[nntimes].t[i] = filetime(strtoull(h, NULL, 16));
		}
		nntimes++;
	}
	fclose(f);
	assert_true(nntimes > 40);
}

static const struct ntime *ntime_of(const char *path)
{
	for (size_t i = 0; i < nntimes; i++)
		if (!strcmp(ntimes[i].path, path))
			return &ntimes[i];
	return NULL;
}

static void same_time(struct timespec got, struct timespec want,
		      const char *path, const char *which)
{
	if (got.tv_sec != want.tv_sec || got.tv_nsec != want.tv_nsec)
		fail_msg("%s: %s %lld.%09ld, ntfs-3g says %lld.%09ld", path,
			 which, (long long)got.tv_sec, got.tv_nsec,
			 (long long)want.tv_sec, want.tv_nsec);
}

/* ---- the tree against its source ---- */

struct walk {
	struct vu_fs *fs;
	size_t files, dirs, timed;
};

/* Made through ntfs-3g only: not in ntree/. */
static int extra(const char *rel)
{
	return !strcmp(rel, "/rp") || !strncmp(rel, "/rp/", 4) ||
	       !strcmp(rel, "/btime.txt") || !strcmp(rel, "/vdl.bin") ||
	       !strcmp(rel, "/lone") || !strncmp(rel, "/lone/", 6) ||
	       !strcmp(rel, "/$Recycle.Bin") ||
	       !strcmp(rel, "/System Volume Information");
}

static void walk_dir(struct walk *w, uint64_t dir, const char *rel);

static void walk_entry(struct walk *w, const char *rel,
		       const struct vu_fs_stat *st)
{
	const struct ntime *nt = ntime_of(rel);
	char src[1200];
	struct stat sst;

	assert_int_equal(ino_of(w->fs, rel), st->ino);
	assert_int_equal(st->uid, 0);
	assert_int_equal(st->gid, 0);
	assert_true(st->has_btime);
	if (nt && strcmp(rel, "/vdl.bin")) { /* ntfsfallocate changed it */
		same_time(st->btime, nt->t[0], rel, "btime");
		same_time(st->mtime, nt->t[1], rel, "mtime");
		same_time(st->atime, nt->t[2], rel, "atime");
		same_time(st->ctime, nt->t[3], rel, "ctime");
		w->timed++;
	}
	if (extra(rel))
		return;
	snprintf(src, sizeof(src), "ntree%s", rel);
	if (lstat(ut_path("%s", src), &sst) != 0)
		fail_msg("%s is not in the source tree", rel);
	if (S_ISDIR(sst.st_mode)) {
		assert_int_equal(st->mode, S_IFDIR | 0555);
		assert_int_equal(st->nlink, 1);
		w->dirs++;
		walk_dir(w, st->ino, rel);
		return;
	}
	assert_int_equal(st->mode, S_IFREG | 0444);
	if (st->size != (uint64_t)sst.st_size)
		fail_msg("%s: size %" PRIu64 ", source %lld", rel, st->size,
			 (long long)sst.st_size);
	assert_int_equal(st->nlink, sst.st_nlink);
	/* cp -a kept the source's time, in 100 ns units (where ntfs-3g
	 * reported the times, they were compared above: written later) */
	if (!nt && (st->mtime.tv_sec != sst.st_mtim.tv_sec ||
	    st->mtime.tv_nsec != sst.st_mtim.tv_nsec / 100 * 100))
		fail_msg("%s: mtime %lld.%09ld, source %lld.%09ld", rel,
			 (long long)st->mtime.tv_sec, st->mtime.tv_nsec,
			 (long long)sst.st_mtim.tv_sec, sst.st_mtim.tv_nsec);
	if (!(st->flags & (VU_FS_F_SPARSE | VU_FS_F_COMPRESSED)) &&
	    st->size > 1024)
		assert_true(st->blocks * 512 >= st->size);
	if (!strncmp(rel, "/links/", 7) || !strncmp(rel, "/many/", 6)) {
		/* one in 50 of the 3000 and 151: the rest are alike */
		if (rel[strlen(rel) - 1] % 50 && strcmp(rel, "/links/src"))
			goto counted;
	}
	check_file(w->fs, rel, src);
counted:
	w->files++;
}

static void walk_dir(struct walk *w, uint64_t dir, const char *rel)
{
	struct ut_ents e = { 0 };
	size_t nsrc = ut_count_entries(ut_path("ntree%s", rel));
	char sub[1200];

	if (vu_fs_readdir(w->fs, dir, ut_collect, &e) != 0)
		fail_msg("readdir %s: %s", rel, vu_errmsg(-1));
	if (!*rel) /* rp, btime.txt, vdl.bin, lone, $Recycle.Bin, SVI */
		nsrc += 6;
	if (e.n != nsrc)
		fail_msg("%s has %zu entries, the source %zu", rel, e.n, nsrc);
	for (size_t i = 0; i < e.n; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", rel, e.v[i].name);
		walk_entry(w, sub, &e.v[i].st);
	}
	ut_ents_free(&e);
}

static void test_tree(void **state)
{
	struct walk w = { 0 };
	struct vu_fs_stat st;
	struct ut_ents e = { 0 };

	(void)state;
	load_ntimes();
	w.fs = open_file("n.img");
	assert_int_equal(vu_fs_root(w.fs), 5);
	assert_int_equal(vu_fs_getattr(w.fs, 5, &st), 0);
	assert_int_equal(st.mode, S_IFDIR | 0555);
	walk_dir(&w, 5, "");
	assert_true(w.files > 3150);
	assert_true(w.timed > 40);
	/* the metadata files are not shown, $Recycle.Bin is */
	assert_int_equal(vu_fs_readdir(w.fs, 5, ut_collect, &e), 0);
	for (size_t i = 0; i < e.n; i++)
		if (e.v[i].name[0] == '$')
			assert_string_equal(e.v[i].name, "$Recycle.Bin");
	assert_non_null(ut_find_ent(&e, "$Recycle.Bin"));
	assert_non_null(ut_find_ent(&e, "System Volume Information"));
	ut_ents_free(&e);
	vu_fs_close(w.fs);
}

/* ---- what NTFS has and other file systems do not ---- */

static void test_attributes(void **state)
{
	struct vu_fs *fs = open_file("n.img");
	struct vu_fs_stat st, st2;
	uint64_t x, y;

	(void)state;
	/* times set on purpose */
	stat_of(fs, "/btime.txt", &st);
	assert_int_equal(st.btime.tv_sec, 946684799); /* 1999-12-31 23:59:59 */
	stat_of(fs, "/mtime.txt", &st);
	assert_int_equal(st.mtime.tv_sec, 981173106); /* 2001-02-03 04:05:06 */
	assert_int_equal(st.mtime.tv_nsec, 123456700);
	/* hard links: 150 of them spill the names into extension records */
	stat_of(fs, "/links/src", &st);
	assert_int_equal(st.nlink, 151);
	assert_int_equal(ino_of(fs, "/links/l150"), st.ino);
	assert_int_equal(ino_of(fs, "/hard1"), ino_of(fs, "/hard2"));
	stat_of(fs, "/hard1", &st);
	assert_int_equal(st.nlink, 2);
	/* flags */
	stat_of(fs, "/comp/text.txt", &st);
	assert_true(st.flags & VU_FS_F_COMPRESSED);
	assert_true(st.blocks * 512 < st.size); /* compressed */
	stat_of(fs, "/comp", &st);
	assert_true(st.flags & VU_FS_F_COMPRESSED);
	stat_of(fs, "/sparse.bin", &st);
	assert_true(st.flags & VU_FS_F_SPARSE);
	assert_true(st.blocks * 512 < 3 * MIB);
	assert_int_equal(st.size, 30 * MIB);
	stat_of(fs, "/big.bin", &st);
	assert_int_equal(st.flags, 0);
	assert_int_equal(st.nstreams, 0);
	stat_of(fs, "/tiny.txt", &st);
	assert_int_equal(st.blocks, 0); /* resident */
	stat_of(fs, "/rp/cloud.txt", &st);
	assert_int_equal(st.flags, VU_FS_F_REPARSE);
	assert_int_equal(st.mode, S_IFREG | 0444);
	/* DOS names: the long name listed, the short one found too */
	x = ino_of(fs, "/Long File Name.txt");
	assert_int_equal(ino_of(fs, "/LONGFI~1.TXT"), x);
	assert_int_equal(ino_of(fs, "/longfi~1.txt"), x);
	/* case: exact first, then folded with $UpCase */
	x = ino_of(fs, "/Case.TXT");
	assert_int_equal(ino_of(fs, "/case.txt"), x);
	assert_int_equal(ino_of(fs, "/CASE.TXT"), x);
	assert_int_equal(ino_of(fs, "/CAFÉ.TXT"), ino_of(fs, "/café.txt"));
	assert_int_equal(ino_of(fs, "/日本/ファイル"),
			 ino_of(fs, "/日本/ファイル"));
	x = ino_of(fs, "/dup");
	y = ino_of(fs, "/DUP");
	assert_int_not_equal(x, y);
	assert_int_equal(ino_of(fs, "/Dup"), y); /* "DUP" sorts first */
	stat_of(fs, "/dup", &st);
	stat_of(fs, "/DUP", &st2);
	assert_int_equal(st.size, 6);
	assert_int_equal(st2.size, 6);
	{
		uint8_t *d = NULL;
		size_t len = 0;

		assert_int_equal(vu_fs_read_file(fs, "/dup", 100, &d, &len), 0);
		assert_memory_equal(d, "lower\n", 6);
		free(d);
		assert_int_equal(vu_fs_read_file(fs, "/DUP", 100, &d, &len), 0);
		assert_memory_equal(d, "upper\n", 6);
		free(d);
	}
	/* hidden metadata files */
	ut_expect_err(vu_fs_lookup_path(fs, "/$MFT", &x), -ENOENT, "$MFT",
		      NULL);
	ut_expect_err(vu_fs_lookup_path(fs, "/$Extend", &x), -ENOENT, "$Extend",
		      NULL);
	ut_expect_err(vu_fs_lookup_path(fs, "/$mft", &x), -ENOENT, "$mft",
		      NULL);
	ut_expect_err(vu_fs_getattr(fs, 0, &st), -ENOENT, "record 0", NULL);
	ut_expect_err(vu_fs_getattr(fs, 11, &st), -ENOENT, "record 11", NULL);
	ut_expect_err(vu_fs_getattr(fs, 1ull << 40, &st), -ENOENT, "far record",
		      NULL);
	/* dots */
	assert_int_equal(vu_fs_lookup(fs, 5, "..", &x), 0);
	assert_int_equal(x, 5);
	assert_int_equal(vu_fs_lookup_path(fs, "/a/b/c/..", &x), 0);
	assert_int_equal(x, ino_of(fs, "/a/b"));
	assert_int_equal(vu_fs_lookup_path(fs, "/many/..", &x), 0);
	assert_int_equal(x, 5);
	/* errors */
	ut_expect_err(vu_fs_lookup_path(fs, "/nope", &x), -ENOENT, "missing",
		      "/nope");
	ut_expect_err(vu_fs_lookup_path(fs, "/big.bin/x", &x), -ENOTDIR,
		      "file as dir", NULL);
	x = ino_of(fs, "/big.bin");
	ut_expect_err(vu_fs_readdir(fs, x, ut_collect, NULL), -ENOTDIR,
		      "readdir of a file", NULL);
	{
		struct vu_fs_file *f = NULL;
		char buf[16];

		ut_expect_err(vu_fs_readlink(fs, x, buf, sizeof(buf)), -EINVAL,
			      "readlink of a file", NULL);
		ut_expect_err(vu_fs_file_open(fs, 5, NULL, &f), -EISDIR,
			      "open the root", NULL);
		assert_null(f);
	}
	vu_fs_close(fs);
}

static void test_data(void **state)
{
	static const char *const comp[] = {
		"text.txt", "rand.bin", "mixed.bin", "sparse.bin", "tiny.txt",
		"sub/deeper.txt",
	};
	struct vu_fs *fs = open_file("n.img");
	char p[256], s[256];

	(void)state;
	for (size_t i = 0; i < sizeof(comp) / sizeof(comp[0]); i++) {
		snprintf(p, sizeof(p), "/comp/%s", comp[i]);
		snprintf(s, sizeof(s), "ntree/comp/%s", comp[i]);
		check_file(fs, p, s);
	}
	check_file(fs, "/sparse.bin", "ntree/sparse.bin");
	check_file(fs, "/alt.bin", "ntree/alt.bin");
	check_file(fs, "/big.bin", "ntree/big.bin");
	check_file(fs, "/small600.bin", "ntree/small600.bin");
	check_file(fs, "/empty", "ntree/empty");
	/* past the valid data length: zeros, not the stale clusters */
	check_file(fs, "/vdl.bin", "nsrc/vdl");
	/* a reparse point whose content is on the volume */
	check_stream(fs, ino_of(fs, "/rp/cloud.txt"), NULL,
		     (const uint8_t *)"cloud\n", 6, "/rp/cloud.txt");
	vu_fs_close(fs);
}

struct streams {
	char name[8][256];
	uint64_t size[8];
	int n;
};

static int stream_cb(void *ctx, const char *name, uint64_t size)
{
	struct streams *s = ctx;

	assert_true(s->n < 8);
	snprintf(s->name[s->n], sizeof(s->name[0]), "%s", name);
	s->size[s->n++] = size;
	return 0;
}

static uint64_t stream_size(const struct streams *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return s->size[i];
	fail_msg("no stream \"%s\"", name);
	return 0;
}

static void test_streams(void **state)
{
	struct vu_fs *fs = open_file("n.img");
	struct streams s = { .n = 0 };
	struct vu_fs_file *f = NULL;
	struct vu_fs_stat st;
	uint64_t ino = ino_of(fs, "/ads.txt");
	size_t len;
	uint8_t *want;

	(void)state;
	assert_int_equal(vu_fs_getattr(fs, ino, &st), 0);
	assert_int_equal(st.nstreams, 4);
	assert_int_equal(st.size, 5);
	assert_int_equal(vu_fs_streams(fs, ino, stream_cb, &s), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(stream_size(&s, "Zone.Identifier"), 26);
	assert_int_equal(stream_size(&s, "big"), 2000000);
	assert_int_equal(stream_size(&s, "empty"), 0);
	assert_int_equal(stream_size(&s, "日本"), 10);
	want = ut_slurp("nsrc/Zone.Identifier", &len);
	check_stream(fs, ino, "Zone.Identifier", want, len, "Zone.Identifier");
	check_stream(fs, ino, "zone.IDENTIFIER", want, len, "folded stream");
	free(want);
	want = ut_slurp("nsrc/big", &len);
	check_stream(fs, ino, "big", want, len, "ads.txt:big");
	free(want);
	want = ut_slurp("nsrc/jp", &len);
	check_stream(fs, ino, "日本", want, len, "ads.txt:日本");
	free(want);
	check_stream(fs, ino, "empty", (const uint8_t *)"", 0, "empty stream");
	want = ut_slurp("ntree/ads.txt", &len);
	check_stream(fs, ino, "", want, len, "ads.txt main");
	free(want);
	ut_expect_err(vu_fs_file_open(fs, ino, "nope", &f), -ENOENT,
		      "no stream", "nope");
	/* a stream on a directory */
	ino = ino_of(fs, "/a");
	assert_int_equal(vu_fs_getattr(fs, ino, &st), 0);
	assert_int_equal(st.nstreams, 1);
	want = ut_slurp("nsrc/dirstream", &len);
	check_stream(fs, ino, "dirstream", want, len, "a:dirstream");
	free(want);
	/* none */
	s.n = 0;
	assert_int_equal(vu_fs_streams(fs, ino_of(fs, "/big.bin"), stream_cb,
				       &s), 0);
	assert_int_equal(s.n, 0);
	assert_null(f);
	vu_fs_close(fs);
}

static void test_reparse(void **state)
{
	static const struct {
		const char *path, *target;
	} links[] = {
		{ "/rp/sym-rel", "../a/b/c/d/e/f/g/h/deep.txt" },
		{ "/rp/sym-abs", "/Users/x" },
		{ "/rp/sym-d", "/mnt/d/data/y" },
		{ "/rp/sym-unc", "//srv/share/f" },
		{ "/rp/sym-rootrel", "/a/b" },
		{ "/rp/sym-vol", "/mnt/Volume{12345678-1234-1234-1234-"
		  "123456789abc}/p/q" },
		{ "/rp/dirsym", "../a" },
		{ "/rp/junction", "/a/b" },
	};
	struct vu_fs *fs = open_file("n.img");
	struct vu_fs_file *f = NULL;
	struct vu_fs_stat st;
	struct ut_ents e = { 0 };
	char buf[512];
	uint64_t x;

	(void)state;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		stat_of(fs, links[i].path, &st);
		assert_int_equal(st.mode, S_IFLNK | 0777);
		assert_true(st.flags & VU_FS_F_REPARSE);
		assert_int_equal(st.size, strlen(links[i].target));
		if (vu_fs_readlink(fs, st.ino, buf, sizeof(buf)) != 0)
			fail_msg("%s: %s", links[i].path, vu_errmsg(-1));
		assert_string_equal(buf, links[i].target);
		ut_expect_err(vu_fs_readlink(fs, st.ino, buf, 4), -ERANGE,
			      "small buffer", NULL);
		ut_expect_err(vu_fs_file_open(fs, st.ino, NULL, &f), -EINVAL,
			      "open a link", NULL);
	}
	/* a junction is not walked through */
	ut_expect_err(vu_fs_lookup_path(fs, "/rp/junction/c", &x), -ENOTSUP,
		      "through a junction", "symbolic link");
	ut_expect_err(vu_fs_readdir(fs, ino_of(fs, "/rp/junction"), ut_collect,
				    &e), -ENOTDIR, "readdir of a junction",
		      NULL);
	/* content that is not on the volume */
	ut_expect_err(vu_fs_file_open(fs, ino_of(fs, "/rp/wof.bin"), NULL, &f),
		      -ENOTSUP, "WOF", "0x80000017");
	ut_expect_err(vu_fs_file_open(fs, ino_of(fs, "/rp/dedup.bin"), NULL,
				      &f), -ENOTSUP, "dedup", "0x80000013");
	ut_expect_err(vu_fs_file_open(fs, ino_of(fs, "/rp/wofcrash.bin"), NULL,
				      &f), -ENOTSUP, "empty WOF", "WOF");
	stat_of(fs, "/rp/wof.bin", &st);
	assert_int_equal(st.mode, S_IFREG | 0444);
	assert_true(st.flags & VU_FS_F_REPARSE);
	/* the directory that crashes libfsntfs lists */
	assert_int_equal(vu_fs_readdir(fs, ino_of(fs, "/rp"), ut_collect, &e),
			 0);
	assert_int_equal(e.n, 12);
	assert_non_null(ut_find_ent(&e, "wofcrash.bin"));
	ut_ents_free(&e);
	assert_null(f);
	vu_fs_close(fs);
}

/* ---- patched copies ---- */

static struct vu_fs *open_mem(const uint8_t *b, size_t len, int *err)
{
	struct vu_fs *fs;

	*err = ut_fs_open_mem(b, len, "patched", VU_KIND_NTFS, &fs);
	return fs;
}

/* Byte offset of MFT record ino in the image (the small test images keep
 * their MFT in one piece). */
static size_t rec_off(const uint8_t *img, uint64_t ino)
{
	uint32_t cluster = vu_le16(img + 0x0b) * img[0x0d];
	size_t off;

	/* 1024-byte records: 2^10 bytes, or two 512-byte clusters */
	assert_true(img[0x40] == 0xf6 || (img[0x40] == 2 && cluster == 512));
	off = (size_t)(vu_le64(img + 0x30) * cluster + ino * 1024);
	assert_memory_equal(img + off, "FILE", 4);
	assert_int_equal(vu_le32(img + off + 0x2c), ino);
	return off;
}

/* Offset in the image of the first attribute of type in record ino. */
static size_t attr_off(const uint8_t *img, uint64_t ino, uint32_t type)
{
	size_t rec = rec_off(img, ino);
	size_t a = rec + vu_le16(img + rec + 0x14);

	while (vu_le32(img + a) != 0xffffffffu) {
		uint32_t len = vu_le32(img + a + 4);

		assert_true(len >= 0x18 && a + len <= rec + 1024);
		if (vu_le32(img + a) == type)
			return a;
		a += len;
	}
	fail_msg("record %" PRIu64 ": no attribute 0x%x", ino, type);
	return 0;
}

/* A byte the update sequence array covers cannot be patched in place. */
static void patchable(size_t off, size_t len)
{
	for (size_t i = off; i < off + len; i++)
		assert_true(i % 512 < 510);
}

static void test_patched(void **state)
{
	struct vu_fs *fs = open_file("n.img");
	uint64_t tiny = ino_of(fs, "/tiny.txt");
	uint64_t small = ino_of(fs, "/small600.bin");
	uint64_t symabs = ino_of(fs, "/rp/sym-abs");
	uint64_t lonef = ino_of(fs, "/lone/😀.txt");
	uint64_t lone = ino_of(fs, "/lone");
	uint64_t many = ino_of(fs, "/many");
	struct vu_fs_file *f = NULL;
	struct vu_fs_stat st;
	struct ut_ents e = { 0 };
	size_t len, a, hits = 0;
	uint8_t *b = ut_load(ut_path("n.img"), &len);
	char buf[64];
	uint64_t x;
	int err;

	(void)state;
	vu_fs_close(fs);
	/* the name of lone/😀.txt with its low surrogate made 'x' (in its
	 * $FILE_NAME and in lone/'s index root) */
	{
		static const uint8_t from[] = { 0x3d, 0xd8, 0x00, 0xde, '.', 0 };
		static const uint8_t to[] = { 0x3d, 0xd8, 'x', 0, '.', 0 };
		size_t lo[2] = { rec_off(b, lonef), rec_off(b, lone) };

		for (int k = 0; k < 2; k++)
			for (size_t i = lo[k]; i + sizeof(from) <= lo[k] + 1024;
			     i++)
				if (!memcmp(b + i, from, sizeof(from))) {
					patchable(i, sizeof(to));
					memcpy(b + i, to, sizeof(to));
					hits++;
				}
		assert_int_equal(hits, 2);
	}
	/* tiny.txt marked EFS-encrypted ($DATA flags) */
	a = attr_off(b, tiny, 0x80);
	patchable(a + 0x0c, 2);
	b[a + 0x0d] |= 0x40;
	/* sym-abs: a reparse buffer shorter than its header */
	a = attr_off(b, symabs, 0xc0);
	a += vu_le16(b + a + 0x14);
	patchable(a + 4, 2);
	b[a + 4] = 2;
	b[a + 5] = 0;
	fs = open_mem(b, len, &err);
	assert_int_equal(err, 0);
	/* the lone surrogate: listed, kept (WTF-8), looked up again */
	assert_int_equal(vu_fs_readdir(fs, lone, ut_collect, &e), 0);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.v[0].name, "\xed\xa0\xbdx.txt");
	assert_int_equal(vu_fs_lookup(fs, lone, "\xed\xa0\xbdx.txt", &x), 0);
	assert_int_equal(x, lonef);
	assert_int_equal(vu_fs_lookup(fs, lone, "\xed\xa0\xbdX.TXT", &x), 0);
	assert_int_equal(x, lonef);
	ut_ents_free(&e);
	check_stream(fs, x, NULL, (const uint8_t *)"lone\n", 5, "lone");
	/* EFS */
	assert_int_equal(vu_fs_getattr(fs, tiny, &st), 0);
	assert_true(st.flags & VU_FS_F_ENCRYPTED);
	ut_expect_err(vu_fs_file_open(fs, tiny, NULL, &f), -ENOTSUP, "EFS",
		      "EFS");
	/* damaged reparse buffer: listed, stat works, readlink says why */
	assert_int_equal(vu_fs_getattr(fs, symabs, &st), 0);
	assert_int_equal(st.mode, S_IFLNK | 0777);
	assert_int_equal(st.size, 0);
	ut_expect_err(vu_fs_readlink(fs, symabs, buf, sizeof(buf)), -EUCLEAN,
		      "damaged reparse", "reparse");
	assert_int_equal(vu_fs_readdir(fs, ino_of(fs, "/rp"), ut_collect, &e),
			 0);
	assert_int_equal(e.n, 12);
	ut_ents_free(&e);
	vu_fs_close(fs);

	/* a damaged record and a deleted file (record not in use, its
	 * entry left in the index): skipped, the others listed */
	a = rec_off(b, tiny);
	b[a + 1] ^= 0x20; /* "FiLE" */
	patchable(rec_off(b, small) + 0x16, 1);
	b[rec_off(b, small) + 0x16] &= (uint8_t)~1;
	fs = open_mem(b, len, &err);
	assert_int_equal(err, 0);
	assert_int_equal(vu_fs_readdir(fs, 5, ut_collect, &e), 0);
	assert_null(ut_find_ent(&e, "tiny.txt"));
	assert_null(ut_find_ent(&e, "small600.bin"));
	assert_non_null(ut_find_ent(&e, "big.bin"));
	ut_ents_free(&e);
	ut_expect_err(vu_fs_getattr(fs, tiny, &st), -EUCLEAN, "bad record",
		      "signature");
	ut_expect_err(vu_fs_lookup(fs, 5, "tiny.txt", &x), -EUCLEAN,
		      "lookup of a bad record", "signature");
	ut_expect_err(vu_fs_getattr(fs, small, &st), -ENOENT, "deleted",
		      "not in use");
	ut_expect_err(vu_fs_lookup(fs, 5, "small600.bin", &x), -ENOENT,
		      "lookup of a deleted file", "not in use");
	vu_fs_close(fs);
	b[a + 1] ^= 0x20;
	b[rec_off(b, small) + 0x16] |= 1;

	/* an index block of many/ damaged: the rest still listed */
	{
		size_t n0, hit = 0;

		fs = open_file("n.img");
		assert_int_equal(vu_fs_readdir(fs, many, ut_collect, &e), 0);
		n0 = e.n;
		ut_ents_free(&e);
		vu_fs_close(fs);
		assert_int_equal(n0, 3000);
		for (size_t i = 0; i + 4 <= len && !hit; i += 512)
			if (!memcmp(b + i, "INDX", 4)) {
				/* the first block whose entries name many/ */
				static const uint8_t n[] = { 'e', 0, 'n', 0,
							     't', 0, 'r', 0 };
				if (memmem(b + i, 4096, n, sizeof(n)))
					hit = i;
			}
		assert_true(hit);
		b[hit + 0x18 + 2] ^= 0x7f; /* entries offset */
		fs = open_mem(b, len, &err);
		assert_int_equal(err, 0);
		assert_int_equal(vu_fs_readdir(fs, many, ut_collect, &e), 0);
		assert_true(e.n > 0 && e.n < 3000);
		ut_ents_free(&e);
		vu_fs_close(fs);
		b[hit + 0x18 + 2] ^= 0x7f;
	}
	assert_null(f);
	munmap(b, len);
}

/* ---- damaged and failing images ---- */

static int try_image(const uint8_t *b, size_t len)
{
	static const int errs[] = { -EUCLEAN, -EIO, -ENOTSUP, -ENOENT,
				    -ENOTDIR, 0 };

	return ut_try_image(b, len, VU_KIND_NTFS, 400, errs);
}

static void test_damaged(void **state)
{
	/* boot sector fields the open must refuse */
	static const struct {
		size_t off;
		uint8_t val;
	} boot[] = {
		{ 3, 'X' },		/* OEM "NTFS    " */
		{ 0x0b, 0x03 },		/* bytes per sector */
		{ 0x0d, 0x03 },		/* sectors per cluster */
		{ 0x0d, 0x00 },
		{ 0x30, 0xff },		/* MFT cluster */
		{ 0x36, 0x10 },
		{ 0x40, 0x00 },		/* record size */
		{ 0x40, 0x7f },
		{ 0x40, 0xe0 },
		{ 0x1fe, 0x00 },	/* 0x55aa */
		{ 0x2e, 0x7f },		/* sectors: far past the end */
	};
	static const char *const files[] = { "n.img", "t.img" };

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		size_t len, cut, mft;
		uint8_t *b = ut_load(ut_path("%s", files[k]), &len);
		uint32_t seed = 4242;
		struct ut_flips fl;

		/* truncated */
		assert_true(try_image(b, 100) < 0);
		assert_true(try_image(b, 4096) < 0);
		for (cut = 65536; cut < len; cut *= 2)
			(void)try_image(b, cut);
		(void)try_image(b, len / 2 + 777);
		/* the boot sector */
		for (size_t i = 0; i < sizeof(boot) / sizeof(boot[0]); i++) {
			uint8_t old = b[boot[i].off];
			int r;

			b[boot[i].off] = boot[i].val;
			r = try_image(b, len);
			if (boot[i].off != 0x2e && r >= 0)
				fail_msg("%s: boot byte 0x%zx = 0x%02x opens",
					 files[k], boot[i].off, boot[i].val);
			b[boot[i].off] = old;
		}
		/* MFT records: every record header, then random bits */
		mft = rec_off(b, 0);
		for (int r = 0; r < 40; r++) {
			size_t pos = mft + (size_t)r * 1024 +
				     ut_rnd(&seed) % 0x40;
			uint8_t bit = (uint8_t)(1u << (ut_rnd(&seed) & 7));

			b[pos] ^= bit;
			(void)try_image(b, len);
			b[pos] ^= bit;
		}
		for (int r = 0; r < (k ? 60 : 12); r++) {
			ut_flips_apply(b, &fl, 8, mft, 100 * 1024, &seed);
			(void)try_image(b, len);
			ut_flips_undo(b, &fl);
		}
		/* random bits anywhere in the small image */
		for (int r = 0; k && r < 60; r++) {
			ut_flips_apply(b, &fl, 16, 0, len, &seed);
			(void)try_image(b, len);
			ut_flips_undo(b, &fl);
		}
		munmap(b, len);
	}
}

static int deep_reads(struct vu_fs *fs)
{
	uint8_t *data = NULL;
	size_t len;
	int r;

	r = vu_fs_read_file(fs, "/a/b/c/d/e/f/g/h/deep.txt", 64, &data, &len);
	free(data);
	data = NULL;
	if (r == 0)
		r = vu_fs_read_file(fs, "/comp/tiny.txt", 64, &data, &len);
	free(data);
	return r;
}

static void test_read_faults(void **state)
{
	(void)state;
	ut_fs_read_faults("n.img", VU_KIND_NTFS, 30, 9, 80, deep_reads);
}

/* ---- threads ---- */

static void test_threads(void **state)
{
	static const struct ut_read_job jobs[8] = {
		{ "/big.bin", "ntree/big.bin", NULL },
		{ "/comp/text.txt", "ntree/comp/text.txt", NULL },
		{ "/comp/mixed.bin", "ntree/comp/mixed.bin", NULL },
		{ "/sparse.bin", "ntree/sparse.bin", NULL },
		{ "/alt.bin", "ntree/alt.bin", NULL },
		{ "/ads.txt", "nsrc/big", "big" },
		{ "/日本/ファイル", "ntree/日本/ファイル", NULL },
		{ "/big.bin", "ntree/big.bin", NULL },
	};
	struct vu_fs *fs = open_file("n.img");

	(void)state;
	ut_read_in_threads(fs, jobs, "n.img");
	vu_fs_close(fs);
}

/* The smallest volume mkntfs makes (the fuzz seeds' source). */
static void test_small(void **state)
{
	struct vu_fs *fs = open_file("t.img");
	uint8_t *d = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(vu_fs_read_file(fs, "/d/e/f.txt", 100, &d, &len), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(d, "small\n", 6);
	free(d);
	vu_fs_close(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small),
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_data),
		cmocka_unit_test(test_streams),
		cmocka_unit_test(test_reparse),
		cmocka_unit_test(test_patched),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_read_faults),
		cmocka_unit_test(test_damaged),
	};
	int r = cmocka_run_group_tests(tests, group_setup,
					 ut_tmp_group_teardown);

	free(ntimes);
	return r;
}
