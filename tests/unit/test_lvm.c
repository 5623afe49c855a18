/* LVM2: the metadata text parser, and synthetic PVs (label, pv_header,
 * mda header, text; checksums computed here bitwise, independent of
 * core/crc.c) for validation and the extent mapping of linear LVs, and
 * for assembling VGs from many PVs (lvm_assemble.h). */
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
#include "lvm/lvm.h"
#include "lvm/lvm_assemble.h"
#include "lvm/lvm_config.h"

/* ---- parser ---- */

static struct lvm_cfg *parse_ok(const char *t)
{
	struct lvm_cfg *c = NULL;

	vu_err_clear();
	assert_int_equal(lvm_cfg_parse(t, strlen(t), &c), 0);
	assert_non_null(c);
	return c;
}

static void parse_bad(const char *t, const char *msg)
{
	struct lvm_cfg *c = (struct lvm_cfg *)1;

	vu_err_clear();
	assert_int_equal(lvm_cfg_parse(t, strlen(t), &c), -EUCLEAN);
	assert_null(c);
	if (msg && !strstr(vu_errmsg(-EUCLEAN), msg))
		fail_msg("message \"%s\" lacks \"%s\"", vu_errmsg(-EUCLEAN),
			 msg);
}

static void test_parse_basic(void **state)
{
	const char *t = "# comment\nvg {\n id = \"a-b\" # trailing\n"
			"seqno = 7\n status = [\"READ\", \"WRITE\"]\n"
			" flags = []\n pvs {\n  pv0 { pe_start = 2048 }\n }\n"
			" esc = \"q\\\"uo\\\\te\"\n neg = -5\n f = 1.5\n}\n"
			"contents = \"Text Format Volume Group\"\nversion = 1\n";
	struct lvm_cfg *c = parse_ok(t);
	const struct lvm_cfg *vg = lvm_cfg_section(c, "vg"), *pv;
	const struct lvm_cfg *f;
	int64_t v = 0;

	(void)state;
	assert_non_null(vg);
	assert_string_equal(lvm_cfg_str(vg, "id"), "a-b");
	assert_int_equal(lvm_cfg_int(vg, "seqno", &v), 0);
	assert_int_equal(v, 7);
	assert_true(lvm_cfg_has_flag(vg, "status", "WRITE"));
	assert_false(lvm_cfg_has_flag(vg, "status", "VISIBLE"));
	assert_false(lvm_cfg_has_flag(vg, "flags", "READ"));
	pv = lvm_cfg_section(lvm_cfg_section(vg, "pvs"), "pv0");
	assert_int_equal(lvm_cfg_int(pv, "pe_start", &v), 0);
	assert_int_equal(v, 2048);
	assert_string_equal(lvm_cfg_str(vg, "esc"), "q\"uo\\te");
	assert_int_equal(lvm_cfg_int(vg, "neg", &v), 0);
	assert_int_equal(v, -5);
	f = lvm_cfg_get(vg, "f");
	assert_int_equal(f->v.type, LVM_V_FLOAT);
	assert_int_equal(lvm_cfg_int(vg, "f", &v), -ENOENT);
	assert_null(lvm_cfg_str(vg, "seqno")); /* wrong type */
	assert_null(lvm_cfg_section(vg, "id"));
	assert_int_equal(lvm_cfg_int(c, "version", &v), 0);
	lvm_cfg_free(c);
}

static void test_parse_numbers(void **state)
{
	struct lvm_cfg *c;
	int64_t v;

	(void)state;
	c = parse_ok("a = 9223372036854775807\nb = -9223372036854775808\n");
	assert_int_equal(lvm_cfg_int(c, "a", &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(lvm_cfg_int(c, "b", &v), 0);
	assert_true(v == INT64_MIN);
	lvm_cfg_free(c);
	parse_bad("a = 9223372036854775808\n", "out of range");
	parse_bad("a = 99999999999999999999999999\n", "out of range");
	parse_bad("a = -\n", "malformed number");
	parse_bad("a = 12abc\n", "malformed number");
	parse_bad("a = 1.2.3\n", "malformed number");
}

static void test_parse_truncated(void **state)
{
	const char *full = "vg {\n id = \"x\"\n a = [ \"pv0\", 0 ]\n}\n";
	size_t n = strlen(full);

	(void)state;
	parse_bad("vg {\n id = \"x", "unterminated string");
	parse_bad("vg {\n id = \"x\n\"\n}", "newline in a string");
	parse_bad("vg {\n a = [ \"pv0\", 0\n", "unterminated array");
	parse_bad("vg {\n a = 1\n", "line 3: unterminated section");
	parse_bad("}\n", "unbalanced");
	parse_bad("vg\n", "expected '=' or '{', found the end");
	parse_bad("a = \n", "expected a value");
	parse_bad("a = [ [ 1 ] ]\n", "expected a string or a number");
	parse_bad("a = [ 1 2 ]\n", "expected ',' or ']'");
	parse_bad("a b\n", "expected '=' or '{'");
	parse_bad("= 1\n", "expected a name");
	/* every prefix either parses or fails cleanly */
	for (size_t i = 0; i <= n; i++) {
		struct lvm_cfg *c = NULL;
		int r = lvm_cfg_parse(full, i, &c);

		assert_true(r == 0 || r == -EUCLEAN);
		lvm_cfg_free(c);
	}
	/* a NUL ends the text (lvm's size counts it) */
	{
		struct lvm_cfg *c = NULL;

		assert_int_equal(lvm_cfg_parse("a = 1\n\0garbage {", 17, &c), 0);
		lvm_cfg_free(c);
	}
}

static void test_parse_depth(void **state)
{
	char t[512];
	size_t k = 0;
	struct lvm_cfg *c;

	(void)state;
	for (int d = 0; d < LVM_CFG_MAX_DEPTH; d++)
		k += (size_t)snprintf(t + k, sizeof(t) - k, "s%d {", d);
	for (int d = 0; d < LVM_CFG_MAX_DEPTH; d++)
		t[k++] = '}';
	t[k] = '\0';
	c = parse_ok(t);
	lvm_cfg_free(c);
	k = 0;
	for (int d = 0; d <= LVM_CFG_MAX_DEPTH; d++)
		k += (size_t)snprintf(t + k, sizeof(t) - k, "s%d {", d);
	for (int d = 0; d <= LVM_CFG_MAX_DEPTH; d++)
		t[k++] = '}';
	t[k] = '\0';
	parse_bad(t, "nested too deeply");
	/* hostile: a very deep opening run stops at the limit */
	{
		size_t n = 100000;
		char *big = malloc(2 * n + 1);

		assert_non_null(big);
		for (size_t i = 0; i < n; i++)
			memcpy(big + 2 * i, "s{", 2);
		big[2 * n] = '\0';
		parse_bad(big, "nested too deeply");
		free(big);
	}
}

/* ---- synthetic PVs ---- */

static uint32_t ref_crc(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xf597a6cfu;

	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? crc >> 1 ^ 0xedb88320u : crc >> 1;
	}
	return crc;
}

#define PV_UUID "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define PV_UUID_FMT "AAAAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAAAA"
#define MDA_OFF 4096u
#define MDA_SIZE 16384u
#define PE_START 64u	/* sectors: 32 KiB */
#define EXTENT 8u	/* sectors: 4 KiB */
#define PE_COUNT 16u
#define IMG_SIZE (PE_START * 512 + PE_COUNT * EXTENT * 512)

/* the LV "lv" has two segments: extents 0-1 at PE 5, 2-4 at PE 1 */
static const char vg_text[] =
	"vg0 {\nid = \"BBBBBB-BBBB-BBBB-BBBB-BBBB-BBBB-BBBBBB\"\nseqno = 3\n"
	"extent_size = 8\nphysical_volumes {\npv0 {\n"
	"id = \"" PV_UUID_FMT "\"\ndevice = \"/dev/x\"\n"
	"dev_size = 1088\npe_start = 64\npe_count = 16\n}\n}\n"
	"logical_volumes {\nlv {\nid = \"CCCCCC-CCCC-CCCC-CCCC-CCCC-CCCC-CCCCCC\"\n"
	"status = [\"READ\", \"WRITE\", \"VISIBLE\"]\nsegment_count = 2\n"
	"segment1 {\nstart_extent = 0\nextent_count = 2\ntype = \"striped\"\n"
	"stripe_count = 1\nstripes = [\n\"pv0\", 5\n]\n}\n"
	"segment2 {\nstart_extent = 2\nextent_count = 3\ntype = \"striped\"\n"
	"stripe_count = 1\nstripes = [\n\"pv0\", 1\n]\n}\n}\n"
	"hid {\nid = \"DDDDDD-DDDD-DDDD-DDDD-DDDD-DDDD-DDDDDD\"\n"
	"status = [\"READ\"]\nsegment1 {\nstart_extent = 0\nextent_count = 1\n"
	"type = \"striped\"\nstripe_count = 1\nstripes = [\"pv0\", 0]\n}\n}\n"
	"thin {\nid = \"EEEEEE-EEEE-EEEE-EEEE-EEEE-EEEE-EEEEEE\"\n"
	"status = [\"READ\", \"VISIBLE\"]\nsegment1 {\nstart_extent = 0\n"
	"extent_count = 4\ntype = \"thin\"\nthin_pool = \"p\"\n}\n}\n"
	"}\n}\ncontents = \"Text Format Volume Group\"\nversion = 1\n";

struct pv_spec {
	const char *uuid;	/* 32 raw characters */
	const char *text;	/* NULL: a PV without metadata area */
	uint32_t text_at;	/* the text's offset in the mda (wraps when
				   near the end) */
	uint32_t mda_size;	/* bytes, at MDA_OFF */
	uint32_t pe_start;	/* sectors */
	uint32_t pe_count;	/* extents of EXTENT sectors */
	uint8_t fill;		/* PE k holds fill + k: reads show it */
};

static size_t pv_size(const struct pv_spec *s)
{
	return (size_t)s->pe_start * 512 + (size_t)s->pe_count * EXTENT * 512;
}

static uint8_t *build_pv(const struct pv_spec *s)
{
	size_t size = pv_size(s), tl = s->text ? strlen(s->text) + 1 : 0;
	uint8_t *b = calloc(1, size);
	uint8_t *lab = b + 512, *h = b + MDA_OFF;
	uint8_t *p;

	assert_non_null(b);
	assert_true(!s->text || MDA_OFF + s->mda_size <= s->pe_start * 512);
	memcpy(lab, "LABELONE", 8);
	vu_put_le64(lab + 8, 1);
	vu_put_le32(lab + 20, 32);
	memcpy(lab + 24, "LVM2 001", 8);
	p = lab + 32;
	memcpy(p, s->uuid, 32);
	vu_put_le64(p + 32, size);
	vu_put_le64(p + 40, (uint64_t)s->pe_start * 512); /* data, then 0 */
	if (s->text) {
		vu_put_le64(p + 72, MDA_OFF); /* metadata area, then 0 */
		vu_put_le64(p + 80, s->mda_size);
	}
	vu_put_le32(lab + 16, ref_crc(lab + 20, 512 - 20));
	for (uint32_t pe = 0; pe < s->pe_count; pe++)
		memset(b + s->pe_start * 512 + pe * EXTENT * 512,
		       (uint8_t)(s->fill + pe), EXTENT * 512);
	if (!s->text)
		return b;
	memcpy(h + 4, "\040\114\126\115\062\040\170\133\065\101\045\162\060"
		      "\116\052\076", 16);
	vu_put_le32(h + 20, 1);
	vu_put_le64(h + 24, MDA_OFF);
	vu_put_le64(h + 32, s->mda_size);
	vu_put_le64(h + 40, s->text_at);
	vu_put_le64(h + 48, tl);
	vu_put_le32(h + 56, ref_crc((const uint8_t *)s->text, tl));
	vu_put_le32(h, ref_crc(h + 4, 512 - 4));
	assert_true(tl <= s->mda_size - 512);
	for (size_t i = 0; i < tl; i++) {
		size_t o = s->text_at + i;

		if (o >= s->mda_size)
			o = o - s->mda_size + 512;
		h[o] = (uint8_t)s->text[i];
	}
	return b;
}

/* The single-PV image of IMG_SIZE bytes the map and damage tests use. */
static uint8_t *make_pv(const char *text, uint32_t text_at)
{
	const struct pv_spec s = {
		.uuid = PV_UUID, .text = text, .text_at = text_at,
		.mda_size = MDA_SIZE, .pe_start = PE_START,
		.pe_count = PE_COUNT, .fill = 'a',
	};

	return build_pv(&s);
}

static int open_vg(const uint8_t *img, size_t len, struct vu_lvm_vg **vg)
{
	struct vu_blk *b = NULL;
	struct vu_lvm_pv *pv = NULL;
	int r;

	vu_err_clear();
	r = vu_mem_open(img, len, "pv", &b);
	if (r == 0)
		r = vu_lvm_scan(b, &pv);
	vu_blk_unref(b); /* the PV holds its own reference */
	if (r == 0)
		r = vu_lvm_vg_open(&pv, 1, vg);
	vu_lvm_pv_free(pv);
	return r;
}

static void check_map(uint8_t *img)
{
	struct vu_lvm_vg *vg = NULL;
	struct vu_lvm_vg_info vi;
	struct vu_lvm_lv_info li;
	struct vu_blk *lv = NULL;
	static const char want[] = "fgbcd"; /* PE 5,6 then 1,2,3 */
	uint8_t buf[5 * EXTENT * 512];

	assert_int_equal(open_vg(img, IMG_SIZE, &vg), 0);
	vu_lvm_vg_info(vg, &vi);
	assert_string_equal(vi.name, "vg0");
	assert_int_equal(vi.extent_size, 8);
	assert_int_equal(vi.lv_count, 3);
	assert_int_equal(vu_lvm_vg_lv(vg, 0, &li), 0);
	assert_string_equal(li.name, "lv");
	assert_int_equal(li.size, 5 * EXTENT * 512);
	assert_string_equal(li.types, "linear");
	assert_true(li.supported && li.visible && !li.missing);
	assert_int_equal(vu_lvm_vg_lv(vg, 1, &li), 0);
	assert_false(li.visible);
	assert_int_equal(vu_lvm_vg_lv(vg, 2, &li), 0);
	assert_string_equal(li.types, "thin");
	assert_false(li.supported);
	assert_int_equal(vu_lvm_vg_lv(vg, 3, &li), -EINVAL);

	assert_int_equal(vu_lvm_lv_open(vg, "vg0/lv", &lv), 0);
	assert_int_equal(lv->size, sizeof(buf));
	assert_int_equal(vu_blk_read(lv, buf, sizeof(buf), 0), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], want[i / (EXTENT * 512)]);
	/* a read across the segment boundary */
	assert_int_equal(vu_blk_read(lv, buf, 10, 2 * EXTENT * 512 - 5), 0);
	assert_memory_equal(buf, "gggggbbbbb", 10);
	vu_blk_unref(lv);
	lv = NULL;
	assert_int_equal(vu_lvm_lv_open(vg, "thin", &lv), -ENOTSUP);
	assert_non_null(strstr(vu_errmsg(-ENOTSUP),
			       "LV vg0/thin: not supported: thin"));
	assert_int_equal(vu_lvm_lv_open(vg, "hid", &lv), -ENOTSUP);
	assert_int_equal(vu_lvm_lv_open(vg, "nope", &lv), -ENOENT);
	assert_null(lv);
	vu_lvm_vg_close(vg);
}

static void test_map(void **state)
{
	uint8_t *img = make_pv(vg_text, 512);

	(void)state;
	check_map(img);
	free(img);
}

static void test_map_wrapped_text(void **state)
{
	/* the text starts 100 bytes before the end of the circular buffer */
	uint8_t *img = make_pv(vg_text, MDA_SIZE - 100);

	(void)state;
	check_map(img);
	free(img);
}

static void test_damage(void **state)
{
	uint8_t *img = make_pv(vg_text, 512);
	struct vu_lvm_vg *vg = NULL;
	struct vu_blk *lv = NULL;

	(void)state;
	/* every single flipped byte in label, header and text: clean error
	 * (or harmless, in unchecked padding) and no crash */
	for (size_t o = 512; o < MDA_OFF + 512 + sizeof(vg_text); o++) {
		img[o] ^= 0x20;
		if (open_vg(img, IMG_SIZE, &vg) == 0)
			vu_lvm_vg_close(vg);
		vg = NULL;
		img[o] ^= 0x20;
	}
	img[MDA_OFF + 512 + 3] ^= 1;
	assert_int_equal(open_vg(img, IMG_SIZE, &vg), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "metadata text at 4608"));
	img[MDA_OFF + 512 + 3] ^= 1;
	img[512 + 40] ^= 1;
	assert_int_equal(open_vg(img, IMG_SIZE, &vg), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "label at 512: CRC"));
	img[512 + 40] ^= 1;
	/* truncated: scan works (metadata is near the start), the LV does not */
	assert_int_equal(open_vg(img, PE_START * 512 + 4 * EXTENT * 512, &vg),
			 0);
	assert_int_equal(vu_lvm_lv_open(vg, "lv", &lv), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN), "truncated PV"));
	vu_lvm_vg_close(vg);
	/* failing reads at every step */
	for (long n = 1; n < 8; n++) {
		vg = NULL;
		vu_blk_fault_after(n);
		if (open_vg(img, IMG_SIZE, &vg) == 0)
			vu_lvm_vg_close(vg);
		vu_blk_fault_after(0);
	}
	free(img);
}

static void test_bad_mapping(void **state)
{
	static const char *bad[] = {
		"stripes = [\n\"pv0\", 5\n]", "stripes = [\n\"pv9\", 5\n]",
		"stripes = [\n\"pv0\", 5\n]", "stripes = [\n\"pv0\", 15\n]",
		"stripes = [\n\"pv0\", 5\n]", "stripes = [\n\"pv0\"\n]",
		"start_extent = 0\nextent_count = 2", "start_extent = 1\nextent_count = 2",
		"extent_count = 2\n", "extent_count = 99999999999999999\n",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i += 2) {
		char text[sizeof(vg_text) + 64];
		const char *at = strstr(vg_text, bad[i]);
		struct vu_lvm_vg *vg = NULL;
		uint8_t *img;

		assert_non_null(at);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - vg_text),
			 vg_text, bad[i + 1], at + strlen(bad[i]));
		img = make_pv(text, 512);
		assert_int_equal(open_vg(img, IMG_SIZE, &vg), -EUCLEAN);
		assert_null(vg);
		free(img);
	}
}

/* ---- assembling VGs from many PVs ---- */

#define ASM_MDA 32768u /* room for the text of 70 PVs */
#define ASM_PE_START ((MDA_OFF + ASM_MDA) / 512) /* sectors */
#define ASM_PE_COUNT 2u

/* A growing text buffer for generated metadata. */
struct text {
	char *s;
	size_t len, cap;
};

static void tadd(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s ? t->s + t->len : NULL,
			      t->s ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if (t->s && (size_t)n < t->cap - t->len)
			break;
		t->cap = (t->cap + (size_t)n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		assert_non_null(t->s);
		if (t->len == 0)
			t->s[0] = '\0';
	}
	t->len += (size_t)n;
}

/* Raw 32-character ids: "P<tag>000...k" for PV k, "V<tag>000..." for
 * the VG, "L<tag>000..." for its LV. */
static void raw_id(char out[33], char kind, char tag, size_t k)
{
	snprintf(out, 33, "%c%c%030zu", kind, tag, k);
}

static void fmt_id(char out[39], const char *raw)
{
	static const int len[] = { 6, 4, 4, 4, 4, 4, 6 };
	size_t k = 0;

	for (size_t g = 0; g < 7; g++) {
		memcpy(out + k, raw, (size_t)len[g]);
		raw += len[g];
		k += (size_t)len[g];
		out[k++] = g < 6 ? '-' : '\0';
	}
}

/* VG name (ids tagged tag) of npv PVs, ASM_PE_COUNT extents each, and an
 * LV "lv" of npv one-extent segments: extent k on PV k at PE k % 2.
 * extent_size 0 makes the metadata invalid. */
static char *asm_text(const char *name, char tag, size_t npv,
		      unsigned extent_size)
{
	struct text t = { .s = NULL };
	char raw[33], id[39];

	raw_id(raw, 'V', tag, 0);
	fmt_id(id, raw);
	tadd(&t, "%s {\nid = \"%s\"\nseqno = 7\nextent_size = %u\n"
		 "physical_volumes {\n", name, id, extent_size);
	for (size_t k = 0; k < npv; k++) {
		raw_id(raw, 'P', tag, k);
		fmt_id(id, raw);
		tadd(&t, "pv%zu {\nid = \"%s\"\ndevice = \"/dev/x%zu\"\n"
			 "pe_start = %u\npe_count = %u\n}\n", k, id, k,
		     ASM_PE_START, ASM_PE_COUNT);
	}
	raw_id(raw, 'L', tag, 0);
	fmt_id(id, raw);
	tadd(&t, "}\nlogical_volumes {\nlv {\nid = \"%s\"\n"
		 "status = [\"READ\", \"VISIBLE\"]\n", id);
	for (size_t k = 0; k < npv; k++)
		tadd(&t, "segment%zu {\nstart_extent = %zu\nextent_count = 1\n"
			 "type = \"striped\"\nstripe_count = 1\n"
			 "stripes = [\"pv%zu\", %zu]\n}\n", k + 1, k, k, k % 2);
	tadd(&t, "}\n}\n}\ncontents = \"Text Format Volume Group\"\n"
		 "version = 1\n");
	return t.s;
}

/* PV k of the VG: PE e holds base + 2k + e. */
static uint8_t asm_byte(uint8_t base, size_t k, size_t e)
{
	return (uint8_t)(base + 2 * k + e);
}

/* Scan PV k of a VG made by asm_text (text NULL: no metadata on it). */
static struct vu_lvm_pv *asm_pv(const char *text, char tag, size_t k,
				uint8_t base)
{
	char raw[33];
	const struct pv_spec s = {
		.uuid = raw, .text = text, .text_at = 512,
		.mda_size = ASM_MDA, .pe_start = ASM_PE_START,
		.pe_count = ASM_PE_COUNT, .fill = asm_byte(base, k, 0),
	};
	struct vu_lvm_pv *pv = NULL;
	struct vu_blk *b = NULL;
	uint8_t *img;

	raw_id(raw, 'P', tag, k);
	img = build_pv(&s);
	assert_int_equal(vu_mem_open_owned(img, pv_size(&s), "pv", &b), 0);
	assert_int_equal(vu_lvm_scan(b, &pv), 0);
	vu_blk_unref(b); /* the PV holds its own reference */
	return pv;
}

/* LV "lv" of vg reads PV k's PE k % 2 at extent k, for every k. */
static void asm_check_lv(struct vu_lvm_vg *vg, size_t npv, uint8_t base)
{
	const size_t es = EXTENT * 512;
	struct vu_blk *lv = NULL;
	uint8_t *buf = malloc(npv * es);

	assert_non_null(buf);
	assert_int_equal(vu_lvm_lv_open(vg, "lv", &lv), 0);
	assert_int_equal(lv->size, npv * es);
	assert_int_equal(vu_blk_read(lv, buf, npv * es, 0), 0);
	for (size_t i = 0; i < npv * es; i++)
		if (buf[i] != asm_byte(base, i / es, i / es % 2))
			fail_msg("byte %zu: 0x%02x, expected 0x%02x", i, buf[i],
				 asm_byte(base, i / es, i / es % 2));
	/* across the boundary of the PVs 64 and 65 */
	if (npv > 65) {
		assert_int_equal(vu_blk_read(lv, buf, 4, 65 * es - 2), 0);
		assert_int_equal(buf[1], asm_byte(base, 64, 0));
		assert_int_equal(buf[2], asm_byte(base, 65, 1));
	}
	vu_blk_unref(lv);
	free(buf);
}

static void free_pvs(struct vu_lvm_pv **pvs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vu_lvm_pv_free(pvs[i]);
}

static void test_assemble_many(void **state)
{
	enum { N = 70 };
	char *text = asm_text("big", 'A', N, EXTENT);
	struct vu_lvm_pv *pvs[N + 1];
	struct vu_lvm_assembly a;
	struct vu_lvm_vg_info vi;

	(void)state;
	/* given in reverse, with a PV without metadata among them */
	for (size_t k = 0; k < N; k++)
		pvs[k] = asm_pv(text, 'A', N - 1 - k, 0);
	pvs[N] = asm_pv(NULL, 'Z', 0, 0);
	assert_int_equal(vu_lvm_assemble(pvs, N + 1, NULL, 0, &a), 0);
	free_pvs(pvs, N + 1); /* the VG holds what it needs */
	free(text);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.unassigned, 1);
	assert_string_equal(a.vgs[0].name, "big");
	assert_string_equal(a.vgs[0].uuid,
			    "VA0000-0000-0000-0000-0000-0000-000000");
	assert_int_equal(a.vgs[0].npvs, N);
	assert_int_equal(a.vgs[0].err, 0);
	assert_null(a.vgs[0].msg);
	vu_lvm_vg_info(a.vgs[0].vg, &vi);
	assert_int_equal(vi.pv_count, N);
	assert_int_equal(vi.missing_pvs, 0);
	asm_check_lv(a.vgs[0].vg, N, 0);
	vu_lvm_assembly_free(&a);
	assert_int_equal(a.n, 0);
	assert_null(a.vgs);
}

static void test_assemble_same_name(void **state)
{
	char *ta = asm_text("vg0", 'A', 2, EXTENT);
	char *tb = asm_text("vg0", 'B', 1, EXTENT);
	struct vu_lvm_pv *pvs[3];
	struct vu_lvm_assembly a;
	struct vu_lvm_vg *open;

	(void)state;
	/* interleaved: A's PV 1, B's PV 0, A's PV 0 */
	pvs[0] = asm_pv(ta, 'A', 1, 0);
	pvs[1] = asm_pv(tb, 'B', 0, 100);
	pvs[2] = asm_pv(ta, 'A', 0, 0);
	assert_int_equal(vu_lvm_assemble(pvs, 3, NULL, 0, &a), 0);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.vgs[0].name, "vg0");
	assert_string_equal(a.vgs[1].name, "vg0");
	assert_string_not_equal(a.vgs[0].uuid, a.vgs[1].uuid);
	assert_int_equal(a.vgs[0].npvs, 2);
	assert_int_equal(a.vgs[1].npvs, 1);
	assert_int_equal(a.vgs[0].err, 0);
	assert_int_equal(a.vgs[1].err, 0);
	asm_check_lv(a.vgs[0].vg, 2, 0);
	asm_check_lv(a.vgs[1].vg, 1, 100);

	/* A open already (a PV of it turns up later): only B opens, A is
	 * named as open */
	open = a.vgs[0].vg;
	a.vgs[0].vg = NULL; /* taken */
	vu_lvm_assembly_free(&a);
	assert_int_equal(vu_lvm_assemble(pvs, 3, &open, 1, &a), 0);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.vgs[0].err, -EEXIST);
	assert_null(a.vgs[0].vg);
	assert_int_equal(a.vgs[1].err, 0);
	asm_check_lv(a.vgs[1].vg, 1, 100);
	vu_lvm_assembly_free(&a);
	vu_lvm_vg_close(open);
	free_pvs(pvs, 3);
	free(ta);
	free(tb);
}

static void test_assemble_missing(void **state)
{
	char *ta = asm_text("three", 'A', 3, EXTENT);
	char *tb = asm_text("broken", 'B', 1, 0);
	struct vu_lvm_pv *pvs[3];
	struct vu_lvm_assembly a;
	struct vu_lvm_vg_info vi;
	struct vu_lvm_pv_info pi;
	struct vu_lvm_lv_info li;
	struct vu_blk *lv = NULL;

	(void)state;
	/* PV 1 of "three" not given; "broken" has extent_size 0 */
	pvs[0] = asm_pv(ta, 'A', 0, 0);
	pvs[1] = asm_pv(tb, 'B', 0, 0);
	pvs[2] = asm_pv(ta, 'A', 2, 0);
	assert_int_equal(vu_lvm_assemble(pvs, 3, NULL, 0, &a), 0);
	free_pvs(pvs, 3);
	free(ta);
	free(tb);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.vgs[0].err, 0);
	vu_lvm_vg_info(a.vgs[0].vg, &vi);
	assert_int_equal(vi.pv_count, 3);
	assert_int_equal(vi.missing_pvs, 1);
	assert_int_equal(vu_lvm_vg_pv(a.vgs[0].vg, 1, &pi), 0);
	assert_false(pi.present);
	assert_string_equal(pi.uuid, "PA0000-0000-0000-0000-0000-0000-000001");
	assert_int_equal(vu_lvm_vg_lv(a.vgs[0].vg, 0, &li), 0);
	assert_true(li.missing);
	vu_err_clear();
	assert_int_equal(vu_lvm_lv_open(a.vgs[0].vg, "lv", &lv), -ENOENT);
	assert_null(lv);
	assert_non_null(strstr(vu_errmsg(-ENOENT),
			       "pv1 (UUID PA0000-0000-0000-0000-0000-0000-"
			       "000001, last seen on /dev/x1) of VG three is "
			       "missing"));
	vu_err_clear();
	/* the broken VG is reported with its message, the other opened */
	assert_string_equal(a.vgs[1].name, "broken");
	assert_int_equal(a.vgs[1].err, -EUCLEAN);
	assert_null(a.vgs[1].vg);
	assert_non_null(a.vgs[1].msg);
	assert_non_null(strstr(a.vgs[1].msg, "extent_size"));
	assert_false(vu_err_isset()); /* the message moved into the result */
	vu_lvm_assembly_free(&a);

	/* nothing given: nothing assembled */
	assert_int_equal(vu_lvm_assemble(NULL, 0, NULL, 0, &a), 0);
	assert_int_equal(a.n, 0);
	assert_int_equal(vu_lvm_assemble(NULL, 1, NULL, 0, &a), -EINVAL);
	vu_err_clear();
}

/* ---- striped LVs ---- */

/* Three PVs of PE_COUNT extents; "st" is striped in two segments: 6
 * extents over pv0 PE 1, pv1 PE 2, pv2 PE 3 in 1 KiB chunks, then 4
 * extents over pv2 PE 10, pv0 PE 10 in 4 KiB chunks; "lin" is linear on
 * pv1 PE 12; "r1" is raid1. */
static const char st_text[] =
	"sv {\nid = \"SSSSSS-SSSS-SSSS-SSSS-SSSS-SSSS-SSSSSS\"\nseqno = 1\n"
	"extent_size = 8\nphysical_volumes {\n"
	"pv0 {\nid = \"S00000-0000-0000-0000-0000-0000-000000\"\n"
	"device = \"/dev/sda\"\npe_start = 64\npe_count = 16\n}\n"
	"pv1 {\nid = \"S00000-0000-0000-0000-0000-0000-000001\"\n"
	"device = \"/dev/sdb\"\npe_start = 64\npe_count = 16\n}\n"
	"pv2 {\nid = \"S00000-0000-0000-0000-0000-0000-000002\"\n"
	"device = \"/dev/sdc\"\npe_start = 64\npe_count = 16\n}\n}\n"
	"logical_volumes {\n"
	"st {\nid = \"TTTTTT-TTTT-TTTT-TTTT-TTTT-TTTT-TTTTTT\"\n"
	"status = [\"READ\", \"VISIBLE\"]\nsegment_count = 2\n"
	"segment1 {\nstart_extent = 0\nextent_count = 6\ntype = \"striped\"\n"
	"stripe_count = 3\nstripe_size = 2\n"
	"stripes = [\n\"pv0\", 1,\n\"pv1\", 2,\n\"pv2\", 3\n]\n}\n"
	"segment2 {\nstart_extent = 6\nextent_count = 4\ntype = \"striped\"\n"
	"stripe_count = 2\nstripe_size = 8\n"
	"stripes = [\n\"pv2\", 10,\n\"pv0\", 10\n]\n}\n}\n"
	"lin {\nid = \"UUUUUU-UUUU-UUUU-UUUU-UUUU-UUUU-UUUUUU\"\n"
	"status = [\"READ\", \"VISIBLE\"]\nsegment1 {\nstart_extent = 0\n"
	"extent_count = 2\ntype = \"striped\"\nstripe_count = 1\n"
	"stripes = [\"pv1\", 12]\n}\n}\n"
	"r1 {\nid = \"RRRRRR-RRRR-RRRR-RRRR-RRRR-RRRR-RRRRRR\"\n"
	"status = [\"READ\", \"VISIBLE\"]\nsegment1 {\nstart_extent = 0\n"
	"extent_count = 1\ntype = \"raid1\"\ndevice_count = 2\n"
	"raids = [\"x\", \"y\"]\n}\n}\n"
	"}\n}\ncontents = \"Text Format Volume Group\"\nversion = 1\n";

#define ST_SIZE (PE_START * 512 + PE_COUNT * EXTENT * 512)

/* Byte o of PV k's data area: which PV, which 512-byte sector, where in
 * it, so that a chunk read from the wrong place shows. */
static uint8_t st_byte(size_t k, size_t o)
{
	return (uint8_t)(k * 89 + (o / 512) * 7 + (o % 512) / 64);
}

/* Scan PV k of st_text (text being st_text or a variant), len bytes. */
static struct vu_lvm_pv *st_pv(const char *text, size_t k, size_t len)
{
	char raw[33];
	const struct pv_spec s = {
		.uuid = raw, .text = text, .text_at = 512,
		.mda_size = MDA_SIZE, .pe_start = PE_START,
		.pe_count = PE_COUNT,
	};
	struct vu_lvm_pv *pv = NULL;
	struct vu_blk *b = NULL;
	uint8_t *img;

	snprintf(raw, sizeof(raw), "S%031zu", k);
	img = build_pv(&s);
	for (size_t o = 0; o < PE_COUNT * EXTENT * 512; o++)
		img[PE_START * 512 + o] = st_byte(k, o);
	assert_int_equal(vu_mem_open_owned(img, len, "pv", &b), 0);
	assert_int_equal(vu_lvm_scan(b, &pv), 0);
	vu_blk_unref(b);
	return pv;
}

/* Open VG sv from the PVs in mask (bit k: PV k), PV 2 cut to len2. */
static int st_open(const char *text, unsigned mask, size_t len2,
		   struct vu_lvm_vg **vg)
{
	struct vu_lvm_pv *pvs[3];
	size_t n = 0;
	int r;

	for (size_t k = 0; k < 3; k++)
		if (mask & (1u << k))
			pvs[n++] = st_pv(text, k, k == 2 ? len2 : ST_SIZE);
	vu_err_clear();
	r = vu_lvm_vg_open(pvs, n, vg);
	free_pvs(pvs, n);
	return r;
}

/* The byte at LV offset x of "st", from the layout written out by hand:
 * (PV, data-area offset) of each chunk. */
static uint8_t st_want(size_t x)
{
	const size_t es = EXTENT * 512;

	if (x < 6 * es) { /* 1 KiB chunks over pv0@1, pv1@2, pv2@3 */
		size_t i = x / 1024, pe[3] = { 1, 2, 3 };
		size_t k = i % 3;

		return st_byte(k, pe[k] * es + (i / 3) * 1024 + x % 1024);
	}
	x -= 6 * es; /* 4 KiB chunks over pv2@10, pv0@10 */
	return st_byte((x / 4096) % 2 ? 0 : 2,
		       10 * es + (x / 4096 / 2) * 4096 + x % 4096);
}

static void test_striped(void **state)
{
	const size_t es = EXTENT * 512, size = 10 * es;
	struct vu_lvm_vg *vg = NULL;
	struct vu_lvm_lv_info li;
	struct vu_blk *lv = NULL;
	uint8_t *buf = malloc(size);

	(void)state;
	assert_non_null(buf);
	assert_int_equal(st_open(st_text, 7, ST_SIZE, &vg), 0);
	assert_int_equal(vu_lvm_vg_lv(vg, 0, &li), 0);
	assert_string_equal(li.types, "striped");
	assert_true(li.supported && !li.missing);
	assert_null(li.unsupported);
	assert_int_equal(li.size, size);
	assert_int_equal(vu_lvm_vg_lv(vg, 2, &li), 0);
	assert_false(li.supported);
	assert_string_equal(li.unsupported, "raid1");

	assert_int_equal(vu_lvm_lv_open(vg, "sv-st", &lv), 0);
	assert_int_equal(lv->size, size);
	/* one read of the whole LV: 40 runs, more than one lookup gives */
	memset(buf, 0, size);
	assert_int_equal(vu_blk_read(lv, buf, size, 0), 0);
	for (size_t x = 0; x < size; x++)
		if (buf[x] != st_want(x))
			fail_msg("st byte %zu: 0x%02x, expected 0x%02x", x,
				 buf[x], st_want(x));
	/* small reads across chunk, stripe-row and segment boundaries */
	for (size_t x = 1; x + 40 < size; x += 509) {
		assert_int_equal(vu_blk_read(lv, buf, 40, x), 0);
		for (size_t j = 0; j < 40; j++)
			assert_int_equal(buf[j], st_want(x + j));
	}
	assert_true(vu_blk_read(lv, buf, 1, size) < 0); /* past the end */
	vu_err_clear();
	vu_blk_unref(lv);
	lv = NULL;
	assert_int_equal(vu_lvm_lv_open(vg, "lin", &lv), 0);
	assert_int_equal(vu_blk_read(lv, buf, 2 * es, 0), 0);
	for (size_t x = 0; x < 2 * es; x++)
		assert_int_equal(buf[x], st_byte(1, 12 * es + x));
	vu_blk_unref(lv);
	lv = NULL;
	assert_int_equal(vu_lvm_lv_open(vg, "r1", &lv), -ENOTSUP);
	assert_non_null(strstr(vu_errmsg(-ENOTSUP),
			       "LV sv/r1: not supported: raid1"));
	vu_err_clear();
	vu_lvm_vg_close(vg);

	/* PV 2 cut inside stripe 2 of segment 1 */
	assert_int_equal(st_open(st_text, 7, PE_START * 512 + 4 * es, &vg), 0);
	assert_int_equal(vu_lvm_lv_open(vg, "st", &lv), -EUCLEAN);
	assert_non_null(strstr(vu_errmsg(-EUCLEAN),
			       "LV sv/st segment 1 stripe 2 needs bytes up "
			       "to 53248 of pv2"));
	vu_err_clear();
	vu_lvm_vg_close(vg);

	/* PV 2 missing: "st" needs it, "lin" does not */
	assert_int_equal(st_open(st_text, 3, ST_SIZE, &vg), 0);
	assert_int_equal(vu_lvm_vg_lv(vg, 0, &li), 0);
	assert_true(li.missing);
	assert_int_equal(vu_lvm_lv_open(vg, "st", &lv), -ENOENT);
	assert_non_null(strstr(vu_errmsg(-ENOENT),
			       "pv2 (UUID S00000-0000-0000-0000-0000-0000-"
			       "000002, last seen on /dev/sdc) of VG sv is "
			       "missing, LV st needs it"));
	vu_err_clear();
	assert_int_equal(vu_lvm_lv_open(vg, "lin", &lv), 0);
	vu_blk_unref(lv);
	vu_lvm_vg_close(vg);
	free(buf);
}

static void test_striped_bad(void **state)
{
	/* what to replace in st_text, with what, and what the error says */
	static const char *bad[][3] = {
		{ "stripe_size = 2", "stripe_size = 0",
		  "segment1: stripe_size 0" },
		{ "stripe_size = 2", "stripe_size = 3",
		  "stripe_size 3 sectors is not a power of two dividing the "
		  "16 sectors" },
		{ "stripe_size = 2", "stripe_size = 32", "stripe_size 32" },
		{ "stripe_size = 2\n", "", "stripe_size 0" },
		{ "stripe_count = 3", "stripe_count = 4",
		  "stripes is not a list of 4" },
		{ "stripe_count = 3", "stripe_count = 0",
		  "stripe_count missing" },
		{ "stripe_count = 2", "stripe_count = 99999999999999999",
		  "segment2: stripes is not a list" },
		{ "\"pv2\", 3\n", "\"pv2\"\n", "stripes is not a list of 3" },
		{ "\"pv2\", 3\n", "\"pv2\", 15\n", "LV st: segment1: stripe 2 "
		  "(extents 15+2) runs past the end of pv2 (pe_count 16)" },
		{ "\"pv2\", 3\n", "\"pv2\", -3\n", "stripes entry 2" },
		{ "\"pv2\", 3\n", "\"pv7\", 3\n", "stripe 2 is on pv7" },
		{ "\"pv1\", 2", "2, 2", "stripes entry 1" },
		{ "extent_count = 6", "extent_count = 7",
		  "extent_count 7 is not a multiple of stripe_count 3" },
		{ "extent_count = 6", "extent_count = 18446744073709551615",
		  "" },
		{ "\"pv0\", 10\n", "\"pv0\", 18446744073709551615\n", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[sizeof(st_text) + 64];
		const char *at = strstr(st_text, bad[i][0]);
		struct vu_lvm_vg *vg = NULL;
		uint8_t *img;
		int r;

		assert_non_null(at);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - st_text),
			 st_text, bad[i][1], at + strlen(bad[i][0]));
		/* scanning is the same with any valid text; only the PV
		 * with this text is given */
		img = make_pv(text, 512);
		r = open_vg(img, IMG_SIZE, &vg);
		free(img);
		if (r != -EUCLEAN)
			fail_msg("case %zu: %d, expected -EUCLEAN", i, r);
		assert_null(vg);
		if (!strstr(vu_errmsg(r), bad[i][2]))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i,
				 vu_errmsg(r), bad[i][2]);
		vu_err_clear();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_depth),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_map_wrapped_text),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_bad_mapping),
		cmocka_unit_test(test_assemble_many),
		cmocka_unit_test(test_assemble_same_name),
		cmocka_unit_test(test_assemble_missing),
		cmocka_unit_test(test_striped),
		cmocka_unit_test(test_striped_bad),
	};

	vu_log_set_sink(NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
