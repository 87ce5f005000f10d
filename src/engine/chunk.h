/* Splitting tables into chunks and ordering the work, largest first.
 * Pure logic, no database: unit-tested on its own. */
#ifndef CAIRN_CHUNK_H
#define CAIRN_CHUNK_H

#include <stdint.h>

#include "cairn/catalog.h"

typedef struct cairn_chunk_policy {
    uint64_t chunk_bytes; /* a table of at least this size (with TOAST) is split */
    uint32_t max_chunks;  /* never more pieces than this per table */
} cairn_chunk_policy;

#define CAIRN_CHUNK_BYTES_DEFAULT (32ull << 20)
#define CAIRN_CHUNK_MAX_DEFAULT   1024

/* Plans obj->chunks from obj->bytes and obj->pages: one chunk below the
 * threshold; otherwise ceil(bytes / chunk_bytes) page ranges of equal page
 * count, the last one open-ended (a table grown since its statistics were
 * taken is still read whole).  Materialized views get no chunks. */
void cairn_chunk_plan(cairn_object *obj, const cairn_chunk_policy *policy);

typedef struct cairn_work {
    cairn_object *obj;
    cairn_chunk *chunk;
    size_t unit;     /* index of the object's unit in the array scheduled */
    uint64_t weight; /* estimated bytes */
    int attempts;    /* backup: how often it was tried */
} cairn_work;

/* Every chunk of the unit: non-transactional tables first (they are dumped
 * while the barrier holds), then heaviest first (ties keep catalog order).
 * The caller frees the array. */
cairn_work *cairn_chunk_schedule(cairn_unit *units, size_t nunits, size_t *count);

#endif
