/* Unit tests: block-source wrapper (bounds, fault injection, slices,
 * description chain), CRC vectors, GUID text form, UTF-16 decoding, and the
 * VHD footer / VHDX header checks over truncated and corrupted buffers. */
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
#include "core/usa.h"

static uint8_t disk[64 * 1024];

static void test_read_bounds(void **state)
{
	struct vu_blk *b;
	uint8_t buf[16];

	(void)state;
	for (size_t i = 0; i < sizeof(disk); i++)
		disk[i] = (uint8_t)i;
	assert_int_equal(vu_mem_open(disk, sizeof(disk), "d", &b), 0);
	assert_int_equal(vu_blk_read(b, buf, 16, 100), 0);
	assert_memory_equal(buf, disk + 100, 16);
	assert_int_equal(vu_blk_read(b, buf, 16, sizeof(disk) - 16), 0);
	vu_err_clear();
	assert_int_equal(vu_blk_read(b, buf, 16, sizeof(disk) - 15), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "mem:d"));
	assert_non_null(strstr(vu_errmsg(-EINVAL), "past the end"));
	vu_err_clear();
	/* offset + length overflowing 64 bits is out of range, not a wrap */
	assert_int_equal(vu_blk_read(b, buf, 16, UINT64_MAX - 4), -EINVAL);
	vu_err_clear();
	assert_int_equal(vu_blk_read(b, buf, 0, sizeof(disk)), 0);
	vu_blk_unref(b);
}

static void test_slice_and_desc(void **state)
{
	struct vu_blk *b, *s, *s2;
	uint8_t buf[8];

	(void)state;
	assert_int_equal(vu_mem_open(disk, sizeof(disk), "d", &b), 0);
	assert_int_equal(vu_slice_open(vu_blk_ref(b), 1024, 2048, "gpt#1", &s), 0);
	assert_int_equal(s->size, 2048);
	assert_string_equal(s->desc, "mem:d/gpt#1");
	assert_int_equal(vu_blk_read(s, buf, 8, 8), 0);
	assert_memory_equal(buf, disk + 1032, 8);
	vu_err_clear();
	assert_int_equal(vu_blk_read(s, buf, 8, 2044), -EINVAL);
	vu_err_clear();
	/* a window past the end of the lower layer is refused */
	assert_int_equal(vu_slice_open(vu_blk_ref(b), 60 * 1024, 8192, "p9", &s2),
			 -EUCLEAN);
	assert_null(s2);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "p9"));
	vu_err_clear();
	vu_blk_unref(s);
	vu_blk_unref(b); /* the slice's reference kept it alive until now */
}

static void test_fault_injection(void **state)
{
	struct vu_blk *b, *s;
	uint8_t buf[8];

	(void)state;
	assert_int_equal(vu_mem_open(disk, sizeof(disk), "d", &b), 0);
	assert_int_equal(vu_slice_open(b, 0, 4096, "p1", &s), 0);
	vu_blk_fault_after(2); /* the slice read is 1, the lower read 2 */
	assert_int_equal(vu_blk_read(s, buf, 8, 0), -EIO);
	assert_non_null(strstr(vu_errmsg(-EIO), "injected"));
	vu_err_clear();
	assert_int_equal(vu_blk_read(s, buf, 8, 0), 0);
	vu_blk_unref(s);
}

static void test_first_error_wins(void **state)
{
	(void)state;
	vu_err_clear();
	assert_int_equal(vu_fail(-EUCLEAN, "inner %d", 1), -EUCLEAN);
	vu_fail(-EIO, "outer");
	assert_string_equal(vu_errmsg(-EIO), "inner 1");
	vu_err_clear();
	assert_false(vu_err_isset());
}

static void test_crc_vectors(void **state)
{
	(void)state;
	/* the standard check value of each polynomial over "123456789" */
	assert_int_equal(vu_crc32(0, "123456789", 9), 0xCBF43926u);
	assert_int_equal(vu_crc32c(0, "123456789", 9), 0xE3069283u);
	/* chaining equals one pass */
	assert_int_equal(vu_crc32c(vu_crc32c(0, "1234", 4), "56789", 5),
			 0xE3069283u);
	assert_int_equal(vu_crc32(0, "", 0), 0);
}

static void test_guid(void **state)
{
	/* EFI System partition type as stored on disk */
	static const uint8_t esp[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8,
					 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0,
					 0xc9, 0x3e, 0xc9, 0x3b };
	char s[VU_GUID_STRLEN];
	uint8_t g[16];

	(void)state;
	vu_guid_format(esp, s);
	assert_string_equal(s, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
	assert_int_equal(vu_guid_parse("{C12A7328-F81F-11D2-BA4B-00A0C93EC93B}", g), 0);
	assert_memory_equal(g, esp, 16);
	assert_int_equal(vu_guid_parse("c12a7328-f81f-11d2-ba4b-00a0c93ec93", g), -EINVAL);
	assert_int_equal(vu_guid_parse("c12a7328xf81f-11d2-ba4b-00a0c93ec93b", g), -EINVAL);
	assert_int_equal(vu_guid_parse("g12a7328-f81f-11d2-ba4b-00a0c93ec93b", g), -EINVAL);
	assert_false(vu_guid_is_zero(esp));
}

static void test_utf16(void **state)
{
	/* "a", U+00E9, U+1F600 (surrogate pair), lone low surrogate, NUL */
	static const uint8_t le[] = { 'a', 0, 0xe9, 0, 0x3d, 0xd8, 0x00, 0xde,
				      0x00, 0xdc, 0, 0, 'x', 0 };
	char out[32];

	(void)state;
	vu_utf16_to_utf8(le, sizeof(le) / 2, 0, out, sizeof(out));
	assert_string_equal(out, "a\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd");
	/* a small buffer truncates at a character boundary */
	vu_utf16_to_utf8(le, sizeof(le) / 2, 0, out, 4);
	assert_string_equal(out, "a\xc3\xa9");
	/* as libblkid: a lone surrogate encoded as it is */
	vu_utf16_to_utf8(le, sizeof(le) / 2, VU_UTF16_KEEP_LONE, out, sizeof(out));
	assert_string_equal(out, "a\xc3\xa9\xf0\x9f\x98\x80\xed\xb0\x80");
	/* big-endian (VHD parent names) */
	{
		static const uint8_t be[] = { 0, 'v', 0, 'h', 0, 'd', 0, 0 };
		vu_utf16_to_utf8(be, 4, VU_UTF16_BE, out, sizeof(out));
		assert_string_equal(out, "vhd");
	}
}

/* A minimal fixed VHD: 4 KiB of data and a valid footer. */
static size_t make_fixed_vhd(uint8_t *img)
{
	uint8_t *f = img + 4096;
	uint32_t sum = 0;

	memset(img, 0, 4096 + 512);
	memcpy(f, VHD_COOKIE, 8);
	vu_put_be32(f + VHD_F_VERSION, 0x00010000);
	memset(f + VHD_F_DATA_OFFSET, 0xff, 8);
	vu_put_be32(f + VHD_F_CURRENT_SIZE + 4, 4096);
	vu_put_be32(f + VHD_F_DISK_TYPE, VHD_TYPE_FIXED);
	for (int i = 0; i < 512; i++)
		sum += f[i];
	vu_put_be32(f + VHD_F_CHECKSUM, ~sum);
	return 4096 + 512;
}

/* A 1024-byte record protected by an update sequence array: good, torn,
 * and with each header field out of range. */
static void usa_record(uint8_t *rec)
{
	memset(rec, 0xa5, 1024);
	vu_put_le16(rec + VU_USA_OFS, 0x30);
	vu_put_le16(rec + VU_USA_COUNT, 3);
	vu_put_le16(rec + 0x30, 0x0007);	/* sequence number */
	vu_put_le16(rec + 0x32, 0x1111);	/* saved end of stride 1 */
	vu_put_le16(rec + 0x34, 0x2222);	/* ... of stride 2 */
	vu_put_le16(rec + 510, 0x0007);
	vu_put_le16(rec + 1022, 0x0007);
}

static void test_usa_fixup(void **state)
{
	uint8_t rec[1024];

	(void)state;
	usa_record(rec);
	assert_int_equal(vu_usa_fixup(rec, sizeof(rec)), 0);
	assert_int_equal(vu_le16(rec + 510), 0x1111);
	assert_int_equal(vu_le16(rec + 1022), 0x2222);

	usa_record(rec);			/* torn second stride */
	vu_put_le16(rec + 1022, 0x0008);
	assert_int_equal(vu_usa_fixup(rec, sizeof(rec)), -EUCLEAN);

	usa_record(rec);			/* one stride short */
	vu_put_le16(rec + VU_USA_COUNT, 2);
	assert_int_equal(vu_usa_fixup(rec, sizeof(rec)), -EUCLEAN);

	usa_record(rec);			/* array over its own header */
	vu_put_le16(rec + VU_USA_OFS, VU_USA_COUNT);
	assert_int_equal(vu_usa_fixup(rec, sizeof(rec)), -EUCLEAN);

	usa_record(rec);			/* odd offset */
	vu_put_le16(rec + VU_USA_OFS, 0x31);
	assert_int_equal(vu_usa_fixup(rec, sizeof(rec)), -EUCLEAN);

	usa_record(rec);			/* array past the end */
	vu_put_le16(rec + VU_USA_OFS, 1020);
	assert_int_equal(vu_usa_fixup(rec, sizeof(rec)), -EUCLEAN);

	usa_record(rec);			/* not a whole number of strides */
	assert_int_equal(vu_usa_fixup(rec, 1000), -EUCLEAN);
}

static void test_vhd_footer(void **state)
{
	static uint8_t img[4096 + 512];
	struct vhd_meta m;
	struct vu_blk *b;
	size_t n = make_fixed_vhd(img);

	(void)state;
	assert_int_equal(vu_mem_open(img, n, "f.vhd", &b), 0);
	assert_true(vhd_detect(b));
	assert_int_equal(vhd_check(b, &m), 0);
	assert_int_equal(m.disk_type, VHD_TYPE_FIXED);
	assert_int_equal(m.current_size, 4096);
	vu_blk_unref(b);

	/* every single-byte corruption of the footer is caught or harmless;
	 * a changed checksummed byte is always caught */
	for (int i = 0; i < 512; i++) {
		make_fixed_vhd(img);
		img[4096 + i] ^= 0x5a;
		assert_int_equal(vu_mem_open(img, n, "f.vhd", &b), 0);
		if (vhd_detect(b)) {
			int r = vhd_check(b, &m);
			if (i >= VHD_F_CHECKSUM && i < VHD_F_CHECKSUM + 4)
				assert_int_equal(r, -EUCLEAN);
			else if (i >= 8)
				assert_int_equal(r, -EUCLEAN);
			if (r == 0)
				vhd_meta_free(&m);
		}
		vu_err_clear();
		vu_blk_unref(b);
	}

	/* a fixed VHD whose data is shorter than the footer says */
	make_fixed_vhd(img);
	vu_put_be32(img + 4096 + VHD_F_CURRENT_SIZE + 4, 8192);
	{
		uint8_t *f = img + 4096;
		uint32_t sum = 0;
		vu_put_be32(f + VHD_F_CHECKSUM, 0);
		for (int i = 0; i < 512; i++)
			sum += f[i];
		vu_put_be32(f + VHD_F_CHECKSUM, ~sum);
	}
	assert_int_equal(vu_mem_open(img, n, "short.vhd", &b), 0);
	assert_int_equal(vhd_check(b, &m), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "truncated"));
	vu_err_clear();
	vu_blk_unref(b);

	/* truncation at every length: never a crash */
	make_fixed_vhd(img);
	for (size_t len = 1; len < n; len += 37) {
		assert_int_equal(vu_mem_open(img, len, "t.vhd", &b), 0);
		if (vhd_detect(b) && vhd_check(b, &m) == 0)
			vhd_meta_free(&m);
		vu_err_clear();
		vu_blk_unref(b);
	}
}

static void test_vhdx_short_and_zeroed(void **state)
{
	static uint8_t img[384 * 1024];
	struct vhdx_meta m;
	struct vu_blk *b;

	(void)state;
	memset(img, 0, sizeof(img));
	memcpy(img, VHDX_SIGNATURE, 8);
	assert_int_equal(vu_mem_open(img, 100000, "s.vhdx", &b), 0);
	assert_true(vhdx_detect(b));
	assert_int_equal(vhdx_check(b, &m), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "truncated"));
	vu_err_clear();
	vu_blk_unref(b);
	assert_int_equal(vu_mem_open(img, sizeof(img), "z.vhdx", &b), 0);
	assert_int_equal(vhdx_check(b, &m), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "both headers"));
	vu_err_clear();
	vu_blk_unref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_bounds),
		cmocka_unit_test(test_slice_and_desc),
		cmocka_unit_test(test_fault_injection),
		cmocka_unit_test(test_first_error_wins),
		cmocka_unit_test(test_crc_vectors),
		cmocka_unit_test(test_guid),
		cmocka_unit_test(test_utf16),
		cmocka_unit_test(test_usa_fixup),
		cmocka_unit_test(test_vhd_footer),
		cmocka_unit_test(test_vhdx_short_and_zeroed),
	};

	vu_log_set_sink(NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
