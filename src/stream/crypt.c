/* Authenticated encryption stages: AES-256-GCM in fixed-size frames.
 *
 * A file starts with a header: the magic "CAIRNE1\0", a random 16-byte
 * salt and the frame size (4 bytes, big-endian).  The file's key is
 * HKDF-SHA256(repository key, salt), so no two files share a key.  Then
 * frames: the plaintext cut into pieces of the frame size, each encrypted
 * with the nonce 0000 || counter (8 bytes, big-endian) and the header plus
 * one byte -- 1 for the last frame, 0 for the others -- as associated
 * data, and followed by its 16-byte tag.  The last frame is shorter than
 * the frame size (empty when the plaintext fills the frames exactly).
 *
 * So every change is detected: a flipped bit or a wrong key fails a tag;
 * frames swapped fail (their counter is in the nonce); a file cut at a
 * frame boundary lacks its last frame (the one before it was sealed as
 * "not last"); bytes added after the last frame are refused. */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "cairn/stream.h"
#include "util/text.h"

#define MAGIC  "CAIRNE1"
#define HEADER 28
#define SALT   16
#define TAG    16
#define FRAME  (1u << 16)

typedef struct {
    unsigned char key[32];
    unsigned char header[HEADER];
    uint64_t counter;
    EVP_CIPHER_CTX *ctx;
} frames;

static int derive(const unsigned char master[32], const unsigned char *salt, unsigned char out[32])
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    if (!kctx)
        return -1;
    static char info[] = "cairn file v1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)master, 32),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, SALT),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof info - 1),
        OSSL_PARAM_construct_end(),
    };
    int ok = EVP_KDF_derive(kctx, out, 32, params) == 1;
    EVP_KDF_CTX_free(kctx);
    return ok ? 0 : -1;
}

static int frames_init(frames *f, const unsigned char master[32], const unsigned char *header)
{
    memcpy(f->header, header, HEADER);
    f->counter = 0;
    f->ctx = EVP_CIPHER_CTX_new();
    return f->ctx && derive(master, header + 8, f->key) == 0 ? 0 : -1;
}

static void frames_clear(frames *f)
{
    EVP_CIPHER_CTX_free(f->ctx);
    OPENSSL_cleanse(f->key, sizeof f->key);
}

static void nonce(const frames *f, unsigned char out[12])
{
    memset(out, 0, 4);
    for (int i = 0; i < 8; i++)
        out[4 + i] = (unsigned char)(f->counter >> (56 - 8 * i));
}

/* One frame: in (len bytes) to out (len bytes and the tag); 0 or -1. */
static int seal(frames *f, const unsigned char *in, size_t len, int last, unsigned char *out)
{
    unsigned char iv[12], flag = (unsigned char)(last ? 1 : 0);
    nonce(f, iv);
    int n = 0, ok = EVP_EncryptInit_ex(f->ctx, EVP_aes_256_gcm(), NULL, f->key, iv) == 1 &&
                    EVP_EncryptUpdate(f->ctx, NULL, &n, f->header, HEADER) == 1 &&
                    EVP_EncryptUpdate(f->ctx, NULL, &n, &flag, 1) == 1 &&
                    (len == 0 || EVP_EncryptUpdate(f->ctx, out, &n, in, (int)len) == 1) &&
                    EVP_EncryptFinal_ex(f->ctx, out + len, &n) == 1 &&
                    EVP_CIPHER_CTX_ctrl(f->ctx, EVP_CTRL_GCM_GET_TAG, TAG, out + len) == 1;
    f->counter++;
    return ok ? 0 : -1;
}

/* One frame back: in (len bytes of ciphertext and the tag) to out. */
static int open_frame(frames *f, unsigned char *in, size_t len, int last, unsigned char *out)
{
    unsigned char iv[12], flag = (unsigned char)(last ? 1 : 0);
    nonce(f, iv);
    int n = 0, ok = EVP_DecryptInit_ex(f->ctx, EVP_aes_256_gcm(), NULL, f->key, iv) == 1 &&
                    EVP_DecryptUpdate(f->ctx, NULL, &n, f->header, HEADER) == 1 &&
                    EVP_DecryptUpdate(f->ctx, NULL, &n, &flag, 1) == 1 &&
                    (len == 0 || EVP_DecryptUpdate(f->ctx, out, &n, in, (int)len) == 1) &&
                    EVP_CIPHER_CTX_ctrl(f->ctx, EVP_CTRL_GCM_SET_TAG, TAG, in + len) == 1 &&
                    EVP_DecryptFinal_ex(f->ctx, out + len, &n) == 1;
    f->counter++;
    return ok ? 0 : -1;
}

/* ---- the sink ---- */

typedef struct {
    cairn_sink base;
    frames f;
    unsigned char *plain, *sealed;
    size_t used;
    int header_written;
} encrypt_sink;

static int put_frame(encrypt_sink *e, int last)
{
    if (!e->header_written) {
        if (cairn_sink_write(e->base.next, e->f.header, HEADER) != 0)
            return cairn_sink_fail_from(&e->base, e->base.next);
        e->header_written = 1;
    }
    if (seal(&e->f, e->plain, e->used, last, e->sealed) != 0)
        return cairn_error_set(&e->base.err, CAIRN_ERR, "encryption failed"), -1;
    if (cairn_sink_write(e->base.next, e->sealed, e->used + TAG) != 0)
        return cairn_sink_fail_from(&e->base, e->base.next);
    e->used = 0;
    return 0;
}

static int encrypt_write(cairn_sink *s, const void *buf, size_t len)
{
    encrypt_sink *e = (encrypt_sink *)s;
    const unsigned char *p = buf;
    while (len > 0) {
        if (e->used == FRAME && put_frame(e, 0) != 0) /* more follows: not the last */
            return -1;
        size_t take = FRAME - e->used < len ? FRAME - e->used : len;
        memcpy(e->plain + e->used, p, take);
        e->used += take;
        p += take;
        len -= take;
    }
    return 0;
}

static int encrypt_finish(cairn_sink *s)
{
    encrypt_sink *e = (encrypt_sink *)s;
    if (e->used == FRAME && put_frame(e, 0) != 0)
        return -1;
    if (put_frame(e, 1) != 0)
        return -1;
    return cairn_sink_finish(e->base.next) == 0 ? 0 : cairn_sink_fail_from(s, e->base.next);
}

static void encrypt_release(cairn_sink *s)
{
    encrypt_sink *e = (encrypt_sink *)s;
    frames_clear(&e->f);
    OPENSSL_cleanse(e->plain, FRAME);
    free(e->plain);
    free(e->sealed);
}

static const cairn_sink_ops encrypt_ops = {encrypt_write, encrypt_finish, encrypt_release};

cairn_sink *cairn_encrypt_sink_new(cairn_sink *next, const unsigned char key[32])
{
    encrypt_sink *e = cairn_xcalloc(1, sizeof *e);
    e->base.ops = &encrypt_ops;
    e->base.next = next;
    e->plain = cairn_xmalloc(FRAME);
    e->sealed = cairn_xmalloc(FRAME + TAG);
    unsigned char header[HEADER];
    memcpy(header, MAGIC, 8);
    uint32_t frame = FRAME;
    for (int i = 0; i < 4; i++)
        header[24 + i] = (unsigned char)(frame >> (24 - 8 * i));
    if (RAND_bytes(header + 8, SALT) != 1 || frames_init(&e->f, key, header) != 0) {
        cairn_sink_free(&e->base);
        return NULL;
    }
    return &e->base;
}

/* ---- the source ---- */

typedef struct {
    cairn_source base;
    frames f;
    unsigned char master[32];
    char *name;
    unsigned char *sealed, *plain;
    size_t sealed_len, plain_len, plain_pos;
    int have_header, done, ahead; /* ahead: sealed holds one byte of the next frame */
    unsigned char next_byte;
} decrypt_source;

static ssize_t fail(decrypt_source *d, int code, const char *why)
{
    cairn_error_set(&d->base.err, code, "%s: %s", d->name, why);
    return -1;
}

/* Reads the next frame's bytes (and one byte beyond, to know whether it is
 * the last); decrypts it into plain. */
static ssize_t next_frame(decrypt_source *d)
{
    size_t want = FRAME + TAG, n = 0;
    if (d->ahead) {
        d->sealed[n++] = d->next_byte;
        d->ahead = 0;
    }
    ssize_t got = cairn_source_read_full(d->base.next, d->sealed + n, want - n);
    if (got < 0)
        return cairn_source_fail_from(&d->base, d->base.next);
    n += (size_t)got;
    int last = n < want;
    if (!last) { /* a full frame: the last only if nothing follows */
        got = cairn_source_read_full(d->base.next, &d->next_byte, 1);
        if (got < 0)
            return cairn_source_fail_from(&d->base, d->base.next);
        d->ahead = got == 1;
        last = !d->ahead;
    }
    if (n < TAG)
        return fail(d, CAIRN_EVERIFY, "encrypted file is cut short (a frame lacks its tag)");
    if (open_frame(&d->f, d->sealed, n - TAG, last, d->plain) != 0)
        return fail(d, CAIRN_EVERIFY,
                    last ? "encrypted file fails authentication: altered, cut short, or another "
                           "key"
                         : "encrypted file fails authentication: altered, or another key");
    if (last && n - TAG == FRAME) /* the writer ends with a short (maybe empty) frame */
        return fail(d, CAIRN_EVERIFY, "encrypted file lacks its last frame");
    d->plain_len = n - TAG;
    d->plain_pos = 0;
    d->done = last;
    return 0;
}

static ssize_t decrypt_read(cairn_source *s, void *buf, size_t cap)
{
    decrypt_source *d = (decrypt_source *)s;
    if (!d->have_header) {
        unsigned char header[HEADER];
        ssize_t got = cairn_source_read_full(d->base.next, header, HEADER);
        if (got < 0)
            return cairn_source_fail_from(s, d->base.next);
        if (got < HEADER || memcmp(header, MAGIC, 8) != 0)
            return fail(d, CAIRN_EVERIFY, "not an encrypted cairn file (no header)");
        uint32_t frame = (uint32_t)header[24] << 24 | (uint32_t)header[25] << 16 |
                         (uint32_t)header[26] << 8 | header[27];
        if (frame != FRAME)
            return fail(d, CAIRN_EVERIFY, "encrypted with an unknown frame size");
        if (frames_init(&d->f, d->master, header) != 0)
            return fail(d, CAIRN_ERR, "cannot set up decryption");
        d->have_header = 1;
        if (next_frame(d) != 0)
            return -1;
    }
    while (d->plain_pos == d->plain_len) {
        if (d->done)
            return 0;
        if (next_frame(d) != 0)
            return -1;
    }
    size_t take = d->plain_len - d->plain_pos < cap ? d->plain_len - d->plain_pos : cap;
    memcpy(buf, d->plain + d->plain_pos, take);
    d->plain_pos += take;
    return (ssize_t)take;
}

static void decrypt_release(cairn_source *s)
{
    decrypt_source *d = (decrypt_source *)s;
    frames_clear(&d->f);
    OPENSSL_cleanse(d->master, sizeof d->master);
    if (d->plain)
        OPENSSL_cleanse(d->plain, FRAME);
    free(d->plain);
    free(d->sealed);
    free(d->name);
}

static const cairn_source_ops decrypt_ops = {decrypt_read, decrypt_release};

cairn_source *cairn_decrypt_source_new(cairn_source *next, const unsigned char key[32],
                                       const char *name)
{
    decrypt_source *d = cairn_xcalloc(1, sizeof *d);
    d->base.ops = &decrypt_ops;
    d->base.next = next;
    d->name = cairn_xstrdup(name ? name : "file");
    d->sealed = cairn_xmalloc(FRAME + TAG);
    d->plain = cairn_xmalloc(FRAME + TAG);
    memcpy(d->master, key, 32); /* the file's key comes with the header's salt */
    return &d->base;
}
