/* Reading a manifest: strict, so a damaged or hostile one is refused
 * before any of its paths or values are used. */
#include <stdlib.h>
#include <string.h>

#include "repo/manifest.h"
#include "util/text.h"

typedef struct {
    cairn_error *err;
    const char *where;
} ctx;

static int fail(ctx *c, const char *field, const char *why)
{
    cairn_error_set(c->err, CAIRN_EVERIFY, "manifest is invalid: %s%s%s %s", c->where,
                    c->where[0] ? "." : "", field, why);
    return -1;
}

/* Optional string: NULL stays NULL; anything but a string or null fails. */
static int get_str(ctx *c, json_t *o, const char *key, int required, char **out)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return required ? fail(c, key, "is missing") : 0;
    if (!json_is_string(v))
        return fail(c, key, "is not a string");
    *out = cairn_xstrdup(json_string_value(v));
    return 0;
}

static int get_u64(ctx *c, json_t *o, const char *key, int required, uint64_t *out)
{
    json_t *v = json_object_get(o, key);
    *out = 0;
    if (!v || json_is_null(v))
        return required ? fail(c, key, "is missing") : 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return fail(c, key, "is not a non-negative integer");
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* An optional signed integer: null means unbounded. */
static int get_i64(ctx *c, json_t *o, const char *key, int64_t *out, int *present)
{
    json_t *v = json_object_get(o, key);
    *out = 0;
    *present = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return fail(c, key, "is not an integer");
    *out = (int64_t)json_integer_value(v);
    *present = 1;
    return 0;
}

static void copy_fixed(json_t *o, const char *key, char *dst, size_t cap)
{
    json_t *v = json_object_get(o, key);
    cairn_strlcpy(dst, json_is_string(v) ? json_string_value(v) : "", cap);
}

static int read_file(ctx *c, json_t *o, cairn_file *f)
{
    char *raw = NULL, *stored = NULL;
    int rc = -1;
    if (!json_is_object(o))
        return fail(c, "file", "is not an object");
    if (get_str(c, o, "path", 1, &f->path) || get_str(c, o, "compression", 1, &f->compression) ||
        get_u64(c, o, "raw_bytes", 1, &f->raw.bytes) ||
        get_u64(c, o, "stored_bytes", 1, &f->stored.bytes) ||
        get_str(c, o, "raw_sha256", 1, &raw) || get_str(c, o, "stored_sha256", 1, &stored))
        goto out;
    if (cairn_manifest_path_ok(f->path) != 0) {
        fail(c, "path", "escapes the backup directory or has odd characters");
        goto out;
    }
    if (strcmp(f->compression, "zstd") != 0 && strcmp(f->compression, "none") != 0) {
        fail(c, "compression", "is not zstd or none");
        goto out;
    }
    if (cairn_digest_from_hex(&f->raw, raw) || cairn_digest_from_hex(&f->stored, stored)) {
        fail(c, "sha256", "is not 64 hex digits");
        goto out;
    }
    rc = 0;
out:
    free(raw);
    free(stored);
    return rc;
}

static int read_object(ctx *c, json_t *o, cairn_object *obj)
{
    char *kind = NULL;
    uint64_t number = 0;
    if (!json_is_object(o))
        return fail(c, "objects", "holds a non-object");
    if (get_u64(c, o, "number", 1, &number) || get_str(c, o, "schema", 1, &obj->schema) ||
        get_str(c, o, "name", 1, &obj->name) || get_str(c, o, "kind", 1, &kind) ||
        get_u64(c, o, "rows", 0, &obj->rows) || get_u64(c, o, "bytes", 0, &obj->bytes))
        return free(kind), -1;
    obj->number = (uint32_t)number;
    if (get_str(c, o, "split_key", 0, &obj->split_key) || get_str(c, o, "engine", 0, &obj->engine))
        return -1;
    obj->nontransactional = json_is_true(json_object_get(o, "nontransactional"));
    int bad_kind = cairn_object_kind_parse(kind, &obj->kind);
    free(kind);
    if (bad_kind)
        return fail(c, "kind", "is unknown");
    json_t *cols = json_object_get(o, "columns");
    if (!json_is_array(cols))
        return fail(c, "columns", "is not an array");
    obj->columns = cairn_xcalloc(json_array_size(cols), sizeof *obj->columns);
    for (size_t i = 0; i < json_array_size(cols); i++) {
        json_t *v = json_array_get(cols, i);
        if (!json_is_string(v))
            return fail(c, "columns", "holds a non-string");
        obj->columns[obj->ncolumns++] = cairn_xstrdup(json_string_value(v));
    }
    json_t *chunks = json_object_get(o, "chunks");
    if (!json_is_array(chunks))
        return fail(c, "chunks", "is not an array");
    obj->chunks = cairn_xcalloc(json_array_size(chunks), sizeof *obj->chunks);
    for (size_t i = 0; i < json_array_size(chunks); i++) {
        json_t *cj = json_array_get(chunks, i);
        cairn_chunk *ch = &obj->chunks[obj->nchunks++];
        uint64_t index = 0;
        if (read_file(c, cj, &ch->file) || get_u64(c, cj, "index", 1, &index) ||
            get_u64(c, cj, "rows", 0, &ch->rows))
            return -1;
        ch->index = (uint32_t)index;
        json_t *content = json_object_get(cj, "content");
        if (content) {
            if (cairn_rowsum_from_hex(&ch->content, json_string_value(content)) != 0)
                return fail(c, "content", "is not 32 lowercase hex digits");
            ch->content.rows = ch->rows;
            ch->has_content = 1;
        }
        if (json_object_get(cj, "page_lo")) {
            ch->split = CAIRN_SPLIT_PAGES;
            if (get_u64(c, cj, "page_lo", 1, &ch->page_lo) ||
                get_u64(c, cj, "page_hi", 0, &ch->page_hi))
                return -1;
        } else if (json_object_get(cj, "key_lo") || json_object_get(cj, "key_hi")) {
            ch->split = CAIRN_SPLIT_KEY;
            if (get_i64(c, cj, "key_lo", &ch->key_lo, &ch->has_key_lo) ||
                get_i64(c, cj, "key_hi", &ch->key_hi, &ch->has_key_hi))
                return -1;
        }
    }
    return 0;
}

static int read_unit(ctx *c, json_t *o, cairn_unit *u)
{
    if (!json_is_object(o))
        return fail(c, "units", "holds a non-object");
    if (get_str(c, o, "name", 1, &u->name) || get_str(c, o, "kind", 0, &u->kind) ||
        get_str(c, o, "position", 0, &u->position) || get_str(c, o, "status", 1, &u->status) ||
        get_str(c, o, "error", 0, &u->error) || get_str(c, o, "fingerprint", 0, &u->fingerprint))
        return -1;
    if (strcmp(u->status, "complete") != 0 && strcmp(u->status, "failed") != 0)
        return fail(c, "status", "is neither complete nor failed");
    u->schema_missing = json_is_true(json_object_get(o, "schema_missing"));
    if (get_str(c, o, "database", 0, &u->database))
        return -1;
    json_t *objs = json_object_get(o, "objects");
    json_t *seqs = json_object_get(o, "sequences");
    if (!json_is_array(objs) || !json_is_array(seqs))
        return fail(c, "objects", "or sequences is not an array");
    u->objects = cairn_xcalloc(json_array_size(objs), sizeof *u->objects);
    for (size_t i = 0; i < json_array_size(objs); i++)
        if (read_object(c, json_array_get(objs, i), &u->objects[u->nobjects++]))
            return -1;
    u->sequences = cairn_xcalloc(json_array_size(seqs), sizeof *u->sequences);
    for (size_t i = 0; i < json_array_size(seqs); i++) {
        json_t *s = json_array_get(seqs, i);
        cairn_sequence *sq = &u->sequences[u->nsequences++];
        char *v = NULL;
        if (!json_is_object(s) || get_str(c, s, "schema", 1, &sq->schema) ||
            get_str(c, s, "name", 1, &sq->name) || get_str(c, s, "last_value", 1, &v))
            return free(v), -1;
        char *end = NULL;
        sq->last_value = strtoll(v, &end, 10);
        int bad = !*v || *end;
        free(v);
        if (bad)
            return fail(c, "last_value", "is not an integer");
        sq->is_called = json_is_true(json_object_get(s, "is_called"));
    }
    return 0;
}

static int read_strv(ctx *c, json_t *a, const char *field, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!a || json_is_null(a))
        return 0;
    if (!json_is_array(a))
        return fail(c, field, "is not an array");
    *out = cairn_xcalloc(json_array_size(a) + 1, sizeof **out);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_string(v))
            return fail(c, field, "holds a non-string");
        (*out)[(*n)++] = cairn_xstrdup(json_string_value(v));
    }
    return 0;
}

static int read_dbpart(ctx *c, json_t *o, cairn_dbpart *d)
{
    if (!json_is_object(o))
        return fail(c, "databases", "holds a non-object");
    if (get_str(c, o, "name", 1, &d->name) || get_str(c, o, "position", 1, &d->position) ||
        get_str(c, o, "slot", 0, &d->slot) || get_str(c, o, "identity", 0, &d->snapshot_identity) ||
        read_strv(c, json_object_get(o, "workers"), "workers", &d->worker_snapshots,
                  &d->nworker_snapshots))
        return -1;
    json_t *schema = json_object_get(o, "schema");
    if (schema && !json_is_null(schema)) {
        if (read_file(c, schema, &d->schema))
            return -1;
        d->has_schema = 1;
    }
    json_t *log = json_object_get(o, "log");
    if (log && !json_is_null(log)) {
        if (read_file(c, log, &d->log))
            return -1;
        d->has_log = 1;
    }
    return 0;
}

static int read_resume(ctx *c, json_t *o, cairn_resume *r)
{
    if (!json_is_object(o))
        return fail(c, "resumes", "holds a non-object");
    if (get_str(c, o, "position", 1, &r->position) || get_str(c, o, "gtid", 0, &r->gtid) ||
        get_str(c, o, "finished_at", 0, &r->finished_at) ||
        read_strv(c, json_object_get(o, "units"), "units", &r->units, &r->nunits) ||
        read_strv(c, json_object_get(o, "schema_units"), "schema_units", &r->schema_units,
                  &r->nschema_units) ||
        read_file(c, json_object_get(o, "log"), &r->log))
        return -1;
    json_t *schema = json_object_get(o, "schema");
    if (schema && !json_is_null(schema)) {
        if (read_file(c, schema, &r->schema))
            return -1;
        r->has_schema = 1;
    }
    return 0;
}

int cairn_manifest_from_json(json_t *root, cairn_manifest *m, cairn_error *err)
{
    ctx c = {err, ""};
    memset(m, 0, sizeof *m);
    if (!json_is_object(root))
        return fail(&c, "root", "is not an object"), CAIRN_EVERIFY;
    uint64_t format = 0;
    if (get_u64(&c, root, "format", 1, &format))
        goto bad;
    if (format != CAIRN_MANIFEST_FORMAT) {
        cairn_error_set(err, CAIRN_EVERIFY, "manifest format %llu is not supported",
                        (unsigned long long)format);
        cairn_error_hint(err, "this cairn reads format %d; use the cairn that wrote it",
                         CAIRN_MANIFEST_FORMAT);
        goto bad_keep;
    }
    m->format = (int)format;
    if (get_str(&c, root, "id", 1, &m->id) || get_str(&c, root, "type", 1, &m->type) ||
        get_str(&c, root, "parent", 0, &m->parent) || get_str(&c, root, "status", 1, &m->status) ||
        get_str(&c, root, "tag", 0, &m->tag) || get_str(&c, root, "driver", 1, &m->driver) ||
        get_str(&c, root, "started_at", 0, &m->started_at) ||
        get_str(&c, root, "finished_at", 0, &m->finished_at) ||
        get_str(&c, root, "start_position", 0, &m->start_position) ||
        get_str(&c, root, "end_position", 0, &m->end_position) ||
        get_str(&c, root, "gtid", 0, &m->gtid) || get_str(&c, root, "end_at", 0, &m->end_at) ||
        get_str(&c, root, "first_commit_at", 0, &m->first_commit_at) ||
        get_str(&c, root, "last_commit_at", 0, &m->last_commit_at) ||
        get_str(&c, root, "compression", 1, &m->compression))
        goto bad;
    json_t *src = json_object_get(root, "source");
    if (json_is_object(src)) {
        copy_fixed(src, "system_identifier", m->source.system_id, sizeof m->source.system_id);
        copy_fixed(src, "database", m->source.database, sizeof m->source.database);
        copy_fixed(src, "server_version", m->source.server_version,
                   sizeof m->source.server_version);
        copy_fixed(src, "encoding", m->source.encoding, sizeof m->source.encoding);
        m->source.timeline = (uint32_t)json_integer_value(json_object_get(src, "timeline"));
    }
    json_t *snap = json_object_get(root, "snapshot");
    c.where = "snapshot";
    if (!json_is_object(snap) || get_str(&c, snap, "mode", 1, &m->snapshot_mode) ||
        get_str(&c, snap, "slot", 0, &m->slot) ||
        get_str(&c, snap, "identity", 0, &m->snapshot_identity) ||
        read_strv(&c, json_object_get(snap, "workers"), "workers", &m->worker_snapshots,
                  &m->nworker_snapshots)) {
        if (!json_is_object(snap))
            fail(&c, "", "is missing");
        goto bad;
    }
    c.where = "";
    m->jobs = (int)json_integer_value(json_object_get(root, "jobs"));
    json_t *cc = json_object_get(root, "concurrency");
    if (json_is_object(cc)) {
        c.where = "concurrency";
        if (get_str(&c, cc, "mode", 1, &m->mode))
            goto bad;
        c.where = "";
        m->concurrency_changes = (int)json_integer_value(json_object_get(cc, "changes"));
        m->workers_min = (int)json_integer_value(json_object_get(cc, "min_workers"));
        m->workers_max = (int)json_integer_value(json_object_get(cc, "max_workers"));
        m->probe_baseline_ms = json_number_value(json_object_get(cc, "probe_baseline_ms"));
        m->max_latency_increase =
            json_number_value(json_object_get(cc, "max_latency_increase_pct"));
    }
    json_t *rate = json_object_get(root, "max_rate");
    m->max_rate = json_is_integer(rate) && json_integer_value(rate) > 0
                      ? (uint64_t)json_integer_value(rate)
                      : 0;
    m->barrier_seconds = json_number_value(json_object_get(root, "barrier_seconds"));
    m->ddl_block_seconds = json_number_value(json_object_get(root, "ddl_block_seconds"));
    m->duration = json_number_value(json_object_get(root, "duration_seconds"));
    json_t *ph = json_object_get(root, "phases");
    m->phase_snapshot = json_number_value(json_object_get(ph, "snapshot"));
    m->phase_parallel = json_number_value(json_object_get(ph, "parallel"));
    m->phase_sequential = json_number_value(json_object_get(ph, "sequential"));
    json_t *schema = json_object_get(root, "schema");
    if (schema && !json_is_null(schema)) {
        c.where = "schema";
        if (read_file(&c, schema, &m->schema))
            goto bad;
        m->has_schema = 1;
    }
    if (strcmp(m->type, "full") != 0 && strcmp(m->type, "incr") != 0) {
        fail(&c, "type", "is neither full nor incr");
        goto bad;
    }
    if (strcmp(m->type, "incr") == 0) {
        if (!m->parent || !m->start_position || !m->end_position) {
            fail(&c, "parent", "or a position is missing in an increment");
            goto bad;
        }
        if (get_u64(&c, root, "transactions", 1, &m->transactions) ||
            get_u64(&c, root, "changes", 1, &m->changes))
            goto bad;
        json_t *logs = json_object_get(root, "logs");
        c.where = "logs";
        if (!json_is_array(logs)) {
            fail(&c, "", "is not an array");
            goto bad;
        }
        m->logs = cairn_xcalloc(json_array_size(logs) + 1, sizeof *m->logs);
        for (size_t i = 0; i < json_array_size(logs); i++)
            if (read_file(&c, json_array_get(logs, i), &m->logs[m->nlogs++]))
                goto bad;
    }
    json_t *units = json_object_get(root, "units");
    c.where = "units";
    if (!json_is_array(units)) {
        fail(&c, "", "is not an array");
        goto bad;
    }
    m->units = cairn_xcalloc(json_array_size(units), sizeof *m->units);
    for (size_t i = 0; i < json_array_size(units); i++)
        if (read_unit(&c, json_array_get(units, i), &m->units[m->nunits++]))
            goto bad;
    json_t *tenants = json_object_get(root, "tenants");
    c.where = "tenants";
    size_t ignored = 0;
    if (tenants && (read_strv(&c, json_object_get(tenants, "include"), "include",
                              &m->tenant_include, &ignored) ||
                    read_strv(&c, json_object_get(tenants, "exclude"), "exclude",
                              &m->tenant_exclude, &ignored)))
        goto bad;
    json_t *dbs = json_object_get(root, "databases");
    c.where = "databases";
    if (dbs && !json_is_array(dbs)) {
        fail(&c, "", "is not an array");
        goto bad;
    }
    m->dbs = cairn_xcalloc(json_array_size(dbs) + 1, sizeof *m->dbs);
    for (size_t i = 0; i < json_array_size(dbs); i++)
        if (read_dbpart(&c, json_array_get(dbs, i), &m->dbs[m->ndbs++]))
            goto bad;
    for (size_t i = 0; i < m->ndbs; i++)
        if (!m->dbs[i].has_schema && m->type && strcmp(m->type, "full") == 0) {
            fail(&c, "", "names a database without its schema archive");
            goto bad;
        }
    json_t *resumes = json_object_get(root, "resumes");
    c.where = "resumes";
    if (resumes && !json_is_array(resumes)) {
        fail(&c, "", "is not an array");
        goto bad;
    }
    m->resumes = cairn_xcalloc(json_array_size(resumes) + 1, sizeof *m->resumes);
    for (size_t i = 0; i < json_array_size(resumes); i++)
        if (read_resume(&c, json_array_get(resumes, i), &m->resumes[m->nresumes++]))
            goto bad;
    c.where = "";
    if (read_strv(&c, json_object_get(root, "warnings"), "warnings", &m->warnings, &m->nwarnings))
        goto bad;
    cairn_manifest_sum(m);
    return CAIRN_OK;
bad:
    err->code = CAIRN_EVERIFY;
bad_keep:
    cairn_manifest_clear(m);
    return CAIRN_EVERIFY;
}

int cairn_manifest_parse(const char *text, size_t len, cairn_manifest *m, cairn_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        memset(m, 0, sizeof *m);
        return cairn_error_set(err, CAIRN_EVERIFY, "manifest is not valid JSON (line %d: %s)",
                               jerr.line, jerr.text);
    }
    int rc = cairn_manifest_from_json(root, m, err);
    json_decref(root);
    return rc;
}
