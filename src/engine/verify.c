/* Verifying backups: deep checks of every stored file. */
#include "engine/verify.h"

#include <string.h>

#include "engine/files.h"
#include "repo/repo.h"
#include "util/log.h"

typedef struct {
    cairn_repo *r;
    const char *id;
    json_t *failures;
    size_t files;
    cairn_error first;
} verify_ctx;

static int verify_one(cairn_file *f, const cairn_object *obj, void *arg)
{
    verify_ctx *v = arg;
    cairn_error e = {0};
    v->files++;
    if (cairn_file_check(v->r, v->id, f, 1, &e) != CAIRN_OK) {
        if (obj)
            cairn_error_prefix(&e, "table %s.%s", obj->schema, obj->name);
        json_array_append_new(v->failures,
                              json_pack("{s:s, s:s}", "path", f->path, "error", e.message));
        if (!v->first.code)
            v->first = e;
    }
    return 0; /* keep going: report every damaged file */
}

static json_t *verify_backup(cairn_repo *r, cairn_manifest *m, cairn_error *first)
{
    verify_ctx v = {.r = r, .id = m->id, .failures = json_array()};
    cairn_manifest_each_file(m, verify_one, &v);
    int ok = json_array_size(v.failures) == 0;
    if (!ok && !first->code) {
        *first = v.first;
        cairn_error_prefix(first, "backup %s", m->id);
        first->code = CAIRN_EVERIFY;
    }
    return json_pack("{s:s, s:s, s:I, s:b, s:o}", "id", m->id, "status", ok ? "ok" : "failed",
                     "files", (json_int_t)v.files, "ok", ok, "failures", v.failures);
}

int cairn_verify_run(const char *repo_dir, const char *backup, json_t **report, cairn_error *err)
{
    cairn_repo *r = NULL;
    *report = NULL;
    if (cairn_repo_open(repo_dir, 0, &r, err) != CAIRN_OK)
        return err->code;
    json_t *list = json_array();
    cairn_error first = {0};
    int rc = CAIRN_OK;
    if (backup) {
        cairn_manifest *m = NULL;
        rc = cairn_repo_select(r, backup, &m, err);
        if (rc == CAIRN_OK) {
            json_array_append_new(list, verify_backup(r, m, &first));
            cairn_manifest_free(m);
        }
    } else {
        cairn_manifest **all = NULL;
        size_t n = 0;
        rc = cairn_repo_list(r, &all, &n, err);
        for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
            json_array_append_new(list, verify_backup(r, all[i], &first));
        cairn_repo_list_free(all, n);
    }
    cairn_repo_close(r);
    if (rc != CAIRN_OK) {
        json_decref(list);
        return rc;
    }
    *report = list;
    if (first.code) {
        *err = first;
        cairn_error_hint(err, "restore from another backup; this one cannot be trusted");
        return CAIRN_EVERIFY;
    }
    return CAIRN_OK;
}
