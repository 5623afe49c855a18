/* Unit tests: the worker pool (core/pool.c).  Every part runs exactly
 * once, also with several callers at once and with no workers; the first
 * failure's error and message reach the caller. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/pool.h"

#define PARTS 200

struct count {
	int runs[PARTS];
	int fail_at; /* -1: none */
	pthread_t caller;
	int others; /* parts run on another thread than the caller */
};

static int count_part(void *ctx, size_t i)
{
	struct count *c = ctx;

	__atomic_add_fetch(&c->runs[i], 1, __ATOMIC_RELAXED);
	if (!pthread_equal(pthread_self(), c->caller))
		__atomic_add_fetch(&c->others, 1, __ATOMIC_RELAXED);
	for (volatile int spin = 0; spin < 20000; spin++)
		;
	if ((int)i == c->fail_at)
		return vu_fail(-EBADMSG, "part %zu failed on purpose", i);
	return 0;
}

static void run_once(struct vu_pool *p, struct count *c, size_t n)
{
	memset(c->runs, 0, sizeof(c->runs));
	c->caller = pthread_self();
	c->others = 0;
	assert_int_equal(vu_pool_run(p, count_part, c, n), 0);
	for (size_t i = 0; i < PARTS; i++)
		assert_int_equal(c->runs[i], i < n ? 1 : 0);
}

static void test_every_part_once(void **state)
{
	struct vu_pool *p;
	struct count c = { .fail_at = -1 };
	int others = 0;

	(void)state;
	assert_int_equal(vu_pool_new(3, &p), 0);
	for (int k = 0; k < 20; k++) {
		run_once(p, &c, PARTS);
		others += c.others;
	}
	run_once(p, &c, 1);
	run_once(p, &c, 0);
	/* the workers did take parts (20 rounds of 200 slow ones) */
	assert_true(others > 0);
	vu_pool_free(p);
	/* no pool, a pool of no workers: all on the caller */
	run_once(NULL, &c, PARTS);
	assert_int_equal(c.others, 0);
	assert_int_equal(vu_pool_new(0, &p), 0);
	run_once(p, &c, PARTS);
	assert_int_equal(c.others, 0);
	vu_pool_free(p);
}

struct caller {
	struct vu_pool *p;
	struct count c;
	int ok;
};

static void *call(void *arg)
{
	struct caller *k = arg;

	k->ok = 1;
	for (int round = 0; round < 10; round++) {
		memset(k->c.runs, 0, sizeof(k->c.runs));
		k->c.caller = pthread_self();
		if (vu_pool_run(k->p, count_part, &k->c, PARTS) != 0)
			k->ok = 0;
		for (size_t i = 0; i < PARTS; i++)
			if (k->c.runs[i] != 1)
				k->ok = 0;
	}
	return NULL;
}

static void test_many_callers(void **state)
{
	struct caller k[4];
	pthread_t th[4];
	struct vu_pool *p;

	(void)state;
	assert_int_equal(vu_pool_new(2, &p), 0);
	for (int i = 0; i < 4; i++) {
		memset(&k[i], 0, sizeof(k[i]));
		k[i].p = p;
		k[i].c.fail_at = -1;
		assert_int_equal(pthread_create(&th[i], NULL, call, &k[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_true(k[i].ok);
	}
	vu_pool_free(p);
}

static void test_failure(void **state)
{
	struct vu_pool *p;
	struct count c = { .fail_at = 150 };

	(void)state;
	assert_int_equal(vu_pool_new(3, &p), 0);
	for (int k = 0; k < 10; k++) {
		vu_err_clear();
		c.caller = pthread_self();
		assert_int_equal(vu_pool_run(p, count_part, &c, PARTS),
				 -EBADMSG);
		assert_string_equal(vu_errmsg(-EBADMSG),
				    "part 150 failed on purpose");
	}
	vu_err_clear();
	vu_pool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_part_once),
		cmocka_unit_test(test_many_callers),
		cmocka_unit_test(test_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
