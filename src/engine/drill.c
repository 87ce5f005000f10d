/* Restore drills.
 *
 * The backup is restored the way a recovery would restore it (every
 * checksum verified, the full backup loaded in parallel, each increment
 * replayed), into scratch databases, and timed: that time is the RTO.  The
 * moment the full backup is loaded, before any log is replayed, each table
 * is read back through the same dump path the backup used and its rows are
 * summed into the order-independent content digest (stream/rows.c); the
 * row count and digest must equal what the backup recorded for the table,
 * whatever order the rows now come in.  That check is not counted in the
 * RTO.  After the last increment, the sequences must hold the values the
 * newest backup of the chain recorded. */
#include "engine/drill.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/driver.h"
#include "engine/chain.h"
#include "util/pool.h"
#include "engine/restore.h"
#include "repo/repo.h"
#include "util/log.h"
#include "util/text.h"
#include "util/uri.h"

/* A database the drill restored into, and which database of the backup
 * it holds (NULL for a backup of one). */
typedef struct {
    char *uri;
    char *dbname;
} landed;

typedef struct {
    const cairn_drill_opts *o;
    const cairn_driver *drv;
    cairn_chain chain;
    const cairn_manifest *full, *last;
    json_t *tables, *sequences, *failures, *extra;
    size_t tables_expected, tables_found;
    landed *landed;
    size_t nlanded;
    /* the check running now */
    cairn_snapshot snap;
    const cairn_object **objs;
    json_t **results;
    pthread_mutex_t lock;
} drill_ctx;

static void fail(drill_ctx *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(drill_ctx *d, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&d->lock);
    json_array_append_new(d->failures, json_string(buf));
    pthread_mutex_unlock(&d->lock);
}

/* A plain consistent read of the restored database (no exported
 * snapshot): nothing else writes there. */
static void read_snapshot(drill_ctx *d, cairn_snapshot *snap)
{
    memset(snap, 0, sizeof *snap);
    cairn_strlcpy(snap->mode, "none", sizeof snap->mode);
    snap->source = d->full->source;
}

static int open_reader(drill_ctx *d, const char *uri, cairn_conn **conn, cairn_error *err)
{
    char identity[256];
    if (d->drv->connect(uri, conn, err) != CAIRN_OK)
        return err->code;
    if (d->drv->snapshot_join(*conn, &d->snap, identity, sizeof identity, err) != CAIRN_OK) {
        d->drv->close(*conn);
        *conn = NULL;
        return err->code;
    }
    return CAIRN_OK;
}

/* What the target holds now, as the driver lists it. */
static int list_target(drill_ctx *d, const char *uri, cairn_unit **units, size_t *n,
                       cairn_error *err)
{
    cairn_conn *conn = NULL;
    read_snapshot(d, &d->snap);
    if (open_reader(d, uri, &conn, err) != CAIRN_OK)
        return err->code;
    int rc = d->drv->list_units(conn, &d->snap, NULL, units, n, err);
    d->drv->close(conn);
    return rc;
}

static const cairn_object *find_object(const cairn_unit *units, size_t n, const char *schema,
                                       const char *name)
{
    for (size_t u = 0; u < n; u++)
        for (size_t i = 0; i < units[u].nobjects; i++)
            if (strcmp(units[u].objects[i].schema, schema) == 0 &&
                strcmp(units[u].objects[i].name, name) == 0)
                return &units[u].objects[i];
    return NULL;
}

/* 1 when some object of units is in schema (a MariaDB database). */
static int has_schema(const cairn_unit *units, size_t n, const char *schema)
{
    for (size_t u = 0; u < n; u++)
        for (size_t i = 0; i < units[u].nobjects; i++)
            if (strcmp(units[u].objects[i].schema, schema) == 0)
                return 1;
    return 0;
}

static const cairn_sequence *find_sequence(const cairn_unit *units, size_t n, const char *schema,
                                           const char *name)
{
    for (size_t u = 0; u < n; u++)
        for (size_t i = 0; i < units[u].nsequences; i++)
            if (strcmp(units[u].sequences[i].schema, schema) == 0 &&
                strcmp(units[u].sequences[i].name, name) == 0)
                return &units[u].sequences[i];
    return NULL;
}

static int check_init(void *shared, int worker, void **state, cairn_error *err)
{
    (void)worker;
    drill_ctx *d = shared;
    cairn_conn *conn = NULL;
    const char *uri = d->landed[d->nlanded - 1].uri;
    if (open_reader(d, uri, &conn, err) != CAIRN_OK)
        return err->code;
    *state = conn;
    return CAIRN_OK;
}

/* Reads one table back whole and compares it with what its chunks
 * recorded. */
static int check_run(void *shared, void *state, size_t item, cairn_error *err)
{
    (void)err;
    drill_ctx *d = shared;
    const cairn_object *obj = d->objs[item];
    json_t *r = d->results[item];
    uint64_t want_rows = 0;
    cairn_rowsum want = {0};
    int recorded = obj->nchunks > 0;
    for (size_t i = 0; i < obj->nchunks; i++) {
        want_rows += obj->chunks[i].rows;
        if (obj->chunks[i].has_content)
            cairn_rowsum_add(&want, &obj->chunks[i].content);
        else
            recorded = 0;
    }
    cairn_rowsum got = {0};
    cairn_sink *sink = cairn_rows_sink_new(NULL, &got);
    cairn_chunk whole = {.split = CAIRN_SPLIT_NONE};
    uint64_t rows = 0;
    cairn_error e = {0};
    int rc = d->drv->dump_chunk(state, obj, &whole, sink, &rows, &e);
    if (rc == CAIRN_OK && cairn_sink_finish(sink) != 0)
        rc = cairn_error_set(&e, CAIRN_ERR, "cannot digest the rows");
    cairn_sink_free(sink);
    pthread_mutex_lock(&d->lock);
    json_object_set_new(r, "rows_expected", json_integer((json_int_t)want_rows));
    const char *content = "not recorded";
    int passed = 0;
    if (rc != CAIRN_OK) {
        json_object_set_new(r, "error", json_string(e.message));
        content = "unread";
    } else {
        json_object_set_new(r, "rows", json_integer((json_int_t)rows));
        passed = rows == want_rows;
        if (recorded) {
            int same = got.lo == want.lo && got.hi == want.hi;
            content = same ? "match" : "differs";
            passed = passed && same;
        }
    }
    json_object_set_new(r, "content", json_string(content));
    json_object_set_new(r, "passed", json_boolean(passed));
    pthread_mutex_unlock(&d->lock);
    if (rc != CAIRN_OK)
        fail(d, "table %s.%s: cannot read it back: %s", obj->schema, obj->name, e.message);
    else if (rows != want_rows)
        fail(d, "table %s.%s: %llu rows restored, the backup recorded %llu", obj->schema, obj->name,
             (unsigned long long)rows, (unsigned long long)want_rows);
    else if (recorded && !passed)
        fail(d,
             "table %s.%s: the restored rows differ from the backed-up rows (same count, "
             "other content)",
             obj->schema, obj->name);
    return CAIRN_OK; /* every table is checked, whatever one of them shows */
}

static void check_done(void *shared, void *state)
{
    drill_ctx *d = shared;
    d->drv->close(state);
}

static const cairn_pool_ops check_pool = {check_init, check_run, check_done};

/* The full backup is loaded into target: every table of units must be
 * there, with the rows and content the backup recorded. */
static int tables_loaded(void *arg, const char *target, const cairn_unit *units, size_t nunits,
                         cairn_error *err)
{
    drill_ctx *d = arg;
    d->landed = cairn_xrealloc(d->landed, (d->nlanded + 1) * sizeof *d->landed);
    d->landed[d->nlanded].uri = cairn_xstrdup(target);
    d->landed[d->nlanded].dbname =
        nunits && units[0].database ? cairn_xstrdup(units[0].database) : NULL;
    d->nlanded++;
    cairn_info("checking the restored tables against the backup");
    cairn_unit *found = NULL;
    size_t nfound = 0;
    int rc = list_target(d, target, &found, &nfound, err);
    if (rc != CAIRN_OK)
        return cairn_error_prefix(err, "listing the restored tables");
    size_t n = 0;
    for (size_t u = 0; u < nunits; u++)
        n += units[u].nobjects;
    d->objs = cairn_xcalloc(n + 1, sizeof *d->objs);
    d->results = cairn_xcalloc(n + 1, sizeof *d->results);
    size_t k = 0;
    for (size_t u = 0; u < nunits; u++) {
        for (size_t i = 0; i < units[u].nobjects; i++) {
            const cairn_object *obj = &units[u].objects[i];
            if (obj->kind == CAIRN_OBJ_MATVIEW)
                continue;
            d->tables_expected++;
            json_t *r = json_pack("{s:s, s:s}", "schema", obj->schema, "name", obj->name);
            if (units[u].database)
                json_object_set_new(r, "database", json_string(units[u].database));
            json_array_append_new(d->tables, r);
            if (!find_object(found, nfound, obj->schema, obj->name)) {
                json_object_set_new(r, "content", json_string("missing"));
                json_object_set_new(r, "passed", json_false());
                fail(d, "table %s.%s is missing from the restored database", obj->schema,
                     obj->name);
                continue;
            }
            d->tables_found++;
            d->objs[k] = obj;
            d->results[k++] = r;
        }
    }
    /* tables the restore made that the backup does not list */
    for (size_t u = 0; u < nfound; u++)
        for (size_t i = 0; i < found[u].nobjects; i++) {
            const cairn_object *obj = &found[u].objects[i];
            if (obj->kind != CAIRN_OBJ_MATVIEW && has_schema(units, nunits, obj->schema) &&
                !find_object(units, nunits, obj->schema, obj->name))
                json_array_append_new(
                    d->extra, json_pack("{s:s, s:s}", "schema", obj->schema, "name", obj->name));
        }
    for (size_t u = 0; u < nfound; u++)
        cairn_unit_clear(&found[u]);
    free(found);
    int jobs = d->o->jobs > 0 ? d->o->jobs : 2;
    rc = cairn_pool_run(jobs < (int)k ? jobs : (int)(k ? k : 1), k, &check_pool, d, err);
    free(d->objs);
    free(d->results);
    d->objs = NULL;
    d->results = NULL;
    return rc;
}

/* The unit of m named like u (and in the same database), or NULL. */
static const cairn_unit *same_unit(const cairn_manifest *m, const cairn_unit *u)
{
    for (size_t i = 0; i < m->nunits; i++) {
        const cairn_unit *v = &m->units[i];
        if (strcmp(v->name, u->name) == 0 &&
            ((!v->database && !u->database) ||
             (v->database && u->database && strcmp(v->database, u->database) == 0)))
            return v;
    }
    return NULL;
}

/* After the whole chain: the sequences hold the values the newest backup
 * recorded (an increment records them at its end). */
static int check_sequences(drill_ctx *d, const landed *l, cairn_error *err)
{
    cairn_unit *found = NULL;
    size_t nfound = 0;
    if (list_target(d, l->uri, &found, &nfound, err) != CAIRN_OK)
        return cairn_error_prefix(err, "listing the restored sequences");
    for (size_t u = 0; u < d->full->nunits; u++) {
        const cairn_unit *unit = &d->full->units[u];
        if (cairn_unit_failed(unit) ||
            (l->dbname && (!unit->database || strcmp(unit->database, l->dbname) != 0)))
            continue;
        const cairn_unit *newest = same_unit(d->last, unit);
        if (!newest || (newest->nsequences == 0 && unit->nsequences > 0))
            newest = unit;
        for (size_t i = 0; i < newest->nsequences; i++) {
            const cairn_sequence *want = &newest->sequences[i];
            const cairn_sequence *got = find_sequence(found, nfound, want->schema, want->name);
            /* equal, or ahead: a server that caches sequence values (MariaDB)
             * moves past what it hands out, and a restored sequence ahead of
             * the source never repeats a value; behind it would */
            const char *state = !got                                      ? "missing"
                                : got->last_value < want->last_value      ? "behind"
                                : got->last_value > want->last_value      ? "ahead"
                                : (!got->is_called) != (!want->is_called) ? "behind"
                                                                          : "equal";
            int passed = strcmp(state, "equal") == 0 || strcmp(state, "ahead") == 0;
            json_t *r = json_pack("{s:s, s:s, s:I, s:o, s:s, s:b}", "schema", want->schema, "name",
                                  want->name, "expected", (json_int_t)want->last_value, "value",
                                  got ? json_integer((json_int_t)got->last_value) : json_null(),
                                  "state", state, "passed", passed);
            json_array_append_new(d->sequences, r);
            if (!got)
                fail(d, "sequence %s.%s is missing from the restored database", want->schema,
                     want->name);
            else if (!passed)
                fail(d,
                     "sequence %s.%s is at %lld, behind the %lld the backup recorded: it "
                     "would hand out values the source already did",
                     want->schema, want->name, (long long)got->last_value,
                     (long long)want->last_value);
        }
    }
    for (size_t u = 0; u < nfound; u++)
        cairn_unit_clear(&found[u]);
    free(found);
    return CAIRN_OK;
}

/* "20261126-114015F" -> "cairn_drill_20261126_114015f" */
static char *scratch_name(const char *id)
{
    char *name = cairn_xasprintf("cairn_drill_%s", id);
    for (char *c = name; *c; c++) {
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
        else if (*c == '-')
            *c = '_';
    }
    return name;
}

/* Picks the backup and its chain, and the driver the target speaks. */
static int plan(drill_ctx *d, cairn_error *err)
{
    const cairn_drill_opts *o = d->o;
    const cairn_driver *target = cairn_driver_for_uri(o->target_uri, err);
    if (!target)
        return err->code;
    cairn_repo *r = NULL;
    if (cairn_repo_open(o->repo_dir, 0, &r, err) != CAIRN_OK)
        return err->code;
    cairn_manifest *m = NULL;
    int rc = cairn_repo_select(r, o->backup ? o->backup : "latest", &m, err);
    if (rc == CAIRN_OK && strcmp(m->driver, target->name) != 0) {
        cairn_error_set(err, CAIRN_EUSAGE, "backup %s is of a %s database; the target is %s", m->id,
                        m->driver, target->name);
        rc = cairn_error_hint(err, "drill into a server of the backup's kind");
    }
    d->drv = target;
    if (rc == CAIRN_OK)
        rc = cairn_chain_plan(r, target, m->id, NULL, NULL, 0, &d->chain, err);
    cairn_manifest_free(m);
    cairn_repo_close(r);
    if (rc != CAIRN_OK)
        return rc;
    d->full = d->chain.steps[0];
    d->last = d->chain.steps[d->chain.nsteps - 1];
    return CAIRN_OK;
}

/* Where the restore goes: a scratch database of the server the target
 * names (or the database it names), and the names to drop afterwards. */
static int place(drill_ctx *d, cairn_restore_opts *ro, char **target, char ***scratch,
                 cairn_error *err)
{
    cairn_uri u;
    if (cairn_uri_parse(d->o->target_uri, &u, err) != CAIRN_OK)
        return err->code;
    int named = u.database != NULL;
    cairn_uri_clear(&u);
    *scratch = NULL;
    *target = cairn_xstrdup(d->o->target_uri);
    if (strcmp(d->drv->name, "postgresql") != 0) {
        /* MariaDB: the backup's databases keep their names (the target
         * server must not hold them); they are the scratch */
        if (named) {
            cairn_error_set(err, CAIRN_EUSAGE,
                            "a MariaDB drill restores every database of "
                            "the backup under its own name");
            return cairn_error_hint(err, "give the scratch server without a database "
                                         "(mariadb://user@host:port/)");
        }
        size_t n = 0;
        *scratch = cairn_xcalloc(d->full->nunits + 1, sizeof **scratch);
        for (size_t i = 0; i < d->full->nunits; i++)
            if (!cairn_unit_failed(&d->full->units[i]))
                (*scratch)[n++] = cairn_xstrdup(d->full->units[i].name);
        return CAIRN_OK;
    }
    if (named) {
        if (d->full->ndbs)
            return cairn_error_set(err, CAIRN_EUSAGE,
                                   "backup %s holds %zu databases: give the scratch server "
                                   "without a database (postgresql://user@host:port/)",
                                   d->full->id, d->full->ndbs);
        return CAIRN_OK; /* the user's database: restored into, kept */
    }
    char *base = scratch_name(d->full->id);
    if (d->full->ndbs) {
        *scratch = cairn_xcalloc(d->full->ndbs + 1, sizeof **scratch);
        for (size_t i = 0; i < d->full->ndbs; i++)
            (*scratch)[i] = cairn_xasprintf("%s_%s", base, d->full->dbs[i].name);
        ro->database_prefix = cairn_xasprintf("%s_", base);
        ro->clean = 1; /* a scratch database left by an earlier drill is replaced */
        free(base);
        return CAIRN_OK;
    }
    *scratch = cairn_xcalloc(2, sizeof **scratch);
    (*scratch)[0] = base;
    free(*target);
    *target = cairn_uri_with_database(d->o->target_uri, base);
    ro->clean = 1;
    return CAIRN_OK;
}

static json_t *report_of(drill_ctx *d, const cairn_restore_result *res, double started,
                         char **scratch)
{
    char at[32], finished[32], shown[1024];
    cairn_time_iso((time_t)started, at);
    cairn_time_iso(time(NULL), finished);
    cairn_uri_redact(d->o->target_uri, shown, sizeof shown);
    json_t *names = json_array();
    for (size_t i = 0; scratch && scratch[i]; i++)
        json_array_append_new(names, json_string(scratch[i]));
    int passed = json_array_size(d->failures) == 0;
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:f, s:f, s:f, s:b, s:I, s:I, s:I, s:I, s:O, s:O, "
        "s:O, s:O}",
        "backup", d->last->id, "full", d->full->id, "started_at", at, "finished_at", finished,
        "target", shown, "scratch_databases", names, "kept", d->o->keep, "rto_seconds",
        res->duration, "verify_seconds", res->t_verify, "check_seconds", res->t_loaded_hook,
        "passed", passed, "tables_expected", (json_int_t)d->tables_expected, "tables_found",
        (json_int_t)d->tables_found, "increments", (json_int_t)(d->chain.nsteps - 1),
        "transactions", (json_int_t)res->transactions, "tables", d->tables, "sequences",
        d->sequences, "extra_tables", d->extra, "failures", d->failures);
}

int cairn_drill_run(const cairn_drill_opts *o, json_t **report, cairn_error *err)
{
    *report = NULL;
    drill_ctx d = {.o = o,
                   .tables = json_array(),
                   .sequences = json_array(),
                   .failures = json_array(),
                   .extra = json_array()};
    pthread_mutex_init(&d.lock, NULL);
    double started = (double)time(NULL);
    cairn_restore_opts ro = {.repo_dir = o->repo_dir,
                             .jobs = o->jobs,
                             .no_owner = o->no_owner,
                             .loaded = tables_loaded,
                             .loaded_arg = &d};
    char *target = NULL, **scratch = NULL;
    cairn_restore_result res = {0};
    int rc = plan(&d, err);
    if (rc == CAIRN_OK)
        rc = place(&d, &ro, &target, &scratch, err);
    if (rc == CAIRN_OK) {
        ro.target_uri = target;
        ro.backup = d.last->id;
        cairn_info("drill: restoring backup %s (%zu increment%s) into %s", d.last->id,
                   d.chain.nsteps - 1, d.chain.nsteps == 2 ? "" : "s",
                   scratch ? "scratch databases" : "the database given");
        rc = cairn_restore_run(&ro, &res, err);
    }
    int ran = rc == CAIRN_OK || res.touched;
    if (rc != CAIRN_OK && res.touched)
        fail(&d, "the restore failed: %s", err->message);
    for (size_t i = 0; rc == CAIRN_OK && i < d.nlanded; i++)
        rc = check_sequences(&d, &d.landed[i], err);
    if (ran) {
        *report = report_of(&d, &res, started, scratch);
        cairn_repo *r = NULL;
        cairn_error e = {0};
        if (cairn_repo_open(o->repo_dir, 0, &r, &e) != CAIRN_OK ||
            cairn_repo_put_drill(r, *report, &e) != CAIRN_OK)
            cairn_warn("cannot record the drill in the repository: %s", e.message);
        cairn_repo_close(r);
    }
    /* the scratch databases go, also after a failure, when this run made
     * them (a refused target was not touched, and is not dropped) */
    for (size_t i = 0; scratch && res.touched && !o->keep && scratch[i]; i++) {
        cairn_error e = {0};
        if (!d.drv->drop_database || d.drv->drop_database(o->target_uri, scratch[i], &e) != 0)
            cairn_warn("cannot drop scratch database %s: %s", scratch[i],
                       d.drv->drop_database ? e.message : "the driver cannot");
    }
    if (rc == CAIRN_OK && json_array_size(d.failures))
        rc = cairn_error_set(err, CAIRN_EVERIFY, "drill failed: %s",
                             json_string_value(json_array_get(d.failures, 0)));
    for (size_t i = 0; i < d.nlanded; i++) {
        free(d.landed[i].uri);
        free(d.landed[i].dbname);
    }
    free(d.landed);
    free(target);
    free((char *)ro.database_prefix);
    cairn_strv_free(scratch);
    cairn_chain_clear(&d.chain);
    json_decref(d.tables);
    json_decref(d.sequences);
    json_decref(d.failures);
    json_decref(d.extra);
    pthread_mutex_destroy(&d.lock);
    return rc;
}
