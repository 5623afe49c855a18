/* vhdunlock audit: without any key, what of the image can be read.  The
 * verdicts come from src/audit; this file prints them as a short table or
 * as the JSON document of the man page, and maps them to the exit status
 * of CLI.md (0 nothing readable, 1 something is, 2 error). */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "unlock/unlock.h"

#define DEFAULT_PERCENT 2.0

static const char *verdict_text(enum vu_audit_verdict v)
{
	return v == VU_AUDIT_EXPECTED ? "plain (expected)"
				      : vu_audit_verdict_name(v);
}

static void sectors(const struct vu_audit_range *r, char *out, size_t size)
{
	char len[32];

	vu_human_size(r->length, len, sizeof(len));
	snprintf(out, size, "sectors %" PRIu64 "-%" PRIu64 " (%s)",
		 r->offset / 512, (r->offset + r->length) / 512 - 1, len);
}

static void encryption_text(const struct vu_volume *v)
{
	const struct vu_bde *bde = vu_volume_bde(v);
	const struct vu_luks *luks = vu_volume_luks(v);

	if (bde) {
		const struct vu_bde_info *in = vu_bde_info(bde);
		printf("%-8s BitLocker %s, %s; protectors:", "", in->method_name,
		       in->state_name);
		for (size_t i = 0; i < in->nprotectors; i++)
			printf("%s %s", i ? "," : "",
			       in->protectors[i].type_name);
		putchar('\n');
	} else if (luks) {
		const struct vu_luks_info *in = vu_luks_info(luks);
		printf("%-8s LUKS%d %s-%s; key slots:", "", in->version,
		       in->cipher, in->mode);
		for (size_t i = 0; i < in->nkeyslots; i++)
			printf("%s %d (%s)", i ? "," : "",
			       in->keyslots[i].index, in->keyslots[i].pbkdf);
		if (in->reencrypt != VU_LUKS_REENC_NONE)
			printf("; reencryption %s", in->reencrypt_name);
		putchar('\n');
	}
}

static void print_text(const struct vu_audit_report *rep, const char *image)
{
	printf("%-8s %-10s %10s  %-16s %s\n", "VOLUME", "KIND", "SIZE",
	       "VERDICT", "EVIDENCE");
	for (size_t i = 0; i < rep->n; i++) {
		const struct vu_audit_volume *a = &rep->vols[i];
		char size[32], where[96];

		vu_human_size(a->v->raw ? a->v->raw->size : 0, size,
			       sizeof(size));
		printf("%-8s %-10s %10s  %-16s %s\n", a->v->id, cli_volume_kind(a->v),
		       size, verdict_text(a->verdict), a->reason);
		encryption_text(a->v);
		for (size_t k = 0; k < a->nexposed; k++) {
			sectors(&a->exposed[k], where, sizeof(where));
			printf("%-8s readable without a key: %s, %s\n", "", where,
			       a->exposed[k].what);
		}
		for (size_t k = 0; a->scanned && k < a->scan.nfound; k++) {
			sectors(&a->scan.found[k], where, sizeof(where));
			printf("%-8s found: %s, %s\n", "", where,
			       a->scan.found[k].what);
		}
		if (a->scan.dropped)
			printf("%-8s found: %zu more ranges not listed\n", "",
			       a->scan.dropped);
		if (a->header_note[0])
			printf("%-8s %s\n", "", a->header_note);
	}
	if (!rep->exposed) {
		printf("sealed: nothing on %s can be read without its keys\n",
		       image);
		return;
	}
	printf("exposed:");
	for (size_t i = 0; i < rep->n; i++)
		if (rep->vols[i].verdict == VU_AUDIT_EXPOSED)
			printf(" %s", rep->vols[i].v->id);
	printf(" can be read without keys\n");
}

static json_object *range_json(const struct vu_audit_range *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "offset", json_object_new_uint64(r->offset));
	json_object_object_add(o, "length", json_object_new_uint64(r->length));
	json_object_object_add(o, "first_sector",
			       json_object_new_uint64(r->offset / 512));
	json_object_object_add(o, "last_sector", json_object_new_uint64(
				       (r->offset + r->length) / 512 - 1));
	json_object_object_add(o, "what", json_object_new_string(r->what));
	return o;
}

static json_object *scan_json(const struct vu_audit_scan *sc)
{
	json_object *o = json_object_new_object(), *u, *f;

	json_object_object_add(o, "area_bytes",
			       json_object_new_uint64(sc->area_bytes));
	json_object_object_add(o, "sampled_bytes",
			       json_object_new_uint64(sc->sampled_bytes));
	u = json_object_new_object();
	for (int c = 0; c < AUDIT_NCLASSES; c++)
		json_object_object_add(u, vu_audit_class_name(c),
				       json_object_new_uint64(sc->units[c]));
	json_object_object_add(o, "units", u);
	json_object_object_add(o, "found_bytes",
			       json_object_new_uint64(sc->found_bytes));
	f = json_object_new_array();
	for (size_t k = 0; k < sc->nfound; k++)
		json_object_array_add(f, range_json(&sc->found[k]));
	json_object_object_add(o, "found", f);
	json_object_object_add(o, "found_not_listed",
			       json_object_new_uint64(sc->dropped));
	return o;
}

static json_object *encryption_json(const struct vu_volume *v)
{
	json_object *o = json_object_new_object(), *list = json_object_new_array();
	const struct vu_bde *bde = vu_volume_bde(v);

	if (bde) {
		const struct vu_bde_info *in = vu_bde_info(bde);
		json_object_object_add(o, "type", json_object_new_string("bitlocker"));
		json_object_object_add(o, "method", json_object_new_string(in->method_name));
		json_object_object_add(o, "state", json_object_new_string(in->state_name));
		json_object_object_add(o, "encrypted_size",
				       json_object_new_uint64(in->encrypted_size));
		for (size_t i = 0; i < in->nprotectors; i++) {
			json_object *p = json_object_new_object();
			json_object_object_add(p, "type", json_object_new_string(
						       in->protectors[i].type_name));
			json_object_object_add(p, "guid", json_object_new_string(
						       in->protectors[i].guid));
			json_object_array_add(list, p);
		}
		json_object_object_add(o, "protectors", list);
	} else {
		const struct vu_luks_info *in = vu_luks_info(vu_volume_luks(v));
		char cipher[96];
		snprintf(cipher, sizeof(cipher), "%s-%s", in->cipher, in->mode);
		json_object_object_add(o, "type", json_object_new_string(
					       in->version == 1 ? "luks1" : "luks2"));
		json_object_object_add(o, "cipher", json_object_new_string(cipher));
		json_object_object_add(o, "reencryption",
				       json_object_new_string(in->reencrypt_name));
		for (size_t i = 0; i < in->nkeyslots; i++) {
			json_object *s = json_object_new_object();
			json_object_object_add(s, "index", json_object_new_int(
						       in->keyslots[i].index));
			json_object_object_add(s, "pbkdf", json_object_new_string(
						       in->keyslots[i].pbkdf));
			json_object_array_add(list, s);
		}
		json_object_object_add(o, "keyslots", list);
	}
	return o;
}

static json_object *volume_json(const struct vu_audit_volume *a)
{
	json_object *o = json_object_new_object(), *x;

	json_object_object_add(o, "id", json_object_new_string(a->v->id));
	json_object_object_add(o, "kind", json_object_new_string(cli_volume_kind(a->v)));
	json_object_object_add(o, "size", json_object_new_uint64(
				       a->v->raw ? a->v->raw->size : 0));
	json_object_object_add(o, "verdict", json_object_new_string(
				       vu_audit_verdict_name(a->verdict)));
	json_object_object_add(o, "role", a->role[0] ?
			       json_object_new_string(a->role) : NULL);
	json_object_object_add(o, "reason", json_object_new_string(a->reason));
	json_object_object_add(o, "encryption", a->v->crypt ?
			       encryption_json(a->v) : NULL);
	x = NULL;
	if (a->fs_counted) {
		x = json_object_new_object();
		json_object_object_add(x, "kind", json_object_new_string(a->fs_kind));
		json_object_object_add(x, "files", json_object_new_uint64(a->files));
		json_object_object_add(x, "directories",
				       json_object_new_uint64(a->dirs));
	}
	json_object_object_add(o, "filesystem", x);
	x = json_object_new_array();
	for (size_t k = 0; k < a->nexposed; k++)
		json_object_array_add(x, range_json(&a->exposed[k]));
	json_object_object_add(o, "readable_ranges", x);
	json_object_object_add(o, "scan", a->scanned ? scan_json(&a->scan) : NULL);
	json_object_object_add(o, "detached_luks_header", a->header_note[0] ?
			       json_object_new_string(a->header_note) : NULL);
	return o;
}

static void print_json(const struct vu_audit_report *rep, const char *image,
		       const struct vu_audit_opts *o)
{
	json_object *doc = json_object_new_object(), *list, *samp;

	json_object_object_add(doc, "image", json_object_new_string(image));
	json_object_object_add(doc, "verdict", json_object_new_string(
				       rep->exposed ? "exposed" : "sealed"));
	list = json_object_new_array();
	for (size_t i = 0; i < rep->n; i++)
		if (rep->vols[i].verdict == VU_AUDIT_EXPOSED)
			json_object_array_add(list, json_object_new_string(
						      rep->vols[i].v->id));
	json_object_object_add(doc, "exposed_volumes", list);
	samp = json_object_new_object();
	json_object_object_add(samp, "full", json_object_new_boolean(o->full));
	json_object_object_add(samp, "fraction", json_object_new_double(
				       o->full ? 1.0 : o->fraction));
	json_object_object_add(doc, "sampling", samp);
	list = json_object_new_array();
	for (size_t i = 0; i < rep->n; i++)
		json_object_array_add(list, volume_json(&rep->vols[i]));
	json_object_object_add(doc, "volumes", list);
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
}

static void progress(void *arg, uint64_t done, uint64_t total)
{
	struct cli_progress *p = arg;

	p->total = total;
	cli_progress_update(p, done);
}

static const char audit_help[] =
	"Usage: vhdunlock audit IMAGE [--json] [--sample PERCENT | --full]\n"
	"Without any key, show volume by volume whether IMAGE's content can\n"
	"be read: plain file systems, unencrypted ranges, and plaintext in a\n"
	"sample of every encrypted area.  Exit status 0 when nothing is\n"
	"readable, 1 when something is, 2 on error.\n\n"
	"  --json            one JSON document (schema in vhdunlock(1))\n"
	"  --sample PERCENT  of each encrypted area to read (default 2)\n"
	"  --full            read every encrypted area completely\n"
	"  --add-disk IMAGE  another disk of the same VM (repeatable)\n";

static const struct cli_command audit_command = {
	CLI_COMMAND("audit", audit_help, "one IMAGE", 1, 1, "h"),
	.keyless = "audit takes no keys: it shows what can be read without "
		   "them",
	.longopts = {
		{ "json", no_argument, NULL, 'j' },
		{ "sample", required_argument, NULL, 's' },
		{ "full", no_argument, NULL, 'F' },
		CLI_COMMON_OPTIONS,
	},
};

/* Errors of audit exit with 2 (CLI.md): 1 means "something is exposed". */
static int audit_fail(int err)
{
	cli_fail(err);
	return EXIT_USAGE;
}

static int open_without_keys(const char *image, struct cli_keys *k,
			     struct vu_disk **d)
{
	struct vu_keyring none;
	int r;

	vu_keyring_init(&none);
	r = cli_open_images((char *)image, k, d);
	if (r == 0)
		r = vu_disk_unlock(*d, &none);
	vu_keyring_free(&none);
	return r;
}

/* "--sample PERCENT" as the fraction of each area to read: 0, or the
 * usage error's status. */
static int parse_sample(const char *s, double *fraction)
{
	char *end;
	double p = strtod(s, &end);

	if (end == s || *end || !(p > 0 && p <= 100))
		return cli_usage("audit: --sample wants a percentage above 0 "
				 "and at most 100, not '%s'", s);
	*fraction = p / 100;
	return 0;
}

int cmd_audit(int argc, char **argv)
{
	struct cli_frame f = { 0 };
	struct vu_audit_opts o = { .fraction = DEFAULT_PERCENT / 100 };
	struct vu_audit_report *rep = NULL;
	struct cli_progress pr;
	int json = 0, c, r;

	while ((c = cli_next_option(&audit_command, argc, argv, &f.keys,
				    &r)) > 0) {
		if (c == 'j')
			json = 1;
		else if (c == 'F')
			o.full = 1;
		else if (c == 's' && (r = parse_sample(optarg, &o.fraction)))
			goto out;
	}
	if (c < 0)
		goto out;
	r = open_without_keys(argv[optind], &f.keys, &f.d);
	if (r < 0) {
		r = audit_fail(r);
		goto out;
	}
	cli_progress_start(&pr, "sampling", 1);
	o.progress = progress;
	o.arg = &pr;
	r = vu_audit(f.d, &o, &rep);
	cli_progress_end(&pr);
	if (r < 0) {
		r = audit_fail(r);
		goto out;
	}
	if (json)
		print_json(rep, argv[optind], &o);
	else
		print_text(rep, argv[optind]);
	r = rep->exposed ? EXIT_FAIL : EXIT_OK;
out:
	vu_audit_report_free(rep);
	cli_frame_close(&f);
	return r;
}
