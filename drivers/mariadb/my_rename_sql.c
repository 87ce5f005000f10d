#include <stdlib.h>
#include <string.h>

#include "mariadb/my_rename.h"
#include "util/text.h"

static int ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || (unsigned char)c >= 0x80;
}

static void put_quoted(cairn_buf *b, const char *name)
{
    cairn_buf_puts(b, "`");
    for (const char *p = name; *p; p++)
        cairn_buf_puts(b, *p == '`' ? "``" : (char[2]){*p, '\0'});
    cairn_buf_puts(b, "`");
}

/* The end of a `quoted` identifier starting at p, its name in *name. */
static const char *quoted_ident(const char *p, cairn_buf *name)
{
    name->len = 0;
    cairn_buf_add(name, "", 0);
    for (p++; *p; p++) {
        if (*p == '`' && p[1] == '`')
            p++;
        else if (*p == '`')
            return p + 1;
        cairn_buf_add(name, p, 1);
    }
    return p;
}

/* The end of a string literal starting at p (backslash escapes, doubled
 * quotes). */
static const char *literal(const char *p)
{
    char q = *p;
    for (p++; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == q && p[1] == q)
            p++;
        else if (*p == q)
            return p + 1;
    }
    return p;
}

/* The end of a comment starting at p, or p when none starts there.  An
 * executable comment (slash-star-bang) is code: it does not count. */
static const char *comment(const char *p)
{
    if (*p == '#' ||
        (p[0] == '-' && p[1] == '-' && (p[2] == ' ' || p[2] == '\t' || p[2] == '\n'))) {
        const char *eol = strchr(p, '\n');
        return eol ? eol : p + strlen(p);
    }
    if (p[0] == '/' && p[1] == '*' && p[2] != '!' && !(p[2] == 'M' && p[3] == '!')) {
        const char *end = strstr(p + 2, "*/");
        return end ? end + 2 : p + strlen(p);
    }
    return p;
}

static const char *skip_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static void note_other(my_rename_report *r, const char *name)
{
    if (!r)
        return;
    size_t n = 0;
    while (r->others && r->others[n]) {
        if (strcmp(r->others[n], name) == 0)
            return;
        n++;
    }
    r->others = cairn_xrealloc(r->others, (n + 2) * sizeof *r->others);
    r->others[n] = cairn_xstrdup(name);
    r->others[n + 1] = NULL;
}

char *my_sql_rename_db(const char *sql, const char *from, const char *to, my_rename_report *report)
{
    cairn_buf out = {0}, name = {0};
    cairn_buf_add(&out, "", 0);
    const char *p = sql;
    int after_dot = 0; /* the last code before the token is a dot */
    while (*p) {
        const char *end = comment(p);
        if (end != p) {
            cairn_buf_add(&out, p, (size_t)(end - p));
            p = end;
            continue;
        }
        if (*p == '\'' || *p == '"') {
            end = literal(p);
            size_t len = (size_t)(end - p), fl = strlen(from);
            for (size_t k = 0; report && fl && k + fl <= len; k++)
                if (memcmp(p + k, from, fl) == 0)
                    report->in_string = 1;
            cairn_buf_add(&out, p, len);
            p = end;
            after_dot = 0;
            continue;
        }
        if (*p == '`' || ident_char(*p)) { /* words are taken whole */
            const char *start = p;
            if (*p == '`') {
                end = quoted_ident(p, &name);
            } else {
                end = p;
                while (ident_char(*end))
                    end++;
                name.len = 0;
                cairn_buf_add(&name, p, (size_t)(end - p));
            }
            int first = !after_dot;
            int qualified = *skip_blanks(end) == '.';
            if (first && qualified && strcmp(name.data, from) == 0)
                put_quoted(&out, to);
            else
                cairn_buf_add(&out, start, (size_t)(end - start));
            if (first && qualified && strcmp(name.data, from) != 0)
                note_other(report, name.data);
            p = end;
            after_dot = 0;
            continue;
        }
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            after_dot = *p == '.';
        cairn_buf_add(&out, p, 1);
        p++;
    }
    free(name.data);
    return out.data;
}

char *my_create_database_renamed(const char *create, const char *to)
{
    static const char head[] = "CREATE DATABASE ";
    if (strncmp(create, head, sizeof head - 1) != 0 || create[sizeof head - 1] != '`')
        return NULL;
    cairn_buf name = {0}, out = {0};
    const char *end = quoted_ident(create + sizeof head - 1, &name);
    free(name.data);
    cairn_buf_puts(&out, head);
    put_quoted(&out, to);
    cairn_buf_puts(&out, end);
    return out.data;
}
