/* Manifest: round trip, and refusal of malformed or hostile manifests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "repo/manifest.h"
#include "util/text.h"

static void fill_file(cairn_file *f, const char *path, int seed)
{
    f->path = cairn_xstrdup(path);
    f->compression = cairn_xstrdup("zstd");
    f->raw.bytes = 1000u + (unsigned)seed;
    f->stored.bytes = 100u + (unsigned)seed;
    for (int i = 0; i < 32; i++) {
        f->raw.sha256[i] = (unsigned char)(i * 7 + seed);
        f->stored.sha256[i] = (unsigned char)(255 - i - seed);
    }
}

static cairn_manifest *sample(void)
{
    cairn_manifest *m = cairn_xcalloc(1, sizeof *m);
    m->format = CAIRN_MANIFEST_FORMAT;
    m->id = cairn_xstrdup("20261126-114015F");
    m->type = cairn_xstrdup("full");
    m->status = cairn_xstrdup("complete");
    m->tag = cairn_xstrdup("before deploy \"42\"");
    m->driver = cairn_xstrdup("postgresql");
    cairn_strlcpy(m->source.system_id, "7712446794576286185", sizeof m->source.system_id);
    cairn_strlcpy(m->source.database, "shop", sizeof m->source.database);
    m->source.timeline = 3;
    m->start_position = cairn_xstrdup("0/16B3748");
    m->end_position = cairn_xstrdup("0/16B3748");
    m->snapshot_mode = cairn_xstrdup("slot");
    m->slot = cairn_xstrdup("cairn_x");
    m->snapshot_identity = cairn_xstrdup("727:727:");
    m->worker_snapshots = cairn_xcalloc(2, sizeof(char *));
    m->worker_snapshots[0] = cairn_xstrdup("727:727:");
    m->worker_snapshots[1] = cairn_xstrdup("727:727:");
    m->nworker_snapshots = 2;
    m->compression = cairn_xstrdup("zstd:3");
    m->has_schema = 1;
    fill_file(&m->schema, "schema/schema.pgdump.zst", 1);
    m->units = cairn_xcalloc(1, sizeof *m->units);
    m->nunits = 1;
    cairn_unit *u = &m->units[0];
    u->name = cairn_xstrdup("shop");
    u->status = cairn_xstrdup("complete");
    u->objects = cairn_xcalloc(1, sizeof *u->objects);
    u->nobjects = 1;
    cairn_object *o = &u->objects[0];
    o->number = 7;
    o->schema = cairn_xstrdup("My Schema");
    o->name = cairn_xstrdup("Foo.Bar; drop table x");
    o->kind = CAIRN_OBJ_PARTITION;
    o->rows = 12;
    o->ncolumns = 2;
    o->columns = cairn_xcalloc(2, sizeof(char *));
    o->columns[0] = cairn_xstrdup("id");
    o->columns[1] = cairn_xstrdup("weird \"col\"");
    o->nchunks = 2;
    o->chunks = cairn_xcalloc(2, sizeof *o->chunks);
    o->chunks[0].split = CAIRN_SPLIT_PAGES;
    o->chunks[0].page_hi = 10;
    o->chunks[0].rows = 5;
    fill_file(&o->chunks[0].file, "data/000007.0000.zst", 2);
    o->chunks[1].index = 1;
    o->chunks[1].split = CAIRN_SPLIT_PAGES;
    o->chunks[1].page_lo = 10;
    o->chunks[1].rows = 7;
    fill_file(&o->chunks[1].file, "data/000007.0001.zst", 3);
    u->sequences = cairn_xcalloc(1, sizeof *u->sequences);
    u->nsequences = 1;
    u->sequences[0].schema = cairn_xstrdup("public");
    u->sequences[0].name = cairn_xstrdup("s");
    u->sequences[0].last_value = -9223372036854775807LL;
    u->sequences[0].is_called = 1;
    cairn_manifest_sum(m);
    return m;
}

static void round_trip(void **state)
{
    (void)state;
    cairn_manifest *m = sample();
    json_t *j = cairn_manifest_to_json(m);
    char *text = json_dumps(j, 0);
    cairn_manifest back;
    cairn_error err = {0};
    assert_int_equal(cairn_manifest_parse(text, strlen(text), &back, &err), CAIRN_OK);
    assert_string_equal(back.id, m->id);
    assert_string_equal(back.tag, m->tag);
    assert_null(back.parent);
    assert_string_equal(back.source.system_id, "7712446794576286185");
    assert_int_equal(back.source.timeline, 3);
    assert_int_equal(back.nworker_snapshots, 2);
    assert_int_equal(back.raw_bytes, m->raw_bytes);
    assert_int_equal(back.stored_bytes, m->stored_bytes);
    const cairn_object *o = &back.units[0].objects[0];
    assert_string_equal(o->name, "Foo.Bar; drop table x");
    assert_string_equal(o->columns[1], "weird \"col\"");
    assert_int_equal(o->kind, CAIRN_OBJ_PARTITION);
    assert_int_equal(o->nchunks, 2);
    assert_int_equal(o->chunks[0].page_hi, 10);
    assert_int_equal(o->chunks[1].page_lo, 10);
    assert_int_equal(o->chunks[1].page_hi, 0);
    assert_memory_equal(o->chunks[1].file.raw.sha256,
                        m->units[0].objects[0].chunks[1].file.raw.sha256, 32);
    assert_int_equal(back.units[0].sequences[0].last_value, -9223372036854775807LL);
    /* writing the parsed manifest again gives the same document */
    json_t *j2 = cairn_manifest_to_json(&back);
    assert_true(json_equal(j, j2));
    json_decref(j2);
    cairn_manifest_clear(&back);
    free(text);
    json_decref(j);
    cairn_manifest_free(m);
}

/* Serializes the sample with one change made to its JSON and parses it. */
static int parse_mutated(void (*mutate)(json_t *), cairn_error *err)
{
    cairn_manifest *m = sample();
    json_t *j = cairn_manifest_to_json(m);
    mutate(j);
    char *text = json_dumps(j, 0);
    cairn_manifest back;
    int rc = cairn_manifest_parse(text, strlen(text), &back, err);
    if (rc == CAIRN_OK)
        cairn_manifest_clear(&back);
    free(text);
    json_decref(j);
    cairn_manifest_free(m);
    return rc;
}

static json_t *first_chunk(json_t *j)
{
    json_t *obj = json_array_get(
        json_object_get(json_array_get(json_object_get(j, "units"), 0), "objects"), 0);
    return json_array_get(json_object_get(obj, "chunks"), 0);
}

static void escape_dotdot(json_t *j)
{
    json_object_set_new(first_chunk(j), "path", json_string("data/../../../etc/passwd"));
}
static void escape_absolute(json_t *j)
{
    json_object_set_new(first_chunk(j), "path", json_string("/etc/passwd"));
}
static void escape_schema(json_t *j)
{
    json_object_set_new(json_object_get(j, "schema"), "path", json_string("../cairn.json"));
}
static void bad_digest(json_t *j)
{
    json_object_set_new(first_chunk(j), "raw_sha256", json_string("abc"));
}
static void negative_size(json_t *j)
{
    json_object_set_new(first_chunk(j), "stored_bytes", json_integer(-1));
}
static void future_format(json_t *j)
{
    json_object_set_new(j, "format", json_integer(99));
}
static void no_id(json_t *j)
{
    json_object_del(j, "id");
}
static void units_not_array(json_t *j)
{
    json_object_set_new(j, "units", json_string("all"));
}
static void bad_sequence(json_t *j)
{
    json_t *u = json_array_get(json_object_get(j, "units"), 0);
    json_object_set_new(json_array_get(json_object_get(u, "sequences"), 0), "last_value",
                        json_string("12abc"));
}

static void hostile_manifests_are_refused(void **state)
{
    (void)state;
    void (*cases[])(json_t *) = {escape_dotdot, escape_absolute, escape_schema,
                                 bad_digest,    negative_size,   future_format,
                                 no_id,         units_not_array, bad_sequence};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cairn_error err = {0};
        assert_int_equal(parse_mutated(cases[i], &err), CAIRN_EVERIFY);
        assert_true(err.message[0] != '\0');
    }
}

static void malformed_json_is_refused(void **state)
{
    (void)state;
    cairn_manifest m;
    cairn_error err = {0};
    const char *texts[] = {"", "{", "[]", "{\"format\": 1}", "{\"format\":1,\"format\":1}"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        assert_int_equal(cairn_manifest_parse(texts[i], strlen(texts[i]), &m, &err), CAIRN_EVERIFY);
    }
}

static void path_rules(void **state)
{
    (void)state;
    assert_int_equal(cairn_manifest_path_ok("data/000001.0000.zst"), 0);
    assert_int_equal(cairn_manifest_path_ok("schema/schema.pgdump"), 0);
    const char *bad[] = {"",          "/data/x", "data/../x", "data/./x",
                         "data//x",   "data/",   "other/x",   "data/x y",
                         "data/x\\y", "..",      "data/x/..", "data/\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(cairn_manifest_path_ok(bad[i]), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(hostile_manifests_are_refused),
        cmocka_unit_test(malformed_json_is_refused),
        cmocka_unit_test(path_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
