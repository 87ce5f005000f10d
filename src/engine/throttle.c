/* Adaptive concurrency (--mode hybrid): back off when the source slows.
 *
 * DESIGN: before the work starts, a probe connection times a small query
 * (the driver's: a fixed half millisecond or so of work, which takes
 * longer as soon as the server's CPUs are contended) nine times; the
 * median is the baseline.  While the workers run, a thread times it every
 * 250 ms (the median of three tries) and, once a second, compares the
 * median of the last four with the baseline.  Above it by more than the
 * allowed percentage, and by at least 0.25 ms (jitter is no sign of
 * production slowing), for two seconds running: one worker fewer may take
 * work.  Back within it for three seconds running: one more.  The workers
 * above the limit wait, connected (the pool reads the limit before each
 * chunk).  Every change is logged with its reason and counted for the
 * manifest. */
#include "engine/throttle.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/fault.h"
#include "util/interrupt.h"
#include "util/log.h"
#include "util/text.h"

#define PROBE_EVERY_US  250000u
#define WINDOW          4
#define MIN_INCREASE_MS 0.25
#define BASELINE_PROBES 9
#define HOT_SECONDS     2
#define CALM_SECONDS    3

static int probe_ms(cairn_throttle *t, double *ms, cairn_error *err)
{
    double t0 = cairn_now();
    if (t->drv->probe(t->conn, err) != CAIRN_OK)
        return err->code;
    *ms = (cairn_now() - t0) * 1000.0;
    if (t->baseline_ms > 0 && cairn_fault("probe-slow")) /* tests: a source that slows down */
        *ms += 100.0;
    return CAIRN_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, size_t n)
{
    double s[16];
    memcpy(s, v, n * sizeof *v);
    qsort(s, n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void set_limit(cairn_throttle *t, int limit, double now_ms, const char *why)
{
    atomic_store(&t->limit, limit);
    t->changes++;
    if (limit < t->min_workers)
        t->min_workers = limit;
    if (limit > t->max_workers)
        t->max_workers = limit;
    cairn_info("%s concurrency to %d workers: the probe takes %.2f ms, the baseline %.2f ms (%s "
               "--max-latency-increase %.0f%%)",
               limit < t->jobs ? "lowering" : "raising", limit, now_ms, t->baseline_ms, why,
               t->max_increase_pct);
}

static void *watch(void *arg)
{
    cairn_throttle *t = arg;
    double window[WINDOW];
    size_t n = 0, ticks = 0;
    int calm = 0, hot = 0;
    while (!atomic_load(&t->stop) && !cairn_interrupted()) {
        /* in short steps, so that stopping does not wait a whole period */
        for (unsigned slept = 0; slept < PROBE_EVERY_US && !atomic_load(&t->stop); slept += 10000)
            usleep(10000);
        if (atomic_load(&t->stop))
            break;
        /* the median of three: one try delayed by a context switch does
         * not count */
        double tries[3] = {0, 0, 0};
        cairn_error e = {0};
        int rc = CAIRN_OK;
        for (int i = 0; i < 3 && rc == CAIRN_OK; i++)
            rc = probe_ms(t, &tries[i], &e);
        double ms = median(tries, 3);
        if (rc != CAIRN_OK) {
            cairn_warn("the latency probe failed (%s): concurrency stays at %d", e.message,
                       atomic_load(&t->limit));
            break;
        }
        window[n++ % WINDOW] = ms;
        if (++ticks % (1000000u / PROBE_EVERY_US) != 0 || n < WINDOW)
            continue;
        double now = median(window, WINDOW);
        cairn_debug("latency probe: %.3f ms (baseline %.3f ms, %d workers)", now, t->baseline_ms,
                    atomic_load(&t->limit));
        double slack = t->baseline_ms * t->max_increase_pct / 100.0;
        int limit = atomic_load(&t->limit);
        if (now > t->baseline_ms + (slack > MIN_INCREASE_MS ? slack : MIN_INCREASE_MS)) {
            calm = 0;
            if (++hot >= HOT_SECONDS && limit > 1) {
                set_limit(t, limit - 1, now, "above");
                hot = 0;
            }
        } else {
            hot = 0;
            if (++calm >= CALM_SECONDS && limit < t->jobs) {
                set_limit(t, limit + 1, now, "back within");
                calm = 0;
            }
        }
    }
    return NULL;
}

int cairn_throttle_start(cairn_throttle *t, const cairn_driver *drv, const char *uri, int jobs,
                         double max_increase_pct, cairn_error *err)
{
    memset(t, 0, sizeof *t);
    t->drv = drv;
    t->jobs = t->min_workers = t->max_workers = jobs;
    t->max_increase_pct = max_increase_pct;
    atomic_init(&t->limit, jobs);
    atomic_init(&t->stop, 0);
    if (!drv->probe || jobs < 2)
        return CAIRN_OK; /* nothing to adapt */
    if (drv->connect(uri, &t->conn, err) != CAIRN_OK)
        return cairn_error_prefix(err, "the latency probe");
    double v[BASELINE_PROBES];
    for (int i = 0; i < BASELINE_PROBES; i++)
        if (probe_ms(t, &v[i], err) != CAIRN_OK) {
            drv->close(t->conn);
            t->conn = NULL;
            return cairn_error_prefix(err, "the latency probe");
        }
    t->baseline_ms = median(v, BASELINE_PROBES);
    cairn_debug("latency probe baseline: %.3f ms", t->baseline_ms);
    if (pthread_create(&t->thread, NULL, watch, t) != 0) {
        drv->close(t->conn);
        t->conn = NULL;
        return cairn_error_set(err, CAIRN_ERR, "cannot start the latency probe thread");
    }
    t->running = 1;
    return CAIRN_OK;
}

void cairn_throttle_stop(cairn_throttle *t)
{
    if (t->running) {
        atomic_store(&t->stop, 1);
        pthread_join(t->thread, NULL);
        t->running = 0;
    }
    if (t->conn)
        t->drv->close(t->conn);
    t->conn = NULL;
}
