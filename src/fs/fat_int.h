/* FAT internals shared by fs_fat.c (the backend table), fat_volume.c (boot
 * sector, FAT entries, cluster chains) and fat_dir.c (directory entries,
 * long names).  On-disk layout: volume/fat_format.h.
 *
 * Inode numbers: a FAT file has no inode, so a file is numbered by where
 * its short (8.3) directory entry is: its byte offset on the volume / 32.
 * That is unique and stable, and getattr reads the entry straight back.
 * The root directory has no entry: FAT_ROOT_INO (no entry lies at offset
 * 32, inside the boot sector). */
#ifndef VU_FAT_INT_H
#define VU_FAT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "fs/dir_cache.h"
#include "fs/fs_backend.h"
#include "volume/fat_format.h"

#define FAT_ROOT_INO 1
/* A long name: 20 entries of 13 units, up to 3 bytes of UTF-8 each. */
#define FAT_NAME_MAX (FAT_LFN_MAX_ENTRIES * FAT_LFN_UNITS * 3 + 1)

/* The FAT is read lazily through a small direct-mapped cache of chunks, so
 * a 1 GiB FAT32 FAT costs at most FAT_CACHE_SLOTS * FAT_CACHE_CHUNK. */
#define FAT_CACHE_CHUNK 32768
#define FAT_CACHE_SLOTS 32

struct fat_cache_slot {
	uint64_t chunk1;	/* chunk number + 1; 0: empty */
	uint8_t *buf;
};

struct fat_dirent;

struct fat {
	unsigned bits;			/* 12, 16 or 32 */
	uint32_t sector;		/* bytes */
	uint32_t csize;			/* cluster bytes */
	uint32_t nclusters;		/* clusters 2 .. nclusters + 1 */
	uint32_t root_cluster;		/* FAT32; 0 on FAT12/16 */
	uint32_t bad;			/* bad cluster mark; above: end */
	uint64_t fat_off, fat_bytes;	/* the first FAT */
	uint64_t root_off, root_bytes;	/* FAT12/16 fixed root */
	uint64_t data_off;		/* cluster 2 */
	struct fat_cache_slot cache[FAT_CACHE_SLOTS];
	uint8_t *cbuf;			/* one cluster, for directories */
	struct fat_dirent *ent;		/* the entry a walk hands out */
	struct dir_cache names;		/* struct fat_names (fs_fat.c) */
};

#define F(fs) ((struct fat *)(fs)->priv)

/* A run of contiguous clusters of one chain. */
struct fat_run {
	uint32_t first, count;
};

/* fat_volume.c */
int fat_boot_read(struct vu_fs *fs);
void fat_cache_free(struct fat *f);
/* Byte offset of a data cluster (2 .. nclusters + 1). */
uint64_t fat_cluster_off(const struct fat *f, uint32_t cl);
/* The chain from first, as runs: at most max clusters, and exactly want
 * when want is not 0 (a file of known size).  Fails with a message naming
 * what (a file or directory) on a cluster out of range, free or bad, on a
 * loop, and on a chain too short or too long.  *runs is malloc'ed. */
int fat_chain(struct vu_fs *fs, uint32_t first, uint32_t want, uint32_t max,
	      const char *what, struct fat_run **runs, size_t *nruns);

/* fat_dir.c */
/* One directory entry with its name, as the listing shows it. */
struct fat_dirent {
	char name[FAT_NAME_MAX];	/* long name, else the short one */
	char sname[13];			/* 8.3, NT lowercase flags applied */
	uint8_t raw[FAT_DIRENT];	/* the short entry */
	uint64_t ino;
};

/* Called for every entry in use but ".", ".." and volume labels;
 * FAT_WALK_STOP or a negative errno stops the walk and is returned. */
#define FAT_WALK_STOP 2
typedef int (*fat_dirent_cb)(struct vu_fs *fs, void *ctx,
			     const struct fat_dirent *e);
int fat_dir_walk(struct vu_fs *fs, uint64_t dir, fat_dirent_cb cb,
		 void *ctx);
/* The short entry of inode ino (not the root), checked to be in use. */
int fat_entry_read(struct vu_fs *fs, uint64_t ino, uint8_t raw[FAT_DIRENT]);
uint32_t fat_entry_cluster(const struct fat *f, const uint8_t *raw);
void fat_short_name(const uint8_t *raw, char out[13]);
void fat_entry_stat(const struct fat *f, const uint8_t *raw, uint64_t ino,
		    struct vu_fs_stat *st);
void fat_root_stat(struct vu_fs_stat *st);
/* The parent directory of directory dir (root: itself). */
int fat_parent(struct vu_fs *fs, uint64_t dir, uint64_t *ino);

#endif
