/* Chunk planning and largest-first scheduling. */
#include "engine/chunk.h"

#include <stdlib.h>

#include "util/text.h"

/* Even ranges over [key_min, key_max]: as many as the size asks for and
 * never more than there are key values, so a sparse key gives uneven
 * chunks but never a flood of empty ones. */
static void plan_key_ranges(cairn_object *obj, uint64_t parts, uint32_t max)
{
    /* the span as unsigned: key_max - key_min can exceed INT64_MAX */
    uint64_t span = (uint64_t)obj->key_max - (uint64_t)obj->key_min;
    if (parts > max)
        parts = max;
    if (obj->key_max < obj->key_min || span < parts)
        parts = obj->key_max < obj->key_min ? 1 : (span ? span : 1);
    if (parts < 2) {
        obj->chunks = cairn_xcalloc(1, sizeof *obj->chunks);
        obj->nchunks = 1;
        return;
    }
    uint64_t step = span / parts + (span % parts != 0);
    obj->chunks = cairn_xcalloc(parts, sizeof *obj->chunks);
    obj->nchunks = parts;
    for (uint64_t i = 0; i < parts; i++) {
        cairn_chunk *c = &obj->chunks[i];
        c->index = (uint32_t)i;
        c->split = CAIRN_SPLIT_KEY;
        c->has_key_lo = i > 0;
        c->has_key_hi = i + 1 < parts;
        c->key_lo = (int64_t)((uint64_t)obj->key_min + i * step);
        c->key_hi = (int64_t)((uint64_t)obj->key_min + (i + 1) * step);
    }
    /* rounding can push the last lower bounds past key_max: merge them */
    while (obj->nchunks > 1 &&
           (uint64_t)obj->chunks[obj->nchunks - 1].key_lo - (uint64_t)obj->key_min > span) {
        obj->nchunks--;
        obj->chunks[obj->nchunks - 1].has_key_hi = 0;
    }
}

void cairn_chunk_plan(cairn_object *obj, const cairn_chunk_policy *policy)
{
    free(obj->chunks);
    obj->chunks = NULL;
    obj->nchunks = 0;
    if (obj->kind == CAIRN_OBJ_MATVIEW)
        return;
    uint64_t chunk_bytes = policy->chunk_bytes ? policy->chunk_bytes : CAIRN_CHUNK_BYTES_DEFAULT;
    uint32_t max = policy->max_chunks ? policy->max_chunks : CAIRN_CHUNK_MAX_DEFAULT;
    uint64_t parts = 1;
    if (obj->bytes >= chunk_bytes && obj->pages >= 2) {
        parts = (obj->bytes + chunk_bytes - 1) / chunk_bytes;
        if (parts > max)
            parts = max;
        if (parts > obj->pages)
            parts = obj->pages;
    }
    if (obj->split_key && obj->bytes >= chunk_bytes) {
        plan_key_ranges(obj, (obj->bytes + chunk_bytes - 1) / chunk_bytes, max);
        return;
    }
    obj->chunks = cairn_xcalloc(parts, sizeof *obj->chunks);
    obj->nchunks = parts;
    if (parts == 1) {
        obj->chunks[0].index = 0;
        return;
    }
    uint64_t step = (obj->pages + parts - 1) / parts;
    for (uint64_t i = 0; i < parts; i++) {
        cairn_chunk *c = &obj->chunks[i];
        c->index = (uint32_t)i;
        c->split = CAIRN_SPLIT_PAGES;
        c->page_lo = i * step;
        c->page_hi = i + 1 == parts ? 0 : (i + 1) * step;
    }
    /* step rounding can leave trailing ranges empty: drop them, keeping the
     * last range open-ended */
    while (obj->nchunks > 1 && obj->chunks[obj->nchunks - 1].page_lo >= obj->pages) {
        obj->nchunks--;
        obj->chunks[obj->nchunks - 1].page_hi = 0;
    }
}

static int heavier_first(const void *a, const void *b)
{
    const cairn_work *x = a, *y = b;
    if (x->obj->nontransactional != y->obj->nontransactional)
        return x->obj->nontransactional ? -1 : 1;
    if (x->weight != y->weight)
        return x->weight < y->weight ? 1 : -1;
    if (x->obj->number != y->obj->number)
        return x->obj->number < y->obj->number ? -1 : 1;
    return x->chunk->index < y->chunk->index ? -1 : x->chunk->index > y->chunk->index;
}

cairn_work *cairn_chunk_schedule(cairn_unit *units, size_t nunits, size_t *count)
{
    size_t n = 0;
    for (size_t u = 0; u < nunits; u++)
        for (size_t i = 0; i < units[u].nobjects; i++)
            n += units[u].objects[i].nchunks;
    cairn_work *w = cairn_xcalloc(n, sizeof *w);
    size_t k = 0;
    for (size_t u = 0; u < nunits; u++)
        for (size_t i = 0; i < units[u].nobjects; i++) {
            cairn_object *o = &units[u].objects[i];
            for (size_t c = 0; c < o->nchunks; c++) {
                w[k].obj = o;
                w[k].chunk = &o->chunks[c];
                w[k].unit = u;
                w[k].weight = o->nchunks ? o->bytes / o->nchunks : o->bytes;
                k++;
            }
        }
    qsort(w, n, sizeof *w, heavier_first);
    *count = n;
    return w;
}
