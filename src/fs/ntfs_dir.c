/* NTFS (see fs_ntfs.c for what the interface shows and why these are
 * our own code). Directories: $I30 index walking into per-directory name tables (cached),
 * lookup with the volume's case folding, readdir; named streams. */
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

void ntfs_names_free(void *table)
{
	struct ntfs_names *t = table;

	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].name);
		free(t->v[i].fold);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static int ent_add(struct index_walk *w, const uint8_t *key, uint64_t ref)
{
	const struct ntfs *x = N(w->fs);
	char name[NTFS_NAME_MAX], fold[NTFS_NAME_MAX];
	struct ntfs_ent *e;
	int had = vu_err_isset();

	if (ntfs_disk_name(x, key + FN_NAME, key[FN_NAME_LEN], name, fold,
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
	r = ntfs_map_read(fs, &w->alloc, blk, w->bsize, off, "index block",
			  w->in->ino);
	if (r == 0 && (memcmp(blk, "INDX", 4) ||
		       vu_usa_fixup(blk, w->bsize) < 0 ||
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

int ntfs_dir_check(struct vu_fs *fs, const struct ntfs_inode *in)
{
	if (!S_ISDIR(ntfs_inode_mode(in)))
		return fs_fail(fs, -ENOTDIR, "inode %" PRIu64 " is not a "
			       "directory", in->ino);
	return 0;
}

/* Read directory dir's $I30 index into a table of names. */
int ntfs_names_build(void *ctx, uint64_t dir, void *table)
{
	struct vu_fs *fs = ctx;
	struct ntfs_names *t = table;
	struct index_walk w = { .fs = fs, .t = t };
	const struct ntfs *x = N(fs);
	const struct ntfs_attr *root, *ia;
	struct ntfs_stream s = { 0 };
	struct ntfs_inode in;
	size_t k;
	int r;

	memset(t, 0, sizeof(*t));
	r = ntfs_inode_load(fs, dir, &in);
	if (r < 0)
		return r;
	w.in = &in;
	r = ntfs_dir_check(fs, &in);
	if (r < 0)
		goto out;
	root = ntfs_attr_find(&in, AT_INDEX_ROOT, "$I30");
	if (!root || root->nonres || root->value_len < IR_NODE + IN_HDR ||
	    vu_le32(root->value + IR_TYPE) != AT_FILE_NAME) {
		r = fs_fail(fs, -EUCLEAN, "directory %" PRIu64 ": no $I30 "
			    "index root", dir);
		goto out;
	}
	w.bsize = vu_le32(root->value + IR_BLOCK_SIZE);
	ia = ntfs_attr_find(&in, AT_INDEX_ALLOCATION, "$I30");
	if (ia) {
		if (!vu_is_pow2(w.bsize) || w.bsize < VU_USA_STRIDE ||
		    w.bsize > MFT_RECORD_MAX || !ia->nonres ||
		    (ia->flags & (ATTR_FLAG_COMPRESSED | ATTR_FLAG_ENCRYPTED))) {
			r = fs_fail(fs, -EUCLEAN, "directory %" PRIu64 ": index "
				    "blocks of %u bytes", dir, w.bsize);
			goto out;
		}
		w.vcn_bits = w.bsize >= x->cluster ? x->cbits : 9;
		r = ntfs_stream_get(fs, &in, AT_INDEX_ALLOCATION, ia, &s);
		if (r == 0)
			r = ntfs_stream_map(fs, &in, &s, &w.alloc);
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
out:
	free(w.alloc.ext);
	free(w.seen);
	ntfs_inode_free(&in);
	if (r < 0)
		ntfs_names_free(t);
	return r;
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

int ntfs_lookup(struct vu_fs *fs, uint64_t dir, const char *name,
		uint64_t *ino)
{
	const struct ntfs_names *t;
	const struct ntfs_ent *hit = NULL;
	char fold[NTFS_NAME_MAX];
	struct ntfs_inode in;
	size_t lo, hi;
	int r;

	r = ntfs_inode_get(fs, dir, &in);
	if (r < 0)
		return r;
	r = ntfs_dir_check(fs, &in);
	if (r == 0 && !strcmp(name, "."))
		*ino = dir;
	else if (r == 0 && !strcmp(name, ".."))
		r = parent_of(fs, &in, ino);
	ntfs_inode_free(&in);
	if (r < 0 || !strcmp(name, ".") || !strcmp(name, ".."))
		return r;
	t = dir_cache_get(&N(fs)->names, dir, fs, &r);
	if (!t)
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
	ntfs_fold_utf8(N(fs), name, fold, sizeof(fold));
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
	r = ntfs_inode_load(fs, hit->ino, &in);
	if (r < 0)
		return r;
	if (hit->seq && hit->seq != in.seq)
		r = fs_fail(fs, -ENOENT, "directory %" PRIu64 ": \"%s\": MFT "
			    "record %" PRIu64 " was reused", dir, name,
			    hit->ino);
	else
		*ino = hit->ino;
	ntfs_inode_free(&in);
	return r;
}

int ntfs_readdir(struct vu_fs *fs, uint64_t dir, fs_dirent_fn fn,
		 void *ctx)
{
	const struct ntfs_names *t;
	struct ntfs_inode in;
	struct vu_fs_stat st;
	int r;

	r = ntfs_check_ino(fs, dir);
	if (r < 0)
		return r;
	t = dir_cache_get(&N(fs)->names, dir, fs, &r);
	if (!t)
		return r;
	for (size_t i = 0; i < t->n; i++) {
		const struct ntfs_ent *e = &t->v[i];
		int had = vu_err_isset();

		if (e->hidden || e->ns == FN_NS_DOS)
			continue;
		r = ntfs_inode_load(fs, e->ino, &in);
		if (r < 0)
			goto skip;
		if (e->seq && e->seq != in.seq)
			r = fs_fail(fs, -ENOENT, "MFT record %" PRIu64 " was "
				    "reused (sequence %u, the entry has %u)",
				    e->ino, in.seq, e->seq);
		else
			r = ntfs_inode_stat(fs, &in, &st);
		ntfs_inode_free(&in);
skip:
		if (r == -ENOMEM || r == -EIO)
			return r; /* EIO: the image, not the entry, failed */
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

int ntfs_streams(struct vu_fs *fs, uint64_t ino, vu_fs_stream_cb cb,
		 void *ctx)
{
	const struct ntfs *x = N(fs);
	struct ntfs_inode in;
	char name[NTFS_NAME_MAX];
	int r;

	r = ntfs_inode_get(fs, ino, &in);
	if (r < 0)
		return r;
	for (size_t i = 0; i < in.na && r == 0; i++) {
		const struct ntfs_attr *a = &in.a[i];

		if (a->type != AT_DATA || !a->name_len ||
		    (a->nonres && a->lowest))
			continue;
		if (ntfs_disk_name(x, a->name, a->name_len, name, NULL,
				   sizeof(name)) < 0) {
			fs_warn_skip(fs, vu_err_isset(), "MFT record %" PRIu64
				     ": a stream name that cannot be shown",
				     ino);
			continue;
		}
		if (cb)
			r = cb(ctx, name, a->nonres ? a->size : a->value_len);
	}
	ntfs_inode_free(&in);
	return r;
}
