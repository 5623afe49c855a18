/* BitLocker unit tests: recovery password parsing, metadata parsing over a
 * synthetic volume built here (Windows 7+ layout, XTS-AES-128, protectors
 * for clear key, startup key, recovery password and password), fallback to
 * the other metadata copies, damaged/truncated/bit-flipped/zeroed inputs,
 * .BEK files in the Windows 10 (156 bytes) and 11 (180 bytes) layouts, and
 * the decrypted volume's segment map (relocated boot sectors, zeroed
 * metadata, partly encrypted tail).  Real Windows volumes are checked by
 * tests/integration/bitlocker.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bitlocker/bde.h"
#include "bitlocker/bde_format.h"
#include "bitlocker/bitlocker.h"
#include "core/blk.h"
#include "core/bytes.h"
#include "core/crc.h"
#include "core/error.h"
#include "core/guid.h"
#include "core/log.h"
#include "crypto/crypto.h"

/* ---- log capture ---- */

static char last_warning[1024];
static int nwarnings;

static void sink(enum vu_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level == VU_LOG_WARN) {
		snprintf(last_warning, sizeof(last_warning), "%s", msg);
		nwarnings++;
	}
}

/* ---- recovery passwords ---- */

static const char *rp_ok = "235818-357951-253979-013365-241120-245575-342914-591910";

static void test_recovery_parse(void **state)
{
	uint8_t key[16], key2[16];
	char buf[128];

	(void)state;
	assert_int_equal(bde_recovery_parse(rp_ok, key), 0);
	assert_int_equal(vu_le16(key), 235818 / 11);
	assert_int_equal(vu_le16(key + 14), 591910 / 11);
	/* no dashes, surrounding whitespace (a file with a newline) */
	snprintf(buf, sizeof(buf), "  %.6s%.6s%.6s%.6s%.6s%.6s%.6s%.6s\n",
		 rp_ok, rp_ok + 7, rp_ok + 14, rp_ok + 21, rp_ok + 28,
		 rp_ok + 35, rp_ok + 42, rp_ok + 49);
	assert_int_equal(bde_recovery_parse(buf, key2), 0);
	assert_memory_equal(key, key2, 16);
	assert_int_equal(vu_bde_recovery_password_check(rp_ok), 0);

	/* bad check digit in group 3 */
	vu_err_clear();
	snprintf(buf, sizeof(buf), "%s", rp_ok);
	buf[14 + 5] = buf[14 + 5] == '9' ? '0' : buf[14 + 5] + 1;
	assert_int_equal(bde_recovery_parse(buf, key), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "group 3"));
	assert_non_null(strstr(vu_errmsg(-EINVAL), "check digit"));
	/* a key that failed is not left behind */
	for (int i = 0; i < 16; i++)
		assert_int_equal(key[i], 0);

	/* group out of range: 720896 = 65536 * 11 */
	vu_err_clear();
	snprintf(buf, sizeof(buf), "%s", rp_ok);
	memcpy(buf + 49, "720896", 6);
	assert_int_equal(bde_recovery_parse(buf, key), -EINVAL);
	assert_non_null(strstr(vu_errmsg(-EINVAL), "group 8"));
	assert_non_null(strstr(vu_errmsg(-EINVAL), "range"));

	/* wrong lengths, misplaced dashes, other characters */
	const char *bad[] = {
		"",
		"235818-357951-253979-013365-241120-245575-342914",
		"235818-357951-253979-013365-241120-245575-342914-59191",
		"235818-357951-253979-013365-241120-245575-342914-5919100",
		"235818-357951-253979-013365-241120-245575-342914-591910-000000",
		"23581-8357951-253979-013365-241120-245575-342914-591910",
		"235818--357951-253979-013365-241120-245575-342914-591910",
		"-235818-357951-253979-013365-241120-245575-342914-591910",
		"235818-357951-253979013365-241120-245575-342914-591910",
		"235818 357951 253979 013365 241120 245575 342914 591910",
		"235818-357951-253979-013365-241120-245575-342914-59191x",
		"abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdef",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vu_err_clear();
		assert_int_equal(bde_recovery_parse(bad[i], key), -EINVAL);
		assert_non_null(strstr(vu_errmsg(-EINVAL), "recovery password"));
	}
	assert_int_equal(bde_recovery_parse(NULL, key), -EINVAL);
}

/* ---- a synthetic BitLocker volume ---- */

#define VOL_SIZE (1024 * 1024)
#define M1 0x10000u
#define M2 0x50000u
#define M3 0x90000u
#define RELOC 0x30000u
#define RELOC_SIZE 0x2000u

static const uint8_t vol_guid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
				      13, 14, 15, 16 };
static const uint8_t g_clear[16] = { 0xc1, 0xc1, 0xc1, 0xc1, 2, 2, 3, 3,
				     4, 4, 4, 4, 4, 4, 4, 4 };
static const uint8_t g_sk[16] = { 0x59, 0xf7, 0x81, 0x43, 0xf8, 0xc4, 0xe0,
				  0x4d, 0xbb, 0x61, 0xfc, 0x33, 0xa8, 0x31,
				  0xbd, 0xa5 };
static const uint8_t g_rp[16] = { 0x77, 0x77, 0x77, 0x77, 1, 1, 1, 1,
				  2, 2, 2, 2, 2, 2, 2, 2 };
static const uint8_t g_pw[16] = { 0x99, 0x99, 0x99, 0x99, 1, 1, 1, 1,
				  3, 3, 3, 3, 3, 3, 3, 3 };
static uint8_t vmk[32], fvek[32], clear_key[32], bek_key[32];
static uint8_t rp_salt[16], pw_salt[16];
static const char *password = "h\xc3\xa9llo w\xc3\xb6rld"; /* UTF-8 */

struct opts {
	uint64_t encrypted_size;	/* 0: the whole volume */
	int with_clear, with_sk, with_rp, with_pw;
	uint16_t method;
};

static uint8_t *vol;		/* the encrypted volume */
static uint8_t *plain;		/* what the decrypted volume must read */
static struct opts cur;

static size_t put_entry(uint8_t *p, uint16_t type, uint16_t vt,
			const void *val, size_t len)
{
	vu_put_le16(p, (uint16_t)(8 + len));
	vu_put_le16(p + 2, type);
	vu_put_le16(p + 4, vt);
	vu_put_le16(p + 6, 1);
	if (len)
		memcpy(p + 8, val, len);
	return 8 + len;
}

/* An AES-CCM value wrapping a key entry {method, key} under kek. */
static size_t put_ccm(uint8_t *p, uint16_t type, const uint8_t *kek,
		      uint16_t method, const uint8_t *key, size_t klen,
		      uint8_t nonce_tag)
{
	uint8_t pt[128], val[256];
	size_t ptlen = 12 + klen;

	vu_put_le16(pt, (uint16_t)ptlen);
	vu_put_le16(pt + 2, 0);
	vu_put_le16(pt + 4, BDE_VALUE_KEY);
	vu_put_le16(pt + 6, 1);
	vu_put_le32(pt + 8, method);
	memcpy(pt + 12, key, klen);
	memset(val, nonce_tag, 12);
	assert_int_equal(vu_aes_ccm_encrypt(kek, 32, val, pt, ptlen, val + 12,
					    val + 28), 0);
	return put_entry(p, type, BDE_VALUE_AES_CCM, val, 28 + ptlen);
}

static size_t put_vmk(uint8_t *p, const uint8_t guid[16], uint16_t prot,
		      const uint8_t *kek, const uint8_t *salt,
		      const uint8_t *clear, uint8_t tag)
{
	uint8_t val[512];
	size_t n = 28;

	memset(val, 0, 28);
	memcpy(val, guid, 16);
	vu_put_le64(val + 16, 132000000000000000ull);
	vu_put_le16(val + 26, prot);
	if (clear) {
		uint8_t k[36];

		vu_put_le32(k, 0x2000);
		memcpy(k + 4, clear, 32);
		n += put_entry(val + n, 0, BDE_VALUE_KEY, k, 36);
	}
	if (salt) {
		uint8_t s[20];

		vu_put_le32(s, 0x1000);
		memcpy(s + 4, salt, 16);
		n += put_entry(val + n, 0, BDE_VALUE_STRETCH_KEY, s, 20);
	}
	if (prot == BDE_PROT_STARTUP_KEY) {
		static const uint8_t ek[] = { 'E', 0, 'x', 0, 't', 0, 0, 0 };

		n += put_entry(val + n, 0, BDE_VALUE_STRING, ek, sizeof(ek));
	}
	n += put_ccm(val + n, 0, kek, 0x2003, vmk, 32, tag);
	return put_entry(p, BDE_ENTRY_VMK, BDE_VALUE_VMK, val, n);
}

static void stretch_from_init(const uint8_t init[32], const uint8_t salt[16],
			      uint8_t out[32])
{
	assert_int_equal(vu_bde_stretch(init, salt, out), 0);
}

static uint8_t rp_kek[32], pw_kek[32];
static int keks_ready;

static void make_keks(void)
{
	uint8_t key[16], init[32], u16[64], h[32];
	size_t n = 0;
	const char *s = "hello world";

	if (keks_ready)
		return;
	assert_int_equal(bde_recovery_parse(rp_ok, key), 0);
	assert_int_equal(vu_sha256(key, 16, init), 0);
	stretch_from_init(init, rp_salt, rp_kek);
	/* "héllo wörld" as UTF-16LE */
	for (size_t i = 0; s[i]; i++) {
		uint16_t c = (uint8_t)s[i];

		if (i == 1)
			c = 0xe9;
		if (i == 7)
			c = 0xf6;
		vu_put_le16(u16 + n, c);
		n += 2;
	}
	assert_int_equal(vu_sha256(u16, n, h), 0);
	assert_int_equal(vu_sha256(h, 32, init), 0);
	stretch_from_init(init, pw_salt, pw_kek);
	keks_ready = 1;
}

static void write_block(uint64_t off)
{
	uint8_t *b = vol + off;
	size_t pos = 112, block;
	static const uint8_t desc[] = { 'T', 0, 'E', 0, 'S', 0, 'T', 0, ' ', 0,
					0xe9, 0, 0, 0 };
	uint8_t vh[16];

	memset(b, 0, BDE_METADATA_AREA_SIZE);
	memcpy(b, BDE_SIGNATURE, 8);
	vu_put_le16(b + 10, 2);
	vu_put_le16(b + 12, BDE_STATE_ENCRYPTED);
	vu_put_le16(b + 14, BDE_STATE_ENCRYPTED);
	vu_put_le64(b + 16, cur.encrypted_size ? cur.encrypted_size : VOL_SIZE);
	vu_put_le32(b + 28, RELOC_SIZE / 512);
	vu_put_le64(b + 32, M1);
	vu_put_le64(b + 40, M2);
	vu_put_le64(b + 48, M3);
	vu_put_le64(b + 56, RELOC);
	/* metadata header */
	vu_put_le32(b + 68, 1);
	vu_put_le32(b + 72, 48);
	memcpy(b + 80, vol_guid, 16);
	vu_put_le32(b + 96, 10);
	vu_put_le32(b + 100, cur.method);
	vu_put_le64(b + 104, 132000000000000000ull);
	/* entries */
	pos += put_entry(b + pos, BDE_ENTRY_DESCRIPTION, BDE_VALUE_STRING, desc,
			 sizeof(desc));
	if (cur.with_clear)
		pos += put_vmk(b + pos, g_clear, BDE_PROT_CLEAR_KEY, clear_key,
			       NULL, clear_key, 1);
	if (cur.with_sk)
		pos += put_vmk(b + pos, g_sk, BDE_PROT_STARTUP_KEY, bek_key,
			       NULL, NULL, 2);
	if (cur.with_rp)
		pos += put_vmk(b + pos, g_rp, BDE_PROT_RECOVERY_PASSWORD,
			       rp_kek, rp_salt, NULL, 3);
	if (cur.with_pw)
		pos += put_vmk(b + pos, g_pw, BDE_PROT_PASSWORD, pw_kek,
			       pw_salt, NULL, 4);
	pos += put_ccm(b + pos, BDE_ENTRY_FVEK, vmk, cur.method, fvek, 32, 5);
	vu_put_le64(vh, RELOC);
	vu_put_le64(vh + 8, RELOC_SIZE);
	pos += put_entry(b + pos, BDE_ENTRY_VOLUME_HEADER,
			 BDE_VALUE_OFFSET_SIZE, vh, 16);
	vu_put_le32(b + 64, (uint32_t)(pos - 64));
	vu_put_le32(b + 76, (uint32_t)(pos - 64));
	block = (pos + 15) / 16 * 16;
	vu_put_le16(b + 8, (uint16_t)(block / 16));
	vu_put_le16(b + block, (uint16_t)(BDE_METADATA_AREA_SIZE - block));
	vu_put_le16(b + block + 2, 2);
	vu_put_le32(b + block + 4, vu_crc32(0, b, block));
}

/* Recompute copy i's CRC after an edit (to reach the parser behind it). */
static void fix_crc(uint64_t off)
{
	uint8_t *b = vol + off;
	size_t block = (size_t)vu_le16(b + 8) * 16;

	if (block + 8 <= BDE_METADATA_AREA_SIZE)
		vu_put_le32(b + block + 4, vu_crc32(0, b, block));
}

static void build(const struct opts *o)
{
	struct vu_sector_cipher *c;
	uint64_t enc;

	cur = *o;
	if (!cur.method)
		cur.method = BDE_METHOD_XTS_AES128;
	if (cur.with_rp || cur.with_pw)
		make_keks();
	enc = cur.encrypted_size ? cur.encrypted_size : VOL_SIZE;
	/* the plaintext view: an NTFS boot sector and a pattern */
	for (size_t i = 0; i < VOL_SIZE; i++)
		plain[i] = (uint8_t)(i * 7 + (i >> 9));
	memcpy(plain + 3, "NTFS    ", 8);
	plain[510] = 0x55;
	plain[511] = 0xaa;
	/* encrypted volume: data in place, the head moved to RELOC */
	memcpy(vol, plain, VOL_SIZE);
	memcpy(vol + RELOC, plain, RELOC_SIZE);
	assert_int_equal(vu_sector_cipher_new(VU_SECTOR_XTS_PLAIN64, fvek, 32,
					      512, &c), 0);
	assert_int_equal(vu_sector_encrypt(c, 0, vol, enc / 512), 0);
	vu_sector_cipher_free(c);
	/* what Windows shows: metadata and the relocated area read as zeros */
	memset(plain + M1, 0, BDE_METADATA_AREA_SIZE);
	memset(plain + M2, 0, BDE_METADATA_AREA_SIZE);
	memset(plain + M3, 0, BDE_METADATA_AREA_SIZE);
	memset(plain + RELOC, 0, RELOC_SIZE);
	/* the BitLocker volume header over sector 0 */
	memset(vol, 0, 512);
	memcpy(vol, BDE_BOOT_WIN7, 3);
	memcpy(vol + 3, BDE_SIGNATURE, 8);
	vu_put_le16(vol + 11, 512);
	vol[13] = 8;
	memcpy(vol + 160, BDE_GUID_NORMAL, 16);
	vu_put_le64(vol + 176, M1);
	vu_put_le64(vol + 184, M2);
	vu_put_le64(vol + 192, M3);
	vol[510] = 0x55;
	vol[511] = 0xaa;
	write_block(M1);
	write_block(M2);
	write_block(M3);
}

static const struct opts all_prot = { 0, 1, 1, 1, 1, 0 };
static const struct opts cheap_prot = { 0, 1, 1, 0, 0, 0 };

static int setup(void **state)
{
	(void)state;
	vol = malloc(VOL_SIZE);
	plain = malloc(VOL_SIZE);
	if (!vol || !plain)
		return -1;
	for (int i = 0; i < 32; i++) {
		vmk[i] = (uint8_t)(0x40 + i);
		fvek[i] = (uint8_t)(0x80 + 3 * i);
		clear_key[i] = (uint8_t)(0xc0 ^ i);
		bek_key[i] = (uint8_t)(0x11 * i + 5);
	}
	for (int i = 0; i < 16; i++) {
		rp_salt[i] = (uint8_t)(0xa0 + i);
		pw_salt[i] = (uint8_t)(0x50 + i);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(vol);
	free(plain);
	return 0;
}

static int open_vol(size_t len, struct vu_blk **blk, struct vu_bde **b)
{
	*b = NULL;
	assert_int_equal(vu_mem_open(vol, len, "bde", blk), 0);
	return vu_bde_open(*blk, b);
}

/* The decrypted volume reads as plain[], whole and in odd pieces. */
static void check_decrypted(struct vu_bde *b)
{
	struct vu_blk *dec;
	uint8_t *buf = malloc(VOL_SIZE);
	static const size_t pieces[] = { 1, 511, 513, 4096, 70001 };

	assert_non_null(buf);
	assert_int_equal(vu_bde_volume_open(b, &dec), 0);
	assert_int_equal(dec->size, VOL_SIZE);
	assert_non_null(strstr(dec->desc, "bitlocker(xts-128)"));
	assert_int_equal(vu_blk_read(dec, buf, VOL_SIZE, 0), 0);
	for (size_t i = 0; i < VOL_SIZE; i += 512)
		if (memcmp(buf + i, plain + i, 512))
			fail_msg("decrypted sector at %zu differs", i);
	for (size_t p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
		for (uint64_t off = 0; off < VOL_SIZE; off += pieces[p] * 3) {
			size_t n = pieces[p];

			if (off + n > VOL_SIZE)
				n = VOL_SIZE - off;
			assert_int_equal(vu_blk_read(dec, buf, n, off), 0);
			if (memcmp(buf, plain + off, n))
				fail_msg("read of %zu at %llu differs", n,
					 (unsigned long long)off);
		}
	}
	vu_blk_unref(dec);
	free(buf);
}

static uint8_t *make_bek(size_t *len, int win11, const uint8_t *key)
{
	uint8_t *f = calloc(1, 256);
	size_t pos = 48, ek;
	static const uint8_t name[] = { 'E', 0, 'x', 0, 't', 0, 'e', 0, 'r', 0,
					'n', 0, 'a', 0, 'l', 0, 'K', 0, 'e', 0,
					'y', 0, 0, 0 };
	uint8_t k[36];

	assert_non_null(f);
	vu_put_le32(f + 4, 1);
	vu_put_le32(f + 8, 48);
	memcpy(f + 16, g_sk, 16);
	vu_put_le32(f + 32, 1);
	vu_put_le64(f + 40, 132000000000000000ull);
	ek = pos;
	pos += 8;
	memcpy(f + pos, g_sk, 16);
	vu_put_le64(f + pos + 16, 132000000000000000ull);
	pos += 24;
	pos += put_entry(f + pos, 0, BDE_VALUE_STRING, name, sizeof(name));
	vu_put_le32(k, 0x2002);
	memcpy(k + 4, key, 32);
	pos += put_entry(f + pos, 0, BDE_VALUE_KEY, k, 36);
	if (win11)
		pos += put_entry(f + pos, BDE_ENTRY_VOLUME_GUID, BDE_VALUE_GUID,
				 vol_guid, 16);
	vu_put_le16(f + ek, (uint16_t)(pos - ek));
	vu_put_le16(f + ek + 2, BDE_ENTRY_STARTUP_KEY);
	vu_put_le16(f + ek + 4, BDE_VALUE_EXTERNAL_KEY);
	vu_put_le16(f + ek + 6, 1);
	vu_put_le32(f, (uint32_t)pos);
	vu_put_le32(f + 12, (uint32_t)pos);
	*len = pos;
	return f;
}

static void test_open_info(void **state)
{
	struct vu_blk *blk;
	struct vu_bde *b;
	const struct vu_bde_info *in;
	char g[VU_GUID_STRLEN];

	(void)state;
	build(&all_prot);
	assert_int_equal(open_vol(VOL_SIZE, &blk, &b), 0);
	in = vu_bde_info(b);
	vu_guid_format(vol_guid, g);
	assert_string_equal(in->volume_guid, g);
	assert_string_equal(in->description, "TEST \xc3\xa9");
	assert_string_equal(in->method_name, "aes-xts-128");
	assert_string_equal(in->variant, "windows 7+");
	assert_int_equal(in->sector_size, 512);
	assert_int_equal(in->metadata_copy, 0);
	assert_int_equal(in->header_offset, RELOC);
	assert_int_equal(in->header_size, RELOC_SIZE);
	assert_int_equal(in->encrypted_size, VOL_SIZE);
	assert_int_equal(in->partly_encrypted, 0);
	assert_int_equal(in->creation_time,
			 (132000000000000000ll - 116444736000000000ll) /
				 10000000);
	assert_int_equal(in->nprotectors, 4);
	assert_string_equal(in->protectors[0].type_name, "clear key");
	assert_string_equal(in->protectors[1].type_name, "startup key");
	assert_string_equal(in->protectors[1].guid,
			    "4381f759-c4f8-4de0-bb61-fc33a831bda5");
	assert_string_equal(in->protectors[2].type_name, "recovery password");
	assert_string_equal(in->protectors[3].type_name, "password");
	assert_false(vu_bde_is_unlocked(b));
	vu_bde_close(b);
	vu_blk_unref(blk);
}

static void test_unlock_each(void **state)
{
	struct vu_blk *blk;
	struct vu_bde *b;
	uint8_t *bek;
	size_t blen;

	(void)state;
	build(&all_prot);

	/* recovery password (dashes optional) */
	assert_int_equal(open_vol(VOL_SIZE, &blk, &b), 0);
	assert_int_equal(vu_bde_unlock_recovery_password(b, rp_ok), 0);
	assert_int_equal(vu_bde_unlocked_by(b), 2);
	assert_int_equal(vu_bde_unlock_recovery_password(b, rp_ok), 0);
	check_decrypted(b);
	vu_bde_close(b);
	vu_blk_unref(blk);

	/* user password */
	assert_int_equal(open_vol(VOL_SIZE, &blk, &b), 0);
	assert_int_equal(vu_bde_unlock_password(b, password), 0);
	assert_int_equal(vu_bde_unlocked_by(b), 3);
	vu_bde_close(b);
	vu_blk_unref(blk);

	/* startup key, both file layouts */
	for (int w11 = 0; w11 < 2; w11++) {
		bek = make_bek(&blen, w11, bek_key);
		assert_int_equal(blen, w11 ? 180 : 156);
		assert_int_equal(open_vol(VOL_SIZE, &blk, &b), 0);
		assert_int_equal(vu_bde_unlock_bek(b, bek, blen, "k.BEK"), 0);
		assert_int_equal(vu_bde_unlocked_by(b), 1);
		check_decrypted(b);
		vu_bde_close(b);
		vu_blk_unref(blk);
		free(bek);
	}

	/* clear key; the decrypted volume outlives the handle */
	{
		struct vu_blk *dec;
		uint8_t buf[512];

		assert_int_equal(open_vol(VOL_SIZE, &blk, &b), 0);
		assert_int_equal(vu_bde_unlock_clearkey(b), 0);
		assert_int_equal(vu_bde_volume_open(b, &dec), 0);
		vu_bde_close(b);
		vu_blk_unref(blk);
		assert_int_equal(vu_blk_read(dec, buf, 512, 0), 0);
		assert_memory_equal(buf, plain, 512);
		vu_blk_unref(dec);
	}
}

static void test_wrong_keys(void **state)
{
	struct vu_blk *blk;
	struct vu_bde *b;
	uint8_t *bek, other[32];
	size_t blen;
	char rp2[64];

	(void)state;
	build(&all_prot);
	assert_int_equal(open_vol(VOL_SIZE, &blk, &b), 0);

	/* right identifier, wrong key bytes: wrong key */
	memset(other, 0x33, 32);
	bek = make_bek(&blen, 0, other);
	vu_err_clear();
	assert_int_equal(vu_bde_unlock_bek(b, bek, blen, "k.BEK"), -EPERM);
	assert_non_null(strstr(vu_errmsg(-EPERM), "4381f759"));
	free(bek);

	/* another identifier: names every protector */
	bek = make_bek(&blen, 0, other);
	bek[16] ^= 0xff;
	bek[48 + 8] ^= 0xff;
	vu_err_clear();
	assert_int_equal(vu_bde_unlock_bek(b, bek, blen, "k.BEK"), -EPERM);
	assert_non_null(strstr(vu_errmsg(-EPERM), "matches no protector"));
	assert_non_null(strstr(vu_errmsg(-EPERM),
			       "startup key {4381f759-c4f8-4de0-bb61-fc33a831bda5}"));
	assert_non_null(strstr(vu_errmsg(-EPERM), "recovery password {"));
	assert_non_null(strstr(vu_errmsg(-EPERM), "clear key {"));
	free(bek);

	/* a well-formed recovery password that is not this one */
	snprintf(rp2, sizeof(rp2), "%s", rp_ok);
	memcpy(rp2, "000000", 6);
	vu_err_clear();
	assert_int_equal(vu_bde_unlock_recovery_password(b, rp2), -EPERM);
	assert_non_null(strstr(vu_errmsg(-EPERM), "recovery password"));
	/* a malformed one never reaches the stretch */
	memcpy(rp2, "000001", 6);
	assert_int_equal(vu_bde_unlock_recovery_password(b, rp2), -EINVAL);
	vu_err_clear();
	assert_int_equal(vu_bde_unlock_password(b, "wrong"), -EPERM);
	assert_int_equal(vu_bde_unlock_password(b, "\xff\xfe"), -EINVAL);
	assert_false(vu_bde_is_unlocked(b));
	{
		struct vu_blk *dec;

		assert_int_equal(vu_bde_volume_open(b, &dec), -ENOKEY);
	}
	vu_bde_close(b);
	vu_blk_unref(blk);

	/* no protector of the kind: -ENOKEY */
	build(&cheap_prot);
	assert_int_equal(open_vol(VOL_SIZE, &blk, &b), 0);
	vu_err_clear();
	assert_int_equal(vu_bde_unlock_password(b, "x"), -ENOKEY);
	assert_non_null(strstr(vu_errmsg(-ENOKEY), "its protectors are"));
	vu_err_clear();
	assert_int_equal(vu_bde_unlock_recovery_password(b, rp_ok), -ENOKEY);
	vu_bde_close(b);
	vu_blk_unref(blk);

	build(&(struct opts){ 0, 0, 1, 0, 0, 0 });
	assert_int_equal(open_vol(VOL_SIZE, &blk, &b), 0);
	vu_err_clear();
	assert_int_equal(vu_bde_unlock_clearkey(b), -ENOKEY);
	assert_non_null(strstr(vu_errmsg(-ENOKEY), "no clear key"));
	vu_bde_close(b);
	vu_blk_unref(blk);
}

/* Damaged data behind a good MAC or a damaged FVEK is -EUCLEAN, not a
 * wrong key. */
static void test_damaged_not_wrong(void **state)
{
	struct vu_blk *blk;
	struct vu_bde *b;
	uint8_t *bek;
	size_t blen;

	(void)state;
	build(&cheap_prot);
	/* flip a byte of the FVEK ciphertext in every copy */
	for (int c = 0; c < 3; c++) {
		uint64_t off = c == 0 ? M1 : c == 1 ? M2 : M3;
		struct bde_meta *m = malloc(sizeof(*m));
		char why[160];

		assert_non_null(m);
		assert_int_equal(bde_parse_block(vol + off,
						 BDE_METADATA_AREA_SIZE, off, m,
						 why, sizeof(why)), 0);
		((uint8_t *)m->fvek.data)[3] ^= 1;
		free(m);
		fix_crc(off);
	}
	bek = make_bek(&blen, 1, bek_key);
	assert_int_equal(open_vol(VOL_SIZE, &blk, &b), 0);
	vu_err_clear();
	assert_int_equal(vu_bde_unlock_bek(b, bek, blen, "k.BEK"), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "fvek"));
	vu_err_clear();
	assert_int_equal(vu_bde_unlock_clearkey(b), -EUCLEAN);
	vu_bde_close(b);
	vu_blk_unref(blk);
	free(bek);
}

static const uint64_t copies[3] = { M1, M2, M3 };

static void test_fallback(void **state)
{
	struct vu_blk *blk;
	struct vu_bde *b;
	char want[64];

	(void)state;
	build(&cheap_prot);
	/* each copy damaged in turn, three ways */
	for (int how = 0; how < 3; how++) {
		for (int c = 0; c < 3; c++) {
			uint8_t save[64];
			uint8_t *p = vol + copies[c];

			memcpy(save, p, sizeof(save));
			if (how == 0)
				memcpy(p, "XXXXXXXX", 8);	/* signature */
			else if (how == 1)
				p[200] ^= 0x10;			/* CRC */
			else
				memset(p, 0, 64);		/* zeroed */
			nwarnings = 0;
			last_warning[0] = '\0';
			assert_int_equal(open_vol(VOL_SIZE, &blk, &b), 0);
			assert_int_equal(vu_bde_info(b)->metadata_copy,
					 c == 0 ? 1 : 0);
			/* one warning, naming the damaged copy */
			assert_int_equal(nwarnings, 1);
			snprintf(want, sizeof(want), "copy %d at offset %u",
				 c + 1, (unsigned)copies[c]);
			assert_non_null(strstr(last_warning, want));
			if (how == 1)
				assert_non_null(strstr(last_warning, "CRC-32"));
			assert_int_equal(vu_bde_unlock_clearkey(b), 0);
			check_decrypted(b);
			vu_bde_close(b);
			vu_blk_unref(blk);
			if (how == 1)
				p[200] ^= 0x10;
			else
				memcpy(p, save, sizeof(save));
		}
	}
	/* copies 1 and 2 damaged: copy 3 */
	vol[M1] ^= 1;
	vol[M2] ^= 1;
	assert_int_equal(open_vol(VOL_SIZE, &blk, &b), 0);
	assert_int_equal(vu_bde_info(b)->metadata_copy, 2);
	vu_bde_close(b);
	vu_blk_unref(blk);
	/* all three: a clear error naming each */
	vol[M3] ^= 1;
	vu_err_clear();
	assert_int_equal(open_vol(VOL_SIZE, &blk, &b), -EUCLEAN);
	assert_null(b);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "every metadata copy"));
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "copy 3 at offset"));
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "signature"));
	vu_blk_unref(blk);
}

static void test_partial(void **state)
{
	struct vu_blk *blk;
	struct vu_bde *b;

	(void)state;
	build(&(struct opts){ 0x60000, 1, 0, 0, 0, 0 });
	assert_int_equal(open_vol(VOL_SIZE, &blk, &b), 0);
	assert_int_equal(vu_bde_info(b)->encrypted_size, 0x60000);
	assert_int_equal(vu_bde_info(b)->partly_encrypted, 1);
	assert_int_equal(vu_bde_unlock_clearkey(b), 0);
	check_decrypted(b);	/* the tail reads as stored */
	vu_bde_close(b);
	vu_blk_unref(blk);
}

static void test_unsupported(void **state)
{
	struct vu_blk *blk;
	struct vu_bde *b;

	(void)state;
	build(&(struct opts){ 0, 1, 0, 0, 0, 0x8009 });
	vu_err_clear();
	assert_int_equal(open_vol(VOL_SIZE, &blk, &b), -ENOTSUP);
	assert_non_null(strstr(vu_errmsg(-ENOTSUP), "0x8009"));
	vu_blk_unref(blk);
	/* not BitLocker at all */
	build(&cheap_prot);
	memcpy(vol + 3, "NTFS    ", 8);
	vu_err_clear();
	assert_int_equal(open_vol(VOL_SIZE, &blk, &b), -EUCLEAN);
	vu_blk_unref(blk);
}

/* Truncated, zeroed and bit-flipped volumes: an error or a volume, never a
 * crash (run under ASan/valgrind in CI). */
static void test_hostile_volume(void **state)
{
	struct vu_blk *blk;
	struct vu_bde *b;
	static const size_t cuts[] = { 0, 1, 511, 512, M1, M1 + 100, M1 + 1000,
				       M2 + 10, M3, M3 + 111, VOL_SIZE - 1 };

	(void)state;
	build(&cheap_prot);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		int r = open_vol(cuts[i], &blk, &b);

		assert_true(r == 0 || r == -EUCLEAN);
		if (r == 0 && vu_bde_unlock_clearkey(b) == 0) {
			struct vu_blk *dec;
			uint8_t buf[1024];

			if (vu_bde_volume_open(b, &dec) == 0) {
				(void)vu_blk_read(dec, buf, sizeof(buf), 0);
				vu_blk_unref(dec);
			}
		}
		vu_bde_close(b);
		vu_blk_unref(blk);
	}
	/* bit flips in the header and in every copy at once, with the CRC
	 * recomputed so that the entry parser sees them */
	for (size_t byte = 0; byte < 1200; byte++) {
		for (int bit = 0; bit < 8; bit += 7) {
			static uint8_t save[3][BDE_METADATA_AREA_SIZE], hdr[512];
			int r;

			memcpy(hdr, vol, 512);
			for (int c = 0; c < 3; c++) {
				memcpy(save[c], vol + copies[c],
				       BDE_METADATA_AREA_SIZE);
				vol[copies[c] + byte] ^= (uint8_t)(1 << bit);
				fix_crc(copies[c]);
			}
			if (byte < 512)
				vol[byte] ^= (uint8_t)(1 << bit);
			r = open_vol(VOL_SIZE, &blk, &b);
			assert_true(r == 0 || r == -EUCLEAN || r == -ENOTSUP);
			if (r == 0 && vu_bde_unlock_clearkey(b) == 0) {
				struct vu_blk *dec;
				uint8_t buf[4096];

				if (vu_bde_volume_open(b, &dec) == 0) {
					(void)vu_blk_read(dec, buf, 4096, 0);
					(void)vu_blk_read(dec, buf, 4096,
							  M1 - 2048);
					vu_blk_unref(dec);
				}
			}
			vu_bde_close(b);
			vu_blk_unref(blk);
			memcpy(vol, hdr, 512);
			for (int c = 0; c < 3; c++) {
				memcpy(vol + copies[c], save[c],
				       BDE_METADATA_AREA_SIZE);
			}
		}
	}
	/* everything zeroed */
	memset(vol, 0, VOL_SIZE);
	assert_int_equal(open_vol(VOL_SIZE, &blk, &b), -EUCLEAN);
	vu_blk_unref(blk);
}

static void test_bek_files(void **state)
{
	struct bde_bek k;
	uint8_t *bek;
	size_t blen;
	char guid[VU_GUID_STRLEN];

	(void)state;
	for (int w11 = 0; w11 < 2; w11++) {
		bek = make_bek(&blen, w11, bek_key);
		assert_int_equal(bde_bek_parse(bek, blen, "a.BEK", &k), 0);
		assert_memory_equal(k.guid, g_sk, 16);
		assert_int_equal(k.key_len, 32);
		assert_memory_equal(k.key, bek_key, 32);
		assert_int_equal(k.has_volume_guid, w11);
		bde_bek_free(&k);
		assert_int_equal(vu_bde_bek_guid(bek, blen, "a.BEK", guid), 0);
		assert_string_equal(guid,
				    "4381f759-c4f8-4de0-bb61-fc33a831bda5");
		/* every truncation is -EUCLEAN naming the file */
		for (size_t n = 0; n < blen; n++) {
			vu_err_clear();
			assert_int_equal(bde_bek_parse(bek, n, "a.BEK", &k),
					 -EUCLEAN);
			assert_non_null(strstr(vu_errmsg(-EUCLEAN), "a.BEK"));
			assert_null(k.key);
		}
		vu_err_clear();
		assert_int_equal(bde_bek_parse(bek, 100, "a.BEK", &k),
				 -EUCLEAN);
		assert_non_null(strstr(vu_errmsg(-EUCLEAN), "truncated"));
		/* bit flips: parsed or rejected, never a crash */
		for (size_t i = 0; i < blen * 8; i++) {
			bek[i / 8] ^= (uint8_t)(1 << (i % 8));
			if (bde_bek_parse(bek, blen, "a.BEK", &k) == 0)
				bde_bek_free(&k);
			bek[i / 8] ^= (uint8_t)(1 << (i % 8));
		}
		free(bek);
	}
	/* not a BEK file: text, zeros */
	{
		uint8_t z[200] = { 0 };
		const char *txt = "235818-357951-253979-013365-241120-245575-"
				  "342914-591910\n";

		vu_err_clear();
		assert_int_equal(bde_bek_parse(z, sizeof(z), "z.BEK", &k),
				 -EUCLEAN);
		assert_non_null(strstr(vu_errmsg(-EUCLEAN), "z.BEK"));
		assert_int_equal(bde_bek_parse((const uint8_t *)txt,
					       strlen(txt), "t.BEK", &k),
				 -EUCLEAN);
		assert_int_equal(bde_bek_parse(NULL, 0, NULL, &k), -EUCLEAN);
	}
	/* a key that is not 32 bytes */
	bek = make_bek(&blen, 0, bek_key);
	vu_put_le16(bek + 48 + 8 + 24 + 32, 8 + 4 + 16);
	vu_err_clear();
	assert_int_equal(bde_bek_parse(bek, blen, "s.BEK", &k), -EUCLEAN);
	free(bek);
}

static void test_utf16(void **state)
{
	static const uint8_t s[] = { 'A', 0, 0xe9, 0, 0x3d, 0xd8, 0x00, 0xde,
				     0x00, 0xd8, 'b', 0, 0, 0, 'x', 0 };
	char *u;

	(void)state;
	u = bde_utf16_to_utf8(s, sizeof(s));
	assert_string_equal(u, "A\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd" "b");
	free(u);
	u = bde_utf16_to_utf8(s, 3); /* odd length */
	assert_string_equal(u, "A");
	free(u);
	assert_int_equal(bde_filetime_to_unix(116444736000000000ull), 0);
	assert_int_equal(bde_filetime_to_unix(5), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recovery_parse),
		cmocka_unit_test(test_utf16),
		cmocka_unit_test(test_bek_files),
		cmocka_unit_test(test_open_info),
		cmocka_unit_test(test_unlock_each),
		cmocka_unit_test(test_wrong_keys),
		cmocka_unit_test(test_damaged_not_wrong),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_hostile_volume),
	};

	vu_log_set_sink(sink, NULL);
	vu_log_set_level(VU_LOG_WARN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
