#include "engine/expire.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/driver.h"
#include "repo/repo.h"
#include "util/log.h"
#include "util/text.h"

/* The full backup a backup descends from: follows parents; an increment
 * whose ancestry breaks belongs to the newest full taken before it. */
static const cairn_manifest *root_of(cairn_manifest **list, size_t n, const cairn_manifest *m)
{
    const cairn_manifest *cur = m;
    while (cur && strcmp(cur->type, "full") != 0) {
        const cairn_manifest *p = NULL;
        for (size_t i = 0; i < n && cur->parent; i++)
            if (strcmp(list[i]->id, cur->parent) == 0)
                p = list[i];
        if (!p)
            break;
        cur = p;
    }
    if (cur && strcmp(cur->type, "full") == 0)
        return cur;
    const cairn_manifest *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i]->type, "full") == 0 && strcmp(list[i]->id, m->id) < 0)
            best = list[i];
    return best;
}

static int remove_one(cairn_repo *r, const cairn_manifest *m, cairn_error *err)
{
    if (cairn_repo_seal(r, m->id, 0, err) != CAIRN_OK || /* finished backups are read-only */
        cairn_repo_remove_file(r, m->id, "manifest.json", err) != CAIRN_OK)
        return err->code;
    return cairn_repo_remove_backup(r, m->id, err);
}

/* The minimum retention in force: the recorded one, or the one given (a
 * shorter one only with the override), recorded when applied. */
static int retention(const cairn_expire_opts *o, cairn_repo *r, int64_t *out, cairn_error *err)
{
    int64_t recorded = cairn_repo_setting(r, "min_retention_seconds", 0);
    *out = recorded;
    if (o->min_retention < 0)
        return CAIRN_OK;
    if (o->min_retention < recorded && !o->ignore_retention) {
        cairn_error_set(err, CAIRN_EUSAGE,
                        "the repository keeps every backup for at least %lld s; %lld s is "
                        "shorter",
                        (long long)recorded, (long long)o->min_retention);
        return cairn_error_hint(err, "add --ignore-min-retention to shorten it on purpose");
    }
    *out = o->min_retention;
    if (o->apply && o->min_retention != recorded)
        return cairn_repo_set_setting(r, "min_retention_seconds", o->min_retention, err);
    return CAIRN_OK;
}

/* Whether m finished less than min seconds ago. */
static int too_young(const cairn_manifest *m, int64_t min, int64_t now_us)
{
    int64_t at = 0;
    if (min <= 0)
        return 0;
    if (!m->finished_at || cairn_time_parse_us(m->finished_at, &at) != 0)
        return 1; /* unknown age: kept */
    return now_us - at < min * 1000000;
}

int cairn_expire_run(const cairn_expire_opts *o, json_t **report, cairn_error *err)
{
    *report = NULL;
    if (o->keep_full < 1)
        return cairn_error_set(err, CAIRN_EUSAGE, "--keep-full must be at least 1");
    cairn_repo *r = NULL;
    if (cairn_repo_open(o->repo_dir, 0, &r, err) != CAIRN_OK)
        return err->code;
    if (o->apply && cairn_repo_lock(r, "expire", err) != CAIRN_OK) {
        cairn_repo_close(r);
        return err->code;
    }
    int64_t min = 0;
    if (retention(o, r, &min, err) != CAIRN_OK) {
        cairn_repo_close(r);
        return err->code;
    }
    cairn_manifest **list = NULL;
    size_t n = 0;
    if (cairn_repo_list(r, &list, &n, err) != CAIRN_OK) {
        cairn_repo_close(r);
        return err->code;
    }
    /* the full backups to keep: the newest keep_full */
    size_t fulls = 0;
    for (size_t i = 0; i < n; i++)
        fulls += strcmp(list[i]->type, "full") == 0;
    size_t drop_fulls = fulls > (size_t)o->keep_full ? fulls - (size_t)o->keep_full : 0;
    const cairn_manifest **doomed_roots = cairn_xcalloc(drop_fulls + 1, sizeof *doomed_roots);
    for (size_t i = 0, k = 0; i < n && k < drop_fulls; i++)
        if (strcmp(list[i]->type, "full") == 0)
            doomed_roots[k++] = list[i];
    json_t *kept = json_array(), *removed = json_array(), *slots = json_array();
    json_t *protected = json_array();
    int *doomed = cairn_xcalloc(n + 1, sizeof *doomed);
    for (size_t i = 0; i < n; i++) {
        const cairn_manifest *root = root_of(list, n, list[i]);
        for (size_t k = 0; k < drop_fulls; k++)
            if (root == doomed_roots[k] || (!root && strcmp(list[i]->type, "incr") == 0))
                doomed[i] = 1;
    }
    /* a chain holding a backup younger than the minimum retention stays whole */
    int64_t now_us = (int64_t)time(NULL) * 1000000;
    for (size_t i = 0; i < n && !o->ignore_retention; i++) {
        if (!doomed[i] || !too_young(list[i], min, now_us))
            continue;
        const cairn_manifest *root = root_of(list, n, list[i]);
        for (size_t k = 0; k < n; k++)
            if (doomed[k] && (k == i || (root && root_of(list, n, list[k]) == root))) {
                doomed[k] = 0;
                json_array_append_new(protected, json_string(list[k]->id));
            }
    }
    for (size_t i = 0; i < n; i++)
        if (!doomed[i])
            json_array_append_new(kept, json_string(list[i]->id));
    if (json_array_size(protected))
        cairn_info("keeping %zu backups younger than the minimum retention (%lld s) with their "
                   "chains",
                   json_array_size(protected), (long long)min);
    for (size_t i = n; i-- > 0;) /* in the order they are removed: newest first */
        if (doomed[i])
            json_array_append_new(removed, json_string(list[i]->id));
    int rc = CAIRN_OK;
    const cairn_driver *drv = o->source_uri ? cairn_driver_for_uri(o->source_uri, err) : NULL;
    if (o->source_uri && !drv)
        rc = err->code;
    /* newest first: increments go before the backups they descend from */
    for (size_t i = n; rc == CAIRN_OK && o->apply && i-- > 0;) {
        if (!doomed[i])
            continue;
        const cairn_manifest *m = list[i];
        rc = remove_one(r, m, err);
        if (rc != CAIRN_OK)
            break;
        cairn_info("removed backup %s (%s)", m->id, m->type);
        int slot_in_use = 0;
        for (size_t k = 0; k < n && m->slot; k++)
            if (!doomed[k] && list[k]->slot && strcmp(list[k]->slot, m->slot) == 0)
                slot_in_use = 1;
        if (strcmp(m->type, "full") == 0 && m->slot && !slot_in_use) {
            cairn_error e = {0};
            if (!drv || !drv->slot_drop) {
                cairn_info("replication slot %s of the removed chain is dropped by the next full "
                           "backup (or pass --source to drop it now)",
                           m->slot);
            } else if (drv->slot_drop(o->source_uri, m->slot, &e) != CAIRN_OK) {
                cairn_warn("cannot drop replication slot %s: %s", m->slot, e.message);
            } else {
                json_array_append_new(slots, json_string(m->slot));
            }
        }
    }
    if (rc == CAIRN_OK)
        *report = json_pack("{s:o, s:o, s:o, s:o, s:b, s:i, s:I}", "kept", kept, "removed", removed,
                            "slots_dropped", slots, "retained", protected, "applied", o->apply,
                            "keep_full", o->keep_full, "min_retention_seconds", (json_int_t)min);
    else {
        json_decref(protected);
        json_decref(kept);
        json_decref(removed);
        json_decref(slots);
    }
    free(doomed);
    free(doomed_roots);
    cairn_repo_list_free(list, n);
    cairn_repo_close(r);
    return rc;
}
