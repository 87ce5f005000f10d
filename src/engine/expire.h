/* Retention: whole chains removed, oldest first.
 *
 * A chain is a full backup and every increment that descends from it.
 * cairn expire keeps the newest keep_full chains and removes the older
 * ones whole, each from its newest increment down to its full backup, so
 * an interruption never leaves an increment without its parent; each
 * backup stops existing (its manifest goes) before its files do.
 * Increments whose parent is already missing cannot be restored and go
 * with the chain they were taken in.  Dry-run unless apply is set. */
#ifndef CAIRN_EXPIRE_H
#define CAIRN_EXPIRE_H

#include <jansson.h>
#include <stdint.h>

#include "cairn/error.h"

typedef struct cairn_expire_opts {
    const char *repo_dir;
    int keep_full;          /* >= 1 */
    int apply;              /* 0: only say what would go */
    const char *source_uri; /* optional: drop the replication slots of removed chains */
    /* --min-retention: no backup younger is removed; recorded in cairn.json
     * (with apply), raising only unless ignore_retention.  -1: the recorded
     * value (0 when none). */
    int64_t min_retention;
    int ignore_retention; /* --ignore-min-retention: remove younger backups this once */
} cairn_expire_opts;

/* *report: {"kept": [ids], "removed": [ids], "slots_dropped": [...],
 * "applied": bool} (caller decrefs). */
int cairn_expire_run(const cairn_expire_opts *o, json_t **report, cairn_error *err);

#endif
