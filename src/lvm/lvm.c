/* LVM2 physical volumes, volume groups and linear or striped logical
 * volumes, read from the on-disk format (see lvm_format.h and
 * lvm_config.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blk.h"
#include "core/bytes.h"
#include "core/crc.h"
#include "core/error.h"
#include "core/extent.h"
#include "core/log.h"
#include "lvm/lvm.h"
#include "lvm/lvm_config.h"
#include "lvm/lvm_format.h"

#define UUID_STR 39 /* 32 characters, 6 dashes, NUL */

struct vu_lvm_pv {
	struct vu_blk *blk;
	char uuid[UUID_STR];
	uint64_t dev_size;	/* bytes, from the pv_header */
	struct lvm_cfg *cfg;	/* NULL: no metadata */
	const struct lvm_cfg *vgsec;
	char vg_uuid[UUID_STR];
	int64_t seqno;
	char *text;		/* the metadata text, re-parsed by each VG */
	size_t tlen;
};

struct lvm_pvent {
	char *name;
	char uuid[UUID_STR];
	const char *device;
	uint64_t dev_size, pe_start, pe_count;
	struct vu_blk *blk; /* NULL: missing */
};

struct lvm_area {
	size_t pv;	/* index into vg->pvs */
	uint64_t pe;
};

struct lvm_seg {
	uint64_t start, count; /* extents */
	const char *type;
	uint64_t stripe_size;	/* sectors; 0 with one stripe */
	uint64_t area_len;	/* extents of each stripe: count / nareas */
	size_t nareas;		/* 0: a type not mapped */
	struct lvm_area *areas;
};

struct lvm_lv {
	const char *name;
	char uuid[UUID_STR];
	uint64_t extents;
	int visible, supported;
	const char *unsupported; /* the first segment type not mapped */
	char *types;
	size_t nseg;
	struct lvm_seg *segs;
};

struct vu_lvm_vg {
	struct lvm_cfg *cfg; /* owns the strings below */
	const char *name;
	char uuid[UUID_STR];
	uint64_t extent_size;
	int64_t seqno;
	size_t npv, nlv;
	struct lvm_pvent *pvs;
	struct lvm_lv *lvs;
};

/* LVM's CRC: reflected CRC-32 from 0xf597a6cf without final inversion;
 * vu_crc32 inverts on entry and exit, so chaining works with ~. */
static uint32_t lvm_crc(uint32_t crc, const void *buf, size_t len)
{
	return ~vu_crc32(~crc, buf, len);
}

static int uuid_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '!' || c == '#';
}

/* 32 raw characters -> 6-4-4-4-4-4-6; 0 or -1 when not an LVM id. */
static int uuid_format(const uint8_t *raw, char out[UUID_STR])
{
	size_t k = 0;

	for (size_t j = 0; j < LVM_ID_LEN; j++) {
		if (!uuid_char((char)raw[j]))
			return -1;
		out[k++] = (char)raw[j];
		if (j == 5 || j == 9 || j == 13 || j == 17 || j == 21 ||
		    j == 25)
			out[k++] = '-';
	}
	out[k] = '\0';
	return 0;
}

/* A metadata id "xxxxxx-xxxx-...": normalised through uuid_format. */
static int uuid_from_text(const char *s, char out[UUID_STR])
{
	uint8_t raw[LVM_ID_LEN];
	size_t n = 0;

	if (!s)
		return -1;
	for (; *s; s++) {
		if (*s == '-')
			continue;
		if (n == LVM_ID_LEN)
			return -1;
		raw[n++] = (uint8_t)*s;
	}
	return n == LVM_ID_LEN ? uuid_format(raw, out) : -1;
}

/* ---- scanning one PV ---- */

/* Read one metadata area at off (bytes) of size len: the newest VG text,
 * parsed into pv->cfg.  0 also when the area holds no metadata. */
static int read_mda(struct vu_lvm_pv *pv, uint64_t off, uint64_t len)
{
	struct vu_blk *b = pv->blk;
	uint8_t h[LVM_MDA_HEADER_SIZE];
	uint64_t toff, tsize, first;
	uint32_t want, got, flags;
	char *text = NULL;
	int r;

	if (len < LVM_MDA_HEADER_SIZE * 2 || off > b->size ||
	    len > b->size - off)
		return vu_blk_fail(b, -EUCLEAN,
				   "lvm: metadata area %" PRIu64 "+%" PRIu64
				   " is outside the device (size %" PRIu64 ")",
				   off, len, b->size);
	r = vu_blk_read(b, h, sizeof(h), off);
	if (r < 0)
		return r;
	if (memcmp(h + LVM_MDA_MAGIC, LVM_MDA_MAGIC_STR, LVM_MDA_MAGIC_LEN))
		return vu_blk_fail(b, -EUCLEAN,
				   "lvm: metadata area header at %" PRIu64
				   ": bad magic", off);
	want = vu_le32(h + LVM_MDA_CRC);
	got = lvm_crc(LVM_CRC_INIT, h + LVM_MDA_MAGIC,
		      sizeof(h) - LVM_MDA_MAGIC);
	if (got != want)
		return vu_blk_fail(b, -EUCLEAN,
				   "lvm: metadata area header at %" PRIu64
				   ": CRC 0x%08x, expected 0x%08x", off, got,
				   want);
	if (vu_le32(h + LVM_MDA_VERSION) != 1)
		return vu_blk_fail(b, -ENOTSUP,
				   "lvm: metadata area header at %" PRIu64
				   ": version %u, expected 1", off,
				   vu_le32(h + LVM_MDA_VERSION));
	if (vu_le64(h + LVM_MDA_START) != off ||
	    vu_le64(h + LVM_MDA_SIZE) != len)
		return vu_blk_fail(b, -EUCLEAN,
				   "lvm: metadata area header at %" PRIu64
				   ": start %" PRIu64 " size %" PRIu64
				   ", expected %" PRIu64 " %" PRIu64, off,
				   vu_le64(h + LVM_MDA_START),
				   vu_le64(h + LVM_MDA_SIZE), off, len);
	/* raw_locn[0] is the committed metadata */
	toff = vu_le64(h + LVM_MDA_RLOCN);
	tsize = vu_le64(h + LVM_MDA_RLOCN + 8);
	want = vu_le32(h + LVM_MDA_RLOCN + 16);
	flags = vu_le32(h + LVM_MDA_RLOCN + 20);
	if (flags & LVM_RLOCN_IGNORED || tsize == 0)
		return 0;
	if (toff < LVM_MDA_HEADER_SIZE || toff >= len ||
	    tsize > len - LVM_MDA_HEADER_SIZE || tsize > LVM_MAX_TEXT)
		return vu_blk_fail(b, -EUCLEAN,
				   "lvm: metadata area at %" PRIu64
				   ": text %" PRIu64 "+%" PRIu64
				   " does not fit the area (size %" PRIu64 ")",
				   off, toff, tsize, len);
	text = malloc((size_t)tsize);
	if (!text)
		return vu_fail(-ENOMEM, "out of memory");
	first = tsize < len - toff ? tsize : len - toff;
	r = vu_blk_read(b, text, (size_t)first, off + toff);
	if (r == 0 && first < tsize) /* wrapped around */
		r = vu_blk_read(b, text + first, (size_t)(tsize - first),
				off + LVM_MDA_HEADER_SIZE);
	if (r < 0)
		goto out;
	got = lvm_crc(LVM_CRC_INIT, text, (size_t)tsize);
	if (got != want) {
		r = vu_blk_fail(b, -EUCLEAN,
				"lvm: metadata text at %" PRIu64 "+%" PRIu64
				": CRC 0x%08x, expected 0x%08x",
				off + toff, tsize, got, want);
		goto out;
	}
	r = lvm_cfg_parse(text, (size_t)tsize, &pv->cfg);
	if (r < 0)
		goto out;
	/* the VG is the one top-level section */
	for (const struct lvm_cfg *c = pv->cfg->child; c; c = c->next)
		if (c->section) {
			pv->vgsec = c;
			break;
		}
	if (!pv->vgsec ||
	    uuid_from_text(lvm_cfg_str(pv->vgsec, "id"), pv->vg_uuid) < 0 ||
	    lvm_cfg_int(pv->vgsec, "seqno", &pv->seqno) < 0) {
		r = vu_blk_fail(b, -EUCLEAN,
				"lvm: metadata text at %" PRIu64
				": no volume group section with id and seqno",
				off + toff);
		lvm_cfg_free(pv->cfg);
		pv->cfg = NULL;
		pv->vgsec = NULL;
		goto out;
	}
	pv->text = text; /* transferred */
	pv->tlen = (size_t)tsize;
	return 0;
out:
	free(text);
	return r;
}

int vu_lvm_scan(struct vu_blk *blk, struct vu_lvm_pv **out)
{
	uint8_t s[LVM_SECTOR * LVM_LABEL_SCAN_SECTORS];
	struct vu_lvm_pv *pv = NULL;
	const uint8_t *lab = NULL, *p, *end;
	uint32_t off, want, got;
	int r, list = 0, mda_err = 0, mdas = 0;
	unsigned i;

	*out = NULL;
	if (!blk)
		return vu_fail(-EINVAL, "lvm: no device");
	if (blk->size < sizeof(s))
		return vu_blk_fail(blk, -EINVAL,
				   "lvm: too small for a physical volume");
	r = vu_blk_read(blk, s, sizeof(s), 0);
	if (r < 0)
		return r;
	for (i = 0; i < LVM_LABEL_SCAN_SECTORS && !lab; i++)
		if (!memcmp(s + i * LVM_SECTOR, LVM_LABEL_ID, 8))
			lab = s + i * LVM_SECTOR;
	if (!lab)
		return vu_blk_fail(blk, -EINVAL,
				   "lvm: no LVM2 label in the first %d sectors",
				   LVM_LABEL_SCAN_SECTORS);
	i--;
	want = vu_le32(lab + LVM_LH_CRC);
	got = lvm_crc(LVM_CRC_INIT, lab + LVM_LH_OFFSET,
		      LVM_SECTOR - LVM_LH_OFFSET);
	if (got != want)
		return vu_blk_fail(blk, -EUCLEAN,
				   "lvm: label at %u: CRC 0x%08x, expected "
				   "0x%08x", i * LVM_SECTOR, got, want);
	if (vu_le64(lab + LVM_LH_SECTOR) != i)
		return vu_blk_fail(blk, -EUCLEAN,
				   "lvm: label at %u: sector %" PRIu64
				   ", expected %u", i * LVM_SECTOR,
				   vu_le64(lab + LVM_LH_SECTOR), i);
	if (memcmp(lab + LVM_LH_TYPE, LVM_LABEL_TYPE, 8))
		return vu_blk_fail(blk, -ENOTSUP,
				   "lvm: label at %u: type \"%.8s\", expected "
				   "\"" LVM_LABEL_TYPE "\"", i * LVM_SECTOR,
				   (const char *)lab + LVM_LH_TYPE);
	off = vu_le32(lab + LVM_LH_OFFSET);
	if (off < LVM_LH_SIZE || off > LVM_SECTOR - LVM_PVH_AREAS)
		return vu_blk_fail(blk, -EUCLEAN,
				   "lvm: label at %u: pv_header offset %u "
				   "outside the sector", i * LVM_SECTOR, off);
	pv = calloc(1, sizeof(*pv));
	if (!pv)
		return vu_fail(-ENOMEM, "out of memory");
	pv->blk = vu_blk_ref(blk);
	p = lab + off;
	if (uuid_format(p, pv->uuid) < 0) {
		r = vu_blk_fail(blk, -EUCLEAN,
				"lvm: pv_header at %u: PV UUID is not an LVM id",
				i * LVM_SECTOR + off);
		goto fail;
	}
	pv->dev_size = vu_le64(p + LVM_PVH_DEVSIZE);
	end = lab + LVM_SECTOR;
	/* data areas (list 0), then metadata areas (list 1) */
	for (p += LVM_PVH_AREAS;; p += LVM_DISK_LOCN) {
		uint64_t a_off, a_size;

		if (p + LVM_DISK_LOCN > end) {
			r = vu_blk_fail(blk, -EUCLEAN,
					"lvm: pv_header at %u: area lists run "
					"past the label sector",
					i * LVM_SECTOR + off);
			goto fail;
		}
		a_off = vu_le64(p);
		a_size = vu_le64(p + 8);
		if (!a_off && !a_size) {
			if (list++)
				break;
			continue;
		}
		if (list == 0)
			continue; /* pe_start comes from the metadata */
		mdas++;
		if (pv->cfg)
			continue; /* the first good copy wins */
		r = read_mda(pv, a_off, a_size);
		if (r == -ENOMEM || r == -EIO)
			goto fail;
		if (r < 0 && !mda_err)
			mda_err = r;
	}
	if (mdas && !pv->cfg && mda_err) {
		r = mda_err;
		goto fail;
	}
	if (pv->dev_size > blk->size)
		vu_log(VU_LOG_WARN,
		       "%s: lvm: PV %s is %" PRIu64 " bytes, the device only %"
		       PRIu64 " (truncated?)", blk->desc, pv->uuid,
		       pv->dev_size, blk->size);
	*out = pv;
	return 0;
fail:
	vu_lvm_pv_free(pv);
	return r;
}

void vu_lvm_pv_free(struct vu_lvm_pv *pv)
{
	if (!pv)
		return;
	lvm_cfg_free(pv->cfg);
	free(pv->text);
	vu_blk_unref(pv->blk);
	free(pv);
}

const char *vu_lvm_pv_uuid(const struct vu_lvm_pv *pv)
{
	return pv->uuid;
}

const char *vu_lvm_pv_vg_name(const struct vu_lvm_pv *pv)
{
	return pv->vgsec ? pv->vgsec->key : "";
}

const char *vu_lvm_pv_vg_uuid(const struct vu_lvm_pv *pv)
{
	return pv->vgsec ? pv->vg_uuid : "";
}

/* ---- the VG model ---- */

static int meta_fail(const struct vu_lvm_vg *vg, const char *what,
		     const char *name, const char *problem)
{
	return vu_fail(-EUCLEAN, "lvm: VG %s: %s%s%s: %s", vg->name, what,
		       name ? " " : "", name ? name : "", problem);
}

static int get_u64(const struct lvm_cfg *sec, const char *key, uint64_t *out)
{
	int64_t v;

	if (lvm_cfg_int(sec, key, &v) < 0 || v < 0)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static size_t count_sections(const struct lvm_cfg *sec)
{
	size_t n = 0;

	for (const struct lvm_cfg *c = sec ? sec->child : NULL; c; c = c->next)
		n += c->section != 0;
	return n;
}

static int load_pvs(struct vu_lvm_vg *vg, const struct lvm_cfg *vgsec)
{
	const struct lvm_cfg *sec = lvm_cfg_section(vgsec, "physical_volumes");
	size_t k = 0;

	vg->npv = count_sections(sec);
	if (!vg->npv)
		return meta_fail(vg, "physical_volumes", NULL, "none listed");
	vg->pvs = calloc(vg->npv, sizeof(*vg->pvs));
	if (!vg->pvs)
		return vu_fail(-ENOMEM, "out of memory");
	for (const struct lvm_cfg *c = sec->child; c; c = c->next) {
		struct lvm_pvent *e;
		const char *dev;

		if (!c->section)
			continue;
		e = &vg->pvs[k++];
		e->name = c->key;
		dev = lvm_cfg_str(c, "device");
		e->device = dev ? dev : "";
		if (uuid_from_text(lvm_cfg_str(c, "id"), e->uuid) < 0)
			return meta_fail(vg, "PV", c->key, "bad or no id");
		if (get_u64(c, "pe_start", &e->pe_start) < 0 ||
		    get_u64(c, "pe_count", &e->pe_count) < 0)
			return meta_fail(vg, "PV", c->key,
					 "no pe_start or pe_count");
		if (get_u64(c, "dev_size", &e->dev_size) < 0)
			e->dev_size = 0;
		/* the data area must be addressable in bytes */
		if (e->pe_start > UINT64_MAX / 512 / 2 ||
		    (e->pe_count &&
		     e->pe_count > (UINT64_MAX / 512 / 2) / vg->extent_size))
			return meta_fail(vg, "PV", c->key,
					 "data area out of range");
		for (size_t j = 0; j + 1 < k; j++)
			if (!strcmp(vg->pvs[j].uuid, e->uuid) ||
			    !strcmp(vg->pvs[j].name, e->name))
				return meta_fail(vg, "PV", c->key,
						 "listed twice");
	}
	return 0;
}

static size_t find_pv(const struct vu_lvm_vg *vg, const char *name)
{
	for (size_t j = 0; j < vg->npv; j++)
		if (!strcmp(vg->pvs[j].name, name))
			return j;
	return SIZE_MAX;
}

/* Append type to the ","-joined list when it is not there yet. */
static int add_type(char **types, const char *t)
{
	size_t n = *types ? strlen(*types) : 0, tl = strlen(t);
	char *s;

	if (*types) {
		const char *p = *types;

		for (;;) {
			const char *q = strchr(p, ',');
			size_t l = q ? (size_t)(q - p) : strlen(p);

			if (l == tl && !memcmp(p, t, tl))
				return 0;
			if (!q)
				break;
			p = q + 1;
		}
	}
	s = realloc(*types, n + tl + 2);
	if (!s)
		return vu_fail(-ENOMEM, "out of memory");
	if (n)
		s[n++] = ',';
	memcpy(s + n, t, tl + 1);
	*types = s;
	return 0;
}

static int seg_fail(const struct vu_lvm_vg *vg, const struct lvm_lv *lv,
		    const char *seg, const char *fmt, ...) VU_PRINTF(4, 5);

/* "lvm: VG vg0: LV lv: segment1: ..." for what a segment's entries say. */
static int seg_fail(const struct vu_lvm_vg *vg, const struct lvm_lv *lv,
		    const char *seg, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return vu_fail(-EUCLEAN, "lvm: VG %s: LV %s: %s: %s", vg->name,
		       lv->name, seg, what);
}

/* The areas of a "striped" segment: stripes = [ "pv0", pe, "pv1", pe, ...
 * ], stripe_count pairs, each stripe extent_count / stripe_count extents
 * long from extent pe of its PV. */
static int load_stripes(struct vu_lvm_vg *vg, struct lvm_lv *lv,
			const struct lvm_cfg *c, struct lvm_seg *seg)
{
	const struct lvm_cfg *st = lvm_cfg_get(c, "stripes");
	uint64_t n;

	if (get_u64(c, "stripe_count", &n) < 0 || n == 0)
		return seg_fail(vg, lv, c->key, "stripe_count missing or 0");
	if (!st || st->section || st->v.type != LVM_V_ARRAY ||
	    st->v.n / 2 != n || st->v.n % 2)
		return seg_fail(vg, lv, c->key,
				"stripes is not a list of %" PRIu64
				" \"pvN\", extent pairs (stripe_count)", n);
	if (seg->count % n)
		return seg_fail(vg, lv, c->key,
				"extent_count %" PRIu64 " is not a multiple "
				"of stripe_count %" PRIu64, seg->count, n);
	seg->area_len = seg->count / n;
	seg->areas = calloc((size_t)n, sizeof(*seg->areas));
	if (!seg->areas)
		return vu_fail(-ENOMEM, "out of memory");
	seg->nareas = (size_t)n;
	for (size_t a = 0; a < seg->nareas; a++) {
		const struct lvm_value *pv = &st->v.items[2 * a];
		const struct lvm_value *pe = &st->v.items[2 * a + 1];
		const struct lvm_pvent *e;

		if (pv->type != LVM_V_STR || pe->type != LVM_V_INT ||
		    pe->i < 0)
			return seg_fail(vg, lv, c->key,
					"stripes entry %zu is not \"pvN\", "
					"extent", a);
		seg->areas[a].pv = find_pv(vg, pv->s);
		seg->areas[a].pe = (uint64_t)pe->i;
		if (seg->areas[a].pv == SIZE_MAX)
			return seg_fail(vg, lv, c->key,
					"stripe %zu is on %s, a PV the VG "
					"does not list", a, pv->s);
		e = &vg->pvs[seg->areas[a].pv];
		if (seg->areas[a].pe > e->pe_count ||
		    seg->area_len > e->pe_count - seg->areas[a].pe)
			return seg_fail(vg, lv, c->key,
					"stripe %zu (extents %" PRIu64 "+%"
					PRIu64 ") runs past the end of %s "
					"(pe_count %" PRIu64 ")", a,
					seg->areas[a].pe, seg->area_len,
					e->name, e->pe_count);
	}
	if (n > 1) {
		/* dm-stripe's rule: a power of two that divides each
		 * stripe's length, so chunk k lies whole on one stripe
		 * (the product is bounded: area_len fits a PV) */
		if (get_u64(c, "stripe_size", &seg->stripe_size) < 0 ||
		    seg->stripe_size == 0 ||
		    (seg->stripe_size & (seg->stripe_size - 1)) ||
		    seg->stripe_size > vg->extent_size * seg->area_len ||
		    (vg->extent_size * seg->area_len) % seg->stripe_size)
			return seg_fail(vg, lv, c->key,
					"stripe_size %" PRIu64 " sectors is "
					"not a power of two dividing the %"
					PRIu64 " sectors of each stripe",
					seg->stripe_size,
					vg->extent_size * seg->area_len);
	}
	return 0;
}

static int load_seg(struct vu_lvm_vg *vg, struct lvm_lv *lv,
		    const struct lvm_cfg *c, struct lvm_seg *seg)
{
	uint64_t stripes;
	int linear;

	if (get_u64(c, "start_extent", &seg->start) < 0 ||
	    get_u64(c, "extent_count", &seg->count) < 0 || !seg->count)
		return meta_fail(vg, "LV", lv->name,
				 "segment without start_extent/extent_count");
	seg->type = lvm_cfg_str(c, "type");
	if (!seg->type)
		return meta_fail(vg, "LV", lv->name, "segment without type");
	if (strcmp(seg->type, "striped")) {
		/* raid*, mirror, thin, cache, vdo, ...: listed, not mapped */
		if (add_type(&lv->types, seg->type) < 0)
			return -ENOMEM;
		if (!lv->unsupported)
			lv->unsupported = seg->type;
		lv->supported = 0;
		return 0;
	}
	linear = get_u64(c, "stripe_count", &stripes) == 0 && stripes == 1;
	if (add_type(&lv->types, linear ? "linear" : "striped") < 0)
		return -ENOMEM;
	return load_stripes(vg, lv, c, seg);
}

static int load_lv(struct vu_lvm_vg *vg, const struct lvm_cfg *c,
		   struct lvm_lv *lv)
{
	uint64_t next = 0;
	size_t k = 0;
	int r;

	lv->name = c->key;
	if (uuid_from_text(lvm_cfg_str(c, "id"), lv->uuid) < 0)
		return meta_fail(vg, "LV", c->key, "bad or no id");
	lv->visible = lvm_cfg_has_flag(c, "status", "VISIBLE");
	lv->supported = lv->visible;
	lv->nseg = count_sections(c);
	if (!lv->nseg)
		return meta_fail(vg, "LV", c->key, "no segments");
	lv->segs = calloc(lv->nseg, sizeof(*lv->segs));
	if (!lv->segs)
		return vu_fail(-ENOMEM, "out of memory");
	for (const struct lvm_cfg *s = c->child; s; s = s->next) {
		if (!s->section)
			continue;
		r = load_seg(vg, lv, s, &lv->segs[k++]);
		if (r < 0)
			return r;
	}
	/* lvm writes segments in order, each starting where the last ended */
	for (k = 0; k < lv->nseg; k++) {
		if (lv->segs[k].start != next ||
		    lv->segs[k].count > UINT64_MAX / 512 / 2 / vg->extent_size -
					    next)
			return meta_fail(vg, "LV", c->key,
					 "segments are not contiguous");
		next += lv->segs[k].count;
	}
	lv->extents = next;
	return 0;
}

static int load_vg(struct vu_lvm_vg *vg, const struct lvm_cfg *vgsec)
{
	const struct lvm_cfg *sec;
	size_t k = 0;
	int r;

	vg->name = vgsec->key;
	if (uuid_from_text(lvm_cfg_str(vgsec, "id"), vg->uuid) < 0 ||
	    lvm_cfg_int(vgsec, "seqno", &vg->seqno) < 0)
		return meta_fail(vg, "id", NULL, "missing");
	if (get_u64(vgsec, "extent_size", &vg->extent_size) < 0 ||
	    vg->extent_size == 0 || vg->extent_size > (1ull << 32))
		return meta_fail(vg, "extent_size", NULL, "missing or invalid");
	r = load_pvs(vg, vgsec);
	if (r < 0)
		return r;
	sec = lvm_cfg_section(vgsec, "logical_volumes");
	vg->nlv = count_sections(sec);
	if (!vg->nlv)
		return 0;
	vg->lvs = calloc(vg->nlv, sizeof(*vg->lvs));
	if (!vg->lvs)
		return vu_fail(-ENOMEM, "out of memory");
	for (const struct lvm_cfg *c = sec->child; c; c = c->next) {
		if (!c->section)
			continue;
		r = load_lv(vg, c, &vg->lvs[k++]);
		if (r < 0)
			return r;
	}
	return 0;
}

int vu_lvm_vg_open(struct vu_lvm_pv **pvs, size_t n, struct vu_lvm_vg **out)
{
	const struct vu_lvm_pv *best = NULL;
	struct vu_lvm_vg *vg;
	int r;

	*out = NULL;
	if (!pvs && n)
		return vu_fail(-EINVAL, "lvm: no physical volumes");
	for (size_t i = 0; i < n; i++) {
		if (!pvs[i]->cfg)
			continue;
		if (best && strcmp(best->vg_uuid, pvs[i]->vg_uuid))
			return vu_fail(-EINVAL,
				       "lvm: PV %s belongs to VG %s, PV %s to "
				       "VG %s", best->uuid,
				       vu_lvm_pv_vg_name(best), pvs[i]->uuid,
				       vu_lvm_pv_vg_name(pvs[i]));
		if (!best || pvs[i]->seqno > best->seqno)
			best = pvs[i];
	}
	if (!best)
		return vu_fail(-EINVAL, "lvm: no volume group metadata on the "
					"given physical volumes");
	vg = calloc(1, sizeof(*vg));
	if (!vg)
		return vu_fail(-ENOMEM, "out of memory");
	/* a tree of its own: the PVs may be freed first */
	r = lvm_cfg_parse(best->text, best->tlen, &vg->cfg);
	if (r < 0)
		goto fail;
	for (const struct lvm_cfg *c = vg->cfg->child; c; c = c->next)
		if (c->section) {
			r = load_vg(vg, c);
			break;
		}
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < vg->npv; j++)
			if (!strcmp(vg->pvs[j].uuid, pvs[i]->uuid))
				break;
		if (j == vg->npv) {
			r = vu_fail(-EINVAL, "lvm: PV %s is not in VG %s",
				    pvs[i]->uuid, vg->name);
			goto fail;
		}
		if (!vg->pvs[j].blk)
			vg->pvs[j].blk = vu_blk_ref(pvs[i]->blk);
	}
	*out = vg;
	return 0;
fail:
	vu_lvm_vg_close(vg);
	return r;
}

void vu_lvm_vg_close(struct vu_lvm_vg *vg)
{
	if (!vg)
		return;
	for (size_t i = 0; vg->pvs && i < vg->npv; i++)
		vu_blk_unref(vg->pvs[i].blk);
	for (size_t i = 0; vg->lvs && i < vg->nlv; i++) {
		for (size_t k = 0; vg->lvs[i].segs && k < vg->lvs[i].nseg; k++)
			free(vg->lvs[i].segs[k].areas);
		free(vg->lvs[i].segs);
		free(vg->lvs[i].types);
	}
	free(vg->pvs);
	free(vg->lvs);
	lvm_cfg_free(vg->cfg);
	free(vg);
}

static int lv_missing(const struct vu_lvm_vg *vg, const struct lvm_lv *lv,
		      size_t *which)
{
	for (size_t k = 0; k < lv->nseg; k++)
		for (size_t a = 0; a < lv->segs[k].nareas; a++)
			if (!vg->pvs[lv->segs[k].areas[a].pv].blk) {
				if (which)
					*which = lv->segs[k].areas[a].pv;
				return 1;
			}
	return 0;
}

void vu_lvm_vg_info(const struct vu_lvm_vg *vg, struct vu_lvm_vg_info *out)
{
	memset(out, 0, sizeof(*out));
	out->name = vg->name;
	out->uuid = vg->uuid;
	out->extent_size = vg->extent_size;
	out->seqno = (uint64_t)vg->seqno;
	out->pv_count = vg->npv;
	out->lv_count = vg->nlv;
	for (size_t i = 0; i < vg->npv; i++)
		out->missing_pvs += !vg->pvs[i].blk;
}

int vu_lvm_vg_pv(const struct vu_lvm_vg *vg, size_t i,
		 struct vu_lvm_pv_info *out)
{
	const struct lvm_pvent *e;

	memset(out, 0, sizeof(*out));
	if (i >= vg->npv)
		return -EINVAL;
	e = &vg->pvs[i];
	out->name = e->name;
	out->uuid = e->uuid;
	out->device = e->device;
	out->dev_size = e->dev_size;
	out->pe_start = e->pe_start;
	out->pe_count = e->pe_count;
	out->present = e->blk != NULL;
	return 0;
}

int vu_lvm_vg_lv(const struct vu_lvm_vg *vg, size_t i,
		 struct vu_lvm_lv_info *out)
{
	const struct lvm_lv *lv;

	memset(out, 0, sizeof(*out));
	if (i >= vg->nlv)
		return -EINVAL;
	lv = &vg->lvs[i];
	out->name = lv->name;
	out->uuid = lv->uuid;
	out->extents = lv->extents;
	out->size = lv->extents * vg->extent_size * 512; /* checked on load */
	out->segment_count = lv->nseg;
	out->types = lv->types ? lv->types : "";
	out->visible = lv->visible;
	out->supported = lv->supported;
	out->unsupported = lv->unsupported;
	out->missing = lv_missing(vg, lv, NULL);
	return 0;
}

/* ---- an LV as a block source: linear ones through an extent map over
 * their PVs, striped ones through a lookup ---- */

static struct lvm_lv *find_lv(struct vu_lvm_vg *vg, const char *name)
{
	size_t vl = strlen(vg->name);

	if (!strncmp(name, vg->name, vl) &&
	    (name[vl] == '/' || name[vl] == '-')) {
		for (size_t i = 0; i < vg->nlv; i++)
			if (!strcmp(vg->lvs[i].name, name + vl + 1))
				return &vg->lvs[i];
	}
	for (size_t i = 0; i < vg->nlv; i++)
		if (!strcmp(vg->lvs[i].name, name))
			return &vg->lvs[i];
	return NULL;
}

/* A striped LV reads through a lookup: its chunks alternate between
 * stripes, so a static map would hold one run per chunk (16384 runs for a
 * GiB in 64 KiB chunks).  Segment k covers LV bytes [start, start + len);
 * chunk i of it lies on stripe i % n at i / n chunks into that stripe's
 * area.  One stripe: the chunk is the whole segment. */
struct stripe_area {
	struct vu_blk *blk;	/* reference held */
	uint64_t off;		/* bytes: the area's start on blk */
};

struct stripe_seg {
	uint64_t start, len, chunk; /* bytes */
	size_t n;
	struct stripe_area *areas;
};

struct stripe_map {
	size_t nseg;
	struct stripe_seg *segs;
	uint64_t size;
};

static void stripe_map_free(void *ctx)
{
	struct stripe_map *m = ctx;

	if (!m)
		return;
	for (size_t k = 0; k < m->nseg; k++) {
		for (size_t a = 0; m->segs[k].areas && a < m->segs[k].n; a++)
			vu_blk_unref(m->segs[k].areas[a].blk);
		free(m->segs[k].areas);
	}
	free(m->segs);
	free(m);
}

static int stripe_lookup(const void *ctx, uint64_t off, size_t len,
			 struct vu_run *runs, size_t max)
{
	const struct stripe_map *m = ctx;
	size_t lo = 0, hi = m->nseg, nrun = 0;
	uint64_t want = len;

	if (off >= m->size)
		return vu_fail(-EIO, "lvm: read at %" PRIu64 " past the LV's "
			       "end (%" PRIu64 ")", off, m->size);
	while (hi - lo > 1) { /* the last segment starting at or before off */
		size_t mid = lo + (hi - lo) / 2;

		if (m->segs[mid].start <= off)
			lo = mid;
		else
			hi = mid;
	}
	while (nrun < max && off < m->size && want) {
		const struct stripe_seg *s = &m->segs[lo];
		uint64_t rel = off - s->start, i = rel / s->chunk;
		uint64_t in = rel % s->chunk, n;
		const struct stripe_area *a = &s->areas[i % s->n];

		if (rel >= s->len) { /* into the next segment */
			lo++;
			continue;
		}
		n = s->chunk - in;
		if (n > s->len - rel)
			n = s->len - rel;
		runs[nrun].length = n;
		runs[nrun].lower = a->blk;
		/* bounded: the area lies within its device */
		runs[nrun].lower_off = a->off + (i / s->n) * s->chunk + in;
		nrun++;
		off += n;
		want = n < want ? want - n : 0;
	}
	return (int)nrun;
}

/* Check segment k's areas against the devices and add it to m. */
static int stripe_seg_fill(const struct vu_lvm_vg *vg, const struct lvm_lv *lv,
			   size_t k, struct stripe_seg *out)
{
	const struct lvm_seg *s = &lv->segs[k];
	uint64_t es = vg->extent_size * 512;
	/* load_pvs/load_stripes bounded all these products */
	uint64_t alen = s->area_len * es;

	out->start = s->start * es;
	out->len = s->count * es;
	out->n = s->nareas;
	out->chunk = s->nareas > 1 ? s->stripe_size * 512 : out->len;
	out->areas = calloc(s->nareas, sizeof(*out->areas));
	if (!out->areas)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t a = 0; a < s->nareas; a++) {
		const struct lvm_pvent *e = &vg->pvs[s->areas[a].pv];
		uint64_t off = e->pe_start * 512 + s->areas[a].pe * es;

		if (off > e->blk->size || alen > e->blk->size - off)
			return vu_blk_fail(e->blk, -EUCLEAN,
					   "lvm: LV %s/%s segment %zu stripe "
					   "%zu needs bytes up to %" PRIu64
					   " of %s (UUID %s), the device has %"
					   PRIu64 " (truncated PV)", vg->name,
					   lv->name, k + 1, a, off + alen,
					   e->name, e->uuid, e->blk->size);
		out->areas[a].blk = vu_blk_ref(e->blk);
		out->areas[a].off = off;
	}
	return 0;
}

static int open_striped(struct vu_lvm_vg *vg, const struct lvm_lv *lv,
			uint32_t ssz, const char *name, struct vu_blk **out)
{
	struct stripe_map *m = calloc(1, sizeof(*m));
	int r = 0;

	if (m)
		m->segs = calloc(lv->nseg, sizeof(*m->segs));
	if (!m || !m->segs) {
		stripe_map_free(m);
		return vu_fail(-ENOMEM, "out of memory");
	}
	for (size_t k = 0; k < lv->nseg && r == 0; k++) {
		m->nseg++; /* counted first so that a failure frees it */
		r = stripe_seg_fill(vg, lv, k, &m->segs[k]);
	}
	if (r < 0) {
		stripe_map_free(m);
		return r;
	}
	m->size = lv->extents * vg->extent_size * 512;
	vu_log(VU_LOG_DEBUG, "%s: %zu segment(s), %" PRIu64 " bytes, read "
	       "chunk by chunk from its stripes", name, lv->nseg, m->size);
	return vu_lookup_open(vu_blk_ref(m->segs[0].areas[0].blk), m->size,
			      ssz, stripe_lookup, m, stripe_map_free, "lvm",
			      name, out);
}

int vu_lvm_lv_open(struct vu_lvm_vg *vg, const char *name,
		   struct vu_blk **out)
{
	uint64_t es = vg ? vg->extent_size * 512 : 0;
	struct vu_extent_map *m;
	struct vu_blk *first = NULL;
	char name_buf[300];
	struct lvm_lv *lv;
	uint32_t ssz = 512;
	int striped = 0;
	size_t miss;

	*out = NULL;
	if (!vg || !name)
		return vu_fail(-EINVAL, "lvm: no VG or LV name");
	lv = find_lv(vg, name);
	if (!lv)
		return vu_fail(-ENOENT, "lvm: VG %s has no LV %s", vg->name,
			       name);
	if (!lv->visible)
		return vu_fail(-ENOTSUP, "lvm: LV %s/%s is an internal LV",
			       vg->name, lv->name);
	if (!lv->supported)
		return vu_fail(-ENOTSUP, "lvm: LV %s/%s: not supported: %s",
			       vg->name, lv->name,
			       lv->unsupported ? lv->unsupported : "?");
	if (lv_missing(vg, lv, &miss))
		return vu_fail(-ENOENT,
			       "lvm: %s (UUID %s, last seen on %s) of VG %s "
			       "is missing, LV %s needs it (add the disk that "
			       "holds it with --add-disk)", vg->pvs[miss].name,
			       vg->pvs[miss].uuid,
			       vg->pvs[miss].device[0] ? vg->pvs[miss].device
						       : "an unknown device",
			       vg->name, lv->name);
	snprintf(name_buf, sizeof(name_buf), "lvm:%s-%s", vg->name, lv->name);
	for (size_t k = 0; k < lv->nseg; k++) {
		for (size_t a = 0; a < lv->segs[k].nareas; a++) {
			const struct vu_blk *b =
				vg->pvs[lv->segs[k].areas[a].pv].blk;

			if (b->sector_size > ssz)
				ssz = b->sector_size;
		}
		striped |= lv->segs[k].nareas > 1;
	}
	if (striped)
		return open_striped(vg, lv, ssz, name_buf, out);
	m = vu_extent_map_new();
	if (!m)
		return -ENOMEM;
	for (size_t k = 0; k < lv->nseg; k++) {
		const struct lvm_seg *s = &lv->segs[k];
		const struct lvm_pvent *e = &vg->pvs[s->areas[0].pv];
		/* load_pvs/load_seg bounded all of these products */
		uint64_t len = s->count * es;
		uint64_t pv_off = e->pe_start * 512 + s->areas[0].pe * es;
		int r = 0;

		if (s->start * es != vu_extent_map_size(m))
			r = vu_fail(-EUCLEAN, "lvm: LV %s/%s: segment %zu "
				    "starts at extent %" PRIu64 ", expected %"
				    PRIu64, vg->name, lv->name, k, s->start,
				    vu_extent_map_size(m) / es);
		else if (pv_off > e->blk->size ||
			 len > e->blk->size - pv_off)
			r = vu_blk_fail(e->blk, -EUCLEAN,
					"lvm: LV %s/%s needs bytes up to %"
					PRIu64 " of %s (UUID %s), the device "
					"has %" PRIu64 " (truncated PV)",
					vg->name, lv->name, pv_off + len,
					e->name, e->uuid, e->blk->size);
		else
			r = vu_extent_map_add(m, len, e->blk, pv_off, NULL, 0,
					      0);
		if (r < 0) {
			vu_extent_map_free(m);
			return r;
		}
		if (!first)
			first = e->blk;
	}
	if (vu_extent_map_size(m) != lv->extents * es) {
		uint64_t covered = vu_extent_map_size(m) / es;

		vu_extent_map_free(m);
		return vu_fail(-EUCLEAN, "lvm: LV %s/%s: its segments cover %"
			       PRIu64 " extents of its %" PRIu64, vg->name,
			       lv->name, covered, lv->extents);
	}
	vu_extent_map_log(m, name_buf);
	return vu_extent_map_open(m, vu_blk_ref(first), ssz, "lvm", name_buf,
				  out);
}

/* ---- an LV that cannot be read, still listed ---- */

int vu_lvm_lv_unreadable(struct vu_lvm_vg *vg, const char *name,
			 const char *why, struct vu_blk **out)
{
	const struct lvm_lv *lv;
	char name_buf[300];

	*out = NULL;
	if (!vg || !name || !why)
		return vu_fail(-EINVAL, "lvm: no VG, LV name or reason");
	lv = find_lv(vg, name);
	if (!lv)
		return vu_fail(-ENOENT, "lvm: VG %s has no LV %s", vg->name,
			       name);
	snprintf(name_buf, sizeof(name_buf), "lvm:%s-%s", vg->name, lv->name);
	/* size checked on load */
	return vu_unreadable_open(lv->extents * vg->extent_size * 512, why,
				  name_buf, out);
}
