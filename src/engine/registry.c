/* The drivers cairn knows, chosen by URI scheme, checked at start-up. */
#include <string.h>

#include "cairn/driver.h"
#include "util/uri.h"

static const cairn_driver *const drivers[] = {&cairn_postgres_driver, &cairn_mariadb_driver, NULL};

int cairn_driver_check(const cairn_driver *d, cairn_error *err)
{
    const void *required[] = {
        (const void *)d->connect,           (const void *)d->close,
        (const void *)d->snapshot_open,     (const void *)d->snapshot_close,
        (const void *)d->snapshot_join,     (const void *)d->list_units,
        (const void *)d->dump_schema,       (const void *)d->dump_chunk,
        (const void *)d->target_prepare,    (const void *)d->restore_schema,
        (const void *)d->load_begin,        (const void *)d->load_chunk,
        (const void *)d->restore_sequences,
    };
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        if (!required[i])
            return cairn_error_set(err, CAIRN_ERR, "driver %s lacks required entry %zu", d->name,
                                   i);
    if (d->features & CAIRN_DRIVER_INCREMENTS) {
        const void *incr[] = {
            (const void *)d->position_cmp,  (const void *)d->log_capture,
            (const void *)d->log_confirm,   (const void *)d->log_apply,
            (const void *)d->progress_read, (const void *)d->progress_write,
            (const void *)d->progress_drop,
        };
        for (size_t i = 0; i < sizeof incr / sizeof *incr; i++)
            if (!incr[i])
                return cairn_error_set(err, CAIRN_ERR, "driver %s lacks increment entry %zu",
                                       d->name, i);
    }
    if (!d->name || !d->schemes || !d->schema_suffix)
        return cairn_error_set(err, CAIRN_ERR, "driver table is incomplete");
    return CAIRN_OK;
}

const cairn_driver *cairn_driver_by_name(const char *name)
{
    for (int i = 0; drivers[i]; i++)
        if (name && strcmp(drivers[i]->name, name) == 0)
            return drivers[i];
    return NULL;
}

const cairn_driver *cairn_driver_for_uri(const char *uri, cairn_error *err)
{
    cairn_uri u;
    if (cairn_uri_parse(uri, &u, err) != CAIRN_OK)
        return NULL;
    for (int i = 0; drivers[i]; i++)
        for (int s = 0; drivers[i]->schemes[s]; s++)
            if (strcmp(u.scheme, drivers[i]->schemes[s]) == 0) {
                cairn_uri_clear(&u);
                if (cairn_driver_check(drivers[i], err) != CAIRN_OK)
                    return NULL;
                return drivers[i];
            }
    char shown[512];
    cairn_uri_redact(uri, shown, sizeof shown);
    cairn_error_set(err, CAIRN_EUSAGE, "unsupported URI scheme \"%s\" in \"%s\"", u.scheme, shown);
    cairn_error_hint(err, "cairn speaks postgresql:// (also postgres://) and mariadb:// (also "
                          "mysql://)");
    cairn_uri_clear(&u);
    return NULL;
}
