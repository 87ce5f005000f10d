/* cairn status: the RPO exposure now, the last drill's RTO, and limits a
 * monitoring check can hold them to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/status.h"
#include "util/text.h"

static const char usage[] =
    "usage: cairn status --repo DIR [--source URI] [--max-rpo DURATION]\n"
    "                    [--max-age-drill DURATION] [--prometheus FILE] [--json]\n"
    "\n"
    "Reports the newest backup's position and its age (the RPO exposure: what a\n"
    "failure now would lose), the chain it ends, the repository's size, the last\n"
    "restore drill (its RTO and age), and with --source how far the source's log\n"
    "has moved past the newest backup and what its slot holds back.\n"
    "\n"
    "  --max-rpo DURATION        exit 7 when the newest backup is older (or there\n"
    "                            is none)\n"
    "  --max-age-drill DURATION  exit 7 when the last drill that passed is older,\n"
    "                            when there is none, or when the newest drill failed\n"
    "  --prometheus FILE         also write the figures as a Prometheus textfile\n"
    "                            (node_exporter's textfile collector), atomically\n"
    "  --json                    rpo_seconds, last_drill_rto_seconds, last_drill_at,\n"
    "                            chain_length, repository_bytes, source, checks, ok\n"
    "\n"
    "Durations: 90s, 15m, 12h, 30d.\n"
    "\n"
    "examples:\n"
    "  cairn status --repo /srv/cairn/shop --max-rpo 2h --max-age-drill 8d\n"
    "  cairn status --repo /srv/cairn/shop --source postgresql://backup@db1/shop \\\n"
    "               --prometheus /var/lib/node_exporter/textfile/cairn_shop.prom\n"
    "\n"
    "exit codes: 0 within every limit, 1 error, 2 usage, 7 a limit is exceeded\n";

static double num(json_t *j, const char *key)
{
    return json_number_value(json_object_get(j, key));
}

static const char *str(json_t *j, const char *key)
{
    return json_string_value(json_object_get(j, key));
}

/* Adds a check to the report; 1 when it holds. */
static int check(json_t *report, const char *name, int64_t limit, json_t *value, const char *why)
{
    int ok = !why;
    json_t *c = json_pack("{s:s, s:I, s:O, s:b}", "name", name, "limit_seconds", (json_int_t)limit,
                          "value_seconds", value, "ok", ok);
    if (why)
        json_object_set_new(c, "message", json_string(why));
    json_array_append_new(json_object_get(report, "checks"), c);
    return ok;
}

static int check_rpo(json_t *r, int64_t limit)
{
    json_t *rpo = json_object_get(r, "rpo_seconds");
    char why[256], a[32], l[32];
    if (json_is_null(rpo))
        return check(r, "rpo", limit, rpo, "no complete backup in the repository");
    cairn_format_duration(json_number_value(rpo), a, sizeof a);
    cairn_format_duration((double)limit, l, sizeof l);
    snprintf(why, sizeof why, "the newest backup is %s old, more than --max-rpo %s", a, l);
    return check(r, "rpo", limit, rpo, json_number_value(rpo) > (double)limit ? why : NULL);
}

static int check_drill(json_t *r, int64_t limit)
{
    json_t *age = json_object_get(r, "last_passed_drill_age_seconds");
    char why[256], a[32], l[32];
    if (json_is_null(age))
        return check(r, "drill", limit, age, "no restore drill has passed (cairn drill)");
    if (json_is_false(json_object_get(r, "last_drill_passed")))
        return check(r, "drill", limit, age, "the newest restore drill failed");
    cairn_format_duration(json_number_value(age), a, sizeof a);
    cairn_format_duration((double)limit, l, sizeof l);
    snprintf(why, sizeof why, "the last drill that passed is %s old, more than --max-age-drill %s",
             a, l);
    return check(r, "drill", limit, age, json_number_value(age) > (double)limit ? why : NULL);
}

static void print_text(json_t *r)
{
    char size[32], age[32];
    cairn_format_bytes((uint64_t)json_integer_value(json_object_get(r, "repository_bytes")), size,
                       sizeof size);
    printf("repository %s: %lld backups, %s stored\n", str(r, "repo"),
           (long long)json_integer_value(json_object_get(r, "backups")), size);
    json_t *m = json_object_get(r, "newest");
    if (json_is_object(m)) {
        cairn_format_duration(num(r, "rpo_seconds"), age, sizeof age);
        printf("newest backup %s (%s) at %s, %s ago: a failure now loses %s of changes\n",
               str(m, "id"), str(m, "type"), str(m, "end_position") ? str(m, "end_position") : "-",
               age, age);
        long long chain = (long long)json_integer_value(json_object_get(r, "chain_length"));
        printf("chain: a full backup and %lld increment%s\n", chain - 1, chain == 2 ? "" : "s");
    } else {
        printf("no complete backup: everything would be lost\n");
    }
    if (str(r, "last_drill_at")) {
        cairn_format_duration(num(r, "last_drill_age_seconds"), age, sizeof age);
        printf("last drill: %s ago, backup %s, %s, RTO %.1f s\n", age, str(r, "last_drill_backup"),
               json_is_true(json_object_get(r, "last_drill_passed")) ? "passed" : "FAILED",
               num(r, "last_drill_rto_seconds"));
    } else {
        printf("no restore drill yet (cairn drill)\n");
    }
    json_t *s = json_object_get(r, "source");
    if (json_is_object(s) && str(s, "error")) {
        printf("source: not reachable: %s\n", str(s, "error"));
    } else if (json_is_object(s) && str(s, "position")) {
        cairn_format_bytes((uint64_t)json_integer_value(json_object_get(s, "behind_bytes")), size,
                           sizeof size);
        printf("source: at %s, %s of log written since the newest backup\n", str(s, "position"),
               size);
    }
    json_t *slot = json_is_object(s) ? json_object_get(s, "slot") : NULL;
    if (json_is_object(slot)) {
        cairn_format_bytes((uint64_t)json_integer_value(json_object_get(slot, "retained_bytes")),
                           size, sizeof size);
        printf("slot %s: %s, %s of log held back\n", str(slot, "name"), str(slot, "status"), size);
    }
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(r, "checks"), i, c)
    {
        if (json_is_true(json_object_get(c, "ok")))
            printf("ok: %s within its limit\n", str(c, "name"));
        else
            printf("LIMIT EXCEEDED: %s\n", str(c, "message"));
    }
}

static void metric(FILE *f, const char *name, const char *help, const char *repo, json_t *v)
{
    if (!v || json_is_null(v))
        return;
    double x = json_is_boolean(v) ? (json_is_true(v) ? 1 : 0) : json_number_value(v);
    fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n%s{repo=\"%s\"} %.17g\n", name, help, name, name,
            repo, x);
}

/* The textfile collector reads whole files: write aside, then rename. */
static int write_prometheus(const char *path, json_t *r)
{
    char *tmp = cairn_xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr,
                "cairn: error: cannot write %s\nhint: check the directory exists and is "
                "writable\n",
                tmp);
        free(tmp);
        return CAIRN_ERR;
    }
    /* label values escape backslash, quote and newline */
    cairn_buf repo = {0};
    cairn_buf_puts(&repo, "");
    for (const char *c = str(r, "repo"); *c; c++) {
        if (*c == '\\' || *c == '"')
            cairn_buf_printf(&repo, "\\%c", *c);
        else if (*c == '\n')
            cairn_buf_printf(&repo, "\\n");
        else
            cairn_buf_printf(&repo, "%c", *c);
    }
    json_t *s = json_object_get(r, "source"), *slot = s ? json_object_get(s, "slot") : NULL;
    metric(f, "cairn_rpo_seconds", "Age of the newest complete backup's position.", repo.data,
           json_object_get(r, "rpo_seconds"));
    metric(f, "cairn_chain_length", "Backups in the newest chain (full and increments).", repo.data,
           json_object_get(r, "chain_length"));
    metric(f, "cairn_repository_bytes", "Bytes stored by every backup.", repo.data,
           json_object_get(r, "repository_bytes"));
    metric(f, "cairn_last_drill_rto_seconds", "Restore time measured by the newest drill.",
           repo.data, json_object_get(r, "last_drill_rto_seconds"));
    metric(f, "cairn_last_drill_age_seconds", "Age of the newest restore drill.", repo.data,
           json_object_get(r, "last_drill_age_seconds"));
    metric(f, "cairn_last_drill_passed", "1 when the newest restore drill passed.", repo.data,
           json_object_get(r, "last_drill_passed"));
    metric(f, "cairn_source_behind_bytes", "Log the source wrote since the newest backup.",
           repo.data, s ? json_object_get(s, "behind_bytes") : NULL);
    metric(f, "cairn_slot_retained_bytes", "Log the chain's replication slot holds back.",
           repo.data, slot ? json_object_get(slot, "retained_bytes") : NULL);
    metric(f, "cairn_status_ok", "1 when every limit given holds.", repo.data,
           json_object_get(r, "ok"));
    free(repo.data);
    int bad = ferror(f) | (fclose(f) != 0);
    if (bad || rename(tmp, path) != 0) {
        fprintf(stderr, "cairn: error: cannot write %s\n", path);
        remove(tmp);
        free(tmp);
        return CAIRN_ERR;
    }
    free(tmp);
    return CAIRN_OK;
}

int cairn_cmd_status(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"repo", required_argument, NULL, 'r'},
        {"source", required_argument, NULL, 's'},
        {"max-rpo", required_argument, NULL, 'R'},
        {"max-age-drill", required_argument, NULL, 'D'},
        {"prometheus", required_argument, NULL, 'P'},
        {"json", no_argument, NULL, 'J'},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *repo = NULL, *source = NULL, *prometheus = NULL;
    int64_t max_rpo = 0, max_drill = 0;
    int json = 0, opt;
    while ((opt = cli_next_option("status", &argc, &argv, longopts)) != -1) {
        switch (opt) {
        case 'r':
            repo = optarg;
            break;
        case 's':
            source = optarg;
            break;
        case 'R':
            if (cli_parse_duration(optarg, &max_rpo) != 0 || max_rpo <= 0)
                return cli_usage_error("status", "--max-rpo needs a duration like 90s, 15m, "
                                                 "12h or 30d");
            break;
        case 'D':
            if (cli_parse_duration(optarg, &max_drill) != 0 || max_drill <= 0)
                return cli_usage_error("status", "--max-age-drill needs a duration like 90s, "
                                                 "15m, 12h or 30d");
            break;
        case 'P':
            prometheus = optarg;
            break;
        case 'J':
            json = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            return cli_unknown_option("status", opt, argc, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("status", "unexpected argument \"%s\"", argv[optind]);
    if (!repo)
        return cli_usage_error("status", "--repo is required");
    cairn_error err = {0};
    json_t *r = NULL;
    if (cairn_status_run(repo, source, &r, &err) != CAIRN_OK)
        return cli_fail(&err);
    json_object_set_new(r, "checks", json_array());
    int ok = 1;
    if (max_rpo)
        ok &= check_rpo(r, max_rpo);
    if (max_drill)
        ok &= check_drill(r, max_drill);
    json_object_set_new(r, "ok", json_boolean(ok));
    int rc = prometheus ? write_prometheus(prometheus, r) : CAIRN_OK;
    if (json)
        cli_print_json(r);
    else
        print_text(r);
    json_decref(r);
    if (rc != CAIRN_OK)
        return rc;
    return ok ? 0 : CAIRN_ETHRESHOLD;
}
