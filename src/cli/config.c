/* The configuration file: options a verb would take on its command line,
 * read from an INI file (parsed by inih, Debian's libinih).
 *
 *   [defaults]              every verb, every source
 *   jobs = 4
 *
 *   [shop]                  picked by --source shop (a name, not a URI)
 *   source = postgresql://backup@db1/shop
 *   repo = /srv/cairn/shop
 *   compress = zstd:3
 *
 * A key is a long option of the verb that runs (keys the verb does not take
 * are skipped: one section serves backup, restore and status alike); a
 * flag takes true or false.  The values become options placed before the
 * command line's own, so the command line wins.  Secrets are refused: a
 * password belongs in ~/.pgpass, ~/.my.cnf or a --passphrase-file.
 *
 * The file is --config FILE, else $CAIRN_CONFIG, else /etc/cairn.conf when
 * it exists. */
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/log.h"
#include "util/text.h"
#include "util/uri.h"

typedef struct {
    char *section, *key, *value;
} entry;

typedef struct {
    entry *e;
    size_t n;
} entries;

static int collect(void *user, const char *section, const char *key, const char *value)
{
    entries *all = user;
    all->e = cairn_xrealloc(all->e, (all->n + 1) * sizeof *all->e);
    all->e[all->n++] = (entry){cairn_xstrdup(section), cairn_xstrdup(key), cairn_xstrdup(value)};
    return 1;
}

static void entries_free(entries *all)
{
    for (size_t i = 0; i < all->n; i++) {
        free(all->e[i].section);
        free(all->e[i].key);
        free(all->e[i].value);
    }
    free(all->e);
}

/* The value of --NAME in argv (as "--NAME V" or "--NAME=V"), and where it
 * starts; NULL when absent.  *span is 2 or 1 arguments. */
static const char *find_option(int argc, char **argv, const char *name, int *at, int *span)
{
    size_t len = strlen(name);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strncmp(argv[i], "--", 2) != 0 || strncmp(argv[i] + 2, name, len) != 0)
            continue;
        const char *rest = argv[i] + 2 + len;
        if (*rest == '=') {
            *at = i;
            *span = 1;
            return rest + 1;
        }
        if (*rest == '\0' && i + 1 < argc) {
            *at = i;
            *span = 2;
            return argv[i + 1];
        }
    }
    return NULL;
}

static const struct option *find_long(const struct option *longopts, const char *name)
{
    for (const struct option *o = longopts; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

static int is_secret(const char *key, const char *value)
{
    if (strcasecmp(key, "password") == 0 || strcasecmp(key, "passphrase") == 0)
        return 1;
    if (!strstr(value, "://"))
        return 0;
    cairn_uri u;
    cairn_error e = {0};
    if (cairn_uri_parse(value, &u, &e) != CAIRN_OK)
        return 0;
    int secret = u.password != NULL || cairn_uri_param_get(&u, "password") != NULL;
    cairn_uri_clear(&u);
    return secret;
}

static int flag_value(const char *v)
{
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcmp(v, "1"))
        return 1;
    if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") || !strcmp(v, "0"))
        return 0;
    return -1;
}

/* The new argv of the last call: freed at exit. */
static char **made;
static void free_made(void)
{
    if (made)
        for (char **p = made; *p; p++)
            free(*p);
    free(made);
    made = NULL;
}

static void push(char ***v, size_t *n, const char *s)
{
    *v = cairn_xrealloc(*v, (*n + 2) * sizeof **v);
    (*v)[(*n)++] = cairn_xstrdup(s);
    (*v)[*n] = NULL;
}

int cli_config_apply(const char *verb, const struct option *longopts, int *argc, char ***argv)
{
    int at = 0, span = 0;
    const char *env = getenv("CAIRN_CONFIG");
    const char *path = find_option(*argc, *argv, "config", &at, &span);
    int explicit = 1;
    if (!path)
        path = env;
    if (path && !*path)
        return -1; /* CAIRN_CONFIG= turns the default file off */
    if (!path) {
        explicit = 0;
        if (access("/etc/cairn.conf", F_OK) == 0)
            path = "/etc/cairn.conf";
    }
    int src_at = 0, src_span = 0;
    const char *source = find_option(*argc, *argv, "source", &src_at, &src_span);
    const char *section = source && !strstr(source, "://") ? source : NULL;
    if (!path)
        return -1;
    entries all = {0};
    int line = ini_parse(path, collect, &all);
    if (line == -1) {
        entries_free(&all);
        if (!explicit)
            return -1;
        return cli_usage_error(verb, "cannot read the configuration file %s", path);
    }
    if (line != 0) {
        entries_free(&all);
        return cli_usage_error(verb, "%s:%d: not a \"key = value\" line or a [section]", path,
                               line);
    }
    char **v = NULL;
    size_t n = 0;
    push(&v, &n, (*argv)[0]);
    int found = 0, rc = -1;
    /* [defaults] first, then the source's section: the later wins */
    for (int pass = 0; pass < 2 && rc < 0; pass++) {
        const char *want = pass == 0 ? "defaults" : section;
        for (size_t i = 0; want && rc < 0 && i < all.n; i++) {
            const entry *e = &all.e[i];
            if (strcmp(e->section, want) != 0)
                continue;
            found |= pass == 1;
            if (is_secret(e->key, e->value)) {
                rc = cli_usage_error(verb,
                                     "%s: [%s] %s: secrets do not belong in the configuration "
                                     "file",
                                     path, e->section, e->key);
                break;
            }
            const struct option *o = find_long(longopts, e->key);
            if (!o || strcmp(e->key, "config") == 0) {
                cairn_debug("%s: [%s] %s is not an option of %s: skipped", path, e->section, e->key,
                            verb);
                continue;
            }
            char opt[128];
            snprintf(opt, sizeof opt, "--%s", e->key);
            if (o->has_arg == no_argument) {
                int on = flag_value(e->value);
                if (on < 0)
                    rc = cli_usage_error(verb, "%s: [%s] %s takes true or false", path, e->section,
                                         e->key);
                else if (on)
                    push(&v, &n, opt);
            } else {
                push(&v, &n, opt);
                push(&v, &n, e->value);
            }
        }
    }
    if (rc < 0 && section && !found)
        rc = cli_usage_error(verb, "--source %s is neither a URI nor a section of %s", section,
                             path);
    entries_free(&all);
    if (rc >= 0) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return rc;
    }
    /* the command line, but the --source that named the section */
    for (int i = 1; i < *argc; i++) {
        if (section && i >= src_at && i < src_at + src_span)
            continue;
        push(&v, &n, (*argv)[i]);
    }
    static int registered;
    if (!registered)
        atexit(free_made);
    registered = 1;
    free_made();
    made = v;
    *argc = (int)n;
    *argv = v;
    return -1;
}
