#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/error.h"

int cli_fail(int err)
{
	fprintf(stderr, "%s: %s\n", vu_prog, vu_errmsg(err));
	vu_err_clear();
	switch (err) {
	case -ENOKEY:
	case -EPERM:
		return EXIT_NOKEY;
	default:
		return EXIT_FAIL;
	}
}

int cli_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", vu_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", vu_prog);
	return EXIT_USAGE;
}


static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Progress goes to stderr only when it is a terminal: logs and pipes get
 * no carriage-return noise. */
void cli_progress_start(struct cli_progress *p, const char *what,
			uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->what = what;
	p->total = total;
	p->enabled = isatty(STDERR_FILENO);
	p->start = p->last = now();
}

static void draw(struct cli_progress *p, double t)
{
	char done[32], total[32], rate[32];
	double secs = t - p->start;
	int pct = p->total ? (int)(p->done * 100 / p->total) : 100;
	int bar = pct * 30 / 100;

	vu_human_size(p->done, done, sizeof(done));
	vu_human_size(p->total, total, sizeof(total));
	vu_human_size(secs > 0 ? (uint64_t)(p->done / secs) : 0, rate,
		       sizeof(rate));
	fprintf(stderr, "\r%s [%.*s%*s] %3d%% %s of %s, %s/s ", p->what, bar,
		"##############################", 30 - bar, "", pct, done,
		total, rate);
	fflush(stderr);
}

void cli_progress_update(struct cli_progress *p, uint64_t done)
{
	double t;

	p->done = done;
	if (!p->enabled)
		return;
	t = now();
	if (t - p->last < 0.2)
		return;
	p->last = t;
	draw(p, t);
}

void cli_progress_end(struct cli_progress *p)
{
	if (!p->enabled)
		return;
	draw(p, now());
	fputc('\n', stderr);
}

/* The volume's kind; a LUKS volume whose header is kept apart holds only
 * ciphertext ("unknown"), so its kind comes from the header. */
const char *cli_volume_kind(const struct vu_volume *v)
{
	/* a volume opened through a detached header probes as unknown */
	if (v->crypt && !v->crypt->claims(v->probe.kind))
		return v->crypt->kind_name(v->crypt_state);
	return vu_kind_name(v->probe.kind);
}
