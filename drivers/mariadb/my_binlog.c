#include "mariadb/my_binlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

enum {
    EV_QUERY = 2,
    EV_FORMAT = 15,
    EV_QUERY_COMPRESSED = 165,
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

/* The next word of sql (letters and underscores), upper-cased into w;
 * leading blanks and plain comments are passed. */
static const char *word(const char *p, const char *end, char *w, size_t cap)
{
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
            p++;
        if (end - p >= 3 && p[0] == '/' && p[1] == '*' && p[2] != '!' && p[2] != 'M') {
            const char *close = p + 2;
            while (close + 1 < end && !(close[0] == '*' && close[1] == '/'))
                close++;
            if (close + 1 >= end)
                break;
            p = close + 2;
            continue;
        }
        break;
    }
    size_t n = 0;
    while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_')) {
        if (n + 1 < cap)
            w[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        p++;
    }
    w[n] = '\0';
    /* a word runs to a blank, a quote or the end: "BEGINx" is no BEGIN */
    if (p < end && ((*p >= '0' && *p <= '9') || *p == '$' || (unsigned char)*p >= 0x80))
        w[0] = '\0';
    return p;
}

static int among(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(w, *list) == 0)
            return 1;
    return 0;
}

my_stmt_kind my_statement_kind(const char *sql, size_t len)
{
    static const char *const control[] = {"BEGIN", "COMMIT",  "ROLLBACK", "SAVEPOINT",
                                          "XA",    "RELEASE", NULL};
    static const char *const admin[] = {"GRANT",    "REVOKE", "FLUSH", "ANALYZE",
                                        "OPTIMIZE", "REPAIR", NULL};
    static const char *const principals[] = {"USER", "ROLE", NULL};
    const char *end = sql + len;
    char w1[16], w2[16], w3[16];
    const char *p = word(sql, end, w1, sizeof w1);
    p = word(p, end, w2, sizeof w2);
    word(p, end, w3, sizeof w3);
    if (among(w1, control) || (strcmp(w1, "START") == 0 && strcmp(w2, "TRANSACTION") == 0))
        return MY_STMT_CONTROL;
    if (among(w1, admin))
        return MY_STMT_ADMIN;
    if (strcmp(w1, "CREATE") == 0 && strcmp(w2, "OR") == 0 && strcmp(w3, "REPLACE") == 0) {
        p = word(p, end, w3, sizeof w3); /* REPLACE again */
        word(p, end, w2, sizeof w2);
    }
    if ((strcmp(w1, "CREATE") == 0 || strcmp(w1, "ALTER") == 0 || strcmp(w1, "DROP") == 0 ||
         strcmp(w1, "RENAME") == 0) &&
        among(w2, principals))
        return MY_STMT_ADMIN;
    if (strcmp(w1, "SET") == 0 &&
        (strcmp(w2, "PASSWORD") == 0 || (strcmp(w2, "DEFAULT") == 0 && strcmp(w3, "ROLE") == 0)))
        return MY_STMT_ADMIN;
    return MY_STMT_OTHER;
}

/* A query event's body is whole in peek (or as much of it as fits): its
 * statement is counted by kind.  Body: thread id (4), time (4), length of
 * the database name (1), error code (2), length of the status variables
 * (2), the variables, the name and a NUL, the statement, the checksum. */
static void query_seen(my_binlog_scan *s)
{
    my_group *g = &s->groups[s->ngroups - 1];
    const unsigned char *b = s->peek;
    size_t off = 13;
    if (s->peek_len >= 13)
        off += ((size_t)b[11] | (size_t)b[12] << 8) + b[8] + 1;
    if (s->peek_type != EV_QUERY || s->peek_len < 13 || off >= s->peek_len ||
        s->peek_size < off + s->crc_len) {
        g->schema++; /* compressed, or not readable: assume the worst */
        return;
    }
    size_t text = s->peek_size - off - s->crc_len;
    if (text > s->peek_len - off)
        text = s->peek_len - off;
    my_stmt_kind k = my_statement_kind((const char *)b + off, text);
    g->schema += k == MY_STMT_OTHER;
    g->admin += k == MY_STMT_ADMIN;
}

/* The format event's body ends with the checksum algorithm (1 byte) and
 * its own checksum (4): algorithm 1 is CRC32, on every later event. */
static void format_seen(my_binlog_scan *s)
{
    if (s->peek_len == s->peek_size && s->peek_size >= 5)
        s->crc_len = s->peek[s->peek_size - 5] == 1 ? 4 : 0;
}

static void peeked(my_binlog_scan *s)
{
    if (s->peek_type == EV_FORMAT)
        format_seen(s);
    else
        query_seen(s);
    s->peek_want = 0;
}

static void event(my_binlog_scan *s, uint64_t at)
{
    const unsigned char *h = s->head;
    uint32_t when = le32(h), end = le32(h + 13), body = le32(h + 9) - HEADER;
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
    /* the bodies read: the format event's, and statements' in a group */
    if (type == EV_FORMAT || ((type == EV_QUERY || type == EV_QUERY_COMPRESSED) && s->in_group)) {
        s->peek_type = (int)type;
        s->peek_size = body;
        s->peek_len = 0;
        s->peek_want = body < sizeof s->peek ? body : sizeof s->peek;
        if (s->peek_want == 0)
            peeked(s);
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
            if (s->peek_len < s->peek_want) {
                size_t n = s->peek_want - s->peek_len < take ? s->peek_want - s->peek_len : take;
                memcpy(s->peek + s->peek_len, data + i, n);
                s->peek_len += n;
                if (s->peek_len == s->peek_want)
                    peeked(s);
            }
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
        s->skip = size - HEADER;
        s->head_len = 0;
        event(s, at);
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
