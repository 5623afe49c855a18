/* FAT: the boot sector's geometry, FAT entries through a bounded cache,
 * and cluster chains checked against the volume and the file size. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/blk.h"
#include "core/bytes.h"
#include "core/error.h"
#include "fs/fat_int.h"

/* The geometry from the BIOS parameter block.  The FAT type follows the
 * Linux kernel: FAT32 when the 16-bit FAT length is 0, else FAT12 or FAT16
 * by the cluster count (Microsoft's rule), so small FAT32 volumes that
 * mkfs.fat makes on request still read as FAT32. */
int fat_boot_read(struct vu_fs *fs)
{
	struct fat *f = F(fs);
	uint8_t b[512];
	uint32_t spc, reserved, nfats, fatlen, rootents, total;
	uint64_t fats_end, total_bytes, entries, nc;
	int r;

	if (fs->vol->size < sizeof(b))
		return fs_fail(fs, -EUCLEAN, "volume of %" PRIu64 " bytes is "
			       "too small for a boot sector", fs->vol->size);
	r = vu_blk_read(fs->vol, b, sizeof(b), 0);
	if (r < 0)
		return r;
	f->sector = vu_le16(b + FAT_SECTOR_SIZE_OFF);
	spc = b[FAT_CLUSTER_SIZE_OFF];
	reserved = vu_le16(b + FAT_RESERVED_OFF);
	nfats = b[FAT_FATS_OFF];
	rootents = vu_le16(b + FAT_DIR_ENTRIES_OFF);
	total = vu_le16(b + FAT_SECTORS_OFF);
	if (!total)
		total = vu_le32(b + FAT_TOTAL_SECT_OFF);
	fatlen = vu_le16(b + FAT_FAT_LENGTH_OFF);
	f->bits = fatlen ? 0 : 32;
	if (!fatlen)
		fatlen = vu_le32(b + FAT32_LENGTH_OFF);
	if (!vu_is_pow2(f->sector) || f->sector < 512 || f->sector > 4096)
		return fs_fail(fs, -EUCLEAN, "boot sector: bytes per sector "
			       "%u, expected 512 to 4096, a power of 2",
			       f->sector);
	if (!vu_is_pow2(spc))
		return fs_fail(fs, -EUCLEAN, "boot sector: sectors per "
			       "cluster %u, expected a power of 2", spc);
	if (!reserved || !nfats || !fatlen || !total)
		return fs_fail(fs, -EUCLEAN, "boot sector: zero field "
			       "(reserved sectors %u, FATs %u, FAT sectors "
			       "%u, total sectors %u)", reserved, nfats, fatlen,
			       total);
	if (f->bits != 32 && !rootents)
		return fs_fail(fs, -EUCLEAN, "boot sector: FAT12/16 with no "
			       "root directory entries");
	f->csize = f->sector * spc;
	f->fat_off = (uint64_t)reserved * f->sector;
	f->fat_bytes = (uint64_t)fatlen * f->sector;
	fats_end = f->fat_off + f->fat_bytes * nfats;
	f->root_off = fats_end;
	f->root_bytes = f->bits == 32 ? 0 :
			((uint64_t)rootents * FAT_DIRENT + f->sector - 1) /
			f->sector * f->sector;
	f->data_off = f->root_off + f->root_bytes;
	total_bytes = (uint64_t)total * f->sector;
	if (f->data_off >= total_bytes)
		return fs_fail(fs, -EUCLEAN, "boot sector: data area at byte %"
			       PRIu64 " is past the %" PRIu64 " bytes of the "
			       "file system", f->data_off, total_bytes);
	/* counted in 64 bits: 2^32 sectors of 4 KiB in 512-byte clusters
	 * would wrap a 32-bit count into a plausible one */
	nc = (total_bytes - f->data_off) / f->csize;
	if (!f->bits)
		f->bits = nc <= FAT12_MAX ? 12 : 16;
	if (f->bits == 16 && nc > FAT16_MAX)
		return fs_fail(fs, -EUCLEAN, "boot sector: %" PRIu64
			       " clusters are too many for FAT16", nc);
	/* FAT32 entries have 28 bits: clusters past them cannot be used */
	f->nclusters = (uint32_t)(nc > FAT32_MAX ? FAT32_MAX : nc);
	f->bad = f->bits == 12 ? FAT12_BAD : f->bits == 16 ? FAT16_BAD :
		 FAT32_BAD;
	entries = f->fat_bytes * 8 / f->bits;
	if (entries < (uint64_t)f->nclusters + FAT_FIRST_CLUSTER)
		return fs_fail(fs, -EUCLEAN, "boot sector: a FAT of %" PRIu64
			       " entries for %u clusters", entries,
			       f->nclusters);
	/* the metadata must be there; a short data area is found per file */
	if (f->data_off > fs->vol->size)
		return fs_fail(fs, -EUCLEAN, "FATs and root directory end at "
			       "byte %" PRIu64 ", past the end of the %" PRIu64
			       "-byte volume (truncated image?)", f->data_off,
			       fs->vol->size);
	if (f->bits == 32) {
		f->root_cluster = vu_le32(b + FAT32_ROOT_CLUSTER_OFF);
		if (f->root_cluster < FAT_FIRST_CLUSTER ||
		    f->root_cluster > f->nclusters + 1)
			return fs_fail(fs, -EUCLEAN, "boot sector: root "
				       "directory cluster %u out of range 2 to "
				       "%u", f->root_cluster, f->nclusters + 1);
	}
	f->cbuf = malloc(f->csize);
	if (!f->cbuf)
		return vu_fail(-ENOMEM, "out of memory");
	return 0;
}

void fat_cache_free(struct fat *f)
{
	for (unsigned i = 0; i < FAT_CACHE_SLOTS; i++) {
		free(f->cache[i].buf);
		f->cache[i].buf = NULL;
		f->cache[i].chunk1 = 0;
	}
}

uint64_t fat_cluster_off(const struct fat *f, uint32_t cl)
{
	return f->data_off + (uint64_t)(cl - FAT_FIRST_CLUSTER) * f->csize;
}

/* One byte of the first FAT (off < fat_bytes), through the cache. */
static int fat_byte(struct vu_fs *fs, uint64_t off, uint8_t *out)
{
	struct fat *f = F(fs);
	uint64_t chunk = off / FAT_CACHE_CHUNK;
	struct fat_cache_slot *s = &f->cache[chunk % FAT_CACHE_SLOTS];
	int r;

	if (s->chunk1 != chunk + 1) {
		uint64_t start = chunk * FAT_CACHE_CHUNK;
		uint64_t len = f->fat_bytes - start;

		if (len > FAT_CACHE_CHUNK)
			len = FAT_CACHE_CHUNK;
		if (!s->buf) {
			s->buf = malloc(FAT_CACHE_CHUNK);
			if (!s->buf)
				return vu_fail(-ENOMEM, "out of memory");
		}
		s->chunk1 = 0;
		r = vu_blk_read(fs->vol, s->buf, (size_t)len,
				f->fat_off + start);
		if (r < 0)
			return r;
		s->chunk1 = chunk + 1;
	}
	*out = s->buf[off % FAT_CACHE_CHUNK];
	return 0;
}

/* The FAT entry of cluster cl (checked to be in range by the caller). */
static int fat_next(struct vu_fs *fs, uint32_t cl, uint32_t *next)
{
	struct fat *f = F(fs);
	uint8_t b[4] = { 0 };
	uint64_t off;
	unsigned n;
	int r;

	if (f->bits == 12)
		off = (uint64_t)cl + cl / 2, n = 2;
	else
		off = (uint64_t)cl * (f->bits / 8), n = f->bits / 8;
	for (unsigned i = 0; i < n; i++) {
		r = fat_byte(fs, off + i, &b[i]);
		if (r < 0)
			return r;
	}
	if (f->bits == 12)
		*next = cl & 1 ? vu_le16(b) >> 4 : vu_le16(b) & 0xfffu;
	else if (f->bits == 16)
		*next = vu_le16(b);
	else
		*next = vu_le32(b) & FAT32_ENTRY_MASK;
	return 0;
}

static int run_cmp(const void *a, const void *b)
{
	const struct fat_run *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* A chain that comes back to a cluster it used makes two runs overlap:
 * sorted by first cluster, each run must end before the next starts. */
static int chain_loops(struct vu_fs *fs, const struct fat_run *runs,
		       size_t n, const char *what)
{
	struct fat_run *s;
	int r = 0;

	if (n < 2)
		return 0;
	s = malloc(n * sizeof(*s));
	if (!s)
		return vu_fail(-ENOMEM, "out of memory");
	memcpy(s, runs, n * sizeof(*s));
	qsort(s, n, sizeof(*s), run_cmp);
	for (size_t i = 1; i < n; i++)
		if ((uint64_t)s[i - 1].first + s[i - 1].count > s[i].first) {
			r = fs_fail(fs, -EUCLEAN, "%s: cluster chain loops "
				    "(cluster %u used twice)", what,
				    s[i].first);
			break;
		}
	free(s);
	return r;
}

int fat_chain(struct vu_fs *fs, uint32_t first, uint32_t want, uint32_t max,
	      const char *what, struct fat_run **runs, size_t *nruns)
{
	struct fat *f = F(fs);
	struct fat_run *v = NULL;
	size_t n = 0, cap = 0;
	uint32_t cl = first, count = 0, next;
	uint32_t limit = want ? want : max;
	int r = 0;

	*runs = NULL;
	*nruns = 0;
	for (;;) {
		if (cl < FAT_FIRST_CLUSTER || cl > f->nclusters + 1) {
			r = fs_fail(fs, -EUCLEAN, "%s: cluster %u (chain "
				    "position %u) out of range 2 to %u", what,
				    cl, count, f->nclusters + 1);
			goto fail;
		}
		if (count == limit) {
			/* a loop shows as a chain that does not end */
			r = chain_loops(fs, v, n, what);
			if (r == 0)
				r = fs_fail(fs, -EUCLEAN, want ? "%s: cluster "
					    "chain longer than the %u clusters "
					    "of its size" : "%s: cluster chain "
					    "longer than %u clusters", what,
					    limit);
			goto fail;
		}
		if (n && v[n - 1].first + v[n - 1].count == cl) {
			v[n - 1].count++;
		} else {
			if (n == cap) {
				size_t c = cap ? cap * 2 : 8;
				struct fat_run *nv = realloc(v, c * sizeof(*v));

				if (!nv) {
					r = vu_fail(-ENOMEM, "out of memory");
					goto fail;
				}
				v = nv;
				cap = c;
			}
			v[n++] = (struct fat_run){ cl, 1 };
		}
		count++;
		r = fat_next(fs, cl, &next);
		if (r < 0)
			goto fail;
		if (next == FAT_FREE || next == f->bad) {
			r = fs_fail(fs, -EUCLEAN, "%s: cluster %u is marked %s "
				    "in the FAT, in the middle of its chain",
				    what, cl, next ? "bad" : "free");
			goto fail;
		}
		if (next > f->bad)
			break;
		cl = next;
	}
	if (want && count < want) {
		r = fs_fail(fs, -EUCLEAN, "%s: cluster chain of %u clusters "
			    "is shorter than the %u of its size", what, count,
			    want);
		goto fail;
	}
	r = chain_loops(fs, v, n, what);
	if (r < 0)
		goto fail;
	*runs = v;
	*nruns = n;
	return 0;
fail:
	free(v);
	return r;
}
