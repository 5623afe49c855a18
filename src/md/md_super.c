/* Reading one md member's superblock (md_format.h): where each version
 * keeps it, its checksum, and the fields the assembly needs, each checked
 * against the member before anything trusts it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"
#include "md/md_format.h"
#include "md/md_int.h"

/* mdadm's and the kernel's checksum: a 64-bit sum of 32-bit words (and a
 * last 16-bit one), folded once; the checksum field counts as zero. */
static uint32_t md_csum(const uint8_t *sb, size_t len, size_t csum_off)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i + 4 <= len; i += 4)
		if (i != csum_off)
			sum += vu_le32(sb + i);
	if (len - i == 2)
		sum += vu_le16(sb + i);
	return (uint32_t)((sum & 0xffffffffu) + (sum >> 32));
}

static int bad(const struct vu_md_member *m, uint64_t off, const char *what)
{
	return vu_blk_fail(m->blk, -EUCLEAN, "md: superblock %s at %" PRIu64
			   ": %s", m->metadata, off, what);
}

static void uuid_text(struct vu_md_member *m, int words)
{
	char *p = m->uuid_str;

	for (int g = 0; g < 4; g++) {
		const uint8_t *u = m->uuid + 4 * g;

		if (g)
			*p++ = ':';
		/* 0.90 keeps four host-order words, mdadm prints their
		 * values; 1.x keeps bytes, printed in order */
		if (words)
			p += sprintf(p, "%08" PRIx32, vu_le32(u));
		else
			p += sprintf(p, "%02x%02x%02x%02x", u[0], u[1], u[2],
				     u[3]);
	}
}

/* ---- version 1.x ---- */

static int load_v1(struct vu_md_member *m, const uint8_t *sb, uint64_t off,
		   uint64_t devsz)
{
	uint32_t max_dev = vu_le32(sb + MD1_MAX_DEV);
	uint32_t want, got;

	if (max_dev > MD1_MAX_DEV_LIMIT)
		return bad(m, off, "max_dev larger than a 4 KiB superblock "
			   "holds");
	want = vu_le32(sb + MD1_SB_CSUM);
	got = md_csum(sb, MD1_HEADER_SIZE + 2 * (size_t)max_dev, MD1_SB_CSUM);
	if (got != want) {
		char msg[80];

		snprintf(msg, sizeof(msg), "checksum 0x%08x, expected 0x%08x",
			 got, want);
		return bad(m, off, msg);
	}
	if (vu_le64(sb + MD1_SUPER_OFFSET) != off / MD_SECTOR)
		return bad(m, off, "super_offset names another place");
	memcpy(m->uuid, sb + MD1_SET_UUID, 16);
	uuid_text(m, 0);
	memcpy(m->set_name, sb + MD1_SET_NAME, MD1_SET_NAME_LEN);
	m->set_name[MD1_SET_NAME_LEN] = '\0';
	m->minor = -1;
	m->level = (int32_t)vu_le32(sb + MD1_LEVEL);
	m->layout = vu_le32(sb + MD1_LAYOUT);
	m->chunk = vu_le32(sb + MD1_CHUNKSIZE);
	m->raid_disks = vu_le32(sb + MD1_RAID_DISKS);
	m->size = vu_le64(sb + MD1_SIZE);
	m->data_offset = vu_le64(sb + MD1_DATA_OFFSET);
	m->data_size = vu_le64(sb + MD1_DATA_SIZE);
	m->events = vu_le64(sb + MD1_EVENTS);
	m->features = vu_le32(sb + MD1_FEATURE_MAP);
	m->recovery_offset = vu_le64(sb + MD1_RECOVERY_OFFSET);
	m->dev_number = vu_le32(sb + MD1_DEV_NUMBER);
	m->max_dev = max_dev;
	/* the data area lies within the member, beside the superblock */
	if (m->data_offset > devsz / MD_SECTOR ||
	    m->data_size > devsz / MD_SECTOR - m->data_offset)
		return bad(m, off, "data area (data_offset, data_size) runs "
			   "past the end of the member");
	if (m->size > m->data_size && m->level != 0 &&
	    m->level != MD_LEVEL_LINEAR)
		return bad(m, off, "size is larger than data_size");
	m->roles = calloc(max_dev ? max_dev : 1, sizeof(*m->roles));
	if (!m->roles)
		return vu_fail(-ENOMEM, "out of memory");
	for (uint32_t i = 0; i < max_dev; i++)
		m->roles[i] = vu_le16(sb + MD1_DEV_ROLES + 2 * (size_t)i);
	return 0;
}

/* ---- version 0.90 ---- */

static int load_v0(struct vu_md_member *m, const uint8_t *sb, uint64_t off)
{
	uint32_t want = vu_le32(sb + MD0_SB_CSUM);
	uint32_t got = md_csum(sb, MD0_SIZE, MD0_SB_CSUM);
	const uint8_t *self = sb + MD0_THIS_DISK;

	if (got != want) {
		char msg[80];

		snprintf(msg, sizeof(msg), "checksum 0x%08x, expected 0x%08x",
			 got, want);
		return bad(m, off, msg);
	}
	memcpy(m->uuid, sb + MD0_SET_UUID0, 4);
	memcpy(m->uuid + 4, sb + MD0_SET_UUID1, 12);
	uuid_text(m, 1);
	m->minor = (int)(vu_le32(sb + MD0_MD_MINOR) & 0xffff);
	m->level = (int32_t)vu_le32(sb + MD0_LEVEL);
	m->layout = vu_le32(sb + MD0_LAYOUT);
	if (vu_le32(sb + MD0_CHUNK_SIZE) % MD_SECTOR)
		return bad(m, off, "chunk_size is not whole sectors");
	m->chunk = vu_le32(sb + MD0_CHUNK_SIZE) / MD_SECTOR;
	m->raid_disks = vu_le32(sb + MD0_RAID_DISKS);
	m->size = (uint64_t)vu_le32(sb + MD0_SIZE_KB) * 2;
	m->data_offset = 0;
	m->data_size = off / MD_SECTOR; /* up to the superblock */
	m->events = (uint64_t)vu_le32(sb + MD0_EVENTS_HI) << 32 |
		    vu_le32(sb + MD0_EVENTS_LO);
	if (vu_le32(sb + MD0_MINOR) == 91)
		m->features = MD_FEATURE_RESHAPE_ACTIVE;
	if (m->size > m->data_size && m->level != 0 &&
	    m->level != MD_LEVEL_LINEAR)
		return bad(m, off, "size is larger than the member");
	m->dev_number = vu_le32(self + MD0_D_NUMBER);
	m->max_dev = MD0_NDISKS;
	m->roles = calloc(MD0_NDISKS, sizeof(*m->roles));
	if (!m->roles)
		return vu_fail(-ENOMEM, "out of memory");
	/* the same role values as 1.x: a slot for an active, in-sync disk */
	for (uint32_t i = 0; i < MD0_NDISKS; i++) {
		const uint8_t *d = sb + MD0_DISKS + i * (size_t)MD0_DESC_SIZE;
		uint32_t st = vu_le32(d + MD0_D_STATE);
		uint32_t slot = vu_le32(d + MD0_D_RAID_DISK);

		if (st & (MD0_DISK_FAULTY | MD0_DISK_REMOVED))
			m->roles[i] = MD_ROLE_FAULTY;
		else if ((st & (MD0_DISK_ACTIVE | MD0_DISK_SYNC)) ==
				 (MD0_DISK_ACTIVE | MD0_DISK_SYNC) &&
			 slot < MD_ROLE_MAX)
			m->roles[i] = (uint16_t)slot;
		else
			m->roles[i] = MD_ROLE_SPARE;
	}
	return 0;
}

/* Where each version keeps its superblock on a member of devsz bytes. */
static int find_super(struct vu_md_member *m, uint8_t *sb, uint64_t *at)
{
	uint64_t devsz = m->blk->size, sectors = devsz / MD_SECTOR;
	const struct {
		const char *version;
		uint64_t off;
		int ok;
	} v1[] = {
		{ "1.1", MD11_OFFSET, devsz >= 8192 },
		{ "1.2", MD12_OFFSET, devsz >= 8192 },
		{ "1.0", sectors >= 32 ? MD10_OFFSET(devsz) : 0,
		  sectors >= 32 },
	};
	uint64_t off0 = MD0_OFFSET(devsz);
	int r;

	for (size_t i = 0; i < sizeof(v1) / sizeof(v1[0]); i++) {
		if (!v1[i].ok)
			continue;
		r = vu_blk_read(m->blk, sb, MD1_MAX_SIZE, v1[i].off);
		if (r < 0)
			return r;
		if (vu_le32(sb + MD1_MAGIC) != MD_MAGIC ||
		    vu_le32(sb + MD1_MAJOR) != 1 ||
		    vu_le64(sb + MD1_SUPER_OFFSET) != v1[i].off / MD_SECTOR)
			continue;
		snprintf(m->metadata, sizeof(m->metadata), "%s",
			 v1[i].version);
		*at = v1[i].off;
		return 1;
	}
	if (devsz < 2 * MD0_RESERVED)
		return 0;
	r = vu_blk_read(m->blk, sb, MD0_SIZE, off0);
	if (r < 0)
		return r;
	if (vu_le32(sb + MD0_MAGIC) != MD_MAGIC)
		return 0;
	if (vu_le32(sb + MD0_MAJOR) != 0 || (vu_le32(sb + MD0_MINOR) != 90 &&
					      vu_le32(sb + MD0_MINOR) != 91))
		return vu_blk_fail(m->blk, -ENOTSUP,
				   "md: superblock at %" PRIu64 ": version "
				   "%u.%u, expected 0.90 or 1.x", off0,
				   vu_le32(sb + MD0_MAJOR),
				   vu_le32(sb + MD0_MINOR));
	snprintf(m->metadata, sizeof(m->metadata), "0.90");
	*at = off0;
	return 1;
}

int vu_md_scan(struct vu_blk *blk, const char *label,
	       struct vu_md_member **out)
{
	struct vu_md_member *m;
	uint8_t *sb;
	uint64_t at = 0;
	int r;

	*out = NULL;
	if (!blk)
		return vu_fail(-EINVAL, "md: no device");
	m = calloc(1, sizeof(*m));
	sb = malloc(MD1_MAX_SIZE);
	if (m)
		m->label = strdup(label ? label : blk->desc);
	if (!m || !sb || !m->label) {
		if (m)
			free(m->label);
		free(m);
		free(sb);
		return vu_fail(-ENOMEM, "out of memory");
	}
	m->blk = vu_blk_ref(blk);
	r = find_super(m, sb, &at);
	if (r == 0)
		r = vu_blk_fail(blk, -EINVAL, "md: no md superblock (versions "
				"1.1, 1.2, 1.0, 0.90 looked for)");
	if (r > 0)
		r = strcmp(m->metadata, "0.90") ? load_v1(m, sb, at, blk->size)
						 : load_v0(m, sb, at);
	if (r == 0 && m->dev_number >= m->max_dev)
		r = bad(m, at, "dev_number is outside the role table");
	free(sb);
	if (r < 0) {
		vu_md_member_free(m);
		return r;
	}
	*out = m;
	return 0;
}

void vu_md_member_free(struct vu_md_member *m)
{
	if (!m)
		return;
	vu_blk_unref(m->blk);
	free(m->roles);
	free(m->label);
	free(m);
}

const char *vu_md_member_uuid(const struct vu_md_member *m)
{
	return m->uuid_str;
}
