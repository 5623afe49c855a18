#ifndef VU_CLI_H
#define VU_CLI_H

#include <stdint.h>
#include <stdio.h>

/* Exit statuses of CLI.md. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_NOKEY = 3,
};

extern const char *vu_prog;

/* Map a negative errno from the core to the documented exit status and
 * print the recorded message; the one place that does so. */
int cli_fail(int err);
/* Print a usage error (with a hint to --help) and return EXIT_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "1.5 GiB" */
void cli_human_size(uint64_t bytes, char *out, size_t size);

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

int cmd_info(int argc, char **argv);
int cmd_export(int argc, char **argv);

#endif
