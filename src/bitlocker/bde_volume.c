/* The decrypted BitLocker volume, as Windows presents it, built at unlock
 * time as segments (cryptsetup's lib/bitlk does the same with dm-crypt
 * and dm-zero targets), which become the runs of an extent map
 * (core/extent.h):
 *
 *   RELOC  the first sectors: read from where BitLocker moved them
 *   ZERO   the three FVE metadata areas and the relocated-header area
 *   VISTA  Vista's unencrypted first 8 KiB, boot sector patched back to NTFS
 *   DATA   everything else
 *
 * RELOC and DATA read the physical sectors below and decrypt those that lie
 * before the encrypted size (a partly encrypted volume's tail is passed
 * through as it is).  The map and the cipher never change after creation,
 * so reads need no locks. */
#include "bitlocker/bde.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/extent.h"
#include "core/error.h"
#include "core/log.h"
#include "crypto/crypto.h"

enum seg_kind { SEG_DATA, SEG_ZERO, SEG_RELOC, SEG_VISTA };

struct seg {
	uint64_t start, end;	/* in the decrypted volume */
	enum seg_kind kind;
	uint64_t src;		/* RELOC: physical offset of start */
};

#define MAX_SPECIAL 8
#define MAX_SEGS (4 * MAX_SPECIAL + 8)

struct seg_list {
	size_t nseg;
	struct seg seg[MAX_SEGS];
};

/* ---- the transforms of the runs ---- */

static int decrypt(void *cipher, uint64_t sector, uint8_t *buf, size_t n)
{
	return vu_sector_decrypt(cipher, sector, buf, n);
}

static void cipher_free(void *cipher)
{
	vu_sector_cipher_free(cipher);
}

/* Vista left the first sectors unencrypted with "-FVE-FS-" where NTFS
 * keeps its signature and the metadata offset where it keeps the MFT
 * mirror cluster: put both back in sector 0. */
static int vista_patch(void *ctx, uint64_t sector, uint8_t *buf, size_t n)
{
	const uint64_t *mft_mirror = ctx;

	(void)n;
	if (sector == 0) {
		memcpy(buf + 3, "NTFS    ", 8);
		vu_put_le64(buf + 56, *mft_mirror);
	}
	return 0;
}

struct special {
	uint64_t start, end;
	enum seg_kind kind;
	uint64_t src;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Paint the specials (earlier ones win) over DATA and merge neighbours. */
static int build_map(struct seg_list *d, const struct special *sp,
		     size_t nsp, uint64_t size)
{
	uint64_t cut[2 * MAX_SPECIAL + 2];
	size_t ncut = 0;

	cut[ncut++] = 0;
	cut[ncut++] = size;
	for (size_t i = 0; i < nsp; i++) {
		cut[ncut++] = sp[i].start < size ? sp[i].start : size;
		cut[ncut++] = sp[i].end < size ? sp[i].end : size;
	}
	qsort(cut, ncut, sizeof(cut[0]), cmp_u64);
	d->nseg = 0;
	for (size_t c = 0; c + 1 < ncut; c++) {
		struct seg s = { cut[c], cut[c + 1], SEG_DATA, 0 };
		struct seg *prev = d->nseg ? &d->seg[d->nseg - 1] : NULL;

		if (s.start == s.end)
			continue;
		for (size_t i = 0; i < nsp; i++) {
			if (s.start >= sp[i].start && s.start < sp[i].end) {
				s.kind = sp[i].kind;
				s.src = sp[i].src + (s.start - sp[i].start);
				break;
			}
		}
		if (prev && prev->kind == s.kind && prev->end == s.start &&
		    (s.kind != SEG_RELOC ||
		     prev->src + (prev->end - prev->start) == s.src)) {
			prev->end = s.end;
			continue;
		}
		if (d->nseg == MAX_SEGS)
			return -EUCLEAN;
		d->seg[d->nseg++] = s;
	}
	return 0;
}

/* Physical bytes [phys, phys+len) as they read decrypted: through the
 * cipher before the encrypted size (the IV is the physical sector number),
 * as they are after it. */
static int add_phys(struct vu_extent_map *m, struct vu_blk *vol,
		    const struct vu_xform *xf, uint64_t encrypted_end,
		    uint64_t len, uint64_t phys)
{
	uint64_t enc = phys < encrypted_end ? encrypted_end - phys : 0;
	int r;

	if (enc > len)
		enc = len;
	r = vu_extent_map_add(m, enc, vol, phys, xf, 0, 0);
	if (r == 0)
		r = vu_extent_map_add(m, len - enc, vol, phys + enc, NULL, 0,
				      0);
	return r;
}

static const char *mode_name(enum vu_sector_mode mode)
{
	switch (mode) {
	case VU_SECTOR_CBC_ELEPHANT: return "aes-cbc-elephant";
	case VU_SECTOR_CBC_EBOIV: return "aes-cbc-eboiv";
	default: return "aes-xts-plain64";
	}
}

/* The segments as runs of an extent map. */
static int build_runs(struct vu_extent_map *m, const struct seg_list *segs,
		      struct vu_bde *b, const struct vu_xform *xf,
		      uint64_t encrypted_end)
{
	const struct vu_xform *vista = NULL;
	int r = 0;

	if (b->meta.version == 1) {
		uint64_t *mirror = malloc(sizeof(*mirror));

		if (!mirror)
			return vu_fail(-ENOMEM, "out of memory");
		*mirror = b->meta.vh_offset;
		vista = vu_extent_map_xform(m, "ntfs boot sector patch", 512,
					    vista_patch, mirror, free);
		if (!vista)
			return -ENOMEM;
	}
	for (size_t i = 0; i < segs->nseg && r == 0; i++) {
		const struct seg *s = &segs->seg[i];
		uint64_t len = s->end - s->start;

		switch (s->kind) {
		case SEG_ZERO:
			r = vu_extent_map_add(m, len, NULL, 0, NULL, 0, 0);
			break;
		case SEG_VISTA:
			r = vu_extent_map_add(m, len, b->vol, s->start, vista,
					      0, 0);
			break;
		case SEG_RELOC:
			r = add_phys(m, b->vol, xf, encrypted_end, len,
				     s->src);
			break;
		default:
			r = add_phys(m, b->vol, xf, encrypted_end, len,
				     s->start);
			break;
		}
	}
	return r;
}

int vu_bde_volume_open(struct vu_bde *b, struct vu_blk **decrypted)
{
	struct special sp[MAX_SPECIAL];
	size_t nsp = 0;
	struct seg_list segs;
	struct vu_sector_cipher *cipher;
	struct vu_extent_map *m;
	const struct vu_xform *xf;
	enum vu_sector_mode mode;
	uint64_t size, whole, encrypted_end;
	uint32_t ss;
	char name[96];
	int r;

	*decrypted = NULL;
	if (!b)
		return vu_fail(-EINVAL, "bitlocker: no volume");
	if (!b->fvek)
		return vu_blk_fail(b->vol, -ENOKEY, "bitlocker: volume is "
				   "locked");
	switch (b->meta.method) {
	case BDE_METHOD_AES128_CBC_DIFFUSER:
	case BDE_METHOD_AES256_CBC_DIFFUSER:
		mode = VU_SECTOR_CBC_ELEPHANT;
		break;
	case BDE_METHOD_AES128_CBC:
	case BDE_METHOD_AES256_CBC:
		mode = VU_SECTOR_CBC_EBOIV;
		break;
	default:
		mode = VU_SECTOR_XTS_PLAIN64;
		break;
	}
	ss = b->info.sector_size;
	size = b->vol->size;
	whole = size - size % ss;
	encrypted_end = b->info.encrypted_size;
	if (encrypted_end % ss) {
		vu_log(VU_LOG_WARN, "%s: bitlocker encrypted size %" PRIu64
		       " is not a multiple of the sector size", b->vol->desc,
		       encrypted_end);
		encrypted_end -= encrypted_end % ss;
	}
	if (encrypted_end > whole)
		encrypted_end = whole;

	if (b->meta.version == 1) {
		sp[nsp++] = (struct special){ 0, 8192, SEG_VISTA, 0 };
	} else {
		sp[nsp++] = (struct special){ 0, b->meta.vh_size, SEG_RELOC,
					      b->meta.vh_offset };
		sp[nsp++] = (struct special){ b->meta.vh_offset,
					      b->meta.vh_offset +
						      b->meta.vh_size,
					      SEG_ZERO, 0 };
	}
	for (int i = 0; i < 3; i++) {
		uint64_t o = b->meta.metadata_offset[i];

		sp[nsp++] = (struct special){ o, o + b->meta.area_size,
					      SEG_ZERO, 0 };
	}
	if (build_map(&segs, sp, nsp, size) < 0)
		return vu_blk_fail(b->vol, -EUCLEAN, "bitlocker: segment map "
				   "too complex");

	m = vu_extent_map_new();
	if (!m)
		return -ENOMEM;
	r = vu_sector_cipher_new(mode, b->fvek, b->fvek_len, ss, &cipher);
	if (r < 0) {
		vu_extent_map_free(m);
		return r;
	}
	xf = vu_extent_map_xform(m, mode_name(mode), ss, decrypt, cipher,
				 cipher_free);
	r = xf ? build_runs(m, &segs, b, xf, encrypted_end) : -ENOMEM;
	if (r < 0) {
		vu_extent_map_free(m);
		return r;
	}
	vu_extent_map_log(m, b->vol->desc);
	snprintf(name, sizeof(name), "bitlocker(%s)", b->info.cipher);
	return vu_extent_map_open(m, vu_blk_ref(b->vol), ss, "bitlocker", name,
				  decrypted);
}
