/* Throughput of the sector ciphers: decrypts 1 GiB (or argv[1] MiB) in
 * 4 MiB buffers per mode and sector size, one thread, and prints MB/s;
 * also times the BitLocker key stretch.  A second argument keeps only the
 * modes whose name starts with it (and skips the stretch).  A third,
 * "narrow", keeps XTS off its AVX-512 tweak passes (crypto/xts_wide.c).
 * Not installed; run by hand:
 *	bench/bench-sector [MiB [MODE-PREFIX [narrow]]]
 * e.g. bench-sector 1024 aes-xts narrow */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "crypto/crypto.h"
#include "crypto/xts_wide.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const struct {
	enum vu_sector_mode mode;
	size_t key_len;
	const char *name;
} modes[] = {
	{VU_SECTOR_XTS_PLAIN64, 32, "aes-xts-plain64-128"},
	{VU_SECTOR_XTS_PLAIN64, 64, "aes-xts-plain64-256"},
	{VU_SECTOR_CBC_EBOIV, 16, "aes-cbc-eboiv-128"},
	{VU_SECTOR_CBC_EBOIV, 32, "aes-cbc-eboiv-256"},
	{VU_SECTOR_CBC_ELEPHANT, 32, "aes-cbc-elephant-128"},
	{VU_SECTOR_CBC_ELEPHANT, 64, "aes-cbc-elephant-256"},
	{VU_SECTOR_CBC_PLAIN64, 16, "aes-cbc-plain64-128"},
	{VU_SECTOR_CBC_ESSIV, 32, "aes-cbc-essiv-256"},
};

int main(int argc, char **argv)
{
	const size_t bufsz = 4u << 20;
	size_t total = (size_t)(argc > 1 ? atol(argv[1]) : 1024) << 20;
	uint8_t key[64], init[32] = {1}, salt[16] = {2}, out[32];
	uint8_t *buf = malloc(bufsz);
	const char *only = argc > 2 ? argv[2] : NULL;
	double t;
	int err;

	if (!buf || total < bufsz)
		return 1;
	if (argc > 3 && strcmp(argv[3], "narrow") == 0)
		vu_xts_wide_forbid(1);
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 37 + 1);
	memset(buf, 0x5a, bufsz);
	printf("%-22s %6s %10s\n", "mode", "sector", "MB/s");
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
		for (uint32_t ss = 512; ss <= 4096; ss *= 8) {
			struct vu_sector_cipher *c;
			uint64_t sector = 0;

			if (only && strncmp(modes[m].name, only, strlen(only)))
				continue;
			err = vu_sector_cipher_new(modes[m].mode, key,
						   modes[m].key_len, ss, &c);
			if (err) {
				fprintf(stderr, "%s: %s\n", modes[m].name,
					vu_errmsg(err));
				return 1;
			}
			t = now();
			for (size_t done = 0; done < total; done += bufsz) {
				err = vu_sector_decrypt(c, sector, buf,
							bufsz / ss);
				if (err) {
					fprintf(stderr, "%s: %s\n",
						modes[m].name, vu_errmsg(err));
					return 1;
				}
				sector += bufsz / ss;
			}
			t = now() - t;
			printf("%-22s %6u %10.0f\n", modes[m].name, ss,
			       (double)total / t / 1e6);
			vu_sector_cipher_free(c);
		}
	free(buf);
	if (only)
		return 0;
	t = now();
	err = vu_bde_stretch(init, salt, out);
	printf("bde stretch: %.3f s%s\n", now() - t, err ? " (failed)" : "");
	return err ? 1 : 0;
}
