/* Byte pipeline: sinks (writers) and sources (readers) stacked in stages.
 *
 * The Redis rio idea: a stage is a struct with a table of operations and a
 * pointer to the stage below it, which it owns.  A driver writes table data
 * into the top sink and never knows what is stacked beneath (buffering,
 * SHA-256, zstd, the repository file).  Errors are sticky: once a stage
 * fails, every later call fails too, and cairn_sink_error() tells why.
 *
 * Ownership: a stage owns the stage below it; freeing the top frees the
 * chain.  A sink freed without a successful cairn_sink_finish() is
 * discarded (a file sink removes its temporary file), so an error path
 * never leaves a half-written file under its final name.
 * Not thread-safe: one stack belongs to one thread at a time. */
#ifndef CAIRN_STREAM_H
#define CAIRN_STREAM_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "cairn/error.h"

typedef struct cairn_sink cairn_sink;
typedef struct cairn_source cairn_source;

typedef struct cairn_sink_ops {
    int (*write)(cairn_sink *s, const void *buf, size_t len); /* 0 or -1 */
    int (*finish)(cairn_sink *s);                             /* flush and commit */
    void (*release)(cairn_sink *s);                           /* free own state */
} cairn_sink_ops;

struct cairn_sink {
    const cairn_sink_ops *ops;
    cairn_sink *next;
    int failed;
    int finished;
    cairn_error err;
};

typedef struct cairn_source_ops {
    ssize_t (*read)(cairn_source *s, void *buf, size_t cap); /* bytes, 0 at end, -1 */
    void (*release)(cairn_source *s);
} cairn_source_ops;

struct cairn_source {
    const cairn_source_ops *ops;
    cairn_source *next;
    int failed;
    int eof;
    cairn_error err;
};

/* A SHA-256 digest and the byte count it covers. */
typedef struct cairn_digest {
    uint64_t bytes;
    unsigned char sha256[32];
} cairn_digest;

int cairn_sink_write(cairn_sink *s, const void *buf, size_t len);
int cairn_sink_finish(cairn_sink *s);
void cairn_sink_free(cairn_sink *s);
/* Marks s failed with next's error (used by stages when the stage below fails). */
int cairn_sink_fail_from(cairn_sink *s, const cairn_sink *below);
const cairn_error *cairn_sink_error(const cairn_sink *s);

ssize_t cairn_source_read(cairn_source *s, void *buf, size_t cap);
/* Reads until cap bytes or the end; returns bytes read or -1. */
ssize_t cairn_source_read_full(cairn_source *s, void *buf, size_t cap);
void cairn_source_free(cairn_source *s);
int cairn_source_fail_from(cairn_source *s, const cairn_source *below);
const cairn_error *cairn_source_error(const cairn_source *s);

/* Stages.  Each takes ownership of `next`, also when it fails (returns NULL
 * only on out-of-memory, after freeing next). */
cairn_sink *cairn_buffer_sink_new(cairn_sink *next, size_t size);
/* Hashes everything written; fills *out when finished. */
cairn_sink *cairn_hash_sink_new(cairn_sink *next, cairn_digest *out);
cairn_sink *cairn_zstd_sink_new(cairn_sink *next, int level, int threads);
/* A rate cap shared by several streams (threads): every write through a
 * rate sink books its bytes on the limiter's schedule and waits its turn,
 * so all of them together pass at most bytes_per_second. */
typedef struct cairn_rate {
    pthread_mutex_t lock;
    double bytes_per_second;
    double next; /* when the next byte may pass (cairn_now() seconds) */
} cairn_rate;
void cairn_rate_init(cairn_rate *r, uint64_t bytes_per_second);
void cairn_rate_destroy(cairn_rate *r);
cairn_sink *cairn_rate_sink_new(cairn_sink *next, cairn_rate *rate);
/* Records: a 4-byte little-endian length, then that many bytes (the
 * payload a, then b).  Write: 0 or -1 (the sink's error says why).  Read:
 * CAIRN_OK with the payload in *buf (NUL-terminated, *len bytes), -1 at
 * the end between records, or an error code (a cut or oversized record is
 * CAIRN_EVERIFY). */
int cairn_record_write(cairn_sink *sink, const void *a, size_t alen, const void *b, size_t blen);
int cairn_record_read(cairn_source *src, char **buf, size_t *cap, size_t *len, size_t max,
                      cairn_error *err);
/* Authenticated encryption (AES-256-GCM in 64 KiB frames, a key per file
 * derived from key and a random salt): bit flips, reordered frames,
 * truncation and extension are all detected when reading. */
cairn_sink *cairn_encrypt_sink_new(cairn_sink *next, const unsigned char key[32]);
cairn_source *cairn_decrypt_source_new(cairn_source *next, const unsigned char key[32],
                                       const char *name);

/* A sink that keeps everything in memory (tests, small objects). */
cairn_sink *cairn_memory_sink_new(void);
const void *cairn_memory_sink_data(const cairn_sink *s, size_t *len);

/* Hashes everything read; when `expect` is given, the end of the stream
 * fails with CAIRN_EVERIFY unless size and digest match.  `what` names the
 * file in the error.  *out, when given, is filled at the end. */
cairn_source *cairn_hash_source_new(cairn_source *next, const cairn_digest *expect,
                                    const char *what, cairn_digest *out);
/* Decompresses; a truncated or corrupt frame is an error (naming `what`),
 * never short data. */
cairn_source *cairn_zstd_source_new(cairn_source *next, const char *what);
/* Reads a memory region (not copied: it must outlive the source). */
cairn_source *cairn_memory_source_new(const void *data, size_t len);

/* A table's content digest: the sum modulo 2^128 of the XXH3-128 hash of
 * every row ('\n'-terminated line of the dump format), and the rows
 * counted.  Order-independent: the same rows in any order and any split
 * into chunks give the same sum (engine/drill.c compares them). */
typedef struct cairn_rowsum {
    uint64_t lo, hi;
    uint64_t rows;
} cairn_rowsum;
/* Sums the rows of what passes through into *out when finished; next may
 * be NULL (the bytes are only digested). */
cairn_sink *cairn_rows_sink_new(cairn_sink *next, cairn_rowsum *out);
void cairn_rowsum_add(cairn_rowsum *sum, const cairn_rowsum *add);
/* The 128-bit sum as 32 lowercase hex digits (rows not included); -1 when
 * malformed. */
void cairn_rowsum_hex(const cairn_rowsum *sum, char out[33]);
int cairn_rowsum_from_hex(cairn_rowsum *sum, const char *hex);

/* Digest <-> lowercase hex. */
void cairn_digest_hex(const cairn_digest *d, char out[65]);
int cairn_digest_from_hex(cairn_digest *d, const char *hex);

#endif
