/* cairn expire: retention by whole chains. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/expire.h"

static const char usage[] =
    "usage: cairn expire --repo DIR --keep-full N [--yes] [--min-retention DURATION]\n"
    "                    [--ignore-min-retention] [--source URI] [--json]\n"
    "\n"
    "Keeps the newest N full backups with their increments and removes every older\n"
    "chain whole, newest increment first, so no increment is ever left without its\n"
    "parent.  Without --yes it only prints what it would remove (the safe default:\n"
    "retention is the one command that deletes backups).\n"
    "\n"
    "  --repo DIR        the repository\n"
    "  --keep-full N     full backups (chains) to keep, at least 1\n"
    "  --yes             remove them; without it, a dry run\n"
    "  --min-retention DURATION  never remove a backup younger than this (30d, 12h,\n"
    "                    90m, 3600s): its whole chain is kept.  With --yes it is recorded\n"
    "                    in cairn.json and holds for every later expire; a shorter one\n"
    "                    than recorded needs --ignore-min-retention\n"
    "  --ignore-min-retention  remove younger backups this once (the explicit override)\n"
    "  --source URI      also drop the replication slot of a removed chain, if one is\n"
    "                    left (a full backup drops the previous chain's slot itself)\n"
    "  --json            {kept, removed, retained, slots_dropped, applied,\n"
    "                    min_retention_seconds} on stdout\n"
    "\n"
    "examples:\n"
    "  cairn expire --repo /srv/cairn/shop --keep-full 2          # what would go\n"
    "  cairn expire --repo /srv/cairn/shop --keep-full 2 --yes    # remove it\n"
    "\n"
    "exit codes: 0 done, 1 error, 2 usage, 5 repository locked\n";

int cairn_cmd_expire(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"repo", required_argument, NULL, 'r'},
        {"keep-full", required_argument, NULL, 'k'},
        {"yes", no_argument, NULL, 'y'},
        {"source", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'J'},
        {"min-retention", required_argument, NULL, 'M'},
        {"ignore-min-retention", no_argument, NULL, 'I'},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    cairn_expire_opts o = {.keep_full = 0, .min_retention = -1};
    int json = 0, opt;
    char *end = NULL;
    while ((opt = cli_next_option("expire", &argc, &argv, longopts)) != -1) {
        switch (opt) {
        case 'r':
            o.repo_dir = optarg;
            break;
        case 'k':
            o.keep_full = (int)strtol(optarg, &end, 10);
            if (!*optarg || *end || o.keep_full < 1 || o.keep_full > 100000)
                return cli_usage_error("expire", "--keep-full takes a number of at least 1");
            break;
        case 'y':
            o.apply = 1;
            break;
        case 's':
            o.source_uri = optarg;
            break;
        case 'J':
            json = 1;
            break;
        case 'M':
            if (cli_parse_duration(optarg, &o.min_retention) != 0)
                return cli_usage_error("expire", "--min-retention takes a duration such as 30d, "
                                                 "12h, 90m or 3600s");
            break;
        case 'I':
            o.ignore_retention = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            return cli_unknown_option("expire", opt, argc, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("expire", "unexpected argument \"%s\"", argv[optind]);
    if (!o.repo_dir)
        return cli_usage_error("expire", "--repo is required");
    if (!o.keep_full)
        return cli_usage_error("expire", "--keep-full is required");
    cairn_error err = {0};
    json_t *report = NULL;
    if (cairn_expire_run(&o, &report, &err) != CAIRN_OK)
        return cli_fail(&err);
    if (json) {
        cli_print_json(report);
    } else {
        json_t *removed = json_object_get(report, "removed");
        size_t nr = json_array_size(removed);
        if (nr == 0)
            printf("nothing to remove: %zu backups kept\n",
                   json_array_size(json_object_get(report, "kept")));
        for (size_t i = 0; i < nr; i++)
            printf("%s %s\n", o.apply ? "removed" : "would remove",
                   json_string_value(json_array_get(removed, i)));
        if (nr && !o.apply)
            printf("dry run: pass --yes to remove these %zu backups\n", nr);
        json_t *kept_young = json_object_get(report, "retained");
        for (size_t i = 0; i < json_array_size(kept_young); i++)
            printf("kept %s: its chain holds a backup younger than the minimum retention\n",
                   json_string_value(json_array_get(kept_young, i)));
    }
    json_decref(report);
    return 0;
}
