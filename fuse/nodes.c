/* The node table: two chained hash tables over one set of nodes, by id and
 * by (volume, fs inode, stream), under one mutex.  Lookups are short (a
 * hash and a chain walk), so a mutex costs less than the libyal calls
 * around them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuse/nodes.h"

#define MIN_BUCKETS 1024

struct fnode {
	uint64_t id;
	uint64_t fsino;
	uint64_t nlookup;
	uint64_t size;
	uint32_t vol;
	struct fnode *next_id, *next_key;
	char stream[];
};

/* splitmix64's finaliser: node ids are sequential, fs inodes clustered. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t key_hash(uint32_t vol, uint64_t fsino, const char *stream)
{
	uint64_t h = mix(fsino ^ ((uint64_t)vol << 56));

	for (const unsigned char *p = (const unsigned char *)stream; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL; /* FNV-1a */
	return h;
}

int nodes_init(struct nodes *t, uint64_t first)
{
	memset(t, 0, sizeof(*t));
	t->by_id = calloc(MIN_BUCKETS, sizeof(*t->by_id));
	t->by_key = calloc(MIN_BUCKETS, sizeof(*t->by_key));
	if (!t->by_id || !t->by_key) {
		free(t->by_id);
		free(t->by_key);
		t->by_id = t->by_key = NULL;
		return -ENOMEM;
	}
	t->mask = MIN_BUCKETS - 1;
	t->next = first;
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

void nodes_free(struct nodes *t)
{
	if (!t->by_id)
		return;
	for (size_t b = 0; b <= t->mask; b++) {
		struct fnode *n = t->by_id[b], *next;

		for (; n; n = next) {
			next = n->next_id;
			free(n);
		}
	}
	free(t->by_id);
	free(t->by_key);
	pthread_mutex_destroy(&t->lock);
	memset(t, 0, sizeof(*t));
}

/* Double the buckets once there are more nodes than buckets; a failed
 * allocation only leaves the chains longer. */
static void grow(struct nodes *t)
{
	size_t n = (t->mask + 1) * 2;
	struct fnode **id = calloc(n, sizeof(*id));
	struct fnode **key = calloc(n, sizeof(*key));

	if (!id || !key) {
		free(id);
		free(key);
		return;
	}
	for (size_t b = 0; b <= t->mask; b++) {
		struct fnode *x = t->by_id[b], *next;

		for (; x; x = next) {
			size_t i = mix(x->id) & (n - 1);
			size_t k = key_hash(x->vol, x->fsino, x->stream) &
				   (n - 1);

			next = x->next_id;
			x->next_id = id[i];
			id[i] = x;
			x->next_key = key[k];
			key[k] = x;
		}
	}
	free(t->by_id);
	free(t->by_key);
	t->by_id = id;
	t->by_key = key;
	t->mask = n - 1;
}

static struct fnode *find_id(struct nodes *t, uint64_t id)
{
	struct fnode *n = t->by_id[mix(id) & t->mask];

	while (n && n->id != id)
		n = n->next_id;
	return n;
}

int nodes_ref(struct nodes *t, uint32_t vol, uint64_t fsino,
	      const char *stream, uint64_t size, uint64_t *id)
{
	size_t len = stream ? strlen(stream) : 0;
	uint64_t h;
	struct fnode *n;

	*id = 0;
	if (!stream)
		stream = "";
	if (len >= NODE_STREAM_MAX)
		return -ENAMETOOLONG;
	h = key_hash(vol, fsino, stream);
	pthread_mutex_lock(&t->lock);
	for (n = t->by_key[h & t->mask]; n; n = n->next_key)
		if (n->fsino == fsino && n->vol == vol &&
		    !strcmp(n->stream, stream))
			break;
	if (!n) {
		n = malloc(sizeof(*n) + len + 1);
		if (!n) {
			pthread_mutex_unlock(&t->lock);
			return -ENOMEM;
		}
		n->id = t->next++;
		n->fsino = fsino;
		n->vol = vol;
		n->size = size;
		n->nlookup = 0;
		memcpy(n->stream, stream, len + 1);
		if (t->count + 1 > t->mask + 1)
			grow(t);
		n->next_id = t->by_id[mix(n->id) & t->mask];
		t->by_id[mix(n->id) & t->mask] = n;
		n->next_key = t->by_key[h & t->mask];
		t->by_key[h & t->mask] = n;
		t->count++;
	}
	n->nlookup++;
	*id = n->id;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/* Unlink n (which is on it) from a chain of the by-id table. */
static void unlink_id(struct fnode **head, struct fnode *n)
{
	while (*head != n)
		head = &(*head)->next_id;
	*head = n->next_id;
}

/* The same in the by-key table. */
static void unlink_key(struct fnode **head, struct fnode *n)
{
	while (*head != n)
		head = &(*head)->next_key;
	*head = n->next_key;
}

void nodes_forget(struct nodes *t, uint64_t id, uint64_t count)
{
	struct fnode *n;

	pthread_mutex_lock(&t->lock);
	n = find_id(t, id);
	/* A kernel that forgets more than it looked up is a bug there;
	 * dropping the node is all that can be done. */
	if (n && n->nlookup <= count) {
		unlink_id(&t->by_id[mix(id) & t->mask], n);
		unlink_key(&t->by_key[key_hash(n->vol, n->fsino, n->stream) &
				      t->mask], n);
		t->count--;
		free(n);
	} else if (n) {
		n->nlookup -= count;
	}
	pthread_mutex_unlock(&t->lock);
}

int nodes_get(struct nodes *t, uint64_t id, struct node_info *out)
{
	struct fnode *n;

	pthread_mutex_lock(&t->lock);
	n = find_id(t, id);
	if (n) {
		out->vol = n->vol;
		out->fsino = n->fsino;
		out->size = n->size;
		strcpy(out->stream, n->stream); /* shorter than the buffer */
	}
	pthread_mutex_unlock(&t->lock);
	return n ? 0 : -ENOENT;
}

size_t nodes_count(struct nodes *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}
