/* A database name in SQL text, changed.  Pure: no Connector/C.
 *
 * MariaDB has no RENAME DATABASE, and SHOW CREATE output names objects of
 * another database by qualified name -- a view's `db`.`table`, a trigger's
 * original "CREATE TRIGGER db.t ... ON db.users".  Restoring a database
 * under another name (restore --as) rewrites every qualified reference to
 * it: a quoted or bare identifier equal to the old name, in first
 * position and followed by a dot, outside string literals and comments.
 * What the text refers to in other databases, and the string literals
 * that mention the old name (dynamic SQL that cannot be rewritten), are
 * reported. */
#ifndef CAIRN_MY_RENAME_H
#define CAIRN_MY_RENAME_H

typedef struct my_rename_report {
    char **others; /* first parts of qualified names other than the old name, NULL-terminated */
    int in_string; /* a string literal mentions the old name */
} my_rename_report;

/* The text with every qualified reference to database `from` made one to
 * `to` (quoted); report gathers what else it saw (may be NULL).  The
 * caller frees the result, and report->others with cairn_strv_free. */
char *my_sql_rename_db(const char *sql, const char *from, const char *to, my_rename_report *report);

/* "CREATE DATABASE `old` ..." with its name replaced; NULL when the text
 * does not start that way. */
char *my_create_database_renamed(const char *create, const char *to);

#endif
