/* The verdict on each volume of a disk, without keys: see audit.h.  This
 * file decides; scan.c samples, classify.c looks at bytes, fscount.c
 * walks file systems. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_int.h"
#include "core/error.h"
#include "core/human.h"
#include "fs/fs.h"

#define MAX_AREAS 24

/* Volumes of these partition types hold no user data by design. */
static const char *const expected_types[] = {
	"EFI System", "BIOS boot", "Microsoft reserved",
	"Windows recovery environment",
};

const char *vu_audit_verdict_name(enum vu_audit_verdict v)
{
	static const char *const names[] = {
		[VU_AUDIT_SEALED] = "sealed",
		[VU_AUDIT_EXPOSED] = "exposed",
		[VU_AUDIT_EXPECTED] = "expected",
		[VU_AUDIT_EMPTY] = "empty",
		[VU_AUDIT_CONTAINER] = "lvm",
		[VU_AUDIT_MD] = "md",
		[VU_AUDIT_ERROR] = "error",
	};
	return names[v];
}

const char *vu_audit_class_name(enum audit_class c)
{
	static const char *const names[] = {
		[AUDIT_CIPHERTEXT] = "ciphertext",
		[AUDIT_ZERO] = "zero",
		[AUDIT_FILL] = "fill",
		[AUDIT_PLAINTEXT] = "plaintext",
		[AUDIT_LOW_ENTROPY] = "low_entropy",
	};
	return names[c];
}

/* What the partition type says the volume is for, or "". */
static void set_role(struct vu_audit_volume *a)
{
	const struct vu_part *p = a->v->part;
	const char *t = NULL;

	if (!p)
		return;
	t = p->mbr_type ? (p->mbr_type == 0xEF ? "EFI System" : NULL)
			: vu_gpt_type_name(p->type_guid);
	for (size_t i = 0; t && i < sizeof(expected_types) /
					sizeof(expected_types[0]); i++)
		if (!strcmp(t, expected_types[i]))
			snprintf(a->role, sizeof(a->role), "%s", t);
}

static int add_exposed(struct vu_audit_volume *a, uint64_t off, uint64_t len,
		       const char *what)
{
	struct vu_audit_range *r = realloc(a->exposed,
					   (a->nexposed + 1) * sizeof(*r));
	if (!r)
		return vu_fail(-ENOMEM, "out of memory");
	a->exposed = r;
	r[a->nexposed++] = (struct vu_audit_range){ off, len, what };
	return 0;
}

/* Remove [off, off + len) from the areas (metadata that is plain by
 * design); an area may split in two. */
static void cut(struct audit_area *areas, size_t *n, uint64_t off,
		uint64_t len)
{
	for (size_t i = 0; i < *n; i++) {
		struct audit_area *x = &areas[i];
		uint64_t end = x->offset + x->length, cend = off + len;

		if (cend <= x->offset || off >= end)
			continue;
		if (off > x->offset && cend < end && *n < MAX_AREAS) {
			areas[(*n)++] = (struct audit_area){ cend, end - cend };
			x->length = off - x->offset;
		} else if (off > x->offset) {
			x->length = off - x->offset;
		} else {
			x->length = cend < end ? end - cend : 0;
			x->offset = cend < end ? cend : end;
		}
	}
}

/* The file system readable on b (kind): counted, and named as exposed
 * unless the volume's role expects it. */
static int count_fs(struct vu_audit_volume *a, struct vu_blk *b,
		    enum vu_kind kind)
{
	a->fs_kind = vu_kind_name(kind);
	if (!vu_fs_supported(kind))
		return 0;
	vu_err_clear();
	if (audit_count_files(b, kind, &a->files, &a->dirs) < 0) {
		vu_err_clear(); /* damaged: the verdict stands on the kind */
		return 0;
	}
	a->fs_counted = 1;
	return 0;
}

/* A plain (or clear-key) file system's boot role: what ADE's /boot holds. */
static int looks_like_boot(struct vu_blk *b, enum vu_kind kind)
{
	static const char *const marks[] = { "/luks/osluksheader", "/grub",
					     "/grub2", "/efi", "/loader" };
	struct vu_fs *fs;
	int found = 0;

	if (!vu_fs_supported(kind) || vu_fs_open(b, kind, &fs) < 0) {
		vu_err_clear();
		return 0;
	}
	for (size_t i = 0; !found && i < sizeof(marks) / sizeof(marks[0]); i++) {
		uint64_t ino;
		found = vu_fs_lookup_path(fs, marks[i], &ino) == 0;
	}
	vu_err_clear();
	vu_fs_close(fs);
	return found;
}

static void reason(struct vu_audit_volume *a, const char *fmt, ...)
	VU_PRINTF(2, 3);
static void reason(struct vu_audit_volume *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
	va_end(ap);
}

/* After a scan: plaintext found makes the volume exposed. */
static void judge_scan(struct vu_audit_volume *a, const char *sealed_why)
{
	char found[32], sampled[32];

	vu_human_size(a->scan.found_bytes, found, sizeof(found));
	vu_human_size(a->scan.sampled_bytes, sampled, sizeof(sampled));
	if (a->scan.found_bytes) {
		a->verdict = VU_AUDIT_EXPOSED;
		reason(a, "%s of unencrypted data in the encrypted area (%s "
		       "sampled), first at byte %" PRIu64 ": %s", found,
		       sampled, a->scan.found[0].offset, a->scan.found[0].what);
	} else if (a->verdict != VU_AUDIT_EXPOSED) {
		a->verdict = VU_AUDIT_SEALED;
		reason(a, "%s; %s sampled: all ciphertext%s", sealed_why,
		       sampled, a->scan.units[AUDIT_ZERO] ||
				a->scan.units[AUDIT_FILL]
				? " or never-written sectors" : "");
	}
}

static int audit_bitlocker(struct vu_audit_volume *a, const struct vu_audit_opts *o,
			   uint64_t *done, uint64_t total)
{
	const struct vu_volume *v = a->v;
	const struct vu_bde_info *in = vu_bde_info(vu_volume_bde(v));
	struct audit_area areas[MAX_AREAS];
	size_t n = 1;
	char size[32];
	int r;

	if (v->unlocked) { /* with no key given: a clear key */
		a->verdict = VU_AUDIT_EXPOSED;
		r = add_exposed(a, 0, v->raw->size, "clear key");
		if (r < 0)
			return r;
		count_fs(a, v->blk, v->inner.kind);
		reason(a, "protection is suspended: the key is stored in the "
		       "clear, the whole volume reads without a key");
		return 0;
	}
	if (in->partly_encrypted) {
		vu_human_size(in->volume_size - in->encrypted_size, size, sizeof(size));
		a->verdict = VU_AUDIT_EXPOSED;
		r = add_exposed(a, in->encrypted_size,
				in->volume_size - in->encrypted_size,
				"not encrypted");
		if (r < 0)
			return r;
		reason(a, "%s: %s from byte %" PRIu64 " on is not encrypted",
		       in->state_name, size, in->encrypted_size);
	}
	areas[0] = (struct audit_area){ 0, in->encrypted_size };
	/* the BitLocker header and metadata are plain by design */
	cut(areas, &n, 0, in->header_size ? in->header_size : 8192);
	for (int i = 0; i < 3; i++)
		if (in->metadata_offset[i])
			cut(areas, &n, in->metadata_offset[i], 65536);
	a->scanned = 1;
	r = audit_scan(v->raw, areas, n, o, done, total, &a->scan);
	if (r < 0)
		return r;
	judge_scan(a, "BitLocker, no clear key");
	return 0;
}

static int luks_areas(const struct vu_volume *v, struct audit_area *areas,
		      size_t *n, struct vu_audit_volume *a)
{
	struct vu_luks_segment seg[16];
	size_t ns = vu_luks_segments(vu_volume_luks(v), seg, 16);
	int r;

	*n = 0;
	for (size_t i = 0; i < ns && i < 16; i++) {
		if (seg[i].encrypted) {
			if (*n < MAX_AREAS)
				areas[(*n)++] = (struct audit_area){
					seg[i].offset, seg[i].length };
			continue;
		}
		r = add_exposed(a, seg[i].offset, seg[i].length,
				"not encrypted (reencryption in progress)");
		if (r < 0)
			return r;
	}
	return 0;
}

static int audit_luks(struct vu_audit_volume *a, const struct vu_audit_opts *o,
		      uint64_t *done, uint64_t total)
{
	struct audit_area areas[MAX_AREAS];
	size_t n;
	int r = luks_areas(a->v, areas, &n, a);

	if (r < 0)
		return r;
	if (a->nexposed) {
		char size[32];
		vu_human_size(a->exposed[0].length, size, sizeof(size));
		a->verdict = VU_AUDIT_EXPOSED;
		reason(a, "LUKS2 reencryption in progress: %s from byte %"
		       PRIu64 " is plaintext", size, a->exposed[0].offset);
	}
	a->scanned = 1;
	r = audit_scan(a->v->raw, areas, n, o, done, total, &a->scan);
	if (r < 0)
		return r;
	judge_scan(a, "LUKS, key slots only");
	return 0;
}

/* Neither encrypted nor a known file system: look at all of it. */
static int audit_unknown(struct vu_audit_volume *a,
			 const struct vu_audit_opts *o, uint64_t *done,
			 uint64_t total)
{
	struct audit_area area = { 0, a->v->raw->size };
	const struct vu_audit_scan *sc = &a->scan;
	int r;

	a->scanned = 1;
	r = audit_scan(a->v->raw, &area, 1, o, done, total, &a->scan);
	if (r < 0)
		return r;
	if (sc->found_bytes) {
		judge_scan(a, "");
	} else if (!sc->units[AUDIT_CIPHERTEXT]) {
		a->verdict = a->role[0] ? VU_AUDIT_EXPECTED : VU_AUDIT_EMPTY;
		reason(a, "nothing but zeros or one repeated byte (sampled)");
	} else {
		judge_scan(a, "no recognisable content (ciphertext whose LUKS "
			   "header is kept elsewhere?)");
	}
	return 0;
}

static int audit_plain(struct vu_audit_volume *a, enum vu_kind kind)
{
	const struct vu_volume *v = a->v;

	count_fs(a, v->blk, kind);
	if (!a->role[0] && looks_like_boot(v->blk, kind))
		snprintf(a->role, sizeof(a->role), "boot");
	if (a->role[0]) {
		a->verdict = VU_AUDIT_EXPECTED;
		reason(a, "a plain %s file system (%s partition)",
		       vu_kind_name(kind), a->role);
		return 0;
	}
	a->verdict = VU_AUDIT_EXPOSED;
	if (a->fs_counted)
		reason(a, "a plain %s file system: %" PRIu64 " files in %"
		       PRIu64 " directories readable by anyone",
		       vu_kind_name(kind), a->files, a->dirs);
	else
		reason(a, "a plain %s file system, readable by anyone",
		       vu_kind_name(kind));
	return add_exposed(a, 0, v->raw->size, "plain file system");
}

/* A detached LUKS header found in this volume's files. */
static void note_headers(struct vu_audit_volume *a, const struct vu_disk *d)
{
	size_t idlen = strlen(a->v->id);

	for (size_t i = 0; i < d->nheaders; i++)
		if (!strncmp(d->headers[i].name, a->v->id, idlen) &&
		    d->headers[i].name[idlen] == ':')
			snprintf(a->header_note, sizeof(a->header_note),
				 "holds the detached LUKS header %s: no key "
				 "without the passphrase", d->headers[i].name);
}

static int audit_volume(struct vu_audit_volume *a, const struct vu_disk *d,
			const struct vu_audit_opts *o, uint64_t *done,
			uint64_t total)
{
	const struct vu_volume *v = a->v;
	enum vu_kind kind = v->probe.kind;

	set_role(a);
	note_headers(a, d);
	if (v->error) {
		a->verdict = VU_AUDIT_ERROR;
		reason(a, "%s", v->error);
		return 0;
	}
	if (vu_volume_bde(v))
		return audit_bitlocker(a, o, done, total);
	if (vu_volume_luks(v))
		return audit_luks(a, o, done, total);
	if (kind == VU_KIND_LVM2) {
		a->verdict = VU_AUDIT_CONTAINER;
		reason(a, "a plain LVM physical volume: its logical volumes "
		       "are listed on their own");
		return 0;
	}
	if (kind == VU_KIND_MD) {
		a->verdict = VU_AUDIT_MD;
		reason(a, "a plain md RAID member: its array is listed on "
		       "its own");
		return 0;
	}
	if (vu_fs_supported(kind) || kind == VU_KIND_FAT)
		return audit_plain(a, kind);
	return audit_unknown(a, o, done, total);
}

/* The bytes the scans will read, for progress. */
static uint64_t plan(const struct vu_disk *d, const struct vu_audit_opts *o)
{
	uint64_t total = 0;

	for (size_t i = 0; i < d->nvolumes; i++) {
		const struct vu_volume *v = &d->volumes[i];
		struct audit_area area = { 0, v->raw ? v->raw->size : 0 };

		const struct vu_bde *bde = vu_volume_bde(v);

		if (bde && !v->unlocked)
			area.length = vu_bde_info(bde)->encrypted_size;
		else if (bde || v->error || v->probe.kind == VU_KIND_LVM2 ||
			 v->probe.kind == VU_KIND_MD ||
			 vu_fs_supported(v->probe.kind) ||
			 v->probe.kind == VU_KIND_FAT)
			continue;
		total += audit_scan_plan(&area, 1, o);
	}
	return total ? total : 1;
}

int vu_audit(struct vu_disk *d, const struct vu_audit_opts *o,
	     struct vu_audit_report **out)
{
	struct vu_audit_report *rep;
	uint64_t done = 0, total = plan(d, o);
	int r = 0;

	*out = NULL;
	rep = calloc(1, sizeof(*rep));
	if (rep)
		rep->vols = calloc(d->nvolumes ? d->nvolumes : 1,
				   sizeof(*rep->vols));
	if (!rep || !rep->vols) {
		free(rep);
		return vu_fail(-ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < d->nvolumes && r == 0; i++) {
		struct vu_audit_volume *a = &rep->vols[rep->n++];

		a->v = &d->volumes[i];
		r = audit_volume(a, d, o, &done, total);
		if (a->verdict == VU_AUDIT_EXPOSED)
			rep->exposed = 1;
	}
	if (r < 0) {
		vu_audit_report_free(rep);
		return r;
	}
	*out = rep;
	return 0;
}

void vu_audit_report_free(struct vu_audit_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->vols[i].exposed);
		audit_scan_free(&r->vols[i].scan);
	}
	free(r->vols);
	free(r);
}
