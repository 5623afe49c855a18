/* decrypt's plan: what becomes of each volume of the disk, and the output
 * disk made from it as one block source (an extent map over the disk as
 * stored).
 *
 * An unlocked BitLocker volume is replaced by its decrypted content where
 * it lies.  An unlocked LUKS volume is replaced by its decrypted payload
 * where the payload lies; the header area before it becomes zeros (no key
 * slot is left behind) and its partition entry moves to start at the
 * payload, so the file system inside sits at the start of its partition.
 * The partition table's sectors are rewritten for that (GPT: both copies;
 * MBR: sector 0), and for a disk padded to a whole MiB (the backup GPT and
 * the protective MBR at the new end). */
#ifndef VU_CLI_DECRYPT_PLAN_H
#define VU_CLI_DECRYPT_PLAN_H

#include <stdint.h>

#include "core/blk.h"
#include "disk/disk.h"

enum decrypt_action {
	DECRYPT_COPY,	     /* not encrypted: copied */
	DECRYPT_IN_PLACE,    /* unlocked: decrypted where it lies */
	DECRYPT_MOVED,	     /* unlocked LUKS: decrypted, entry moved */
	DECRYPT_LOCKED,	     /* encrypted, no key: copied encrypted */
	DECRYPT_UNSUPPORTED, /* not handled: copied as stored */
};

struct decrypt_vol {
	struct vu_volume *v;
	uint64_t start, size;	/* on the disk */
	enum decrypt_action act;
	uint64_t moved_by;	/* DECRYPT_MOVED: bytes the start moved */
	const char *why;	/* DECRYPT_UNSUPPORTED: why (a constant) */
};

struct decrypt_plan {
	size_t n;
	struct decrypt_vol *vols; /* by start */
	uint64_t size;		/* of the output disk */
	int table_rewritten;	/* partition table sectors rewritten */
	/* owned: the rewritten table's memory and its sources */
	struct vu_gpt_rewrite *gpt;
	uint8_t *mbr;
	struct decrypt_area {
		uint64_t off;
		struct vu_blk *blk;
	} areas[5];		/* GPT's four, the MBR */
	size_t nareas;
};

/* Plan the volumes of d's first image; pad_to (0 or a power of two) makes
 * the output's size a multiple of it. */
int decrypt_plan_make(struct vu_disk *d, uint64_t pad_to,
		      struct decrypt_plan *p);
/* The output disk as one block source. */
int decrypt_plan_disk(struct vu_disk *d, struct decrypt_plan *p,
		      struct vu_blk **out);
void decrypt_plan_free(struct decrypt_plan *p);

#endif
