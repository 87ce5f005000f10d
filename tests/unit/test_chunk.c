/* Chunk planning and largest-first scheduling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "engine/chunk.h"

static cairn_object table(uint32_t number, uint64_t bytes, uint64_t pages)
{
    cairn_object o = {.number = number, .bytes = bytes, .pages = pages, .kind = CAIRN_OBJ_TABLE};
    return o;
}

/* The ranges cover [0, inf) exactly once, in order. */
static void assert_covers(const cairn_object *o)
{
    assert_true(o->nchunks >= 1);
    if (o->nchunks == 1) {
        assert_false(o->chunks[0].split);
        return;
    }
    assert_int_equal(o->chunks[0].page_lo, 0);
    for (size_t i = 0; i < o->nchunks; i++) {
        assert_int_equal(o->chunks[i].index, i);
        assert_true(o->chunks[i].split);
        if (i + 1 < o->nchunks) {
            assert_int_equal(o->chunks[i].page_hi, o->chunks[i + 1].page_lo);
            assert_true(o->chunks[i].page_hi > o->chunks[i].page_lo);
        }
    }
    assert_int_equal(o->chunks[o->nchunks - 1].page_hi, 0); /* open-ended */
    assert_true(o->chunks[o->nchunks - 1].page_lo < o->pages);
}

static void small_table_is_one_chunk(void **state)
{
    (void)state;
    cairn_chunk_policy p = {.chunk_bytes = 100};
    cairn_object o = table(1, 99, 50);
    cairn_chunk_plan(&o, &p);
    assert_int_equal(o.nchunks, 1);
    assert_covers(&o);
    free(o.chunks);
}

static void big_table_is_split_evenly(void **state)
{
    (void)state;
    cairn_chunk_policy p = {.chunk_bytes = 100};
    cairn_object o = table(1, 1000, 1000);
    cairn_chunk_plan(&o, &p);
    assert_int_equal(o.nchunks, 10);
    assert_covers(&o);
    assert_int_equal(o.chunks[1].page_lo, 100);
    free(o.chunks);
}

static void odd_sizes_cover_everything(void **state)
{
    (void)state;
    cairn_chunk_policy p = {.chunk_bytes = 7};
    for (uint64_t bytes = 7; bytes < 200; bytes += 13)
        for (uint64_t pages = 2; pages < 60; pages += 5) {
            cairn_object o = table(1, bytes, pages);
            cairn_chunk_plan(&o, &p);
            assert_true(o.nchunks <= pages);
            assert_covers(&o);
            free(o.chunks);
        }
}

static void toast_heavy_table_splits_by_total_size(void **state)
{
    (void)state;
    /* bulk in TOAST: few main pages, large total size */
    cairn_chunk_policy p = {.chunk_bytes = 1 << 20};
    cairn_object o = table(1, 50u << 20, 8);
    cairn_chunk_plan(&o, &p);
    assert_int_equal(o.nchunks, 8); /* capped by pages */
    assert_covers(&o);
    free(o.chunks);
}

static void max_chunks_caps(void **state)
{
    (void)state;
    cairn_chunk_policy p = {.chunk_bytes = 1, .max_chunks = 4};
    cairn_object o = table(1, 1000, 1000);
    cairn_chunk_plan(&o, &p);
    assert_int_equal(o.nchunks, 4);
    assert_covers(&o);
    free(o.chunks);
}

static void matview_has_no_chunks(void **state)
{
    (void)state;
    cairn_chunk_policy p = {.chunk_bytes = 1};
    cairn_object o = table(1, 1000, 1000);
    o.kind = CAIRN_OBJ_MATVIEW;
    cairn_chunk_plan(&o, &p);
    assert_int_equal(o.nchunks, 0);
}

static void schedule_is_largest_first(void **state)
{
    (void)state;
    cairn_chunk_policy p = {.chunk_bytes = 100};
    cairn_object objs[3] = {table(1, 50, 5), table(2, 1000, 100), table(3, 80, 8)};
    for (int i = 0; i < 3; i++)
        cairn_chunk_plan(&objs[i], &p);
    cairn_unit u = {.objects = objs, .nobjects = 3};
    size_t n = 0;
    cairn_work *w = cairn_chunk_schedule(&u, 1, &n);
    assert_int_equal(n, 12);
    for (size_t i = 0; i + 1 < n; i++)
        assert_true(w[i].weight >= w[i + 1].weight);
    assert_int_equal(w[0].obj->number, 2);
    assert_int_equal(w[10].obj->number, 3);
    assert_int_equal(w[11].obj->number, 1);
    free(w);
    for (int i = 0; i < 3; i++)
        free(objs[i].chunks);
}

static cairn_object keyed(uint64_t bytes, int64_t lo, int64_t hi)
{
    cairn_object o = {.number = 1, .bytes = bytes, .kind = CAIRN_OBJ_TABLE};
    o.split_key = "id";
    o.key_min = lo;
    o.key_max = hi;
    return o;
}

/* Key ranges: the first chunk unbounded below, the last above, the rest
 * contiguous and increasing; every key in [min, max] in exactly one. */
static void assert_key_cover(const cairn_object *o)
{
    assert_true(o->nchunks >= 1);
    if (o->nchunks == 1)
        return;
    assert_false(o->chunks[0].has_key_lo);
    assert_false(o->chunks[o->nchunks - 1].has_key_hi);
    for (size_t i = 0; i < o->nchunks; i++) {
        assert_int_equal(o->chunks[i].split, CAIRN_SPLIT_KEY);
        if (i > 0) {
            assert_true(o->chunks[i].has_key_lo);
            assert_true(o->chunks[i - 1].key_hi == o->chunks[i].key_lo);
        }
        if (i + 1 < o->nchunks) {
            assert_true(o->chunks[i].has_key_hi);
            assert_true(o->chunks[i].key_hi > o->chunks[i].key_lo || i == 0);
        }
    }
    assert_true(o->chunks[o->nchunks - 1].key_lo <= o->key_max);
}

static void key_ranges_split_by_size(void **state)
{
    (void)state;
    cairn_chunk_policy p = {.chunk_bytes = 100};
    cairn_object o = keyed(1000, 1, 1000000);
    cairn_chunk_plan(&o, &p);
    assert_int_equal(o.nchunks, 10);
    assert_key_cover(&o);
    free(o.chunks);
}

static void sparse_keys_do_not_explode(void **state)
{
    (void)state;
    /* three rows with keys 1, 2^40 and 2^62: the count follows the size */
    cairn_chunk_policy p = {.chunk_bytes = 100};
    cairn_object o = keyed(350, 1, (int64_t)1 << 62);
    cairn_chunk_plan(&o, &p);
    assert_int_equal(o.nchunks, 4);
    assert_key_cover(&o);
    free(o.chunks);
}

static void extreme_and_tiny_key_spans(void **state)
{
    (void)state;
    cairn_chunk_policy p = {.chunk_bytes = 10};
    cairn_object o = keyed(1000, INT64_MIN, INT64_MAX);
    cairn_chunk_plan(&o, &p);
    assert_int_equal(o.nchunks, 100);
    assert_key_cover(&o);
    free(o.chunks);
    o = keyed(1000, -5, -3); /* three keys, big rows: at most three chunks */
    cairn_chunk_plan(&o, &p);
    assert_true(o.nchunks <= 3);
    assert_key_cover(&o);
    free(o.chunks);
    o = keyed(1000, 7, 7);
    cairn_chunk_plan(&o, &p);
    assert_int_equal(o.nchunks, 1);
    free(o.chunks);
}

static void nontransactional_first(void **state)
{
    (void)state;
    cairn_chunk_policy p = {.chunk_bytes = 100};
    cairn_object objs[2] = {table(1, 1000, 100), table(2, 10, 1)};
    objs[1].nontransactional = 1;
    for (int i = 0; i < 2; i++)
        cairn_chunk_plan(&objs[i], &p);
    cairn_unit u = {.objects = objs, .nobjects = 2};
    size_t n = 0;
    cairn_work *w = cairn_chunk_schedule(&u, 1, &n);
    assert_int_equal(w[0].obj->number, 2);
    free(w);
    for (int i = 0; i < 2; i++)
        free(objs[i].chunks);
}

static void tenant_filter_includes_and_excludes(void **state)
{
    (void)state;
    const char *const include[] = {"tenant_*", "acme", NULL};
    const char *const exclude[] = {"tenant_9*", NULL};
    cairn_tenant_filter f = {include, exclude};
    assert_true(cairn_tenant_match(&f, "tenant_01"));
    assert_true(cairn_tenant_match(&f, "acme"));
    assert_false(cairn_tenant_match(&f, "tenant_90"));
    assert_false(cairn_tenant_match(&f, "acme2"));
    assert_false(cairn_tenant_match(&f, "public"));
    cairn_tenant_filter none = {NULL, NULL};
    assert_false(cairn_tenant_match(&none, "tenant_01"));
    assert_false(cairn_tenant_match(NULL, "tenant_01"));
    const char *const only[] = {"*", NULL};
    cairn_tenant_filter all = {only, NULL};
    assert_true(cairn_tenant_match(&all, "Tenant \"Q\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_table_is_one_chunk),
        cmocka_unit_test(big_table_is_split_evenly),
        cmocka_unit_test(odd_sizes_cover_everything),
        cmocka_unit_test(toast_heavy_table_splits_by_total_size),
        cmocka_unit_test(max_chunks_caps),
        cmocka_unit_test(matview_has_no_chunks),
        cmocka_unit_test(schedule_is_largest_first),
        cmocka_unit_test(key_ranges_split_by_size),
        cmocka_unit_test(sparse_keys_do_not_explode),
        cmocka_unit_test(extreme_and_tiny_key_spans),
        cmocka_unit_test(nontransactional_first),
        cmocka_unit_test(tenant_filter_includes_and_excludes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
