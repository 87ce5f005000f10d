/* A fixed pool of worker threads over a list of items.
 *
 * Each worker gets its own state from init (a database connection: never
 * shared between threads), then takes items in order from a shared index:
 * an item belongs to exactly one worker once taken.  A failing item or
 * worker records its error and stops the others from taking new items;
 * items already running finish.  The first error is returned. */
#ifndef CAIRN_POOL_H
#define CAIRN_POOL_H

#include <stdatomic.h>
#include <stddef.h>

#include "cairn/error.h"

/* Returned by run when the worker cannot go on (its connection is lost and
 * cannot be made again): the item goes back to the pool for another worker,
 * and this worker ends without an error.  Items that no worker is left to
 * take stay undone; the caller finds them by its own bookkeeping. */
#define CAIRN_POOL_RETIRE (-2)

typedef struct cairn_pool_ops {
    /* Per worker; *state is passed to run and done.  May be NULL. */
    int (*init)(void *shared, int worker, void **state, cairn_error *err);
    int (*run)(void *shared, void *state, size_t item, cairn_error *err);
    /* Always called for a worker whose init succeeded.  May be NULL. */
    void (*done)(void *shared, void *state);
} cairn_pool_ops;

/* Runs every item on `workers` threads (at least 1).  Returns CAIRN_OK or
 * the first error, copied to *err. */
int cairn_pool_run(int workers, size_t items, const cairn_pool_ops *ops, void *shared,
                   cairn_error *err);

/* The same, with at most *limit workers taking items at a time (read
 * before each item; the others wait, connected, until it rises or the
 * items run out).  limit may change while the pool runs. */
int cairn_pool_run_limited(int workers, size_t items, const cairn_pool_ops *ops, void *shared,
                           const _Atomic int *limit, cairn_error *err);

#endif
