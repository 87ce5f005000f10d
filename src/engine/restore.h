/* Restoring a backup into a target database, and the plan that shows what
 * a restore would do without doing it. */
#ifndef CAIRN_RESTORE_H
#define CAIRN_RESTORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/catalog.h"
#include "cairn/error.h"

typedef struct cairn_restore_opts {
    const char *repo_dir;
    const char *target_uri;
    const char *backup; /* id, tag or "latest"; NULL: latest */
    int jobs;
    int dry_run;
    int no_owner;
    int clean;                  /* replace a target that is not empty */
    const char *to_position;    /* stop after the last commit at or before it */
    const char *to_time;        /* stop after the last commit at or before it */
    const char *const *tenants; /* restore these units alone, NULL-terminated; NULL: all */
    const char *as;             /* with one tenant: its name on the target */
    /* a backup of several databases: restore these alone, NULL-terminated;
     * NULL: all */
    const char *const *databases;
    /* a backup of several databases, to a server: each restored as this
     * prefix and its name; NULL: under its own name */
    const char *database_prefix;
    /* Restore drills: called once the full backup is loaded (data, schema,
     * sequences) into target -- each database of a backup of several --
     * before any log is replayed, with the units loaded there.  Its time is
     * counted in res->t_loaded_hook, not in res->duration.  An error stops
     * the restore.  NULL: none. */
    int (*loaded)(void *arg, const char *target, const cairn_unit *units, size_t nunits,
                  cairn_error *err);
    void *loaded_arg;
} cairn_restore_opts;

typedef struct cairn_restore_result {
    char id[64];
    double duration;
    double t_verify, t_schema, t_data, t_post;
    uint64_t rows;
    uint64_t raw_bytes;
    size_t chunks;
    size_t increments;              /* increments applied (wholly or up to the stop) */
    uint64_t transactions, changes; /* replayed from the log */
    char position[64];              /* where the target now stands */
    int resumed;                    /* an interrupted restore was continued */
    double t_log;
    double t_loaded_hook; /* time spent in opts->loaded, left out of duration */
    int touched;          /* the target was changed (its preparation succeeded) */
} cairn_restore_result;

/* The ordered plan as JSON (caller decrefs): the backup chosen and every
 * step.  Touches nothing but the repository. */
int cairn_restore_plan(const cairn_restore_opts *o, json_t **plan, cairn_error *err);

/* Verifies every checksum first (CAIRN_EVERIFY, target untouched, when one
 * fails), then restores. */
int cairn_restore_run(const cairn_restore_opts *o, cairn_restore_result *res, cairn_error *err);

#endif
