/* FAT12/16/32 (src/fs/fs_fat.c): images made by mkfs.fat and filled by
 * mtools (tests/unit/fs_fat_images.sh), read through vu_fs and compared
 * with what mtools reads back: every path `mdir -/ -b` lists (long names,
 * Unicode, names differing only in case, NT lowercase short names, deep
 * and empty directories) and the bytes of every file `mcopy -s` copies out
 * (0 bytes, many clusters, fragmented).  Then lookups ("..", case), a
 * known mtime, and damaged images: zeroed boot sector fields, FAT entries
 * out of range, free or end-of-chain too early or too late, a file chain
 * loop, a directory chain loop and a truncated image, each with the error
 * that names it. */
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

#include "fs_check.h"
#include "shell.h"

#include "core/blk.h"
#include "core/bytes.h"
#include "core/error.h"
#include "fs/fs.h"
#include "volume/probe.h"

static const char *const imgs[] = { "f12", "f16", "f32", "f32b" };
#define NIMG (sizeof(imgs) / sizeof(imgs[0]))

static const char *const tools[] = {
	"mkfs.fat", "mcopy", "mdir", "mdel", "mtype", "mattrib", "truncate",
	"diff",
};

static int group_setup(void **state)
{
	(void)state;
	return ut_fs_group_setup("fs_fat_images.sh", tools,
				 sizeof(tools) / sizeof(tools[0]));
}

static struct vu_fs *open_blk(struct vu_blk *vol)
{
	struct vu_fs *fs = NULL;

	if (vu_fs_open(vol, VU_KIND_FAT, &fs) != 0)
		fail_msg("%s: %s", vol->desc, vu_errmsg(-1));
	return fs;
}

static struct vu_fs *open_img(const char *img)
{
	char name[64];

	snprintf(name, sizeof(name), "%s.img", img);
	return ut_fs_open_file(name, VU_KIND_FAT);
}

/* ---- the trees against mtools ---- */

struct paths {
	char **v;
	size_t n, cap;
};

static void paths_add(struct paths *p, const char *s)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->v = realloc(p->v, p->cap * sizeof(*p->v));
		assert_non_null(p->v);
	}
	p->v[p->n] = strdup(s);
	assert_non_null(p->v[p->n++]);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void paths_free(struct paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

/* Every entry under dir as mdir -a -/ -b prints it, and every file's bytes
 * against mtools' copy. */
static void walk(struct vu_fs *fs, const char *img, uint64_t dir,
		 const char *rel, struct paths *out)
{
	struct ut_ents e = { 0 };

	if (vu_fs_readdir(fs, dir, ut_collect, &e) != 0)
		fail_msg("%s:%s: readdir: %s", img, rel, vu_errmsg(-1));
	for (size_t i = 0; i < e.n; i++) {
		const struct vu_fs_stat *st = &e.v[i].st;
		char path[1500], line[1600];
		uint64_t ino;

		snprintf(path, sizeof(path), "%s/%s", rel, e.v[i].name);
		/* the listing and a lookup agree */
		if (vu_fs_lookup(fs, dir, e.v[i].name, &ino) != 0 ||
		    ino != st->ino)
			fail_msg("%s:%s: lookup: %s", img, path, vu_errmsg(-1));
		if (S_ISDIR(st->mode)) {
			assert_int_equal(st->mode, S_IFDIR | 0555);
			snprintf(line, sizeof(line), "::%s/", path);
			paths_add(out, line);
			/* ".." of a subdirectory is this directory */
			assert_int_equal(vu_fs_lookup(fs, st->ino, "..", &ino),
					 0);
			assert_int_equal(ino, dir);
			walk(fs, img, st->ino, path, out);
		} else {
			static uint8_t none[1];
			struct stat fst;
			uint8_t *want = none;
			size_t len = 0;

			assert_int_equal(st->mode, S_IFREG | 0444);
			snprintf(line, sizeof(line), "::%s", path);
			paths_add(out, line);
			/* mmap cannot map an empty file */
			if (stat(ut_path("%s.out%s", img, path), &fst) != 0)
				fail_msg("%s: read here, mtools did not copy "
					 "it out", line);
			if (fst.st_size)
				want = ut_load(ut_path("%s.out%s", img, path),
					       &len);
			assert_int_equal(st->size, len);
			ut_check_file_data(fs, st->ino, NULL, want, len, line,
					   len > 10000 ? 20 : 2);
			if (len)
				munmap(want, len);
		}
	}
	ut_ents_free(&e);
}

static void test_trees(void **state)
{
	(void)state;
	for (size_t i = 0; i < NIMG; i++) {
		struct vu_fs *fs = open_img(imgs[i]);
		struct paths got = { 0 }, want = { 0 };
		char line[1600];
		FILE *fp;

		walk(fs, imgs[i], vu_fs_root(fs), "", &got);
		fp = fopen(ut_path("%s.list", imgs[i]), "r");
		assert_non_null(fp);
		while (fgets(line, sizeof(line), fp)) {
			line[strcspn(line, "\n")] = '\0';
			paths_add(&want, line);
		}
		fclose(fp);
		qsort(got.v, got.n, sizeof(*got.v), str_cmp);
		qsort(want.v, want.n, sizeof(*want.v), str_cmp);
		for (size_t k = 0; k < got.n || k < want.n; k++)
			if (k >= got.n || k >= want.n ||
			    strcmp(got.v[k], want.v[k]))
				fail_msg("%s: entry %zu: read \"%s\", mdir "
					 "\"%s\"", imgs[i], k,
					 k < got.n ? got.v[k] : "(none)",
					 k < want.n ? want.v[k] : "(none)");
		assert_true(want.n > 60);
		paths_free(&got);
		paths_free(&want);
		vu_fs_close(fs);
	}
}

/* ---- lookups, times, kinds ---- */

static void test_lookup(void **state)
{
	(void)state;
	for (size_t i = 0; i < NIMG; i++) {
		struct vu_fs *fs = open_img(imgs[i]);
		struct vu_fs_stat st;
		uint64_t a, b;
		uint8_t *data;
		size_t len;

		/* FAT names are case-insensitive; the exact one wins */
		assert_int_equal(vu_fs_lookup_path(fs, "/dir1/README.TXT",
						   &a), 0);
		assert_int_equal(vu_fs_lookup_path(fs, "/Dir1/readme.txt",
						   &b), 0);
		assert_int_equal(a, b);
		/* a long name's 8.3 alias finds it too */
		assert_int_equal(vu_fs_lookup_path(fs, "/DIR3/NAME~1.TXT", &a),
				 0);
		assert_int_equal(vu_fs_lookup_path(fs, "/Dir3/name.TXT2", &b),
				 0);
		assert_int_equal(a, b);
		assert_int_equal(vu_fs_lookup_path(fs, "/a/b/c/d/e/f/g/h/../"
						   "../g/./h/deep.txt", &a), 0);
		assert_int_equal(vu_fs_read_file(fs, "/a/b/c/d/e/f/../f/g/h/"
						 "deep.txt", 100, &data, &len),
				 0);
		assert_int_equal(len, 5);
		assert_memory_equal(data, "deep\n", 5);
		free(data);
		assert_int_equal(vu_fs_lookup_path(fs, "/..", &a), 0);
		assert_int_equal(a, vu_fs_root(fs));
		ut_expect_err(vu_fs_lookup_path(fs, "/Dir1/nothing", &a),
			      -ENOENT, "missing", "/Dir1/nothing");
		ut_expect_err(vu_fs_lookup_path(fs, "/mtime.txt/x", &a),
			      -ENOTDIR, "file as a directory", "mtime.txt");
		/* local time as UTC: 2001-02-03 04:05:06 */
		assert_int_equal(vu_fs_lookup_path(fs, "/mtime.txt", &a), 0);
		assert_int_equal(vu_fs_getattr(fs, a, &st), 0);
		assert_int_equal(st.mtime.tv_sec, 981173106);
		assert_int_equal(st.ctime.tv_sec, 981173106);
		assert_int_equal(vu_fs_getattr(fs, vu_fs_root(fs), &st), 0);
		assert_int_equal(st.mode, S_IFDIR | 0555);
		ut_expect_err(vu_fs_readlink(fs, a, (char[8]){ 0 }, 8),
			      -EINVAL, "readlink", "not a symbolic link");
		vu_fs_close(fs);
	}
}

/* The probe's kind is read, and shows as "fat". */
static void test_kinds(void **state)
{
	struct vu_blk *vol = NULL;
	struct vu_probe p;
	struct vu_fs *fs;

	(void)state;
	assert_true(vu_fs_supported(VU_KIND_FAT));
	assert_int_equal(vu_file_open(ut_path("f32.img"), &vol), 0);
	assert_int_equal(vu_probe(vol, &p), 0);
	assert_int_equal(p.kind, VU_KIND_FAT);
	fs = open_blk(vol);
	assert_string_equal(vu_fs_kind_name(fs), "fat");
	vu_fs_close(fs);
	vu_blk_unref(vol);
}

/* ---- damaged images ---- */

struct geo {
	uint32_t sector, csize, fat_off, fatbits;
	uint64_t data_off;
};

static void geo_of(const uint8_t *b, struct geo *g)
{
	uint32_t fatlen = vu_le16(b + 0x16), rootents = vu_le16(b + 0x11);

	g->sector = vu_le16(b + 0x0b);
	g->csize = g->sector * b[0x0d];
	g->fat_off = vu_le16(b + 0x0e) * g->sector;
	g->fatbits = fatlen ? 16 : 32;
	if (!fatlen)
		fatlen = vu_le32(b + 0x24);
	g->data_off = g->fat_off + (uint64_t)fatlen * b[0x10] * g->sector +
		      ((uint64_t)rootents * 32 + g->sector - 1) / g->sector *
		      g->sector;
}

/* First cluster of path's entry (inode = entry offset / 32). */
static uint32_t first_cluster(const char *img, const uint8_t *b,
			      const char *path, uint64_t *ino)
{
	struct vu_fs *fs = open_img(img);
	uint32_t cl;

	assert_int_equal(vu_fs_lookup_path(fs, path, ino), 0);
	vu_fs_close(fs);
	cl = vu_le16(b + *ino * 32 + 26) |
	     (uint32_t)vu_le16(b + *ino * 32 + 20) << 16;
	return cl;
}

static uint32_t fat_get(const uint8_t *b, const struct geo *g, uint32_t cl)
{
	return g->fatbits == 16 ? vu_le16(b + g->fat_off + 2 * cl) :
	       vu_le32(b + g->fat_off + 4 * cl) & 0x0fffffff;
}

static void fat_set(uint8_t *b, const struct geo *g, uint32_t cl, uint32_t v)
{
	uint8_t *p = b + g->fat_off + (g->fatbits / 8) * cl;

	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	if (g->fatbits == 32) {
		p[2] = (uint8_t)(v >> 16);
		p[3] = (uint8_t)((p[3] & 0xf0) | ((v >> 24) & 0x0f));
	}
}

/* Open the volume in b (open must succeed or fail as wanted) and read
 * path: the error and the words its message must hold. */
static void expect_read(const uint8_t *b, size_t len, const char *path,
			int want, const char *sub, const char *what)
{
	struct vu_fs *fs = NULL;
	struct vu_fs_file *f = NULL;
	uint64_t ino;
	int r = ut_fs_open_mem(b, len, "damaged", VU_KIND_FAT, &fs);

	if (!path) {
		ut_expect_err(r, want, what, sub);
		if (r == 0)
			vu_fs_close(fs);
		return;
	}
	if (r != 0)
		fail_msg("%s: open: %s", what, vu_errmsg(r));
	r = vu_fs_lookup_path(fs, path, &ino);
	if (r == 0) {
		r = vu_fs_file_open(fs, ino, NULL, &f);
		if (r == 0)
			vu_fs_file_close(f);
		if (r == -EISDIR) {
			struct ut_ents e = { 0 };

			vu_err_clear();
			r = vu_fs_readdir(fs, ino, ut_collect, &e);
			ut_ents_free(&e);
		}
	}
	ut_expect_err(r, want, what, sub);
	vu_fs_close(fs);
}

static void test_damaged(void **state)
{
	static const struct {
		size_t off, len;
		const char *sub;
	} zero[] = {
		{ 0x0b, 2, "bytes per sector 0" },
		{ 0x0d, 1, "sectors per cluster 0" },
		{ 0x0e, 2, "reserved sectors 0" },
		{ 0x10, 1, "FATs 0" },
		{ 0x13, 2, "total sectors 0" },	/* with 0x20 below */
	};
	size_t len;
	struct geo g;
	uint64_t ino;
	uint32_t cl, c2, old;
	uint8_t *b;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		const char *img = i ? "f32" : "f16";

		b = ut_load(ut_path("%s.img", img), &len);
		geo_of(b, &g);
		/* boot sector fields zeroed */
		for (size_t k = 0; k < sizeof(zero) / sizeof(zero[0]); k++) {
			uint8_t save[6];

			memcpy(save, b + zero[k].off, zero[k].len);
			memcpy(save + 2, b + 0x20, 4);
			memset(b + zero[k].off, 0, zero[k].len);
			if (k == 4)
				memset(b + 0x20, 0, 4);
			expect_read(b, len, NULL, -EUCLEAN, zero[k].sub, img);
			memcpy(b + zero[k].off, save, zero[k].len);
			memcpy(b + 0x20, save + 2, 4);
		}
		if (g.fatbits == 32) {
			old = vu_le32(b + 0x2c);
			memcpy(b + 0x2c, "\xff\xff\xff\x00", 4);
			expect_read(b, len, NULL, -EUCLEAN, "root directory "
				    "cluster 16777215 out of range", img);
			memcpy(b + 0x2c, &(uint32_t){ old }, 4);
		}
		expect_read(b, 700, NULL, -EUCLEAN, "truncated image", img);

		/* big.bin took frag2's place, then free clusters past frag3:
		 * it is in two pieces at least */
		cl = first_cluster(img, b, "/big.bin", &ino);
		c2 = first_cluster(img, b, "/frag3", &ino);
		assert_true(cl < c2);
		/* entries of the file's chain made wrong, one at a time */
		old = fat_get(b, &g, cl);
		fat_set(b, &g, cl, g.fatbits == 16 ? 0xfff0 : 0x0ffffff0);
		expect_read(b, len, "/big.bin", -EUCLEAN, "(chain position 1) "
			    "out of range", "FAT entry past the end");
		fat_set(b, &g, cl, 0);
		expect_read(b, len, "/big.bin", -EUCLEAN, "is marked free",
			    "free mid-chain");
		fat_set(b, &g, cl, 0x0fffffff);
		expect_read(b, len, "/big.bin", -EUCLEAN, "cluster chain of 1 "
			    "clusters is shorter than", "short chain");
		fat_set(b, &g, cl, cl);
		expect_read(b, len, "/big.bin", -EUCLEAN, "cluster chain loops "
			    "(cluster", "chain loop");
		fat_set(b, &g, cl, old);
		/* the last cluster of frag3 goes on into a free one */
		for (c2 = first_cluster(img, b, "/frag3", &ino);
		     fat_get(b, &g, c2) < 0xfff0; c2 = fat_get(b, &g, c2))
			;
		old = fat_get(b, &g, c2);
		fat_set(b, &g, c2, (uint32_t)(len / g.csize / 2));
		expect_read(b, len, "/frag3", -EUCLEAN, "longer than the",
			    "long chain");
		fat_set(b, &g, c2, old);
		/* a directory whose chain comes back to itself */
		cl = first_cluster(img, b, "/Dir1", &ino);
		old = fat_get(b, &g, cl);
		fat_set(b, &g, cl, cl);
		expect_read(b, len, "/Dir1", -EUCLEAN, "directory \"DIR1\"",
			    "directory loop");
		expect_read(b, len, "/Dir1", -EUCLEAN, "loops", "dir loop");
		fat_set(b, &g, cl, old);
		/* cut inside big.bin's data */
		cl = first_cluster(img, b, "/big.bin", &ino);
		expect_read(b, g.data_off + (uint64_t)(cl - 2) * g.csize + 100,
			    "/big.bin", -EUCLEAN, "past the end of the",
			    "truncated data");
		/* the intact image still reads */
		expect_read(b, len, "/big.bin", 0, NULL, "intact");
		munmap(b, len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_trees),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_damaged),
	};

	return cmocka_run_group_tests(tests, group_setup,
				      ut_tmp_group_teardown);
}
