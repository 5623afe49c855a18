/* Secret memory: secret.h.
 *
 * Every block is page-aligned and a whole number of pages long, so that
 * mlock, munlock and madvise act on its pages alone: with plain malloc, two
 * secrets sharing a page would unlock each other's page on free.  The first
 * bytes hold the header (the size asked for, whether the pages are locked);
 * the caller's pointer follows it, aligned for any type.
 *
 * Under AddressSanitizer the slack after the caller's n bytes is poisoned,
 * so an overflow past n is still reported although the pages are ours. */
#include "core/secret.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define VU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VU_ASAN 1
#endif
#endif
#ifdef VU_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

union header {
	struct {
		size_t size;  /* what the caller asked for */
		size_t total; /* the whole block, header included */
		int locked;   /* mlock succeeded: munlock on free */
	};
	max_align_t align; /* the caller's pointer is aligned for anything */
};

static vu_secret_hook_fn free_hook;

static size_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (size_t)p : 4096;
}

static union header *header_of(const void *p)
{
	return (union header *)(void *)((char *)(uintptr_t)p -
					sizeof(union header));
}

void *vu_secret_alloc(size_t n)
{
	const size_t page = page_size(), hdr = sizeof(union header);
	union header *h;
	size_t total;
	void *base;

	if (n > SIZE_MAX - hdr - page)
		return NULL;
	total = (hdr + n + page - 1) / page * page;
	if (posix_memalign(&base, page, total))
		return NULL;
	memset(base, 0, total);
	h = base;
	h->size = n;
	h->total = total;
	/* best effort: RLIMIT_MEMLOCK may forbid it, and a kernel without
	 * MADV_DONTDUMP still runs us (the front ends disable dumps too) */
	h->locked = mlock(base, total) == 0;
#ifdef MADV_DONTDUMP
	(void)madvise(base, total, MADV_DONTDUMP);
#endif
	POISON((char *)base + hdr + n, total - hdr - n);
	return (char *)base + hdr;
}

void vu_secret_free(void *p, size_t n)
{
	union header *h;
	size_t total;
	int locked;

	if (!p)
		return;
	h = header_of(p);
	/* a size mismatch means a caller's bookkeeping is wrong: wiping
	 * either size could leave a secret behind or run off the block */
	if (n && n != h->size)
		abort();
	total = h->total;
	locked = h->locked;
	UNPOISON(h, total);
	explicit_bzero(h, total);
	if (free_hook)
		free_hook(p, total - sizeof(union header));
#ifdef MADV_DODUMP
	/* the pages go back to malloc: dumpable again, like any heap page */
	(void)madvise(h, total, MADV_DODUMP);
#endif
	if (locked)
		(void)munlock(h, total);
	free(h);
}

size_t vu_secret_size(const void *p)
{
	return p ? header_of(p)->size : 0;
}

void vu_cleanse(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

void vu_secret_set_free_hook(vu_secret_hook_fn fn)
{
	free_hook = fn;
}
