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

/* Runs a client program: PROGRAM ARGS... --dbname CONNINFO [POSITIONAL],
 * the connection string without its password, which travels in PGPASSWORD. */
static int run_tool(const char *name, const char *uri, const char *const *args,
                    const char *positional, cairn_sink *out, cairn_error *err)
{
    char *password = NULL;
    char *conninfo = pg_child_conninfo(uri, NULL, &password, err);
    if (!conninfo)
        return err->code;
    char *prog = program(name);
    const char *argv[32];
    size_t n = 0;
    argv[n++] = prog;
    for (size_t i = 0; args[i] && n < 27; i++)
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
    free(prog);
    free(conninfo);
    return rc;
}

int pg_dump_schema(const char *uri, const cairn_snapshot *snap, cairn_sink *sink, cairn_error *err)
{
    char *snap_arg = cairn_xasprintf("--snapshot=%s", snap->token);
    const char *args[] = {"--format=custom",     "--compress=0", snap_arg, "--section=pre-data",
                          "--section=post-data", "--no-sync",    NULL};
    int rc = run_tool("pg_dump", uri, args, NULL, sink, err);
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
    int rc = run_tool("pg_restore", uri, args, archive_path, NULL, err);
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
