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

#include "postgres/pg_int.h"
#include "util/child.h"
#include "util/text.h"

static char *program(const char *name)
{
    const char *dir = cairn_child_pg_bindir();
    return *dir ? cairn_xasprintf("%s/%s", dir, name) : cairn_xstrdup(name);
}

static void password_env(const char *password, char **slot, const char **env)
{
    *slot = password ? cairn_xasprintf("PGPASSWORD=%s", password) : NULL;
    env[0] = *slot;
    env[1] = NULL;
}

static void wipe(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

int pg_dump_schema(const char *uri, const cairn_snapshot *snap, cairn_sink *sink, cairn_error *err)
{
    char *password = NULL;
    char *conninfo = pg_child_conninfo(uri, NULL, &password, err);
    if (!conninfo)
        return err->code;
    char *prog = program("pg_dump");
    char *snap_arg = cairn_xasprintf("--snapshot=%s", snap->token);
    const char *argv[] = {prog,        "--format=custom",    "--compress=0",
                          snap_arg,    "--section=pre-data", "--section=post-data",
                          "--no-sync", "--dbname",           conninfo,
                          NULL};
    char *pwenv = NULL;
    const char *env[2];
    password_env(password, &pwenv, env);
    int rc = cairn_child_run(argv, env, sink, err);
    wipe(pwenv);
    wipe(password);
    free(snap_arg);
    free(prog);
    free(conninfo);
    if (rc != CAIRN_OK)
        cairn_error_prefix(err, "dumping the schema");
    return rc;
}

int pg_restore_schema(const char *uri, const char *archive_path, const char *section,
                      const cairn_restore_flags *flags, cairn_error *err)
{
    char *password = NULL;
    char *conninfo = pg_child_conninfo(uri, NULL, &password, err);
    if (!conninfo)
        return err->code;
    char *prog = program("pg_restore");
    char *sect = cairn_xasprintf("--section=%s", section);
    char jobs[32];
    snprintf(jobs, sizeof jobs, "--jobs=%d", flags->jobs > 0 ? flags->jobs : 1);
    const char *argv[16];
    int n = 0;
    argv[n++] = prog;
    argv[n++] = sect;
    argv[n++] = "--exit-on-error";
    if (strcmp(section, "post-data") == 0)
        argv[n++] = jobs;
    if (flags->no_owner) {
        argv[n++] = "--no-owner";
        argv[n++] = "--no-privileges";
    }
    argv[n++] = "--dbname";
    argv[n++] = conninfo;
    argv[n++] = archive_path;
    argv[n] = NULL;
    char *pwenv = NULL;
    const char *env[2];
    password_env(password, &pwenv, env);
    int rc = cairn_child_run(argv, env, NULL, err);
    wipe(pwenv);
    wipe(password);
    free(sect);
    free(prog);
    free(conninfo);
    if (rc != CAIRN_OK) {
        cairn_error_prefix(err, "restoring the schema (%s)", section);
        if (strstr(err->message, "role") && strstr(err->message, "does not exist"))
            cairn_error_hint(err, "create the missing role on the target, or restore with "
                                  "--no-owner");
    }
    return rc;
}
