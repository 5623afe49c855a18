/* LUKS unit tests: cipher specifications, the LUKS2 segment list (idle,
 * reencryption in progress with backup segments, malformed, truncated,
 * oversized), keyslot digests, the LUKS1 header area size, and
 * vu_luks_open on zeroed, truncated and garbage sources.  Real volumes made
 * by cryptsetup are checked by tests/integration/luks.sh. */
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
#include "luks/luks.h"
#include "luks/luks_int.h"

static void test_cipher_parse(void **state)
{
	static const struct {
		const char *spec;
		size_t key;
		int err;
		enum vu_sector_mode mode;
	} t[] = {
		{ "aes-xts-plain64", 64, 0, VU_SECTOR_XTS_PLAIN64 },
		{ "aes-xts-plain64", 32, 0, VU_SECTOR_XTS_PLAIN64 },
		{ "aes-xts-plain64", 16, -ENOTSUP, 0 },
		{ "aes-cbc-essiv:sha256", 32, 0, VU_SECTOR_CBC_ESSIV },
		{ "aes-cbc-essiv:sha256", 16, 0, VU_SECTOR_CBC_ESSIV },
		{ "aes-cbc-plain64", 16, 0, VU_SECTOR_CBC_PLAIN64 },
		{ "aes-cbc-plain64", 20, -ENOTSUP, 0 },
		{ "serpent-xts-plain64", 64, -ENOTSUP, 0 },
		{ "twofish-xts-plain64", 64, -ENOTSUP, 0 },
		{ "aes-cbc-benbi", 32, -ENOTSUP, 0 },
		{ "aes-xts-plain", 64, -ENOTSUP, 0 },
		{ "", 32, -ENOTSUP, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum vu_sector_mode m = 99;

		vu_err_clear();
		assert_int_equal(luks_cipher_parse(t[i].spec, t[i].key, &m),
				 t[i].err);
		if (!t[i].err)
			assert_int_equal(m, t[i].mode);
		else if (t[i].spec[0])
			assert_non_null(strstr(vu_errmsg(t[i].err),
					       t[i].spec));
	}
}

static const char *idle_json =
	"{\"keyslots\":{\"0\":{\"type\":\"luks2\"}},"
	"\"segments\":{\"0\":{\"type\":\"crypt\",\"offset\":\"16777216\","
	"\"size\":\"dynamic\",\"iv_tweak\":\"0\",\"encryption\":"
	"\"aes-xts-plain64\",\"sector_size\":4096}},"
	"\"digests\":{\"0\":{\"keyslots\":[\"0\"],\"segments\":[\"0\"]}},"
	"\"config\":{\"keyslots_size\":\"16744448\"}}";

/* the metadata of a real interrupted `reencrypt --encrypt`
 * --reduce-device-size 32M on a 64 MiB file (luksDump --dump-json) */
static const char *reenc_json =
	"{\"keyslots\":{\"0\":{\"type\":\"luks2\"},\"1\":{\"type\":"
	"\"reencrypt\"}},\"segments\":{"
	"\"0\":{\"type\":\"linear\",\"offset\":\"50331648\",\"size\":"
	"\"16777216\"},"
	"\"1\":{\"type\":\"crypt\",\"offset\":\"33554432\",\"size\":"
	"\"16777216\",\"iv_tweak\":\"32768\",\"encryption\":"
	"\"aes-xts-plain64\",\"sector_size\":512},"
	"\"2\":{\"type\":\"linear\",\"offset\":\"0\",\"size\":\"33554432\","
	"\"flags\":[\"backup-previous\"]},"
	"\"3\":{\"type\":\"crypt\",\"offset\":\"16777216\",\"size\":"
	"\"dynamic\",\"iv_tweak\":\"0\",\"encryption\":\"aes-xts-plain64\","
	"\"sector_size\":512,\"flags\":[\"backup-final\"]},"
	"\"4\":{\"type\":\"linear\",\"offset\":\"50331648\",\"size\":"
	"\"16777216\",\"flags\":[\"backup-moved-segment\"]}},"
	"\"digests\":{\"0\":{\"keyslots\":[\"0\"],\"segments\":[\"1\",\"3\"]},"
	"\"1\":{\"keyslots\":[\"1\"],\"segments\":[]}}}";

static void test_segments(void **state)
{
	struct luks_seg s[LUKS_MAX_SEGS];
	size_t n = 9;

	(void)state;
	assert_int_equal(luks_segments_parse(idle_json, 64u << 20, s,
					     LUKS_MAX_SEGS, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].crypt, 1);
	assert_int_equal(s[0].start, 0);
	assert_int_equal(s[0].end, 48u << 20);
	assert_int_equal(s[0].phys, 16u << 20);
	assert_int_equal(s[0].sector_size, 4096);
	assert_int_equal(s[0].digest, 0);
	assert_string_equal(s[0].encryption, "aes-xts-plain64");
	/* dynamic rounds down to whole sectors */
	assert_int_equal(luks_segments_parse(idle_json, (64u << 20) + 1000, s,
					     LUKS_MAX_SEGS, &n), 0);
	assert_int_equal(s[0].end, 48u << 20);

	assert_int_equal(luks_segments_parse(reenc_json, 64u << 20, s,
					     LUKS_MAX_SEGS, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(s[0].crypt, 0);
	assert_int_equal(s[0].start, 0);
	assert_int_equal(s[0].end, 16u << 20);
	assert_int_equal(s[0].phys, 48u << 20);
	assert_int_equal(s[1].crypt, 1);
	assert_int_equal(s[1].start, 16u << 20);
	assert_int_equal(s[1].end, 32u << 20);
	assert_int_equal(s[1].phys, 32u << 20);
	assert_int_equal(s[1].iv_tweak, 32768);
	assert_int_equal(s[1].digest, 0);

	assert_int_equal(luks_keyslot_digest(reenc_json, 0), 0);
	assert_int_equal(luks_keyslot_digest(reenc_json, 1), 1);
	assert_int_equal(luks_keyslot_digest(reenc_json, 5), -1);
	assert_int_equal(luks_keyslot_digest("{", 0), -1);
	assert_int_equal(luks_keyslot_digest(NULL, 0), -1);
}

static void test_segments_bad(void **state)
{
	static const struct {
		const char *json;
		uint64_t dev;
		int err;
	} t[] = {
		{ "", 1 << 20, -EUCLEAN },
		{ "{", 1 << 20, -EUCLEAN },
		{ "[]", 1 << 20, -EUCLEAN },
		{ "{\"segments\":{}}", 1 << 20, -EUCLEAN },
		{ "{\"segments\":[]}", 1 << 20, -EUCLEAN },
		/* a hole in the numbering */
		{ "{\"segments\":{\"1\":{\"type\":\"linear\",\"offset\":\"0\","
		  "\"size\":\"512\"}}}", 1 << 20, -EUCLEAN },
		/* beyond the device */
		{ "{\"segments\":{\"0\":{\"type\":\"linear\",\"offset\":"
		  "\"1048576\",\"size\":\"512\"}}}", 1 << 20, -EUCLEAN },
		{ "{\"segments\":{\"0\":{\"type\":\"crypt\",\"offset\":"
		  "\"2097152\",\"size\":\"dynamic\",\"encryption\":"
		  "\"aes-xts-plain64\"}}}", 1 << 20, -EUCLEAN },
		/* an overflowing size */
		{ "{\"segments\":{\"0\":{\"type\":\"linear\",\"offset\":\"512\","
		  "\"size\":\"18446744073709551104\"}}}", 1 << 20, -EUCLEAN },
		{ "{\"segments\":{\"0\":{\"type\":\"linear\",\"offset\":\"-1\","
		  "\"size\":\"512\"}}}", 1 << 20, -EUCLEAN },
		{ "{\"segments\":{\"0\":{\"type\":\"linear\",\"offset\":\"0\","
		  "\"size\":\"12x\"}}}", 1 << 20, -EUCLEAN },
		/* dynamic not last */
		{ "{\"segments\":{\"0\":{\"type\":\"linear\",\"offset\":\"0\","
		  "\"size\":\"dynamic\"},\"1\":{\"type\":\"linear\","
		  "\"offset\":\"0\",\"size\":\"512\"}}}", 1 << 20, -EUCLEAN },
		/* odd sector size, no encryption, not whole sectors */
		{ "{\"segments\":{\"0\":{\"type\":\"crypt\",\"offset\":\"0\","
		  "\"size\":\"4096\",\"encryption\":\"aes-xts-plain64\","
		  "\"sector_size\":1000}}}", 1 << 20, -EUCLEAN },
		{ "{\"segments\":{\"0\":{\"type\":\"crypt\",\"offset\":\"0\","
		  "\"size\":\"4096\"}}}", 1 << 20, -EUCLEAN },
		{ "{\"segments\":{\"0\":{\"type\":\"crypt\",\"offset\":\"0\","
		  "\"size\":\"1000\",\"encryption\":\"aes-xts-plain64\"}}}",
		  1 << 20, -EUCLEAN },
		{ "{\"segments\":{\"99\":{\"type\":\"linear\",\"offset\":\"0\","
		  "\"size\":\"512\"}}}", 1 << 20, -EUCLEAN },
		{ "{\"segments\":{\"x\":{}}}", 1 << 20, -EUCLEAN },
		/* unsupported */
		{ "{\"segments\":{\"0\":{\"type\":\"crypt\",\"offset\":\"0\","
		  "\"size\":\"4096\",\"encryption\":\"aes-xts-plain64\","
		  "\"integrity\":{\"type\":\"hmac(sha256)\"}}}}", 1 << 20,
		  -ENOTSUP },
		{ "{\"segments\":{\"0\":{\"type\":\"zero\",\"offset\":\"0\","
		  "\"size\":\"512\"}}}", 1 << 20, -ENOTSUP },
	};
	struct luks_seg s[LUKS_MAX_SEGS];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		vu_err_clear();
		n = 7;
		assert_int_equal(luks_segments_parse(t[i].json, t[i].dev, s,
						     LUKS_MAX_SEGS, &n),
				 t[i].err);
		assert_int_equal(n, 0);
	}
	/* every truncation of a valid list fails cleanly */
	for (size_t len = 0; len < strlen(reenc_json); len++) {
		char *cut = strndup(reenc_json, len);

		assert_non_null(cut);
		vu_err_clear();
		assert_true(luks_segments_parse(cut, 64u << 20, s,
						LUKS_MAX_SEGS, &n) < 0);
		free(cut);
	}
	/* a table too small for the list */
	assert_int_equal(luks_segments_parse(reenc_json, 64u << 20, s, 1, &n),
			 -EUCLEAN);
}

static void test_luks1_size(void **state)
{
	uint8_t h[592];

	(void)state;
	memset(h, 0, sizeof(h));
	assert_int_equal(luks1_header_size(h, sizeof(h)), 0);
	memcpy(h, "LUKS\xba\xbe", 6);
	vu_put_be16(h + 6, 1);
	vu_put_be32(h + 104, 4096);	/* payload at 2 MiB */
	vu_put_be32(h + 108, 32);
	assert_int_equal(luks1_header_size(h, sizeof(h)), 2u << 20);
	assert_int_equal(luks1_header_size(h, 591), 0);
	/* detached: payload 0, the last key material decides */
	vu_put_be32(h + 104, 0);
	vu_put_be32(h + 208 + 48 * 7 + 40, 3592);
	vu_put_be32(h + 208 + 48 * 7 + 44, 4000);
	assert_int_equal(luks1_header_size(h, sizeof(h)),
			 3592u * 512 + 250 * 512);
	/* absurd key material offsets are ignored */
	vu_put_be32(h + 208 + 40, 0xffffffff);
	assert_int_equal(luks1_header_size(h, sizeof(h)),
			 3592u * 512 + 250 * 512);
	vu_put_be16(h + 6, 2);
	assert_int_equal(luks1_header_size(h, sizeof(h)), 0);
}

static void test_open_bad(void **state)
{
	static uint8_t buf[65536];
	struct vu_blk *m;
	struct vu_luks *l = (struct vu_luks *)1;

	(void)state;
	/* zeroed */
	assert_int_equal(vu_mem_open(buf, sizeof(buf), "zero", &m), 0);
	vu_err_clear();
	assert_int_equal(vu_luks_open(m, NULL, &l), -EUCLEAN);
	assert_null(l);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "no LUKS header"));
	vu_blk_unref(m);
	/* tiny */
	assert_int_equal(vu_mem_open(buf, 100, "tiny", &m), 0);
	vu_err_clear();
	assert_int_equal(vu_luks_open(m, NULL, &l), -EUCLEAN);
	vu_blk_unref(m);
	/* a LUKS1 magic whose payload lies beyond the source */
	memcpy(buf, "LUKS\xba\xbe", 6);
	vu_put_be16(buf + 6, 1);
	vu_put_be32(buf + 104, 4096);
	assert_int_equal(vu_mem_open(buf, sizeof(buf), "l1", &m), 0);
	vu_err_clear();
	assert_int_equal(vu_luks_open(m, NULL, &l), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "truncated"));
	/* fits, but libcryptsetup rejects the garbage */
	vu_put_be32(buf + 104, 8);
	vu_err_clear();
	assert_int_equal(vu_luks_open(m, NULL, &l), -EUCLEAN);
	vu_blk_unref(m);
	/* a LUKS2 magic with a bad checksum and no secondary */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "LUKS\xba\xbe", 6);
	vu_put_be16(buf + 6, 2);
	vu_put_be64(buf + 8, 16384);
	assert_int_equal(vu_mem_open(buf, sizeof(buf), "l2", &m), 0);
	vu_err_clear();
	assert_int_equal(vu_luks_open(m, NULL, &l), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "both LUKS2 headers"));
	vu_blk_unref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cipher_parse),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_segments_bad),
		cmocka_unit_test(test_luks1_size),
		cmocka_unit_test(test_open_bad),
	};

	vu_log_set_sink(NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
