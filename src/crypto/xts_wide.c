/* XTS tweaks with AVX-512 (xts_wide.h).
 *
 * A register holds four 128-bit tweaks, each as two 64-bit lanes: the low
 * half in the even lane, the high half in the odd one.  Multiplying by
 * x^k in GF(2^128) (IEEE 1619-2007, 5.2) is then, lane-wise: shift left by
 * k; the k bits shifted out of each low half go to the bottom of its high
 * half, and those shifted out of a high half come back at the bottom of
 * the low half times x^7 + x^2 + x + 1 (as c ^ c << 1 ^ c << 2 ^ c << 7,
 * below 2^64 for k <= 56).  Every register of a group is made from the
 * first by one such multiplication, so there is no chain of them to wait
 * on. */
#include "crypto/xts_wide.h"

static int forbidden;

void vu_xts_wide_forbid(int forbid)
{
	__atomic_store_n(&forbidden, forbid, __ATOMIC_RELAXED);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define WIDE __attribute__((target("avx512f")))

int vu_xts_wide_usable(void)
{
	if (__atomic_load_n(&forbidden, __ATOMIC_RELAXED))
		return 0;
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f");
}

/* Each tweak of t times x^k, k per 64-bit lane (the same in both lanes of
 * a tweak; 0 <= k <= 56). */
static inline WIDE __m512i mulx(__m512i t, __m512i k)
{
	const __m512i sixty_four = _mm512_set1_epi64(64);
	__m512i out = _mm512_srlv_epi64(t, _mm512_sub_epi64(sixty_four, k));
	__m512i moved = _mm512_shuffle_epi32(out, _MM_PERM_BADC);
	__m512i reduced = _mm512_xor_si512(
		_mm512_xor_si512(moved, _mm512_slli_epi64(moved, 1)),
		_mm512_xor_si512(_mm512_slli_epi64(moved, 2),
				 _mm512_slli_epi64(moved, 7)));

	return _mm512_xor_si512(_mm512_sllv_epi64(t, k),
				_mm512_mask_blend_epi64(0x55, moved, reduced));
}

WIDE void vu_xts_wide_group(uint8_t *tw, uint8_t *d, uint64_t lo,
			    uint64_t hi)
{
	/* tweaks 0..3 of the group: T times 1, x, x^2, x^3 */
	__m512i t0 = mulx(_mm512_set_epi64((long long)hi, (long long)lo,
					   (long long)hi, (long long)lo,
					   (long long)hi, (long long)lo,
					   (long long)hi, (long long)lo),
			  _mm512_set_epi64(3, 3, 2, 2, 1, 1, 0, 0));

	for (int j = 0; j < 8; j++) {
		__m512i t = j ? mulx(t0, _mm512_set1_epi64(4 * j)) : t0;
		__m512i v = _mm512_loadu_si512((const void *)(d + 64 * j));

		_mm512_storeu_si512((void *)(tw + 64 * j), t);
		_mm512_storeu_si512((void *)(d + 64 * j),
				    _mm512_xor_si512(v, t));
	}
}

WIDE void vu_xts_wide_xor(uint8_t *d, const uint8_t *t, size_t n)
{
	for (size_t i = 0; i < n; i += 64) {
		__m512i a = _mm512_loadu_si512((const void *)(d + i));
		__m512i b = _mm512_loadu_si512((const void *)(t + i));

		_mm512_storeu_si512((void *)(d + i), _mm512_xor_si512(a, b));
	}
}

#else

int vu_xts_wide_usable(void)
{
	return 0;
}

void vu_xts_wide_group(uint8_t *tw, uint8_t *d, uint64_t lo, uint64_t hi)
{
	(void)tw, (void)d, (void)lo, (void)hi;
}

void vu_xts_wide_xor(uint8_t *d, const uint8_t *t, size_t n)
{
	(void)d, (void)t, (void)n;
}

#endif
