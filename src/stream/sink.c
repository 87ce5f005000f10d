/* Sink core: sticky errors, finish and free along the chain. */
#include <stdlib.h>
#include <string.h>

#include "cairn/stream.h"

int cairn_sink_write(cairn_sink *s, const void *buf, size_t len)
{
    if (s->failed)
        return -1;
    if (s->finished) {
        cairn_error_set(&s->err, CAIRN_ERR, "write after finish");
        s->failed = 1;
        return -1;
    }
    if (len == 0)
        return 0;
    if (s->ops->write(s, buf, len) != 0) {
        s->failed = 1;
        return -1;
    }
    return 0;
}

int cairn_sink_finish(cairn_sink *s)
{
    if (s->failed)
        return -1;
    if (s->finished)
        return 0;
    if (s->ops->finish && s->ops->finish(s) != 0) {
        s->failed = 1;
        return -1;
    }
    if (s->next && cairn_sink_finish(s->next) != 0)
        return cairn_sink_fail_from(s, s->next);
    s->finished = 1;
    return 0;
}

void cairn_sink_free(cairn_sink *s)
{
    while (s) {
        cairn_sink *next = s->next;
        if (s->ops->release)
            s->ops->release(s);
        free(s);
        s = next;
    }
}

int cairn_sink_fail_from(cairn_sink *s, const cairn_sink *below)
{
    s->err = below->err;
    s->failed = 1;
    return -1;
}

const cairn_error *cairn_sink_error(const cairn_sink *s)
{
    return &s->err;
}
