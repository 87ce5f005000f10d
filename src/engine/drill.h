/* Restore drills: restore a backup into a scratch database, prove the
 * restored data is the data that was backed up, and measure how long the
 * restore took (the recovery time objective, RTO). */
#ifndef CAIRN_DRILL_H
#define CAIRN_DRILL_H

#include <jansson.h>

#include "cairn/error.h"

typedef struct cairn_drill_opts {
    const char *repo_dir;
    const char *target_uri; /* a server (scratch databases are made and dropped) or a database */
    const char *backup;     /* id, tag or "latest"; NULL: latest */
    int jobs;
    int keep;     /* leave the scratch databases in place */
    int no_owner; /* restore without ownership and privileges */
} cairn_drill_opts;

/* Runs the drill and records it in the repository (drills/).  *report
 * (caller decrefs; set whenever the restore ran) holds rto_seconds,
 * passed, and per table the rows and content digest compared.  CAIRN_OK
 * when everything matched; CAIRN_EVERIFY when something did not (the
 * report says what); another error when the drill could not run. */
int cairn_drill_run(const cairn_drill_opts *o, json_t **report, cairn_error *err);

#endif
