/* Restore's parts, shared by its files: restore.c (verify, load, the
 * orchestration), restore_units.c (which units land where),
 * restore_plan.c (the plan), restore_schema.c (schema archives) and
 * restore_log.c (catch-up logs and increments). */
#ifndef CAIRN_RESTORE_INT_H
#define CAIRN_RESTORE_INT_H

#include <pthread.h>

#include "cairn/driver.h"
#include "engine/chain.h"
#include "engine/chunk.h"
#include "engine/restore.h"
#include "repo/repo.h"
#include "util/progress.h"

typedef struct {
    const cairn_restore_opts *o;
    const cairn_driver *drv;
    cairn_repo *repo;
    cairn_chain chain;
    cairn_manifest *m; /* the full backup: chain.steps[0] */
    cairn_unit *units; /* what is restored: m's units, or copies of those --tenant names */
    size_t nunits;
    int own_units; /* units is an array of shallow copies, freed alone */
    /* the units as they land on the target: units, or with --as the one
     * tenant under its new name (objects and sequences copied with it) */
    cairn_unit *placed;
    const char *as_name[2];        /* { --as, NULL }: the tenant list of a renamed restore */
    int tenant_restore;            /* --tenant */
    const char *dbname;            /* a backup of several databases: the one restored now */
    const char *target;            /* the database restored into now */
    const cairn_file *schema_file; /* the archive to apply, when not the backup's own */
    cairn_work *work;
    size_t nwork;
    uint64_t rows;
    cairn_progress *progress;
    pthread_mutex_t lock;
} restore_ctx;

/* The schema archives: the backup's own, then one per resume that dumped
 * units the first left out.  tenants: what each archive restores (NULL:
 * all it holds), NULL-terminated; built for a tenant restore. */
typedef struct {
    char *path;
    char **tenants;
} archive;

/* Frees what the unit selection made (units, placed). */
void restore_release_units(restore_ctx *c);

/* Opens the repository, plans the chain and selects the units (or the
 * databases) to restore. */
int restore_open_backup(const cairn_restore_opts *o, restore_ctx *c, cairn_error *err);

/* Whether a unit is of the database restored now (any, for a backup of
 * one). */
int restore_in_database(const restore_ctx *c, const cairn_unit *u);

/* The units of one database of several to restore: all its complete
 * ones, or those --tenant names (each must be there, and complete). */
int restore_database_units(restore_ctx *c, const cairn_dbpart *part, cairn_error *err);

/* Every archive the restore applies, decompressed and checked into the
 * private directory *dir (renamed for --as). */
int restore_materialize_all(restore_ctx *c, char **dir, archive **out, size_t *n, cairn_error *err);

/* Applies a section ("pre-data", "post-data") of every archive. */
int restore_archives(restore_ctx *c, const archive *a, size_t n, const char *section,
                     const cairn_restore_flags *base, cairn_error *err);

/* Removes the archives and their directory. */
void restore_archives_free(archive *a, size_t n, char *dir);

/* Replays every increment after the full backup, in order, from after
 * `after` (a resumed restore) up to the chain's stop; then sets the
 * sequences from the last increment and removes the progress record. */
int restore_apply_increments(restore_ctx *c, const char *after, cairn_restore_result *res,
                             cairn_error *err);

/* A restore of this chain that was interrupted: "" when there is none;
 * "full" to start over; otherwise the log position to resume after. */
int restore_find_interrupted(restore_ctx *c, char *resume, size_t cap, cairn_error *err);

/* The log that brings the database to the backup's common position, for
 * the units restored. */
int restore_apply_catch_up(restore_ctx *c, const cairn_dbpart *part, cairn_restore_result *res,
                           cairn_error *err);

/* After the target was touched, a failure leaves it half restored: say so,
 * and what to do (a restore that records progress resumes). */
void restore_mark_incomplete(cairn_error *err, int resumable);

/* Whether this restore keeps progress on the target: a chain with
 * increments, on a driver that replays them. */
int restore_keeps_progress(const restore_ctx *c);

#endif
