/* Helpers shared by the verbs. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "repo/repo.h"
#include "util/log.h"
#include "util/text.h"

int cli_usage_error(const char *verb, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "cairn %s: error: %s\nhint: cairn %s --help shows the options\n", verb, msg,
            verb);
    return CAIRN_EUSAGE;
}

int cli_fail(const cairn_error *err)
{
    cairn_log_error(err);
    return err->code ? err->code : CAIRN_ERR;
}

char *cli_read_passphrase(const char *verb, const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        cli_usage_error(verb, "cannot read the passphrase file %s", path);
        return NULL;
    }
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    char *p = buf[0] ? cairn_xstrdup(buf) : NULL;
    OPENSSL_cleanse(buf, sizeof buf);
    if (!p)
        cli_usage_error(verb, "the passphrase file %s is empty", path);
    return p;
}

int cli_common_option(int opt)
{
    if (opt == CLI_OPT_PASSFILE) {
        char *p = cli_read_passphrase("", optarg);
        if (!p)
            return -1;
        cairn_repo_set_passphrase(p);
        OPENSSL_cleanse(p, strlen(p));
        free(p);
        return 1;
    }
    if (opt == CLI_OPT_QUIET) {
        cairn_log_set_level(CAIRN_LOG_WARN);
        return 1;
    }
    if (opt == CLI_OPT_CONFIG)
        return 1; /* read before the options (cli_config_apply) */
    if (opt == CLI_OPT_VERBOSE) {
        cairn_log_set_level(CAIRN_LOG_DEBUG);
        return 1;
    }
    return 0;
}

int cli_next_option(const char *verb, int *argc, char ***argv, const struct option *longopts)
{
    static int configured;
    if (!configured) {
        configured = 1;
        optind = 1;
        if (cli_config_apply(verb, longopts, argc, argv) >= 0)
            return CLI_OPT_BAD;
    }
    opterr = 0;
    for (;;) {
        /* no "+": an ID may come before the options */
        int opt = getopt_long(*argc, *argv, "h", longopts, NULL);
        int common = opt == -1 ? 0 : cli_common_option(opt);
        if (common < 0)
            return CLI_OPT_BAD;
        if (!common)
            return opt;
    }
}

void cli_add_name(const char ***list, size_t *n, const char *name)
{
    *list = cairn_xrealloc(*list, (*n + 2) * sizeof **list);
    (*list)[(*n)++] = name;
    (*list)[*n] = NULL;
}

int cli_unknown_option(const char *verb, int opt, int argc, char **argv)
{
    if (opt == CLI_OPT_BAD)
        return CAIRN_EUSAGE;
    const char *shown = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
    return cli_usage_error(verb, "unknown or incomplete option \"%s\"", shown);
}

void cli_print_json(json_t *j)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text) {
        fputs(text, stdout);
        fputc('\n', stdout);
        free(text);
    }
    fflush(stdout);
}

int cli_parse_duration(const char *s, int64_t *seconds)
{
    char *end = NULL;
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    long long v = strtoll(s, &end, 10);
    int64_t unit = 1;
    if (*end == 'd')
        unit = 86400;
    else if (*end == 'h')
        unit = 3600;
    else if (*end == 'm')
        unit = 60;
    else if (*end == 's' || *end == '\0')
        unit = 1;
    else
        return -1;
    if (*end && end[1])
        return -1;
    if (v < 0 || v > (long long)(INT64_MAX / 86400))
        return -1;
    *seconds = (int64_t)v * unit;
    return 0;
}

int cli_parse_size(const char *s, uint64_t *out)
{
    char *end = NULL;
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    uint64_t mult = 1;
    switch (tolower((unsigned char)*end)) {
    case '\0':
        break;
    case 'k':
        mult = 1ull << 10;
        end++;
        break;
    case 'm':
        mult = 1ull << 20;
        end++;
        break;
    case 'g':
        mult = 1ull << 30;
        end++;
        break;
    default:
        return -1;
    }
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end || v == 0)
        return -1;
    *out = v * mult;
    return 0;
}

int cli_parse_jobs(const char *s, int *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > 256)
        return -1;
    *out = (int)v;
    return 0;
}

int cli_parse_repo_args(const char *verb, const char *usage, int allow, int want_id, int argc,
                        char **argv, cli_repo_args *a)
{
    /* only the options the verb takes: a configuration file's key for
     * another verb is skipped, not an error */
    static const struct option common[] = {CLI_COMMON_LONGOPTS};
    struct option longopts[5 + sizeof common / sizeof common[0] + 1] = {
        {"repo", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'J'},
    };
    size_t k = 2;
    if (allow & CLI_ALLOW_BACKUP)
        longopts[k++] = (struct option){"backup", required_argument, NULL, 'b'};
    if (allow & CLI_ALLOW_SOURCE)
        longopts[k++] = (struct option){"source", required_argument, NULL, 's'};
    if (allow & CLI_ALLOW_JOBS)
        longopts[k++] = (struct option){"jobs", required_argument, NULL, 'j'};
    memcpy(longopts + k, common, sizeof common);
    int opt;
    while ((opt = cli_next_option(verb, &argc, &argv, longopts)) != -1) {
        switch (opt) {
        case 'r':
            a->repo = optarg;
            break;
        case 'b':
            a->backup = optarg;
            break;
        case 's':
            a->source = optarg;
            break;
        case 'j':
            if (cli_parse_jobs(optarg, &a->jobs) != 0)
                return cli_usage_error(verb, "--jobs needs a number from 1 to 256");
            break;
        case 'J':
            a->json = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            return cli_unknown_option(verb, opt, argc, argv);
        }
    }
    if (want_id && optind < argc)
        a->positional = argv[optind++];
    if (optind < argc)
        return cli_usage_error(verb, "unexpected argument \"%s\"", argv[optind]);
    if (!a->repo)
        return cli_usage_error(verb, "--repo is required");
    if (want_id && !a->positional)
        return cli_usage_error(verb, "which backup? give its ID (cairn list shows them)");
    return -1;
}
