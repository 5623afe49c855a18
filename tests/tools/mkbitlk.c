/*
 * mkbitlk: test-only BitLocker writer (never installed).
 *
 * Turns a plain NTFS image into a BitLocker volume laid out as Windows 10
 * writes one (Windows 7 and later format, FVE metadata version 2), so that
 * tests can build whole encrypted disks with files in them.  It is a test
 * oracle for the project's reader, so it shares no code with src/crypto or
 * src/bitlocker: the ciphers come straight from OpenSSL.  The integration test
 * tests/integration/bitlocker-writer.sh proves its output against dislocker,
 * libbde and cryptsetup before any other test relies on it.
 *
 *   mkbitlk --method xts-128|xts-256|cbc-128 --bek-dir DIR
 *           --recovery-password-file FILE [--clear-key] [--partial BYTES]
 *           [--description TEXT] IN.ntfs OUT.img
 *
 * What it writes:
 * - sector 0: the BitLocker volume header ("-FVE-FS-", a FAT32-like BPB with
 *   the NTFS geometry, the BitLocker GUID and the three FVE metadata offsets
 *   at 160..199);
 * - three identical 64 KiB FVE metadata blocks (block header version 2,
 *   metadata header, entries, CRC-32 and AES-CCM SHA-256 validation), left
 *   unencrypted, in stretches of the NTFS image that hold only zeros (a
 *   reader shows them as zeros, so the decrypted volume equals the input);
 * - the volume header copy: the first 8 KiB of the NTFS image, encrypted
 *   with the FVEK at the 8 KiB that follow the first metadata block;
 * - every other sector encrypted with the FVEK (XTS: tweak = sector number;
 *   AES-CBC without diffuser: IV = AES-ECB(FVEK, byte offset)), or, with
 *   --partial, only those below BYTES (the rest stays as it is, and the block
 *   header records the encrypted size and "encryption paused").
 *
 * Entries: description (drive label); a recovery-password protector (stretch
 * key with salt, holding the recovery key and the stretched key encrypted
 * with the VMK, then the VMK under the stretched key); the FVEK under the
 * VMK; a startup-key protector ("ExternalKey", the external key under the VMK
 * as a "use key" property, the VMK under the external key); with --clear-key
 * a clear-key protector (the key in the clear, the VMK under it); the volume
 * header block.  The startup key goes to DIR/<GUID in upper case>.BEK in the
 * Windows 10 layout (156 bytes).
 *
 * Stdout: key=value lines (volume_guid, method, fvek, vmk, startup_key_guid,
 * bek, recovery_key_guid, recovery_password, clear_key_guid,
 * metadata_offsets, volume_header_offset, encrypted_size).
 *
 * Formats: libyal's "BitLocker Drive Encryption (BDE) format" notes, the
 * BITLK documentation of cryptsetup and dislocker's notes, checked against
 * volumes written by Windows.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/bytes.h"
#include "core/crc.h"
#include "core/guid.h"

#define FVE_BLOCK_SIZE 65536u
#define VOLUME_HEADER_SIZE 8192u
#define STRETCH_ROUNDS 0x100000u

/* entry types */
#define ET_PROPERTY 0x0000
#define ET_VMK 0x0002
#define ET_FVEK 0x0003
#define ET_STARTUP_KEY 0x0006
#define ET_DESCRIPTION 0x0007
#define ET_VOLUME_HEADER 0x000f
#define ET_RECOVERY_KEY_BACKUP 0x0012
#define ET_STRETCHED_KEY_BACKUP 0x0013
/* value types */
#define VT_KEY 0x0001
#define VT_STRING 0x0002
#define VT_STRETCH_KEY 0x0003
#define VT_USE_KEY 0x0004
#define VT_AES_CCM 0x0005
#define VT_VMK 0x0008
#define VT_EXTERNAL_KEY 0x0009
#define VT_OFFSET_SIZE 0x000f
/* protection types */
#define PROT_CLEAR 0x0000
#define PROT_STARTUP_KEY 0x0200
#define PROT_RECOVERY 0x0800
/* key methods, as Windows 10 writes them */
#define KM_STRETCH_RECOVERY 0x1000
#define KM_CLEAR 0x2000
#define KM_EXTERNAL 0x2002
#define KM_VMK 0x2003
#define KM_VALIDATION 0x2005
#define KM_STRETCHED 0x2008
/* conversion states */
#define STATE_ENCRYPTED 4
#define STATE_ENCRYPTION_PAUSED 5

static const uint8_t bitlocker_guid[16] = { 0x3b, 0xd6, 0x67, 0x49, 0x29,
	0x2e, 0xd8, 0x4a, 0x83, 0x99, 0xf6, 0xa3, 0x39, 0xe3, 0xd0, 0x01 };

static const char *prog = "mkbitlk";

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s --method xts-128|xts-256|cbc-128 --bek-dir DIR\n"
		"          --recovery-password-file FILE [--clear-key]\n"
		"          [--partial BYTES] [--description TEXT] IN.ntfs OUT.img\n",
		prog);
}

static void random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("getrandom: %s", strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
}

/* a random GUID (version 4), stored in Microsoft's mixed-endian layout */
static void random_guid(uint8_t g[16])
{
	random_bytes(g, 16);
	g[7] = (uint8_t)((g[7] & 0x0f) | 0x40); /* time_hi_and_version, LE */
	g[8] = (uint8_t)((g[8] & 0x3f) | 0x80);
}

static void guid_upper(const uint8_t g[16], char out[VU_GUID_STRLEN])
{
	vu_guid_format(g, out);
	for (char *c = out; *c; c++)
		*c = (char)toupper((unsigned char)*c);
}

static void hex(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static uint64_t filetime_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 10000000u + (uint64_t)ts.tv_nsec / 100u +
	       116444736000000000ull;
}

/* ---- OpenSSL primitives ---------------------------------------------- */

static void sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 32;
	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) || n != 32)
		die("SHA-256 failed");
}

/* AES-256-CCM with BitLocker's parameters: 12-byte nonce, 16-byte tag, no
 * associated data.  out receives tag || ciphertext, as the entry stores it. */
static void aes_ccm_encrypt(const uint8_t key[32], const uint8_t nonce[12],
			    const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0;
	if (!c || !EVP_EncryptInit_ex(c, EVP_aes_256_ccm(), NULL, NULL, NULL) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_CCM_SET_IVLEN, 12, NULL) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_CCM_SET_TAG, 16, NULL) ||
	    !EVP_EncryptInit_ex(c, NULL, NULL, key, nonce) ||
	    !EVP_EncryptUpdate(c, NULL, &n, NULL, (int)len) ||
	    !EVP_EncryptUpdate(c, out + 16, &n, in, (int)len) ||
	    !EVP_EncryptFinal_ex(c, out + 16 + n, &n) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_CCM_GET_TAG, 16, out))
		die("AES-CCM failed");
	EVP_CIPHER_CTX_free(c);
}

enum method { M_CBC128, M_XTS128, M_XTS256 };

struct sector_cipher {
	enum method m;
	EVP_CIPHER_CTX *ecb; /* CBC: the IV generator */
	EVP_CIPHER_CTX *ctx;
	const uint8_t *key;
};

static void cipher_init(struct sector_cipher *sc, enum method m,
			const uint8_t *fvek)
{
	sc->m = m;
	sc->key = fvek;
	sc->ctx = EVP_CIPHER_CTX_new();
	sc->ecb = NULL;
	if (!sc->ctx)
		die("out of memory");
	if (m == M_CBC128) {
		sc->ecb = EVP_CIPHER_CTX_new();
		if (!sc->ecb ||
		    !EVP_EncryptInit_ex(sc->ecb, EVP_aes_128_ecb(), NULL, fvek,
					NULL))
			die("AES-ECB init failed");
		EVP_CIPHER_CTX_set_padding(sc->ecb, 0);
	}
}

static void cipher_free(struct sector_cipher *sc)
{
	EVP_CIPHER_CTX_free(sc->ctx);
	EVP_CIPHER_CTX_free(sc->ecb);
}

/* encrypt one sector that lives at byte offset OFF of the volume */
static void encrypt_sector(struct sector_cipher *sc, uint64_t off,
			   uint32_t ss, const uint8_t *in, uint8_t *out)
{
	uint8_t iv[16] = { 0 };
	const EVP_CIPHER *ciph;
	int n = 0;

	if (sc->m == M_CBC128) {
		uint8_t le[16] = { 0 };
		vu_put_le64(le, off);
		if (!EVP_EncryptUpdate(sc->ecb, iv, &n, le, 16) || n != 16)
			die("AES-ECB failed");
		ciph = EVP_aes_128_cbc();
	} else {
		vu_put_le64(iv, off / ss);
		ciph = sc->m == M_XTS128 ? EVP_aes_128_xts() : EVP_aes_256_xts();
	}
	if (!EVP_EncryptInit_ex(sc->ctx, ciph, NULL, sc->key, iv))
		die("sector cipher init failed");
	EVP_CIPHER_CTX_set_padding(sc->ctx, 0);
	if (!EVP_EncryptUpdate(sc->ctx, out, &n, in, (int)ss) ||
	    (uint32_t)n != ss || !EVP_EncryptFinal_ex(sc->ctx, out + n, &n))
		die("sector encryption failed");
}

/* ---- metadata entries -------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static uint8_t *buf_grow(struct buf *b, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			die("out of memory");
		b->cap = cap;
	}
	uint8_t *at = b->p + b->len;
	memset(at, 0, n);
	b->len += n;
	return at;
}

static void buf_put(struct buf *b, const void *data, size_t n)
{
	memcpy(buf_grow(b, n), data, n);
}

static void buf_le16(struct buf *b, uint16_t v) { vu_put_le16(buf_grow(b, 2), v); }
static void buf_le32(struct buf *b, uint32_t v) { vu_put_le32(buf_grow(b, 4), v); }
static void buf_le64(struct buf *b, uint64_t v) { vu_put_le64(buf_grow(b, 8), v); }

/* begin an entry (size filled in by entry_end); returns its start */
static size_t entry_begin(struct buf *b, uint16_t type, uint16_t vtype)
{
	size_t at = b->len;
	buf_le16(b, 0);
	buf_le16(b, type);
	buf_le16(b, vtype);
	buf_le16(b, 1); /* version */
	return at;
}

static void entry_end(struct buf *b, size_t at)
{
	size_t size = b->len - at;
	if (size > 0xffff)
		die("metadata entry too large");
	vu_put_le16(b->p + at, (uint16_t)size);
}

static void put_string(struct buf *b, uint16_t type, const char *s)
{
	size_t at = entry_begin(b, type, VT_STRING);
	/* ASCII to UTF-16LE, with the terminating NUL */
	for (const char *c = s;; c++) {
		buf_le16(b, (uint8_t)*c);
		if (!*c)
			break;
	}
	entry_end(b, at);
}

static void put_key(struct buf *b, uint16_t type, uint32_t method,
		    const uint8_t *key, size_t len)
{
	size_t at = entry_begin(b, type, VT_KEY);
	buf_le32(b, method);
	buf_put(b, key, len);
	entry_end(b, at);
}

struct nonces {
	uint64_t time;
	uint32_t next;
};

/* an AES-CCM entry holding a key entry (method + key) encrypted with WRAP */
static void put_wrapped_key(struct buf *b, uint16_t type, struct nonces *nc,
			    const uint8_t wrap[32], uint32_t method,
			    const uint8_t *key, size_t len)
{
	struct buf plain = { 0 };
	uint8_t nonce[12];

	put_key(&plain, ET_PROPERTY, method, key, len);
	vu_put_le64(nonce, nc->time);
	vu_put_le32(nonce + 8, nc->next++);

	size_t at = entry_begin(b, type, VT_AES_CCM);
	buf_put(b, nonce, 12);
	aes_ccm_encrypt(wrap, nonce, plain.p, plain.len,
			buf_grow(b, 16 + plain.len));
	entry_end(b, at);
	free(plain.p);
}

static size_t vmk_begin(struct buf *b, const uint8_t guid[16], uint64_t time,
			uint16_t protection)
{
	size_t at = entry_begin(b, ET_VMK, VT_VMK);
	buf_put(b, guid, 16);
	buf_le64(b, time);
	buf_le16(b, 0);
	buf_le16(b, protection);
	return at;
}

/* BitLocker's key stretch: SHA-256 over {last, initial, salt, count} */
static void stretch(const uint8_t initial[32], const uint8_t salt[16],
		    uint8_t out[32])
{
	uint8_t st[32 + 32 + 16 + 8] = { 0 };
	memcpy(st + 32, initial, 32);
	memcpy(st + 64, salt, 16);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md)
		die("out of memory");
	for (uint64_t i = 0; i < STRETCH_ROUNDS; i++) {
		vu_put_le64(st + 80, i);
		unsigned int n = 32;
		if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
		    !EVP_DigestUpdate(md, st, sizeof(st)) ||
		    !EVP_DigestFinal_ex(md, st, &n))
			die("SHA-256 failed");
	}
	EVP_MD_CTX_free(md);
	memcpy(out, st, 32);
}

/* ---- placement --------------------------------------------------------- */

static int in_fd, out_fd;

static void pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("read at %" PRIu64 ": %s", off,
			    n < 0 ? strerror(errno) : "unexpected end of file");
		p += n, off += (uint64_t)n, len -= (size_t)n;
	}
}

static void pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write at %" PRIu64 ": %s", off, strerror(errno));
		p += n, off += (uint64_t)n, len -= (size_t)n;
	}
}

static bool all_zero(uint64_t off, size_t len)
{
	static uint8_t tmp[FVE_BLOCK_SIZE + VOLUME_HEADER_SIZE];
	pread_all(in_fd, tmp, len, off);
	for (size_t i = 0; i < len; i++)
		if (tmp[i])
			return false;
	return true;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* A 64 KiB-aligned stretch of LEN bytes that holds only zeros in the input,
 * searched from TARGET upwards and then from the start, clear of the boot
 * region and of the regions chosen so far. */
static uint64_t place(uint64_t size, uint64_t target, size_t len,
		      const uint64_t *taken, const uint64_t *taken_len,
		      int ntaken)
{
	uint64_t start = target / FVE_BLOCK_SIZE * FVE_BLOCK_SIZE;
	uint64_t last = (size - len) / FVE_BLOCK_SIZE * FVE_BLOCK_SIZE;
	for (int pass = 0; pass < 2; pass++) {
		uint64_t from = pass ? FVE_BLOCK_SIZE : start;
		uint64_t to = pass ? start : last + FVE_BLOCK_SIZE;
		for (uint64_t off = from; off < to && off <= last;
		     off += FVE_BLOCK_SIZE) {
			bool clash = false;
			for (int i = 0; i < ntaken; i++)
				clash |= overlaps(off, len, taken[i],
						  taken_len[i]);
			if (!clash && all_zero(off, len))
				return off;
		}
	}
	die("no free (all-zero) 64 KiB-aligned stretch of %zu bytes for the "
	    "FVE metadata; use a larger or emptier NTFS image", len);
	return 0;
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
	const char *method_name = NULL, *bek_dir = NULL, *rp_file = NULL;
	const char *description = NULL;
	bool clear_key = false;
	uint64_t partial = 0;
	static const struct option opts[] = {
		{ "method", required_argument, NULL, 'm' },
		{ "bek-dir", required_argument, NULL, 'b' },
		{ "recovery-password-file", required_argument, NULL, 'r' },
		{ "clear-key", no_argument, NULL, 'c' },
		{ "partial", required_argument, NULL, 'p' },
		{ "description", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'm': method_name = optarg; break;
		case 'b': bek_dir = optarg; break;
		case 'r': rp_file = optarg; break;
		case 'c': clear_key = true; break;
		case 'd': description = optarg; break;
		case 'p': {
			char *end;
			errno = 0;
			partial = strtoull(optarg, &end, 0);
			if (errno || *end || !partial)
				die("bad --partial value: %s", optarg);
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 2 || !method_name || !bek_dir || !rp_file) {
		usage(stderr);
		return 2;
	}
	const char *in_path = argv[optind], *out_path = argv[optind + 1];

	enum method m;
	uint16_t method;
	size_t fvek_len;
	if (!strcmp(method_name, "xts-128"))
		m = M_XTS128, method = 0x8004, fvek_len = 32;
	else if (!strcmp(method_name, "xts-256"))
		m = M_XTS256, method = 0x8005, fvek_len = 64;
	else if (!strcmp(method_name, "cbc-128"))
		m = M_CBC128, method = 0x8002, fvek_len = 16;
	else
		die("unknown method %s (xts-128, xts-256 or cbc-128)",
		    method_name);

	/* ---- the input: an NTFS volume */
	in_fd = open(in_path, O_RDONLY);
	if (in_fd < 0)
		die("%s: %s", in_path, strerror(errno));
	struct stat st;
	if (fstat(in_fd, &st) < 0)
		die("%s: %s", in_path, strerror(errno));
	uint64_t size = (uint64_t)st.st_size;
	uint8_t boot[512];
	if (size < 4 * 1024 * 1024)
		die("%s: too small for BitLocker metadata", in_path);
	pread_all(in_fd, boot, sizeof(boot), 0);
	if (memcmp(boot + 3, "NTFS    ", 8) || boot[510] != 0x55 ||
	    boot[511] != 0xaa)
		die("%s: not an NTFS volume", in_path);
	uint32_t ss = vu_le16(boot + 11);
	if (ss != 512 && ss != 4096)
		die("%s: unsupported sector size %u", in_path, ss);
	if (size % ss)
		die("%s: size is not a multiple of the sector size", in_path);
	uint64_t enc_size = size;
	if (partial) {
		if (partial % ss || partial >= size)
			die("--partial must be a multiple of %u below %" PRIu64,
			    ss, size);
		enc_size = partial;
	}

	/* ---- placement: metadata near a third of the volume, as Windows
	 * puts its FVE2 files; the volume header copy follows the first
	 * block */
	uint64_t off[3], taken[3], taken_len[3];
	taken[0] = 0, taken_len[0] = VOLUME_HEADER_SIZE;
	off[0] = place(size, size / 3, FVE_BLOCK_SIZE + VOLUME_HEADER_SIZE,
		       taken, taken_len, 1);
	taken[1] = off[0], taken_len[1] = FVE_BLOCK_SIZE + VOLUME_HEADER_SIZE;
	off[1] = place(size, size / 9 * 4, FVE_BLOCK_SIZE, taken, taken_len, 2);
	taken[2] = off[1], taken_len[2] = FVE_BLOCK_SIZE;
	off[2] = place(size, size / 9 * 5, FVE_BLOCK_SIZE, taken, taken_len, 3);
	uint64_t vh_off = off[0] + FVE_BLOCK_SIZE;
	if (partial && partial < vh_off + VOLUME_HEADER_SIZE)
		die("--partial must cover the volume header copy, which ends "
		    "at %" PRIu64, vh_off + VOLUME_HEADER_SIZE);

	/* ---- keys */
	uint8_t vol_guid[16], sk_guid[16], rp_guid[16], ck_guid[16];
	uint8_t fvek[64], vmk[32], ext_key[32], clear[32], salt[16];
	uint16_t rp_parts[8];
	uint8_t rp_key[16], rp_init[32], rp_stretched[32];
	random_guid(vol_guid);
	random_guid(sk_guid);
	random_guid(rp_guid);
	random_guid(ck_guid);
	random_bytes(fvek, sizeof(fvek));
	random_bytes(vmk, sizeof(vmk));
	random_bytes(ext_key, sizeof(ext_key));
	random_bytes(clear, sizeof(clear));
	random_bytes(salt, sizeof(salt));
	random_bytes(rp_parts, sizeof(rp_parts));
	char rp_text[8 * 7];
	for (int i = 0; i < 8; i++) {
		vu_put_le16(rp_key + 2 * i, rp_parts[i]);
		snprintf(rp_text + 7 * i, 8, "%06u%s", 11u * rp_parts[i],
			 i < 7 ? "-" : "");
	}
	sha256(rp_key, sizeof(rp_key), rp_init);
	stretch(rp_init, salt, rp_stretched);

	uint64_t now = filetime_now();
	struct nonces nc = { now, 1 };

	/* ---- metadata entries, in the order Windows 10 writes them */
	struct buf e = { 0 };
	char desc[128];
	if (!description) {
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		snprintf(desc, sizeof(desc), "MKBITLK-TEST E: %d/%d/%d",
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_year + 1900);
		description = desc;
	}
	put_string(&e, ET_DESCRIPTION, description);

	/* recovery password: stretch key (salt; the recovery key and the
	 * stretched key under the VMK), then the VMK under the stretched key */
	size_t vat = vmk_begin(&e, rp_guid, now, PROT_RECOVERY);
	size_t sat = entry_begin(&e, ET_PROPERTY, VT_STRETCH_KEY);
	buf_le32(&e, KM_STRETCH_RECOVERY);
	buf_put(&e, salt, 16);
	put_wrapped_key(&e, ET_RECOVERY_KEY_BACKUP, &nc, vmk,
			KM_STRETCH_RECOVERY, rp_key, 16);
	put_wrapped_key(&e, ET_STRETCHED_KEY_BACKUP, &nc, vmk, KM_STRETCHED,
			rp_stretched, 32);
	entry_end(&e, sat);
	put_wrapped_key(&e, ET_PROPERTY, &nc, rp_stretched, KM_VMK, vmk, 32);
	entry_end(&e, vat);

	/* the FVEK under the VMK */
	put_wrapped_key(&e, ET_FVEK, &nc, vmk, method, fvek, fvek_len);

	/* startup key: name, the external key under the VMK ("use key"),
	 * the VMK under the external key */
	vat = vmk_begin(&e, sk_guid, now, PROT_STARTUP_KEY);
	put_string(&e, ET_PROPERTY, "ExternalKey");
	size_t uat = entry_begin(&e, ET_PROPERTY, VT_USE_KEY);
	buf_le32(&e, KM_EXTERNAL);
	put_wrapped_key(&e, ET_PROPERTY, &nc, vmk, KM_EXTERNAL, ext_key, 32);
	entry_end(&e, uat);
	put_wrapped_key(&e, ET_PROPERTY, &nc, ext_key, KM_VMK, vmk, 32);
	entry_end(&e, vat);

	/* protection suspended: the VMK under a key stored in the clear */
	if (clear_key) {
		vat = vmk_begin(&e, ck_guid, now, PROT_CLEAR);
		put_key(&e, ET_PROPERTY, KM_CLEAR, clear, 32);
		put_wrapped_key(&e, ET_PROPERTY, &nc, clear, KM_VMK, vmk, 32);
		entry_end(&e, vat);
	}

	/* where the original volume header lives now */
	size_t hat = entry_begin(&e, ET_VOLUME_HEADER, VT_OFFSET_SIZE);
	buf_le64(&e, vh_off);
	buf_le64(&e, VOLUME_HEADER_SIZE);
	entry_end(&e, hat);

	uint32_t validation_nonce = nc.next++;

	/* ---- the FVE metadata block */
	uint8_t *blk = calloc(1, FVE_BLOCK_SIZE);
	if (!blk)
		die("out of memory");
	uint32_t meta_size = 48 + (uint32_t)e.len;
	uint32_t used = (64 + meta_size + 15) / 16 * 16;
	if (used + 8 + 80 > FVE_BLOCK_SIZE)
		die("metadata too large");
	memcpy(blk, "-FVE-FS-", 8);
	vu_put_le16(blk + 8, (uint16_t)(used / 16));
	vu_put_le16(blk + 10, 2);
	vu_put_le16(blk + 12, partial ? STATE_ENCRYPTION_PAUSED : STATE_ENCRYPTED);
	vu_put_le16(blk + 14, STATE_ENCRYPTED);
	vu_put_le64(blk + 16, enc_size);
	vu_put_le32(blk + 24, 0); /* conversion area size */
	vu_put_le32(blk + 28, VOLUME_HEADER_SIZE / ss);
	for (int i = 0; i < 3; i++)
		vu_put_le64(blk + 32 + 8 * i, off[i]);
	vu_put_le64(blk + 56, vh_off);
	uint8_t *mh = blk + 64;
	vu_put_le32(mh, meta_size);
	vu_put_le32(mh + 4, 1);
	vu_put_le32(mh + 8, 48);
	vu_put_le32(mh + 12, meta_size);
	memcpy(mh + 16, vol_guid, 16);
	vu_put_le32(mh + 32, nc.next);
	vu_put_le16(mh + 36, method);
	vu_put_le16(mh + 38, method); /* Windows 10 repeats it */
	vu_put_le64(mh + 40, now);
	memcpy(mh + 48, e.p, e.len);

	/* validation: CRC-32 of the block so far, then its SHA-256 as a key
	 * entry under the VMK */
	uint8_t *val = blk + used;
	vu_put_le16(val, (uint16_t)(FVE_BLOCK_SIZE - used));
	vu_put_le16(val + 2, 2);
	vu_put_le32(val + 4, vu_crc32(0, blk, used));
	uint8_t digest[32];
	sha256(blk, used, digest);
	{
		struct buf v = { 0 };
		uint32_t saved = nc.next;
		nc.next = validation_nonce;
		put_wrapped_key(&v, ET_PROPERTY, &nc, vmk, KM_VALIDATION,
				digest, 32);
		nc.next = saved;
		memcpy(val + 8, v.p, v.len);
		free(v.p);
	}

	/* ---- the volume header (sector 0) */
	uint8_t *hdr = calloc(1, ss);
	if (!hdr)
		die("out of memory");
	memcpy(hdr, "\xeb\x58\x90-FVE-FS-", 11);
	vu_put_le16(hdr + 11, (uint16_t)ss);
	hdr[13] = boot[13];		/* sectors per cluster */
	hdr[21] = boot[21];		/* media descriptor */
	memcpy(hdr + 24, boot + 24, 4); /* sectors per track, heads */
	memcpy(hdr + 28, boot + 28, 4); /* hidden sectors */
	vu_put_le32(hdr + 36, 0x1fe0);
	vu_put_le16(hdr + 48, 1);
	vu_put_le16(hdr + 50, 6);
	hdr[64] = 0x80;
	hdr[66] = 0x29;
	memcpy(hdr + 71, "NO NAME    FAT32   ", 19);
	memcpy(hdr + 160, bitlocker_guid, 16);
	for (int i = 0; i < 3; i++)
		vu_put_le64(hdr + 176 + 8 * i, off[i]);
	hdr[510] = 0x55;
	hdr[511] = 0xaa;

	/* ---- the volume */
	out_fd = open(out_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (out_fd < 0)
		die("%s: %s", out_path, strerror(errno));
	if (ftruncate(out_fd, (off_t)size) < 0)
		die("%s: %s", out_path, strerror(errno));

	struct sector_cipher sc;
	cipher_init(&sc, m, fvek);
	const size_t chunk = 1024 * 1024;
	uint8_t *ib = malloc(chunk), *ob = malloc(chunk);
	if (!ib || !ob)
		die("out of memory");
	for (uint64_t pos = 0; pos < size; pos += chunk) {
		size_t n = size - pos < chunk ? (size_t)(size - pos) : chunk;
		pread_all(in_fd, ib, n, pos);
		for (size_t i = 0; i < n; i += ss) {
			uint64_t o2 = pos + i;
			if (o2 >= enc_size)
				memcpy(ob + i, ib + i, ss);
			else
				encrypt_sector(&sc, o2, ss, ib + i, ob + i);
		}
		pwrite_all(out_fd, ob, n, pos);
	}
	/* the original first 8 KiB, encrypted where they now live */
	pread_all(in_fd, ib, VOLUME_HEADER_SIZE, 0);
	for (uint32_t i = 0; i < VOLUME_HEADER_SIZE; i += ss)
		encrypt_sector(&sc, vh_off + i, ss, ib + i, ob + i);
	pwrite_all(out_fd, ob, VOLUME_HEADER_SIZE, vh_off);
	for (int i = 0; i < 3; i++)
		pwrite_all(out_fd, blk, FVE_BLOCK_SIZE, off[i]);
	pwrite_all(out_fd, hdr, ss, 0);
	if (fsync(out_fd) < 0 || close(out_fd) < 0)
		die("%s: %s", out_path, strerror(errno));
	cipher_free(&sc);

	/* ---- the startup key file, Windows 10 layout */
	char sk_text[VU_GUID_STRLEN], path[4096];
	guid_upper(sk_guid, sk_text);
	{
		struct buf k = { 0 };
		buf_le32(&k, 0); /* size, below */
		buf_le32(&k, 1);
		buf_le32(&k, 48);
		buf_le32(&k, 0);
		buf_put(&k, sk_guid, 16);
		buf_le32(&k, 1); /* next nonce counter */
		buf_le32(&k, 0); /* encryption method: none */
		buf_le64(&k, now);
		size_t at = entry_begin(&k, ET_STARTUP_KEY, VT_EXTERNAL_KEY);
		buf_put(&k, sk_guid, 16);
		buf_le64(&k, now);
		put_string(&k, ET_PROPERTY, "ExternalKey");
		put_key(&k, ET_PROPERTY, KM_EXTERNAL, ext_key, 32);
		entry_end(&k, at);
		vu_put_le32(k.p, (uint32_t)k.len);
		vu_put_le32(k.p + 12, (uint32_t)k.len);
		snprintf(path, sizeof(path), "%s/%s.BEK", bek_dir, sk_text);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			die("%s: %s", path, strerror(errno));
		pwrite_all(fd, k.p, k.len, 0);
		if (close(fd) < 0)
			die("%s: %s", path, strerror(errno));
		free(k.p);
	}
	{
		FILE *f = fopen(rp_file, "w");
		if (!f || fprintf(f, "%s\n", rp_text) < 0 || fclose(f))
			die("%s: %s", rp_file, strerror(errno));
	}

	/* ---- report */
	char g[VU_GUID_STRLEN];
	vu_guid_format(vol_guid, g);
	printf("volume_guid=%s\nmethod=%s\nsector_size=%u\nfvek=", g,
	       method_name, ss);
	hex(stdout, fvek, fvek_len);
	printf("\nvmk=");
	hex(stdout, vmk, 32);
	vu_guid_format(sk_guid, g);
	printf("\nstartup_key_guid=%s\nbek=%s\n", g, path);
	vu_guid_format(rp_guid, g);
	printf("recovery_key_guid=%s\nrecovery_password=%s\n", g, rp_text);
	if (clear_key) {
		vu_guid_format(ck_guid, g);
		printf("clear_key_guid=%s\n", g);
	}
	printf("metadata_offsets=%" PRIu64 ",%" PRIu64 ",%" PRIu64
	       "\nvolume_header_offset=%" PRIu64 "\nencrypted_size=%" PRIu64
	       "\n", off[0], off[1], off[2], vh_off, enc_size);
	free(ib);
	free(ob);
	free(blk);
	free(hdr);
	free(e.p);
	close(in_fd);
	return 0;
}
