/* Restore: the plan, printed without touching anything. */
#include "engine/restore_int.h"

#include "util/uri.h"

static size_t count_files(const restore_ctx *c, uint64_t *stored)
{
    const cairn_manifest *m = c->m;
    size_t n = m->has_schema ? 1 : 0;
    *stored = m->has_schema ? m->schema.stored.bytes : 0;
    for (size_t u = 0; u < c->nunits; u++)
        for (size_t i = 0; i < c->units[u].nobjects; i++) {
            const cairn_object *obj = &c->units[u].objects[i];
            n += obj->nchunks;
            for (size_t k = 0; k < obj->nchunks; k++)
                *stored += obj->chunks[k].file.stored.bytes;
        }
    return n;
}

static json_t *build_plan(const cairn_restore_opts *o, const restore_ctx *c)
{
    const cairn_chain *chain = &c->chain;
    const cairn_manifest *m = chain->steps[0];
    uint64_t stored = 0, raw = 0;
    size_t files = count_files(c, &stored);
    size_t tables = 0, chunks = 0, matviews = 0, seqs = 0;
    uint64_t rows = 0;
    for (size_t u = 0; u < c->nunits; u++) {
        seqs += c->units[u].nsequences;
        for (size_t i = 0; i < c->units[u].nobjects; i++) {
            const cairn_object *obj = &c->units[u].objects[i];
            for (size_t k = 0; k < obj->nchunks; k++)
                raw += obj->chunks[k].file.raw.bytes;
            if (obj->kind == CAIRN_OBJ_MATVIEW)
                matviews++;
            else
                tables++;
            chunks += obj->nchunks;
            rows += obj->rows;
        }
    }
    char target[512] = "";
    if (o->target_uri)
        cairn_uri_redact(o->target_uri, target, sizeof target);
    int jobs = o->jobs > 0 ? o->jobs : 2;
    json_t *steps = json_array();
    json_array_append_new(steps, json_pack("{s:s, s:I, s:I}", "step", "verify", "files",
                                           (json_int_t)files, "stored_bytes", (json_int_t)stored));
    json_array_append_new(
        steps,
        json_pack("{s:s, s:s}", "step", "prepare-target", "action",
                  o->tenants ? (o->clean ? "create the target database when missing; drop and "
                                           "recreate the tenants named, leaving the others "
                                           "(--clean)"
                                         : "create the target database when missing; refuse "
                                           "tenants the target already holds")
                  : o->clean ? "create the target database(s); drop and recreate one that "
                               "already holds objects (--clean)"
                             : "create the target database(s); refuse one that already holds "
                               "objects"));
    json_array_append_new(steps, json_pack("{s:s, s:s}", "step", "schema", "section", "pre-data"));
    json_array_append_new(steps,
                          json_pack("{s:s, s:I, s:I, s:I, s:I, s:i}", "step", "data", "tables",
                                    (json_int_t)tables, "chunks", (json_int_t)chunks, "raw_bytes",
                                    (json_int_t)raw, "rows", (json_int_t)rows, "jobs", jobs));
    json_array_append_new(steps,
                          json_pack("{s:s, s:I}", "step", "sequences", "count", (json_int_t)seqs));
    json_array_append_new(steps, json_pack("{s:s, s:s, s:i, s:I}", "step", "schema", "section",
                                           "post-data", "jobs", jobs, "matviews_refreshed",
                                           (json_int_t)matviews));
    /* a rough estimate from this machine class: bulk load ~60 MiB/s per job,
     * replay ~5000 changes/s */
    double estimate = (double)raw / (60.0 * 1048576.0 * jobs) + 1.0;
    const cairn_manifest *last = m;
    for (size_t i = 1; i < chain->nsteps; i++) {
        const cairn_manifest *inc = chain->steps[i];
        int is_last = i + 1 == chain->nsteps;
        json_t *step =
            json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "step", "increment", "backup", inc->id,
                      "from", inc->start_position, "to", inc->end_position, "transactions",
                      (json_int_t)inc->transactions, "changes", (json_int_t)inc->changes,
                      "stored_bytes", (json_int_t)inc->stored_bytes);
        if (is_last && chain->stop_position)
            json_object_set_new(step, "stop_at_position", json_string(chain->stop_position));
        if (is_last && chain->stop_time_us)
            json_object_set_new(step, "stop_at_time", json_string(chain->stop_time));
        json_array_append_new(steps, step);
        estimate += (double)inc->changes / 5000.0;
        last = inc;
    }
    for (size_t i = 0; i < m->ndbs; i++)
        if (m->dbs[i].has_log)
            json_array_append_new(
                steps, json_pack("{s:s, s:s, s:s, s:s, s:I}", "step", "catch-up", "database",
                                 m->dbs[i].name, "from", m->dbs[i].position, "to", m->end_position,
                                 "stored_bytes", (json_int_t)m->dbs[i].log.stored.bytes));
    for (size_t i = 0; i < m->nresumes; i++)
        json_array_append_new(steps, json_pack("{s:s, s:s, s:s, s:s, s:I}", "step", "catch-up",
                                               "resume", m->resumes[i].position, "from",
                                               i ? m->resumes[i - 1].position : m->start_position,
                                               "to", m->resumes[i].position, "stored_bytes",
                                               (json_int_t)m->resumes[i].log.stored.bytes));
    if (chain->nsteps > 1)
        json_array_append_new(
            steps, json_pack("{s:s, s:s, s:I}", "step", "sequences", "from", last->id, "count",
                             (json_int_t)(last->nunits ? last->units[0].nsequences : 0)));
    json_t *chain_ids = json_array();
    for (size_t i = 0; i < chain->nsteps; i++)
        json_array_append_new(chain_ids, json_string(chain->steps[i]->id));
    const char *position = chain->stop_position ? chain->stop_position : last->end_position;
    json_t *units = json_array();
    for (size_t u = 0; u < c->nunits; u++)
        json_array_append_new(units, json_string(c->units[u].name));
    return json_pack(
        "{s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:f}", "backup", last->id, "type",
        last->type, "status", last->status, "tag", last->tag ? json_string(last->tag) : json_null(),
        "position", position ? position : "", "chain", chain_ids, "target",
        o->target_uri ? json_string(target) : json_null(), "units", units, "as",
        o->as ? json_string(o->as) : json_null(), "steps", steps, "estimate_seconds", estimate);
}

int cairn_restore_plan(const cairn_restore_opts *o, json_t **plan, cairn_error *err)
{
    restore_ctx c = {.o = o};
    int rc = restore_open_backup(o, &c, err);
    if (rc == CAIRN_OK)
        *plan = build_plan(o, &c);
    restore_release_units(&c);
    cairn_chain_clear(&c.chain);
    cairn_repo_close(c.repo);
    return rc;
}
