/* Raw binlog scanning and binlog positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mariadb/my_binlog.h"

/* Appends one event of `size` bytes (header + zero body) ending at the
 * new length; returns the new length. */
static size_t event(unsigned char *buf, size_t len, unsigned type, uint32_t when, uint32_t size)
{
    unsigned char *h = buf + len;
    memset(h, 0, size);
    uint32_t end = (uint32_t)(len + size);
    for (int i = 0; i < 4; i++) {
        h[i] = (unsigned char)(when >> (8 * i));
        h[9 + i] = (unsigned char)(size >> (8 * i));
        h[13 + i] = (unsigned char)(end >> (8 * i));
    }
    h[4] = (unsigned char)type;
    return len + size;
}

static size_t sample(unsigned char *buf)
{
    memcpy(buf,
           "\xfe"
           "bin",
           4);
    size_t n = 4;
    n = event(buf, n, 15, 100, 60);  /* format description */
    n = event(buf, n, 162, 101, 38); /* GTID: a transaction */
    n = event(buf, n, 2, 101, 50);   /* BEGIN */
    n = event(buf, n, 19, 101, 40);  /* table map */
    n = event(buf, n, 30, 101, 70);  /* write rows */
    n = event(buf, n, 16, 102, 31);  /* XID */
    n = event(buf, n, 162, 103, 38); /* GTID: a DDL statement */
    n = event(buf, n, 2, 104, 80);   /* the statement */
    n = event(buf, n, 4, 105, 43);   /* rotate */
    return n;
}

static void groups_whole_and_byte_by_byte(void **state)
{
    (void)state;
    unsigned char buf[1024];
    size_t n = sample(buf);
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        my_binlog_scan s;
        my_binlog_scan_init(&s);
        if (bytewise)
            for (size_t i = 0; i < n; i++)
                my_binlog_scan_feed(&s, buf + i, 1);
        else
            my_binlog_scan_feed(&s, buf, n);
        assert_int_equal(my_binlog_scan_end(&s), 0);
        assert_int_equal(s.ngroups, 2);
        assert_int_equal(s.groups[0].start, 64);
        assert_int_equal(s.groups[0].end, 64 + 38 + 50 + 40 + 70 + 31);
        assert_int_equal(s.groups[0].time, 102);
        assert_true(s.groups[0].transactional);
        assert_int_equal(s.groups[0].changes, 2); /* BEGIN query + rows */
        assert_false(s.groups[1].transactional);
        assert_int_equal(s.groups[1].changes, 1);
        assert_int_equal(s.groups[1].end, n - 43); /* the rotate is in no group */
        free(s.groups);
    }
}

static void cut_and_foreign_files_are_refused(void **state)
{
    (void)state;
    unsigned char buf[1024];
    size_t n = sample(buf);
    my_binlog_scan s;
    my_binlog_scan_init(&s);
    my_binlog_scan_feed(&s, buf, n - 10);
    assert_int_equal(my_binlog_scan_end(&s), -1);
    free(s.groups);
    my_binlog_scan_init(&s);
    my_binlog_scan_feed(&s, (const unsigned char *)"PGDMP", 5);
    assert_int_equal(my_binlog_scan_end(&s), -1);
    free(s.groups);
}

/* Appends a query event holding sql (in database "db", with two bytes of
 * status variables and a 4-byte checksum); returns the new length. */
static size_t query(unsigned char *buf, size_t len, const char *sql)
{
    size_t body = 13 + 2 + 3 + strlen(sql) + 4;
    size_t n = event(buf, len, 2, 200, (uint32_t)(19 + body));
    unsigned char *b = buf + len + 19;
    b[8] = 2;  /* database name length */
    b[11] = 2; /* status variables length */
    memcpy(b + 15, "db", 3);
    memcpy(b + 18, sql, strlen(sql));
    memcpy(b + 18 + strlen(sql), "Ab9x", 4); /* the checksum: letters, as it may be */
    return n;
}

/* A format event whose checksum algorithm is CRC32. */
static size_t format_crc32(unsigned char *buf, size_t len)
{
    size_t n = event(buf, len, 15, 100, 19 + 80);
    buf[n - 5] = 1;
    return n;
}

static void statements_are_told_apart(void **state)
{
    (void)state;
    unsigned char buf[4096];
    memcpy(buf,
           "\xfe"
           "bin",
           4);
    size_t n = format_crc32(buf, 4);
    n = event(buf, n, 162, 101, 38); /* a transaction on a non-transactional table */
    n = query(buf, n, "BEGIN");
    n = event(buf, n, 30, 101, 70);
    n = query(buf, n, "COMMIT");
    n = event(buf, n, 162, 102, 38); /* an account statement */
    n = query(buf, n, "/* app */ GRANT SELECT ON t.* TO u");
    n = event(buf, n, 162, 103, 38); /* DDL */
    n = query(buf, n, "ALTER TABLE t ADD c INT");
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        my_binlog_scan s;
        my_binlog_scan_init(&s);
        for (size_t i = 0; i < n; i += bytewise ? 1 : n)
            my_binlog_scan_feed(&s, buf + i, bytewise ? 1 : n);
        assert_int_equal(my_binlog_scan_end(&s), 0);
        assert_int_equal(s.ngroups, 3);
        assert_int_equal(s.groups[0].schema, 0); /* BEGIN + rows + COMMIT */
        assert_false(s.groups[0].transactional);
        assert_int_equal(s.groups[1].schema, 0);
        assert_int_equal(s.groups[1].admin, 1);
        assert_int_equal(s.groups[2].schema, 1);
        free(s.groups);
    }
}

static void statement_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *sql;
        my_stmt_kind kind;
    } cases[] = {
        {"BEGIN", MY_STMT_CONTROL},
        {"  commit", MY_STMT_CONTROL},
        {"START TRANSACTION", MY_STMT_CONTROL},
        {"XA END 'x'", MY_STMT_CONTROL},
        {"SAVEPOINT a", MY_STMT_CONTROL},
        {"GRANT SELECT ON *.* TO u", MY_STMT_ADMIN},
        {"revoke all on d.* from u", MY_STMT_ADMIN},
        {"CREATE USER 'u'@'%' IDENTIFIED BY 'x'", MY_STMT_ADMIN},
        {"CREATE OR REPLACE USER u", MY_STMT_ADMIN},
        {"CREATE OR REPLACE ROLE r", MY_STMT_ADMIN},
        {"DROP USER IF EXISTS u", MY_STMT_ADMIN},
        {"ALTER USER u ACCOUNT LOCK", MY_STMT_ADMIN},
        {"RENAME USER a TO b", MY_STMT_ADMIN},
        {"SET PASSWORD FOR u = PASSWORD('x')", MY_STMT_ADMIN},
        {"SET DEFAULT ROLE r FOR u", MY_STMT_ADMIN},
        {"FLUSH PRIVILEGES", MY_STMT_ADMIN},
        {"ANALYZE TABLE t", MY_STMT_ADMIN},
        {"/* x */ /* y */ GRANT SELECT ON d.* TO u", MY_STMT_ADMIN},
        {"CREATE TABLE users (id INT)", MY_STMT_OTHER},
        {"CREATE OR REPLACE TABLE t (a INT)", MY_STMT_OTHER},
        {"CREATE DEFINER=u VIEW v AS SELECT 1", MY_STMT_OTHER},
        {"DROP TABLE user", MY_STMT_OTHER},
        {"DROP USERS", MY_STMT_OTHER}, /* a word is whole */
        {"BEGIN2", MY_STMT_OTHER},
        {"TRUNCATE t", MY_STMT_OTHER},
        {"SET @x = 1", MY_STMT_OTHER},
        {"/*!40000 ALTER TABLE t DISABLE KEYS */", MY_STMT_OTHER},
        {"/* never closed GRANT", MY_STMT_OTHER},
        {"", MY_STMT_OTHER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (my_statement_kind(cases[i].sql, strlen(cases[i].sql)) != cases[i].kind)
            fail_msg("\"%s\": expected kind %d", cases[i].sql, cases[i].kind);
    }
    /* the length bounds the text: a statement cut inside a word */
    assert_int_equal(my_statement_kind("GRANTED", 5), MY_STMT_ADMIN);
}

static void positions(void **state)
{
    (void)state;
    char file[64];
    uint64_t pos = 0;
    assert_int_equal(my_position_parse("mysql-bin.000042:1234", file, sizeof file, &pos), 0);
    assert_string_equal(file, "mysql-bin.000042");
    assert_int_equal(pos, 1234);
    assert_int_equal(my_position_parse("mysql-bin.000042", file, sizeof file, &pos), -1);
    assert_int_equal(my_position_parse("mysql-bin.000042:12x", file, sizeof file, &pos), -1);
    assert_int_equal(my_position_parse(":5", file, sizeof file, &pos), -1);
    assert_true(my_position_order("b.000001", 900, "b.000002", 4) < 0);
    assert_true(my_position_order("b.000002", 4, "b.000001", 900) > 0);
    assert_true(my_position_order("b.999999", 4, "b.1000000", 4) < 0);
    assert_int_equal(my_position_order("b.000003", 77, "b.000003", 77), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(groups_whole_and_byte_by_byte),
        cmocka_unit_test(cut_and_foreign_files_are_refused),
        cmocka_unit_test(statements_are_told_apart),
        cmocka_unit_test(statement_kinds),
        cmocka_unit_test(positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
