/* A full backup: snapshot, parallel phase, sequential phase, manifest. */
#ifndef CAIRN_BACKUP_H
#define CAIRN_BACKUP_H

#include <jansson.h>
#include <stdint.h>

#include "cairn/driver.h"
#include "repo/manifest.h"
#include "repo/repo.h"

typedef enum cairn_backup_mode {
    CAIRN_MODE_HYBRID = 0, /* fan out, and adapt to the source's latency */
    CAIRN_MODE_PARALLEL,   /* fan out with --jobs workers throughout */
    CAIRN_MODE_SEQUENTIAL, /* one worker, one transaction, unit after unit */
} cairn_backup_mode;

const char *cairn_backup_mode_name(cairn_backup_mode mode);

typedef struct cairn_backup_opts {
    const char *source_uri;
    const char *repo_dir;
    int jobs;
    int zstd_level; /* 0: uncompressed; negative: zstd's fast levels */
    const char *tag;
    uint64_t chunk_bytes;        /* 0: default */
    int long_query_guard;        /* seconds; 0: the driver's default */
    uint64_t max_rate;           /* bytes per second read from the source, all workers; 0: no cap */
    cairn_tenant_filter tenants; /* --tenant-pattern / --exclude-tenant */
    cairn_backup_mode mode;
    const char *const *databases; /* --database, NULL-terminated; {NULL}: --all-databases */
    double max_latency_increase;  /* hybrid: percent; 0: the default (10) */
} cairn_backup_opts;

/* Runs a full backup.  On success *out is the written manifest (caller
 * frees).  On failure nothing that list would show is left behind, and a
 * replication slot created for this backup is dropped again. */
int cairn_backup_run(const cairn_backup_opts *o, cairn_manifest **out, cairn_error *err);

/* What a full backup would do (backup_plan.c), touching nothing: *out is
 * {driver, units: [{name, objects, bytes, chunks, sequences}], objects,
 * bytes, chunks, jobs, estimate_seconds, estimate_basis}. */
int cairn_backup_plan(const cairn_backup_opts *o, json_t **out, cairn_error *err);

/* Removes what runs that never finished left behind (a directory without a
 * manifest, the replication slot its pending.json names), except own_id.
 * Call under the repository lock. */
void cairn_backup_clean_unfinished(cairn_repo *repo, const cairn_driver *drv, const char *uri,
                                   const char *own_id);

/* An increment (incr.c): the log since the newest backup, through the
 * stream stack, then the manifest, then the server told it may let go.
 * With full_if_needed and no backup to build on, takes a full backup
 * instead (*out says which). */
int cairn_incr_run(const cairn_backup_opts *o, int full_if_needed, cairn_manifest **out,
                   cairn_error *err);

/* backup --resume (resume.c): the failed units of partial backup id dumped
 * again under a new snapshot, the others brought to it through the log;
 * the same backup, completed.  A complete backup is left as it is.  On
 * success *out is the manifest (status "partial" when units failed
 * again). */
int cairn_backup_resume(const cairn_backup_opts *o, const char *id, cairn_manifest **out,
                        cairn_error *err);

/* A new full backup's manifest: id, times, options. */
cairn_manifest *cairn_backup_new_manifest(const cairn_backup_opts *o, const cairn_driver *drv,
                                          cairn_repo *repo, int jobs);

/* A backup of several databases of one server (cluster.c): --database
 * NAME... or --all-databases (o->databases). */
int cairn_backup_cluster(const cairn_backup_opts *o, cairn_manifest **out, cairn_error *err);
/* Completes partial backup m of several databases in place (resume.c has
 * the repository locked): each database holding a failed unit is dumped
 * again under a new snapshot and slot, and every database is brought to the
 * new common position through its log.  The manifest is written. */
int cairn_backup_cluster_resume(const cairn_backup_opts *o, cairn_repo *repo, cairn_manifest *m,
                                cairn_error *err);

/* Once a new chain's full backup (keep) is written: the slots of every
 * other backup of the repository, in each of their databases, are
 * dropped (warned about when that fails). */
void cairn_backup_drop_old_slots(cairn_repo *repo, const cairn_driver *drv, const char *uri,
                                 const cairn_manifest *keep);

/* A replication slot name for backup id: cairn_<id>_<random>. */
void cairn_backup_slot_name(const char *id, char out[64]);

/* The sequential phase (backup_check.c), after every worker has ended:
 * every worker saw the leader's snapshot; every stored file reads back
 * with its checksum (read on the backup's --jobs threads). */
int cairn_backup_check(cairn_repo *r, cairn_manifest *m, cairn_error *err);

#endif
