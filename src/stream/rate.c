/* A rate cap shared by every stream that takes from the same limiter. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "cairn/stream.h"
#include "util/interrupt.h"
#include "util/text.h"

void cairn_rate_init(cairn_rate *r, uint64_t bytes_per_second)
{
    pthread_mutex_init(&r->lock, NULL);
    r->bytes_per_second = (double)bytes_per_second;
    r->next = 0;
}

void cairn_rate_destroy(cairn_rate *r)
{
    pthread_mutex_destroy(&r->lock);
}

/* Waits shorter than this are not slept: the schedule still books the
 * bytes, so the average holds, but a stream of small writes (a row each)
 * does not pay a sleep's wake-up latency per write, which would cap it
 * far below the rate asked for. */
#define RATE_MIN_SLEEP 0.005

/* Books n bytes on the shared schedule and waits for their turn. */
static int rate_take(cairn_rate *r, size_t n)
{
    pthread_mutex_lock(&r->lock);
    double now = cairn_now();
    if (r->next < now)
        r->next = now;
    double at = r->next;
    r->next += (double)n / r->bytes_per_second;
    pthread_mutex_unlock(&r->lock);
    if (at - cairn_now() < RATE_MIN_SLEEP)
        return 0;
    while (at > cairn_now()) {
        if (cairn_interrupted())
            return -1;
        double wait = at - cairn_now();
        if (wait > 0.2)
            wait = 0.2;
        struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    return 0;
}

typedef struct {
    cairn_sink base;
    cairn_rate *rate;
} rate_sink;

static int rate_write(cairn_sink *s, const void *data, size_t len)
{
    rate_sink *r = (rate_sink *)s;
    if (rate_take(r->rate, len) != 0) {
        cairn_error_set(&s->err, CAIRN_ERR, "interrupted");
        return -1;
    }
    if (cairn_sink_write(s->next, data, len) != 0)
        return cairn_sink_fail_from(s, s->next);
    return 0;
}

static const cairn_sink_ops rate_ops = {rate_write, NULL, NULL};

cairn_sink *cairn_rate_sink_new(cairn_sink *next, cairn_rate *rate)
{
    rate_sink *r = calloc(1, sizeof *r);
    if (!r) {
        cairn_sink_free(next);
        return NULL;
    }
    r->base.ops = &rate_ops;
    r->base.next = next;
    r->rate = rate;
    return &r->base;
}
