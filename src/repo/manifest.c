/* The manifest: building its JSON, totals, path rules, freeing. */
#include "repo/manifest.h"

#include <stdlib.h>
#include <string.h>

#include "util/text.h"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *file_json(const cairn_file *f)
{
    char raw[65], stored[65];
    cairn_digest_hex(&f->raw, raw);
    cairn_digest_hex(&f->stored, stored);
    return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s}", "path", f->path, "compression",
                     f->compression ? f->compression : "none", "raw_bytes",
                     (json_int_t)f->raw.bytes, "stored_bytes", (json_int_t)f->stored.bytes,
                     "raw_sha256", raw, "stored_sha256", stored);
}

static json_t *object_json(const cairn_object *o)
{
    json_t *cols = json_array();
    for (size_t i = 0; i < o->ncolumns; i++)
        json_array_append_new(cols, json_string(o->columns[i]));
    json_t *chunks = json_array();
    for (size_t i = 0; i < o->nchunks; i++) {
        const cairn_chunk *c = &o->chunks[i];
        json_t *cj = file_json(&c->file);
        json_object_set_new(cj, "index", json_integer(c->index));
        json_object_set_new(cj, "rows", json_integer((json_int_t)c->rows));
        if (c->has_content) {
            char hex[33];
            cairn_rowsum_hex(&c->content, hex);
            json_object_set_new(cj, "content", json_string(hex));
        }
        if (c->split == CAIRN_SPLIT_PAGES) {
            json_object_set_new(cj, "page_lo", json_integer((json_int_t)c->page_lo));
            json_object_set_new(cj, "page_hi",
                                c->page_hi ? json_integer((json_int_t)c->page_hi) : json_null());
        } else if (c->split == CAIRN_SPLIT_KEY) {
            json_object_set_new(cj, "key_lo",
                                c->has_key_lo ? json_integer((json_int_t)c->key_lo) : json_null());
            json_object_set_new(cj, "key_hi",
                                c->has_key_hi ? json_integer((json_int_t)c->key_hi) : json_null());
        }
        json_array_append_new(chunks, cj);
    }
    json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:I, s:I, s:o, s:o}", "number", (int)o->number,
                          "schema", o->schema, "name", o->name, "kind",
                          cairn_object_kind_name(o->kind), "rows", (json_int_t)o->rows, "bytes",
                          (json_int_t)o->bytes, "columns", cols, "chunks", chunks);
    if (o->split_key)
        json_object_set_new(j, "split_key", json_string(o->split_key));
    if (o->engine)
        json_object_set_new(j, "engine", json_string(o->engine));
    if (o->nontransactional)
        json_object_set_new(j, "nontransactional", json_true());
    return j;
}

static json_t *unit_json(const cairn_unit *u)
{
    json_t *objs = json_array();
    for (size_t i = 0; i < u->nobjects; i++)
        json_array_append_new(objs, object_json(&u->objects[i]));
    json_t *seqs = json_array();
    for (size_t i = 0; i < u->nsequences; i++) {
        const cairn_sequence *s = &u->sequences[i];
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)s->last_value);
        json_array_append_new(seqs, json_pack("{s:s, s:s, s:s, s:b}", "schema", s->schema, "name",
                                              s->name, "last_value", v, "is_called", s->is_called));
    }
    json_t *j =
        json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o}", "name", u->name, "kind",
                  u->kind ? u->kind : "database", "position", str_or_null(u->position), "status",
                  u->status ? u->status : "complete", "error", str_or_null(u->error), "fingerprint",
                  str_or_null(u->fingerprint), "objects", objs, "sequences", seqs);
    if (u->schema_missing)
        json_object_set_new(j, "schema_missing", json_true());
    if (u->database)
        json_object_set_new(j, "database", json_string(u->database));
    return j;
}

static json_t *strv_json(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; v && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static size_t strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

static json_t *dbpart_json(const cairn_dbpart *d)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "name", d->name, "position",
                     d->position, "slot", str_or_null(d->slot), "identity",
                     str_or_null(d->snapshot_identity), "workers",
                     strv_json(d->worker_snapshots, d->nworker_snapshots), "schema",
                     d->has_schema ? file_json(&d->schema) : json_null(), "log",
                     d->has_log ? file_json(&d->log) : json_null());
}

static json_t *resume_json(const cairn_resume *r)
{
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "position", r->position, "gtid",
                     str_or_null(r->gtid), "finished_at", str_or_null(r->finished_at), "units",
                     strv_json(r->units, r->nunits), "schema_units",
                     strv_json(r->schema_units, r->nschema_units), "log", file_json(&r->log),
                     "schema", r->has_schema ? file_json(&r->schema) : json_null());
}

json_t *cairn_manifest_to_json(const cairn_manifest *m)
{
    json_t *root = json_object();
    json_object_set_new(root, "format", json_integer(m->format));
    json_object_set_new(root, "id", json_string(m->id));
    json_object_set_new(root, "type", json_string(m->type));
    json_object_set_new(root, "parent", str_or_null(m->parent));
    json_object_set_new(root, "status", json_string(m->status));
    json_object_set_new(root, "tag", str_or_null(m->tag));
    json_object_set_new(root, "driver", json_string(m->driver));
    json_object_set_new(root, "source",
                        json_pack("{s:s, s:i, s:s, s:s, s:s}", "system_identifier",
                                  m->source.system_id, "timeline", (int)m->source.timeline,
                                  "database", m->source.database, "server_version",
                                  m->source.server_version, "encoding", m->source.encoding));
    json_object_set_new(root, "started_at", str_or_null(m->started_at));
    json_object_set_new(root, "finished_at", str_or_null(m->finished_at));
    json_object_set_new(root, "start_position", str_or_null(m->start_position));
    json_object_set_new(root, "end_position", str_or_null(m->end_position));
    json_object_set_new(root, "gtid", str_or_null(m->gtid));
    json_object_set_new(root, "end_at", str_or_null(m->end_at));
    if (strcmp(m->type, "incr") == 0) {
        json_object_set_new(root, "first_commit_at", str_or_null(m->first_commit_at));
        json_object_set_new(root, "last_commit_at", str_or_null(m->last_commit_at));
        json_object_set_new(root, "transactions", json_integer((json_int_t)m->transactions));
        json_object_set_new(root, "changes", json_integer((json_int_t)m->changes));
        json_t *logs = json_array();
        for (size_t i = 0; i < m->nlogs; i++)
            json_array_append_new(logs, file_json(&m->logs[i]));
        json_object_set_new(root, "logs", logs);
    }
    if (m->barrier_seconds > 0)
        json_object_set_new(root, "barrier_seconds", json_real(m->barrier_seconds));
    if (m->ddl_block_seconds > 0)
        json_object_set_new(root, "ddl_block_seconds", json_real(m->ddl_block_seconds));
    json_t *workers = json_array();
    for (size_t i = 0; i < m->nworker_snapshots; i++)
        json_array_append_new(workers, json_string(m->worker_snapshots[i]));
    json_object_set_new(root, "snapshot",
                        json_pack("{s:s, s:o, s:o, s:o}", "mode", m->snapshot_mode, "slot",
                                  str_or_null(m->slot), "identity",
                                  str_or_null(m->snapshot_identity), "workers", workers));
    json_object_set_new(root, "compression", json_string(m->compression));
    if (m->max_rate)
        json_object_set_new(root, "max_rate", json_integer((json_int_t)m->max_rate));
    json_object_set_new(root, "jobs", json_integer(m->jobs));
    if (m->mode)
        json_object_set_new(root, "concurrency",
                            json_pack("{s:s, s:i, s:i, s:i, s:f, s:f}", "mode", m->mode, "changes",
                                      m->concurrency_changes, "min_workers", m->workers_min,
                                      "max_workers", m->workers_max, "probe_baseline_ms",
                                      m->probe_baseline_ms, "max_latency_increase_pct",
                                      m->max_latency_increase));
    json_object_set_new(root, "duration_seconds", json_real(m->duration));
    json_object_set_new(root, "phases",
                        json_pack("{s:f, s:f, s:f}", "snapshot", m->phase_snapshot, "parallel",
                                  m->phase_parallel, "sequential", m->phase_sequential));
    json_object_set_new(root, "raw_bytes", json_integer((json_int_t)m->raw_bytes));
    json_object_set_new(root, "stored_bytes", json_integer((json_int_t)m->stored_bytes));
    json_object_set_new(root, "schema", m->has_schema ? file_json(&m->schema) : json_null());
    json_t *units = json_array();
    for (size_t i = 0; i < m->nunits; i++)
        json_array_append_new(units, unit_json(&m->units[i]));
    json_object_set_new(root, "units", units);
    if (m->tenant_include)
        json_object_set_new(root, "tenants",
                            json_pack("{s:o, s:o}", "include",
                                      strv_json(m->tenant_include, strv_len(m->tenant_include)),
                                      "exclude",
                                      strv_json(m->tenant_exclude, strv_len(m->tenant_exclude))));
    if (m->ndbs) {
        json_t *dbs = json_array();
        for (size_t i = 0; i < m->ndbs; i++)
            json_array_append_new(dbs, dbpart_json(&m->dbs[i]));
        json_object_set_new(root, "databases", dbs);
    }
    if (m->nresumes) {
        json_t *rs = json_array();
        for (size_t i = 0; i < m->nresumes; i++)
            json_array_append_new(rs, resume_json(&m->resumes[i]));
        json_object_set_new(root, "resumes", rs);
    }
    json_t *warnings = json_array();
    for (size_t i = 0; i < m->nwarnings; i++)
        json_array_append_new(warnings, json_string(m->warnings[i]));
    json_object_set_new(root, "warnings", warnings);
    return root;
}

void cairn_manifest_add_warning(cairn_manifest *m, const char *text)
{
    m->warnings = cairn_xrealloc(m->warnings, (m->nwarnings + 1) * sizeof *m->warnings);
    m->warnings[m->nwarnings++] = cairn_xstrdup(text);
}

int cairn_manifest_path_ok(const char *path)
{
    if (!path || !*path || path[0] == '/' || strlen(path) > 255)
        return -1;
    if (strncmp(path, "data/", 5) != 0 && strncmp(path, "schema/", 7) != 0 &&
        strncmp(path, "log/", 4) != 0)
        return -1;
    const char *seg = path;
    for (const char *c = path;; c++) {
        if (*c == '/' || *c == '\0') {
            size_t len = (size_t)(c - seg);
            if (len == 0 || (len == 1 && seg[0] == '.') ||
                (len == 2 && seg[0] == '.' && seg[1] == '.'))
                return -1;
            if (*c == '\0')
                break;
            seg = c + 1;
            continue;
        }
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '_' || *c == '-'))
            return -1;
    }
    return 0;
}

int cairn_manifest_each_file(cairn_manifest *m, cairn_file_visit fn, void *arg)
{
    int rc;
    if (m->has_schema && (rc = fn(&m->schema, NULL, arg)) != 0)
        return rc;
    for (size_t i = 0; i < m->nlogs; i++)
        if ((rc = fn(&m->logs[i], NULL, arg)) != 0)
            return rc;
    for (size_t i = 0; i < m->ndbs; i++) {
        if (m->dbs[i].has_schema && (rc = fn(&m->dbs[i].schema, NULL, arg)) != 0)
            return rc;
        if (m->dbs[i].has_log && (rc = fn(&m->dbs[i].log, NULL, arg)) != 0)
            return rc;
    }
    for (size_t i = 0; i < m->nresumes; i++) {
        if (m->resumes[i].has_schema && (rc = fn(&m->resumes[i].schema, NULL, arg)) != 0)
            return rc;
        if ((rc = fn(&m->resumes[i].log, NULL, arg)) != 0)
            return rc;
    }
    for (size_t u = 0; u < m->nunits; u++)
        for (size_t o = 0; o < m->units[u].nobjects; o++) {
            cairn_object *obj = &m->units[u].objects[o];
            for (size_t c = 0; c < obj->nchunks; c++)
                if ((rc = fn(&obj->chunks[c].file, obj, arg)) != 0)
                    return rc;
        }
    return 0;
}

static int add_sizes(cairn_file *f, const cairn_object *obj, void *arg)
{
    (void)obj;
    cairn_manifest *m = arg;
    m->raw_bytes += f->raw.bytes;
    m->stored_bytes += f->stored.bytes;
    return 0;
}

void cairn_manifest_sum(cairn_manifest *m)
{
    m->raw_bytes = m->stored_bytes = 0;
    cairn_manifest_each_file(m, add_sizes, m);
}

static void strv_free_n(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void cairn_resume_clear(cairn_resume *r)
{
    free(r->position);
    free(r->gtid);
    free(r->finished_at);
    strv_free_n(r->units, r->nunits);
    strv_free_n(r->schema_units, r->nschema_units);
    cairn_file_clear(&r->log);
    cairn_file_clear(&r->schema);
    memset(r, 0, sizeof *r);
}

void cairn_dbpart_clear(cairn_dbpart *d)
{
    free(d->name);
    free(d->position);
    free(d->slot);
    free(d->snapshot_identity);
    strv_free_n(d->worker_snapshots, d->nworker_snapshots);
    cairn_file_clear(&d->schema);
    cairn_file_clear(&d->log);
    memset(d, 0, sizeof *d);
}

void cairn_manifest_clear(cairn_manifest *m)
{
    free(m->id);
    free(m->type);
    free(m->parent);
    free(m->status);
    free(m->tag);
    free(m->driver);
    free(m->started_at);
    free(m->finished_at);
    free(m->start_position);
    free(m->end_position);
    free(m->gtid);
    free(m->end_at);
    free(m->first_commit_at);
    free(m->last_commit_at);
    for (size_t i = 0; i < m->nlogs; i++)
        cairn_file_clear(&m->logs[i]);
    free(m->logs);
    free(m->snapshot_mode);
    free(m->slot);
    free(m->snapshot_identity);
    strv_free_n(m->worker_snapshots, m->nworker_snapshots);
    free(m->compression);
    free(m->mode);
    cairn_file_clear(&m->schema);
    for (size_t i = 0; i < m->nunits; i++)
        cairn_unit_clear(&m->units[i]);
    free(m->units);
    strv_free_n(m->tenant_include, strv_len(m->tenant_include));
    strv_free_n(m->tenant_exclude, strv_len(m->tenant_exclude));
    for (size_t i = 0; i < m->nresumes; i++)
        cairn_resume_clear(&m->resumes[i]);
    free(m->resumes);
    for (size_t i = 0; i < m->ndbs; i++)
        cairn_dbpart_clear(&m->dbs[i]);
    free(m->dbs);
    strv_free_n(m->warnings, m->nwarnings);
    memset(m, 0, sizeof *m);
}

void cairn_manifest_free(cairn_manifest *m)
{
    if (!m)
        return;
    cairn_manifest_clear(m);
    free(m);
}
