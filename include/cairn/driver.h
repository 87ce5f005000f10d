/* The driver interface: one const table of functions per database.
 *
 * The engine calls a driver through this table only; nothing outside
 * drivers/<db>/ includes a client library header.  A driver never sees
 * files, compression or checksums: it writes into a cairn_sink and reads
 * from a cairn_source.  Tables are checked when cairn starts
 * (cairn_driver_check): required entries must be set, optional ones are
 * announced by feature bits.
 *
 * Threads: a cairn_conn belongs to one thread; each worker opens its own.
 * A cairn_snapshot is created by the leader and only read by workers. */
#ifndef CAIRN_DRIVER_H
#define CAIRN_DRIVER_H

#include <stdint.h>

#include "cairn/catalog.h"
#include "cairn/error.h"
#include "cairn/stream.h"

typedef struct cairn_conn cairn_conn; /* a driver's connection, opaque */

/* Who the source is; recorded in the manifest and checked by restore chains. */
typedef struct cairn_identity {
    char system_id[64];      /* PostgreSQL system identifier */
    uint32_t timeline;       /* PostgreSQL timeline */
    char database[256];      /* the database the unit came from */
    char server_version[64]; /* e.g. "15.20" */
    char encoding[64];       /* server/database encoding */
} cairn_identity;

/* The leader's snapshot: where every worker must land. */
typedef struct cairn_snapshot {
    char mode[16];      /* "slot" (position usable for increments) or "exported" */
    char position[64];  /* log position of the snapshot, database notation */
    char slot[64];      /* replication slot kept for increments, "" when none */
    char token[128];    /* what workers import (PostgreSQL snapshot name) */
    char identity[256]; /* what the leader sees (pg_current_snapshot(), binlog file:pos) */
    char gtid[256];     /* MariaDB: @@gtid_binlog_pos at the snapshot; "" elsewhere */
    int pending;        /* two-step barrier: the instant is not taken yet (snapshot_freeze);
                           position, identity and gtid are empty until it is */
    cairn_identity source;
    void *priv; /* driver state (the connection holding the snapshot) */
} cairn_snapshot;

/* How the leader takes its snapshot. */
typedef struct cairn_snapshot_opts {
    const char *slot_name; /* PostgreSQL: the replication slot to create */
    int long_query_guard;  /* MariaDB: seconds a running query may have run before
                              the barrier; longer ones are waited for, then refused */
    int two_step;          /* the driver may take only the barrier's first step (see
                              snapshot_freeze) and leave the snapshot pending */
} cairn_snapshot_opts;

typedef struct cairn_restore_flags {
    int no_owner; /* do not restore ownership and privileges */
    int clean;    /* drop and recreate a target that is not empty; with tenants:
                     replace those tenants alone */
    int jobs;
    /* restore --tenant: the tenant units to restore, NULL-terminated, into a
     * target that may hold other tenants; NULL: the whole backup */
    const char *const *tenants;
} cairn_restore_flags;

/* Increments: what the log capture starts from. */
typedef struct cairn_log_request {
    const char *slot;       /* PostgreSQL: the chain's replication slot */
    const char *start;      /* the parent's end position: the capture starts after it */
    const char *start_gtid; /* MariaDB: the parent's GTID, NULL elsewhere */
    const char *stop;       /* capture up to this position (a resumed backup's new
                               snapshot) instead of the current end; NULL: the end */
} cairn_log_request;

/* What a capture read: the stored log holds every transaction committed
 * after the request's start and at or before end. */
typedef struct cairn_log_result {
    char end[64];
    char gtid[256];
    char end_at[32]; /* when the source was at end (ISO, UTC) */
    char first_commit_at[48], last_commit_at[48];
    uint64_t transactions, changes;
    uint64_t ddl; /* schema changes captured in the log, replayed by restore */
    cairn_identity source;
    cairn_unit *units; /* per unit: schema fingerprint and sequence values at end */
    size_t nunits;
} cairn_log_result;

/* Restore: which part of a stored log to apply. */
typedef struct cairn_apply_opts {
    const char *after;         /* skip transactions committed at or before it; NULL: none */
    const char *stop_position; /* apply nothing committed after it; NULL: no limit */
    int64_t stop_time_us;      /* apply nothing committed after it (Unix us); 0: none */
    /* Units whose changes are not applied (CAIRN_DRIVER_UNIT_FILTER): a
     * resumed backup's units dumped after the log's changes, or units a
     * tenant restore leaves alone.  tenant_units names every tenant unit of
     * the backup, database_unit the unit of everything else.  NULL: none. */
    const char *const *skip_units;
    const char *const *tenant_units;
    const char *database_unit;
    /* restore --as: changes to unit rename_from (a schema, a database) are
     * applied to rename_to instead.  NULL: none. */
    const char *rename_from, *rename_to;
    /* The units whose changes are applied, when not all (NULL): set with
     * skip_units, for a driver whose changes name their unit directly
     * (MariaDB: a unit is a database) and which keeps these alone. */
    const char *const *only_units;
} cairn_apply_opts;

typedef struct cairn_apply_result {
    uint64_t transactions, changes;
    char last_position[64]; /* commit position of the last transaction applied */
    int stopped;            /* the stop position or time was reached in this log */
} cairn_apply_result;

/* Opens the stored log (checked and decompressed) again, from its start. */
typedef int (*cairn_log_open)(void *arg, cairn_source **out, cairn_error *err);

enum {
    CAIRN_DRIVER_SNAPSHOT_SLOT = 1u << 0, /* snapshots carry a log position */
    CAIRN_DRIVER_INCREMENTS = 1u << 1,    /* log capture and replay entries are set */
    CAIRN_DRIVER_UNIT_FILTER = 1u << 2,   /* log_apply can skip units; capture can stop at a
                                             position: backup --resume works, and restore
                                             --tenant replays increments */
};

typedef struct cairn_driver {
    const char *name;           /* "postgresql" */
    const char *const *schemes; /* URI schemes, NULL-terminated */
    unsigned features;
    const char *schema_suffix; /* file suffix of the schema archive */

    int (*connect)(const char *uri, cairn_conn **out, cairn_error *err);
    void (*close)(cairn_conn *conn); /* accepts NULL */

    /* Leader: take a snapshot and hold it until snapshot_close. */
    int (*snapshot_open)(const char *uri, const cairn_snapshot_opts *opts, cairn_snapshot *snap,
                         cairn_error *err);
    /* Release the leader's hold; the slot, if any, stays. */
    void (*snapshot_close)(cairn_snapshot *snap);
    /* Worker: run on the snapshot; writes what the worker sees to identity.
     * A snapshot with mode "none" and an empty token is a plain consistent
     * read of the database (restore drills reading a scratch copy). */
    int (*snapshot_join)(cairn_conn *conn, const cairn_snapshot *snap, char *identity, size_t cap,
                         cairn_error *err);
    /* List the units (a database each, and a unit per tenant the filter
     * matches) with their objects and sequence values, on a joined conn.
     * A unit the connection may not read is returned with status "failed",
     * its error, and no objects (the backup goes on without it).
     * *units is an array the caller frees (each with cairn_unit_clear).
     * Object numbers are assigned by the engine. */
    int (*list_units)(cairn_conn *conn, const cairn_snapshot *snap,
                      const cairn_tenant_filter *tenants, cairn_unit **units, size_t *count,
                      cairn_error *err);
    /* Optional (two-step barrier): snapshot_open, asked for two_step, took
     * only the first step (MariaDB: BLOCK_DDL, which freezes the schema
     * while commits go on) and left the snapshot pending.  The engine lists
     * the units and dumps the schema, then calls this to take the instant
     * (MariaDB: BLOCK_COMMIT, then the binlog position): it fills the
     * snapshot's position, identity and gtid, writes the position to every
     * unit and reads their sequence values again, at the instant.  Workers
     * join after it. */
    int (*snapshot_freeze)(cairn_snapshot *snap, cairn_unit *units, size_t nunits,
                           cairn_error *err);
    /* Optional: end the barrier the snapshot holds (MariaDB's BACKUP STAGE),
     * called once every worker has joined, the schema is dumped and the
     * non-transactional tables are read.  snapshot_close also ends it. */
    void (*snapshot_release)(cairn_snapshot *snap);
    /* Schema archive of the units, written to sink; units that failed
     * (status "failed") are left out.  It may read on up to `jobs`
     * connections at once (at least 1). */
    int (*dump_schema)(const char *uri, const cairn_snapshot *snap, const cairn_unit *units,
                       size_t nunits, int jobs, cairn_sink *sink, cairn_error *err);
    /* Data of one chunk, written to sink; *rows set to the rows written. */
    int (*dump_chunk)(cairn_conn *conn, const cairn_object *obj, const cairn_chunk *chunk,
                      cairn_sink *sink, uint64_t *rows, cairn_error *err);
    /* Remove a replication slot left by an earlier backup (optional). */
    int (*slot_drop)(const char *uri, const char *slot, cairn_error *err);

    /* Restore: make sure the target exists and is empty (with flags->clean:
     * drop and recreate it when it is not). */
    int (*target_prepare)(const char *uri, const cairn_identity *source, const cairn_unit *units,
                          size_t nunits, const cairn_restore_flags *flags, cairn_error *err);
    /* Apply a section ("pre-data", "post-data") of the schema archive at path. */
    /* Optional (restore --as): writes to out_path a schema archive holding
     * tenant unit `tenant` of the archive at archive_path, and nothing else,
     * under the name `as`.  What the tenant refers to outside itself is
     * reported, and must exist on the target (checked); `others`, the
     * backup's other tenant units, are left out while renaming. */
    int (*tenant_rename)(const char *target_uri, const char *archive_path, const char *tenant,
                         const char *as, const char *const *others,
                         const cairn_restore_flags *flags, const char *out_path, cairn_error *err);
    int (*restore_schema)(const char *uri, const char *archive_path, const char *section,
                          const cairn_restore_flags *flags, cairn_error *err);
    /* Prepare a connection for bulk loading. */
    int (*load_begin)(cairn_conn *conn, const cairn_identity *source, cairn_error *err);
    int (*load_chunk)(cairn_conn *conn, const cairn_object *obj, cairn_source *src, uint64_t *rows,
                      cairn_error *err);
    int (*restore_sequences)(cairn_conn *conn, const cairn_unit *unit, cairn_error *err);

    /* Increments (CAIRN_DRIVER_INCREMENTS). */
    /* Orders two positions of this database: *cmp < 0, 0, > 0.  CAIRN_EUSAGE
     * when one is not a position. */
    int (*position_cmp)(const char *a, const char *b, int *cmp, cairn_error *err);
    /* Writes every change committed after req->start up to the current end
     * of the log to sink, as length-prefixed records. */
    int (*log_capture)(const char *uri, const cairn_log_request *req, cairn_sink *sink,
                       cairn_log_result *res, cairn_error *err);
    /* Once the increment is durable: the server may let go of the log up to
     * end (PostgreSQL: advance the slot).  Checks the server moved exactly
     * there. */
    int (*log_confirm)(const char *uri, const char *slot, const char *end, cairn_error *err);
    /* Replays a stored log on conn, one target transaction per source
     * transaction, recording chain/position on the target in the same
     * transaction; the log may be opened more than once. */
    int (*log_apply)(cairn_conn *conn, const cairn_identity *source, cairn_log_open open,
                     void *open_arg, const cairn_apply_opts *opts, cairn_apply_result *res,
                     cairn_error *err);
    /* Restore progress kept on the target: phase "" when there is none. */
    int (*progress_read)(const char *uri, char *chain, size_t chain_cap, char *phase,
                         size_t phase_cap, char *position, size_t position_cap, cairn_error *err);
    int (*progress_write)(cairn_conn *conn, const char *chain, const char *phase,
                          const char *position, cairn_error *err);
    int (*progress_drop)(cairn_conn *conn, cairn_error *err);
    /* Optional: the databases of the server a backup of several takes
     * (--all-databases): every one that accepts connections, but templates.
     * *names is NULL-terminated; the caller frees it (cairn_strv_free). */
    int (*list_databases)(const char *uri, char ***names, cairn_error *err);
    /* Optional: a tiny query on conn, timed by the engine to see whether the
     * source slows down while a backup runs (adaptive concurrency). */
    int (*probe)(cairn_conn *conn, cairn_error *err);
    /* Optional: how much log a replication slot holds back on the server,
     * and its state ("reserved", "extended", "unreserved", "lost", or
     * "missing" when it does not exist). */
    int (*slot_status)(const char *uri, const char *slot, uint64_t *retained_bytes, char *status,
                       size_t status_cap, cairn_error *err);
    /* Optional: the source's current log position, and how many bytes of
     * log it has written since `from` (a backup's end position): what a
     * failure now would lose (cairn status). */
    int (*log_distance)(const char *uri, const char *from, char *current, size_t cap,
                        uint64_t *bytes, cairn_error *err);
    /* Optional: drops a database of the server at uri, when it exists
     * (restore drills remove their scratch databases). */
    int (*drop_database)(const char *uri, const char *name, cairn_error *err);
} cairn_driver;

/* The registry (engine/registry.c). */
const cairn_driver *cairn_driver_for_uri(const char *uri, cairn_error *err);
const cairn_driver *cairn_driver_by_name(const char *name);
/* Checks that a table has every required entry; 0 when it does. */
int cairn_driver_check(const cairn_driver *d, cairn_error *err);

extern const cairn_driver cairn_postgres_driver;
extern const cairn_driver cairn_mariadb_driver;

#endif
