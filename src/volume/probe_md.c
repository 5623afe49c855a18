/* The volume probe's md RAID members (md/md_format.h): a version 1.1
 * superblock at the start, 1.2 at 4 KiB, 1.0 in the last 8 KiB and 0.90
 * in the last 64 KiB.  Tried before everything else, as libblkid does: a
 * RAID1 member with its superblock at the end shows the array's content
 * (a file system, a LUKS header) at its start, and is still a member.
 * Only the magic, the version and where the superblock says it is are
 * checked here; src/md checks the rest (a damaged superblock is reported
 * there, naming the field).  Label and UUID as libblkid spells them: the
 * "host:name" of 1.x; the array UUID's bytes as stored (1.x) or its four
 * words' values (0.90), as mdadm prints them too. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/bytes.h"
#include "md/md_format.h"
#include "volume/probe_int.h"

/* A 1.x superblock at byte off: 1 when it is one and says it is there. */
static int md1_at(const uint8_t *sb, uint64_t off, const char *version,
		  struct vu_probe *out)
{
	if (vu_le32(sb + MD1_MAGIC) != MD_MAGIC ||
	    vu_le32(sb + MD1_MAJOR) != 1 ||
	    vu_le64(sb + MD1_SUPER_OFFSET) != off / MD_SECTOR)
		return 0;
	out->kind = VU_KIND_MD;
	probe_set_str(out->label, sizeof(out->label), sb + MD1_SET_NAME,
		      MD1_SET_NAME_LEN);
	probe_set_uuid(out, sb + MD1_SET_UUID);
	snprintf(out->detail, sizeof(out->detail), "metadata %s", version);
	return 1;
}

static int md1_end(struct vu_blk *vol, struct vu_probe *out)
{
	uint8_t sb[MD1_HEADER_SIZE];
	uint64_t off;
	int r;

	if (vol->size < 16 * MD_SECTOR)
		return 0;
	off = MD10_OFFSET(vol->size);
	r = probe_read_opt(vol, sb, sizeof(sb), off);
	return r <= 0 ? r : md1_at(sb, off, "1.0", out);
}

static int md0_end(struct vu_blk *vol, struct vu_probe *out)
{
	uint8_t sb[MD0_W(16)], u[16];
	uint64_t off;
	int r;

	if (vol->size < 2 * MD0_RESERVED)
		return 0;
	off = MD0_OFFSET(vol->size);
	r = probe_read_opt(vol, sb, sizeof(sb), off);
	if (r <= 0)
		return r;
	if (vu_le32(sb + MD0_MAGIC) != MD_MAGIC ||
	    vu_le32(sb + MD0_MAJOR) != 0 ||
	    (vu_le32(sb + MD0_MINOR) != 90 && vu_le32(sb + MD0_MINOR) != 91))
		return 0;
	out->kind = VU_KIND_MD;
	/* four host-order words: libblkid prints each word's value */
	vu_put_be32(u, vu_le32(sb + MD0_SET_UUID0));
	for (int i = 0; i < 3; i++)
		vu_put_be32(u + 4 + 4 * i, vu_le32(sb + MD0_SET_UUID1 + 4 * i));
	probe_set_uuid(out, u);
	probe_set_detail(out, "metadata 0.90");
	return 1;
}

int probe_md(struct vu_blk *vol, const struct head *h, struct vu_probe *out)
{
	int r;

	if (head_has(h, MD11_OFFSET, MD1_HEADER_SIZE) &&
	    md1_at(h->b + MD11_OFFSET, MD11_OFFSET, "1.1", out))
		return 1;
	if (head_has(h, MD12_OFFSET, MD1_HEADER_SIZE) &&
	    md1_at(h->b + MD12_OFFSET, MD12_OFFSET, "1.2", out))
		return 1;
	r = md1_end(vol, out);
	if (r != 0)
		return r;
	return md0_end(vol, out);
}
