/* Shared by the audit's files (classify.c, scan.c, audit.c, fscount.c). */
#ifndef VU_AUDIT_INT_H
#define VU_AUDIT_INT_H

#include "audit/audit.h"

#define AUDIT_UNIT 512		 /* bytes classified at a time */
#define AUDIT_CHUNK (64u << 10) /* bytes read at a time */
#define AUDIT_MAX_RANGES 256	 /* found ranges kept per volume */

/* A region of a volume's stored content that must hold only ciphertext. */
struct audit_area {
	uint64_t offset, length;
};

/* Bytes a scan of these areas reads (for progress). */
uint64_t audit_scan_plan(const struct audit_area *a, size_t n,
			 const struct vu_audit_opts *o);
/* Sample the areas of b (all of them with o->full); *done counts bytes
 * read for progress across volumes. */
int audit_scan(struct vu_blk *b, const struct audit_area *a, size_t n,
	       const struct vu_audit_opts *o, uint64_t *done, uint64_t total,
	       struct vu_audit_scan *sc);
void audit_scan_free(struct vu_audit_scan *sc);

/* Count the files and directories of the file system of kind on b. */
int audit_count_files(struct vu_blk *b, enum vu_kind kind, uint64_t *files,
		      uint64_t *dirs);

#endif
