/* The volume probe's FAT12/16/32: libblkid's checks (including its 32-bit
 * arithmetic), the label from the root directory's volume label entry,
 * else none, and the serial number as the UUID.  Layout: fat_format.h. */
#include <stdio.h>
#include <string.h>

#include "core/bytes.h"
#include "volume/fat_format.h"
#include "volume/probe_int.h"

/* Root directory clusters followed on FAT32, as libblkid. */
#define FAT32_MAX_CHAIN		100

struct fat_geo {
	uint32_t sector_size, cluster_size, reserved, fat_size, clusters;
};

/* libblkid's fat_valid_superblock, its 32-bit arithmetic included. */
static int fat_valid(const uint8_t *b, struct fat_geo *g)
{
	uint32_t dir_entries, sectors, fat_length, dir_size, max_count;
	uint8_t fats = b[FAT_FATS_OFF], media = b[FAT_MEDIA_OFF];
	int weak = 1;

	if (memcmp(b + FAT32_MAGIC_OFF, "MSWIN", 5) == 0 ||
	    memcmp(b + FAT32_MAGIC_OFF, "FAT32   ", 8) == 0 ||
	    memcmp(b + FAT16_MAGIC_OFF, "MSDOS", 5) == 0 ||
	    memcmp(b + FAT16_MAGIC_OFF, "FAT16   ", 8) == 0 ||
	    memcmp(b + FAT16_MAGIC_OFF, "FAT12   ", 8) == 0 ||
	    memcmp(b + FAT16_MAGIC_OFF, "FAT     ", 8) == 0)
		weak = 0;
	else if (b[0] != 0xeb && b[0] != 0xe9 &&
		 (b[FAT_BOOT_SIG_OFF] != 0x55 || b[FAT_BOOT_SIG_OFF + 1] != 0xaa))
		return 0;
	if (weak) {
		/* only a jump byte or the boot signature: old floppies have
		 * both; OS/2 puts FAT-like headers on JFS and HPFS */
		if (b[FAT_BOOT_SIG_OFF] != 0x55 || b[FAT_BOOT_SIG_OFF + 1] != 0xaa)
			return 0;
		if (memcmp(b + FAT16_MAGIC_OFF, "JFS     ", 8) == 0 ||
		    memcmp(b + FAT16_MAGIC_OFF, "HPFS    ", 8) == 0)
			return 0;
	}
	if (!fats || !vu_le16(b + FAT_RESERVED_OFF) ||
	    !(media >= 0xf8 || media == 0xf0) ||
	    !vu_is_pow2(b[FAT_CLUSTER_SIZE_OFF]))
		return 0;
	g->sector_size = vu_le16(b + FAT_SECTOR_SIZE_OFF);
	if (!vu_is_pow2(g->sector_size) || g->sector_size < 512 ||
	    g->sector_size > 4096)
		return 0;
	g->cluster_size = b[FAT_CLUSTER_SIZE_OFF];
	g->reserved = vu_le16(b + FAT_RESERVED_OFF);
	dir_entries = vu_le16(b + FAT_DIR_ENTRIES_OFF);
	sectors = vu_le16(b + FAT_SECTORS_OFF);
	if (!sectors)
		sectors = vu_le32(b + FAT_TOTAL_SECT_OFF);
	fat_length = vu_le16(b + FAT_FAT_LENGTH_OFF);
	if (!fat_length)
		fat_length = vu_le32(b + FAT32_LENGTH_OFF);
	g->fat_size = fat_length * fats;
	dir_size = (dir_entries * FAT_DIRENT + g->sector_size - 1) /
		   g->sector_size;
	g->clusters = (sectors - (g->reserved + g->fat_size + dir_size)) /
		      g->cluster_size;
	if (!vu_le16(b + FAT_FAT_LENGTH_OFF) && vu_le32(b + FAT32_LENGTH_OFF))
		max_count = FAT32_MAX;
	else
		max_count = g->clusters > FAT12_MAX ? FAT16_MAX : FAT12_MAX;
	return g->clusters <= max_count;
}

/* Look for the volume label entry among n directory entries at off:
 * 1 found (label set), 0 not, negative errno. */
static int fat_dir_label(struct vu_blk *vol, uint64_t off, uint64_t n,
			 struct vu_probe *out)
{
	uint8_t buf[4096];
	uint64_t i = 0;
	int r;

	/* libblkid reads the whole directory area or nothing */
	if (off > vol->size || n * FAT_DIRENT > vol->size - off)
		return 0;
	while (i < n) {
		uint64_t chunk = n - i;

		if (chunk > sizeof(buf) / FAT_DIRENT)
			chunk = sizeof(buf) / FAT_DIRENT;
		r = vu_blk_read(vol, buf, (size_t)chunk * FAT_DIRENT,
				off + i * FAT_DIRENT);
		if (r < 0)
			return r;
		for (uint64_t k = 0; k < chunk; k++) {
			uint8_t *e = buf + k * FAT_DIRENT;
			uint8_t attr = e[FAT_DIRENT_ATTR];

			if (e[0] == 0)
				return 0;
			if (e[0] == FAT_ENTRY_FREE ||
			    vu_le16(e + FAT_DIRENT_CLUSTER_HI) ||
			    vu_le16(e + FAT_DIRENT_CLUSTER_LO) ||
			    (attr & FAT_ATTR_MASK) == FAT_ATTR_LONG_NAME)
				continue;
			if ((attr & (FAT_ATTR_VOLUME_ID | FAT_ATTR_DIR)) ==
			    FAT_ATTR_VOLUME_ID) {
				if (e[0] == FAT_ENTRY_E5)
					e[0] = FAT_ENTRY_FREE;
				probe_set_str(out->label, sizeof(out->label), e,
					      FAT_LABEL_LEN);
				return 1;
			}
		}
		i += chunk;
	}
	return 0;
}

static void fat_serial(struct vu_probe *out, const uint8_t *s)
{
	snprintf(out->uuid, sizeof(out->uuid), "%02X%02X-%02X%02X", s[3],
		 s[2], s[1], s[0]);
}

int probe_fat(struct vu_blk *vol, const struct head *h,
	      struct vu_probe *out)
{
	const uint8_t *b = h->b;
	struct fat_geo g;
	int r = 0;

	if (!head_has(h, 0, 512) || !fat_valid(b, &g))
		return 0;
	if (vu_le16(b + FAT_FAT_LENGTH_OFF)) {
		uint32_t root = (g.reserved + g.fat_size) * g.sector_size;
		uint8_t sig = b[FAT16_EXT_SIG_OFF];

		r = fat_dir_label(vol, root, vu_le16(b + FAT_DIR_ENTRIES_OFF),
				  out);
		if (r < 0)
			return r;
		if (sig == 0x28 || sig == 0x29)
			fat_serial(out, b + FAT16_SERIAL_OFF);
		if (g.clusters < FAT12_MAX)
			probe_set_detail(out, "FAT12");
		else if (g.clusters < FAT16_MAX)
			probe_set_detail(out, "FAT16");
	} else if (vu_le32(b + FAT32_LENGTH_OFF)) {
		uint32_t csize = g.cluster_size * g.sector_size;
		uint32_t data = g.reserved + g.fat_size;
		uint32_t entries = (uint32_t)((uint64_t)vu_le32(b + FAT32_LENGTH_OFF) *
					      g.sector_size / 4);
		uint32_t next = vu_le32(b + FAT32_ROOT_CLUSTER_OFF);
		uint32_t fsinfo = vu_le16(b + FAT32_FSINFO_OFF);
		int loops = FAT32_MAX_CHAIN;

		/* the root directory's cluster chain, a bounded walk */
		while (next && next < entries && --loops) {
			uint64_t off = (uint64_t)(data + (next - 2) * g.cluster_size) *
				       g.sector_size;
			uint64_t fatent = (uint64_t)g.reserved * g.sector_size +
					  (uint64_t)next * 4;
			uint8_t e[4];

			r = fat_dir_label(vol, off, csize / FAT_DIRENT, out);
			if (r < 0)
				return r;
			if (r > 0)
				break;
			/* libblkid reads a cluster's worth at the entry */
			if (fatent > vol->size || csize > vol->size - fatent)
				break;
			r = vu_blk_read(vol, e, sizeof(e), fatent);
			if (r < 0)
				return r;
			next = vu_le32(e) & FAT32_ENTRY_MASK;
		}
		probe_set_detail(out, "FAT32");
		fat_serial(out, b + FAT32_SERIAL_OFF);
		if (fsinfo) {
			uint8_t fi[512];

			r = probe_read_opt(vol, fi, sizeof(fi),
					   (uint64_t)fsinfo * g.sector_size);
			if (r <= 0)
				goto not_fat;
			if ((memcmp(fi + FSINFO_SIG1_OFF, "RRaA", 4) != 0 &&
			     memcmp(fi + FSINFO_SIG1_OFF, "RRdA", 4) != 0 &&
			     !probe_is_zero(fi + FSINFO_SIG1_OFF, 4)) ||
			    (memcmp(fi + FSINFO_SIG2_OFF, "rrAa", 4) != 0 &&
			     !probe_is_zero(fi + FSINFO_SIG2_OFF, 4)))
				goto not_fat;
		}
	}
	out->kind = VU_KIND_FAT;
	return 1;
not_fat:
	if (r < 0)
		return r;
	memset(out, 0, sizeof(*out));
	return 0;
}
