/* GPT parser: synthetic tables built here with 512- and 4096-byte sectors,
 * damaged primaries (backup used, with a warning), damaged backups, bad
 * partitions, every truncation, bit flips, read faults, and tables written
 * by sgdisk and fdisk, checked against sfdisk --json, sgdisk -i and
 * fdisk -l. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ptable_check.h"
#include "shell.h"
#include <json.h>

#include "core/blk.h"
#include "core/bytes.h"
#include "core/crc.h"
#include "core/guid.h"
#include "core/log.h"
#include "partition/partition.h"

#define NUM_ENTRIES 128u
#define ENTRY_SIZE 128u
#define ARRAY_BYTES (NUM_ENTRIES * ENTRY_SIZE)

static const char *const TYPE_EFI = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";
static const char *const TYPE_BASIC = "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7";
static const char *const TYPE_LINUX = "0fc63daf-8483-4772-8e79-3d69d8477de4";
static const char *const DISK_GUID = "01234567-89ab-cdef-0011-223344556677";

/* ---- builder ---- */

static void put_guid(uint8_t *p, const char *s)
{
	assert_int_equal(vu_guid_parse(s, p), 0);
}

struct geo {
	uint32_t ss;
	uint64_t lbas;	/* disk size the table was made for */
	uint64_t arr_lbas, first_usable, last_usable, backup_array;
};

static struct geo geometry(uint32_t ss, uint64_t lbas)
{
	struct geo g = { .ss = ss, .lbas = lbas };

	g.arr_lbas = (ARRAY_BYTES + ss - 1) / ss;
	g.first_usable = 2 + g.arr_lbas;
	g.last_usable = lbas - 2 - g.arr_lbas;
	g.backup_array = lbas - 1 - g.arr_lbas;
	return g;
}

/* Recompute the header CRC of the header at lba. */
static void rehash_header(uint8_t *d, uint32_t ss, uint64_t lba)
{
	uint8_t *h = d + lba * ss;
	uint32_t size = vu_le32(h + 12);

	vu_put_le32(h + 16, 0);
	vu_put_le32(h + 16, vu_crc32(0, h, size <= ss ? size : 92));
}

/* Recompute the entry-array CRC, then the header CRC. */
static void rehash(uint8_t *d, uint32_t ss, uint64_t lba)
{
	uint8_t *h = d + lba * ss;
	uint64_t elba = vu_le64(h + 72);
	uint32_t n = vu_le32(h + 80) * vu_le32(h + 84);

	vu_put_le32(h + 88, vu_crc32(0, d + elba * ss, n));
	rehash_header(d, ss, lba);
}

static void write_header(uint8_t *d, const struct geo *g, uint64_t my,
			 uint64_t alt, uint64_t elba)
{
	uint8_t *h = d + my * g->ss;

	memcpy(h, "EFI PART", 8);
	vu_put_le32(h + 8, 0x00010000);
	vu_put_le32(h + 12, 92);
	vu_put_le64(h + 24, my);
	vu_put_le64(h + 32, alt);
	vu_put_le64(h + 40, g->first_usable);
	vu_put_le64(h + 48, g->last_usable);
	put_guid(h + 56, DISK_GUID);
	vu_put_le64(h + 72, elba);
	vu_put_le32(h + 80, NUM_ENTRIES);
	vu_put_le32(h + 84, ENTRY_SIZE);
	rehash(d, g->ss, my);
}

/* Names as UTF-16 units: ASCII; Latin-1, a surrogate pair and an unpaired
 * low surrogate; 36 euro signs with no terminating NUL. */
static const uint16_t name1[] = { 'E', 'F', 'I', ' ', 's', 'y', 's', 0 };
static const uint16_t name2[] = { 'd', 0xfc, 0xd83d, 0xde00, 0xdc00, 'x', 0 };
static const char *const utf8_1 = "EFI sys";
static const char *const utf8_2 = "d\xc3\xbc\xf0\x9f\x98\x80\xef\xbf\xbdx";

static void put_entry(uint8_t *arr, unsigned slot, const char *type,
		      uint64_t first, uint64_t last, uint64_t attrs,
		      const uint16_t *name)
{
	uint8_t *e = arr + (slot - 1) * ENTRY_SIZE;
	char guid[40];

	put_guid(e, type);
	snprintf(guid, sizeof(guid), "00000000-0000-0000-0000-0000000000%02x",
		 slot);
	put_guid(e + 16, guid);
	vu_put_le64(e + 32, first);
	vu_put_le64(e + 40, last);
	vu_put_le64(e + 48, attrs);
	for (unsigned i = 0; i < 36; i++) {
		uint16_t u = name ? name[i] : 0x20ac;

		e[56 + 2 * i] = (uint8_t)u;
		e[57 + 2 * i] = (uint8_t)(u >> 8);
		if (name && !u)
			break;
	}
}

/* Partitions 1, 2 and 4 (3 empty), filling the usable area. */
static void build_gpt(uint8_t *d, const struct geo *g)
{
	uint8_t *arr = d + 2 * g->ss;
	uint64_t fu = g->first_usable;

	d[510] = 0x55, d[511] = 0xaa;
	d[446 + 4] = 0xee;
	vu_put_le32(d + 446 + 8, 1);
	vu_put_le32(d + 446 + 12, g->lbas - 1 > 0xffffffffu ?
					  0xffffffffu : (uint32_t)(g->lbas - 1));
	put_entry(arr, 1, TYPE_EFI, fu, fu + 9, 0, name1);
	put_entry(arr, 2, TYPE_BASIC, fu + 10, fu + 19, 1ull << 63, name2);
	put_entry(arr, 4, TYPE_LINUX, fu + 20, g->last_usable, 1, NULL);
	memcpy(d + g->backup_array * g->ss, arr, ARRAY_BYTES);
	write_header(d, g, 1, g->lbas - 1, 2);
	write_header(d, g, g->lbas - 1, 1, g->backup_array);
}

/* ---- mutations ---- */

typedef void mutate_fn(uint8_t *d, const struct geo *g);

static uint8_t *primary(uint8_t *d, const struct geo *g)
{
	return d + g->ss;
}

static uint8_t *backup(uint8_t *d, const struct geo *g)
{
	return d + (g->lbas - 1) * g->ss;
}

static void m_none(uint8_t *d, const struct geo *g)
{
}

static void m_no_pmbr(uint8_t *d, const struct geo *g)
{
	memset(d, 0, 512);
}

static void m_hybrid(uint8_t *d, const struct geo *g)
{
	d[462 + 4] = 0x07;
	vu_put_le32(d + 462 + 8, (uint32_t)g->first_usable);
	vu_put_le32(d + 462 + 12, 10);
}

static void m_pri_crc(uint8_t *d, const struct geo *g)
{
	primary(d, g)[60] ^= 1; /* disk GUID */
}

static void m_pri_entries(uint8_t *d, const struct geo *g)
{
	d[2 * g->ss + 60] ^= 0x40; /* inside entry 1's name */
}

static void m_pri_zero(uint8_t *d, const struct geo *g)
{
	memset(primary(d, g), 0, g->ss);
}

static void m_pri_revision(uint8_t *d, const struct geo *g)
{
	vu_put_le32(primary(d, g) + 8, 0x00020000);
	rehash_header(d, g->ss, 1);
}

static void m_pri_hsize_small(uint8_t *d, const struct geo *g)
{
	vu_put_le32(primary(d, g) + 12, 91);
	rehash_header(d, g->ss, 1);
}

static void m_pri_hsize_big(uint8_t *d, const struct geo *g)
{
	vu_put_le32(primary(d, g) + 12, g->ss + 1);
	rehash_header(d, g->ss, 1);
}

static void m_pri_hsize_sector(uint8_t *d, const struct geo *g)
{
	/* a header covering the whole sector is valid */
	vu_put_le32(primary(d, g) + 12, g->ss);
	rehash_header(d, g->ss, 1);
	vu_put_le32(primary(d, g) + 16, 0);
	vu_put_le32(primary(d, g) + 16, vu_crc32(0, primary(d, g), g->ss));
}

static void m_pri_my_lba(uint8_t *d, const struct geo *g)
{
	vu_put_le64(primary(d, g) + 24, 5);
	rehash_header(d, g->ss, 1);
}

static void m_pri_esize(uint8_t *d, const struct geo *g)
{
	vu_put_le32(primary(d, g) + 84, 100);
	rehash(d, g->ss, 1);
}

static void m_pri_nentries(uint8_t *d, const struct geo *g)
{
	vu_put_le32(primary(d, g) + 80, 40000);
	rehash_header(d, g->ss, 1);
}

static void m_pri_elba(uint8_t *d, const struct geo *g)
{
	vu_put_le64(primary(d, g) + 72, g->lbas - 2);
	rehash_header(d, g->ss, 1);
}

static void m_pri_usable(uint8_t *d, const struct geo *g)
{
	vu_put_le64(primary(d, g) + 40, g->last_usable + 1);
	rehash_header(d, g->ss, 1);
}

static void m_both_crc(uint8_t *d, const struct geo *g)
{
	m_pri_crc(d, g);
	backup(d, g)[60] ^= 1;
}

static void m_pri_crc_no_backup(uint8_t *d, const struct geo *g)
{
	m_pri_crc(d, g);
	memset(backup(d, g), 0, g->ss);
}

static void m_no_gpt(uint8_t *d, const struct geo *g)
{
	memset(primary(d, g), 0, g->ss);
	memset(backup(d, g), 0, g->ss);
}

static void m_stale_backup(uint8_t *d, const struct geo *g)
{
	memset(d, 0, 2 * g->ss);
}

static void m_mbr_and_stale_backup(uint8_t *d, const struct geo *g)
{
	m_stale_backup(d, g);
	d[510] = 0x55, d[511] = 0xaa;
	d[446 + 4] = 0x83;
	vu_put_le32(d + 446 + 8, 2);
	vu_put_le32(d + 446 + 12, 8);
}

/* Change entry slot in both arrays and fix both CRCs. */
static void set_both(uint8_t *d, const struct geo *g, unsigned slot,
		     unsigned field, uint64_t v)
{
	vu_put_le64(d + 2 * g->ss + (slot - 1) * ENTRY_SIZE + field, v);
	vu_put_le64(d + g->backup_array * g->ss + (slot - 1) * ENTRY_SIZE + field,
		 v);
	rehash(d, g->ss, 1);
	rehash(d, g->ss, g->lbas - 1);
}

static void m_past_end(uint8_t *d, const struct geo *g)
{
	set_both(d, g, 4, 40, g->lbas + 5);
}

static void m_outside_usable(uint8_t *d, const struct geo *g)
{
	set_both(d, g, 1, 32, g->first_usable - 1);
}

static void m_first_after_last(uint8_t *d, const struct geo *g)
{
	set_both(d, g, 2, 32, g->first_usable + 20);
}

static void m_overlap(uint8_t *d, const struct geo *g)
{
	set_both(d, g, 4, 32, g->first_usable + 19);
}

static void m_contained(uint8_t *d, const struct geo *g)
{
	set_both(d, g, 4, 32, g->first_usable + 2);
	set_both(d, g, 4, 40, g->first_usable + 3);
}

/* ---- cases ---- */

struct gpt_case {
	const char *name;
	uint32_t ss;	    /* the table's sector size */
	uint32_t disk_ss;   /* what the disk says */
	uint64_t extra;	    /* sectors appended after the table was made */
	mutate_fn *mutate;
	int ret;
	enum vu_table_type type;
	int used_backup;
	const char *msg;    /* error or warning substrings, '|' separated */
};

#define P "primary header at LBA 1 is damaged ("
#define UB "); using the backup header at LBA "
static const struct gpt_case cases[] = {
	{ "valid", 512, 512, 0, m_none, 0, VU_TABLE_GPT, 0, NULL },
	{ "no protective mbr", 512, 512, 0, m_no_pmbr, 0, VU_TABLE_GPT, 0,
	  NULL },
	{ "hybrid mbr", 512, 512, 0, m_hybrid, 0, VU_TABLE_GPT, 0, NULL },
	{ "primary crc", 512, 512, 0, m_pri_crc, 0, VU_TABLE_GPT, 1,
	  "mem:t: gpt: " P "CRC32 0x|, expected 0x|" UB "255" },
	{ "primary entries crc", 512, 512, 0, m_pri_entries, 0, VU_TABLE_GPT,
	  1, P "partition entry array at LBA 2: CRC32 0x" },
	{ "primary zeroed", 512, 512, 0, m_pri_zero, 0, VU_TABLE_GPT, 1,
	  P "no \"EFI PART\" signature" UB "255" },
	{ "primary revision", 512, 512, 0, m_pri_revision, 0, VU_TABLE_GPT, 1,
	  P "revision 0x00020000, expected 0x00010000" },
	{ "primary header size 91", 512, 512, 0, m_pri_hsize_small, 0,
	  VU_TABLE_GPT, 1, P "header size 91, expected 92..512" },
	{ "primary header size 513", 512, 512, 0, m_pri_hsize_big, 0,
	  VU_TABLE_GPT, 1, P "header size 513, expected 92..512" },
	{ "primary header size 512", 512, 512, 0, m_pri_hsize_sector, 0,
	  VU_TABLE_GPT, 0, NULL },
	{ "primary my lba", 512, 512, 0, m_pri_my_lba, 0, VU_TABLE_GPT, 1,
	  P "my LBA 5, expected 1" },
	{ "primary entry size", 512, 512, 0, m_pri_esize, 0, VU_TABLE_GPT, 1,
	  P "partition entry size 100, expected a multiple of 128" },
	{ "primary entry count", 512, 512, 0, m_pri_nentries, 0, VU_TABLE_GPT,
	  1, P "40000 partition entries of 128 bytes, expected at most 4194304" },
	{ "primary entry lba", 512, 512, 0, m_pri_elba, 0, VU_TABLE_GPT, 1,
	  P "partition entry array at LBA 254 (32 sectors) is not inside" },
	{ "primary usable", 512, 512, 0, m_pri_usable, 0, VU_TABLE_GPT, 1,
	  P "first usable LBA 223 is after the last usable LBA 222" },
	{ "both crc", 512, 512, 0, m_both_crc, -EUCLEAN, 0, 0,
	  "mem:t: gpt: primary header at LBA 1: CRC32 0x|; backup header at LBA 255: CRC32 0x" },
	{ "primary bad, no backup", 512, 512, 0, m_pri_crc_no_backup, -EUCLEAN,
	  0, 0,
	  "primary header at LBA 1: CRC32|backup header at LBA 255: no \"EFI PART\" signature" },
	{ "disk grown, primary bad", 512, 512, 40, m_pri_crc, 0, VU_TABLE_GPT,
	  1, UB "255" },
	{ "disk grown", 512, 512, 40, m_none, 0, VU_TABLE_GPT, 0, NULL },
	{ "protective, no gpt", 512, 512, 0, m_no_gpt, -EUCLEAN, 0, 0,
	  "gpt: protective MBR (type 0xee) but no complete \"EFI PART\" header" },
	{ "stale backup", 512, 512, 0, m_stale_backup, 0, VU_TABLE_NONE, 0,
	  NULL },
	{ "mbr and stale backup", 512, 512, 0, m_mbr_and_stale_backup, 0,
	  VU_TABLE_MBR, 0, NULL },
	{ "past end", 512, 512, 0, m_past_end, -EUCLEAN, 0, 0,
	  "gpt: partition 4: LBAs 54..261 are past the end of the disk (256 sectors of 512 bytes)" },
	{ "outside usable", 512, 512, 0, m_outside_usable, -EUCLEAN, 0, 0,
	  "gpt: partition 1: LBAs 33..43 are outside the usable LBAs 34..222" },
	{ "first after last", 512, 512, 0, m_first_after_last, -EUCLEAN, 0, 0,
	  "gpt: partition 2: first LBA 54 is after its last LBA 53" },
	{ "overlap", 512, 512, 0, m_overlap, -EUCLEAN, 0, 0,
	  "gpt: partitions 2 (LBAs 44..53) and 4 (LBAs 53..222) overlap" },
	{ "contained", 512, 512, 0, m_contained, -EUCLEAN, 0, 0,
	  "gpt: partitions 1 (LBAs 34..43) and 4 (LBAs 36..37) overlap" },
	/* 4096-byte sectors, on a disk that says 512 (found by trying) and
	 * on one that says 4096 */
	{ "4k", 4096, 512, 0, m_none, 0, VU_TABLE_GPT, 0, NULL },
	{ "4k native", 4096, 4096, 0, m_none, 0, VU_TABLE_GPT, 0, NULL },
	{ "4k no protective mbr", 4096, 512, 0, m_no_pmbr, 0, VU_TABLE_GPT, 0,
	  NULL },
	{ "4k primary crc", 4096, 512, 0, m_pri_crc, 0, VU_TABLE_GPT, 1,
	  P "CRC32 0x|" UB "63" },
	{ "4k primary zeroed", 4096, 512, 0, m_pri_zero, 0, VU_TABLE_GPT, 1,
	  UB "63" },
	{ "4k native primary entries", 4096, 4096, 0, m_pri_entries, 0,
	  VU_TABLE_GPT, 1, P "partition entry array at LBA 2: CRC32" },
	{ "4k both", 4096, 4096, 0, m_both_crc, -EUCLEAN, 0, 0,
	  "backup header at LBA 63: CRC32" },
	{ "4k overlap", 4096, 512, 0, m_overlap, -EUCLEAN, 0, 0,
	  "gpt: partitions 2 (LBAs 16..25) and 4 (LBAs 25..58) overlap" },
};
#undef P
#undef UB

static char logbuf[4096];

static void capture(enum vu_log_level level, const char *msg, void *arg)
{
	if (level == VU_LOG_WARN)
		snprintf(logbuf + strlen(logbuf), sizeof(logbuf) - strlen(logbuf),
			 "%s\n", msg);
}

static uint64_t case_lbas(const struct gpt_case *c)
{
	return c->ss == 512 ? 256 : 64;
}

static uint8_t *make_case(const struct gpt_case *c, size_t *len)
{
	struct geo g = geometry(c->ss, case_lbas(c));
	uint8_t *d;

	*len = (size_t)(g.lbas + c->extra) * c->ss;
	d = calloc(1, *len);
	assert_non_null(d);
	build_gpt(d, &g);
	c->mutate(d, &g);
	return d;
}

static void check_parts(const struct vu_ptable *t, const struct geo *g)
{
	static const struct {
		unsigned slot;
		const char *type;
		uint64_t first_off, attrs;
	} want[] = {
		{ 1, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", 0, 0 },
		{ 2, "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", 10, 1ull << 63 },
		{ 4, "0fc63daf-8483-4772-8e79-3d69d8477de4", 20, 1 },
	};
	char euros[109] = "";
	char s[VU_GUID_STRLEN];

	for (int i = 0; i < 36; i++)
		strcat(euros, "\xe2\x82\xac");
	assert_int_equal(t->count, 3);
	assert_int_equal(t->sector_size, g->ss);
	assert_int_equal(t->first_usable_lba, g->first_usable);
	assert_int_equal(t->last_usable_lba, g->last_usable);
	vu_guid_format(t->disk_guid, s);
	assert_string_equal(s, DISK_GUID);
	for (size_t i = 0; i < 3; i++) {
		const struct vu_part *p = &t->parts[i];
		uint64_t first = g->first_usable + want[i].first_off;
		uint64_t last = i < 2 ? first + 9 : g->last_usable;

		assert_int_equal(p->slot, want[i].slot);
		assert_int_equal(p->start, first * g->ss);
		assert_int_equal(p->size, (last - first + 1) * g->ss);
		vu_guid_format(p->type_guid, s);
		assert_string_equal(s, want[i].type);
		vu_guid_format(p->part_guid, s);
		assert_int_equal(strtoul(s + 24, NULL, 16), want[i].slot);
		assert_int_equal(p->attributes, want[i].attrs);
		assert_int_equal(p->mbr_type, 0);
		assert_int_equal(p->logical, 0);
	}
	assert_string_equal(t->parts[0].name, utf8_1);
	assert_string_equal(t->parts[1].name, utf8_2);
	assert_string_equal(t->parts[2].name, euros);
}

static void check_case(const struct gpt_case *c)
{
	struct geo g = geometry(c->ss, case_lbas(c));
	struct vu_ptable t;
	size_t len;
	uint8_t *d = make_case(c, &len);
	int r;

	logbuf[0] = '\0';
	r = ut_parse_buf(d, len, c->disk_ss, &t);
	if (ut_case_failed(c->name, r, c->ret, &t, c->msg)) {
		free(d);
		return;
	}
	assert_int_equal(t.type, c->type);
	if (c->type == VU_TABLE_GPT) {
		check_parts(&t, &g);
		assert_int_equal(t.used_backup, c->used_backup);
		if (c->used_backup)
			ut_assert_has(logbuf, c->msg);
		else
			assert_string_equal(logbuf, "");
	}
	vu_ptable_free(&t);
	free(d);
}

static void test_cases(void **state)
{
	vu_log_set_sink(capture, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
	vu_log_set_sink(NULL, NULL);
}

/* vu_gpt_parse itself: -ENOENT without a GPT, -EINVAL for a bad sector
 * size, explicit sector sizes. */
static void test_gpt_parse_direct(void **state)
{
	struct geo g = geometry(4096, 64);
	size_t len = 64 * 4096;
	uint8_t *d = calloc(1, len);
	struct vu_blk *disk;
	struct vu_ptable t;

	assert_non_null(d);
	assert_int_equal(vu_mem_open(d, len, "t", &disk), 0);
	assert_int_equal(vu_gpt_parse(disk, 512, &t), -ENOENT);
	assert_int_equal(vu_gpt_parse(disk, 1000, &t), -EINVAL);
	assert_int_equal(vu_gpt_parse(disk, 256, &t), -EINVAL);
	build_gpt(d, &g);
	assert_int_equal(vu_gpt_parse(disk, 512, &t), -ENOENT);
	assert_int_equal(vu_gpt_parse(disk, 4096, &t), 0);
	check_parts(&t, &g);
	vu_ptable_free(&t);
	assert_int_equal(vu_gpt_parse(NULL, 4096, &t), -EINVAL);
	vu_blk_unref(disk);
	free(d);
}

static void test_truncated(void **state)
{
	for (uint32_t ss = 512; ss <= 4096; ss *= 8) {
		struct geo g = geometry(ss, ss == 512 ? 256 : 64);
		size_t full = (size_t)g.lbas * ss;
		uint8_t *d = calloc(1, full);
		struct vu_ptable t;

		assert_non_null(d);
		build_gpt(d, &g);
		for (size_t len = 0; len <= full; len++) {
			if (len > 3 * 4096 + 2 && len % 512 > 1 &&
			    len % 512 != 511 && full - len > 2 * 4096)
				continue;
			int r = ut_parse_buf(d, len, 512, &t);

			if (r < 0 && r != -EUCLEAN)
				fail_msg("length %zu: %d %s", len, r, vu_errmsg(r));
			ut_check_sane(r, &t, len);
			/* the backup is only read when the primary is bad */
			if (len < (g.last_usable + 1) * ss)
				assert_int_not_equal(t.type, VU_TABLE_GPT);
			else if (t.type != VU_TABLE_GPT)
				fail_msg("length %zu: %d %s", len, r, vu_errmsg(r));
			else
				check_parts(&t, &g);
			vu_ptable_free(&t);
		}
		free(d);
	}
}

/* A flipped bit in the primary header, its array or the protective MBR
 * never loses the table: the backup is intact.  Flips in the backup are
 * not even read. */
static void test_bitflips(void **state)
{
	struct geo g = geometry(512, 256);
	size_t len = (size_t)g.lbas * 512;
	uint8_t *d = calloc(1, len);
	const struct {
		size_t off, n;
		int keeps;
	} areas[] = {
		{ 446, 16, 1 },		    /* protective entry */
		{ 510, 2, 1 },		    /* MBR signature */
		{ 512, 92, 1 },		    /* primary header */
		{ 1024, 3 * 128, 1 },	    /* primary entries 1..3 */
		{ 255 * 512, 92, 1 },	    /* backup header */
		{ 223 * 512, 2 * 128, 1 },  /* backup entries */
	};
	struct vu_ptable t;

	assert_non_null(d);
	build_gpt(d, &g);
	for (size_t a = 0; a < sizeof(areas) / sizeof(areas[0]); a++) {
		for (size_t bit = 0; bit < areas[a].n * 8; bit++) {
			size_t at = areas[a].off + bit / 8;
			int r;

			d[at] ^= (uint8_t)(1u << (bit % 8));
			r = ut_parse_buf(d, len, 512, &t);
			ut_check_sane(r, &t, len);
			assert_int_equal(r, 0);
			check_parts(&t, &g);
			vu_ptable_free(&t);
			d[at] ^= (uint8_t)(1u << (bit % 8));
		}
	}
	/* both copies hit: never a crash, sane or an error */
	for (size_t bit = 0; bit < 92 * 8; bit += 3) {
		struct vu_blk *disk;
		int r;

		d[512 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
		d[255 * 512 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
		r = ut_parse_buf(d, len, 512, &t);
		ut_check_sane(r, &t, len);
		vu_ptable_free(&t);
		assert_int_equal(vu_mem_open(d, len, "t", &disk), 0);
		r = vu_gpt_parse(disk, 4096, &t);
		ut_check_sane(r == -ENOENT ? -EUCLEAN : r, &t, len);
		vu_ptable_free(&t);
		vu_blk_unref(disk);
		d[512 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
		d[255 * 512 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	memset(d, 0, len);
	assert_int_equal(ut_parse_buf(d, len, 512, &t), 0);
	assert_int_equal(t.type, VU_TABLE_NONE);
	memset(d, 0xff, len);
	assert_int_equal(ut_parse_buf(d, len, 512, &t), 0);
	assert_int_equal(t.type, VU_TABLE_NONE);
	free(d);
}

static void test_read_faults(void **state)
{
	const struct gpt_case *pri_bad = &cases[3];

	assert_ptr_equal(pri_bad->mutate, m_pri_crc);
	for (int which = 0; which < 2; which++) {
		size_t len;
		uint8_t *d = make_case(which ? pri_bad : &cases[0], &len);

		ut_read_faults(d, len, 512, 3, which);
		free(d);
	}
}

static void test_type_names(void **state)
{
	static const struct {
		const char *guid, *name;
	} want[] = {
		{ "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "EFI System" },
		{ "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", "Microsoft basic data" },
		{ "e3c9e316-0b5c-4db8-817d-f92df00215ae", "Microsoft reserved" },
		{ "de94bba4-06d1-4d40-a16a-bfd50179d6ac",
		  "Windows recovery environment" },
		{ "0fc63daf-8483-4772-8e79-3d69d8477de4", "Linux filesystem" },
		{ "e6d6d379-f507-44c2-a23c-238f2a3df928", "Linux LVM" },
		{ "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", "Linux swap" },
		{ "a19d880f-05fc-4d3b-a006-743f0f84911e", "Linux RAID" },
		{ "bc13c2ff-59e6-4262-a352-b275fd6f7172",
		  "Linux extended boot (XBOOTLDR)" },
		{ "21686148-6449-6e6f-744e-656564454649", "BIOS boot" },
		{ "4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "Linux root (x86-64)" },
		{ "ca7d7ccb-63ed-4c53-861c-1742536059cc", "Linux LUKS" },
		{ "00000000-0000-0000-0000-000000000001", NULL },
	};
	uint8_t g[16];

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *n;

		assert_int_equal(vu_guid_parse(want[i].guid, g), 0);
		n = vu_gpt_type_name(g);
		if (want[i].name)
			assert_string_equal(n, want[i].name);
		else
			assert_null(n);
	}
}

/* ---- tables written by real tools ---- */

static void assert_guid_ci(const uint8_t g[16], const char *s)
{
	char ours[VU_GUID_STRLEN];

	vu_guid_format(g, ours);
	if (strcasecmp(ours, s) != 0)
		fail_msg("GUID %s, tool says %s", ours, s);
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
		       json_object_get_string(v) : NULL;
}

/* sfdisk --json and sgdisk -i against our parse. */
static void compare_tools(const char *img, const struct vu_ptable *t)
{
	struct json_object *root, *pt, *parts, *v;
	char line[256], cmd[512];

	root = ut_sfdisk_json(img, &pt);
	assert_string_equal(jstr(pt, "label"), "gpt");
	assert_guid_ci(t->disk_guid, jstr(pt, "id"));
	assert_true(json_object_object_get_ex(pt, "firstlba", &v));
	assert_int_equal(t->first_usable_lba, json_object_get_int64(v));
	assert_true(json_object_object_get_ex(pt, "lastlba", &v));
	assert_int_equal(t->last_usable_lba, json_object_get_int64(v));
	assert_true(json_object_object_get_ex(pt, "partitions", &parts));
	assert_int_equal(json_object_array_length(parts), t->count);
	for (size_t i = 0; i < t->count; i++) {
		struct json_object *jp = json_object_array_get_idx(parts, i);
		unsigned slot = ut_node_slot(jstr(jp, "node"));
		const struct vu_part *p = ut_find_slot(t, slot);

		assert_non_null(p);
		ut_assert_sfdisk_extent(p, jp);
		assert_guid_ci(p->type_guid, jstr(jp, "type"));
		assert_guid_ci(p->part_guid, jstr(jp, "uuid"));
		assert_string_equal(p->name, jstr(jp, "name") ? jstr(jp, "name") : "");

		snprintf(cmd, sizeof(cmd),
			 "sgdisk -i %u %s | sed -n 's/^Attribute flags: //p'",
			 slot, img);
		ut_sh_line(line, sizeof(line), cmd);
		assert_int_equal(p->attributes, strtoull(line, NULL, 16));
		snprintf(cmd, sizeof(cmd),
			 "sgdisk -i %u %s | sed -n 's/^Partition name: .\\(.*\\).$/\\1/p'",
			 slot, img);
		ut_sh_line(line, sizeof(line), cmd);
		assert_string_equal(p->name, line);
	}
	json_object_put(root);
}

static void test_sgdisk(void **state)
{
	struct vu_ptable t;
	char line[64];
	uint64_t size;

	ut_need("sgdisk", "gdisk");
	ut_need("sfdisk", "util-linux");
	assert_int_equal(ut_sh("truncate -s 4M g.img && sgdisk -o -a 1 "
			    "-n 1:34:2081 -t 1:ef00 -c 1:'EFI system' "
			    "-n 2:2082:+1M -t 2:0700 -c 2:'Basic data' -A 2:set:0 "
			    "-A 2:set:63 "
			    "-n 4:0:+512K -t 4:8300 -c 4:'Linux fs \xc3\xbc' "
			    "-n 5:0:+16K -t 5:ea00 "
			    "g.img >/dev/null"),
			 0);
	assert_int_equal(ut_file_table("g.img", 0, &t), 0);
	assert_int_equal(t.type, VU_TABLE_GPT);
	assert_int_equal(t.count, 4);
	assert_int_equal(t.used_backup, 0);
	assert_int_equal(t.parts[2].slot, 4);
	assert_string_equal(vu_gpt_type_name(t.parts[0].type_guid),
			    "EFI System");
	assert_string_equal(vu_gpt_type_name(t.parts[3].type_guid),
			    "Linux extended boot (XBOOTLDR)");
	compare_tools("g.img", &t);
	vu_ptable_free(&t);

	/* primary entry-array CRC field zeroed: the backup is read */
	assert_int_equal(ut_sh("dd if=/dev/zero of=g.img bs=1 seek=600 count=4 "
			    "conv=notrunc 2>/dev/null"),
			 0);
	assert_int_equal(ut_file_table("g.img", 0, &t), 0);
	assert_int_equal(t.used_backup, 1);
	assert_int_equal(t.count, 4);
	vu_ptable_free(&t);
	ut_sh_line(line, sizeof(line), "stat -c %s g.img");
	size = strtoull(line, NULL, 10);
	/* and the backup header too: corrupt */
	assert_int_equal(ut_sh("dd if=/dev/zero of=g.img bs=1 seek=%llu count=4 "
			    "conv=notrunc 2>/dev/null",
			    (unsigned long long)(size - 512 + 24)),
			 0);
	assert_int_equal(ut_sh("dd if=/dev/zero of=g.img bs=1 seek=600 count=4 "
			    "conv=notrunc 2>/dev/null"),
			 0);
	assert_int_equal(ut_file_table("g.img", 0, &t), -EUCLEAN);
	ut_assert_has(vu_errmsg(-EUCLEAN),
		      "gpt: primary header at LBA 1: CRC32");
	ut_assert_has(vu_errmsg(-EUCLEAN), "backup header at LBA 8191");
}

/* fdisk -b 4096 writes a GPT with 4096-byte sectors into a file. */
static void test_fdisk_4k(void **state)
{
	struct vu_ptable t;
	char line[512], dev[64], type[64], uuid[64];
	unsigned long long start, end;
	unsigned slot = 0;
	FILE *f;

	ut_need("fdisk", "fdisk");
	assert_int_equal(ut_sh("truncate -s 4M k.img && printf 'g\\nn\\n1\\n\\n+100\\n"
			    "n\\n3\\n\\n+200\\nw\\n' | fdisk -b 4096 k.img "
			    ">/dev/null 2>&1"),
			 0);
	/* a disk that says 512: found by trying 4096 */
	assert_int_equal(ut_file_table("k.img", 0, &t), 0);
	assert_int_equal(t.type, VU_TABLE_GPT);
	assert_int_equal(t.sector_size, 4096);
	assert_int_equal(t.count, 2);
	snprintf(line, sizeof(line),
		 "cd '%s' && fdisk -b 4096 -l -o Device,Start,End,Type-UUID,UUID k.img "
		 "| sed -n '/^k.img/p'", ut_tmpdir);
	f = popen(line, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		const struct vu_part *p;

		assert_int_equal(sscanf(line, "%63s %llu %llu %63s %63s", dev,
					&start, &end, type, uuid),
				 5);
		p = ut_find_slot(&t, ut_node_slot(dev));
		assert_non_null(p);
		assert_int_equal(p->start, start * 4096);
		assert_int_equal(p->size, (end - start + 1) * 4096);
		assert_guid_ci(p->type_guid, type);
		assert_guid_ci(p->part_guid, uuid);
		slot++;
	}
	pclose(f);
	assert_int_equal(slot, 2);
	vu_ptable_free(&t);
	/* and a disk that says 4096 */
	assert_int_equal(ut_file_table("k.img", 4096, &t), 0);
	assert_int_equal(t.count, 2);
	vu_ptable_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_gpt_parse_direct),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bitflips),
		cmocka_unit_test(test_read_faults),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_sgdisk),
		cmocka_unit_test(test_fdisk_4k),
	};

	vu_log_set_sink(NULL, NULL);
	return cmocka_run_group_tests(tests, ut_tmp_group_setup,
				      ut_tmp_group_teardown);
}
