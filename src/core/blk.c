#include "core/blk.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* Counting reads and injecting faults are for tests; they cost nothing but
 * one relaxed load of a flag no one writes until a test turns them on, so
 * the read path shares no written cache line between threads. */
static int counting;
static long fault_countdown;
static int fault_sticky, fault_tripped;
static unsigned long read_count;
static unsigned long source_failures;
static pthread_mutex_t failure_lock = PTHREAD_MUTEX_INITIALIZER;
static char failure_msg[512];

struct vu_blk *vu_blk_new(const struct vu_blk_ops *ops, struct vu_blk *lower,
			  uint64_t size, uint32_t sector_size, void *priv,
			  const char *desc_fmt, ...)
{
	char name[512];
	struct vu_blk *b;
	va_list ap;

	va_start(ap, desc_fmt);
	vsnprintf(name, sizeof(name), desc_fmt, ap);
	va_end(ap);

	b = calloc(1, sizeof(*b));
	if (!b)
		goto fail;
	if (lower) {
		size_t n = strlen(lower->desc) + 1 + strlen(name) + 1;
		b->desc = malloc(n);
		if (b->desc)
			snprintf(b->desc, n, "%s/%s", lower->desc, name);
	} else {
		b->desc = strdup(name);
	}
	if (!b->desc)
		goto fail;
	b->ops = ops;
	b->lower = lower; /* transferred */
	b->size = size;
	b->sector_size = sector_size ? sector_size : 512;
	b->priv = priv;
	b->refs = 1;
	return b;
fail:
	free(b);
	vu_blk_unref(lower);
	vu_fail(-ENOMEM, "out of memory");
	return NULL;
}

struct vu_blk *vu_blk_ref(struct vu_blk *b)
{
	if (b)
		__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	return b;
}

void vu_blk_unref(struct vu_blk *b)
{
	while (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		struct vu_blk *lower = b->lower;

		if (b->ops && b->ops->destroy)
			b->ops->destroy(b);
		free(b->desc);
		free(b);
		b = lower; /* drop the reference this layer held */
	}
}

int vu_blk_fail(const struct vu_blk *b, int err, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return vu_fail(err, "%s: %s", b ? b->desc : "?", msg);
}

void vu_blk_fault_set(long n, int sticky)
{
	__atomic_store_n(&fault_tripped, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&fault_sticky, sticky, __ATOMIC_RELAXED);
	__atomic_store_n(&fault_countdown, n, __ATOMIC_RELAXED);
	__atomic_store_n(&counting, 1, __ATOMIC_RELAXED);
}

void vu_blk_fault_after(long n)
{
	vu_blk_fault_set(n, 0);
}

/* Is this read the one to fail (or, sticky, one after it)?  Unarmed, it
 * costs two relaxed loads. */
static int fault_now(void)
{
	if (__atomic_load_n(&fault_tripped, __ATOMIC_RELAXED))
		return 1;
	if (__atomic_load_n(&fault_countdown, __ATOMIC_RELAXED) <= 0 ||
	    __atomic_sub_fetch(&fault_countdown, 1, __ATOMIC_RELAXED) != 0)
		return 0;
	if (__atomic_load_n(&fault_sticky, __ATOMIC_RELAXED))
		__atomic_store_n(&fault_tripped, 1, __ATOMIC_RELAXED);
	return 1;
}

void vu_blk_count_reads(void)
{
	__atomic_store_n(&counting, 1, __ATOMIC_RELAXED);
}

unsigned long vu_blk_read_count(void)
{
	vu_blk_count_reads();
	return __atomic_load_n(&read_count, __ATOMIC_RELAXED);
}

static int note_source_failure(int r)
{
	pthread_mutex_lock(&failure_lock);
	source_failures++;
	snprintf(failure_msg, sizeof(failure_msg), "%s", vu_errmsg(r));
	pthread_mutex_unlock(&failure_lock);
	return r;
}

unsigned long vu_blk_source_failures(char *msg, size_t cap)
{
	unsigned long n;

	pthread_mutex_lock(&failure_lock);
	n = source_failures;
	if (msg && cap)
		snprintf(msg, cap, "%s", failure_msg);
	pthread_mutex_unlock(&failure_lock);
	return n;
}

int vu_blk_read(struct vu_blk *b, void *buf, size_t len, uint64_t off)
{
	int r;

	if (!b || (!buf && len))
		return vu_fail(-EINVAL, "read: no source or buffer");
	if (__atomic_load_n(&counting, __ATOMIC_RELAXED))
		__atomic_add_fetch(&read_count, 1, __ATOMIC_RELAXED);
	if (off > b->size || len > b->size - off)
		return vu_blk_fail(b, -EINVAL,
				   "read of %zu bytes at offset %" PRIu64
				   " is past the end (size %" PRIu64 ")",
				   len, off, b->size);
	if (__atomic_load_n(&counting, __ATOMIC_RELAXED) && fault_now())
		return note_source_failure(vu_blk_fail(
			b, -EIO, "injected read fault at offset %" PRIu64,
			off));
	if (vu_log_enabled(VU_LOG_TRACE))
		vu_log(VU_LOG_TRACE, "read %s off=%" PRIu64 " len=%zu",
		       b->desc, off, len);
	if (len == 0)
		return 0;
	r = b->ops->read_at(b, buf, len, off);
	if (r < 0 && !vu_err_isset())
		vu_blk_fail(b, r, "read of %zu bytes at offset %" PRIu64
			    " failed", len, off);
	if (r < 0 && !b->lower && r != -ENOMEM)
		note_source_failure(r);
	return r;
}

/* ---- slice: a window of the layer below (partitions) ---- */

struct slice {
	uint64_t start;
};

static int slice_read(struct vu_blk *b, void *buf, size_t len, uint64_t off)
{
	const struct slice *s = b->priv;

	return vu_blk_read(b->lower, buf, len, s->start + off);
}

static void slice_destroy(struct vu_blk *b)
{
	free(b->priv);
}

static const struct vu_blk_ops slice_ops = {
	.kind = "slice",
	.read_at = slice_read,
	.destroy = slice_destroy,
};

static int unreadable_read(struct vu_blk *b, void *buf, size_t len,
			   uint64_t off)
{
	(void)buf;
	(void)len;
	(void)off;
	return vu_fail(-ENOTSUP, "%s", (const char *)b->priv);
}

static void unreadable_destroy(struct vu_blk *b)
{
	free(b->priv);
}

static const struct vu_blk_ops unreadable_ops = {
	.kind = "unreadable",
	.read_at = unreadable_read,
	.destroy = unreadable_destroy,
};

int vu_unreadable_open(uint64_t size, const char *why, const char *name,
		       struct vu_blk **out)
{
	char *msg = strdup(why);

	*out = NULL;
	if (!msg)
		return vu_fail(-ENOMEM, "out of memory");
	*out = vu_blk_new(&unreadable_ops, NULL, size, 512, msg, "%s", name);
	if (!*out) {
		free(msg);
		return -ENOMEM;
	}
	return 0;
}

int vu_slice_open(struct vu_blk *lower, uint64_t off, uint64_t len,
		  const char *name, struct vu_blk **out)
{
	struct slice *s;

	*out = NULL;
	if (off > lower->size || len > lower->size - off) {
		int r = vu_blk_fail(lower, -EUCLEAN,
				    "%s: range %" PRIu64 "+%" PRIu64
				    " is past the end (size %" PRIu64 ")",
				    name, off, len, lower->size);
		vu_blk_unref(lower);
		return r;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		vu_blk_unref(lower);
		return vu_fail(-ENOMEM, "out of memory");
	}
	s->start = off;
	*out = vu_blk_new(&slice_ops, lower, len, lower->sector_size, s,
			  "%s", name);
	if (!*out) {
		free(s);
		return -ENOMEM;
	}
	return 0;
}

/* ---- memory source ---- */

static int mem_read(struct vu_blk *b, void *buf, size_t len, uint64_t off)
{
	memcpy(buf, (const uint8_t *)b->priv + off, len);
	return 0;
}

static const struct vu_blk_ops mem_ops = {
	.kind = "mem",
	.read_at = mem_read,
};

int vu_mem_open(const void *buf, size_t len, const char *name,
		struct vu_blk **out)
{
	*out = vu_blk_new(&mem_ops, NULL, len, 512, (void *)buf, "mem:%s",
			  name);
	return *out ? 0 : -ENOMEM;
}

static void mem_free(struct vu_blk *b)
{
	free(b->priv);
}

static const struct vu_blk_ops owned_mem_ops = {
	.kind = "mem",
	.read_at = mem_read,
	.destroy = mem_free,
};

int vu_mem_open_owned(void *buf, size_t len, const char *name,
		      struct vu_blk **out)
{
	*out = vu_blk_new(&owned_mem_ops, NULL, len, 512, buf, "%s", name);
	if (!*out) {
		free(buf);
		return -ENOMEM;
	}
	return 0;
}
