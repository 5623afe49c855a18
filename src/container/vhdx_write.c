/* A dynamic VHDX written in one pass ([MS-VHDX] v1.0, 2.1-2.6).
 *
 * The file, in order (every region 1 MiB aligned, as 2.2 asks):
 *   0        file identifier, creator "vhdunlock"
 *   64 KiB   header 1, 128 KiB header 2: log GUID zero (nothing to replay)
 *   192 KiB  region table 1, 256 KiB region table 2 (identical)
 *   1 MiB    the log, 1 MiB, empty
 *   2 MiB    the metadata region, 1 MiB: table, then the items
 *   3 MiB    the block table, rounded up to whole MiB
 *   then     32 MiB payload blocks in the order they first get data
 * The size of the block table depends only on the virtual size, so the
 * payload can be streamed out before the table is known; the table, the
 * metadata and the headers are written at the end.  A block that never gets
 * non-zero data stays not present (0) and reads as zeros; the others are
 * fully present (6).  Zero stretches are never written, neither before a
 * block's first data nor inside it: the file was empty, so they are holes
 * and read as zeros. */
#include "container/vhdx_write.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/vhd_format.h"
#include "core/bytes.h"
#include "core/crc.h"
#include "core/error.h"
#include "core/guid.h"

#define MIB (1024u * 1024u)
#define LOG_OFFSET (1 * MIB)
#define LOG_LENGTH (1 * MIB)
#define META_OFFSET (2 * MIB)
#define META_LENGTH (1 * MIB)
#define BAT_OFFSET (3 * MIB)
#define PHYSICAL_SECTOR 4096u
#define SPARSE_GRAIN 4096u	/* zero stretches of this size become holes */
#define CREATOR "vhdunlock"
#define ID_CREATOR 8		/* UTF-16LE, 512 bytes, after the signature */
#define ME_IS_VIRTUAL_DISK 2u	/* metadata entry flag bit 1 (2.6.1.2) */

struct vu_vhdx_writer {
	int fd;			/* borrowed */
	char *path;
	int regular;		/* a regular file: its size is set at the end */
	int failed;
	uint64_t virtual_size;
	uint32_t sector;
	uint64_t nblocks, chunk_ratio, bat_entries;
	uint32_t bat_length;
	uint64_t *block_at;	/* file offset of each payload block; 0: none */
	uint64_t pos;		/* where the next put must start */
	uint64_t end;		/* end of the file as laid out */
};

static uint64_t round_mib(uint64_t v)
{
	return (v + MIB - 1) / MIB * MIB;
}

static int write_at(struct vu_vhdx_writer *w, const void *buf, size_t len,
		    uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(w->fd, p, len, (off_t)off);
		int e = errno;

		if (n < 0 && e == EINTR)
			continue;
		/* no progress is taken as a full disk, as write(2) says */
		if (n == 0 || (n < 0 && (e == ENOSPC || e == EDQUOT))) {
			w->failed = 1;
			return vu_fail(-ENOSPC, "vhdx: %s: no space left to "
				       "write %zu bytes at offset %" PRIu64,
				       w->path, len, off);
		}
		if (n < 0) {
			w->failed = 1;
			return vu_fail(-EIO, "vhdx: %s: cannot write %zu "
				       "bytes at offset %" PRIu64 ": %s",
				       w->path, len, off, strerror(e));
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* A version 4 GUID in the mixed-endian layout (core/guid.h). */
static int random_guid(struct vu_vhdx_writer *w, uint8_t g[16])
{
	size_t got = 0;

	while (got < 16) {
		ssize_t n = getrandom(g + got, 16 - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return vu_fail(-EIO, "vhdx: %s: no random numbers for "
				       "its GUIDs: %s", w->path,
				       strerror(errno));
		got += (size_t)n;
	}
	g[7] = (uint8_t)((g[7] & 0x0f) | 0x40);
	g[8] = (uint8_t)((g[8] & 0x3f) | 0x80);
	return 0;
}

int vu_vhdx_writer_open(int fd, const char *path_for_messages,
			uint64_t virtual_size, uint32_t logical_sector_size,
			struct vu_vhdx_writer **out)
{
	const char *path = path_for_messages ? path_for_messages : "(vhdx)";
	struct vu_vhdx_writer *w;
	struct stat st;
	uint64_t table;

	*out = NULL;
	if (logical_sector_size != 512 && logical_sector_size != 4096)
		return vu_fail(-EINVAL, "vhdx: %s: logical sector size %"
			       PRIu32 ", expected 512 or 4096", path,
			       logical_sector_size);
	if (virtual_size == 0 || virtual_size > VHDX_MAX_DISK_SIZE ||
	    virtual_size % logical_sector_size)
		return vu_fail(-EINVAL, "vhdx: %s: virtual size %" PRIu64
			       ", expected a positive multiple of %" PRIu32
			       " up to 64 TiB", path, virtual_size,
			       logical_sector_size);
	if (fstat(fd, &st) < 0)
		return vu_fail(-EINVAL, "vhdx: %s: not an open file: %s", path,
			       strerror(errno));
	w = calloc(1, sizeof(*w));
	if (!w)
		return vu_fail(-ENOMEM, "out of memory");
	w->fd = fd;
	w->regular = S_ISREG(st.st_mode);
	w->virtual_size = virtual_size;
	w->sector = logical_sector_size;
	/* Dynamic disks: chunk_ratio payload entries, then a sector bitmap
	 * entry, the last chunk's left out (2.5). */
	w->chunk_ratio = VHDX_SECTORS_PER_CHUNK * logical_sector_size /
			 VU_VHDX_WRITE_BLOCK_SIZE;
	w->nblocks = (virtual_size + VU_VHDX_WRITE_BLOCK_SIZE - 1) /
		     VU_VHDX_WRITE_BLOCK_SIZE;
	w->bat_entries = w->nblocks + (w->nblocks - 1) / w->chunk_ratio;
	table = round_mib(w->bat_entries * 8);
	w->bat_length = (uint32_t)table; /* at most 17 MiB for 64 TiB */
	w->end = BAT_OFFSET + table;
	w->path = strdup(path);
	w->block_at = calloc(w->nblocks, sizeof(*w->block_at));
	if (!w->path || !w->block_at) {
		vu_vhdx_writer_free(w);
		return vu_fail(-ENOMEM, "out of memory");
	}
	if (w->regular && st.st_size > 0 && ftruncate(fd, 0) < 0) {
		int e = errno;

		vu_vhdx_writer_free(w);
		return vu_fail(-EIO, "vhdx: %s: cannot empty the file: %s",
			       path, strerror(e));
	}
	*out = w;
	return 0;
}

static int is_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && !memcmp(p, p + 1, n - 1));
}

/* Bytes [in, in + len) of block blk: runs of non-zero grains are written
 * in one call each, the block placed at the end of the file when its
 * first one comes.  Grains are aligned on the virtual offset, so on the
 * file offset too. */
static int put_in_block(struct vu_vhdx_writer *w, uint64_t blk,
			const uint8_t *buf, size_t len, uint64_t in)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i, g = 0;
		int r;

		while (j < len) {
			g = SPARSE_GRAIN - (in + j) % SPARSE_GRAIN;
			if (g > len - j)
				g = len - j;
			if (is_zero(buf + j, g))
				break;
			j += g;
		}
		if (j > i) {
			if (!w->block_at[blk]) {
				w->block_at[blk] = w->end;
				w->end += VU_VHDX_WRITE_BLOCK_SIZE;
			}
			r = write_at(w, buf + i, j - i,
				     w->block_at[blk] + in + i);
			if (r < 0)
				return r;
		}
		i = j < len ? j + g : j; /* past the zero grain at j */
	}
	return 0;
}

static int check_usable(const struct vu_vhdx_writer *w)
{
	if (w->failed)
		return vu_fail(-EINVAL, "vhdx: %s: the writer failed earlier",
			       w->path);
	return 0;
}

int vu_vhdx_writer_put(struct vu_vhdx_writer *w, const uint8_t *buf,
		       size_t len, uint64_t off)
{
	int r = check_usable(w);

	if (r < 0)
		return r;
	if (off != w->pos)
		return vu_fail(-EINVAL, "vhdx: %s: data at offset %" PRIu64
			       ", expected offset %" PRIu64 " (data must come "
			       "in order, without gaps)", w->path, off,
			       w->pos);
	if (len > w->virtual_size - off)
		return vu_fail(-EINVAL, "vhdx: %s: %zu bytes at offset %"
			       PRIu64 " go past the virtual size %" PRIu64,
			       w->path, len, off, w->virtual_size);
	while (len) {
		uint64_t blk = off / VU_VHDX_WRITE_BLOCK_SIZE;
		uint64_t in = off % VU_VHDX_WRITE_BLOCK_SIZE;
		size_t n = VU_VHDX_WRITE_BLOCK_SIZE - in;

		if (n > len)
			n = len;
		r = put_in_block(w, blk, buf, n, in);
		if (r < 0)
			return r;
		buf += n;
		off += n;
		len -= n;
		w->pos = off;
	}
	return 0;
}

/* ---- the structures written at the end ---- */

static void put_guid(uint8_t *p, const char *text)
{
	vu_guid_parse(text, p);
}

/* CRC-32C over the structure with its checksum field (bytes 4-7) zero. */
static void seal(uint8_t *buf, size_t len)
{
	vu_put_le32(buf + 4, 0);
	vu_put_le32(buf + 4, vu_crc32c(0, buf, len));
}

static int write_identifier(struct vu_vhdx_writer *w)
{
	uint8_t id[8 + 512] = { 0 };

	memcpy(id, VHDX_SIGNATURE, 8);
	for (size_t i = 0; i < sizeof(CREATOR) - 1; i++)
		vu_put_le16(id + ID_CREATOR + 2 * i, (uint8_t)CREATOR[i]);
	return write_at(w, id, sizeof(id), 0);
}

/* Both headers: the same but for the sequence number; the second, with
 * the higher number, is current (2.2.2). */
static int write_headers(struct vu_vhdx_writer *w)
{
	uint8_t h[VHDX_HEADER_SIZE] = { 0 };
	int r;

	memcpy(h + VHDX_H_SIGNATURE, "head", 4);
	r = random_guid(w, h + VHDX_H_FILE_WRITE_GUID);
	if (r == 0)
		r = random_guid(w, h + VHDX_H_DATA_WRITE_GUID);
	if (r < 0)
		return r;
	/* log GUID zero: the log is empty */
	vu_put_le16(h + VHDX_H_LOG_VERSION, 0);
	vu_put_le16(h + VHDX_H_VERSION, 1);
	vu_put_le32(h + VHDX_H_LOG_LENGTH, LOG_LENGTH);
	vu_put_le64(h + VHDX_H_LOG_OFFSET, LOG_OFFSET);
	for (uint64_t i = 0; i < 2; i++) {
		vu_put_le64(h + VHDX_H_SEQUENCE, i + 1);
		seal(h, sizeof(h));
		r = write_at(w, h, sizeof(h),
			     i ? VHDX_HEADER2_OFFSET : VHDX_HEADER1_OFFSET);
		if (r < 0)
			return r;
	}
	return 0;
}

static void region_entry(uint8_t *e, const char *guid, uint64_t off,
			 uint32_t len)
{
	put_guid(e + VHDX_RE_GUID, guid);
	vu_put_le64(e + VHDX_RE_OFFSET, off);
	vu_put_le32(e + VHDX_RE_LENGTH, len);
	vu_put_le32(e + VHDX_RE_REQUIRED, 1);
}

static int write_region_tables(struct vu_vhdx_writer *w)
{
	uint8_t *t = calloc(1, VHDX_REGION_SIZE);
	int r;

	if (!t)
		return vu_fail(-ENOMEM, "out of memory");
	memcpy(t + VHDX_R_SIGNATURE, "regi", 4);
	vu_put_le32(t + VHDX_R_COUNT, 2);
	region_entry(t + VHDX_R_ENTRIES, VHDX_BAT_GUID, BAT_OFFSET,
		     w->bat_length);
	region_entry(t + VHDX_R_ENTRIES + VHDX_RE_SIZE, VHDX_METADATA_GUID,
		     META_OFFSET, META_LENGTH);
	seal(t, VHDX_REGION_SIZE);
	r = write_at(w, t, VHDX_REGION_SIZE, VHDX_REGION1_OFFSET);
	if (r == 0)
		r = write_at(w, t, VHDX_REGION_SIZE, VHDX_REGION2_OFFSET);
	free(t);
	return r;
}

/* The metadata table and its five items (2.6), the items packed right
 * after the 64 KiB table. */
static int write_metadata(struct vu_vhdx_writer *w)
{
	static const struct {
		const char *guid;
		uint32_t len, flags;
	} items[] = {
		{ VHDX_FILE_PARAMS_GUID, 8, VHDX_ME_IS_REQUIRED },
		{ VHDX_DISK_SIZE_GUID, 8,
		  ME_IS_VIRTUAL_DISK | VHDX_ME_IS_REQUIRED },
		{ VHDX_PAGE83_GUID, 16,
		  ME_IS_VIRTUAL_DISK | VHDX_ME_IS_REQUIRED },
		{ VHDX_LOGICAL_SECTOR_GUID, 4,
		  ME_IS_VIRTUAL_DISK | VHDX_ME_IS_REQUIRED },
		{ VHDX_PHYSICAL_SECTOR_GUID, 4,
		  ME_IS_VIRTUAL_DISK | VHDX_ME_IS_REQUIRED },
	};
	const size_t n = sizeof(items) / sizeof(items[0]);
	uint8_t *buf = calloc(1, VHDX_M_TABLE_SIZE + 64);
	uint8_t *v[sizeof(items) / sizeof(items[0])];
	uint32_t at = VHDX_M_TABLE_SIZE;
	int r;

	if (!buf)
		return vu_fail(-ENOMEM, "out of memory");
	memcpy(buf, VHDX_M_SIGNATURE, 8);
	vu_put_le16(buf + VHDX_M_COUNT, (uint16_t)n);
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = buf + VHDX_M_ENTRIES + i * VHDX_ME_SIZE;

		put_guid(e + VHDX_ME_ITEM_ID, items[i].guid);
		vu_put_le32(e + VHDX_ME_OFFSET, at);
		vu_put_le32(e + VHDX_ME_LENGTH, items[i].len);
		vu_put_le32(e + VHDX_ME_FLAGS, items[i].flags);
		v[i] = buf + at;
		at += items[i].len;
	}
	/* a dynamic disk: blocks not kept allocated, no parent */
	vu_put_le32(v[0], VU_VHDX_WRITE_BLOCK_SIZE);
	vu_put_le32(v[0] + 4, 0);
	vu_put_le64(v[1], w->virtual_size);
	vu_put_le32(v[3], w->sector);
	vu_put_le32(v[4], PHYSICAL_SECTOR);
	r = random_guid(w, v[2]);
	if (r == 0)
		r = write_at(w, buf, at, META_OFFSET);
	free(buf);
	return r;
}

static int write_bat(struct vu_vhdx_writer *w)
{
	uint8_t *t = calloc(w->bat_entries, 8);
	int r;

	if (!t)
		return vu_fail(-ENOMEM, "out of memory");
	for (uint64_t b = 0; b < w->nblocks; b++)
		if (w->block_at[b])
			vu_put_le64(t + 8 * (b + b / w->chunk_ratio),
				    w->block_at[b] |
					    VHDX_PAYLOAD_FULLY_PRESENT);
	/* sector bitmap entries stay 0 (not present): no parent */
	r = write_at(w, t, w->bat_entries * 8, BAT_OFFSET);
	free(t);
	return r;
}

int vu_vhdx_writer_finish(struct vu_vhdx_writer *w)
{
	int r = check_usable(w);

	if (r < 0)
		return r;
	if (w->pos != w->virtual_size)
		return vu_fail(-EINVAL, "vhdx: %s: data ends at offset %" PRIu64
			       ", expected the virtual size %" PRIu64,
			       w->path, w->pos, w->virtual_size);
	/* The last block is whole in the file even where it was never
	 * written, as readers check (2.5.1.1). */
	if (w->regular && ftruncate(w->fd, (off_t)w->end) < 0) {
		int e = errno;

		w->failed = 1;
		return vu_fail(e == ENOSPC || e == EFBIG ? -ENOSPC : -EIO,
			       "vhdx: %s: cannot set the size to %" PRIu64
			       " bytes: %s", w->path, w->end, strerror(e));
	}
	r = write_identifier(w);
	if (r == 0)
		r = write_bat(w);
	if (r == 0)
		r = write_metadata(w);
	if (r == 0)
		r = write_region_tables(w);
	if (r == 0)
		r = write_headers(w);
	if (r < 0)
		w->failed = 1;
	return r;
}

void vu_vhdx_writer_free(struct vu_vhdx_writer *w)
{
	if (!w)
		return;
	free(w->block_at);
	free(w->path);
	free(w);
}
