/* The name tables of the few directories used last (XFS and NTFS build
 * one per directory, sorted, for lookup and readdir), kept by directory
 * inode with the least recently used one dropped.  The tables are the
 * backend's own: it says how to build and free one.  Not thread-safe: used
 * under the file system's lock. */
#ifndef VU_DIR_CACHE_H
#define VU_DIR_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define DIR_CACHE_SLOTS 8

struct dir_cache {
	struct {
		uint64_t dir;
		unsigned long used;	/* LRU tick */
		void *table;		/* NULL: slot empty */
	} slot[DIR_CACHE_SLOTS];
	unsigned long tick;
	/* the backend's: the size of a table, how to fill a zeroed one (it
	 * clears what it made when it fails) and how to clear one */
	size_t table_size;
	int (*build)(void *ctx, uint64_t dir, void *table);
	void (*clear_table)(void *table);
};

/* The table of dir: cached, or built (with ctx) into the least recently
 * used slot.  NULL when that failed, with *err -ENOMEM or what build
 * returned; a failed build leaves the cache as it was.  The table stays
 * the cache's: valid until the next call. */
const void *dir_cache_get(struct dir_cache *c, uint64_t dir, void *ctx,
			  int *err);
/* Free every table. */
void dir_cache_clear(struct dir_cache *c);

#endif
