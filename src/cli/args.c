/* The part of a command's argument parsing that every command shares: the
 * KEYS options, -h/--help, an unknown option and the count of operands,
 * with the same messages and exit statuses everywhere. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"

int cli_next_option(const struct cli_command *cmd, int argc, char **argv,
		    struct cli_keys *k, int *status)
{
	int c, r, n;

	while ((c = getopt_long(argc, argv, cmd->shortopts, cmd->longopts,
				NULL)) != -1) {
		if (c == 'h') {
			fputs(cmd->help, stdout);
			if (!cmd->keyless)
				fputs("\nKEYS:\n" CLI_KEY_HELP, stdout);
			*status = EXIT_OK;
			return -1;
		}
		r = cli_key_option(c, optarg, k);
		if (r < 0) {
			*status = cli_fail(r);
			return -1;
		}
		if (r > 0)
			continue;
		/* getopt_long has printed what was wrong with it */
		if (c == '?') {
			*status = cli_usage("%s: bad option", cmd->name);
			return -1;
		}
		return c;
	}
	n = argc - optind;
	if (n < cmd->min_operands || n > cmd->max_operands) {
		*status = cli_usage("%s: expected %s, got %d arguments",
				    cmd->name, cmd->operands, n);
		return -1;
	}
	if (cmd->keyless && k->given) {
		*status = cli_usage("%s", cmd->keyless);
		return -1;
	}
	return 0;
}
