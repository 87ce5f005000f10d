/* Adaptive concurrency: a latency probe on the source that lowers the
 * number of workers taking work while the source is slower than before the
 * backup started, and raises it again when it recovers. */
#ifndef CAIRN_THROTTLE_H
#define CAIRN_THROTTLE_H

#include <pthread.h>
#include <stdatomic.h>

#include "cairn/driver.h"

typedef struct cairn_throttle {
    const cairn_driver *drv;
    cairn_conn *conn; /* the probe's own connection */
    int jobs;
    double max_increase_pct;
    double baseline_ms;
    _Atomic int limit; /* workers that may take work now; the pool reads it */
    atomic_int stop;
    pthread_t thread;
    int running;
    /* for the manifest */
    int changes, min_workers, max_workers;
} cairn_throttle;

/* Takes the baseline and starts watching (a driver without a probe, or a
 * single job: nothing to adapt, limit stays at jobs). */
int cairn_throttle_start(cairn_throttle *t, const cairn_driver *drv, const char *uri, int jobs,
                         double max_increase_pct, cairn_error *err);
void cairn_throttle_stop(cairn_throttle *t);

#endif
