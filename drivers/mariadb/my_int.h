/* MariaDB/MySQL driver internals.  Nothing outside drivers/mariadb/
 * includes the Connector/C headers. */
#ifndef CAIRN_MY_INT_H
#define CAIRN_MY_INT_H

#include <mysql.h>

#include "cairn/driver.h"

struct cairn_conn {
    MYSQL *my;
};

/* Connects with a mariadb:// or mysql:// URI (password from the URI or
 * MYSQL_PWD; ?socket=PATH).  Errors name the server and give a hint. */
int my_connect(const char *uri, MYSQL **out, cairn_error *err);
int my_exec(MYSQL *my, const char *sql, cairn_error *err);
/* A query whose result is stored; *out is freed with mysql_free_result. */
int my_query(MYSQL *my, const char *sql, MYSQL_RES **out, cairn_error *err);
/* Fills err from the connection's last error, with a hint for privileges. */
int my_error(MYSQL *my, cairn_error *err, const char *what);
/* `name` quoted as an identifier (backticks doubled); caller frees. */
char *my_ident(const char *name);
/* 'text' quoted as a string literal; caller frees. */
char *my_literal(MYSQL *my, const char *text);
/* The database named in the URI, or NULL for every database; caller frees. */
char *my_uri_database(const char *uri);
/* The databases a backup covers: `only`, or every non-system one when it
 * is NULL or "".  *names is NULL-terminated (free with cairn_strv_free). */
int my_list_databases(MYSQL *my, const char *only, char ***names, size_t *n, cairn_error *err);
/* The settings every session uses: binary results, UTC, a plain sql_mode. */
int my_session_setup(MYSQL *my, cairn_error *err);

int my_drv_connect(const char *uri, cairn_conn **out, cairn_error *err);
void my_drv_close(cairn_conn *conn);
int my_snapshot_open(const char *uri, const cairn_snapshot_opts *opts, cairn_snapshot *snap,
                     cairn_error *err);
int my_snapshot_freeze(cairn_snapshot *snap, cairn_unit *units, size_t nunits, cairn_error *err);
void my_snapshot_release(cairn_snapshot *snap);
void my_snapshot_close(cairn_snapshot *snap);
int my_snapshot_join(cairn_conn *conn, const cairn_snapshot *snap, char *identity, size_t cap,
                     cairn_error *err);
/* Appends a column to a dump's SELECT list (*list NULL: the first),
 * read so that its text loads back to the same value. */
void my_read_list_add(char **list, const char *column, const char *data_type);
/* Reads the current value of every sequence of u (listed already). */
int my_read_sequence_values(MYSQL *my, cairn_unit *u, cairn_error *err);
int my_list_units(cairn_conn *conn, const cairn_snapshot *snap, const cairn_tenant_filter *tenants,
                  cairn_unit **units, size_t *count, cairn_error *err);
int my_dump_schema(const char *uri, const cairn_snapshot *snap, const cairn_unit *units,
                   size_t nunits, int jobs, cairn_sink *sink, cairn_error *err);
int my_dump_chunk(cairn_conn *conn, const cairn_object *obj, const cairn_chunk *chunk,
                  cairn_sink *sink, uint64_t *rows, cairn_error *err);
int my_log_distance(const char *uri, const char *from, char *current, size_t cap, uint64_t *bytes,
                    cairn_error *err);
int my_drop_database(const char *uri, const char *name, cairn_error *err);
int my_target_prepare(const char *uri, const cairn_identity *source, const cairn_unit *units,
                      size_t nunits, const cairn_restore_flags *flags, cairn_error *err);
int my_tenant_rename(const char *target_uri, const char *archive_path, const char *tenant,
                     const char *as, const char *const *others, const cairn_restore_flags *flags,
                     const char *out_path, cairn_error *err);
int my_restore_schema(const char *uri, const char *archive_path, const char *section,
                      const cairn_restore_flags *flags, cairn_error *err);
int my_load_begin(cairn_conn *conn, const cairn_identity *source, cairn_error *err);
int my_load_chunk(cairn_conn *conn, const cairn_object *obj, cairn_source *src, uint64_t *rows,
                  cairn_error *err);
/* Increments (my_log.c: capture; my_apply.c: replay and restore progress). */
int my_position_cmp(const char *a, const char *b, int *cmp, cairn_error *err);
int my_log_capture(const char *uri, const cairn_log_request *req, cairn_sink *sink,
                   cairn_log_result *res, cairn_error *err);
int my_log_confirm(const char *uri, const char *slot, const char *end, cairn_error *err);
int my_log_apply(cairn_conn *conn, const cairn_identity *source, cairn_log_open open,
                 void *open_arg, const cairn_apply_opts *opts, cairn_apply_result *res,
                 cairn_error *err);
int my_progress_read(const char *uri, char *chain, size_t chain_cap, char *phase, size_t phase_cap,
                     char *position, size_t position_cap, cairn_error *err);
int my_progress_write(cairn_conn *conn, const char *chain, const char *phase, const char *position,
                      cairn_error *err);
int my_progress_drop(cairn_conn *conn, cairn_error *err);
int my_restore_sequences(cairn_conn *conn, const cairn_unit *unit, cairn_error *err);

#endif
