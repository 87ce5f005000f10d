/* A cairn repository: cairn.json, the lock, backups/<ID>/.
 *
 * Everything above repo/ reaches the repository's bytes through this API
 * (and the storage table under it), never through the filesystem. */
#ifndef CAIRN_REPO_H
#define CAIRN_REPO_H

#include <jansson.h>

#include "cairn/driver.h"
#include "cairn/error.h"
#include "cairn/stream.h"
#include "repo/manifest.h"
#include "repo/storage.h"

#define CAIRN_REPO_FORMAT 1

typedef struct cairn_repo {
    char *root;
    cairn_storage *st;
    json_t *config; /* cairn.json */
    int lock_fd;    /* -1 when not locked */
    int encrypted;  /* every file but cairn.json is encrypted with key */
    unsigned char key[32];
} cairn_repo;

/* The passphrase repositories are opened with (NULL: none), and whether a
 * new repository is to be encrypted (backup --encrypt).  Process-wide: the
 * command line sets them once, from a file or the environment. */
void cairn_repo_set_passphrase(const char *passphrase);
void cairn_repo_set_encrypt_new(int yes);
/* backup --immutable: finished backups also get the file system's
 * immutable attribute. */
void cairn_repo_set_immutable(int yes);
/* --wait-lock: a writer waits up to this many seconds for the lock before
 * CAIRN_ELOCKED (default 0: at once). */
void cairn_repo_set_wait_lock(double seconds);
/* Seals the repository key under a new passphrase (cairn passwd). */
int cairn_repo_change_passphrase(cairn_repo *r, const char *passphrase, cairn_error *err);

/* Opens DIR.  With create, a missing or empty directory becomes a new
 * repository; anything else that lacks cairn.json is refused. */
int cairn_repo_open(const char *dir, int create, cairn_repo **out, cairn_error *err);
void cairn_repo_close(cairn_repo *r); /* releases the lock; accepts NULL */

/* Exclusive writer lock (flock: released by the kernel when the holder
 * dies, so a killed run never blocks the next).  CAIRN_ELOCKED, naming the
 * holder, when another live run has it. */
int cairn_repo_lock(cairn_repo *r, const char *command, cairn_error *err);
/* cairn_repo_open, then cairn_repo_lock for command; nothing left open on
 * failure. */
int cairn_repo_open_locked(const char *dir, int create, const char *command, cairn_repo **out,
                           cairn_error *err);

/* A setting kept in cairn.json (an integer; fallback when absent), and
 * recording one. */
int64_t cairn_repo_setting(cairn_repo *r, const char *name, int64_t fallback);
int cairn_repo_set_setting(cairn_repo *r, const char *name, int64_t value, cairn_error *err);

/* cairn copy: dst takes src's source and encryption when it has no
 * backups yet (a new repository); otherwise both must match -- the same
 * source, and no encryption or the same key -- so files copy byte for
 * byte. */
int cairn_repo_adopt(cairn_repo *dst, const cairn_repo *src, cairn_error *err);

/* The first backup records its source in cairn.json; later ones must match. */
int cairn_repo_check_source(cairn_repo *r, const char *driver, const cairn_identity *id,
                            cairn_error *err);

/* Backups with a valid manifest, oldest first.  Invalid ones are skipped
 * with a warning.  The caller frees each manifest and the array. */
int cairn_repo_list(cairn_repo *r, cairn_manifest ***out, size_t *count, cairn_error *err);
void cairn_repo_list_free(cairn_manifest **list, size_t count);
int cairn_repo_load(cairn_repo *r, const char *id, cairn_manifest **out, cairn_error *err);
/* "latest", an id, or a tag that names exactly one backup. */
int cairn_repo_select(cairn_repo *r, const char *spec, cairn_manifest **out, cairn_error *err);

/* A fresh backup id ("20261126-114015F"). */
void cairn_repo_new_id(cairn_repo *r, const char *type, char out[32]);

int cairn_repo_put(cairn_repo *r, const char *id, const char *path, cairn_sink **out,
                   cairn_error *err);
int cairn_repo_get(cairn_repo *r, const char *id, const char *path, cairn_source **out,
                   cairn_error *err);
/* A finished backup becomes read-only (files 0400, directories 0500), as
 * the last step of the run that wrote it; sealed 0 makes its directories
 * writable again for a run that completes it (resume).  Nothing rewrites a
 * sealed file. */
int cairn_repo_seal(cairn_repo *r, const char *id, int sealed, cairn_error *err);
/* The same, at the end of a run that succeeded: a failure is a warning. */
void cairn_repo_seal_finished(cairn_repo *r, const char *id);
/* Writes manifest.json last and atomically: this is what makes a backup exist. */
int cairn_repo_write_manifest(cairn_repo *r, const cairn_manifest *m, cairn_error *err);
/* Payload files written from now on may be durable only after
 * cairn_repo_sync, which a writer calls before the manifest that names
 * them (and which ends the deferral). */
void cairn_repo_defer_sync(cairn_repo *r);
int cairn_repo_sync(cairn_repo *r, cairn_error *err);
int cairn_repo_remove_backup(cairn_repo *r, const char *id, cairn_error *err);
/* Removes one file of a backup (missing is fine). */
int cairn_repo_remove_file(cairn_repo *r, const char *id, const char *path, cairn_error *err);

/* Small JSON documents inside a backup directory (pending.json). */
int cairn_repo_put_json(cairn_repo *r, const char *id, const char *path, json_t *doc,
                        cairn_error *err);
/* *out is NULL when the file does not exist or does not parse. */
void cairn_repo_get_json(cairn_repo *r, const char *id, const char *path, json_t **out);
/* Ids of backup directories without a manifest: runs that never finished.
 * NULL-terminated; free with cairn_strv_free. */
int cairn_repo_list_unfinished(cairn_repo *r, char ***ids, cairn_error *err);

/* Restore drills: each run's record (engine/drill.c) is kept as
 * drills/<time>.json, encrypted like everything else.  *records is an
 * array, oldest first; unreadable records are skipped with a warning. */
int cairn_repo_put_drill(cairn_repo *r, json_t *record, cairn_error *err);
int cairn_repo_drills(cairn_repo *r, json_t **records, cairn_error *err);
/* The newest drill record, and the newest that passed; NULL when none.
 * The caller decrefs both. */
void cairn_repo_last_drills(cairn_repo *r, json_t **last, json_t **passed);

#endif
