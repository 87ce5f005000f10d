/* URI parsing and redaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/driver.h"
#include "util/uri.h"

static void full_uri(void **state)
{
    (void)state;
    cairn_uri u;
    cairn_error err = {0};
    assert_int_equal(cairn_uri_parse("postgresql://bob:s%40cr%3At@db.example:6543/my%20db?"
                                     "sslmode=require&application_name=x",
                                     &u, &err),
                     CAIRN_OK);
    assert_string_equal(u.scheme, "postgresql");
    assert_string_equal(u.user, "bob");
    assert_string_equal(u.password, "s@cr:t");
    assert_string_equal(u.host, "db.example");
    assert_int_equal(u.port, 6543);
    assert_string_equal(u.database, "my db");
    assert_int_equal(u.nparams, 2);
    assert_string_equal(cairn_uri_param_get(&u, "sslmode"), "require");
    assert_null(cairn_uri_param_get(&u, "nope"));
    cairn_uri_clear(&u);
}

static void minimal_and_ipv6(void **state)
{
    (void)state;
    cairn_uri u;
    cairn_error err = {0};
    assert_int_equal(cairn_uri_parse("postgres://", &u, &err), CAIRN_OK);
    assert_null(u.host);
    assert_null(u.database);
    assert_int_equal(u.port, 0);
    cairn_uri_clear(&u);
    assert_int_equal(cairn_uri_parse("POSTGRESQL://[::1]:5432/db", &u, &err), CAIRN_OK);
    assert_string_equal(u.scheme, "postgresql");
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 5432);
    cairn_uri_clear(&u);
    assert_int_equal(cairn_uri_parse("mariadb://root@/?socket=/run/m.sock", &u, &err), CAIRN_OK);
    assert_string_equal(u.user, "root");
    assert_null(u.host);
    assert_string_equal(cairn_uri_param_get(&u, "socket"), "/run/m.sock");
    cairn_uri_clear(&u);
}

static void malformed(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "localhost:5432/db",
                         "://x",
                         "post gres://x",
                         "postgresql://h:99999/db",
                         "postgresql://h:abc/db",
                         "postgresql://h:/db",
                         "postgresql://[::1/db",
                         "postgresql://u:p%zz@h/db",
                         "postgresql://h/db?novalue"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cairn_uri u;
        cairn_error err = {0};
        assert_int_equal(cairn_uri_parse(bad[i], &u, &err), CAIRN_EUSAGE);
        assert_non_null(strstr(err.message, "malformed URI"));
        assert_true(err.hint[0] != '\0');
    }
}

static void error_never_shows_password(void **state)
{
    (void)state;
    cairn_uri u;
    cairn_error err = {0};
    assert_int_equal(cairn_uri_parse("postgresql://u:hunter2@h:0/db", &u, &err), CAIRN_EUSAGE);
    assert_null(strstr(err.message, "hunter2"));
}

static void redaction(void **state)
{
    (void)state;
    char out[256];
    cairn_uri_redact("postgresql://bob:secret@h:5432/db", out, sizeof out);
    assert_string_equal(out, "postgresql://bob:***@h:5432/db");
    cairn_uri_redact("postgresql://bob@h/db?password=secret&sslmode=require", out, sizeof out);
    assert_string_equal(out, "postgresql://bob@h/db?password=***&sslmode=require");
    cairn_uri_redact("postgresql://h/db", out, sizeof out);
    assert_string_equal(out, "postgresql://h/db");
    cairn_uri_redact("postgresql://a:b@c@h/db", out, sizeof out);
    assert_null(strstr(out, "b@c"));
}

static void driver_by_scheme(void **state)
{
    (void)state;
    cairn_error err = {0};
    assert_ptr_equal(cairn_driver_for_uri("postgresql://h/db", &err), &cairn_postgres_driver);
    assert_ptr_equal(cairn_driver_for_uri("postgres://h/db", &err), &cairn_postgres_driver);
    assert_null(cairn_driver_for_uri("oracle://h/db", &err));
    assert_int_equal(err.code, CAIRN_EUSAGE);
    assert_non_null(strstr(err.message, "oracle"));
    assert_int_equal(cairn_driver_check(&cairn_postgres_driver, &err), CAIRN_OK);
    cairn_driver broken = cairn_postgres_driver;
    broken.dump_chunk = NULL;
    assert_int_not_equal(cairn_driver_check(&broken, &err), CAIRN_OK);
}

static void another_database(void **state)
{
    (void)state;
    char *u = cairn_uri_with_database("postgresql://a:pw@h:5432/shop?sslmode=require", "crm");
    assert_string_equal(u, "postgresql://a:pw@h:5432/crm?sslmode=require");
    free(u);
    u = cairn_uri_with_database("postgresql://h", "my db/1");
    assert_string_equal(u, "postgresql://h/my%20db%2F1");
    free(u);
    u = cairn_uri_with_database("postgresql://h:5/?application_name=x", "d");
    assert_string_equal(u, "postgresql://h:5/d?application_name=x");
    free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_uri),         cmocka_unit_test(minimal_and_ipv6),
        cmocka_unit_test(malformed),        cmocka_unit_test(error_never_shows_password),
        cmocka_unit_test(redaction),        cmocka_unit_test(driver_by_scheme),
        cmocka_unit_test(another_database),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
