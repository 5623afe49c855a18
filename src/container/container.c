/* Container detection and the chain of images behind a disk.
 *
 * Raw images pass through; a fixed VHD is a window of its file; dynamic
 * and differencing VHD and every VHDX are read by our own readers
 * (vhd_reader.c, vhdx_reader.c).  A differencing chain is opened bottom-up:
 * the parent is found and opened first (recursively), then the child's
 * layer is made holding a reference to it. */
#include "container/container.h"

#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "container/vhd.h"
#include "container/vhd_format.h"
#include "core/guid.h"
#include "core/log.h"
#include "source/source.h"

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

/* ---- opening a chain ---- */

static void warn_log(const struct vu_image_info *im)
{
	if (im->log_not_empty)
		vu_log(VU_LOG_WARN, "%s: vhdx log is not empty: the most "
		       "recent writes to this disk may be missing (the "
		       "image was not closed cleanly; vhdunlock does not "
		       "replay the log)", im->path);
}

static int chain_push(struct vu_container_info *ci, const char *path)
{
	struct vu_image_info *c = realloc(ci->chain, (ci->chain_len + 1) *
						     sizeof(*c));
	if (!c)
		return vu_fail(-ENOMEM, "out of memory");
	ci->chain = c;
	c = &c[ci->chain_len++];
	memset(c, 0, sizeof(*c));
	c->path = strdup(path);
	return c->path ? 0 : vu_fail(-ENOMEM, "out of memory");
}

/* The child at chain[idx] and its parent at chain[idx + 1]: the parent
 * must be the image the child was made from, and of the child's size. */
static int check_link(const struct vu_container_info *ci, size_t idx,
		      const struct vhdx_meta *xm, const struct vu_blk *parent)
{
	const struct vu_image_info *child = &ci->chain[idx];
	const struct vu_image_info *im = &ci->chain[idx + 1];
	int match = !memcmp(child->parent_id, im->identifier, 16);

	if (child->format == VU_FMT_VHD && vu_guid_is_zero(child->parent_id))
		match = 1; /* old writers leave it empty */
	if (child->format == VU_FMT_VHDX && xm->have_linkage2 &&
	    !memcmp(xm->parent_linkage2, im->identifier, 16))
		match = 1;
	if (!match) {
		char want[VU_GUID_STRLEN], got[VU_GUID_STRLEN];
		vu_guid_format(child->parent_id, want);
		vu_guid_format(im->identifier, got);
		return vu_fail(-EUCLEAN, "%s: parent %s has identifier %s, but "
			       "the child expects %s (parent modified or "
			       "replaced)", child->path, im->path, got, want);
	}
	if (parent->size != child->virtual_size)
		return vu_fail(-EUCLEAN, "%s: parent %s has a virtual size of %"
			       PRIu64 " bytes, expected %" PRIu64
			       " (the child's)", child->path, im->path,
			       parent->size, child->virtual_size);
	if (child->format == VU_FMT_VHDX &&
	    parent->sector_size != child->sector_size)
		return vu_fail(-EUCLEAN, "%s: parent %s has %" PRIu32 "-byte "
			       "sectors, expected %" PRIu32 " (the child's)",
			       child->path, im->path, parent->sector_size,
			       child->sector_size);
	return 0;
}

/* Open the image at path, chain[depth] of the chain being built, and
 * return its disk: parents first, then this image's layer over them. */
static int open_image(const char *path, size_t depth,
		      struct vu_container_info *ci, struct vu_blk **out)
{
	struct vhd_meta vm = { 0 };
	struct vhdx_meta xm = { 0 };
	struct vu_blk *file = NULL, *parent = NULL;
	struct vu_image_info *im;
	char *const *paths = NULL;
	size_t idx = ci->chain_len;
	int r;

	*out = NULL;
	r = chain_push(ci, path);
	if (r < 0)
		return r;
	r = vu_source_open(path, &file);
	if (r < 0)
		return r;
	im = &ci->chain[idx];
	if (vhdx_detect(file)) {
		r = vhdx_check(file, &xm);
		if (r < 0)
			goto out;
		im->format = VU_FMT_VHDX;
		im->type = xm.has_parent		? VU_CT_DIFFERENCING
			   : xm.leave_block_allocated ? VU_CT_FIXED
						      : VU_CT_DYNAMIC;
		im->virtual_size = xm.virtual_size;
		im->sector_size = xm.logical_sector_size;
		im->physical_sector_size = xm.physical_sector_size;
		memcpy(im->identifier, xm.data_write_guid, 16);
		memcpy(im->parent_id, xm.parent_linkage, 16);
		im->log_not_empty = xm.log_not_empty;
		paths = xm.parent_paths;
		warn_log(im);
	} else if (vhd_detect(file)) {
		r = vhd_check(file, &vm);
		if (r < 0)
			goto out;
		im->format = VU_FMT_VHD;
		im->type = vm.disk_type == VHD_TYPE_FIXED     ? VU_CT_FIXED
			   : vm.disk_type == VHD_TYPE_DYNAMIC ? VU_CT_DYNAMIC
							      : VU_CT_DIFFERENCING;
		im->virtual_size = vm.current_size;
		im->sector_size = im->physical_sector_size = 512;
		memcpy(im->identifier, vm.unique_id, 16);
		memcpy(im->parent_id, vm.parent_id, 16);
		paths = vm.parent_paths;
	} else {
		if (depth > 0) {
			r = vu_fail(-EUCLEAN, "%s: parent of %s is not a VHD "
				    "or VHDX image", path,
				    ci->chain[depth - 1].path);
			goto out;
		}
		im->format = VU_FMT_RAW;
		im->type = VU_CT_RAW;
		im->virtual_size = file->size;
		im->sector_size = im->physical_sector_size = 512;
		if (file->size % 512)
			vu_log(VU_LOG_WARN, "%s: raw image size %" PRIu64
			       " is not a multiple of 512 bytes", path,
			       file->size);
		*out = file; /* transferred */
		return 0;
	}

	if (im->format == VU_FMT_VHD && im->type == VU_CT_FIXED) {
		/* its data followed by a footer: a window of the file */
		r = vu_slice_open(file, 0, im->virtual_size, "vhd(fixed)", out);
		file = NULL; /* transferred */
		goto out;
	}
	if (im->type == VU_CT_DIFFERENCING) {
		char next[PATH_MAX];

		if (depth + 1 >= MAX_CHAIN) {
			r = vu_fail(-EUCLEAN, "%s: differencing chain deeper "
				    "than %d images (a loop?)",
				    ci->chain[0].path, MAX_CHAIN);
			goto out;
		}
		r = find_parent(path, paths, next);
		if (r < 0)
			goto out;
		r = open_image(next, depth + 1, ci, &parent);
		if (r < 0)
			goto out;
		r = check_link(ci, idx, &xm, parent);
		if (r < 0)
			goto out;
	}
	if (ci->chain[idx].format == VU_FMT_VHDX)
		r = vhdx_reader_open(file, &xm, parent, out);
	else
		r = vhd_reader_open(file, &vm, parent, out);
	file = parent = NULL; /* transferred */
out:
	vhd_meta_free(&vm);
	vhdx_meta_free(&xm);
	vu_blk_unref(parent);
	vu_blk_unref(file);
	return r;
}

int vu_container_open(const char *path, struct vu_blk **disk,
		      struct vu_container_info *info)
{
	struct vu_container_info ci = { 0 };
	int r;

	*disk = NULL;
	if (info)
		memset(info, 0, sizeof(*info));
	r = open_image(path, 0, &ci, disk);
	if (r < 0) {
		vu_container_info_free(&ci);
		return r;
	}
	ci.format = ci.chain[0].format;
	ci.type = ci.chain[0].type;
	ci.virtual_size = (*disk)->size;
	ci.sector_size = (*disk)->sector_size;
	ci.physical_sector_size = ci.chain[0].physical_sector_size;
	if (info)
		*info = ci;
	else
		vu_container_info_free(&ci);
	return 0;
}

void vu_container_info_free(struct vu_container_info *info)
{
	for (size_t i = 0; i < info->chain_len; i++)
		free(info->chain[i].path);
	free(info->chain);
	info->chain = NULL;
	info->chain_len = 0;
}
