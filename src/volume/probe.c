/* Volume probe: what a volume holds, from its first sectors, with label and
 * UUID spelled exactly as `blkid -p -o export` prints them (libblkid 2.38 is
 * the oracle the integration test compares against).
 *
 * One table of probers, tried in order: md RAID members first (a member
 * with its superblock at the end shows the array's content at its start),
 * then LUKS (its header may sit on anything), BitLocker before FAT and NTFS (a BitLocker boot sector looks
 * like both), FAT last of the boot-sector formats (its weakest signature
 * is one jump byte), then a LUKS2 secondary header for a volume whose
 * primary header was overwritten.
 * A prober returns 1 when it recognised the volume (filling out), 0 when
 * not, and a negative errno only when a read failed.  Damaged or truncated
 * content is "not recognised", never an error.  The probers are in
 * probe_crypt.c (LUKS, BitLocker, LVM2), probe_fs.c (NTFS, ext, XFS, swap)
 * and probe_fat.c; the on-disk layouts in each module's *_format.h.
 *
 * Known, deliberate differences from libblkid:
 *  - NTFS: libblkid rejects a volume whose MFT records 0 and 3 do not start
 *    with "FILE"; we keep kind ntfs (the boot sector is valid) with an empty
 *    label.  We apply the update-sequence fixups libblkid skips.
 *  - ext: a superblock that is neither ext2/3/4 to libblkid (needs_recovery
 *    without a journal) is ext2 here; a journal device is unknown (blkid:
 *    jbd); a test_fs ext4 is ext4 (blkid: ext4dev).
 *  - FAT labels are copied as stored (OEM code page bytes), as libblkid
 *    does; everything else is UTF-8. */
#include "volume/probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "volume/probe_int.h"

/* Read len bytes at off when the volume has them: 1 read, 0 absent,
 * negative errno when the read failed. */
int probe_read_opt(struct vu_blk *vol, void *buf, size_t len, uint64_t off)
{
	int r;

	if (off > vol->size || len > vol->size - off)
		return 0;
	r = vu_blk_read(vol, buf, len, off);
	return r < 0 ? r : 1;
}

/* ---- value helpers: libblkid's set_label / strncpy_uuid ---- */

static int is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

static void rtrim(char *s)
{
	size_t n = strlen(s);

	while (n && is_blank((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* Copy a fixed-size, NUL-padded string field; trailing blanks dropped. */
void probe_set_str(char *dst, size_t dstsz, const uint8_t *src, size_t len)
{
	size_t n = 0;

	while (n < len && n + 1 < dstsz && src[n])
		n++;
	memcpy(dst, src, n);
	dst[n] = '\0';
	rtrim(dst);
}

int probe_is_zero(const uint8_t *p, size_t len)
{
	while (len--)
		if (*p++)
			return 0;
	return 1;
}

/* RFC 4122 byte order, lower case; nothing for an all-zero UUID. */
void probe_set_uuid(struct vu_probe *out, const uint8_t u[16])
{
	if (probe_is_zero(u, 16))
		return;
	snprintf(out->uuid, sizeof(out->uuid),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

void probe_set_detail(struct vu_probe *out, const char *s)
{
	snprintf(out->detail, sizeof(out->detail), "%s", s);
}

/* ---- the table ---- */

static const struct prober {
	const char *name;
	probe_fn *probe;
} probers[] = {
	{ "md", probe_md },
	{ "luks", probe_luks },
	{ "bitlocker", probe_bitlocker },
	{ "lvm2", probe_lvm2 },
	{ "ntfs", probe_ntfs },
	{ "xfs", probe_xfs },
	{ "ext", probe_ext },
	{ "swap", probe_swap },
	{ "fat", probe_fat },
	{ "luks2-secondary", probe_luks2_secondary },
};

int vu_probe(struct vu_blk *vol, struct vu_probe *out)
{
	struct head *h;
	int r = 0;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!vol || !out)
		return vu_fail(-EINVAL, "probe: no volume or result");
	h = malloc(sizeof(*h));
	if (!h)
		return vu_fail(-ENOMEM, "probe: out of memory");
	h->len = vol->size < HEAD_MAX ? (size_t)vol->size : HEAD_MAX;
	r = vu_blk_read(vol, h->b, h->len, 0);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < sizeof(probers) / sizeof(probers[0]); i++) {
		r = probers[i].probe(vol, h, out);
		if (r < 0) {
			memset(out, 0, sizeof(*out));
			goto out;
		}
		if (r > 0) {
			vu_log(VU_LOG_DEBUG, "%s: %s label='%s' uuid=%s %s",
			       vol->desc, vu_kind_name(out->kind), out->label,
			       out->uuid, out->detail);
			r = 0;
			goto out;
		}
		/* a prober that gave up leaves nothing behind */
		memset(out, 0, sizeof(*out));
	}
	out->kind = VU_KIND_UNKNOWN;
out:
	free(h);
	return r;
}

const char *vu_kind_name(enum vu_kind kind)
{
	static const char *const names[] = {
		[VU_KIND_UNKNOWN] = "unknown",
		[VU_KIND_BITLOCKER] = "bitlocker",
		[VU_KIND_LUKS1] = "luks1",
		[VU_KIND_LUKS2] = "luks2",
		[VU_KIND_LVM2] = "lvm2",
		[VU_KIND_NTFS] = "ntfs",
		[VU_KIND_EXT2] = "ext2",
		[VU_KIND_EXT3] = "ext3",
		[VU_KIND_EXT4] = "ext4",
		[VU_KIND_XFS] = "xfs",
		[VU_KIND_FAT] = "fat",
		[VU_KIND_SWAP] = "swap",
		[VU_KIND_MD] = "md",
	};

	if ((unsigned)kind >= sizeof(names) / sizeof(names[0]) || !names[kind])
		return "unknown";
	return names[kind];
}
