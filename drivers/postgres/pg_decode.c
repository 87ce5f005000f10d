#include "postgres/pg_decode.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

typedef struct {
    const char *p, *end;
} cursor;

static int at(const cursor *c, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(c->end - c->p) >= n && memcmp(c->p, word, n) == 0;
}

static int eat(cursor *c, const char *word)
{
    if (!at(c, word))
        return 0;
    c->p += strlen(word);
    return 1;
}

/* Decimal digits, within the text (which is not NUL-terminated). */
static int number(cursor *c, unsigned long long *v)
{
    const char *s = c->p;
    *v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && c->p - s < 20)
        *v = *v * 10 + (unsigned long long)(*c->p++ - '0');
    return c->p > s ? 0 : -1;
}

static char *dup_range(const char *s, size_t n)
{
    char *out = cairn_xmalloc(n + 1);
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

/* An identifier as quote_identifier prints it: "a ""b""" or bare. */
static char *identifier(cursor *c)
{
    if (c->p < c->end && *c->p == '"') {
        cairn_buf b = {0};
        cairn_buf_add(&b, "", 0);
        for (c->p++; c->p < c->end; c->p++) {
            if (*c->p == '"') {
                if (c->p + 1 < c->end && c->p[1] == '"') {
                    cairn_buf_add(&b, "\"", 1);
                    c->p++;
                    continue;
                }
                c->p++;
                return b.data;
            }
            cairn_buf_add(&b, c->p, 1);
        }
        free(b.data);
        return NULL; /* unterminated */
    }
    const char *s = c->p;
    while (c->p < c->end && !strchr(".:[ ,", *c->p))
        c->p++;
    return c->p > s ? dup_range(s, (size_t)(c->p - s)) : NULL;
}

/* schema.name, each part possibly quoted. */
static int qualified(cursor *c, char **schema, char **name)
{
    *schema = identifier(c);
    if (!*schema || !eat(c, ".")) {
        free(*schema);
        *schema = NULL;
        return -1;
    }
    *name = identifier(c);
    if (!*name) {
        free(*schema);
        *schema = NULL;
        return -1;
    }
    return 0;
}

/* A value: null, unchanged-toast-datum, 'quoted', B'bits', or a bare token. */
static int value(cursor *c, pgd_column *col)
{
    if (at(c, "null") && (c->p + 4 == c->end || c->p[4] == ' ')) {
        c->p += 4;
        return 0;
    }
    if (at(c, "unchanged-toast-datum") && (c->p + 21 == c->end || c->p[21] == ' ')) {
        c->p += 21;
        col->unchanged_toast = 1;
        return 0;
    }
    const char *s = c->p;
    if (c->p == c->end)
        return -1;
    if (*c->p == '\'' || at(c, "B'")) {
        c->p += *c->p == '\'' ? 1 : 2;
        for (; c->p < c->end; c->p++)
            if (*c->p == '\'') {
                if (c->p + 1 < c->end && c->p[1] == '\'') {
                    c->p++;
                    continue;
                }
                c->p++;
                col->literal = dup_range(s, (size_t)(c->p - s));
                return 0;
            }
        return -1;
    }
    while (c->p < c->end && *c->p != ' ')
        c->p++;
    if (c->p == s)
        return -1;
    /* numbers, NaN, Infinity, booleans: quoted, so the column's type reads them */
    col->literal = cairn_xasprintf("'%.*s'", (int)(c->p - s), s);
    return 0;
}

/* name[type]:value, repeated, each preceded by one space; stops before a
 * keyword (" new-tuple:") or at the end. */
static int columns(cursor *c, pgd_column **out, size_t *n)
{
    while (c->p < c->end && *c->p == ' ' && !at(c, " new-tuple:")) {
        c->p++;
        pgd_column col = {0};
        col.name = identifier(c);
        if (!col.name || !eat(c, "["))
            goto bad;
        const char *t = c->p;
        const char *close = NULL;
        for (const char *q = t; q + 1 < c->end; q++)
            if (q[0] == ']' && q[1] == ':') {
                close = q;
                break;
            }
        if (!close)
            goto bad;
        col.type = dup_range(t, (size_t)(close - t));
        c->p = close + 2;
        if (value(c, &col) != 0)
            goto bad;
        *out = cairn_xrealloc(*out, (*n + 1) * sizeof **out);
        (*out)[(*n)++] = col;
        continue;
    bad:
        free(col.name);
        free(col.type);
        return -1;
    }
    return 0;
}

static int parse_commit_tail(cursor *c, pgd_change *out)
{
    if (eat(c, " ")) {
        unsigned long long xid = 0;
        if (number(c, &xid) != 0)
            return -1;
        out->xid = xid;
    }
    if (eat(c, " (at ")) {
        const char *close = memchr(c->p, ')', (size_t)(c->end - c->p));
        if (!close || (size_t)(close - c->p) >= sizeof out->commit_time)
            return -1;
        memcpy(out->commit_time, c->p, (size_t)(close - c->p));
        out->commit_time[close - c->p] = '\0';
        c->p = close + 1;
    }
    return 0;
}

static int parse_message(cursor *c, pgd_change *out)
{
    out->kind = PGD_MESSAGE;
    if (!eat(c, "transactional: "))
        return -1;
    if (c->p == c->end)
        return -1;
    out->transactional = *c->p == '1';
    c->p++;
    if (!eat(c, " prefix: "))
        return -1;
    /* the prefix ends at ", sz: " */
    const char *s = c->p;
    while (c->p < c->end && !at(c, ", sz: "))
        c->p++;
    if (c->p >= c->end)
        return -1;
    out->prefix = dup_range(s, (size_t)(c->p - s));
    c->p += 6;
    unsigned long long sz = 0;
    if (number(c, &sz) != 0 || !eat(c, " content:") || (unsigned long long)(c->end - c->p) != sz)
        return -1;
    out->content = dup_range(c->p, (size_t)sz);
    c->p = c->end;
    return 0;
}

static int parse_truncate(cursor *c, pgd_change *out)
{
    out->kind = PGD_TRUNCATE;
    if (c->p < c->end && *c->p == ' ')
        c->p++;
    while (c->p < c->end) {
        if (eat(c, "restart_seqs"))
            out->restart_seqs = 1;
        else if (eat(c, "cascade"))
            out->cascade = 1;
        else if (!eat(c, "(no-flags)"))
            return -1;
        if (c->p < c->end && !eat(c, " "))
            return -1;
    }
    return 0;
}

int pgd_parse(const char *text, size_t len, pgd_change *out, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    cursor c = {text, text + len};
    const char *problem = "unrecognized change";
    if (eat(&c, "BEGIN")) {
        out->kind = PGD_BEGIN;
        if (parse_commit_tail(&c, out) == 0 && c.p == c.end)
            return 0;
        goto fail;
    }
    if (eat(&c, "COMMIT")) {
        out->kind = PGD_COMMIT;
        if (parse_commit_tail(&c, out) == 0 && c.p == c.end)
            return 0;
        goto fail;
    }
    if (eat(&c, "message: ")) {
        if (parse_message(&c, out) == 0)
            return 0;
        problem = "malformed message";
        goto fail;
    }
    if (!eat(&c, "table ")) {
        goto fail;
    }
    /* one table, or several for TRUNCATE */
    for (;;) {
        char *schema = NULL, *name = NULL;
        if (qualified(&c, &schema, &name) != 0) {
            problem = "malformed table name";
            goto fail;
        }
        out->truncated = cairn_xrealloc(out->truncated, (out->ntruncated + 2) * sizeof(char *));
        out->truncated[out->ntruncated++] = schema;
        out->truncated[out->ntruncated++] = name;
        if (!eat(&c, ", "))
            break;
    }
    out->schema = cairn_xstrdup(out->truncated[0]);
    out->table = cairn_xstrdup(out->truncated[1]);
    if (eat(&c, ": TRUNCATE:")) {
        if (parse_truncate(&c, out) == 0)
            return 0;
        problem = "malformed TRUNCATE";
        goto fail;
    }
    if (out->ntruncated != 2)
        goto fail;
    if (eat(&c, ": INSERT:"))
        out->kind = PGD_INSERT;
    else if (eat(&c, ": UPDATE:"))
        out->kind = PGD_UPDATE;
    else if (eat(&c, ": DELETE:"))
        out->kind = PGD_DELETE;
    else
        goto fail;
    if (eat(&c, " (no-tuple-data)")) {
        out->no_tuple_data = 1;
        if (c.p == c.end)
            return 0;
        goto fail;
    }
    problem = "malformed column list";
    if (out->kind == PGD_UPDATE && eat(&c, " old-key:")) {
        if (columns(&c, &out->old, &out->nold) != 0 || !eat(&c, " new-tuple:"))
            goto fail;
    }
    if (columns(&c, &out->cols, &out->ncols) != 0 || c.p != c.end)
        goto fail;
    return 0;
fail:
    /* the text is not NUL-terminated: its length bounds what is shown */
    snprintf(why, cap, "%s at offset %zu: %.*s", problem, (size_t)(c.p - text),
             (int)(len < 60 ? len : 60), text);
    pgd_change_clear(out);
    return -1;
}

static void columns_free(pgd_column *cols, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(cols[i].name);
        free(cols[i].type);
        free(cols[i].literal);
    }
    free(cols);
}

void pgd_change_clear(pgd_change *c)
{
    if (!c)
        return;
    free(c->schema);
    free(c->table);
    columns_free(c->cols, c->ncols);
    columns_free(c->old, c->nold);
    for (size_t i = 0; i < c->ntruncated; i++)
        free(c->truncated[i]);
    free(c->truncated);
    free(c->prefix);
    free(c->content);
    memset(c, 0, sizeof *c);
}

int pgd_lsn_parse(const char *s, uint64_t *lsn)
{
    unsigned int hi, lo;
    int used = 0;
    if (!s || sscanf(s, "%X/%X%n", &hi, &lo, &used) != 2 || s[used] != '\0')
        return -1;
    *lsn = ((uint64_t)hi << 32) | lo;
    return 0;
}

void pgd_lsn_format(uint64_t lsn, char out[24])
{
    snprintf(out, 24, "%X/%X", (unsigned)(lsn >> 32), (unsigned)(lsn & 0xffffffffu));
}

size_t pgd_record_head(const char *lsn, const char *xid, char out[64])
{
    int n = snprintf(out, 64, "%.24s\t%.30s\t", lsn, xid);
    return n < 0 ? 0 : (size_t)n;
}

int pgd_record_parse(const char *payload, size_t len, pgd_record *rec)
{
    const char *tab1 = memchr(payload, '\t', len);
    if (!tab1)
        return -1;
    const char *tab2 = memchr(tab1 + 1, '\t', len - (size_t)(tab1 + 1 - payload));
    if (!tab2 || tab1 - payload >= 24)
        return -1;
    char lsn[24];
    memcpy(lsn, payload, (size_t)(tab1 - payload));
    lsn[tab1 - payload] = '\0';
    if (pgd_lsn_parse(lsn, &rec->lsn) != 0)
        return -1;
    rec->xid = strtoull(tab1 + 1, NULL, 10);
    rec->data = tab2 + 1;
    rec->len = len - (size_t)(tab2 + 1 - payload);
    return 0;
}
