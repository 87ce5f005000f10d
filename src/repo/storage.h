/* Repository storage: the only code that touches the repository's bytes.
 *
 * A table of functions with one POSIX implementation; an object-store one
 * can follow, so nothing here relies on what object stores lack (renaming
 * directories, appends, links).  Paths are relative to the repository root
 * and use '/'.  put() returns a sink whose successful finish makes the
 * whole object appear at once; an unfinished sink leaves nothing behind. */
#ifndef CAIRN_STORAGE_H
#define CAIRN_STORAGE_H

#include <stddef.h>

#include "cairn/error.h"
#include "cairn/stream.h"

typedef struct cairn_storage cairn_storage;

typedef struct cairn_storage_ops {
    /* Write an object atomically; parent "directories" are implied. */
    int (*put)(cairn_storage *st, const char *path, cairn_sink **out, cairn_error *err);
    /* Read an object; a missing one is CAIRN_EVERIFY "... is missing". */
    int (*get)(cairn_storage *st, const char *path, cairn_source **out, cairn_error *err);
    /* 1 when present, 0 when not. */
    int (*exists)(cairn_storage *st, const char *path);
    /* Names directly under dir, sorted; *names is a NULL-terminated array. */
    int (*list)(cairn_storage *st, const char *dir, char ***names, size_t *count, cairn_error *err);
    /* Make every object put so far durable (after puts with defer_sync). */
    int (*sync)(cairn_storage *st, cairn_error *err);
    /* Remove path and everything under it; missing is fine. */
    int (*remove)(cairn_storage *st, const char *path, cairn_error *err);
    /* Make everything under dir read-only (a finished backup), or writable
     * again for a run that completes it (resume). */
    int (*seal)(cairn_storage *st, const char *dir, int sealed, cairn_error *err);
    /* The file system's immutable attribute on everything under dir (set
     * after sealing; cleared before unsealing or removing).  CAIRN_EUSAGE
     * when the file system or the privileges do not allow it. */
    int (*immutable)(cairn_storage *st, const char *dir, int on, cairn_error *err);
    void (*free)(cairn_storage *st);
} cairn_storage_ops;

struct cairn_storage {
    const cairn_storage_ops *ops;
    char *root;
    int defer_sync; /* puts may return before their object is durable; sync makes it so */
};

/* A POSIX directory, which must exist. */
cairn_storage *cairn_storage_posix_new(const char *root);
void cairn_storage_free(cairn_storage *st);

#endif
