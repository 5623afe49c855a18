/* Test-only: give both VHDX headers a non-zero LogGuid (as a disk that was
 * not closed cleanly has) and fix their CRC-32C, so tests can check the
 * "log is not empty" warning.  The log itself is left as it is.
 *   vhdx-setlog FILE.vhdx */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/bytes.h"
#include "core/crc.h"

int main(int argc, char **argv)
{
	static const long offs[2] = { 64 * 1024, 128 * 1024 };
	uint8_t h[4096];
	FILE *f;

	if (argc != 2)
		return fprintf(stderr, "usage: vhdx-setlog FILE\n"), 2;
	f = fopen(argv[1], "r+b");
	if (!f)
		return perror(argv[1]), 1;
	for (int i = 0; i < 2; i++) {
		if (fseek(f, offs[i], SEEK_SET) || fread(h, 1, 4096, f) != 4096 ||
		    memcmp(h, "head", 4))
			return fprintf(stderr, "no VHDX header at %ld\n", offs[i]), 1;
		for (int k = 0; k < 16; k++)
			h[48 + k] = (uint8_t)(0x11 * (k + 1));
		vu_put_le32(h + 4, 0);
		vu_put_le32(h + 4, vu_crc32c(0, h, 4096));
		if (fseek(f, offs[i], SEEK_SET) || fwrite(h, 1, 4096, f) != 4096)
			return fprintf(stderr, "write failed\n"), 1;
	}
	return fclose(f) ? 1 : 0;
}
