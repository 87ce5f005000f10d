/* Length-prefixed records: how increments store their logs. */
#include <stdlib.h>

#include "cairn/stream.h"
#include "util/text.h"

int cairn_record_write(cairn_sink *sink, const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n = alen + blen;
    unsigned char head[4] = {(unsigned char)(n & 0xff), (unsigned char)((n >> 8) & 0xff),
                             (unsigned char)((n >> 16) & 0xff), (unsigned char)((n >> 24) & 0xff)};
    if (cairn_sink_write(sink, head, 4) != 0 || (alen && cairn_sink_write(sink, a, alen) != 0) ||
        (blen && cairn_sink_write(sink, b, blen) != 0))
        return -1;
    return 0;
}

int cairn_record_read(cairn_source *src, char **buf, size_t *cap, size_t *len, size_t max,
                      cairn_error *err)
{
    unsigned char head[4];
    ssize_t r = cairn_source_read_full(src, head, 4);
    if (r == 0)
        return -1; /* the end, between records */
    if (r < 0) {
        *err = *cairn_source_error(src);
        return err->code ? err->code : CAIRN_ERR;
    }
    if (r < 4)
        return cairn_error_set(err, CAIRN_EVERIFY, "a log record is cut short");
    size_t n =
        (size_t)head[0] | (size_t)head[1] << 8 | (size_t)head[2] << 16 | (size_t)head[3] << 24;
    if (n > max)
        return cairn_error_set(err, CAIRN_EVERIFY, "a log record has an impossible length");
    if (n + 1 > *cap) {
        *cap = n + 1;
        *buf = cairn_xrealloc(*buf, *cap);
    }
    r = n ? cairn_source_read_full(src, *buf, n) : 0;
    if (r < 0) {
        *err = *cairn_source_error(src);
        return err->code ? err->code : CAIRN_ERR;
    }
    if ((size_t)r < n)
        return cairn_error_set(err, CAIRN_EVERIFY, "a log record is cut short");
    (*buf)[n] = '\0';
    *len = n;
    return CAIRN_OK;
}
