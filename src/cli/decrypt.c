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
#include "cli/export_pool.h"
#include "cli/output.h"
#include "core/extent.h"
#include "core/log.h"
#include "disk/disk.h"

#define MIB ((uint64_t)1 << 20)

#define STR(x) #x
#define XSTR(x) STR(x)

static const char decrypt_help[] =
	"Usage: vhdunlock decrypt IMAGE OUT [KEYS] [--format vhd|raw] "
	"[--require-all]\n"
	"                         [--force] [--threads N]\n"
	"Write a copy of the whole disk IMAGE to OUT with every unlocked "
	"BitLocker\nvolume decrypted in place (as Windows presents it once "
	"decrypted; the\npartition table is unchanged).  Volumes no key "
	"unlocks are copied as\nthey are, with a warning.  LUKS volumes are "
	"copied encrypted, with a\nwarning: decrypting them in place is not "
	"supported yet.\n"
	"\n"
	"  --format vhd   a fixed VHD as Azure takes for upload (default): "
	"a disk\n"
	"                 of no whole MiB is padded with zeros, unless it "
	"has a\n"
	"                 GPT (refused: its backup would have to move)\n"
	"  --format raw   a raw image, sparse where the disk reads as zeros\n"
	"                 (--format vhdx is not supported yet)\n"
	"  --require-all  fail when a volume would stay encrypted: exit 3 "
	"when no\n"
	"                 key unlocked it, 1 when not supported yet\n"
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
		return cli_usage("decrypt: --format vhdx is not supported "
				 "yet; use vhd or raw");
	else
		return cli_usage("decrypt: --format: expected vhd or raw, "
				 "got '%s'", s);
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

/* ---- what becomes of each volume ---- */

enum action {
	ACT_COPY,	/* not encrypted: copied */
	ACT_DECRYPT,	/* unlocked BitLocker: decrypted in place */
	ACT_LOCKED,	/* encrypted, no key: copied encrypted */
	ACT_UNSUPPORTED,/* unlocked or not, not handled yet: copied */
};

struct planned {
	struct vu_volume *v;
	uint64_t start, size;	/* on the virtual disk */
	enum action act;
};

struct plan {
	size_t n;
	struct planned *vols;	/* by start */
	uint64_t size;		/* of the output's data (padded) */
};

static enum action action_of(const struct vu_volume *v)
{
	if (!vu_volume_encrypted(v))
		return ACT_COPY;
	if (!vu_volume_bde(v))
		return ACT_UNSUPPORTED;
	return v->unlocked ? ACT_DECRYPT : ACT_LOCKED;
}

static int by_start(const void *a, const void *b)
{
	const struct planned *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The volumes that lie on the first image (partitions, or the whole disk
 * without a table; logical volumes lie inside them), by start. */
static int plan_volumes(struct vu_disk *d, struct plan *p)
{
	uint64_t disk = d->images[0].blk->size;

	p->vols = calloc(d->nvolumes ? d->nvolumes : 1, sizeof(*p->vols));
	if (!p->vols)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < d->nvolumes; i++) {
		struct vu_volume *v = &d->volumes[i];
		struct planned *q = &p->vols[p->n];

		if (v->image != 0 || v->vg)
			continue;
		q->v = v;
		q->start = v->part ? v->part->start : 0;
		q->size = v->part ? v->part->size : disk;
		q->act = action_of(v);
		if (q->act == ACT_DECRYPT && (q->start > disk ||
		    q->size > disk - q->start || v->blk->size != q->size))
			return vu_fail(-EUCLEAN, "%s: %s: %" PRIu64 " bytes "
				       "at %" PRIu64 " (decrypted: %" PRIu64
				       ") do not fit the disk's %" PRIu64,
				       d->images[0].path, v->id, q->size,
				       q->start, v->blk->size, disk);
		p->n++;
	}
	qsort(p->vols, p->n, sizeof(*p->vols), by_start);
	return 0;
}

/* Warnings for what stays encrypted; with --require-all the exit status
 * (3 for a volume no key opened, 1 for one not handled yet) instead. */
static int check_plan(const struct plan *p, int require_all)
{
	int status = EXIT_OK;

	for (size_t i = 0; i < p->n; i++) {
		const struct vu_volume *v = p->vols[i].v;
		const char *kind = cli_volume_kind(v);

		if (p->vols[i].act == ACT_LOCKED && require_all) {
			if (v->lock_error)
				cli_locked_fail(v);
			else
				fprintf(stderr, "%s: %s: %s: no key unlocked "
					"it (--require-all)\n", vu_prog,
					v->id, kind);
			/* before a volume not supported: a key may be
			 * what the user lacks first */
			status = EXIT_NOKEY;
		} else if (p->vols[i].act == ACT_LOCKED) {
			vu_log(VU_LOG_WARN, "%s: %s: no key unlocked it; "
			       "copied encrypted", v->id, kind);
		} else if (p->vols[i].act == ACT_UNSUPPORTED && require_all) {
			fprintf(stderr, "%s: %s: %s: decrypting in place is "
				"not supported yet (--require-all)\n",
				vu_prog, v->id, kind);
			if (status == EXIT_OK)
				status = EXIT_FAIL;
		} else if (p->vols[i].act == ACT_UNSUPPORTED) {
			vu_log(VU_LOG_WARN, "%s: %s: decrypting in place is "
			       "not supported yet; copied encrypted", v->id,
			       !strncmp(kind, "luks", 4) ? "LUKS" : kind);
		}
	}
	return status;
}

/* The output's size: the disk's, and for a VHD up to a whole MiB, which
 * Azure asks of an uploaded disk.  A GPT's backup would then no longer
 * sit at the end: moving it is not done yet, so such a disk is refused. */
static int plan_size(const struct vu_disk *d, enum decrypt_format fmt,
		     struct plan *p)
{
	uint64_t size = d->images[0].blk->size;

	p->size = size;
	if (fmt != DECRYPT_VHD || size % MIB == 0)
		return 0;
	if (d->images[0].table.type == VU_TABLE_GPT)
		return vu_fail(-ENOTSUP, "%s: the disk is %" PRIu64 " bytes, "
			       "not a multiple of 1 MiB as a VHD for Azure "
			       "must be, and moving its backup GPT to a "
			       "padded end is not supported yet; use "
			       "--format raw", d->images[0].path, size);
	p->size = (size + MIB - 1) / MIB * MIB;
	return 0;
}

/* The output disk as one block source. */
static int build_disk(struct vu_disk *d, const struct plan *p,
		      struct vu_blk **out)
{
	struct vu_blk *disk = d->images[0].blk;
	struct vu_extent_map *m = vu_extent_map_new();
	uint64_t pos = 0;
	int r = 0;

	if (!m)
		return vu_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; r == 0 && i < p->n; i++) {
		const struct planned *q = &p->vols[i];

		if (q->act != ACT_DECRYPT)
			continue;
		if (q->start < pos) {
			r = vu_fail(-EUCLEAN, "%s: %s overlaps a volume "
				    "before it; refusing to decrypt it in "
				    "place", d->images[0].path, q->v->id);
			break;
		}
		if (q->start > pos)
			r = vu_extent_map_add(m, q->start - pos, disk, pos,
					      NULL, 0, 0);
		if (r == 0)
			r = vu_extent_map_add(m, q->size, q->v->blk, 0, NULL,
					      0, 0);
		pos = q->start + q->size;
	}
	if (r == 0 && disk->size > pos)
		r = vu_extent_map_add(m, disk->size - pos, disk, pos, NULL, 0,
				      0);
	if (r == 0 && p->size > disk->size)
		r = vu_extent_map_add(m, p->size - disk->size, NULL, 0, NULL,
				      0, 0);
	if (r < 0) {
		vu_extent_map_free(m);
		return r;
	}
	return vu_extent_map_open(m, vu_blk_ref(disk), disk->sector_size,
				  "decrypt", "decrypted disk", out);
}

static void print_summary(const struct decrypt_args *a,
			  const struct plan *p)
{
	static const char *const what[] = {
		[ACT_COPY] = "copied",
		[ACT_DECRYPT] = "decrypted in place",
		[ACT_LOCKED] = "copied encrypted (no key)",
		[ACT_UNSUPPORTED] = "copied encrypted (not supported yet)",
	};
	char human[32];

	for (size_t i = 0; i < p->n; i++) {
		const struct vu_volume *v = p->vols[i].v;

		if (p->vols[i].act == ACT_DECRYPT)
			printf("%-5s %s -> %s  %s\n", v->id,
			       cli_volume_kind(v),
			       vu_kind_name(vu_volume_content(v)->kind),
			       what[ACT_DECRYPT]);
		else
			printf("%-5s %s  %s\n", v->id, cli_volume_kind(v),
			       what[p->vols[i].act]);
	}
	vu_human_size(p->size, human, sizeof(human));
	printf("%s: %s, %s (%" PRIu64 " bytes)\n", a->out,
	       a->fmt == DECRYPT_VHD ? "fixed VHD" : "raw", human, p->size);
}

int cmd_decrypt(int argc, char **argv)
{
	struct cli_frame f = { 0 };
	struct decrypt_args a;
	struct plan p = { 0 };
	struct vu_blk *out = NULL;
	int r = 0, status = EXIT_OK;

	if (parse_args(argc, argv, &a, &f.keys, &status) < 0)
		goto out;
	r = cli_open_disk(a.image, &f.keys, &f.d);
	if (r == 0)
		r = plan_volumes(f.d, &p);
	if (r == 0)
		r = plan_size(f.d, a.fmt, &p);
	if (r < 0)
		goto out;
	status = check_plan(&p, a.require_all);
	if (status != EXIT_OK)
		goto out;
	r = build_disk(f.d, &p, &out);
	if (r == 0)
		r = decrypt_out_write(f.d, out, a.out, a.force, a.fmt,
				      a.threads);
	if (r == 0)
		print_summary(&a, &p);
out:
	vu_blk_unref(out);
	free(p.vols);
	return cli_frame_end(&f, r < 0 ? r : status);
}
