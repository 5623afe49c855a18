/* Containers: the disk inside an image file.  Raw images pass through;
 * a fixed VHD is a window of its file; dynamic and differencing VHD and
 * every VHDX go through our own readers.  Detection is by content, never by the
 * file name: Azure exports fixed VHDs that look raw to careless readers. */
#ifndef VU_CONTAINER_H
#define VU_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "core/blk.h"

enum vu_container_format { VU_FMT_RAW, VU_FMT_VHD, VU_FMT_VHDX };
enum vu_container_type {
	VU_CT_RAW,
	VU_CT_FIXED,
	VU_CT_DYNAMIC,
	VU_CT_DIFFERENCING,
};

/* One image of a chain: the image itself first, then its parents. */
struct vu_image_info {
	char *path;
	enum vu_container_format format;
	enum vu_container_type type;
	uint64_t virtual_size;
	uint8_t identifier[16];	 /* VHD unique id / VHDX data write GUID */
	uint8_t parent_id[16];	 /* differencing: the parent it expects */
	int log_not_empty;	 /* VHDX: the log holds unreplayed writes */
	uint32_t sector_size;	 /* logical */
	uint32_t physical_sector_size;
};

struct vu_container_info {
	enum vu_container_format format;
	enum vu_container_type type;
	uint64_t virtual_size;
	uint32_t sector_size;		/* logical */
	uint32_t physical_sector_size;
	size_t chain_len;		/* 1 + number of parents */
	struct vu_image_info *chain;
};

/* Open an image read-only and return the disk it holds.  Warnings (VHDX
 * log not empty) go to vu_log.  info may be NULL. */
int vu_container_open(const char *path, struct vu_blk **disk,
		      struct vu_container_info *info);
void vu_container_info_free(struct vu_container_info *info);

const char *vu_container_format_name(enum vu_container_format f);
const char *vu_container_type_name(enum vu_container_type t);

#endif
