/* MBR rewriting for disk copies (partition/mbr_rewrite.c), checked by
 * sfdisk and sgdisk: a partition table made by sfdisk, one primary
 * partition moved, must read back in sfdisk --dump and in our parser with
 * the new start and size and the rest unchanged; a GPT disk grown with
 * its protective MBR rewritten must pass sgdisk -v. */
#include <errno.h>
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
#include "partition/gpt_rewrite.h"
#include "partition/mbr_rewrite.h"
#include "partition/partition.h"
#include "shell.h"

/* start and size (sectors) of partition IMGn as sfdisk --dump says */
static void sfdisk_part(const char *img, unsigned n, unsigned long long *start,
			unsigned long long *size)
{
	char cmd[256], line[128];

	snprintf(cmd, sizeof(cmd),
		 "sfdisk --dump %s | tr -d ' ' | grep '^%s%u:' "
		 "| sed 's/.*start=\\([0-9]*\\),size=\\([0-9]*\\).*/\\1 \\2/'",
		 img, img, n);
	ut_sh_line(line, sizeof(line), cmd);
	assert_int_equal(sscanf(line, "%llu %llu", start, size), 2);
}

static void test_move_primary(void **state)
{
	unsigned long long s0, z0, s1, z1, s5, z5, t5, y5;
	uint8_t sec[512];
	struct vu_blk *disk;
	struct vu_ptable t;

	(void)state;
	ut_need("sfdisk", "util-linux");
	assert_int_equal(ut_sh("truncate -s 16M m.img && printf '%s' | "
			       "sfdisk -q m.img >/dev/null",
			       "label: dos\\nstart=2048, size=4096, type=83\\n"
			       "size=8192, type=7, bootable\\n"
			       "type=5\\nsize=2048, type=83\\n"),
			 0);
	sfdisk_part("m.img", 2, &s0, &z0);
	sfdisk_part("m.img", 5, &s5, &z5);
	ut_read_at("m.img", 0, sec, sizeof(sec));
	assert_int_equal(vu_mbr_rewrite_move_start(sec, 2, 4096), 0);
	assert_int_equal(ut_sh("cp m.img c.img"), 0);
	ut_write_at("c.img", 0, sec, sizeof(sec));
	sfdisk_part("c.img", 2, &s1, &z1);
	assert_int_equal(s1, s0 + 4096);
	assert_int_equal(z1, z0 - 4096);
	sfdisk_part("c.img", 5, &t5, &y5);
	assert_int_equal(t5, s5);
	assert_int_equal(y5, z5);
	/* our reader agrees, and the boot flag and type are kept */
	assert_int_equal(vu_file_open(ut_path("c.img"), &disk), 0);
	assert_int_equal(vu_mbr_parse(disk, &t), 0);
	assert_int_equal(t.parts[1].slot, 2);
	assert_int_equal(t.parts[1].start, (s0 + 4096) * 512);
	assert_int_equal(t.parts[1].size, (z0 - 4096) * 512);
	assert_int_equal(t.parts[1].mbr_type, 7);
	assert_int_equal(t.parts[1].bootable, 1);
	vu_ptable_free(&t);
	vu_blk_unref(disk);
	/* the CHS start follows the LBA (255 heads, 63 sectors) */
	{
		uint32_t lba = (uint32_t)s1, c = lba / (255 * 63);
		const uint8_t *e = sec + 446 + 16;

		assert_int_equal(e[1], lba / 63 % 255);
		assert_int_equal(e[2] & 63, lba % 63 + 1);
		assert_int_equal(e[3] | (e[2] & 0xc0) << 2, c);
	}
}

static void test_refusals(void **state)
{
	uint8_t sec[512];

	(void)state;
	ut_need("sfdisk", "util-linux");
	assert_int_equal(ut_sh("truncate -s 16M r.img && printf '%s' | "
			       "sfdisk -q r.img >/dev/null",
			       "label: dos\\nstart=2048, size=4096, type=83\\n"
			       "type=5\\nsize=2048, type=83\\n"),
			 0);
	ut_read_at("r.img", 0, sec, sizeof(sec));
	vu_err_clear();
	assert_int_equal(vu_mbr_rewrite_move_start(sec, 1, 4096), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "cannot start 4096"));
	vu_err_clear();
	assert_int_equal(vu_mbr_rewrite_move_start(sec, 2, 8), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "extended"));
	vu_err_clear();
	assert_int_equal(vu_mbr_rewrite_move_start(sec, 3, 8), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "empty"));
	vu_err_clear();
	assert_int_equal(vu_mbr_rewrite_move_start(sec, 5, 8), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "logical"));
	vu_err_clear();
	assert_int_equal(vu_mbr_rewrite_protective(sec, 1000), -EINVAL);
	sec[510] = 0;
	vu_err_clear();
	assert_int_equal(vu_mbr_rewrite_move_start(sec, 1, 8), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "55 AA"));
}

/* A GPT disk grown by 3 MiB: the GPT areas and the protective MBR
 * rewritten; sgdisk -v finds no problem and sees the new size. */
static void test_protective(void **state)
{
	struct vu_gpt_area a[VU_GPT_AREAS];
	struct vu_gpt_rewrite *g;
	struct vu_blk *disk;
	uint8_t sec[512];
	char line[128];
	const uint64_t size = 8u << 20;

	(void)state;
	ut_need("sgdisk", "gdisk");
	assert_int_equal(ut_sh("truncate -s 5M p.img && sgdisk -o "
			       "-n 1:2048:+1M p.img >/dev/null && cp p.img "
			       "c.img && truncate -s %llu c.img",
			       (unsigned long long)size),
			 0);
	assert_int_equal(vu_file_open(ut_path("p.img"), &disk), 0);
	assert_int_equal(vu_gpt_rewrite_open(disk, 512, &g), 0);
	assert_int_equal(vu_gpt_rewrite_resize(g, size), 0);
	assert_int_equal(vu_gpt_rewrite_areas(g, a), 0);
	for (int i = 0; i < VU_GPT_AREAS; i++)
		ut_write_at("c.img", a[i].off, a[i].data, a[i].len);
	vu_gpt_rewrite_free(g);
	vu_blk_unref(disk);
	ut_read_at("c.img", 0, sec, sizeof(sec));
	assert_int_equal(vu_mbr_rewrite_protective(sec, size / 512), 0);
	assert_int_equal(vu_le32(sec + 446 + 12), size / 512 - 1);
	ut_write_at("c.img", 0, sec, sizeof(sec));
	ut_sh_line(line, sizeof(line),
		   "sgdisk -v c.img | grep -c 'No problems found'");
	assert_string_equal(line, "1");
	ut_sh_line(line, sizeof(line),
		   "sgdisk -p c.img | sed -n 's/^Disk c.img: \\([0-9]*\\) sectors.*/\\1/p'");
	assert_int_equal(strtoull(line, NULL, 10), size / 512);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_move_primary),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_protective),
	};

	vu_log_set_sink(NULL, NULL);
	return cmocka_run_group_tests(tests, ut_tmp_group_setup,
				      ut_tmp_group_teardown);
}
