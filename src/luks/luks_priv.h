/* The LUKS handle (luks.c, luks_volume.c). */
#ifndef VU_LUKS_PRIV_H
#define VU_LUKS_PRIV_H

#include "luks/luks_int.h"

struct crypt_device;

struct luks_key {
	int digest;
	uint8_t *key;	/* secret memory */
	size_t len;
};

struct vu_luks {
	struct vu_blk *vol;	/* data (and header unless hdr) */
	struct vu_blk *hdr;	/* detached header, or NULL */
	struct crypt_device *cd;
	int memfd;
	char *json;		/* LUKS2 metadata as loaded */
	struct vu_luks_info info;
	struct luks_seg seg[LUKS_MAX_SEGS];
	size_t nseg;
	struct luks_key keys[LUKS_MAX_KEYS];
	size_t nkeys;
	int unlocked, unlocked_by;
	char cs_error[256];	/* libcryptsetup's last error message */
};

#endif
