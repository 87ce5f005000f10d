/* Database URI parsing and redaction. */
#include "util/uri.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes [s, s+n) into a new string; NULL when an escape is malformed. */
static char *decode(const char *s, size_t n)
{
    char *out = cairn_xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
            continue;
        }
        out[o++] = s[i];
    }
    out[o] = '\0';
    return out;
}

static int bad(cairn_error *err, const char *text, const char *why)
{
    char shown[512];
    cairn_uri_redact(text, shown, sizeof shown);
    cairn_error_set(err, CAIRN_EUSAGE, "malformed URI \"%s\": %s", shown, why);
    return cairn_error_hint(err, "write it as postgresql://user@host:port/database "
                                 "(percent-encode special characters)");
}

static int parse_params(const char *q, cairn_uri *u)
{
    const char *p = q;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (!eq || eq == p)
            return -1;
        char *k = decode(p, (size_t)(eq - p));
        char *v = decode(eq + 1, len - (size_t)(eq - p) - 1);
        if (!k || !v) {
            free(k);
            free(v);
            return -1;
        }
        u->params = cairn_xrealloc(u->params, (u->nparams + 1) * sizeof *u->params);
        u->params[u->nparams].key = k;
        u->params[u->nparams].value = v;
        u->nparams++;
        p += len;
        if (*p == '&')
            p++;
    }
    return 0;
}

int cairn_uri_parse(const char *text, cairn_uri *out, cairn_error *err)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return bad(err, "", "empty");
    const char *sep = strstr(text, "://");
    if (!sep || sep == text)
        return bad(err, text, "no scheme (expected something like postgresql://)");
    for (const char *c = text; c < sep; c++)
        if (!isalpha((unsigned char)*c))
            return bad(err, text, "invalid scheme");
    out->scheme = cairn_xmalloc((size_t)(sep - text) + 1);
    for (size_t i = 0; i < (size_t)(sep - text); i++)
        out->scheme[i] = (char)tolower((unsigned char)text[i]);
    out->scheme[sep - text] = '\0';

    const char *p = sep + 3;
    size_t alen = strcspn(p, "/?");
    const char *auth_end = p + alen;
    /* userinfo: up to the last '@' of the authority */
    const char *at = NULL;
    for (const char *c = p; c < auth_end; c++)
        if (*c == '@')
            at = c;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t ulen = colon ? (size_t)(colon - p) : (size_t)(at - p);
        if (ulen) {
            out->user = decode(p, ulen);
            if (!out->user)
                goto malformed;
        }
        if (colon) {
            out->password = decode(colon + 1, (size_t)(at - colon - 1));
            if (!out->password)
                goto malformed;
        }
        p = at + 1;
    }
    /* host[:port] */
    if (p < auth_end) {
        const char *hend = auth_end;
        if (memchr(p, ',', (size_t)(auth_end - p))) {
            out->host = decode(p, (size_t)(auth_end - p));
        } else {
            const char *portsep = NULL;
            if (*p == '[') {
                const char *rb = memchr(p, ']', (size_t)(auth_end - p));
                if (!rb) {
                    cairn_uri_clear(out);
                    return bad(err, text, "unclosed '[' in host");
                }
                out->host = decode(p + 1, (size_t)(rb - p - 1));
                if (rb + 1 < auth_end) {
                    if (rb[1] != ':')
                        goto malformed;
                    portsep = rb + 1;
                }
            } else {
                portsep = memchr(p, ':', (size_t)(auth_end - p));
                hend = portsep ? portsep : auth_end;
                if (hend > p)
                    out->host = decode(p, (size_t)(hend - p));
            }
            if (portsep) {
                const char *ps = portsep + 1;
                if (ps == auth_end) {
                    cairn_uri_clear(out);
                    return bad(err, text, "empty port");
                }
                long port = 0;
                for (const char *c = ps; c < auth_end; c++) {
                    if (!isdigit((unsigned char)*c) || port > 65535) {
                        cairn_uri_clear(out);
                        return bad(err, text, "port is not a number between 1 and 65535");
                    }
                    port = port * 10 + (*c - '0');
                }
                if (port < 1 || port > 65535) {
                    cairn_uri_clear(out);
                    return bad(err, text, "port is not a number between 1 and 65535");
                }
                out->port = (int)port;
            }
        }
        if ((p < auth_end && !out->host && *p != ':'))
            goto malformed;
    }
    p = auth_end;
    if (*p == '/') {
        p++;
        size_t dlen = strcspn(p, "?");
        if (dlen) {
            out->database = decode(p, dlen);
            if (!out->database)
                goto malformed;
        }
        p += dlen;
    }
    if (*p == '?') {
        if (parse_params(p + 1, out) != 0) {
            cairn_uri_clear(out);
            return bad(err, text, "malformed query parameters");
        }
    }
    return CAIRN_OK;
malformed:
    cairn_uri_clear(out);
    return bad(err, text, "bad percent-escape or character");
}

void cairn_uri_clear(cairn_uri *u)
{
    if (!u)
        return;
    free(u->scheme);
    free(u->user);
    if (u->password) {
        memset(u->password, 0, strlen(u->password));
        free(u->password);
    }
    free(u->host);
    free(u->database);
    for (size_t i = 0; i < u->nparams; i++) {
        free(u->params[i].key);
        free(u->params[i].value);
    }
    free(u->params);
    memset(u, 0, sizeof *u);
}

const char *cairn_uri_param_get(const cairn_uri *u, const char *key)
{
    for (size_t i = 0; i < u->nparams; i++)
        if (strcmp(u->params[i].key, key) == 0)
            return u->params[i].value;
    return NULL;
}

void cairn_uri_redact(const char *text, char *out, size_t cap)
{
    size_t o = 0;
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (o + 1 < cap)                                                                           \
            out[o++] = (c);                                                                        \
    } while (0)
    const char *sep = strstr(text, "://");
    const char *p = text;
    if (sep) {
        for (; p < sep + 3; p++)
            PUT(*p);
        size_t alen = strcspn(p, "/?");
        const char *at = NULL;
        for (const char *c = p; c < p + alen; c++)
            if (*c == '@')
                at = c;
        if (at) {
            const char *colon = memchr(p, ':', (size_t)(at - p));
            const char *uend = colon ? colon : at;
            for (; p < uend; p++)
                PUT(*p);
            if (colon) {
                PUT(':');
                PUT('*');
                PUT('*');
                PUT('*');
            }
            p = at;
        }
    }
    /* copy the rest, blanking a password= parameter */
    while (*p) {
        if ((p[0] == '?' || p[0] == '&') && strncmp(p + 1, "password=", 9) == 0) {
            PUT(p[0]);
            for (const char *k = "password=***"; *k; k++)
                PUT(*k);
            p += 10;
            while (*p && *p != '&')
                p++;
            continue;
        }
        PUT(*p);
        p++;
    }
    out[o] = '\0';
#undef PUT
}

char *cairn_uri_with_database(const char *text, const char *database)
{
    const char *auth = strstr(text, "://");
    auth = auth ? auth + 3 : text;
    size_t head = strcspn(auth, "/?") + (size_t)(auth - text);
    const char *query = strchr(text + head, '?');
    cairn_buf b = {0};
    cairn_buf_add(&b, text, head);
    cairn_buf_puts(&b, "/");
    for (const unsigned char *p = (const unsigned char *)database; *p; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            cairn_buf_add(&b, (const char *)p, 1);
        else
            cairn_buf_printf(&b, "%%%02X", *p);
    if (query)
        cairn_buf_puts(&b, query);
    return b.data;
}
