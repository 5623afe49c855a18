/* An md array's read path: which member, and where on it, holds each
 * chunk of the array, as the kernel's raid0.c, raid5.c and raid10.c place
 * them (md(4)).  Chunks alternate between members, so the array reads
 * through a lookup (core/extent.h) that answers chunk by chunk from the
 * geometry, not through a table of runs.  A RAID1 array is its first
 * in-sync member.  A RAID4/5 array missing one member reads that member's
 * bytes back as the XOR of all the others at the same place: data and
 * parity alike, every stripe XORs to zero. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/extent.h"
#include "core/log.h"
#include "md/md_format.h"
#include "md/md_int.h"

/* RAID0 over members of different sizes: zone k stripes over the members
 * larger than zone k-1 reached, from where that zone ended on them. */
struct md_zone {
	uint64_t start, end;	/* array bytes */
	uint64_t dev_start;	/* bytes into each of its members */
	unsigned nb;
	unsigned *roles;	/* its members, in role order */
};

struct md_map {
	int level;
	uint32_t alg;		/* RAID4/5: parity; RAID0: layout */
	uint64_t chunk, size;
	unsigned ndev, copies;	/* RAID10: near copies */
	struct vu_blk **devs;	/* references held; NULL: missing */
	unsigned nzones;	/* RAID0 */
	struct md_zone *zones;
};

static const char *r5_layout_ok(uint32_t layout)
{
	switch (layout) {
	case MD_R5_LEFT_ASYMMETRIC:
	case MD_R5_RIGHT_ASYMMETRIC:
	case MD_R5_LEFT_SYMMETRIC:
	case MD_R5_RIGHT_SYMMETRIC:
	case MD_R5_PARITY_0:
	case MD_R5_PARITY_N:
		return NULL;
	default:
		return "raid5 with a layout other than the six mdadm writes";
	}
}

/* RAID0: how many members are larger than the smallest present. */
static unsigned r0_second_zone_width(const struct md_geometry *g)
{
	uint64_t least = 0;
	unsigned n = 0;

	for (unsigned i = 0; i < g->ndev; i++)
		if (g->dev_sizes[i] && (!least || g->dev_sizes[i] < least))
			least = g->dev_sizes[i];
	for (unsigned i = 0; i < g->ndev; i++)
		n += g->dev_sizes[i] > least;
	return n;
}

const char *md_geometry_check(struct md_geometry *g)
{
	uint64_t per = g->chunk ? g->dev_size / g->chunk * g->chunk : 0;

	switch (g->level) {
	case 1:
		g->size = g->dev_size;
		return g->ndev ? NULL : "raid1 without members";
	case 0:
		if (!g->chunk || !g->ndev || !g->dev_sizes)
			return "raid0 without a chunk size";
		g->size = 0;
		g->zones = 0;
		/* every member is used whole: a zone per distinct size */
		for (unsigned i = 0; i < g->ndev; i++) {
			int seen = !g->dev_sizes[i]; /* missing */

			g->size += g->dev_sizes[i];
			for (unsigned j = 0; j < i; j++)
				seen |= g->dev_sizes[j] == g->dev_sizes[i];
			g->zones += !seen;
		}
		/* the layouts differ only where a later zone stripes over
		 * two members or more (raid0.c takes either then) */
		if (g->zones > 1 && r0_second_zone_width(g) > 1 &&
		    g->layout != MD_R0_ORIGINAL &&
		    g->layout != MD_R0_ALTERNATE)
			return "raid0 over members of different sizes with no "
			       "layout recorded (original or alternate)";
		return NULL;
	case 4:
	case 5:
		if (!g->chunk || g->ndev < 2)
			return "raid4/5 with fewer than two members or no "
			       "chunk size";
		g->size = per * (g->ndev - 1);
		return g->level == 5 ? r5_layout_ok(g->layout) : NULL;
	case 10: {
		unsigned near = MD_R10_NEAR(g->layout);

		if (MD_R10_FAR(g->layout) != 1 || g->layout & MD_R10_OFFSET)
			return "raid10 with far or offset copies (only near "
			       "copies are read)";
		if (!g->chunk || !near || near > g->ndev)
			return "raid10 with more copies than members or no "
			       "chunk size";
		g->size = g->dev_size / g->chunk * g->ndev / near * g->chunk;
		return NULL;
	}
	case 6:
		return "raid6";
	case MD_LEVEL_LINEAR:
		return "linear";
	case MD_LEVEL_MULTIPATH:
		return "multipath";
	default:
		return "an unknown RAID level";
	}
}

/* RAID4/5: the member holding data chunk dd of stripe s (raid5.c's
 * raid5_compute_sector for RAID levels 4 and 5). */
static unsigned r5_member(const struct md_map *m, uint64_t s, unsigned dd)
{
	unsigned n = m->ndev, data = n - 1, pd;

	if (m->level == 4)
		return dd; /* parity on the last member */
	switch (m->alg) {
	case MD_R5_LEFT_ASYMMETRIC:
		pd = data - (unsigned)(s % n);
		return dd >= pd ? dd + 1 : dd;
	case MD_R5_RIGHT_ASYMMETRIC:
		pd = (unsigned)(s % n);
		return dd >= pd ? dd + 1 : dd;
	case MD_R5_LEFT_SYMMETRIC:
		pd = data - (unsigned)(s % n);
		return (pd + 1 + dd) % n;
	case MD_R5_RIGHT_SYMMETRIC:
		pd = (unsigned)(s % n);
		return (pd + 1 + dd) % n;
	case MD_R5_PARITY_0:
		return dd + 1;
	default: /* MD_R5_PARITY_N */
		return dd;
	}
}

/* RAID0 (raid0.c's find_zone and map_sector): the zone holding array
 * chunk c; the member counts chunks from the array's start (original
 * layout) or the zone's (alternate); the row from the zone's start. */
static void r0_member(const struct md_map *m, uint64_t c, unsigned *dev,
		      uint64_t *at)
{
	const struct md_zone *z = m->zones;
	uint64_t rel;

	while (z < m->zones + m->nzones - 1 && c * m->chunk >= z->end)
		z++;
	rel = c - z->start / m->chunk;
	*dev = z->roles[(m->alg == MD_R0_ORIGINAL ? c : rel) % z->nb];
	*at = z->dev_start + rel / z->nb * m->chunk;
}

/* Array chunk c: its member and the chunk's byte offset on it. */
static int locate(const struct md_map *m, uint64_t c, unsigned *dev,
		  uint64_t *at)
{
	switch (m->level) {
	case 0:
		r0_member(m, c, dev, at);
		return 0;
	case 4:
	case 5:
		*dev = r5_member(m, c / (m->ndev - 1),
				 (unsigned)(c % (m->ndev - 1)));
		*at = c / (m->ndev - 1) * m->chunk;
		return 0;
	default: /* 10, near copies: the first copy on a present member */
		for (unsigned k = 0; k < m->copies; k++) {
			uint64_t slot = c * m->copies + k;

			*dev = (unsigned)(slot % m->ndev);
			*at = slot / m->ndev * m->chunk;
			if (m->devs[*dev])
				return 0;
		}
		return vu_fail(-EIO, "md: raid10 chunk %" PRIu64 ": no copy "
			       "on a member present", c);
	}
}

static int md_lookup(const void *ctx, uint64_t off, size_t len,
		     struct vu_run *runs, size_t max)
{
	const struct md_map *m = ctx;
	uint64_t want = len;
	size_t nrun = 0;

	if (off >= m->size)
		return vu_fail(-EIO, "md: read at %" PRIu64 " past the array's "
			       "end (%" PRIu64 ")", off, m->size);
	while (nrun < max && off < m->size && want) {
		uint64_t c = off / m->chunk, in = off % m->chunk, at, n;
		unsigned dev;
		int r = locate(m, c, &dev, &at);

		if (r < 0)
			return nrun ? (int)nrun : r;
		n = m->chunk - in;
		if (n > m->size - off)
			n = m->size - off;
		runs[nrun].length = n;
		runs[nrun].lower = m->devs[dev];
		runs[nrun].lower_off = at + in;
		runs[nrun].xf = NULL;
		nrun++;
		off += n;
		want = n < want ? want - n : 0;
	}
	return (int)nrun;
}

static void md_map_free(void *ctx)
{
	struct md_map *m = ctx;

	if (!m)
		return;
	for (unsigned i = 0; m->devs && i < m->ndev; i++)
		vu_blk_unref(m->devs[i]);
	for (unsigned k = 0; k < m->nzones; k++)
		free(m->zones[k].roles);
	free(m->zones);
	free(m->devs);
	free(m);
}

/* ---- a missing RAID4/5 member, rebuilt from the others ---- */

struct rebuilt {
	unsigned n;
	struct vu_blk **others;	/* references held */
};

/* out ^= in, a word at a time where both allow it (the compiler turns
 * the loop into vector instructions). */
static void xor_into(uint8_t *out, const uint8_t *in, size_t len)
{
	size_t k = 0;

	for (; k + 8 <= len; k += 8) {
		uint64_t a, b;

		memcpy(&a, out + k, 8);
		memcpy(&b, in + k, 8);
		a ^= b;
		memcpy(out + k, &a, 8);
	}
	for (; k < len; k++)
		out[k] ^= in[k];
}

static int rebuilt_read(struct vu_blk *b, void *buf, size_t len,
			uint64_t off)
{
	const struct rebuilt *rb = b->priv;
	uint8_t *tmp;
	int r;

	/* the first member straight into buf, the others XORed onto it */
	r = vu_blk_read(rb->others[0], buf, len, off);
	if (r < 0 || rb->n == 1)
		return r;
	tmp = malloc(len);
	if (!tmp)
		return vu_fail(-ENOMEM, "out of memory");
	for (unsigned i = 1; i < rb->n && r == 0; i++) {
		r = vu_blk_read(rb->others[i], tmp, len, off);
		if (r == 0)
			xor_into(buf, tmp, len);
	}
	free(tmp);
	return r;
}

static void rebuilt_free(struct rebuilt *rb)
{
	for (unsigned i = 0; i < rb->n; i++)
		vu_blk_unref(rb->others[i]);
	free(rb->others);
	free(rb);
}

static void rebuilt_destroy(struct vu_blk *b)
{
	rebuilt_free(b->priv);
}

static const struct vu_blk_ops rebuilt_ops = {
	.kind = "md-rebuilt",
	.read_at = rebuilt_read,
	.destroy = rebuilt_destroy,
};

static int rebuild(struct md_map *m, unsigned miss, uint64_t dev_size)
{
	struct rebuilt *rb = calloc(1, sizeof(*rb));
	struct vu_blk *b;

	if (rb)
		rb->others = calloc(m->ndev, sizeof(*rb->others));
	if (!rb || !rb->others) {
		free(rb);
		return vu_fail(-ENOMEM, "out of memory");
	}
	for (unsigned i = 0; i < m->ndev; i++)
		if (i != miss)
			rb->others[rb->n++] = vu_blk_ref(m->devs[i]);
	b = vu_blk_new(&rebuilt_ops, NULL, dev_size, 512, rb,
		       "md-rebuilt(role %u)", miss);
	if (!b) {
		rebuilt_free(rb);
		return -ENOMEM;
	}
	m->devs[miss] = b;
	return 0;
}

/* Whether every chunk has a member to come from; rebuild a missing
 * RAID4/5 member.  The message names the roles missing. */
static int check_present(struct md_map *m, uint64_t dev_size)
{
	unsigned missing = 0, miss = 0;

	for (unsigned i = 0; i < m->ndev; i++)
		if (!m->devs[i]) {
			missing++;
			miss = i;
		}
	if (!missing)
		return 0;
	if ((m->level == 4 || m->level == 5) && missing == 1)
		return rebuild(m, miss, dev_size);
	if (m->level == 10) {
		/* the pattern of copies repeats every ndev chunks */
		for (uint64_t c = 0; c < m->ndev; c++) {
			unsigned dev;
			uint64_t at;
			int r = locate(m, c, &dev, &at);

			if (r < 0)
				return vu_fail(-ENOENT, "md: raid10 has no "
					       "copy of some chunks (%u of %u "
					       "members missing)", missing,
					       m->ndev);
		}
		return 0;
	}
	return vu_fail(-ENOENT, "md: raid%d with %u of %u members missing "
		       "cannot be read", m->level, missing, m->ndev);
}

/* RAID0's zones, smallest members first (raid0.c's create_strip_zones). */
static int make_zones(struct md_map *m, const uint64_t *sizes)
{
	uint64_t prev = 0, start = 0;

	m->zones = calloc(m->ndev, sizeof(*m->zones));
	if (!m->zones)
		return vu_fail(-ENOMEM, "out of memory");
	for (;;) {
		struct md_zone *z = &m->zones[m->nzones];
		uint64_t next = UINT64_MAX;

		for (unsigned i = 0; i < m->ndev; i++)
			if (sizes[i] > prev && sizes[i] < next)
				next = sizes[i];
		if (next == UINT64_MAX)
			return 0;
		z->roles = calloc(m->ndev, sizeof(*z->roles));
		if (!z->roles)
			return vu_fail(-ENOMEM, "out of memory");
		m->nzones++;
		for (unsigned i = 0; i < m->ndev; i++)
			if (sizes[i] > prev)
				z->roles[z->nb++] = i;
		z->dev_start = prev;
		z->start = start;
		z->end = start + (next - prev) * z->nb;
		start = z->end;
		prev = next;
	}
}

int md_map_open(const struct md_geometry *g, struct vu_blk *const *devs,
		const char *name, struct vu_blk **out)
{
	struct md_map *m;
	struct vu_blk *first = NULL;
	int r;

	*out = NULL;
	if (g->level == 1) {
		for (unsigned i = 0; i < g->ndev && !first; i++)
			first = devs[i];
		if (!first)
			return vu_fail(-ENOENT, "md: raid1 with no member "
				       "present");
		return vu_slice_open(vu_blk_ref(first), 0, g->size, name,
				     out);
	}
	m = calloc(1, sizeof(*m));
	if (m)
		m->devs = calloc(g->ndev, sizeof(*m->devs));
	if (!m || !m->devs) {
		free(m);
		return vu_fail(-ENOMEM, "out of memory");
	}
	m->level = g->level;
	m->alg = g->layout;
	m->chunk = g->chunk;
	m->size = g->size;
	m->ndev = g->ndev;
	m->copies = g->level == 10 ? MD_R10_NEAR(g->layout) : 1;
	for (unsigned i = 0; i < g->ndev; i++)
		m->devs[i] = devs[i] ? vu_blk_ref(devs[i]) : NULL;
	r = check_present(m, g->dev_size);
	if (r == 0 && g->level == 0)
		r = make_zones(m, g->dev_sizes);
	if (r < 0) {
		md_map_free(m);
		return r;
	}
	for (unsigned i = 0; i < g->ndev && !first; i++)
		first = m->devs[i];
	vu_log(VU_LOG_DEBUG, "%s: raid%d, %u members, %" PRIu64 "-byte "
	       "chunks, %" PRIu64 " bytes", name, g->level, g->ndev, g->chunk,
	       g->size);
	return vu_lookup_open(vu_blk_ref(first), g->size, 512, md_lookup, m,
			      md_map_free, "md", name, out);
}
