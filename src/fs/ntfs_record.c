/* NTFS (see fs_ntfs.c for what the interface shows and why these are
 * our own code). MFT records: reading through an extent list, checking
 * records (the update sequence fixups are core/usa.c), records and their
 * attributes (attribute lists, extension records), run lists, and the data
 * streams of a file as extent lists. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libfsntfs.h>

#include "core/blk.h"
#include "core/bytes.h"
#include "core/error.h"
#include "core/log.h"
#include "core/usa.h"
#include "core/utf16.h"
#include "fs/fs_backend.h"
#include "fs/fs_bfio.h"
#include "fs/ntfs_int.h"

/* ---- reading through an extent list ---- */

/* The extent holding byte off, or NULL. */
static const struct fs_extent *extent_of(const struct fs_data *d, uint64_t off)
{
	size_t lo = 0, hi = d->next;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct fs_extent *e = &d->ext[mid];

		if (off < e->logical)
			hi = mid;
		else if (off - e->logical >= e->length)
			lo = mid + 1;
		else
			return e;
	}
	return NULL;
}

/* Metadata read through an extent list: every byte must be mapped to the
 * volume (a hole in metadata is damage). */
int ntfs_map_read(struct vu_fs *fs, const struct fs_data *d, void *buf,
		  size_t len, uint64_t off, const char *what, uint64_t ino)
{
	uint8_t *p = buf;

	if (off > d->size || len > d->size - off)
		return fs_fail(fs, -EUCLEAN, "%s of MFT record %" PRIu64 " at "
			       "byte %" PRIu64 " is past its end (%" PRIu64
			       " bytes)", what, ino, off, d->size);
	while (len) {
		const struct fs_extent *e = extent_of(d, off);
		uint64_t in, phys;
		size_t n;
		int r;

		if (!e || (e->flags & FS_EXTENT_ZERO))
			return fs_fail(fs, -EUCLEAN, "%s of MFT record %" PRIu64
				       ": byte %" PRIu64 " is not allocated",
				       what, ino, off);
		in = off - e->logical;
		n = e->length - in < len ? (size_t)(e->length - in) : len;
		phys = e->physical + in;
		if (phys > fs->vol->size || n > fs->vol->size - phys)
			return fs_fail(fs, -EUCLEAN, "%s of MFT record %" PRIu64
				       " at byte %" PRIu64 " is past the end of "
				       "the volume (size %" PRIu64 ")", what,
				       ino, phys, fs->vol->size);
		r = vu_blk_read(fs->vol, p, n, phys);
		if (r < 0)
			return r;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* ---- MFT records ---- */

/* Check a record just read (fixups applied here). */
static int rec_check(struct vu_fs *fs, uint64_t ino, uint8_t *rec)
{
	const struct ntfs *x = N(fs);
	static const uint8_t zero[4];
	uint32_t attrs, used, alloc;

	if (!memcmp(rec, "BAAD", 4))
		return fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64 " is marked "
			       "bad", ino);
	if (!memcmp(rec, zero, 4))
		return fs_fail(fs, -ENOENT, "MFT record %" PRIu64 " is not in "
			       "use", ino);
	if (memcmp(rec, MFT_MAGIC, 4))
		return fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64 ": no FILE "
			       "signature", ino);
	if (vu_usa_fixup(rec, x->recsize) < 0)
		return fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64 ": update "
			       "sequence mismatch (damaged or torn write)",
			       ino);
	attrs = vu_le16(rec + MFT_ATTRS);
	used = vu_le32(rec + MFT_USED);
	alloc = vu_le32(rec + MFT_ALLOC);
	if (alloc != x->recsize || used > alloc || attrs < MFT_BASE + 8 ||
	    attrs % 8 || attrs >= used)
		return fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64 ": header "
			       "inconsistent (attributes at %u, %u of %u "
			       "bytes used)", ino, attrs, used, alloc);
	if (vu_le16(rec + VU_USA_OFS) >= MFT_HDR_31 &&
	    vu_le32(rec + MFT_NUMBER) != (uint32_t)ino)
		return fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64 " says it "
			       "is record %u", ino, vu_le32(rec + MFT_NUMBER));
	return 0;
}

static int rec_read(struct vu_fs *fs, uint64_t ino, uint8_t *rec)
{
	const struct ntfs *x = N(fs);
	int r;

	if (ino >= x->nrecords)
		return fs_fail(fs, -ENOENT, "MFT record %" PRIu64 " out of "
			       "range (%" PRIu64 " records)", ino,
			       x->nrecords);
	r = ntfs_map_read(fs, &x->mft, rec, x->recsize, ino * x->recsize,
			  "MFT record", ino);
	if (r < 0)
		return r;
	return rec_check(fs, ino, rec);
}

/* Append the attributes of record k of in. */
int ntfs_attrs_parse(struct vu_fs *fs, struct ntfs_inode *in, size_t k)
{
	const uint8_t *rec = in->rec[k];
	uint32_t used = vu_le32(rec + MFT_USED);
	uint32_t off = vu_le16(rec + MFT_ATTRS);

	for (;;) {
		const uint8_t *a = rec + off;
		struct ntfs_attr t = { 0 };
		uint32_t len;

		if (off > used || used - off < 4)
			break; /* no end marker: the used size ends it */
		t.type = vu_le32(a + ATTR_TYPE);
		if (t.type == AT_END)
			break;
		len = used - off < ATTR_RES_HDR ? 0 : vu_le32(a + ATTR_LEN);
		if (len < ATTR_RES_HDR || len > used - off || len % 8)
			return fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64
				       ": attribute 0x%x at byte %u of length "
				       "%u", in->ino, t.type, off, len);
		t.nonres = a[ATTR_NONRES];
		t.name_len = a[ATTR_NAME_LEN];
		t.flags = vu_le16(a + ATTR_FLAGS);
		if (t.name_len) {
			uint32_t no = vu_le16(a + ATTR_NAME_OFS);

			if (no > len || 2u * t.name_len > len - no)
				goto bad;
			t.name = a + no;
		}
		if (!t.nonres) {
			uint32_t vo = vu_le16(a + ATTR_VALUE_OFS);

			t.value_len = vu_le32(a + ATTR_VALUE_LEN);
			if (vo > len || t.value_len > len - vo)
				goto bad;
			t.value = a + vo;
		} else {
			uint32_t ro;

			if (len < ATTR_NONRES_HDR)
				goto bad;
			ro = vu_le16(a + ATTR_RUNS_OFS);
			t.lowest = vu_le64(a + ATTR_LOWEST_VCN);
			t.highest = vu_le64(a + ATTR_HIGHEST_VCN);
			t.cu_shift = vu_le16(a + ATTR_CU_SHIFT);
			t.alloc = vu_le64(a + ATTR_ALLOC_SIZE);
			t.size = vu_le64(a + ATTR_DATA_SIZE);
			t.init = vu_le64(a + ATTR_INIT_SIZE);
			t.comp = t.alloc;
			if ((t.flags & (ATTR_FLAG_COMPRESSED | ATTR_FLAG_SPARSE)) &&
			    len >= ATTR_NONRES_HDR_COMP && ro >= ATTR_NONRES_HDR_COMP)
				t.comp = vu_le64(a + ATTR_COMP_SIZE);
			if (ro < ATTR_NONRES_HDR || ro > len)
				goto bad;
			t.runs = a + ro;
			t.runs_len = len - ro;
		}
		if (in->na == in->cap) {
			size_t cap = in->cap ? in->cap * 2 : 16;
			struct ntfs_attr *n;

			if (cap > NTFS_MAX_ATTRS)
				return fs_fail(fs, -EUCLEAN, "MFT record %"
					       PRIu64 ": more than %d "
					       "attributes", in->ino,
					       NTFS_MAX_ATTRS);
			n = realloc(in->a, cap * sizeof(*n));
			if (!n)
				return vu_fail(-ENOMEM, "out of memory");
			in->a = n;
			in->cap = cap;
		}
		in->a[in->na++] = t;
		off += len;
		continue;
bad:
		return fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64 ": attribute "
			       "0x%x at byte %u: fields outside it", in->ino,
			       t.type, off);
	}
	return 0;
}

void ntfs_inode_free(struct ntfs_inode *in)
{
	for (size_t i = 0; i < in->nrec; i++)
		free(in->rec[i]);
	free(in->rec);
	free(in->recno);
	free(in->a);
	memset(in, 0, sizeof(*in));
}

/* Read record ino into a new slot of in. */
int ntfs_rec_add(struct vu_fs *fs, struct ntfs_inode *in, uint64_t ino)
{
	uint8_t **n, *b;
	uint64_t *no;
	int r;

	if (in->nrec >= NTFS_MAX_RECORDS)
		return fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64 ": more "
			       "than %d extension records", in->ino,
			       NTFS_MAX_RECORDS);
	n = realloc(in->rec, (in->nrec + 1) * sizeof(*n));
	if (!n)
		return vu_fail(-ENOMEM, "out of memory");
	in->rec = n;
	no = realloc(in->recno, (in->nrec + 1) * sizeof(*no));
	if (!no)
		return vu_fail(-ENOMEM, "out of memory");
	in->recno = no;
	b = malloc(N(fs)->recsize);
	if (!b)
		return vu_fail(-ENOMEM, "out of memory");
	r = rec_read(fs, ino, b);
	if (r < 0) {
		free(b);
		return r;
	}
	in->rec[in->nrec] = b;
	in->recno[in->nrec++] = ino;
	return 0;
}

static int runs_decode(struct vu_fs *fs, uint64_t ino,
		       const struct ntfs_attr *a, struct fs_data *d);

/* The whole value of a small attribute (attribute list, reparse point)
 * into *buf (malloc'ed): resident, or one non-resident chunk. */
int ntfs_attr_value(struct vu_fs *fs, const struct ntfs_inode *in,
		    const struct ntfs_attr *a, uint32_t max, uint8_t **buf,
		    uint32_t *len)
{
	struct fs_data d = { 0 };
	uint64_t init;
	int r;

	*buf = NULL;
	*len = 0;
	if (!a->nonres) {
		if (a->value_len > max)
			goto big;
		*buf = malloc(a->value_len ? a->value_len : 1);
		if (!*buf)
			return vu_fail(-ENOMEM, "out of memory");
		memcpy(*buf, a->value, a->value_len);
		*len = a->value_len;
		return 0;
	}
	if (a->size > max)
		goto big;
	if (a->lowest || (a->flags & (ATTR_FLAG_COMPRESSED |
				      ATTR_FLAG_ENCRYPTED)))
		return fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64 ": attribute "
			       "0x%x stored compressed, encrypted or split",
			       in->ino, a->type);
	d.size = a->size;
	r = runs_decode(fs, in->ino, a, &d);
	if (r < 0)
		goto out;
	*buf = calloc(1, a->size ? (size_t)a->size : 1);
	if (!*buf) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto out;
	}
	init = a->init < a->size ? a->init : a->size;
	r = ntfs_map_read(fs, &d, *buf, (size_t)init, 0, "attribute", in->ino);
	if (r < 0) {
		free(*buf);
		*buf = NULL;
		goto out;
	}
	*len = (uint32_t)a->size;
out:
	free(d.ext);
	return r;
big:
	return fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64 ": attribute 0x%x "
		       "larger than %u bytes", in->ino, a->type, max);
}

/* Read the extension records an attribute list names. */
static int load_extensions(struct vu_fs *fs, struct ntfs_inode *in,
			   struct ntfs_attr al)
{
	uint8_t *list = NULL;
	uint32_t len = 0, pos = 0;
	int r;

	r = ntfs_attr_value(fs, in, &al, NTFS_ATTR_LIST_MAX, &list, &len);
	if (r < 0)
		return r;
	while (len - pos >= AL_MIN) {
		const uint8_t *e = list + pos;
		uint32_t elen = vu_le16(e + AL_LEN);
		uint64_t ref = vu_le64(e + AL_REF);
		uint64_t idx = MFT_REF_INDEX(ref);
		const uint8_t *rec;
		size_t k;

		if (elen < AL_MIN || elen > len - pos) {
			r = fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64 ": "
				    "attribute list entry at %u of length %u",
				    in->ino, pos, elen);
			goto out;
		}
		pos += elen;
		if (idx == in->ino)
			continue;
		for (k = 1; k < in->nrec; k++)
			if (in->recno[k] == idx)
				break;
		if (k < in->nrec)
			continue;
		r = ntfs_rec_add(fs, in, idx);
		if (r < 0)
			goto out;
		rec = in->rec[in->nrec - 1];
		if (!(vu_le16(rec + MFT_FLAGS) & MFT_FLAG_IN_USE) ||
		    MFT_REF_INDEX(vu_le64(rec + MFT_BASE)) != in->ino ||
		    (MFT_REF_SEQ(ref) &&
		     MFT_REF_SEQ(ref) != vu_le16(rec + MFT_SEQ))) {
			r = fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64 ": "
				    "extension record %" PRIu64 " belongs to "
				    "another file", in->ino, idx);
			goto out;
		}
		r = ntfs_attrs_parse(fs, in, in->nrec - 1);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	free(list);
	return r;
}


/* The reparse tag of in (0: none, or a reparse point we cannot read:
 * readlink says why). */
static void reparse_load(struct vu_fs *fs, struct ntfs_inode *in)
{
	const struct ntfs_attr *rp = ntfs_attr_find(in, AT_REPARSE_POINT, NULL);
	uint8_t *v = NULL;
	uint32_t len = 0;
	int had = vu_err_isset();

	in->tag = 0;
	if (!rp)
		return;
	if (!rp->nonres) {
		if (rp->value_len >= RP_HDR)
			in->tag = vu_le32(rp->value + RP_TAG);
		return;
	}
	if (ntfs_attr_value(fs, in, rp, NTFS_REPARSE_MAX, &v, &len) == 0 &&
	    len >= RP_HDR)
		in->tag = vu_le32(v + RP_TAG);
	else if (!had)
		vu_err_clear();
	free(v);
}

/* Read the file whose base record is ino, with all its attributes. */
int ntfs_inode_load(struct vu_fs *fs, uint64_t ino, struct ntfs_inode *in)
{
	const uint8_t *rec;
	uint64_t base;
	int r;

	memset(in, 0, sizeof(*in));
	in->ino = ino;
	r = ntfs_rec_add(fs, in, ino);
	if (r < 0)
		goto fail;
	rec = in->rec[0];
	in->seq = vu_le16(rec + MFT_SEQ);
	in->rflags = vu_le16(rec + MFT_FLAGS);
	base = MFT_REF_INDEX(vu_le64(rec + MFT_BASE));
	if (!(in->rflags & MFT_FLAG_IN_USE)) {
		r = fs_fail(fs, -ENOENT, "MFT record %" PRIu64 " is not in "
			    "use (a deleted file)", ino);
		goto fail;
	}
	if (base) {
		r = fs_fail(fs, -ENOENT, "MFT record %" PRIu64 " is an "
			    "extension of record %" PRIu64, ino, base);
		goto fail;
	}
	r = ntfs_attrs_parse(fs, in, 0);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < in->na; i++)
		if (in->a[i].type == AT_ATTRIBUTE_LIST) {
			r = load_extensions(fs, in, in->a[i]);
			if (r < 0)
				goto fail;
			break;
		}
	reparse_load(fs, in);
	return 0;
fail:
	ntfs_inode_free(in);
	return r;
}

/* ---- run lists ---- */

/* Append the runs of one chunk of a non-resident attribute to d (sparse
 * runs as zero extents); they must cover the chunk's VCN range. */
static int runs_decode(struct vu_fs *fs, uint64_t ino,
		       const struct ntfs_attr *a, struct fs_data *d)
{
	const struct ntfs *x = N(fs);
	const uint8_t *p = a->runs, *end = a->runs + a->runs_len;
	uint64_t vcn = a->lowest, last;
	int64_t lcn = 0;

	/* no clusters: highest VCN -1 */
	last = a->highest == UINT64_MAX && !a->lowest ? 0 : a->highest + 1;
	if (last < vcn || last > (UINT64_C(1) << (62 - x->cbits)))
		goto bad;
	while (p < end && *p) {
		unsigned ls = *p & 15, os = *p >> 4;
		uint64_t len = 0;
		int64_t delta = 0;

		if (!ls || ls > 8 || os > 8 || (size_t)(end - p) < 1u + ls + os)
			goto bad;
		for (unsigned i = 0; i < ls; i++)
			len |= (uint64_t)p[1 + i] << (8 * i);
		if (os) {
			uint64_t u = 0;

			for (unsigned i = 0; i < os; i++)
				u |= (uint64_t)p[1 + ls + i] << (8 * i);
			if (os < 8 && (p[ls + os] & 0x80))
				u |= ~UINT64_C(0) << (8 * os);
			delta = (int64_t)u;
		}
		p += 1 + ls + os;
		if (!len || len > last - vcn)
			goto bad;
		if (os) {
			if (__builtin_add_overflow(lcn, delta, &lcn) || lcn < 0 ||
			    (uint64_t)lcn > x->nclusters ||
			    len > x->nclusters - (uint64_t)lcn)
				return fs_fail(fs, -EUCLEAN, "MFT record %"
					       PRIu64 ": attribute 0x%x: run "
					       "at cluster %" PRId64 " (+%" PRIu64
					       ") outside the volume's %" PRIu64
					       " clusters", ino, a->type, lcn,
					       len, x->nclusters);
		}
		if (fs_data_add(d, vcn << x->cbits, len << x->cbits,
				os ? (uint64_t)lcn << x->cbits : 0,
				os ? 0 : FS_EXTENT_ZERO) < 0)
			return -ENOMEM;
		vcn += len;
	}
	if (vcn != last)
		goto bad;
	return 0;
bad:
	return fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64 ": attribute 0x%x: "
		       "bad run list (VCN %" PRIu64 " to %" PRIu64 ")", ino,
		       a->type, a->lowest, a->highest);
}

/* ---- attributes of a file ---- */

const struct ntfs_attr *ntfs_attr_find(const struct ntfs_inode *in,
				       uint32_t type, const char *name)
{
	static const uint8_t i30[] = { '$', 0, 'I', 0, '3', 0, '0', 0 };

	for (size_t i = 0; i < in->na; i++) {
		const struct ntfs_attr *a = &in->a[i];

		if (a->type != type)
			continue;
		if (!name && a->name_len)
			continue;
		if (name && (a->name_len != 4 || memcmp(a->name, i30, 8)))
			continue;
		/* the first chunk of a non-resident attribute */
		if (a->nonres && a->lowest)
			continue;
		return a;
	}
	return NULL;
}


static int chunk_cmp(const void *a, const void *b)
{
	const struct ntfs_attr *x = *(const struct ntfs_attr *const *)a;
	const struct ntfs_attr *y = *(const struct ntfs_attr *const *)b;

	return x->lowest < y->lowest ? -1 : x->lowest > y->lowest;
}

/* The chunks of type with the name of attribute like (NULL: unnamed,
 * i30: "$I30"). */
int ntfs_stream_get(struct vu_fs *fs, const struct ntfs_inode *in,
		    uint32_t type, const struct ntfs_attr *like,
		    struct ntfs_stream *s)
{
	s->n = 0;
	s->c = malloc((in->na ? in->na : 1) * sizeof(*s->c));
	if (!s->c)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < in->na; i++) {
		const struct ntfs_attr *a = &in->a[i];

		if (a->type != type || a->name_len != like->name_len ||
		    (a->name_len &&
		     memcmp(a->name, like->name, 2u * a->name_len)))
			continue;
		s->c[s->n++] = a;
	}
	qsort(s->c, s->n, sizeof(*s->c), chunk_cmp);
	if (s->n && ((s->n > 1 && !s->c[0]->nonres) || s->c[0]->lowest)) {
		free(s->c);
		s->c = NULL;
		return fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64 ": attribute "
			       "0x%x in pieces that do not fit", in->ino,
			       type);
	}
	return 0;
}

/* The extent list of a non-resident stream: its runs, everything past the
 * valid data length left out (reads as zeros). */
int ntfs_stream_map(struct vu_fs *fs, const struct ntfs_inode *in,
		    const struct ntfs_stream *s, struct fs_data *d)
{
	const struct ntfs_attr *a = s->c[0];
	uint64_t init = a->init < a->size ? a->init : a->size;
	uint64_t next = 0;
	int r;

	d->size = a->size;
	if (a->size > a->alloc || a->size > INT64_MAX)
		return fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64 ": data "
			       "size %" PRIu64 " larger than allocated %"
			       PRIu64, in->ino, a->size, a->alloc);
	for (size_t i = 0; i < s->n; i++) {
		if (s->c[i]->lowest != next)
			return fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64
				       ": attribute 0x%x: no runs for VCN %"
				       PRIu64, in->ino, a->type, next);
		r = runs_decode(fs, in->ino, s->c[i], d);
		if (r < 0)
			return r;
		next = s->c[i]->highest + 1;
	}
	for (size_t i = 0; i < d->next; i++) {
		struct fs_extent *e = &d->ext[i];

		if (e->logical >= init) {
			d->next = i;
			break;
		}
		if (e->length > init - e->logical)
			e->length = init - e->logical;
	}
	return 0;
}
