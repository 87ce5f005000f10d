/* Restore: the logs -- a resumed backup's catch-up, a database's catch-up
 * to the common position, and the increments -- replayed in order. */
#include "engine/restore_int.h"

#include <stdlib.h>
#include <string.h>

#include "engine/files.h"
#include "util/log.h"
#include "util/text.h"

typedef struct {
    cairn_repo *repo;
    const cairn_manifest *m;
    const cairn_file *f;
} log_file;

static int open_log(void *arg, cairn_source **out, cairn_error *err)
{
    log_file *lf = arg;
    return cairn_reader_open(lf->repo, lf->m->id, lf->f, 1, out, err);
}

/* The units a catch-up log brings forward (keep) and those it must leave
 * alone (skip): left alone are those restored at or after its end (dumped
 * again by that resume or a later one), failed ones, and with --tenant
 * those not restored.  NULL-terminated names, borrowed; -1 on error. */
static int catchup_units(restore_ctx *c, const cairn_resume *r, const char ***skip,
                         const char ***keep, size_t *applied, cairn_error *err)
{
    const cairn_manifest *m = c->m;
    *skip = cairn_xcalloc(m->nunits + 1, sizeof **skip);
    *keep = cairn_xcalloc(m->nunits + 1, sizeof **keep);
    size_t n = 0;
    *applied = 0;
    for (size_t u = 0; u < m->nunits; u++) {
        const cairn_unit *un = &m->units[u];
        int selected = 0, cmp = 1;
        for (size_t k = 0; k < c->nunits; k++)
            selected |= strcmp(c->units[k].name, un->name) == 0;
        if (selected && strcmp(un->status, "complete") == 0 && un->position &&
            c->drv->position_cmp(un->position, r->position, &cmp, err) != CAIRN_OK)
            return -1;
        if (cmp >= 0)
            (*skip)[n++] = un->name;
        else
            (*keep)[(*applied)++] = un->name;
    }
    return 0;
}

/* Which unit a change belongs to, for a driver's log_apply: the backup's
 * tenant units, its database unit, and (restore --tenant) the units not
 * restored, whose changes are skipped. */
typedef struct {
    const char **tenants;
    const char *database;
    const char **unselected; /* NULL unless --tenant */
    const char **selected;   /* NULL unless --tenant */
} unit_names;

/* What every replay of this restore shares: the units' names, and --as. */
static cairn_apply_opts apply_opts(const restore_ctx *c, const unit_names *names, const char *after)
{
    return (cairn_apply_opts){.after = after,
                              .skip_units = names->unselected,
                              .tenant_units = names->tenants,
                              .database_unit = names->database,
                              .only_units = names->selected,
                              .rename_from = c->o->as ? c->units[0].name : NULL,
                              .rename_to = c->o->as};
}

static void unit_names_init(const restore_ctx *c, unit_names *n)
{
    const cairn_manifest *m = c->m;
    memset(n, 0, sizeof *n);
    n->tenants = cairn_xcalloc(m->nunits + 1, sizeof *n->tenants);
    size_t nt = 0, nu = 0;
    for (size_t u = 0; u < m->nunits; u++) {
        if (!restore_in_database(c, &m->units[u]))
            continue;
        if (m->units[u].kind && strcmp(m->units[u].kind, "tenant") == 0)
            n->tenants[nt++] = m->units[u].name;
        else if (!n->database)
            n->database = m->units[u].name;
    }
    if (!c->tenant_restore)
        return;
    n->unselected = cairn_xcalloc(m->nunits + 1, sizeof *n->unselected);
    n->selected = cairn_xcalloc(c->nunits + 1, sizeof *n->selected);
    for (size_t k = 0; k < c->nunits; k++)
        n->selected[k] = c->units[k].name;
    for (size_t u = 0; u < m->nunits; u++) {
        int selected = 0;
        for (size_t k = 0; k < c->nunits; k++)
            selected |= strcmp(c->units[k].name, m->units[u].name) == 0;
        if (!selected && restore_in_database(c, &m->units[u]))
            n->unselected[nu++] = m->units[u].name;
    }
}

static void unit_names_free(unit_names *n)
{
    free(n->tenants);
    free(n->unselected);
    free(n->selected);
}

/* Brings the units a resumed backup dumped before its end to that end:
 * each resume's log, in order, for the units still behind it. */
static int apply_catchup(restore_ctx *c, cairn_conn *conn, const unit_names *names, char *position,
                         size_t cap, cairn_restore_result *res, cairn_error *err)
{
    const cairn_manifest *m = c->m;
    int rc = CAIRN_OK;
    for (size_t k = 0; rc == CAIRN_OK && k < m->nresumes; k++) {
        const cairn_resume *r = &m->resumes[k];
        int cmp = 0;
        if ((rc = c->drv->position_cmp(r->position, position, &cmp, err)) != CAIRN_OK)
            break;
        size_t applied = 0;
        const char **skip = NULL, **keep = NULL;
        if (cmp > 0 && catchup_units(c, r, &skip, &keep, &applied, err) != 0) {
            free(skip);
            free(keep);
            rc = err->code;
            break;
        }
        if (cmp > 0 && applied > 0) {
            cairn_info("bringing %zu units to %s through the log of resume %zu", applied,
                       r->position, k + 1);
            cairn_apply_opts ao = apply_opts(c, names, position);
            ao.stop_position = r->position;
            ao.skip_units = skip;
            ao.only_units = keep;
            cairn_apply_result ar;
            memset(&ar, 0, sizeof ar);
            log_file lf = {c->repo, m, &r->log};
            rc = c->drv->log_apply(conn, &m->source, open_log, &lf, &ao, &ar, err);
            if (rc != CAIRN_OK)
                cairn_error_prefix(err, "the log of resume %zu", k + 1);
            res->transactions += ar.transactions;
            res->changes += ar.changes;
            if (ar.last_position[0])
                cairn_strlcpy(position, ar.last_position, cap);
        }
        free(skip);
        free(keep);
    }
    return rc;
}

/* The sequences of an increment's unit that this restore owns: all of
 * them, or with --tenant those in a restored tenant's schema (database).
 * A shallow copy: free its sequences array alone. */
static cairn_unit restored_sequences(const restore_ctx *c, const cairn_unit *u)
{
    cairn_unit mine = *u;
    mine.sequences = cairn_xcalloc(u->nsequences + 1, sizeof *mine.sequences);
    mine.nsequences = 0;
    for (size_t i = 0; i < u->nsequences; i++) {
        int keep = !c->tenant_restore;
        for (size_t k = 0; !keep && k < c->nunits; k++)
            keep = strcmp(c->units[k].name, u->sequences[i].schema) == 0;
        if (keep)
            mine.sequences[mine.nsequences++] = u->sequences[i];
        if (keep && c->o->as)
            mine.sequences[mine.nsequences - 1].schema = (char *)c->o->as;
    }
    return mine;
}

/* Replays every increment after the full backup, in order, from after
 * `after` (a resumed restore) up to the chain's stop; then sets the
 * sequences from the last increment and removes the progress record. */
int restore_apply_increments(restore_ctx *c, const char *after, cairn_restore_result *res,
                             cairn_error *err)
{
    cairn_conn *conn = NULL;
    int rc = c->drv->connect(c->target, &conn, err);
    const cairn_manifest *last = c->m;
    char position[64];
    cairn_strlcpy(position, after ? after : c->m->start_position, sizeof position);
    unit_names names;
    unit_names_init(c, &names);
    if (rc == CAIRN_OK && c->m->nresumes)
        rc = apply_catchup(c, conn, &names, position, sizeof position, res, err);
    for (size_t i = 1; rc == CAIRN_OK && i < c->chain.nsteps; i++) {
        const cairn_manifest *inc = c->chain.steps[i];
        int is_last = i + 1 == c->chain.nsteps;
        int cmp = 0;
        rc = c->drv->position_cmp(inc->end_position, position, &cmp, err);
        if (rc != CAIRN_OK)
            break;
        last = inc;
        if (cmp <= 0)
            continue; /* applied before the interruption */
        cairn_info("replaying increment %s: %s to %s, %llu transactions", inc->id,
                   inc->start_position, inc->end_position, (unsigned long long)inc->transactions);
        cairn_apply_opts ao = apply_opts(c, &names, position);
        ao.stop_position = is_last ? c->chain.stop_position : NULL;
        ao.stop_time_us = c->chain.stop_time_us;
        cairn_apply_result ar;
        memset(&ar, 0, sizeof ar);
        const cairn_file *logs = inc->logs;
        size_t nlogs = inc->nlogs;
        for (size_t d = 0; c->dbname && d < inc->ndbs; d++)
            if (strcmp(inc->dbs[d].name, c->dbname) == 0) {
                logs = &inc->dbs[d].log;
                nlogs = inc->dbs[d].has_log;
            }
        for (size_t k = 0; rc == CAIRN_OK && k < nlogs; k++) {
            log_file lf = {c->repo, inc, &logs[k]};
            rc = c->drv->log_apply(conn, &c->m->source, open_log, &lf, &ao, &ar, err);
            if (rc != CAIRN_OK) {
                cairn_error_prefix(err, "increment %s", inc->id);
                break;
            }
            res->transactions += ar.transactions;
            res->changes += ar.changes;
            if (ar.last_position[0])
                cairn_strlcpy(position, ar.last_position, sizeof position);
        }
        res->increments++;
        if (rc == CAIRN_OK && ar.stopped)
            break;
    }
    if (rc == CAIRN_OK && last != c->m) {
        cairn_conn *seq = NULL;
        rc = c->drv->connect(c->target, &seq, err);
        if (rc == CAIRN_OK)
            rc = c->drv->load_begin(seq, &c->m->source, err);
        for (size_t u = 0; rc == CAIRN_OK && u < last->nunits; u++) {
            const char *db = last->units[u].database;
            if (c->dbname && (!db || strcmp(db, c->dbname) != 0))
                continue; /* another database's */
            cairn_unit mine = restored_sequences(c, &last->units[u]);
            rc = c->drv->restore_sequences(seq, &mine, err);
            free(mine.sequences);
        }
        c->drv->close(seq);
    }
    if (rc == CAIRN_OK)
        rc = c->drv->progress_drop(conn, err);
    c->drv->close(conn);
    unit_names_free(&names);
    if (rc == CAIRN_OK)
        cairn_strlcpy(res->position, position, sizeof res->position);
    else
        restore_mark_incomplete(err, !c->dbname);
    return rc;
}

/* A restore of this chain that was interrupted: "" when there is none;
 * "full" to start over; otherwise the log position to resume after. */
int restore_find_interrupted(restore_ctx *c, char *resume, size_t cap, cairn_error *err)
{
    resume[0] = '\0';
    if (!restore_keeps_progress(c) || c->o->clean)
        return CAIRN_OK;
    char chain[64], phase[16], position[64];
    if (c->drv->progress_read(c->target, chain, sizeof chain, phase, sizeof phase, position,
                              sizeof position, err) != CAIRN_OK)
        return err->code;
    if (!phase[0])
        return CAIRN_OK;
    if (strcmp(chain, c->m->id) != 0) {
        cairn_error_set(err, CAIRN_ERR,
                        "the target holds an interrupted restore of another backup (%s)", chain);
        return cairn_error_hint(err, "finish that restore, or pass --clean to replace the target");
    }
    if (strcmp(phase, "full") == 0) {
        cairn_info("the target holds an interrupted restore of %s: loading it again", chain);
        cairn_strlcpy(resume, "full", cap);
    } else {
        cairn_info("the target holds an interrupted restore of %s: resuming after %s", chain,
                   position);
        cairn_strlcpy(resume, position, cap);
    }
    return CAIRN_OK;
}

/* The log that brings the database to the backup's common position, for
 * the units restored. */
int restore_apply_catch_up(restore_ctx *c, const cairn_dbpart *part, cairn_restore_result *res,
                           cairn_error *err)
{
    const cairn_manifest *m = c->m;
    int increments = c->chain.nsteps > 1;
    double t = cairn_now();
    cairn_conn *conn = NULL;
    int rc = c->drv->connect(c->target, &conn, err);
    if (rc == CAIRN_OK)
        rc = c->drv->progress_write(conn, m->id, "log", part->position, err);
    unit_names names;
    unit_names_init(c, &names);
    cairn_apply_opts ao = apply_opts(c, &names, part->position);
    cairn_apply_result ar;
    memset(&ar, 0, sizeof ar);
    log_file lf = {c->repo, m, &part->log};
    if (rc == CAIRN_OK && part->has_log)
        rc = c->drv->log_apply(conn, &m->source, open_log, &lf, &ao, &ar, err);
    if (rc == CAIRN_OK && !increments)
        rc = c->drv->progress_drop(conn, err);
    c->drv->close(conn);
    unit_names_free(&names);
    res->transactions += ar.transactions;
    res->changes += ar.changes;
    res->t_log += cairn_now() - t;
    if (rc == CAIRN_OK && part->has_log)
        cairn_info("database %s: %llu transactions replayed up to %s", part->name,
                   (unsigned long long)ar.transactions, m->end_position);
    if (rc != CAIRN_OK)
        restore_mark_incomplete(err, 0);
    return rc;
}
