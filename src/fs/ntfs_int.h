/* NTFS internals shared by fs_ntfs.c and ntfs_*.c: limits, the in-memory
 * forms of records, attributes and name tables, and the functions one
 * file gives the others. */
#ifndef VU_NTFS_INT_H
#define VU_NTFS_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "core/error.h"
#include "fs/dir_cache.h"
#include "fs/fs_backend.h"
#include "fs/ntfs_format.h"

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
	struct dir_cache names;	/* of struct ntfs_names */
	/* libfsntfs, for compressed streams only: opened at the first */
	libbfio_handle_t *bfio;
	libfsntfs_volume_t *lib;
	int lib_err;			/* a failed open is not retried */
	char lib_why[256];
};

/* The chunks of one stream, sorted by VCN, first chunk first. */
struct ntfs_stream {
	const struct ntfs_attr **c;
	size_t n;
};

static inline struct ntfs *N(const struct vu_fs *fs)
{
	return fs->priv;
}

/* A message of ours without the "<volume>: ntfs: " fs_fail put in front,
 * for a warning (fs_warn_skip puts it there again). */
static inline const char *own_msg(const struct vu_fs *fs, int r)
{
	const char *m = vu_errmsg(r);
	size_t n = strlen(fs->vol->desc);

	if (!strncmp(m, fs->vol->desc, n) && !strncmp(m + n, ": ntfs: ", 8))
		return m + n + 8;
	return m;
}

/* ntfs_record.c */
int ntfs_map_read(struct vu_fs *fs, const struct fs_data *d, void *buf,
		  size_t len, uint64_t off, const char *what, uint64_t ino);
int ntfs_attrs_parse(struct vu_fs *fs, struct ntfs_inode *in, size_t k);
void ntfs_inode_free(struct ntfs_inode *in);
int ntfs_rec_add(struct vu_fs *fs, struct ntfs_inode *in, uint64_t ino);
int ntfs_attr_value(struct vu_fs *fs, const struct ntfs_inode *in,
		    const struct ntfs_attr *a, uint32_t max, uint8_t **buf,
		    uint32_t *len);
int ntfs_inode_load(struct vu_fs *fs, uint64_t ino, struct ntfs_inode *in);
const struct ntfs_attr *ntfs_attr_find(const struct ntfs_inode *in,
				       uint32_t type, const char *name);
int ntfs_stream_get(struct vu_fs *fs, const struct ntfs_inode *in,
		    uint32_t type, const struct ntfs_attr *like,
		    struct ntfs_stream *s);
int ntfs_stream_map(struct vu_fs *fs, const struct ntfs_inode *in,
		    const struct ntfs_stream *s, struct fs_data *d);
/* ntfs_names.c */
void ntfs_units_to_utf8(const uint16_t *u, size_t n, char *out,
			size_t size);
void ntfs_fold_utf8(const struct ntfs *x, const char *s, char *out,
		    size_t size);
int ntfs_disk_name(const struct ntfs *x, const uint8_t *le, size_t n,
		   char *name, char *fold, size_t size);
int ntfs_attr_named(const struct ntfs *x, const struct ntfs_attr *a,
		    const char *name, const char *fold);
/* ntfs_stat.c */
uint32_t ntfs_file_attrs(const struct ntfs_inode *in);
uint32_t ntfs_inode_mode(const struct ntfs_inode *in);
int ntfs_inode_stat(struct vu_fs *fs, const struct ntfs_inode *in,
		    struct vu_fs_stat *st);
int ntfs_check_ino(struct vu_fs *fs, uint64_t ino);
/* ntfs_check_ino, then ntfs_inode_load: the record of an inode the
 * interface shows (in is to be freed with ntfs_inode_free). */
int ntfs_inode_get(struct vu_fs *fs, uint64_t ino, struct ntfs_inode *in);
int ntfs_getattr(struct vu_fs *fs, uint64_t ino, struct vu_fs_stat *st);
int ntfs_readlink(struct vu_fs *fs, uint64_t ino, char *buf,
		  size_t size);
/* ntfs_dir.c */
/* The directory cache's build and clear_table for struct ntfs_names
 * (ctx: the struct vu_fs). */
int ntfs_names_build(void *ctx, uint64_t dir, void *table);
void ntfs_names_free(void *table);
int ntfs_dir_check(struct vu_fs *fs, const struct ntfs_inode *in);
int ntfs_lookup(struct vu_fs *fs, uint64_t dir, const char *name,
		uint64_t *ino);
int ntfs_readdir(struct vu_fs *fs, uint64_t dir, fs_dirent_fn fn,
		 void *ctx);
int ntfs_streams(struct vu_fs *fs, uint64_t ino, vu_fs_stream_cb cb,
		 void *ctx);
/* ntfs_data.c */
void ntfs_lib_close(struct ntfs *x);
int ntfs_data_open(struct vu_fs *fs, uint64_t ino, const char *stream,
		   struct fs_data *d);
ssize_t ntfs_data_read(struct vu_fs *fs, void *handle, void *buf,
		       size_t len, uint64_t off);
void ntfs_data_close(struct vu_fs *fs, void *handle);

#endif
