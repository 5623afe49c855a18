/* See dir_cache.h. */
#include <errno.h>
#include <stdlib.h>

#include "core/error.h"
#include "fs/dir_cache.h"

static void drop(struct dir_cache *c, void *table)
{
	c->clear_table(table);
	free(table);
}

const void *dir_cache_get(struct dir_cache *c, uint64_t dir, void *ctx,
			  int *err)
{
	size_t lru = 0;
	void *t;
	int r;

	for (size_t i = 0; i < DIR_CACHE_SLOTS; i++) {
		if (c->slot[i].table && c->slot[i].dir == dir) {
			c->slot[i].used = ++c->tick;
			return c->slot[i].table;
		}
		if (c->slot[i].used < c->slot[lru].used)
			lru = i;
	}
	t = calloc(1, c->table_size);
	if (!t) {
		*err = vu_fail(-ENOMEM, "out of memory");
		return NULL;
	}
	r = c->build(ctx, dir, t);
	if (r < 0) {
		free(t);
		*err = r;
		return NULL;
	}
	if (c->slot[lru].table)
		drop(c, c->slot[lru].table);
	c->slot[lru].table = t;
	c->slot[lru].dir = dir;
	c->slot[lru].used = ++c->tick;
	return t;
}

void dir_cache_clear(struct dir_cache *c)
{
	for (size_t i = 0; i < DIR_CACHE_SLOTS; i++) {
		if (c->slot[i].table)
			drop(c, c->slot[i].table);
		c->slot[i].table = NULL;
		c->slot[i].used = 0;
	}
}
