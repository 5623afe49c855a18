/* Volume probe: one synthetic minimal volume per kind (and per trap), each
 * run whole, truncated at every structure boundary, bit-flipped and with
 * failing reads.  Checksums are computed here with bitwise reference code,
 * independent of core/crc.c; the integration test compares real mkfs
 * images against blkid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/blk.h"
#include "core/bytes.h"
#include "core/error.h"
#include "core/log.h"
#include "volume/probe.h"

/* ---- reference checksums (bitwise, reflected) ---- */

static uint32_t crc_raw(uint32_t poly, uint32_t crc, const uint8_t *p,
			size_t n)
{
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? crc >> 1 ^ poly : crc >> 1;
	}
	return crc;
}

#define POLY_CRC32 0xedb88320u
#define POLY_CRC32C 0x82f63b78u

/* ---- little builders ---- */

static const uint8_t uuid_bytes[16] = {
	0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
	0x0f, 0xed, 0xcb, 0xa9, 0x87, 0x65, 0x43, 0x21,
};
#define UUID_STR "12345678-9abc-def0-0fed-cba987654321"

static const uint8_t bde_guid[16] = {
	0x3b, 0xd6, 0x67, 0x49, 0x29, 0x2e, 0xd8, 0x4a,
	0x83, 0x99, 0xf6, 0xa3, 0x39, 0xe3, 0xd0, 0x01,
};

struct img {
	uint8_t *b;
	size_t len;
};

static struct img img_new(size_t len)
{
	struct img m = { calloc(1, len), len };

	assert_non_null(m.b);
	return m;
}

static void luks_common(uint8_t *b, uint16_t version, const char *uuid)
{
	memcpy(b, "LUKS\xba\xbe", 6);
	vu_put_be16(b + 6, version);
	memcpy(b + 168, uuid, strlen(uuid));
}

static struct img mk_luks1(int variant)
{
	struct img m = img_new(4096);

	(void)variant;
	memcpy(m.b + 8, "aes", 3);
	luks_common(m.b, 1, "e5f398d9-39da-4b6a-9ac3-e085a9394e7c");
	return m;
}

/* variant 1: header offset not 0 (a secondary copy); 2: version 3;
 * 3: primary wiped, secondary at 0x8000 (after a decoy at 0x4000 whose
 * offset field is wrong) */
static struct img mk_luks2(int variant)
{
	struct img m = img_new(variant == 3 ? 0x8000 + 4096 : 16384);

	if (variant == 3) {
		memcpy(m.b + 0x4000, "SKUL\xba\xbe\x00\x02", 8);
		vu_put_be64(m.b + 0x4000 + 256, 0x8000);
		memcpy(m.b + 0x8000, "SKUL\xba\xbe\x00\x02", 8);
		vu_put_be64(m.b + 0x8000 + 256, 0x8000);
		memcpy(m.b + 0x8000 + 24, "second", 6);
		memcpy(m.b + 0x8000 + 168, "11111111-2222-3333-4444-55555555555b",
		       36);
		return m;
	}

	luks_common(m.b, variant == 2 ? 3 : 2,
		    "11111111-2222-3333-4444-55555555555a");
	vu_put_be64(m.b + 8, 16384);
	memcpy(m.b + 24, "my label  ", 10);
	if (variant == 1)
		vu_put_be64(m.b + 256, 0x4000);
	return m;
}

/* variant 0 Vista, 1 Windows 7 */
static struct img mk_bde(int variant)
{
	struct img m = img_new(8192);

	memcpy(m.b, variant ? "\xeb\x58\x90" : "\xeb\x52\x90", 3);
	memcpy(m.b + 3, "-FVE-FS-", 8);
	vu_put_le16(m.b + 11, 512);
	if (variant)
		memcpy(m.b + 160, bde_guid, 16);
	m.b[510] = 0x55;
	m.b[511] = 0xaa;
	return m;
}

/* ---- FAT ---- */

static void fat_dirent(uint8_t *e, const char *name11, uint8_t attr,
		       uint16_t cluster)
{
	memcpy(e, name11, 11);
	e[11] = attr;
	vu_put_le16(e + 26, cluster);
}

/* FAT12 (variant 0), FAT16 (1), FAT12 without a root label (2): a root
 * directory with a long-name entry, a deleted label, a file, then the
 * label; the boot sector's label differs (blkid prefers the root's). */
static struct img mk_fat1x(int variant)
{
	int fat16 = variant == 1;
	uint16_t fatlen = fat16 ? 64 : 12;
	uint32_t root = (1 + 2u * fatlen) * 512;
	struct img m = img_new(root + 512 * 32);
	uint8_t *b = m.b, *d = m.b + root;

	memcpy(b, "\xeb\x3c\x90mkfs.fat", 11);
	vu_put_le16(b + 0x0b, 512);
	b[0x0d] = 4;
	vu_put_le16(b + 0x0e, 1);
	b[0x10] = 2;
	vu_put_le16(b + 0x11, 512);
	vu_put_le16(b + 0x13, fat16 ? 0 : 16384);
	b[0x15] = 0xf8;
	vu_put_le16(b + 0x16, fatlen);
	vu_put_le32(b + 0x20, fat16 ? 65536 : 0);
	b[0x26] = 0x29;
	vu_put_le32(b + 0x27, 0x9abcdef0);
	memcpy(b + 0x2b, "BOOTLAB    ", 11);
	memcpy(b + 0x36, fat16 ? "FAT16   " : "FAT12   ", 8);
	b[510] = 0x55;
	b[511] = 0xaa;
	fat_dirent(d, "Ax\0b\0c\0\0\0\0\0", 0x0f, 0);
	fat_dirent(d + 32, "\xe5OLDLAB    ", 0x08, 0);
	fat_dirent(d + 64, "FILE    TXT", 0x20, 5);
	if (variant != 2)
		fat_dirent(d + 96, "ROOT LAB   ", 0x08 | 0x20, 0);
	return m;
}

/* FAT32 whose root directory spans clusters 2 -> 3 with the label in the
 * second; variant 1 is BitLocker To Go (same boot sector, OEM MSWIN4.1,
 * BitLocker GUID at 424), variant 2 To Go without the GUID (plain FAT),
 * variant 3 a bad FSInfo signature (not FAT to blkid). */
static struct img mk_fat32(int variant)
{
	struct img m = img_new(32768);
	uint8_t *b = m.b;
	const uint32_t data = 32 + 2 * 8; /* sectors */

	memcpy(b, "\xeb\x58\x90", 3);
	memcpy(b + 3, variant == 1 || variant == 2 ? "MSWIN4.1" : "mkfs.fat", 8);
	vu_put_le16(b + 0x0b, 512);
	b[0x0d] = 1;
	vu_put_le16(b + 0x0e, 32);
	b[0x10] = 2;
	b[0x15] = 0xf8;
	vu_put_le32(b + 0x20, 100);
	vu_put_le32(b + 0x24, 8);
	vu_put_le32(b + 0x2c, 2);
	vu_put_le16(b + 0x30, 1);
	b[0x42] = 0x29;
	vu_put_le32(b + 0x43, 0x0badcafe);
	memcpy(b + 0x47, "BOOT32     ", 11);
	memcpy(b + 0x52, "FAT32   ", 8);
	if (variant == 1)
		memcpy(b + 424, bde_guid, 16);
	b[510] = 0x55;
	b[511] = 0xaa;
	memcpy(b + 512, variant == 3 ? "XXXX" : "RRaA", 4);
	memcpy(b + 512 + 484, "rrAa", 4);
	/* FAT: cluster 2 -> 3 -> end */
	vu_put_le32(b + 32 * 512 + 8, 3);
	vu_put_le32(b + 32 * 512 + 12, 0x0fffffff);
	/* cluster 2 full of files, cluster 3 holds the label */
	for (int i = 0; i < 16; i++)
		fat_dirent(b + data * 512 + i * 32, "FILE    BIN", 0x20, 7);
	fat_dirent(b + (data + 1) * 512, "ROOT32     ", 0x08, 0);
	return m;
}

/* ---- LVM2 ---- */

/* variant 0: label in sector 1; 1: bad CRC; 2: sector number wrong */
static struct img mk_lvm(int variant)
{
	struct img m = img_new(8192);
	uint8_t *s = m.b + 512;

	memcpy(s, "LABELONE", 8);
	vu_put_le64(s + 8, variant == 2 ? 0 : 1);
	vu_put_le32(s + 20, 32);
	memcpy(s + 24, "LVM2 001", 8);
	memcpy(s + 32, "AbCdEf0123456789ghijklmnopqrstuv", 32);
	vu_put_le64(s + 64, 8192);
	vu_put_le32(s + 16, crc_raw(POLY_CRC32, 0xf597a6cfu, s + 20, 512 - 20));
	if (variant == 1)
		s[100] ^= 1;
	return m;
}

/* ---- NTFS ---- */

#define NTFS_REC 1024
#define NTFS_MFT 16384 /* cluster 4 of 4096 */

/* UTF-16LE "Données 😀", placed so that it straddles the update sequence
 * position at 510 of record 3: the probe must apply the fixups.
 * variant 1: record 3's fixup damaged; 2: MFT past the end (truncated
 * image); 3: record 3 with no "FILE"; 4: attribute length 0 */
static struct img mk_ntfs(int variant)
{
	static const uint16_t name[] = { 'D', 'o', 'n', 'n', 0xe9, 'e', 's',
					 ' ', 0xd83d, 0xde00 };
	struct img m = img_new(variant == 2 ? 8192 : NTFS_MFT + 4 * NTFS_REC);
	uint8_t *b = m.b, *r, *a;
	uint32_t aoff;

	memcpy(b, "\xeb\x52\x90NTFS    ", 11);
	vu_put_le16(b + 0x0b, 512);
	b[0x0d] = 8;
	b[0x15] = 0xf8;
	vu_put_le64(b + 0x28, (NTFS_MFT + 4 * NTFS_REC) / 512);
	vu_put_le64(b + 0x30, 4);
	vu_put_le64(b + 0x38, 2);
	b[0x40] = 0xf6; /* 2^10 */
	b[0x44] = 1;
	vu_put_le64(b + 0x48, 0x32658ae00c950602ull);
	b[510] = 0x55;
	b[511] = 0xaa;
	if (variant == 2)
		return m;
	memcpy(b + NTFS_MFT, "FILE", 4);
	r = b + NTFS_MFT + 3 * NTFS_REC;
	memcpy(r, variant == 3 ? "BAAD" : "FILE", 4);
	vu_put_le16(r + 4, 0x30);
	vu_put_le16(r + 6, 3);
	vu_put_le16(r + 0x14, 0x38);
	vu_put_le32(r + 0x1c, NTFS_REC);
	/* $STANDARD_INFORMATION sized so the name's 4th char sits at 510 */
	aoff = 0x38;
	a = r + aoff;
	vu_put_le32(a, 0x10);
	vu_put_le32(a + 4, variant == 4 ? 0 : 510 - 6 - 0x18 - aoff);
	vu_put_le32(a + 16, 510 - 6 - 0x18 - aoff - 0x18);
	vu_put_le16(a + 20, 0x18);
	aoff += 510 - 6 - 0x18 - aoff;
	a = r + aoff;
	vu_put_le32(a, 0x60);
	vu_put_le32(a + 4, 0x18 + 24);
	vu_put_le32(a + 16, sizeof(name));
	vu_put_le16(a + 20, 0x18);
	for (size_t i = 0; i < sizeof(name) / 2; i++)
		vu_put_le16(a + 0x18 + 2 * i, name[i]);
	aoff += 0x18 + 24;
	vu_put_le32(r + aoff, 0xffffffff);
	vu_put_le32(r + 0x18, aoff + 8);
	/* update sequence: number 7, saved words at 0x32 and 0x34 */
	vu_put_le16(r + 0x30, 7);
	memcpy(r + 0x32, r + 510, 2);
	memcpy(r + 0x34, r + 1022, 2);
	vu_put_le16(r + 510, 7);
	vu_put_le16(r + 1022, variant == 1 ? 8 : 7);
	return m;
}

/* ---- ext ---- */

/* variant: 0 ext2, 1 ext3, 2 ext4 (extents), 3 ext4 metadata_csum,
 * 4 ext4 metadata_csum with a bad checksum, 5 journal device,
 * 6 ext2 with needs_recovery only */
static struct img mk_ext(int variant)
{
	struct img m = img_new(4096);
	uint8_t *sb = m.b + 1024;
	uint32_t compat = 0x38, incompat = 0x2, ro = 0x3;

	if (variant >= 1 && variant != 6)
		compat |= 0x4;
	if (variant >= 2 && variant <= 4)
		incompat |= 0x40 | 0x200, ro |= 0x8 | 0x20;
	if (variant == 3 || variant == 4)
		ro |= 0x400;
	if (variant == 5)
		incompat |= 0x8;
	if (variant == 6)
		incompat |= 0x4;
	vu_put_le32(sb + 0x04, 2048);
	vu_put_le16(sb + 0x38, 0xef53);
	vu_put_le32(sb + 0x5c, compat);
	vu_put_le32(sb + 0x60, incompat);
	vu_put_le32(sb + 0x64, ro);
	memcpy(sb + 0x68, uuid_bytes, 16);
	memcpy(sb + 0x78, "ext label\t ", 11);
	if (ro & 0x400)
		vu_put_le32(sb + 0x3fc,
			    crc_raw(POLY_CRC32C, 0xffffffffu, sb, 0x3fc) ^
				    (variant == 4));
	return m;
}

/* ---- XFS ---- */

/* variant 0: v5 with CRC, 1: v5 bad CRC, 2: v4, 3: inconsistent sizes */
static struct img mk_xfs(int variant)
{
	struct img m = img_new(8192);
	uint8_t *sb = m.b;

	memcpy(sb, "XFSB", 4);
	vu_put_be32(sb + 4, 4096);
	vu_put_be64(sb + 8, 1000);
	memcpy(sb + 32, uuid_bytes, 16);
	vu_put_be32(sb + 80, 1);
	vu_put_be32(sb + 84, 250);
	vu_put_be32(sb + 88, 4);
	vu_put_be16(sb + 100, variant == 2 ? 0xb4a4 : 0xb4a5);
	vu_put_be16(sb + 102, 512);
	vu_put_be16(sb + 104, 512);
	vu_put_be16(sb + 106, 8);
	memcpy(sb + 108, "xfslab", 6);
	sb[120] = 12;
	sb[121] = 9;
	sb[122] = 9;
	sb[123] = variant == 3 ? 4 : 3;
	sb[127] = 25;
	vu_put_be32(sb + 200, 0x18a);
	if (variant != 2)
		vu_put_le32(sb + 224, ~crc_raw(POLY_CRC32C, 0xffffffffu, sb,
					       512) ^ (variant == 1));
	return m;
}

/* ---- swap ---- */

/* variant 0: 4 KiB page, 1: 16 KiB page, 2: garbage in the padding (no
 * label or UUID), 3: last page 0 (not swap) */
static struct img mk_swap(int variant)
{
	size_t page = variant == 1 ? 16384 : 4096;
	struct img m = img_new(page * 2);
	uint8_t *h = m.b + 1024;

	vu_put_le32(h, 1);
	vu_put_le32(h + 4, variant == 3 ? 0 : 255);
	memcpy(h + 12, uuid_bytes, 16);
	memcpy(h + 28, "swlab", 5);
	if (variant == 2)
		h[172] = 1;
	memcpy(m.b + page - 10, "SWAPSPACE2", 10);
	return m;
}

/* ---- the table ---- */

struct probe_case {
	const char *name;
	struct img (*make)(int variant);
	int variant;
	enum vu_kind kind;
	const char *label, *uuid, *detail;
	size_t need; /* shorter than this: unknown */
	size_t full; /* at least this: the complete answer */
};

#define ALL ((size_t)-1)

static const struct probe_case cases[] = {
	{ "luks1", mk_luks1, 0, VU_KIND_LUKS1, "",
	  "e5f398d9-39da-4b6a-9ac3-e085a9394e7c", "", 264, 264 },
	{ "luks2", mk_luks2, 0, VU_KIND_LUKS2, "my label",
	  "11111111-2222-3333-4444-55555555555a", "", 264, 264 },
	{ "luks2-secondary-offset", mk_luks2, 1, VU_KIND_UNKNOWN, "", "", "",
	  0, 0 },
	{ "luks-version3", mk_luks2, 2, VU_KIND_UNKNOWN, "", "", "", 0, 0 },
	{ "luks2-secondary-only", mk_luks2, 3, VU_KIND_LUKS2, "second",
	  "11111111-2222-3333-4444-55555555555b", "", 0x8000 + 264,
	  0x8000 + 264 },
	{ "bitlocker-vista", mk_bde, 0, VU_KIND_BITLOCKER, "", "", "", 512,
	  512 },
	{ "bitlocker-win7", mk_bde, 1, VU_KIND_BITLOCKER, "", "", "", 512,
	  512 },
	{ "bitlocker-togo", mk_fat32, 1, VU_KIND_BITLOCKER, "", "",
	  "BitLocker To Go", 512, 512 },
	{ "togo-without-guid-is-fat", mk_fat32, 2, VU_KIND_FAT, "ROOT32",
	  "0BAD-CAFE", "FAT32", 1024, ALL },
	{ "lvm2", mk_lvm, 0, VU_KIND_LVM2, "",
	  "AbCdEf-0123-4567-89gh-ijkl-mnop-qrstuv", "", 1024, 1024 },
	{ "lvm2-bad-crc", mk_lvm, 1, VU_KIND_UNKNOWN, "", "", "", 0, 0 },
	{ "lvm2-wrong-sector", mk_lvm, 2, VU_KIND_UNKNOWN, "", "", "", 0, 0 },
	{ "ntfs", mk_ntfs, 0, VU_KIND_NTFS, "Donn\xc3\xa9" "es \xf0\x9f\x98\x80",
	  "32658AE00C950602", "", 512, ALL },
	{ "ntfs-bad-fixup", mk_ntfs, 1, VU_KIND_NTFS, "", "32658AE00C950602",
	  "", 512, ALL },
	{ "ntfs-mft-past-end", mk_ntfs, 2, VU_KIND_NTFS, "",
	  "32658AE00C950602", "", 512, ALL },
	{ "ntfs-record-not-file", mk_ntfs, 3, VU_KIND_NTFS, "",
	  "32658AE00C950602", "", 512, ALL },
	{ "ntfs-attr-len-0", mk_ntfs, 4, VU_KIND_NTFS, "", "32658AE00C950602",
	  "", 512, ALL },
	{ "ext2", mk_ext, 0, VU_KIND_EXT2, "ext label", UUID_STR, "", 2048,
	  2048 },
	{ "ext3", mk_ext, 1, VU_KIND_EXT3, "ext label", UUID_STR, "", 2048,
	  2048 },
	{ "ext4", mk_ext, 2, VU_KIND_EXT4, "ext label", UUID_STR, "", 2048,
	  2048 },
	{ "ext4-csum", mk_ext, 3, VU_KIND_EXT4, "ext label", UUID_STR, "",
	  2048, 2048 },
	{ "ext4-bad-csum", mk_ext, 4, VU_KIND_UNKNOWN, "", "", "", 0, 0 },
	{ "ext-journal-dev", mk_ext, 5, VU_KIND_UNKNOWN, "", "", "", 0, 0 },
	{ "ext2-needs-recovery", mk_ext, 6, VU_KIND_EXT2, "ext label",
	  UUID_STR, "", 2048, 2048 },
	{ "xfs-v5", mk_xfs, 0, VU_KIND_XFS, "xfslab", UUID_STR, "", 512, 512 },
	{ "xfs-v5-bad-crc", mk_xfs, 1, VU_KIND_UNKNOWN, "", "", "", 0, 0 },
	{ "xfs-v4", mk_xfs, 2, VU_KIND_XFS, "xfslab", UUID_STR, "", 232, 232 },
	{ "xfs-bad-geometry", mk_xfs, 3, VU_KIND_UNKNOWN, "", "", "", 0, 0 },
	{ "swap", mk_swap, 0, VU_KIND_SWAP, "swlab", UUID_STR, "", 4096,
	  4096 },
	{ "swap-16k-page", mk_swap, 1, VU_KIND_SWAP, "swlab", UUID_STR, "",
	  16384, 16384 },
	{ "swap-garbage", mk_swap, 2, VU_KIND_SWAP, "", "", "", 4096, 4096 },
	{ "swap-no-pages", mk_swap, 3, VU_KIND_UNKNOWN, "", "", "", 0, 0 },
	{ "fat12", mk_fat1x, 0, VU_KIND_FAT, "ROOT LAB", "9ABC-DEF0", "FAT12",
	  512, ALL },
	{ "fat16", mk_fat1x, 1, VU_KIND_FAT, "ROOT LAB", "9ABC-DEF0", "FAT16",
	  512, ALL },
	{ "fat12-no-root-label", mk_fat1x, 2, VU_KIND_FAT, "", "9ABC-DEF0",
	  "FAT12", 512, ALL },
	{ "fat32", mk_fat32, 0, VU_KIND_FAT, "ROOT32", "0BAD-CAFE", "FAT32",
	  1024, ALL },
	{ "fat32-bad-fsinfo", mk_fat32, 3, VU_KIND_UNKNOWN, "", "", "", 0, 0 },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static int probe_buf(const uint8_t *buf, size_t len, struct vu_probe *p)
{
	struct vu_blk *vol = NULL;
	uint8_t *copy = malloc(len ? len : 1);
	int r;

	/* an exact-size copy, so an over-read trips the sanitizer */
	assert_non_null(copy);
	if (len)
		memcpy(copy, buf, len);
	assert_int_equal(vu_mem_open(copy, len, "test", &vol), 0);
	vu_err_clear();
	r = vu_probe(vol, p);
	vu_blk_unref(vol);
	free(copy);
	return r;
}

static void test_whole(void **state)
{
	const struct probe_case *c = *state;
	struct img m = c->make(c->variant);
	struct vu_probe p;

	assert_int_equal(probe_buf(m.b, m.len, &p), 0);
	assert_string_equal(vu_kind_name(p.kind), vu_kind_name(c->kind));
	assert_string_equal(p.label, c->label);
	assert_string_equal(p.uuid, c->uuid);
	assert_string_equal(p.detail, c->detail);
	free(m.b);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* Cut the image at every structure boundary (and one byte either side). */
static void test_truncated(void **state)
{
	static const size_t marks[] = {
		0, 3, 11, 36, 64, 82, 160, 232, 264, 424, 440, 512, 1024,
		1536, 2048, 4086, 4096, 8192, 12288, 16374, 16384, 16648, 24576,
		25088, 25600, 32768, 33032,
	};
	const struct probe_case *c = *state;
	struct img m = c->make(c->variant);
	size_t cuts[3 * (sizeof(marks) / sizeof(marks[0]) + 8)], n = 0;
	size_t full = c->full == ALL ? m.len : c->full;
	struct vu_probe p;

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		for (int d = -1; d <= 1; d++)
			cuts[n++] = marks[i] + (size_t)d;
	cuts[n++] = c->need - 1;
	cuts[n++] = c->need;
	cuts[n++] = full - 1;
	cuts[n++] = full;
	cuts[n++] = m.len - 1;
	cuts[n++] = NTFS_MFT + 3 * NTFS_REC;
	cuts[n++] = NTFS_MFT + 4 * NTFS_REC - 1;
	qsort(cuts, n, sizeof(cuts[0]), cmp_size);
	for (size_t i = 0; i < n; i++) {
		size_t cut = cuts[i];

		if (cut > m.len || (i && cut == cuts[i - 1]))
			continue;
		assert_int_equal(probe_buf(m.b, cut, &p), 0);
		if (cut < c->need)
			assert_int_equal(p.kind, VU_KIND_UNKNOWN);
		else if (cut < full)
			assert_int_equal(p.kind, c->kind);
		if (cut >= full) {
			assert_int_equal(p.kind, c->kind);
			assert_string_equal(p.label, c->label);
			assert_string_equal(p.uuid, c->uuid);
		}
	}
	free(m.b);
}

/* Flip bits and smash bytes all over the structures: any answer is fine,
 * a crash, an over-read or an error return is not. */
static void test_flipped(void **state)
{
	static const uint8_t pats[] = { 0x01, 0x80, 0xff };
	const struct probe_case *c = *state;
	struct img m = c->make(c->variant);
	size_t span = m.len < 2048 ? m.len : 2048;
	struct vu_probe p;

	for (size_t pos = 0; pos < m.len; pos++) {
		/* every byte of the first 2 KiB, then every 61st */
		if (pos >= span && pos % 61)
			continue;
		for (size_t k = 0; k < sizeof(pats); k++) {
			m.b[pos] ^= pats[k];
			assert_int_equal(probe_buf(m.b, m.len, &p), 0);
			assert_true(p.kind <= VU_KIND_SWAP);
			assert_true(memchr(p.label, 0, sizeof(p.label)) != NULL);
			assert_true(memchr(p.uuid, 0, sizeof(p.uuid)) != NULL);
			m.b[pos] ^= pats[k];
		}
	}
	free(m.b);
}

/* Every read the probe makes, failed in turn: the probe returns the read's
 * error and a cleared result. */
static void test_read_faults(void **state)
{
	const struct probe_case *c = *state;
	struct img m = c->make(c->variant);
	struct vu_blk *vol = NULL;
	struct vu_probe p;
	unsigned long before, reads;

	assert_int_equal(vu_mem_open(m.b, m.len, "test", &vol), 0);
	before = vu_blk_read_count();
	assert_int_equal(vu_probe(vol, &p), 0);
	reads = vu_blk_read_count() - before;
	assert_true(reads >= 1);
	for (unsigned long n = 1; n <= reads; n++) {
		vu_err_clear();
		vu_blk_fault_after((long)n);
		assert_int_equal(vu_probe(vol, &p), -EIO);
		assert_int_equal(p.kind, VU_KIND_UNKNOWN);
		assert_true(vu_err_isset());
	}
	vu_blk_fault_after(0);
	vu_err_clear();
	vu_blk_unref(vol);
	free(m.b);
}

static void test_zeroed(void **state)
{
	static const size_t sizes[] = { 0, 1, 511, 512, 4096, 65536 };
	struct vu_probe p;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *z = calloc(1, sizes[i] + 1);

		assert_non_null(z);
		assert_int_equal(probe_buf(z, sizes[i], &p), 0);
		assert_int_equal(p.kind, VU_KIND_UNKNOWN);
		assert_string_equal(p.label, "");
		assert_string_equal(p.uuid, "");
		memset(z, 0xff, sizes[i]);
		assert_int_equal(probe_buf(z, sizes[i], &p), 0);
		assert_int_equal(p.kind, VU_KIND_UNKNOWN);
		free(z);
	}
}

/* Each case's image, zeroed past its first 512 bytes and past its first
 * sector's signature: never a crash. */
static void test_zeroed_tails(void **state)
{
	struct vu_probe p;

	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		struct img m = cases[i].make(cases[i].variant);

		for (size_t keep = 0; keep <= m.len; keep += 512) {
			memset(m.b + keep, 0, m.len - keep);
			assert_int_equal(probe_buf(m.b, m.len, &p), 0);
			free(m.b);
			m = cases[i].make(cases[i].variant);
		}
		free(m.b);
	}
}

static void test_bad_args(void **state)
{
	struct vu_probe p;

	(void)state;
	vu_err_clear();
	assert_int_equal(vu_probe(NULL, &p), -EINVAL);
	assert_int_equal(p.kind, VU_KIND_UNKNOWN);
	vu_err_clear();
}

static void test_kind_names(void **state)
{
	static const char *const want[] = {
		"unknown", "bitlocker", "luks1", "luks2", "lvm2", "ntfs",
		"ext2", "ext3", "ext4", "xfs", "fat", "swap",
	};

	(void)state;
	for (int k = VU_KIND_UNKNOWN; k <= VU_KIND_SWAP; k++)
		assert_string_equal(vu_kind_name((enum vu_kind)k), want[k]);
	assert_string_equal(vu_kind_name((enum vu_kind)999), "unknown");
	assert_string_equal(vu_kind_name((enum vu_kind)-1), "unknown");
}

int main(void)
{
	static const struct {
		const char *what;
		CMUnitTestFunction fn;
	} per_case[] = {
		{ "whole", test_whole },
		{ "truncated", test_truncated },
		{ "flipped", test_flipped },
		{ "read-faults", test_read_faults },
	};
	const size_t nper = sizeof(per_case) / sizeof(per_case[0]);
	static char names[NCASES * 4][64];
	struct CMUnitTest tests[NCASES * 4 + 4];
	size_t n = 0;

	vu_log_set_sink(NULL, NULL);
	for (size_t i = 0; i < NCASES; i++)
		for (size_t j = 0; j < nper; j++) {
			snprintf(names[n], sizeof(names[n]), "%s/%s",
				 cases[i].name, per_case[j].what);
			tests[n] = (struct CMUnitTest){
				names[n], per_case[j].fn, NULL, NULL,
				(void *)&cases[i]
			};
			n++;
		}
	tests[n++] = (struct CMUnitTest){ "zeroed", test_zeroed, NULL, NULL,
					  NULL };
	tests[n++] = (struct CMUnitTest){ "zeroed-tails", test_zeroed_tails,
					  NULL, NULL, NULL };
	tests[n++] = (struct CMUnitTest){ "bad-args", test_bad_args, NULL,
					  NULL, NULL };
	tests[n++] = (struct CMUnitTest){ "kind-names", test_kind_names, NULL,
					  NULL, NULL };
	return _cmocka_run_group_tests("probe", tests, n, NULL, NULL);
}
