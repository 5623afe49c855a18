/* The crypto backend over OpenSSL 3: SHA-256, the BitLocker key stretch,
 * AES-CCM, RSA and the AES block primitives the sector ciphers use.
 * The only file of vhdunlock that includes OpenSSL headers; every EVP call
 * is checked against != 1 and its failure translated here, once. */
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* SHA256_Init & co.: see vu_bde_stretch */

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "core/bytes.h"
#include "core/error.h"
#include "crypto/crypto.h"

/* Record "openssl: <what> failed: <first queued OpenSSL error>", empty the
 * OpenSSL error queue and return -EIO. */
static int ossl_fail(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		strcpy(buf, "no error queued");
	ERR_clear_error();
	return vu_fail(-EIO, "openssl: %s failed: %s", what, buf);
}

/* ---- hashes ---- */

int vu_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int outl = 0;

	if ((!data && len) || !out)
		return -EINVAL;
	if (EVP_Digest(len ? data : "", len, out, &outl, EVP_sha256(), NULL) !=
		    1 ||
	    outl != 32)
		return ossl_fail("EVP_Digest(sha256)");
	return 0;
}

/* Incremental SHA-256 for data hashed while it streams past (extract's
 * manifest): one EVP context per hash, freed with its state. */
struct vu_sha256_ctx {
	EVP_MD_CTX *md;
};

int vu_sha256_new(struct vu_sha256_ctx **out)
{
	struct vu_sha256_ctx *c;

	if (!out)
		return -EINVAL;
	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return vu_fail(-ENOMEM, "out of memory");
	c->md = EVP_MD_CTX_new();
	if (!c->md) {
		free(c);
		return ossl_fail("EVP_MD_CTX_new");
	}
	if (EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
		vu_sha256_free(c);
		return ossl_fail("EVP_DigestInit_ex(sha256)");
	}
	*out = c;
	return 0;
}

int vu_sha256_update(struct vu_sha256_ctx *c, const void *data, size_t len)
{
	if (!c || (!data && len))
		return -EINVAL;
	if (len && EVP_DigestUpdate(c->md, data, len) != 1)
		return ossl_fail("EVP_DigestUpdate(sha256)");
	return 0;
}

int vu_sha256_final(struct vu_sha256_ctx *c, uint8_t out[32])
{
	unsigned int outl = 0;

	if (!c || !out)
		return -EINVAL;
	if (EVP_DigestFinal_ex(c->md, out, &outl) != 1 || outl != 32)
		return ossl_fail("EVP_DigestFinal_ex(sha256)");
	return 0;
}

void vu_sha256_free(struct vu_sha256_ctx *c)
{
	if (!c)
		return;
	EVP_MD_CTX_free(c->md);
	free(c);
}

/* ---- BitLocker key stretch ---- */

/* The 88-byte structure hashed in every round (libyal libbde format notes,
 * "Password/recovery key stretching"): last SHA-256, initial SHA-256, salt,
 * 64-bit little-endian round counter. */
#define BDE_STRETCH_ROUNDS 0x100000u

int vu_bde_stretch(const uint8_t init[32], const uint8_t salt[16],
		   uint8_t out[32])
{
	uint8_t st[88];
	SHA256_CTX c;
	int err = 0;

	if (!init || !salt || !out)
		return -EINVAL;
	memset(st, 0, 32);
	memcpy(st + 32, init, 32);
	memcpy(st + 64, salt, 16);
	/* The low-level SHA-256 interface (deprecated but present in 3.x) is
	 * about 3 times faster here than EVP_Digest* with a reused context,
	 * whose per-round dispatch dominates a 2-block message. */
	for (uint64_t i = 0; i < BDE_STRETCH_ROUNDS; i++) {
		vu_put_le64(st + 80, i);
		if (SHA256_Init(&c) != 1 || SHA256_Update(&c, st, 88) != 1 ||
		    SHA256_Final(st, &c) != 1) {
			err = ossl_fail("SHA256");
			goto out;
		}
	}
	memcpy(out, st, 32);
out:
	OPENSSL_cleanse(st, sizeof(st));
	OPENSSL_cleanse(&c, sizeof(c));
	return err;
}

/* ---- AES-CCM (BitLocker key unwrapping) ---- */

static const EVP_CIPHER *aes_ccm(size_t key_len)
{
	switch (key_len) {
	case 16:
		return EVP_aes_128_ccm();
	case 24:
		return EVP_aes_192_ccm();
	case 32:
		return EVP_aes_256_ccm();
	default:
		return NULL;
	}
}

/* CCM with a 12-byte nonce (so L = 3: at most 2^24 - 1 bytes), a 16-byte
 * tag and no associated data (NIST SP 800-38C). */
#define CCM_MAX_LEN 0xffffffu

/* The steps both directions share: cipher, nonce and tag lengths, key and
 * nonce, then the message length, which CCM needs before any data.  tag is
 * the expected tag when decrypting, NULL when encrypting. */
static int ccm_start(EVP_CIPHER_CTX *ctx, int enc, const EVP_CIPHER *cipher,
		     const uint8_t *key, const uint8_t nonce[12], uint8_t *tag,
		     size_t len)
{
	int outl;

	if (EVP_CipherInit_ex(ctx, cipher, NULL, NULL, NULL, enc) != 1)
		return ossl_fail("EVP_CipherInit_ex(ccm)");
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_TAG, 16, tag) != 1)
		return ossl_fail("EVP_CIPHER_CTX_ctrl(ccm)");
	if (EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
		return ossl_fail("EVP_CipherInit_ex(ccm key)");
	if (EVP_CipherUpdate(ctx, NULL, &outl, NULL, (int)len) != 1)
		return ossl_fail("EVP_CipherUpdate(ccm length)");
	return 0;
}

static int ccm_args_ok(const EVP_CIPHER *cipher, const uint8_t *key,
		       const uint8_t *nonce, const uint8_t *tag,
		       const uint8_t *in, size_t len, const uint8_t *out)
{
	return cipher && key && nonce && tag && len <= CCM_MAX_LEN &&
	       (!len || (in && out));
}

/* The data pass of decryption.  For CCM the tag is checked by this call:
 * failing here means the key is wrong or the data damaged, which the caller
 * expects for all but one of the keys it tries: no message, no queued
 * error.  t holds the expected tag. */
static int ccm_open(EVP_CIPHER_CTX *ctx, const uint8_t *in, size_t len,
		    uint8_t t[16], uint8_t *out)
{
	int outl;

	if (EVP_DecryptUpdate(ctx, len ? out : t, &outl, len ? in : t,
			      (int)len) != 1) {
		ERR_clear_error();
		return -EPERM;
	}
	return 0;
}

/* The data pass of encryption, then the tag into tag; t is scratch. */
static int ccm_seal(EVP_CIPHER_CTX *ctx, const uint8_t *in, size_t len,
		    uint8_t t[16], uint8_t *tag, uint8_t *out)
{
	int outl;

	if (EVP_EncryptUpdate(ctx, len ? out : t, &outl, len ? in : t,
			      (int)len) != 1)
		return ossl_fail("EVP_EncryptUpdate(ccm)");
	if (EVP_EncryptFinal_ex(ctx, t, &outl) != 1)
		return ossl_fail("EVP_EncryptFinal_ex(ccm)");
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_GET_TAG, 16, tag) != 1)
		return ossl_fail("EVP_CIPHER_CTX_ctrl(ccm get tag)");
	return 0;
}

/* One CCM call in either direction: want is the expected tag when
 * decrypting (got NULL), got receives the tag when encrypting (want NULL).
 * On failure out is wiped, so no unauthenticated plaintext is left. */
static int ccm_crypt(const uint8_t *key, size_t key_len,
		     const uint8_t nonce[12], const uint8_t *in, size_t len,
		     const uint8_t *want, uint8_t *got, uint8_t *out)
{
	const EVP_CIPHER *cipher = aes_ccm(key_len);
	EVP_CIPHER_CTX *ctx;
	uint8_t t[16];
	int err;

	if (!ccm_args_ok(cipher, key, nonce, want ? want : got, in, len, out))
		return -EINVAL;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (want)
		memcpy(t, want, 16); /* SET_TAG takes a non-const pointer */
	err = ccm_start(ctx, !want, cipher, key, nonce, want ? t : NULL, len);
	if (!err)
		err = want ? ccm_open(ctx, in, len, t, out)
			   : ccm_seal(ctx, in, len, t, got, out);
	if (err && len)
		OPENSSL_cleanse(out, len);
	OPENSSL_cleanse(t, sizeof(t));
	EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
	return err;
}

int vu_aes_ccm_decrypt(const uint8_t *key, size_t key_len,
		       const uint8_t nonce[12], const uint8_t *in, size_t len,
		       const uint8_t tag[16], uint8_t *out)
{
	return ccm_crypt(key, key_len, nonce, in, len, tag, NULL, out);
}

int vu_aes_ccm_encrypt(const uint8_t *key, size_t key_len,
		       const uint8_t nonce[12], const uint8_t *in, size_t len,
		       uint8_t tag[16], uint8_t *out)
{
	return ccm_crypt(key, key_len, nonce, in, len, NULL, tag, out);
}

/* ---- raw AES for the sector ciphers ---- */

struct vu_aes {
	EVP_CIPHER_CTX *ctx;
	enum vu_aes_mode mode;
};

static const EVP_CIPHER *aes_raw(enum vu_aes_mode mode, size_t key_len)
{
	switch (mode) {
	case VU_AES_ECB:
		return key_len == 16   ? EVP_aes_128_ecb()
		       : key_len == 24 ? EVP_aes_192_ecb()
		       : key_len == 32 ? EVP_aes_256_ecb()
				       : NULL;
	case VU_AES_CBC:
		return key_len == 16   ? EVP_aes_128_cbc()
		       : key_len == 24 ? EVP_aes_192_cbc()
		       : key_len == 32 ? EVP_aes_256_cbc()
				       : NULL;
	case VU_AES_XTS:
		return key_len == 32   ? EVP_aes_128_xts()
		       : key_len == 64 ? EVP_aes_256_xts()
				       : NULL;
	}
	return NULL;
}

int vu_aes_new(enum vu_aes_mode mode, int encrypt, const uint8_t *key,
	       size_t key_len, struct vu_aes **out)
{
	const EVP_CIPHER *cipher;
	struct vu_aes *a;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	cipher = aes_raw(mode, key_len);
	if (!cipher || !key)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->mode = mode;
	a->ctx = EVP_CIPHER_CTX_new();
	if (!a->ctx) {
		free(a);
		return -ENOMEM;
	}
	if (EVP_CipherInit_ex(a->ctx, cipher, NULL, key, NULL,
			      encrypt ? 1 : 0) != 1) {
		err = ossl_fail(encrypt ? "EVP_EncryptInit_ex"
					: "EVP_DecryptInit_ex");
		goto fail;
	}
	if (EVP_CIPHER_CTX_set_padding(a->ctx, 0) != 1) {
		err = ossl_fail("EVP_CIPHER_CTX_set_padding");
		goto fail;
	}
	*out = a;
	return 0;
fail:
	vu_aes_free(a);
	return err;
}

int vu_aes_run(struct vu_aes *a, const uint8_t *iv, const uint8_t *in,
	       uint8_t *out, size_t len)
{
	int outl;

	if (!a || (len && (!in || !out)) || len % 16 ||
	    (a->mode != VU_AES_ECB && !iv))
		return -EINVAL;
	if (!len)
		return 0;
	if (a->mode == VU_AES_XTS && len > (1u << 24))
		return -EINVAL; /* one data unit: at most 2^20 blocks */
	/* Only the IV changes: the key schedule stays in the context. */
	if (a->mode != VU_AES_ECB &&
	    EVP_CipherInit_ex2(a->ctx, NULL, NULL, iv, -1, NULL) != 1)
		return ossl_fail("EVP_CipherInit_ex2(iv)");
	while (len) {
		int n = len > (1u << 30) ? 1 << 30 : (int)len;

		if (EVP_CipherUpdate(a->ctx, out, &outl, in, n) != 1 ||
		    outl != n)
			return ossl_fail("EVP_CipherUpdate");
		in += n;
		out += n;
		len -= (size_t)n;
	}
	return 0;
}

void vu_aes_free(struct vu_aes *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->ctx); /* cleanses the key schedule */
	free(a);
}

/* ---- public keys ---- */

struct vu_cert_key {
	X509 *cert;
	EVP_PKEY *key;
};

/* Read every PEM object of path: the first certificate and the first
 * private key, whichever comes first. */
int vu_cert_key_load(const char *path, struct vu_cert_key **out)
{
	struct vu_cert_key *ck;
	STACK_OF(X509_INFO) *infos = NULL;
	BIO *bio;
	int r = 0;

	*out = NULL;
	bio = BIO_new_file(path, "r");
	if (!bio) {
		ERR_clear_error();
		return vu_fail(-ENOENT, "%s: cannot open the certificate file",
			       path);
	}
	infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ck = calloc(1, sizeof(*ck));
	if (!ck) {
		sk_X509_INFO_pop_free(infos, X509_INFO_free);
		return vu_fail(-ENOMEM, "out of memory");
	}
	for (int i = 0; infos && i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *xi = sk_X509_INFO_value(infos, i);
		if (xi->x509 && !ck->cert && X509_up_ref(xi->x509) == 1)
			ck->cert = xi->x509;
		if (xi->x_pkey && xi->x_pkey->dec_pkey && !ck->key &&
		    EVP_PKEY_up_ref(xi->x_pkey->dec_pkey) == 1)
			ck->key = xi->x_pkey->dec_pkey;
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	ERR_clear_error();
	if (!ck->cert)
		r = vu_fail(-EINVAL, "%s: no certificate in the file (a PEM "
			    "with the certificate and its private key is "
			    "expected)", path);
	else if (!ck->key)
		r = vu_fail(-EINVAL, "%s: no private key in the file (a PEM "
			    "with the certificate and its private key is "
			    "expected)", path);
	else if (EVP_PKEY_get_base_id(ck->key) != EVP_PKEY_RSA)
		r = vu_fail(-EINVAL, "%s: the private key is not an RSA key",
			    path);
	else if (X509_check_private_key(ck->cert, ck->key) != 1)
		r = vu_fail(-EINVAL, "%s: the private key does not belong to "
			    "the certificate", path);
	ERR_clear_error();
	if (r < 0) {
		vu_cert_key_free(ck);
		return r;
	}
	*out = ck;
	return 0;
}

int vu_cert_key_thumbprint(const struct vu_cert_key *ck, int sha256,
			   uint8_t out[32], size_t *len)
{
	unsigned int n = 0;

	if (X509_digest(ck->cert, sha256 ? EVP_sha256() : EVP_sha1(), out,
			&n) != 1)
		return ossl_fail("certificate thumbprint");
	*len = n;
	return 0;
}

int vu_cert_key_sign(const struct vu_cert_key *ck, enum vu_sig_alg alg,
		     const void *msg, size_t len, uint8_t **sig,
		     size_t *siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t n = 0;
	uint8_t *s = NULL;
	int r = -EIO;

	*sig = NULL;
	*siglen = 0;
	if (!md)
		return vu_fail(-ENOMEM, "out of memory");
	if (EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, ck->key) != 1) {
		r = ossl_fail("signature init");
		goto out;
	}
	if (alg == VU_SIG_PS256 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1 ||
	     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1)) {
		r = ossl_fail("RSA-PSS parameters");
		goto out;
	}
	if (EVP_DigestSign(md, NULL, &n, msg, len) != 1) {
		r = ossl_fail("signature size");
		goto out;
	}
	s = malloc(n);
	if (!s) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestSign(md, s, &n, msg, len) != 1) {
		r = ossl_fail("signature");
		free(s);
		goto out;
	}
	*sig = s;
	*siglen = n;
	r = 0;
out:
	EVP_MD_CTX_free(md);
	return r;
}

void vu_cert_key_free(struct vu_cert_key *ck)
{
	if (!ck)
		return;
	X509_free(ck->cert);
	EVP_PKEY_free(ck->key);
	free(ck);
}

/* The OAEP digest and padding Key Vault's algorithm name stands for. */
static int unwrap_params(const char *alg, int *padding, const EVP_MD **md)
{
	*md = NULL;
	if (!strcmp(alg, "RSA-OAEP")) {
		*padding = RSA_PKCS1_OAEP_PADDING;
		*md = EVP_sha1();
	} else if (!strcmp(alg, "RSA-OAEP-256")) {
		*padding = RSA_PKCS1_OAEP_PADDING;
		*md = EVP_sha256();
	} else if (!strcmp(alg, "RSA1_5")) {
		*padding = RSA_PKCS1_PADDING;
	} else {
		return vu_fail(-EINVAL, "key-encryption algorithm '%s' is not "
			       "one of RSA-OAEP, RSA-OAEP-256, RSA1_5", alg);
	}
	return 0;
}

int vu_rsa_unwrap_pem(const char *pem_path, const char *alg,
		      const uint8_t *in, size_t inlen, uint8_t **out,
		      size_t *outlen)
{
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	const EVP_MD *md;
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;
	int padding = RSA_PKCS1_OAEP_PADDING, r;
	BIO *bio;

	*out = NULL;
	*outlen = 0;
	r = unwrap_params(alg, &padding, &md);
	if (r < 0)
		return r;
	bio = BIO_new_file(pem_path, "r");
	if (!bio) {
		ERR_clear_error();
		return vu_fail(-ENOENT, "%s: cannot open the key file",
			       pem_path);
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		ERR_clear_error();
		EVP_PKEY_free(key);
		return vu_fail(-EINVAL, "%s: no RSA private key in the file "
			       "(PEM expected)", pem_path);
	}
	ctx = EVP_PKEY_CTX_new(key, NULL);
	if (!ctx || EVP_PKEY_decrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, padding) != 1 ||
	    (md && (EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) != 1)) ||
	    EVP_PKEY_decrypt(ctx, NULL, &cap, in, inlen) != 1) {
		r = ossl_fail("RSA decryption setup");
		goto out;
	}
	buf = vu_secret_alloc(cap + 1);
	if (!buf) {
		r = vu_fail(-ENOMEM, "out of memory");
		goto out;
	}
	n = cap;
	if (EVP_PKEY_decrypt(ctx, buf, &n, in, inlen) != 1) {
		ERR_clear_error();
		r = vu_fail(-EPERM, "%s: %s decryption failed (not the "
			    "key-encryption key this secret was wrapped with?)",
			    pem_path, alg);
		goto out;
	}
	/* the caller frees outlen + 1 bytes: move into a buffer that size */
	if (n != cap) {
		uint8_t *exact = vu_secret_alloc(n + 1);
		if (!exact) {
			r = vu_fail(-ENOMEM, "out of memory");
			goto out;
		}
		memcpy(exact, buf, n);
		vu_secret_free(buf, cap + 1);
		buf = exact;
		cap = n;
	}
	*out = buf; /* transferred */
	*outlen = n;
	buf = NULL;
	r = 0;
out:
	vu_secret_free(buf, cap + 1);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	return r;
}
