/* LVM2 on-disk format (lvm2 lib/format_text/layout.h, lib/label/label.h).
 * All integers little-endian. */
#ifndef VU_LVM_FORMAT_H
#define VU_LVM_FORMAT_H

#define LVM_SECTOR		512
#define LVM_LABEL_SCAN_SECTORS	4	/* the label is in one of these */

/* label_header, at the start of its sector */
#define LVM_LABEL_ID		"LABELONE"
#define LVM_LH_SECTOR		8	/* le64: this sector's number */
#define LVM_LH_CRC		16	/* le32 over LVM_LH_OFFSET .. sector end */
#define LVM_LH_OFFSET		20	/* le32: pv_header offset in the sector */
#define LVM_LH_TYPE		24	/* "LVM2 001" */
#define LVM_LH_SIZE		32
#define LVM_LABEL_TYPE		"LVM2 001"

/* pv_header: PV UUID, device size, then two lists of disk_locn
 * {le64 offset, le64 size} (data areas, then metadata areas), each ended
 * by an all-zero entry; offsets in bytes from the start of the device */
#define LVM_ID_LEN		32
#define LVM_PVH_DEVSIZE		32	/* le64, bytes */
#define LVM_PVH_AREAS		40
#define LVM_DISK_LOCN		16

/* mda_header, at the start of each metadata area */
#define LVM_MDA_HEADER_SIZE	512
#define LVM_MDA_CRC		0	/* le32 over bytes 4 .. 512 */
#define LVM_MDA_MAGIC		4
#define LVM_MDA_MAGIC_STR	"\040\114\126\115\062\040\170\133\065\101\045\162\060\116\052\076"
#define LVM_MDA_MAGIC_LEN	16
#define LVM_MDA_VERSION		20	/* le32, 1 */
#define LVM_MDA_START		24	/* le64: absolute offset of this area */
#define LVM_MDA_SIZE		32	/* le64: size of this area */
#define LVM_MDA_RLOCN		40	/* raw_locn list */
/* raw_locn: le64 offset (from the area's start), le64 size, le32 CRC of
 * the text, le32 flags; the text wraps around to LVM_MDA_HEADER_SIZE */
#define LVM_RLOCN_SIZE		24
#define LVM_RLOCN_IGNORED	1u

#define LVM_CRC_INIT		0xf597a6cfu
/* No metadata text we accept is larger than this. */
#define LVM_MAX_TEXT		(64u << 20)

#endif
