/* The VHDX writer (container/vhdx_write.c), checked by qemu-img, libvhdi
 * and our own reader: for each disk (sizes that fill whole blocks or end
 * in a partial one, or go past the first 4 GiB chunk; random data, all
 * zeros, or data in a few places) written in chunks of 4 MiB or of an odd
 * size, `qemu-img check` finds no errors, `qemu-img info` and `vhdiinfo`
 * see a dynamic VHDX of the right size, `qemu-img convert` and our
 * container layer give back exactly the input, and blocks without data
 * take no room in the file.  Also every refusal: data out of order, with a
 * gap, past the end, bad sizes, and write failures naming the file. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "container/container.h"
#include "container/vhdx_write.h"
#include "core/blk.h"
#include "core/error.h"
#include "core/log.h"
#include "shell.h"

#define MIB (1024u * 1024u)
#define BLOCK VU_VHDX_WRITE_BLOCK_SIZE
#define HEAD_AND_BAT (4 * MIB) /* the writer's layout up to the first block */

/* xorshift64*: reproducible bytes, never a whole zero grain in practice */
static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		p[i] = (uint8_t)((x * 0x2545f4914f6cdd1dull) >> 56);
	}
}

enum fill { FILL_RANDOM, FILL_ZERO, FILL_FEW };

/* FILL_FEW: 64 KiB at the start, 5000 bytes in the middle (for 100 MiB:
 * inside the second block, not at its start, so zeros before them), the
 * last 512 bytes. */
static uint8_t *make_input(uint64_t size, enum fill fill)
{
	uint8_t *d = calloc(1, size);

	assert_non_null(d);
	if (fill == FILL_RANDOM)
		fill_random(d, size, size);
	if (fill == FILL_FEW) {
		fill_random(d, 64 * 1024, 1);
		fill_random(d + size / 2 + 12345, 5000, 2);
		fill_random(d + size - 512, 512, 3);
	}
	return d;
}

/* The input through the writer into out.vhdx, chunk bytes at a time.
 * out.vhdx holds junk first (0xff over the headers and the first block):
 * the writer must empty it, or its holes would read as junk. */
static void write_vhdx(const uint8_t *d, uint64_t size, size_t chunk,
		       uint32_t sector)
{
	struct vu_vhdx_writer *w;
	int fd;

	assert_int_equal(ut_sh("head -c 12M /dev/zero | tr '\\0' '\\377' "
			       ">out.vhdx"),
			 0);
	fd = ut_open("out.vhdx", O_RDWR);
	assert_int_equal(vu_vhdx_writer_open(fd, "out.vhdx", size, sector, &w),
			 0);
	for (uint64_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? (size_t)(size - off) : chunk;

		assert_int_equal(vu_vhdx_writer_put(w, d + off, n, off), 0);
	}
	assert_int_equal(vu_vhdx_writer_finish(w), 0);
	vu_vhdx_writer_free(w);
	assert_int_equal(close(fd), 0);
}

static void check_qemu(uint64_t size)
{
	assert_int_equal(ut_sh("qemu-img check -f vhdx out.vhdx >check.txt "
			       "2>&1 && grep -q 'No errors were found' "
			       "check.txt"),
			 0);
	/* detected by content, not told the format */
	assert_int_equal(ut_sh("qemu-img info --output=json out.vhdx "
			       ">info.json && grep -q '\"format\": \"vhdx\"' "
			       "info.json && grep -q '\"virtual-size\": %llu,' "
			       "info.json",
			       (unsigned long long)size),
			 0);
	assert_int_equal(ut_sh("rm -f conv.raw && qemu-img convert -f vhdx "
			       "-O raw out.vhdx conv.raw && cmp -s conv.raw "
			       "in.raw"),
			 0);
}

/* A second independent reader: libvhdi's vhdiinfo. */
static void check_vhdiinfo(uint64_t size, uint32_t sector)
{
	if (!ut_have("vhdiinfo"))
		fail_msg("vhdiinfo not installed (libvhdi-utils): the "
			 "real-tool check cannot run; install it "
			 "(.ci/deps.sh)");
	assert_int_equal(ut_sh("vhdiinfo out.vhdx >vhdi.txt 2>&1 && "
			       "grep -q 'Format.*: VHDX' vhdi.txt && "
			       "grep -q 'Disk type.*: Dynamic' vhdi.txt && "
			       "grep -q 'Media size.*(%llu bytes)' vhdi.txt && "
			       "grep -q 'Bytes per sector.*: %u bytes' "
			       "vhdi.txt",
			       (unsigned long long)size, sector),
			 0);
}

static void check_our_reader(const uint8_t *d, uint64_t size,
			     uint32_t sector)
{
	struct vu_container_info info;
	struct vu_blk *disk;
	uint8_t *buf = malloc(4 * MIB);

	assert_non_null(buf);
	assert_int_equal(vu_container_open(ut_path("out.vhdx"), &disk,
					   &info),
			 0);
	assert_int_equal(info.format, VU_FMT_VHDX);
	assert_int_equal(info.type, VU_CT_DYNAMIC);
	assert_int_equal(info.virtual_size, size);
	assert_int_equal(info.sector_size, sector);
	assert_int_equal(info.physical_sector_size, 4096);
	assert_int_equal(info.chain[0].log_not_empty, 0);
	assert_int_equal(disk->size, size);
	/* reads across block boundaries, as the odd size makes them */
	for (uint64_t off = 0; off < size; off += 3 * MIB + 512) {
		size_t n = size - off < 3 * MIB + 512 ? (size_t)(size - off)
						      : 3 * MIB + 512;

		assert_int_equal(vu_blk_read(disk, buf, n, off), 0);
		assert_memory_equal(buf, d + off, n);
	}
	vu_blk_unref(disk);
	vu_container_info_free(&info);
	free(buf);
}

/* Write, check by every reader; returns the output's stat. */
static struct stat run_sector_case(uint64_t size, enum fill fill,
				   size_t chunk, uint32_t sector)
{
	uint8_t *d = make_input(size, fill);
	struct stat st;

	ut_need("qemu-img", "qemu-utils");
	ut_write_file("in.raw", d, size);
	write_vhdx(d, size, chunk, sector);
	/* qemu (7.2) opens only VHDX of 512-byte logical sectors */
	if (sector == 512)
		check_qemu(size);
	check_vhdiinfo(size, sector);
	check_our_reader(d, size, sector);
	assert_int_equal(stat(ut_path("out.vhdx"), &st), 0);
	free(d);
	return st;
}

static struct stat run_case(uint64_t size, enum fill fill, size_t chunk)
{
	return run_sector_case(size, fill, chunk, 512);
}

static void test_one_mib(void **state)
{
	struct stat st;

	(void)state;
	st = run_case(1 * MIB, FILL_RANDOM, 4 * MIB);
	/* the one block, whole */
	assert_int_equal(st.st_size, HEAD_AND_BAT + BLOCK);
}

static void test_partial_last_block(void **state)
{
	const uint64_t size = 33 * MIB + 512;
	struct stat st;

	(void)state;
	st = run_case(size, FILL_RANDOM, 4 * MIB);
	assert_int_equal(st.st_size, HEAD_AND_BAT + 2 * BLOCK);
	st = run_case(size, FILL_RANDOM, MIB + 512);
	assert_int_equal(st.st_size, HEAD_AND_BAT + 2 * BLOCK);
}

static void test_few_places(void **state)
{
	const uint64_t size = 100 * MIB;
	struct stat st;

	(void)state;
	for (int i = 0; i < 2; i++) {
		st = run_case(size, FILL_FEW, i ? MIB + 512 : 4 * MIB);
		/* blocks 0, 1 and 3 present; block 2 (64-96 MiB) not */
		assert_int_equal(st.st_size, HEAD_AND_BAT + 3 * BLOCK);
		/* only the data and the metadata take room: 64 KiB, two
		 * 4 KiB grains, 4 KiB, headers, tables, BAT */
		assert_true((uint64_t)st.st_blocks * 512 < 2 * MIB);
	}
}

/* 4096-byte logical sectors: 1024 blocks per chunk instead of 128.
 * Checked by our reader alone, as qemu-img refuses them (ENOTSUP). */
static void test_4k_sectors(void **state)
{
	struct stat st;

	(void)state;
	st = run_sector_case(33 * MIB + 4096, FILL_FEW, MIB + 4096, 4096);
	assert_int_equal(st.st_size, HEAD_AND_BAT + 2 * BLOCK);
}

/* Data spots of the large disk: around the end of the first chunk (4 GiB
 * with 512-byte sectors, after which the block table holds a sector
 * bitmap entry) and the disk's last bytes. */
static const struct {
	uint64_t off;
	uint32_t len;
} spots[] = {
	{ 0, 4096 },
	{ 127ull * BLOCK + BLOCK - 1000, 1000 },
	{ 128ull * BLOCK, 3 * 4096 + 17 },
	{ 130ull * BLOCK + 5 * MIB, 512 },
	{ 4ull * 1024 * MIB + 96 * MIB - 512, 512 },
};
#define NSPOTS (sizeof(spots) / sizeof(spots[0]))

/* Spot i's bytes at [off, off + len) of the disk into buf (zeros
 * elsewhere). */
static void spot_bytes(uint8_t *buf, uint64_t off, size_t len)
{
	memset(buf, 0, len);
	for (size_t i = 0; i < NSPOTS; i++) {
		uint64_t a = spots[i].off, b = a + spots[i].len;
		uint8_t tmp[3 * 4096 + 17];

		if (b <= off || a >= off + len)
			continue;
		fill_random(tmp, spots[i].len, 10 + i);
		for (uint64_t x = a > off ? a : off; x < b && x < off + len;
		     x++)
			buf[x - off] = tmp[x - a];
	}
}

/* Each data extent of qemu's sparse conversion conv.raw holds what the
 * spots say, and so does each spot (a hole reads as zeros): the whole
 * disk is right without reading its 4 GiB of holes. */
static void check_conversion(uint64_t size)
{
	uint8_t *got = malloc(MIB), *want = malloc(MIB);
	uint64_t off = 0;
	struct stat st;
	int fd;

	assert_non_null(got);
	assert_non_null(want);
	assert_int_equal(ut_sh("rm -f conv.raw && qemu-img convert -f vhdx "
			       "-O raw out.vhdx conv.raw"),
			 0);
	fd = ut_open("conv.raw", O_RDONLY);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, size);
	for (;;) {
		off_t d = lseek(fd, (off_t)off, SEEK_DATA), h;

		if (d < 0)
			break;
		h = lseek(fd, d, SEEK_HOLE);
		assert_true(h > d);
		for (uint64_t at = (uint64_t)d; at < (uint64_t)h; at += MIB) {
			size_t n = (uint64_t)h - at < MIB
					   ? (size_t)((uint64_t)h - at) : MIB;

			assert_int_equal(pread(fd, got, n, (off_t)at),
					 (ssize_t)n);
			spot_bytes(want, at, n);
			assert_memory_equal(got, want, n);
		}
		off = (uint64_t)h;
	}
	for (size_t i = 0; i < NSPOTS; i++) {
		assert_int_equal(pread(fd, got, spots[i].len,
				       (off_t)spots[i].off),
				 (ssize_t)spots[i].len);
		spot_bytes(want, spots[i].off, spots[i].len);
		assert_memory_equal(got, want, spots[i].len);
	}
	close(fd);
	free(got);
	free(want);
}

/* Past one chunk: blocks after the first sector bitmap entry land at the
 * right table entries. */
static void test_two_chunks(void **state)
{
	const uint64_t size = 4ull * 1024 * MIB + 96 * MIB; /* 131 blocks */
	struct vu_vhdx_writer *w;
	struct vu_blk *disk;
	struct stat st;
	uint8_t *buf = malloc(4 * MIB), *want = malloc(64 * 1024);
	int fd;

	(void)state;
	ut_need("qemu-img", "qemu-utils");
	assert_non_null(buf);
	assert_non_null(want);
	fd = ut_open("out.vhdx", O_RDWR | O_CREAT | O_TRUNC);
	assert_int_equal(vu_vhdx_writer_open(fd, "out.vhdx", size, 512, &w),
			 0);
	for (uint64_t off = 0; off < size; off += 4 * MIB) {
		spot_bytes(buf, off, 4 * MIB);
		assert_int_equal(vu_vhdx_writer_put(w, buf, 4 * MIB, off), 0);
	}
	assert_int_equal(vu_vhdx_writer_finish(w), 0);
	vu_vhdx_writer_free(w);
	close(fd);

	assert_int_equal(stat(ut_path("out.vhdx"), &st), 0);
	/* blocks 0, 127, 128, 130 */
	assert_int_equal(st.st_size, HEAD_AND_BAT + 4 * BLOCK);
	assert_int_equal(ut_sh("qemu-img check -f vhdx out.vhdx >check.txt "
			       "2>&1 && grep -q 'No errors were found' "
			       "check.txt"),
			 0);
	check_conversion(size);
	check_vhdiinfo(size, 512);
	/* our reader, at each spot with 24 KiB around it */
	assert_int_equal(vu_container_open(ut_path("out.vhdx"), &disk, NULL),
			 0);
	assert_int_equal(disk->size, size);
	for (size_t i = 0; i < NSPOTS; i++) {
		uint64_t at = spots[i].off < 24 * 1024
				      ? 0 : spots[i].off - 24 * 1024;
		size_t n = size - at < 64 * 1024 ? (size_t)(size - at)
						 : 64 * 1024;

		spot_bytes(want, at, n);
		assert_int_equal(vu_blk_read(disk, buf, n, at), 0);
		assert_memory_equal(buf, want, n);
	}
	vu_blk_unref(disk);
	free(buf);
	free(want);
	assert_int_equal(ut_sh("rm -f conv.raw out.vhdx"), 0);
}

static void test_all_zeros(void **state)
{
	struct stat st;

	(void)state;
	st = run_case(100 * MIB, FILL_ZERO, 4 * MIB);
	assert_int_equal(st.st_size, HEAD_AND_BAT);
	assert_true((uint64_t)st.st_blocks * 512 < MIB);
	st = run_case(33 * MIB + 512, FILL_ZERO, MIB + 512);
	assert_int_equal(st.st_size, HEAD_AND_BAT);
}

/* Data, then a put out of order, with a gap, past the end, and a finish
 * before the end: each -EINVAL with a message, and the writer is still
 * usable after them. */
static void test_order(void **state)
{
	static uint8_t buf[8192];
	struct vu_vhdx_writer *w;
	int fd;

	(void)state;
	memset(buf, 0xa5, sizeof(buf));
	fd = ut_open("o.vhdx", O_RDWR | O_CREAT | O_TRUNC);
	assert_int_equal(vu_vhdx_writer_open(fd, "o.vhdx", 2 * MIB, 512, &w),
			 0);
	assert_int_equal(vu_vhdx_writer_put(w, buf, 4096, 0), 0);
	vu_err_clear();
	assert_int_equal(vu_vhdx_writer_put(w, buf, 4096, 8192), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL),
			       "o.vhdx: data at offset 8192, expected offset "
			       "4096"));
	vu_err_clear();
	assert_int_equal(vu_vhdx_writer_put(w, buf, 4096, 0), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "expected offset 4096"));
	vu_err_clear();
	assert_int_equal(vu_vhdx_writer_finish(w), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "data ends at offset "
			       "4096, expected the virtual size 2097152"));
	vu_err_clear();
	assert_int_equal(vu_vhdx_writer_put(w, buf, 4096, 4096), 0);
	assert_int_equal(vu_vhdx_writer_put(w, buf, 0, 8192), 0);
	for (uint64_t off = 8192; off < 2 * MIB; off += sizeof(buf))
		assert_int_equal(vu_vhdx_writer_put(w, buf, sizeof(buf), off),
				 0);
	vu_err_clear();
	assert_int_equal(vu_vhdx_writer_put(w, buf, 512, 2 * MIB), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "past the virtual size"));
	assert_int_equal(vu_vhdx_writer_finish(w), 0);
	vu_vhdx_writer_free(w);
	close(fd);
	ut_need("qemu-img", "qemu-utils");
	assert_int_equal(ut_sh("qemu-img check -f vhdx o.vhdx >/dev/null"), 0);
}

static void test_bad_sizes(void **state)
{
	struct vu_vhdx_writer *w = (void *)1;
	int fd;

	(void)state;
	fd = ut_open("b.vhdx", O_RDWR | O_CREAT | O_TRUNC);
	vu_err_clear();
	assert_int_equal(vu_vhdx_writer_open(fd, "b.vhdx", MIB, 1024, &w),
			 -EINVAL);
	assert_null(w);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "logical sector size 1024"));
	vu_err_clear();
	assert_int_equal(vu_vhdx_writer_open(fd, "b.vhdx", 0, 512, &w),
			 -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "b.vhdx: virtual size 0"));
	assert_int_equal(vu_vhdx_writer_open(fd, "b.vhdx", MIB + 512, 4096,
					     &w),
			 -EINVAL);
	assert_int_equal(vu_vhdx_writer_open(fd, "b.vhdx", (64ull << 40) + 512,
					     512, &w),
			 -EINVAL);
	close(fd);
}

/* A write that fails: a read-only descriptor, then a full device.  The
 * message names the file and the offset, and the writer refuses more. */
static void test_write_failures(void **state)
{
	static uint8_t buf[4096];
	struct vu_vhdx_writer *w;
	uint8_t *zeros;
	int fd;

	(void)state;
	memset(buf, 0x5a, sizeof(buf));
	fd = ut_open("ro.vhdx", O_WRONLY | O_CREAT | O_TRUNC);
	close(fd);
	fd = ut_open("ro.vhdx", O_RDONLY);
	assert_int_equal(vu_vhdx_writer_open(fd, "/x/ro.vhdx", MIB, 512, &w),
			 0);
	vu_err_clear();
	assert_int_equal(vu_vhdx_writer_put(w, buf, sizeof(buf), 0), -EIO);
	assert_non_null(strstr(vu_errmsg(-EIO), "vhdx: /x/ro.vhdx: cannot "
			       "write 4096 bytes at offset 4194304"));
	vu_err_clear();
	assert_int_equal(vu_vhdx_writer_put(w, buf, sizeof(buf), 4096),
			 -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "failed earlier"));
	assert_int_equal(vu_vhdx_writer_finish(w), -EINVAL);
	vu_vhdx_writer_free(w);
	close(fd);

	fd = open("/dev/full", O_WRONLY);
	if (fd < 0)
		fail_msg("/dev/full cannot be opened: the full-disk check "
			 "cannot run");
	assert_int_equal(vu_vhdx_writer_open(fd, "/dev/full", MIB, 512, &w),
			 0);
	vu_err_clear();
	assert_int_equal(vu_vhdx_writer_put(w, buf, sizeof(buf), 0), -ENOSPC);
	assert_non_null(strstr(vu_errmsg(-ENOSPC), "vhdx: /dev/full: no "
			       "space left to write 4096 bytes at offset "
			       "4194304"));
	vu_vhdx_writer_free(w);
	close(fd);

	/* a finish that fails: all zeros, so its writes are the first */
	fd = open("/dev/full", O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(vu_vhdx_writer_open(fd, "/dev/full", MIB, 512, &w),
			 0);
	zeros = calloc(1, MIB);
	assert_non_null(zeros);
	assert_int_equal(vu_vhdx_writer_put(w, zeros, MIB, 0), 0);
	vu_err_clear();
	assert_int_equal(vu_vhdx_writer_finish(w), -ENOSPC);
	assert_non_null(strstr(vu_errmsg(-ENOSPC), "vhdx: /dev/full: no "
			       "space left to write"));
	free(zeros);
	vu_vhdx_writer_free(w);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_mib),
		cmocka_unit_test(test_partial_last_block),
		cmocka_unit_test(test_few_places),
		cmocka_unit_test(test_all_zeros),
		cmocka_unit_test(test_4k_sectors),
		cmocka_unit_test(test_two_chunks),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_write_failures),
	};

	vu_log_set_sink(NULL, NULL);
	return cmocka_run_group_tests(tests, ut_tmp_group_setup,
				      ut_tmp_group_teardown);
}
