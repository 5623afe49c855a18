/* Fuzz target: a differencing chain through the container layer.  The
 * input holds two files: a 4-byte little-endian length, then the child's
 * bytes, then the parent's.  They are written to a private directory as
 * child.vhd (or .vhdx, by the child's first bytes) and as parent.vhd and
 * parent.vhdx, the names the seeds' parent locators give, and the child is
 * opened with vu_container_open() as a user would open it: the locators
 * resolved, the parent opened, the identities and sizes checked, and the
 * disk read in 64 KiB pieces (the first 8 MiB and the last piece). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container/container.h"
#include "core/blk.h"
#include "core/error.h"
#include "core/log.h"

#define PIECE (64 * 1024)
#define READ_CAP (8 * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static int put(const char *name, const uint8_t *p, size_t n, char *path,
	       size_t cap)
{
	FILE *f;
	int ok;

	snprintf(path, cap, "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static void read_disk(struct vu_blk *d)
{
	static uint8_t buf[PIECE];
	uint64_t cap = d->size < READ_CAP ? d->size : READ_CAP;

	for (uint64_t off = 0; off < cap; off += PIECE)
		vu_blk_read(d, buf, cap - off < PIECE ? cap - off : PIECE, off);
	if (d->size > cap) {
		uint64_t n = d->size - cap < PIECE ? d->size - cap : PIECE;
		vu_blk_read(d, buf, n, d->size - n);
	}
}

static void remove_dir(void)
{
	static const char *const names[] = { "child.vhd", "child.vhdx",
					     "parent.vhd", "parent.vhdx" };
	char p[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char child[128], parent[128], parent_x[128];
	struct vu_container_info info;
	struct vu_blk *disk;
	size_t clen;

	vu_log_set_sink(NULL, NULL);
	if (!dir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/fuzzchainXXXXXX",
			 t && strlen(t) < 40 ? t : "/tmp");
		if (!mkdtemp(dir))
			abort();
		atexit(remove_dir);
	}
	if (size < 4)
		return 0;
	clen = (size_t)data[0] | (size_t)data[1] << 8 |
	       (size_t)data[2] << 16 | (size_t)data[3] << 24;
	data += 4, size -= 4;
	if (clen > size)
		clen = size;
	/* the child's name follows its kind, as a user's file would */
	const char *cname = clen >= 8 && !memcmp(data, "vhdxfile", 8)
				    ? "child.vhdx" : "child.vhd";
	if (put(cname, data, clen, child, sizeof(child)) < 0 ||
	    put("parent.vhd", data + clen, size - clen, parent,
		sizeof(parent)) < 0 ||
	    put("parent.vhdx", data + clen, size - clen, parent_x,
		sizeof(parent_x)) < 0)
		abort();
	if (vu_container_open(child, &disk, &info) == 0) {
		read_disk(disk);
		vu_blk_unref(disk);
		vu_container_info_free(&info);
	}
	unlink(child);
	vu_err_clear();
	return 0;
}
