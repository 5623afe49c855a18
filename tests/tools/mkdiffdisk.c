/*
 * mkdiffdisk: test-only writer of differencing VHD and VHDX children.
 *
 * No packaged tool writes them (qemu-img's vpc and vhdx drivers have no
 * backing-file support), so the test suite makes its own and proves the
 * result against libvhdi's vhdiinfo and vhdimount before any test uses it.
 * Never installed.
 *
 *   mkdiffdisk --format vhd|vhdx --parent PARENT_FILE --parent-raw PARENT.raw
 *              --new NEW.raw [--parent-path-style relative|absolute|both]
 *              [--block-size N] CHILD_FILE
 *
 * The child has the parent's virtual size and stores exactly the blocks in
 * which NEW.raw differs from PARENT.raw; its sector bitmaps mark the sectors
 * that differ, and the other sectors of a stored block hold zeros.  Every
 * other block is left unallocated, so it reads from the parent.  The parent's identity (VHD unique id, VHDX DataWriteGuid), size and
 * sector sizes are read from PARENT_FILE itself, which may be a fixed,
 * dynamic or differencing VHD or a VHDX.
 *
 * Formats: "Virtual Hard Disk Image Format Specification" (Microsoft, 2006)
 * and [MS-VHDX] v20160714.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/crc.h"

#define MIB (1024u * 1024u)
#define VHD_EPOCH 946684800 /* 2000-01-01T00:00:00Z in Unix time */

/* GUIDs in the text order in which they are written ("big-endian"). */
static const char VHDX_BAT_REGION[] = "2dc27766-f623-4200-9d64-115e9bfd4a08";
static const char VHDX_METADATA_REGION[] =
	"8b7ca206-4790-4b9a-b8fe-575f050f886e";
static const char VHDX_FILE_PARAMETERS[] =
	"caa16737-fa36-4d43-b3b6-33f0aa44e76b";
static const char VHDX_VIRTUAL_DISK_SIZE[] =
	"2fa54224-cd1b-4876-b211-5dbed83bf4b8";
static const char VHDX_PAGE83_DATA[] = "beca12ab-b2e6-4523-93ef-c309e000c746";
static const char VHDX_LOGICAL_SECTOR_SIZE[] =
	"8141bf1d-a96f-4709-ba47-f233a8faab5f";
static const char VHDX_PHYSICAL_SECTOR_SIZE[] =
	"cda348c7-445d-4471-9cc9-e9885251c556";
static const char VHDX_PARENT_LOCATOR[] =
	"a8d35f2d-b30b-454d-abf7-d3d84834ab0c";
static const char VHDX_LOCATOR_TYPE[] = "b04aefb7-d19e-4a81-b789-25b8e9445913";

enum path_style { PATH_RELATIVE = 1, PATH_ABSOLUTE = 2, PATH_BOTH = 3 };

struct parent {
	bool is_vhdx;
	uint64_t size;		/* virtual size in bytes */
	uint32_t lss, pss;	/* logical / physical sector size */
	uint8_t id[16];		/* identity, in text order */
	bool have_footer;	/* VHD parents: their footer, for geometry */
	uint8_t footer[512];
	uint32_t mtime_vhd;	/* modification time, VHD epoch */
	char *abs_path;		/* realpath of the parent */
	char *win_path;		/* the same as Windows writes it, "C:\..." */
	char *rel_path;		/* from the child's folder, '\' separated */
	char *base_name;
};

struct opts {
	const char *format, *parent, *parent_raw, *new_raw, *child;
	enum path_style style;
	uint32_t block_size;
};

static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("mkdiffdisk: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static uint64_t round_up(uint64_t v, uint64_t to)
{
	return (v + to - 1) / to * to;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* ---- GUIDs ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "xxxxxxxx-xxxx-..." to 16 bytes in text order */
static void guid_text_to_be(const char *s, uint8_t g[16])
{
	size_t n = 0;

	for (; *s && n < 16; s++) {
		if (*s == '-')
			continue;
		g[n++] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1]));
		s++;
	}
}

/* text order <-> Microsoft's on-disk order (first three fields LE) */
static void guid_swap(const uint8_t in[16], uint8_t out[16])
{
	static const int map[16] = { 3, 2, 1, 0, 5, 4, 7, 6,
				     8, 9, 10, 11, 12, 13, 14, 15 };

	for (int i = 0; i < 16; i++)
		out[i] = in[map[i]];
}

static void guid_disk(const char *text, uint8_t out[16])
{
	uint8_t be[16];

	guid_text_to_be(text, be);
	guid_swap(be, out);
}

static void guid_format_braced(const uint8_t be[16], char out[39])
{
	snprintf(out, 39,
		 "{%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x}",
		 be[0], be[1], be[2], be[3], be[4], be[5], be[6], be[7], be[8],
		 be[9], be[10], be[11], be[12], be[13], be[14], be[15]);
}

static int random_bytes(uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = getrandom(buf, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail("getrandom: %s", strerror(errno));
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* random version-4 GUID, in text order */
static int guid_random(uint8_t be[16])
{
	if (random_bytes(be, 16))
		return -1;
	be[6] = (uint8_t)((be[6] & 0x0f) | 0x40);
	be[8] = (uint8_t)((be[8] & 0x3f) | 0x80);
	return 0;
}

/* ---- UTF-8 to UTF-16 ---- */

/* Encode UTF-8 text as UTF-16 code units, little- or big-endian, without a
 * terminator.  Returns the byte length or -1. */
static long utf16_encode(const char *s, bool big_endian, uint8_t *out,
			 size_t out_size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	while (*p) {
		uint32_t cp;
		int extra;

		if (*p < 0x80) {
			cp = *p;
			extra = 0;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = *p & 0x1f;
			extra = 1;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			extra = 2;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p & 0x07;
			extra = 3;
		} else {
			return fail("path is not valid UTF-8: %s", s);
		}
		p++;
		for (int i = 0; i < extra; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return fail("path is not valid UTF-8: %s", s);
			cp = cp << 6 | (*p & 0x3f);
		}
		uint16_t units[2];
		int count = 1;

		if (cp >= 0x10000) {
			cp -= 0x10000;
			units[0] = (uint16_t)(0xd800 | cp >> 10);
			units[1] = (uint16_t)(0xdc00 | (cp & 0x3ff));
			count = 2;
		} else {
			units[0] = (uint16_t)cp;
		}
		for (int i = 0; i < count; i++) {
			if (n + 2 > out_size)
				return fail("path too long: %s", s);
			if (big_endian)
				vu_put_be16(out + n, units[i]);
			else
				vu_put_le16(out + n, units[i]);
			n += 2;
		}
	}
	return (long)n;
}

/* ---- file I/O ---- */

static int pread_full(int fd, void *buf, size_t len, uint64_t off,
		      const char *name)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("%s: read at %" PRIu64 ": %s", name, off,
				    strerror(errno));
		if (n == 0)
			return fail("%s: short read at %" PRIu64, name, off);
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int pwrite_full(int fd, const void *buf, size_t len, uint64_t off,
		       const char *name)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail("%s: write at %" PRIu64 ": %s", name, off,
				    n < 0 ? strerror(errno) : "no progress");
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- reading the parent ---- */

static uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t skip)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i++)
		if (i < skip || i >= skip + 4)
			sum += buf[i];
	return ~sum;
}

static int read_vhd_parent(int fd, uint64_t file_size, struct parent *p,
			   const char *name)
{
	uint8_t *f = p->footer;

	if (file_size < 512)
		return fail("%s: too small for a VHD", name);
	if (pread_full(fd, f, 512, file_size - 512, name))
		return -1;
	if (memcmp(f, "conectix", 8) != 0) {
		/* a dynamic disk keeps a copy of its footer at offset 0 */
		if (pread_full(fd, f, 512, 0, name))
			return -1;
		if (memcmp(f, "conectix", 8) != 0)
			return fail("%s: neither VHDX nor VHD (no footer)",
				    name);
	}
	if (vu_be32(f + 64) != vhd_checksum(f, 512, 64))
		return fail("%s: VHD footer checksum 0x%08x, expected 0x%08x",
			    name, vu_be32(f + 64), vhd_checksum(f, 512, 64));
	uint32_t type = vu_be32(f + 60);

	if (type != 2 && type != 3 && type != 4)
		return fail("%s: VHD disk type %u is not fixed, dynamic or "
			    "differencing", name, type);
	p->have_footer = true;
	p->size = vu_be64(f + 48);
	if (p->size == 0)
		return fail("%s: VHD current size is 0", name);
	p->lss = p->pss = 512;
	memcpy(p->id, f + 68, 16);
	return 0;
}

/* The current VHDX header: valid signature and CRC, highest sequence. */
static int read_vhdx_header(int fd, uint8_t out[4096], const char *name)
{
	uint8_t h[4096];
	uint64_t best_seq = 0;
	bool found = false;

	for (int i = 0; i < 2; i++) {
		if (pread_full(fd, h, sizeof(h), (uint64_t)(i + 1) * 65536,
			       name))
			return -1;
		uint32_t want = vu_le32(h + 4);

		vu_put_le32(h + 4, 0);
		if (memcmp(h, "head", 4) != 0 ||
		    vu_crc32c(0, h, sizeof(h)) != want)
			continue;
		vu_put_le32(h + 4, want);
		if (!found || vu_le64(h + 8) > best_seq) {
			best_seq = vu_le64(h + 8);
			memcpy(out, h, sizeof(h));
			found = true;
		}
	}
	if (!found)
		return fail("%s: no valid VHDX header", name);
	return 0;
}

static int read_vhdx_parent(int fd, struct parent *p, const char *name)
{
	uint8_t h[4096], guid[16], meta_guid[16];
	uint8_t *rt = NULL, *mt = NULL;
	uint64_t meta_off = 0;
	uint32_t meta_len = 0;
	int ret = -1;

	if (read_vhdx_header(fd, h, name))
		return -1;
	/* DataWriteGuid, the identity children link to */
	guid_swap(h + 32, p->id);

	rt = malloc(65536);
	mt = malloc(65536);
	if (!rt || !mt) {
		fail("out of memory");
		goto out;
	}
	if (pread_full(fd, rt, 65536, 3 * 65536, name))
		goto out;
	uint32_t want = vu_le32(rt + 4);

	vu_put_le32(rt + 4, 0);
	if (memcmp(rt, "regi", 4) != 0 || vu_crc32c(0, rt, 65536) != want) {
		fail("%s: VHDX region table 1 is not valid", name);
		goto out;
	}
	guid_disk(VHDX_METADATA_REGION, meta_guid);
	uint32_t count = vu_le32(rt + 8);

	for (uint32_t i = 0; i < count && i < 2047; i++) {
		const uint8_t *e = rt + 16 + 32 * i;

		if (memcmp(e, meta_guid, 16) == 0) {
			meta_off = vu_le64(e + 16);
			meta_len = vu_le32(e + 24);
		}
	}
	if (!meta_off || meta_len < 65536) {
		fail("%s: VHDX has no metadata region", name);
		goto out;
	}
	if (pread_full(fd, mt, 65536, meta_off, name))
		goto out;
	if (memcmp(mt, "metadata", 8) != 0) {
		fail("%s: VHDX metadata table signature missing", name);
		goto out;
	}
	count = vu_le16(mt + 10);
	for (uint32_t i = 0; i < count && i < 2047; i++) {
		const uint8_t *e = mt + 32 + 32 * i;
		uint8_t item[8] = { 0 };
		uint32_t off = vu_le32(e + 16), len = vu_le32(e + 20);

		if (len > sizeof(item))
			continue;
		if (len && pread_full(fd, item, len, meta_off + off, name))
			goto out;
		guid_disk(VHDX_VIRTUAL_DISK_SIZE, guid);
		if (memcmp(e, guid, 16) == 0)
			p->size = vu_le64(item);
		guid_disk(VHDX_LOGICAL_SECTOR_SIZE, guid);
		if (memcmp(e, guid, 16) == 0)
			p->lss = vu_le32(item);
		guid_disk(VHDX_PHYSICAL_SECTOR_SIZE, guid);
		if (memcmp(e, guid, 16) == 0)
			p->pss = vu_le32(item);
	}
	if (!p->size || (p->lss != 512 && p->lss != 4096) ||
	    (p->pss != 512 && p->pss != 4096)) {
		fail("%s: VHDX metadata lacks a valid size or sector sizes",
		     name);
		goto out;
	}
	p->is_vhdx = true;
	ret = 0;
out:
	free(rt);
	free(mt);
	return ret;
}

/* Path of target relative to the folder dir (both absolute, canonical),
 * with Windows separators: ".\parent.vhd", "..\base\parent.vhd". */
static char *relative_path(const char *dir, const char *target)
{
	size_t common = 0, i;
	int ups = 0;

	/* longest shared prefix of whole components, ending at a '/' */
	for (i = 0; dir[i] && dir[i] == target[i]; i++)
		if (dir[i] == '/')
			common = i;
	if (dir[i] == '\0' && target[i] == '/')
		common = i;
	/* one ".." for each component of dir past that prefix */
	for (i = common; dir[i]; i++)
		if (dir[i] == '/' && dir[i + 1] != '\0')
			ups++;

	const char *rest = target + common + 1;
	char *out = malloc((size_t)ups * 3 + 2 + strlen(rest) + 1), *q = out;

	if (!out)
		return NULL;
	if (ups == 0) {
		*q++ = '.';
		*q++ = '\\';
	}
	for (int k = 0; k < ups; k++) {
		memcpy(q, "..\\", 3);
		q += 3;
	}
	for (; *rest; rest++)
		*q++ = *rest == '/' ? '\\' : *rest;
	*q = '\0';
	return out;
}

static int read_parent(const struct opts *o, struct parent *p)
{
	uint8_t sig[8];
	struct stat st;
	int fd, ret = -1;
	char *child_copy = NULL, *child_dir = NULL;

	fd = open(o->parent, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("%s: %s", o->parent, strerror(errno));
	if (fstat(fd, &st) != 0) {
		fail("%s: %s", o->parent, strerror(errno));
		goto out;
	}
	if (pread_full(fd, sig, 8, 0, o->parent))
		goto out;
	if (memcmp(sig, "vhdxfile", 8) == 0) {
		if (read_vhdx_parent(fd, p, o->parent))
			goto out;
	} else if (read_vhd_parent(fd, (uint64_t)st.st_size, p, o->parent)) {
		goto out;
	}
	p->mtime_vhd = st.st_mtime > VHD_EPOCH ?
			       (uint32_t)(st.st_mtime - VHD_EPOCH) :
			       0;

	p->abs_path = realpath(o->parent, NULL);
	if (!p->abs_path) {
		fail("%s: %s", o->parent, strerror(errno));
		goto out;
	}
	const char *slash = strrchr(p->abs_path, '/');

	p->base_name = strdup(slash ? slash + 1 : p->abs_path);
	/* the child does not exist yet: canonicalise its folder */
	child_copy = strdup(o->child);
	if (!p->base_name || !child_copy) {
		fail("out of memory");
		goto out;
	}
	char *cslash = strrchr(child_copy, '/');

	if (cslash == child_copy)
		child_dir = realpath("/", NULL);
	else if (cslash) {
		*cslash = '\0';
		child_dir = realpath(child_copy, NULL);
	} else {
		child_dir = realpath(".", NULL);
	}
	if (!child_dir) {
		fail("%s: folder: %s", o->child, strerror(errno));
		goto out;
	}
	p->rel_path = relative_path(child_dir, p->abs_path);
	p->win_path = malloc(strlen(p->abs_path) + 3);
	if (!p->rel_path || !p->win_path) {
		fail("out of memory");
		goto out;
	}
	/* No drive letters here: present the path on drive C:, so a reader
	 * on Linux can only use its last component, as with real images. */
	char *w = p->win_path;

	*w++ = 'C';
	*w++ = ':';
	for (const char *a = p->abs_path; *a; a++)
		*w++ = *a == '/' ? '\\' : *a;
	*w = '\0';
	ret = 0;
out:
	free(child_copy);
	free(child_dir);
	close(fd);
	return ret;
}

/* ---- comparing the raw images ---- */

struct differ {
	int fd_old, fd_new;
	const char *old_name, *new_name;
	uint64_t size;
	uint32_t block_size, sector;
	uint8_t *old_buf, *new_buf;
};

/* Read block i of both images (zero-padded past the end) and fill the
 * per-sector map: 1 where NEW differs.  new_buf then holds NEW's differing
 * sectors and zeros elsewhere, as a block that was only partly written: a
 * reader that ignores the sector bitmap reads zeros, not the right data.
 * Returns the number of differing sectors, the number of sectors in range
 * through *in_range, or -1. */
static long diff_block(struct differ *d, uint64_t i, uint8_t *map,
		       uint32_t *in_range)
{
	uint64_t off = i * d->block_size;
	uint64_t len = d->size - off < d->block_size ? d->size - off :
							  d->block_size;
	uint32_t sectors = (uint32_t)(len / d->sector);
	long count = 0;

	memset(d->old_buf, 0, d->block_size);
	memset(d->new_buf, 0, d->block_size);
	if (pread_full(d->fd_old, d->old_buf, len, off, d->old_name) ||
	    pread_full(d->fd_new, d->new_buf, len, off, d->new_name))
		return -1;
	for (uint32_t s = 0; s < sectors; s++) {
		size_t at = (size_t)s * d->sector;

		map[s] = memcmp(d->old_buf + at, d->new_buf + at,
				d->sector) != 0;
		if (!map[s])
			memset(d->new_buf + at, 0, d->sector);
		count += map[s];
	}
	*in_range = sectors;
	return count;
}

static int open_differ(const struct opts *o, const struct parent *p,
		       uint32_t sector, struct differ *d)
{
	struct stat st;

	memset(d, 0, sizeof(*d));
	d->fd_old = d->fd_new = -1;
	d->old_name = o->parent_raw;
	d->new_name = o->new_raw;
	d->size = p->size;
	d->block_size = o->block_size;
	d->sector = sector;
	d->fd_old = open(o->parent_raw, O_RDONLY | O_CLOEXEC);
	if (d->fd_old < 0)
		return fail("%s: %s", o->parent_raw, strerror(errno));
	d->fd_new = open(o->new_raw, O_RDONLY | O_CLOEXEC);
	if (d->fd_new < 0)
		return fail("%s: %s", o->new_raw, strerror(errno));
	if (fstat(d->fd_old, &st) || (uint64_t)st.st_size != p->size)
		return fail("%s: size %jd, parent's virtual size %" PRIu64,
			    o->parent_raw, (intmax_t)st.st_size, p->size);
	if (fstat(d->fd_new, &st) || (uint64_t)st.st_size != p->size)
		return fail("%s: size %jd, parent's virtual size %" PRIu64,
			    o->new_raw, (intmax_t)st.st_size, p->size);
	if (p->size % sector)
		return fail("parent's virtual size %" PRIu64
			    " is not a multiple of %u", p->size, sector);
	d->old_buf = malloc(d->block_size);
	d->new_buf = malloc(d->block_size);
	if (!d->old_buf || !d->new_buf)
		return fail("out of memory");
	return 0;
}

static void close_differ(struct differ *d)
{
	if (d->fd_old >= 0)
		close(d->fd_old);
	if (d->fd_new >= 0)
		close(d->fd_new);
	free(d->old_buf);
	free(d->new_buf);
}

/* ---- VHD ---- */

/* CHS geometry from the 2006 specification's algorithm */
static void vhd_geometry(uint64_t size, uint8_t out[4])
{
	uint64_t total = size / 512;
	uint32_t spt, heads, cth;

	if (total > 65535ull * 16 * 255)
		total = 65535ull * 16 * 255;
	if (total >= 65535ull * 16 * 63) {
		spt = 255;
		heads = 16;
		cth = (uint32_t)(total / spt);
	} else {
		spt = 17;
		cth = (uint32_t)(total / spt);
		heads = (cth + 1023) / 1024;
		if (heads < 4)
			heads = 4;
		if (cth >= heads * 1024 || heads > 16) {
			spt = 31;
			heads = 16;
			cth = (uint32_t)(total / spt);
		}
		if (cth >= heads * 1024) {
			spt = 63;
			heads = 16;
			cth = (uint32_t)(total / spt);
		}
	}
	vu_put_be16(out, (uint16_t)(cth / heads));
	out[2] = (uint8_t)heads;
	out[3] = (uint8_t)spt;
}

struct locator {
	const char *code;	/* "W2ru" or "W2ku" */
	uint8_t data[65536];
	uint32_t len;
};

static int write_vhd(const struct opts *o, const struct parent *p, int fd)
{
	const uint32_t bs = o->block_size;
	const uint64_t nblocks = (p->size + bs - 1) / bs;
	const uint32_t bitmap_size = (uint32_t)round_up(bs / 512 / 8, 512);
	const uint32_t sectors_per_block = bs / 512;
	uint8_t footer[512] = { 0 }, dyn[1024] = { 0 }, uid[16];
	struct locator *locs = NULL;
	uint8_t *bat = NULL, *bitmap = NULL, *map = NULL;
	struct differ d;
	int nlocs = 0, ret = -1;
	uint64_t next, stored = 0;

	if (open_differ(o, p, 512, &d))
		goto out;
	if (nblocks > 0xffffffffu) {
		fail("too many blocks for a VHD");
		goto out;
	}
	locs = calloc(2, sizeof(*locs));
	bat = malloc(round_up(nblocks * 4, 512));
	bitmap = malloc(bitmap_size);
	map = malloc(sectors_per_block);
	if (!locs || !bat || !bitmap || !map) {
		fail("out of memory");
		goto out;
	}
	memset(bat, 0xff, round_up(nblocks * 4, 512));

	/* parent locators: UTF-16LE, no terminator */
	if (o->style & PATH_RELATIVE) {
		long n = utf16_encode(p->rel_path, false, locs[nlocs].data,
				      sizeof(locs[nlocs].data));
		if (n < 0)
			goto out;
		locs[nlocs].code = "W2ru";
		locs[nlocs++].len = (uint32_t)n;
	}
	if (o->style & PATH_ABSOLUTE) {
		long n = utf16_encode(p->win_path, false, locs[nlocs].data,
				      sizeof(locs[nlocs].data));
		if (n < 0)
			goto out;
		locs[nlocs].code = "W2ku";
		locs[nlocs++].len = (uint32_t)n;
	}

	/* layout: footer copy, dynamic header, BAT, locator data, blocks */
	const uint64_t bat_off = 512 + 1024;

	next = bat_off + round_up(nblocks * 4, 512);

	/* dynamic disk header */
	memcpy(dyn, "cxsparse", 8);
	vu_put_be64(dyn + 8, UINT64_MAX);
	vu_put_be64(dyn + 16, bat_off);
	vu_put_be32(dyn + 24, 0x00010000);
	vu_put_be32(dyn + 28, (uint32_t)nblocks);
	vu_put_be32(dyn + 32, bs);
	memcpy(dyn + 40, p->id, 16);
	vu_put_be32(dyn + 56, p->mtime_vhd);
	/* parent name: the file name, or the only path there is */
	if (utf16_encode(o->style == PATH_ABSOLUTE ? p->win_path : p->base_name,
			 true, dyn + 64, 512) < 0)
		goto out;
	for (int i = 0; i < nlocs; i++) {
		uint8_t *e = dyn + 576 + 24 * i;
		uint32_t space = (uint32_t)round_up(locs[i].len, 512);

		memcpy(e, locs[i].code, 4);
		vu_put_be32(e + 4, space / 512); /* in sectors, per the spec */
		vu_put_be32(e + 8, locs[i].len);
		vu_put_be64(e + 16, next);
		if (pwrite_full(fd, locs[i].data, locs[i].len, next, o->child))
			goto out;
		next += space;
	}
	vu_put_be32(dyn + 36, vhd_checksum(dyn, sizeof(dyn), 36));

	/* blocks: bitmap, then the whole block */
	for (uint64_t i = 0; i < nblocks; i++) {
		uint32_t in_range;
		long n = diff_block(&d, i, map, &in_range);

		if (n < 0)
			goto out;
		if (n == 0)
			continue;
		memset(bitmap, 0, bitmap_size);
		for (uint32_t s = 0; s < in_range; s++)
			if (map[s])
				bitmap[s / 8] |= (uint8_t)(0x80 >> (s % 8));
		vu_put_be32(bat + 4 * i, (uint32_t)(next / 512));
		if (pwrite_full(fd, bitmap, bitmap_size, next, o->child) ||
		    pwrite_full(fd, d.new_buf, bs, next + bitmap_size,
				o->child))
			goto out;
		next += bitmap_size + bs;
		stored++;
	}
	if (pwrite_full(fd, bat, round_up(nblocks * 4, 512), bat_off,
			o->child))
		goto out;

	/* footer, at the end and as a copy at the start */
	memcpy(footer, "conectix", 8);
	vu_put_be32(footer + 8, 2);
	vu_put_be32(footer + 12, 0x00010000);
	vu_put_be64(footer + 16, 512);
	time_t now = time(NULL);

	vu_put_be32(footer + 24,
		    now > VHD_EPOCH ? (uint32_t)(now - VHD_EPOCH) : 0);
	memcpy(footer + 28, "vhdu", 4);
	vu_put_be32(footer + 32, 0x00010000);
	memcpy(footer + 36, "Wi2k", 4);
	if (p->have_footer) {
		vu_put_be64(footer + 40, vu_be64(p->footer + 40));
		memcpy(footer + 56, p->footer + 56, 4);
	} else {
		vu_put_be64(footer + 40, p->size);
		vhd_geometry(p->size, footer + 56);
	}
	vu_put_be64(footer + 48, p->size);
	vu_put_be32(footer + 60, 4);
	if (guid_random(uid))
		goto out;
	memcpy(footer + 68, uid, 16);
	vu_put_be32(footer + 64, vhd_checksum(footer, sizeof(footer), 64));
	if (pwrite_full(fd, footer, 512, 0, o->child) ||
	    pwrite_full(fd, dyn, sizeof(dyn), 512, o->child) ||
	    pwrite_full(fd, footer, 512, next, o->child))
		goto out;
	printf("%s: vhd differencing, %" PRIu64 " of %" PRIu64
	       " blocks stored\n", o->child, stored, nblocks);
	ret = 0;
out:
	close_differ(&d);
	free(locs);
	free(bat);
	free(bitmap);
	free(map);
	return ret;
}

/* ---- VHDX ---- */

enum {
	PAYLOAD_BLOCK_FULLY_PRESENT = 6,
	PAYLOAD_BLOCK_PARTIALLY_PRESENT = 7,
	SB_BLOCK_PRESENT = 6,
};

#define VHDX_LOG_OFF (1 * MIB)
#define VHDX_LOG_LEN (1 * MIB)
#define VHDX_META_OFF (2 * MIB)
#define VHDX_META_LEN (1 * MIB)
#define VHDX_BAT_OFF (3 * MIB)

/* One metadata item: identifier, flags and value, appended to the region. */
struct meta_writer {
	uint8_t *region;
	uint32_t count, next;
};

static int meta_add(struct meta_writer *m, const char *id, uint32_t flags,
		    const void *data, uint32_t len)
{
	uint8_t *e = m->region + 32 + 32 * m->count;

	if (m->next + len > VHDX_META_LEN)
		return fail("metadata region full");
	guid_disk(id, e);
	vu_put_le32(e + 16, m->next);
	vu_put_le32(e + 20, len);
	vu_put_le32(e + 24, flags);
	memcpy(m->region + m->next, data, len);
	m->next = (uint32_t)round_up(m->next + len, 8);
	m->count++;
	return 0;
}

#define META_VIRTUAL_DISK 0x2u
#define META_REQUIRED 0x4u

/* Parent locator: header, key/value entries, then UTF-16LE strings. */
static long vhdx_locator(const struct opts *o, const struct parent *p,
			 uint8_t *buf, size_t size)
{
	const char *keys[3], *values[3];
	char linkage[39], *win32 = NULL;
	int n = 0;
	size_t at;

	guid_format_braced(p->id, linkage);
	keys[n] = "parent_linkage";
	values[n++] = linkage;
	if (o->style & PATH_RELATIVE) {
		keys[n] = "relative_path";
		values[n++] = p->rel_path;
	}
	if (o->style & PATH_ABSOLUTE) {
		/* in the long form "\\?\C:\dir\parent.vhdx" */
		win32 = malloc(strlen(p->win_path) + 5);
		if (!win32)
			return fail("out of memory");
		snprintf(win32, strlen(p->win_path) + 5, "\\\\?\\%s",
			 p->win_path);
		keys[n] = "absolute_win32_path";
		values[n++] = win32;
	}
	memset(buf, 0, 20 + 12 * (size_t)n);
	guid_disk(VHDX_LOCATOR_TYPE, buf);
	vu_put_le16(buf + 18, (uint16_t)n);
	at = 20 + 12 * (size_t)n;
	for (int i = 0; i < n; i++) {
		uint8_t *e = buf + 20 + 12 * i;
		long kl = utf16_encode(keys[i], false, buf + at, size - at);

		if (kl < 0)
			goto err;
		vu_put_le32(e, (uint32_t)at);
		vu_put_le16(e + 8, (uint16_t)kl);
		at += (size_t)kl;
		long vl = utf16_encode(values[i], false, buf + at, size - at);

		if (vl < 0)
			goto err;
		if (vl > 0xffff) {
			fail("locator value too long");
			goto err;
		}
		vu_put_le32(e + 4, (uint32_t)at);
		vu_put_le16(e + 10, (uint16_t)vl);
		at += (size_t)vl;
	}
	free(win32);
	return (long)at;
err:
	free(win32);
	return -1;
}

static int write_vhdx(const struct opts *o, const struct parent *p, int fd)
{
	const uint32_t bs = o->block_size, lss = p->lss;
	const uint64_t nblocks = (p->size + bs - 1) / bs;
	const uint64_t chunk = ((uint64_t)1 << 23) * lss / bs;
	const uint64_t nchunks = (nblocks + chunk - 1) / chunk;
	const uint64_t nentries = nchunks * (chunk + 1);
	const uint64_t bat_len = round_up(nentries * 8, MIB);
	const uint32_t slice = bs / lss / 8; /* bitmap bytes per block */
	uint8_t *buf = NULL, *bat = NULL, *sb = NULL, *map = NULL;
	uint8_t page83[16], file_write[16], data_write[16], g[16];
	struct differ d;
	int ret = -1;
	uint64_t next = VHDX_BAT_OFF + bat_len, stored = 0;
	uint64_t sb_chunk = UINT64_MAX, sb_off = 0;

	if (open_differ(o, p, lss, &d))
		goto out;
	buf = calloc(1, VHDX_META_LEN);
	bat = calloc(1, bat_len);
	sb = calloc(1, MIB);
	map = malloc(bs / lss);
	if (!buf || !bat || !sb || !map) {
		fail("out of memory");
		goto out;
	}

	/* payload blocks, each chunk's sector bitmap block placed before
	 * its first stored payload block */
	for (uint64_t i = 0; i <= nblocks; i++) {
		uint64_t c = i / chunk;
		uint32_t in_range = 0;
		long n = 0;

		if (i < nblocks) {
			n = diff_block(&d, i, map, &in_range);
			if (n < 0)
				goto out;
		}
		if (sb_chunk != UINT64_MAX && (c != sb_chunk || i == nblocks)) {
			if (pwrite_full(fd, sb, MIB, sb_off, o->child))
				goto out;
			sb_chunk = UINT64_MAX;
		}
		if (n == 0)
			continue;
		if (sb_chunk == UINT64_MAX) {
			memset(sb, 0, MIB);
			sb_chunk = c;
			sb_off = next;
			next += MIB;
			vu_put_le64(bat + 8 * (c * (chunk + 1) + chunk),
				 sb_off | SB_BLOCK_PRESENT);
		}
		uint8_t *bits = sb + (i % chunk) * slice;

		for (uint32_t s = 0; s < in_range; s++)
			if (map[s])
				bits[s / 8] |= (uint8_t)(1u << (s % 8));
		uint64_t state = (uint32_t)n == in_range ?
					 PAYLOAD_BLOCK_FULLY_PRESENT :
					 PAYLOAD_BLOCK_PARTIALLY_PRESENT;

		vu_put_le64(bat + 8 * (c * (chunk + 1) + i % chunk), next | state);
		if (pwrite_full(fd, d.new_buf, bs, next, o->child))
			goto out;
		next += bs;
		stored++;
	}
	if (pwrite_full(fd, bat, bat_len, VHDX_BAT_OFF, o->child))
		goto out;

	/* metadata region */
	struct meta_writer m = { .region = buf, .next = 65536 };
	uint8_t item[8];
	long loc_len;

	vu_put_le32(item, bs);
	vu_put_le32(item + 4, 0x2); /* HasParent */
	if (meta_add(&m, VHDX_FILE_PARAMETERS, META_REQUIRED, item, 8))
		goto out;
	vu_put_le64(item, p->size);
	if (meta_add(&m, VHDX_VIRTUAL_DISK_SIZE,
		     META_VIRTUAL_DISK | META_REQUIRED, item, 8))
		goto out;
	if (guid_random(g))
		goto out;
	guid_swap(g, page83);
	if (meta_add(&m, VHDX_PAGE83_DATA, META_VIRTUAL_DISK | META_REQUIRED,
		     page83, 16))
		goto out;
	vu_put_le32(item, lss);
	if (meta_add(&m, VHDX_LOGICAL_SECTOR_SIZE,
		     META_VIRTUAL_DISK | META_REQUIRED, item, 4))
		goto out;
	vu_put_le32(item, p->pss);
	if (meta_add(&m, VHDX_PHYSICAL_SECTOR_SIZE,
		     META_VIRTUAL_DISK | META_REQUIRED, item, 4))
		goto out;
	loc_len = vhdx_locator(o, p, buf + m.next, VHDX_META_LEN - m.next);
	if (loc_len < 0)
		goto out;
	{
		/* meta_add copies; the locator is already in place */
		uint8_t *e = buf + 32 + 32 * m.count;

		guid_disk(VHDX_PARENT_LOCATOR, e);
		vu_put_le32(e + 16, m.next);
		vu_put_le32(e + 20, (uint32_t)loc_len);
		vu_put_le32(e + 24, META_REQUIRED);
		m.count++;
	}
	memcpy(buf, "metadata", 8);
	vu_put_le16(buf + 10, (uint16_t)m.count);
	if (pwrite_full(fd, buf, VHDX_META_LEN, VHDX_META_OFF, o->child))
		goto out;

	/* file type identifier */
	memset(buf, 0, 65536);
	memcpy(buf, "vhdxfile", 8);
	if (utf16_encode("mkdiffdisk (vhdunlock tests)", false, buf + 8, 512) <
	    0)
		goto out;
	if (pwrite_full(fd, buf, 65536, 0, o->child))
		goto out;

	/* two headers, the second current; an empty log (LogGuid zero) */
	if (guid_random(g))
		goto out;
	guid_swap(g, file_write);
	if (guid_random(g))
		goto out;
	guid_swap(g, data_write);
	for (int i = 0; i < 2; i++) {
		memset(buf, 0, 4096);
		memcpy(buf, "head", 4);
		vu_put_le64(buf + 8, (uint64_t)i + 1);
		memcpy(buf + 16, file_write, 16);
		memcpy(buf + 32, data_write, 16);
		vu_put_le16(buf + 64, 0);
		vu_put_le16(buf + 66, 1);
		vu_put_le32(buf + 68, VHDX_LOG_LEN);
		vu_put_le64(buf + 72, VHDX_LOG_OFF);
		vu_put_le32(buf + 4, vu_crc32c(0, buf, 4096));
		if (pwrite_full(fd, buf, 4096, (uint64_t)(i + 1) * 65536,
				o->child))
			goto out;
	}

	/* two identical region tables */
	memset(buf, 0, 65536);
	memcpy(buf, "regi", 4);
	vu_put_le32(buf + 8, 2);
	guid_disk(VHDX_BAT_REGION, buf + 16);
	vu_put_le64(buf + 32, VHDX_BAT_OFF);
	vu_put_le32(buf + 40, (uint32_t)bat_len);
	vu_put_le32(buf + 44, 1);
	guid_disk(VHDX_METADATA_REGION, buf + 48);
	vu_put_le64(buf + 64, VHDX_META_OFF);
	vu_put_le32(buf + 72, VHDX_META_LEN);
	vu_put_le32(buf + 76, 1);
	vu_put_le32(buf + 4, vu_crc32c(0, buf, 65536));
	if (pwrite_full(fd, buf, 65536, 3 * 65536, o->child) ||
	    pwrite_full(fd, buf, 65536, 4 * 65536, o->child))
		goto out;

	/* the log stays zero; the file ends after the last block */
	if (ftruncate(fd, (off_t)next) != 0) {
		fail("%s: %s", o->child, strerror(errno));
		goto out;
	}
	printf("%s: vhdx differencing, %" PRIu64 " of %" PRIu64
	       " blocks stored\n", o->child, stored, nblocks);
	ret = 0;
out:
	close_differ(&d);
	free(buf);
	free(bat);
	free(sb);
	free(map);
	return ret;
}

/* ---- main ---- */

static void usage(FILE *to)
{
	fputs("usage: mkdiffdisk --format vhd|vhdx --parent PARENT_FILE "
	      "--parent-raw PARENT.raw --new NEW.raw\n"
	      "                  [--parent-path-style relative|absolute|both] "
	      "[--block-size N] CHILD_FILE\n"
	      "Writes a differencing child of PARENT_FILE holding the blocks "
	      "where NEW.raw differs from PARENT.raw.\n"
	      "Test-only tool of vhdunlock.\n",
	      to);
}

static int parse_size(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	if (*end || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "parent", required_argument, NULL, 'p' },
		{ "parent-raw", required_argument, NULL, 'r' },
		{ "new", required_argument, NULL, 'n' },
		{ "parent-path-style", required_argument, NULL, 's' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .style = PATH_BOTH, .block_size = 2 * MIB };
	struct parent p = { 0 };
	bool vhdx;
	int c, fd, ret = 1;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o.format = optarg;
			break;
		case 'p':
			o.parent = optarg;
			break;
		case 'r':
			o.parent_raw = optarg;
			break;
		case 'n':
			o.new_raw = optarg;
			break;
		case 's':
			if (strcmp(optarg, "relative") == 0)
				o.style = PATH_RELATIVE;
			else if (strcmp(optarg, "absolute") == 0)
				o.style = PATH_ABSOLUTE;
			else if (strcmp(optarg, "both") == 0)
				o.style = PATH_BOTH;
			else {
				fail("--parent-path-style: %s is not relative, "
				     "absolute or both", optarg);
				return 2;
			}
			break;
		case 'b':
			if (parse_size(optarg, &o.block_size)) {
				fail("--block-size: %s is not a size", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || !o.format || !o.parent || !o.parent_raw ||
	    !o.new_raw) {
		usage(stderr);
		return 2;
	}
	o.child = argv[optind];
	if (strcmp(o.format, "vhd") == 0)
		vhdx = false;
	else if (strcmp(o.format, "vhdx") == 0)
		vhdx = true;
	else {
		fail("--format: %s is not vhd or vhdx", o.format);
		return 2;
	}
	if (!is_pow2(o.block_size) ||
	    o.block_size < (vhdx ? 1 * MIB : 4096u) ||
	    o.block_size > 256 * MIB) {
		fail("--block-size: %u is not a power of two from %s to "
		     "256 MiB", o.block_size, vhdx ? "1 MiB" : "4 KiB");
		return 2;
	}

	if (read_parent(&o, &p))
		goto out;
	if (!vhdx && p.lss != 512) {
		fail("%s: %u-byte sectors, a VHD child needs 512", o.parent,
		     p.lss);
		goto out;
	}
	fd = open(o.child, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fail("%s: %s", o.child, strerror(errno));
		goto out;
	}
	if (vhdx ? write_vhdx(&o, &p, fd) : write_vhd(&o, &p, fd)) {
		close(fd);
		unlink(o.child);
		goto out;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fail("%s: %s", o.child, strerror(errno));
		unlink(o.child);
		goto out;
	}
	ret = 0;
out:
	free(p.abs_path);
	free(p.win_path);
	free(p.rel_path);
	free(p.base_name);
	return ret;
}
