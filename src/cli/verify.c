/* cairn verify: read back every file of one or all backups. */
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "engine/verify.h"

static const char usage[] =
    "usage: cairn verify --repo DIR [--backup ID|TAG|latest] [--jobs N] [--json]\n"
    "\n"
    "Reads every file of the backup (default: all backups), decompresses it and\n"
    "checks both SHA-256 digests the manifest records.  Reports every damaged or\n"
    "missing file.\n"
    "\n"
    "  --jobs N   files read at a time (default: the number of CPUs, at most 8)\n"
    "\n"
    "example:\n"
    "  cairn verify --repo /srv/cairn/shop --backup latest\n"
    "\n"
    "exit codes: 0 all good, 1 error, 2 usage, 4 verification failed\n";

int cairn_cmd_verify(int argc, char **argv)
{
    cli_repo_args a = {0};
    int rc =
        cli_parse_repo_args("verify", usage, CLI_ALLOW_BACKUP | CLI_ALLOW_JOBS, 0, argc, argv, &a);
    if (rc >= 0)
        return rc;
    cairn_error err = {0};
    json_t *report = NULL;
    if (a.jobs == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        a.jobs = cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
    }
    rc = cairn_verify_run(a.repo, a.backup, a.jobs, &report, &err);
    if (report) {
        if (a.json) {
            json_t *j = json_pack("{s:b, s:O}", "ok", rc == CAIRN_OK, "backups", report);
            cli_print_json(j);
            json_decref(j);
        } else {
            for (size_t i = 0; i < json_array_size(report); i++) {
                json_t *b = json_array_get(report, i);
                printf("backup %s: %s (%lld files)\n", json_string_value(json_object_get(b, "id")),
                       json_string_value(json_object_get(b, "status")),
                       (long long)json_integer_value(json_object_get(b, "files")));
                json_t *f = json_object_get(b, "failures");
                for (size_t k = 0; k < json_array_size(f); k++)
                    printf("  %s\n",
                           json_string_value(json_object_get(json_array_get(f, k), "error")));
            }
        }
        json_decref(report);
    }
    return rc == CAIRN_OK ? 0 : cli_fail(&err);
}
