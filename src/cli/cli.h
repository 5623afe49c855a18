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
	{ "machine", required_argument, NULL, OPT_MACHINE }

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
	"  (VHDUNLOCK_RECOVERY_PASSWORD also gives a recovery password)\n"

struct cli_keys {
	struct vu_keyring ring;
	/* Key Vault (src/akv/ade.h) */
	const char *vault_url, *kek_pem, *auth, *ca_file, *token_file,
		*machine;
	const char **secret_urls;
	size_t nsecret_urls;
	int given; /* any key option or variable */
	size_t nadd;
	const char **add_disks; /* --add-disk, in order (argv strings) */
};

/* 1 when c was a key option (and was taken), 0 when not, <0 on error. */
int cli_key_option(int c, const char *arg, struct cli_keys *k);

/* Open the image and unlock what the keys open. */
int cli_open_disk(const char *image, struct cli_keys *k, struct vu_disk **d);
/* Report a volume the keys did not unlock: exit status 3. */
int cli_locked_fail(const struct vu_volume *v);
/* Report a detached LUKS header that opened no volume: exit status 3. */
int cli_disk_locked_fail(const struct vu_disk *d);
void cli_keys_free(struct cli_keys *k);

/* ---- a command's arguments ---- */

/* Room for one command's long options: its own, CLI_COMMON_OPTIONS. */
#define CLI_MAX_OPTIONS 32

/* What cli_next_option needs to know of a command. */
struct cli_command {
	const char *name;		/* "extract": begins its usage errors */
	const char *help;		/* printed for -h and --help */
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
 * unknown option or a wrong count of operands, or cli_fail's status for a
 * key option that failed.  k is for the caller to free in every case. */
int cli_next_option(const struct cli_command *cmd, int argc, char **argv,
		    struct cli_keys *k, int *status);

int cmd_info(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_umount(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_audit(int argc, char **argv);

#endif
