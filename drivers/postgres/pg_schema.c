/* Schema through pg_dump and pg_restore.
 *
 * pg_dump -Fc --snapshot dumps the pre-data and post-data sections under
 * the backup's snapshot into one archive, streamed into the sink (zstd
 * compresses it, so pg_dump's own compression is off).  pg_restore applies
 * one section at a time from a local copy of that archive.  Neither child
 * sees a password in its argument list: it travels in PGPASSWORD. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "postgres/pg_int.h"
#include "util/child.h"
#include "util/text.h"

static char *program(const char *name)
{
    const char *dir = cairn_child_pg_bindir();
    return *dir ? cairn_xasprintf("%s/%s", dir, name) : cairn_xstrdup(name);
}

static void wipe(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

int pg_run_tool(const char *name, const char *uri, const char *const *args, const char *positional,
                cairn_sink *out, cairn_error *err)
{
    char *password = NULL;
    char *conninfo = pg_child_conninfo(uri, NULL, &password, err);
    if (!conninfo)
        return err->code;
    char *prog = program(name);
    size_t nargs = 0;
    while (args[nargs])
        nargs++;
    const char **argv = cairn_xcalloc(nargs + 5, sizeof *argv);
    size_t n = 0;
    argv[n++] = prog;
    for (size_t i = 0; i < nargs; i++)
        argv[n++] = args[i];
    argv[n++] = "--dbname";
    argv[n++] = conninfo;
    if (positional)
        argv[n++] = positional;
    argv[n] = NULL;
    char *pwenv = password ? cairn_xasprintf("PGPASSWORD=%s", password) : NULL;
    const char *env[2] = {pwenv, NULL};
    int rc = cairn_child_run(argv, env, out, err);
    wipe(pwenv);
    wipe(password);
    free(argv);
    free(prog);
    free(conninfo);
    return rc;
}

char *pg_exact_pattern(const char *option, const char *name)
{
    cairn_buf b = {0};
    cairn_buf_printf(&b, "%s=\"", option);
    for (const char *p = name; *p; p++)
        cairn_buf_puts(&b, *p == '"' ? "\"\"" : (char[2]){*p, '\0'});
    cairn_buf_puts(&b, "\"");
    return b.data;
}

/* The whole database but the failed tenants; or, when the units hold no
 * database unit (a resume), only the tenant schemas given.  One pg_dump:
 * a schema-only dump cannot be split (jobs is not used). */
int pg_dump_schema(const char *uri, const cairn_snapshot *snap, const cairn_unit *units,
                   size_t nunits, int jobs, cairn_sink *sink, cairn_error *err)
{
    (void)jobs;
    int whole = 0;
    for (size_t i = 0; i < nunits; i++)
        whole |= units[i].kind && strcmp(units[i].kind, "database") == 0;
    char *snap_arg = cairn_xasprintf("--snapshot=%s", snap->token);
    size_t nfailed = 0;
    for (size_t i = 0; i < nunits; i++)
        nfailed += !whole || cairn_unit_failed(&units[i]);
    const char **args = cairn_xcalloc(nfailed + 8, sizeof *args);
    char **excl = cairn_xcalloc(nfailed + 1, sizeof *excl);
    size_t n = 0, e = 0;
    args[n++] = "--format=custom";
    args[n++] = "--compress=0";
    args[n++] = snap_arg;
    args[n++] = "--section=pre-data";
    args[n++] = "--section=post-data";
    args[n++] = "--no-sync";
    for (size_t i = 0; i < nunits; i++) {
        int failed = cairn_unit_failed(&units[i]);
        if (whole && failed)
            args[n++] = excl[e++] = pg_exact_pattern("--exclude-schema", units[i].name);
        else if (!whole && !failed)
            args[n++] = excl[e++] = pg_exact_pattern("--schema", units[i].name);
    }
    int rc = pg_run_tool("pg_dump", uri, args, NULL, sink, err);
    for (size_t i = 0; i < e; i++)
        free(excl[i]);
    free(excl);
    free(args);
    free(snap_arg);
    if (rc != CAIRN_OK)
        cairn_error_prefix(err, "dumping the schema");
    return rc;
}

int pg_restore_schema(const char *uri, const char *archive_path, const char *section,
                      const cairn_restore_flags *flags, cairn_error *err)
{
    char *sect = cairn_xasprintf("--section=%s", section);
    char jobs[32];
    snprintf(jobs, sizeof jobs, "--jobs=%d", flags->jobs > 0 ? flags->jobs : 1);
    const char *args[8];
    int n = 0;
    char *list = NULL, *use_list = NULL;
    if (flags->tenants) {
        list = cairn_xasprintf("%s.list", archive_path);
        unlink(list);
        if (pg_tenant_list(archive_path, flags->tenants, list, err) != CAIRN_OK) {
            unlink(list);
            free(list);
            free(sect);
            return err->code;
        }
        use_list = cairn_xasprintf("--use-list=%s", list);
        args[n++] = use_list;
    }
    args[n++] = sect;
    args[n++] = "--exit-on-error";
    if (strcmp(section, "post-data") == 0)
        args[n++] = jobs;
    if (flags->no_owner) {
        args[n++] = "--no-owner";
        args[n++] = "--no-privileges";
    }
    args[n] = NULL;
    int rc = pg_run_tool("pg_restore", uri, args, archive_path, NULL, err);
    if (list)
        unlink(list);
    free(list);
    free(use_list);
    free(sect);
    if (rc != CAIRN_OK) {
        cairn_error_prefix(err, "restoring the schema (%s)", section);
        if (strstr(err->message, "role") && strstr(err->message, "does not exist"))
            cairn_error_hint(err, "create the missing role on the target, or restore with "
                                  "--no-owner");
    }
    return rc;
}
