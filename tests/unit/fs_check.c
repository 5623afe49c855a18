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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_check.h"
#include "shell.h"

#include "core/blk.h"
#include "core/error.h"
#include "core/log.h"

int ut_fs_group_setup(const char *script, const char *const *tools,
		      size_t ntools)
{
	const char *src = getenv("top_srcdir");
	char path[600];

	vu_log_set_sink(NULL, NULL);
	for (size_t i = 0; i < ntools; i++)
		if (!ut_have(tools[i])) {
			fprintf(stderr, "%s: %s is not installed (it is "
				"needed, not optional)\n",
				program_invocation_short_name, tools[i]);
			return -1;
		}
	if (ut_tmp_group_setup(NULL) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/tests/unit/%s",
		 src && *src ? src : ".", script);
	if (ut_sh("sh -e '%s' >images.log 2>&1", path) != 0) {
		ut_sh("cat images.log >&2");
		return -1;
	}
	return 0;
}

struct vu_fs *ut_fs_open_file(const char *name, enum vu_kind kind)
{
	struct vu_blk *vol = NULL;
	struct vu_fs *fs = NULL;

	vu_err_clear();
	assert_int_equal(vu_file_open(ut_path("%s", name), &vol), 0);
	if (vu_fs_open(vol, kind, &fs) != 0)
		fail_msg("%s: %s", name, vu_errmsg(-1));
	vu_blk_unref(vol);
	return fs;
}

int ut_fs_open_mem(const uint8_t *b, size_t len, const char *name,
		   enum vu_kind kind, struct vu_fs **fs)
{
	struct vu_blk *vol = NULL;
	int r;

	*fs = NULL;
	vu_err_clear();
	assert_int_equal(vu_mem_open(b, len, name, &vol), 0);
	r = vu_fs_open(vol, kind, fs);
	vu_blk_unref(vol);
	return r;
}

/* A whole host file, or NULL with errno. */
static uint8_t *host_file(const char *path, size_t *len)
{
	uint8_t *b = NULL;
	struct stat st;
	FILE *f;

	if (stat(path, &st) != 0)
		return NULL;
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	*len = (size_t)st.st_size;
	b = calloc(1, *len + 1);
	if (b && fread(b, 1, *len, f) != *len) {
		free(b);
		b = NULL;
		errno = EIO;
	}
	fclose(f);
	return b;
}

uint8_t *ut_slurp(const char *rel, size_t *len)
{
	const char *path = ut_path("%s", rel);
	uint8_t *b = host_file(path, len);

	if (!b)
		fail_msg("%s: %s", path, strerror(errno));
	return b;
}

size_t ut_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		fail_msg("%s: %s", dir, strerror(errno));
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

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

void ut_flips_apply(uint8_t *b, struct ut_flips *f, int n, size_t from,
		    size_t span, uint32_t *seed)
{
	assert_true(n <= 16);
	f->n = n;
	for (int j = 0; j < n; j++) {
		f->pos[j] = from + ut_rnd(seed) % span;
		f->bit[j] = (uint8_t)(1u << (ut_rnd(seed) & 7));
		b[f->pos[j]] ^= f->bit[j];
	}
}

void ut_flips_undo(uint8_t *b, const struct ut_flips *f)
{
	for (int j = f->n - 1; j >= 0; j--)
		b[f->pos[j]] ^= f->bit[j];
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

int ut_try_image(const uint8_t *b, size_t len, enum vu_kind kind,
		 size_t budget, const int *errs)
{
	struct vu_fs *fs;
	int r = ut_fs_open_mem(b, len, "damaged", kind, &fs);

	if (r < 0) {
		const int *e = errs;

		while (*e && *e != r)
			e++;
		if (!*e)
			fail_msg("open: %d %s", r, vu_errmsg(r));
		assert_true(vu_err_isset());
		vu_err_clear();
		return r;
	}
	ut_walk_any(fs, vu_fs_root(fs), 0, &budget);
	vu_fs_close(fs);
	return 0;
}

void ut_fs_read_faults(const char *name, enum vu_kind kind, long dense,
		       long step, long last, int (*reads)(struct vu_fs *fs))
{
	for (long n = 1; n <= last; n += (n < dense ? 1 : step)) {
		struct vu_blk *vol = NULL;
		struct vu_fs *fs = NULL;
		int r;

		vu_err_clear();
		assert_int_equal(vu_file_open(ut_path("%s", name), &vol), 0);
		vu_blk_fault_after(n);
		r = vu_fs_open(vol, kind, &fs);
		vu_blk_unref(vol);
		if (r == 0) {
			r = reads(fs);
			vu_fs_close(fs);
		}
		vu_blk_fault_after(0);
		if (r < 0)
			assert_true(vu_err_isset());
	}
	vu_err_clear();
}

struct reader {
	struct vu_fs *fs;
	const struct ut_read_job *job;
	int id, ok;
};

/* A reader only says whether all it read was right: failing the test is
 * for the main thread. */
static void *reader(void *arg)
{
	static const size_t sizes[] = { 1000, 4096, 65536, 300001 };
	struct reader *j = arg;
	size_t len, off;
	uint8_t *want, *got;

	j->ok = 0;
	want = host_file(ut_path("%s", j->job->src), &len);
	got = want ? malloc(len + 300001) : NULL;
	if (!got)
		return NULL;
	for (int round = 0; round < 3; round++) {
		struct vu_fs_file *f = NULL;
		struct ut_ents e = { 0 };
		uint64_t ino;

		if (vu_fs_lookup_path(j->fs, j->job->path, &ino) != 0 ||
		    vu_fs_file_open(j->fs, ino, j->job->stream, &f) != 0)
			return NULL;
		for (off = 0; off < len;) {
			ssize_t r = vu_fs_file_read(f, got + off,
						    sizes[(off + j->id) % 4],
						    off);
			if (r <= 0)
				return NULL;
			off += (size_t)r;
		}
		vu_fs_file_close(f);
		if (memcmp(got, want, len))
			return NULL;
		/* directory work in parallel with the reads */
		if (vu_fs_lookup_path(j->fs, "/many", &ino) != 0 ||
		    vu_fs_readdir(j->fs, ino, ut_collect, &e) != 0 ||
		    e.n != 3000)
			return NULL;
		ut_ents_free(&e);
	}
	free(want);
	free(got);
	j->ok = 1;
	return NULL;
}

void ut_read_in_threads(struct vu_fs *fs, const struct ut_read_job *jobs,
			const char *what)
{
	pthread_t th[8];
	struct reader j[8];

	for (int i = 0; i < 8; i++) {
		j[i] = (struct reader){ fs, &jobs[i], i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, reader, &j[i]),
				 0);
	}
	/* all joined before any failure: a thread left running would read
	 * through fs after the caller's cleanup is skipped */
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 8; i++)
		if (!j[i].ok)
			fail_msg("%s: thread %d (%s) read wrong data", what, i,
				 jobs[i].path);
}
