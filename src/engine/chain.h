/* The restore planner: which backups a restore applies, in which order,
 * and where it stops.
 *
 * DESIGN (section 5): the target is the newest backup (or one named by id
 * or tag), a log position, or a time.  The chain is the newest full
 * backup at or before the target and the increments that follow it link
 * by link: each starts exactly where its parent ends, from the same
 * source.  A missing link, a gap between positions, or a target past the
 * newest increment is refused with CAIRN_ENOCHAIN naming what is missing;
 * nothing is touched. */
#ifndef CAIRN_CHAIN_H
#define CAIRN_CHAIN_H

#include <stdint.h>

#include "cairn/driver.h"
#include "repo/manifest.h"
#include "repo/repo.h"

typedef struct cairn_chain {
    cairn_manifest **all; /* every backup of the repository (owned) */
    size_t nall;
    cairn_manifest **steps; /* [0] the full backup, then increments in order */
    size_t nsteps;
    const char *stop_position; /* inclusive; NULL: apply the last step whole */
    int64_t stop_time_us;      /* 0: none */
    char stop_time[40];        /* as given, for messages */
} cairn_chain;

/* backup: id, tag or "latest" (NULL: latest); to_position / to_time: at
 * most one, and not with a backup other than latest.  A partial full
 * backup named by id or tag is a chain of its own only with allow_partial
 * (a restore of some of its units). */
int cairn_chain_plan(cairn_repo *r, const cairn_driver *drv, const char *backup,
                     const char *to_position, const char *to_time, int allow_partial,
                     cairn_chain *out, cairn_error *err);
void cairn_chain_clear(cairn_chain *c);

#endif
