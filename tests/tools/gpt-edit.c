/* Test-only: change one GPT entry's LBA range and recompute the entry-array
 * and header CRCs of both headers, so tests can make disks that partition
 * tools refuse to write (overlapping entries, entries past the end).
 *   gpt-edit DISK.raw SLOT FIRST_LBA LAST_LBA   (512-byte sectors) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/crc.h"

static int fix(FILE *f, uint64_t hdr_lba, unsigned slot, uint64_t first,
	       uint64_t last)
{
	uint8_t h[512], *arr;
	uint64_t arr_lba;
	uint32_t n, sz, hsz;

	if (fseeko(f, (off_t)(hdr_lba * 512), SEEK_SET) ||
	    fread(h, 1, 512, f) != 512 || memcmp(h, "EFI PART", 8))
		return fprintf(stderr, "no GPT header at LBA %llu\n",
			       (unsigned long long)hdr_lba), -1;
	hsz = vu_le32(h + 12);
	arr_lba = vu_le64(h + 72);
	n = vu_le32(h + 80);
	sz = vu_le32(h + 84);
	if (slot < 1 || slot > n || sz < 128 || hsz > 512 || n * sz > 1 << 20)
		return fprintf(stderr, "bad slot or header\n"), -1;
	arr = malloc((size_t)n * sz);
	if (fseeko(f, (off_t)(arr_lba * 512), SEEK_SET) ||
	    fread(arr, sz, n, f) != n)
		return fprintf(stderr, "cannot read entries\n"), -1;
	vu_put_le64(arr + (slot - 1) * sz + 32, first);
	vu_put_le64(arr + (slot - 1) * sz + 40, last);
	vu_put_le32(h + 88, vu_crc32(0, arr, (size_t)n * sz));
	vu_put_le32(h + 16, 0);
	vu_put_le32(h + 16, vu_crc32(0, h, hsz));
	if (fseeko(f, (off_t)(arr_lba * 512), SEEK_SET) ||
	    fwrite(arr, sz, n, f) != n ||
	    fseeko(f, (off_t)(hdr_lba * 512), SEEK_SET) ||
	    fwrite(h, 1, 512, f) != 512)
		return fprintf(stderr, "write failed\n"), -1;
	free(arr);
	return (int)(vu_le64(h + 32) & 0x7fffffff); /* alternate LBA */
}

int main(int argc, char **argv)
{
	FILE *f;
	int alt;

	if (argc != 5)
		return fprintf(stderr, "usage: gpt-edit DISK SLOT FIRST LAST\n"), 2;
	f = fopen(argv[1], "r+b");
	if (!f)
		return perror(argv[1]), 1;
	alt = fix(f, 1, (unsigned)atoi(argv[2]), strtoull(argv[3], NULL, 0),
		  strtoull(argv[4], NULL, 0));
	if (alt < 0 || fix(f, (uint64_t)alt, (unsigned)atoi(argv[2]),
			   strtoull(argv[3], NULL, 0),
			   strtoull(argv[4], NULL, 0)) < 0)
		return 1;
	return fclose(f) ? 1 : 0;
}
