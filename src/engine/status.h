/* cairn status: what a failure now would cost.  The newest durable
 * position and its age (the RPO exposure), the current chain, the
 * repository's size, the last restore drill (its RTO and age), and for a
 * reachable source how far its log has moved past the newest backup. */
#ifndef CAIRN_STATUS_H
#define CAIRN_STATUS_H

#include <jansson.h>

#include "cairn/error.h"

/* *out (caller decrefs): backups, repository_bytes, newest {id, type,
 * end_position, end_at}, rpo_seconds, chain_length, last_full_at,
 * last_drill_{at, rto_seconds, passed, backup}, last_passed_drill_at, and
 * with source: source {position, behind_bytes, slot}.  Times are ISO UTC,
 * null when there is none.  A source that cannot be reached is a warning
 * (source.error), not a failure. */
int cairn_status_run(const char *repo_dir, const char *source, json_t **out, cairn_error *err);

#endif
