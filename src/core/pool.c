#include "core/pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"

/* One vu_pool_run call: its parts are handed out one at a time under the
 * pool's lock (a part is large, so the lock is cold).  It lives on the
 * caller's stack; the caller returns only once every part it handed out
 * is finished, so no worker touches it after. */
struct job {
	struct job *next;
	int (*part)(void *ctx, size_t i);
	void *ctx;
	size_t n, next_i, done;
	int err;
	char msg[512];		/* the first failure's message */
	pthread_cond_t finished;
};

struct vu_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct job *head;	/* jobs with parts not handed out yet */
	int stop;
	unsigned int n;
	pthread_t th[];
};

static void unlink_job(struct vu_pool *p, struct job *j)
{
	for (struct job **pp = &p->head; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			return;
		}
}

/* The next part of j (lock held); j leaves the list with its last. */
static size_t claim(struct vu_pool *p, struct job *j)
{
	size_t i = j->next_i++;

	if (j->next_i == j->n)
		unlink_job(p, j);
	return i;
}

/* Run part i of j without the lock and record how it went. */
static void run_part(struct vu_pool *p, struct job *j, size_t i)
{
	char msg[sizeof(j->msg)] = "";
	int skip = j->err != 0; /* read under the lock by the caller */
	int r = 0;

	pthread_mutex_unlock(&p->lock);
	if (!skip) {
		vu_err_clear(); /* this thread's message belongs to the part */
		r = j->part(j->ctx, i);
		if (r < 0)
			snprintf(msg, sizeof(msg), "%s", vu_errmsg(r));
		vu_err_clear();
	}
	pthread_mutex_lock(&p->lock);
	if (r < 0 && !j->err) {
		j->err = r;
		snprintf(j->msg, sizeof(j->msg), "%s", msg);
	}
	if (++j->done == j->n)
		pthread_cond_signal(&j->finished);
}

static void *worker(void *arg)
{
	struct vu_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		struct job *j = p->head;

		if (!j) {
			pthread_cond_wait(&p->work, &p->lock);
			continue;
		}
		run_part(p, j, claim(p, j));
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int vu_pool_new(unsigned int n, struct vu_pool **out)
{
	struct vu_pool *p = calloc(1, sizeof(*p) + n * sizeof(p->th[0]));

	*out = NULL;
	if (!p)
		return vu_fail(-ENOMEM, "out of memory");
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	for (; p->n < n; p->n++)
		if (pthread_create(&p->th[p->n], NULL, worker, p) != 0)
			break; /* fewer hands; the callers still finish */
	*out = p;
	return 0;
}

void vu_pool_free(struct vu_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned int i = 0; i < p->n; i++)
		pthread_join(p->th[i], NULL);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int vu_pool_run(struct vu_pool *p, int (*part)(void *ctx, size_t i),
		void *ctx, size_t n)
{
	struct job j = { .part = part, .ctx = ctx, .n = n };

	if (!p || p->n == 0 || n < 2) {
		for (size_t i = 0; i < n; i++) {
			int r = part(ctx, i);

			if (r < 0)
				return r;
		}
		return 0;
	}
	pthread_cond_init(&j.finished, NULL);
	pthread_mutex_lock(&p->lock);
	j.next = p->head; /* newest first: a caller waiting works its own */
	p->head = &j;
	pthread_cond_broadcast(&p->work);
	while (j.next_i < j.n)
		run_part(p, &j, claim(p, &j));
	while (j.done < j.n)
		pthread_cond_wait(&j.finished, &p->lock);
	pthread_mutex_unlock(&p->lock);
	pthread_cond_destroy(&j.finished);
	if (j.err)
		return vu_fail(j.err, "%s", j.msg);
	return 0;
}
