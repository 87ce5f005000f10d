/* cairn copy: backups into a second repository, every checksum verified on
 * the way. */
#ifndef CAIRN_COPY_H
#define CAIRN_COPY_H

#include <jansson.h>

#include "cairn/error.h"

typedef struct cairn_copy_opts {
    const char *from, *to;
    const char *backup; /* id, tag or "latest": it and the backups it needs; NULL: latest */
    int all;            /* every backup of the source repository */
} cairn_copy_opts;

/* *report: {"copied": [ids], "present": [ids]} (caller decrefs). */
int cairn_copy_run(const cairn_copy_opts *o, json_t **report, cairn_error *err);

#endif
