/* vhdunlock: command dispatch, logging sink, process hardening. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "core/log.h"
#include "crypto/secret_env.h"

const char *vu_prog = "vhdunlock";

static const char usage_text[] =
	"Usage: vhdunlock COMMAND [OPTIONS] IMAGE ...\n"
	"Read the disks of Azure Disk Encryption VMs offline: VHD, VHDX or raw\n"
	"images, their partitions and volumes.\n"
	"\n"
	"Commands:\n"
	"  info IMAGE [KEYS] [--json] container, partition table and volumes\n"
	"  export IMAGE VOLUME OUT [KEYS]\n"
	"                             write a volume's content to OUT (- for\n"
	"                             standard output), decrypted if unlocked\n"
	"  decrypt IMAGE OUT [KEYS] [--format vhd|raw] [--require-all]\n"
	"                             a copy of the whole disk with its unlocked\n"
	"                             BitLocker volumes decrypted in place, as\n"
	"                             a fixed VHD for Azure (default) or raw\n"
	"  mount IMAGE MOUNTPOINT [KEYS]\n"
	"                             read-only FUSE mount: MOUNTPOINT/<id>.img\n"
	"                             is each volume's raw content (-f stays\n"
	"                             in the foreground, -o OPTS FUSE options)\n"
	"  umount MOUNTPOINT          unmount what mount mounted\n"
	"  ls IMAGE [VOLUME:PATH] [KEYS] [-l] [--json]\n"
	"                             list the volumes, or a directory of a\n"
	"                             volume's file system (p1:/etc)\n"
	"  cat IMAGE VOLUME:PATH[:STREAM] [KEYS]\n"
	"                             write a file's content to standard output\n"
	"  extract IMAGE VOLUME:PATH DEST [KEYS] [--force]\n"
	"                             copy a file or a directory tree out to\n"
	"                             DEST, with DEST/vhdunlock-manifest.sha256\n"
	"  audit IMAGE [--json] [--sample PERCENT | --full]\n"
	"                             without keys: what of IMAGE is readable\n"
	"                             (exit 0 nothing, 1 something)\n"
	"  keys IMAGE [KEYS] [--save DIR] [--json]\n"
	"                             which key opens each encrypted volume;\n"
	"                             --save writes <GUID>.BEK / <UUID>.key\n"
	"\n"
	"KEYS (files, never the secret itself; - reads standard input):\n"
	CLI_KEY_HELP
	"\n"
	"Options:\n"
	"  --json         (info, ls) print JSON (schema: man vhdunlock)\n"
	"  -l             (ls) long listing: mode, links, owner, size, mtime\n"
	"  --force        (export, decrypt, extract) overwrite existing files\n"
	"  -q, --quiet    print errors only\n"
	"  -v, --verbose  print more about what is done\n"
	"  --debug        trace every read (very verbose)\n"
	"  -h, --help     show this help\n"
	"  -V, --version  show the version\n"
	"\n"
	"Volume ids: 'disk' (the whole image), p1, p2, ... (partitions, as Linux\n"
	"numbers them; MBR logical partitions start at p5), VG-LV (LVM).\n"
	"With --add-disk: d1p2 (partition 2 of the first image), d2p1, d2 ...\n"
	"VOLUME:PATH names a file in a volume: p1:/etc/fstab; p2:/a.txt:STREAM is\n"
	"an NTFS named stream (when no file is named a.txt:STREAM).\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 wrong usage, 3 a needed volume\n"
	"could not be unlocked.  See vhdunlock(1).\n";

void cli_log_sink(enum vu_log_level level, const char *msg, void *arg)
{
	static const char *const prefix[] = { "error: ", "warning: ", "", "",
					      "trace: " };
	(void)arg;
	fprintf(stderr, "%s: %s%s\n", vu_prog, prefix[level], msg);
}

/* Keys will pass through this process: no core dumps, no ptrace by other
 * users' processes (OpenSSH ssh-agent does the same). */
static void harden(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Global options may come before or after the command; they are taken out
 * of argv here so that each command sees only its own. */
static int take_global_options(int *argc, char **argv)
{
	int out = 1, end = 0;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		if (!end && !strcmp(a, "--")) {
			end = 1;
		} else if (!end && (!strcmp(a, "-q") || !strcmp(a, "--quiet"))) {
			vu_log_set_level(VU_LOG_ERROR);
			continue;
		} else if (!end &&
			   (!strcmp(a, "-v") || !strcmp(a, "--verbose"))) {
			vu_log_set_level(VU_LOG_INFO);
			continue;
		} else if (!end && !strcmp(a, "--debug")) {
			vu_log_set_level(VU_LOG_TRACE);
			continue;
		}
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	*argc = out;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} commands[] = {
		{ "info", cmd_info },
		{ "export", cmd_export },
		{ "decrypt", cmd_decrypt },
		{ "ls", cmd_ls },
		{ "cat", cmd_cat },
		{ "extract", cmd_extract },
		{ "mount", cmd_mount },
		{ "umount", cmd_umount },
		{ "keys", cmd_keys },
		{ "audit", cmd_audit },
	};

	harden();
	if (vu_secret_env_take() < 0) {
		fprintf(stderr, "%s: out of memory\n", vu_prog);
		return EXIT_FAIL;
	}
	vu_log_set_sink(cli_log_sink, NULL);
	cli_busy_init();
	vu_log_set_level(VU_LOG_WARN);
	take_global_options(&argc, argv);

	if (argc < 2)
		return cli_usage("no command given");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("vhdunlock %s\n"
		       "License GPLv2+: GNU GPL version 2 or later "
		       "<https://gnu.org/licenses/gpl.html>\n"
		       "This is free software: you are free to change and "
		       "redistribute it.\nThere is NO WARRANTY, to the extent "
		       "permitted by law.\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	/* Each command parses its own argv (argv + 1) with getopt_long, from
	 * its first element on: the one place that says so. */
	optind = 1;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	return cli_usage("unknown command '%s'", argv[1]);
}
