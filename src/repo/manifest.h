/* The backup manifest (manifest.json): what a backup is.
 *
 * Written last, as one atomic object: a backup directory without it does
 * not exist for readers.  Read back with strict validation: every path must
 * stay inside the backup directory, every digest must be well-formed, and a
 * manifest that fails either is refused, not half-used.  The manifest owns
 * every string and array it holds; cairn_manifest_free frees them. */
#ifndef CAIRN_MANIFEST_H
#define CAIRN_MANIFEST_H

#include <jansson.h>
#include <stdint.h>

#include "cairn/catalog.h"
#include "cairn/driver.h"
#include "cairn/error.h"

#define CAIRN_MANIFEST_FORMAT 1

/* One run of backup --resume on a partial full backup: the units that had
 * failed, dumped again under a new snapshot at position; the log from the
 * backup's previous end (exclusive) to position, which restore replays for
 * the units dumped before; and the schema of the resumed units the first
 * archive left out. */
typedef struct cairn_resume {
    char *position;
    char *gtid;
    char *finished_at;
    char **units; /* dumped again */
    size_t nunits;
    char **schema_units; /* whose schema the resume's archive holds */
    size_t nschema_units;
    cairn_file log;
    int has_schema;
    cairn_file schema;
} cairn_resume;

/* One database of a backup of several (--database, --all-databases).  In
 * a full backup: its own snapshot, slot and schema archive, and the log
 * from its snapshot to the backup's end position, which restore replays so
 * that every database lands at that one position.  In an increment: its
 * slot and its log over the increment's range (no schema). */
typedef struct cairn_dbpart {
    char *name;
    char *position;
    char *slot; /* the chain's slot in this database; NULL when none */
    char *snapshot_identity;
    char **worker_snapshots;
    size_t nworker_snapshots;
    int has_schema;
    cairn_file schema;
    int has_log;
    cairn_file log;
} cairn_dbpart;

typedef struct cairn_manifest {
    int format;
    char *id;
    char *type;   /* "full" | "incr" */
    char *parent; /* NULL for a full backup */
    char *status; /* "complete" | "partial" */
    char *tag;
    char *driver;
    cairn_identity source;
    char *started_at;
    char *finished_at;
    char *start_position;
    char *end_position;
    char *gtid;   /* MariaDB GTID at the end position, NULL elsewhere */
    char *end_at; /* when the source was at end_position (ISO, UTC) */
    /* increments: the log from start_position (exclusive) to end_position */
    char *first_commit_at, *last_commit_at; /* NULL when no transaction */
    uint64_t transactions, changes;
    cairn_file *logs;
    size_t nlogs;
    double barrier_seconds;   /* how long the snapshot's (commit) barrier was held; 0: none */
    double ddl_block_seconds; /* two-step barrier: how long DDL was blocked; 0: one step */
    char *snapshot_mode;      /* "slot" | "exported" */
    char *slot;               /* NULL when none */
    char *snapshot_identity;
    char **worker_snapshots;
    size_t nworker_snapshots;
    char *compression; /* "zstd:3" | "none" */
    uint64_t max_rate; /* bytes per second the reads were capped at; 0: none */
    int jobs;
    /* how the workers ran: mode, and for hybrid how concurrency moved */
    char *mode; /* NULL in older manifests */
    int concurrency_changes, workers_min, workers_max;
    double probe_baseline_ms, max_latency_increase;
    double duration;
    double phase_snapshot, phase_parallel, phase_sequential;
    uint64_t raw_bytes, stored_bytes;
    int has_schema;
    cairn_file schema;
    cairn_unit *units;
    size_t nunits;
    /* --tenant-pattern / --exclude-tenant of a full backup (resume lists the
     * units the same way); NULL-terminated, NULL when none */
    char **tenant_include, **tenant_exclude;
    cairn_resume *resumes;
    size_t nresumes;
    cairn_dbpart *dbs; /* a backup of several databases; NULL otherwise */
    size_t ndbs;
    char **warnings;
    size_t nwarnings;
} cairn_manifest;

json_t *cairn_manifest_to_json(const cairn_manifest *m);
/* Parses and validates; CAIRN_EVERIFY with what is wrong when invalid. */
int cairn_manifest_from_json(json_t *root, cairn_manifest *m, cairn_error *err);
int cairn_manifest_parse(const char *text, size_t len, cairn_manifest *m, cairn_error *err);
void cairn_manifest_clear(cairn_manifest *m);
void cairn_resume_clear(cairn_resume *r);
void cairn_dbpart_clear(cairn_dbpart *d);
void cairn_manifest_free(cairn_manifest *m);
void cairn_manifest_add_warning(cairn_manifest *m, const char *text);

/* A path from a manifest: relative, inside the backup, no "..", no odd
 * characters.  0 when safe. */
int cairn_manifest_path_ok(const char *path);

/* Totals over every file. */
void cairn_manifest_sum(cairn_manifest *m);
/* Visits every stored file (schema first, then chunks in order). */
typedef int (*cairn_file_visit)(cairn_file *f, const cairn_object *obj, void *arg);
int cairn_manifest_each_file(cairn_manifest *m, cairn_file_visit fn, void *arg);

#endif
