/* cairn restore and cairn plan (= restore --dry-run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/restore.h"
#include "util/text.h"

static const char restore_usage[] =
    "usage: cairn restore --repo DIR --target URI [options]\n"
    "\n"
    "Restores a backup into the target: a full backup, then each increment after it\n"
    "in order, up to the chosen backup, position or time.  The chain and every\n"
    "checksum are verified before the target is touched; a chain with a gap is\n"
    "refused (exit 6).  Missing databases are created; one that already holds\n"
    "tables (PostgreSQL) or exists (MariaDB) is refused unless --clean is given.\n"
    "A restore with increments that is interrupted resumes when run again.\n"
    "\n"
    "  --repo DIR            the repository\n"
    "  --target URI          postgresql://user@host:port/database, or for a MariaDB\n"
    "                        backup the server: mariadb://user@host:port/\n"
    "  --backup ID|TAG|latest  which backup (default: the latest complete one); an\n"
    "                        increment brings its full backup and the increments\n"
    "                        between them\n"
    "  --to-position POS     stop after the last transaction that committed at or\n"
    "                        before POS (inclusive; PostgreSQL LSN such as 0/1A2B3C4)\n"
    "  --to-time TIME        stop after the last transaction that committed at or\n"
    "                        before TIME (inclusive; 2026-11-26T14:30:00Z, or with an\n"
    "                        offset such as +01:00; no zone means UTC)\n"
    "  --jobs N              parallel workers for data and index builds (default 2)\n"
    "  --no-owner            do not restore ownership and privileges (PostgreSQL) or\n"
    "                        DEFINER clauses (MariaDB), for a target that lacks the\n"
    "                        source's roles or users\n"
    "  --clean               replace a target database that is not empty: it is\n"
    "                        dropped and recreated (after the checksums are verified;\n"
    "                        refused while other sessions are connected to it); with\n"
    "                        --tenant, the named tenants alone are replaced\n"
    "  --tenant NAME         restore this unit alone (a tenant schema or database of a\n"
    "                        backup taken with --tenant-pattern; a MariaDB database);\n"
    "                        repeatable.  The target may hold other tenants: they are\n"
    "                        left untouched; one that is already there is refused\n"
    "                        unless --clean\n"
    "  --database NAME       a backup of several databases: restore this one (repeatable;\n"
    "                        default all), each under its own name on the target server;\n"
    "                        one --database with a target URI naming a database is\n"
    "                        restored under that name.  --tenant then picks tenants of\n"
    "                        the one database named\n"
    "  --as NEWNAME          with one --tenant: restore it under this schema (database)\n"
    "                        name, beside the original, which is not touched; what it\n"
    "                        refers to outside itself is reported and must exist on\n"
    "                        the target.  PostgreSQL renames it in a scratch database\n"
    "                        (CREATEDB), so every reference the server tracks follows\n"
    "  --dry-run             print the plan and change nothing (same as cairn plan)\n"
    "  --json                machine-readable output on stdout\n"
    "  --quiet, --verbose    less or more logging on stderr\n"
    "\n"
    "examples:\n"
    "  cairn restore --repo /srv/cairn/shop --target postgresql://db2/shop_copy\n"
    "  cairn restore --repo /srv/cairn/shop --target postgresql://db2/shop --backup "
    "before-deploy-42\n"
    "  cairn restore --repo /srv/cairn/shop --target postgresql://db2/shop_then \\\n"
    "                --to-time '2026-11-26 14:29:59Z'\n"
    "  cairn restore --repo /srv/cairn/saas --target postgresql://db1/saas \\\n"
    "                --tenant tenant_0042 --clean\n"
    "  cairn restore --repo /srv/cairn/saas --target postgresql://db1/saas \\\n"
    "                --tenant tenant_0042 --as tenant_0042_then --to-time 2026-11-26T14:29:00Z\n"
    "\n"
    "exit codes: 0 done, 1 error, 2 usage, 4 verification failed (target untouched),\n"
    "            6 no valid chain (a missing increment, a gap, a target past the\n"
    "              newest backup); the target is not touched\n";

static const char plan_usage[] =
    "usage: cairn plan --repo DIR [--target URI] [--backup ID|TAG|latest]\n"
    "                  [--to-position POS | --to-time TIME] [--tenant NAME]...\n"
    "                  [--as NEWNAME] [--database NAME]... [--jobs N] [--json]\n"
    "\n"
    "Prints the ordered restore plan -- the full backup, each increment with its\n"
    "position range, the stop, an estimate of the time -- and changes nothing (the\n"
    "same as cairn restore --dry-run).  Exits 6 when the chain has a gap.\n"
    "\n"
    "example:\n"
    "  cairn plan --repo /srv/cairn/shop --backup latest --json\n";

static void print_plan(json_t *plan)
{
    const char *tag = json_string_value(json_object_get(plan, "tag"));
    printf("restore plan: backup %s (%s%s%s), position %s\n",
           json_string_value(json_object_get(plan, "backup")),
           json_string_value(json_object_get(plan, "type")), tag ? ", tag " : "", tag ? tag : "",
           json_string_value(json_object_get(plan, "position")));
    const char *target = json_string_value(json_object_get(plan, "target"));
    if (target)
        printf("target: %s\n", target);
    json_t *steps = json_object_get(plan, "steps");
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *s = json_array_get(steps, i);
        const char *name = json_string_value(json_object_get(s, "step"));
        printf("  %zu. ", i + 1);
#define I(k) ((long long)json_integer_value(json_object_get(s, k)))
        if (strcmp(name, "verify") == 0)
            printf("verify the checksums of %lld files (%lld bytes stored)\n", I("files"),
                   I("stored_bytes"));
        else if (strcmp(name, "prepare-target") == 0)
            printf("prepare the target: %s\n", json_string_value(json_object_get(s, "action")));
        else if (strcmp(name, "schema") == 0)
            printf("schema %s%s\n", json_string_value(json_object_get(s, "section")),
                   json_object_get(s, "jobs") ? " (indexes, constraints, triggers, matview "
                                                "refreshes; parallel)"
                                              : " (types, tables, functions)");
        else if (strcmp(name, "data") == 0)
            printf("data: %lld tables in %lld chunks, %lld rows, %lld bytes, %lld jobs, largest "
                   "first\n",
                   I("tables"), I("chunks"), I("rows"), I("raw_bytes"), I("jobs"));
        else if (strcmp(name, "sequences") == 0)
            printf("set %lld sequence values%s%s\n", I("count"),
                   json_object_get(s, "from") ? " as of increment " : "",
                   json_object_get(s, "from") ? json_string_value(json_object_get(s, "from")) : "");
        else if (strcmp(name, "catch-up") == 0)
            printf("replay the log of %s%s from %s to %s (%lld bytes stored): every unit at one "
                   "position\n",
                   json_object_get(s, "database") ? "database " : "the units dumped before ",
                   json_object_get(s, "database")
                       ? json_string_value(json_object_get(s, "database"))
                       : "the resume",
                   json_string_value(json_object_get(s, "from")),
                   json_string_value(json_object_get(s, "to")), I("stored_bytes"));
        else if (strcmp(name, "increment") == 0) {
            const char *stop_pos = json_string_value(json_object_get(s, "stop_at_position"));
            const char *stop_time = json_string_value(json_object_get(s, "stop_at_time"));
            printf("replay increment %s: %s to %s, %lld transactions, %lld changes, %lld bytes "
                   "stored%s%s\n",
                   json_string_value(json_object_get(s, "backup")),
                   json_string_value(json_object_get(s, "from")),
                   json_string_value(json_object_get(s, "to")), I("transactions"), I("changes"),
                   I("stored_bytes"),
                   stop_pos || stop_time ? ", stopping after the last commit at "
                                           "or before "
                                         : "",
                   stop_pos    ? stop_pos
                   : stop_time ? stop_time
                               : "");
        }
#undef I
    }
    printf("estimated time: about %.0f s (a rough guide)\n",
           json_number_value(json_object_get(plan, "estimate_seconds")));
}

/* tenants and databases collect the names given; the caller frees them. */
static int run(int argc, char **argv, int plan_only, const char ***tenants, const char ***databases)
{
    size_t ntenants = 0, ndatabases = 0;
    static const struct option longopts[] = {
        {"repo", required_argument, NULL, 'r'},
        {"target", required_argument, NULL, 't'},
        {"backup", required_argument, NULL, 'b'},
        {"jobs", required_argument, NULL, 'j'},
        {"dry-run", no_argument, NULL, 'n'},
        {"no-owner", no_argument, NULL, 'O'},
        {"clean", no_argument, NULL, 'X'},
        {"json", no_argument, NULL, 'J'},
        {"to-position", required_argument, NULL, 'P'},
        {"to-time", required_argument, NULL, 'W'},
        {"tenant", required_argument, NULL, 'U'},
        {"as", required_argument, NULL, 'A'},
        {"database", required_argument, NULL, 'D'},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *verb = plan_only ? "plan" : "restore";
    cairn_restore_opts o = {.jobs = 2, .dry_run = plan_only};
    int json = 0, opt;
    while ((opt = cli_next_option(verb, &argc, &argv, longopts)) != -1) {
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
                return cli_usage_error(verb, "--jobs needs a number from 1 to 256");
            break;
        case 'n':
            o.dry_run = 1;
            break;
        case 'O':
            o.no_owner = 1;
            break;
        case 'X':
            o.clean = 1;
            break;
        case 'J':
            json = 1;
            break;
        case 'P':
            o.to_position = optarg;
            break;
        case 'W':
            o.to_time = optarg;
            break;
        case 'U':
            if (!*optarg)
                return cli_usage_error(verb, "--tenant needs a name");
            cli_add_name(tenants, &ntenants, optarg);
            break;
        case 'D':
            if (!*optarg)
                return cli_usage_error(verb, "--database needs a name");
            cli_add_name(databases, &ndatabases, optarg);
            break;
        case 'A':
            if (!*optarg)
                return cli_usage_error(verb, "--as needs a name");
            o.as = optarg;
            break;
        case 'h':
            fputs(plan_only ? plan_usage : restore_usage, stdout);
            return 0;
        default:
            return cli_unknown_option(verb, opt, argc, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(verb, "unexpected argument \"%s\"", argv[optind]);
    if (!o.repo_dir)
        return cli_usage_error(verb, "--repo is required");
    if (!o.target_uri && !o.dry_run)
        return cli_usage_error(verb, "--target is required");
    o.tenants = *tenants;
    o.databases = *databases;
    if (o.as && ntenants != 1)
        return cli_usage_error(verb, "--as names one tenant's new name: give exactly one --tenant");
    if (o.as && strcmp(o.as, (*tenants)[0]) == 0)
        return cli_usage_error(verb, "--as names the tenant's own name; leave it out");
    cairn_error err = {0};
    if (o.dry_run) {
        json_t *plan = NULL;
        if (cairn_restore_plan(&o, &plan, &err) != CAIRN_OK)
            return cli_fail(&err);
        if (json)
            cli_print_json(plan);
        else
            print_plan(plan);
        json_decref(plan);
        return 0;
    }
    cairn_restore_result res;
    if (cairn_restore_run(&o, &res, &err) != CAIRN_OK)
        return cli_fail(&err);
    if (json) {
        json_t *j = json_pack(
            "{s:s, s:s, s:I, s:I, s:I, s:f, s:{s:f, s:f, s:f, s:f, s:f}, s:s, s:I, s:I, s:I, s:b}",
            "backup", res.id, "status", "complete", "rows", (json_int_t)res.rows, "chunks",
            (json_int_t)res.chunks, "raw_bytes", (json_int_t)res.raw_bytes, "duration_seconds",
            res.duration, "phases", "verify", res.t_verify, "schema", res.t_schema, "data",
            res.t_data, "post_data", res.t_post, "log", res.t_log, "position", res.position,
            "increments", (json_int_t)res.increments, "transactions", (json_int_t)res.transactions,
            "changes", (json_int_t)res.changes, "resumed", res.resumed);
        cli_print_json(j);
        json_decref(j);
    } else {
        if (res.increments)
            printf("restored backup %s: %llu rows in %zu chunks, then %zu increment%s "
                   "(%llu transactions, %llu changes) up to %s, %.1f s\n",
                   res.id, (unsigned long long)res.rows, res.chunks, res.increments,
                   res.increments == 1 ? "" : "s", (unsigned long long)res.transactions,
                   (unsigned long long)res.changes, res.position, res.duration);
        else
            printf("restored backup %s: %llu rows in %zu chunks, %.1f s\n", res.id,
                   (unsigned long long)res.rows, res.chunks, res.duration);
    }
    return 0;
}

static int run_with_room(int argc, char **argv, int plan_only)
{
    const char **tenants = NULL, **databases = NULL;
    int rc = run(argc, argv, plan_only, &tenants, &databases);
    free(tenants);
    free(databases);
    return rc;
}

int cairn_cmd_restore(int argc, char **argv)
{
    return run_with_room(argc, argv, 0);
}

int cairn_cmd_plan(int argc, char **argv)
{
    return run_with_room(argc, argv, 1);
}
