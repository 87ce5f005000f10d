/* Worker pool.
 *
 * DESIGN: one mutex guards the next-item index, the stop flag and the
 * first error.  Workers loop: take the next index under the lock (or stop),
 * run it without the lock, and on failure record the error and set stop.
 * No item is run twice or skipped unless the pool is stopping.  Ownership:
 * the pool owns nothing but its threads; item data belongs to the caller,
 * and each item is touched by the one worker that took it. */
#include "engine/pool.h"

#include <pthread.h>
#include <stdlib.h>

#include "util/interrupt.h"
#include "util/text.h"

typedef struct {
    pthread_mutex_t lock;
    size_t next, items;
    int stop;
    int failed;
    cairn_error first;
    const cairn_pool_ops *ops;
    void *shared;
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
        pthread_mutex_lock(&p->lock);
        if (p->stop || p->next >= p->items) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        size_t item = p->next++;
        pthread_mutex_unlock(&p->lock);
        if (cairn_interrupted()) {
            cairn_error_set(&e, CAIRN_ERR, "interrupted by signal %d", cairn_interrupted());
            record(p, &e);
            break;
        }
        cairn_error_clear(&e);
        if (p->ops->run(p->shared, state, item, &e) != CAIRN_OK) {
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
    if (workers < 1)
        workers = 1;
    pool p = {.items = items, .ops = ops, .shared = shared};
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
    pthread_mutex_destroy(&p.lock);
    if (p.failed) {
        *err = p.first;
        return err->code ? err->code : CAIRN_ERR;
    }
    return CAIRN_OK;
}
