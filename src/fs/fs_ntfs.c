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
#include "fs/ntfs_int.h"

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
	if (memcmp(b + NTFS_BOOT_OEM, NTFS_OEM_ID, NTFS_OEM_ID_LEN) ||
	    b[NTFS_BOOT_SIGNATURE] != 0x55 || b[NTFS_BOOT_SIGNATURE + 1] != 0xaa)
		return fs_fail(fs, -EUCLEAN, "no NTFS boot sector");
	bps = vu_le16(b + NTFS_BOOT_BPS);
	spc = b[NTFS_BOOT_SPC];
	spc = spc <= 0x80 ? spc : (spc >= 0xf4 ? 1u << (256 - spc) : 0);
	sectors = vu_le64(b + NTFS_BOOT_TOTAL_SECTORS);
	if (!vu_is_pow2(bps) || bps < 256 || bps > 4096 || !vu_is_pow2(spc) ||
	    (uint64_t)bps * spc > (2u << 20))
		return fs_fail(fs, -EUCLEAN, "boot sector: %u bytes per sector, "
			       "%u sectors per cluster", bps, spc);
	x->cluster = bps * spc;
	x->cbits = vu_log2u(x->cluster);
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
	if (!vu_is_pow2(x->recsize) || x->recsize < MFT_RECORD_MIN ||
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
	const struct ntfs_attr *a = ntfs_attr_find(in, AT_DATA, NULL);
	struct ntfs_stream s = { 0 };
	struct fs_data d = { 0 };
	int r;

	if (!a || !a->nonres)
		return fs_fail(fs, -EUCLEAN, "MFT record 0: no $DATA");
	r = ntfs_stream_get(fs, in, AT_DATA, a, &s);
	if (r < 0)
		return r;
	/* before the attribute list is read: the chunks in record 0 */
	r = ntfs_stream_map(fs, in, &s, &d);
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
	r = ntfs_rec_add(fs, &in, MFT_REC_MFT);
	if (r == 0 && !(vu_le16(in.rec[0] + MFT_FLAGS) & MFT_FLAG_IN_USE))
		r = fs_fail(fs, -EUCLEAN, "MFT record 0 is not in use");
	if (r == 0)
		r = ntfs_attrs_parse(fs, &in, 0);
	if (r == 0)
		r = mft_map(fs, &in, mft_off);
	for (size_t i = 0; r == 0 && i < in.na; i++)
		has_list |= in.a[i].type == AT_ATTRIBUTE_LIST;
	ntfs_inode_free(&in);
	if (r < 0 || !has_list)
		return r;
	/* the extension records, read through the extents found so far */
	r = ntfs_inode_load(fs, MFT_REC_MFT, &in);
	if (r < 0)
		return r;
	r = mft_map(fs, &in, mft_off);
	ntfs_inode_free(&in);
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

	r = ntfs_inode_load(fs, MFT_REC_UPCASE, &in);
	if (r < 0)
		goto out;
	a = ntfs_attr_find(&in, AT_DATA, NULL);
	if (!a || !a->nonres || a->size != 2 * NTFS_UPCASE_UNITS ||
	    (a->flags & (ATTR_FLAG_COMPRESSED | ATTR_FLAG_ENCRYPTED))) {
		r = fs_fail(fs, -EUCLEAN, "$UpCase is not a table of %d "
			    "entries", NTFS_UPCASE_UNITS);
		goto out_in;
	}
	r = ntfs_stream_get(fs, &in, AT_DATA, a, &s);
	if (r == 0)
		r = ntfs_stream_map(fs, &in, &s, &d);
	b = malloc(2 * NTFS_UPCASE_UNITS);
	x->upcase = malloc(sizeof(*x->upcase) * NTFS_UPCASE_UNITS);
	if (r == 0 && (!b || !x->upcase))
		r = -ENOMEM;
	if (r == 0)
		r = ntfs_map_read(fs, &d, b, 2 * NTFS_UPCASE_UNITS, 0, "$UpCase",
				  MFT_REC_UPCASE);
	if (r == 0)
		for (unsigned i = 0; i < NTFS_UPCASE_UNITS; i++)
			x->upcase[i] = vu_le16(b + 2 * i);
out_in:
	ntfs_inode_free(&in);
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
	dir_cache_clear(&x->names);
	ntfs_lib_close(x);
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
	x->names.table_size = sizeof(struct ntfs_names);
	x->names.build = ntfs_names_build;
	x->names.clear_table = ntfs_names_free;
	r = boot_read(fs, &mft_off);
	if (r == 0)
		r = mft_open(fs, mft_off);
	if (r < 0)
		goto fail;
	fs->root = MFT_REC_ROOT;
	r = ntfs_inode_load(fs, MFT_REC_ROOT, &in);
	if (r < 0)
		goto fail;
	r = ntfs_dir_check(fs, &in);
	ntfs_inode_free(&in);
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
