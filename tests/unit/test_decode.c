/* test_decoding output: parsing every change kind the log holds, with the
 * awkward values (quotes, raw newlines, NaN, bits, unchanged TOAST). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/stream.h"
#include "postgres/pg_decode.h"
#include "util/text.h"

static pgd_change parse_ok(const char *line)
{
    pgd_change c;
    char why[256] = "";
    int rc = pgd_parse(line, strlen(line), &c, why, sizeof why);
    if (rc != 0)
        fail_msg("parse failed: %s", why);
    return c;
}

static void begin_and_commit(void **state)
{
    (void)state;
    pgd_change c = parse_ok("BEGIN 739");
    assert_int_equal(c.kind, PGD_BEGIN);
    assert_int_equal(c.xid, 739);
    pgd_change_clear(&c);
    c = parse_ok("COMMIT 739 (at 2026-11-26 11:01:36.656429+00)");
    assert_int_equal(c.kind, PGD_COMMIT);
    assert_int_equal(c.xid, 739);
    assert_string_equal(c.commit_time, "2026-11-26 11:01:36.656429+00");
    pgd_change_clear(&c);
}

static void insert_with_awkward_names_and_values(void **state)
{
    (void)state;
    pgd_change c = parse_ok("table \"My Schema\".\"Foo.Bar\": INSERT: id[integer]:1 "
                            "\"weird [col]\"[text]:'v'']: y' x[numeric[]]:'{1.50,NaN}' "
                            "f[double precision]:NaN bt[bit]:B'1010' r[real]:1.5000001e+10 "
                            "b[boolean]:true n[text]:null m[text]:'two\nlines ''q'''");
    assert_int_equal(c.kind, PGD_INSERT);
    assert_string_equal(c.schema, "My Schema");
    assert_string_equal(c.table, "Foo.Bar");
    assert_int_equal(c.ncols, 9);
    assert_string_equal(c.cols[0].name, "id");
    assert_string_equal(c.cols[0].type, "integer");
    assert_string_equal(c.cols[0].literal, "'1'");
    assert_string_equal(c.cols[1].name, "weird [col]");
    assert_string_equal(c.cols[1].literal, "'v'']: y'");
    assert_string_equal(c.cols[2].type, "numeric[]");
    assert_string_equal(c.cols[2].literal, "'{1.50,NaN}'");
    assert_string_equal(c.cols[3].literal, "'NaN'");
    assert_string_equal(c.cols[4].literal, "B'1010'");
    assert_string_equal(c.cols[5].literal, "'1.5000001e+10'");
    assert_string_equal(c.cols[6].literal, "'true'");
    assert_null(c.cols[7].literal);
    assert_false(c.cols[7].unchanged_toast);
    assert_string_equal(c.cols[8].literal, "'two\nlines ''q'''");
    pgd_change_clear(&c);
}

static void updates(void **state)
{
    (void)state;
    pgd_change c = parse_ok("table public.pk: UPDATE: old-key: id[integer]:2 new-tuple: "
                            "id[integer]:10 a[text]:'after new-tuple: x' b[bytea]:null");
    assert_int_equal(c.kind, PGD_UPDATE);
    assert_int_equal(c.nold, 1);
    assert_string_equal(c.old[0].literal, "'2'");
    assert_int_equal(c.ncols, 3);
    assert_string_equal(c.cols[1].literal, "'after new-tuple: x'");
    pgd_change_clear(&c);
    c = parse_ok("table public.pk: UPDATE: id[integer]:1 big[text]:unchanged-toast-datum "
                 "b[bytea]:'\\x0001ff'");
    assert_int_equal(c.nold, 0);
    assert_int_equal(c.ncols, 3);
    assert_true(c.cols[1].unchanged_toast);
    assert_null(c.cols[1].literal);
    assert_string_equal(c.cols[2].literal, "'\\x0001ff'");
    pgd_change_clear(&c);
}

static void deletes_and_truncates(void **state)
{
    (void)state;
    pgd_change c = parse_ok("table public.nopk: DELETE: (no-tuple-data)");
    assert_int_equal(c.kind, PGD_DELETE);
    assert_true(c.no_tuple_data);
    pgd_change_clear(&c);
    c = parse_ok("table public.full_t: DELETE: id[integer]:2 a[text]:'b'");
    assert_int_equal(c.ncols, 2);
    pgd_change_clear(&c);
    c = parse_ok("table public.a, \"S\".\"b c\": TRUNCATE: restart_seqs cascade");
    assert_int_equal(c.kind, PGD_TRUNCATE);
    assert_int_equal(c.ntruncated, 4);
    assert_string_equal(c.truncated[2], "S");
    assert_string_equal(c.truncated[3], "b c");
    assert_true(c.restart_seqs);
    assert_true(c.cascade);
    pgd_change_clear(&c);
    c = parse_ok("table public.ddl_t: TRUNCATE: (no-flags)");
    assert_false(c.restart_seqs);
    assert_false(c.cascade);
    pgd_change_clear(&c);
}

static void messages(void **state)
{
    (void)state;
    const char *line = "message: transactional: 1 prefix: cairn.ddl, sz: 23 content:alter "
                       "table t\nadd z int";
    pgd_change c = parse_ok(line);
    assert_int_equal(c.kind, PGD_MESSAGE);
    assert_true(c.transactional);
    assert_string_equal(c.prefix, "cairn.ddl");
    assert_string_equal(c.content, "alter table t\nadd z int");
    pgd_change_clear(&c);
}

static void malformed_lines_are_refused(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "table public.t INSERT: id[integer]:1",
        "table public.t: INSERT: id[integer]:'unterminated",
        "table public.t: INSERT: id[integer]",
        "table public.t: FROB: id[integer]:1",
        "message: transactional: 1 prefix: p, sz: 99 content:short",
        "COMMIT x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        pgd_change c;
        char why[256];
        assert_int_equal(pgd_parse(bad[i], strlen(bad[i]), &c, why, sizeof why), -1);
    }
}

static void lsn_and_records(void **state)
{
    (void)state;
    uint64_t lsn = 0;
    assert_int_equal(pgd_lsn_parse("16/B374D848", &lsn), 0);
    assert_true(lsn == 0x16B374D848ull);
    char text[24];
    pgd_lsn_format(lsn, text);
    assert_string_equal(text, "16/B374D848");
    assert_int_equal(pgd_lsn_parse("16/", &lsn), -1);
    assert_int_equal(pgd_lsn_parse("0/1 x", &lsn), -1);

    const char data[] = "table public.t: INSERT: a[text]:'x\ty\nz'";
    char head[64];
    size_t hl = pgd_record_head("0/1934708", "739", head);
    cairn_sink *sink = cairn_memory_sink_new();
    assert_int_equal(cairn_record_write(sink, head, hl, data, sizeof data - 1), 0);
    size_t n = 0;
    const unsigned char *rec = cairn_memory_sink_data(sink, &n);
    size_t payload = (size_t)rec[0] | (size_t)rec[1] << 8;
    assert_int_equal(payload + 4, n);
    cairn_source *src = cairn_memory_source_new(rec, n);
    char *buf = NULL;
    size_t cap = 0, len = 0;
    cairn_error err = {0};
    assert_int_equal(cairn_record_read(src, &buf, &cap, &len, 1u << 20, &err), CAIRN_OK);
    assert_int_equal(len, payload);
    pgd_record r;
    assert_int_equal(pgd_record_parse(buf, len, &r), 0);
    assert_true(r.lsn == 0x1934708);
    assert_int_equal(r.xid, 739);
    assert_int_equal(r.len, sizeof data - 1);
    assert_memory_equal(r.data, data, r.len);
    assert_int_equal(cairn_record_read(src, &buf, &cap, &len, 1u << 20, &err), -1); /* the end */
    free(buf);
    cairn_source_free(src);
    cairn_sink_free(sink);
}

/* Commit times (as test_decoding prints them) and --to-time values. */
static void times(void **state)
{
    (void)state;
    int64_t a = 0, b = 0;
    assert_int_equal(cairn_time_parse_us("2026-11-26 11:01:36.656429+00", &a), 0);
    assert_int_equal(cairn_time_parse_us("2026-11-26T11:01:36.656429Z", &b), 0);
    assert_true(a == b);
    assert_true(a == 1795690896656429LL);
    assert_int_equal(cairn_time_parse_us("2026-11-26T12:01:36.656429+01:00", &b), 0);
    assert_true(a == b);
    assert_int_equal(cairn_time_parse_us("2026-11-26 06:31:36.656429-0430", &b), 0);
    assert_true(a == b);
    assert_int_equal(cairn_time_parse_us("2026-11-26T11:01", &b), 0); /* no zone: UTC */
    assert_true(b == 1795690860000000LL);
    const char *bad[] = {"yesterday",
                         "2026-11-26",
                         "2026-13-01 00:00:00",
                         "2026-11-26T11:01:36.",
                         "2026-11-26T11:01:36 UTC",
                         ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(cairn_time_parse_us(bad[i], &b), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(begin_and_commit), cmocka_unit_test(insert_with_awkward_names_and_values),
        cmocka_unit_test(updates),          cmocka_unit_test(deletes_and_truncates),
        cmocka_unit_test(messages),         cmocka_unit_test(malformed_lines_are_refused),
        cmocka_unit_test(lsn_and_records),  cmocka_unit_test(times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
