/* Update sequence arrays: NTFS's guard against torn multi-sector writes in
 * MFT records and index blocks.  Before a write, the last two bytes of each
 * 512-byte stride are saved in an array the structure's header points to
 * and replaced by a sequence number; a reader checks that every stride
 * still ends with that number and puts the saved bytes back.
 *
 * In core, not fs/, because the volume probe (below fs/) reads the $Volume
 * record too, and the check must be the same in both. */
#ifndef VU_USA_H
#define VU_USA_H

#include <stdint.h>

#define VU_USA_STRIDE	512
#define VU_USA_OFS	4	/* le16: where the array is in the structure */
#define VU_USA_COUNT	6	/* le16: entries, sequence number included */

/* Apply the array of the size-byte structure b in place: 0, or -EUCLEAN
 * when the header is inconsistent or a stride does not end with the
 * sequence number (damage or a torn write); then the strides before the
 * bad one are already restored, and b is good for nothing. */
int vu_usa_fixup(uint8_t *b, uint32_t size);

#endif
