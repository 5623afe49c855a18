/* Test tool: open a BitLocker volume image, unlock it, write the decrypted
 * volume to standard output (or print what the parser found).
 *
 *   bde-decrypt [-i] [-q] [--bek FILE] [--recovery-password-file FILE]
 *               [--password-file FILE] [--clearkey] [--offset N] IMAGE
 *
 * -i prints the metadata (one "key: value" per line) instead of data;
 * with keys, -i also unlocks and prints "unlocked-by: <type> <guid>".
 * Exit status: 0, or the errno of the failure (EPERM, ENOKEY, ...), with
 * the message on stderr.  Secrets come from files, never from argv (other
 * users can read a process's arguments), as in vhdunlock itself. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bitlocker/bitlocker.h"
#include "core/blk.h"
#include "core/error.h"
#include "core/log.h"

static void sink(enum vu_log_level level, const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "%s: %s\n", level == VU_LOG_WARN ? "warning" : "info",
		msg);
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t got;

		if (n == cap) {
			uint8_t *nb = realloc(buf, cap ? 2 * cap : 4096);

			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
			cap = cap ? 2 * cap : 4096;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

static void print_info(const struct vu_bde_info *in)
{
	printf("variant: %s\n", in->variant);
	printf("used-space-only: %d\n", in->used_space_only);
	printf("method: %s\n", in->method_name);
	printf("method-id: 0x%04x\n", in->method);
	printf("guid: %s\n", in->volume_guid);
	printf("description: %s\n", in->description);
	printf("created: %lld\n", (long long)in->creation_time);
	printf("state: %u %s\n", in->state, in->state_name);
	printf("encrypted-size: %" PRIu64 "\n", in->encrypted_size);
	printf("volume-size: %" PRIu64 "\n", in->volume_size);
	printf("partly-encrypted: %d\n", in->partly_encrypted);
	printf("sector-size: %u\n", in->sector_size);
	printf("metadata-copy: %d\n", in->metadata_copy + 1);
	for (int i = 0; i < 3; i++)
		printf("metadata-offset: %" PRIu64 "\n",
		       in->metadata_offset[i]);
	printf("header: %" PRIu64 " %" PRIu64 "\n", in->header_offset,
	       in->header_size);
	for (size_t i = 0; i < in->nprotectors; i++)
		printf("protector: %s %s\n", in->protectors[i].guid,
		       in->protectors[i].type_name);
}

/* A password from a file, without its trailing newline; exits on error. */
static const char *read_secret(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		perror(path);
		exit(2);
	}
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	const char *bek = NULL, *rp = NULL, *pw = NULL, *image = NULL;
	int info = 0, clear = 0, quiet = 0, r;
	uint64_t offset = 0;
	struct vu_blk *file = NULL, *vol = NULL, *dec = NULL;
	struct vu_bde *b = NULL;
	uint8_t *buf = NULL;
	static char rp_buf[256], pw_buf[256];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-i"))
			info = 1;
		else if (!strcmp(argv[i], "-q"))
			quiet = 1;
		else if (!strcmp(argv[i], "--clearkey"))
			clear = 1;
		else if (!strcmp(argv[i], "--bek") && i + 1 < argc)
			bek = argv[++i];
		else if (!strcmp(argv[i], "--recovery-password-file") &&
			 i + 1 < argc)
			rp = read_secret(argv[++i], rp_buf, sizeof(rp_buf));
		else if (!strcmp(argv[i], "--password-file") && i + 1 < argc)
			pw = read_secret(argv[++i], pw_buf, sizeof(pw_buf));
		else if (!strcmp(argv[i], "--offset") && i + 1 < argc)
			offset = strtoull(argv[++i], NULL, 0);
		else if (argv[i][0] != '-' && !image)
			image = argv[i];
		else {
			fprintf(stderr, "usage: bde-decrypt [-i] [-q] [--bek F] "
				"[--recovery-password-file F] [--password-file F] "
				"[--clearkey] [--offset N] IMAGE\n");
			return 2;
		}
	}
	if (!image)
		return 2;
	vu_log_set_sink(quiet ? NULL : sink, NULL);
	vu_log_set_level(VU_LOG_WARN);
	r = vu_file_open(image, &file);
	if (r < 0)
		goto out;
	if (offset) {
		r = vu_slice_open(file, offset, file->size - offset, "vol",
				  &vol);
		file = NULL; /* transferred */
		if (r < 0)
			goto out;
	} else {
		vol = file;
		file = NULL;
	}
	r = vu_bde_open(vol, &b);
	if (r < 0)
		goto out;
	if (info)
		print_info(vu_bde_info(b));
	if (bek) {
		uint8_t *k = NULL;
		size_t n = 0;

		r = read_file(bek, &k, &n);
		if (r < 0) {
			vu_fail(r, "%s: cannot read", bek);
			goto out;
		}
		r = vu_bde_unlock_bek(b, k, n, bek);
		free(k);
	} else if (rp) {
		r = vu_bde_unlock_recovery_password(b, rp);
	} else if (pw) {
		r = vu_bde_unlock_password(b, pw);
	} else if (clear) {
		r = vu_bde_unlock_clearkey(b);
	} else if (info) {
		r = 0;
		goto out;
	} else {
		r = vu_fail(-ENOKEY, "no key given");
	}
	if (r < 0)
		goto out;
	if (info) {
		int by = vu_bde_unlocked_by(b);

		if (by >= 0)
			printf("unlocked-by: %s %s\n",
			       vu_bde_info(b)->protectors[by].type_name,
			       vu_bde_info(b)->protectors[by].guid);
		goto out;
	}
	r = vu_bde_volume_open(b, &dec);
	if (r < 0)
		goto out;
	vu_bde_close(b); /* the decrypted volume keeps what it needs */
	b = NULL;
	buf = malloc(1 << 20);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	/* odd chunk sizes on purpose: exercise unaligned reads */
	for (uint64_t off = 0; off < dec->size;) {
		size_t n = (size_t)(dec->size - off < 1000000 ? dec->size - off
							       : 1000000);

		r = vu_blk_read(dec, buf, n, off);
		if (r < 0)
			goto out;
		if (fwrite(buf, 1, n, stdout) != n) {
			r = vu_fail(-EIO, "write to stdout failed");
			goto out;
		}
		off += n;
	}
	if (fflush(stdout)) {
		r = vu_fail(-EIO, "write to stdout failed");
		goto out;
	}
out:
	if (r < 0)
		fprintf(stderr, "bde-decrypt: %s\n", vu_errmsg(r));
	free(buf);
	vu_blk_unref(dec);
	vu_bde_close(b);
	vu_blk_unref(vol);
	vu_blk_unref(file);
	return r < 0 ? -r : 0;
}
