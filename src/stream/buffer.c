/* Buffering sink (coalesces small writes such as COPY rows) and the
 * in-memory sink and source. */
#include <stdlib.h>
#include <string.h>

#include "cairn/stream.h"
#include "util/text.h"

typedef struct {
    cairn_sink base;
    char *buf;
    size_t len, cap;
} buffer_sink;

static int buffer_flush(buffer_sink *b)
{
    if (b->len && cairn_sink_write(b->base.next, b->buf, b->len) != 0)
        return cairn_sink_fail_from(&b->base, b->base.next);
    b->len = 0;
    return 0;
}

static int buffer_write(cairn_sink *s, const void *data, size_t len)
{
    buffer_sink *b = (buffer_sink *)s;
    if (b->len + len > b->cap && buffer_flush(b) != 0)
        return -1;
    if (len >= b->cap) {
        if (cairn_sink_write(s->next, data, len) != 0)
            return cairn_sink_fail_from(s, s->next);
        return 0;
    }
    memcpy(b->buf + b->len, data, len);
    b->len += len;
    return 0;
}

static int buffer_finish(cairn_sink *s)
{
    return buffer_flush((buffer_sink *)s);
}

static void buffer_release(cairn_sink *s)
{
    free(((buffer_sink *)s)->buf);
}

static const cairn_sink_ops buffer_ops = {buffer_write, buffer_finish, buffer_release};

cairn_sink *cairn_buffer_sink_new(cairn_sink *next, size_t size)
{
    buffer_sink *b = cairn_xcalloc(1, sizeof *b);
    b->base.ops = &buffer_ops;
    b->base.next = next;
    b->cap = size ? size : 1 << 17;
    b->buf = cairn_xmalloc(b->cap);
    return &b->base;
}

typedef struct {
    cairn_sink base;
    char *buf;
    size_t len, cap;
} memory_sink;

static int memory_write(cairn_sink *s, const void *data, size_t len)
{
    memory_sink *m = (memory_sink *)s;
    if (m->len + len > m->cap) {
        while (m->len + len > m->cap)
            m->cap = m->cap ? m->cap * 2 : 4096;
        m->buf = cairn_xrealloc(m->buf, m->cap);
    }
    memcpy(m->buf + m->len, data, len);
    m->len += len;
    return 0;
}

static void memory_release(cairn_sink *s)
{
    free(((memory_sink *)s)->buf);
}

static const cairn_sink_ops memory_ops = {memory_write, NULL, memory_release};

cairn_sink *cairn_memory_sink_new(void)
{
    memory_sink *m = cairn_xcalloc(1, sizeof *m);
    m->base.ops = &memory_ops;
    return &m->base;
}

const void *cairn_memory_sink_data(const cairn_sink *s, size_t *len)
{
    const memory_sink *m = (const memory_sink *)s;
    *len = m->len;
    return m->buf;
}

typedef struct {
    cairn_source base;
    const char *data;
    size_t len, pos;
} memory_source;

static ssize_t memory_read(cairn_source *s, void *buf, size_t cap)
{
    memory_source *m = (memory_source *)s;
    size_t n = m->len - m->pos;
    if (n > cap)
        n = cap;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

static const cairn_source_ops memory_source_ops = {memory_read, NULL};

cairn_source *cairn_memory_source_new(const void *data, size_t len)
{
    memory_source *m = cairn_xcalloc(1, sizeof *m);
    m->base.ops = &memory_source_ops;
    m->data = data;
    m->len = len;
    return &m->base;
}
