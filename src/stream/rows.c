/* The content digest of a table: an order-independent sum over its rows.
 *
 * Each row (a line of the dump format, which escapes the newlines inside
 * values) is hashed with XXH3-128, and the hashes are added modulo 2^128.
 * Addition commutes, so the digest does not depend on the order rows come
 * in -- a table dumped again after a restore, in another physical order or
 * in other chunks, sums to the same value -- while duplicate rows still
 * count once each.  It is a content check for restore drills, not a
 * cryptographic seal: the SHA-256 digests guard the files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cairn/stream.h"
#include "util/text.h"

typedef struct {
    cairn_sink base;
    cairn_rowsum *out;
    cairn_rowsum sum;
    XXH3_state_t *line; /* a row split across writes, hashed as it comes */
    int in_line;
} rows_sink;

void cairn_rowsum_add(cairn_rowsum *sum, const cairn_rowsum *add)
{
    uint64_t lo = sum->lo + add->lo;
    sum->hi += add->hi + (lo < sum->lo);
    sum->lo = lo;
    sum->rows += add->rows;
}

static void add_hash(rows_sink *r, XXH128_hash_t h)
{
    cairn_rowsum one = {.lo = h.low64, .hi = h.high64, .rows = 1};
    cairn_rowsum_add(&r->sum, &one);
}

static int rows_sink_write(cairn_sink *s, const void *buf, size_t len)
{
    rows_sink *r = (rows_sink *)s;
    const char *p = buf, *end = p + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            if (!r->in_line) {
                XXH3_128bits_reset(r->line);
                r->in_line = 1;
            }
            XXH3_128bits_update(r->line, p, (size_t)(end - p));
            break;
        }
        if (r->in_line) {
            XXH3_128bits_update(r->line, p, (size_t)(nl - p));
            add_hash(r, XXH3_128bits_digest(r->line));
            r->in_line = 0;
        } else {
            add_hash(r, XXH3_128bits(p, (size_t)(nl - p)));
        }
        p = nl + 1;
    }
    if (s->next && cairn_sink_write(s->next, buf, len) != 0)
        return cairn_sink_fail_from(s, s->next);
    return 0;
}

static int rows_sink_finish(cairn_sink *s)
{
    rows_sink *r = (rows_sink *)s;
    if (r->in_line) /* a last row without its newline */
        add_hash(r, XXH3_128bits_digest(r->line));
    r->in_line = 0;
    *r->out = r->sum;
    return 0;
}

static void rows_sink_release(cairn_sink *s)
{
    XXH3_freeState(((rows_sink *)s)->line);
}

static const cairn_sink_ops rows_sink_ops = {rows_sink_write, rows_sink_finish, rows_sink_release};

cairn_sink *cairn_rows_sink_new(cairn_sink *next, cairn_rowsum *out)
{
    rows_sink *r = cairn_xcalloc(1, sizeof *r);
    r->base.ops = &rows_sink_ops;
    r->base.next = next;
    r->out = out;
    r->line = XXH3_createState();
    if (!r->line) {
        cairn_sink_free(&r->base);
        return NULL;
    }
    return &r->base;
}

void cairn_rowsum_hex(const cairn_rowsum *sum, char out[33])
{
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)sum->hi, (unsigned long long)sum->lo);
}

int cairn_rowsum_from_hex(cairn_rowsum *sum, const char *hex)
{
    if (!hex || strlen(hex) != 32 || strspn(hex, "0123456789abcdef") != 32)
        return -1;
    char half[17];
    memcpy(half, hex, 16);
    half[16] = '\0';
    sum->hi = strtoull(half, NULL, 16);
    sum->lo = strtoull(hex + 16, NULL, 16);
    return 0;
}
