/* Base64 as Key Vault and Entra ID use it: secrets in standard base64,
 * wrapped keys and JWTs in base64url, padded or not. */
#ifndef VU_BASE64_H
#define VU_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Decode in[0..inlen) in either alphabet (not mixed), with or without '='
 * padding, nothing else allowed (no white space).  The result is in
 * secret memory (vu_secret_alloc) of *outlen + 1 bytes, NUL-terminated:
 * free it with vu_secret_free(*out, *outlen + 1).  -EINVAL with a message
 * naming what and the byte offset, never the data. */
int vu_base64_decode(const char *what, const char *in, size_t inlen,
		     uint8_t **out, size_t *outlen);
/* Encode, standard alphabet and padded; or url alphabet without padding.
 * malloc'd, NUL-terminated; NULL when out of memory. */
char *vu_base64_encode(const uint8_t *in, size_t len);
char *vu_base64url_encode(const uint8_t *in, size_t len);

#endif
