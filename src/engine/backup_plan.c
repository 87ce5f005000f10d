/* What a full backup would do, without doing it: the units and their
 * sizes, the chunks, and an estimate of the time.
 *
 * No snapshot is taken (no slot, no barrier, nothing locked): the catalog
 * is read on a plain connection, so sizes are the server's current
 * statistics.  The estimate divides the bytes by a rate: the one the
 * newest full backup in the repository achieved per job (its tables'
 * bytes over its parallel phase), or a default measured on this project's
 * benchmark machine when the repository has none. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backup.h"
#include "engine/chunk.h"
#include "util/text.h"
#include "util/uri.h"

#define DEFAULT_BYTES_PER_JOB_SECOND (80.0 * 1048576.0)

static uint64_t unit_bytes(const cairn_unit *u)
{
    uint64_t b = 0;
    for (size_t i = 0; i < u->nobjects; i++)
        b += u->objects[i].bytes;
    return b;
}

/* Bytes per second and job of the newest full backup, 0 when unknown. */
static double measured_rate(const char *repo_dir, char *basis, size_t cap)
{
    cairn_repo *r = NULL;
    cairn_error e = {0};
    if (!repo_dir || cairn_repo_open(repo_dir, 0, &r, &e) != CAIRN_OK)
        return 0;
    cairn_manifest **list = NULL;
    size_t n = 0;
    double rate = 0;
    if (cairn_repo_list(r, &list, &n, &e) == CAIRN_OK)
        for (size_t i = n; i-- > 0 && rate == 0;) {
            const cairn_manifest *m = list[i];
            if (strcmp(m->type, "full") != 0 || m->phase_parallel <= 0 || m->jobs < 1)
                continue;
            uint64_t bytes = 0;
            for (size_t u = 0; u < m->nunits; u++)
                bytes += unit_bytes(&m->units[u]);
            if (bytes == 0)
                continue;
            rate = (double)bytes / m->phase_parallel / m->jobs;
            snprintf(basis, cap, "the rate of backup %s", m->id);
        }
    cairn_repo_list_free(list, n);
    cairn_repo_close(r);
    return rate;
}

int cairn_backup_plan(const cairn_backup_opts *o, json_t **out, cairn_error *err)
{
    *out = NULL;
    const cairn_driver *drv = cairn_driver_for_uri(o->source_uri, err);
    if (!drv)
        return err->code;
    cairn_uri u;
    if (cairn_uri_parse(o->source_uri, &u, err) != CAIRN_OK)
        return err->code;
    cairn_snapshot snap;
    memset(&snap, 0, sizeof snap);
    cairn_strlcpy(snap.source.database, u.database ? u.database : "", sizeof snap.source.database);
    cairn_uri_clear(&u);
    cairn_conn *conn = NULL;
    cairn_unit *units = NULL;
    size_t nunits = 0;
    int rc = drv->connect(o->source_uri, &conn, err);
    if (rc == CAIRN_OK)
        rc = drv->list_units(conn, &snap, &o->tenants, &units, &nunits, err);
    drv->close(conn);
    if (rc != CAIRN_OK) {
        for (size_t i = 0; i < nunits; i++)
            cairn_unit_clear(&units[i]);
        free(units);
        return rc;
    }
    int jobs = o->jobs > 0 ? o->jobs : 2;
    cairn_chunk_policy policy = {.chunk_bytes = o->chunk_bytes};
    json_t *ju = json_array();
    uint64_t total = 0;
    size_t objects = 0, chunks = 0;
    for (size_t i = 0; i < nunits; i++) {
        size_t uchunks = 0;
        for (size_t k = 0; k < units[i].nobjects; k++) {
            cairn_chunk_plan(&units[i].objects[k], &policy);
            uchunks += units[i].objects[k].nchunks;
        }
        uint64_t bytes = unit_bytes(&units[i]);
        json_array_append_new(ju, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "name", units[i].name,
                                            "kind", units[i].kind, "objects",
                                            (json_int_t)units[i].nobjects, "bytes",
                                            (json_int_t)bytes, "chunks", (json_int_t)uchunks,
                                            "sequences", (json_int_t)units[i].nsequences));
        total += bytes;
        objects += units[i].nobjects;
        chunks += uchunks;
        cairn_unit_clear(&units[i]);
    }
    free(units);
    char basis[64] = "";
    double rate = measured_rate(o->repo_dir, basis, sizeof basis);
    if (rate <= 0)
        rate = DEFAULT_BYTES_PER_JOB_SECOND;
    size_t lanes = (size_t)jobs < chunks ? (size_t)jobs : (chunks ? chunks : 1);
    double estimate = (double)total / (rate * (double)lanes) + 0.5;
    *out =
        json_pack("{s:s, s:o, s:I, s:I, s:I, s:i, s:f, s:s}", "driver", drv->name, "units", ju,
                  "objects", (json_int_t)objects, "bytes", (json_int_t)total, "chunks",
                  (json_int_t)chunks, "jobs", jobs, "estimate_seconds", estimate, "estimate_basis",
                  basis[0] ? basis : "a default rate (no full backup in the repository yet)");
    return CAIRN_OK;
}
