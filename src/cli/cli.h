/* The verbs, and the helpers they share.  A verb parses its options,
 * calls the engine, prints the result, and returns the exit code. */
#ifndef CAIRN_CLI_H
#define CAIRN_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdint.h>

#include "cairn/error.h"

int cairn_cmd_backup(int argc, char **argv);
int cairn_cmd_restore(int argc, char **argv);
int cairn_cmd_plan(int argc, char **argv);
int cairn_cmd_list(int argc, char **argv);
int cairn_cmd_show(int argc, char **argv);
int cairn_cmd_verify(int argc, char **argv);
int cairn_cmd_expire(int argc, char **argv);

/* "cairn VERB: MESSAGE" and a pointer to --help; returns CAIRN_EUSAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs err once and returns its exit code. */
int cli_fail(const cairn_error *err);
/* Handles the options every verb takes (--quiet, --verbose,
 * --passphrase-file FILE); 1 if taken, -1 (after saying why) when its value
 * is bad: the verb returns CAIRN_EUSAGE. */
int cli_common_option(int opt);
#define CLI_OPT_QUIET    1001
#define CLI_OPT_VERBOSE  1002
#define CLI_OPT_PASSFILE 1003
#define CLI_OPT_CONFIG   1004
#define CLI_COMMON_LONGOPTS                                                                        \
    {"quiet", no_argument, NULL, CLI_OPT_QUIET}, {"verbose", no_argument, NULL, CLI_OPT_VERBOSE},  \
        {"passphrase-file", required_argument, NULL, CLI_OPT_PASSFILE},                            \
        {"config", required_argument, NULL, CLI_OPT_CONFIG},                                       \
    {                                                                                              \
        "help", no_argument, NULL, 'h'                                                             \
    }
/* getopt_long over a verb's options, the common ones handled on the way:
 * the next option of the verb's own, -1 at the end, or CLI_OPT_BAD after
 * a bad value (of a common option, or in the configuration file) was
 * reported.  The first call puts the configuration file's options for this
 * verb before the command line's (cli_config_apply), and may replace *argc
 * and *argv: the verb reads its arguments from them afterwards. */
#define CLI_OPT_BAD 1099
int cli_next_option(const char *verb, int *argc, char ***argv, const struct option *longopts);
/* Reads the configuration file (--config FILE, $CAIRN_CONFIG, or
 * /etc/cairn.conf) and makes a new argv: the options it gives for this
 * verb (those in longopts), from [defaults] and from the section that
 * --source NAME names, then the command line's.  -1 to go on, or the exit
 * code after a usage error was reported. */
int cli_config_apply(const char *verb, const struct option *longopts, int *argc, char ***argv);
/* Appends a name (an option's value: it lives as long as argv) to a
 * NULL-terminated list the caller frees. */
void cli_add_name(const char ***list, size_t *n, const char *name);
/* The default case of a verb's option switch: a usage error naming the
 * option (or just the exit code, when CLI_OPT_BAD already said why). */
int cli_unknown_option(const char *verb, int opt, int argc, char **argv);
/* The passphrase from a file: its first line, without the newline; NULL
 * (after saying why) when unreadable or empty.  The caller frees. */
char *cli_read_passphrase(const char *verb, const char *path);
int cairn_cmd_passwd(int argc, char **argv);
int cairn_cmd_copy(int argc, char **argv);
int cairn_cmd_drill(int argc, char **argv);
int cairn_cmd_status(int argc, char **argv);

/* Prints JSON to stdout, one document, with a newline. */
void cli_print_json(json_t *j);
/* "8", "64k", "32M", "1G" -> bytes; -1 when malformed. */
int cli_parse_size(const char *s, uint64_t *out);
/* A positive integer option; -1 when malformed. */
int cli_parse_jobs(const char *s, int *out);
/* "90", "90s", "15m", "12h", "30d" -> seconds; 0 or -1 when malformed. */
int cli_parse_duration(const char *s, int64_t *seconds);

/* Options of the read-only verbs: --repo DIR [--backup ID] [--source URI]
 * [--jobs N] [--json] [ID]. */
enum { CLI_ALLOW_BACKUP = 1, CLI_ALLOW_SOURCE = 2, CLI_ALLOW_JOBS = 4 };
typedef struct cli_repo_args {
    const char *repo;
    const char *backup;     /* --backup, when allowed */
    const char *source;     /* --source, when allowed */
    const char *positional; /* the ID argument, when wanted */
    int jobs;               /* --jobs, when allowed; 0 when not given */
    int json;
} cli_repo_args;
/* Returns -1 to go on, or the exit code to return (help printed, usage error). */
/* allow: CLI_ALLOW_* bits. */
int cli_parse_repo_args(const char *verb, const char *usage, int allow, int want_id, int argc,
                        char **argv, cli_repo_args *a);

#endif
