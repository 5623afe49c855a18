/* The terminal side of vu_busy_begin/end: a ticker on stderr while a long
 * step with no measurable progress runs (an Argon2 key derivation).  It
 * appears only after half a second, so quick steps print nothing, and only
 * on a terminal, so logs and pipes stay clean. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/busy.h"
#include "core/log.h"

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int running, drawn;
	char what[256];
	struct timespec start;
} tick = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void *ticker(void *arg)
{
	static const char spin[] = "|/-\\";
	unsigned int n = 0;

	(void)arg;
	pthread_mutex_lock(&tick.mu);
	while (tick.running) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&tick.cv, &tick.mu, &until);
		if (tick.running && since(&tick.start) >= 0.5) {
			fprintf(stderr, "\r%s %c %.1f s ", tick.what,
				spin[n++ % 4], since(&tick.start));
			fflush(stderr);
			tick.drawn = 1;
		}
	}
	pthread_mutex_unlock(&tick.mu);
	return NULL;
}

static void busy_sink(const char *what, void *arg)
{
	(void)arg;
	if (what) {
		/* -q: errors only */
		if (tick.running || !vu_log_enabled(VU_LOG_WARN))
			return; /* nested: the outer step keeps the line */
		snprintf(tick.what, sizeof(tick.what), "%s", what);
		clock_gettime(CLOCK_MONOTONIC, &tick.start);
		tick.drawn = 0;
		tick.running = 1;
		if (pthread_create(&tick.thread, NULL, ticker, NULL) != 0)
			tick.running = 0;
		return;
	}
	if (!tick.running)
		return;
	pthread_mutex_lock(&tick.mu);
	tick.running = 0;
	pthread_cond_signal(&tick.cv);
	pthread_mutex_unlock(&tick.mu);
	pthread_join(tick.thread, NULL);
	if (tick.drawn)
		fprintf(stderr, "\r%s: %.1f s\033[K\n", tick.what,
			since(&tick.start));
}

void cli_busy_init(void)
{
	if (isatty(STDERR_FILENO))
		vu_busy_set_sink(busy_sink, NULL);
}
