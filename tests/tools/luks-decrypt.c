/* Test tool: open a LUKS1/LUKS2 volume image, unlock it, write the
 * decrypted volume to standard output (or print what the header holds).
 *
 *   luks-decrypt [-i] [-q] [--header FILE] [--passphrase-file FILE]
 *                [--key-file FILE] IMAGE
 *
 * -i prints the header information (one "key: value" per line) instead of
 * data; with a key, -i also unlocks and prints "unlocked-by: <keyslot>".
 * A passphrase file loses one trailing newline; a key file is used byte
 * for byte.  Exit status: 0, or the errno of the failure (EPERM, EUCLEAN,
 * ENOTSUP, ...), with "error: <message>" on stderr.  Secrets come from
 * files, never from argv. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blk.h"
#include "core/error.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "luks/luks.h"

static void sink(enum vu_log_level level, const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "%s: %s\n", level == VU_LOG_WARN ? "warning" : "info",
		msg);
}

#define SECRET_MAX (8u << 20) /* cryptsetup's key file limit */

/* A secret file, whole, into secret memory (*cap bytes); exits on error. */
static uint8_t *read_secret(const char *path, size_t *len, size_t *cap,
			    int strip_nl)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long size;
	size_t n;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    (size_t)size > SECRET_MAX || fseek(f, 0, SEEK_SET) != 0) {
		perror(path);
		exit(2);
	}
	*cap = (size_t)size + 1;
	buf = vu_secret_alloc(*cap);
	if (!buf) {
		perror(path);
		exit(2);
	}
	n = fread(buf, 1, (size_t)size, f);
	fclose(f);
	if (strip_nl && n && buf[n - 1] == '\n')
		n--;
	*len = n;
	return buf;
}

static void print_info(const struct vu_luks_info *in)
{
	printf("version: %d\n", in->version);
	printf("cipher: %s\n", in->cipher);
	printf("mode: %s\n", in->mode);
	printf("key-bits: %u\n", in->key_bits);
	printf("sector-size: %u\n", in->sector_size);
	printf("uuid: %s\n", in->uuid);
	printf("label: %s\n", in->label);
	printf("data-offset: %" PRIu64 "\n", in->data_offset);
	printf("header-size: %" PRIu64 "\n", in->header_size);
	printf("detached: %d\n", in->detached);
	printf("primary-damaged: %d\n", in->primary_damaged);
	for (size_t i = 0; i < in->nkeyslots; i++) {
		const struct vu_luks_keyslot *k = &in->keyslots[i];

		printf("keyslot: %d %s%s%s %s iterations=%u memory=%u "
		       "threads=%u\n", k->index, k->pbkdf,
		       k->hash[0] ? "-" : "", k->hash,
		       k->unbound ? "unbound" : "active",
		       k->iterations, k->memory_kb, k->threads);
	}
	printf("tokens: %d\n", in->ntokens);
	printf("reencrypt: %s\n", in->reencrypt_name);
	printf("segments: %zu\n", in->nsegments);
}

int main(int argc, char **argv)
{
	const char *image = NULL, *header = NULL, *pf = NULL, *kf = NULL;
	int info = 0, quiet = 0, r;
	struct vu_blk *vol = NULL, *hdr = NULL, *dec = NULL;
	struct vu_luks *l = NULL;
	uint8_t *secret = NULL, *buf = NULL;
	size_t slen = 0, scap = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-i"))
			info = 1;
		else if (!strcmp(argv[i], "-q"))
			quiet = 1;
		else if (!strcmp(argv[i], "--header") && i + 1 < argc)
			header = argv[++i];
		else if (!strcmp(argv[i], "--passphrase-file") && i + 1 < argc)
			pf = argv[++i];
		else if (!strcmp(argv[i], "--key-file") && i + 1 < argc)
			kf = argv[++i];
		else if (argv[i][0] != '-' && !image)
			image = argv[i];
		else {
			fprintf(stderr, "usage: luks-decrypt [-i] [-q] "
				"[--header F] [--passphrase-file F] "
				"[--key-file F] IMAGE\n");
			return 2;
		}
	}
	if (!image)
		return 2;
	vu_log_set_sink(quiet ? NULL : sink, NULL);
	vu_log_set_level(getenv("LUKS_DEBUG") ? VU_LOG_DEBUG : VU_LOG_WARN);
	if (pf)
		secret = read_secret(pf, &slen, &scap, 1);
	else if (kf)
		secret = read_secret(kf, &slen, &scap, 0);
	r = vu_file_open(image, &vol);
	if (r == 0 && header)
		r = vu_file_open(header, &hdr);
	if (r == 0)
		r = vu_luks_open(vol, hdr, &l);
	if (r < 0)
		goto out;
	if (info)
		print_info(vu_luks_info(l));
	if (!secret) {
		r = info ? 0 : vu_fail(-ENOKEY, "no key given");
		goto out;
	}
	r = pf ? vu_luks_unlock_passphrase(l, secret, slen)
	       : vu_luks_unlock_keyfile(l, secret, slen);
	if (r < 0)
		goto out;
	if (info) {
		printf("unlocked-by: %d\n", vu_luks_unlocked_by(l));
		goto out;
	}
	r = vu_luks_volume_open(l, &dec);
	if (r < 0)
		goto out;
	vu_luks_close(l);
	l = NULL;
	buf = malloc(1u << 20);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (uint64_t off = 0; off < dec->size;) {
		size_t n = dec->size - off < (1u << 20)
				   ? (size_t)(dec->size - off) : (1u << 20);

		r = vu_blk_read(dec, buf, n, off);
		if (r < 0)
			goto out;
		if (fwrite(buf, 1, n, stdout) != n) {
			r = vu_fail(-EIO, "writing stdout failed");
			goto out;
		}
		off += n;
	}
	if (fflush(stdout) != 0)
		r = vu_fail(-EIO, "writing stdout failed");
out:
	free(buf);
	vu_secret_free(secret, scap);
	vu_blk_unref(dec);
	vu_luks_close(l);
	vu_blk_unref(hdr);
	vu_blk_unref(vol);
	if (r < 0) {
		fprintf(stderr, "error: %s\n", vu_errmsg(r));
		return -r;
	}
	return 0;
}
