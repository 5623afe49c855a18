/* BitLocker on-disk layout, as described by the libyal "BitLocker Drive
 * Encryption (BDE) format" notes and cryptsetup's and dislocker's
 * documentation, checked against volumes made by Windows 7 to 11.
 *
 * Every field is little-endian.  The structures below document the layout
 * and give offsets (offsetof); code never casts a buffer to them, it decodes
 * each field with vu_le16/32/64 (core/bytes.h). */
#ifndef VU_BDE_FORMAT_H
#define VU_BDE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* ---- volume header (the first sector of the encrypted volume) ---- */

#define BDE_SIGNATURE "-FVE-FS-"	/* Vista, Windows 7+ */
#define BDE_SIGNATURE_TOGO "MSWIN4.1"	/* BitLocker To Go (FAT outer volume) */
#define BDE_SIGNATURE_LEN 8
#define BDE_BOOT_VISTA "\xeb\x52\x90"
#define BDE_BOOT_WIN7 "\xeb\x58\x90"
#define BDE_BOOT_LEN 3

/* The volume identifier in a Windows 7+ or To Go header. */
#define BDE_GUID_NORMAL \
	"\x3b\xd6\x67\x49\x29\x2e\xd8\x4a\x83\x99\xf6\xa3\x39\xe3\xd0\x01"
/* "Used disk space only" (encrypt on write) volumes, Windows 8+. */
#define BDE_GUID_USED_SPACE \
	"\x3b\x4d\xa8\x92\x80\xdd\x0e\x4d\x9e\x4e\xb1\xe3\x28\x4e\xae\xd8"
#define BDE_GUID_LEN 16

/* The start of a BIOS parameter block: the same fields in every variant,
 * which each variant below begins with. */
struct bde_vh_common {
	uint8_t boot_entry[3];
	uint8_t signature[8];
	uint8_t bytes_per_sector[2];
	uint8_t sectors_per_cluster;
} __attribute__((packed));

/* Windows Vista: an NTFS-like header; the FVE metadata block 1 is found by
 * its cluster number, the other two from that block's header. */
struct bde_vh_vista {
	struct bde_vh_common common;	/* eb 52 90, -FVE-FS- */
	uint8_t unknown1[26];
	uint8_t total_sectors[8];	/* 40 */
	uint8_t mft_cluster[8];		/* 48 */
	uint8_t metadata1_cluster[8];	/* 56: in place of the MFT mirror */
	uint8_t mft_entry_size[4];	/* 64 */
	uint8_t index_entry_size[4];	/* 68 */
	uint8_t serial[8];		/* 72 */
	uint8_t checksum[4];		/* 80 */
	uint8_t bootcode[426];
	uint8_t sector_signature[2];	/* 55 aa */
} __attribute__((packed));

/* Windows 7 and later. */
struct bde_vh_win7 {
	struct bde_vh_common common;	/* eb 58 90, -FVE-FS- */
	uint8_t unknown1[146];
	uint8_t identifier[16];		/* 160: BDE_GUID_* */
	uint8_t metadata_offset[3][8];	/* 176, 184, 192: byte offsets */
	uint8_t eow_offset[2][8];	/* 200, 208: used-space-only information */
	uint8_t unknown2[294];
	uint8_t sector_signature[2];
} __attribute__((packed));

/* BitLocker To Go: a FAT32 discovery volume. */
struct bde_vh_togo {
	struct bde_vh_common common;	/* eb 58 90, MSWIN4.1 */
	uint8_t unknown1[410];
	uint8_t identifier[16];		/* 424 */
	uint8_t metadata_offset[3][8];	/* 440, 448, 456 */
	uint8_t unknown2[46];
	uint8_t sector_signature[2];
} __attribute__((packed));

_Static_assert(sizeof(struct bde_vh_common) == 14, "bpb start");
_Static_assert(sizeof(struct bde_vh_vista) == 512, "vista header");
_Static_assert(sizeof(struct bde_vh_win7) == 512, "win7 header");
_Static_assert(sizeof(struct bde_vh_togo) == 512, "to go header");
_Static_assert(offsetof(struct bde_vh_win7, identifier) == 160, "win7 guid");
_Static_assert(offsetof(struct bde_vh_togo, identifier) == 424, "togo guid");
_Static_assert(offsetof(struct bde_vh_vista, metadata1_cluster) == 56, "v");

/* ---- FVE metadata block: block header, metadata header, entries ---- */

/* Each of the three metadata areas; v1 (Vista) areas are 16 KiB. */
#define BDE_METADATA_AREA_SIZE 65536u
#define BDE_METADATA_AREA_SIZE_V1 16384u

/* FVE metadata block header (64 bytes). */
struct bde_block_header {
	uint8_t signature[8];	/* -FVE-FS- */
	uint8_t size[2];	/* v2: size of block header + metadata, in 16-byte units */
	uint8_t version[2];	/* 1 Vista, 2 Windows 7+ */
	uint8_t state[2];	/* v2: current conversion state (BDE_STATE_*) */
	uint8_t next_state[2];	/* v2: state being converted to */
	uint8_t encrypted_size[8]; /* v2: bytes of the volume encrypted so far */
	uint8_t unknown[4];
	uint8_t header_sectors[4]; /* v2: sectors relocated to the backup */
	uint8_t metadata_offset[3][8]; /* 32: byte offsets of the three copies */
	uint8_t vh_offset[8];	/* 56: v2 relocated boot sectors; v1 MFT mirror cluster */
} __attribute__((packed));

/* FVE metadata header (48 bytes), also the header of a .BEK file. */
struct bde_metadata_header {
	uint8_t size[4];	/* header + entries, in bytes */
	uint8_t version[4];	/* 1 */
	uint8_t header_size[4];	/* 48 */
	uint8_t size_copy[4];
	uint8_t volume_guid[16]; /* BEK: the startup key's identifier */
	uint8_t next_nonce[4];
	uint8_t method[4];	/* BDE_METHOD_* in the low 16 bits */
	uint8_t creation_time[8]; /* FILETIME */
} __attribute__((packed));

_Static_assert(sizeof(struct bde_block_header) == 64, "block header");
_Static_assert(sizeof(struct bde_metadata_header) == 48, "metadata header");

#define BDE_BLOCK_HEADER_SIZE 64u
#define BDE_METADATA_HEADER_SIZE 48u

/* Windows 7+ follows the metadata block with a validation structure:
 * size (2), version (2), CRC-32 (IEEE) of the whole metadata block
 * (block header + metadata, block_header.size * 16 bytes), then an
 * AES-CCM protected SHA-256 that needs the VMK. */
struct bde_validation {
	uint8_t size[2];
	uint8_t version[2];
	uint8_t crc32[4];
} __attribute__((packed));

/* Conversion states (block header state / next_state). */
#define BDE_STATE_DECRYPTED 1
#define BDE_STATE_ENCRYPTING 2
#define BDE_STATE_EOW 3
#define BDE_STATE_ENCRYPTED 4
#define BDE_STATE_PAUSED 5

/* ---- entries ---- */

/* Entry header (8 bytes) followed by the value. */
struct bde_entry {
	uint8_t size[2];	/* header + value */
	uint8_t type[2];	/* BDE_ENTRY_* */
	uint8_t value_type[2];	/* BDE_VALUE_* */
	uint8_t version[2];	/* 1 (3 seen for the clear-key VMK of Windows 11) */
} __attribute__((packed));

#define BDE_ENTRY_HEADER_SIZE 8u

/* Entry types */
#define BDE_ENTRY_PROPERTY 0x0000	/* inside a VMK or external key */
#define BDE_ENTRY_VMK 0x0002
#define BDE_ENTRY_FVEK 0x0003
#define BDE_ENTRY_VALIDATION 0x0004
#define BDE_ENTRY_STARTUP_KEY 0x0006	/* .BEK file */
#define BDE_ENTRY_DESCRIPTION 0x0007
#define BDE_ENTRY_FVEK_BACKUP 0x000b
#define BDE_ENTRY_VOLUME_HEADER 0x000f
#define BDE_ENTRY_VOLUME_GUID 0x0019	/* newer .BEK files */

/* Value types */
#define BDE_VALUE_ERASED 0x0000
#define BDE_VALUE_KEY 0x0001		/* method (4) + key bytes */
#define BDE_VALUE_STRING 0x0002		/* UTF-16LE, NUL terminated */
#define BDE_VALUE_STRETCH_KEY 0x0003	/* method (4) + salt (16) + entry */
#define BDE_VALUE_USE_KEY 0x0004	/* method (4) + entry */
#define BDE_VALUE_AES_CCM 0x0005	/* nonce (12) + tag (16) + data */
#define BDE_VALUE_TPM_KEY 0x0006
#define BDE_VALUE_VALIDATION 0x0007
#define BDE_VALUE_VMK 0x0008		/* struct bde_vmk + properties */
#define BDE_VALUE_EXTERNAL_KEY 0x0009	/* struct bde_external_key + properties */
#define BDE_VALUE_UPDATE 0x000a
#define BDE_VALUE_ERROR 0x000b
#define BDE_VALUE_OFFSET_SIZE 0x000f	/* offset (8) + size (8) [+ more] */
#define BDE_VALUE_RECOVERY_TIME 0x0015
#define BDE_VALUE_GUID 0x0017

/* Value of a VMK entry (28 bytes), followed by property entries. */
struct bde_vmk {
	uint8_t guid[16];	/* the protector's identifier */
	uint8_t mtime[8];	/* FILETIME */
	uint8_t unknown[2];
	uint8_t protection[2];	/* BDE_PROT_* */
} __attribute__((packed));

/* Value of an external key entry (24 bytes), followed by properties. */
struct bde_external_key {
	uint8_t guid[16];
	uint8_t mtime[8];
} __attribute__((packed));

/* AES-CCM encrypted key value: nonce, MAC, then the ciphertext of a key
 * entry (entry header + method + key) as the plaintext. */
struct bde_aes_ccm {
	uint8_t nonce[12];	/* FILETIME (8) + counter (4) */
	uint8_t mac[16];
} __attribute__((packed));

_Static_assert(sizeof(struct bde_vmk) == 28, "vmk");
_Static_assert(sizeof(struct bde_external_key) == 24, "external key");
_Static_assert(sizeof(struct bde_aes_ccm) == 28, "aes-ccm");

/* Protection types (VMK) */
#define BDE_PROT_CLEAR_KEY 0x0000
#define BDE_PROT_TPM 0x0100
#define BDE_PROT_STARTUP_KEY 0x0200
#define BDE_PROT_TPM_STARTUP_KEY 0x0300
#define BDE_PROT_TPM_PIN_STARTUP_KEY 0x0400
#define BDE_PROT_TPM_PIN 0x0500
#define BDE_PROT_RECOVERY_PASSWORD 0x0800
#define BDE_PROT_PUBLIC_KEY 0x1000
#define BDE_PROT_PASSWORD 0x2000

/* Encryption methods (sector ciphers) */
#define BDE_METHOD_NONE 0x0000
#define BDE_METHOD_AES128_CBC_DIFFUSER 0x8000
#define BDE_METHOD_AES256_CBC_DIFFUSER 0x8001
#define BDE_METHOD_AES128_CBC 0x8002
#define BDE_METHOD_AES256_CBC 0x8003
#define BDE_METHOD_XTS_AES128 0x8004
#define BDE_METHOD_XTS_AES256 0x8005

/* Key methods inside VMK/stretch entries (AES-CCM 256 and friends) */
#define BDE_KEY_METHOD_STRETCH 0x1000
#define BDE_KEY_METHOD_CCM_FIRST 0x2000
#define BDE_KEY_METHOD_CCM_LAST 0x2005

/* ---- recovery password ---- */
#define BDE_RECOVERY_GROUPS 8
#define BDE_RECOVERY_GROUP_DIGITS 6
#define BDE_RECOVERY_GROUP_LIMIT 720896u	/* 65536 * 11 */

/* FILETIME (100 ns since 1601) of the Unix epoch. */
#define BDE_FILETIME_UNIX_EPOCH 116444736000000000ull

#endif
