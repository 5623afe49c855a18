/* Inside the volume probe: the first bytes of the volume, read once and
 * shared by the probers, the helpers that spell values as libblkid does,
 * and the probers (probe.c runs them in order; see there). */
#ifndef VU_PROBE_INT_H
#define VU_PROBE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "volume/probe.h"

/* Every signature but a swap page larger than this, the NTFS MFT and the
 * FAT root directory lies inside. */
#define HEAD_MAX 8192

struct head {
	uint8_t b[HEAD_MAX];
	size_t len;
};

static inline int head_has(const struct head *h, size_t off, size_t len)
{
	return off <= h->len && len <= h->len - off;
}

/* probe.c: reading past the head, and libblkid's set_label / strncpy_uuid */
int probe_read_opt(struct vu_blk *vol, void *buf, size_t len, uint64_t off);
void probe_set_str(char *dst, size_t dstsz, const uint8_t *src, size_t len);
void probe_set_uuid(struct vu_probe *out, const uint8_t u[16]);
void probe_set_detail(struct vu_probe *out, const char *s);
int probe_is_zero(const uint8_t *p, size_t len);

/* A prober returns 1 when it recognised the volume (filling out), 0 when
 * not, and a negative errno only when a read failed. */
typedef int probe_fn(struct vu_blk *vol, const struct head *h,
		     struct vu_probe *out);

/* probe_crypt.c: volumes that hold another volume */
probe_fn probe_luks, probe_luks2_secondary, probe_bitlocker, probe_lvm2;
/* probe_fs.c */
probe_fn probe_ntfs, probe_ext, probe_xfs, probe_swap;
/* probe_fat.c */
probe_fn probe_fat;
/* probe_md.c: md RAID members */
probe_fn probe_md;

#endif
