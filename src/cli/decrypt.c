/* vhdunlock decrypt: a copy of the whole disk with its unlocked volumes
 * decrypted in place, as a fixed VHD for upload or a raw image.
 *
 * The output disk is one block source, an extent map over the image's
 * virtual disk: runs of it as stored, and for each unlocked BitLocker
 * volume its decrypted content (as export writes it) at the same place.
 * It is then written as export writes a volume. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/decrypt_out.h"
#include "cli/decrypt_plan.h"
#include "cli/export_pool.h"
#include "cli/output.h"
#include "core/extent.h"
#include "core/log.h"
#include "disk/disk.h"

#define MIB ((uint64_t)1 << 20)

#define STR(x) #x
#define XSTR(x) STR(x)

static const char decrypt_help[] =
	"Usage: vhdunlock decrypt IMAGE OUT [KEYS] [--format vhd|vhdx|raw]\n"
	"                         [--require-all] [--force] [--threads N]\n"
	"Write a copy of the whole disk IMAGE to OUT with every unlocked "
	"volume\ndecrypted in place: BitLocker as Windows presents it once "
	"decrypted, LUKS\nas its payload, with the partition entry moved to "
	"start there and the\nheader area zeroed (both GPT copies or the MBR "
	"rewritten).  Volumes no key\nunlocks are copied as they are, with "
	"a warning.\n"
	"\n"
	"  --format vhd   a fixed VHD as Azure takes for upload (default): "
	"the size\n"
	"                 padded to a whole MiB, a GPT's backup moved to the "
	"new end\n"
	"  --format vhdx  a dynamic VHDX, leaving out what reads as zeros\n"
	"  --format raw   a raw image, sparse where the disk reads as zeros\n"
	"  --require-all  fail when a volume stays encrypted: exit 3 when no "
	"key\n"
	"                 unlocked it, 1 when decrypt cannot handle it\n"
	"  --force        overwrite an existing OUT\n"
	"  --threads N    read and decrypt with N threads, 1 to "
	XSTR(EXPORT_MAX_THREADS) " (default:\n"
	"                 one per online CPU, at most "
	XSTR(EXPORT_MAX_THREADS) ")\n";

enum {
	OPT_FORCE = 'f',
	OPT_THREADS = 't',
	OPT_FORMAT = 'F',
	OPT_REQUIRE_ALL = 'r',
};

static const struct cli_command decrypt_command = {
	CLI_COMMAND("decrypt", decrypt_help, "IMAGE OUT", 2, 2, "h"),
	.longopts = {
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "require-all", no_argument, NULL, OPT_REQUIRE_ALL },
		CLI_COMMON_OPTIONS,
	},
};

struct decrypt_args {
	const char *image, *out;
	int force, require_all;
	enum decrypt_format fmt;
	unsigned threads;
};

static int parse_format(const char *s, enum decrypt_format *fmt)
{
	if (!strcmp(s, "vhd"))
		*fmt = DECRYPT_VHD;
	else if (!strcmp(s, "raw"))
		*fmt = DECRYPT_RAW;
	else if (!strcmp(s, "vhdx"))
		*fmt = DECRYPT_VHDX;
	else
		return cli_usage("decrypt: --format: expected vhd, vhdx or "
				 "raw, got '%s'", s);
	return 0;
}

/* The options and operands into a; -1 when the command ends now with
 * *status (help shown, or a usage error). */
static int parse_args(int argc, char **argv, struct decrypt_args *a,
		      struct cli_keys *keys, int *status)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->threads = export_pool_default_threads();
	a->fmt = DECRYPT_VHD;
	while ((c = cli_next_option(&decrypt_command, argc, argv, keys,
				    status)) > 0) {
		if (c == OPT_FORCE)
			a->force = 1;
		else if (c == OPT_REQUIRE_ALL)
			a->require_all = 1;
		else if (c == OPT_THREADS)
			*status = cli_parse_threads("decrypt", optarg,
						    &a->threads);
		else if (c == OPT_FORMAT)
			*status = parse_format(optarg, &a->fmt);
		if (*status)
			return -1;
	}
	if (c < 0)
		return -1;
	a->image = argv[optind];
	a->out = argv[optind + 1];
	return 0;
}

/* Warnings for what stays encrypted; with --require-all the exit status
 * (3 for a volume no key opened, 1 for one not handled yet) instead. */
static int check_plan(const struct vu_disk *d, const struct decrypt_plan *p,
		      int require_all)
{
	int status = EXIT_OK;

	/* an encrypted volume inside an md array or an LV is not a region of
	 * the disk: the copy keeps it as its members hold it */
	for (size_t i = 0; i < d->nvolumes; i++) {
		const struct vu_volume *v = &d->volumes[i];
		const char *why = "it lies inside %s, which decrypt copies as "
				  "stored (export %s gives its plaintext)";
		char msg[200];

		if (!vu_volume_composite(v) || !vu_volume_encrypted(v) ||
		    v->image != 0)
			continue;
		snprintf(msg, sizeof(msg), why, v->md ? "an md array"
						     : "a logical volume",
			 v->id);
		if (require_all) {
			fprintf(stderr, "%s: %s: %s: not decrypted: %s "
				"(--require-all)\n", vu_prog, v->id,
				cli_volume_kind(v), msg);
			status = EXIT_FAIL;
		} else {
			vu_log(VU_LOG_WARN, "%s: %s: not decrypted: %s",
			       v->id, cli_volume_kind(v), msg);
		}
	}

	for (size_t i = 0; i < p->n; i++) {
		const struct decrypt_vol *q = &p->vols[i];
		const struct vu_volume *v = q->v;
		const char *kind = cli_volume_kind(v);

		if (q->act == DECRYPT_LOCKED && require_all) {
			if (v->lock_error)
				cli_locked_fail(v);
			else
				fprintf(stderr, "%s: %s: %s: no key unlocked "
					"it (--require-all)\n", vu_prog,
					v->id, kind);
			/* before a volume not supported: a key may be
			 * what the user lacks first */
			status = EXIT_NOKEY;
		} else if (q->act == DECRYPT_LOCKED) {
			vu_log(VU_LOG_WARN, "%s: %s: no key unlocked it; "
			       "copied encrypted", v->id, kind);
		} else if (q->act == DECRYPT_UNSUPPORTED && require_all) {
			fprintf(stderr, "%s: %s: %s: not decrypted: %s "
				"(--require-all)\n", vu_prog, v->id, kind,
				q->why);
			if (status == EXIT_OK)
				status = EXIT_FAIL;
		} else if (q->act == DECRYPT_UNSUPPORTED) {
			vu_log(VU_LOG_WARN, "%s: %s: not decrypted: %s; "
			       "copied encrypted", v->id, kind, q->why);
		}
	}
	return status;
}

/* What would have to change inside the guest for a volume opened with a
 * detached header: the copy reads, but the guest still maps the volume
 * through /etc/crypttab with that header; an OS disk's initramfs does so
 * before the root is mounted (ADE's osluksheader). */
static void print_detached_note(const struct vu_volume *v)
{
	const struct vu_probe *in = vu_volume_content(v);
	const char *uuid = in->uuid[0] ? in->uuid : "<its file system's UUID>";

	printf("\nnote: %s was opened with a detached LUKS header (%s), as "
	       "ADE encrypts\n", v->id, v->luks_header);
	if (!strstr(v->luks_header, "osluksheader")) {
		printf("Linux data disks.  The copy is plain: in the guest "
		       "that mounts it, delete\n"
		       "its line in /etc/crypttab and mount it by UUID=%s "
		       "in /etc/fstab instead\n"
		       "of its /dev/mapper name; the ADE extension's header "
		       "file under\n"
		       "/var/lib/azure_disk_encryption_config is no longer "
		       "needed.\n", uuid);
		return;
	}
	printf("a Linux OS disk.  The copy can be attached and read as a "
	       "data disk, but an\n"
	       "OS on it will not boot as it is: its initramfs still opens "
	       "this volume\n"
	       "through /etc/crypttab with the header "
	       "/boot/luks/osluksheader.  To boot it,\n"
	       "inside the guest (for example chrooted from a repair VM):\n"
	       "  - delete the volume's line in /etc/crypttab (ADE names it "
	       "osencrypt, with\n"
	       "    header=/boot/luks/osluksheader);\n"
	       "  - in /etc/fstab, mount it by UUID=%s instead of\n"
	       "    /dev/mapper/osencrypt (and LVs by their names, as "
	       "before);\n"
	       "  - rebuild the initramfs (update-initramfs -u -k all; RHEL: "
	       "dracut -f\n"
	       "    --regenerate-all) and the boot menu (update-grub; RHEL: "
	       "grub2-mkconfig);\n"
	       "  - delete /boot/luks/osluksheader and "
	       "/var/lib/azure_disk_encryption_config.\n", uuid);
}

static void print_volume(const struct decrypt_vol *q)
{
	const struct vu_volume *v = q->v;
	char human[32];

	switch (q->act) {
	case DECRYPT_IN_PLACE:
	case DECRYPT_MOVED:
		printf("%-5s %s -> %s  decrypted in place", v->id,
		       cli_volume_kind(v),
		       vu_kind_name(vu_volume_content(v)->kind));
		if (q->act == DECRYPT_MOVED) {
			vu_human_size(q->moved_by, human, sizeof(human));
			printf("; partition entry moved to the payload (+%s)",
			       human);
		}
		printf("\n");
		break;
	case DECRYPT_COPY:
		printf("%-5s %s  copied\n", v->id, cli_volume_kind(v));
		break;
	case DECRYPT_LOCKED:
		printf("%-5s %s  copied encrypted (no key)\n", v->id,
		       cli_volume_kind(v));
		break;
	case DECRYPT_UNSUPPORTED:
		printf("%-5s %s  copied encrypted (%s)\n", v->id,
		       cli_volume_kind(v), q->why);
		break;
	}
}

/* Is w, a volume of the copy (one image: ids without d1), where v was? */
static int same_place(const struct vu_volume *w, const struct vu_volume *v)
{
	if (vu_volume_composite(w))
		return 0;
	if (!w->part || !v->part)
		return !w->part && !v->part;
	return w->part->slot == v->part->slot;
}

/* The copy reopened as it was written, without keys, before it takes
 * OUT's name: every volume decrypted must now read as what its decryption
 * held (a file system, an LVM PV), where the table says it is. */
static int check_copy(const char *path, void *arg)
{
	const struct decrypt_plan *p = arg;
	struct vu_disk *d;
	int r = vu_disk_open(path, &d);

	for (size_t i = 0; r == 0 && i < p->n; i++) {
		const struct decrypt_vol *q = &p->vols[i];
		enum vu_kind want = vu_volume_content(q->v)->kind;
		const struct vu_volume *w = NULL;

		if (q->act != DECRYPT_IN_PLACE && q->act != DECRYPT_MOVED)
			continue;
		for (size_t k = 0; k < d->nvolumes && !w; k++)
			if (same_place(&d->volumes[k], q->v))
				w = &d->volumes[k];
		if (!w || w->probe.kind != want)
			r = vu_fail(-EIO, "%s: the copy, reopened without "
				    "keys, has %s %s, expected %s; it is not "
				    "kept", path, q->v->id,
				    w ? vu_kind_name(w->probe.kind)
				      : "no such volume",
				    vu_kind_name(want));
	}
	if (d)
		vu_disk_close(d);
	return r;
}

static void print_summary(const struct decrypt_args *a,
			  const struct decrypt_plan *p)
{
	static const char *const fmt_name[] = {
		[DECRYPT_VHD] = "fixed VHD",
		[DECRYPT_VHDX] = "dynamic VHDX",
		[DECRYPT_RAW] = "raw",
	};
	char human[32];

	for (size_t i = 0; i < p->n; i++)
		print_volume(&p->vols[i]);
	vu_human_size(p->size, human, sizeof(human));
	printf("%s: %s, %s (%" PRIu64 " bytes)%s; reopened without keys, "
	       "each volume decrypted reads as above\n", a->out,
	       fmt_name[a->fmt], human, p->size,
	       p->table_rewritten ? "; partition table rewritten" : "");
	for (size_t i = 0; i < p->n; i++)
		if (p->vols[i].act == DECRYPT_IN_PLACE &&
		    p->vols[i].v->luks_header)
			print_detached_note(p->vols[i].v);
}

int cmd_decrypt(int argc, char **argv)
{
	struct cli_frame f = { 0 };
	struct decrypt_args a;
	struct decrypt_plan p = { 0 };
	struct vu_blk *out = NULL;
	int r = 0, status = EXIT_OK;

	if (parse_args(argc, argv, &a, &f.keys, &status) < 0)
		goto out;
	r = cli_open_disk(a.image, &f.keys, &f.d);
	/* Azure takes a VHD of a whole number of MiB */
	if (r == 0)
		r = decrypt_plan_make(f.d, a.fmt == DECRYPT_VHD ? MIB : 0,
				      &p);
	if (r < 0)
		goto out;
	status = check_plan(f.d, &p, a.require_all);
	if (status != EXIT_OK)
		goto out;
	r = decrypt_plan_disk(f.d, &p, &out);
	if (r == 0)
		r = decrypt_out_write(f.d, out, a.out, a.force, a.fmt,
				      a.threads, check_copy, &p);
	if (r == 0)
		print_summary(&a, &p);
out:
	vu_blk_unref(out);
	decrypt_plan_free(&p);
	return cli_frame_end(&f, r < 0 ? r : status);
}
