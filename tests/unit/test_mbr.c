/* MBR parser and table dispatcher: synthetic tables built here, boot
 * sectors that are not tables, damaged chains, every truncation, bit flips,
 * read faults, and tables written by sfdisk / file systems written by
 * mkfs.fat and mkntfs, checked against sfdisk --json. */
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
#include "core/log.h"
#include "partition/partition.h"

#define SS 512u
#define DISK_LBAS 4096u /* 2 MiB */

/* ---- builders ---- */

static void put_entry(uint8_t *sector, unsigned i, uint8_t boot, uint8_t type,
		      uint32_t start, uint32_t size)
{
	uint8_t *e = sector + 446 + 16 * i;

	e[0] = boot;
	e[4] = type;
	vu_put_le32(e + 8, start);
	vu_put_le32(e + 12, size);
}

static void put_magic(uint8_t *sector)
{
	sector[510] = 0x55;
	sector[511] = 0xaa;
}

static uint8_t *sec(uint8_t *disk, uint64_t lba)
{
	return disk + lba * SS;
}

/* p1 Linux (bootable), p2 empty, p3 NTFS, p4 empty. */
static void build_primary(uint8_t *d)
{
	put_magic(d);
	vu_put_le32(d + 440, 0x12345678);
	put_entry(d, 0, 0x80, 0x83, 64, 64);
	put_entry(d, 2, 0x00, 0x07, 256, 1024);
}

/* p1 Linux, p2 extended at 1024 (2048 sectors) holding p5..p7. */
#define EXT_START 1024u
#define EXT_SIZE 2048u
static void build_extended(uint8_t *d)
{
	put_magic(d);
	put_entry(d, 0, 0x00, 0x83, 64, 64);
	put_entry(d, 1, 0x00, 0x05, EXT_START, EXT_SIZE);
	/* EBR 1 at 1024: logical at +64, link to EBR at ext+256 */
	put_magic(sec(d, EXT_START));
	put_entry(sec(d, EXT_START), 0, 0, 0x07, 64, 100);
	put_entry(sec(d, EXT_START), 1, 0, 0x05, 256, 300);
	/* EBR 2 at 1280: logical at +32, link to EBR at ext+768 */
	put_magic(sec(d, EXT_START + 256));
	put_entry(sec(d, EXT_START + 256), 0, 0x80, 0x83, 32, 50);
	put_entry(sec(d, EXT_START + 256), 1, 0, 0x05, 768, 100);
	/* EBR 3 at 1792: logical at +16, end of chain */
	put_magic(sec(d, EXT_START + 768));
	put_entry(sec(d, EXT_START + 768), 0, 0, 0x82, 16, 20);
}

static void build_ebr_loop(uint8_t *d)
{
	build_extended(d);
	put_entry(sec(d, EXT_START + 768), 1, 0, 0x05, 256, 100);
}

static void build_ebr_self_loop(uint8_t *d)
{
	build_extended(d);
	put_entry(sec(d, EXT_START), 1, 0, 0x0f, 0, 100);
}

static void build_ebr_outside(uint8_t *d)
{
	build_extended(d);
	put_entry(sec(d, EXT_START + 256), 1, 0, 0x05, EXT_SIZE + 10, 100);
}

static void build_logical_outside(uint8_t *d)
{
	build_extended(d);
	put_entry(sec(d, EXT_START + 768), 0, 0, 0x82, 16, EXT_SIZE);
}

static void build_ebr_no_magic(uint8_t *d)
{
	build_extended(d);
	memset(sec(d, EXT_START + 256) + 510, 0, 2);
}

/* 130 EBRs, one per 8 sectors, each with a one-sector logical. */
static void build_long_chain(uint8_t *d)
{
	put_magic(d);
	put_entry(d, 0, 0, 0x85, 8, 8 * 140);
	for (unsigned i = 0; i < 135; i++) {
		uint8_t *e = sec(d, 8 + 8 * i);

		put_magic(e);
		put_entry(e, 0, 0, 0x83, 1, 1);
		put_entry(e, 1, 0, 0x05, 8 * (i + 1), 8);
	}
}

/* Extended partition whose first EBR is blank: no logicals. */
static void build_empty_extended(uint8_t *d)
{
	put_magic(d);
	put_entry(d, 3, 0, 0x0f, 100, 200);
}

static void build_past_end(uint8_t *d)
{
	build_primary(d);
	put_entry(d, 1, 0, 0x83, DISK_LBAS - 10, 11);
}

static void build_start_zero(uint8_t *d)
{
	build_primary(d);
	put_entry(d, 3, 0, 0x83, 0, 10);
}

static void build_empty_mbr(uint8_t *d)
{
	put_magic(d);
}

static void build_no_magic(uint8_t *d)
{
	build_primary(d);
	d[510] = 0;
}

static void build_protective_only(uint8_t *d)
{
	put_magic(d);
	put_entry(d, 0, 0, 0xee, 1, DISK_LBAS - 1);
}

/* Boot sector with "entries" that would be errors if it were an MBR. */
static void garbage_entries(uint8_t *d)
{
	put_entry(d, 0, 0x00, 0x07, 0, 0xffffffffu);
	put_entry(d, 1, 0x00, 0x83, DISK_LBAS * 2, 100);
	put_magic(d);
}

static void build_ntfs(uint8_t *d)
{
	d[0] = 0xeb, d[1] = 0x52, d[2] = 0x90;
	memcpy(d + 3, "NTFS    ", 8);
	vu_put_le32(d + 11, 0x00080200); /* 512 bytes, 8 sectors/cluster */
	garbage_entries(d);
}

static void fat_bpb(uint8_t *d, const char *oem, unsigned bps, unsigned spc)
{
	d[0] = 0xeb, d[1] = 0x58, d[2] = 0x90;
	memcpy(d + 3, oem, 8);
	d[11] = (uint8_t)bps, d[12] = (uint8_t)(bps >> 8);
	d[13] = (uint8_t)spc;
	d[14] = 32; /* reserved sectors */
	d[16] = 2;  /* FATs */
	d[21] = 0xf8;
	garbage_entries(d);
}

static void build_fat32(uint8_t *d)
{
	fat_bpb(d, "mkfs.fat", 512, 8);
	memcpy(d + 82, "FAT32   ", 8);
}

static void build_fat16_4k(uint8_t *d)
{
	fat_bpb(d, "MSDOS5.0", 4096, 1);
	d[0] = 0xe9, d[2] = 0x00;
}

static void build_bitlocker(uint8_t *d)
{
	d[0] = 0xeb, d[1] = 0x58, d[2] = 0x90;
	memcpy(d + 3, "-FVE-FS-", 8);
	garbage_entries(d);
}

static void build_bitlocker_to_go(uint8_t *d)
{
	fat_bpb(d, "MSWIN4.1", 512, 8);
}

static void build_exfat(uint8_t *d)
{
	d[0] = 0xeb, d[1] = 0x76, d[2] = 0x90;
	memcpy(d + 3, "EXFAT   ", 8);
	garbage_entries(d);
}

/* Not a known boot sector, but its boot flags are not 0x00/0x80. */
static void build_unknown_boot(uint8_t *d)
{
	for (unsigned i = 0; i < 510; i++)
		d[i] = (uint8_t)(i * 7 + 3);
	put_magic(d);
}

/* A FAT BPB with a bad bytes-per-sector is not FAT; its entries decide. */
static void build_fake_fat_valid_entries(uint8_t *d)
{
	fat_bpb(d, "GRUB    ", 0, 8);
	memset(d + 446, 0, 64);
	put_entry(d, 0, 0x80, 0x83, 2048, 1024);
}

/* ---- table-driven cases ---- */

struct want_part {
	unsigned slot;
	uint64_t start_lba, lbas;
	uint8_t type;
	int bootable, logical;
};

struct mbr_case {
	const char *name;
	void (*build)(uint8_t *d);
	int ret;
	enum vu_table_type type;
	const char *msg; /* substrings the error must contain, '|' separated */
	size_t count;
	struct want_part parts[8];
};

static const struct mbr_case cases[] = {
	{ "primary", build_primary, 0, VU_TABLE_MBR, NULL, 2,
	  { { 1, 64, 64, 0x83, 1, 0 }, { 3, 256, 1024, 0x07, 0, 0 } } },
	{ "extended", build_extended, 0, VU_TABLE_MBR, NULL, 4,
	  { { 1, 64, 64, 0x83, 0, 0 },
	    { 5, EXT_START + 64, 100, 0x07, 0, 1 },
	    { 6, EXT_START + 256 + 32, 50, 0x83, 1, 1 },
	    { 7, EXT_START + 768 + 16, 20, 0x82, 0, 1 } } },
	{ "empty extended", build_empty_extended, 0, VU_TABLE_MBR, NULL, 0,
	  { { 0 } } },
	{ "ebr loop", build_ebr_loop, -EUCLEAN, 0,
	  "mbr: EBR chain of extended partition 2 loops back|LBA 1280", 0,
	  { { 0 } } },
	{ "ebr self loop", build_ebr_self_loop, -EUCLEAN, 0,
	  "loops back to the EBR at LBA 1024", 0, { { 0 } } },
	{ "ebr outside", build_ebr_outside, -EUCLEAN, 0,
	  "EBR at LBA 3082 is outside the extended partition 2 (LBAs 1024..3071)",
	  0, { { 0 } } },
	{ "logical outside", build_logical_outside, -EUCLEAN, 0,
	  "partition 7 (EBR at LBA 1792)|outside the extended partition 2", 0,
	  { { 0 } } },
	{ "ebr without signature", build_ebr_no_magic, -EUCLEAN, 0,
	  "EBR at LBA 1280: signature 0x0000 at offset 510, expected 0xaa55", 0,
	  { { 0 } } },
	{ "chain too long", build_long_chain, -EUCLEAN, 0,
	  "more than 128 logical partitions", 0, { { 0 } } },
	{ "past end", build_past_end, -EUCLEAN, 0,
	  "mbr: partition 2 (entry at offset 462): LBAs 4086..4096 are past the end of the disk (4096 sectors",
	  0, { { 0 } } },
	{ "start zero", build_start_zero, -EUCLEAN, 0,
	  "partition 4 (entry at offset 494): starts at LBA 0", 0, { { 0 } } },
	{ "empty mbr", build_empty_mbr, 0, VU_TABLE_MBR, NULL, 0, { { 0 } } },
	{ "no signature", build_no_magic, 0, VU_TABLE_NONE, NULL, 0, { { 0 } } },
	{ "protective without gpt", build_protective_only, -EUCLEAN, 0,
	  "gpt: protective MBR", 0, { { 0 } } },
	{ "ntfs", build_ntfs, 0, VU_TABLE_NONE, NULL, 0, { { 0 } } },
	{ "fat32", build_fat32, 0, VU_TABLE_NONE, NULL, 0, { { 0 } } },
	{ "fat16 4k", build_fat16_4k, 0, VU_TABLE_NONE, NULL, 0, { { 0 } } },
	{ "bitlocker", build_bitlocker, 0, VU_TABLE_NONE, NULL, 0, { { 0 } } },
	{ "bitlocker to go", build_bitlocker_to_go, 0, VU_TABLE_NONE, NULL, 0,
	  { { 0 } } },
	{ "exfat", build_exfat, 0, VU_TABLE_NONE, NULL, 0, { { 0 } } },
	{ "unknown boot sector", build_unknown_boot, 0, VU_TABLE_NONE, NULL, 0,
	  { { 0 } } },
	{ "not fat, real entries", build_fake_fat_valid_entries, 0,
	  VU_TABLE_MBR, NULL, 1, { { 1, 2048, 1024, 0x83, 1, 0 } } },
};

static uint8_t *new_disk(void)
{
	uint8_t *d = calloc(DISK_LBAS, SS);

	assert_non_null(d);
	return d;
}

static void check_case(const struct mbr_case *c, uint32_t ss)
{
	uint8_t *d = calloc(DISK_LBAS, ss);
	struct vu_ptable t;
	int r;

	assert_non_null(d);
	/* Build with 512-byte sectors, then spread the LBAs when the case
	 * runs on a 4096-byte-sector disk: same table, bigger units. */
	if (ss == SS) {
		c->build(d);
	} else {
		uint8_t *tmp = new_disk();

		c->build(tmp);
		for (unsigned l = 0; l < DISK_LBAS; l++)
			memcpy(d + (size_t)l * ss, tmp + (size_t)l * SS, SS);
		free(tmp);
	}
	r = ut_parse_buf(d, (size_t)DISK_LBAS * ss, ss, &t);
	if (ut_case_failed(c->name, r, c->ret, &t,
			   ss == SS ? c->msg : NULL)) {
		free(d);
		return;
	}
	assert_int_equal(t.type, c->type);
	assert_int_equal(t.count, c->count);
	assert_int_equal(t.sector_size, ss);
	for (size_t i = 0; i < c->count; i++) {
		const struct want_part *w = &c->parts[i];
		const struct vu_part *p = &t.parts[i];

		assert_int_equal(p->slot, w->slot);
		assert_int_equal(p->start, w->start_lba * ss);
		assert_int_equal(p->size, w->lbas * ss);
		assert_int_equal(p->mbr_type, w->type);
		assert_int_equal(p->bootable, w->bootable);
		assert_int_equal(p->logical, w->logical);
	}
	if (c->build == build_primary)
		assert_int_equal(t.disk_signature, 0x12345678);
	vu_ptable_free(&t);
	assert_null(t.parts);
	free(d);
}

static void test_cases(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i], SS);
}

static void test_cases_4k(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i], 4096);
}

/* vu_mbr_parse alone: -ENOENT for what is not an MBR. */
static void test_mbr_parse_enoent(void **state)
{
	void (*not_mbr[])(uint8_t *) = { build_ntfs, build_fat32,
					 build_bitlocker, build_exfat,
					 build_no_magic, build_protective_only };
	struct vu_ptable t;
	struct vu_blk *disk;

	for (size_t i = 0; i < sizeof(not_mbr) / sizeof(not_mbr[0]); i++) {
		uint8_t *d = new_disk();

		not_mbr[i](d);
		assert_int_equal(vu_mem_open(d, DISK_LBAS * SS, "t", &disk), 0);
		assert_int_equal(vu_mbr_parse(disk, &t), -ENOENT);
		assert_int_equal(t.count, 0);
		vu_blk_unref(disk);
		free(d);
	}
	assert_int_equal(vu_mbr_parse(NULL, &t), -EINVAL);
}

static void test_truncated(void **state)
{
	uint8_t *d = new_disk();
	struct vu_ptable t;

	build_extended(d);
	for (size_t len = 0; len <= DISK_LBAS * SS; len++) {
		/* every length near a structure, sector steps elsewhere */
		if (len > 1100 && len % SS != 0 && len % SS != 1 &&
		    len % SS != SS - 1)
			continue;
		int r = ut_parse_buf(d, len, SS, &t);

		ut_check_sane(r, &t, len);
		if (len < 512)
			assert_int_equal(t.type, VU_TABLE_NONE);
		if (len >= 512 && len < (EXT_START + EXT_SIZE) * SS)
			assert_int_equal(r, -EUCLEAN);
		vu_ptable_free(&t);
	}
	free(d);
}

static void test_bitflips(void **state)
{
	const uint64_t sectors[] = { 0, EXT_START, EXT_START + 256,
				     EXT_START + 768 };
	uint8_t *d = new_disk();
	struct vu_ptable t;

	build_extended(d);
	for (size_t s = 0; s < 4; s++) {
		for (size_t bit = 0; bit < SS * 8; bit++) {
			size_t at = sectors[s] * SS + bit / 8;
			int r;

			d[at] ^= (uint8_t)(1u << (bit % 8));
			r = ut_parse_buf(d, DISK_LBAS * SS, SS, &t);
			ut_check_sane(r, &t, DISK_LBAS * SS);
			vu_ptable_free(&t);
			d[at] ^= (uint8_t)(1u << (bit % 8));
		}
	}
	/* zeroed and 0xff-filled */
	memset(d, 0, DISK_LBAS * SS);
	assert_int_equal(ut_parse_buf(d, DISK_LBAS * SS, SS, &t), 0);
	assert_int_equal(t.type, VU_TABLE_NONE);
	memset(d, 0xff, DISK_LBAS * SS);
	assert_int_equal(ut_parse_buf(d, DISK_LBAS * SS, SS, &t), 0);
	assert_int_equal(t.type, VU_TABLE_NONE);
	free(d);
}

static void test_read_faults(void **state)
{
	uint8_t *d = new_disk();

	build_extended(d);
	ut_read_faults(d, DISK_LBAS * SS, SS, 4, 0);
	free(d);
}

static void test_type_names(void **state)
{
	assert_string_equal(vu_mbr_type_name(0x83), "Linux");
	assert_string_equal(vu_mbr_type_name(0x07), "HPFS/NTFS/exFAT");
	assert_string_equal(vu_mbr_type_name(0x0c), "W95 FAT32 (LBA)");
	assert_string_equal(vu_mbr_type_name(0x8e), "Linux LVM");
	assert_string_equal(vu_mbr_type_name(0x82), "Linux swap");
	assert_string_equal(vu_mbr_type_name(0xef), "EFI System");
	assert_string_equal(vu_mbr_type_name(0x27),
			    "Windows recovery environment");
	assert_non_null(vu_mbr_type_name(0x05));
	assert_non_null(vu_mbr_type_name(0x0f));
	assert_null(vu_mbr_type_name(0x00));
	assert_null(vu_mbr_type_name(0x99));
}

/* ---- tables and boot sectors written by real tools ---- */

/* Compare our parse with sfdisk --json; the extended container, which
 * holds no volume, is the one sfdisk entry we do not list. */
static void compare_sfdisk(const char *img, const struct vu_ptable *t)
{
	struct json_object *root, *pt, *parts, *v;
	size_t seen = 0;

	root = ut_sfdisk_json(img, &pt);
	assert_true(json_object_object_get_ex(pt, "id", &v));
	assert_int_equal(strtoul(json_object_get_string(v), NULL, 16),
			 t->disk_signature);
	assert_true(json_object_object_get_ex(pt, "partitions", &parts));
	for (size_t i = 0; i < json_object_array_length(parts); i++) {
		struct json_object *jp = json_object_array_get_idx(parts, i);
		const struct vu_part *p;
		unsigned type;

		assert_true(json_object_object_get_ex(jp, "node", &v));
		p = ut_find_slot(t, ut_node_slot(json_object_get_string(v)));
		assert_true(json_object_object_get_ex(jp, "type", &v));
		type = (unsigned)strtoul(json_object_get_string(v), NULL, 16);
		if (type == 0x05 || type == 0x0f || type == 0x85) {
			assert_null(p);
			continue;
		}
		assert_non_null(p);
		seen++;
		assert_int_equal(p->mbr_type, type);
		ut_assert_sfdisk_extent(p, jp);
		assert_int_equal(p->bootable,
				 json_object_object_get_ex(jp, "bootable", &v) &&
					 json_object_get_boolean(v));
		assert_int_equal(p->logical, p->slot >= 5);
	}
	assert_int_equal(seen, t->count);
	json_object_put(root);
}

static void test_sfdisk(void **state)
{
	struct vu_ptable t;

	ut_need("sfdisk", "util-linux");
	/* p1 bootable, p2 extended with three logicals, p3 after it */
	assert_int_equal(ut_sh("truncate -s 8M m.img && printf '%%s\\n' "
			    "'label: dos' 'label-id: 0x1badcafe' "
			    "'m.img1 : start=2048,size=2048,type=83,bootable' "
			    "'m.img2 : start=6144,size=8192,type=f' "
			    "'m.img3 : start=4096,size=1024,type=7' "
			    "'m.img5 : start=6200,size=500,type=7' "
			    "'m.img6 : start=7000,size=500,type=82' "
			    "'m.img7 : size=1000,type=8e' | sfdisk -q m.img"),
			 0);
	assert_int_equal(ut_file_table("m.img", 0, &t), 0);
	assert_int_equal(t.type, VU_TABLE_MBR);
	assert_int_equal(t.count, 5);
	assert_int_equal(t.disk_signature, 0x1badcafe);
	assert_int_equal(t.parts[4].slot, 7);
	compare_sfdisk("m.img", &t);
	vu_ptable_free(&t);

	/* primaries only, slot 2 empty */
	assert_int_equal(ut_sh("truncate -s 4M p.img && printf '%%s\\n' "
			    "'label: dos' 'p.img1 : start=2048,size=100,type=c' "
			    "'p.img3 : start=4096,size=100,type=27' "
			    "'p.img4 : start=6000,size=100,type=ef' "
			    "| sfdisk -q p.img"),
			 0);
	assert_int_equal(ut_file_table("p.img", 0, &t), 0);
	assert_int_equal(t.count, 3);
	assert_int_equal(t.parts[1].slot, 3);
	compare_sfdisk("p.img", &t);
	vu_ptable_free(&t);
}

static void test_mkfs(void **state)
{
	struct vu_ptable t;
	int ran = 0;

	if (ut_have("mkfs.fat")) {
		assert_int_equal(ut_sh("rm -f f12.img f32.img && "
				    "mkfs.fat -C f12.img 1024 >/dev/null && "
				    "mkfs.fat -F 32 -C f32.img 40000 >/dev/null"),
				 0);
		assert_int_equal(ut_file_table("f12.img", 0, &t), 0);
		assert_int_equal(t.type, VU_TABLE_NONE);
		assert_int_equal(ut_file_table("f32.img", 0, &t), 0);
		assert_int_equal(t.type, VU_TABLE_NONE);
		ran++;
	}
	if (ut_have("mkntfs")) {
		assert_int_equal(ut_sh("truncate -s 4M n.img && "
				    "mkntfs -q -F -Q n.img >/dev/null 2>&1"),
				 0);
		assert_int_equal(ut_file_table("n.img", 0, &t), 0);
		assert_int_equal(t.type, VU_TABLE_NONE);
		ran++;
	}
	if (!ran) {
		fail_msg("neither mkfs.fat nor mkntfs installed - install them (.ci/deps.sh)");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_cases_4k),
		cmocka_unit_test(test_mbr_parse_enoent),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bitflips),
		cmocka_unit_test(test_read_faults),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_sfdisk),
		cmocka_unit_test(test_mkfs),
	};

	vu_log_set_sink(NULL, NULL);
	return cmocka_run_group_tests(tests, ut_tmp_group_setup,
				      ut_tmp_group_teardown);
}
