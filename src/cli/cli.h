#ifndef VU_CLI_H
#define VU_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "core/human.h"
#include "core/log.h"
#include "disk/disk.h"
#include "keys/keyring.h"

/* Exit statuses of CLI.md. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_NOKEY = 3,
};

extern const char *vu_prog;

/* The log sink the CLI sets (stderr, "vhdunlock: warning: ..."); extract
 * wraps it to count the entries the file system skips. */
void cli_log_sink(enum vu_log_level level, const char *msg, void *arg);

/* Map a negative errno from the core to the documented exit status and
 * print the recorded message; the one place that does so. */
int cli_fail(int err);
/* Print a usage error (with a hint to --help) and return EXIT_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));


/* The kind of v as stored; for a LUKS volume whose header is kept apart
 * (its content is "unknown"), luks1 or luks2 from the header. */
const char *cli_volume_kind(const struct vu_volume *v);

struct cli_progress {
	const char *what;
	uint64_t total, done;
	double start, last;
	int enabled;
};
void cli_progress_start(struct cli_progress *p, const char *what,
			uint64_t total);
void cli_progress_update(struct cli_progress *p, uint64_t done);
void cli_progress_end(struct cli_progress *p);
/* Show a ticker on a terminal during the core's long steps (busy.h). */
void cli_busy_init(void);

/* ---- KEYS (CLI.md) ---- */
enum {
	OPT_BEK = 1000,
	OPT_RECOVERY_PASSWORD_FILE,
	OPT_PASSWORD_FILE,
	OPT_PASSPHRASE_FILE,
	OPT_KEY_FILE,
	OPT_LUKS_HEADER,
	OPT_ADD_DISK,
	OPT_KEY_VAULT,
	OPT_SECRET_URL,
	OPT_KEK_PEM,
	OPT_AUTH,
	OPT_CA_FILE,
	OPT_ACCESS_TOKEN_FILE,
	OPT_MACHINE,
	OPT_ARM_URL,
	OPT_ACCESS_SECONDS,
	OPT_KEEP_ACCESS,
	OPT_CACHE_SIZE,
	OPT_CACHE_DIR,
	OPT_STATS,
};
#define CLI_KEY_OPTIONS                                                     \
	{ "bek", required_argument, NULL, OPT_BEK },                        \
	{ "recovery-password-file", required_argument, NULL,                \
	  OPT_RECOVERY_PASSWORD_FILE },                                     \
	{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },     \
	{ "passphrase-file", required_argument, NULL, OPT_PASSPHRASE_FILE }, \
	{ "key-file", required_argument, NULL, OPT_KEY_FILE },              \
	{ "luks-header", required_argument, NULL, OPT_LUKS_HEADER },        \
	{ "add-disk", required_argument, NULL, OPT_ADD_DISK },              \
	{ "key-vault", required_argument, NULL, OPT_KEY_VAULT },            \
	{ "secret-url", required_argument, NULL, OPT_SECRET_URL },          \
	{ "kek-pem", required_argument, NULL, OPT_KEK_PEM },                \
	{ "auth", required_argument, NULL, OPT_AUTH },                      \
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },                \
	{ "access-token-file", required_argument, NULL,                     \
	  OPT_ACCESS_TOKEN_FILE },                                          \
	{ "machine", required_argument, NULL, OPT_MACHINE },                \
	{ "arm-url", required_argument, NULL, OPT_ARM_URL },                \
	{ "access-seconds", required_argument, NULL, OPT_ACCESS_SECONDS },  \
	{ "keep-access", no_argument, NULL, OPT_KEEP_ACCESS },              \
	{ "cache-size", required_argument, NULL, OPT_CACHE_SIZE },          \
	{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR },            \
	{ "stats", no_argument, NULL, OPT_STATS }

/* The end of every command's option table: -h/--help and KEYS, which
 * cli_next_option takes itself, and the terminator. */
#define CLI_COMMON_OPTIONS                                                  \
	{ "help", no_argument, NULL, 'h' }, CLI_KEY_OPTIONS, { 0 }

#define CLI_KEY_HELP                                                        \
	"  --add-disk IMAGE               another disk of the same VM\n"     \
	"                                 (repeatable); ids become d1p2, d2p1\n" \
	"  --bek FILE|DIR                 BitLocker startup key (.BEK); a\n"  \
	"                                 directory is searched for <GUID>.BEK\n" \
	"  --recovery-password-file FILE  BitLocker recovery password (48\n"   \
	"                                 digits; - reads standard input)\n"   \
	"  --password-file FILE           BitLocker user password\n"          \
	"  --passphrase-file FILE         LUKS passphrase (one trailing\n"     \
	"                                 newline removed)\n"                 \
	"  --key-file FILE                LUKS key file, byte for byte\n"     \
	"  --luks-header FILE             detached LUKS header\n"             \
	"  --key-vault URL                fetch the ADE secrets from this\n"  \
	"                                 Azure Key Vault\n"                 \
	"  --secret-url URL               use this Key Vault secret\n"       \
	"  --kek-pem FILE                 unwrap wrapped secrets locally\n"  \
	"  --auth METHOD                  env, certificate, workload-identity,\n" \
	"                                 managed-identity, azure-cli, token\n" \
	"  --access-token-file FILE       a Key Vault bearer token\n"        \
	"  --ca-file FILE                 more trusted CA certificates\n"    \
	"  --machine NAME                 ADE's MachineName tag (LUKS)\n"    \
	"  (VHDUNLOCK_RECOVERY_PASSWORD also gives a recovery password)\n" \
	"IMAGE may be a path, an https:// URL (a SAS), @FILE (the URL on\n" \
	"its first line; @- standard input) or the resource ID of a managed\n" \
	"disk or snapshot:\n"                                                \
	"  --arm-url URL                  Resource Manager endpoint\n"       \
	"  --access-seconds N             read access asked for (3600)\n"   \
	"  --keep-access                  do not revoke it at the end\n"    \
	"  --cache-size SIZE              block cache of a URL (256M)\n"    \
	"  --cache-dir DIR                keep fetched blocks on disk\n"    \
	"  --stats                        at exit, what was transferred\n"

struct cli_keys {
	struct vu_keyring ring;
	/* Key Vault (src/akv/ade.h) */
	const char *vault_url, *kek_pem, *auth, *ca_file, *token_file,
		*machine;
	char *ca_file_abs;	/* --ca-file made absolute */
	const char **secret_urls;
	size_t nsecret_urls;
	int given; /* any key option or variable */
	size_t nadd;
	const char **add_disks; /* --add-disk, in order (argv strings) */
	/* images given as URLs or resource IDs (src/cli/image.c) */
	const char *arm_url, *cache_dir;
	unsigned access_seconds;
	uint64_t cache_size;
	int keep_access, stats;
	int hold_images;	/* cli_keys_free leaves them open (mount) */
	struct cli_images *images;
};

/* 1 when c was a key option (and was taken), 0 when not, <0 on error.
 * The first sets the keyring's prompt (cli_prompt). */
int cli_key_option(int c, const char *arg, struct cli_keys *k);
/* The keyring's vu_prompt_fn (prompt.c): asks on the terminal without
 * echo. */
int cli_prompt(void *ctx, const char *question, char *buf, size_t cap);

/* Open the image and unlock what the keys open. */
int cli_open_disk(const char *image, struct cli_keys *k, struct vu_disk **d);
/* Report a volume the keys did not unlock: exit status 3. */
int cli_locked_fail(const struct vu_volume *v);
/* Report a detached LUKS header that opened no volume: exit status 3. */
int cli_disk_locked_fail(const struct vu_disk *d);
/* status, or 3 once each encrypted volume left locked (only when keys
 * were given: without them that is what is expected) and a detached LUKS
 * header that opened nothing are reported; a failure (1) stays as it is
 * and reports nothing more.  For what shows a whole disk: info, ls, keys. */
int cli_locked_status(const struct vu_disk *d, int keys_given, int status);
/* Wipe the keys; unless k->hold_images, also end the images
 * (cli_images_end). */
void cli_keys_free(struct cli_keys *k);

/* What a command that opens IMAGE holds while it runs: the KEYS, then
 * the disk they unlocked (cli_open_disk(image, &f.keys, &f.d)). */
struct cli_frame {
	struct cli_keys keys;
	struct vu_disk *d;
};
/* Close the disk, then free the keys (the images end: --stats, access
 * revoked); for a zero-initialised f too. */
void cli_frame_close(struct cli_frame *f);
/* cli_frame_close, and then r: an exit status as it is, a negative errno
 * reported (cli_fail) only now, after what the images' end printed. */
int cli_frame_end(struct cli_frame *f, int r);

/* ---- IMAGE forms (image.c) ---- */
/* Resolve spec (a path, URL, @FILE or resource ID): *name is what to give
 * vu_disk_open / vu_disk_add (the path, or the URL without query of the
 * source registered for it).  spec is an argv string: a URL's query is
 * wiped in it once the URL is open. */
int cli_image_resolve(struct cli_keys *k, char *spec, const char **name);
/* Open the images (IMAGE and --add-disk) and nothing else: no keys. */
int cli_open_images(char *image, struct cli_keys *k, struct vu_disk **d);
/* --stats printed, read access revoked (unless --keep-access), sources
 * closed.  <0 when a revocation failed (already reported). */
int cli_images_end(struct cli_keys *k);
/* The URL source an image name stands for, or NULL (a file). */
struct vu_blk *cli_image_source(const char *name);
/* "256M", "1G", "4096" */
int cli_parse_size(const char *s, uint64_t *out);

/* ---- a command's arguments ---- */

/* Room for one command's long options: its own, CLI_COMMON_OPTIONS. */
#define CLI_MAX_OPTIONS 32

/* What cli_next_option needs to know of a command. */
/* The head of a command's table: its name, help text, operands as usage
 * errors name them with how many it takes, and its short options. */
#define CLI_COMMAND(nm, hlp, ops, min, max, shorts)                         \
	.name = (nm), .help = (hlp), .operands = (ops),                      \
	.min_operands = (min), .max_operands = (max), .shortopts = (shorts)

struct cli_command {
	const char *name;		/* "extract": begins its usage errors */
	/* printed for -h and --help; the KEYS section (CLI_KEY_HELP)
	 * follows it unless the command is keyless */
	const char *help;
	/* NULL for a command that takes KEYS; else the usage error for
	 * KEYS given to it, once its options and operands are in order */
	const char *keyless;
	const char *operands;		/* "IMAGE VOLUME:PATH DEST": a wrong
					   count is reported naming them */
	int min_operands, max_operands;
	const char *shortopts;		/* for getopt_long, with 'h' */
	/* for getopt_long: the command's own, then CLI_COMMON_OPTIONS */
	struct option longopts[CLI_MAX_OPTIONS];
};

/* getopt_long over argv for cmd (main sets optind = 1 once), taking
 * itself what every command takes alike: the KEYS options (into k) and
 * -h/--help.  Returns the next option only cmd knows (getopt_long's value
 * for it, > 0); 0 once the options are over and argv[optind] on are as
 * many operands as cmd takes; or -1 when the command is to end now with
 * *status: EXIT_OK after the help, EXIT_USAGE after the usage error for an
 * unknown option, a wrong count of operands or KEYS given to a keyless
 * command, or cli_fail's status for a key option that failed.  k is for
 * the caller to free in every case. */
int cli_next_option(const struct cli_command *cmd, int argc, char **argv,
		    struct cli_keys *k, int *status);

int cmd_info(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_decrypt(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_umount(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_audit(int argc, char **argv);

#endif
