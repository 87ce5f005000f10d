/* cairn backup: options, the engine, the summary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "repo/repo.h"
#include "engine/backup.h"
#include "util/text.h"
#include "util/uri.h"

#define CAIRN_ZSTD_DEFAULT_LEVEL 1

static const char usage[] =
    "usage: cairn backup --source URI --repo DIR [options]\n"
    "\n"
    "Takes a consistent, parallel, compressed and checksummed full backup into the\n"
    "repository DIR (created when missing or empty): one PostgreSQL database, or the\n"
    "databases of a MariaDB server (one, when the URI names it).  With --type incr,\n"
    "stores every change committed since the newest backup, read from the server's\n"
    "log (PostgreSQL: the chain's logical replication slot; MariaDB: the binlog).\n"
    "\n"
    "  --source URI          postgresql://user@host:port/database or\n"
    "                        mariadb://user@host:port/[database] (also mysql://,\n"
    "                        ?socket=PATH); passwords from PGPASSWORD, ~/.pgpass,\n"
    "                        MYSQL_PWD or the URI, never logged\n"
    "  --repo DIR            the repository\n"
    "  --type full|incr      a full backup (default), or an increment on top of the\n"
    "                        newest backup in the repository\n"
    "  --full-if-needed      with --type incr: take a full backup when the repository\n"
    "                        holds none to build on (the summary says which happened)\n"
    "  --jobs N              parallel workers (default 2)\n"
    "  --compress zstd[:L]|none  compression (default zstd:1; L from -7 to 19)\n"
    "  --chunk-size SIZE     split tables larger than SIZE into chunks of about SIZE\n"
    "                        (default 32M; e.g. 256k, 64M, 1G)\n"
    "  --tenant-pattern GLOB each schema (PostgreSQL) or database (MariaDB) whose name\n"
    "                        matches GLOB is a unit of its own, restorable alone with\n"
    "                        restore --tenant; repeatable\n"
    "  --exclude-tenant GLOB names matching GLOB are not tenants (their objects stay in\n"
    "                        the database's unit); repeatable\n"
    "  --database NAME       PostgreSQL: back up this database of the server (repeatable;\n"
    "                        the source URI then names none); each is dumped under its\n"
    "                        own snapshot, and the log brings them all to one common\n"
    "                        position, so they agree with one another when restored\n"
    "  --all-databases       the same for every database of the server (not templates);\n"
    "                        an increment of such a backup needs neither: it reads the\n"
    "                        log of each of its databases to one common end\n"
    "  --resume ID           complete partial backup ID: dump the units that failed under\n"
    "                        a new snapshot and bring the others to it through the log\n"
    "                        (the slot, or the MariaDB binlog); running it again does\n"
    "                        no harm\n"
    "  --mode M              how the workers run: hybrid (default) fans out and lowers\n"
    "                        the number of active workers while the source answers a\n"
    "                        probe query more slowly than before the backup (raising\n"
    "                        it when it recovers); parallel keeps --jobs workers;\n"
    "                        sequential dumps unit after unit in one transaction\n"
    "  --max-latency-increase PCT  hybrid: back off when the probe is more than PCT\n"
    "                        percent (and at least 0.25 ms) slower than its baseline\n"
    "                        (default 10)\n"
    "  --tag TEXT            a label for this backup (restore --backup TEXT finds it)\n"
    "  --encrypt             start an encrypted repository (a new or empty directory):\n"
    "                        every file and manifest sealed with AES-256-GCM under a\n"
    "                        random key, which the passphrase (--passphrase-file FILE\n"
    "                        or CAIRN_PASSPHRASE) wraps; later runs need the same\n"
    "                        passphrase, --encrypt or not\n"
    "  --wait-lock DURATION  when another run holds the repository, wait up to DURATION\n"
    "                        (90s, 5m, 1h) for it instead of exiting 5 at once\n"
    "  --immutable           also set the file system's immutable attribute on the\n"
    "                        finished backup (chattr +i; needs CAP_LINUX_IMMUTABLE and a\n"
    "                        file system that has it; says so when it cannot).  expire\n"
    "                        clears it to remove a chain\n"
    "  --max-rate SIZE       read at most SIZE bytes per second from the source, all\n"
    "                        workers together (e.g. 50M), to spare a busy server\n"
    "  --long-query-guard SECONDS  MariaDB: queries running longer than this block the\n"
    "                        backup barrier; cairn waits for them (at most 30 s) and\n"
    "                        then refuses, naming the query (default 60)\n"
    "  --dry-run             take nothing: print the units, their sizes, the chunks and\n"
    "                        an estimate of the time (from the repository's newest\n"
    "                        full backup when there is one); no slot, no lock\n"
    "  --json                print a machine-readable summary on stdout\n"
    "  --quiet, --verbose    less or more logging on stderr\n"
    "\n"
    "examples:\n"
    "  cairn backup --source postgresql://backup@db1:5432/shop --repo /srv/cairn/shop\n"
    "  cairn backup --source postgresql://db1/shop --repo /srv/cairn/shop --jobs 4 \\\n"
    "               --tag before-deploy-42 --json\n"
    "  cairn backup --source mariadb://backup@db2:3306/ --repo /srv/cairn/db2\n"
    "  cairn backup --type incr --source postgresql://db1/shop --repo /srv/cairn/shop\n"
    "  cairn backup --source postgresql://db1/saas --repo /srv/cairn/saas \\\n"
    "               --tenant-pattern 'tenant_*'\n"
    "  cairn backup --source postgresql://db1/saas --repo /srv/cairn/saas --resume ID\n"
    "  cairn backup --source postgresql://db1:5432/ --repo /srv/cairn/db1 --all-databases\n"
    "\n"
    "exit codes: 0 done, 1 error, 2 usage,\n"
    "            3 partial: some units failed; the backup was written without them\n"
    "              and names them (--resume ID completes it),\n"
    "            4 verification failed, 5 repository locked,\n"
    "            6 no chain to build an increment on (no backup, a lost slot, a purged\n"
    "              binlog, a schema change the log does not hold)\n";

static int parse_compress(const char *s, int *level)
{
    if (strcmp(s, "none") == 0) {
        *level = 0;
        return 0;
    }
    if (strcmp(s, "zstd") == 0) {
        *level = CAIRN_ZSTD_DEFAULT_LEVEL;
        return 0;
    }
    if (strncmp(s, "zstd:", 5) == 0) {
        char *end = NULL;
        long v = strtol(s + 5, &end, 10);
        if (s[5] && !*end && v >= -7 && v <= 19 && v != 0) {
            *level = (int)v;
            return 0;
        }
    }
    return -1;
}

static json_t *summary_json(const cairn_manifest *m)
{
    size_t tables = 0, chunks = 0;
    uint64_t rows = 0;
    for (size_t u = 0; u < m->nunits; u++)
        for (size_t i = 0; i < m->units[u].nobjects; i++) {
            const cairn_object *o = &m->units[u].objects[i];
            tables += o->kind != CAIRN_OBJ_MATVIEW;
            chunks += o->nchunks;
            rows += o->rows;
        }
    json_t *warnings = json_array();
    for (size_t i = 0; i < m->nwarnings; i++)
        json_array_append_new(warnings, json_string(m->warnings[i]));
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:I, "
        "s:f, s:{s:f, s:f, s:f}, s:s, s:s, s:o, s:o}",
        "id", m->id, "type", m->type, "status", m->status, "tag",
        m->tag ? json_string(m->tag) : json_null(), "position", m->end_position, "start_position",
        m->start_position, "end_position", m->end_position, "snapshot_mode", m->snapshot_mode,
        "slot", m->slot ? json_string(m->slot) : json_null(), "tables", (json_int_t)tables,
        "chunks", (json_int_t)chunks, "rows", (json_int_t)rows, "raw_bytes",
        (json_int_t)m->raw_bytes, "stored_bytes", (json_int_t)m->stored_bytes, "duration_seconds",
        m->duration, "phases", "snapshot", m->phase_snapshot, "parallel", m->phase_parallel,
        "sequential", m->phase_sequential, "started_at", m->started_at, "finished_at",
        m->finished_at, "warnings", warnings, "units", json_integer((json_int_t)m->nunits));
    json_object_set_new(j, "gtid", m->gtid ? json_string(m->gtid) : json_null());
    json_object_set_new(j, "end_at", m->end_at ? json_string(m->end_at) : json_null());
    if (strcmp(m->type, "incr") == 0) {
        json_object_set_new(j, "parent", json_string(m->parent));
        json_object_set_new(j, "transactions", json_integer((json_int_t)m->transactions));
        json_object_set_new(j, "changes", json_integer((json_int_t)m->changes));
        json_object_set_new(j, "first_commit_at",
                            m->first_commit_at ? json_string(m->first_commit_at) : json_null());
        json_object_set_new(j, "last_commit_at",
                            m->last_commit_at ? json_string(m->last_commit_at) : json_null());
    }
    json_object_set_new(j, "barrier_seconds", json_real(m->barrier_seconds));
    if (m->ddl_block_seconds > 0)
        json_object_set_new(j, "ddl_block_seconds", json_real(m->ddl_block_seconds));
    json_t *failed = json_array();
    for (size_t u = 0; u < m->nunits; u++)
        if (cairn_unit_failed(&m->units[u]))
            json_array_append_new(failed, json_pack("{s:s, s:s}", "name", m->units[u].name, "error",
                                                    m->units[u].error ? m->units[u].error : ""));
    json_object_set_new(j, "failed_units", failed);
    if (m->mode)
        json_object_set_new(j, "concurrency",
                            json_pack("{s:s, s:i, s:i, s:i}", "mode", m->mode, "changes",
                                      m->concurrency_changes, "min_workers", m->workers_min,
                                      "max_workers", m->workers_max));
    return j;
}

static int plan_only(const cairn_backup_opts *o, int json)
{
    json_t *plan = NULL;
    cairn_error err = {0};
    if (cairn_backup_plan(o, &plan, &err) != CAIRN_OK)
        return cli_fail(&err);
    if (json) {
        cli_print_json(plan);
        json_decref(plan);
        return 0;
    }
    json_t *units = json_object_get(plan, "units");
    printf("%-40s %-8s %8s %8s %10s\n", "UNIT", "KIND", "OBJECTS", "CHUNKS", "SIZE");
    for (size_t i = 0; i < json_array_size(units); i++) {
        json_t *u = json_array_get(units, i);
        char size[32];
        cairn_format_bytes((uint64_t)json_integer_value(json_object_get(u, "bytes")), size,
                           sizeof size);
        const char *name = json_string_value(json_object_get(u, "name"));
        printf("%-40s %-8s %8lld %8lld %10s\n", name && *name ? name : "-",
               json_string_value(json_object_get(u, "kind")),
               (long long)json_integer_value(json_object_get(u, "objects")),
               (long long)json_integer_value(json_object_get(u, "chunks")), size);
    }
    char total[32];
    cairn_format_bytes((uint64_t)json_integer_value(json_object_get(plan, "bytes")), total,
                       sizeof total);
    printf("total: %lld objects in %lld chunks, %s on the server; %lld jobs; about %.0f s "
           "(from %s)\n",
           (long long)json_integer_value(json_object_get(plan, "objects")),
           (long long)json_integer_value(json_object_get(plan, "chunks")), total,
           (long long)json_integer_value(json_object_get(plan, "jobs")),
           json_number_value(json_object_get(plan, "estimate_seconds")),
           json_string_value(json_object_get(plan, "estimate_basis")));
    json_decref(plan);
    return 0;
}

/* include, exclude and databases collect the names given; the caller
 * frees them. */
static int run_backup(int argc, char **argv, const char ***include, const char ***exclude,
                      const char ***databases)
{
    static const struct option longopts[] = {
        {"source", required_argument, NULL, 's'},
        {"repo", required_argument, NULL, 'r'},
        {"type", required_argument, NULL, 't'},
        {"jobs", required_argument, NULL, 'j'},
        {"compress", required_argument, NULL, 'c'},
        {"chunk-size", required_argument, NULL, 'C'},
        {"tag", required_argument, NULL, 'T'},
        {"encrypt", no_argument, NULL, 'K'},
        {"immutable", no_argument, NULL, 'Q'},
        {"wait-lock", required_argument, NULL, 'W'},
        {"long-query-guard", required_argument, NULL, 'G'},
        {"json", no_argument, NULL, 'J'},
        {"full-if-needed", no_argument, NULL, 'F'},
        {"dry-run", no_argument, NULL, 'n'},
        {"max-rate", required_argument, NULL, 'R'},
        {"tenant-pattern", required_argument, NULL, 'P'},
        {"resume", required_argument, NULL, 'E'},
        {"mode", required_argument, NULL, 'M'},
        {"database", required_argument, NULL, 'D'},
        {"all-databases", no_argument, NULL, 'A'},
        {"max-latency-increase", required_argument, NULL, 'L'},
        {"exclude-tenant", required_argument, NULL, 'X'},
        CLI_COMMON_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    cairn_backup_opts o = {.jobs = 2, .zstd_level = CAIRN_ZSTD_DEFAULT_LEVEL};
    int json = 0, opt, incr = 0, full_if_needed = 0, dry_run = 0;
    char *end = NULL;
    size_t ninclude = 0, nexclude = 0;
    const char *resume = NULL;
    size_t ndatabases = 0;
    int all_databases = 0;
    while ((opt = cli_next_option("backup", &argc, &argv, longopts)) != -1) {
        switch (opt) {
        case 's':
            o.source_uri = optarg;
            break;
        case 'r':
            o.repo_dir = optarg;
            break;
        case 't':
            if (strcmp(optarg, "full") == 0 || strcmp(optarg, "incr") == 0) {
                incr = strcmp(optarg, "incr") == 0;
                break;
            }
            return cli_usage_error("backup", "--type must be full or incr, not \"%s\"", optarg);
        case 'j':
            if (cli_parse_jobs(optarg, &o.jobs) != 0)
                return cli_usage_error("backup", "--jobs needs a number from 1 to 256");
            break;
        case 'c':
            if (parse_compress(optarg, &o.zstd_level) != 0)
                return cli_usage_error("backup",
                                       "--compress takes zstd, zstd:LEVEL (-7 to -1, 1 to 19) "
                                       "or none, not \"%s\"",
                                       optarg);
            break;
        case 'C':
            if (cli_parse_size(optarg, &o.chunk_bytes) != 0)
                return cli_usage_error("backup", "--chunk-size takes a size such as 64M");
            break;
        case 'K':
            cairn_repo_set_encrypt_new(1);
            break;
        case 'Q':
            cairn_repo_set_immutable(1);
            break;
        case 'W': {
            int64_t s = 0;
            if (cli_parse_duration(optarg, &s) != 0)
                return cli_usage_error("backup", "--wait-lock takes a duration such as 90s, 5m "
                                                 "or 1h");
            cairn_repo_set_wait_lock((double)s);
            break;
        }
        case 'T':
            o.tag = optarg;
            break;
        case 'G':
            o.long_query_guard = (int)strtol(optarg, &end, 10);
            if (!*optarg || *end || o.long_query_guard < 1 || o.long_query_guard > 86400)
                return cli_usage_error("backup", "--long-query-guard takes seconds, 1 to 86400");
            break;
        case 'J':
            json = 1;
            break;
        case 'F':
            full_if_needed = 1;
            break;
        case 'n':
            dry_run = 1;
            break;
        case 'R':
            if (cli_parse_size(optarg, &o.max_rate) != 0 || o.max_rate < 1024)
                return cli_usage_error("backup", "--max-rate takes a rate of at least 1k (bytes "
                                                 "per second), such as 50M");
            break;
        case 'P':
            cli_add_name(include, &ninclude, optarg);
            break;
        case 'E':
            resume = optarg;
            break;
        case 'D':
            if (!*optarg)
                return cli_usage_error("backup", "--database needs a name");
            cli_add_name(databases, &ndatabases, optarg);
            break;
        case 'A':
            all_databases = 1;
            break;
        case 'M':
            if (strcmp(optarg, "hybrid") == 0)
                o.mode = CAIRN_MODE_HYBRID;
            else if (strcmp(optarg, "parallel") == 0)
                o.mode = CAIRN_MODE_PARALLEL;
            else if (strcmp(optarg, "sequential") == 0)
                o.mode = CAIRN_MODE_SEQUENTIAL;
            else
                return cli_usage_error(
                    "backup", "--mode takes sequential, parallel or hybrid, not \"%s\"", optarg);
            break;
        case 'L':
            o.max_latency_increase = strtod(optarg, &end);
            if (!*optarg || *end || !(o.max_latency_increase >= 1) ||
                o.max_latency_increase > 10000)
                return cli_usage_error("backup", "--max-latency-increase takes a percentage from "
                                                 "1 to 10000, such as 10");
            break;
        case 'X':
            cli_add_name(exclude, &nexclude, optarg);
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            return cli_unknown_option("backup", opt, argc, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("backup", "unexpected argument \"%s\"", argv[optind]);
    if (!o.source_uri)
        return cli_usage_error("backup", "--source is required");
    if (!o.repo_dir && !dry_run)
        return cli_usage_error("backup", "--repo is required");
    cairn_manifest *m = NULL;
    cairn_error err = {0};
    if (full_if_needed && !incr)
        return cli_usage_error("backup", "--full-if-needed goes with --type incr");
    if (dry_run && incr)
        return cli_usage_error("backup", "--dry-run plans a full backup; an increment's size "
                                         "is the log since the last backup");
    if (nexclude && !ninclude)
        return cli_usage_error("backup", "--exclude-tenant needs --tenant-pattern");
    if (ninclude && incr)
        return cli_usage_error("backup", "--tenant-pattern shapes a full backup; an increment "
                                         "holds the whole log and takes its units from it");
    if (ninclude) {
        o.tenants.include = *include;
        o.tenants.exclude = *exclude;
    }
    if (resume && (incr || ninclude || dry_run))
        return cli_usage_error("backup", "--resume completes a partial full backup as it was "
                                         "taken: no --type incr, --tenant-pattern or --dry-run");
    if (ndatabases || all_databases) {
        if (ndatabases && all_databases)
            return cli_usage_error("backup", "give --database NAME or --all-databases, not both");
        if (resume || dry_run)
            return cli_usage_error("backup", "--database and --all-databases take a full backup "
                                             "or an increment (no --resume or --dry-run yet)");
        cairn_uri u;
        cairn_error ue = {0};
        if (cairn_uri_parse(o.source_uri, &u, &ue) != CAIRN_OK)
            return cli_fail(&ue);
        int named = u.database != NULL;
        cairn_uri_clear(&u);
        if (named)
            return cli_usage_error("backup", "with --database or --all-databases the source URI "
                                             "names no database (postgresql://user@host:port/)");
        if (!*databases) /* --all-databases: an empty list */
            *databases = cairn_xcalloc(1, sizeof **databases);
        o.databases = *databases;
    }
    if (dry_run)
        return plan_only(&o, json);
    int rc;
    if (o.databases && !incr)
        rc = cairn_backup_cluster(&o, &m, &err);
    else if (resume)
        rc = cairn_backup_resume(&o, resume, &m, &err);
    else if (incr)
        rc = cairn_incr_run(&o, full_if_needed, &m, &err);
    else
        rc = cairn_backup_run(&o, &m, &err);
    if (rc != CAIRN_OK)
        return cli_fail(&err);
    json_t *j = summary_json(m);
    if (json) {
        cli_print_json(j);
    } else if (strcmp(m->type, "incr") == 0) {
        char stored[32];
        cairn_format_bytes(m->stored_bytes, stored, sizeof stored);
        printf("increment %s complete: %s to %s, %llu transactions, %llu changes, %s stored, "
               "%.1f s\n",
               m->id, m->start_position, m->end_position, (unsigned long long)m->transactions,
               (unsigned long long)m->changes, stored, m->duration);
    } else {
        char raw[32], stored[32];
        cairn_format_bytes(m->raw_bytes, raw, sizeof raw);
        cairn_format_bytes(m->stored_bytes, stored, sizeof stored);
        printf("backup %s %s: position %s, %lld tables, %lld rows, %s raw, %s stored, "
               "%.1f s\n",
               m->id, m->status, m->end_position,
               (long long)json_integer_value(json_object_get(j, "tables")),
               (long long)json_integer_value(json_object_get(j, "rows")), raw, stored, m->duration);
        for (size_t i = 0; i < m->nwarnings; i++)
            printf("warning: %s\n", m->warnings[i]);
    }
    int partial = strcmp(m->status, "partial") == 0;
    if (partial && !json) {
        json_t *failed = json_object_get(j, "failed_units");
        printf("backup %s is PARTIAL: %zu of %zu units failed\n", m->id, json_array_size(failed),
               m->nunits);
        for (size_t i = 0; i < json_array_size(failed); i++)
            printf("  failed unit %s: %s\n",
                   json_string_value(json_object_get(json_array_get(failed, i), "name")),
                   json_string_value(json_object_get(json_array_get(failed, i), "error")));
        printf("fix the cause, then: cairn backup --resume %s (restore --tenant restores the "
               "complete units meanwhile)\n",
               m->id);
    }
    json_decref(j);
    cairn_manifest_free(m);
    return partial ? CAIRN_EPARTIAL : 0;
}

int cairn_cmd_backup(int argc, char **argv)
{
    const char **include = NULL, **exclude = NULL, **databases = NULL;
    int rc = run_backup(argc, argv, &include, &exclude, &databases);
    free(include);
    free(exclude);
    free(databases);
    return rc;
}
