/* cairn list: the backups in a repository, oldest first. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "repo/repo.h"
#include "util/text.h"

static const char usage[] =
    "usage: cairn list --repo DIR [--json]\n"
    "\n"
    "Lists the backups in the repository, oldest first.  Backups that never\n"
    "finished (no manifest) do not exist and are not listed.\n"
    "\n"
    "  --json    an array of objects: id, type, parent, status, start_position,\n"
    "            end_position, started_at, finished_at, raw_bytes, stored_bytes,\n"
    "            units, tag, duration_seconds\n"
    "\n"
    "example:\n"
    "  cairn list --repo /srv/cairn/shop\n";

static json_t *entry(const cairn_manifest *m)
{
    json_t *j = json_pack(
        "{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:o, s:f, s:s}", "id", m->id,
        "type", m->type, "parent", m->parent ? json_string(m->parent) : json_null(), "status",
        m->status, "start_position",
        m->start_position ? json_string(m->start_position) : json_null(), "end_position",
        m->end_position ? json_string(m->end_position) : json_null(), "started_at",
        m->started_at ? json_string(m->started_at) : json_null(), "finished_at",
        m->finished_at ? json_string(m->finished_at) : json_null(), "raw_bytes",
        (json_int_t)m->raw_bytes, "stored_bytes", (json_int_t)m->stored_bytes, "units",
        (json_int_t)m->nunits, "tag", m->tag ? json_string(m->tag) : json_null(),
        "duration_seconds", m->duration, "database", m->source.database);
    json_object_set_new(j, "gtid", m->gtid ? json_string(m->gtid) : json_null());
    return j;
}

int cairn_cmd_list(int argc, char **argv)
{
    cli_repo_args a = {0};
    int rc = cli_parse_repo_args("list", usage, 0, 0, argc, argv, &a);
    if (rc >= 0)
        return rc;
    cairn_error err = {0};
    cairn_repo *r = NULL;
    if (cairn_repo_open(a.repo, 0, &r, &err) != CAIRN_OK)
        return cli_fail(&err);
    cairn_manifest **list = NULL;
    size_t n = 0;
    if (cairn_repo_list(r, &list, &n, &err) != CAIRN_OK) {
        cairn_repo_close(r);
        return cli_fail(&err);
    }
    if (a.json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, entry(list[i]));
        cli_print_json(arr);
        json_decref(arr);
    } else if (n == 0) {
        printf("no backups in %s\n", a.repo);
    } else {
        printf("%-18s %-5s %-9s %-20s %10s %10s %9s  %s\n", "ID", "TYPE", "STATUS", "POSITION",
               "RAW", "STORED", "DURATION", "TAG");
        for (size_t i = 0; i < n; i++) {
            const cairn_manifest *m = list[i];
            char raw[32], stored[32], dur[32];
            cairn_format_bytes(m->raw_bytes, raw, sizeof raw);
            cairn_format_bytes(m->stored_bytes, stored, sizeof stored);
            snprintf(dur, sizeof dur, "%.1fs", m->duration);
            printf("%-18s %-5s %-9s %-20s %10s %10s %9s  %s\n", m->id, m->type, m->status,
                   m->end_position ? m->end_position : "-", raw, stored, dur, m->tag ? m->tag : "");
        }
    }
    cairn_repo_list_free(list, n);
    cairn_repo_close(r);
    return 0;
}
