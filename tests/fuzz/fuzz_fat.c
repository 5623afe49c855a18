/* Fuzz target: the FAT reader (src/fs/fat_*.c).  The input is a volume
 * opened as FAT without the probe, so boot sectors the probe would refuse
 * reach fat_boot_read too; then every directory is listed to a bounded
 * depth (long names, short names, chains), ".." is looked up in each (the
 * parent search by cluster), names are looked up again with their case
 * changed and through their 8.3 alias, and every file's chain is mapped
 * and its first and last bytes read. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "core/blk.h"
#include "core/error.h"
#include "core/log.h"
#include "fs/fs.h"

#define MAX_DEPTH 6
#define MAX_ENTRIES 48	/* per directory */
#define MAX_TOTAL 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct dir {
	unsigned n;
	struct {
		char name[256];
		uint64_t ino;
		uint32_t mode;
	} ent[MAX_ENTRIES];
};

static unsigned total;

static int collect(void *ctx, const char *name, const struct vu_fs_stat *st)
{
	struct dir *d = ctx;

	if (d->n >= MAX_ENTRIES || total >= MAX_TOTAL)
		return 1;
	total++;
	strncpy(d->ent[d->n].name, name, sizeof(d->ent[0].name) - 1);
	d->ent[d->n].name[sizeof(d->ent[0].name) - 1] = '\0';
	d->ent[d->n].ino = st->ino;
	d->ent[d->n].mode = st->mode;
	d->n++;
	return 0;
}

static void read_ends(struct vu_fs *fs, uint64_t ino)
{
	struct vu_fs_file *f = NULL;
	uint8_t buf[2048];
	uint64_t size;

	if (vu_fs_file_open(fs, ino, NULL, &f) < 0)
		return;
	size = vu_fs_file_size(f);
	(void)vu_fs_file_read(f, buf, sizeof(buf), 0);
	if (size > sizeof(buf))
		(void)vu_fs_file_read(f, buf, sizeof(buf), size - sizeof(buf));
	vu_fs_file_close(f);
}

static void walk(struct vu_fs *fs, uint64_t dir, unsigned depth)
{
	static struct dir stack[MAX_DEPTH + 1]; /* large: not on the stack */
	struct dir *d = &stack[depth];
	uint64_t x;

	d->n = 0;
	(void)vu_fs_readdir(fs, dir, collect, d);
	(void)vu_fs_lookup(fs, dir, "..", &x);
	for (unsigned i = 0; i < d->n; i++) {
		char other[256];
		struct vu_fs_stat st;

		vu_err_clear();
		strcpy(other, d->ent[i].name);
		for (char *p = other; *p; p++)
			if ((*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z'))
				*p ^= 0x20;
		(void)vu_fs_lookup(fs, dir, other, &x);
		(void)vu_fs_getattr(fs, d->ent[i].ino, &st);
		if (S_ISDIR(d->ent[i].mode) && depth < MAX_DEPTH)
			walk(fs, d->ent[i].ino, depth + 1);
		else if (S_ISREG(d->ent[i].mode))
			read_ends(fs, d->ent[i].ino);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vu_blk *vol = NULL;
	struct vu_fs *fs = NULL;
	uint64_t ino;

	vu_log_set_sink(NULL, NULL);
	vu_err_clear();
	total = 0;
	if (vu_mem_open(data, size, "fuzz", &vol) < 0)
		return 0;
	if (vu_fs_open(vol, VU_KIND_FAT, &fs) == 0) {
		walk(fs, vu_fs_root(fs), 0);
		(void)vu_fs_lookup_path(fs, "/EFI/BOOT/../Microsoft/./x", &ino);
		vu_fs_close(fs);
	}
	vu_blk_unref(vol);
	return 0;
}
