/* Restore: schema archives, decompressed and checked into a private
 * directory for the driver's tool; renamed for --as. */
#include "engine/restore_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/files.h"
#include "util/child.h"
#include "util/log.h"
#include "util/text.h"

/* Copies a schema archive, decompressed and checked, into a private
 * temporary directory for the driver's restore tool: *dir is made when
 * NULL; *path is freed by the caller after removing it. */
static int materialize_schema(restore_ctx *c, const cairn_file *file, const char *name, char **dir,
                              char **path, cairn_error *err)
{
    if (!*dir)
        *dir = cairn_temp_dir("restore", err);
    if (!*dir)
        return err->code;
    *path = cairn_xasprintf("%s/%s", *dir, name);
    FILE *f = fopen(*path, "wxe");
    if (!f)
        return cairn_error_errno(err, errno, "cannot create %s", *path);
    cairn_source *src = NULL;
    int rc = cairn_reader_open(c->repo, c->m->id, file, 1, &src, err);
    if (rc == CAIRN_OK) {
        char *buf = cairn_xmalloc(1 << 17);
        ssize_t n;
        while ((n = cairn_source_read(src, buf, 1 << 17)) > 0)
            if (fwrite(buf, 1, (size_t)n, f) != (size_t)n) {
                rc = cairn_error_errno(err, errno, "cannot write %s", *path);
                break;
            }
        if (n < 0) {
            *err = *cairn_source_error(src);
            rc = err->code ? err->code : CAIRN_ERR;
        }
        free(buf);
    }
    cairn_source_free(src);
    if (fclose(f) != 0 && rc == CAIRN_OK)
        rc = cairn_error_errno(err, errno, "cannot write %s", *path);
    return rc;
}

/* For a tenant restore, the selected units this archive holds: the first
 * holds those not schema_missing, a resume's its schema_units. */
static char **archive_tenants(const restore_ctx *c, const cairn_resume *r)
{
    char **out = cairn_xcalloc(c->nunits + 1, sizeof *out);
    size_t n = 0;
    for (size_t u = 0; u < c->nunits; u++) {
        const cairn_unit *un = &c->units[u];
        int holds = r ? cairn_strv_contains((const char *const *)r->schema_units, un->name)
                      : !un->schema_missing;
        if (holds)
            out[n++] = cairn_xstrdup(un->name);
    }
    return out;
}

/* --as: the archive's part for the tenant, under its new name. */
static int rename_archive(restore_ctx *c, archive *a, cairn_error *err)
{
    const cairn_manifest *m = c->m;
    const char *tenant = c->units[0].name;
    const char **others = cairn_xcalloc(m->nunits + 1, sizeof *others);
    size_t n = 0;
    for (size_t u = 0; u < m->nunits; u++)
        if (m->units[u].kind && strcmp(m->units[u].kind, "tenant") == 0 &&
            strcmp(m->units[u].name, tenant) != 0 && restore_in_database(c, &m->units[u]))
            others[n++] = m->units[u].name;
    char *path = cairn_xasprintf("%s.as", a->path);
    cairn_restore_flags flags = {.no_owner = c->o->no_owner, .jobs = 1};
    cairn_info("renaming tenant %s to %s", tenant, c->o->as);
    int rc = c->drv->tenant_rename(c->target, a->path, tenant, c->o->as, others, &flags, path, err);
    free(others);
    if (rc != CAIRN_OK) {
        unlink(path);
        free(path);
        return cairn_error_prefix(err, "restoring tenant %s as %s", tenant, c->o->as);
    }
    unlink(a->path);
    free(a->path);
    a->path = path;
    cairn_strv_free(a->tenants);
    a->tenants = cairn_xcalloc(2, sizeof *a->tenants);
    a->tenants[0] = cairn_xstrdup(c->o->as);
    return CAIRN_OK;
}

int restore_materialize_all(restore_ctx *c, char **dir, archive **out, size_t *n, cairn_error *err)
{
    const cairn_manifest *m = c->m;
    *out = cairn_xcalloc(m->nresumes + 1, sizeof **out);
    *n = 0;
    int rc = CAIRN_OK;
    if (c->schema_file) { /* one database of several: its own archive */
        archive *a = &(*out)[(*n)++];
        if (c->tenant_restore)
            a->tenants = archive_tenants(c, NULL);
        rc = materialize_schema(c, c->schema_file, "schema.archive", dir, &a->path, err);
    } else if (m->has_schema) {
        archive *a = &(*out)[(*n)++];
        rc = materialize_schema(c, &m->schema, "schema.archive", dir, &a->path, err);
        if (c->tenant_restore)
            a->tenants = archive_tenants(c, NULL);
    }
    for (size_t i = 0; rc == CAIRN_OK && !c->schema_file && i < m->nresumes; i++) {
        const cairn_resume *r = &m->resumes[i];
        if (!r->has_schema)
            continue;
        archive *a = &(*out)[(*n)++];
        char name[48];
        snprintf(name, sizeof name, "resume-%zu.archive", i + 1);
        rc = materialize_schema(c, &r->schema, name, dir, &a->path, err);
        if (c->tenant_restore) /* it holds the resumed units alone: filtered for --tenant only */
            a->tenants = archive_tenants(c, r);
    }
    for (size_t i = 0; rc == CAIRN_OK && c->o->as && i < *n; i++)
        if ((*out)[i].tenants && (*out)[i].tenants[0])
            rc = rename_archive(c, &(*out)[i], err);
    return rc;
}

int restore_archives(restore_ctx *c, const archive *a, size_t n, const char *section,
                     const cairn_restore_flags *base, cairn_error *err)
{
    for (size_t i = 0; i < n; i++) {
        cairn_restore_flags flags = *base;
        flags.tenants = (const char *const *)a[i].tenants;
        if (flags.tenants && !flags.tenants[0])
            continue; /* none of the units restored is in this archive */
        int rc = c->drv->restore_schema(c->target, a[i].path, section, &flags, err);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

void restore_archives_free(archive *a, size_t n, char *dir)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].path)
            unlink(a[i].path);
        free(a[i].path);
        cairn_strv_free(a[i].tenants);
    }
    free(a);
    if (dir)
        rmdir(dir);
    free(dir);
}
