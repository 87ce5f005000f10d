/* cairn show ID: one backup in detail. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "repo/repo.h"
#include "util/text.h"

static const char usage[] =
    "usage: cairn show --repo DIR ID [--json]\n"
    "\n"
    "Shows one backup: positions, snapshot, phases, units, tables and their chunks.\n"
    "ID may also be a unique tag or \"latest\".  --json prints the whole manifest.\n"
    "\n"
    "example:\n"
    "  cairn show --repo /srv/cairn/shop latest\n";

static void print_text(const cairn_manifest *m)
{
    char raw[32], stored[32];
    cairn_format_bytes(m->raw_bytes, raw, sizeof raw);
    cairn_format_bytes(m->stored_bytes, stored, sizeof stored);
    printf("backup       %s\n", m->id);
    printf("type         %s\nstatus       %s\n", m->type, m->status);
    if (m->tag)
        printf("tag          %s\n", m->tag);
    char db[300], timeline[32] = "";
    if (m->source.database[0])
        snprintf(db, sizeof db, "database \"%s\"", m->source.database);
    else
        snprintf(db, sizeof db, "all databases");
    if (m->source.timeline)
        snprintf(timeline, sizeof timeline, ", timeline %u", m->source.timeline);
    printf("source       %s, %s (system %s%s, server %s)\n", m->driver, db, m->source.system_id,
           timeline, m->source.server_version);
    if (m->gtid)
        printf("gtid         %s\n", m->gtid);
    if (m->barrier_seconds > 0)
        printf("barrier      held %.3f s\n", m->barrier_seconds);
    if (m->ddl_block_seconds > 0)
        printf("ddl block    held %.3f s\n", m->ddl_block_seconds);
    printf("position     %s%s%s\n", m->end_position ? m->end_position : "-",
           m->end_at ? " at " : "", m->end_at ? m->end_at : "");
    if (strcmp(m->type, "incr") == 0) {
        printf("parent       %s\n", m->parent);
        printf("log          after %s up to %s: %llu transactions, %llu changes\n",
               m->start_position, m->end_position, (unsigned long long)m->transactions,
               (unsigned long long)m->changes);
        if (m->first_commit_at)
            printf("commits      %s to %s\n", m->first_commit_at, m->last_commit_at);
        if (m->slot)
            printf("slot         %s\n", m->slot);
    } else if (m->ndbs) {
        for (size_t i = 0; i < m->ndbs; i++) {
            const cairn_dbpart *d = &m->dbs[i];
            char logsize[32] = "";
            if (d->has_log)
                cairn_format_bytes(d->log.stored.bytes, logsize, sizeof logsize);
            printf("database     %s: snapshot at %s, %zu workers on %s%s%s%s\n", d->name,
                   d->position, d->nworker_snapshots,
                   d->snapshot_identity ? d->snapshot_identity : "-",
                   d->has_log ? "; its log to the common position: " : "", logsize,
                   d->has_log ? " stored" : "");
        }
    } else {
        printf("snapshot     %s%s%s, %zu workers on %s\n", m->snapshot_mode,
               m->slot ? ", slot " : "", m->slot ? m->slot : "", m->nworker_snapshots,
               m->snapshot_identity ? m->snapshot_identity : "-");
    }
    for (size_t i = 0; i < m->nresumes; i++) {
        const cairn_resume *r = &m->resumes[i];
        printf("resume %zu     %zu units dumped again at %s (%s); the others brought there by "
               "the log\n",
               i + 1, r->nunits, r->position, r->finished_at ? r->finished_at : "-");
    }
    printf("started      %s\nfinished     %s (%.1f s: snapshot %.1f, parallel %.1f, "
           "sequential %.1f)\n",
           m->started_at ? m->started_at : "-", m->finished_at ? m->finished_at : "-", m->duration,
           m->phase_snapshot, m->phase_parallel, m->phase_sequential);
    printf("size         %s raw, %s stored (%s)\n", raw, stored, m->compression);
    if (m->mode)
        printf("workers      %s, %d jobs%s", m->mode, m->jobs, m->concurrency_changes ? "" : "\n");
    if (m->mode && m->concurrency_changes)
        printf("; concurrency changed %d times, between %d and %d (probe baseline %.2f ms, "
               "limit +%.0f%%)\n",
               m->concurrency_changes, m->workers_min, m->workers_max, m->probe_baseline_ms,
               m->max_latency_increase);
    if (m->max_rate) {
        char rate[32];
        cairn_format_bytes(m->max_rate, rate, sizeof rate);
        printf("rate cap     %s/s\n", rate);
    }
    for (size_t i = 0; i < m->nwarnings; i++)
        printf("warning      %s\n", m->warnings[i]);
    for (size_t u = 0; u < m->nunits; u++) {
        const cairn_unit *un = &m->units[u];
        printf("\nunit %s (%s, %s)%s%s\n", un->name, un->kind ? un->kind : "database", un->status,
               un->error ? ": " : "", un->error ? un->error : "");
        if (!un->nobjects) {
            if (un->nsequences)
                printf("  %zu sequence values\n", un->nsequences);
            continue;
        }
        printf("  %-40s %-9s %12s %7s %10s\n", "OBJECT", "KIND", "ROWS", "CHUNKS", "RAW");
        for (size_t i = 0; i < un->nobjects; i++) {
            const cairn_object *o = &un->objects[i];
            uint64_t bytes = 0;
            for (size_t c = 0; c < o->nchunks; c++)
                bytes += o->chunks[c].file.raw.bytes;
            char name[300], size[32];
            snprintf(name, sizeof name, "%s.%s", o->schema, o->name);
            cairn_format_bytes(bytes, size, sizeof size);
            printf("  %-40s %-9s %12llu %7zu %10s\n", name, cairn_object_kind_name(o->kind),
                   (unsigned long long)o->rows, o->nchunks, size);
        }
        if (un->nsequences)
            printf("  %zu sequences\n", un->nsequences);
    }
}

int cairn_cmd_show(int argc, char **argv)
{
    cli_repo_args a = {0};
    int rc = cli_parse_repo_args("show", usage, 0, 1, argc, argv, &a);
    if (rc >= 0)
        return rc;
    cairn_error err = {0};
    cairn_repo *r = NULL;
    cairn_manifest *m = NULL;
    if (cairn_repo_open(a.repo, 0, &r, &err) != CAIRN_OK ||
        cairn_repo_select(r, a.positional, &m, &err) != CAIRN_OK) {
        cairn_repo_close(r);
        return cli_fail(&err);
    }
    if (a.json) {
        json_t *j = cairn_manifest_to_json(m);
        cli_print_json(j);
        json_decref(j);
    } else {
        print_text(m);
    }
    cairn_manifest_free(m);
    cairn_repo_close(r);
    return 0;
}
