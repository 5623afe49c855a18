/* The crypto backend: the only part of vhdunlock that includes OpenSSL
 * headers (crypto/openssl.c).  Everything returns 0 or a negative errno:
 * -EINVAL bad argument, -EPERM authentication failed (wrong key),
 * -ENOMEM, -EIO for an OpenSSL failure (message recorded). */
#ifndef VU_CRYPTO_H
#define VU_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* secret memory (vu_secret_alloc, vu_secret_free, vu_cleanse) is the
 * core's: every user of the crypto backend holds keys in it */
#include "core/secret.h"

/* ---- hashes ---- */
int vu_sha256(const void *data, size_t len, uint8_t out[32]);
/* The same over data given in pieces: new, update any number of times,
 * final once, free (also after a failure). */
struct vu_sha256_ctx;
int vu_sha256_new(struct vu_sha256_ctx **out);
int vu_sha256_update(struct vu_sha256_ctx *c, const void *data, size_t len);
int vu_sha256_final(struct vu_sha256_ctx *c, uint8_t out[32]);
void vu_sha256_free(struct vu_sha256_ctx *c);

/* ---- public keys: Entra ID certificate sign-in, local KEK unwrap ---- */
/* A PEM file holding a certificate and its RSA private key, in any order
 * (AZURE_CLIENT_CERTIFICATE_PATH).  Messages name the file. */
struct vu_cert_key;
int vu_cert_key_load(const char *path, struct vu_cert_key **out);
/* SHA-1 (x5t) or SHA-256 (x5t#S256) of the certificate's DER form: 20 or
 * 32 bytes into out, their count in *len. */
int vu_cert_key_thumbprint(const struct vu_cert_key *ck, int sha256,
			   uint8_t out[32], size_t *len);
/* RS256: RSASSA-PKCS1-v1_5 with SHA-256; PS256: RSASSA-PSS with SHA-256,
 * MGF1-SHA-256 and a 32-byte salt.  *sig is malloc'd. */
enum vu_sig_alg { VU_SIG_RS256, VU_SIG_PS256 };
int vu_cert_key_sign(const struct vu_cert_key *ck, enum vu_sig_alg alg,
		     const void *msg, size_t len, uint8_t **sig,
		     size_t *siglen);
void vu_cert_key_free(struct vu_cert_key *ck);
/* Unwrap a key-encryption-key-wrapped secret with the RSA private key in
 * pem_path (--kek-pem): alg "RSA-OAEP" (OAEP, SHA-1), "RSA-OAEP-256"
 * (OAEP, SHA-256) or "RSA1_5" (PKCS #1 v1.5), as Key Vault names them.
 * The result is in secret memory of *outlen + 1 bytes (free with
 * vu_secret_free(*out, *outlen + 1)).  -EPERM when the key does not
 * decrypt it, -EINVAL for an unknown alg. */
int vu_rsa_unwrap_pem(const char *pem_path, const char *alg,
		      const uint8_t *in, size_t inlen, uint8_t **out,
		      size_t *outlen);

/* ---- BitLocker ---- */
/* The BitLocker key stretch (0x100000 rounds of SHA-256 over
 * {last hash, initial hash, salt, counter}), as used for recovery and user
 * passwords.  init is SHA-256 of the password material. */
int vu_bde_stretch(const uint8_t init[32], const uint8_t salt[16],
		   uint8_t out[32]);
/* AES-CCM decryption as BitLocker uses it (12-byte nonce, 16-byte tag).
 * -EPERM when the tag does not match (wrong key or damaged data). */
int vu_aes_ccm_decrypt(const uint8_t *key, size_t key_len,
		       const uint8_t nonce[12], const uint8_t *in, size_t len,
		       const uint8_t tag[16], uint8_t *out);
/* Test writers need the reverse. */
int vu_aes_ccm_encrypt(const uint8_t *key, size_t key_len,
		       const uint8_t nonce[12], const uint8_t *in, size_t len,
		       uint8_t tag[16], uint8_t *out);

/* ---- raw AES: the primitive the sector ciphers (crypto/sector.c) use ----
 * One context holds one key schedule and direction; not thread-safe (use
 * one per thread).  The key is copied into the context, so the caller may
 * wipe its copy right away. */
enum vu_aes_mode {
	VU_AES_ECB, /* key 16/24/32 bytes, no IV */
	VU_AES_CBC, /* key 16/24/32 bytes, IV 16 bytes */
	VU_AES_XTS, /* key 32/64 bytes (both halves), tweak 16 bytes */
};
struct vu_aes;
int vu_aes_new(enum vu_aes_mode mode, int encrypt, const uint8_t *key,
	       size_t key_len, struct vu_aes **out);
/* len a multiple of 16 (XTS: one data unit of at most 16 MiB); in == out
 * is allowed, partial overlap is not.  The IV (ignored for ECB) starts a
 * fresh chain on every call. */
int vu_aes_run(struct vu_aes *a, const uint8_t *iv, const uint8_t *in,
	       uint8_t *out, size_t len);
void vu_aes_free(struct vu_aes *a);

/* ---- sector ciphers ----
 * A sector cipher decrypts whole sectors of a volume, many threads at once.
 * The IV (and Elephant diffuser) mode is chosen at creation from a table,
 * as dm-crypt's crypt_iv_operations. */
enum vu_sector_mode {
	VU_SECTOR_XTS_PLAIN64,	/* AES-XTS, IV = sector number (LE64) */
	VU_SECTOR_CBC_EBOIV,	/* AES-CBC, IV = AES-ECB(key, byte offset) */
	VU_SECTOR_CBC_ELEPHANT, /* AES-CBC + Elephant diffuser (BitLocker Vista/7) */
	VU_SECTOR_CBC_PLAIN64,	/* AES-CBC, IV = sector number (LUKS) */
	VU_SECTOR_CBC_ESSIV,	/* AES-CBC, IV = AES(SHA-256(key), sector) (LUKS) */
};

struct vu_sector_cipher;

/* key: for XTS both halves (32 or 64 bytes); for CBC modes the AES key
 * (16 or 32 bytes); for Elephant the FVEK key followed by the tweak key
 * (2 x 16 or 2 x 32 bytes).  sector_size: 512 or 4096 (or any power of
 * two >= 512).  iv_shift: how the sector number given to decrypt maps to
 * the IV's unit (for LUKS sector sizes > 512 with iv_large_sectors off). */
int vu_sector_cipher_new(enum vu_sector_mode mode, const uint8_t *key,
			 size_t key_len, uint32_t sector_size,
			 struct vu_sector_cipher **out);
/* Decrypt n whole sectors in place.  sector is the index of the first one
 * (in sector_size units) used for the IV; for EBOIV/Elephant the byte
 * offset is sector * sector_size.  Thread-safe. */
int vu_sector_decrypt(struct vu_sector_cipher *c, uint64_t sector,
		      uint8_t *buf, size_t n);
/* The reverse, for test writers. */
int vu_sector_encrypt(struct vu_sector_cipher *c, uint64_t sector,
		      uint8_t *buf, size_t n);
void vu_sector_cipher_free(struct vu_sector_cipher *c);
/* The iv_shift above: the IV of XTS-plain64, CBC-plain64 and CBC-ESSIV
 * becomes sector << shift (LUKS2 with 4096-byte sectors and without the
 * iv_large_sectors flag: shift 3, IVs in 512-byte units).  Default 0;
 * ignored for EBOIV and Elephant, whose IV is the byte offset.  Set it
 * before the first decrypt; -EINVAL for shift > 16. */
int vu_sector_cipher_set_iv_shift(struct vu_sector_cipher *c,
				  unsigned int shift);

#endif
