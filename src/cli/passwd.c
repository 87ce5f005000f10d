/* cairn passwd: a new passphrase for an encrypted repository. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "repo/repo.h"

static const char passwd_usage[] =
    "usage: cairn passwd --repo DIR --new-passphrase-file FILE\n"
    "\n"
    "Seals the repository's key under a new passphrase.  The key itself does not\n"
    "change, so no backup is rewritten; the old passphrase stops working.  The\n"
    "current passphrase comes from --passphrase-file or CAIRN_PASSPHRASE.\n"
    "\n"
    "  --repo DIR                  the repository\n"
    "  --new-passphrase-file FILE  the new passphrase (its first line)\n"
    "  --passphrase-file FILE      the current passphrase\n"
    "\n"
    "example:\n"
    "  cairn passwd --repo /srv/cairn/shop --passphrase-file old.txt \\\n"
    "               --new-passphrase-file new.txt\n"
    "\n"
    "exit codes: 0 done, 1 error (a wrong current passphrase), 2 usage, 5 locked\n";

int cairn_cmd_passwd(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"repo", required_argument, NULL, 'r'},
        {"new-passphrase-file", required_argument, NULL, 'N'},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *repo = NULL, *new_file = NULL;
    int opt;
    while ((opt = cli_next_option("passwd", &argc, &argv, longopts)) != -1) {
        switch (opt) {
        case 'r':
            repo = optarg;
            break;
        case 'N':
            new_file = optarg;
            break;
        case 'h':
            fputs(passwd_usage, stdout);
            return 0;
        default:
            return cli_unknown_option("passwd", opt, argc, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("passwd", "unexpected argument \"%s\"", argv[optind]);
    if (!repo || !new_file)
        return cli_usage_error("passwd", "--repo and --new-passphrase-file are required");
    char *pass = cli_read_passphrase("passwd", new_file);
    if (!pass)
        return CAIRN_EUSAGE;
    cairn_error err = {0};
    cairn_repo *r = NULL;
    int rc = cairn_repo_open_locked(repo, 0, "passwd", &r, &err);
    if (rc == CAIRN_OK)
        rc = cairn_repo_change_passphrase(r, pass, &err);
    cairn_repo_close(r);
    OPENSSL_cleanse(pass, strlen(pass));
    free(pass);
    if (rc != CAIRN_OK)
        return cli_fail(&err);
    printf("repository %s: the key is sealed under the new passphrase\n", repo);
    return 0;
}
