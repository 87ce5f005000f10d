/* Logging to stderr, one line per call.  On a terminal a status line
 * (progress.c) may sit below the log: a log line clears it, prints, and
 * draws it again, all under one lock, so the two never interleave. */
#include "util/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static cairn_log_level current = CAIRN_LOG_INFO;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char status[512]; /* the status line shown, "" when none */

void cairn_log_set_level(cairn_log_level level)
{
    current = level;
}

cairn_log_level cairn_log_get_level(void)
{
    return current;
}

void cairn_log(cairn_log_level level, const char *fmt, ...)
{
    static const char *names[] = {"error", "warning", "info", "debug"};
    if (level > current)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&lock);
    fprintf(stderr, "%scairn: %s: %s\n%s", status[0] ? "\r\033[K" : "", names[level], line, status);
    fflush(stderr);
    pthread_mutex_unlock(&lock);
}

void cairn_log_status(const char *text)
{
    pthread_mutex_lock(&lock);
    fprintf(stderr, "\r\033[K%s", text ? text : "");
    fflush(stderr);
    snprintf(status, sizeof status, "%s", text ? text : "");
    pthread_mutex_unlock(&lock);
}

void cairn_log_error(const cairn_error *err)
{
    pthread_mutex_lock(&lock);
    fprintf(stderr, "%scairn: error: %s\n", status[0] ? "\r\033[K" : "",
            err->message[0] ? err->message : "unknown error");
    if (err->hint[0])
        fprintf(stderr, "hint: %s\n", err->hint);
    fputs(status, stderr);
    pthread_mutex_unlock(&lock);
}
