/* Restore: which units are restored, and under which names. */
#include "engine/restore_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/text.h"

/* Whether a unit is of the database restored now (any, for a backup of
 * one). */
int restore_in_database(const restore_ctx *c, const cairn_unit *u)
{
    return !c->dbname || (u->database && strcmp(u->database, c->dbname) == 0);
}

/* --tenant: the named units alone (each once, in the backup's order). */
static int select_units(const cairn_restore_opts *o, restore_ctx *c, cairn_error *err)
{
    const cairn_manifest *m = c->m;
    c->units = m->units;
    c->nunits = m->nunits;
    if (!o->tenants)
        return CAIRN_OK;
    for (const char *const *t = o->tenants; *t; t++) {
        size_t u = 0;
        while (u < m->nunits && strcmp(m->units[u].name, *t) != 0)
            u++;
        if (u == m->nunits) {
            cairn_error_set(err, CAIRN_EUSAGE, "backup %s has no unit \"%s\"", m->id, *t);
            return cairn_error_hint(err,
                                    "cairn show --repo DIR %s lists its units; tenants are "
                                    "units when the backup was taken with "
                                    "--tenant-pattern",
                                    m->id);
        }
        if (strcmp(m->units[u].status, "complete") != 0) {
            cairn_error_set(err, CAIRN_ENOCHAIN, "unit \"%s\" failed in backup %s: %s", *t, m->id,
                            m->units[u].error ? m->units[u].error : "no reason recorded");
            return cairn_error_hint(err,
                                    "complete the backup with cairn backup --resume %s, or "
                                    "restore that tenant from an older backup",
                                    m->id);
        }
    }
    c->units = cairn_xcalloc(m->nunits, sizeof *c->units);
    c->own_units = 1;
    c->nunits = 0;
    for (size_t u = 0; u < m->nunits; u++)
        for (const char *const *t = o->tenants; *t; t++)
            if (strcmp(m->units[u].name, *t) == 0) {
                c->units[c->nunits++] = m->units[u];
                break;
            }
    return CAIRN_OK;
}

/* --as: the tenant under its new name, its tables and sequences in it. */
static int place_units(const cairn_restore_opts *o, restore_ctx *c, cairn_error *err)
{
    c->placed = c->units;
    if (!o->as)
        return CAIRN_OK;
    if (c->drv && !c->drv->tenant_rename) {
        cairn_error_set(err, CAIRN_EUSAGE, "restore --as is not available for %s", c->drv->name);
        return err->code;
    }
    const cairn_unit *u = &c->units[0];
    if (!u->kind || strcmp(u->kind, "tenant") != 0) {
        cairn_error_set(err, CAIRN_EUSAGE, "unit \"%s\" is the database itself, not a tenant",
                        u->name);
        return cairn_error_hint(err, "--as renames a tenant of a backup taken with "
                                     "--tenant-pattern");
    }
    cairn_unit *p = cairn_xcalloc(1, sizeof *p);
    *p = *u;
    p->name = (char *)o->as;
    p->objects = cairn_xcalloc(u->nobjects + 1, sizeof *p->objects);
    for (size_t i = 0; i < u->nobjects; i++) {
        p->objects[i] = u->objects[i];
        p->objects[i].schema = (char *)o->as;
    }
    p->sequences = cairn_xcalloc(u->nsequences + 1, sizeof *p->sequences);
    for (size_t i = 0; i < u->nsequences; i++) {
        p->sequences[i] = u->sequences[i];
        p->sequences[i].schema = (char *)o->as;
    }
    c->placed = p;
    c->as_name[0] = o->as;
    return CAIRN_OK;
}

/* A backup of several databases: the ones named must be in it; tenants
 * are chosen inside one of them (restore_database). */
static int select_databases(const cairn_restore_opts *o, restore_ctx *c, cairn_error *err)
{
    const cairn_manifest *m = c->m;
    c->units = m->units;
    c->nunits = m->nunits;
    c->placed = c->units;
    size_t n = 0;
    for (; o->databases && o->databases[n]; n++) {
        int found = 0;
        for (size_t i = 0; i < m->ndbs; i++)
            found |= strcmp(m->dbs[i].name, o->databases[n]) == 0;
        if (!found) {
            cairn_error_set(err, CAIRN_EUSAGE, "backup %s holds no database \"%s\"", m->id,
                            o->databases[n]);
            return cairn_error_hint(err, "cairn show --repo DIR %s lists its databases", m->id);
        }
    }
    if (o->tenants && n != 1) {
        cairn_error_set(err, CAIRN_EUSAGE,
                        "backup %s holds %zu databases: --tenant restores tenants of one", m->id,
                        m->ndbs);
        return cairn_error_hint(err, "name it with --database NAME");
    }
    return CAIRN_OK;
}

void restore_release_units(restore_ctx *c)
{
    if (c->placed && c->placed != c->units) {
        free(c->placed->objects);
        free(c->placed->sequences);
        free(c->placed);
    }
    c->placed = NULL;
    if (c->own_units)
        free(c->units);
    c->units = NULL;
}

int restore_open_backup(const cairn_restore_opts *o, restore_ctx *c, cairn_error *err)
{
    if (cairn_repo_open(o->repo_dir, 0, &c->repo, err) != CAIRN_OK)
        return err->code;
    if (o->target_uri) {
        c->drv = cairn_driver_for_uri(o->target_uri, err);
        if (!c->drv)
            return err->code;
    }
    if (cairn_chain_plan(c->repo, c->drv, o->backup, o->to_position, o->to_time, o->tenants != NULL,
                         &c->chain, err) != CAIRN_OK)
        return err->code;
    c->m = c->chain.steps[0];
    if (c->drv && strcmp(c->drv->name, c->m->driver) != 0) {
        cairn_error_set(err, CAIRN_EUSAGE, "backup %s is of a %s database, the target is %s",
                        c->m->id, c->m->driver, c->drv->name);
        return err->code;
    }
    if (c->m->ndbs)
        return select_databases(o, c, err);
    if (o->databases) {
        cairn_error_set(err, CAIRN_EUSAGE,
                        "backup %s is of one database: --database selects "
                        "among the databases of a backup of several",
                        c->m->id);
        return cairn_error_hint(err, "leave out --database; the target URI names the database");
    }
    if (select_units(o, c, err) != CAIRN_OK)
        return err->code;
    return place_units(o, c, err);
}

/* The units of one database of several to restore: all its complete
 * ones, or those --tenant names (each must be there, and complete). */
int restore_database_units(restore_ctx *c, const cairn_dbpart *part, cairn_error *err)
{
    const cairn_manifest *m = c->m;
    const cairn_restore_opts *o = c->o;
    c->units = cairn_xcalloc(m->nunits + 1, sizeof *c->units);
    c->own_units = 1;
    c->nunits = 0;
    c->placed = c->units;
    for (const char *const *t = o->tenants; t && *t; t++) {
        const cairn_unit *found = NULL;
        for (size_t u = 0; u < m->nunits; u++)
            if (restore_in_database(c, &m->units[u]) && strcmp(m->units[u].name, *t) == 0)
                found = &m->units[u];
        if (!found) {
            cairn_error_set(err, CAIRN_EUSAGE, "database %s of backup %s has no unit \"%s\"",
                            part->name, m->id, *t);
            return cairn_error_hint(err, "cairn show --repo DIR %s lists its units", m->id);
        }
        if (strcmp(found->status, "complete") != 0) {
            cairn_error_set(err, CAIRN_ENOCHAIN, "unit \"%s\" failed in backup %s: %s", *t, m->id,
                            found->error ? found->error : "no reason recorded");
            return err->code;
        }
    }
    for (size_t u = 0; u < m->nunits; u++)
        if (restore_in_database(c, &m->units[u]) && strcmp(m->units[u].status, "complete") == 0 &&
            (!o->tenants || cairn_strv_contains(o->tenants, m->units[u].name)))
            c->units[c->nunits++] = m->units[u];
    return place_units(o, c, err);
}
