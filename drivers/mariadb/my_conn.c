/* MariaDB connections and error reporting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mariadb/my_int.h"
#include "util/text.h"
#include "util/uri.h"

/* TLS from the URI's parameters: ssl-mode (DISABLED, PREFERRED,
 * REQUIRED, VERIFY_CA, VERIFY_IDENTITY), ssl-ca, ssl-cert, ssl-key. */
static int tls_options(MYSQL *my, const cairn_uri *u, cairn_error *err)
{
    const char *mode = cairn_uri_param_get(u, "ssl-mode");
    const char *ca = cairn_uri_param_get(u, "ssl-ca");
    const char *cert = cairn_uri_param_get(u, "ssl-cert");
    const char *key = cairn_uri_param_get(u, "ssl-key");
    if (mode && strcasecmp(mode, "DISABLED") != 0 && strcasecmp(mode, "PREFERRED") != 0 &&
        strcasecmp(mode, "REQUIRED") != 0 && strcasecmp(mode, "VERIFY_CA") != 0 &&
        strcasecmp(mode, "VERIFY_IDENTITY") != 0) {
        cairn_error_set(err, CAIRN_EUSAGE, "ssl-mode=%s is not a TLS mode", mode);
        return cairn_error_hint(err, "use DISABLED, PREFERRED, REQUIRED, VERIFY_CA or "
                                     "VERIFY_IDENTITY");
    }
    if (mode && strcasecmp(mode, "DISABLED") == 0)
        return CAIRN_OK;
    if (ca || cert || key)
        mysql_ssl_set(my, key, cert, ca, NULL, NULL);
    my_bool on = 1;
    if (mode && strcasecmp(mode, "PREFERRED") != 0)
        mysql_optionsv(my, MYSQL_OPT_SSL_ENFORCE, &on);
    if (mode && (strcasecmp(mode, "VERIFY_CA") == 0 || strcasecmp(mode, "VERIFY_IDENTITY") == 0))
        mysql_optionsv(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
    return CAIRN_OK;
}

int my_connect(const char *uri, MYSQL **out, cairn_error *err)
{
    cairn_uri u;
    *out = NULL;
    if (cairn_uri_parse(uri, &u, err) != CAIRN_OK)
        return err->code;
    char shown[512];
    cairn_uri_redact(uri, shown, sizeof shown);
    MYSQL *my = mysql_init(NULL);
    if (!my) {
        cairn_uri_clear(&u);
        return cairn_error_set(err, CAIRN_ERR, "out of memory");
    }
    unsigned int timeout = 15;
    my_bool on = 1;
    mysql_optionsv(my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_optionsv(my, MYSQL_OPT_LOCAL_INFILE, &on);
    mysql_optionsv(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (tls_options(my, &u, err) != CAIRN_OK) {
        mysql_close(my);
        cairn_uri_clear(&u);
        return err->code;
    }
    const char *socket = cairn_uri_param_get(&u, "socket");
    const char *password = u.password ? u.password : getenv("MYSQL_PWD");
    if (!password) /* the [client] group of the option files (~/.my.cnf), as the client does */
        mysql_optionsv(my, MYSQL_READ_DEFAULT_GROUP, "client");
    const char *host = u.host ? u.host : (socket ? NULL : "localhost");
    if (!mysql_real_connect(my, host, u.user ? u.user : getenv("USER"), password, NULL,
                            (unsigned)u.port, socket, CLIENT_LOCAL_FILES)) {
        unsigned code = mysql_errno(my);
        cairn_error_set(err, CAIRN_ERR, "cannot connect to %s: %s", shown, mysql_error(my));
        if (code == 1045)
            cairn_error_hint(err, "check the user and password (in the URI, MYSQL_PWD, or the "
                                  "[client] group of ~/.my.cnf)");
        else if (code == 2002 || code == 2003 || code == 2005)
            cairn_error_hint(err, "is the server running and accepting connections on that host "
                                  "and port (or socket)?");
        mysql_close(my);
        cairn_uri_clear(&u);
        return err->code;
    }
    cairn_uri_clear(&u);
    *out = my;
    return CAIRN_OK;
}

int my_error(MYSQL *my, cairn_error *err, const char *what)
{
    unsigned code = mysql_errno(my);
    cairn_error_set(err, CAIRN_ERR, "%s: %s", what, mysql_error(my));
    cairn_strlcpy(err->sqlstate, mysql_sqlstate(my), sizeof err->sqlstate);
    if (code == 1227 || code == 1044 || code == 1142 || code == 1143 || code == 1370)
        cairn_error_hint(err, "the user lacks a privilege: a backup needs SELECT, SHOW VIEW, "
                              "TRIGGER, EVENT, LOCK TABLES and RELOAD (for BACKUP STAGE), e.g. "
                              "GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES, RELOAD, "
                              "BINLOG MONITOR ON *.* TO 'user'@'host'");
    else if (code == 2006 || code == 2013)
        cairn_error_hint(err, "the connection to the server was lost");
    else if (code == 1146 || code == 1412)
        cairn_error_hint(err, "the table was dropped or changed during the backup; retry");
    return err->code;
}

int my_exec(MYSQL *my, const char *sql, cairn_error *err)
{
    if (mysql_real_query(my, sql, (unsigned long)strlen(sql)) != 0)
        return my_error(my, err, "query failed");
    MYSQL_RES *res = mysql_store_result(my);
    if (res)
        mysql_free_result(res);
    return CAIRN_OK;
}

int my_query(MYSQL *my, const char *sql, MYSQL_RES **out, cairn_error *err)
{
    *out = NULL;
    if (mysql_real_query(my, sql, (unsigned long)strlen(sql)) != 0)
        return my_error(my, err, "query failed");
    *out = mysql_store_result(my);
    if (!*out)
        return my_error(my, err, "query returned no result");
    return CAIRN_OK;
}

char *my_ident(const char *name)
{
    size_t n = strlen(name), o = 0;
    char *q = cairn_xmalloc(2 * n + 3);
    q[o++] = '`';
    for (size_t i = 0; i < n; i++) {
        if (name[i] == '`')
            q[o++] = '`';
        q[o++] = name[i];
    }
    q[o++] = '`';
    q[o] = '\0';
    return q;
}

char *my_literal(MYSQL *my, const char *text)
{
    size_t n = strlen(text);
    char *q = cairn_xmalloc(2 * n + 3);
    q[0] = '\'';
    unsigned long len = mysql_real_escape_string(my, q + 1, text, (unsigned long)n);
    q[len + 1] = '\'';
    q[len + 2] = '\0';
    return q;
}

char *my_uri_database(const char *uri)
{
    cairn_uri u;
    cairn_error e = {0};
    if (cairn_uri_parse(uri, &u, &e) != CAIRN_OK)
        return NULL;
    char *db = cairn_xstrdup(u.database);
    cairn_uri_clear(&u);
    return db;
}

int my_session_setup(MYSQL *my, cairn_error *err)
{
    return my_exec(my,
                   "SET SESSION character_set_results = binary, time_zone = '+00:00', "
                   "sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION', "
                   "sql_quote_show_create = 1, net_write_timeout = 3600, "
                   "net_read_timeout = 3600, wait_timeout = 28800",
                   err);
}

int my_drv_connect(const char *uri, cairn_conn **out, cairn_error *err)
{
    MYSQL *my = NULL;
    *out = NULL;
    if (my_connect(uri, &my, err) != CAIRN_OK)
        return err->code;
    cairn_conn *c = cairn_xcalloc(1, sizeof *c);
    c->my = my;
    *out = c;
    return CAIRN_OK;
}

void my_drv_close(cairn_conn *conn)
{
    if (!conn)
        return;
    mysql_close(conn->my);
    free(conn);
}
