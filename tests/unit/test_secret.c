/* Unit tests: secret memory (core/secret.h): zeroed blocks of the size
 * asked for, the size recorded before the pointer, zero-size blocks, the
 * wipe on free seen through the test hook, vu_cleanse, and the abort on a
 * caller's wrong size. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/secret.h"

static size_t hook_calls, hook_len, hook_nonzero;

static void count_nonzero(const void *p, size_t n)
{
	const uint8_t *b = p;

	hook_calls++;
	hook_len = n;
	hook_nonzero = 0;
	for (size_t i = 0; i < n; i++)
		hook_nonzero += b[i] != 0;
}

static void test_alloc_sizes(void **state)
{
	static const size_t sizes[] = {1, 15, 16, 17, 4095, 4096, 4097,
				       65537};

	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		uint8_t *p = vu_secret_alloc(n);

		assert_non_null(p);
		assert_int_equal(vu_secret_size(p), n);
		/* aligned for any type, as malloc's */
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(p[i], 0);
		memset(p, 0xa5, n); /* every byte is the caller's */
		vu_secret_free(p, n);
	}
	assert_int_equal(vu_secret_size(NULL), 0);
}

static void test_zero_size(void **state)
{
	void *p = vu_secret_alloc(0), *q = vu_secret_alloc(0);

	(void)state;
	assert_non_null(p);
	assert_non_null(q);
	assert_ptr_not_equal(p, q);
	assert_int_equal(vu_secret_size(p), 0);
	vu_secret_free(p, 0);
	vu_secret_free(q, 0);
	vu_secret_free(NULL, 10);
	vu_secret_free(NULL, 0);
}

/* Freed with n == 0 ("as recorded") or the right n, the whole block is
 * zero before it is released. */
static void test_wiped_on_free(void **state)
{
	uint8_t *p;

	(void)state;
	vu_secret_set_free_hook(count_nonzero);
	for (int as_recorded = 0; as_recorded < 2; as_recorded++) {
		hook_calls = 0;
		p = vu_secret_alloc(1000);
		assert_non_null(p);
		memset(p, 0x5a, 1000);
		vu_secret_free(p, as_recorded ? 0 : 1000);
		assert_int_equal(hook_calls, 1);
		assert_true(hook_len >= 1000);
		assert_int_equal(hook_nonzero, 0);
	}
	hook_calls = 0;
	vu_secret_free(NULL, 0);
	assert_int_equal(hook_calls, 0);
	vu_secret_set_free_hook(NULL);
}

static void test_cleanse(void **state)
{
	uint8_t buf[100];

	(void)state;
	memset(buf, 0xff, sizeof(buf));
	vu_cleanse(buf + 10, 50);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], i >= 10 && i < 60 ? 0 : 0xff);
	vu_cleanse(NULL, 10);
	vu_cleanse(buf, 0);
	assert_int_equal(buf[0], 0xff);
}

/* A caller freeing with a size other than the one it allocated has lost
 * track of its secret: the process aborts (in a child here). */
static void test_wrong_size_aborts(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		void *p = vu_secret_alloc(32);

		signal(SIGABRT, SIG_DFL);
		vu_secret_free(p, 33);
		_exit(0); /* not reached when the check works */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_sizes),
		cmocka_unit_test(test_zero_size),
		cmocka_unit_test(test_wiped_on_free),
		cmocka_unit_test(test_cleanse),
		cmocka_unit_test(test_wrong_size_aborts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
