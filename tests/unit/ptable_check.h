/* Checks the partition-table unit tests (test_mbr, test_gpt) share: both
 * parse disks built in memory and images written by real tools, and hold
 * every result to the same rules, so the rules live here once. */
#ifndef VU_TEST_PTABLE_CHECK_H
#define VU_TEST_PTABLE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "partition/partition.h"

struct json_object;

/* vu_ptable_read of d[len] as a disk ("mem:t") of ss-byte sectors. */
int ut_parse_buf(const uint8_t *d, size_t len, uint32_t ss,
		 struct vu_ptable *t);
/* vu_ptable_read of the file name in ut_tmpdir; ss 0 keeps the sector
 * size the file reports. */
int ut_file_table(const char *name, uint32_t ss, struct vu_ptable *t);

/* The parse of the table case name returned r: it must be want, and a
 * failed parse leaves no partitions and says msg (NULL: not checked).
 * Non-zero when it failed: there is nothing more to check. */
int ut_case_failed(const char *name, int r, int want,
		   const struct vu_ptable *t, const char *msg);
/* Every '|'-separated piece of want must be in text. */
void ut_assert_has(const char *text, const char *want);
/* What any parse of len bytes may return: an error (-EUCLEAN or -EIO)
 * that leaves no partitions, or partitions inside the disk, of non-zero
 * size, with terminated names, sorted by slot. */
void ut_check_sane(int r, const struct vu_ptable *t, size_t len);
/* Fail the first, second, ... read of a parse of d[len] until one gets
 * through: each failed parse returns -EIO, says it was the injected fault
 * and leaves nothing; the clean one finds count partitions, and used the
 * backup GPT header or not. */
void ut_read_faults(const uint8_t *d, size_t len, uint32_t ss, size_t count,
		    int used_backup);

/* The partition of that slot, or NULL. */
const struct vu_part *ut_find_slot(const struct vu_ptable *t, unsigned slot);
/* The slot number a device node ends in ("x.img5" -> 5). */
unsigned ut_node_slot(const char *node);
/* sfdisk --json of the image img in ut_tmpdir: the whole document (free
 * it with json_object_put) and, in *pt, its "partitiontable". */
struct json_object *ut_sfdisk_json(const char *img, struct json_object **pt);
/* p starts and ends where the sfdisk --json partition jp says (in
 * 512-byte sectors, as sfdisk counts for an image file). */
void ut_assert_sfdisk_extent(const struct vu_part *p, struct json_object *jp);

#endif
