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

/* Copies with truncation; always terminates. */
void cairn_strlcpy(char *dst, const char *src, size_t cap);

/* Wall clock as "2026-11-26T11:40:15Z". */
void cairn_time_iso(time_t t, char out[32]);
/* Seconds since an arbitrary start, monotonic. */
double cairn_now(void);

/* "1.5 MiB" style. */
void cairn_format_bytes(uint64_t n, char *out, size_t cap);

#endif
