/* Unlocking the encrypted volumes of a disk with the keys the user gave.
 * Every key of a fitting kind is tried on every volume; the first that
 * opens it wins.  Why each key failed is kept, so that a volume that stays
 * locked gets one message naming its protectors and what was tried.
 * Which keys each scheme tries, in what order, is in try_<scheme>.c;
 * here are the rounds, and LUKS headers kept apart from their volume. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "unlock/unlock_int.h"
#include "lvm/lvm_assemble.h"

/* Use a decrypted volume in place of the stored one. */
static int use_plain(struct vu_volume *v, struct vu_blk *plain)
{
	int r;

	vu_blk_unref(v->blk);
	v->blk = plain; /* transferred */
	v->unlocked = 1;
	r = vu_probe(v->blk, &v->inner);
	if (r < 0) {
		vu_log(VU_LOG_WARN, "%s: %s", v->id, vu_errmsg(r));
		vu_err_clear();
	}
	vu_log(VU_LOG_INFO, "%s: unlocked with the %s", v->id, v->unlocked_by);
	return 0;
}

/* Try the keys with the volume's scheme; once one opens it, read the
 * decrypted content in its place. */
static int unlock_volume(struct vu_volume *v, struct vu_keyring *kr)
{
	const struct unlock_scheme *s = unlock_scheme_of(v->crypt);
	struct vu_blk *plain;
	int r;

	if (!s)
		return vu_fail(-ENOTSUP, "%s: keys do not unlock %s volumes",
			       v->id, v->crypt->name);
	r = s->try_keys(v, kr);
	if (r <= 0)
		return r;
	r = v->crypt->decrypted(v->crypt_state, &plain);
	return r < 0 ? r : use_plain(v, plain);
}

/* A volume a detached header may belong to: nothing recognisable on it. */
static int header_candidate(const struct vu_volume *v)
{
	return !v->crypt && !v->unlocked && !v->error &&
	       !v->vg && v->probe.kind == VU_KIND_UNKNOWN;
}

/* What a header that opened no volume was tried on, for the message. */
struct header_try {
	char candidates[256];	/* "p1, p14" */
	char slots[512];	/* "its key slots are: 0 (argon2id)" */
	char *why;		/* why each key failed */
};

static void add_candidate(struct header_try *t, const char *id)
{
	size_t n = strlen(t->candidates);

	snprintf(t->candidates + n, sizeof(t->candidates) - n, "%s%s",
		 n ? ", " : "", id);
}

/* A detached header (ADE keeps the OS volume's header apart) is tried on
 * each candidate volume (of disk image only, when image >= 0): the keys
 * are tried once, then the volume whose decrypted content is recognisable
 * takes it.  1 when one did; 0 when none did (t says why); <0 when the
 * header itself cannot be loaded. */
static int try_header(struct vu_disk *d, struct vu_keyring *kr,
		      struct vu_blk *hb, const char *name, long image,
		      struct header_try *t)
{
	struct vu_luks *l = NULL;
	char by[160], first_err[512] = "";
	size_t key_number = 0;
	int r = 0, keyed = 0, err = 0, nokey = 0;

	for (size_t i = 0; i < d->nvolumes; i++) {
		struct vu_volume *v = &d->volumes[i];
		struct vu_blk *plain = NULL;
		struct vu_probe inner;

		if (!header_candidate(v) ||
		    (image >= 0 && v->image != (size_t)image))
			continue;
		add_candidate(t, v->id);
		if (nokey)
			continue; /* only listing the candidates */
		if (!l) {
			/* a volume too small for the header's data offset
			 * fails here too: the next candidate may fit */
			r = vu_luks_open(v->raw, hb, &l);
			if (r < 0) {
				if (!err)
					snprintf(first_err, sizeof(first_err),
						 "%s", vu_errmsg(r));
				err = err ? err : r;
				vu_err_clear();
				l = NULL;
				r = 0;
				continue;
			}
			r = unlock_luks_try_keys(l, kr, by, sizeof(by),
						 &key_number, &t->why);
			if (r < 0)
				break;
			if (r == 0) {
				unlock_luks_keyslot_list(l, t->slots,
							 sizeof(t->slots));
				nokey = 1; /* no key opens it: no volume will */
				continue;
			}
			keyed = 1;
		} else if (vu_luks_set_data(l, v->raw) < 0) {
			vu_err_clear(); /* too small for this header */
			continue;
		}
		r = vu_luks_volume_open(l, &plain);
		if (r == 0 && vu_probe(plain, &inner) == 0 &&
		    inner.kind != VU_KIND_UNKNOWN) {
			v->crypt = &vu_crypt_luks;
			v->crypt_state = l; /* transferred */
			v->luks_header = strdup(name);
			snprintf(v->unlocked_by, sizeof(v->unlocked_by), "%s",
				 by);
			v->key_number = key_number;
			return use_plain(v, plain) < 0 ? -ENOMEM : 1;
		}
		vu_err_clear();
		vu_blk_unref(plain);
		r = 0;
	}
	vu_luks_close(l);
	if (r < 0)
		return r;
	if (!l && !nokey && err)
		return vu_fail(err, "%s", first_err);
	if (keyed && !t->why)
		unlock_note(&t->why, "the key opens the header but no volume "
			    "decrypts to a recognisable file system");
	return 0;
}

/* "NAME opens no volume ...: its key slots are ...: why" */
static void header_lock_error(struct vu_disk *d, const char *name,
			      const char *what, const struct header_try *t)
{
	char msg[2048];

	snprintf(msg, sizeof(msg), "%s%s opens no volume%s%s%s with the keys "
		 "given%s%s%s%s", name, what, t->candidates[0] ? " (tried " : "",
		 t->candidates, t->candidates[0] ? ")" : "",
		 t->slots[0] ? "; " : "", t->slots, t->why ? ": " : "",
		 t->why ? t->why : "");
	unlock_note(&d->lock_error, msg);
}

/* --luks-header FILE: for a volume of any disk given. */
static int try_header_file(struct vu_disk *d, struct vu_keyring *kr,
			   const char *header)
{
	struct header_try t = { .why = NULL };
	struct vu_blk *hb;
	int r = vu_file_open(header, &hb);

	if (r < 0)
		return r;
	r = try_header(d, kr, hb, header, -1, &t);
	vu_blk_unref(hb);
	if (r == 0)
		header_lock_error(d, header, ":", &t);
	free(t.why);
	return r < 0 ? r : 0;
}

/* Headers found on the disks' volumes: luks/osluksheader for a volume of
 * its own disk, the others for any.  A data disk's header whose disk was
 * not given (no --add-disk) is no error: info lists it as unused.
 * *opened tells whether one opened a volume. */
static int try_found_headers(struct vu_disk *d, struct vu_keyring *kr,
			     int *opened)
{
	*opened = 0;
	for (size_t h = 0; h < d->nheaders; h++) {
		struct vu_found_header *f = &d->headers[h];
		struct header_try t = { .why = NULL };
		int r;

		if (f->used || f->tried)
			continue;
		f->tried = 1;
		r = try_header(d, kr, f->blk, f->name,
			       f->os_header ? (long)f->image : -1, &t);
		if (r < 0 && r != -ENOMEM) {
			/* a damaged header file stops only its volume */
			if (f->os_header)
				unlock_note(&d->lock_error, vu_errmsg(r));
			else
				vu_log(VU_LOG_WARN, "%s", vu_errmsg(r));
			vu_err_clear();
			r = 0;
		} else if (r == 0 && f->os_header && t.why) {
			header_lock_error(d, f->name, " (the detached LUKS "
					  "header of this disk's OS volume)", &t);
		}
		free(t.why);
		if (r < 0)
			return r;
		if (r == 1) {
			f->used = 1;
			*opened = 1;
		}
	}
	return 0;
}

/* "VG-LV" as device-mapper names it: dashes inside names doubled. */
static void lv_id(char *out, size_t size, const char *vg, const char *lv)
{
	size_t n = 0;

	for (int part = 0; part < 2; part++) {
		const char *s = part ? lv : vg;
		if (part && n + 1 < size)
			out[n++] = '-';
		for (; *s && n + 2 < size; s++) {
			out[n++] = *s;
			if (*s == '-')
				out[n++] = '-';
		}
	}
	out[n] = '\0';
}

/* A VG of this name is open already: a second one (another UUID, say a
 * cloned image's "rootvg") would give its LVs the same "VG-LV" ids. */
static int vg_name_taken(const struct vu_disk *d, const char *name)
{
	for (size_t i = 0; i < d->nvgs; i++) {
		struct vu_lvm_vg_info vi;

		vu_lvm_vg_info(d->vgs[i], &vi);
		if (!strcmp(vi.name, name))
			return 1;
	}
	return 0;
}

/* An LV of a segment type not supported is still a volume, carrying
 * "not supported: TYPE" as its error: info and audit show it beside the
 * LVs that do open.  One that needs a missing PV is left out (the PV is
 * named once for the VG), as is one on a truncated PV (a warning). */
static int lv_volume(struct vu_disk *d, struct vu_lvm_vg *vg,
		     const struct vu_lvm_lv_info *li, const char *vgname)
{
	struct vu_volume *lv;
	struct vu_blk *b = NULL;
	char *why = NULL;
	int r;

	r = vu_lvm_lv_open(vg, li->name, &b);
	if (r == -ENOMEM)
		return r;
	if (r < 0 && li->supported) {
		/* missing or truncated PV: the VG's listing says so */
		vu_log(VU_LOG_WARN, "LV %s/%s: %s", vgname, li->name,
		       vu_errmsg(r));
		vu_err_clear();
		return 0;
	}
	if (r < 0) {
		why = strdup(vu_errmsg(r));
		vu_err_clear();
		if (!why)
			return vu_fail(-ENOMEM, "out of memory");
		r = vu_lvm_lv_unreadable(vg, li->name, why, &b);
		if (r < 0) {
			free(why);
			return r;
		}
	}
	if (!why) {
		/* probed, and its encryption read: LUKS on an LV opens too */
		char id[sizeof(lv->id)];

		lv_id(id, sizeof(id), vgname, li->name);
		r = vu_disk_add_stacked(d, 0, id, b, &lv);
		if (r < 0)
			return r;
		lv->vg = vg;
		lv->lv = *li;
		return 0;
	}
	lv = vu_disk_new_volume(d);
	if (!lv) {
		free(why);
		vu_blk_unref(b);
		return vu_fail(-ENOMEM, "out of memory");
	}
	lv_id(lv->id, sizeof(lv->id), vgname, li->name);
	lv->blk = b; /* transferred */
	lv->raw = vu_blk_ref(b);
	lv->vg = vg;
	lv->lv = *li;
	lv->error = why; /* transferred */
	d->nvolumes++;
	return 0;
}

/* The VG's visible LVs become volumes "VG-LV"; its missing PVs are named
 * with the device lvm last saw each on, to say which disk to add. */
static int add_lvs(struct vu_disk *d, struct vu_lvm_vg *vg)
{
	struct vu_lvm_vg_info vi;
	struct vu_lvm_pv_info pi;

	vu_lvm_vg_info(vg, &vi);
	for (size_t j = 0; vi.missing_pvs && j < vi.pv_count; j++)
		if (vu_lvm_vg_pv(vg, j, &pi) == 0 && !pi.present)
			vu_log(VU_LOG_WARN, "VG %s: %s (UUID %s, last seen on "
			       "%s) is missing: the logical volumes on it "
			       "do not open (add the disk that holds it with "
			       "--add-disk)", vi.name, pi.name, pi.uuid,
			       pi.device[0] ? pi.device : "an unknown device");
	for (size_t j = 0; j < vi.lv_count; j++) {
		struct vu_lvm_lv_info li;
		int r;

		if (vu_lvm_vg_lv(vg, j, &li) < 0 || !li.visible ||
		    (li.missing && li.supported))
			continue; /* info lists these */
		r = lv_volume(d, vg, &li, vi.name);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Physical volumes (plain, or decrypted) not looked at yet are assembled
 * into their volume groups (lvm/lvm_assemble.h), whose logical volumes
 * become volumes "VG-LV". */
static int expand_lvm(struct vu_disk *d)
{
	size_t n0 = d->nvolumes, npv = 0;
	struct vu_lvm_pv **pvs = calloc(n0 ? n0 : 1, sizeof(*pvs));
	struct vu_lvm_assembly a;
	int r = 0;

	if (!pvs)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < n0; i++) {
		struct vu_volume *v = &d->volumes[i];

		if (v->lvm_scanned || vu_volume_content(v)->kind != VU_KIND_LVM2)
			continue;
		v->lvm_scanned = 1;
		r = vu_lvm_scan(v->blk, &pvs[npv]);
		if (r < 0) {
			vu_log(VU_LOG_WARN, "%s: %s", v->id, vu_errmsg(r));
			vu_err_clear();
			r = 0;
			continue;
		}
		npv++;
	}
	r = vu_lvm_assemble(pvs, npv, d->vgs, d->nvgs, &a);
	/* the VGs hold their own references to the devices */
	for (size_t i = 0; i < npv; i++)
		vu_lvm_pv_free(pvs[i]);
	free(pvs);
	if (r < 0)
		return r;
	if (a.unassigned)
		vu_log(VU_LOG_DEBUG, "lvm: %zu physical volume(s) without "
		       "metadata belong to no volume group found",
		       a.unassigned);
	for (size_t g = 0; g < a.n && r == 0; g++) {
		struct vu_lvm_assembled *e = &a.vgs[g];
		struct vu_lvm_vg **vgs;
		int clash;

		if (e->err == -EEXIST) {
			/* a PV decrypted after its VG was opened (its other
			 * PVs were readable earlier) */
			vu_log(VU_LOG_WARN, "VG %s: a physical volume was found "
			       "after the volume group was opened; its logical "
			       "volumes may be incomplete", e->name);
			continue;
		}
		if (e->err) {
			vu_log(VU_LOG_WARN, "VG %s: %s", e->name, e->msg);
			continue;
		}
		clash = vg_name_taken(d, e->name);
		vgs = realloc(d->vgs, (d->nvgs + 1) * sizeof(*vgs));
		if (!vgs) {
			r = vu_fail(-ENOMEM, "out of memory");
			break;
		}
		d->vgs = vgs;
		d->vgs[d->nvgs++] = e->vg;
		e->vg = NULL; /* transferred */
		if (clash) {
			vu_log(VU_LOG_WARN, "VG %s (UUID %s): another volume "
			       "group of this name is open; its logical "
			       "volumes are not opened (their names would "
			       "clash)", e->name, e->uuid);
			continue;
		}
		r = add_lvs(d, d->vgs[d->nvgs - 1]);
	}
	vu_lvm_assembly_free(&a);
	return r;
}

/* Try the keys on every encrypted volume not tried yet (partitions at
 * first, then volumes found inside others: md arrays, LVs). */
static int unlock_pending(struct vu_disk *d, struct vu_keyring *kr)
{
	int r = 0;

	for (size_t i = 0; i < d->nvolumes && r == 0; i++) {
		struct vu_volume *v = &d->volumes[i];

		if (v->unlocked || !v->crypt || v->unlock_tried)
			continue;
		v->unlock_tried = 1;
		r = unlock_volume(v, kr);
	}
	return r;
}

int vu_disk_unlock(struct vu_disk *d, struct vu_keyring *kr)
{
	int r, more = 1;

	r = unlock_pending(d, kr);
	for (size_t h = 0; h < kr->nheaders && r == 0; h++)
		r = try_header_file(d, kr, kr->luks_headers[h]);
	/* Rounds: md arrays and logical volumes appear, their file systems
	 * may hold headers, the headers open volumes that may hold md
	 * members or PVs... until nothing new is found. */
	while (r == 0 && more) {
		size_t before = d->nvolumes;
		int found;

		r = unlock_expand_md(d);
		if (r == 0)
			r = expand_lvm(d);
		/* LUKS on an md array or a logical volume */
		if (r == 0)
			r = unlock_pending(d, kr);
		if (r == 0)
			r = unlock_find_headers(d, &found);
		if (r == 0)
			r = try_found_headers(d, kr, &more);
		more |= d->nvolumes != before;
	}
	return r;
}
