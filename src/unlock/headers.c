/* ADE keeps some LUKS headers apart from their data, in files of another
 * volume's file system (DESIGN.md):
 *   - the OS volume's header in luks/osluksheader on the plain boot
 *     partition of the same disk (ext2 on Ubuntu, XFS on RHEL);
 *   - headers of data disks encrypted in place by the older extension in
 *     /var/lib/azure_disk_encryption_config/azureluksheader<mapper name>
 *     on the OS root file system, readable once the OS volume is unlocked.
 * This file finds them; unlock.c tries them on the volumes they may
 * belong to.  Each volume's file system is looked at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "unlock/unlock_int.h"
#include "fs/fs.h"

#define ADE_CONFIG_DIR "/var/lib/azure_disk_encryption_config"
#define ADE_HEADER_PREFIX "azureluksheader"
/* ADE's headers are 32 MiB (LUKS2: up to the keyslot area end); a file of
 * more than 64 MiB is not a header. */
#define HEADER_MAX (64u << 20)

static int add_header(struct vu_disk *d, const struct vu_volume *v,
		      const char *path, uint8_t *data, size_t len, int os)
{
	struct vu_found_header *h;
	char name[256];
	int r;

	h = realloc(d->headers, (d->nheaders + 1) * sizeof(*h));
	if (!h) {
		free(data);
		return vu_fail(-ENOMEM, "out of memory");
	}
	d->headers = h;
	h = &d->headers[d->nheaders];
	memset(h, 0, sizeof(*h));
	snprintf(name, sizeof(name), "%s:%s", v->id, path);
	r = vu_mem_open_owned(data, len, name, &h->blk);
	if (r < 0)
		return vu_fail(r, "out of memory");
	h->name = strdup(name);
	if (!h->name) {
		vu_blk_unref(h->blk);
		return vu_fail(-ENOMEM, "out of memory");
	}
	h->image = v->image;
	h->os_header = os;
	d->nheaders++;
	vu_log(VU_LOG_INFO, "%s: a detached LUKS header (ADE layout)", name);
	return 0;
}

/* Read path if it is there; a file that cannot be read is a warning. */
static int take_file(struct vu_disk *d, const struct vu_volume *v,
		     struct vu_fs *fs, const char *path, int os)
{
	uint8_t *data;
	size_t len;
	int r = vu_fs_read_file(fs, path, HEADER_MAX, &data, &len);

	if (r == -ENOENT || r == -ENOTDIR) {
		vu_err_clear();
		return 0;
	}
	if (r < 0) {
		if (r == -ENOMEM)
			return r;
		vu_log(VU_LOG_WARN, "%s:%s: %s", v->id, path, vu_errmsg(r));
		vu_err_clear();
		return 0;
	}
	return add_header(d, v, path, data, len, os);
}

struct dir_ctx {
	char names[16][128];
	size_t n;
};

static int collect(void *ctx, const char *name, const struct vu_fs_stat *st)
{
	struct dir_ctx *c = ctx;

	if (strncmp(name, ADE_HEADER_PREFIX, strlen(ADE_HEADER_PREFIX)) ||
	    (st->mode & 0170000) != 0100000 || c->n == 16 ||
	    strlen(name) >= sizeof(c->names[0]))
		return 0;
	snprintf(c->names[c->n++], sizeof(c->names[0]), "%s", name);
	return 0;
}

static int scan(struct vu_disk *d, struct vu_volume *v)
{
	static const char *const os_paths[] = {
		"/luks/osluksheader",	   /* a separate /boot partition */
		"/boot/luks/osluksheader", /* /boot inside the root */
	};
	struct dir_ctx dir = { .n = 0 };
	struct vu_fs *fs;
	uint64_t ino;
	int r;

	r = vu_fs_open(v->blk, vu_volume_content(v)->kind, &fs);
	if (r < 0) {
		vu_log(VU_LOG_INFO, "%s: file system not read: %s", v->id,
		       vu_errmsg(r));
		vu_err_clear();
		return r == -ENOMEM ? r : 0;
	}
	for (size_t i = 0; i < sizeof(os_paths) / sizeof(os_paths[0]); i++) {
		r = take_file(d, v, fs, os_paths[i], 1);
		if (r < 0)
			goto out;
	}
	r = vu_fs_lookup_path(fs, ADE_CONFIG_DIR, &ino);
	if (r < 0) {
		vu_err_clear();
		r = 0;
		goto out;
	}
	r = vu_fs_readdir(fs, ino, collect, &dir);
	if (r < 0) {
		vu_log(VU_LOG_WARN, "%s:%s: %s", v->id, ADE_CONFIG_DIR,
		       vu_errmsg(r));
		vu_err_clear();
		r = 0;
	}
	for (size_t i = 0; i < dir.n && r == 0; i++) {
		char path[sizeof(ADE_CONFIG_DIR) + 1 + sizeof(dir.names[0])];

		snprintf(path, sizeof(path), "%s/%s", ADE_CONFIG_DIR,
			 dir.names[i]);
		r = take_file(d, v, fs, path, 0);
	}
out:
	vu_fs_close(fs);
	return r;
}

int unlock_find_headers(struct vu_disk *d, int *found)
{
	size_t before = d->nheaders;

	for (size_t i = 0; i < d->nvolumes; i++) {
		struct vu_volume *v = &d->volumes[i];
		int r;

		if (v->fs_scanned || v->error ||
		    (vu_volume_encrypted(v) && !v->unlocked) ||
		    !vu_fs_supported(vu_volume_content(v)->kind))
			continue;
		v->fs_scanned = 1;
		r = scan(d, v);
		if (r < 0)
			return r;
	}
	*found = d->nheaders > before;
	return 0;
}
