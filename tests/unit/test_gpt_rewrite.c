/* GPT rewriting for disk copies (partition/gpt_rewrite.c), checked by
 * sgdisk: a table made by sgdisk, rewritten with a partition moved and the
 * disk grown, laid over a copy of the disk, must pass `sgdisk -v`, and
 * sgdisk and our own reader must see the new start and the new size.
 * Also: a table read from its backup, and every refusal. */
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
#include "core/error.h"
#include "core/log.h"
#include "partition/gpt_rewrite.h"
#include "partition/partition.h"
#include "shell.h"

#define MIB (1024u * 1024u)

/* A 4 MiB + 7 sector disk made by sgdisk: an EFI partition, a data
 * partition, a Linux one at slot 4 (slot 3 unused). */
static void make_disk(void)
{
	ut_need("sgdisk", "gdisk");
	assert_int_equal(ut_sh("rm -f g.img && truncate -s %u g.img && "
			       "sgdisk -o -a 8 -n 1:2048:+512K -t 1:ef00 "
			       "-n 2:0:+1M -t 2:8309 -n 4:0:+512K -t 4:8300 "
			       "g.img >/dev/null",
			       4 * MIB + 7 * 512),
			 0);
}

/* Copy g.img to c.img, grown to size, and lay the areas over it. */
static void write_copy(uint64_t size, const struct vu_gpt_area *a)
{
	assert_int_equal(ut_sh("cp g.img c.img && truncate -s %llu c.img",
			       (unsigned long long)size),
			 0);
	for (int i = 0; i < VU_GPT_AREAS; i++)
		ut_write_at("c.img", a[i].off, a[i].data, a[i].len);
}

static struct vu_gpt_rewrite *open_rewrite(const char *name,
					   struct vu_blk **disk)
{
	struct vu_gpt_rewrite *g;

	assert_int_equal(vu_file_open(ut_path("%s", name), disk), 0);
	assert_int_equal(vu_gpt_rewrite_open(*disk, 512, &g), 0);
	return g;
}

static void assert_sgdisk_clean(void)
{
	char line[256];

	ut_sh_line(line, sizeof(line),
		   "sgdisk -v c.img | grep -c 'No problems found'");
	assert_string_equal(line, "1");
}

static void test_move_and_grow(void **state)
{
	struct vu_gpt_area a[VU_GPT_AREAS];
	struct vu_gpt_rewrite *g;
	struct vu_blk *disk, *copy;
	struct vu_ptable t;
	char line[128];
	const uint64_t size = 5 * MIB;
	uint64_t start2;

	(void)state;
	make_disk();
	g = open_rewrite("g.img", &disk);
	assert_int_equal(vu_gpt_parse(disk, 512, &t), 0);
	start2 = t.parts[1].start / 512;
	vu_ptable_free(&t);
	/* a LUKS1 payload 4096 sectors in, as cryptsetup puts it */
	assert_int_equal(vu_gpt_rewrite_move_start(g, 2, start2 + 1024), 0);
	assert_int_equal(vu_gpt_rewrite_resize(g, size), 0);
	assert_int_equal(vu_gpt_rewrite_areas(g, a), 0);
	assert_int_equal(a[0].off, 512);
	assert_int_equal(a[3].off, size - 512);
	assert_int_equal(a[2].off + a[2].len, size - 512);
	write_copy(size, a);
	assert_sgdisk_clean();
	ut_sh_line(line, sizeof(line),
		   "sgdisk -i 2 c.img | sed -n 's/^First sector: \\([0-9]*\\).*/\\1/p'");
	assert_int_equal(strtoull(line, NULL, 10), start2 + 1024);
	ut_sh_line(line, sizeof(line),
		   "sgdisk -p c.img | sed -n 's/.*last usable sector is \\([0-9]*\\).*/\\1/p'");
	assert_int_equal(strtoull(line, NULL, 10), size / 512 - 34);
	/* our reader: the new start, the primary in use, the rest as was */
	assert_int_equal(vu_file_open(ut_path("c.img"), &copy), 0);
	assert_int_equal(vu_gpt_parse(copy, 512, &t), 0);
	assert_int_equal(t.used_backup, 0);
	assert_int_equal(t.count, 3);
	assert_int_equal(t.parts[1].start, (start2 + 1024) * 512);
	assert_int_equal(t.parts[2].slot, 4);
	vu_ptable_free(&t);
	vu_blk_unref(copy);
	/* the source is not changed */
	ut_sh_line(line, sizeof(line),
		   "sgdisk -i 2 g.img | sed -n 's/^First sector: \\([0-9]*\\).*/\\1/p'");
	assert_int_equal(strtoull(line, NULL, 10), start2);
	vu_gpt_rewrite_free(g);
	vu_blk_unref(disk);
}

/* Same size: the areas go back where they were; the last usable LBA is
 * kept. */
static void test_same_size(void **state)
{
	struct vu_gpt_area a[VU_GPT_AREAS];
	struct vu_gpt_rewrite *g;
	struct vu_blk *disk;

	(void)state;
	make_disk();
	g = open_rewrite("g.img", &disk);
	assert_int_equal(vu_gpt_rewrite_resize(g, disk->size), 0);
	assert_int_equal(vu_gpt_rewrite_areas(g, a), 0);
	write_copy(disk->size, a);
	assert_sgdisk_clean();
	assert_int_equal(ut_sh("cmp -s g.img c.img"), 0);
	vu_gpt_rewrite_free(g);
	vu_blk_unref(disk);
}

/* A damaged primary: the table comes from the backup, and the copy gets
 * a sound primary again. */
static void test_from_backup(void **state)
{
	struct vu_gpt_area a[VU_GPT_AREAS];
	struct vu_gpt_rewrite *g;
	struct vu_blk *disk;

	(void)state;
	make_disk();
	assert_int_equal(ut_sh("printf 'XXXX' | dd of=g.img bs=1 seek=528 "
			       "conv=notrunc 2>/dev/null"),
			 0);
	g = open_rewrite("g.img", &disk);
	assert_int_equal(vu_gpt_rewrite_resize(g, 6 * MIB), 0);
	assert_int_equal(vu_gpt_rewrite_areas(g, a), 0);
	assert_int_equal(a[1].off, 1024);
	write_copy(6 * MIB, a);
	assert_sgdisk_clean();
	vu_gpt_rewrite_free(g);
	vu_blk_unref(disk);
}

static void test_refusals(void **state)
{
	struct vu_gpt_rewrite *g;
	struct vu_blk *disk, *none;
	static uint8_t zeros[64 * 1024];

	(void)state;
	make_disk();
	g = open_rewrite("g.img", &disk);
	vu_err_clear();
	assert_int_equal(vu_gpt_rewrite_move_start(g, 3, 4096), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "entry 3 is unused"));
	vu_err_clear();
	assert_int_equal(vu_gpt_rewrite_move_start(g, 200, 4096), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "no partition entry 200"));
	vu_err_clear();
	assert_int_equal(vu_gpt_rewrite_move_start(g, 1, 20), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "cannot start at LBA 20"));
	assert_int_equal(vu_gpt_rewrite_move_start(g, 1, 1u << 20), -EINVAL);
	vu_err_clear();
	assert_int_equal(vu_gpt_rewrite_resize(g, disk->size - 512), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "no smaller than"));
	assert_int_equal(vu_gpt_rewrite_resize(g, 5 * MIB + 3), -EINVAL);
	vu_gpt_rewrite_free(g);
	vu_blk_unref(disk);
	/* no table, and a table damaged in both copies */
	assert_int_equal(vu_mem_open(zeros, sizeof(zeros), "zeros", &none), 0);
	assert_int_equal(vu_gpt_rewrite_open(none, 512, &g), -ENOENT);
	assert_null(g);
	vu_blk_unref(none);
	assert_int_equal(ut_sh("printf 'XXXX' | dd of=g.img bs=1 seek=528 "
			       "conv=notrunc 2>/dev/null && printf 'XXXX' | "
			       "dd of=g.img bs=1 seek=%u conv=notrunc "
			       "2>/dev/null", 4 * MIB + 6 * 512 + 16),
			 0);
	assert_int_equal(vu_file_open(ut_path("g.img"), &disk), 0);
	vu_err_clear();
	assert_int_equal(vu_gpt_rewrite_open(disk, 512, &g), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "backup header"));
	vu_blk_unref(disk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_move_and_grow),
		cmocka_unit_test(test_same_size),
		cmocka_unit_test(test_from_backup),
		cmocka_unit_test(test_refusals),
	};

	vu_log_set_sink(NULL, NULL);
	return cmocka_run_group_tests(tests, ut_tmp_group_setup,
				      ut_tmp_group_teardown);
}
