/* The PostgreSQL driver table. */
#include "postgres/pg_int.h"

/* A fixed half millisecond or so of work: it takes longer as soon as the
 * server's CPUs are contended, where a bare SELECT 1 barely moves. */
static int pg_probe(cairn_conn *conn, cairn_error *err)
{
    return pg_exec(conn->pg, "SELECT sum(x) FROM pg_catalog.generate_series(1, 5000) x", err);
}

static const char *const schemes[] = {"postgresql", "postgres", NULL};

const cairn_driver cairn_postgres_driver = {
    .name = "postgresql",
    .schemes = schemes,
    .features = CAIRN_DRIVER_SNAPSHOT_SLOT | CAIRN_DRIVER_INCREMENTS | CAIRN_DRIVER_UNIT_FILTER,
    .schema_suffix = "pgdump",
    .connect = pg_drv_connect,
    .close = pg_drv_close,
    .snapshot_open = pg_snapshot_open,
    .snapshot_close = pg_snapshot_close,
    .snapshot_join = pg_snapshot_join,
    .list_units = pg_list_units,
    .dump_schema = pg_dump_schema,
    .dump_chunk = pg_dump_chunk,
    .slot_drop = pg_slot_drop,
    .target_prepare = pg_target_prepare,
    .tenant_rename = pg_tenant_rename,
    .restore_schema = pg_restore_schema,
    .load_begin = pg_load_begin,
    .load_chunk = pg_load_chunk,
    .restore_sequences = pg_restore_sequences,
    .position_cmp = pg_position_cmp,
    .log_capture = pg_log_capture,
    .log_confirm = pg_log_confirm,
    .log_apply = pg_log_apply,
    .progress_read = pg_progress_read,
    .progress_write = pg_progress_write,
    .progress_drop = pg_progress_drop,
    .slot_status = pg_slot_status,
    .probe = pg_probe,
    .list_databases = pg_list_databases,
    .drop_database = pg_drop_database,
    .log_distance = pg_log_distance,
};
