/* Status codes and the error record every cairn function fills on failure.
 *
 * A function that can fail returns CAIRN_OK (0) or one of the codes below,
 * and fills a caller-provided cairn_error.  The codes are also the process
 * exit codes (DESIGN.md section 7), so an error carries its exit class from
 * where it happens to where the command ends.  Errors are logged once, at
 * the command boundary, never where they are raised. */
#ifndef CAIRN_ERROR_H
#define CAIRN_ERROR_H

#include <stddef.h>

enum {
    CAIRN_OK = 0,
    CAIRN_ERR = 1,        /* any failure */
    CAIRN_EUSAGE = 2,     /* bad command line */
    CAIRN_EPARTIAL = 3,   /* some units failed */
    CAIRN_EVERIFY = 4,    /* a checksum or a snapshot check failed */
    CAIRN_ELOCKED = 5,    /* repository locked by another run */
    CAIRN_ENOCHAIN = 6,   /* no valid restore chain */
    CAIRN_ETHRESHOLD = 7, /* cairn status: a --max-rpo or --max-age-drill limit is exceeded */
};

typedef struct cairn_error {
    int code;
    char sqlstate[6];  /* database error class, "" when none */
    char message[768]; /* lowercase, says what failed and on which object */
    char hint[384];    /* what the user can do about it, "" when nothing */
} cairn_error;

/* Sets code and message; keeps an already-set hint.  Returns code. */
int cairn_error_set(cairn_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets the hint.  Returns err->code. */
int cairn_error_hint(cairn_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the message with context ("table s.t: ...").  Returns err->code. */
int cairn_error_prefix(cairn_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cairn_error_clear(cairn_error *err);
/* Sets an error from errno: "<what>: <strerror>". Returns CAIRN_ERR. */
int cairn_error_errno(cairn_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
