/* Base64 (RFC 4648 sections 4 and 5).  Strict: one alphabet per input,
 * padding only at the end and only to a multiple of four, so that a
 * damaged secret is reported instead of decoding to a wrong key. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/error.h"
#include "core/secret.h"

static const char std_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The value of c (0..63), or -1; *url is set by the first '-', '_', '+'
 * or '/' met, and the other pair is refused afterwards. */
static int value(char c, int *url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '/') {
		if (*url == 1)
			return -1;
		*url = 0;
		return c == '+' ? 62 : 63;
	}
	if (c == '-' || c == '_') {
		if (*url == 0)
			return -1;
		*url = 1;
		return c == '-' ? 62 : 63;
	}
	return -1;
}

int vu_base64_decode(const char *what, const char *in, size_t inlen,
		     uint8_t **out, size_t *outlen)
{
	size_t pad = 0, n, o = 0;
	uint32_t acc = 0;
	int url = -1, bits = 0;
	uint8_t *buf;

	*out = NULL;
	*outlen = 0;
	while (pad < 2 && inlen > pad && in[inlen - 1 - pad] == '=')
		pad++;
	n = inlen - pad;
	if (pad && inlen % 4)
		return vu_fail(-EINVAL, "%s: base64 padding at byte %zu does "
			       "not end a group of four", what, n);
	if (n % 4 == 1)
		return vu_fail(-EINVAL, "%s: base64 of %zu characters ends in "
			       "one that holds no whole byte", what, n);
	buf = vu_secret_alloc(n / 4 * 3 + 3);
	if (!buf)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int v = value(in[i], &url);
		if (v < 0) {
			vu_secret_free(buf, n / 4 * 3 + 3);
			return vu_fail(-EINVAL, "%s: invalid base64 character "
				       "at byte %zu", what, i);
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* the bits left over must be zero (a canonical encoding) */
	if (bits && (acc & ((1u << bits) - 1))) {
		vu_secret_free(buf, n / 4 * 3 + 3);
		return vu_fail(-EINVAL, "%s: base64 ends in stray bits at byte "
			       "%zu", what, n - 1);
	}
	/* hand back exactly outlen + 1 bytes, as the header says */
	if (o + 1 != n / 4 * 3 + 3) {
		uint8_t *exact = vu_secret_alloc(o + 1);
		if (!exact) {
			vu_secret_free(buf, n / 4 * 3 + 3);
			return vu_fail(-ENOMEM, "out of memory");
		}
		memcpy(exact, buf, o);
		vu_secret_free(buf, n / 4 * 3 + 3);
		buf = exact;
	}
	buf[o] = 0;
	*out = buf;
	*outlen = o;
	return 0;
}

static char *encode(const uint8_t *in, size_t len, const char *alpha, int pad)
{
	char *out = malloc((len + 2) / 3 * 4 + 1), *p = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t left = len - i;

		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		*p++ = alpha[v >> 18 & 63];
		*p++ = alpha[v >> 12 & 63];
		if (left > 1)
			*p++ = alpha[v >> 6 & 63];
		else if (pad)
			*p++ = '=';
		if (left > 2)
			*p++ = alpha[v & 63];
		else if (pad)
			*p++ = '=';
	}
	*p = '\0';
	return out;
}

char *vu_base64_encode(const uint8_t *in, size_t len)
{
	return encode(in, len, std_alpha, 1);
}

char *vu_base64url_encode(const uint8_t *in, size_t len)
{
	return encode(in, len, url_alpha, 0);
}
