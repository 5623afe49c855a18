/* One reply buffer per FUSE worker thread, kept from request to request:
 * a read or a listing is filled into it and fuse_reply_buf() copies it to
 * the kernel, so the data path allocates nothing per request.  libfuse's
 * workers are long-lived (max_idle_threads); a thread's buffer is freed
 * when it ends. */
#include <pthread.h>
#include <stdlib.h>

#include "fuse/fuse_int.h"

struct reply_buf {
	size_t cap;
	unsigned char data[];
};

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int key_ok;

static void make_key(void)
{
	key_ok = pthread_key_create(&key, free) == 0;
}

void *fuse_reply_buffer(size_t size)
{
	struct reply_buf *b;

	pthread_once(&once, make_key);
	if (!key_ok)
		return NULL;
	b = pthread_getspecific(key);
	if (!b || b->cap < size) {
		/* grow to the request's size, at least 128 KiB (read-ahead) */
		size_t cap = size > (128u << 10) ? size : (128u << 10);
		struct reply_buf *g = malloc(sizeof(*g) + cap);

		if (!g)
			return NULL;
		g->cap = cap;
		if (pthread_setspecific(key, g) != 0) {
			free(g);
			return NULL;
		}
		free(b);
		b = g;
	}
	return b->data;
}
