/* zstd stages.  The source refuses a truncated frame and trailing garbage:
 * a damaged file gives an error, never short or wrong data. */
#include <stdlib.h>
#include <zstd.h>

#include "cairn/stream.h"
#include "util/text.h"

typedef struct {
    cairn_sink base;
    ZSTD_CCtx *cctx;
    char *out;
    size_t out_cap;
} zstd_sink;

static int zstd_pump(zstd_sink *z, const void *buf, size_t len, ZSTD_EndDirective mode)
{
    ZSTD_inBuffer in = {buf, len, 0};
    for (;;) {
        ZSTD_outBuffer out = {z->out, z->out_cap, 0};
        size_t left = ZSTD_compressStream2(z->cctx, &out, &in, mode);
        if (ZSTD_isError(left)) {
            cairn_error_set(&z->base.err, CAIRN_ERR, "zstd compression failed: %s",
                            ZSTD_getErrorName(left));
            return -1;
        }
        if (out.pos && cairn_sink_write(z->base.next, z->out, out.pos) != 0)
            return cairn_sink_fail_from(&z->base, z->base.next);
        if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
            return 0;
    }
}

static int zstd_sink_write(cairn_sink *s, const void *buf, size_t len)
{
    return zstd_pump((zstd_sink *)s, buf, len, ZSTD_e_continue);
}

static int zstd_sink_finish(cairn_sink *s)
{
    return zstd_pump((zstd_sink *)s, NULL, 0, ZSTD_e_end);
}

static void zstd_sink_release(cairn_sink *s)
{
    zstd_sink *z = (zstd_sink *)s;
    ZSTD_freeCCtx(z->cctx);
    free(z->out);
}

static const cairn_sink_ops zstd_sink_ops = {zstd_sink_write, zstd_sink_finish, zstd_sink_release};

cairn_sink *cairn_zstd_sink_new(cairn_sink *next, int level, int threads)
{
    zstd_sink *z = cairn_xcalloc(1, sizeof *z);
    z->base.ops = &zstd_sink_ops;
    z->base.next = next;
    z->cctx = ZSTD_createCCtx();
    z->out_cap = ZSTD_CStreamOutSize();
    z->out = cairn_xmalloc(z->out_cap);
    if (!z->cctx) {
        cairn_sink_free(&z->base);
        return NULL;
    }
    ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1);
    if (threads > 1)
        ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_nbWorkers, threads);
    return &z->base;
}

typedef struct {
    cairn_source base;
    ZSTD_DCtx *dctx;
    char *in;
    size_t in_cap;
    ZSTD_inBuffer input;
    size_t last; /* last return of ZSTD_decompressStream: 0 at a frame end */
    int input_eof;
    int started;
    char what[256];
} zstd_source;

static ssize_t zstd_source_read(cairn_source *s, void *buf, size_t cap)
{
    zstd_source *z = (zstd_source *)s;
    ZSTD_outBuffer out = {buf, cap, 0};
    while (out.pos == 0) {
        if (z->input.pos == z->input.size && !z->input_eof) {
            ssize_t n = cairn_source_read(s->next, z->in, z->in_cap);
            if (n < 0)
                return cairn_source_fail_from(s, s->next);
            if (n == 0)
                z->input_eof = 1;
            z->input.src = z->in;
            z->input.size = (size_t)n;
            z->input.pos = 0;
        }
        if (z->input.pos == z->input.size && z->input_eof) {
            /* End of input: fine only at a frame boundary with nothing pending. */
            if (z->started && z->last == 0)
                return 0;
            if (!z->started) {
                cairn_error_set(&s->err, CAIRN_EVERIFY, "%s: compressed data is empty", z->what);
                return -1;
            }
            z->last = ZSTD_decompressStream(z->dctx, &out, &z->input);
            if (ZSTD_isError(z->last)) {
                cairn_error_set(&s->err, CAIRN_EVERIFY, "%s: compressed data is corrupt: %s",
                                z->what, ZSTD_getErrorName(z->last));
                return -1;
            }
            if (out.pos)
                return (ssize_t)out.pos;
            if (z->last != 0) {
                cairn_error_set(&s->err, CAIRN_EVERIFY, "%s: compressed data is truncated",
                                z->what);
                return -1;
            }
            return 0;
        }
        z->started = 1;
        z->last = ZSTD_decompressStream(z->dctx, &out, &z->input);
        if (ZSTD_isError(z->last)) {
            cairn_error_set(&s->err, CAIRN_EVERIFY, "%s: compressed data is corrupt: %s", z->what,
                            ZSTD_getErrorName(z->last));
            return -1;
        }
    }
    return (ssize_t)out.pos;
}

static void zstd_source_release(cairn_source *s)
{
    zstd_source *z = (zstd_source *)s;
    ZSTD_freeDCtx(z->dctx);
    free(z->in);
}

static const cairn_source_ops zstd_source_ops = {zstd_source_read, zstd_source_release};

cairn_source *cairn_zstd_source_new(cairn_source *next, const char *what)
{
    zstd_source *z = cairn_xcalloc(1, sizeof *z);
    cairn_strlcpy(z->what, what ? what : "stream", sizeof z->what);
    z->base.ops = &zstd_source_ops;
    z->base.next = next;
    z->dctx = ZSTD_createDCtx();
    z->in_cap = ZSTD_DStreamInSize();
    z->in = cairn_xmalloc(z->in_cap);
    if (!z->dctx) {
        cairn_source_free(&z->base);
        return NULL;
    }
    return &z->base;
}
