/* Secret memory: where everything that can unlock data lives (passwords,
 * key files, BEKs, VMK, FVEK, LUKS volume keys, tokens, SAS URLs, KDF
 * intermediates).  No OpenSSL here: the core uses it too (base64 decodes
 * into it), and the core must not reach up into the crypto backend. */
#ifndef VU_SECRET_H
#define VU_SECRET_H

#include <stddef.h>

/* n bytes, zeroed, never NULL for n == 0 (NULL only when out of memory).
 * The block owns whole pages: they are mlock()ed where RLIMIT_MEMLOCK
 * allows it and left out of core dumps (MADV_DONTDUMP), without touching
 * any other allocation's pages.  The size is recorded in a header before
 * the pointer returned, as cryptsetup's crypt_safe_alloc does. */
void *vu_secret_alloc(size_t n);
/* Wipe the whole block (the recorded size, whatever n says) and free it;
 * NULL is a no-op.  n is the size the caller believes it allocated, or 0
 * for "as recorded": a non-zero n that differs from the recorded size is
 * a bug in the caller, and aborts rather than wipe the wrong amount. */
void vu_secret_free(void *p, size_t n);
/* The size p was allocated with (0 for NULL). */
size_t vu_secret_size(const void *p);
/* Zero n bytes at p in a way the compiler may not drop as a dead store:
 * stack copies of keys, foreign buffers that held a secret. */
void vu_cleanse(void *p, size_t n);

/* Tests only (not thread-safe): fn is called by vu_secret_free with the
 * block after the wipe and before it is released, so a test can check
 * that every byte is zero.  NULL removes it. */
typedef void (*vu_secret_hook_fn)(const void *p, size_t n);
void vu_secret_set_free_hook(vu_secret_hook_fn fn);

#endif
