/* LOAD DATA's escaped text format, written fast. */
#include "mariadb/my_escape.h"

#include <stdint.h>
#include <string.h>

#include "util/text.h"

/* The escape letter of each byte LOAD DATA needs escaped, 0 for the rest. */
static const char escape_of[256] = {['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\0'] = '0'};

#if defined(__SSE2__) && !defined(CAIRN_NO_SIMD)
#include <emmintrin.h>

/* The bits of the 16 bytes at v that need an escape: a NUL, tab, newline
 * or backslash. */
static inline unsigned needs_escape16(const char *v)
{
    __m128i w = _mm_loadu_si128((const __m128i *)v);
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w, _mm_setzero_si128()),
                                            _mm_cmpeq_epi8(w, _mm_set1_epi8('\t'))),
                               _mm_or_si128(_mm_cmpeq_epi8(w, _mm_set1_epi8('\n')),
                                            _mm_cmpeq_epi8(w, _mm_set1_epi8('\\'))));
    return (unsigned)_mm_movemask_epi8(hit);
}
#define WORD 16
#else
#define ONES              0x0101010101010101ull
#define HIGHS             0x8080808080808080ull

/* Nonzero when one of the 8 bytes at v needs an escape (the classic "has
 * a zero byte" test, four times). */
static inline uint64_t needs_escape8(const char *v)
{
    uint64_t w;
    memcpy(&w, v, 8);
    uint64_t t = w ^ (ONES * '\t'), n = w ^ (ONES * '\n'), b = w ^ (ONES * '\\');
    return ((w - ONES) & ~w & HIGHS) | ((t - ONES) & ~t & HIGHS) | ((n - ONES) & ~n & HIGHS) |
           ((b - ONES) & ~b & HIGHS);
}
#define needs_escape16(v) needs_escape8(v)
#define WORD              8
#endif

/* Most bytes need no escape: whole words of such bytes are copied at once. */
void my_escape_field(char **buf, size_t *len, size_t *cap, const char *v, size_t n)
{
    if (*len + 2 * n + 4 > *cap) {
        *cap = (*len + 2 * n + 4) * 2;
        *buf = cairn_xrealloc(*buf, *cap);
    }
    char *p = *buf + *len;
    if (!v) {
        *p++ = '\\';
        *p++ = 'N';
        *len = (size_t)(p - *buf);
        return;
    }
    size_t i = 0;
    while (i < n) {
        while (i + WORD <= n && !needs_escape16(v + i)) {
            memcpy(p, v + i, WORD);
            p += WORD;
            i += WORD;
        }
        size_t end = i + WORD <= n ? i + WORD : n;
        for (; i < end; i++) {
            char e = escape_of[(unsigned char)v[i]];
            if (e) {
                *p++ = '\\';
                *p++ = e;
            } else {
                *p++ = v[i];
            }
        }
    }
    *len = (size_t)(p - *buf);
}
