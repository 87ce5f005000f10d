/* Small string and time helpers.  Allocation failures abort: cairn cannot
 * do anything useful without memory, and every caller checking would hide
 * the real logic. */
#ifndef CAIRN_TEXT_H
#define CAIRN_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

void *cairn_xmalloc(size_t n);
void *cairn_xcalloc(size_t n, size_t size);
void *cairn_xrealloc(void *p, size_t n);
char *cairn_xstrdup(const char *s); /* NULL stays NULL */
char *cairn_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Frees a NULL-terminated array of strings and the array; accepts NULL. */
void cairn_strv_free(char **v);
/* A copy of a NULL-terminated string vector (NULL gives an empty one). */
char **cairn_strv_dup(const char *const *v);
/* 1 when s is one of the strings of v (NULL-terminated; NULL: none). */
int cairn_strv_contains(const char *const *v, const char *s);

/* Copies with truncation; always terminates. */
void cairn_strlcpy(char *dst, const char *src, size_t cap);

/* Wall clock as "2026-11-26T11:40:15Z". */
void cairn_time_iso(time_t t, char out[32]);
/* Now, with microseconds: "2026-11-26T11:40:15.123456Z". */
void cairn_time_iso_us(char out[32]);
/* Parses "YYYY-MM-DD[T| ]HH:MM[:SS[.ffffff]]" with an optional zone ("Z",
 * "+HH", "+HH:MM", "-HHMM"; none means UTC) into microseconds since the
 * epoch.  0 on success, -1 when s is not such a time. */
int cairn_time_parse_us(const char *s, int64_t *us);
/* Seconds since an arbitrary start, monotonic. */
double cairn_now(void);

/* "1.5 MiB" style. */
void cairn_format_bytes(uint64_t n, char *out, size_t cap);
/* Seconds as "45s", "2m 05s", "1h 02m", "3d 04h". */
void cairn_format_duration(double seconds, char *out, size_t cap);

/* A growable string: data is always NUL-terminated (NULL before the first
 * append).  Free data with free(). */
typedef struct cairn_buf {
    char *data;
    size_t len, cap;
} cairn_buf;

void cairn_buf_add(cairn_buf *b, const char *s, size_t n);
void cairn_buf_puts(cairn_buf *b, const char *s);
void cairn_buf_printf(cairn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
