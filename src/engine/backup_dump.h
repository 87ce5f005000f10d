/* The parallel phase of a full backup and of a resumed one (internal to
 * the engine: backup.c and resume.c). */
#ifndef CAIRN_BACKUP_DUMP_H
#define CAIRN_BACKUP_DUMP_H

#include "engine/backup.h"

typedef struct cairn_dump_job {
    const cairn_backup_opts *o;
    const char *uri; /* the source's URI when not o->source_uri (one of several databases) */
    const cairn_driver *drv;
    cairn_repo *repo;
    cairn_snapshot *snap; /* every worker joins it */
    cairn_manifest *m;    /* m->id names the backup's directory; m->units are dumped */
    int jobs;
    uint32_t first_number;          /* objects are numbered after it */
    const char *schema_path;        /* the schema archive to write, NULL: none */
    const cairn_unit *schema_units; /* the units it holds (failed ones left out) */
    size_t nschema_units;
    cairn_file *schema;         /* filled with the archive's file */
    double barrier_start;       /* when the snapshot's barrier (its commit barrier) was taken */
    double ddl_start;           /* two-step barrier: when its first step (DDL) was; 0: one step */
    cairn_rate *rate;           /* --max-rate, or NULL */
    cairn_error *first_failure; /* filled with the first unit failure, hint and all; or NULL */
} cairn_dump_job;

/* Dumps every unit of j->m that has not failed.  *failed: how many units
 * failed (their files removed, their objects dropped, status "failed" with
 * the error).  An error: the repository failed, or the run was stopped. */
int cairn_backup_dump(const cairn_dump_job *j, size_t *failed, cairn_error *err);

/* Writes the schema archive j->schema_path of j->schema_units into
 * j->schema, on its own and on up to `jobs` connections (cairn_backup_dump
 * does it beside the workers, on one). */
int cairn_backup_dump_schema(const cairn_dump_job *j, int jobs, cairn_error *err);

#endif
