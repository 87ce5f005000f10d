/* Stream stack: round trips, checksums, and damaged input refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/stream.h"

/* Compresses and hashes `data` the way a backup does; returns the stored
 * bytes (malloc'd) and fills both digests. */
static char *pack(const char *data, size_t len, int level, size_t *out_len, cairn_digest *raw,
                  cairn_digest *stored)
{
    cairn_sink *mem = cairn_memory_sink_new();
    cairn_sink *s = cairn_hash_sink_new(mem, stored);
    if (level)
        s = cairn_zstd_sink_new(s, level, 0);
    s = cairn_hash_sink_new(s, raw);
    s = cairn_buffer_sink_new(s, 1000);
    /* write in uneven pieces, as COPY rows arrive */
    size_t off = 0, step = 1;
    while (off < len) {
        size_t n = step < len - off ? step : len - off;
        assert_int_equal(cairn_sink_write(s, data + off, n), 0);
        off += n;
        step = step * 3 % 4099 + 1;
    }
    assert_int_equal(cairn_sink_finish(s), 0);
    size_t n = 0;
    const void *bytes = cairn_memory_sink_data(mem, &n);
    char *copy = malloc(n ? n : 1);
    if (n)
        memcpy(copy, bytes, n);
    *out_len = n;
    cairn_sink_free(s);
    return copy;
}

/* Reads stored bytes back through the checked stack; returns the status
 * and the output in *out (malloc'd). */
static int unpack(const char *stored, size_t len, int zstd, const cairn_digest *raw,
                  const cairn_digest *st, char **out, size_t *out_len, cairn_error *err)
{
    cairn_source *s = cairn_memory_source_new(stored, len);
    s = cairn_hash_source_new(s, st, "data/000001.0000.zst", NULL);
    if (zstd)
        s = cairn_zstd_source_new(s, "data/000001.0000.zst");
    s = cairn_hash_source_new(s, raw, "data/000001.0000.zst", NULL);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    ssize_t got;
    while ((got = cairn_source_read(s, buf + n, cap - n)) > 0) {
        n += (size_t)got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    int rc = got < 0 ? -1 : 0;
    if (rc)
        *err = *cairn_source_error(s);
    cairn_source_free(s);
    *out = buf;
    *out_len = n;
    return rc;
}

static char *sample(size_t len)
{
    char *d = malloc(len);
    uint32_t x = 12345;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245 + 12345;
        d[i] = (char)(i % 7 == 0 ? '\n' : (x >> 16) % 20 + 'a');
    }
    return d;
}

static void round_trip_compressed(void **state)
{
    (void)state;
    size_t len = 3 << 20;
    char *data = sample(len);
    cairn_digest raw, stored;
    size_t slen = 0, olen = 0;
    char *packed = pack(data, len, 3, &slen, &raw, &stored);
    assert_int_equal(raw.bytes, len);
    assert_int_equal(stored.bytes, slen);
    assert_true(slen < len);
    char *out = NULL;
    cairn_error err = {0};
    assert_int_equal(unpack(packed, slen, 1, &raw, &stored, &out, &olen, &err), 0);
    assert_int_equal(olen, len);
    assert_memory_equal(out, data, len);
    free(out);
    free(packed);
    free(data);
}

static void round_trip_uncompressed_and_empty(void **state)
{
    (void)state;
    cairn_digest raw, stored;
    size_t slen = 0, olen = 0;
    char *packed = pack("", 0, 0, &slen, &raw, &stored);
    assert_int_equal(slen, 0);
    char *out = NULL;
    cairn_error err = {0};
    assert_int_equal(unpack(packed, slen, 0, &raw, &stored, &out, &olen, &err), 0);
    assert_int_equal(olen, 0);
    free(out);
    free(packed);
    /* an empty table compressed is still a valid, checkable zstd frame */
    packed = pack("", 0, 1, &slen, &raw, &stored);
    assert_true(slen > 0);
    assert_int_equal(unpack(packed, slen, 1, &raw, &stored, &out, &olen, &err), 0);
    assert_int_equal(olen, 0);
    free(out);
    free(packed);
}

static void known_digest(void **state)
{
    (void)state;
    cairn_digest d;
    cairn_sink *s = cairn_hash_sink_new(NULL, &d);
    assert_int_equal(cairn_sink_write(s, "abc", 3), 0);
    assert_int_equal(cairn_sink_finish(s), 0);
    char hex[65];
    cairn_digest_hex(&d, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    cairn_digest back;
    assert_int_equal(cairn_digest_from_hex(&back, hex), 0);
    assert_memory_equal(back.sha256, d.sha256, 32);
    assert_int_equal(cairn_digest_from_hex(&back, "zz"), -1);
    cairn_sink_free(s);
}

static void truncated_is_refused(void **state)
{
    (void)state;
    size_t len = 1 << 20;
    char *data = sample(len);
    cairn_digest raw, stored;
    size_t slen = 0, olen = 0;
    char *packed = pack(data, len, 3, &slen, &raw, &stored);
    char *out = NULL;
    cairn_error err = {0};
    /* the stored checksum catches it */
    assert_int_not_equal(unpack(packed, slen / 2, 1, &raw, &stored, &out, &olen, &err), 0);
    assert_int_equal(err.code, CAIRN_EVERIFY);
    assert_non_null(strstr(err.message, "truncated"));
    free(out);
    /* and without the stored checksum, zstd itself refuses a cut frame */
    cairn_source *s = cairn_zstd_source_new(cairn_memory_source_new(packed, slen - 10), "x");
    char buf[65536];
    ssize_t n;
    while ((n = cairn_source_read(s, buf, sizeof buf)) > 0)
        ;
    assert_int_equal(n, -1);
    assert_int_equal(cairn_source_error(s)->code, CAIRN_EVERIFY);
    cairn_source_free(s);
    free(packed);
    free(data);
}

static void corrupt_is_refused(void **state)
{
    (void)state;
    size_t len = 1 << 18;
    char *data = sample(len);
    cairn_digest raw, stored;
    size_t slen = 0, olen = 0;
    char *packed = pack(data, len, 3, &slen, &raw, &stored);
    packed[slen / 2] ^= 0x40;
    char *out = NULL;
    cairn_error err = {0};
    assert_int_not_equal(unpack(packed, slen, 1, &raw, &stored, &out, &olen, &err), 0);
    assert_int_equal(err.code, CAIRN_EVERIFY);
    assert_non_null(strstr(err.message, "data/000001.0000.zst"));
    free(out);
    /* a flipped byte in uncompressed data: the raw checksum catches it */
    char *plain = pack(data, len, 0, &slen, &raw, &stored);
    plain[100] ^= 1;
    assert_int_not_equal(unpack(plain, slen, 0, &raw, &stored, &out, &olen, &err), 0);
    assert_non_null(strstr(err.message, "corrupt"));
    free(out);
    /* extra bytes appended are refused too */
    char *longer = malloc(slen + 5);
    plain[100] ^= 1;
    memcpy(longer, plain, slen);
    memcpy(longer + slen, "extra", 5);
    assert_int_not_equal(unpack(longer, slen + 5, 0, &raw, &stored, &out, &olen, &err), 0);
    assert_non_null(strstr(err.message, "longer"));
    free(out);
    free(longer);
    free(plain);
    free(packed);
    free(data);
}

static void garbage_is_not_zstd(void **state)
{
    (void)state;
    const char junk[] = "this is not a zstd frame at all";
    cairn_source *s = cairn_zstd_source_new(cairn_memory_source_new(junk, sizeof junk), "x");
    char buf[256];
    assert_int_equal(cairn_source_read(s, buf, sizeof buf), -1);
    assert_non_null(strstr(cairn_source_error(s)->message, "corrupt"));
    cairn_source_free(s);
    s = cairn_zstd_source_new(cairn_memory_source_new(junk, 0), "x");
    assert_int_equal(cairn_source_read(s, buf, sizeof buf), -1);
    cairn_source_free(s);
}

/* A sink that fails on its second write, like a full disk. */
static int failing_write(cairn_sink *s, const void *buf, size_t len)
{
    (void)buf;
    (void)len;
    static int calls;
    if (++calls >= 2) {
        cairn_error_set(&s->err, CAIRN_ERR, "cannot write: No space left on device");
        return -1;
    }
    return 0;
}
static const cairn_sink_ops failing_ops = {failing_write, NULL, NULL};

static void errors_are_sticky_and_propagate(void **state)
{
    (void)state;
    cairn_sink *bottom = calloc(1, sizeof *bottom);
    bottom->ops = &failing_ops;
    cairn_digest d;
    cairn_sink *s = cairn_hash_sink_new(bottom, &d);
    assert_int_equal(cairn_sink_write(s, "a", 1), 0);
    assert_int_equal(cairn_sink_write(s, "b", 1), -1);
    assert_non_null(strstr(cairn_sink_error(s)->message, "No space"));
    assert_int_equal(cairn_sink_write(s, "c", 1), -1);
    assert_int_equal(cairn_sink_finish(s), -1);
    cairn_sink_free(s);
}

/* Sums the rows of text, written in pieces of `step` bytes. */
static cairn_rowsum rowsum_of(const char *text, size_t step)
{
    cairn_rowsum sum = {0};
    cairn_sink *s = cairn_rows_sink_new(NULL, &sum);
    assert_non_null(s);
    size_t len = strlen(text);
    for (size_t off = 0; off < len; off += step)
        assert_int_equal(cairn_sink_write(s, text + off, len - off < step ? len - off : step), 0);
    assert_int_equal(cairn_sink_finish(s), 0);
    cairn_sink_free(s);
    return sum;
}

static void assert_rowsum_equal(cairn_rowsum a, cairn_rowsum b)
{
    assert_int_equal(a.rows, b.rows);
    assert_int_equal(a.lo, b.lo);
    assert_int_equal(a.hi, b.hi);
}

/* The content digest does not depend on row order or on how the bytes
 * were split into writes (chunks, batches), but on every byte and on
 * how many times a row occurs. */
static void rowsum_is_order_independent_and_exact(void **state)
{
    (void)state;
    const char *a = "1\tapple\n2\t\\N\n3\tpear\\nwith newline\n2\t\\N\n";
    const char *b = "2\t\\N\n3\tpear\\nwith newline\n2\t\\N\n1\tapple\n";
    cairn_rowsum whole = rowsum_of(a, 1 << 20);
    assert_int_equal(whole.rows, 4);
    for (size_t step = 1; step < 12; step++)
        assert_rowsum_equal(rowsum_of(a, step), whole);
    assert_rowsum_equal(rowsum_of(b, 3), whole);

    /* summing two chunks equals the whole */
    cairn_rowsum part = rowsum_of("1\tapple\n2\t\\N\n", 5);
    cairn_rowsum rest = rowsum_of("3\tpear\\nwith newline\n2\t\\N\n", 7);
    cairn_rowsum_add(&part, &rest);
    assert_rowsum_equal(part, whole);

    /* one byte changed, a duplicate dropped, two rows swapping a field */
    cairn_rowsum other = rowsum_of("1\tapple\n2\t\\N\n3\tpeas\\nwith newline\n2\t\\N\n", 4);
    assert_true(other.lo != whole.lo || other.hi != whole.hi);
    other = rowsum_of("1\tapple\n2\t\\N\n3\tpear\\nwith newline\n", 4);
    assert_int_equal(other.rows, 3);
    assert_true(other.lo != whole.lo || other.hi != whole.hi);
    assert_rowsum_equal(rowsum_of("1\ta\n2\tb\n", 2), rowsum_of("2\tb\n1\ta\n", 2));
    other = rowsum_of("1\tb\n2\ta\n", 2);
    cairn_rowsum ab = rowsum_of("1\ta\n2\tb\n", 2);
    assert_true(other.lo != ab.lo || other.hi != ab.hi);

    /* the empty table, and a last row without its newline */
    assert_int_equal(rowsum_of("", 1).rows, 0);
    assert_rowsum_equal(rowsum_of("x\ny", 1), rowsum_of("y\nx\n", 1));

    char hex[33];
    cairn_rowsum back = {0};
    cairn_rowsum_hex(&whole, hex);
    assert_int_equal(strlen(hex), 32);
    assert_int_equal(cairn_rowsum_from_hex(&back, hex), 0);
    assert_int_equal(back.lo, whole.lo);
    assert_int_equal(back.hi, whole.hi);
    assert_int_equal(cairn_rowsum_from_hex(&back, "12"), -1);
    assert_int_equal(cairn_rowsum_from_hex(&back, "0123456789ABCDEF0123456789abcdef"), -1);
}

/* The carry from the low half reaches the high half. */
static void rowsum_carries(void **state)
{
    (void)state;
    cairn_rowsum a = {.lo = UINT64_MAX, .hi = 1, .rows = 1}, b = {.lo = 2, .hi = 0, .rows = 1};
    cairn_rowsum_add(&a, &b);
    assert_int_equal(a.lo, 1);
    assert_int_equal(a.hi, 2);
    assert_int_equal(a.rows, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_compressed),
        cmocka_unit_test(round_trip_uncompressed_and_empty),
        cmocka_unit_test(known_digest),
        cmocka_unit_test(truncated_is_refused),
        cmocka_unit_test(corrupt_is_refused),
        cmocka_unit_test(garbage_is_not_zstd),
        cmocka_unit_test(errors_are_sticky_and_propagate),
        cmocka_unit_test(rowsum_is_order_independent_and_exact),
        cmocka_unit_test(rowsum_carries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
