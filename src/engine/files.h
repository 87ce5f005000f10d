/* Stored files: the stream stacks that write and read a backup's files.
 *
 * Writing: buffer -> SHA-256 of the raw bytes -> zstd -> SHA-256 of the
 * stored bytes -> repository object (atomic).  Reading: repository object
 * -> SHA-256 checked against the stored digest -> zstd -> SHA-256 checked
 * against the raw digest.  A reader therefore never hands out a byte of a
 * file whose checksum fails without the stream ending in an error. */
#ifndef CAIRN_FILES_H
#define CAIRN_FILES_H

#include "cairn/catalog.h"
#include "cairn/driver.h"
#include "cairn/stream.h"
#include "repo/repo.h"

typedef struct cairn_writer {
    cairn_sink *top;
    cairn_digest raw, stored;
    int level;     /* zstd level (negative: zstd's fast levels); 0: none */
    int encrypted; /* the repository's key seals the file */
    char *path;
} cairn_writer;

/* The writer must stay at one address until closed (digests are filled in
 * place).  level 0 stores the bytes uncompressed. */
int cairn_writer_open(cairn_writer *w, cairn_repo *r, const char *id, const char *path, int level,
                      cairn_error *err);
/* Caps the rate of what is written to this file, with a limiter shared by
 * other writers (the bytes counted are the raw ones, as read). */
int cairn_writer_limit(cairn_writer *w, cairn_rate *rate, cairn_error *err);
/* Also sums the content digest of the rows written (a table's data). */
int cairn_writer_digest_rows(cairn_writer *w, cairn_rowsum *out, cairn_error *err);
/* Finishes the file and describes it in *f (which takes the path). */
int cairn_writer_close(cairn_writer *w, cairn_file *f, cairn_error *err);
/* Discards an unfinished file; accepts a writer never opened. */
void cairn_writer_abort(cairn_writer *w);

/* A log capture (req, from the source at uri) stored as file path of
 * backup id; *res filled, *out the stored file.  Nothing is left on
 * failure. */
int cairn_log_to_file(cairn_repo *r, const char *id, const char *path, int level,
                      const cairn_driver *drv, const char *uri, const cairn_log_request *req,
                      cairn_file *out, cairn_log_result *res, cairn_error *err);

/* Opens a checked reader over a stored file.  check_raw: also decompress
 * and check the raw digest (otherwise the raw bytes are not produced). */
int cairn_reader_open(cairn_repo *r, const char *id, const cairn_file *f, int decompress,
                      cairn_source **out, cairn_error *err);
/* Reads a stored file to its end through a checked reader: CAIRN_OK when
 * every checksum holds. */
int cairn_file_check(cairn_repo *r, const char *id, const cairn_file *f, int deep,
                     cairn_error *err);

/* A stored file to check, and what its check found. */
typedef struct cairn_file_ref {
    const char *id; /* the backup it belongs to */
    const cairn_file *file;
    const cairn_object *obj; /* the table it holds: its errors name it */
    char what[128];          /* otherwise, a prefix for its errors ("" for none) */
    cairn_error err;         /* code 0 when the file holds */
} cairn_file_ref;

/* Checks the n files, as cairn_file_check does, on `jobs` threads,
 * largest first; each ref's err says what its check found.  Every file is
 * checked, failures or not (an interruption aside), so the failure
 * returned is always the same: that of the first ref that failed, in
 * *err.  CAIRN_OK when every file holds. */
int cairn_files_check_list(cairn_repo *r, cairn_file_ref *refs, size_t n, int deep, int jobs,
                           cairn_error *err);

/* Called for each file that fails a check (obj: the table it holds, or
 * NULL; e names the table), in manifest order, after every check. */
typedef void (*cairn_check_failed)(const cairn_file *f, const cairn_object *obj,
                                   const cairn_error *e, void *arg);

/* cairn_files_check_list over every file of manifest m, in manifest
 * order.  failed and nfiles (the files of the manifest) may be NULL. */
int cairn_files_check(cairn_repo *r, cairn_manifest *m, int deep, int jobs,
                      cairn_check_failed failed, void *arg, size_t *nfiles, cairn_error *err);

#endif
