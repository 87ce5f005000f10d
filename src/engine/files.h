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

#endif
