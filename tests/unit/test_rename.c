/* A database name changed in SQL text (restore --as on MariaDB). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mariadb/my_rename.h"
#include "util/text.h"

static void check(const char *sql, const char *want)
{
    char *got = my_sql_rename_db(sql, "tenant_05", "t5", NULL);
    assert_string_equal(got, want);
    free(got);
}

static void qualified_references_are_renamed(void **state)
{
    (void)state;
    check("CREATE ALGORITHM=UNDEFINED DEFINER=`cairn`@`%` SQL SECURITY DEFINER VIEW "
          "`tenant_05`.`busy` AS select count(0) AS `n` from `tenant_05`.`users`",
          "CREATE ALGORITHM=UNDEFINED DEFINER=`cairn`@`%` SQL SECURITY DEFINER VIEW `t5`.`busy` "
          "AS select count(0) AS `n` from `t5`.`users`");
    check("CREATE DEFINER=`cairn`@`%` TRIGGER tenant_05.users_bi BEFORE INSERT ON "
          "tenant_05.users FOR EACH ROW SET NEW.name = TRIM(NEW.name)",
          "CREATE DEFINER=`cairn`@`%` TRIGGER `t5`.users_bi BEFORE INSERT ON `t5`.users FOR "
          "EACH ROW SET NEW.name = TRIM(NEW.name)");
    check("select `tenant_05`.`users`.`id` from tenant_05 . users",
          "select `t5`.`users`.`id` from `t5` . users");
    check("/*!50003 select tenant_05.x */", "/*!50003 select `t5`.x */");
}

static void what_is_not_a_reference_stays(void **state)
{
    (void)state;
    check("select x.tenant_05.y, tenant_05, `tenant_05` from t", /* not in first place, or bare */
          "select x.tenant_05.y, tenant_05, `tenant_05` from t");
    check("select 1 -- tenant_05.users\n from t /* tenant_05.users */ # tenant_05.x",
          "select 1 -- tenant_05.users\n from t /* tenant_05.users */ # tenant_05.x");
    check("select tenant_050.a, atenant_05.b", "select tenant_050.a, atenant_05.b");
    check("select 'it''s tenant_05.users', \"a\\\"tenant_05.b\"",
          "select 'it''s tenant_05.users', \"a\\\"tenant_05.b\"");
}

static void others_and_strings_are_reported(void **state)
{
    (void)state;
    my_rename_report r = {0};
    char *got = my_sql_rename_db("select * from `shared`.`plans` p join tenant_05.u on "
                                 "p.id = u.plan where 'tenant_05' <> shared.f()",
                                 "tenant_05", "n`ew", &r);
    assert_string_equal(got, "select * from `shared`.`plans` p join `n``ew`.u on p.id = u.plan "
                             "where 'tenant_05' <> shared.f()");
    assert_true(r.in_string);
    assert_non_null(r.others);
    assert_string_equal(r.others[0], "shared");
    assert_string_equal(r.others[1], "p"); /* an alias looks the same: the caller sorts them out */
    assert_string_equal(r.others[2], "u");
    assert_null(r.others[3]);
    free(got);
    cairn_strv_free(r.others);

    got = my_sql_rename_db("select `a``b`.t", "a`b", "c", NULL);
    assert_string_equal(got, "select `c`.t");
    free(got);
}

static void create_database(void **state)
{
    (void)state;
    char *got = my_create_database_renamed(
        "CREATE DATABASE `tenant_05` /*!40100 DEFAULT CHARACTER SET utf8mb4 */", "t`5");
    assert_string_equal(got, "CREATE DATABASE `t``5` /*!40100 DEFAULT CHARACTER SET utf8mb4 */");
    free(got);
    assert_null(my_create_database_renamed("CREATE TABLE `x` (a int)", "t5"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qualified_references_are_renamed),
        cmocka_unit_test(what_is_not_a_reference_stays),
        cmocka_unit_test(others_and_strings_are_reported),
        cmocka_unit_test(create_database),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
