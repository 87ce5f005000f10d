/* cairn status: figures read from the repository (and the source). */
#include "engine/status.h"

#include <string.h>
#include <time.h>

#include "cairn/driver.h"
#include "repo/repo.h"
#include "util/log.h"
#include "util/text.h"

/* Seconds from an ISO time to now; -1 when there is no time. */
static double age_of(const char *iso)
{
    int64_t us = 0;
    if (!iso || cairn_time_parse_us(iso, &us) != 0)
        return -1;
    double age = (double)time(NULL) - (double)us / 1e6;
    return age < 0 ? 0 : age;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *age_or_null(const char *iso)
{
    double age = age_of(iso);
    return age < 0 ? json_null() : json_real(age);
}

/* The newest complete backup, and how many backups its chain holds. */
static const cairn_manifest *newest(cairn_manifest **list, size_t n, size_t *chain)
{
    const cairn_manifest *m = NULL;
    for (size_t i = n; i-- > 0 && !m;)
        if (strcmp(list[i]->status, "complete") == 0)
            m = list[i];
    *chain = 0;
    for (const cairn_manifest *at = m; at;) {
        (*chain)++;
        const cairn_manifest *parent = NULL;
        for (size_t i = 0; at->parent && i < n && !parent; i++)
            if (strcmp(list[i]->id, at->parent) == 0)
                parent = list[i];
        at = parent;
    }
    return m;
}

/* How far the source's log is past the newest backup, and its slot. */
static json_t *source_status(const char *uri, const cairn_manifest *m)
{
    json_t *j = json_object();
    cairn_error err = {0};
    const cairn_driver *drv = cairn_driver_for_uri(uri, &err);
    if (!drv) {
        json_object_set_new(j, "error", json_string(err.message));
        return j;
    }
    char current[128] = "";
    uint64_t behind = 0;
    if (!m || !m->end_position || !drv->log_distance) {
        /* nothing to measure from */
    } else if (drv->log_distance(uri, m->end_position, current, sizeof current, &behind, &err) ==
               CAIRN_OK) {
        json_object_set_new(j, "position", json_string(current));
        json_object_set_new(j, "behind_bytes", json_integer((json_int_t)behind));
    } else {
        cairn_warn("cannot read the source's log position: %s", err.message);
        json_object_set_new(j, "error", json_string(err.message));
        return j;
    }
    if (m && m->slot && drv->slot_status) {
        uint64_t retained = 0;
        char state[32] = "";
        if (drv->slot_status(uri, m->slot, &retained, state, sizeof state, &err) == CAIRN_OK)
            json_object_set_new(j, "slot",
                                json_pack("{s:s, s:s, s:I}", "name", m->slot, "status", state,
                                          "retained_bytes", (json_int_t)retained));
    }
    return j;
}

int cairn_status_run(const char *repo_dir, const char *source, json_t **out, cairn_error *err)
{
    *out = NULL;
    cairn_repo *r = NULL;
    if (cairn_repo_open(repo_dir, 0, &r, err) != CAIRN_OK)
        return err->code;
    cairn_manifest **list = NULL;
    size_t n = 0;
    if (cairn_repo_list(r, &list, &n, err) != CAIRN_OK) {
        cairn_repo_close(r);
        return err->code;
    }
    uint64_t stored = 0;
    const char *last_full = NULL;
    for (size_t i = 0; i < n; i++) {
        stored += list[i]->stored_bytes;
        if (strcmp(list[i]->type, "full") == 0 && strcmp(list[i]->status, "complete") == 0)
            last_full = list[i]->finished_at;
    }
    size_t chain = 0;
    const cairn_manifest *m = newest(list, n, &chain);
    const char *at = m ? (m->end_at ? m->end_at : m->finished_at) : NULL;
    json_t *j = json_pack("{s:s, s:I, s:I}", "repo", repo_dir, "backups", (json_int_t)n,
                          "repository_bytes", (json_int_t)stored);
    json_object_set_new(j, "newest",
                        m ? json_pack("{s:s, s:s, s:o, s:o}", "id", m->id, "type", m->type,
                                      "end_position", str_or_null(m->end_position), "end_at",
                                      str_or_null(at))
                          : json_null());
    json_object_set_new(j, "rpo_seconds", age_or_null(at));
    json_object_set_new(j, "chain_length", json_integer((json_int_t)chain));
    json_object_set_new(j, "last_full_at", str_or_null(last_full));
    json_t *drill = NULL, *passed = NULL;
    cairn_repo_last_drills(r, &drill, &passed);
    const char *drill_at = drill ? json_string_value(json_object_get(drill, "finished_at")) : NULL;
    const char *passed_at =
        passed ? json_string_value(json_object_get(passed, "finished_at")) : NULL;
    json_object_set_new(j, "last_drill_at", str_or_null(drill_at));
    json_object_set_new(j, "last_drill_age_seconds", age_or_null(drill_at));
    json_object_set_new(j, "last_drill_rto_seconds",
                        drill ? json_copy(json_object_get(drill, "rto_seconds")) : json_null());
    json_object_set_new(j, "last_drill_passed",
                        drill ? json_copy(json_object_get(drill, "passed")) : json_null());
    json_object_set_new(j, "last_drill_backup",
                        drill ? json_copy(json_object_get(drill, "backup")) : json_null());
    json_object_set_new(j, "last_passed_drill_at", str_or_null(passed_at));
    json_object_set_new(j, "last_passed_drill_age_seconds", age_or_null(passed_at));
    json_decref(drill);
    json_decref(passed);
    if (source)
        json_object_set_new(j, "source", source_status(source, m));
    cairn_repo_list_free(list, n);
    cairn_repo_close(r);
    *out = j;
    return CAIRN_OK;
}
