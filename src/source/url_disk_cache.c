/* --cache-dir: blocks fetched over the network kept on disk for later
 * commands and mounts.  One sparse data file per blob version and a map
 * of one byte per block (1: present), named by a hash of the URL without
 * its query, the ETag and the size; a key file beside them holds that
 * text and is compared at open, so a hash collision or a changed blob
 * can never serve another blob's bytes.  Files are mode 0600: they hold
 * the (encrypted) disk. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "source/url_int.h"

struct url_disk_cache {
	int data, map;
	uint64_t nblocks, size;
};

/* FNV-1a, 64 bits: names files, the key file guards against collisions */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static int open_file(const char *dir, uint64_t h, const char *ext)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/vhdunlock-%016" PRIx64 ".%s", dir, h,
		 ext);
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

/* The key file holds key exactly, or is new (empty): then write it. */
static int check_key(const char *dir, uint64_t h, const char *key)
{
	char old[2048];
	int fd = open_file(dir, h, "key");
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, old, sizeof(old) - 1, 0);
	if (n == 0) {
		size_t kl = strlen(key);
		n = pwrite(fd, key, kl, 0) == (ssize_t)kl ? 0 : -EIO;
		close(fd);
		return (int)n;
	}
	close(fd);
	if (n < 0)
		return -EIO;
	old[n] = 0;
	return strcmp(old, key) ? -EEXIST : 0;
}

int url_disk_cache_open(const char *dir, const struct url_src *u,
			struct url_disk_cache **out)
{
	struct url_disk_cache *d;
	char key[2048];
	uint64_t h;
	int r;

	*out = NULL;
	if (!u->info.etag[0] && !u->info.last_modified[0]) {
		vu_log(VU_LOG_WARN, "%s: the server names no version (ETag): "
		       "--cache-dir is not used", u->info.display);
		return 0;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return vu_fail(-EIO, "%s: cannot make the cache directory: %s",
			       dir, strerror(errno));
	snprintf(key, sizeof(key), "%s\n%s\n%s\n%" PRIu64 "\n",
		 u->info.display, u->info.etag, u->info.last_modified,
		 u->info.size);
	h = fnv1a(key);
	r = check_key(dir, h, key);
	if (r == -EEXIST) {
		vu_log(VU_LOG_WARN, "%s: cache file name taken by another "
		       "blob: --cache-dir is not used", dir);
		return 0;
	}
	if (r < 0)
		return vu_fail(-EIO, "%s: cannot use the cache directory: %s",
			       dir, strerror(-r));
	d = calloc(1, sizeof(*d));
	if (!d)
		return vu_fail(-ENOMEM, "out of memory");
	d->size = u->info.size;
	d->nblocks = (u->info.size + URL_BLOCK - 1) / URL_BLOCK;
	d->data = open_file(dir, h, "data");
	d->map = open_file(dir, h, "map");
	if (d->data < 0 || d->map < 0) {
		int e = errno;
		url_disk_cache_close(d);
		return vu_fail(-EIO, "%s: cannot open the cache files: %s",
			       dir, strerror(e));
	}
	*out = d;
	return 0;
}

int url_disk_cache_get(struct url_disk_cache *d, uint64_t idx, uint8_t *buf,
		       size_t len)
{
	uint8_t present = 0;
	size_t got = 0;

	if (idx >= d->nblocks ||
	    pread(d->map, &present, 1, (off_t)idx) != 1 || present != 1)
		return 0;
	while (got < len) {
		ssize_t n = pread(d->data, buf + got, len - got,
				  (off_t)(idx * URL_BLOCK + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		got += (size_t)n;
	}
	return 1;
}

/* Data first, then its mark: a reader never sees a mark without data. */
void url_disk_cache_put(struct url_disk_cache *d, uint64_t idx,
			const uint8_t *buf, size_t len)
{
	static const uint8_t one = 1;
	size_t put = 0;

	if (idx >= d->nblocks)
		return;
	while (put < len) {
		ssize_t n = pwrite(d->data, buf + put, len - put,
				   (off_t)(idx * URL_BLOCK + put));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a full disk only costs the cache */
		put += (size_t)n;
	}
	if (pwrite(d->map, &one, 1, (off_t)idx) != 1)
		vu_log(VU_LOG_DEBUG, "cache map: %s", strerror(errno));
}

void url_disk_cache_close(struct url_disk_cache *d)
{
	if (!d)
		return;
	if (d->data >= 0)
		close(d->data);
	if (d->map >= 0)
		close(d->map);
	free(d);
}
