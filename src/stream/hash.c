/* SHA-256 stages: a sink that hashes what passes through, a source that
 * hashes what it reads and, given the expected digest, refuses a stream
 * that does not match at its end. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "cairn/stream.h"
#include "util/text.h"

typedef struct {
    cairn_sink base;
    EVP_MD_CTX *md;
    cairn_digest *out;
    uint64_t bytes;
} hash_sink;

static int hash_sink_write(cairn_sink *s, const void *buf, size_t len)
{
    hash_sink *h = (hash_sink *)s;
    EVP_DigestUpdate(h->md, buf, len);
    h->bytes += len;
    if (s->next && cairn_sink_write(s->next, buf, len) != 0)
        return cairn_sink_fail_from(s, s->next);
    return 0;
}

static int hash_sink_finish(cairn_sink *s)
{
    hash_sink *h = (hash_sink *)s;
    unsigned int n = 0;
    EVP_DigestFinal_ex(h->md, h->out->sha256, &n);
    h->out->bytes = h->bytes;
    return 0;
}

static void hash_sink_release(cairn_sink *s)
{
    EVP_MD_CTX_free(((hash_sink *)s)->md);
}

static const cairn_sink_ops hash_sink_ops = {hash_sink_write, hash_sink_finish, hash_sink_release};

cairn_sink *cairn_hash_sink_new(cairn_sink *next, cairn_digest *out)
{
    hash_sink *h = cairn_xcalloc(1, sizeof *h);
    h->base.ops = &hash_sink_ops;
    h->base.next = next;
    h->out = out;
    h->md = EVP_MD_CTX_new();
    if (!h->md || EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1) {
        cairn_sink_free(&h->base);
        return NULL;
    }
    return &h->base;
}

typedef struct {
    cairn_source base;
    EVP_MD_CTX *md;
    int has_expect;
    cairn_digest expect;
    cairn_digest *out;
    uint64_t bytes;
    char what[256];
} hash_source;

static ssize_t hash_source_read(cairn_source *s, void *buf, size_t cap)
{
    hash_source *h = (hash_source *)s;
    ssize_t n = cairn_source_read(s->next, buf, cap);
    if (n < 0)
        return cairn_source_fail_from(s, s->next);
    if (n > 0) {
        EVP_DigestUpdate(h->md, buf, (size_t)n);
        h->bytes += (uint64_t)n;
        if (h->has_expect && h->bytes > h->expect.bytes) {
            cairn_error_set(&s->err, CAIRN_EVERIFY,
                            "%s is longer than recorded (more than %llu bytes)", h->what,
                            (unsigned long long)h->expect.bytes);
            return -1;
        }
        return n;
    }
    cairn_digest got = {.bytes = h->bytes};
    unsigned int len = 0;
    EVP_DigestFinal_ex(h->md, got.sha256, &len);
    if (h->out)
        *h->out = got;
    if (h->has_expect) {
        if (got.bytes != h->expect.bytes) {
            cairn_error_set(&s->err, CAIRN_EVERIFY,
                            "%s is truncated: %llu bytes, the manifest records %llu", h->what,
                            (unsigned long long)got.bytes, (unsigned long long)h->expect.bytes);
            return -1;
        }
        if (memcmp(got.sha256, h->expect.sha256, 32) != 0) {
            char a[65], b[65];
            cairn_digest_hex(&got, a);
            cairn_digest_hex(&h->expect, b);
            cairn_error_set(&s->err, CAIRN_EVERIFY,
                            "%s is corrupt: sha256 %.12s..., the manifest records %.12s...",
                            h->what, a, b);
            return -1;
        }
    }
    return 0;
}

static void hash_source_release(cairn_source *s)
{
    EVP_MD_CTX_free(((hash_source *)s)->md);
}

static const cairn_source_ops hash_source_ops = {hash_source_read, hash_source_release};

cairn_source *cairn_hash_source_new(cairn_source *next, const cairn_digest *expect,
                                    const char *what, cairn_digest *out)
{
    hash_source *h = cairn_xcalloc(1, sizeof *h);
    h->base.ops = &hash_source_ops;
    h->base.next = next;
    h->out = out;
    if (expect) {
        h->has_expect = 1;
        h->expect = *expect;
    }
    cairn_strlcpy(h->what, what ? what : "stream", sizeof h->what);
    h->md = EVP_MD_CTX_new();
    if (!h->md || EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1) {
        cairn_source_free(&h->base);
        return NULL;
    }
    return &h->base;
}

void cairn_digest_hex(const cairn_digest *d, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d->sha256[i] >> 4];
        out[2 * i + 1] = hex[d->sha256[i] & 15];
    }
    out[64] = '\0';
}

int cairn_digest_from_hex(cairn_digest *d, const char *hex)
{
    if (!hex || strlen(hex) != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char c = hex[2 * i + j];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= (unsigned)(c - 'a' + 10);
            else
                return -1;
        }
        d->sha256[i] = (unsigned char)v;
    }
    return 0;
}
