/* cairn restore and cairn plan (= restore --dry-run). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/restore.h"

static const char restore_usage[] =
    "usage: cairn restore --repo DIR --target URI [options]\n"
    "\n"
    "Restores a backup into the target.  Every checksum is verified before the\n"
    "target is touched.  Missing databases are created; one that already holds\n"
    "tables (PostgreSQL) or exists (MariaDB) is refused unless --clean is given.\n"
    "\n"
    "  --repo DIR            the repository\n"
    "  --target URI          postgresql://user@host:port/database, or for a MariaDB\n"
    "                        backup the server: mariadb://user@host:port/\n"
    "  --backup ID|TAG|latest  which backup (default: the latest complete one)\n"
    "  --jobs N              parallel workers for data and index builds (default 2)\n"
    "  --no-owner            do not restore ownership and privileges (PostgreSQL) or\n"
    "                        DEFINER clauses (MariaDB), for a target that lacks the\n"
    "                        source's roles or users\n"
    "  --clean               replace a target database that is not empty: it is\n"
    "                        dropped and recreated (after the checksums are verified;\n"
    "                        refused while other sessions are connected to it)\n"
    "  --dry-run             print the plan and change nothing (same as cairn plan)\n"
    "  --json                machine-readable output on stdout\n"
    "  --quiet, --verbose    less or more logging on stderr\n"
    "\n"
    "examples:\n"
    "  cairn restore --repo /srv/cairn/shop --target postgresql://db2/shop_copy\n"
    "  cairn restore --repo /srv/cairn/shop --target postgresql://db2/shop --backup "
    "before-deploy-42\n"
    "\n"
    "exit codes: 0 done, 1 error, 2 usage, 4 verification failed (target untouched),\n"
    "            6 no complete backup to restore\n";

static const char plan_usage[] =
    "usage: cairn plan --repo DIR [--target URI] [--backup ID|TAG|latest] [--jobs N] [--json]\n"
    "\n"
    "Prints the ordered restore plan for a backup and changes nothing\n"
    "(the same as cairn restore --dry-run).\n"
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
            printf("set %lld sequence values\n", I("count"));
#undef I
    }
}

static int run(int argc, char **argv, int plan_only)
{
    static const struct option longopts[] = {
        {"repo", required_argument, NULL, 'r'},
        {"target", required_argument, NULL, 't'},
        {"backup", required_argument, NULL, 'b'},
        {"jobs", required_argument, NULL, 'j'},
        {"dry-run", no_argument, NULL, 'n'},
        {"no-owner", no_argument, NULL, 'O'},
        {"clean", no_argument, NULL, 'X'},
        {"json", no_argument, NULL, 'J'},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *verb = plan_only ? "plan" : "restore";
    cairn_restore_opts o = {.jobs = 2, .dry_run = plan_only};
    int json = 0, opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        if (cli_common_option(opt))
            continue;
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
        case 'h':
            fputs(plan_only ? plan_usage : restore_usage, stdout);
            return 0;
        default:
            return cli_usage_error(verb, "unknown or incomplete option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(verb, "unexpected argument \"%s\"", argv[optind]);
    if (!o.repo_dir)
        return cli_usage_error(verb, "--repo is required");
    if (!o.target_uri && !o.dry_run)
        return cli_usage_error(verb, "--target is required");
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
        json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:f, s:{s:f, s:f, s:f, s:f}}", "backup",
                              res.id, "status", "complete", "rows", (json_int_t)res.rows, "chunks",
                              (json_int_t)res.chunks, "raw_bytes", (json_int_t)res.raw_bytes,
                              "duration_seconds", res.duration, "phases", "verify", res.t_verify,
                              "schema", res.t_schema, "data", res.t_data, "post_data", res.t_post);
        cli_print_json(j);
        json_decref(j);
    } else {
        printf("restored backup %s: %llu rows in %zu chunks, %.1f s\n", res.id,
               (unsigned long long)res.rows, res.chunks, res.duration);
    }
    return 0;
}

int cairn_cmd_restore(int argc, char **argv)
{
    return run(argc, argv, 0);
}

int cairn_cmd_plan(int argc, char **argv)
{
    return run(argc, argv, 1);
}
