/* The decrypted BitLocker volume, as Windows presents it, built at unlock
 * time as a segment map (cryptsetup's lib/bitlk does the same with
 * dm-crypt and dm-zero targets):
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
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
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

struct bde_dec {
	struct vu_sector_cipher *cipher;
	uint32_t ss;
	uint64_t encrypted_end;	/* physical bytes [0, this) are encrypted */
	uint64_t mft_mirror;	/* Vista: put back at offset 56 of sector 0 */
	size_t nseg;
	struct seg seg[MAX_SEGS];
};

/* Read physical [off, off+len) and decrypt what lies in the encrypted
 * part.  Unaligned heads and tails go through a one-sector buffer. */
static int read_phys(struct vu_blk *b, struct bde_dec *d, uint8_t *buf,
		     size_t len, uint64_t off)
{
	int r;

	if (off >= d->encrypted_end)
		return vu_blk_read(b->lower, buf, len, off);
	if (len > d->encrypted_end - off) {
		size_t enc = (size_t)(d->encrypted_end - off);

		r = read_phys(b, d, buf, enc, off);
		if (r < 0)
			return r;
		return vu_blk_read(b->lower, buf + enc, len - enc, off + enc);
	}
	while (len) {
		uint64_t sec = off / d->ss;
		size_t in = (size_t)(off % d->ss), n;

		if (in || len < d->ss) {
			uint8_t *tmp = malloc(d->ss);

			if (!tmp)
				return vu_fail(-ENOMEM, "out of memory");
			n = d->ss - in < len ? d->ss - in : len;
			r = vu_blk_read(b->lower, tmp, d->ss, sec * d->ss);
			if (r == 0)
				r = vu_sector_decrypt(d->cipher, sec, tmp, 1);
			if (r == 0)
				memcpy(buf, tmp + in, n);
			vu_cleanse(tmp, d->ss);
			free(tmp);
			if (r < 0)
				return r;
		} else {
			n = len - len % d->ss;
			r = vu_blk_read(b->lower, buf, n, off);
			if (r == 0)
				r = vu_sector_decrypt(d->cipher, sec, buf,
						      n / d->ss);
			if (r < 0)
				return r;
		}
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int read_vista(struct vu_blk *b, struct bde_dec *d, uint8_t *buf,
		      size_t len, uint64_t off)
{
	int r = vu_blk_read(b->lower, buf, len, off);
	uint8_t patch[16];

	if (r < 0)
		return r;
	/* sector 0: the file system signature and the MFT mirror cluster */
	memcpy(patch, "NTFS    ", 8);
	vu_put_le64(patch + 8, d->mft_mirror);
	for (size_t i = 0; i < 8; i++) {
		if (3 + i >= off && 3 + i < off + len)
			buf[3 + i - off] = patch[i];
		if (56 + i >= off && 56 + i < off + len)
			buf[56 + i - off] = patch[8 + i];
	}
	return 0;
}

static int dec_read_at(struct vu_blk *b, void *out, size_t len, uint64_t off)
{
	struct bde_dec *d = b->priv;
	uint8_t *buf = out;
	size_t i = 0;

	while (len) {
		const struct seg *s;
		size_t n;
		int r;

		while (i < d->nseg && d->seg[i].end <= off)
			i++;
		if (i == d->nseg)
			return vu_blk_fail(b, -EIO, "no segment maps offset %"
					   PRIu64, off);
		s = &d->seg[i];
		n = s->end - off < len ? (size_t)(s->end - off) : len;
		switch (s->kind) {
		case SEG_ZERO:
			memset(buf, 0, n);
			r = 0;
			break;
		case SEG_RELOC:
			r = read_phys(b, d, buf, n, s->src + (off - s->start));
			break;
		case SEG_VISTA:
			r = read_vista(b, d, buf, n, off);
			break;
		default:
			r = read_phys(b, d, buf, n, off);
			break;
		}
		if (r < 0)
			return r;
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

static void dec_destroy(struct vu_blk *b)
{
	struct bde_dec *d = b->priv;

	if (d) {
		vu_sector_cipher_free(d->cipher);
		free(d);
	}
}

static const struct vu_blk_ops dec_ops = {
	.kind = "bitlocker",
	.read_at = dec_read_at,
	.destroy = dec_destroy,
};

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
static int build_map(struct bde_dec *d, const struct special *sp, size_t nsp,
		     uint64_t size)
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

static const char *kind_name(enum seg_kind k)
{
	switch (k) {
	case SEG_ZERO: return "zero";
	case SEG_RELOC: return "relocated";
	case SEG_VISTA: return "vista boot";
	default: return "data";
	}
}

int vu_bde_volume_open(struct vu_bde *b, struct vu_blk **decrypted)
{
	struct special sp[MAX_SPECIAL];
	size_t nsp = 0;
	struct bde_dec *d;
	enum vu_sector_mode mode;
	uint64_t size, whole;
	struct vu_blk *blk;
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
	d = calloc(1, sizeof(*d));
	if (!d)
		return vu_fail(-ENOMEM, "out of memory");
	d->ss = b->info.sector_size;
	r = vu_sector_cipher_new(mode, b->fvek, b->fvek_len, d->ss, &d->cipher);
	if (r < 0) {
		free(d);
		return r;
	}
	size = b->vol->size;
	whole = size - size % d->ss;
	d->encrypted_end = b->info.encrypted_size;
	if (d->encrypted_end % d->ss) {
		vu_log(VU_LOG_WARN, "%s: bitlocker encrypted size %" PRIu64
		       " is not a multiple of the sector size", b->vol->desc,
		       d->encrypted_end);
		d->encrypted_end -= d->encrypted_end % d->ss;
	}
	if (d->encrypted_end > whole)
		d->encrypted_end = whole;

	if (b->meta.version == 1) {
		sp[nsp++] = (struct special){ 0, 8192, SEG_VISTA, 0 };
		d->mft_mirror = b->meta.vh_offset;
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
	if (build_map(d, sp, nsp, size) < 0) {
		dec_destroy(&(struct vu_blk){ .priv = d });
		return vu_blk_fail(b->vol, -EUCLEAN, "bitlocker: segment map "
				   "too complex");
	}
	for (size_t i = 0; i < d->nseg; i++)
		vu_log(VU_LOG_DEBUG, "%s: bitlocker segment %zu: [%" PRIu64
		       ", %" PRIu64 ") %s%s", b->vol->desc, i, d->seg[i].start,
		       d->seg[i].end, kind_name(d->seg[i].kind),
		       d->seg[i].kind == SEG_DATA &&
				       d->seg[i].start >= d->encrypted_end
			       ? " (not encrypted)" : "");
	blk = vu_blk_new(&dec_ops, vu_blk_ref(b->vol), size, d->ss, d,
			 "bitlocker(%s)", b->info.cipher);
	if (!blk) {
		dec_destroy(&(struct vu_blk){ .priv = d });
		return -ENOMEM;
	}
	*decrypted = blk;
	return 0;
}
