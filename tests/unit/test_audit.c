/* audit: the classification of 512-byte units (ciphertext, zeros, fill,
 * plaintext structures, text, low entropy) and the sampler over a memory
 * volume with plaintext planted at known places. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit/audit_int.h"
#include "core/blk.h"
#include "core/bytes.h"

/* xorshift64*: deterministic bytes that look random */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rng ^= rng >> 12;
		rng ^= rng << 25;
		rng ^= rng >> 27;
		p[i] = (uint8_t)((rng * 0x2545F4914F6CDD1DULL) >> 56);
	}
}

static enum audit_class classify(const uint8_t *s, const char **what)
{
	return audit_classify(s, AUDIT_UNIT, what);
}

static void random_units_are_ciphertext(void **state)
{
	uint8_t s[AUDIT_UNIT];
	const char *what;

	(void)state;
	/* 200,000 units (100 MiB): no false plaintext, no low entropy */
	for (int i = 0; i < 200000; i++) {
		fill_random(s, sizeof(s));
		assert_int_equal(classify(s, &what), AUDIT_CIPHERTEXT);
		assert_null(what);
	}
	fill_random(s, sizeof(s));
	assert_true(audit_entropy(s, sizeof(s)) > 7.4);
}

static void zeros_and_fill(void **state)
{
	uint8_t s[AUDIT_UNIT];
	const char *what;

	(void)state;
	memset(s, 0, sizeof(s));
	assert_int_equal(classify(s, &what), AUDIT_ZERO);
	memset(s, 0xff, sizeof(s));
	assert_int_equal(classify(s, &what), AUDIT_FILL);
	assert_true(audit_entropy(s, sizeof(s)) == 0);
	s[100] = 0;
	assert_int_not_equal(classify(s, &what), AUDIT_FILL);
}

static void ntfs_records(void **state)
{
	static const char *const magics[] = { "FILE", "INDX", "RCRD", "RSTR" };
	uint8_t s[AUDIT_UNIT];
	const char *what;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		fill_random(s, sizeof(s));
		memcpy(s, magics[i], 4);
		vu_put_le16(s + 4, 0x30); /* update sequence array offset */
		vu_put_le16(s + 6, 3);	  /* and count (1 KiB record) */
		assert_int_equal(classify(s, &what), AUDIT_PLAINTEXT);
		assert_non_null(what);
		assert_non_null(strstr(what, "NTFS"));
		/* an impossible array is not a record */
		vu_put_le16(s + 6, 0);
		assert_int_not_equal(classify(s, &what), AUDIT_PLAINTEXT);
	}
}

static void ext_and_xfs(void **state)
{
	uint8_t s[AUDIT_UNIT];
	const char *what;

	(void)state;
	fill_random(s, sizeof(s));
	vu_put_le32(s, 6144);	   /* inodes */
	vu_put_le32(s + 4, 24576); /* blocks */
	vu_put_le32(s + 20, 0);	   /* first data block */
	vu_put_le32(s + 24, 2);	   /* 4 KiB blocks */
	vu_put_le16(s + 56, 0xEF53);
	assert_int_equal(classify(s, &what), AUDIT_PLAINTEXT);
	assert_string_equal(what, "ext superblock");
	vu_put_le32(s + 24, 99);   /* impossible block size */
	assert_int_not_equal(classify(s, &what), AUDIT_PLAINTEXT);

	fill_random(s, sizeof(s));
	memcpy(s, "XFSB", 4);
	s[4] = 0, s[5] = 0, s[6] = 0x10, s[7] = 0; /* 4096, big endian */
	assert_int_equal(classify(s, &what), AUDIT_PLAINTEXT);
	assert_string_equal(what, "XFS superblock");
	s[6] = 0x11; /* not a power of two */
	assert_int_not_equal(classify(s, &what), AUDIT_PLAINTEXT);

	fill_random(s, sizeof(s));
	s[0] = 'I', s[1] = 'N', s[2] = 0x81, s[3] = 0xa4; /* regular 0644 */
	s[4] = 3, s[5] = 2, s[16] = 0, s[17] = 0;
	s[152] = s[153] = s[154] = 0;
	assert_int_equal(classify(s, &what), AUDIT_PLAINTEXT);
	assert_string_equal(what, "XFS inode");
	s[5] = 9; /* no such data fork format */
	assert_int_not_equal(classify(s, &what), AUDIT_PLAINTEXT);
}

static void registry_and_text(void **state)
{
	uint8_t s[AUDIT_UNIT];
	const char *what;

	(void)state;
	fill_random(s, sizeof(s));
	memcpy(s, "regf", 4);
	vu_put_le32(s + 20, 1);
	vu_put_le32(s + 24, 5);
	assert_int_equal(classify(s, &what), AUDIT_PLAINTEXT);
	assert_string_equal(what, "registry hive header");

	fill_random(s, sizeof(s));
	memset(s + 100, 'a', 200);
	assert_int_equal(classify(s, &what), AUDIT_PLAINTEXT);
	assert_string_equal(what, "text");

	fill_random(s, sizeof(s));
	for (int i = 0; i < 80; i++) {
		s[10 + 2 * i] = (uint8_t)('A' + i % 26);
		s[11 + 2 * i] = 0;
	}
	assert_int_equal(classify(s, &what), AUDIT_PLAINTEXT);
	assert_string_equal(what, "UTF-16 text");

	/* neither random nor recognised: a short repeating binary pattern */
	for (size_t i = 0; i < sizeof(s); i++)
		s[i] = (uint8_t)(i % 16 * 17);
	assert_int_equal(classify(s, &what), AUDIT_LOW_ENTROPY);
	/* less than a unit is never called ciphertext */
	fill_random(s, sizeof(s));
	assert_int_equal(audit_classify(s, 100, &what), AUDIT_LOW_ENTROPY);
}

/* A 16 MiB memory volume of random bytes with two plaintext ranges: the
 * full scan finds exactly them; the 2% sample (one 64 KiB chunk in every
 * 50) is sure to meet the 4 MiB one. */
static void scan_finds_planted(void **state)
{
	size_t size = 16u << 20;
	uint8_t *vol = malloc(size);
	struct vu_blk *b = NULL;
	struct audit_area area = { 0, size };
	struct vu_audit_opts full = { .fraction = 1, .full = 1 };
	struct vu_audit_opts sample = { .fraction = 0.02 };
	struct vu_audit_scan sc = { 0 };
	uint64_t done = 0;

	(void)state;
	assert_non_null(vol);
	fill_random(vol, size);
	for (size_t i = 0; i < 4u << 20; i++) /* 4 MiB of text */
		vol[(4u << 20) + i] = "the quick brown fox jumps\n"[i % 26];
	memset(vol + (12u << 20) + 4096, 0x20, 512); /* one unit */
	memcpy(vol + (12u << 20) + 4096, "hello", 5);
	assert_int_equal(vu_mem_open(vol, size, "mem", &b), 0);

	assert_int_equal(audit_scan(b, &area, 1, &full, &done, size, &sc), 0);
	assert_int_equal(sc.sampled_bytes, size);
	assert_int_equal(sc.nfound, 2);
	assert_int_equal(sc.found[0].offset, 4u << 20);
	assert_int_equal(sc.found[0].length, 4u << 20);
	assert_int_equal(sc.found[1].offset, (12u << 20) + 4096);
	assert_int_equal(sc.found[1].length, 512);
	assert_int_equal(sc.units[AUDIT_PLAINTEXT], 8193);
	audit_scan_free(&sc);

	done = 0;
	assert_true(audit_scan_plan(&area, 1, &sample) < size / 20);
	assert_int_equal(audit_scan(b, &area, 1, &sample, &done, size, &sc), 0);
	assert_int_equal(sc.sampled_bytes, audit_scan_plan(&area, 1, &sample));
	assert_true(sc.nfound >= 1);
	assert_true(sc.found[0].offset >= 4u << 20);
	assert_true(sc.found[0].offset + sc.found[0].length <= 8u << 20);
	audit_scan_free(&sc);
	vu_blk_unref(b);
	free(vol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_units_are_ciphertext),
		cmocka_unit_test(zeros_and_fill),
		cmocka_unit_test(ntfs_records),
		cmocka_unit_test(ext_and_xfs),
		cmocka_unit_test(registry_and_text),
		cmocka_unit_test(scan_finds_planted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
