/* Logging to stderr, one line per call. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

static cairn_log_level current = CAIRN_LOG_INFO;

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
    fprintf(stderr, "cairn: %s: %s\n", names[level], line);
}

void cairn_log_error(const cairn_error *err)
{
    fprintf(stderr, "cairn: error: %s\n", err->message[0] ? err->message : "unknown error");
    if (err->hint[0])
        fprintf(stderr, "hint: %s\n", err->hint);
}
