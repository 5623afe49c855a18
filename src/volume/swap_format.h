/* The Linux swap header (the kernel's union swap_header): a magic at the
 * end of the first page, whatever the page size, and for version 1 a
 * header at 1024 with the label and UUID.  Integers in the writer's byte
 * order, so the version is accepted in either. */
#ifndef VU_SWAP_FORMAT_H
#define VU_SWAP_FORMAT_H

#define SWAP_MAGIC2		"SWAPSPACE2"	/* version 1 */
#define SWAP_MAGIC1		"SWAP-SPACE"	/* version 0 */
#define SWAP_MAGIC_LEN		10
#define SWAP_HDR_OFF		1024
/* relative to SWAP_HDR_OFF */
#define SWAP_VERSION_OFF	0	/* le32 1, or be32 1 */
#define SWAP_LASTPAGE_OFF	4
#define SWAP_UUID_OFF		12
#define SWAP_LABEL_OFF		28
#define SWAP_LABEL_LEN		16
#define SWAP_PAD32_OFF		172	/* padding[32], padding[33]: zero */
#define SWAP_HDR_LEN		180

#endif
