/* The sequential phase of a backup, after the parallel one: proves that
 * every worker ran on the leader's snapshot and that every file the
 * workers wrote reads back whole, before the manifest makes the backup
 * exist. */
#include <string.h>

#include "engine/backup.h"
#include "engine/files.h"

int cairn_backup_check(cairn_repo *r, cairn_manifest *m, cairn_error *err)
{
    for (size_t i = 0; i < m->nworker_snapshots; i++)
        if (strcmp(m->worker_snapshots[i], m->snapshot_identity) != 0) {
            cairn_error_set(err, CAIRN_EVERIFY,
                            "worker %zu ran on snapshot %s, not the leader's %s", i + 1,
                            m->worker_snapshots[i], m->snapshot_identity);
            return cairn_error_hint(err, "the snapshot could not be shared; retry the backup");
        }
    for (size_t u = 0; u < m->nunits; u++)
        for (size_t o = 0; o < m->units[u].nobjects; o++) {
            cairn_object *obj = &m->units[u].objects[o];
            obj->rows = 0;
            for (size_t c = 0; c < obj->nchunks; c++)
                obj->rows += obj->chunks[c].rows;
        }
    if (cairn_files_check(r, m, 0, m->jobs, NULL, NULL, NULL, err) != CAIRN_OK)
        return err->code;
    cairn_manifest_sum(m);
    return CAIRN_OK;
}
