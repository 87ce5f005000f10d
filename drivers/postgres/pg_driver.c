/* The PostgreSQL driver table. */
#include "postgres/pg_int.h"

static const char *const schemes[] = {"postgresql", "postgres", NULL};

const cairn_driver cairn_postgres_driver = {
    .name = "postgresql",
    .schemes = schemes,
    .features = CAIRN_DRIVER_SNAPSHOT_SLOT,
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
    .restore_schema = pg_restore_schema,
    .load_begin = pg_load_begin,
    .load_chunk = pg_load_chunk,
    .restore_sequences = pg_restore_sequences,
};
