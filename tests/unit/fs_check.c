/* Checks the file-system unit tests share (see fs_check.h): one reader,
 * one listing and one image loader, instead of a copy in each test. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_check.h"

#include "core/error.h"

int ut_collect(void *ctx, const char *name, const struct vu_fs_stat *st)
{
	struct ut_ents *e = ctx;

	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 64;
		e->v = realloc(e->v, e->cap * sizeof(*e->v));
		assert_non_null(e->v);
	}
	snprintf(e->v[e->n].name, sizeof(e->v[e->n].name), "%s", name);
	e->v[e->n++].st = *st;
	return 0;
}

const struct ut_ent *ut_find_ent(const struct ut_ents *e, const char *name)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->v[i].name, name))
			return &e->v[i];
	return NULL;
}

void ut_ents_free(struct ut_ents *e)
{
	free(e->v);
	*e = (struct ut_ents){ 0 };
}

uint32_t ut_rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

void ut_check_file_data(struct vu_fs *fs, uint64_t ino, const char *stream,
			const uint8_t *want, size_t len, const char *what,
			int random_reads)
{
	/* odd sizes, so that reads start and end inside blocks, extents
	 * and compression units */
	static const size_t chunks[] = { 4093, 65537, 1024 * 1024 + 3 };
	struct vu_fs_file *f = NULL;
	uint8_t *got = malloc(len + 8192);
	uint32_t seed = 0x9e3779b9u ^ (uint32_t)len;
	size_t off = 0;
	int k = 0;

	assert_non_null(got);
	if (vu_fs_file_open(fs, ino, stream, &f) != 0)
		fail_msg("%s: open: %s", what, vu_errmsg(-1));
	if (vu_fs_file_size(f) != len)
		fail_msg("%s: size %" PRIu64 ", want %zu", what,
			 vu_fs_file_size(f), len);
	while (off < len) {
		size_t n = chunks[k++ % 3];
		ssize_t r = vu_fs_file_read(f, got + off, n, off);

		if (r <= 0)
			fail_msg("%s: read at %zu: %zd %s", what, off, r,
				 vu_errmsg((int)r));
		assert_int_equal((size_t)r, len - off < n ? len - off : n);
		off += (size_t)r;
	}
	if (memcmp(got, want, len)) {
		size_t i = 0;

		while (got[i] == want[i])
			i++;
		fail_msg("%s: bytes differ from %zu on", what, i);
	}
	for (int i = 0; i < random_reads && len; i++) {
		uint64_t o = ut_rnd(&seed) % len;
		size_t n = ut_rnd(&seed) % (len - o < 100000 ? len - o + 1 :
					    100000);
		ssize_t r = vu_fs_file_read(f, got, n, o);

		assert_int_equal(r, (ssize_t)n);
		if (memcmp(got, want + o, n))
			fail_msg("%s: read of %zu at %" PRIu64 " differs",
				 what, n, o);
	}
	/* at and past the end: 0; across it: short */
	assert_int_equal(vu_fs_file_read(f, got, 10, len), 0);
	assert_int_equal(vu_fs_file_read(f, got, 10, len + 12345), 0);
	if (len) {
		assert_int_equal(vu_fs_file_read(f, got, 100, len - 1), 1);
		assert_int_equal(got[0], want[len - 1]);
	}
	vu_fs_file_close(f);
	free(got);
}

uint8_t *ut_load(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	void *m;

	if (fd < 0)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fstat(fd, &st), 0);
	m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE, fd, 0);
	close(fd);
	assert_true(m != MAP_FAILED);
	*len = (size_t)st.st_size;
	return m;
}

void ut_walk_any(struct vu_fs *fs, uint64_t dir, int depth, size_t *budget)
{
	struct ut_ents e = { 0 };
	uint8_t buf[65536];

	if (depth > 12 || vu_fs_readdir(fs, dir, ut_collect, &e) < 0) {
		ut_ents_free(&e);
		return;
	}
	for (size_t i = 0; i < e.n && *budget; i++, (*budget)--) {
		const struct vu_fs_stat *st = &e.v[i].st;
		struct vu_fs_file *f = NULL;
		char t[256];
		uint64_t x;

		(void)vu_fs_lookup(fs, dir, e.v[i].name, &x);
		(void)vu_fs_streams(fs, st->ino, NULL, NULL);
		if (S_ISDIR(st->mode)) {
			ut_walk_any(fs, st->ino, depth + 1, budget);
		} else if (S_ISLNK(st->mode)) {
			(void)vu_fs_readlink(fs, st->ino, t, sizeof(t));
		} else if (vu_fs_file_open(fs, st->ino, NULL, &f) == 0) {
			for (uint64_t o = 0; o < vu_fs_file_size(f) &&
			     o < 256 * 1024; o += sizeof(buf))
				if (vu_fs_file_read(f, buf, sizeof(buf), o) < 0)
					break;
			vu_fs_file_close(f);
		}
		vu_err_clear();
	}
	ut_ents_free(&e);
}

void ut_expect_err(int r, int want, const char *what, const char *sub)
{
	if (r != want)
		fail_msg("%s: %d, want %d (%s)", what, r, want, vu_errmsg(r));
	if (sub && !strstr(vu_errmsg(r), sub))
		fail_msg("%s: message \"%s\" does not name \"%s\"", what,
			 vu_errmsg(r), sub);
	vu_err_clear();
}
