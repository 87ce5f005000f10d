/* cairn copy: backups into a second repository. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "engine/copy.h"

static const char copy_usage[] =
    "usage: cairn copy --from DIR --to DIR [--backup ID|TAG|latest | --all] [--json]\n"
    "\n"
    "Copies backups into a second repository -- another disk, an offline volume --\n"
    "reading every file through its checksum, so a file that went bad is refused\n"
    "rather than copied.  By default the latest backup and every backup it needs\n"
    "(its whole chain); --backup picks another, --all copies them all.  A new\n"
    "target takes the source repository's identity and encryption (the same key:\n"
    "files are copied byte for byte); an existing one must match.  Backups already\n"
    "there are left alone, so running it again copies only what is new; an\n"
    "interrupted copy leaves nothing that looks complete.\n"
    "\n"
    "  --from DIR            the repository to copy from\n"
    "  --to DIR              the repository to copy into (created when missing)\n"
    "  --backup ID|TAG|latest  this backup and the backups it descends from\n"
    "  --all                 every backup\n"
    "  --json                {copied, present} on stdout\n"
    "  --passphrase-file FILE  for an encrypted repository (or CAIRN_PASSPHRASE)\n"
    "\n"
    "example:\n"
    "  cairn copy --from /srv/cairn/shop --to /mnt/offline/cairn-shop --all\n"
    "\n"
    "exit codes: 0 done, 1 error, 2 usage, 4 a file failed its checksum, 5 locked,\n"
    "            6 a backup the chain needs is missing\n";

int cairn_cmd_copy(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"backup", required_argument, NULL, 'b'},
        {"all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'J'},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    cairn_copy_opts o = {0};
    int json = 0, opt;
    while ((opt = cli_next_option("copy", &argc, &argv, longopts)) != -1) {
        switch (opt) {
        case 'f':
            o.from = optarg;
            break;
        case 't':
            o.to = optarg;
            break;
        case 'b':
            o.backup = optarg;
            break;
        case 'a':
            o.all = 1;
            break;
        case 'J':
            json = 1;
            break;
        case 'h':
            fputs(copy_usage, stdout);
            return 0;
        default:
            return cli_unknown_option("copy", opt, argc, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("copy", "unexpected argument \"%s\"", argv[optind]);
    if (!o.from || !o.to)
        return cli_usage_error("copy", "--from and --to are required");
    if (o.all && o.backup)
        return cli_usage_error("copy", "give --backup or --all, not both");
    cairn_error err = {0};
    json_t *report = NULL;
    if (cairn_copy_run(&o, &report, &err) != CAIRN_OK)
        return cli_fail(&err);
    if (json) {
        cli_print_json(report);
    } else {
        size_t nc = json_array_size(json_object_get(report, "copied"));
        size_t np = json_array_size(json_object_get(report, "present"));
        printf("copied %zu backup%s to %s (%zu already there)\n", nc, nc == 1 ? "" : "s", o.to, np);
    }
    json_decref(report);
    return 0;
}
