/* Running a helper program (pg_dump, pg_restore) without a shell.
 *
 * Secrets travel in the child's environment (`env`, "NAME=value" strings
 * added to the inherited environment), never in its argument list, which
 * any user of the machine can read.  The child's stdout goes to `out`
 * (NULL: discarded); the tail of its stderr is kept for the error message. */
#ifndef CAIRN_CHILD_H
#define CAIRN_CHILD_H

#include "cairn/error.h"
#include "cairn/stream.h"

/* Returns CAIRN_OK when the child exited 0; otherwise an error naming the
 * program and quoting the last lines it printed on stderr. */
int cairn_child_run(const char *const *argv, const char *const *env, cairn_sink *out,
                    cairn_error *err);

/* A new private directory ($TMPDIR or /tmp, mode 0700) for files a helper
 * program reads or writes: "<tmp>/cairn-<what>-XXXXXX".  The caller removes
 * it and frees the path; NULL with err set when it cannot be made. */
char *cairn_temp_dir(const char *what, cairn_error *err);

/* The directory holding PostgreSQL's client programs: $CAIRN_PG_BINDIR,
 * else "" (search PATH). */
const char *cairn_child_pg_bindir(void);

#endif
