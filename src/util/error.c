/* The cairn_error record: set, hint, prefix. */
#include "cairn/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cairn_error_set(cairn_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->code = code;
    return code;
}

int cairn_error_hint(cairn_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->hint, sizeof err->hint, fmt, ap);
    va_end(ap);
    return err->code;
}

static void cairn_strlcpy_local(char *dst, const char *src, size_t cap)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int cairn_error_prefix(cairn_error *err, const char *fmt, ...)
{
    char prefix[256], old[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    size_t n = strlen(prefix);
    if (n + 2 >= sizeof err->message)
        n = sizeof err->message - 3;
    memcpy(err->message, prefix, n);
    memcpy(err->message + n, ": ", 2);
    cairn_strlcpy_local(err->message + n + 2, old, sizeof err->message - n - 2);
    return err->code;
}

void cairn_error_clear(cairn_error *err)
{
    memset(err, 0, sizeof *err);
}

int cairn_error_errno(cairn_error *err, int errnum, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return cairn_error_set(err, CAIRN_ERR, "%s: %s", what, strerror(errnum));
}
