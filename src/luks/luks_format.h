/* The LUKS1 and LUKS2 binary headers, as far as we read them ourselves
 * (cryptsetup's "LUKS1 On-Disk Format Specification" and "LUKS2 On-Disk
 * Format Specification"); libcryptsetup reads the rest.  luks.c sizes the
 * header area with it, the volume probe (volume/probe_crypt.c) names the
 * volume.  All integers big-endian; offsets in bytes. */
#ifndef VU_LUKS_FORMAT_H
#define VU_LUKS_FORMAT_H

/* both versions */
#define LUKS_MAGIC		"LUKS\xba\xbe"
#define LUKS2_MAGIC2		"SKUL\xba\xbe"	/* LUKS2 secondary */
#define LUKS_MAGIC_LEN		6
#define LUKS_VERSION		6	/* be16: 1 or 2 */
#define LUKS_UUID		168	/* text, NUL-padded */
#define LUKS_UUID_LEN		40
#define LUKS_SECTOR		512

/* LUKS1: the header, then 8 key slots */
#define LUKS1_PAYLOAD_OFFSET	104	/* be32, sectors */
#define LUKS1_KEY_BYTES		108	/* be32 */
#define LUKS1_KEYSLOTS		208
#define LUKS1_KEYSLOT_SIZE	48
#define LUKS1_NUM_KEYSLOTS	8
#define LUKS1_KS_OFFSET		40	/* be32 sectors, in a key slot */
#define LUKS1_KS_STRIPES	44	/* be32, in a key slot */
#define LUKS1_HDR_SIZE		592

/* LUKS2: a 4 KiB binary header, then the JSON area; a second copy of both
 * follows at hdr_size */
#define LUKS2_HDR_SIZE		8	/* be64: binary header + JSON area */
#define LUKS2_LABEL		24	/* text, NUL-padded */
#define LUKS2_LABEL_LEN		48
#define LUKS2_CSUM_ALG		72	/* text, 32 bytes */
#define LUKS2_CSUM_ALG_LEN	32
#define LUKS2_HDR_OFFSET	256	/* be64: where this copy is */
#define LUKS2_CSUM		448	/* 64 bytes, zero while computing */
#define LUKS2_CSUM_LEN		64
#define LUKS2_BIN_SIZE		4096	/* the JSON area starts here */
/* hdr_size is a power of two in this range, so the secondary header is at
 * one of the powers of two in it */
#define LUKS2_HDR_SIZE_MIN	0x4000
#define LUKS2_HDR_SIZE_MAX	0x400000

#endif
