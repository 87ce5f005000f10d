/* cairn: argument dispatch only. */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "repo/repo.h"
#include "util/interrupt.h"

#define CAIRN_VERSION "0.1.0"

static const char usage[] =
    "cairn " CAIRN_VERSION " — consistent, parallel, verified database backups\n"
    "\n"
    "usage: cairn VERB [options]\n"
    "\n"
    "  backup   take a full backup of a PostgreSQL database or MariaDB server, or an\n"
    "           increment from the database's log (--type incr)\n"
    "  restore  restore a backup and its increments, to any point (checksums and\n"
    "           chain verified first)\n"
    "  plan     print what a restore would do, change nothing\n"
    "  list     list the backups in a repository\n"
    "  show     show one backup in detail\n"
    "  verify   re-read every file of a backup and check its checksums\n"
    "  expire   remove old chains of backups, keeping the newest N full backups\n"
    "  drill    restore a backup into scratch databases, check every table against\n"
    "           the backup, and record the measured restore time (RTO)\n"
    "  status   the RPO exposure now, the last drill's RTO, limits for monitoring\n"
    "  copy     copy backups to a second repository, every checksum verified\n"
    "  passwd   change the passphrase of an encrypted repository (nothing rewritten)\n"
    "\n"
    "cairn VERB --help shows a verb's options and examples.  An encrypted repository\n"
    "needs its passphrase for every verb: --passphrase-file FILE, or the\n"
    "CAIRN_PASSPHRASE environment variable (never a command-line value).\n"
    "\n"
    "exit codes: 0 success, 1 error, 2 usage, 3 partial backup, 4 verification failed,\n"
    "            5 repository locked, 6 no valid restore chain, 7 a status limit exceeded\n";

static const struct {
    const char *name;
    int (*run)(int, char **);
} verbs[] = {
    {"backup", cairn_cmd_backup}, {"restore", cairn_cmd_restore}, {"plan", cairn_cmd_plan},
    {"list", cairn_cmd_list},     {"show", cairn_cmd_show},       {"verify", cairn_cmd_verify},
    {"expire", cairn_cmd_expire}, {"passwd", cairn_cmd_passwd},   {"copy", cairn_cmd_copy},
    {"drill", cairn_cmd_drill},   {"status", cairn_cmd_status},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        puts("cairn " CAIRN_VERSION);
        return 0;
    }
    /* passwords, a passphrase and a repository key pass through this
     * process: it never leaves a core dump of them */
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    cairn_interrupt_install();
    /* a passphrase from the environment; --passphrase-file overrides it */
    cairn_repo_set_passphrase(getenv("CAIRN_PASSPHRASE"));
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
            return verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "cairn: error: unknown verb \"%s\"\nhint: cairn --help lists the verbs\n",
            argv[1]);
    return 2;
}
