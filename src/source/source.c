/* See source.h.  A handful of images per command: a list will do. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "source/source.h"

struct named {
	char *name;
	struct vu_blk *blk;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct named *list;
static size_t count;

int vu_source_register(const char *name, struct vu_blk *b)
{
	struct named *l;
	char *copy = strdup(name);

	pthread_mutex_lock(&lock);
	l = realloc(list, (count + 1) * sizeof(*l));
	if (!l || !copy) {
		pthread_mutex_unlock(&lock);
		free(copy);
		return vu_fail(-ENOMEM, "out of memory");
	}
	list = l;
	list[count].name = copy;
	list[count].blk = vu_blk_ref(b);
	count++;
	pthread_mutex_unlock(&lock);
	return 0;
}

struct vu_blk *vu_source_find(const char *name)
{
	struct vu_blk *b = NULL;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < count && !b; i++)
		if (!strcmp(list[i].name, name))
			b = list[i].blk;
	pthread_mutex_unlock(&lock);
	return b;
}

int vu_source_open(const char *name, struct vu_blk **out)
{
	struct vu_blk *b = vu_source_find(name);

	if (b) {
		*out = vu_blk_ref(b);
		return 0;
	}
	return vu_file_open(name, out);
}

void vu_source_clear(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < count; i++) {
		free(list[i].name);
		vu_blk_unref(list[i].blk);
	}
	free(list);
	list = NULL;
	count = 0;
	pthread_mutex_unlock(&lock);
}
