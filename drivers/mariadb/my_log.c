/* Increments from the MariaDB binary log.
 *
 * DESIGN (section 5): an increment holds the binlog from the parent's end
 * (file:pos) to the end of the newest closed binlog file (a resume's
 * catch-up log: to a given position; the file holding it is copied whole,
 * and restore stops there).  The capture
 * checks that the log is usable (log_bin, binlog_format=ROW,
 * binlog_row_image=FULL), that the parent's file is still on the server and
 * that BINLOG_GTID_POS at the parent's end is the parent's GTID (a purged
 * or reset binlog is a gap, refused), then rotates the log (FLUSH BINARY
 * LOGS) so every file it copies is closed and complete, and copies those
 * files byte for byte with the server's own client, mariadb-binlog
 * --read-from-remote-server --raw (chosen over Connector/C's replication
 * API: it is the tool a restore replays with, it handles checksums and
 * format versions, and its raw copy is verified end to end).  The files go
 * into the stream stack as framed records (my_binlog.h); their events are
 * scanned for the transaction count and commit times.  The binlog is not
 * consumed by reading, so there is nothing to confirm afterwards; what the
 * server keeps is governed by binlog_expire_logs_seconds. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mariadb/my_binlog.h"
#include "mariadb/my_int.h"
#include "util/child.h"
#include "util/fault.h"
#include "util/log.h"
#include "util/text.h"
#include "util/uri.h"

#define RECORD_DATA (1u << 20)

int my_position_cmp(const char *a, const char *b, int *cmp, cairn_error *err)
{
    char af[256], bf[256];
    uint64_t ap, bp;
    if (my_position_parse(a, af, sizeof af, &ap) != 0 || my_position_parse(b, bf, sizeof bf, &bp)) {
        cairn_error_set(err, CAIRN_EUSAGE, "\"%s\" is not a MariaDB binlog position",
                        my_position_parse(a, af, sizeof af, &ap) ? a : b);
        return cairn_error_hint(err, "positions look like mysql-bin.000042:1234 (see cairn list)");
    }
    *cmp = my_position_order(af, ap, bf, bp);
    return CAIRN_OK;
}

int my_log_confirm(const char *uri, const char *slot, const char *end, cairn_error *err)
{
    (void)uri, (void)slot, (void)end, (void)err;
    return CAIRN_OK; /* reading the binlog consumes nothing */
}

/* One row of a one-row query, as strings; NULL values become "". */
static int query_row(MYSQL *my, const char *sql, char out[][256], int ncols, cairn_error *err)
{
    MYSQL_RES *res = NULL;
    if (my_query(my, sql, &res, err) != CAIRN_OK)
        return err->code;
    MYSQL_ROW row = mysql_fetch_row(res);
    for (int i = 0; i < ncols; i++)
        cairn_strlcpy(out[i], row && row[i] ? row[i] : "", 256);
    mysql_free_result(res);
    return CAIRN_OK;
}

static int check_log_settings(MYSQL *my, cairn_identity *id, cairn_error *err)
{
    char v[6][256];
    if (query_row(my,
                  "SELECT @@server_id, @@version, @@character_set_server, @@log_bin, "
                  "@@binlog_format, @@binlog_row_image",
                  v, 6, err) != CAIRN_OK)
        return err->code;
    snprintf(id->system_id, sizeof id->system_id, "server_id=%.40s", v[0]);
    cairn_strlcpy(id->server_version, v[1], sizeof id->server_version);
    cairn_strlcpy(id->encoding, v[2], sizeof id->encoding);
    if (strcmp(v[3], "1") != 0) {
        cairn_error_set(err, CAIRN_ENOCHAIN,
                        "the binary log is off: there is no log to take an "
                        "increment from");
        return cairn_error_hint(err, "set log_bin, binlog_format=ROW and binlog_row_image=FULL, "
                                     "restart, and take a full backup");
    }
    if (strcmp(v[4], "ROW") != 0 || strcmp(v[5], "FULL") != 0) {
        cairn_error_set(err, CAIRN_ENOCHAIN,
                        "increments need binlog_format=ROW and binlog_row_image=FULL; the server "
                        "has %s and %s",
                        v[4], v[5]);
        return cairn_error_hint(err, "SET GLOBAL binlog_format = 'ROW', binlog_row_image = "
                                     "'FULL' (and in the server's configuration), then take a "
                                     "full backup: changes logged otherwise cannot be replayed "
                                     "exactly");
    }
    return CAIRN_OK;
}

typedef struct {
    char name[256];
    uint64_t size;
} binlog_file;

static int list_binlogs(MYSQL *my, binlog_file **files, size_t *n, cairn_error *err)
{
    MYSQL_RES *res = NULL;
    if (my_query(my, "SHOW BINARY LOGS", &res, err) != CAIRN_OK)
        return cairn_error_prefix(err, "listing the binary logs");
    *n = 0;
    *files = cairn_xcalloc(mysql_num_rows(res) + 1, sizeof **files);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        cairn_strlcpy((*files)[*n].name, row[0], sizeof(*files)[*n].name);
        (*files)[*n].size = strtoull(row[1] ? row[1] : "0", NULL, 10);
        (*n)++;
    }
    mysql_free_result(res);
    return CAIRN_OK;
}

/* The parent's end must still be in the log, and be where the parent said. */
static int check_start(MYSQL *my, const cairn_log_request *req, const char *file, uint64_t pos,
                       const binlog_file *files, size_t n, cairn_error *err)
{
    int found = 0;
    for (size_t i = 0; i < n; i++)
        found |= strcmp(files[i].name, file) == 0;
    if (!found) {
        cairn_error_set(err, CAIRN_ENOCHAIN,
                        "binlog file %s, where the last backup ended (%s), is no longer on the "
                        "server (purged): the changes since then are missing",
                        file, req->start);
        return cairn_error_hint(err, "take a new full backup; keep binlogs longer "
                                     "(binlog_expire_logs_seconds) than the time between "
                                     "increments");
    }
    if (!req->start_gtid || !*req->start_gtid)
        return CAIRN_OK;
    char *lit = my_literal(my, file);
    char *sql = cairn_xasprintf("SELECT BINLOG_GTID_POS(%s, %llu)", lit, (unsigned long long)pos);
    free(lit);
    char v[1][256];
    int rc = query_row(my, sql, v, 1, err);
    free(sql);
    if (rc != CAIRN_OK)
        return rc;
    if (strcmp(v[0], req->start_gtid) != 0) {
        cairn_error_set(err, CAIRN_ENOCHAIN,
                        "the binlog at %s is at GTID %s, not at the last backup's %s: the binary "
                        "log was reset or rewritten since",
                        req->start, v[0][0] ? v[0] : "(none)", req->start_gtid);
        return cairn_error_hint(err, "take a new full backup");
    }
    return CAIRN_OK;
}

/* Copies files[first..last] into dir with mariadb-binlog. */
static int download(const char *uri, const char *dir, const binlog_file *files, size_t first,
                    size_t last, cairn_error *err)
{
    cairn_uri u;
    if (cairn_uri_parse(uri, &u, err) != CAIRN_OK)
        return err->code;
    const char *socket = cairn_uri_param_get(&u, "socket");
    const char *password = u.password ? u.password : getenv("MYSQL_PWD");
    size_t nargs = 18 + (last - first + 1);
    const char **argv = cairn_xcalloc(nargs, sizeof *argv);
    char **owned = cairn_xcalloc(nargs, sizeof *owned);
    size_t a = 0, o = 0;
    argv[a++] = "mariadb-binlog";
    if (password) /* else the option files give it, as they gave cairn's */
        argv[a++] = "--no-defaults";
    argv[a++] = "--read-from-remote-server";
    argv[a++] = "--raw";
    if (u.host || !socket)
        argv[a++] = owned[o++] = cairn_xasprintf("--host=%s", u.host ? u.host : "localhost");
    if (u.port)
        argv[a++] = owned[o++] = cairn_xasprintf("--port=%d", u.port);
    if (socket)
        argv[a++] = owned[o++] = cairn_xasprintf("--socket=%s", socket);
    argv[a++] = owned[o++] =
        cairn_xasprintf("--user=%s", u.user ? u.user : (getenv("USER") ? getenv("USER") : ""));
    argv[a++] = owned[o++] = cairn_xasprintf("--result-file=%s/", dir);
    /* the connection's TLS, as for cairn's own (my_conn.c) */
    const char *mode = cairn_uri_param_get(&u, "ssl-mode");
    static const char *const tls_files[] = {"ssl-ca", "ssl-cert", "ssl-key"};
    if (!mode || strcasecmp(mode, "DISABLED") != 0) {
        for (size_t i = 0; i < 3; i++) {
            const char *v = cairn_uri_param_get(&u, tls_files[i]);
            if (v)
                argv[a++] = owned[o++] = cairn_xasprintf("--%s=%s", tls_files[i], v);
        }
        if (mode && strcasecmp(mode, "PREFERRED") != 0)
            argv[a++] = "--ssl";
        if (mode &&
            (strcasecmp(mode, "VERIFY_CA") == 0 || strcasecmp(mode, "VERIFY_IDENTITY") == 0))
            argv[a++] = "--ssl-verify-server-cert";
    } else {
        argv[a++] = "--skip-ssl";
    }
    for (size_t i = first; i <= last; i++)
        argv[a++] = files[i].name;
    argv[a] = NULL;
    char *pwenv = password ? cairn_xasprintf("MYSQL_PWD=%s", password) : NULL;
    const char *env[2] = {pwenv, NULL};
    int rc = cairn_child_run(argv, env, NULL, err);
    if (rc != CAIRN_OK)
        cairn_error_hint(err, "reading the binlog needs the REPLICATION SLAVE privilege "
                              "(GRANT REPLICATION SLAVE ON *.* TO ...) and mariadb-binlog");
    if (pwenv) {
        memset(pwenv, 0, strlen(pwenv));
        free(pwenv);
    }
    for (size_t i = 0; i < o; i++)
        free(owned[i]);
    free(owned);
    free(argv);
    cairn_uri_clear(&u);
    return rc;
}

static int put_record(cairn_sink *sink, char type, const void *data, size_t len, cairn_error *err)
{
    if (cairn_record_write(sink, &type, 1, data, len) != 0) {
        *err = *cairn_sink_error(sink);
        return err->code ? err->code : CAIRN_ERR;
    }
    return CAIRN_OK;
}

static void iso_time(uint32_t t, char out[48])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 48, "%Y-%m-%d %H:%M:%S+00", &tm);
}

/* Stores one downloaded file and counts the transactions in it that come
 * after the start and end at or before until (0: the file's end). */
static int store_file(const char *dir, const char *name, uint64_t after, uint64_t until,
                      cairn_sink *sink, cairn_log_result *res, cairn_error *err)
{
    char *path = cairn_xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "rbe");
    if (!f) {
        int rc = cairn_error_errno(err, errno, "cannot open %s", path);
        free(path);
        return rc;
    }
    int rc = put_record(sink, MY_REC_FILE, name, strlen(name), err);
    my_binlog_scan scan;
    my_binlog_scan_init(&scan);
    unsigned char *buf = cairn_xmalloc(RECORD_DATA);
    size_t n;
    while (rc == CAIRN_OK && (n = fread(buf, 1, RECORD_DATA, f)) > 0) {
        my_binlog_scan_feed(&scan, buf, n);
        rc = put_record(sink, MY_REC_DATA, buf, n, err);
        if (cairn_fault("my-capture-kill"))
            kill(getpid(), SIGKILL); /* tests: a capture killed mid-way */
    }
    if (rc == CAIRN_OK && ferror(f))
        rc = cairn_error_errno(err, errno, "cannot read %s", path);
    fclose(f);
    unlink(path);
    free(path);
    free(buf);
    if (rc == CAIRN_OK && my_binlog_scan_end(&scan) != 0)
        rc = cairn_error_set(err, CAIRN_ERR, "binlog file %s as copied: %s", name, scan.why);
    for (size_t i = 0; rc == CAIRN_OK && i < scan.ngroups; i++) {
        const my_group *g = &scan.groups[i];
        if (g->end <= after || (until && g->end > until))
            continue;
        res->transactions++;
        res->changes += g->changes;
        res->ddl += g->schema > 0;
        if (!res->first_commit_at[0])
            iso_time(g->time, res->first_commit_at);
        iso_time(g->time, res->last_commit_at);
    }
    free(scan.groups);
    return rc;
}

static int capture(MYSQL *my, const char *uri, const cairn_log_request *req, cairn_sink *sink,
                   cairn_log_result *res, cairn_error *err)
{
    char start_file[256];
    uint64_t start_pos = 0;
    if (my_position_parse(req->start, start_file, sizeof start_file, &start_pos) != 0)
        return cairn_error_set(err, CAIRN_ENOCHAIN,
                               "the last backup's position \"%s\" is not a "
                               "binlog position",
                               req->start);
    char stop_file[256] = "";
    uint64_t stop_pos = 0;
    if (req->stop && my_position_parse(req->stop, stop_file, sizeof stop_file, &stop_pos) != 0)
        return cairn_error_set(err, CAIRN_ERR, "\"%s\" is not a binlog position", req->stop);
    binlog_file *files = NULL;
    size_t n = 0;
    int rc = list_binlogs(my, &files, &n, err);
    if (rc == CAIRN_OK)
        rc = check_start(my, req, start_file, start_pos, files, n, err);
    free(files);
    files = NULL;
    /* close the current file: everything copied is then complete */
    if (rc == CAIRN_OK && my_exec(my, "FLUSH NO_WRITE_TO_BINLOG BINARY LOGS", err) != CAIRN_OK)
        rc = cairn_error_hint(err, "rotating the binary log needs the RELOAD privilege");
    if (rc == CAIRN_OK)
        rc = list_binlogs(my, &files, &n, err);
    if (rc != CAIRN_OK) {
        free(files);
        return rc;
    }
    size_t first = n, last = n >= 2 ? n - 2 : n; /* the newest file is open */
    for (size_t i = 0; i < n; i++) {
        if (strcmp(files[i].name, start_file) == 0)
            first = i;
        if (stop_file[0] && strcmp(files[i].name, stop_file) == 0 && i + 1 < n)
            last = i; /* closed by the rotation above */
    }
    uint64_t after = start_pos; /* in files[first] */
    if (first < n && files[first].size <= start_pos && !(stop_file[0] && first == last)) {
        first++; /* the parent ended at the end of that file */
        after = 0;
    }
    if (stop_file[0] &&
        (last == n || strcmp(files[last].name, stop_file) != 0 || files[last].size < stop_pos)) {
        free(files);
        return cairn_error_set(err, CAIRN_ENOCHAIN, "binlog position %s is not on the server",
                               req->stop);
    }
    if (first == n || last == n || first > last) {
        free(files);
        return cairn_error_set(err, CAIRN_ENOCHAIN, "binlog file %s is gone", start_file);
    }
    uint64_t end_pos = stop_file[0] ? stop_pos : files[last].size;
    if (strlen(files[last].name) > 40) {
        cairn_error_set(err, CAIRN_ERR, "binlog file name %.60s is too long", files[last].name);
        free(files);
        return err->code;
    }
    snprintf(res->end, sizeof res->end, "%.40s:%llu", files[last].name,
             (unsigned long long)end_pos);
    char *lit = my_literal(my, files[last].name);
    char *sql = cairn_xasprintf("SELECT BINLOG_GTID_POS(%s, %llu), DATE_FORMAT(UTC_TIMESTAMP(6), "
                                "'%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ')",
                                lit, (unsigned long long)end_pos);
    free(lit);
    char v[2][256];
    rc = query_row(my, sql, v, 2, err);
    free(sql);
    if (rc == CAIRN_OK) {
        cairn_strlcpy(res->gtid, v[0], sizeof res->gtid);
        cairn_strlcpy(res->end_at, v[1], sizeof res->end_at);
    }
    char *dir = rc == CAIRN_OK ? cairn_temp_dir("binlog", err) : NULL;
    if (!dir)
        rc = err->code;
    if (rc == CAIRN_OK) {
        rc = download(uri, dir, files, first, last, err);
        for (size_t i = first; rc == CAIRN_OK && i <= last; i++)
            rc = store_file(dir, files[i].name, i == first ? after : 0,
                            i == last && stop_file[0] ? stop_pos : 0, sink, res, err);
        for (size_t i = first; i <= last; i++) { /* after a failure: leave nothing */
            char *p = cairn_xasprintf("%s/%s", dir, files[i].name);
            unlink(p);
            free(p);
        }
        rmdir(dir);
    }
    free(dir);
    free(files);
    return rc;
}

int my_log_capture(const char *uri, const cairn_log_request *req, cairn_sink *sink,
                   cairn_log_result *res, cairn_error *err)
{
    memset(res, 0, sizeof *res);
    MYSQL *my = NULL;
    if (my_connect(uri, &my, err) != CAIRN_OK)
        return err->code;
    char *db = my_uri_database(uri);
    cairn_strlcpy(res->source.database, db ? db : "", sizeof res->source.database);
    free(db);
    int rc = check_log_settings(my, &res->source, err);
    if (rc == CAIRN_OK)
        rc = capture(my, uri, req, sink, res, err);
    mysql_close(my);
    return rc;
}

int my_log_distance(const char *uri, const char *from, char *current, size_t cap, uint64_t *bytes,
                    cairn_error *err)
{
    char from_file[256];
    uint64_t from_pos = 0;
    *bytes = 0;
    if (my_position_parse(from, from_file, sizeof from_file, &from_pos) != 0)
        return cairn_error_set(err, CAIRN_EUSAGE, "\"%s\" is not a binlog position", from);
    MYSQL *my = NULL;
    if (my_connect(uri, &my, err) != CAIRN_OK)
        return err->code;
    binlog_file *files = NULL;
    size_t n = 0;
    int rc = list_binlogs(my, &files, &n, err);
    mysql_close(my);
    if (rc != CAIRN_OK)
        return rc;
    if (n == 0) {
        free(files);
        return cairn_error_set(err, CAIRN_ERR, "the server has no binary log");
    }
    /* from the backup's end to the end of the newest file; a purged
     * starting file counts from the oldest one kept */
    int counting = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(files[i].name, from_file) == 0) {
            counting = 1;
            *bytes += files[i].size > from_pos ? files[i].size - from_pos : 0;
        } else if (counting || strcmp(files[i].name, from_file) > 0) {
            counting = 1;
            *bytes += files[i].size;
        }
    }
    snprintf(current, cap, "%s:%llu", files[n - 1].name, (unsigned long long)files[n - 1].size);
    free(files);
    return CAIRN_OK;
}
