/* Fuzz target: file systems.  The input is a volume: probed, opened as the
 * kind found (ext2/3/4, XFS, NTFS, FAT; and as each kind in turn when the probe
 * finds none, so damaged superblocks reach the backends too), then walked:
 * every directory to a bounded depth and breadth, with lookups (also with
 * the case changed), attributes, symbolic links, named streams and the
 * first bytes of every file and stream. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "core/blk.h"
#include "core/error.h"
#include "core/log.h"
#include "fs/fs.h"
#include "volume/probe.h"

#define MAX_DEPTH 8
#define MAX_ENTRIES 64	/* per directory */
#define MAX_TOTAL 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct walk {
	struct vu_fs *fs;
	unsigned total;
	struct {
		char name[256];
		uint64_t ino;
		uint32_t mode;
	} ent[MAX_ENTRIES];
	unsigned n;
};

static int collect(void *ctx, const char *name, const struct vu_fs_stat *st)
{
	struct walk *w = ctx;

	if (w->n >= MAX_ENTRIES || w->total >= MAX_TOTAL)
		return 1;
	strncpy(w->ent[w->n].name, name, sizeof(w->ent[0].name) - 1);
	w->ent[w->n].name[sizeof(w->ent[0].name) - 1] = '\0';
	w->ent[w->n].ino = st->ino;
	w->ent[w->n].mode = st->mode;
	w->n++;
	w->total++;
	return 0;
}

static void read_some(struct vu_fs *fs, uint64_t ino, const char *stream)
{
	struct vu_fs_file *f = NULL;
	uint8_t buf[4096];

	if (vu_fs_file_open(fs, ino, stream, &f) < 0)
		return;
	(void)vu_fs_file_read(f, buf, sizeof(buf), 0);
	(void)vu_fs_file_read(f, buf, 777, vu_fs_file_size(f) / 2);
	vu_fs_file_close(f);
}

struct stream_ctx {
	struct vu_fs *fs;
	uint64_t ino;
	int n;
};

static int read_stream(void *ctx, const char *name, uint64_t size)
{
	struct stream_ctx *s = ctx;

	(void)size;
	if (s->n++ >= 4)
		return 1;
	read_some(s->fs, s->ino, name);
	return 0;
}

/* The name with its ASCII letters' case swapped. */
static void swap_case(char *out, const char *in, size_t size)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < size; i++)
		out[i] = (char)((in[i] >= 'a' && in[i] <= 'z') ||
				(in[i] >= 'A' && in[i] <= 'Z') ?
				in[i] ^ 0x20 : in[i]);
	out[i] = '\0';
}

static void walk_dir(struct walk *w, uint64_t dir, unsigned depth)
{
	struct walk sub;
	uint64_t x;
	char link[256];

	if (depth > MAX_DEPTH || w->total >= MAX_TOTAL)
		return;
	sub.fs = w->fs;
	sub.total = w->total;
	sub.n = 0;
	(void)vu_fs_readdir(w->fs, dir, collect, &sub);
	w->total = sub.total;
	(void)vu_fs_lookup(w->fs, dir, "..", &x);
	for (unsigned i = 0; i < sub.n; i++) {
		struct stream_ctx sc = { w->fs, sub.ent[i].ino, 0 };
		struct vu_fs_stat st;
		char other[256];

		vu_err_clear();
		(void)vu_fs_lookup(w->fs, dir, sub.ent[i].name, &x);
		swap_case(other, sub.ent[i].name, sizeof(other));
		(void)vu_fs_lookup(w->fs, dir, other, &x);
		(void)vu_fs_getattr(w->fs, sub.ent[i].ino, &st);
		(void)vu_fs_streams(w->fs, sub.ent[i].ino, read_stream, &sc);
		if (S_ISDIR(sub.ent[i].mode) && sub.ent[i].ino != dir)
			walk_dir(w, sub.ent[i].ino, depth + 1);
		else if (S_ISLNK(sub.ent[i].mode))
			(void)vu_fs_readlink(w->fs, sub.ent[i].ino, link,
					     sizeof(link));
		else if (S_ISREG(sub.ent[i].mode))
			read_some(w->fs, sub.ent[i].ino, NULL);
	}
}

static void try_kind(struct vu_blk *vol, enum vu_kind kind)
{
	static struct walk w; /* large: not on the stack */
	uint64_t ino;

	vu_err_clear();
	memset(&w, 0, sizeof(w));
	if (vu_fs_open(vol, kind, &w.fs) < 0)
		return;
	walk_dir(&w, vu_fs_root(w.fs), 0);
	(void)vu_fs_lookup_path(w.fs, "/a/b/../c/./d", &ino);
	vu_fs_close(w.fs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vu_blk *vol = NULL;
	struct vu_probe p;

	vu_log_set_sink(NULL, NULL);
	vu_err_clear();
	if (vu_mem_open(data, size, "fuzz", &vol) < 0)
		return 0;
	if (vu_probe(vol, &p) == 0 && vu_fs_supported(p.kind)) {
		try_kind(vol, p.kind);
	} else {
		try_kind(vol, VU_KIND_EXT4);
		try_kind(vol, VU_KIND_XFS);
		try_kind(vol, VU_KIND_NTFS);
		try_kind(vol, VU_KIND_FAT);
	}
	vu_blk_unref(vol);
	return 0;
}
