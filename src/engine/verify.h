/* Verifying backups in a repository: every file read back, decompressed,
 * and checked against both digests its manifest records. */
#ifndef CAIRN_VERIFY_H
#define CAIRN_VERIFY_H

#include <jansson.h>

#include "cairn/error.h"

/* Verifies one backup (id/tag/latest) or, with backup NULL, all of them,
 * reading files on `jobs` threads.  *report (caller decrefs) lists each
 * backup with its result.  Returns CAIRN_EVERIFY when any check failed
 * (err names the first). */
int cairn_verify_run(const char *repo_dir, const char *backup, int jobs, json_t **report,
                     cairn_error *err);

#endif
