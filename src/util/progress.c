/* Progress display: a thread samples counters the workers bump. */
#include "util/progress.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/text.h"

#define MAX_SLOTS   64
#define LABEL_BYTES 96

struct cairn_progress {
    char what[32];
    size_t items;
    uint64_t bytes;
    int estimate; /* bytes is a guess: show "~" */
    int tty;
    _Atomic size_t done;
    _Atomic uint64_t done_bytes;
    _Atomic int nslots;
    char labels[MAX_SLOTS][LABEL_BYTES];
    pthread_mutex_t lock; /* labels */
    double started;
    int stop;
    pthread_cond_t wake;
    pthread_t thread;
};

/* Each worker thread takes a slot for its label on its first report. */
static _Thread_local const cairn_progress *slot_owner;
static _Thread_local int slot;

static int term_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        return ws.ws_col;
    return 80;
}

/* "backup 45% 1.2 GiB/~2.7 GiB 85.0 MiB/s ETA 18s 12/40 chunks" */
static void summary(cairn_progress *p, char *out, size_t cap)
{
    size_t done = atomic_load(&p->done);
    uint64_t bytes = atomic_load(&p->done_bytes);
    double elapsed = cairn_now() - p->started;
    double rate = elapsed > 0.5 ? (double)bytes / elapsed : 0;
    char have[32], total[32], speed[32], eta[32] = "?";
    cairn_format_bytes(bytes, have, sizeof have);
    cairn_format_bytes(p->bytes, total, sizeof total);
    cairn_format_bytes((uint64_t)rate, speed, sizeof speed);
    double frac = p->bytes ? (double)bytes / (double)p->bytes
                           : (p->items ? (double)done / (double)p->items : 0);
    if (frac > 1)
        frac = done < p->items ? 0.99 : 1;
    if (frac > 0.001 && elapsed > 1)
        cairn_format_duration(elapsed / frac - elapsed, eta, sizeof eta);
    snprintf(out, cap, "%s %3.0f%% %s/%s%s %s/s ETA %s, %zu/%zu chunks", p->what, frac * 100, have,
             p->estimate ? "~" : "", total, speed, eta, done, p->items);
}

static void draw(cairn_progress *p)
{
    char line[1024];
    summary(p, line, sizeof line);
    if (!p->tty) {
        cairn_info("%s", line);
        return;
    }
    size_t len = strlen(line);
    pthread_mutex_lock(&p->lock);
    int n = atomic_load(&p->nslots);
    for (int i = 0; i < n && i < MAX_SLOTS && len + 4 < sizeof line; i++)
        if (p->labels[i][0])
            len += (size_t)snprintf(line + len, sizeof line - len, " | %s", p->labels[i]);
    pthread_mutex_unlock(&p->lock);
    int width = term_width() - 1;
    if ((int)len > width)
        line[width] = '\0';
    cairn_log_status(line);
}

static void *run(void *arg)
{
    cairn_progress *p = arg;
    double every = p->tty ? 0.5 : 10;
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long long ns = until.tv_nsec + (long long)(every * 1e9);
        until.tv_sec += (time_t)(ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&p->wake, &p->lock, &until);
        if (p->stop)
            break;
        pthread_mutex_unlock(&p->lock);
        draw(p);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

cairn_progress *cairn_progress_start(const char *what, size_t items, uint64_t bytes, int estimate)
{
    if (cairn_log_get_level() < CAIRN_LOG_INFO || items == 0)
        return NULL;
    cairn_progress *p = cairn_xcalloc(1, sizeof *p);
    cairn_strlcpy(p->what, what, sizeof p->what);
    p->items = items;
    p->bytes = bytes;
    p->estimate = estimate;
    const char *term = getenv("TERM");
    p->tty = isatty(STDERR_FILENO) && !(term && strcmp(term, "dumb") == 0);
    p->started = cairn_now();
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (p->tty)
        draw(p);
    if (pthread_create(&p->thread, NULL, run, p) != 0) {
        cairn_progress_end(p);
        return NULL;
    }
    return p;
}

void cairn_progress_doing(cairn_progress *p, const char *label)
{
    if (!p)
        return;
    if (slot_owner != p) {
        slot_owner = p;
        slot = atomic_fetch_add(&p->nslots, 1);
    }
    if (slot >= MAX_SLOTS)
        return;
    pthread_mutex_lock(&p->lock);
    snprintf(p->labels[slot], LABEL_BYTES, "%s", label ? label : "");
    pthread_mutex_unlock(&p->lock);
}

void cairn_progress_done(cairn_progress *p, uint64_t bytes)
{
    if (!p)
        return;
    atomic_fetch_add(&p->done, 1);
    atomic_fetch_add(&p->done_bytes, bytes);
}

void cairn_progress_end(cairn_progress *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    if (p->thread)
        pthread_join(p->thread, NULL);
    if (p->tty)
        cairn_log_status(NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
