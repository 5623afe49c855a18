/* Block sources: every layer of the stack (file, container, partition,
 * decrypted volume, ...) is one.  A source has a size, a sector size and a
 * positional read that fills the whole buffer or fails; no layer keeps a
 * cursor, so many threads may read at once.
 *
 * A layer is a constant ops table plus an instance holding a reference to
 * the layer below.  Callers always go through vu_blk_read(), the single
 * place for bounds checks, tracing and test-only fault injection. */
#ifndef VU_BLK_H
#define VU_BLK_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct vu_blk;

struct vu_blk_ops {
	const char *kind;
	/* Called with off/len already checked against the size. */
	int (*read_at)(struct vu_blk *b, void *buf, size_t len, uint64_t off);
	/* Free private state; the lower layer is released by the caller. */
	void (*destroy)(struct vu_blk *b);
};

struct vu_blk {
	const struct vu_blk_ops *ops;
	struct vu_blk *lower; /* reference held, may be NULL */
	uint64_t size;
	uint32_t sector_size;
	char *desc;	/* description chain, e.g. file:d.vhd/vhd(fixed)/gpt#2 */
	int refs;	/* atomic */
	void *priv;
};

/* Make a layer.  lower's reference is transferred to the new layer.
 * desc_fmt names this layer; it is appended to lower's chain.
 * On failure lower is released and NULL is returned with a message. */
struct vu_blk *vu_blk_new(const struct vu_blk_ops *ops, struct vu_blk *lower,
			  uint64_t size, uint32_t sector_size, void *priv,
			  const char *desc_fmt, ...) VU_PRINTF(6, 7);

struct vu_blk *vu_blk_ref(struct vu_blk *b);
void vu_blk_unref(struct vu_blk *b);

/* Read exactly len bytes at off.  0, or -EINVAL when the range is outside
 * the source, -EIO (or the layer's error) when the read fails. */
int vu_blk_read(struct vu_blk *b, void *buf, size_t len, uint64_t off);

/* Format an error that starts with the layer's description chain. */
int vu_blk_fail(const struct vu_blk *b, int err, const char *fmt, ...)
	VU_PRINTF(3, 4);

/* Test-only: make the n-th vu_blk_read() from now fail with -EIO
 * (n = 1: the next one); 0 disarms.  Counts reads of every layer. */
void vu_blk_fault_after(long n);
/* The same, and with sticky set every read after the n-th fails too (a
 * disk that has gone away).  Only test programs call these; the installed
 * program has no way to arm them. */
void vu_blk_fault_set(long n, int sticky);
/* Test-only: count vu_blk_read() calls from now on (arming a fault or
 * asking for the count turns counting on too). */
void vu_blk_count_reads(void);
/* Number of vu_blk_read() calls counted so far (statistics for tests). */
unsigned long vu_blk_read_count(void);
/* Number of reads a source (a layer with nothing below it: file, URL) could
 * not deliver, injected faults included, since start; with msg, the
 * message of the latest.  Layers above often take a failed read for "not
 * this kind" or "no header here" and go on; a front end that compares the
 * count before and after opening a disk knows whether what it found rests
 * on a disk read only in part. */
unsigned long vu_blk_source_failures(char *msg, size_t cap);

/* Sources at the bottom of the stack. */
int vu_file_open(const char *path, struct vu_blk **out);
/* The buffer is borrowed and must outlive the source (fuzzers, tests). */
int vu_mem_open(const void *buf, size_t len, const char *name,
		struct vu_blk **out);
/* Takes ownership of a malloc'd buffer (freed with the source, also on
 * failure); name is the whole description, e.g. "p1:/luks/osluksheader". */
int vu_mem_open_owned(void *buf, size_t len, const char *name,
		      struct vu_blk **out);
/* A source of size bytes whose every read fails with -ENOTSUP and the
 * message why (copied): a volume that cannot be read (an LV of a segment
 * type not read, an md array too degraded) is still listed, carrying its
 * error.  name is the whole description. */
int vu_unreadable_open(uint64_t size, const char *why, const char *name,
		       struct vu_blk **out);
/* A window [off, off+len) of lower, e.g. a partition; takes lower's ref. */
int vu_slice_open(struct vu_blk *lower, uint64_t off, uint64_t len,
		  const char *name, struct vu_blk **out);

#endif
