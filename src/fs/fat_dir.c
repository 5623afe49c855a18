/* FAT directories: walking the entries of the fixed root (FAT12/16) or of
 * a cluster chain, joining VFAT long names to their short entry, short
 * names with Windows NT's lowercase flags, and attributes as a stat. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/blk.h"
#include "core/bytes.h"
#include "core/error.h"
#include "core/utf16.h"
#include "fs/fat_int.h"

/* The long name being gathered: entries come last part first, each with
 * its order number and the checksum of the short name they belong to. */
struct lfn {
	uint8_t units[FAT_LFN_MAX_ENTRIES * FAT_LFN_UNITS * 2];
	unsigned total;	/* entries of the name; 0: none gathered */
	unsigned next;	/* order number expected next */
	uint8_t csum;
};

static uint8_t short_csum(const uint8_t *raw)
{
	uint8_t sum = 0;

	for (unsigned i = 0; i < FAT_DIRENT_NAME_LEN; i++)
		sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + raw[i]);
	return sum;
}

/* Add one long name entry; a piece out of order drops the whole name
 * (the short name is then shown, as Windows and Linux do). */
static void lfn_add(struct lfn *l, const uint8_t *e)
{
	unsigned ord = e[FAT_LFN_ORD] & FAT_LFN_ORD_MASK;
	uint8_t *p;

	if (e[FAT_LFN_ORD] & FAT_LFN_LAST) {
		l->total = ord;
		l->next = ord;
		l->csum = e[FAT_LFN_CSUM];
		if (!ord || ord > FAT_LFN_MAX_ENTRIES) {
			l->total = 0;
			return;
		}
	}
	if (!l->total || ord != l->next || e[FAT_LFN_CSUM] != l->csum) {
		l->total = 0;
		return;
	}
	p = l->units + (ord - 1) * FAT_LFN_UNITS * 2;
	memcpy(p, e + FAT_LFN_NAME1, 10);
	memcpy(p + 10, e + FAT_LFN_NAME2, 12);
	memcpy(p + 22, e + FAT_LFN_NAME3, 4);
	l->next--;
}

/* The long name for short entry raw, if one was gathered whole for it. */
static int lfn_take(struct lfn *l, const uint8_t *raw, char *out,
		    size_t size)
{
	int ok = l->total && l->next == 0 && short_csum(raw) == l->csum;
	size_t units = (size_t)l->total * FAT_LFN_UNITS;

	l->total = 0;
	if (!ok || !vu_le16(l->units))
		return 0;
	/* stops at the NUL unit; the 0xffff padding after it is not read */
	vu_utf16_to_utf8(l->units, units, VU_UTF16_KEEP_LONE, out, size);
	return 1;
}

/* "NAME.EXT" from the 11 bytes of the short name.  Bytes above 0x7f are in
 * an OEM code page the volume does not name; they are shown as the
 * Latin-1 characters of the same value, which keeps names distinct. */
void fat_short_name(const uint8_t *raw, char out[13])
{
	uint8_t flags = raw[FAT_DIRENT_NTRES];
	char tmp[12];
	size_t n = 0, k = 0;
	int blen = 8, elen = 3;

	while (blen && raw[blen - 1] == ' ')
		blen--;
	while (elen && raw[8 + elen - 1] == ' ')
		elen--;
	for (int i = 0; i < blen; i++) {
		uint8_t c = i == 0 && raw[0] == FAT_ENTRY_E5 ?
			    FAT_ENTRY_FREE : raw[i];

		if ((flags & FAT_NT_LOWER_BASE) && c >= 'A' && c <= 'Z')
			c |= 0x20;
		tmp[n++] = (char)c;
	}
	if (elen)
		tmp[n++] = '.';
	for (int i = 0; i < elen; i++) {
		uint8_t c = raw[8 + i];

		if ((flags & FAT_NT_LOWER_EXT) && c >= 'A' && c <= 'Z')
			c |= 0x20;
		tmp[n++] = (char)c;
	}
	/* 12 characters of at most 2 UTF-8 bytes would not fit 13: keep
	 * high bytes as '?' past what fits, never overflow */
	for (size_t i = 0; i < n && k < 12; i++) {
		uint8_t c = (uint8_t)tmp[i];

		if (c < 0x80) {
			out[k++] = (char)c;
		} else if (k + 2 <= 12) {
			out[k++] = (char)(0xc0 | c >> 6);
			out[k++] = (char)(0x80 | (c & 0x3f));
		} else {
			out[k++] = '?';
		}
	}
	out[k] = '\0';
}

uint32_t fat_entry_cluster(const struct fat *f, const uint8_t *raw)
{
	uint32_t cl = vu_le16(raw + FAT_DIRENT_CLUSTER_LO);

	/* the high half is the EA index on FAT12/16 (OS/2): not a cluster */
	if (f->bits == 32)
		cl |= (uint32_t)vu_le16(raw + FAT_DIRENT_CLUSTER_HI) << 16;
	return cl;
}

/* Days from 1970-01-01 to a proleptic Gregorian date. */
static int64_t days_from_civil(int y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* A FAT date and time; FAT keeps local time without a zone, taken as UTC
 * (what mtools and the kernel with tz=UTC show).  Out-of-range months and
 * days are clamped rather than refused: the entry stays readable. */
static struct timespec fat_time(uint16_t date, uint16_t time, unsigned cs)
{
	struct timespec ts = { 0, 0 };
	unsigned d = date & 31, m = date >> 5 & 15;

	if (!date)
		return ts;
	d = d ? d : 1;
	m = m < 1 ? 1 : m > 12 ? 12 : m;
	ts.tv_sec = (time_t)(days_from_civil(1980 + (date >> 9), m, d) * 86400 +
			     (time >> 11) * 3600 + (time >> 5 & 63) * 60 +
			     (time & 31) * 2 + cs / 100);
	ts.tv_nsec = (long)(cs % 100) * 10000000L;
	return ts;
}

/* Modes as for NTFS (fs_ntfs.c): nothing is writable here, so directories
 * are 0555 and files 0444, read-only or not; hidden and system files are
 * listed like the others, as Linux's vfat lists them. */
void fat_entry_stat(const struct fat *f, const uint8_t *raw, uint64_t ino,
		    struct vu_fs_stat *st)
{
	uint8_t cs = raw[FAT_DIRENT_CTIME_CS];

	memset(st, 0, sizeof(*st));
	st->ino = ino;
	st->nlink = 1;
	if (raw[FAT_DIRENT_ATTR] & FAT_ATTR_DIR) {
		st->mode = S_IFDIR | 0555;
	} else {
		st->mode = S_IFREG | 0444;
		st->size = vu_le32(raw + FAT_DIRENT_SIZE);
		st->blocks = (st->size + f->csize - 1) / f->csize *
			     (f->csize / 512);
	}
	st->mtime = fat_time(vu_le16(raw + FAT_DIRENT_MDATE),
			     vu_le16(raw + FAT_DIRENT_MTIME), 0);
	st->ctime = st->mtime;
	st->atime = fat_time(vu_le16(raw + FAT_DIRENT_ADATE), 0, 0);
	st->btime = fat_time(vu_le16(raw + FAT_DIRENT_CDATE),
			     vu_le16(raw + FAT_DIRENT_CTIME),
			     cs < 200 ? cs : 0);
	st->has_btime = vu_le16(raw + FAT_DIRENT_CDATE) != 0;
}

void fat_root_stat(struct vu_fs_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->ino = FAT_ROOT_INO;
	st->mode = S_IFDIR | 0555;
	st->nlink = 1;
}

static int is_dot(const uint8_t *raw)
{
	return raw[0] == '.' &&
	       (!memcmp(raw + 1, "          ", 10) ||
		(raw[1] == '.' && !memcmp(raw + 2, "         ", 9)));
}

int fat_entry_read(struct vu_fs *fs, uint64_t ino, uint8_t raw[FAT_DIRENT])
{
	struct fat *f = F(fs);
	uint8_t a;
	int r;

	if (ino <= FAT_ROOT_INO || ino * FAT_DIRENT < f->root_off ||
	    ino > (fs->vol->size - FAT_DIRENT) / FAT_DIRENT)
		return fs_fail(fs, -EINVAL, "inode %" PRIu64 " is not a "
			       "directory entry", ino);
	r = vu_blk_read(fs->vol, raw, FAT_DIRENT, ino * FAT_DIRENT);
	if (r < 0)
		return r;
	a = raw[FAT_DIRENT_ATTR];
	if (raw[0] == FAT_ENTRY_END || raw[0] == FAT_ENTRY_FREE ||
	    (a & FAT_ATTR_MASK) == FAT_ATTR_LONG_NAME ||
	    (a & FAT_ATTR_VOLUME_ID))
		return fs_fail(fs, -EINVAL, "inode %" PRIu64 ": no file entry "
			       "at byte %" PRIu64, ino, ino * FAT_DIRENT);
	return 0;
}

/* Where a directory's entries are: the runs of its chain, or the fixed
 * root (FAT12/16: *nruns = 0).  what names it in messages. */
static int dir_runs(struct vu_fs *fs, uint64_t dir, char *what, size_t wsize,
		    uint32_t *first, struct fat_run **runs, size_t *nruns)
{
	struct fat *f = F(fs);
	uint8_t raw[FAT_DIRENT];
	char sname[13];
	uint32_t max = FAT_DIR_MAX_BYTES / f->csize;
	int r;

	*runs = NULL;
	*nruns = 0;
	if (dir == FAT_ROOT_INO) {
		snprintf(what, wsize, "root directory");
		*first = f->root_cluster;
		if (f->bits != 32)
			return 0;
	} else {
		r = fat_entry_read(fs, dir, raw);
		if (r < 0)
			return r;
		fat_short_name(raw, sname);
		snprintf(what, wsize, "directory \"%s\" (inode %" PRIu64 ")",
			 sname, dir);
		if (!(raw[FAT_DIRENT_ATTR] & FAT_ATTR_DIR))
			return fs_fail(fs, -ENOTDIR, "%s: not a directory",
				       what);
		*first = fat_entry_cluster(f, raw);
	}
	return fat_chain(fs, *first, 0, max ? max : 1, what, runs, nruns);
}

/* Each entry of one block of directory entries; 1 at the end marker. */
static int dir_block(struct vu_fs *fs, const uint8_t *b, size_t len,
		     uint64_t off, struct lfn *l, uint32_t self,
		     const char *what, fat_dirent_cb cb, void *ctx)
{
	struct fat *f = F(fs);
	struct fat_dirent *e = f->ent;
	int r;

	for (size_t i = 0; i + FAT_DIRENT <= len; i += FAT_DIRENT) {
		const uint8_t *raw = b + i;
		uint8_t a = raw[FAT_DIRENT_ATTR];

		if (raw[0] == FAT_ENTRY_END)
			return 1;
		if (raw[0] == FAT_ENTRY_FREE) {
			l->total = 0;
			continue;
		}
		if ((a & FAT_ATTR_MASK) == FAT_ATTR_LONG_NAME) {
			lfn_add(l, raw);
			continue;
		}
		if ((a & FAT_ATTR_VOLUME_ID) || is_dot(raw)) {
			l->total = 0;
			continue;
		}
		memcpy(e->raw, raw, FAT_DIRENT);
		e->ino = (off + i) / FAT_DIRENT;
		fat_short_name(raw, e->sname);
		if (!lfn_take(l, raw, e->name, sizeof(e->name)))
			strcpy(e->name, e->sname);
		if (strchr(e->name, '/') || !strcmp(e->name, ".") ||
		    !strcmp(e->name, "..")) {
			fs_warn_skip(fs, vu_err_isset(), "%s: entry at byte %"
				     PRIu64 " has the name \"%s\"", what,
				     off + i, e->name);
			continue;
		}
		/* a subdirectory that is this directory or the root again
		 * would make every tree walk endless */
		if ((a & FAT_ATTR_DIR) &&
		    (fat_entry_cluster(f, raw) == self ||
		     fat_entry_cluster(f, raw) == f->root_cluster ||
		     !fat_entry_cluster(f, raw))) {
			fs_warn_skip(fs, vu_err_isset(), "%s: subdirectory "
				     "\"%s\" starts at cluster %u, which is "
				     "not a new directory", what, e->name,
				     fat_entry_cluster(f, raw));
			continue;
		}
		r = cb(fs, ctx, e);
		if (r)
			return r;
	}
	return 0;
}

int fat_dir_walk(struct vu_fs *fs, uint64_t dir, fat_dirent_cb cb,
		 void *ctx)
{
	struct fat *f = F(fs);
	struct fat_run *runs;
	struct lfn *l;
	char what[64];
	uint32_t first = 0;
	size_t nruns;
	int r;

	r = dir_runs(fs, dir, what, sizeof(what), &first, &runs, &nruns);
	if (r < 0)
		return r;
	l = calloc(1, sizeof(*l));
	if (!l) {
		free(runs);
		return vu_fail(-ENOMEM, "out of memory");
	}
	if (!nruns) {
		/* the fixed root, a cluster's worth at a time */
		for (uint64_t o = 0; r == 0 && o < f->root_bytes;
		     o += f->csize) {
			uint64_t len = f->root_bytes - o;

			len = len < f->csize ? len : f->csize;
			r = vu_blk_read(fs->vol, f->cbuf, (size_t)len,
					f->root_off + o);
			if (r == 0)
				r = dir_block(fs, f->cbuf, (size_t)len,
					      f->root_off + o, l, 0, what, cb,
					      ctx);
		}
	}
	for (size_t i = 0; r == 0 && i < nruns; i++)
		for (uint32_t c = 0; r == 0 && c < runs[i].count; c++) {
			uint64_t off = fat_cluster_off(f, runs[i].first + c);

			if (off + f->csize > fs->vol->size) {
				r = fs_fail(fs, -EUCLEAN, "%s: cluster %u at "
					    "byte %" PRIu64 " is past the end "
					    "of the %" PRIu64 "-byte volume "
					    "(truncated image?)", what,
					    runs[i].first + c, off,
					    fs->vol->size);
				break;
			}
			r = vu_blk_read(fs->vol, f->cbuf, f->csize, off);
			if (r == 0)
				r = dir_block(fs, f->cbuf, f->csize, off, l,
					      first, what, cb, ctx);
		}
	free(l);
	free(runs);
	return r < 0 ? r : r == 1 ? 0 : r;
}

struct find_cluster {
	uint32_t cl;
	uint64_t ino;
};

static int match_cluster(struct vu_fs *fs, void *ctx,
			 const struct fat_dirent *e)
{
	struct find_cluster *fc = ctx;

	if ((e->raw[FAT_DIRENT_ATTR] & FAT_ATTR_DIR) &&
	    fat_entry_cluster(F(fs), e->raw) == fc->cl) {
		fc->ino = e->ino;
		return FAT_WALK_STOP;
	}
	return 0;
}

/* The cluster a directory's ".." names (0: the root). */
static int dotdot_cluster(struct vu_fs *fs, uint32_t dcl, const char *what,
			  uint32_t *out)
{
	struct fat *f = F(fs);
	uint8_t raw[FAT_DIRENT];
	uint64_t off = fat_cluster_off(f, dcl) + FAT_DIRENT;
	int r;

	if (dcl < FAT_FIRST_CLUSTER || dcl > f->nclusters + 1 ||
	    off + FAT_DIRENT > fs->vol->size)
		return fs_fail(fs, -EUCLEAN, "%s: cluster %u out of range or "
			       "past the end of the volume", what, dcl);
	r = vu_blk_read(fs->vol, raw, sizeof(raw), off);
	if (r < 0)
		return r;
	if (!is_dot(raw) || raw[1] != '.')
		return fs_fail(fs, -EUCLEAN, "%s: no \"..\" entry at byte %"
			       PRIu64, what, off);
	*out = fat_entry_cluster(f, raw);
	if (*out == f->root_cluster)
		*out = 0;
	return 0;
}

/* The inode of the directory that starts at cluster cl (0: the root): its
 * entry in its parent, whose inode is found the same way, by the cluster
 * in cl's "..".  A ".." chain that does not reach the root in
 * FAT_DIR_DEPTH steps is a loop. */
#define FAT_DIR_DEPTH 256
static int dir_ino(struct vu_fs *fs, uint32_t cl, unsigned depth,
		   const char *what, uint64_t *ino)
{
	struct find_cluster fc = { cl, 0 };
	uint64_t pino;
	uint32_t pcl;
	int r;

	if (!cl) {
		*ino = FAT_ROOT_INO;
		return 0;
	}
	if (depth >= FAT_DIR_DEPTH)
		return fs_fail(fs, -EUCLEAN, "%s: \"..\" entries do not reach "
			       "the root in %u steps (a loop?)", what,
			       FAT_DIR_DEPTH);
	r = dotdot_cluster(fs, cl, what, &pcl);
	if (r == 0)
		r = dir_ino(fs, pcl, depth + 1, what, &pino);
	if (r == 0)
		r = fat_dir_walk(fs, pino, match_cluster, &fc);
	if (r < 0)
		return r;
	if (!fc.ino)
		return fs_fail(fs, -EUCLEAN, "%s: the directory at cluster %u "
			       "is not listed in its parent (cluster %u)",
			       what, cl, pcl);
	*ino = fc.ino;
	return 0;
}

/* A directory knows its parent only by cluster (its ".." entry). */
int fat_parent(struct vu_fs *fs, uint64_t dir, uint64_t *ino)
{
	uint8_t raw[FAT_DIRENT];
	uint32_t pcl;
	char what[64];
	int r;

	if (dir == FAT_ROOT_INO) {
		*ino = FAT_ROOT_INO;
		return 0;
	}
	r = fat_entry_read(fs, dir, raw);
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "directory inode %" PRIu64, dir);
	r = dotdot_cluster(fs, fat_entry_cluster(F(fs), raw), what, &pcl);
	if (r < 0)
		return r;
	return dir_ino(fs, pcl, 0, what, ino);
}
