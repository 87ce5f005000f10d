/* Encrypted files: round trips, and every kind of tampering detected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/stream.h"

#define FRAME  (1u << 16)
#define HEADER 28
#define TAG    16

static const unsigned char key[32] = "0123456789abcdef0123456789abcde";

/* Encrypts len bytes of a pattern; *out is malloc'd. */
static size_t seal(size_t len, unsigned char **out)
{
    cairn_sink *mem = cairn_memory_sink_new();
    cairn_sink *s = cairn_encrypt_sink_new(mem, key);
    unsigned char *plain = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        plain[i] = (unsigned char)(i * 7 + 3);
    for (size_t off = 0; off < len;) { /* in uneven pieces */
        size_t n = len - off < 1000 ? len - off : 1000 + off % 3;
        assert_int_equal(cairn_sink_write(s, plain + off, n), 0);
        off += n;
    }
    assert_int_equal(cairn_sink_finish(s), 0);
    size_t n = 0;
    const void *data = cairn_memory_sink_data(mem, &n);
    *out = malloc(n + 1);
    memcpy(*out, data, n);
    cairn_sink_free(s);
    free(plain);
    return n;
}

/* Decrypts; returns the plaintext length, or -1 with the error code. */
static long open_all(const unsigned char *data, size_t len, const unsigned char *k, int *code)
{
    cairn_source *s = cairn_decrypt_source_new(cairn_memory_source_new(data, len), k, "f");
    unsigned char buf[5000];
    long total = 0;
    ssize_t n;
    while ((n = cairn_source_read(s, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != (unsigned char)((total + i) * 7 + 3))
                fail_msg("wrong plaintext at %ld", total + i);
        total += n;
    }
    *code = n < 0 ? cairn_source_error(s)->code : 0;
    cairn_source_free(s);
    return n < 0 ? -1 : total;
}

static void round_trips(void **state)
{
    (void)state;
    size_t sizes[] = {0, 1, FRAME - 1, FRAME, FRAME + 1, 3 * FRAME, 3 * FRAME + 17};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        unsigned char *c = NULL;
        size_t n = seal(sizes[i], &c);
        size_t frames = sizes[i] / FRAME + 1; /* the last is short, maybe empty */
        assert_int_equal(n, HEADER + sizes[i] + frames * TAG);
        int code = 0;
        assert_int_equal(open_all(c, n, key, &code), (long)sizes[i]);
        free(c);
    }
}

static void tampering_is_detected(void **state)
{
    (void)state;
    unsigned char *c = NULL;
    size_t n = seal(3 * FRAME + 100, &c);
    int code = 0;
    size_t frame = FRAME + TAG;

    c[HEADER + 5] ^= 1; /* a bit in the first frame */
    assert_int_equal(open_all(c, n, key, &code), -1);
    assert_int_equal(code, CAIRN_EVERIFY);
    c[HEADER + 5] ^= 1;

    c[10] ^= 1; /* the salt: another file key */
    assert_int_equal(open_all(c, n, key, &code), -1);
    c[10] ^= 1;

    unsigned char other[32];
    memcpy(other, key, 32);
    other[0] ^= 1;
    assert_int_equal(open_all(c, n, other, &code), -1);

    assert_int_equal(open_all(c, HEADER + 3 * frame, key, &code), -1); /* cut at a boundary */
    assert_int_equal(open_all(c, n - 1, key, &code), -1);              /* cut inside */
    assert_int_equal(open_all(c, 10, key, &code), -1);                 /* inside the header */

    unsigned char *longer = malloc(n + 20); /* bytes after the last frame */
    memcpy(longer, c, n);
    memset(longer + n, 0, 20);
    assert_int_equal(open_all(longer, n + 20, key, &code), -1);
    free(longer);

    unsigned char *swapped = malloc(n); /* frames 1 and 2 exchanged */
    memcpy(swapped, c, n);
    memcpy(swapped + HEADER, c + HEADER + frame, frame);
    memcpy(swapped + HEADER + frame, c + HEADER, frame);
    assert_int_equal(open_all(swapped, n, key, &code), -1);
    free(swapped);

    assert_int_equal(open_all(c, n, key, &code), 3 * FRAME + 100); /* untouched, it reads */
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips),
        cmocka_unit_test(tampering_is_detected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
