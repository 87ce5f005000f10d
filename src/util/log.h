/* Logging to stderr.  stdout belongs to --json output and never gets log
 * lines.  Thread-safe: one line is written with one call. */
#ifndef CAIRN_LOG_H
#define CAIRN_LOG_H

#include "cairn/error.h"

typedef enum { CAIRN_LOG_ERROR, CAIRN_LOG_WARN, CAIRN_LOG_INFO, CAIRN_LOG_DEBUG } cairn_log_level;

void cairn_log_set_level(cairn_log_level level);
cairn_log_level cairn_log_get_level(void);
void cairn_log(cairn_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define cairn_warn(...)  cairn_log(CAIRN_LOG_WARN, __VA_ARGS__)
#define cairn_info(...)  cairn_log(CAIRN_LOG_INFO, __VA_ARGS__)
#define cairn_debug(...) cairn_log(CAIRN_LOG_DEBUG, __VA_ARGS__)
/* A status line kept below the log on a terminal (progress.c), redrawn
 * in place; NULL or "" clears it.  Only for a stderr that is a terminal. */
void cairn_log_status(const char *text);
/* Prints "cairn: error: message" and, when set, "hint: ..." — once, where a
 * command ends. */
void cairn_log_error(const cairn_error *err);

#endif
