/* What a backup holds: the objects of a unit, their chunks, sequences.
 *
 * Filled by a driver's list_objects under the snapshot, planned into chunks
 * by the engine, written to and read from the manifest by repo/.  All
 * strings are owned by the struct that holds them; cairn_unit_free frees a
 * unit and everything under it. */
#ifndef CAIRN_CATALOG_H
#define CAIRN_CATALOG_H

#include <stdint.h>
#include <stddef.h>

#include "cairn/stream.h"

typedef enum cairn_object_kind {
    CAIRN_OBJ_TABLE,
    CAIRN_OBJ_PARTITION,
    CAIRN_OBJ_MATVIEW, /* contents rebuilt at restore by REFRESH, not stored */
} cairn_object_kind;

/* A stored file: where it lives in the backup and what it must hash to. */
typedef struct cairn_file {
    char *path;        /* relative to the backup directory */
    char *compression; /* "zstd" or "none" */
    cairn_digest raw;
    cairn_digest stored;
} cairn_file;

typedef enum cairn_split {
    CAIRN_SPLIT_NONE = 0, /* the whole table */
    CAIRN_SPLIT_PAGES,    /* physical pages [page_lo, page_hi); page_hi 0: to the end */
    CAIRN_SPLIT_KEY,      /* integer key range [key_lo, key_hi); the first chunk has no
                             lower bound, the last no upper bound */
} cairn_split;

/* One piece of a table's data. */
typedef struct cairn_chunk {
    uint32_t index;
    cairn_split split;
    uint64_t page_lo;
    uint64_t page_hi;
    int64_t key_lo;
    int64_t key_hi;
    int has_key_lo, has_key_hi;
    uint64_t rows;
    /* the rows' content digest (stream.h), checked by restore drills; not
       in backups taken before it was recorded */
    int has_content;
    cairn_rowsum content;
    cairn_file file;
    /* worker-side state during a run, not stored */
    int done;
} cairn_chunk;

typedef struct cairn_object {
    uint32_t number; /* names files: never a raw identifier on disk */
    char *schema;
    char *name;
    cairn_object_kind kind;
    uint64_t bytes;  /* table size with TOAST, for scheduling */
    uint64_t pages;  /* main fork pages, for splitting by pages */
    char *split_key; /* integer key column for splitting by key ranges, or NULL */
    int64_t key_min, key_max;
    int nontransactional; /* not covered by the snapshot: dump under the barrier */
    char *engine;         /* storage engine, where the database has several */
    char **columns;       /* the columns COPY carries (no generated ones) */
    size_t ncolumns;
    char *read_list; /* the driver's select list for a dump, found with the catalog; not
                        stored (NULL: the driver works it out) */
    uint64_t rows;
    cairn_chunk *chunks;
    size_t nchunks;
} cairn_object;

typedef struct cairn_sequence {
    char *schema;
    char *name;
    int64_t last_value;
    int is_called;
} cairn_sequence;

typedef struct cairn_unit {
    char *name;
    char *kind;         /* "database", or "tenant": a schema (PostgreSQL) or database
                           (MariaDB) matched by --tenant-pattern */
    char *position;     /* the unit's snapshot position */
    char *status;       /* "complete" or "failed" */
    char *error;        /* NULL unless failed */
    char *fingerprint;  /* digest of the unit's schema at the position, NULL when unknown */
    char *database;     /* a backup of several databases: the one it is in; else NULL */
    int schema_missing; /* failed before the schema dump: the backup's first schema
                           archive leaves it out */
    cairn_object *objects;
    size_t nobjects;
    cairn_sequence *sequences;
    size_t nsequences;
} cairn_unit;

/* Which schemas (PostgreSQL) or databases (MariaDB) are tenants, each a
 * unit of its own: a name matching an include glob and no exclude glob. */
typedef struct cairn_tenant_filter {
    const char *const *include; /* NULL-terminated fnmatch(3) globs; NULL: no tenants */
    const char *const *exclude; /* NULL-terminated, or NULL */
} cairn_tenant_filter;

/* 1 when name is a tenant under f (f may be NULL: never). */
int cairn_tenant_match(const cairn_tenant_filter *f, const char *name);

const char *cairn_object_kind_name(cairn_object_kind k);
int cairn_object_kind_parse(const char *s, cairn_object_kind *k);

void cairn_file_clear(cairn_file *f);
void cairn_object_clear(cairn_object *o);
void cairn_unit_clear(cairn_unit *u);
/* A unit that failed keeps its name, kind, status and error, and drops its
 * objects and sequences (nothing of it is in the backup). */
void cairn_unit_fail(cairn_unit *u, const char *error);
/* 1 when the unit failed (status "failed"). */
int cairn_unit_failed(const cairn_unit *u);

#endif
