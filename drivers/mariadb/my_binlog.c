#include "mariadb/my_binlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

enum {
    EV_QUERY = 2,
    EV_ROTATE = 4,
    EV_XID = 16,
    EV_WRITE_ROWS_V1 = 23,
    EV_DELETE_ROWS_V1 = 25,
    EV_WRITE_ROWS = 30,
    EV_DELETE_ROWS = 32,
    EV_GTID = 162,
    EV_COMPRESSED_FIRST = 166, /* MariaDB's compressed query and row events */
    EV_COMPRESSED_LAST = 171,
};

#define HEADER 19

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int counts_as_change(unsigned type)
{
    return type == EV_QUERY || (type >= EV_WRITE_ROWS_V1 && type <= EV_DELETE_ROWS_V1) ||
           (type >= EV_WRITE_ROWS && type <= EV_DELETE_ROWS) ||
           (type >= EV_COMPRESSED_FIRST && type <= EV_COMPRESSED_LAST);
}

void my_binlog_scan_init(my_binlog_scan *s)
{
    memset(s, 0, sizeof *s);
}

static void event(my_binlog_scan *s, uint64_t at)
{
    const unsigned char *h = s->head;
    uint32_t when = le32(h), end = le32(h + 13);
    unsigned type = h[4];
    if (type == EV_GTID) {
        if (s->ngroups == s->alloc) {
            s->alloc = s->alloc ? s->alloc * 2 : 64;
            s->groups = cairn_xrealloc(s->groups, s->alloc * sizeof *s->groups);
        }
        s->groups[s->ngroups++] = (my_group){.start = at, .end = end, .time = when};
        s->in_group = 1;
    } else if (type == EV_ROTATE) {
        s->in_group = 0; /* the file's last event: no group continues past it */
    } else if (s->in_group) {
        my_group *g = &s->groups[s->ngroups - 1];
        g->end = end;
        g->time = when;
        g->changes += (uint32_t)counts_as_change(type);
        if (type == EV_XID)
            g->transactional = 1;
    }
}

void my_binlog_scan_feed(my_binlog_scan *s, const unsigned char *data, size_t len)
{
    size_t i = 0;
    while (i < len && !s->failed) {
        if (s->offset < 4) { /* the magic number */
            static const unsigned char magic[4] = {0xfe, 'b', 'i', 'n'};
            if (data[i] != magic[s->offset]) {
                snprintf(s->why, sizeof s->why, "not a binary log file (no magic number)");
                s->failed = 1;
                return;
            }
            i++;
            s->offset++;
            continue;
        }
        if (s->skip) {
            size_t take = len - i < s->skip ? len - i : (size_t)s->skip;
            i += take;
            s->skip -= take;
            s->offset += take;
            continue;
        }
        size_t take = HEADER - s->head_len;
        if (take > len - i)
            take = len - i;
        memcpy(s->head + s->head_len, data + i, take);
        s->head_len += take;
        i += take;
        s->offset += take;
        if (s->head_len < HEADER)
            continue;
        uint32_t size = le32(s->head + 9);
        uint64_t at = s->offset - HEADER;
        if (size < HEADER) {
            snprintf(s->why, sizeof s->why, "a malformed event at offset %llu",
                     (unsigned long long)at);
            s->failed = 1;
            return;
        }
        event(s, at);
        s->skip = size - HEADER;
        s->head_len = 0;
    }
}

int my_binlog_scan_end(my_binlog_scan *s)
{
    if (!s->failed && (s->offset < 4 || s->head_len || s->skip)) {
        snprintf(s->why, sizeof s->why, "cut inside an event at offset %llu",
                 (unsigned long long)s->offset);
        s->failed = 1;
    }
    return s->failed ? -1 : 0;
}

int my_position_parse(const char *s, char *file, size_t cap, uint64_t *pos)
{
    const char *colon = s ? strrchr(s, ':') : NULL;
    if (!colon || colon == s || (size_t)(colon - s) >= cap || !colon[1])
        return -1;
    char *end = NULL;
    unsigned long long v = strtoull(colon + 1, &end, 10);
    if (*end)
        return -1;
    memcpy(file, s, (size_t)(colon - s));
    file[colon - s] = '\0';
    *pos = v;
    return 0;
}

int my_position_order(const char *afile, uint64_t apos, const char *bfile, uint64_t bpos)
{
    size_t al = strlen(afile), bl = strlen(bfile);
    int c = al != bl ? (al < bl ? -1 : 1) : strcmp(afile, bfile);
    if (c)
        return c < 0 ? -1 : 1;
    return apos < bpos ? -1 : apos > bpos ? 1 : 0;
}
