/* Database URIs: scheme://[user[:password]@][host][:port][/database][?k=v&...]
 *
 * Parsing is strict enough to give a clear error for a malformed URI before
 * any connection is tried; drivers still hand the original text to their
 * client library, which knows every parameter.  Percent-escapes are decoded.
 * cairn_uri_redact gives the form that may appear in logs and manifests: the
 * password is never printed. */
#ifndef CAIRN_URI_H
#define CAIRN_URI_H

#include <stddef.h>

#include "cairn/error.h"

typedef struct cairn_uri_param {
    char *key;
    char *value;
} cairn_uri_param;

typedef struct cairn_uri {
    char *scheme;
    char *user;     /* NULL when absent */
    char *password; /* NULL when absent */
    char *host;     /* NULL when absent; a multi-host list stays as written */
    int port;       /* 0 when absent */
    char *database; /* NULL when absent or empty */
    cairn_uri_param *params;
    size_t nparams;
} cairn_uri;

/* Returns CAIRN_OK or CAIRN_EUSAGE with a message and a hint. */
int cairn_uri_parse(const char *text, cairn_uri *out, cairn_error *err);
void cairn_uri_clear(cairn_uri *u);
const char *cairn_uri_param_get(const cairn_uri *u, const char *key);
/* The same URI naming another database (percent-encoded); caller frees. */
char *cairn_uri_with_database(const char *text, const char *database);
/* The URI without its password (and without a password= parameter). */
void cairn_uri_redact(const char *text, char *out, size_t cap);

#endif
