/* LOAD DATA escaping: the fast path (16 or 8 bytes at a time) must write
 * exactly what escaping byte by byte writes, wherever in a field the bytes
 * that need an escape fall. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mariadb/my_escape.h"

/* The format, one byte at a time. */
static size_t reference(char *out, const char *v, size_t n)
{
    size_t k = 0;
    if (!v) {
        out[k++] = '\\';
        out[k++] = 'N';
        return k;
    }
    for (size_t i = 0; i < n; i++) {
        char e = v[i] == '\\'   ? '\\'
                 : v[i] == '\t' ? 't'
                 : v[i] == '\n' ? 'n'
                 : v[i] == 0    ? '0'
                                : 0;
        if (e) {
            out[k++] = '\\';
            out[k++] = e;
        } else {
            out[k++] = v[i];
        }
    }
    return k;
}

/* Escapes v after `prefix` bytes already in the buffer, starting from a
 * small buffer so that it has to grow, and compares with the reference. */
static void check(const char *v, size_t n, size_t prefix)
{
    size_t cap = 1 + prefix, len = prefix;
    char *buf = malloc(cap);
    memset(buf, 'p', prefix);
    my_escape_field(&buf, &len, &cap, v, n);
    assert_true(len + 1 <= cap); /* room for the separator */
    char *want = malloc(2 * n + 2 + prefix);
    memset(want, 'p', prefix);
    size_t wn = prefix + reference(want + prefix, v, n);
    assert_int_equal(len, wn);
    assert_memory_equal(buf, want, wn);
    free(buf);
    free(want);
}

static void test_null_empty_and_the_string_null(void **state)
{
    (void)state;
    check(NULL, 0, 0);
    check("", 0, 0);
    check("NULL", 4, 3);
    check("\\N", 2, 0);
}

static void test_every_byte_value(void **state)
{
    (void)state;
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    for (size_t prefix = 0; prefix < 3; prefix++)
        check(all, sizeof all, prefix);
}

/* One special byte at every position of fields of every length up to 70,
 * so it falls in each lane of a word and in the tail. */
static void test_special_byte_at_every_position(void **state)
{
    (void)state;
    static const char specials[] = {'\0', '\t', '\n', '\\', 'x'};
    char v[70];
    for (size_t n = 0; n <= sizeof v; n++)
        for (size_t at = 0; at < n; at++)
            for (size_t s = 0; s < sizeof specials; s++) {
                memset(v, 'a', n);
                v[at] = specials[s];
                check(v, n, at % 5);
            }
}

static void test_random_fields(void **state)
{
    (void)state;
    srand(7);
    char v[300];
    for (int round = 0; round < 5000; round++) {
        size_t n = (size_t)rand() % sizeof v;
        int density = rand() % 20 + 1;
        for (size_t i = 0; i < n; i++)
            v[i] = rand() % density == 0 ? "\t\n\\\0"[rand() % 4] : (char)(rand() % 256);
        check(v, n, (size_t)rand() % 4);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_empty_and_the_string_null),
        cmocka_unit_test(test_every_byte_value),
        cmocka_unit_test(test_special_byte_at_every_position),
        cmocka_unit_test(test_random_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
