/* vhdunlock info: what an image holds, as a table or one JSON document. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <ctype.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/info_md.h"
#include "core/guid.h"
#include "disk/disk.h"
#include "source/url.h"

static const char *table_name(enum vu_table_type t)
{
	static const char *const names[] = { "none", "mbr", "gpt" };
	return names[t];
}

static json_object *jstr(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static json_object *jguid(const uint8_t g[16])
{
	char s[VU_GUID_STRLEN];

	vu_guid_format(g, s);
	return json_object_new_string(s);
}

/* An image read over HTTP: what the server said of it (never the query). */
static json_object *source_json(const char *name)
{
	struct vu_blk *b = cli_image_source(name);
	struct vu_url_info in;
	json_object *o;

	if (!b)
		return NULL;
	vu_url_info(b, &in);
	o = json_object_new_object();
	json_object_object_add(o, "url", jstr(in.display));
	json_object_object_add(o, "size", json_object_new_uint64(in.size));
	json_object_object_add(o, "etag", jstr(in.etag));
	json_object_object_add(o, "last_modified", jstr(in.last_modified));
	json_object_object_add(o, "page_blob",
			       json_object_new_boolean(in.page_blob));
	if (in.have_map) {
		json_object_object_add(o, "written_bytes",
				       json_object_new_uint64(in.written_bytes));
		json_object_object_add(o, "written_ranges",
				       json_object_new_uint64(in.nranges));
	}
	return o;
}

static void print_source(const char *name, const char *tag)
{
	struct vu_blk *b = cli_image_source(name);
	struct vu_url_info in;
	char size[32], written[32];

	if (!b)
		return;
	vu_url_info(b, &in);
	vu_human_size(in.size, size, sizeof(size));
	printf("%ssource:     %s over HTTP, %s (%" PRIu64 " bytes), ETag %s\n",
	       tag, in.page_blob ? "page blob" : "file", size, in.size,
	       in.etag[0] ? in.etag : "(none)");
	if (in.have_map) {
		vu_human_size(in.written_bytes, written, sizeof(written));
		printf("%swritten:    %s in %" PRIu64 " page ranges (the rest "
		       "reads as zeros without a request)\n", tag, written,
		       in.nranges);
	}
}

static json_object *container_json(const struct vu_container_info *c)
{
	json_object *o = json_object_new_object(), *chain;

	json_object_object_add(o, "format",
			       jstr(vu_container_format_name(c->format)));
	json_object_object_add(o, "type", jstr(vu_container_type_name(c->type)));
	json_object_object_add(o, "virtual_size",
			       json_object_new_uint64(c->virtual_size));
	json_object_object_add(o, "sector_size",
			       json_object_new_int((int)c->sector_size));
	chain = json_object_new_array();
	for (size_t i = 0; i < c->chain_len; i++) {
		const struct vu_image_info *im = &c->chain[i];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "path", jstr(im->path));
		json_object_object_add(e, "format",
				       jstr(vu_container_format_name(im->format)));
		json_object_object_add(e, "type",
				       jstr(vu_container_type_name(im->type)));
		if (im->format != VU_FMT_RAW)
			json_object_object_add(e, "identifier",
					       jguid(im->identifier));
		if (im->type == VU_CT_DIFFERENCING)
			json_object_object_add(e, "parent_identifier",
					       jguid(im->parent_id));
		if (im->format == VU_FMT_VHDX)
			json_object_object_add(
				e, "log_not_empty",
				json_object_new_boolean(im->log_not_empty));
		json_object_array_add(chain, e);
	}
	json_object_object_add(o, "chain", chain);
	return o;
}

static json_object *table_json(const struct vu_ptable *t)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type", jstr(table_name(t->type)));
	if (t->type == VU_TABLE_GPT) {
		json_object_object_add(o, "disk_guid", jguid(t->disk_guid));
		json_object_object_add(o, "backup_header_used",
				       json_object_new_boolean(t->used_backup));
	} else if (t->type == VU_TABLE_MBR) {
		char sig[16];
		snprintf(sig, sizeof(sig), "%08" PRIx32, t->disk_signature);
		json_object_object_add(o, "disk_signature", jstr(sig));
	}
	if (t->type != VU_TABLE_NONE)
		json_object_object_add(o, "sector_size",
				       json_object_new_int((int)t->sector_size));
	return o;
}

static json_object *probe_json(const struct vu_probe *p)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "kind", jstr(vu_kind_name(p->kind)));
	if (p->detail[0])
		json_object_object_add(o, "detail", jstr(p->detail));
	json_object_object_add(o, "label", jstr(p->label));
	json_object_object_add(o, "uuid", jstr(p->uuid));
	return o;
}

static void iso_time(time_t t, char *out, size_t n)
{
	struct tm tm;

	if (!t || !gmtime_r(&t, &tm))
		snprintf(out, n, "%s", "");
	else
		strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* What BitLocker and LUKS volumes share: whether a key opened them, which,
 * and what the decrypted volume holds. */
static void add_unlocked(json_object *o, const struct vu_volume *v)
{
	json_object_object_add(o, "unlocked",
			       json_object_new_boolean(v->unlocked));
	if (v->unlocked) {
		json_object_object_add(o, "unlocked_by", jstr(v->unlocked_by));
		json_object_object_add(o, "content", probe_json(&v->inner));
	}
}

static json_object *bitlocker_json(const struct vu_volume *v)
{
	const struct vu_bde_info *in = vu_bde_info(vu_volume_bde(v));
	json_object *o = json_object_new_object(), *prots;
	char t[32];

	json_object_object_add(o, "variant", jstr(in->variant));
	json_object_object_add(o, "method", jstr(in->method_name));
	json_object_object_add(o, "volume_guid", jstr(in->volume_guid));
	json_object_object_add(o, "description", jstr(in->description));
	iso_time(in->creation_time, t, sizeof(t));
	json_object_object_add(o, "creation_time", jstr(t));
	json_object_object_add(o, "state", jstr(in->state_name));
	json_object_object_add(o, "encrypted_size",
			       json_object_new_uint64(in->encrypted_size));
	json_object_object_add(o, "partly_encrypted",
			       json_object_new_boolean(in->partly_encrypted));
	json_object_object_add(o, "sector_size",
			       json_object_new_int((int)in->sector_size));
	prots = json_object_new_array();
	for (size_t i = 0; i < in->nprotectors; i++) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "type",
				       jstr(in->protectors[i].type_name));
		json_object_object_add(p, "guid", jstr(in->protectors[i].guid));
		json_object_array_add(prots, p);
	}
	json_object_object_add(o, "protectors", prots);
	add_unlocked(o, v);
	return o;
}

static json_object *luks_json(const struct vu_volume *v)
{
	const struct vu_luks_info *in = vu_luks_info(vu_volume_luks(v));
	json_object *o = json_object_new_object(), *slots;
	char cipher[96];

	snprintf(cipher, sizeof(cipher), "%s-%s", in->cipher, in->mode);
	json_object_object_add(o, "version", json_object_new_int(in->version));
	json_object_object_add(o, "cipher", jstr(cipher));
	json_object_object_add(o, "key_bits",
			       json_object_new_int((int)in->key_bits));
	json_object_object_add(o, "sector_size",
			       json_object_new_int((int)in->sector_size));
	json_object_object_add(o, "uuid", jstr(in->uuid));
	json_object_object_add(o, "label", jstr(in->label));
	json_object_object_add(o, "data_offset",
			       json_object_new_uint64(in->data_offset));
	if (v->luks_header)
		json_object_object_add(o, "detached_header",
				       jstr(v->luks_header));
	slots = json_object_new_array();
	for (size_t i = 0; i < in->nkeyslots; i++) {
		const struct vu_luks_keyslot *k = &in->keyslots[i];
		json_object *so = json_object_new_object();
		json_object_object_add(so, "index", json_object_new_int(k->index));
		json_object_object_add(so, "active",
				       json_object_new_boolean(k->active));
		json_object_object_add(so, "pbkdf", jstr(k->pbkdf));
		json_object_array_add(slots, so);
	}
	json_object_object_add(o, "keyslots", slots);
	json_object_object_add(o, "tokens", json_object_new_int(in->ntokens));
	json_object_object_add(o, "reencryption", jstr(in->reencrypt_name));
	add_unlocked(o, v);
	return o;
}

/* The volume that took a found header, or NULL. */
static const char *header_user(const struct vu_disk *d, const char *name)
{
	for (size_t i = 0; i < d->nvolumes; i++)
		if (d->volumes[i].luks_header &&
		    !strcmp(d->volumes[i].luks_header, name))
			return d->volumes[i].id;
	return NULL;
}

static json_object *found_headers_json(const struct vu_disk *d)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < d->nheaders; i++) {
		const struct vu_found_header *h = &d->headers[i];
		const char *user = header_user(d, h->name);
		json_object *o = json_object_new_object();

		json_object_object_add(o, "path", jstr(h->name));
		json_object_object_add(o, "size",
				       json_object_new_uint64(h->blk->size));
		json_object_object_add(o, "role", jstr(h->os_header
							? "os-volume"
							: "data-disk"));
		json_object_object_add(o, "used_by", user ? jstr(user) : NULL);
		json_object_array_add(a, o);
	}
	return a;
}

static void print_found_headers(const struct vu_disk *d)
{
	if (!d->nheaders)
		return;
	printf("\nDetached LUKS headers found on the disk (ADE layout):\n");
	for (size_t i = 0; i < d->nheaders; i++) {
		const struct vu_found_header *h = &d->headers[i];
		const char *user = header_user(d, h->name);

		printf("  %s  %s header, %s%s\n", h->name,
		       h->os_header ? "OS volume" : "data disk",
		       user ? "opens " : "opened no volume", user ? user : "");
	}
}

static json_object *lvm_json(const struct vu_disk *d)
{
	json_object *arr = json_object_new_array();

	for (size_t g = 0; g < d->nvgs; g++) {
		struct vu_lvm_vg_info vi;
		json_object *o = json_object_new_object(), *lvs;

		vu_lvm_vg_info(d->vgs[g], &vi);
		json_object_object_add(o, "vg", jstr(vi.name));
		json_object_object_add(o, "uuid", jstr(vi.uuid));
		json_object_object_add(o, "extent_size",
				       json_object_new_uint64(vi.extent_size * 512));
		json_object_object_add(o, "missing_pvs",
				       json_object_new_int((int)vi.missing_pvs));
		lvs = json_object_new_array();
		for (size_t i = 0; i < vi.lv_count; i++) {
			struct vu_lvm_lv_info li;
			json_object *lo;
			if (vu_lvm_vg_lv(d->vgs[g], i, &li) < 0)
				continue;
			lo = json_object_new_object();
			json_object_object_add(lo, "name", jstr(li.name));
			json_object_object_add(lo, "uuid", jstr(li.uuid));
			json_object_object_add(lo, "size",
					       json_object_new_uint64(li.size));
			json_object_object_add(lo, "segment_types", jstr(li.types));
			json_object_object_add(lo, "supported",
					       json_object_new_boolean(li.supported));
			json_object_object_add(lo, "visible",
					       json_object_new_boolean(li.visible));
			json_object_object_add(lo, "unsupported",
					       jstr(li.unsupported));
			json_object_object_add(lo, "missing",
					       json_object_new_boolean(li.missing));
			json_object_array_add(lvs, lo);
		}
		json_object_object_add(o, "lvs", lvs);
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *volume_json(const struct vu_volume *v)
{
	json_object *o = json_object_new_object();
	const struct vu_part *p = v->part;

	json_object_object_add(o, "id", jstr(v->id));
	json_object_object_add(o, "start",
			       json_object_new_uint64(p ? p->start : 0));
	json_object_object_add(o, "size", json_object_new_uint64(v->blk->size));
	json_object_object_add(o, "kind", jstr(vu_kind_name(v->probe.kind)));
	if (v->error)
		json_object_object_add(o, "error", jstr(v->error));
	if (vu_volume_bde(v))
		json_object_object_add(o, "bitlocker", bitlocker_json(v));
	if (vu_volume_luks(v))
		json_object_object_add(o, "luks", luks_json(v));
	if (v->vg) {
		struct vu_lvm_vg_info vi;
		json_object *lo = json_object_new_object();
		vu_lvm_vg_info(v->vg, &vi);
		json_object_object_add(lo, "vg", jstr(vi.name));
		json_object_object_add(lo, "lv", jstr(v->lv.name));
		json_object_object_add(o, "lvm", lo);
	}
	if (v->md) {
		struct vu_md_info mi;
		json_object *mo = json_object_new_object();
		vu_md_array_info(v->md, &mi);
		json_object_object_add(mo, "uuid", jstr(mi.uuid));
		json_object_object_add(mo, "level",
				       jstr(vu_md_level_name(mi.level)));
		json_object_object_add(mo, "degraded",
				       json_object_new_boolean(mi.degraded));
		json_object_object_add(o, "md", mo);
	}
	if (v->probe.detail[0])
		json_object_object_add(o, "detail", jstr(v->probe.detail));
	json_object_object_add(o, "label", jstr(v->probe.label));
	json_object_object_add(o, "uuid", jstr(v->probe.uuid));
	if (p && !vu_guid_is_zero(p->type_guid)) {
		const char *n = vu_gpt_type_name(p->type_guid);
		json_object_object_add(o, "gpt_type", jguid(p->type_guid));
		json_object_object_add(o, "gpt_type_name", jstr(n ? n : ""));
		json_object_object_add(o, "gpt_name", jstr(p->name));
		json_object_object_add(o, "partition_guid", jguid(p->part_guid));
		json_object_object_add(o, "gpt_attributes",
				       json_object_new_uint64(p->attributes));
	} else if (p) {
		const char *n = vu_mbr_type_name(p->mbr_type);
		char t[8];
		snprintf(t, sizeof(t), "0x%02x", p->mbr_type);
		json_object_object_add(o, "mbr_type", jstr(t));
		json_object_object_add(o, "mbr_type_name", jstr(n ? n : ""));
		json_object_object_add(o, "bootable",
				       json_object_new_boolean(p->bootable));
	}
	return o;
}

static void print_json(const struct vu_disk *d)
{
	json_object *root = json_object_new_object(), *vols;

	json_object *disks = json_object_new_array(), *src;

	/* the first image at the top, as before --add-disk existed */
	json_object_object_add(root, "image", jstr(d->images[0].path));
	if ((src = source_json(d->images[0].path)))
		json_object_object_add(root, "source", src);
	json_object_object_add(root, "container",
			       container_json(&d->images[0].container));
	json_object_object_add(root, "partition_table",
			       table_json(&d->images[0].table));
	for (size_t k = 0; k < d->nimages; k++) {
		json_object *o = json_object_new_object();
		char id[24];

		snprintf(id, sizeof(id), "d%zu", k + 1);
		json_object_object_add(o, "id", jstr(id));
		json_object_object_add(o, "image", jstr(d->images[k].path));
		if ((src = source_json(d->images[k].path)))
			json_object_object_add(o, "source", src);
		json_object_object_add(o, "container",
				       container_json(&d->images[k].container));
		json_object_object_add(o, "partition_table",
				       table_json(&d->images[k].table));
		json_object_array_add(disks, o);
	}
	json_object_object_add(root, "disks", disks);
	vols = json_object_new_array();
	for (size_t i = 0; i < d->nvolumes; i++) {
		json_object *v = volume_json(&d->volumes[i]);

		json_object_object_add(v, "disk", json_object_new_int64(
					  (int64_t)d->volumes[i].image + 1));
		json_object_array_add(vols, v);
	}
	json_object_object_add(root, "volumes", vols);
	json_object_object_add(root, "md", info_md_json(d));
	json_object_object_add(root, "lvm", lvm_json(d));
	json_object_object_add(root, "luks_headers_found",
			       found_headers_json(d));
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

static void print_unlocked(const struct vu_volume *v)
{
	if (v->unlocked)
		printf("    unlocked:     with the %s\n"
		       "    holds:        %s, label \"%s\", UUID %s\n",
		       v->unlocked_by, vu_kind_name(v->inner.kind),
		       v->inner.label, v->inner.uuid[0] ? v->inner.uuid : "-");
}

static void print_bitlocker(const struct vu_volume *v)
{
	const struct vu_bde_info *in = vu_bde_info(vu_volume_bde(v));
	char t[32], size[32], total[32];

	printf("\n%s: BitLocker%s, %s, volume GUID {%s}\n", v->id,
	       strcmp(in->variant, "to go") ? "" : " To Go", in->method_name,
	       in->volume_guid);
	if (in->description[0])
		printf("    description:  %s\n", in->description);
	iso_time(in->creation_time, t, sizeof(t));
	if (t[0])
		printf("    created:      %s\n", t);
	vu_human_size(in->encrypted_size, size, sizeof(size));
	vu_human_size(in->volume_size, total, sizeof(total));
	printf("    state:        %s (%s of %s encrypted)\n", in->state_name,
	       size, total);
	for (size_t i = 0; i < in->nprotectors; i++) {
		const struct vu_bde_protector *p = &in->protectors[i];
		printf("    %-13s %-18s {%s}", i ? "" : "protectors:",
		       p->type_name, p->guid);
		if (p->type == VU_BDE_PROT_STARTUP_KEY) {
			/* ADE names the Key Vault secret and .BEK file so */
			char name[VU_GUID_STRLEN];
			for (size_t k = 0; k < sizeof(name); k++)
				name[k] = (char)toupper((unsigned char)p->guid[k]);
			printf("  key file %s.BEK", name);
		}
		putchar('\n');
	}
	print_unlocked(v);
}

static void print_luks(const struct vu_volume *v)
{
	const struct vu_luks_info *in = vu_luks_info(vu_volume_luks(v));
	char size[32];

	vu_human_size(in->data_offset, size, sizeof(size));
	printf("\n%s: LUKS%d, %s-%s, %u-bit key, %u-byte sectors, UUID %s\n",
	       v->id, in->version, in->cipher, in->mode, in->key_bits,
	       in->sector_size, in->uuid);
	if (in->label[0])
		printf("    label:        %s\n", in->label);
	if (v->luks_header)
		printf("    header:       %s (detached)\n", v->luks_header);
	printf("    data offset:  %s\n", size);
	for (size_t i = 0; i < in->nkeyslots; i++)
		printf("    %-13s %d: %s%s\n", i ? "" : "key slots:",
		       in->keyslots[i].index,
		       in->keyslots[i].pbkdf[0] ? in->keyslots[i].pbkdf
						: "unbound",
		       in->keyslots[i].active ? "" : " (inactive)");
	if (in->ntokens)
		printf("    tokens:       %d\n", in->ntokens);
	if (in->reencrypt != VU_LUKS_REENC_NONE)
		printf("    reencryption: %s (plaintext segments passed "
		       "through)\n", in->reencrypt_name);
	print_unlocked(v);
}

static void print_lvm(const struct vu_disk *d)
{
	for (size_t g = 0; g < d->nvgs; g++) {
		struct vu_lvm_vg_info vi;
		char size[32];

		vu_lvm_vg_info(d->vgs[g], &vi);
		printf("\nLVM volume group %s, UUID %s, %zu PV(s)%s\n", vi.name,
		       vi.uuid, vi.pv_count,
		       vi.missing_pvs ? " (some missing: add them with "
					"--add-disk)" : "");
		for (size_t i = 0; i < vi.lv_count; i++) {
			struct vu_lvm_lv_info li;
			if (vu_lvm_vg_lv(d->vgs[g], i, &li) < 0 || !li.visible)
				continue;
			vu_human_size(li.size, size, sizeof(size));
			printf("    %-16s %10s  %-10s%s%s\n", li.name, size,
			       li.types,
			       li.missing     ? "  missing PV"
			       : li.supported ? ""
					      : "  not supported: ",
			       li.missing || li.supported || !li.unsupported
				       ? "" : li.unsupported);
		}
	}
}

static void print_image(const struct vu_disk *d, size_t k)
{
	const struct vu_disk_image *im = &d->images[k];
	const struct vu_container_info *c = &im->container;
	char size[32], g[VU_GUID_STRLEN], tag[24] = "";

	if (d->nimages > 1)
		snprintf(tag, sizeof(tag), "d%zu ", k + 1);
	vu_human_size(c->virtual_size, size, sizeof(size));
	printf("%simage:      %s\n", tag, im->path);
	print_source(im->path, tag);
	printf("%scontainer:  %s%s%s, %s (%" PRIu64 " bytes), %" PRIu32
	       "-byte sectors\n", tag, vu_container_format_name(c->format),
	       c->format == VU_FMT_RAW ? "" : " ",
	       c->format == VU_FMT_RAW ? "" : vu_container_type_name(c->type),
	       size, c->virtual_size, c->sector_size);
	for (size_t i = 1; i < c->chain_len; i++)
		printf("%s  parent %zu:  %s (%s %s)\n", tag, i,
		       c->chain[i].path,
		       vu_container_format_name(c->chain[i].format),
		       vu_container_type_name(c->chain[i].type));
	switch (im->table.type) {
	case VU_TABLE_GPT:
		vu_guid_format(im->table.disk_guid, g);
		printf("%stable:      gpt, disk GUID %s%s\n", tag, g,
		       im->table.used_backup ? " (backup header)" : "");
		break;
	case VU_TABLE_MBR:
		printf("%stable:      mbr, disk signature %08" PRIx32 "\n", tag,
		       im->table.disk_signature);
		break;
	default:
		printf("%stable:      none (the whole image is volume "
		       "'%.*s')\n", tag, d->nimages > 1 ? (int)strlen(tag) - 1 : 4,
		       d->nimages > 1 ? tag : "disk");
	}
}

static void print_text(const struct vu_disk *d)
{
	char size[32], g[VU_GUID_STRLEN];
	size_t idw = 6;

	for (size_t k = 0; k < d->nimages; k++)
		print_image(d, k);
	/* ids of LVs and md arrays are long: the column fits the longest */
	for (size_t i = 0; i < d->nvolumes; i++)
		if (strlen(d->volumes[i].id) > idw)
			idw = strlen(d->volumes[i].id);
	printf("\n%-*s %14s %10s  %-10s %-16s %-38s %s\n", (int)idw, "ID",
	       "START", "SIZE", "KIND", "LABEL", "UUID", "TYPE");
	for (size_t i = 0; i < d->nvolumes; i++) {
		const struct vu_volume *v = &d->volumes[i];
		const struct vu_part *p = v->part;
		char type[160] = "";

		vu_human_size(v->blk->size, size, sizeof(size));
		if (p && d->images[v->image].table.type == VU_TABLE_GPT) {
			const char *n = vu_gpt_type_name(p->type_guid);
			if (!n)
				vu_guid_format(p->type_guid, g);
			snprintf(type, sizeof(type), "%s%s%s%s", n ? n : g,
				 p->name[0] ? " \"" : "", p->name,
				 p->name[0] ? "\"" : "");
		} else if (p) {
			const char *n = vu_mbr_type_name(p->mbr_type);
			snprintf(type, sizeof(type), "0x%02x %s%s", p->mbr_type,
				 n ? n : "", p->bootable ? " (boot)" : "");
		}
		printf("%-*s %14" PRIu64 " %10s  %-10s %-16s %-38s %s\n",
		       (int)idw, v->id, p ? p->start : 0, size, vu_kind_name(v->probe.kind),
		       v->probe.label[0] ? v->probe.label : "-",
		       v->probe.uuid[0] ? v->probe.uuid : "-", type);
	}
	for (size_t i = 0; i < d->nvolumes; i++) {
		if (vu_volume_bde(&d->volumes[i]))
			print_bitlocker(&d->volumes[i]);
		if (vu_volume_luks(&d->volumes[i]))
			print_luks(&d->volumes[i]);
	}
	info_md_print(d);
	print_lvm(d);
	print_found_headers(d);
}

static const char info_help[] =
	"Usage: vhdunlock info IMAGE [KEYS] [--json]\n"
	"Show the container, the partition table and every volume of IMAGE; "
	"with keys,\nalso what the encrypted volumes hold.\n";

static const struct cli_command info_command = {
	CLI_COMMAND("info", info_help, "one IMAGE", 1, 1, "h"),
	.longopts = {
		{ "json", no_argument, NULL, 'j' },
		CLI_COMMON_OPTIONS,
	},
};

/* The exit status once d is shown: 1 when a volume could not be read,
 * else as cli_locked_status. */
static int info_status(const struct vu_disk *d, int keys_given)
{
	int r = EXIT_OK;

	for (size_t i = 0; i < d->nvolumes; i++) {
		if (!d->volumes[i].error)
			continue;
		fprintf(stderr, "%s: %s: cannot read the volume: %s\n",
			vu_prog, d->volumes[i].id, d->volumes[i].error);
		r = EXIT_FAIL;
	}
	return cli_locked_status(d, keys_given, r);
}

int cmd_info(int argc, char **argv)
{
	struct cli_frame f = { 0 };
	int json = 0, c, r;

	while ((c = cli_next_option(&info_command, argc, argv, &f.keys,
				    &r)) > 0)
		if (c == 'j')
			json = 1;
	if (c < 0)
		return cli_frame_end(&f, r);
	r = cli_open_disk(argv[optind], &f.keys, &f.d);
	if (r == 0) {
		if (json)
			print_json(f.d);
		else
			print_text(f.d);
		r = info_status(f.d, f.keys.given);
	}
	return cli_frame_end(&f, r);
}
