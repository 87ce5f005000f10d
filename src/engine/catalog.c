/* Catalog records: kinds and freeing. */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/catalog.h"
#include "util/text.h"

static const char *const kind_names[] = {"table", "partition", "matview"};

const char *cairn_object_kind_name(cairn_object_kind k)
{
    return (unsigned)k < 3 ? kind_names[k] : "unknown";
}

int cairn_object_kind_parse(const char *s, cairn_object_kind *k)
{
    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, kind_names[i]) == 0) {
            *k = (cairn_object_kind)i;
            return 0;
        }
    return -1;
}

void cairn_file_clear(cairn_file *f)
{
    free(f->path);
    free(f->compression);
    memset(f, 0, sizeof *f);
}

void cairn_object_clear(cairn_object *o)
{
    free(o->schema);
    free(o->name);
    free(o->split_key);
    free(o->engine);
    free(o->read_list);
    for (size_t i = 0; i < o->ncolumns; i++)
        free(o->columns[i]);
    free(o->columns);
    for (size_t i = 0; i < o->nchunks; i++)
        cairn_file_clear(&o->chunks[i].file);
    free(o->chunks);
    memset(o, 0, sizeof *o);
}

void cairn_unit_clear(cairn_unit *u)
{
    free(u->name);
    free(u->kind);
    free(u->position);
    free(u->status);
    free(u->error);
    free(u->fingerprint);
    free(u->database);
    for (size_t i = 0; i < u->nobjects; i++)
        cairn_object_clear(&u->objects[i]);
    free(u->objects);
    for (size_t i = 0; i < u->nsequences; i++) {
        free(u->sequences[i].schema);
        free(u->sequences[i].name);
    }
    free(u->sequences);
    memset(u, 0, sizeof *u);
}

void cairn_unit_fail(cairn_unit *u, const char *error)
{
    for (size_t i = 0; i < u->nobjects; i++)
        cairn_object_clear(&u->objects[i]);
    u->nobjects = 0;
    for (size_t i = 0; i < u->nsequences; i++) {
        free(u->sequences[i].schema);
        free(u->sequences[i].name);
    }
    u->nsequences = 0;
    free(u->status);
    u->status = cairn_xstrdup("failed");
    if (error) {
        free(u->error);
        u->error = cairn_xstrdup(error);
    }
}

int cairn_unit_failed(const cairn_unit *u)
{
    return u->status && strcmp(u->status, "failed") == 0;
}

int cairn_tenant_match(const cairn_tenant_filter *f, const char *name)
{
    if (!f || !f->include)
        return 0;
    int in = 0;
    for (const char *const *g = f->include; *g && !in; g++)
        in = fnmatch(*g, name, 0) == 0;
    for (const char *const *g = f->exclude; in && g && *g; g++)
        in = fnmatch(*g, name, 0) != 0;
    return in;
}
