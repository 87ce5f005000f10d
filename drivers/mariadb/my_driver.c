/* The MariaDB driver table. */
#include "mariadb/my_int.h"

/* A fixed half millisecond or so of work: it takes longer as soon as the
 * server's CPUs are contended, where a bare SELECT 1 barely moves. */
static int my_probe(cairn_conn *conn, cairn_error *err)
{
    MYSQL_RES *res = NULL;
    int rc = my_query(conn->my, "SELECT BENCHMARK(1500, MD5('cairn'))", &res, err);
    mysql_free_result(res);
    return rc;
}

static const char *const schemes[] = {"mariadb", "mysql", NULL};

const cairn_driver cairn_mariadb_driver = {
    .name = "mariadb",
    .schemes = schemes,
    .features = CAIRN_DRIVER_INCREMENTS | CAIRN_DRIVER_UNIT_FILTER,
    .schema_suffix = "json",
    .connect = my_drv_connect,
    .close = my_drv_close,
    .snapshot_open = my_snapshot_open,
    .snapshot_freeze = my_snapshot_freeze,
    .snapshot_release = my_snapshot_release,
    .snapshot_close = my_snapshot_close,
    .snapshot_join = my_snapshot_join,
    .list_units = my_list_units,
    .dump_schema = my_dump_schema,
    .dump_chunk = my_dump_chunk,
    .target_prepare = my_target_prepare,
    .tenant_rename = my_tenant_rename,
    .restore_schema = my_restore_schema,
    .load_begin = my_load_begin,
    .load_chunk = my_load_chunk,
    .restore_sequences = my_restore_sequences,
    .position_cmp = my_position_cmp,
    .log_capture = my_log_capture,
    .log_confirm = my_log_confirm,
    .log_apply = my_log_apply,
    .progress_read = my_progress_read,
    .progress_write = my_progress_write,
    .progress_drop = my_progress_drop,
    .probe = my_probe,
    .drop_database = my_drop_database,
    .log_distance = my_log_distance,
};
