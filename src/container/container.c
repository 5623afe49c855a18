/* Container detection and the libvhdi-backed layer.
 *
 * libbfio note (DESIGN.md, known traps): Debian's libvhdi carries a private
 * copy of libbfio and exports its symbols, while the libfs* libraries link
 * libbfio.so.1.  We never hand libvhdi a libbfio handle of ours: it opens
 * images by path with its own copy, so no libbfio object crosses between
 * the two copies on this path. */
#include "container/container.h"

#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvhdi.h>

#include "container/vhd.h"
#include "container/vhd_format.h"
#include "core/guid.h"
#include "core/log.h"

#define MAX_CHAIN 16

const char *vu_container_format_name(enum vu_container_format f)
{
	static const char *const names[] = { "raw", "vhd", "vhdx" };
	return f <= VU_FMT_VHDX ? names[f] : "?";
}

const char *vu_container_type_name(enum vu_container_type t)
{
	static const char *const names[] = { "raw", "fixed", "dynamic",
					     "differencing" };
	return t <= VU_CT_DIFFERENCING ? names[t] : "?";
}

/* ---- libvhdi errors ---- */

static int vhdi_fail(const char *desc, libvhdi_error_t **err, int code,
		     const char *what)
{
	char msg[512] = "";

	if (err && *err) {
		libvhdi_error_sprint(*err, msg, sizeof(msg));
		libvhdi_error_free(err);
		/* libyal messages are one line per frame; keep the first. */
		msg[strcspn(msg, "\n")] = '\0';
	}
	return vu_fail(code, "%s: %s%s%s", desc, what, msg[0] ? ": " : "",
		       msg);
}

/* ---- the layer ---- */

struct vhdi_layer {
	pthread_mutex_t lock; /* libvhdi handles are not thread-safe */
	libvhdi_file_t *files[MAX_CHAIN]; /* files[0] the image, then parents */
	size_t n;
};

static int vhdi_read(struct vu_blk *b, void *buf, size_t len, uint64_t off)
{
	struct vhdi_layer *l = b->priv;
	libvhdi_error_t *err = NULL;
	ssize_t n;

	pthread_mutex_lock(&l->lock);
	n = libvhdi_file_read_buffer_at_offset(l->files[0], buf, len,
					       (off64_t)off, &err);
	pthread_mutex_unlock(&l->lock);
	if (n < 0 || (size_t)n != len) {
		char what[128];
		snprintf(what, sizeof(what), "read of %zu bytes at offset %"
			 PRIu64 " failed", len, off);
		return vhdi_fail(b->desc, &err, -EIO, what);
	}
	return 0;
}

static void vhdi_layer_free(struct vhdi_layer *l)
{
	/* children first: a child refers to its parent */
	for (size_t i = 0; i < l->n; i++) {
		libvhdi_file_close(l->files[i], NULL);
		libvhdi_file_free(&l->files[i], NULL);
	}
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static void vhdi_destroy(struct vu_blk *b)
{
	vhdi_layer_free(b->priv);
}

static const struct vu_blk_ops vhdi_ops = {
	.kind = "libvhdi",
	.read_at = vhdi_read,
	.destroy = vhdi_destroy,
};

/* ---- parent resolution ---- */

/* A parent path as written by Windows ("C:\dir\p.vhd", ".\p.vhd") turned
 * into candidates relative to the child's folder: the relative path as
 * written, then the bare file name. */
static int parent_candidates(const char *child, char *const *paths,
			     char cand[][PATH_MAX], size_t max)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	size_t n = 0;

	snprintf(tmp, sizeof(tmp), "%s", child);
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	for (size_t i = 0; paths[i] && n + 2 <= max; i++) {
		char p[PATH_MAX], *base;
		int absolute;

		snprintf(p, sizeof(p), "%s", paths[i]);
		for (char *c = p; *c; c++)
			if (*c == '\\')
				*c = '/';
		absolute = p[0] == '/' || (p[0] && p[1] == ':');
		if (!absolute) {
			const char *rel = p;
			while (!strncmp(rel, "./", 2))
				rel += 2;
			snprintf(cand[n++], PATH_MAX, "%s%s%s",
				 strcmp(dir, ".") ? dir : "",
				 strcmp(dir, ".") ? "/" : "", rel);
		}
		base = strrchr(p, '/');
		base = base ? base + 1 : p;
		if (*base)
			snprintf(cand[n++], PATH_MAX, "%s%s%s",
				 strcmp(dir, ".") ? dir : "",
				 strcmp(dir, ".") ? "/" : "", base);
	}
	return (int)n;
}

static int find_parent(const char *child, char *const *paths, char *found)
{
	char cand[20][PATH_MAX], tried[2048] = "";
	int n = parent_candidates(child, paths, cand, 20);

	for (int i = 0; i < n; i++) {
		struct stat st;
		if (stat(cand[i], &st) == 0 && S_ISREG(st.st_mode)) {
			snprintf(found, PATH_MAX, "%s", cand[i]);
			return 0;
		}
		if (!strstr(tried, cand[i])) {
			size_t l = strlen(tried);
			snprintf(tried + l, sizeof(tried) - l, "%s%s",
				 l ? ", " : "", cand[i]);
		}
	}
	if (!n)
		return vu_fail(-EUCLEAN, "%s: differencing disk names no "
			       "parent file", child);
	return vu_fail(-ENOENT, "%s: parent disk not found: looked for %s",
		       child, tried);
}

/* The parent paths libvhdi reports (VHDX locators; VHD Unicode name). */
static int vhdi_parent_paths(libvhdi_file_t *f, char **paths, size_t max)
{
	size_t size = 0;
	char *name;

	if (libvhdi_file_get_utf8_parent_filename_size(f, &size, NULL) != 1 ||
	    size < 2 || max < 1)
		return 0;
	name = malloc(size);
	if (!name)
		return vu_fail(-ENOMEM, "out of memory");
	if (libvhdi_file_get_utf8_parent_filename(f, (uint8_t *)name, size,
						  NULL) != 1) {
		free(name);
		return 0;
	}
	paths[0] = name;
	return 0;
}

/* ---- opening one image of a chain ---- */

static int probe_image(struct vu_blk *file, struct vu_image_info *im,
		       char **parent_paths, size_t max_paths)
{
	int r;

	if (vhdx_detect(file)) {
		struct vhdx_meta m;
		im->format = VU_FMT_VHDX;
		r = vhdx_check(file, &m);
		if (r < 0)
			return r;
		memcpy(im->identifier, m.data_write_guid, 16);
		im->log_not_empty = m.log_not_empty;
		return 0;
	}
	if (vhd_detect(file)) {
		struct vhd_meta m;
		im->format = VU_FMT_VHD;
		r = vhd_check(file, &m);
		if (r < 0)
			return r;
		im->type = m.disk_type == VHD_TYPE_FIXED     ? VU_CT_FIXED
			   : m.disk_type == VHD_TYPE_DYNAMIC ? VU_CT_DYNAMIC
							     : VU_CT_DIFFERENCING;
		im->virtual_size = m.current_size;
		memcpy(im->identifier, m.unique_id, 16);
		memcpy(im->parent_id, m.parent_id, 16);
		for (size_t i = 0; i < max_paths && m.parent_paths[i]; i++) {
			parent_paths[i] = m.parent_paths[i]; /* transferred */
			m.parent_paths[i] = NULL;
		}
		vhd_meta_free(&m);
		return 0;
	}
	im->format = VU_FMT_RAW;
	im->type = VU_CT_RAW;
	im->virtual_size = file->size;
	return 0;
}

static int open_vhdi(const char *path, libvhdi_file_t **out)
{
	libvhdi_error_t *err = NULL;
	libvhdi_file_t *f = NULL;

	*out = NULL;
	if (libvhdi_file_initialize(&f, &err) != 1)
		return vhdi_fail(path, &err, -ENOMEM, "libvhdi");
	if (libvhdi_file_open(f, path, libvhdi_get_access_flags_read(),
			      &err) != 1) {
		libvhdi_file_free(&f, NULL);
		return vhdi_fail(path, &err, -EUCLEAN,
				 "libvhdi cannot open the image");
	}
	*out = f;
	return 0;
}

static void free_paths(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(paths[i]);
		paths[i] = NULL;
	}
}

static void warn_log(const struct vu_image_info *im)
{
	if (im->log_not_empty)
		vu_log(VU_LOG_WARN, "%s: vhdx log is not empty: the most "
		       "recent writes to this disk may be missing (the "
		       "image was not closed cleanly; vhdunlock does not "
		       "replay the log)", im->path);
}

static int chain_push(struct vu_container_info *ci, const char *path,
		      struct vu_image_info **im)
{
	struct vu_image_info *c = realloc(ci->chain, (ci->chain_len + 1) *
						     sizeof(*c));
	if (!c)
		return vu_fail(-ENOMEM, "out of memory");
	ci->chain = c;
	*im = &c[ci->chain_len++];
	memset(*im, 0, sizeof(**im));
	(*im)->path = strdup(path);
	return (*im)->path ? 0 : vu_fail(-ENOMEM, "out of memory");
}

/* Fill in what libvhdi knows of an image we cannot read ourselves. */
static void vhdi_describe(libvhdi_file_t *f, struct vu_image_info *im,
			  uint32_t *sector_size)
{
	uint32_t disk_type = 0, bps = 0;
	size64_t media = 0;

	if (libvhdi_file_get_disk_type(f, &disk_type, NULL) == 1)
		im->type = disk_type == LIBVHDI_DISK_TYPE_FIXED
				   ? VU_CT_FIXED
			   : disk_type == LIBVHDI_DISK_TYPE_DYNAMIC
				   ? VU_CT_DYNAMIC
				   : VU_CT_DIFFERENCING;
	if (libvhdi_file_get_media_size(f, &media, NULL) == 1)
		im->virtual_size = media;
	if (im->format == VU_FMT_VHDX && im->type == VU_CT_DIFFERENCING) {
		/* libvhdi gives the GUID in text byte order; we keep GUIDs
		 * as Microsoft stores them (first three fields LE). */
		uint8_t g[16];
		if (libvhdi_file_get_parent_identifier(f, g, 16, NULL) == 1) {
			static const int order[16] = { 3, 2, 1, 0, 5, 4, 7, 6,
						       8, 9, 10, 11, 12, 13,
						       14, 15 };
			for (int i = 0; i < 16; i++)
				im->parent_id[i] = g[order[i]];
		}
	}
	if (libvhdi_file_get_bytes_per_sector(f, &bps, NULL) == 1 && bps)
		*sector_size = bps;
}

int vu_container_open(const char *path, struct vu_blk **disk,
		      struct vu_container_info *info)
{
	struct vu_container_info ci = { 0 };
	struct vhdi_layer *l = NULL;
	struct vu_blk *file = NULL;
	char *parent_paths[10] = { 0 };
	char cur[PATH_MAX];
	uint32_t sector_size = 512;
	int r;

	*disk = NULL;
	if (info)
		memset(info, 0, sizeof(*info));
	snprintf(cur, sizeof(cur), "%s", path);

	for (;;) {
		struct vu_image_info *im = NULL;
		libvhdi_file_t *f;

		r = chain_push(&ci, cur, &im);
		if (r < 0)
			goto fail;
		r = vu_file_open(cur, &file);
		if (r < 0)
			goto fail;
		r = probe_image(file, im, parent_paths, 9);
		if (r < 0)
			goto fail;
		if (ci.chain_len == 1 && im->format == VU_FMT_RAW) {
			if (file->size % 512)
				vu_log(VU_LOG_WARN, "%s: raw image size %" PRIu64
				       " is not a multiple of 512 bytes", path,
				       file->size);
			*disk = file; /* transferred */
			file = NULL;
			break;
		}
		if (ci.chain_len == 1 && im->type == VU_CT_FIXED &&
		    im->format == VU_FMT_VHD) {
			/* A fixed VHD is its data followed by a footer: read
			 * it directly, without libvhdi. */
			r = vu_slice_open(file, 0, im->virtual_size,
					  "vhd(fixed)", disk);
			file = NULL; /* transferred */
			if (r < 0)
				goto fail;
			break;
		}
		if (im->format == VU_FMT_RAW) {
			r = vu_fail(-EUCLEAN, "%s: parent of %s is not a VHD "
				    "or VHDX image", cur,
				    ci.chain[ci.chain_len - 2].path);
			goto fail;
		}
		vu_blk_unref(file);
		file = NULL;

		if (!l) {
			l = calloc(1, sizeof(*l));
			if (!l) {
				r = vu_fail(-ENOMEM, "out of memory");
				goto fail;
			}
			pthread_mutex_init(&l->lock, NULL);
		}
		r = open_vhdi(cur, &f);
		if (r < 0)
			goto fail;
		l->files[l->n++] = f;
		if (ci.chain_len == 1)
			sector_size = 512;
		{
			uint32_t ss = 512;
			vhdi_describe(f, im, &ss);
			if (ci.chain_len == 1)
				sector_size = ss;
		}
		warn_log(im);
		if (ci.chain_len > 1) {
			/* Link the child to this parent: check that it is the
			 * parent the child was made from. */
			struct vu_image_info *child = &ci.chain[ci.chain_len - 2];
			libvhdi_error_t *err = NULL;

			if (!vu_guid_is_zero(child->parent_id) &&
			    memcmp(child->parent_id, im->identifier, 16)) {
				char want[VU_GUID_STRLEN], got[VU_GUID_STRLEN];
				vu_guid_format(child->parent_id, want);
				vu_guid_format(im->identifier, got);
				r = vu_fail(-EUCLEAN, "%s: parent %s has "
					    "identifier %s, but the child expects "
					    "%s (parent modified or replaced)",
					    child->path, cur, got, want);
				goto fail;
			}
			if (libvhdi_file_set_parent_file(l->files[l->n - 2], f,
							 &err) != 1) {
				r = vhdi_fail(child->path, &err, -EUCLEAN,
					      "cannot use parent");
				goto fail;
			}
		}
		if (im->type != VU_CT_DIFFERENCING)
			break;
		if (ci.chain_len >= MAX_CHAIN) {
			r = vu_fail(-EUCLEAN, "%s: differencing chain deeper "
				    "than %d images (a loop?)", path, MAX_CHAIN);
			goto fail;
		}
		if (!parent_paths[0]) {
			r = vhdi_parent_paths(f, parent_paths, 9);
			if (r < 0)
				goto fail;
		}
		{
			char next[PATH_MAX];
			r = find_parent(cur, parent_paths, next);
			free_paths(parent_paths, 10);
			if (r < 0)
				goto fail;
			snprintf(cur, sizeof(cur), "%s", next);
		}
	}

	if (l) {
		const struct vu_image_info *top = &ci.chain[0];
		struct vu_blk *fb = NULL;

		/* The file source stays at the bottom of the description
		 * chain so errors name the image. */
		r = vu_file_open(path, &fb);
		if (r < 0)
			goto fail;
		*disk = vu_blk_new(&vhdi_ops, fb, top->virtual_size,
				   sector_size, l, "%s(%s)",
				   vu_container_format_name(top->format),
				   vu_container_type_name(top->type));
		if (!*disk) {
			r = -ENOMEM;
			goto fail;
		}
		l = NULL; /* transferred */
	}
	ci.format = ci.chain[0].format;
	ci.type = ci.chain[0].type;
	ci.virtual_size = (*disk)->size;
	ci.sector_size = (*disk)->sector_size;
	ci.physical_sector_size = ci.sector_size;
	if (info)
		*info = ci;
	else
		vu_container_info_free(&ci);
	return 0;
fail:
	free_paths(parent_paths, 10);
	vu_blk_unref(file);
	if (l)
		vhdi_layer_free(l);
	vu_blk_unref(*disk);
	*disk = NULL;
	vu_container_info_free(&ci);
	return r;
}

void vu_container_info_free(struct vu_container_info *info)
{
	for (size_t i = 0; i < info->chain_len; i++)
		free(info->chain[i].path);
	free(info->chain);
	info->chain = NULL;
	info->chain_len = 0;
}
