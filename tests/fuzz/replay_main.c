/* Replay driver for fuzz targets built without libFuzzer: runs the target
 * over every file named on the command line (directories are walked one
 * level deep), then over deterministic mutations of each (truncations, bit
 * flips, zeroed and 0xff-filled blocks), so make check exercises the same
 * code paths the fuzzer does. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long runs;

static void run(const uint8_t *d, size_t n)
{
	LLVMFuzzerTestOneInput(d, n);
	runs++;
}

static void mutate_and_run(const uint8_t *d, size_t n)
{
	uint8_t *m = malloc(n + 4096);
	uint32_t seed = 2463534242u;

	if (!m)
		abort();
	run(d, n);
	for (size_t cut = 0; cut < n; cut = cut * 2 + 1)
		run(d, cut);
	for (int i = 0; i < 200 && n; i++) {
		memcpy(m, d, n);
		for (int k = 0; k < 1 + i % 8; k++) {
			seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
			size_t pos = seed % n;
			if (i % 3 == 0)
				m[pos] ^= (uint8_t)(1u << (seed >> 24 & 7));
			else if (i % 3 == 1)
				m[pos] = (uint8_t)(seed >> 8);
			else
				memset(m + pos, i & 1 ? 0xff : 0,
				       n - pos < 16 ? n - pos : 16);
		}
		run(m, n);
	}
	memcpy(m, d, n);
	memset(m + n, 0xa5, 4096);
	run(m, n + 4096);
	free(m);
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return perror(path), -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
		fclose(f);
		free(buf);
		return fprintf(stderr, "%s: read failed\n", path), -1;
	}
	fclose(f);
	mutate_and_run(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0)
			return perror(argv[i]), 1;
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i]) < 0)
				return 1;
			files++;
			continue;
		}
		DIR *dir = opendir(argv[i]);
		struct dirent *e;
		while (dir && (e = readdir(dir))) {
			char p[4096];
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", argv[i], e->d_name);
			if (run_file(p) < 0)
				return 1;
			files++;
		}
		if (dir)
			closedir(dir);
	}
	if (!files)
		return fprintf(stderr, "no corpus files given\n"), 1;
	printf("%d corpus files, %lu runs\n", files, runs);
	return 0;
}
