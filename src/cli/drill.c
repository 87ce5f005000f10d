/* cairn drill: restore a backup into scratch databases, check it against
 * what the backup recorded, and measure the restore time (RTO). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/drill.h"

static const char usage[] =
    "usage: cairn drill --repo DIR --target URI [--backup ID|TAG|latest] [--jobs N]\n"
    "                   [--keep] [--no-owner] [--json]\n"
    "\n"
    "Restores a backup (and the increments before it) the way a recovery would,\n"
    "and proves the result: when the full backup is loaded, every table is read\n"
    "back and its row count and content digest (an order-independent sum over its\n"
    "rows, recorded by the backup) must match; after the last increment no\n"
    "sequence may be behind the value the backup recorded.  The restore's wall time is\n"
    "the measured RTO (the checks are not counted).  The result is recorded in the\n"
    "repository: cairn list and cairn status show the last drill.\n"
    "\n"
    "  --target URI  PostgreSQL: a server (postgresql://user@host:port/): the drill\n"
    "                restores into a scratch database cairn_drill_<id> it creates and\n"
    "                drops; or a database, restored into and kept.\n"
    "                MariaDB: a scratch server (mariadb://user@host:port/) that does\n"
    "                not hold the backup's databases; they are dropped afterwards.\n"
    "  --backup ID   the backup to drill (default: latest); an increment drills its\n"
    "                whole chain\n"
    "  --jobs N      parallel loads and checks (default 2)\n"
    "  --keep        leave the scratch databases for inspection\n"
    "  --no-owner    restore without ownership and privileges (a role that owns\n"
    "                nothing on the scratch server)\n"
    "  --json        rto_seconds, passed, tables [{schema, name, rows_expected,\n"
    "                rows, content: match|differs|missing|unread|not recorded,\n"
    "                passed}], sequences, failures\n"
    "\n"
    "examples:\n"
    "  cairn drill --repo /srv/cairn/shop --target postgresql://drill@scratch-db/\n"
    "  cairn drill --repo /srv/cairn/shop --target postgresql://drill@scratch-db/ \\\n"
    "              --backup before-deploy-42 --json\n"
    "\n"
    "exit codes: 0 every check passed, 1 error, 2 usage, 4 a check failed (the\n"
    "            output names each table) or a file failed its checksum, 6 no valid\n"
    "            chain\n";

static void print_report(json_t *r)
{
    json_t *tables = json_object_get(r, "tables"), *t;
    size_t i;
    json_array_foreach(tables, i, t)
    {
        json_t *rows = json_object_get(t, "rows");
        const char *db = json_string_value(json_object_get(t, "database"));
        printf("  %-4s %s%s%s.%s: %lld rows%s, content %s\n",
               json_is_true(json_object_get(t, "passed")) ? "ok" : "FAIL", db ? db : "",
               db ? ":" : "", json_string_value(json_object_get(t, "schema")),
               json_string_value(json_object_get(t, "name")),
               (long long)json_integer_value(rows ? rows : json_object_get(t, "rows_expected")),
               rows ? "" : " expected", json_string_value(json_object_get(t, "content")));
    }
    json_t *seqs = json_object_get(r, "sequences");
    size_t bad = 0;
    json_array_foreach(seqs, i, t) bad += !json_is_true(json_object_get(t, "passed"));
    printf("  %zu sequences checked, %zu wrong\n", json_array_size(seqs), bad);
    json_t *failures = json_object_get(r, "failures");
    json_array_foreach(failures, i, t) printf("  failed: %s\n", json_string_value(t));
    printf("drill of backup %s %s: RTO %.1f s (restore of %lld tables%s), checks %.1f s\n",
           json_string_value(json_object_get(r, "backup")),
           json_is_true(json_object_get(r, "passed")) ? "passed" : "FAILED",
           json_number_value(json_object_get(r, "rto_seconds")),
           (long long)json_integer_value(json_object_get(r, "tables_expected")),
           json_integer_value(json_object_get(r, "increments")) ? " and its increments" : "",
           json_number_value(json_object_get(r, "check_seconds")));
}

int cairn_cmd_drill(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"repo", required_argument, NULL, 'r'},
        {"target", required_argument, NULL, 't'},
        {"backup", required_argument, NULL, 'b'},
        {"jobs", required_argument, NULL, 'j'},
        {"keep", no_argument, NULL, 'k'},
        {"no-owner", no_argument, NULL, 'O'},
        {"json", no_argument, NULL, 'J'},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    cairn_drill_opts o = {.jobs = 2};
    int json = 0, opt;
    while ((opt = cli_next_option("drill", &argc, &argv, longopts)) != -1) {
        switch (opt) {
        case 'r':
            o.repo_dir = optarg;
            break;
        case 't':
            o.target_uri = optarg;
            break;
        case 'b':
            o.backup = optarg;
            break;
        case 'j':
            if (cli_parse_jobs(optarg, &o.jobs) != 0)
                return cli_usage_error("drill", "--jobs needs a number from 1 to 256");
            break;
        case 'k':
            o.keep = 1;
            break;
        case 'O':
            o.no_owner = 1;
            break;
        case 'J':
            json = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            return cli_unknown_option("drill", opt, argc, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("drill", "unexpected argument \"%s\"", argv[optind]);
    if (!o.repo_dir)
        return cli_usage_error("drill", "--repo is required");
    if (!o.target_uri)
        return cli_usage_error("drill", "--target is required (a scratch server)");
    cairn_error err = {0};
    json_t *report = NULL;
    int rc = cairn_drill_run(&o, &report, &err);
    if (report) {
        if (json)
            cli_print_json(report);
        else
            print_report(report);
        json_decref(report);
    }
    return rc == CAIRN_OK ? 0 : cli_fail(&err);
}
