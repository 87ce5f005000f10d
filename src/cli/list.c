/* cairn list: the backups in a repository, oldest first. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "repo/repo.h"
#include "util/log.h"
#include "util/text.h"

static const char usage[] =
    "usage: cairn list --repo DIR [--source URI] [--json]\n"
    "\n"
    "Lists the backups in the repository, oldest first.  Backups that never\n"
    "finished (no manifest) do not exist and are not listed.\n"
    "\n"
    "  --source URI  also check the newest chain's replication slot on the source,\n"
    "                and warn when it holds back more than 1 GiB of log or is lost\n"
    "  --json        an array of objects: id, type, parent, status, start_position,\n"
    "                end_position, end_at, started_at, finished_at, raw_bytes,\n"
    "                stored_bytes, units, tag, duration_seconds, transactions and\n"
    "                changes (increments); with --source, an object {backups, slot}\n"
    "                (the last drill is in cairn status --json)\n"
    "\n"
    "example:\n"
    "  cairn list --repo /srv/cairn/shop --source postgresql://backup@db1/shop\n";

#define SLOT_WARN_BYTES (1024ull * 1024 * 1024)

/* The newest chain's slot on the source: its state, and a warning when it
 * holds back a lot of log. */
static json_t *slot_check(const char *source, cairn_manifest **list, size_t n)
{
    const char *slot = NULL;
    for (size_t i = 0; i < n; i++)
        if (list[i]->slot)
            slot = list[i]->slot;
    if (!slot)
        return json_null();
    cairn_error err = {0};
    const cairn_driver *drv = cairn_driver_for_uri(source, &err);
    if (!drv || !drv->slot_status) {
        cairn_warn("cannot check the slot: %s", drv ? "the driver has no slots" : err.message);
        return json_null();
    }
    uint64_t retained = 0;
    char status[32] = "";
    if (drv->slot_status(source, slot, &retained, status, sizeof status, &err) != CAIRN_OK) {
        cairn_warn("cannot check replication slot %s: %s", slot, err.message);
        return json_null();
    }
    char shown[32];
    cairn_format_bytes(retained, shown, sizeof shown);
    if (strcmp(status, "missing") == 0 || strcmp(status, "lost") == 0)
        cairn_warn("replication slot %s is %s: the chain cannot take more increments; take a "
                   "full backup",
                   slot, status);
    else if (retained > SLOT_WARN_BYTES)
        cairn_warn("replication slot %s holds back %s of log on the source: take an increment "
                   "(it lets the server free the log) or a full backup",
                   slot, shown);
    return json_pack("{s:s, s:s, s:I}", "name", slot, "status", status, "retained_bytes",
                     (json_int_t)retained);
}

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
    json_object_set_new(j, "end_at", m->end_at ? json_string(m->end_at) : json_null());
    if (strcmp(m->type, "incr") == 0) {
        json_object_set_new(j, "transactions", json_integer((json_int_t)m->transactions));
        json_object_set_new(j, "changes", json_integer((json_int_t)m->changes));
    }
    return j;
}

/* The newest restore drill, and the newest that passed when it did not. */
static void print_last_drill(cairn_repo *r)
{
    json_t *last = NULL, *good = NULL;
    cairn_repo_last_drills(r, &last, &good);
    if (!last) {
        printf("no restore drill yet: cairn drill --repo DIR --target URI proves a backup "
               "restores\n");
        return;
    }
    int passed = json_is_true(json_object_get(last, "passed"));
    printf("last drill: %s of backup %s %s, RTO %.1f s\n",
           json_string_value(json_object_get(last, "finished_at")),
           json_string_value(json_object_get(last, "backup")), passed ? "passed" : "FAILED",
           json_number_value(json_object_get(last, "rto_seconds")));
    if (!passed) {
        if (good)
            printf("last drill that passed: %s of backup %s, RTO %.1f s\n",
                   json_string_value(json_object_get(good, "finished_at")),
                   json_string_value(json_object_get(good, "backup")),
                   json_number_value(json_object_get(good, "rto_seconds")));
        else
            printf("no drill has passed yet\n");
    }
    json_decref(good);
    json_decref(last);
}

int cairn_cmd_list(int argc, char **argv)
{
    cli_repo_args a = {0};
    int rc = cli_parse_repo_args("list", usage, CLI_ALLOW_SOURCE, 0, argc, argv, &a);
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
    json_t *slot = a.source ? slot_check(a.source, list, n) : NULL;
    if (a.json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, entry(list[i]));
        if (slot)
            arr = json_pack("{s:o, s:o}", "backups", arr, "slot", slot);
        cli_print_json(arr);
        json_decref(arr);
        slot = NULL;
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
    if (!a.json)
        print_last_drill(r);
    if (slot && json_is_object(slot))
        printf("slot %s: %s, %lld bytes of log held back\n",
               json_string_value(json_object_get(slot, "name")),
               json_string_value(json_object_get(slot, "status")),
               (long long)json_integer_value(json_object_get(slot, "retained_bytes")));
    json_decref(slot);
    cairn_repo_list_free(list, n);
    cairn_repo_close(r);
    return 0;
}
