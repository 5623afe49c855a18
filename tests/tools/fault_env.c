/* Test builds only: the fault-injection switch of vhdunlock-faults, a
 * build of the vhdunlock program that make check makes and never installs.
 * The installed program has no way to arm a fault; this file is the only
 * place the environment reaches vu_blk_fault_set().
 *
 *   VHDUNLOCK_TEST_FAIL_READ=N    the N-th block read of the process fails
 *                                 with EIO, once (N counts every layer's
 *                                 reads: vu_blk_read() calls)
 *   VHDUNLOCK_TEST_FAIL_READ=N+   the N-th and every read after it fail
 *   VHDUNLOCK_TEST_READ_COUNT=F   at exit, append "PID READS" to file F, so
 *                                 a test knows how many reads a clean run
 *                                 makes and where to put its faults
 * A forked mount daemon inherits both the countdown and the count. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/blk.h"

static const char *count_file;

static void write_count(void)
{
	FILE *f = fopen(count_file, "a");

	if (!f)
		return;
	fprintf(f, "%ld %lu\n", (long)getpid(), vu_blk_read_count());
	fclose(f);
}

__attribute__((constructor)) static void fault_env(void)
{
	const char *s = getenv("VHDUNLOCK_TEST_FAIL_READ");

	count_file = getenv("VHDUNLOCK_TEST_READ_COUNT");
	if (count_file && *count_file) {
		vu_blk_count_reads();
		atexit(write_count);
	}
	if (s && *s) {
		char *end;
		long n;
		errno = 0;
		n = strtol(s, &end, 10);
		if (errno || n <= 0 || (*end && (end[0] != '+' || end[1]))) {
			fprintf(stderr, "VHDUNLOCK_TEST_FAIL_READ: '%s' is not "
				"N or N+ (N > 0)\n", s);
			exit(2);
		}
		vu_blk_fault_set(n, *end == '+');
	}
}
