/* Sector ciphers: the IV generators (plain64, ESSIV, BitLocker's encrypted
 * byte offset) and the Elephant diffuser over the raw AES primitive of
 * crypto.h.  No OpenSSL here.
 *
 * Each enum vu_sector_mode has one constant entry in modes[] (at the end,
 * after the pieces it names), as dm-crypt's crypt_iv_operations: the key
 * lengths it takes, how its key material is laid out, where the IV of a
 * sector comes from, the Elephant hooks around the data cipher, and the
 * data pass for each direction.  vu_sector_cipher_new picks the entry once;
 * run() only walks batches of sectors through it.
 *
 * Thread safety and speed: key setup happens once per worker, and workers
 * (one set of AES contexts each) wait in a mutex-protected free list, so a
 * call costs one lock round trip plus, per CBC sector, setting the IV.
 * IVs and Elephant sector keys are computed for a batch of sectors in one
 * AES-ECB call.
 *
 * XTS does not set an IV per sector: resetting the IV of an EVP XTS context
 * costs about as much as decrypting a 512-byte sector.  Instead the tweaks
 * are computed here (IEEE 1619-2007, 5.3.2): T = AES-ECB(key2, sector) for a
 * batch of sectors in one call, then T * alpha^j in GF(2^128) for block j,
 * and the blocks of many sectors go through AES-ECB(key1) in one call
 * between two XORs with the tweaks (xts_run below). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/bytes.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "crypto/xts_wide.h"

#define BATCH 64 /* sectors per IV / sector-key batch */
#define MAX_SECTOR_SIZE (1u << 16)
/* XTS: bytes per AES-ECB call, so that the data and its tweaks stay in the
 * L1 cache between the three passes over them */
#define XTS_CHUNK 8192
/* XTS: from this sector size on, OpenSSL's own XTS with the IV set per
 * sector is faster (XTS-128, one core, best of 64 passes over 4 MiB: about
 * 8.5 against 6.5 GB/s at 4096 bytes, even at 2048, 3.5 against 6 GB/s at
 * 512; see bench/README.md) */
#define XTS_EVP_MIN 4096

struct worker {
	struct worker *next;
	struct vu_aes *data[2]; /* [0] decrypt, [1] encrypt, made on demand;
				   XTS: AES-ECB with key1 */
	struct vu_aes *ivgen;	/* AES-ECB encrypt: EBOIV, Elephant, ESSIV;
				   XTS: with key2, the tweak key */
	struct vu_aes *tweak;	/* AES-ECB encrypt with the Elephant tweak key */
};

/* The per-call state of one batch of up to BATCH sectors; the caller of
 * the hooks wipes it. */
struct batch {
	uint8_t iv[BATCH][16];	 /* the IVs (XTS: the tweaks T) */
	uint8_t skey[BATCH][32]; /* Elephant sector keys */
	uint8_t last[BATCH][16]; /* CBC: last ciphertext block of each sector */
	uint8_t tw[XTS_CHUNK];	 /* XTS tweaks: wiped as far as used */
	size_t tw_used;
	uint32_t *words; /* Elephant: scratch of sector_size bytes */
};

struct vu_sector_cipher;

/* One pass of the data cipher over k sectors at p, in direction enc. */
typedef int (*data_fn)(const struct vu_sector_cipher *c, struct worker *w,
		       int enc, struct batch *b, uint8_t *p, size_t k);
/* The Elephant layer of one sector (elephant_decrypt, elephant_encrypt). */
typedef void (*diffuse_fn)(uint8_t *p, size_t len, const uint8_t key[32],
			   uint32_t *w);

struct sector_ops {
	uint8_t key_lens[4]; /* accepted key lengths, 0 after the last */
	/* The IV of sector s before any encryption: s << iv_shift (plain64,
	 * ESSIV, XTS), or the byte offset s << sector_shift (EBOIV,
	 * Elephant), to which iv_shift does not apply. */
	int iv_byte_offset;
	/* Lay the key material out in c->keys (data key, IV key, tweak key)
	 * with keys_alloc; an IV key makes the IVs AES-ECB encrypted with
	 * it.  May pick another data cipher or data pass than below. */
	int (*setup)(struct vu_sector_cipher *c, const uint8_t *key,
		     size_t key_len);
	/* From the plain IVs of a batch, before they are encrypted:
	 * Elephant's sector keys into b->skey. */
	int (*sector_keys)(struct worker *w, struct batch *b, size_t k);
	diffuse_fn post_decrypt, pre_encrypt; /* around the data cipher */
	enum vu_aes_mode data_mode;
	data_fn pass[2]; /* [0] decrypt, [1] encrypt */
};

struct vu_sector_cipher {
	const struct sector_ops *ops;
	enum vu_aes_mode data_mode; /* ops' unless setup chose another */
	data_fn pass[2];	    /* ditto */
	uint32_t sector_size;
	unsigned int sector_shift; /* log2(sector_size) */
	unsigned int iv_shift;
	int no_encrypt; /* XTS with key1 == key2: decryption only */
	/* secret memory: data key, then the IV key, then the tweak key
	 * (XTS: key1, then key2, as given; through EVP both as the data
	 * key) */
	uint8_t *keys;
	size_t keys_len, data_len, iv_len, tweak_len;
	pthread_mutex_t lock;
	struct worker *idle;
};

static const uint8_t *data_key(const struct vu_sector_cipher *c)
{
	return c->keys;
}

static const uint8_t *iv_key(const struct vu_sector_cipher *c)
{
	return c->keys + c->data_len;
}

static const uint8_t *tweak_key(const struct vu_sector_cipher *c)
{
	return c->keys + c->data_len + c->iv_len;
}

/* XTS key1 == key2, compared in constant time */
static int xts_dup(const struct vu_sector_cipher *c)
{
	size_t half = (c->data_len + c->iv_len) / 2;
	uint8_t diff = 0;

	for (size_t i = 0; i < half; i++)
		diff |= c->keys[i] ^ c->keys[half + i];
	return diff == 0;
}

static void worker_free(struct worker *w)
{
	if (!w)
		return;
	vu_aes_free(w->data[0]);
	vu_aes_free(w->data[1]);
	vu_aes_free(w->ivgen);
	vu_aes_free(w->tweak);
	free(w);
}

/* A worker with the contexts for direction enc set up. */
static int worker_get(struct vu_sector_cipher *c, int enc, struct worker **out)
{
	struct worker *w;
	int err;

	*out = NULL;
	pthread_mutex_lock(&c->lock);
	w = c->idle;
	if (w)
		c->idle = w->next;
	pthread_mutex_unlock(&c->lock);
	if (!w) {
		w = calloc(1, sizeof(*w));
		if (!w)
			return -ENOMEM;
		if (c->iv_len) {
			err = vu_aes_new(VU_AES_ECB, 1, iv_key(c), c->iv_len,
					 &w->ivgen);
			if (err)
				goto fail;
		}
		if (c->tweak_len) {
			err = vu_aes_new(VU_AES_ECB, 1, tweak_key(c),
					 c->tweak_len, &w->tweak);
			if (err)
				goto fail;
		}
	}
	if (!w->data[enc]) {
		if (enc && c->no_encrypt) {
			/* as OpenSSL's XTS refuses it (IEEE 1619-2018) */
			err = vu_fail(-EINVAL, "xts: encryption with two equal "
					       "key halves");
			goto fail;
		}
		err = vu_aes_new(c->data_mode, enc, data_key(c), c->data_len,
				 &w->data[enc]);
		if (err)
			goto fail;
	}
	*out = w;
	return 0;
fail:
	worker_free(w);
	return err;
}

static void worker_put(struct vu_sector_cipher *c, struct worker *w)
{
	pthread_mutex_lock(&c->lock);
	w->next = c->idle;
	c->idle = w;
	pthread_mutex_unlock(&c->lock);
}

/* ---- the Elephant diffuser ----
 * Niels Ferguson, "AES-CBC + Elephant diffuser: A Disk Encryption Algorithm
 * for Windows Vista", Microsoft, August 2006, section 4: the sector as
 * 32-bit little-endian words d[0..n-1], indices modulo n.  The paper
 * defines the decryption direction:
 *   Diffuser A, 5 cycles: for i = 0..n-1:
 *	d[i] += d[i-2] ^ (d[i-5] <<< Ra[i % 4]),  Ra = {9, 0, 13, 0}
 *   Diffuser B, 3 cycles: for i = 0..n-1:
 *	d[i] += d[i+2] ^ (d[i+5] <<< Rb[i % 4]),  Rb = {0, 10, 0, 25}
 * and encryption as the inverse (i from n-1 down to 0, subtracting).
 * Sector decryption: AES-CBC, Diffuser B, Diffuser A, XOR with the sector
 * key (libbde's format notes, "AES-CBC with Elephant Diffuser"). */
#define DIFFUSER_A_CYCLES 5
#define DIFFUSER_B_CYCLES 3

static inline uint32_t rotl32(uint32_t x, unsigned int r)
{
	return r ? (x << r) | (x >> (32 - r)) : x;
}

static const unsigned int ra[4] = {9, 0, 13, 0};
static const unsigned int rb[4] = {0, 10, 0, 25};

/* Indices wrap modulo n only near the ends: the first (A) or last (B) 8
 * words take the general form, the rest run 4 at a time with the rotations
 * as constants (n is a multiple of 4, at least 128). */
static inline void a_step(uint32_t *d, size_t n, size_t i, int sign)
{
	uint32_t v = d[(i + n - 2) % n] ^ rotl32(d[(i + n - 5) % n], ra[i % 4]);

	d[i] = sign > 0 ? d[i] + v : d[i] - v;
}

static inline void b_step(uint32_t *d, size_t n, size_t i, int sign)
{
	uint32_t v = d[(i + 2) % n] ^ rotl32(d[(i + 5) % n], rb[i % 4]);

	d[i] = sign > 0 ? d[i] + v : d[i] - v;
}

static void diffuser_a_decrypt(uint32_t *d, size_t n)
{
	for (int c = 0; c < DIFFUSER_A_CYCLES; c++) {
		for (size_t i = 0; i < 8; i++)
			a_step(d, n, i, 1);
		for (size_t i = 8; i < n; i += 4) {
			d[i] += d[i - 2] ^ rotl32(d[i - 5], 9);
			d[i + 1] += d[i - 1] ^ d[i - 4];
			d[i + 2] += d[i] ^ rotl32(d[i - 3], 13);
			d[i + 3] += d[i + 1] ^ d[i - 2];
		}
	}
}

static void diffuser_a_encrypt(uint32_t *d, size_t n)
{
	for (int c = 0; c < DIFFUSER_A_CYCLES; c++) {
		for (size_t i = n - 4; i >= 8; i -= 4) {
			d[i + 3] -= d[i + 1] ^ d[i - 2];
			d[i + 2] -= d[i] ^ rotl32(d[i - 3], 13);
			d[i + 1] -= d[i - 1] ^ d[i - 4];
			d[i] -= d[i - 2] ^ rotl32(d[i - 5], 9);
		}
		for (size_t i = 8; i-- > 0;)
			a_step(d, n, i, -1);
	}
}

static void diffuser_b_decrypt(uint32_t *d, size_t n)
{
	for (int c = 0; c < DIFFUSER_B_CYCLES; c++) {
		for (size_t i = 0; i + 8 < n; i += 4) {
			d[i] += d[i + 2] ^ d[i + 5];
			d[i + 1] += d[i + 3] ^ rotl32(d[i + 6], 10);
			d[i + 2] += d[i + 4] ^ d[i + 7];
			d[i + 3] += d[i + 5] ^ rotl32(d[i + 8], 25);
		}
		for (size_t i = n - 8; i < n; i++)
			b_step(d, n, i, 1);
	}
}

static void diffuser_b_encrypt(uint32_t *d, size_t n)
{
	for (int c = 0; c < DIFFUSER_B_CYCLES; c++) {
		for (size_t i = n; i-- > n - 8;)
			b_step(d, n, i, -1);
		for (size_t i = n - 12;; i -= 4) {
			d[i + 3] -= d[i + 5] ^ rotl32(d[i + 8], 25);
			d[i + 2] -= d[i + 4] ^ d[i + 7];
			d[i + 1] -= d[i + 3] ^ rotl32(d[i + 6], 10);
			d[i] -= d[i + 2] ^ d[i + 5];
			if (i == 0)
				break;
		}
	}
}

/* The sector as little-endian words, for the diffusers. */
static void load_words(uint32_t *d, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		d[i] = vu_le32(p + 4 * i);
}

static void store_words(uint8_t *p, const uint32_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vu_put_le32(p + 4 * i, d[i]);
}

/* XOR the 32-byte sector key over the sector's words, repeated.  Read
 * from key in place, so no copy of it is left to wipe. */
static void xor_sector_key(uint32_t *d, size_t n, const uint8_t key[32])
{
	for (size_t i = 0; i < n; i++)
		d[i] ^= vu_le32(key + 4 * (i % 8));
}

/* The Elephant layer of one sector: after CBC decryption, or before CBC
 * encryption.  w: scratch of sector_size / 4 words. */
static void elephant_decrypt(uint8_t *p, size_t len, const uint8_t key[32],
			     uint32_t *w)
{
	size_t n = len / 4;

	load_words(w, p, n);
	diffuser_b_decrypt(w, n);
	diffuser_a_decrypt(w, n);
	xor_sector_key(w, n, key);
	store_words(p, w, n);
}

static void elephant_encrypt(uint8_t *p, size_t len, const uint8_t key[32],
			     uint32_t *w)
{
	size_t n = len / 4;

	load_words(w, p, n);
	xor_sector_key(w, n, key);
	diffuser_a_encrypt(w, n);
	diffuser_b_encrypt(w, n);
	store_words(p, w, n);
}

/* ---- the per-call work ---- */

/* d ^= t over n bytes, n a multiple of 16 (word-wise: byte order does not
 * matter to XOR). */
static void xor_bytes(uint8_t *d, const uint8_t *t, size_t n)
{
	for (size_t i = 0; i < n; i += 16) {
		uint64_t a[2], b[2];

		memcpy(a, d + i, 16);
		memcpy(b, t + i, 16);
		a[0] ^= b[0];
		a[1] ^= b[1];
		memcpy(d + i, a, 16);
	}
}

/* Store the tweak lo | hi << 64 as 16 little-endian bytes at t and XOR it
 * into the block at d.  The byte-wise vu_put_le64 defeats GCC's store
 * merging here (then the 16-byte reload stalls on store forwarding), so
 * little-endian hosts copy the words as they are. */
static inline void tweak_put(uint8_t *t, uint8_t *d, uint64_t lo, uint64_t hi)
{
	uint64_t x[2];

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(t, &lo, 8);
	memcpy(t + 8, &hi, 8);
	memcpy(x, d, 16);
	x[0] ^= lo;
	x[1] ^= hi;
	memcpy(d, x, 16);
#else
	vu_put_le64(t, lo);
	vu_put_le64(t + 8, hi);
	xor_bytes(d, t, 16);
#endif
}

/* (lo, hi) *= x^k in GF(2^128) for 1 <= k <= 56 (IEEE 1619-2007, 5.2: the
 * 128-bit little-endian value shifted left, x^128 reduced as
 * x^7 + x^2 + x + 1).  The k bits shifted out, c, come back as c * 0x87,
 * of degree below 64: no second reduction. */
static inline void gf_mulx(uint64_t *lo, uint64_t *hi, unsigned int k)
{
	uint64_t c = *hi >> (64 - k);

	*hi = *hi << k | *lo >> (64 - k);
	*lo = *lo << k ^ c ^ c << 1 ^ c << 2 ^ c << 7;
}

/* The tweaks T * alpha^j, j = 0..31, of 32 consecutive blocks into tw and
 * XORed into d.  Four independent chains (blocks j, j + 8, j + 16, j + 24)
 * instead of one, as a multiplication by alpha waits for the one before;
 * with SSE2 (every x86-64) one 128-bit register per chain, the step as in
 * OpenSSL's aesni_xts: double both 64-bit halves, then add the carry out
 * of the low half to the high one and 0x87 for the carry out of the top. */
#define XTS_GROUP 32
#ifdef __SSE2__
#define XTS_STEP(t)                                                           \
	(t) = _mm_xor_si128(                                                  \
		_mm_add_epi64((t), (t)),                                      \
		_mm_and_si128(                                                \
			_mm_srai_epi32(_mm_shuffle_epi32((t), 0x13), 31), poly))
#define XTS_PUT(t, o)                                                         \
	do {                                                                  \
		_mm_storeu_si128((__m128i *)(void *)(tw + (o)), (t));         \
		_mm_storeu_si128((__m128i *)(void *)(d + (o)),                \
				 _mm_xor_si128((t),                           \
					       _mm_loadu_si128(               \
						       (const __m128i *)(void *)(d + (o))))); \
	} while (0)

static void xts_group(uint8_t *tw, uint8_t *d, uint64_t lo, uint64_t hi)
{
	const __m128i poly = _mm_set_epi32(0, 1, 0, 0x87);
	uint64_t l = lo, h = hi;
	__m128i a, b, c, e;

	a = _mm_set_epi64x((long long)h, (long long)l);
	gf_mulx(&l, &h, 8);
	b = _mm_set_epi64x((long long)h, (long long)l);
	gf_mulx(&l, &h, 8);
	c = _mm_set_epi64x((long long)h, (long long)l);
	gf_mulx(&l, &h, 8);
	e = _mm_set_epi64x((long long)h, (long long)l);
	for (size_t j = 0; j < 8; j++) {
		XTS_PUT(a, 16 * j);
		XTS_PUT(b, 16 * (j + 8));
		XTS_PUT(c, 16 * (j + 16));
		XTS_PUT(e, 16 * (j + 24));
		XTS_STEP(a);
		XTS_STEP(b);
		XTS_STEP(c);
		XTS_STEP(e);
	}
}
#else
static void xts_group(uint8_t *tw, uint8_t *d, uint64_t lo, uint64_t hi)
{
	uint64_t l[4], h[4];

	for (unsigned int i = 0; i < 4; i++) {
		l[i] = lo;
		h[i] = hi;
		if (i)
			gf_mulx(&l[i], &h[i], 8 * i);
	}
	for (size_t j = 0; j < 8; j++) {
		for (size_t i = 0; i < 4; i++) {
			size_t o = (8 * i + j) * 16;

			tweak_put(tw + o, d + o, l[i], h[i]);
			gf_mulx(&l[i], &h[i], 1);
		}
	}
}
#endif

/* XTS over k consecutive sectors of ss bytes at p, whose tweaks
 * T = AES(key2, sector) are t0[0..k-1], with ecb = AES-ECB(key1) in the
 * direction wanted (IEEE 1619-2007, 5.3 and 5.4; no ciphertext stealing:
 * sectors are whole blocks).  Per chunk of XTS_CHUNK bytes (a multiple of
 * the 512 bytes of a group): the tweak of every block into tw and XORed
 * into the data, one ECB call, XOR again.  tw: XTS_CHUNK bytes of scratch;
 * the caller wipes it. */
static int xts_run(struct vu_aes *ecb, uint8_t *p, size_t k, size_t ss,
		   const uint8_t (*t0)[16], uint8_t *tw)
{
	const size_t len = k * ss, gsz = XTS_GROUP * 16;
	uint64_t lo = 0, hi = 0;
	size_t next = 0; /* the sector whose T comes next */
	int wide = vu_xts_wide_usable();
	int err;

	for (size_t off = 0; off < len;) {
		size_t n = len - off < XTS_CHUNK ? len - off : XTS_CHUNK;
		uint8_t *d = p + off;

		for (size_t j = 0; j < n; j += gsz) {
			if ((off + j) % ss == 0) {
				lo = vu_le64(t0[next]);
				hi = vu_le64(t0[next] + 8);
				next++;
			}
			if (wide)
				vu_xts_wide_group(tw + j, d + j, lo, hi);
			else
				xts_group(tw + j, d + j, lo, hi);
			gf_mulx(&lo, &hi, XTS_GROUP);
		}
		err = vu_aes_run(ecb, NULL, d, d, n);
		if (err)
			return err;
		if (wide)
			vu_xts_wide_xor(d, tw, n);
		else
			xor_bytes(d, tw, n);
		off += n;
	}
	return 0;
}

/* 16-byte little-endian block of v (the upper 8 bytes zero). */
static void le128(uint8_t b[16], uint64_t v)
{
	vu_put_le64(b, v);
	memset(b + 8, 0, 8);
}

/* ---- the IVs of a batch ---- */

/* Elephant sector key of each sector: E(tweak, offset) || E(tweak, offset
 * with byte 15 = 0x80), the offset being the plain IV. */
static int elephant_sector_keys(struct worker *w, struct batch *b, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		memcpy(b->skey[i], b->iv[i], 16);
		memcpy(b->skey[i] + 16, b->iv[i], 16);
		b->skey[i][31] = 0x80;
	}
	return vu_aes_run(w->tweak, NULL, &b->skey[0][0], &b->skey[0][0],
			  32 * k);
}

/* The IVs (XTS: the tweaks) of sectors s0 .. s0 + k - 1 into b->iv, and
 * what the mode derives from them. */
static int make_ivs(const struct vu_sector_cipher *c, struct worker *w,
		    struct batch *b, uint64_t s0, size_t k)
{
	unsigned int shift = c->ops->iv_byte_offset ? c->sector_shift
						    : c->iv_shift;
	int err;

	for (size_t i = 0; i < k; i++)
		le128(b->iv[i], (s0 + i) << shift);
	if (c->ops->sector_keys) {
		err = c->ops->sector_keys(w, b, k);
		if (err)
			return err;
	}
	if (w->ivgen)
		return vu_aes_run(w->ivgen, NULL, &b->iv[0][0], &b->iv[0][0],
				  16 * k);
	return 0;
}

/* ---- the data passes ---- */

/* XTS with the tweaks computed here (the fast path below XTS_EVP_MIN):
 * b->iv holds the T of each sector. */
static int xts_pass(const struct vu_sector_cipher *c, struct worker *w,
		    int enc, struct batch *b, uint8_t *p, size_t k)
{
	size_t ss = c->sector_size;

	if (b->tw_used < k * ss)
		b->tw_used = k * ss < XTS_CHUNK ? k * ss : XTS_CHUNK;
	return xts_run(w->data[enc], p, k, ss, (const uint8_t(*)[16])b->iv,
		       b->tw);
}

/* One data-cipher call per sector with its own IV: CBC encryption (which
 * cannot run as one chain), XTS through EVP. */
static int sector_pass(const struct vu_sector_cipher *c, struct worker *w,
		       int enc, struct batch *b, uint8_t *p, size_t k)
{
	size_t ss = c->sector_size;
	int err;

	for (size_t i = 0; i < k; i++, p += ss) {
		if (enc && c->ops->pre_encrypt)
			c->ops->pre_encrypt(p, ss, b->skey[i], b->words);
		err = vu_aes_run(w->data[enc], b->iv[i], p, p, ss);
		if (err)
			return err;
	}
	return 0;
}

/* CBC decryption of the whole batch as one chain, then the first block of
 * each sector corrected: it was XORed with the last ciphertext block of
 * the sector before instead of with its own IV. */
static int cbc_decrypt_pass(const struct vu_sector_cipher *c,
			    struct worker *w, int enc, struct batch *b,
			    uint8_t *p, size_t k)
{
	size_t ss = c->sector_size;
	int err;

	(void)enc;
	for (size_t i = 1; i < k; i++)
		memcpy(b->last[i], p + i * ss - 16, 16);
	err = vu_aes_run(w->data[0], b->iv[0], p, p, k * ss);
	if (err)
		return err;
	/* word-wise: p may alias b for all the compiler knows, and a byte
	 * loop here costs a sixth of the whole pass */
	for (size_t i = 1; i < k; i++) {
		xor_bytes(p + i * ss, b->last[i], 16);
		xor_bytes(p + i * ss, b->iv[i], 16);
	}
	if (c->ops->post_decrypt)
		for (size_t i = 0; i < k; i++)
			c->ops->post_decrypt(p + i * ss, ss, b->skey[i],
					     b->words);
	return 0;
}

/* ---- key layouts ---- */

/* c->keys for a data key, an IV key and a tweak key of these lengths. */
static int keys_alloc(struct vu_sector_cipher *c, size_t data_len,
		      size_t iv_len, size_t tweak_len)
{
	c->data_len = data_len;
	c->iv_len = iv_len;
	c->tweak_len = tweak_len;
	c->keys_len = data_len + iv_len + tweak_len;
	c->keys = vu_secret_alloc(c->keys_len);
	return c->keys ? 0 : -ENOMEM;
}

/* key1 || key2 as given.  Below XTS_EVP_MIN, key1 is an AES-ECB data key
 * and key2 the IV key that makes the tweaks; from there on both go to
 * EVP's XTS, one call per sector. */
static int xts_setup(struct vu_sector_cipher *c, const uint8_t *key,
		     size_t key_len)
{
	int evp = c->sector_size >= XTS_EVP_MIN;
	int err = evp ? keys_alloc(c, key_len, 0, 0)
		      : keys_alloc(c, key_len / 2, key_len / 2, 0);

	if (err)
		return err;
	memcpy(c->keys, key, key_len);
	if (evp) {
		c->data_mode = VU_AES_XTS;
		c->pass[0] = c->pass[1] = sector_pass;
	}
	c->no_encrypt = xts_dup(c);
	return 0;
}

/* plain64: the AES key alone, the IV is not encrypted. */
static int plain_setup(struct vu_sector_cipher *c, const uint8_t *key,
		       size_t key_len)
{
	int err = keys_alloc(c, key_len, 0, 0);

	if (!err)
		memcpy(c->keys, key, key_len);
	return err;
}

/* EBOIV: IV = AES-ECB(FVEK, byte offset), the data key twice. */
static int eboiv_setup(struct vu_sector_cipher *c, const uint8_t *key,
		       size_t key_len)
{
	int err = keys_alloc(c, key_len, key_len, 0);

	if (!err) {
		memcpy(c->keys, key, key_len);
		memcpy(c->keys + key_len, key, key_len);
	}
	return err;
}

/* ESSIV: the salt, SHA-256 of the volume key, is an AES-256 IV key. */
static int essiv_setup(struct vu_sector_cipher *c, const uint8_t *key,
		       size_t key_len)
{
	int err = keys_alloc(c, key_len, 32, 0);

	if (err)
		return err;
	memcpy(c->keys, key, key_len);
	return vu_sha256(key, key_len, c->keys + key_len);
}

/* Elephant: the FVEK (data and IV key, as EBOIV), then the tweak key. */
static int elephant_setup(struct vu_sector_cipher *c, const uint8_t *key,
			  size_t key_len)
{
	size_t half = key_len / 2;
	int err = keys_alloc(c, half, half, half);

	if (!err) {
		memcpy(c->keys, key, half);
		memcpy(c->keys + half, key, half);
		memcpy(c->keys + 2 * half, key + half, half);
	}
	return err;
}

/* ---- the modes ---- */

static const struct sector_ops modes[] = {
	[VU_SECTOR_XTS_PLAIN64] = {
		.key_lens = {32, 64},
		.setup = xts_setup,
		.data_mode = VU_AES_ECB,
		.pass = {xts_pass, xts_pass},
	},
	[VU_SECTOR_CBC_EBOIV] = {
		.key_lens = {16, 32}, /* BitLocker: AES-128 or AES-256 */
		.iv_byte_offset = 1,
		.setup = eboiv_setup,
		.data_mode = VU_AES_CBC,
		.pass = {cbc_decrypt_pass, sector_pass},
	},
	[VU_SECTOR_CBC_ELEPHANT] = {
		.key_lens = {32, 64},
		.iv_byte_offset = 1,
		.setup = elephant_setup,
		.sector_keys = elephant_sector_keys,
		.post_decrypt = elephant_decrypt,
		.pre_encrypt = elephant_encrypt,
		.data_mode = VU_AES_CBC,
		.pass = {cbc_decrypt_pass, sector_pass},
	},
	[VU_SECTOR_CBC_PLAIN64] = {
		.key_lens = {16, 24, 32},
		.setup = plain_setup,
		.data_mode = VU_AES_CBC,
		.pass = {cbc_decrypt_pass, sector_pass},
	},
	[VU_SECTOR_CBC_ESSIV] = {
		.key_lens = {16, 24, 32},
		.setup = essiv_setup,
		.data_mode = VU_AES_CBC,
		.pass = {cbc_decrypt_pass, sector_pass},
	},
};

static int key_len_ok(const struct sector_ops *ops, size_t key_len)
{
	for (size_t i = 0; i < sizeof(ops->key_lens) && ops->key_lens[i]; i++)
		if (ops->key_lens[i] == key_len)
			return 1;
	return 0;
}

int vu_sector_cipher_new(enum vu_sector_mode mode, const uint8_t *key,
			 size_t key_len, uint32_t sector_size,
			 struct vu_sector_cipher **out)
{
	const struct sector_ops *ops;
	struct vu_sector_cipher *c;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!key || sector_size < 512 || sector_size > MAX_SECTOR_SIZE ||
	    !vu_is_pow2(sector_size))
		return -EINVAL;
	if ((unsigned int)mode >= sizeof(modes) / sizeof(modes[0]) ||
	    !modes[mode].setup)
		return -EINVAL;
	ops = &modes[mode];
	if (!key_len_ok(ops, key_len))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ops = ops;
	c->data_mode = ops->data_mode;
	c->pass[0] = ops->pass[0];
	c->pass[1] = ops->pass[1];
	c->sector_size = sector_size;
	c->sector_shift = vu_log2u(sector_size); /* a power of two */
	if (pthread_mutex_init(&c->lock, NULL)) {
		free(c);
		return -ENOMEM;
	}
	err = ops->setup(c, key, key_len);
	if (err) {
		vu_sector_cipher_free(c);
		return err;
	}
	*out = c;
	return 0;
}

int vu_sector_cipher_set_iv_shift(struct vu_sector_cipher *c,
				  unsigned int shift)
{
	if (!c || shift > 16)
		return -EINVAL;
	c->iv_shift = shift;
	return 0;
}

void vu_sector_cipher_free(struct vu_sector_cipher *c)
{
	struct worker *w;

	if (!c)
		return;
	while ((w = c->idle)) {
		c->idle = w->next;
		worker_free(w);
	}
	vu_secret_free(c->keys, c->keys_len);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* ---- the per-call work ---- */

static int run(struct vu_sector_cipher *c, int enc, uint64_t sector,
	       uint8_t *buf, size_t n)
{
	struct batch b;
	struct worker *w = NULL;
	int err;

	if (!c || (n && !buf))
		return -EINVAL;
	if (!n)
		return 0;
	/* offsets and sector numbers must not wrap */
	if (n > (UINT64_MAX >> c->sector_shift) ||
	    sector > (UINT64_MAX >> c->sector_shift) - n ||
	    (c->iv_shift && sector + n > (UINT64_MAX >> c->iv_shift)))
		return -EINVAL;
	b.tw_used = 0;
	b.words = NULL;
	if (c->ops->post_decrypt || c->ops->pre_encrypt) {
		b.words = malloc(c->sector_size);
		if (!b.words)
			return -ENOMEM;
	}
	err = worker_get(c, enc, &w);
	for (size_t done = 0; !err && done < n;) {
		size_t k = n - done < BATCH ? n - done : BATCH;

		err = make_ivs(c, w, &b, sector + done, k);
		if (!err)
			err = c->pass[enc](c, w, enc, &b,
					   buf + done * c->sector_size, k);
		done += k;
	}
	if (w)
		worker_put(c, w);
	if (b.words) {
		vu_cleanse(b.words, c->sector_size);
		free(b.words);
	}
	vu_cleanse(b.skey, sizeof(b.skey));
	vu_cleanse(b.iv, sizeof(b.iv));
	vu_cleanse(b.last, sizeof(b.last));
	vu_cleanse(b.tw, b.tw_used);
	return err;
}

int vu_sector_decrypt(struct vu_sector_cipher *c, uint64_t sector,
		      uint8_t *buf, size_t n)
{
	return run(c, 0, sector, buf, n);
}

int vu_sector_encrypt(struct vu_sector_cipher *c, uint64_t sector,
		      uint8_t *buf, size_t n)
{
	return run(c, 1, sector, buf, n);
}
