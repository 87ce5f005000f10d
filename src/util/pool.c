/* Worker pool.
 *
 * DESIGN: one mutex guards the next-item index, the stop flag and the
 * first error.  Workers loop: take the next index under the lock (or stop),
 * run it without the lock, and on failure record the error and set stop.
 * No item is run twice or skipped unless the pool is stopping.  A worker
 * that retires hands its item back (a small stack taken before the next
 * index), so a live worker runs it.  Ownership:
 * the pool owns nothing but its threads; item data belongs to the caller,
 * and each item is touched by the one worker that took it. */
#include "util/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/interrupt.h"
#include "util/text.h"

typedef struct {
    pthread_mutex_t lock;
    size_t next, items;
    size_t *returned; /* items handed back by retiring workers */
    size_t nreturned;
    int stop;
    int failed;
    cairn_error first;
    const cairn_pool_ops *ops;
    void *shared;
    const _Atomic int *limit; /* NULL: every worker */
} pool;

typedef struct {
    pool *p;
    int index;
} worker_arg;

static void record(pool *p, const cairn_error *e)
{
    pthread_mutex_lock(&p->lock);
    if (!p->failed) {
        p->failed = 1;
        p->first = *e;
    }
    p->stop = 1;
    pthread_mutex_unlock(&p->lock);
}

static void *worker_main(void *arg)
{
    worker_arg *w = arg;
    pool *p = w->p;
    void *state = NULL;
    cairn_error e = {0};
    if (p->ops->init && p->ops->init(p->shared, w->index, &state, &e) != CAIRN_OK) {
        record(p, &e);
        return NULL;
    }
    for (;;) {
        /* a worker above the limit waits, its connection open */
        while (p->limit && w->index >= atomic_load(p->limit) && !cairn_interrupted()) {
            pthread_mutex_lock(&p->lock);
            int over = p->stop || (p->next >= p->items && p->nreturned == 0);
            pthread_mutex_unlock(&p->lock);
            if (over)
                break;
            usleep(20000);
        }
        pthread_mutex_lock(&p->lock);
        if (p->stop || (p->next >= p->items && p->nreturned == 0)) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        size_t item = p->nreturned ? p->returned[--p->nreturned] : p->next++;
        pthread_mutex_unlock(&p->lock);
        if (cairn_interrupted()) {
            cairn_error_set(&e, CAIRN_ERR, "interrupted by signal %d", cairn_interrupted());
            record(p, &e);
            break;
        }
        cairn_error_clear(&e);
        int rc = p->ops->run(p->shared, state, item, &e);
        if (rc == CAIRN_POOL_RETIRE) {
            pthread_mutex_lock(&p->lock);
            p->returned[p->nreturned++] = item;
            pthread_mutex_unlock(&p->lock);
            break;
        }
        if (rc != CAIRN_OK) {
            record(p, &e);
            break;
        }
    }
    if (p->ops->done)
        p->ops->done(p->shared, state);
    return NULL;
}

int cairn_pool_run(int workers, size_t items, const cairn_pool_ops *ops, void *shared,
                   cairn_error *err)
{
    return cairn_pool_run_limited(workers, items, ops, shared, NULL, err);
}

int cairn_pool_run_limited(int workers, size_t items, const cairn_pool_ops *ops, void *shared,
                           const _Atomic int *limit, cairn_error *err)
{
    if (workers < 1)
        workers = 1;
    pool p = {.items = items, .ops = ops, .shared = shared, .limit = limit};
    p.returned = cairn_xcalloc((size_t)workers, sizeof *p.returned); /* one per worker at most */
    pthread_mutex_init(&p.lock, NULL);
    pthread_t *threads = cairn_xcalloc((size_t)workers, sizeof *threads);
    worker_arg *args = cairn_xcalloc((size_t)workers, sizeof *args);
    int started = 0;
    for (int i = 0; i < workers; i++) {
        args[i].p = &p;
        args[i].index = i;
        if (pthread_create(&threads[i], NULL, worker_main, &args[i]) != 0) {
            cairn_error e;
            cairn_error_set(&e, CAIRN_ERR, "cannot start worker thread %d", i);
            record(&p, &e);
            break;
        }
        started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    free(threads);
    free(args);
    free(p.returned);
    pthread_mutex_destroy(&p.lock);
    if (p.failed) {
        *err = p.first;
        return err->code ? err->code : CAIRN_ERR;
    }
    return CAIRN_OK;
}
