/* Verifying backups: deep checks of every stored file. */
#include "engine/verify.h"

#include <string.h>

#include "engine/files.h"
#include "repo/repo.h"
#include "util/log.h"

static void add_failure(const cairn_file *f, const cairn_object *obj, const cairn_error *e,
                        void *arg)
{
    (void)obj;
    json_array_append_new(arg, json_pack("{s:s, s:s}", "path", f->path, "error", e->message));
}

static json_t *verify_backup(cairn_repo *r, cairn_manifest *m, int jobs, cairn_error *first)
{
    json_t *failures = json_array();
    size_t files = 0;
    cairn_error e = {0};
    int rc = cairn_files_check(r, m, 1, jobs, add_failure, failures, &files, &e);
    if (rc != CAIRN_OK && !first->code) {
        *first = e;
        cairn_error_prefix(first, "backup %s", m->id);
        if (json_array_size(failures) > 0)
            first->code = CAIRN_EVERIFY;
    }
    int ok = rc == CAIRN_OK;
    return json_pack("{s:s, s:s, s:I, s:b, s:o}", "id", m->id, "status", ok ? "ok" : "failed",
                     "files", (json_int_t)files, "ok", ok, "failures", failures);
}

int cairn_verify_run(const char *repo_dir, const char *backup, int jobs, json_t **report,
                     cairn_error *err)
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
            json_array_append_new(list, verify_backup(r, m, jobs, &first));
            cairn_manifest_free(m);
        }
    } else {
        cairn_manifest **all = NULL;
        size_t n = 0;
        rc = cairn_repo_list(r, &all, &n, err);
        for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
            json_array_append_new(list, verify_backup(r, all[i], jobs, &first));
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
        if (err->code == CAIRN_EVERIFY)
            cairn_error_hint(err, "restore from another backup; this one cannot be trusted");
        return err->code;
    }
    return CAIRN_OK;
}
