/* Source core: sticky errors, reading fully, free along the chain. */
#include <stdlib.h>

#include "cairn/stream.h"

ssize_t cairn_source_read(cairn_source *s, void *buf, size_t cap)
{
    if (s->failed)
        return -1;
    if (s->eof || cap == 0)
        return 0;
    ssize_t n = s->ops->read(s, buf, cap);
    if (n < 0)
        s->failed = 1;
    else if (n == 0)
        s->eof = 1;
    return n;
}

ssize_t cairn_source_read_full(cairn_source *s, void *buf, size_t cap)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t n = cairn_source_read(s, (char *)buf + got, cap - got);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

void cairn_source_free(cairn_source *s)
{
    while (s) {
        cairn_source *next = s->next;
        if (s->ops->release)
            s->ops->release(s);
        free(s);
        s = next;
    }
}

int cairn_source_fail_from(cairn_source *s, const cairn_source *below)
{
    s->err = below->err;
    s->failed = 1;
    return -1;
}

const cairn_error *cairn_source_error(const cairn_source *s)
{
    return &s->err;
}
