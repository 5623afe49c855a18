/* Unit tests: the VHD and VHDX readers over images built in memory.
 *   dynamic VHD: allocated and unallocated blocks, reads of every shape
 *   differencing VHD over a memory parent: sector bitmaps 07 f0 and others
 *     (MSB first), runs coalesced into few lower reads
 *   VHDX: every payload state, a partially present block (LSB-first
 *     bitmap), a chunk past 4 GiB without a sector bitmap block, and one
 *     whose partially present block has none (corrupt)
 *   truncated, bit-flipped and inconsistent tables: an error, never a crash */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "container/vhd.h"
#include "container/vhd_format.h"
#include "core/blk.h"
#include "core/bytes.h"
#include "core/crc.h"
#include "core/guid.h"
#include "core/log.h"

#define KIB 1024u
#define MIB (1024u * 1024u)
#define GIB (1024ull * MIB)

static void put_be64(uint8_t *p, uint64_t v)
{
	vu_put_be32(p, (uint32_t)(v >> 32));
	vu_put_be32(p + 4, (uint32_t)v);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	vu_put_le32(p, (uint32_t)v);
	vu_put_le32(p + 4, (uint32_t)(v >> 32));
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Deterministic contents: parent and child bytes differ everywhere. */
static uint8_t parent_byte(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 9) * 13 + 1);
}

static uint8_t child_byte(uint64_t off)
{
	return (uint8_t)~parent_byte(off);
}

/* A synthetic parent of any size: parent_byte() everywhere. */
static int pattern_read(struct vu_blk *b, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = parent_byte(off + i);
	return 0;
}

static const struct vu_blk_ops pattern_ops = {
	.kind = "pattern",
	.read_at = pattern_read,
};

static struct vu_blk *pattern_open(uint64_t size)
{
	return vu_blk_new(&pattern_ops, NULL, size, 512, NULL, "pattern");
}

/* Read the whole disk in pieces of `piece` bytes starting at `start` (odd
 * sizes cross sector and block edges) and compare with expect(). */
static void check_disk(struct vu_blk *d, uint64_t from, uint64_t to,
		       size_t piece, uint8_t (*expect)(uint64_t))
{
	uint8_t *buf = malloc(piece);

	assert_non_null(buf);
	for (uint64_t off = from; off < to; off += piece) {
		size_t n = to - off < piece ? (size_t)(to - off) : piece;

		assert_int_equal(vu_blk_read(d, buf, n, off), 0);
		for (size_t i = 0; i < n; i++)
			if (buf[i] != expect(off + i)) {
				print_error("byte %llu: 0x%02x, expected 0x%02x\n",
					    (unsigned long long)(off + i),
					    buf[i], expect(off + i));
				fail();
			}
	}
	free(buf);
}

/* Read [0, limit) in 64 KiB pieces; errors are fine, crashes are not. */
static void read_all(struct vu_blk *d, uint64_t limit)
{
	static uint8_t buf[64 * KIB];

	if (limit > d->size)
		limit = d->size;
	for (uint64_t off = 0; off < limit; off += sizeof(buf)) {
		size_t n = limit - off < sizeof(buf) ? (size_t)(limit - off)
						     : sizeof(buf);
		vu_blk_read(d, buf, n, off);
		vu_err_clear();
	}
}

/* ---- VHD ---- */

static uint32_t vhd_sum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i < len; i++)
		s += p[i];
	return ~s;
}

#define VHD_BS 8192u	/* 16 sectors: two bitmap bytes per block */
#define VHD_NBLOCKS 6u
#define VHD_SIZE ((uint64_t)VHD_BS * VHD_NBLOCKS)
#define VHD_BAT 1536u
#define VHD_DATA (VHD_BAT + 512u)
#define VHD_SLOT (512u + VHD_BS) /* bitmap sector + data */

/* Which blocks are allocated, and their bitmaps (differencing). */
static const int vhd_alloc[VHD_NBLOCKS] = { 0, 1, 1, 0, 1, 1 };
static const uint8_t vhd_bits[VHD_NBLOCKS][2] = {
	{ 0, 0 }, { 0x07, 0xf0 }, { 0xff, 0xff }, { 0, 0 }, { 0x81, 0x42 },
	{ 0x00, 0x00 },
};
static int vhd_diff; /* the model below: dynamic or differencing */

static uint8_t vhd_expect(uint64_t off)
{
	uint64_t blk = off / VHD_BS, s = off % VHD_BS / 512;

	if (!vhd_alloc[blk])
		return vhd_diff ? parent_byte(off) : 0;
	if (!vhd_diff)
		return child_byte(off);
	return (vhd_bits[blk][s / 8] >> (7 - s % 8)) & 1 ? child_byte(off)
							  : parent_byte(off);
}

/* footer copy, dynamic header, BAT, then the allocated blocks (in reverse
 * order, so file order differs from disk order), then the footer. */
static size_t make_vhd(uint8_t *img, uint32_t type, const uint8_t pid[16])
{
	uint8_t f[512] = { 0 }, *dyn = img + 512;
	size_t at = VHD_DATA;

	memset(img, 0, VHD_DATA + VHD_NBLOCKS * VHD_SLOT + 512);
	memset(img + VHD_BAT, 0xff, 512);
	for (int i = VHD_NBLOCKS - 1; i >= 0; i--) {
		if (!vhd_alloc[i])
			continue;
		vu_put_be32(img + VHD_BAT + 4 * i, (uint32_t)(at / 512));
		memcpy(img + at, vhd_bits[i], 2);
		for (uint32_t j = 0; j < VHD_BS; j++)
			img[at + 512 + j] =
				child_byte((uint64_t)i * VHD_BS + j);
		at += VHD_SLOT;
	}
	memcpy(f, VHD_COOKIE, 8);
	vu_put_be32(f + VHD_F_VERSION, 0x00010000);
	put_be64(f + VHD_F_DATA_OFFSET, 512);
	put_be64(f + VHD_F_CURRENT_SIZE, VHD_SIZE);
	vu_put_be32(f + VHD_F_DISK_TYPE, type);
	memset(f + VHD_F_UNIQUE_ID, 0x11, 16);
	vu_put_be32(f + VHD_F_CHECKSUM, vhd_sum(f, 512));
	memcpy(img, f, 512);
	memcpy(img + at, f, 512);
	memcpy(dyn, VHD_DYN_COOKIE, 8);
	put_be64(dyn + 8, UINT64_MAX);
	put_be64(dyn + VHD_D_TABLE_OFFSET, VHD_BAT);
	vu_put_be32(dyn + 24, 0x00010000);
	vu_put_be32(dyn + VHD_D_MAX_ENTRIES, VHD_NBLOCKS);
	vu_put_be32(dyn + VHD_D_BLOCK_SIZE, VHD_BS);
	if (pid)
		memcpy(dyn + VHD_D_PARENT_ID, pid, 16);
	vu_put_be32(dyn + VHD_D_CHECKSUM, vhd_sum(dyn, VHD_DYN_HEADER_SIZE));
	return at + 512;
}

static uint8_t vhd_img[VHD_DATA + VHD_NBLOCKS * VHD_SLOT + 512];

/* check + reader over img[0, len); parent may be NULL */
static int open_vhd(size_t len, struct vu_blk *parent, struct vu_blk **d)
{
	struct vhd_meta m;
	struct vu_blk *f;
	int r;

	*d = NULL;
	assert_int_equal(vu_mem_open(vhd_img, len, "t.vhd", &f), 0);
	r = vhd_check(f, &m);
	if (r < 0) {
		vu_blk_unref(f);
		vu_blk_unref(parent);
		return r;
	}
	r = vhd_reader_open(f, &m, parent, d);
	vhd_meta_free(&m);
	return r;
}

static void test_vhd_dynamic(void **state)
{
	static const size_t pieces[] = { VHD_SIZE, 4096, 1000, 512, 7 };
	struct vu_blk *d;
	size_t len = make_vhd(vhd_img, VHD_TYPE_DYNAMIC, NULL);

	(void)state;
	vhd_diff = 0;
	assert_int_equal(open_vhd(len, NULL, &d), 0);
	assert_int_equal(d->size, VHD_SIZE);
	assert_string_equal(d->desc, "mem:t.vhd/vhd(dynamic)");
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++)
		check_disk(d, 0, VHD_SIZE, pieces[i], vhd_expect);
	check_disk(d, 100, VHD_SIZE, 3333, vhd_expect);
	/* a parent given to a dynamic disk is ignored */
	vu_blk_unref(d);
	assert_int_equal(open_vhd(len, pattern_open(VHD_SIZE), &d), 0);
	check_disk(d, 0, VHD_SIZE, VHD_SIZE, vhd_expect);
	vu_blk_unref(d);
}

static void test_vhd_differencing(void **state)
{
	static uint8_t parent_buf[VHD_SIZE];
	uint8_t pid[16];
	struct vu_blk *d, *p;
	unsigned long before;
	uint8_t buf[VHD_BS];
	size_t len;

	(void)state;
	memset(pid, 0x22, 16);
	len = make_vhd(vhd_img, VHD_TYPE_DIFFERENCING, pid);
	for (uint64_t i = 0; i < VHD_SIZE; i++)
		parent_buf[i] = parent_byte(i);
	vhd_diff = 1;
	assert_int_equal(vu_mem_open(parent_buf, VHD_SIZE, "p", &p), 0);
	assert_int_equal(open_vhd(len, p, &d), 0);
	assert_string_equal(d->desc, "mem:t.vhd/vhd(differencing)");
	check_disk(d, 0, VHD_SIZE, VHD_SIZE, vhd_expect);
	check_disk(d, 0, VHD_SIZE, 512, vhd_expect);
	check_disk(d, 1, VHD_SIZE, 777, vhd_expect);

	/* block 1 (bitmap 07 f0: sectors 5-11 here): the call, one bitmap
	 * read and three runs (parent 0-4, child 5-11, parent 12-15) */
	before = vu_blk_read_count();
	assert_int_equal(vu_blk_read(d, buf, VHD_BS, VHD_BS), 0);
	assert_int_equal(vu_blk_read_count() - before, 5);
	/* the whole disk: a few reads per block, not one per sector */
	before = vu_blk_read_count();
	check_disk(d, 0, VHD_SIZE, VHD_SIZE, vhd_expect);
	assert_true(vu_blk_read_count() - before < 4 * VHD_NBLOCKS);
	vu_blk_unref(d);

	/* without a parent (fuzzers): the parent's sectors read as zeros */
	assert_int_equal(open_vhd(len, NULL, &d), 0);
	assert_int_equal(vu_blk_read(d, buf, VHD_BS, VHD_BS), 0);
	for (uint32_t i = 0; i < VHD_BS; i++)
		assert_int_equal(buf[i], i / 512 >= 5 && i / 512 <= 11
						 ? child_byte(VHD_BS + i) : 0);
	vu_blk_unref(d);

	/* a parent of another size is refused */
	assert_int_equal(vu_mem_open(parent_buf, VHD_SIZE - 512, "p", &p), 0);
	assert_int_equal(open_vhd(len, p, &d), -EUCLEAN);
	assert_null(d);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "expected"));
	vu_err_clear();
}

static void test_vhd_bad_tables(void **state)
{
	struct vu_blk *d;
	size_t len = make_vhd(vhd_img, VHD_TYPE_DYNAMIC, NULL);
	uint8_t *dyn = vhd_img + 512;

	(void)state;
	/* a block past the footer: the file is truncated */
	vu_put_be32(vhd_img + VHD_BAT + 4, (uint32_t)(len / 512));
	assert_int_equal(open_vhd(len, NULL, &d), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "truncated"));
	vu_err_clear();

	/* a table too short for the disk size */
	make_vhd(vhd_img, VHD_TYPE_DYNAMIC, NULL);
	vu_put_be32(dyn + VHD_D_MAX_ENTRIES, VHD_NBLOCKS - 1);
	vu_put_be32(dyn + VHD_D_CHECKSUM, 0);
	vu_put_be32(dyn + VHD_D_CHECKSUM, vhd_sum(dyn, VHD_DYN_HEADER_SIZE));
	assert_int_equal(open_vhd(len, NULL, &d), -EUCLEAN);
	vu_err_clear();

	/* an absurd block size is refused before anything is allocated */
	make_vhd(vhd_img, VHD_TYPE_DYNAMIC, NULL);
	vu_put_be32(dyn + VHD_D_BLOCK_SIZE, 1u << 31);
	vu_put_be32(dyn + VHD_D_CHECKSUM, 0);
	vu_put_be32(dyn + VHD_D_CHECKSUM, vhd_sum(dyn, VHD_DYN_HEADER_SIZE));
	assert_int_equal(open_vhd(len, NULL, &d), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "block size"));
	vu_err_clear();

	/* truncated at every length, and every byte of the metadata and
	 * tables flipped: an error or a readable disk, never a crash */
	for (size_t cut = 0; cut <= len; cut += 61) {
		make_vhd(vhd_img, VHD_TYPE_DIFFERENCING, NULL);
		if (open_vhd(cut, NULL, &d) == 0) {
			read_all(d, d->size);
			vu_blk_unref(d);
		}
		vu_err_clear();
	}
	for (size_t i = 0; i < VHD_DATA + 4; i++) {
		make_vhd(vhd_img, VHD_TYPE_DIFFERENCING, NULL);
		vhd_img[i] ^= 0x5a;
		if (open_vhd(len, NULL, &d) == 0) {
			read_all(d, d->size);
			vu_blk_unref(d);
		}
		vu_err_clear();
	}
	/* a read failure below is passed up */
	make_vhd(vhd_img, VHD_TYPE_DIFFERENCING, NULL);
	assert_int_equal(open_vhd(len, NULL, &d), 0);
	{
		uint8_t buf[VHD_BS];
		vu_blk_fault_after(2);
		assert_int_equal(vu_blk_read(d, buf, VHD_BS, VHD_BS), -EIO);
		vu_blk_fault_after(0);
		vu_err_clear();
	}
	vu_blk_unref(d);
}

/* ---- VHDX ---- */

/* Layout: headers and region tables as the spec places them, metadata at
 * 320 KiB, BAT at 512 KiB, blocks from 1 MiB (1 MiB blocks, 512-byte
 * sectors: 4096 blocks per chunk, one chunk = 4 GiB). */
#define X_META (320 * KIB)
#define X_META_LEN (128 * KIB)
#define X_BAT (512 * KIB)
#define X_BS MIB
#define X_CR 4096u
#define X_FILE (5 * MIB)

enum { B_FULL, B_PARTIAL, B_NOT_PRESENT, B_ZERO, B_UNDEFINED, B_UNMAPPED,
       B_FULL2, B_N };
static const unsigned x_state[B_N] = { 6, 7, 0, 2, 1, 3, 6 };
static const uint64_t x_where[B_N] = { 1, 2, 0, 0, 0, 0, 4 }; /* MiB */
#define X_SB_AT 3 /* MiB: chunk 0's sector bitmap block */

static uint8_t *x_img;
static int x_diff;
static uint64_t x_size;

static uint8_t sb_bit(uint64_t s) /* sector s of block B_PARTIAL */
{
	/* block 1's bits start at byte 2048 * 1 / 8 = 256 of the bitmap */
	const uint8_t *bm = x_img + X_SB_AT * MIB + 256;
	return (bm[s / 8] >> (s % 8)) & 1;
}

static uint8_t vhdx_expect(uint64_t off)
{
	uint64_t blk = off / X_BS;
	uint8_t par = x_diff ? parent_byte(off) : 0;

	if (blk >= B_N)
		return par; /* not present, in this chunk or the next */
	switch (blk) {
	case B_FULL:
	case B_FULL2:
		return child_byte(off);
	case B_PARTIAL:
		return sb_bit(off % X_BS / 512) ? child_byte(off) : par;
	case B_NOT_PRESENT:
	case B_UNDEFINED:
		return par;
	default:
		return 0;
	}
}

static void set_guid(uint8_t *p, const char *text)
{
	assert_int_equal(vu_guid_parse(text, p), 0);
}

static void crc_at4(uint8_t *p, size_t len)
{
	vu_put_le32(p + 4, 0);
	vu_put_le32(p + 4, vu_crc32c(0, p, len));
}

static uint32_t add_item(uint8_t *mt, unsigned *count, uint32_t at,
			 const char *guid, const void *data, uint32_t len)
{
	uint8_t *e = mt + VHDX_M_ENTRIES + *count * VHDX_ME_SIZE;

	set_guid(e, guid);
	vu_put_le32(e + VHDX_ME_OFFSET, at);
	vu_put_le32(e + VHDX_ME_LENGTH, len);
	vu_put_le32(e + VHDX_ME_FLAGS, VHDX_ME_IS_REQUIRED);
	memcpy(mt + at, data, len);
	(*count)++;
	return (at + len + 7) / 8 * 8;
}

static size_t utf16(uint8_t *out, const char *s)
{
	size_t n = 0;

	for (; *s; s++, n += 2)
		put_le16(out + n, (uint8_t)*s);
	return n;
}

/* Parent locator with the given keys and values. */
static uint32_t make_locator(uint8_t *loc, const char *const *kv, int n)
{
	uint32_t at = VHDX_PL_ENTRIES + (uint32_t)n * VHDX_PLE_SIZE;

	set_guid(loc, VHDX_LOCATOR_TYPE_GUID);
	put_le16(loc + VHDX_PL_COUNT, (uint16_t)n);
	for (int i = 0; i < n; i++) {
		uint8_t *e = loc + VHDX_PL_ENTRIES + i * VHDX_PLE_SIZE;
		size_t kl = utf16(loc + at, kv[2 * i]);

		vu_put_le32(e, at);
		put_le16(e + 8, (uint16_t)kl);
		at += (uint32_t)kl;
		kl = utf16(loc + at, kv[2 * i + 1]);
		vu_put_le32(e + 4, at);
		put_le16(e + 10, (uint16_t)kl);
		at += (uint32_t)kl;
	}
	return at;
}

static const char *const x_locator[] = {
	"parent_linkage", "{01234567-89ab-cdef-0123-456789abcdef}",
	"relative_path", ".\\base.vhdx",
	"volume_path", "\\\\?\\Volume{aaaa}\\vm\\base.vhdx",
	"absolute_win32_path", "\\\\?\\C:\\vm\\base.vhdx",
};

static void make_vhdx(int diff, uint64_t size)
{
	uint64_t nblocks = (size + X_BS - 1) / X_BS;
	uint64_t nchunks = (nblocks + X_CR - 1) / X_CR;
	uint64_t entries = diff ? nchunks * (X_CR + 1)
				: nblocks + (nblocks - 1) / X_CR;
	uint8_t *h, *mt = x_img + X_META, item[512];
	unsigned count = 0;
	uint32_t at = 64 * KIB;

	x_diff = diff;
	x_size = size;
	memset(x_img, 0, X_FILE);
	memcpy(x_img, VHDX_SIGNATURE, 8);
	for (int i = 0; i < 2; i++) {
		h = x_img + (i ? VHDX_HEADER2_OFFSET : VHDX_HEADER1_OFFSET);
		memcpy(h, "head", 4);
		put_le64(h + VHDX_H_SEQUENCE, (uint64_t)i + 1);
		memset(h + VHDX_H_DATA_WRITE_GUID, 0x33, 16);
		put_le16(h + VHDX_H_VERSION, 1);
		crc_at4(h, VHDX_HEADER_SIZE);
	}
	for (int i = 0; i < 2; i++) {
		uint8_t *t = x_img + (i ? VHDX_REGION2_OFFSET
					: VHDX_REGION1_OFFSET);
		memcpy(t, "regi", 4);
		vu_put_le32(t + VHDX_R_COUNT, 2);
		set_guid(t + VHDX_R_ENTRIES, VHDX_BAT_GUID);
		put_le64(t + VHDX_R_ENTRIES + VHDX_RE_OFFSET, X_BAT);
		vu_put_le32(t + VHDX_R_ENTRIES + VHDX_RE_LENGTH,
			    (uint32_t)((entries * 8 + 4095) / 4096 * 4096));
		vu_put_le32(t + VHDX_R_ENTRIES + VHDX_RE_REQUIRED, 1);
		set_guid(t + VHDX_R_ENTRIES + 32, VHDX_METADATA_GUID);
		put_le64(t + VHDX_R_ENTRIES + 32 + VHDX_RE_OFFSET, X_META);
		vu_put_le32(t + VHDX_R_ENTRIES + 32 + VHDX_RE_LENGTH,
			    X_META_LEN);
		vu_put_le32(t + VHDX_R_ENTRIES + 32 + VHDX_RE_REQUIRED, 1);
		crc_at4(t, VHDX_REGION_SIZE);
	}
	memcpy(mt, VHDX_M_SIGNATURE, 8);
	vu_put_le32(item, X_BS);
	vu_put_le32(item + 4, diff ? VHDX_FP_HAS_PARENT : 0);
	at = add_item(mt, &count, at, VHDX_FILE_PARAMS_GUID, item, 8);
	put_le64(item, size);
	at = add_item(mt, &count, at, VHDX_DISK_SIZE_GUID, item, 8);
	vu_put_le32(item, 512);
	at = add_item(mt, &count, at, VHDX_LOGICAL_SECTOR_GUID, item, 4);
	vu_put_le32(item, 4096);
	at = add_item(mt, &count, at, VHDX_PHYSICAL_SECTOR_GUID, item, 4);
	memset(item, 0x44, 16);
	at = add_item(mt, &count, at, VHDX_PAGE83_GUID, item, 16);
	if (diff) {
		uint32_t n = make_locator(item, x_locator, 4);
		add_item(mt, &count, at, VHDX_PARENT_LOCATOR_GUID, item, n);
	}
	put_le16(mt + VHDX_M_COUNT, (uint16_t)count);

	/* payload blocks of chunk 0 and their contents */
	for (uint64_t b = 0; b < B_N && b < nblocks; b++) {
		if (!diff && x_state[b] == VHDX_PAYLOAD_PARTIALLY_PRESENT)
			continue;
		put_le64(x_img + X_BAT + 8 * b, x_where[b] * MIB | x_state[b]);
		if (x_where[b])
			for (uint32_t j = 0; j < X_BS; j++)
				x_img[x_where[b] * MIB + j] =
					child_byte(b * X_BS + j);
	}
	if (diff) {
		uint8_t *bm = x_img + X_SB_AT * MIB + 256;

		put_le64(x_img + X_BAT + 8 * X_CR, X_SB_AT * MIB |
			 VHDX_SB_PRESENT);
		/* block 1: sectors 0-2, 12-15, 96-103, 324 and 2047
		 * here, the rest from the parent */
		bm[0] = 0x07;
		bm[1] = 0xf0;
		bm[255] = 0x80;
		bm[12] = 0xff;
		bm[40] = 0x10;
		/* bits of other blocks must not leak into block 1 */
		bm[-1] = 0xff;
		bm[256] = 0xff;
	}
}

static int open_vhdx(size_t len, struct vu_blk *parent, struct vu_blk **d,
		     struct vhdx_meta *out_meta)
{
	struct vhdx_meta m;
	struct vu_blk *f;
	int r;

	*d = NULL;
	assert_int_equal(vu_mem_open(x_img, len, "t.vhdx", &f), 0);
	r = vhdx_check(f, &m);
	if (r < 0) {
		vu_blk_unref(f);
		vu_blk_unref(parent);
		return r;
	}
	r = vhdx_reader_open(f, &m, parent, d);
	if (out_meta)
		*out_meta = m;
	else
		vhdx_meta_free(&m);
	return r;
}

static void test_vhdx_dynamic(void **state)
{
	struct vu_blk *d;

	(void)state;
	make_vhdx(0, 8 * MIB);
	assert_int_equal(open_vhdx(X_FILE, NULL, &d, NULL), 0);
	assert_string_equal(d->desc, "mem:t.vhdx/vhdx(dynamic)");
	assert_int_equal(d->size, 8 * MIB);
	check_disk(d, 0, d->size, 8 * MIB, vhdx_expect);
	check_disk(d, 3, d->size, 100000, vhdx_expect);
	vu_blk_unref(d);

	/* a partially present block in a disk without a parent */
	put_le64(x_img + X_BAT + 8, 2 * MIB | 7);
	assert_int_equal(open_vhdx(X_FILE, NULL, &d, NULL), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "without a parent"));
	vu_err_clear();
}

static void test_vhdx_differencing(void **state)
{
	struct vhdx_meta m;
	struct vu_blk *d;
	uint8_t want[16];
	unsigned long before;

	(void)state;
	/* 5 GiB: chunk 1 (from 4 GiB) has no sector bitmap block */
	make_vhdx(1, 5 * GIB);
	assert_int_equal(open_vhdx(X_FILE, pattern_open(5 * GIB), &d, &m), 0);
	assert_string_equal(d->desc, "mem:t.vhdx/vhdx(differencing)");
	assert_true(m.has_parent);
	assert_int_equal(m.logical_sector_size, 512);
	assert_int_equal(m.physical_sector_size, 4096);
	vu_guid_parse("01234567-89ab-cdef-0123-456789abcdef", want);
	assert_memory_equal(m.parent_linkage, want, 16);
	/* relative first, then the absolute paths */
	assert_string_equal(m.parent_paths[0], ".\\base.vhdx");
	assert_string_equal(m.parent_paths[1], "\\\\?\\C:\\vm\\base.vhdx");
	assert_string_equal(m.parent_paths[2],
			    "\\\\?\\Volume{aaaa}\\vm\\base.vhdx");
	assert_null(m.parent_paths[3]);
	vhdx_meta_free(&m);

	check_disk(d, 0, 8 * MIB, 8 * MIB, vhdx_expect);
	check_disk(d, 0, 8 * MIB, 4096, vhdx_expect);
	check_disk(d, 5, 8 * MIB, 65537, vhdx_expect);
	check_disk(d, 4 * GIB - MIB, 4 * GIB + 2 * MIB, MIB + 3, vhdx_expect);
	check_disk(d, 5 * GIB - MIB, 5 * GIB, MIB, vhdx_expect);
	/* block 1: the call, one bitmap read, a few runs */
	before = vu_blk_read_count();
	check_disk(d, X_BS, 2 * X_BS, X_BS, vhdx_expect);
	assert_true(vu_blk_read_count() - before <= 2 + 12);
	vu_blk_unref(d);

	/* without a parent: zeros in its place */
	x_diff = 0;
	assert_int_equal(open_vhdx(X_FILE, NULL, &d, NULL), 0);
	check_disk(d, 0, 8 * MIB, MIB, vhdx_expect);
	vu_blk_unref(d);

	/* the parent must be of the child's size */
	assert_int_equal(open_vhdx(X_FILE, pattern_open(4 * GIB), &d, NULL),
			 -EUCLEAN);
	vu_err_clear();
}

static void test_vhdx_bad_tables(void **state)
{
	struct vu_blk *d;
	uint8_t *t = NULL;

	(void)state;
	/* a partially present block in chunk 1, whose sector bitmap entry
	 * says not present: corrupt, and the message names the chunk */
	make_vhdx(1, 5 * GIB);
	put_le64(x_img + X_BAT + 8 * (X_CR + 1 + 3), 4 * MIB | 7);
	assert_int_equal(open_vhdx(X_FILE, NULL, &d, NULL), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "chunk 1"));
	vu_err_clear();

	/* a block past the end of the file */
	make_vhdx(1, 5 * GIB);
	put_le64(x_img + X_BAT + 8 * 7, 5 * MIB | 6);
	assert_int_equal(open_vhdx(X_FILE, NULL, &d, NULL), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "past the end"));
	vu_err_clear();
	/* a block in the header section */
	put_le64(x_img + X_BAT + 8 * 7, 0 | 6);
	assert_int_equal(open_vhdx(X_FILE, NULL, &d, NULL), -EUCLEAN);
	vu_err_clear();
	/* a reserved state */
	put_le64(x_img + X_BAT + 8 * 7, 4);
	assert_int_equal(open_vhdx(X_FILE, NULL, &d, NULL), -EUCLEAN);
	vu_err_clear();

	/* a BAT region too short for the disk */
	make_vhdx(0, 8 * MIB);
	for (int i = 0; i < 2; i++) {
		t = x_img + (i ? VHDX_REGION2_OFFSET : VHDX_REGION1_OFFSET);
		vu_put_le32(t + VHDX_R_ENTRIES + VHDX_RE_LENGTH, 56);
		crc_at4(t, VHDX_REGION_SIZE);
	}
	assert_int_equal(open_vhdx(X_FILE, NULL, &d, NULL), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "block table"));
	vu_err_clear();

	/* a virtual size past 64 TiB is refused before allocating */
	make_vhdx(0, 8 * MIB);
	put_le64(x_img + X_META + 64 * KIB + 8, 1ull << 50);
	assert_int_equal(open_vhdx(X_FILE, NULL, &d, NULL), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "virtual disk size"));
	vu_err_clear();

	/* a differencing disk without parent_linkage */
	make_vhdx(1, 5 * GIB);
	{
		uint8_t *mt = x_img + X_META;
		uint8_t *e = mt + VHDX_M_ENTRIES + 5 * VHDX_ME_SIZE;
		uint32_t n = make_locator(mt + vu_le32(e + VHDX_ME_OFFSET),
					  x_locator + 2, 1);
		vu_put_le32(e + VHDX_ME_LENGTH, n);
	}
	assert_int_equal(open_vhdx(X_FILE, NULL, &d, NULL), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "parent_linkage"));
	vu_err_clear();

	/* truncated anywhere, metadata and BAT bytes flipped: an error or a
	 * readable disk, never a crash */
	for (size_t cut = 0; cut < X_FILE; cut += 97 * KIB + 13) {
		make_vhdx(1, 5 * GIB);
		if (open_vhdx(cut, NULL, &d, NULL) == 0) {
			read_all(d, 8 * MIB);
			vu_blk_unref(d);
		}
		vu_err_clear();
	}
	for (size_t i = 0; i < 2 * 512 + 64; i++) {
		size_t at = i < 512 ? X_META + i
			    : i < 1024 ? X_META + 64 * KIB + (i - 512)
				       : X_BAT + (i - 1024);

		make_vhdx(1, 5 * GIB);
		x_img[at] ^= (uint8_t)(0x81 + i);
		if (open_vhdx(X_FILE, NULL, &d, NULL) == 0) {
			read_all(d, 8 * MIB);
			vu_blk_unref(d);
		}
		vu_err_clear();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhd_dynamic),
		cmocka_unit_test(test_vhd_differencing),
		cmocka_unit_test(test_vhd_bad_tables),
		cmocka_unit_test(test_vhdx_dynamic),
		cmocka_unit_test(test_vhdx_differencing),
		cmocka_unit_test(test_vhdx_bad_tables),
	};
	int r;

	vu_log_set_sink(NULL, NULL);
	x_img = malloc(X_FILE);
	if (!x_img)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	free(x_img);
	return r;
}
