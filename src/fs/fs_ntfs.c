/* NTFS, read-only: our own reader of MFT records, attribute lists, run
 * lists, $I30 directory indexes and reparse points (ntfs_format.h), and
 * libfsntfs for the data of LZNT1-compressed streams.
 *
 * Why not libfsntfs for everything: Debian's libfsntfs 20200921 reads
 * file data right (compressed, sparse, valid data length: checked by
 * tests/unit/test_fs_ntfs.c) but
 *  - it crashes (NULL dereference in libfsntfs_reparse_point_values_read_
 *    data) when it makes the file entry of a file with a WofCompressedData
 *    stream and a reparse point whose buffer is empty, which ntfs-3g
 *    writes on request, and listing a directory makes the file entry of
 *    every child (libfsntfs_file_entry_get_sub_file_entry_by_index): one
 *    such file makes its directory unlistable, the process dead.  Its
 *    symbolic link target (libfsntfs_file_entry_get_utf8_symbolic_link_
 *    target_size) dereferences NULL the same way when the reparse data
 *    length is 0, and reads past shorter buffers;
 *  - it cannot return a name holding a lone UTF-16 surrogate (libuna
 *    refuses it), so such an entry could not even be named;
 *  - a child whose MFT record or index is damaged fails before its name
 *    is known; opening the volume fails when $Secure is damaged;
 *  - its name lookup folds case with towupper() in the C locale, not the
 *    volume's $UpCase ("CAFÉ.TXT" is not found), and returns "DUP" for
 *    "dup" when both exist (POSIX names differing in case);
 *  - its public API has no link count, allocated size, valid data length
 *    or symbolic link flags.
 * So directories, attributes and extent lists are read here, entries that
 * cannot be read are skipped one by one, and libfsntfs is opened (lazily)
 * only to decompress compressed streams.
 *
 * What the interface shows:
 *  - inode = MFT record number; root = 5.  The metadata files (records 0
 *    to 15: $MFT, $Bitmap, $Extend ...) are neither listed nor looked up;
 *    "$Recycle.Bin" and "System Volume Information" are ordinary entries.
 *  - each name once: DOS 8.3 names are not listed (a lookup finds a file
 *    by its DOS name as the last resort); hard links are one entry each.
 *    Entries whose record is damaged, not in use (deleted) or reused
 *    (sequence number) are skipped with a warning, and not looked up.
 *  - lookup: the exact name first, then the first name (in byte order)
 *    equal after folding case with the volume's $UpCase table (Windows'
 *    rule; ASCII folding when $UpCase cannot be read), then DOS names.
 *  - names with lone surrogates are kept as such, encoded as UTF-8 would
 *    encode the code point (WTF-8): every name stays distinct and can be
 *    looked up again.
 *  - modes are synthesised: directories 0555, files 0444, symbolic links
 *    0777; uid/gid 0; link count = names that are not DOS names; times
 *    from $STANDARD_INFORMATION (ctime = MFT change time, btime =
 *    creation); blocks from the allocated (compressed) size.
 *  - symbolic links (IO_REPARSE_TAG_SYMLINK) and junctions
 *    (IO_REPARSE_TAG_MOUNT_POINT) are S_IFLNK, their substitute name as a
 *    POSIX path: '\' becomes '/'; "\??\C:\x" (the system drive) becomes
 *    "/x" (the root of this volume), another drive "\??\D:\x" becomes
 *    "/mnt/d/x" (WSL's form), "\??\UNC\srv\share\x" becomes
 *    "//srv/share/x", any other "\??\" target (a volume GUID) becomes
 *    "/mnt/<the rest>"; relative targets stay relative.
 *  - other reparse points are files or directories (so are the Interix
 *    symbolic links "ln -s" makes through ntfs-3g: SYSTEM files holding
 *    "IntxLNK", which Windows does not follow either); the content of WOF
 *    (compact.exe), Data Deduplication, single-instance and HSM files, of
 *    cloud placeholders marked offline or recall-on-access, and of EFS
 *    files is not on the volume in a form we read: -ENOTSUP naming why.
 *  - named $DATA streams: vu_fs_streams lists them, vu_fs_file_open reads
 *    them (same matching as names).
 * Plain non-resident data (also sparse, and past the valid data length as
 * zeros) is an extent list fs.c reads without the lock; resident data is
 * copied at open; compressed data goes through libfsntfs under the lock. */
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
#include "core/utf16.h"
#include "fs/fs_backend.h"
#include "fs/fs_bfio.h"
#include "fs/ntfs_format.h"

/* Directories whose name tables are kept (see fs_xfs.c). */
#define NTFS_NAME_CACHE 8
/* A name is at most 255 UTF-16 units, 3 bytes of UTF-8 each at most. */
#define NTFS_NAME_UNITS 255
#define NTFS_NAME_MAX (NTFS_NAME_UNITS * 3 + 1)
/* Bounds on what one file may make us read. */
#define NTFS_MAX_RECORDS 1024	/* base + extension records */
#define NTFS_MAX_ATTRS 65536
#define NTFS_ATTR_LIST_MAX (1u << 20)
#define NTFS_REPARSE_MAX (RP_HDR + 16384)
#define NTFS_INDEX_DEPTH 32
#define NTFS_UPCASE_UNITS 65536
/* 100 ns units from 1601-01-01 to 1970-01-01 */
#define NTFS_EPOCH_SECS 11644473600LL

/* One attribute as found in a record (pointers into that record). */
struct ntfs_attr {
	uint32_t type;
	uint16_t flags;
	uint8_t nonres;
	uint8_t name_len;	/* UTF-16 units */
	const uint8_t *name;
	const uint8_t *value;	/* resident */
	uint32_t value_len;
	uint64_t lowest, highest; /* non-resident: VCN range */
	const uint8_t *runs;
	uint32_t runs_len;
	uint64_t alloc, size, init, comp; /* first chunk only */
	uint16_t cu_shift;
};

/* A file: its base record, the extension records its attribute list
 * names, and every attribute of them. */
struct ntfs_inode {
	uint64_t ino;
	uint16_t seq;
	uint16_t rflags;
	uint32_t tag;		/* reparse tag, 0: none */
	uint8_t **rec;
	uint64_t *recno;
	size_t nrec;
	struct ntfs_attr *a;
	size_t na, cap;
};

/* One entry of a directory index. */
struct ntfs_ent {
	char *name;
	char *fold;	/* name with case folded ($UpCase) */
	uint64_t ino;
	uint16_t seq;
	uint8_t ns;	/* FN_NS_* */
	uint8_t hidden;	/* a metadata file in the root */
};

struct ntfs_names {
	uint64_t dir;		/* UINT64_MAX: slot unused */
	unsigned long used;	/* LRU tick */
	size_t n;
	struct ntfs_ent *v;	/* sorted by name */
};

struct ntfs {
	uint32_t cluster, recsize;
	unsigned cbits;			/* log2(cluster) */
	uint64_t nclusters;
	struct fs_data mft;		/* $MFT's data, as extents */
	uint64_t nrecords;
	uint16_t *upcase;		/* NULL: fold ASCII only */
	struct ntfs_names names[NTFS_NAME_CACHE];
	unsigned long tick;
	/* libfsntfs, for compressed streams only: opened at the first */
	libbfio_handle_t *bfio;
	libfsntfs_volume_t *lib;
	int lib_err;			/* a failed open is not retried */
	char lib_why[256];
};

static struct ntfs *N(const struct vu_fs *fs)
{
	return fs->priv;
}

/* A message of ours without the "<volume>: ntfs: " fs_fail put in front,
 * for a warning (fs_warn_skip puts it there again). */
static const char *own_msg(const struct vu_fs *fs, int r)
{
	const char *m = vu_errmsg(r);
	size_t n = strlen(fs->vol->desc);

	if (!strncmp(m, fs->vol->desc, n) && !strncmp(m + n, ": ntfs: ", 8))
		return m + n + 8;
	return m;
}

/* ---- reading through an extent list ---- */

static int is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static unsigned log2u(uint64_t v)
{
	unsigned n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

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
static int map_read(struct vu_fs *fs, const struct fs_data *d, void *buf,
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

/* The update sequence array of a multi-sector structure of size bytes:
 * 0, or -1 when a sector does not end with the sequence number (a torn
 * write or damage). */
static int fixup(uint8_t *b, uint32_t size)
{
	uint32_t ofs = vu_le16(b + NTFS_USA_OFS);
	uint32_t count = vu_le16(b + NTFS_USA_COUNT);

	if (size % NTFS_FIXUP_STRIDE || count != size / NTFS_FIXUP_STRIDE + 1 ||
	    ofs < NTFS_USA_COUNT + 2 || ofs % 2 || ofs > size ||
	    count * 2 > size - ofs)
		return -1;
	for (uint32_t i = 1; i < count; i++) {
		uint8_t *end = b + i * NTFS_FIXUP_STRIDE - 2;

		if (memcmp(end, b + ofs, 2))
			return -1;
		memcpy(end, b + ofs + 2 * i, 2);
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
	if (memcmp(rec, "FILE", 4))
		return fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64 ": no FILE "
			       "signature", ino);
	if (fixup(rec, x->recsize) < 0)
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
	if (vu_le16(rec + NTFS_USA_OFS) >= MFT_HDR_31 &&
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
	r = map_read(fs, &x->mft, rec, x->recsize, ino * x->recsize,
		     "MFT record", ino);
	if (r < 0)
		return r;
	return rec_check(fs, ino, rec);
}

/* Append the attributes of record k of in. */
static int attrs_parse(struct vu_fs *fs, struct ntfs_inode *in, size_t k)
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

static void inode_free(struct ntfs_inode *in)
{
	for (size_t i = 0; i < in->nrec; i++)
		free(in->rec[i]);
	free(in->rec);
	free(in->recno);
	free(in->a);
	memset(in, 0, sizeof(*in));
}

/* Read record ino into a new slot of in. */
static int rec_add(struct vu_fs *fs, struct ntfs_inode *in, uint64_t ino)
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
static int attr_value(struct vu_fs *fs, const struct ntfs_inode *in,
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
	r = map_read(fs, &d, *buf, (size_t)init, 0, "attribute", in->ino);
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

	r = attr_value(fs, in, &al, NTFS_ATTR_LIST_MAX, &list, &len);
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
		r = rec_add(fs, in, idx);
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
		r = attrs_parse(fs, in, in->nrec - 1);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	free(list);
	return r;
}

static const struct ntfs_attr *attr_find(const struct ntfs_inode *in,
					 uint32_t type, const char *name);

/* The reparse tag of in (0: none, or a reparse point we cannot read:
 * readlink says why). */
static void reparse_load(struct vu_fs *fs, struct ntfs_inode *in)
{
	const struct ntfs_attr *rp = attr_find(in, AT_REPARSE_POINT, NULL);
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
	if (attr_value(fs, in, rp, NTFS_REPARSE_MAX, &v, &len) == 0 &&
	    len >= RP_HDR)
		in->tag = vu_le32(v + RP_TAG);
	else if (!had)
		vu_err_clear();
	free(v);
}

/* Read the file whose base record is ino, with all its attributes. */
static int inode_load(struct vu_fs *fs, uint64_t ino, struct ntfs_inode *in)
{
	const uint8_t *rec;
	uint64_t base;
	int r;

	memset(in, 0, sizeof(*in));
	in->ino = ino;
	r = rec_add(fs, in, ino);
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
	r = attrs_parse(fs, in, 0);
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
	inode_free(in);
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

/* ---- names ---- */

/* UTF-16 units (host order) to UTF-8, lone surrogates kept. */
static void units_to_utf8(const uint16_t *u, size_t n, char *out,
			  size_t size)
{
	uint8_t le[2 * NTFS_NAME_UNITS];

	if (n > NTFS_NAME_UNITS)
		n = NTFS_NAME_UNITS;
	for (size_t i = 0; i < n; i++) {
		le[2 * i] = (uint8_t)u[i];
		le[2 * i + 1] = (uint8_t)(u[i] >> 8);
	}
	vu_utf16_to_utf8(le, n, VU_UTF16_KEEP_LONE, out, size);
}

/* UTF-8 (surrogates encoded on their own accepted) to UTF-16 units: the
 * count, or -1 when the string is not that or too long. */
static int utf8_to_units(const char *s, uint16_t *u, size_t max)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = 0;

	while (*p) {
		uint32_t cp;
		unsigned more;

		if (*p < 0x80) {
			cp = *p;
			more = 0;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = *p & 0x1f;
			more = 1;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			more = 2;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p & 0x07;
			more = 3;
		} else {
			return -1;
		}
		p++;
		for (unsigned i = 0; i < more; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (*p & 0x3f);
		}
		if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) ||
		    (more == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return -1;
		if (cp >= 0x10000) {
			if (n + 2 > max)
				return -1;
			u[n++] = (uint16_t)(0xd800 + ((cp - 0x10000) >> 10));
			u[n++] = (uint16_t)(0xdc00 + ((cp - 0x10000) & 0x3ff));
		} else {
			if (n + 1 > max)
				return -1;
			u[n++] = (uint16_t)cp;
		}
	}
	return (int)n;
}

static void fold_units(const struct ntfs *x, uint16_t *u, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (x->upcase)
			u[i] = x->upcase[u[i]];
		else if (u[i] >= 'a' && u[i] <= 'z')
			u[i] = (uint16_t)(u[i] - 'a' + 'A');
	}
}

/* A UTF-8 name with its case folded, or "" when it cannot be. */
static void fold_utf8(const struct ntfs *x, const char *s, char *out,
		      size_t size)
{
	uint16_t u[NTFS_NAME_UNITS];
	int n = utf8_to_units(s, u, NTFS_NAME_UNITS);

	out[0] = '\0';
	if (n <= 0)
		return;
	fold_units(x, u, (size_t)n);
	units_to_utf8(u, (size_t)n, out, size);
}

/* An on-disk UTF-16LE name as UTF-8, and folded; -1 when it holds a NUL
 * or is too long. */
static int disk_name(const struct ntfs *x, const uint8_t *le, size_t n,
		     char *name, char *fold, size_t size)
{
	uint16_t u[NTFS_NAME_UNITS];

	if (!n || n > NTFS_NAME_UNITS)
		return -1;
	for (size_t i = 0; i < n; i++) {
		u[i] = vu_le16(le + 2 * i);
		if (!u[i])
			return -1;
	}
	units_to_utf8(u, n, name, size);
	if (fold) {
		fold_units(x, u, n);
		units_to_utf8(u, n, fold, size);
	}
	return 0;
}

/* Whether attribute a is named name (NULL: unnamed), exactly or, with
 * folded set, after folding (fold: name folded). */
static int attr_named(const struct ntfs *x, const struct ntfs_attr *a,
		      const char *name, const char *fold)
{
	char n[NTFS_NAME_MAX], f[NTFS_NAME_MAX];

	if (!name)
		return a->name_len == 0;
	if (!a->name_len ||
	    disk_name(x, a->name, a->name_len, n, fold ? f : NULL,
		      sizeof(n)) < 0)
		return 0;
	return fold ? !strcmp(f, fold) : !strcmp(n, name);
}

/* ---- attributes of a file ---- */

static const struct ntfs_attr *attr_find(const struct ntfs_inode *in,
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

/* The chunks of one stream, sorted by VCN, first chunk first. */
struct ntfs_stream {
	const struct ntfs_attr **c;
	size_t n;
};

static int chunk_cmp(const void *a, const void *b)
{
	const struct ntfs_attr *x = *(const struct ntfs_attr *const *)a;
	const struct ntfs_attr *y = *(const struct ntfs_attr *const *)b;

	return x->lowest < y->lowest ? -1 : x->lowest > y->lowest;
}

/* The chunks of type with the name of attribute like (NULL: unnamed,
 * i30: "$I30"). */
static int stream_get(struct vu_fs *fs, const struct ntfs_inode *in,
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
static int stream_map(struct vu_fs *fs, const struct ntfs_inode *in,
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

/* ---- stat ---- */

static struct timespec nt_time(const uint8_t *p)
{
	uint64_t ft = vu_le64(p);
	struct timespec ts;

	ts.tv_sec = (time_t)(int64_t)(ft / 10000000u) - NTFS_EPOCH_SECS;
	ts.tv_nsec = (long)(ft % 10000000u) * 100;
	return ts;
}

static int is_link_tag(uint32_t tag)
{
	return tag == IO_REPARSE_TAG_SYMLINK ||
	       tag == IO_REPARSE_TAG_MOUNT_POINT;
}

static uint32_t file_attrs(const struct ntfs_inode *in)
{
	const struct ntfs_attr *si = attr_find(in, AT_STANDARD_INFORMATION,
					       NULL);

	return si && !si->nonres && si->value_len >= SI_MIN ?
	       vu_le32(si->value + SI_FILE_ATTRS) : 0;
}

static uint32_t inode_mode(const struct ntfs_inode *in)
{
	if (is_link_tag(in->tag))
		return S_IFLNK | 0777;
	if (in->rflags & MFT_FLAG_DIRECTORY)
		return S_IFDIR | 0555;
	return S_IFREG | 0444;
}

static int link_target(struct vu_fs *fs, const struct ntfs_inode *in,
		       char **out);

static int inode_stat(struct vu_fs *fs, const struct ntfs_inode *in,
		      struct vu_fs_stat *st)
{
	const struct ntfs_attr *si = attr_find(in, AT_STANDARD_INFORMATION,
					       NULL);
	const struct ntfs_attr *data, *a;
	uint32_t fa;

	memset(st, 0, sizeof(*st));
	if (!si || si->nonres || si->value_len < SI_MIN)
		return fs_fail(fs, -EUCLEAN, "MFT record %" PRIu64 ": no "
			       "$STANDARD_INFORMATION", in->ino);
	st->ino = in->ino;
	st->mode = inode_mode(in);
	st->btime = nt_time(si->value + SI_CREATION);
	st->has_btime = 1;
	st->mtime = nt_time(si->value + SI_MODIFICATION);
	st->ctime = nt_time(si->value + SI_MFT_CHANGE);
	st->atime = nt_time(si->value + SI_ACCESS);
	fa = vu_le32(si->value + SI_FILE_ATTRS);
	for (size_t i = 0; i < in->na; i++) {
		a = &in->a[i];
		if (a->type == AT_FILE_NAME && !a->nonres &&
		    a->value_len > FN_NAMESPACE &&
		    a->value[FN_NAMESPACE] != FN_NS_DOS)
			st->nlink++;
		if (a->type == AT_DATA && a->name_len &&
		    (!a->nonres || !a->lowest))
			st->nstreams++;
	}
	if (!st->nlink)
		st->nlink = 1;
	data = attr_find(in, AT_DATA, NULL);
	if (S_ISDIR(st->mode)) {
		data = attr_find(in, AT_INDEX_ALLOCATION, "$I30");
		if (!data)
			data = attr_find(in, AT_INDEX_ROOT, "$I30");
	}
	if (data && data->nonres) {
		st->size = data->size;
		st->blocks = (data->comp + 511) / 512;
	} else if (data) {
		st->size = data->value_len;
	}
	/* ntfs-3g leaves these out of $STANDARD_INFORMATION */
	if (data && (data->flags & ATTR_FLAG_COMPRESSED))
		fa |= FILE_ATTR_COMPRESSED;
	if (data && (data->flags & ATTR_FLAG_SPARSE))
		fa |= FILE_ATTR_SPARSE;
	if (data && (data->flags & ATTR_FLAG_ENCRYPTED))
		fa |= FILE_ATTR_ENCRYPTED;
	if (S_ISLNK(st->mode)) {
		char *t = NULL;
		int had = vu_err_isset();

		/* a damaged target shows as an empty one; readlink says why */
		if (link_target(fs, in, &t) < 0 && !had)
			vu_err_clear();
		st->size = t ? strlen(t) : 0;
		st->blocks = 0;
		free(t);
	}
	if (fa & FILE_ATTR_COMPRESSED)
		st->flags |= VU_FS_F_COMPRESSED;
	if (fa & FILE_ATTR_SPARSE)
		st->flags |= VU_FS_F_SPARSE;
	if (fa & FILE_ATTR_REPARSE || attr_find(in, AT_REPARSE_POINT, NULL))
		st->flags |= VU_FS_F_REPARSE;
	if (fa & FILE_ATTR_ENCRYPTED)
		st->flags |= VU_FS_F_ENCRYPTED;
	return 0;
}

/* Records 0 to 15 but the root are not shown. */
static int check_ino(struct vu_fs *fs, uint64_t ino)
{
	if ((ino < MFT_REC_RESERVED_END && ino != MFT_REC_ROOT) ||
	    ino > MFT_REF_INDEX(UINT64_MAX))
		return fs_fail(fs, -ENOENT, "inode %" PRIu64 " is not a file "
			       "shown (NTFS metadata file or out of range)",
			       ino);
	return 0;
}

static int ntfs_getattr(struct vu_fs *fs, uint64_t ino, struct vu_fs_stat *st)
{
	struct ntfs_inode in;
	int r;

	r = check_ino(fs, ino);
	if (r < 0)
		return r;
	r = inode_load(fs, ino, &in);
	if (r < 0)
		return r;
	r = inode_stat(fs, &in, st);
	inode_free(&in);
	return r;
}

/* ---- symbolic links ---- */

/* The substitute name of a symlink or junction (UTF-8, '\' already made
 * '/') as a POSIX path (see the top of this file): a new string. */
static char *map_target(const char *t)
{
	const char *p = t, *pre = "";
	char drive[8];
	char *out;

	if (!strncmp(p, "/\?\?/", 4)) {
		p += 4;
		if (((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z') &&
		    p[1] == ':' && (p[2] == '/' || !p[2])) {
			if ((p[0] | 0x20) == 'c') {
				pre = "/";
			} else {
				snprintf(drive, sizeof(drive), "/mnt/%c/",
					 p[0] | 0x20);
				pre = drive;
			}
			p += p[2] ? 3 : 2;
		} else if (!strncmp(p, "UNC/", 4)) {
			pre = "//";
			p += 4;
		} else {
			pre = "/mnt/";
		}
	}
	out = malloc(strlen(pre) + strlen(p) + 1);
	if (out) {
		strcpy(out, pre);
		strcat(out, p);
	}
	return out;
}

/* The target of a symbolic link or junction, as a new string. */
static int link_target(struct vu_fs *fs, const struct ntfs_inode *in,
		       char **out)
{
	const struct ntfs_attr *rp = attr_find(in, AT_REPARSE_POINT, NULL);
	uint8_t *v = NULL;
	char *name = NULL;
	uint32_t vlen = 0, dlen, path, so, sl, po, pl;
	size_t units;
	int r;

	*out = NULL;
	if (!rp)
		return fs_fail(fs, -EINVAL, "inode %" PRIu64 " has no reparse "
			       "point", in->ino);
	r = attr_value(fs, in, rp, NTFS_REPARSE_MAX, &v, &vlen);
	if (r < 0)
		return r;
	r = -EUCLEAN;
	if (vlen < RP_HDR)
		goto bad;
	dlen = vu_le16(v + RP_DATA_LEN);
	path = vu_le32(v + RP_TAG) == IO_REPARSE_TAG_SYMLINK ?
	       RP_SYMLINK_PATH : RP_JUNCTION_PATH;
	if (dlen > vlen - RP_HDR || RP_HDR + dlen < path)
		goto bad;
	so = vu_le16(v + RP_SUBST_OFS);
	sl = vu_le16(v + RP_SUBST_LEN);
	po = vu_le16(v + RP_PRINT_OFS);
	pl = vu_le16(v + RP_PRINT_LEN);
	dlen -= path - RP_HDR; /* the path buffer */
	if (so > dlen || sl > dlen - so || po > dlen || pl > dlen - po ||
	    sl % 2 || pl % 2)
		goto bad;
	if (!sl) { /* no substitute name: the print name */
		so = po;
		sl = pl;
	}
	units = sl / 2;
	if (!units)
		goto bad;
	for (size_t i = 0; i < units; i++)
		if (!vu_le16(v + path + so + 2 * i))
			goto bad;
	name = malloc(units * 3 + 1);
	if (!name) {
		free(v);
		return vu_fail(-ENOMEM, "out of memory");
	}
	vu_utf16_to_utf8(v + path + so, units, VU_UTF16_KEEP_LONE, name,
			 units * 3 + 1);
	for (char *c = name; *c; c++)
		if (*c == '\\')
			*c = '/';
	*out = map_target(name);
	free(name);
	free(v);
	if (!*out)
		return vu_fail(-ENOMEM, "out of memory");
	return 0;
bad:
	free(v);
	return fs_fail(fs, r, "MFT record %" PRIu64 ": damaged reparse point "
		       "(%u bytes)", in->ino, vlen);
}

static int ntfs_readlink(struct vu_fs *fs, uint64_t ino, char *buf,
			 size_t size)
{
	struct ntfs_inode in;
	char *t = NULL;
	int r;

	r = check_ino(fs, ino);
	if (r < 0)
		return r;
	r = inode_load(fs, ino, &in);
	if (r < 0)
		return r;
	if (!S_ISLNK(inode_mode(&in)))
		r = fs_fail(fs, -EINVAL, "inode %" PRIu64 " is not a symbolic "
			    "link", ino);
	else
		r = link_target(fs, &in, &t);
	inode_free(&in);
	if (r < 0)
		return r;
	if (strlen(t) + 1 > size)
		r = fs_fail(fs, -ERANGE, "symbolic link %" PRIu64 ": target "
			    "of %zu bytes, buffer of %zu", ino, strlen(t),
			    size);
	else
		memcpy(buf, t, strlen(t) + 1);
	free(t);
	return r;
}

/* ---- directories ---- */

struct index_walk {
	struct vu_fs *fs;
	const struct ntfs_inode *in;
	struct fs_data alloc;	/* $I30 index allocation */
	uint32_t bsize;		/* index block size */
	unsigned vcn_bits;	/* VCN to byte offset */
	uint8_t *seen;		/* blocks visited */
	uint64_t nblocks;
	struct ntfs_names *t;
	size_t cap;
};

static void names_free(struct ntfs_names *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].name);
		free(t->v[i].fold);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
	t->dir = UINT64_MAX;
}

static int ent_add(struct index_walk *w, const uint8_t *key, uint64_t ref)
{
	const struct ntfs *x = N(w->fs);
	char name[NTFS_NAME_MAX], fold[NTFS_NAME_MAX];
	struct ntfs_ent *e;
	int had = vu_err_isset();

	if (disk_name(x, key + FN_NAME, key[FN_NAME_LEN], name, fold,
		      sizeof(name)) < 0 || strchr(name, '/') ||
	    !strcmp(name, "..")) {
		fs_warn_skip(w->fs, had, "directory %" PRIu64 ": an entry "
			     "with a name that cannot be shown (record %"
			     PRIu64 ")", w->in->ino, MFT_REF_INDEX(ref));
		return 0;
	}
	if (!strcmp(name, "."))
		return 0; /* the root's entry for itself */
	if (w->t->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 32;

		e = realloc(w->t->v, cap * sizeof(*e));
		if (!e)
			return vu_fail(-ENOMEM, "out of memory");
		w->t->v = e;
		w->cap = cap;
	}
	e = &w->t->v[w->t->n];
	e->name = strdup(name);
	e->fold = strdup(fold);
	if (!e->name || !e->fold) {
		free(e->name);
		free(e->fold);
		return vu_fail(-ENOMEM, "out of memory");
	}
	e->ino = MFT_REF_INDEX(ref);
	e->seq = MFT_REF_SEQ(ref);
	e->ns = key[FN_NAMESPACE];
	e->hidden = w->in->ino == MFT_REC_ROOT &&
		    e->ino < MFT_REC_RESERVED_END;
	w->t->n++;
	return 0;
}

static int node_walk(struct index_walk *w, const uint8_t *node, size_t len,
		     unsigned depth);

/* The index block at vcn: read, checked and walked.  Damage is warned
 * about and skipped (the rest of the directory is still listed). */
static int block_walk(struct index_walk *w, uint64_t vcn, unsigned depth)
{
	struct vu_fs *fs = w->fs;
	uint64_t off, b;
	uint8_t *blk;
	int had = vu_err_isset(), r;

	if (depth > NTFS_INDEX_DEPTH || vcn > (UINT64_MAX >> w->vcn_bits)) {
		r = fs_fail(fs, -EUCLEAN, "index too deep or block VCN %"
			    PRIu64 " out of range", vcn);
		goto skip;
	}
	off = vcn << w->vcn_bits;
	b = off / w->bsize;
	if (off % w->bsize || b >= w->nblocks) {
		r = fs_fail(fs, -EUCLEAN, "index block VCN %" PRIu64 " outside "
			    "the index allocation", vcn);
		goto skip;
	}
	if (w->seen[b / 8] & (1u << (b % 8))) {
		r = fs_fail(fs, -EUCLEAN, "index block VCN %" PRIu64 " linked "
			    "twice", vcn);
		goto skip;
	}
	w->seen[b / 8] |= (uint8_t)(1u << (b % 8));
	blk = malloc(w->bsize);
	if (!blk)
		return vu_fail(-ENOMEM, "out of memory");
	r = map_read(fs, &w->alloc, blk, w->bsize, off, "index block",
		     w->in->ino);
	if (r == 0 && (memcmp(blk, "INDX", 4) || fixup(blk, w->bsize) < 0 ||
		       vu_le64(blk + INDX_VCN) != vcn))
		r = fs_fail(fs, -EUCLEAN, "index block VCN %" PRIu64 ": no "
			    "INDX signature, update sequence mismatch or "
			    "wrong VCN", vcn);
	if (r == 0)
		r = node_walk(w, blk + INDX_NODE, w->bsize - INDX_NODE,
			      depth + 1);
	free(blk);
	if (r == -EUCLEAN)
		goto skip;
	return r;
skip:
	fs_warn_skip(fs, had, "directory %" PRIu64 ": %s", w->in->ino,
		     own_msg(fs, r));
	return 0;
}

/* The entries of one index node (header at node, len bytes with it). */
static int node_walk(struct index_walk *w, const uint8_t *node, size_t len,
		     unsigned depth)
{
	uint32_t eo, il, pos;
	int r;

	if (len < IN_HDR)
		goto bad;
	eo = vu_le32(node + IN_ENTRIES_OFS);
	il = vu_le32(node + IN_INDEX_LEN);
	if (eo < IN_HDR || il > len || eo > il)
		goto bad;
	for (pos = eo; il - pos >= IE_KEY;) {
		const uint8_t *e = node + pos;
		uint32_t elen = vu_le16(e + IE_LEN);
		uint32_t klen = vu_le16(e + IE_KEY_LEN);
		uint32_t fl = vu_le32(e + IE_FLAGS);

		if (elen < IE_KEY || elen > il - pos || elen % 8 ||
		    ((fl & IE_FLAG_SUBNODE) && elen < IE_KEY + 8))
			goto bad;
		if (fl & IE_FLAG_SUBNODE) {
			r = block_walk(w, vu_le64(e + elen - 8), depth);
			if (r < 0)
				return r;
		}
		if (fl & IE_FLAG_LAST)
			return 0;
		if (klen < FN_NAME || klen > elen - IE_KEY ||
		    FN_NAME + 2u * e[IE_KEY + FN_NAME_LEN] > klen)
			goto bad;
		r = ent_add(w, e + IE_KEY, vu_le64(e + IE_REF));
		if (r < 0)
			return r;
		pos += elen;
	}
	return 0; /* no last entry: the length ends it */
bad:
	return fs_fail(w->fs, -EUCLEAN, "directory %" PRIu64 ": damaged index "
		       "node", w->in->ino);
}

static int ent_cmp(const void *a, const void *b)
{
	const struct ntfs_ent *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	/* for one name: long names before DOS names */
	return c ? c : (x->ns == FN_NS_DOS) - (y->ns == FN_NS_DOS);
}

static int dir_check(struct vu_fs *fs, const struct ntfs_inode *in)
{
	if (!S_ISDIR(inode_mode(in)))
		return fs_fail(fs, -ENOTDIR, "inode %" PRIu64 " is not a "
			       "directory", in->ino);
	return 0;
}

/* Read directory dir's $I30 index into a table of names. */
static int names_build(struct vu_fs *fs, uint64_t dir, struct ntfs_names *t)
{
	struct index_walk w = { .fs = fs, .t = t };
	const struct ntfs *x = N(fs);
	const struct ntfs_attr *root, *ia;
	struct ntfs_stream s = { 0 };
	struct ntfs_inode in;
	size_t k;
	int r;

	memset(t, 0, sizeof(*t));
	t->dir = UINT64_MAX;
	r = inode_load(fs, dir, &in);
	if (r < 0)
		return r;
	w.in = &in;
	r = dir_check(fs, &in);
	if (r < 0)
		goto out;
	root = attr_find(&in, AT_INDEX_ROOT, "$I30");
	if (!root || root->nonres || root->value_len < IR_NODE + IN_HDR ||
	    vu_le32(root->value + IR_TYPE) != AT_FILE_NAME) {
		r = fs_fail(fs, -EUCLEAN, "directory %" PRIu64 ": no $I30 "
			    "index root", dir);
		goto out;
	}
	w.bsize = vu_le32(root->value + IR_BLOCK_SIZE);
	ia = attr_find(&in, AT_INDEX_ALLOCATION, "$I30");
	if (ia) {
		if (!is_pow2(w.bsize) || w.bsize < NTFS_FIXUP_STRIDE ||
		    w.bsize > MFT_RECORD_MAX || !ia->nonres ||
		    (ia->flags & (ATTR_FLAG_COMPRESSED | ATTR_FLAG_ENCRYPTED))) {
			r = fs_fail(fs, -EUCLEAN, "directory %" PRIu64 ": index "
				    "blocks of %u bytes", dir, w.bsize);
			goto out;
		}
		w.vcn_bits = w.bsize >= x->cluster ? x->cbits : 9;
		r = stream_get(fs, &in, AT_INDEX_ALLOCATION, ia, &s);
		if (r == 0)
			r = stream_map(fs, &in, &s, &w.alloc);
		free(s.c);
		if (r < 0)
			goto out;
		if (w.alloc.size > x->nclusters << x->cbits) {
			r = fs_fail(fs, -EUCLEAN, "directory %" PRIu64 ": index "
				    "of %" PRIu64 " bytes", dir, w.alloc.size);
			goto out;
		}
		w.nblocks = w.alloc.size / w.bsize;
		w.seen = calloc(1, w.nblocks / 8 + 1);
		if (!w.seen) {
			r = vu_fail(-ENOMEM, "out of memory");
			goto out;
		}
	}
	r = node_walk(&w, root->value + IR_NODE, root->value_len - IR_NODE, 0);
	if (r < 0)
		goto out;
	if (t->n)
		qsort(t->v, t->n, sizeof(*t->v), ent_cmp);
	/* one name once (a damaged index may repeat an entry) */
	for (size_t i = k = 0; i < t->n; i++) {
		if (k && !strcmp(t->v[k - 1].name, t->v[i].name) &&
		    t->v[k - 1].ino == t->v[i].ino) {
			free(t->v[i].name);
			free(t->v[i].fold);
			continue;
		}
		t->v[k++] = t->v[i];
	}
	t->n = k;
	t->dir = dir;
out:
	free(w.alloc.ext);
	free(w.seen);
	inode_free(&in);
	if (r < 0)
		names_free(t);
	return r;
}

static int names_get(struct vu_fs *fs, uint64_t dir,
		     const struct ntfs_names **out)
{
	struct ntfs *x = N(fs);
	struct ntfs_names *slot = &x->names[0], t;
	int r;

	for (int i = 0; i < NTFS_NAME_CACHE; i++) {
		if (x->names[i].dir == dir) {
			x->names[i].used = ++x->tick;
			*out = &x->names[i];
			return 0;
		}
		if (x->names[i].used < slot->used)
			slot = &x->names[i];
	}
	r = names_build(fs, dir, &t);
	if (r < 0)
		return r;
	names_free(slot);
	*slot = t;
	slot->used = ++x->tick;
	*out = slot;
	return 0;
}

/* The parent of a directory, from its $FILE_NAME (a long name first). */
static int parent_of(struct vu_fs *fs, const struct ntfs_inode *in,
		     uint64_t *parent)
{
	*parent = 0;
	if (in->ino == MFT_REC_ROOT) {
		*parent = MFT_REC_ROOT;
		return 0;
	}
	for (int pass = 0; pass < 2 && !*parent; pass++)
		for (size_t i = 0; i < in->na; i++) {
			const struct ntfs_attr *a = &in->a[i];

			if (a->type != AT_FILE_NAME || a->nonres ||
			    a->value_len < FN_NAME ||
			    (!pass && a->value[FN_NAMESPACE] == FN_NS_DOS))
				continue;
			*parent = MFT_REF_INDEX(vu_le64(a->value + FN_PARENT));
			break;
		}
	if (!*parent)
		return fs_fail(fs, -EUCLEAN, "directory %" PRIu64 ": no "
			       "parent in its $FILE_NAME", in->ino);
	return 0;
}

static int ntfs_lookup(struct vu_fs *fs, uint64_t dir, const char *name,
		       uint64_t *ino)
{
	const struct ntfs_names *t;
	const struct ntfs_ent *hit = NULL;
	char fold[NTFS_NAME_MAX];
	struct ntfs_inode in;
	size_t lo, hi;
	int r;

	r = check_ino(fs, dir);
	if (r < 0)
		return r;
	r = inode_load(fs, dir, &in);
	if (r < 0)
		return r;
	r = dir_check(fs, &in);
	if (r == 0 && !strcmp(name, "."))
		*ino = dir;
	else if (r == 0 && !strcmp(name, ".."))
		r = parent_of(fs, &in, ino);
	inode_free(&in);
	if (r < 0 || !strcmp(name, ".") || !strcmp(name, ".."))
		return r;
	r = names_get(fs, dir, &t);
	if (r < 0)
		return r;
	/* exact: the first entry not before name */
	for (lo = 0, hi = t->n; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(t->v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < t->n && !strcmp(t->v[lo].name, name); lo++)
		if (!t->v[lo].hidden && t->v[lo].ns != FN_NS_DOS) {
			hit = &t->v[lo];
			break;
		}
	fold_utf8(N(fs), name, fold, sizeof(fold));
	/* folded: long names, then DOS names */
	for (int pass = 0; !hit && fold[0] && pass < 2; pass++)
		for (size_t i = 0; i < t->n; i++)
			if (!t->v[i].hidden &&
			    (t->v[i].ns == FN_NS_DOS) == pass &&
			    !strcmp(t->v[i].fold, fold)) {
				hit = &t->v[i];
				break;
			}
	if (!hit)
		return fs_fail(fs, -ENOENT, "directory %" PRIu64 ": no \"%s\"",
			       dir, name);
	/* what readdir skips is not found either */
	r = inode_load(fs, hit->ino, &in);
	if (r < 0)
		return r;
	if (hit->seq && hit->seq != in.seq)
		r = fs_fail(fs, -ENOENT, "directory %" PRIu64 ": \"%s\": MFT "
			    "record %" PRIu64 " was reused", dir, name,
			    hit->ino);
	else
		*ino = hit->ino;
	inode_free(&in);
	return r;
}

static int ntfs_readdir(struct vu_fs *fs, uint64_t dir, fs_dirent_fn fn,
			void *ctx)
{
	const struct ntfs_names *t;
	struct ntfs_inode in;
	struct vu_fs_stat st;
	int r;

	r = check_ino(fs, dir);
	if (r < 0)
		return r;
	r = names_get(fs, dir, &t);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->n; i++) {
		const struct ntfs_ent *e = &t->v[i];
		int had = vu_err_isset();

		if (e->hidden || e->ns == FN_NS_DOS)
			continue;
		r = inode_load(fs, e->ino, &in);
		if (r < 0)
			goto skip;
		if (e->seq && e->seq != in.seq)
			r = fs_fail(fs, -ENOENT, "MFT record %" PRIu64 " was "
				    "reused (sequence %u, the entry has %u)",
				    e->ino, in.seq, e->seq);
		else
			r = inode_stat(fs, &in, &st);
		inode_free(&in);
skip:
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			fs_warn_skip(fs, had, "directory %" PRIu64 ": \"%s\": "
				     "%s", dir, e->name, own_msg(fs, r));
			continue;
		}
		if (fn(ctx, e->name, &st))
			return -ENOMEM;
	}
	return 0;
}

/* ---- streams ---- */

static int ntfs_streams(struct vu_fs *fs, uint64_t ino, vu_fs_stream_cb cb,
			void *ctx)
{
	const struct ntfs *x = N(fs);
	struct ntfs_inode in;
	char name[NTFS_NAME_MAX];
	int r;

	r = check_ino(fs, ino);
	if (r < 0)
		return r;
	r = inode_load(fs, ino, &in);
	if (r < 0)
		return r;
	for (size_t i = 0; i < in.na && r == 0; i++) {
		const struct ntfs_attr *a = &in.a[i];

		if (a->type != AT_DATA || !a->name_len ||
		    (a->nonres && a->lowest))
			continue;
		if (disk_name(x, a->name, a->name_len, name, NULL,
			      sizeof(name)) < 0) {
			fs_warn_skip(fs, vu_err_isset(), "MFT record %" PRIu64
				     ": a stream name that cannot be shown",
				     ino);
			continue;
		}
		if (cb)
			r = cb(ctx, name, a->nonres ? a->size : a->value_len);
	}
	inode_free(&in);
	return r;
}

/* ---- file data ---- */

struct ntfs_handle {
	uint64_t ino;
	uint8_t *res;		/* resident data */
	libfsntfs_file_entry_t *fe;
	libfsntfs_data_stream_t *ds;	/* a named stream, else fe's data */
};

/* What a reparse point means for the content of the main stream. */
static int reparse_refuses(struct vu_fs *fs, const struct ntfs_inode *in)
{
	static const struct {
		uint32_t tag;
		const char *what;
	} held[] = {
		{ IO_REPARSE_TAG_WOF, "compressed by the Windows Overlay "
		  "Filter (WOF: compact.exe, CompactOS)" },
		{ IO_REPARSE_TAG_DEDUP, "held in the Data Deduplication chunk "
		  "store" },
		{ IO_REPARSE_TAG_SIS, "held in the single-instance store" },
		{ IO_REPARSE_TAG_HSM, "moved out by hierarchical storage" },
		{ IO_REPARSE_TAG_HSM2, "moved out by hierarchical storage" },
	};
	uint32_t tag = in->tag;
	uint32_t fa = file_attrs(in);

	for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		if (tag == held[i].tag)
			return fs_fail(fs, -ENOTSUP, "inode %" PRIu64 ": content "
				       "%s (reparse tag 0x%08x), not read",
				       in->ino, held[i].what, tag);
	if ((tag & IO_REPARSE_TAG_CLOUD_MASK) == IO_REPARSE_TAG_CLOUD &&
	    (fa & (FILE_ATTR_OFFLINE | FILE_ATTR_RECALL_ON_DATA_ACCESS)))
		return fs_fail(fs, -ENOTSUP, "inode %" PRIu64 ": content is in "
			       "the cloud, not on this volume (OneDrive "
			       "placeholder, reparse tag 0x%08x)", in->ino, tag);
	return 0;
}

static void lib_close(struct ntfs *x)
{
	libfsntfs_error_t *err = NULL;

	if (x->lib) {
		if (libfsntfs_volume_close(x->lib, &err) != 0)
			libfsntfs_error_free(&err);
		if (libfsntfs_volume_free(&x->lib, &err) != 1)
			libfsntfs_error_free(&err);
	}
	x->lib = NULL;
	vu_bfio_free(&x->bfio);
}

static int lib_fail(struct vu_fs *fs, libfsntfs_error_t **err,
		    const char *fmt, ...) VU_PRINTF(3, 4);

/* Our read error if the library failed on one, else its own reason. */
static int lib_fail(struct vu_fs *fs, libfsntfs_error_t **err,
		    const char *fmt, ...)
{
	char what[512], why[512];
	va_list ap;
	int r = 0;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (N(fs)->bfio)
		r = vu_bfio_take_error(N(fs)->bfio);
	if (!r)
		r = vu_yal_errno(*err);
	vu_yal_message(*err, why, sizeof(why));
	libfsntfs_error_free(err);
	return fs_fail(fs, r, "%s: libfsntfs: %s", what,
		       why[0] ? why : "failed");
}

/* libfsntfs on this volume, opened the first time it is needed. */
static int lib_open(struct vu_fs *fs)
{
	struct ntfs *x = N(fs);
	libfsntfs_error_t *err = NULL;
	int r;

	if (x->lib)
		return 0;
	if (x->lib_err)
		return vu_fail(x->lib_err, "%s", x->lib_why);
	r = vu_bfio_new(fs->vol, &x->bfio);
	if (r < 0)
		return r;
	if (libfsntfs_volume_initialize(&x->lib, &err) != 1) {
		x->lib = NULL;
		r = lib_fail(fs, &err, "compressed data");
		goto fail;
	}
	/* the library opens the handle (it reports closed until then) */
	if (libfsntfs_volume_open_file_io_handle(x->lib, x->bfio,
						 LIBFSNTFS_OPEN_READ,
						 &err) != 1) {
		libfsntfs_volume_free(&x->lib, NULL);
		x->lib = NULL;
		r = lib_fail(fs, &err, "compressed data: cannot open the "
			     "volume");
		goto fail;
	}
	return 0;
fail:
	if (r != -ENOMEM && r != -EIO) {
		x->lib_err = r;
		snprintf(x->lib_why, sizeof(x->lib_why), "%s", vu_errmsg(r));
	}
	lib_close(x);
	return r;
}

static void handle_free(struct ntfs_handle *h)
{
	libfsntfs_error_t *err = NULL;

	if (!h)
		return;
	if (h->ds && libfsntfs_data_stream_free(&h->ds, &err) != 1)
		libfsntfs_error_free(&err);
	if (h->fe && libfsntfs_file_entry_free(&h->fe, &err) != 1)
		libfsntfs_error_free(&err);
	free(h->res);
	free(h);
}

/* The stream named like a of ino through libfsntfs. */
static int lib_stream(struct vu_fs *fs, const struct ntfs_inode *in,
		      const struct ntfs_attr *a, uint64_t size,
		      struct ntfs_handle *h)
{
	const struct ntfs *x = N(fs);
	libfsntfs_error_t *err = NULL;
	char want[NTFS_NAME_MAX], got[NTFS_NAME_MAX];
	size64_t lsize = 0;
	int n = 0, r;

	r = lib_open(fs);
	if (r < 0)
		return r;
	if (libfsntfs_volume_get_file_entry_by_index(x->lib, in->ino, &h->fe,
						     &err) != 1) {
		h->fe = NULL;
		return lib_fail(fs, &err, "inode %" PRIu64, in->ino);
	}
	if (!a->name_len) {
		if (libfsntfs_file_entry_get_size(h->fe, &lsize, &err) != 1)
			return lib_fail(fs, &err, "inode %" PRIu64, in->ino);
		goto check;
	}
	disk_name(x, a->name, a->name_len, want, NULL, sizeof(want));
	if (libfsntfs_file_entry_get_number_of_alternate_data_streams(
		    h->fe, &n, &err) != 1)
		return lib_fail(fs, &err, "inode %" PRIu64, in->ino);
	for (int i = 0; i < n && !h->ds; i++) {
		uint16_t u[NTFS_NAME_UNITS + 1];
		size_t len = 0;

		if (libfsntfs_file_entry_get_alternate_data_stream_by_index(
			    h->fe, i, &h->ds, &err) != 1)
			return lib_fail(fs, &err, "inode %" PRIu64 ": stream %d",
					in->ino, i);
		/* the size counts the terminating NUL */
		if (libfsntfs_data_stream_get_utf16_name_size(h->ds, &len,
							      &err) != 1 ||
		    len < 2 || len > NTFS_NAME_UNITS + 1 ||
		    libfsntfs_data_stream_get_utf16_name(h->ds, u, len,
							 &err) != 1) {
			libfsntfs_error_free(&err); /* not this one */
			got[0] = '\0';
		} else {
			units_to_utf8(u, len - 1, got, sizeof(got));
		}
		if (strcmp(got, want))
			libfsntfs_data_stream_free(&h->ds, NULL);
	}
	if (!h->ds)
		return fs_fail(fs, -EUCLEAN, "inode %" PRIu64 ": libfsntfs "
			       "does not find stream \"%s\"", in->ino, want);
	if (libfsntfs_data_stream_get_size(h->ds, &lsize, &err) != 1)
		return lib_fail(fs, &err, "inode %" PRIu64, in->ino);
check:
	if (lsize != size)
		return fs_fail(fs, -EUCLEAN, "inode %" PRIu64 ": libfsntfs "
			       "reads %" PRIu64 " bytes, the record says %"
			       PRIu64, in->ino, (uint64_t)lsize, size);
	return 0;
}

/* The $DATA attribute of stream (NULL: the main one), exactly or after
 * folding. */
static const struct ntfs_attr *data_attr(const struct ntfs *x,
					 const struct ntfs_inode *in,
					 const char *stream)
{
	char fold[NTFS_NAME_MAX];

	for (int pass = 0; pass < (stream ? 2 : 1); pass++) {
		if (pass)
			fold_utf8(x, stream, fold, sizeof(fold));
		if (pass && !fold[0])
			break;
		for (size_t i = 0; i < in->na; i++) {
			const struct ntfs_attr *a = &in->a[i];

			if (a->type == AT_DATA && (!a->nonres || !a->lowest) &&
			    attr_named(x, a, stream, pass ? fold : NULL))
				return a;
		}
	}
	return NULL;
}

static int has_wof_stream(const struct ntfs_inode *in)
{
	static const char wof[] = "WofCompressedData";

	for (size_t i = 0; i < in->na; i++) {
		const struct ntfs_attr *a = &in->a[i];
		size_t k;

		if (a->type != AT_DATA || a->name_len != sizeof(wof) - 1)
			continue;
		for (k = 0; k < sizeof(wof) - 1; k++)
			if (vu_le16(a->name + 2 * k) != (uint8_t)wof[k])
				break;
		if (k == sizeof(wof) - 1)
			return 1;
	}
	return 0;
}

static int ntfs_data_open(struct vu_fs *fs, uint64_t ino, const char *stream,
			  struct fs_data *d)
{
	const struct ntfs *x = N(fs);
	const struct ntfs_attr *a;
	struct ntfs_stream s = { 0 };
	struct ntfs_handle *h = NULL;
	struct ntfs_inode in;
	uint32_t mode;
	int r;

	r = check_ino(fs, ino);
	if (r < 0)
		return r;
	r = inode_load(fs, ino, &in);
	if (r < 0)
		return r;
	mode = inode_mode(&in);
	if (!stream && S_ISDIR(mode)) {
		r = fs_fail(fs, -EISDIR, "inode %" PRIu64 " is a directory",
			    ino);
		goto out;
	}
	if (!stream && !S_ISREG(mode)) {
		r = fs_fail(fs, -EINVAL, "inode %" PRIu64 " is not a regular "
			    "file", ino);
		goto out;
	}
	if (!stream && (r = reparse_refuses(fs, &in)) < 0)
		goto out;
	a = data_attr(x, &in, stream);
	if (!a) {
		r = stream ? fs_fail(fs, -ENOENT, "inode %" PRIu64 ": no "
				     "stream \"%s\"", ino, stream)
			   : fs_fail(fs, -EUCLEAN, "inode %" PRIu64 ": no "
				     "$DATA attribute", ino);
		goto out;
	}
	if ((a->flags & ATTR_FLAG_ENCRYPTED) ||
	    (!stream && (file_attrs(&in) & FILE_ATTR_ENCRYPTED))) {
		r = fs_fail(fs, -ENOTSUP, "inode %" PRIu64 ": content "
			    "encrypted with EFS, not read", ino);
		goto out;
	}
	if (!a->nonres) {
		h = calloc(1, sizeof(*h));
		if (!h || !(h->res = malloc(a->value_len ? a->value_len : 1))) {
			r = vu_fail(-ENOMEM, "out of memory");
			goto out;
		}
		memcpy(h->res, a->value, a->value_len);
		h->ino = ino;
		d->size = a->value_len;
		d->use_read = 1;
		d->handle = h; /* transferred */
		h = NULL;
		goto out;
	}
	r = stream_get(fs, &in, AT_DATA, a, &s);
	if (r < 0)
		goto out;
	if (!(a->flags & ATTR_FLAG_COMPRESSED)) {
		r = stream_map(fs, &in, &s, d);
		goto out;
	}
	/* compressed: libfsntfs decompresses, under the lock */
	if (a->size > a->alloc || a->size > INT64_MAX || !a->cu_shift) {
		r = fs_fail(fs, -EUCLEAN, "inode %" PRIu64 ": compressed data "
			    "of %" PRIu64 " bytes in %" PRIu64 " allocated",
			    ino, a->size, a->alloc);
		goto out;
	}
	if (has_wof_stream(&in)) { /* libfsntfs reads its reparse point */
		r = fs_fail(fs, -ENOTSUP, "inode %" PRIu64 ": compressed by "
			    "the Windows Overlay Filter (WOF), not read", ino);
		goto out;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto out;
	}
	h->ino = ino;
	r = lib_stream(fs, &in, a, a->size, h);
	if (r < 0)
		goto out;
	d->size = a->size;
	d->use_read = 1;
	d->handle = h; /* transferred */
	h = NULL;
out:
	handle_free(h);
	free(s.c);
	inode_free(&in);
	return r;
}

static ssize_t ntfs_data_read(struct vu_fs *fs, void *handle, void *buf,
			      size_t len, uint64_t off)
{
	struct ntfs_handle *h = handle;
	libfsntfs_error_t *err = NULL;
	ssize_t n;

	if (h->res) { /* fs.c keeps off + len within the size */
		memcpy(buf, h->res + off, len);
		return (ssize_t)len;
	}
	if (len > 1u << 30)
		len = 1u << 30;
	if (h->ds)
		n = libfsntfs_data_stream_read_buffer_at_offset(h->ds, buf, len,
								(off64_t)off,
								&err);
	else
		n = libfsntfs_file_entry_read_buffer_at_offset(h->fe, buf, len,
							       (off64_t)off,
							       &err);
	if (n < 0)
		return lib_fail(fs, &err, "inode %" PRIu64 ": compressed data "
				"at %" PRIu64, h->ino, off);
	return n;
}

static void ntfs_data_close(struct vu_fs *fs, void *handle)
{
	(void)fs;
	handle_free(handle);
}

/* ---- the file system ---- */

static int boot_read(struct vu_fs *fs, uint64_t *mft_off)
{
	struct ntfs *x = N(fs);
	uint8_t b[NTFS_BOOT_SIZE];
	uint32_t bps, spc;
	uint64_t sectors, bytes;
	int8_t rs;
	int r;

	if (fs->vol->size < NTFS_BOOT_SIZE)
		return fs_fail(fs, -EUCLEAN, "volume of %" PRIu64 " bytes is "
			       "too small", fs->vol->size);
	r = vu_blk_read(fs->vol, b, sizeof(b), 0);
	if (r < 0)
		return r;
	if (memcmp(b + NTFS_BOOT_OEM, "NTFS    ", 8) ||
	    b[NTFS_BOOT_SIGNATURE] != 0x55 || b[NTFS_BOOT_SIGNATURE + 1] != 0xaa)
		return fs_fail(fs, -EUCLEAN, "no NTFS boot sector");
	bps = vu_le16(b + NTFS_BOOT_BPS);
	spc = b[NTFS_BOOT_SPC];
	spc = spc <= 0x80 ? spc : (spc >= 0xf4 ? 1u << (256 - spc) : 0);
	sectors = vu_le64(b + NTFS_BOOT_TOTAL_SECTORS);
	if (!is_pow2(bps) || bps < 256 || bps > 4096 || !is_pow2(spc) ||
	    (uint64_t)bps * spc > (2u << 20))
		return fs_fail(fs, -EUCLEAN, "boot sector: %u bytes per sector, "
			       "%u sectors per cluster", bps, spc);
	x->cluster = bps * spc;
	x->cbits = log2u(x->cluster);
	if (sectors > (UINT64_C(1) << 62) / bps)
		return fs_fail(fs, -EUCLEAN, "boot sector: %" PRIu64 " sectors",
			       sectors);
	bytes = sectors * bps;
	x->nclusters = bytes >> x->cbits;
	rs = (int8_t)b[NTFS_BOOT_MFT_RECSIZE];
	if (rs > 0)
		x->recsize = (uint32_t)rs * x->cluster > MFT_RECORD_MAX ?
			     0 : (uint32_t)rs * x->cluster;
	else
		x->recsize = rs < -16 || rs > -9 ? 0 : 1u << -rs;
	if (!is_pow2(x->recsize) || x->recsize < MFT_RECORD_MIN ||
	    x->recsize > MFT_RECORD_MAX)
		return fs_fail(fs, -EUCLEAN, "boot sector: MFT record size "
			       "value %d", rs);
	if (vu_le64(b + NTFS_BOOT_MFT_LCN) >= x->nclusters)
		return fs_fail(fs, -EUCLEAN, "boot sector: MFT at cluster %"
			       PRIu64 " past the %" PRIu64 " clusters",
			       vu_le64(b + NTFS_BOOT_MFT_LCN), x->nclusters);
	*mft_off = vu_le64(b + NTFS_BOOT_MFT_LCN) << x->cbits;
	return 0;
}

/* $MFT's own extent list from the unnamed $DATA of record 0 (all its
 * chunks when it has an attribute list). */
static int mft_map(struct vu_fs *fs, const struct ntfs_inode *in,
		   uint64_t mft_off)
{
	struct ntfs *x = N(fs);
	const struct ntfs_attr *a = attr_find(in, AT_DATA, NULL);
	struct ntfs_stream s = { 0 };
	struct fs_data d = { 0 };
	int r;

	if (!a || !a->nonres)
		return fs_fail(fs, -EUCLEAN, "MFT record 0: no $DATA");
	r = stream_get(fs, in, AT_DATA, a, &s);
	if (r < 0)
		return r;
	/* before the attribute list is read: the chunks in record 0 */
	r = stream_map(fs, in, &s, &d);
	free(s.c);
	if (r < 0)
		goto fail;
	if (!d.next || d.ext[0].logical || d.ext[0].physical != mft_off ||
	    (d.ext[0].flags & FS_EXTENT_ZERO) ||
	    a->size / x->recsize < MFT_REC_RESERVED_END) {
		r = fs_fail(fs, -EUCLEAN, "MFT record 0: $MFT does not start "
			    "where the boot sector says, or is too small");
		goto fail;
	}
	free(x->mft.ext);
	x->mft = d;
	x->nrecords = a->size / x->recsize;
	return 0;
fail:
	free(d.ext);
	return r;
}

static int mft_open(struct vu_fs *fs, uint64_t mft_off)
{
	struct ntfs *x = N(fs);
	struct ntfs_inode in = { 0 };
	int has_list = 0, r;

	/* record 0 at the start of the MFT, whatever its extents */
	x->mft.size = x->recsize;
	x->nrecords = 1;
	r = fs_data_add(&x->mft, 0, x->recsize, mft_off, 0);
	if (r < 0)
		return r;
	in.ino = MFT_REC_MFT;
	r = rec_add(fs, &in, MFT_REC_MFT);
	if (r == 0 && !(vu_le16(in.rec[0] + MFT_FLAGS) & MFT_FLAG_IN_USE))
		r = fs_fail(fs, -EUCLEAN, "MFT record 0 is not in use");
	if (r == 0)
		r = attrs_parse(fs, &in, 0);
	if (r == 0)
		r = mft_map(fs, &in, mft_off);
	for (size_t i = 0; r == 0 && i < in.na; i++)
		has_list |= in.a[i].type == AT_ATTRIBUTE_LIST;
	inode_free(&in);
	if (r < 0 || !has_list)
		return r;
	/* the extension records, read through the extents found so far */
	r = inode_load(fs, MFT_REC_MFT, &in);
	if (r < 0)
		return r;
	r = mft_map(fs, &in, mft_off);
	inode_free(&in);
	return r;
}

/* The $UpCase table, or ASCII folding when it cannot be read. */
static void upcase_load(struct vu_fs *fs)
{
	struct ntfs *x = N(fs);
	struct ntfs_stream s = { 0 };
	struct fs_data d = { 0 };
	struct ntfs_inode in;
	const struct ntfs_attr *a;
	uint8_t *b = NULL;
	int had = vu_err_isset(), r;

	r = inode_load(fs, MFT_REC_UPCASE, &in);
	if (r < 0)
		goto out;
	a = attr_find(&in, AT_DATA, NULL);
	if (!a || !a->nonres || a->size != 2 * NTFS_UPCASE_UNITS ||
	    (a->flags & (ATTR_FLAG_COMPRESSED | ATTR_FLAG_ENCRYPTED))) {
		r = fs_fail(fs, -EUCLEAN, "$UpCase is not a table of %d "
			    "entries", NTFS_UPCASE_UNITS);
		goto out_in;
	}
	r = stream_get(fs, &in, AT_DATA, a, &s);
	if (r == 0)
		r = stream_map(fs, &in, &s, &d);
	b = malloc(2 * NTFS_UPCASE_UNITS);
	x->upcase = malloc(sizeof(*x->upcase) * NTFS_UPCASE_UNITS);
	if (r == 0 && (!b || !x->upcase))
		r = -ENOMEM;
	if (r == 0)
		r = map_read(fs, &d, b, 2 * NTFS_UPCASE_UNITS, 0, "$UpCase",
			     MFT_REC_UPCASE);
	if (r == 0)
		for (unsigned i = 0; i < NTFS_UPCASE_UNITS; i++)
			x->upcase[i] = vu_le16(b + 2 * i);
out_in:
	inode_free(&in);
out:
	if (r < 0) {
		free(x->upcase);
		x->upcase = NULL;
		vu_log(VU_LOG_DEBUG, "%s: ntfs: names compared with ASCII "
		       "case folding: %s", fs->vol->desc, own_msg(fs, r));
		if (!had)
			vu_err_clear();
	}
	free(s.c);
	free(d.ext);
	free(b);
}

static void ntfs_close(struct vu_fs *fs)
{
	struct ntfs *x = N(fs);

	if (!x)
		return;
	for (int i = 0; i < NTFS_NAME_CACHE; i++)
		names_free(&x->names[i]);
	lib_close(x);
	free(x->mft.ext);
	free(x->upcase);
	free(x);
	fs->priv = NULL;
}

static int ntfs_open(struct vu_fs *fs)
{
	struct ntfs_inode in;
	struct ntfs *x;
	uint64_t mft_off = 0;
	int r;

	x = calloc(1, sizeof(*x));
	if (!x)
		return vu_fail(-ENOMEM, "out of memory");
	fs->priv = x;
	for (int i = 0; i < NTFS_NAME_CACHE; i++)
		x->names[i].dir = UINT64_MAX;
	r = boot_read(fs, &mft_off);
	if (r == 0)
		r = mft_open(fs, mft_off);
	if (r < 0)
		goto fail;
	fs->root = MFT_REC_ROOT;
	r = inode_load(fs, MFT_REC_ROOT, &in);
	if (r < 0)
		goto fail;
	r = dir_check(fs, &in);
	inode_free(&in);
	if (r < 0)
		goto fail;
	upcase_load(fs);
	return 0;
fail:
	ntfs_close(fs);
	return r;
}

const struct fs_ops fs_ntfs_ops = {
	.name = "ntfs",
	.open = ntfs_open,
	.close = ntfs_close,
	.lookup = ntfs_lookup,
	.getattr = ntfs_getattr,
	.readdir = ntfs_readdir,
	.readlink = ntfs_readlink,
	.streams = ntfs_streams,
	.data_open = ntfs_data_open,
	.data_read = ntfs_data_read,
	.data_close = ntfs_data_close,
};
